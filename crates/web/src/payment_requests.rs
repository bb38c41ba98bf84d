//! Requests to pay: a person, or a merchant through its owner, asks a phone number for an
//! amount; the payer accepts (the money moves as a person-to-person transfer, limits and all,
//! or as a payment to the merchant) or declines, within a day. The payer hears of it by SMS
//! (no link: they open Pagos themselves).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use ceiba_payments::{Currency, Money};
use ceiba_store::{MerchantStatus, OperationStatus, PaymentRequestRow, UserRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Authenticated;
use crate::json::ApiJson;
use crate::merchant_payments::{owned_merchant, pay_merchant};
use crate::payments::{
    OperationView, TransferRequest, answer, idempotency_key, parse_currency, parse_money,
    parse_note, recipient, transfer_to_person,
};
use crate::problem::{ApiError, ErrorCode, Problem};

/// How long a request may be accepted.
const REQUEST_TTL_MS: i64 = 86_400_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    /// Who is asked to pay.
    pub to_phone: String,
    pub currency: String,
    pub amount: String,
    pub note: Option<String>,
    /// To ask in the name of one of the caller's approved merchants.
    pub merchant_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    pub id: String,
    /// Who asks: the person's name, or the merchant's.
    pub from: String,
    pub merchant_id: Option<String>,
    pub currency: String,
    pub amount_minor: u64,
    pub amount: String,
    pub note: String,
    /// `pending`, `accepted`, `declined` or `expired`.
    pub status: String,
    pub operation_id: Option<String>,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestsView {
    /// What others ask of the caller.
    pub incoming: Vec<RequestView>,
    /// What the caller asked of others.
    pub outgoing: Vec<RequestView>,
}

pub(crate) async fn view(
    state: &AppState,
    row: &PaymentRequestRow,
) -> Result<RequestView, ApiError> {
    let from = match &row.merchant_id {
        Some(id) => state
            .db
            .merchant(id)
            .await?
            .map(|merchant| merchant.business_name)
            .unwrap_or_default(),
        None => state
            .db
            .user_by_id(&row.requester_user_id)
            .await?
            .map(|user| user.display_name)
            .unwrap_or_default(),
    };
    let currency = Currency::parse(&row.currency).unwrap_or(Currency::Cup);
    let expired = row.status == "pending" && row.expires_at_ms <= state.clock.now_ms();
    Ok(RequestView {
        id: row.id.clone(),
        from,
        merchant_id: row.merchant_id.clone(),
        currency: row.currency.clone(),
        amount_minor: row.amount_minor,
        amount: Money::from_minor(row.amount_minor, currency).to_string(),
        note: row.note.clone(),
        status: if expired {
            "expired"
        } else {
            row.status.as_str()
        }
        .to_owned(),
        operation_id: row.operation_id.clone(),
        created_at_ms: row.created_at_ms,
        expires_at_ms: row.expires_at_ms,
    })
}

/// Asks a phone number for an amount; the payer gets an SMS and answers in Pagos.
#[utoipa::path(post, path = "/api/v1/payment-requests", tag = "pagos",
    security(("bearer" = [])),
    request_body = RequestBody,
    responses(
        (status = 201, description = "Solicitud enviada", body = RequestView),
        (status = 404, description = "Comercio que no es suyo", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Destinatario, moneda, importe o nota no válidos", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    who: Authenticated,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RequestBody>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    let currency = parse_currency(&body.currency)?;
    let amount = parse_money(&body.amount, currency)?;
    let note = parse_note(body.note.as_deref())?;
    let payer = recipient(&state, &body.to_phone, &who.user).await?;
    let from = match body.merchant_id.as_deref() {
        Some(id) => {
            let merchant = owned_merchant(&state, &who.user, id).await?;
            if merchant.status != MerchantStatus::Approved {
                return Err(ApiError::new(ErrorCode::MerchantNotApproved));
            }
            merchant.business_name
        }
        None => who.user.display_name.clone(),
    };
    let now_ms = state.clock.now_ms();
    let row = PaymentRequestRow {
        id: format!("sol_{:032x}", rand::random::<u128>()),
        requester_user_id: who.user.id.clone(),
        merchant_id: body.merchant_id.clone(),
        payer_user_id: payer.id.clone(),
        currency: currency.code().to_owned(),
        amount_minor: amount.minor,
        note,
        status: "pending".to_owned(),
        operation_id: None,
        created_at_ms: now_ms,
        expires_at_ms: now_ms + REQUEST_TTL_MS,
        decided_at_ms: None,
    };
    let sms = format!(
        "Ceiba Pagos: {from} le pide {}. Acepte o rechace en Pagos, Solicitudes.",
        amount.ascii()
    );
    state
        .db
        .create_payment_request(&row, &payer.phone, &sms)
        .await?;
    Ok((StatusCode::CREATED, Json(view(&state, &row).await?)))
}

/// The caller's requests: received and made, newest first.
#[utoipa::path(get, path = "/api/v1/payment-requests", tag = "pagos",
    security(("bearer" = [])),
    responses((status = 200, description = "Solicitudes", body = RequestsView)))]
pub async fn list(
    who: Authenticated,
    State(state): State<AppState>,
) -> Result<Json<RequestsView>, ApiError> {
    let mut incoming = Vec::new();
    let mut outgoing = Vec::new();
    for row in state.db.payment_requests_of(&who.user.id).await? {
        let shown = view(&state, &row).await?;
        if row.payer_user_id == who.user.id {
            incoming.push(shown);
        } else {
            outgoing.push(shown);
        }
    }
    Ok(Json(RequestsView { incoming, outgoing }))
}

/// The pending request `id` that `payer` may answer now.
async fn answerable(
    state: &AppState,
    payer: &UserRow,
    id: &str,
) -> Result<PaymentRequestRow, ApiError> {
    let row = state
        .db
        .payment_request(id)
        .await?
        .filter(|row| row.payer_user_id == payer.id)
        .ok_or_else(|| ApiError::with_detail(ErrorCode::NotFound, "no tiene esa solicitud"))?;
    if row.status != "pending" {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "esa solicitud ya se respondió",
        ));
    }
    if row.expires_at_ms <= state.clock.now_ms() {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "esa solicitud venció",
        ));
    }
    Ok(row)
}

/// Pays a request: a transfer to the person who asked (the limits apply), or a payment to
/// the merchant. Send an `Idempotency-Key`: a retry pays at most once.
#[utoipa::path(post, path = "/api/v1/payment-requests/{id}/accept", tag = "pagos",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "La solicitud"), ("Idempotency-Key" = Option<String>, Header, description = "Clave única de la operación")),
    responses(
        (status = 201, description = "Pagada", body = OperationView),
        (status = 404, description = "No es suya", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Ya respondida o vencida", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rechazado: saldo o límite", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn accept(
    who: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<OperationView>), ApiError> {
    let key = idempotency_key(&headers)?;
    let row = accept_request(&state, &who.user, &id, key.as_deref()).await?;
    answer(&row, &who.user.id)
}

/// Pays request `id` from `payer`'s wallet; for every channel. A retry of an accepted request
/// gives the operation that paid it.
pub async fn accept_request(
    state: &AppState,
    payer: &UserRow,
    id: &str,
    key: Option<&str>,
) -> Result<ceiba_store::OperationRow, ApiError> {
    // Accepted already (a retry after a lost answer): the operation that paid it.
    if let Some(paid) = state
        .db
        .payment_request(id)
        .await?
        .filter(|row| row.payer_user_id == payer.id && row.status == "accepted")
        .and_then(|row| row.operation_id)
        && let Some(row) = state.db.payment_operation(&paid).await?
    {
        return Ok(row);
    }
    let request = answerable(state, payer, id).await?;
    let currency = parse_currency(&request.currency)?;
    let amount = Money::from_minor(request.amount_minor, currency);
    let row = match &request.merchant_id {
        Some(merchant_id) => {
            let merchant = state
                .db
                .merchant(merchant_id)
                .await?
                .filter(|merchant| merchant.status == MerchantStatus::Approved)
                .ok_or_else(|| ApiError::new(ErrorCode::MerchantUnknown))?;
            pay_merchant(
                state,
                payer,
                &merchant,
                amount,
                None,
                Some(&request.note),
                key,
            )
            .await?
        }
        None => {
            let requester = state
                .db
                .user_by_id(&request.requester_user_id)
                .await?
                .ok_or_else(|| ApiError::new(ErrorCode::PaymentRecipientUnknown))?;
            let typed = format!("{}.{:02}", amount.minor / 100, amount.minor % 100);
            transfer_to_person(
                state,
                payer,
                &TransferRequest {
                    to_phone: &requester.phone,
                    currency: currency.code(),
                    amount: &typed,
                    note: Some(&request.note),
                    idempotency_key: key,
                },
            )
            .await?
        }
    };
    if row.status == OperationStatus::Completed {
        state
            .db
            .decide_payment_request(&request.id, Some(&row.id), state.clock.now_ms())
            .await?;
    }
    Ok(row)
}

/// Declines request `id` for `payer`; for every channel.
pub async fn decline_request(
    state: &AppState,
    payer: &UserRow,
    id: &str,
) -> Result<PaymentRequestRow, ApiError> {
    let request = answerable(state, payer, id).await?;
    state
        .db
        .decide_payment_request(&request.id, None, state.clock.now_ms())
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))
}

/// Declines a request; nothing moves.
#[utoipa::path(post, path = "/api/v1/payment-requests/{id}/decline", tag = "pagos",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "La solicitud")),
    responses(
        (status = 200, description = "Rechazada", body = RequestView),
        (status = 404, description = "No es suya", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Ya respondida o vencida", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn decline(
    who: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    let row = decline_request(&state, &who.user, &id).await?;
    Ok(Json(view(&state, &row).await?))
}
