//! Who is asking: the bearer token of a session (API clients) or the session cookie (the web
//! pages), checked on every request, and the proofs of role that handlers take as arguments. A
//! handler that needs an administrator takes `Authorized<Administrator>`; without that value in
//! hand it cannot be written to reach the data, so a missing check is a compile error, not a
//! review finding.
//!
//! # Cookies and cross-site request forgery
//! A browser sends the session cookie with every request to Ceiba, including one that another
//! site's page makes it send: the cookie is an ambient credential, a bearer header is not. So a
//! request that changes something (any method but GET, HEAD, OPTIONS and TRACE) and is
//! authenticated by the cookie must also carry the session's anti-CSRF token
//! ([`SessionToken::csrf_token`]) in the form field `_csrf` or the header `X-Ceiba-CSRF`;
//! otherwise it is refused with 403 `csrf_rejected` before anything is read or written.
//! The cookies themselves are `HttpOnly`, `SameSite=Strict`, and `Secure` when TLS is on.

use std::marker::PhantomData;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ceiba_identity::{CsrfToken, Role, SessionToken};
use ceiba_store::{UserRow, UserStatus};

use crate::AppState;
use crate::problem::{ApiError, ErrorCode};

/// Touch a session's last-seen time at most this often, so reads do not each write.
const TOUCH_EVERY_S: u64 = 60;

/// The cookie that holds a web session's token (the same token an API client sends as bearer).
pub const SESSION_COOKIE: &str = "ceiba_sesion";
/// The long-lived cookie that makes a browser a known device for sign-in throttling.
pub const DEVICE_COOKIE: &str = "ceiba_dispositivo";
/// How long the device cookie lasts: a year.
pub const DEVICE_COOKIE_MAX_AGE_S: u64 = 365 * 24 * 60 * 60;
/// The random anti-CSRF value of the forms shown before sign-in (double submit).
pub const PRE_SESSION_CSRF_COOKIE: &str = "ceiba_csrf";
/// The hidden form field that carries the anti-CSRF token.
pub const CSRF_FIELD: &str = "_csrf";
/// The header that may carry it instead, for a script-free client that sends no form.
pub const CSRF_HEADER: &str = "x-ceiba-csrf";
/// The largest form body [`read_form_csrf`] reads; the account forms are a few hundred bytes.
pub const FORM_BYTES_MAX: usize = 16 * 1024;

/// How a request proved its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer <token>`: nothing a browser adds by itself.
    Bearer,
    /// The session cookie: ambient, so changes need the anti-CSRF token too.
    Cookie,
}

/// A request from a signed-in person whose session is live.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: UserRow,
    pub session_id: String,
    /// Whether this session proved the second factor at sign-in.
    pub second_factor: bool,
    pub credential: Credential,
    session_hash: ceiba_identity::TokenHash,
    csrf: CsrfToken,
}

impl Authenticated {
    pub fn session_hash(&self) -> &ceiba_identity::TokenHash {
        &self.session_hash
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.user.roles.contains(&role)
    }

    /// Whether the person may act in `role` now: they hold it, and this session proved a
    /// second factor if the role demands one (the rule [`Authorized`] enforces, for handlers
    /// that decide among several roles themselves).
    pub fn acts_as(&self, role: Role) -> bool {
        self.has_role(role) && (self.second_factor || !role.requires_second_factor())
    }

    /// The token this session's forms carry in `_csrf`.
    pub fn csrf_token(&self) -> &CsrfToken {
        &self.csrf
    }
}

/// The refusal of a role that acts only from a session that proved a second factor.
pub(crate) fn second_factor_refusal() -> ApiError {
    ApiError::with_detail(
        ErrorCode::Forbidden,
        "este rol exige iniciar sesión con segundo factor: configúrelo en \
         /api/v1/me/second-factor y vuelva a iniciar sesión",
    )
}

fn unauthenticated(detail: &str) -> ApiError {
    ApiError::with_detail(ErrorCode::Unauthenticated, detail)
}

/// The value of the first cookie called `name`, if the request has one.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key.trim() == name).then_some(value.trim())
        })
}

/// A `Set-Cookie` value: never readable by script, never sent on a request another site
/// starts, for the whole site, and only over TLS when the server has it. Without `max_age_s`
/// the cookie ends with the browser.
pub fn set_cookie(name: &str, value: &str, max_age_s: Option<u64>, secure: bool) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(max_age_s) = max_age_s {
        text.push_str(&format!("; Max-Age={max_age_s}"));
    }
    if secure {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).expect("cookie names and values are ASCII tokens")
}

/// A `Set-Cookie` value that makes the browser forget the cookie.
pub fn clear_cookie(name: &str, secure: bool) -> HeaderValue {
    set_cookie(name, "", Some(0), secure)
}

/// The `_csrf` field of a form, read by [`read_form_csrf`] before the handler runs so that
/// [`Authenticated`] can check it without consuming the body.
#[derive(Debug, Clone)]
pub struct PresentedCsrf(pub String);

/// Middleware for routes that take forms: reads an `application/x-www-form-urlencoded` body of
/// a state-changing request (at most [`FORM_BYTES_MAX`] bytes), puts its `_csrf` field in the
/// request's extensions as [`PresentedCsrf`], and hands the same body on to the handler.
pub async fn read_form_csrf(request: Request, next: Next) -> Response {
    read_form_csrf_up_to(FORM_BYTES_MAX, request, next).await
}

/// [`read_form_csrf`] for forms that may be larger (a wiki page's text): at most `bytes_max`.
pub async fn read_form_csrf_up_to(bytes_max: usize, request: Request, next: Next) -> Response {
    let is_form = !request.method().is_safe()
        && request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|kind| kind.trim().eq_ignore_ascii_case(FORM_CONTENT_TYPE));
    if !is_form {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, bytes_max).await else {
        return ApiError::with_detail(
            ErrorCode::PayloadTooLarge,
            format!("un formulario ocupa como mucho {bytes_max} bytes"),
        )
        .into_response();
    };
    if let Ok(fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        && let Some((_, value)) = fields.into_iter().find(|(name, _)| name == CSRF_FIELD)
    {
        parts.extensions.insert(PresentedCsrf(value));
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Whether a cookie-authenticated request that changes something carries the session's
/// anti-CSRF token, in the form or in the header.
fn csrf_presented(parts: &Parts, token: &SessionToken) -> bool {
    let presented = parts
        .extensions
        .get::<PresentedCsrf>()
        .map(|presented| presented.0.as_str())
        .or_else(|| {
            parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|value| value.to_str().ok())
        });
    presented.is_some_and(|presented| token.csrf_token().matches(presented))
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Authenticated, ApiError> {
        let header_value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok());
        let (token_text, credential) = match header_value {
            Some(header_value) => (
                header_value
                    .strip_prefix("Bearer ")
                    .ok_or_else(|| unauthenticated("se espera Authorization: Bearer <token>"))?,
                Credential::Bearer,
            ),
            None => (
                cookie(&parts.headers, SESSION_COOKIE).ok_or_else(|| {
                    unauthenticated("falta la cabecera Authorization: Bearer <token>")
                })?,
                Credential::Cookie,
            ),
        };
        // Every failure below reads the same, so a probe learns nothing about which tokens exist.
        let invalid = || unauthenticated("la sesión no es válida o venció");
        let token = SessionToken::parse(token_text.trim()).map_err(|_| invalid())?;
        // Checked before anything is looked up or touched: a forged request changes nothing.
        if credential == Credential::Cookie
            && !parts.method.is_safe()
            && !csrf_presented(parts, &token)
        {
            return Err(ApiError::with_detail(
                ErrorCode::CsrfRejected,
                "con la cookie de sesión, un cambio debe traer el campo _csrf del formulario (o la \
                 cabecera X-Ceiba-CSRF) de esta sesión; faltaba o no corresponde",
            ));
        }
        let hash = token.hash();
        let (session, user) = state
            .db
            .session_with_user(&hash)
            .await?
            .ok_or_else(invalid)?;
        let now_s = state.clock.now_s();
        if session.revoked_at_s.is_some()
            || !state
                .session_policy
                .is_valid(session.created_at_s, session.last_seen_at_s, now_s)
        {
            return Err(invalid());
        }
        if user.status != UserStatus::Active {
            return Err(invalid());
        }
        if now_s.saturating_sub(session.last_seen_at_s) >= TOUCH_EVERY_S {
            state.db.touch_session(&hash, now_s).await?;
        }
        Ok(Authenticated {
            user,
            second_factor: session.second_factor_at_s.is_some(),
            session_id: session.id,
            credential,
            session_hash: hash,
            csrf: token.csrf_token(),
        })
    }
}

/// A role as a type, for [`Authorized`].
pub trait RoleMarker: Send + Sync + 'static {
    const ROLE: Role;
}

/// The administrator role.
#[derive(Debug)]
pub struct Administrator;
impl RoleMarker for Administrator {
    const ROLE: Role = Role::Administrator;
}

/// The bank operator role.
#[derive(Debug)]
pub struct BankOperator;
impl RoleMarker for BankOperator {
    const ROLE: Role = Role::BankOperator;
}

/// The biller role: a utility, the tax office or the telecom operator.
#[derive(Debug)]
pub struct Biller;
impl RoleMarker for Biller {
    const ROLE: Role = Role::Biller;
}

/// The epidemiologist role: reads every province's cases and runs the models.
#[derive(Debug)]
pub struct Epidemiologist;
impl RoleMarker for Epidemiologist {
    const ROLE: Role = Role::Epidemiologist;
}

/// The auditor role.
#[derive(Debug)]
pub struct Auditor;
impl RoleMarker for Auditor {
    const ROLE: Role = Role::Auditor;
}

/// Proof that the signed-in person holds role `R`; only this extractor makes one.
#[derive(Debug)]
pub struct Authorized<R: RoleMarker> {
    pub who: Authenticated,
    role: PhantomData<R>,
}

impl<R: RoleMarker> FromRequestParts<AppState> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Authorized<R>, ApiError> {
        let who = Authenticated::from_request_parts(parts, state).await?;
        Authorized::of(who)
    }
}

impl<R: RoleMarker> Authorized<R> {
    /// The proof for someone already authenticated (a page's signed-in person), or the refusal
    /// the extractor gives.
    pub fn of(who: Authenticated) -> Result<Authorized<R>, ApiError> {
        if !who.has_role(R::ROLE) {
            return Err(ApiError::with_detail(
                ErrorCode::Forbidden,
                format!("hace falta el rol «{}»", R::ROLE.label_es()),
            ));
        }
        // Roles that reach money or health records act only from a session that proved a
        // second factor; the role alone is not enough.
        if !who.acts_as(R::ROLE) {
            return Err(second_factor_refusal());
        }
        Ok(Authorized {
            who,
            role: PhantomData,
        })
    }
}
