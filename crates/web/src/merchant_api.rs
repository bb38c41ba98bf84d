//! The merchant API for shops' servers: OAuth 2.0 client credentials (RFC 6749 §4.4).
//!
//! A merchant's owner registers a client (`POST /api/v1/merchants/{id}/clients`) and is shown
//! its secret once; only SHA-256 of it is kept. The shop's server trades the id and secret
//! (HTTP Basic, or the form fields `client_id` and `client_secret`, §2.3.1) at
//! `POST /api/v1/oauth/token` for an access token: 256 random bits, kept as SHA-256, valid ten
//! minutes, limited to the scopes asked for (all three when none is named):
//! `payments:read` (payments, reconciliation), `payments:write` (QR codes) and
//! `refunds:write`. The merchant routes take either the owner's session or such a token
//! ([`MerchantCaller`]); a token reaches only its own merchant. Refusals of the token endpoint
//! carry the RFC 6749 §5.2 code in the problem document's `error` member.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use ceiba_store::{MerchantClientRow, MerchantRow, MerchantStatus, MerchantTokenRow};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Authenticated;
use crate::json::ApiJson;
use crate::merchant_payments::owned_merchant;
use crate::problem::{ApiError, ErrorCode, Problem};

/// Every scope a token may hold, in the order they are written.
pub const SCOPES: [&str; 3] = ["payments:read", "payments:write", "refunds:write"];
/// How long an access token lives.
const TOKEN_TTL_S: i64 = 600;
const TOKEN_PREFIX: &str = "mct_";
const SECRET_PREFIX: &str = "mcs_";
/// Longest client name.
const NAME_CHARS_MAX: usize = 60;

fn random_hex() -> String {
    format!(
        "{:032x}{:032x}",
        rand::random::<u128>(),
        rand::random::<u128>()
    )
}

fn sha256_hex(text: &str) -> String {
    crate::audit_api::hex(&Sha256::digest(text.as_bytes()))
}

/// Who acts on a merchant: its owner, signed in, or a shop's server with an access token.
#[derive(Debug)]
pub enum MerchantCaller {
    Owner(Box<Authenticated>),
    Client(MerchantTokenRow),
}

impl FromRequestParts<AppState> for MerchantCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<MerchantCaller, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| token.starts_with(TOKEN_PREFIX));
        if let Some(token) = token {
            return state
                .db
                .merchant_token(&sha256_hex(token), state.clock.now_ms())
                .await?
                .map(MerchantCaller::Client)
                .ok_or_else(|| {
                    ApiError::with_detail(
                        ErrorCode::Unauthenticated,
                        "el token de acceso no es válido o venció; pida otro",
                    )
                });
        }
        Authenticated::from_request_parts(parts, state)
            .await
            .map(|who| MerchantCaller::Owner(Box::new(who)))
    }
}

impl MerchantCaller {
    /// The merchant `id`, if this caller may act on it with `scope`: its owner always, a token
    /// only for its own merchant and when it holds the scope.
    pub async fn merchant(
        &self,
        state: &AppState,
        id: &str,
        scope: &str,
    ) -> Result<MerchantRow, ApiError> {
        match self {
            MerchantCaller::Owner(who) => owned_merchant(state, &who.user, id).await,
            MerchantCaller::Client(token) => {
                if token.merchant_id != id {
                    return Err(ApiError::new(ErrorCode::MerchantUnknown));
                }
                if !token.scopes.iter().any(|held| held == scope) {
                    return Err(ApiError::with_detail(
                        ErrorCode::InsufficientScope,
                        format!("el token no tiene el alcance «{scope}»"),
                    ));
                }
                state
                    .db
                    .merchant(id)
                    .await?
                    .ok_or_else(|| ApiError::new(ErrorCode::MerchantUnknown))
            }
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientBody {
    /// What the client is, for the owner: «Tienda en línea».
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    /// Only in the answer that registers it: keep it, it is not shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

fn client_view(row: &MerchantClientRow, secret: Option<String>) -> ClientView {
    ClientView {
        client_id: row.client_id.clone(),
        name: row.name.clone(),
        created_at_ms: row.created_at_ms,
        revoked_at_ms: row.revoked_at_ms,
        client_secret: secret,
    }
}

/// Registers an OAuth client for one of the caller's approved merchants; the answer carries
/// its secret, shown this once.
#[utoipa::path(post, path = "/api/v1/merchants/{id}/clients", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio")),
    request_body = ClientBody,
    responses(
        (status = 201, description = "Cliente registrado, con su secreto", body = ClientView),
        (status = 404, description = "No es su comercio", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "El comercio no está aprobado", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_client(
    who: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ClientBody>,
) -> Result<(StatusCode, Json<ClientView>), ApiError> {
    let merchant = owned_merchant(&state, &who.user, &id).await?;
    let (created, secret) = register_client(&state, &merchant, &body.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(client_view(&created, Some(secret))),
    ))
}

/// Registers an OAuth client of an approved `merchant`; the row and its secret, which only this
/// answer carries. For every channel.
pub async fn register_client(
    state: &AppState,
    merchant: &MerchantRow,
    name: &str,
) -> Result<(MerchantClientRow, String), ApiError> {
    if merchant.status != MerchantStatus::Approved {
        return Err(ApiError::new(ErrorCode::MerchantNotApproved));
    }
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > NAME_CHARS_MAX
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::with_detail(
            ErrorCode::ValidationFailed,
            format!("el nombre debe tener de 1 a {NAME_CHARS_MAX} caracteres"),
        ));
    }
    let secret = format!("{SECRET_PREFIX}{}", random_hex());
    let row = MerchantClientRow {
        client_id: format!("cli_{:032x}", rand::random::<u128>()),
        merchant_id: merchant.id.clone(),
        name: name.to_owned(),
        created_at_ms: state.clock.now_ms(),
        revoked_at_ms: None,
    };
    let created = state
        .db
        .create_merchant_client(&row, &sha256_hex(&secret))
        .await?
        .ok_or_else(|| {
            ApiError::with_detail(
                ErrorCode::ValidationFailed,
                format!(
                    "un comercio puede tener hasta {} clientes activos",
                    ceiba_store::MERCHANT_CLIENTS_MAX
                ),
            )
        })?;
    Ok((created, secret))
}

/// The merchant's clients (never their secrets).
#[utoipa::path(get, path = "/api/v1/merchants/{id}/clients", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio")),
    responses(
        (status = 200, description = "Clientes", body = [ClientView]),
        (status = 404, description = "No es su comercio", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn clients(
    who: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<ClientView>>, ApiError> {
    let merchant = owned_merchant(&state, &who.user, &id).await?;
    let rows = state.db.merchant_clients(&merchant.id).await?;
    Ok(Json(
        rows.iter().map(|row| client_view(row, None)).collect(),
    ))
}

/// Revokes a client and every token it holds.
#[utoipa::path(delete, path = "/api/v1/merchants/{id}/clients/{client_id}", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio"), ("client_id" = String, Path, description = "El cliente")),
    responses(
        (status = 204, description = "Revocado"),
        (status = 404, description = "No existe o ya estaba revocado", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_client(
    who: Authenticated,
    State(state): State<AppState>,
    Path((id, client_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let merchant = owned_merchant(&state, &who.user, &id).await?;
    if state
        .db
        .revoke_merchant_client(&merchant.id, &client_id, state.clock.now_ms())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::with_detail(
            ErrorCode::NotFound,
            "el comercio no tiene ese cliente activo",
        ))
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct TokenForm {
    grant_type: String,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The access token's answer (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds it lives.
    pub expires_in: i64,
    /// The scopes granted, space-separated.
    pub scope: String,
}

fn oauth(code: ErrorCode, detail: &str) -> ApiError {
    ApiError::with_detail(code, detail)
}

/// The client's credentials: HTTP Basic first, then the form's fields.
fn credentials(headers: &HeaderMap, form: &TokenForm) -> Option<(String, String)> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
        })
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_owned(), secret.to_owned()))
        });
    basic.or_else(|| Some((form.client_id.clone()?, form.client_secret.clone()?)))
}

/// Trades a merchant client's credentials for an access token (OAuth 2.0 client credentials
/// grant, `application/x-www-form-urlencoded`: `grant_type=client_credentials` and an optional
/// `scope`). Refusals carry the RFC 6749 code in `error`.
#[utoipa::path(post, path = "/api/v1/oauth/token", tag = "comercios",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded", description = "grant_type=client_credentials&scope=payments:read payments:write"),
    responses(
        (status = 200, description = "Token de acceso", body = TokenView),
        (status = 400, description = "invalid_request, unsupported_grant_type o invalid_scope", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "invalid_client", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form: TokenForm = serde_urlencoded::from_bytes(&body).map_err(|_| {
        oauth(
            ErrorCode::OauthInvalidRequest,
            "el cuerpo debe ser un formulario application/x-www-form-urlencoded",
        )
    })?;
    if form.grant_type != "client_credentials" {
        return Err(oauth(
            ErrorCode::OauthUnsupportedGrantType,
            "solo se admite grant_type=client_credentials",
        ));
    }
    let refuse_client = || {
        let mut response = oauth(
            ErrorCode::OauthInvalidClient,
            "las credenciales del cliente no son válidas",
        )
        .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"ceiba\""),
        );
        response
    };
    let Some((client_id, secret)) = credentials(&headers, &form) else {
        return Ok(refuse_client());
    };
    let Some(client) = state
        .db
        .authenticate_merchant_client(&client_id, &sha256_hex(&secret))
        .await?
    else {
        return Ok(refuse_client());
    };
    let scopes: Vec<&str> = match form.scope.as_deref().map(str::split_whitespace) {
        None => SCOPES.to_vec(),
        Some(asked) => {
            let asked: Vec<&str> = asked.collect();
            if asked.is_empty() || asked.iter().any(|scope| !SCOPES.contains(scope)) {
                return Err(oauth(
                    ErrorCode::OauthInvalidScope,
                    "los alcances válidos son payments:read, payments:write y refunds:write",
                ));
            }
            SCOPES
                .into_iter()
                .filter(|scope| asked.contains(scope))
                .collect()
        }
    };
    let token = format!("{TOKEN_PREFIX}{}", random_hex());
    let now_ms = state.clock.now_ms();
    state
        .db
        .issue_merchant_token(
            &sha256_hex(&token),
            &client.client_id,
            &scopes,
            now_ms,
            now_ms + TOKEN_TTL_S * 1_000,
        )
        .await?;
    let mut response = Json(TokenView {
        access_token: token,
        token_type: "Bearer",
        expires_in: TOKEN_TTL_S,
        scope: scopes.join(" "),
    })
    .into_response();
    // RFC 6749 §5.1: a token must never be cached.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
