//! Refunds of payments to merchants, full or partial, never more than was paid.
//!
//! A refund is an operation of its own (kind `refund`) recorded as the payer's: it is their
//! wallet that moves, and their statement shows it as money in. Its amount is reserved on the
//! payment in the transaction that begins it (`Db::begin_merchant_refund`), so refunds at once
//! can never give back more; one the ledger refuses (the merchant's money went elsewhere) frees
//! its reservation. The merchant's idempotency keys get a namespace of their own, so they can
//! never meet one of the payer's.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use ceiba_payments::{Currency, Money, OperationKind, plan};
use ceiba_store::{
    BeginPayment, LedgerEngine, MerchantRow, NewOperation, OperationRow, OperationStatus,
    RefundRefusal,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::json::ApiJson;
use crate::merchant_api::MerchantCaller;
use crate::merchant_payments::{Parsed, parsed, submit_and_finish};
use crate::payments::{engine, ensure_wallet, idempotency_key, parse_money, request_hash};
use crate::problem::{ApiError, ErrorCode, Problem};

fn unknown_payment() -> ApiError {
    ApiError::with_detail(
        ErrorCode::NotFound,
        "ese comercio no recibió ningún pago con ese identificador",
    )
}

/// Gives back `amount` (all that is left when `None`) of a completed payment to `merchant_id`,
/// from the merchant's account to the wallet that paid; for every channel. Never more than was
/// paid, whatever refunds run at once.
pub async fn refund_payment(
    state: &AppState,
    caller: &MerchantCaller,
    merchant_id: &str,
    payment_id: &str,
    amount: Option<&str>,
    idempotency_key: Option<&str>,
) -> Result<OperationRow, ApiError> {
    let engine = engine(state)?;
    let merchant = caller.merchant(state, merchant_id, "refunds:write").await?;
    let side = state
        .db
        .merchant_payment(payment_id)
        .await?
        .filter(|side| side.merchant_id == merchant.id)
        .ok_or_else(unknown_payment)?;
    let payment = state
        .db
        .payment_operation(payment_id)
        .await?
        .ok_or_else(unknown_payment)?;
    let currency =
        Currency::parse(&payment.currency).map_err(|_| ApiError::new(ErrorCode::Internal))?;
    let kind = OperationKind::Refund;
    // Keys are kept per person, and this operation is the payer's: the merchant's keys get a
    // namespace of their own so they can never meet one of the payer's.
    let key = idempotency_key.map(|key| format!("reembolso:{}:{key}", merchant.id));
    // "All that is left" is asked as such: a retry, when nothing is left any more, must find
    // the refund it made rather than be refused for it.
    let typed = amount.map(|text| parse_money(text, currency)).transpose()?;
    let asked = typed.map_or_else(|| "todo".to_owned(), |money| money.minor.to_string());
    let hash = request_hash(&[kind.as_str(), payment_id, currency.code(), &asked]);
    if let Some(key) = &key
        && let Some(existing) = state
            .db
            .payment_operation_by_key(&payment.user_id, key)
            .await?
    {
        if existing.request_hash != hash {
            return Err(ApiError::new(ErrorCode::PaymentIdempotencyKeyReused));
        }
        return execute_refund(state, engine, existing, &merchant).await;
    }
    let amount = match typed {
        Some(money) => money,
        None => Money::from_minor(
            payment.amount_minor.saturating_sub(side.refunded_minor),
            currency,
        ),
    };
    if amount.is_zero() {
        return Err(over_paid(Money::zero(currency)));
    }
    let id = rand::random::<u128>().max(1).to_string();
    let note = format!("Devolución del pago {}", short_id(payment_id));
    let new = NewOperation {
        id: &id,
        user_id: &payment.user_id,
        idempotency_key: key.as_deref(),
        request_hash: &hash,
        kind: kind.as_str(),
        currency: currency.code(),
        amount_minor: amount.minor,
        fee_minor: 0,
        counterparty_user_id: None,
        counterparty_label: &merchant.business_name,
        note: &note,
        counts_toward_limits: false,
        created_at_ms: state.clock.now_ms(),
    };
    let row = match state
        .db
        .begin_merchant_refund(&new, &merchant.id, payment_id)
        .await?
    {
        BeginPayment::Started(row) | BeginPayment::Existing(row) => row,
        BeginPayment::KeyReused(_) => {
            return Err(ApiError::new(ErrorCode::PaymentIdempotencyKeyReused));
        }
        BeginPayment::Refused(RefundRefusal::UnknownPayment) => return Err(unknown_payment()),
        BeginPayment::Refused(RefundRefusal::NotCompleted) => {
            return Err(ApiError::with_detail(
                ErrorCode::Conflict,
                "ese pago no se completó: no hay nada que devolver",
            ));
        }
        BeginPayment::Refused(RefundRefusal::OverPaid { left_minor }) => {
            return Err(over_paid(Money::from_minor(left_minor, currency)));
        }
    };
    execute_refund(state, engine, row, &merchant).await
}

fn over_paid(left: Money) -> ApiError {
    ApiError::with_detail(
        ErrorCode::PaymentRefundTooLarge,
        format!("de ese pago solo quedan {left} por devolver"),
    )
}

/// The first characters of an id, enough to recognise it in a note.
fn short_id(id: &str) -> String {
    id.chars().take(8).collect()
}

async fn execute_refund(
    state: &AppState,
    engine: &LedgerEngine,
    row: OperationRow,
    merchant: &MerchantRow,
) -> Result<OperationRow, ApiError> {
    if row.status != OperationStatus::Pending {
        return Ok(row);
    }
    let Parsed {
        id,
        currency,
        amount,
        ..
    } = parsed(&row)?;
    ensure_wallet(state, engine, &row.user_id, currency).await?;
    let legs = plan::refund(id, &merchant.id, &row.user_id, amount);
    let payer = state.db.user_by_id(&row.user_id).await?;
    submit_and_finish(
        state,
        engine,
        &row,
        merchant,
        OperationKind::Refund,
        legs,
        |receipt, balance| {
            payer
                .iter()
                .map(|payer| {
                    (
                        payer.phone.clone(),
                        format!(
                            "Ceiba Pagos: devolucion de {} de {}. Saldo {}. Recibo {receipt}",
                            amount.ascii(),
                            merchant.business_name,
                            balance.ascii(),
                        ),
                    )
                })
                .collect()
        },
    )
    .await
}

/// Whether `row` is a refund; the payment it returns when it is.
pub async fn is_a_refund(
    state: &AppState,
    row: &OperationRow,
) -> Option<ceiba_store::MerchantRefundRow> {
    if OperationKind::parse(&row.kind) != Some(OperationKind::Refund) {
        return None;
    }
    state.db.merchant_refund(&row.id).await.ok().flatten()
}

/// Goes on with a refund left pending (the recovery sweep).
pub async fn resume_refund(
    state: &AppState,
    engine: &LedgerEngine,
    row: OperationRow,
    side: &ceiba_store::MerchantRefundRow,
) -> Result<OperationRow, ApiError> {
    let merchant = state
        .db
        .merchant(&side.merchant_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
    execute_refund(state, engine, row, &merchant).await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RefundBody {
    /// How much to give back ("12.50"); all that is left of the payment when absent.
    pub amount: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundView {
    pub operation_id: String,
    pub payment_operation_id: String,
    /// `completed`, `pending` or `refused`.
    pub status: String,
    pub amount_minor: u64,
    pub currency: String,
    pub receipt_code: Option<String>,
    pub refusal_code: Option<String>,
    pub created_at_ms: i64,
}

fn refund_view(row: &OperationRow, payment: &str) -> RefundView {
    RefundView {
        operation_id: row.id.clone(),
        payment_operation_id: payment.to_owned(),
        status: row.status.as_str().to_owned(),
        amount_minor: row.amount_minor,
        currency: row.currency.clone(),
        receipt_code: row.receipt_code.clone(),
        refusal_code: row.refusal_code.clone(),
        created_at_ms: row.created_at_ms,
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RefundsQuery {
    /// Only the refunds of this payment.
    pub payment: Option<String>,
}

/// The merchant's refunds, newest first (of one payment with `?payment=`).
#[utoipa::path(get, path = "/api/v1/merchants/{id}/refunds", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio"), RefundsQuery),
    responses(
        (status = 200, description = "Devoluciones", body = [RefundView]),
        (status = 404, description = "No es su comercio", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn refunds(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<axum::extract::Query<RefundsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<RefundView>>, ApiError> {
    let axum::extract::Query(query) = query
        .map_err(|rejection| ApiError::with_detail(ErrorCode::BadRequest, rejection.body_text()))?;
    let merchant = caller.merchant(&state, &id, "payments:read").await?;
    let rows = state
        .db
        .refunds_of_merchant(
            &merchant.id,
            query.payment.as_deref(),
            ceiba_store::MERCHANT_PAYMENTS_PAGE_MAX,
        )
        .await?;
    Ok(Json(
        rows.iter()
            .map(|(operation, refund)| refund_view(operation, &refund.payment_operation_id))
            .collect(),
    ))
}

/// Gives back all or part of a payment to the payer's wallet; never more than was paid. Send
/// an `Idempotency-Key`: a retry refunds once.
#[utoipa::path(post, path = "/api/v1/merchants/{id}/payments/{payment}/refunds", tag = "comercios",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "El id del comercio"),
        ("payment" = String, Path, description = "El id del pago"),
        ("Idempotency-Key" = Option<String>, Header, description = "Clave única de la operación"),
    ),
    request_body = RefundBody,
    responses(
        (status = 201, description = "Devuelto", body = RefundView),
        (status = 404, description = "No es su comercio o no hay tal pago", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "El pago no se completó", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Más de lo que queda por devolver, o el comercio no tiene saldo", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn refund(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path((id, payment)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefundBody>,
) -> Result<(StatusCode, Json<RefundView>), ApiError> {
    let key = idempotency_key(&headers)?;
    let row = refund_payment(
        &state,
        &caller,
        &id,
        &payment,
        body.amount.as_deref(),
        key.as_deref(),
    )
    .await?;
    if row.status == OperationStatus::Refused {
        let code = row
            .refusal_code
            .as_deref()
            .and_then(ErrorCode::from_name)
            .unwrap_or(ErrorCode::PaymentRefused);
        return Err(ApiError::with_detail(
            code,
            row.refusal_detail.clone().unwrap_or_default(),
        ));
    }
    Ok((StatusCode::CREATED, Json(refund_view(&row, &payment))))
}
