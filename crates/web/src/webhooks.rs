//! Webhooks: a merchant hears of every payment it receives and refund it gives, signed.
//!
//! The owner sets a URL (`PUT /api/v1/merchants/{id}/webhook`) and gets a signing key (256
//! random bits, shown then; kept sealed with the server's secrets key, since signing needs the
//! key itself). Every completed payment or refund queues an event in the transaction that ends
//! it, so none is lost to a crash. The maintenance-lease holder posts due events
//! ([`dispatch_due`]) as JSON with `Ceiba-Signature: t=<unix seconds>,v1=<hex
//! HMAC-SHA256(key, "<t>.<body>")>`; a 2xx answer within five seconds delivers it, anything
//! else retries after 30 s, doubling up to an hour, for a day after the event, then gives up.
//! The merchant reads the delivery log and can replay any delivery.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ceiba_identity::SecretSealer;
use ceiba_payments::OperationKind;
use ceiba_store::{
    Db, MerchantRow, OperationRow, StoreError, WEBHOOK_BATCH_MAX, WEBHOOK_LOG_PAGE_MAX,
    WebhookAttempt, WebhookDeliveryRow, WebhookEvent,
};
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Authenticated;
use crate::json::ApiJson;
use crate::merchant_api::MerchantCaller;
use crate::merchant_payments::owned_merchant;
use crate::problem::{ApiError, ErrorCode, Problem};

/// How long a receiver has to answer.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// The first retry's wait, doubled each time up to [`RETRY_WAIT_MS_MAX`].
const RETRY_WAIT_MS_FIRST: i64 = 30_000;
const RETRY_WAIT_MS_MAX: i64 = 3_600_000;
/// How long an event is retried.
const RETRY_FOR_MS: i64 = 86_400_000;
/// Longest URL accepted.
const URL_CHARS_MAX: usize = 500;

type Client = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

/// The event of a completed payment or refund: its id, type and JSON body.
pub fn payload(
    row: &OperationRow,
    merchant: &MerchantRow,
    kind: OperationKind,
    receipt: &str,
    now_ms: i64,
) -> (String, String, String) {
    let event_type = if kind == OperationKind::Refund {
        "refund.completed"
    } else {
        "payment.completed"
    };
    let id = format!("evt_{:032x}", rand::random::<u128>());
    let body = serde_json::json!({
        "id": id,
        "type": event_type,
        "created_at_ms": now_ms,
        "data": {
            "merchant_id": merchant.id,
            "operation_id": row.id,
            "amount_minor": row.amount_minor,
            "currency": row.currency,
            "note": row.note,
            "receipt_code": receipt,
        },
    });
    (id, event_type.to_owned(), body.to_string())
}

/// The stored form of an event for `merchant`.
pub fn event_of<'a>(
    id: &'a str,
    event_type: &'a str,
    payload: &'a str,
    merchant: &'a MerchantRow,
) -> WebhookEvent<'a> {
    WebhookEvent {
        id,
        merchant_id: &merchant.id,
        event_type,
        payload,
    }
}

/// `t=…,v1=…`: the signature of `body` sent at `at_s` under `key`.
pub fn signature(key: &[u8], at_s: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(format!("{at_s}.{body}").as_bytes());
    let digest = crate::audit_api::hex(&mac.finalize().into_bytes());
    format!("t={at_s},v1={digest}")
}

/// What a dispatch turn did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DispatchReport {
    pub delivered: usize,
    pub failed: usize,
}

/// Posts every due delivery once. For the maintenance-lease holder, every couple of seconds.
pub async fn dispatch_due(
    db: &Db,
    sealer: &SecretSealer,
    now_ms: i64,
) -> Result<DispatchReport, StoreError> {
    let client: Client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let mut report = DispatchReport::default();
    for due in db.due_webhooks(now_ms, WEBHOOK_BATCH_MAX).await? {
        let delivery = &due.delivery;
        let outcome = match sealer.open(&due.sealed_secret, &delivery.merchant_id) {
            Ok(key) => post(&client, &due.url, &key, delivery, now_ms).await,
            Err(_) => Err((None, "la clave de firma no se puede abrir".to_owned())),
        };
        let attempt = match &outcome {
            Ok(status) => {
                report.delivered += 1;
                WebhookAttempt::Delivered { status: *status }
            }
            Err((status, error)) => {
                report.failed += 1;
                let attempts = u32::try_from(delivery.attempts).unwrap_or(u32::MAX);
                let wait = RETRY_WAIT_MS_FIRST
                    .saturating_mul(1_i64.checked_shl(attempts.min(20)).unwrap_or(i64::MAX))
                    .min(RETRY_WAIT_MS_MAX);
                let retry_at = now_ms.saturating_add(wait);
                WebhookAttempt::Failed {
                    status: *status,
                    error,
                    retry_at_ms: (retry_at - delivery.created_at_ms <= RETRY_FOR_MS)
                        .then_some(retry_at),
                }
            }
        };
        db.record_webhook_attempt(&delivery.id, attempt, now_ms)
            .await?;
    }
    Ok(report)
}

async fn post(
    client: &Client,
    url: &str,
    key: &[u8],
    delivery: &WebhookDeliveryRow,
    now_ms: i64,
) -> Result<u16, (Option<u16>, String)> {
    let request = hyper::Request::post(url)
        .header("content-type", "application/json")
        .header("user-agent", "Ceiba-Webhooks/1")
        .header("ceiba-event", delivery.event_type.as_str())
        .header("ceiba-delivery", delivery.id.as_str())
        .header(
            "ceiba-signature",
            signature(key, now_ms.div_euclid(1_000), &delivery.payload),
        )
        .body(Full::new(Bytes::from(delivery.payload.clone())))
        .map_err(|error| (None, format!("la dirección no sirve: {error}")))?;
    let answered = tokio::time::timeout(DELIVERY_TIMEOUT, client.request(request))
        .await
        .map_err(|_| (None, "no respondió a tiempo".to_owned()))?
        .map_err(|error| (None, format!("no se pudo entregar: {error}")))?;
    let status = answered.status().as_u16();
    // Read (and drop) the body, so the connection can be reused.
    let _ = tokio::time::timeout(DELIVERY_TIMEOUT, answered.into_body().collect()).await;
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err((Some(status), format!("respondió {status}")))
    }
}

/// `text` as an absolute `http://` or `https://` address with a server, of at most
/// [`URL_CHARS_MAX`] characters; `what` names it in the refusal.
pub(crate) fn web_address<'a>(text: &'a str, what: &str) -> Result<&'a str, ApiError> {
    let url = text.trim();
    let parsed = url::Url::parse(url)
        .ok()
        .filter(|parsed| matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some());
    if parsed.is_none() || url.chars().count() > URL_CHARS_MAX {
        return Err(ApiError::with_detail(
            ErrorCode::ValidationFailed,
            format!("{what} debe ser http:// o https:// con un servidor"),
        ));
    }
    Ok(url)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// Where to post the events: `https://…` (or `http://`).
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub url: String,
    /// The key that signs every event (hex); shown when the webhook is set, not again.
    pub signing_secret: String,
}

/// Sets where a merchant's events go, with a new signing key (the owner only).
#[utoipa::path(put, path = "/api/v1/merchants/{id}/webhook", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio")),
    request_body = WebhookBody,
    responses(
        (status = 200, description = "Webhook puesto, con su clave de firma", body = WebhookView),
        (status = 404, description = "No es su comercio", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Dirección no válida", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_webhook(
    who: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WebhookBody>,
) -> Result<Json<WebhookView>, ApiError> {
    let merchant = owned_merchant(&state, &who.user, &id).await?;
    Ok(Json(set_webhook_of(&state, &merchant, &body.url).await?))
}

/// Sets `merchant`'s webhook to `url` with a new signing key, which only this answer carries.
/// For every channel.
pub async fn set_webhook_of(
    state: &AppState,
    merchant: &MerchantRow,
    url: &str,
) -> Result<WebhookView, ApiError> {
    let url = web_address(url, "la dirección")?;
    let key: [u8; 32] = rand::random();
    let hex = crate::audit_api::hex(&key);
    let sealed = state
        .sealer
        .seal(hex.as_bytes(), &merchant.id, &mut rand::rng());
    state
        .db
        .set_merchant_webhook(&merchant.id, url, &sealed, state.clock.now_ms())
        .await?;
    Ok(WebhookView {
        url: url.to_owned(),
        signing_secret: hex,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub event_type: String,
    pub payload: String,
    pub created_at_ms: i64,
    pub attempts: u64,
    pub next_attempt_at_ms: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at_ms: Option<i64>,
    pub gave_up_at_ms: Option<i64>,
}

/// The log of a merchant's deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/webhook/deliveries", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio")),
    responses(
        (status = 200, description = "Entregas", body = [DeliveryView]),
        (status = 404, description = "No es su comercio", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn deliveries(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<DeliveryView>>, ApiError> {
    let merchant = caller.merchant(&state, &id, "payments:read").await?;
    let rows = state
        .db
        .webhook_deliveries_of(&merchant.id, WEBHOOK_LOG_PAGE_MAX)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| DeliveryView {
                id: row.id,
                event_type: row.event_type,
                payload: row.payload,
                created_at_ms: row.created_at_ms,
                attempts: row.attempts,
                next_attempt_at_ms: row.next_attempt_at_ms,
                last_status: row.last_status,
                last_error: row.last_error,
                delivered_at_ms: row.delivered_at_ms,
                gave_up_at_ms: row.gave_up_at_ms,
            })
            .collect(),
    ))
}

/// Sends a delivery again at the next turn, whatever became of it.
#[utoipa::path(post, path = "/api/v1/merchants/{id}/webhook/deliveries/{delivery}/replay", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio"), ("delivery" = String, Path, description = "La entrega")),
    responses(
        (status = 202, description = "Se enviará otra vez"),
        (status = 404, description = "No existe", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn replay(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let merchant = caller.merchant(&state, &id, "payments:write").await?;
    if state
        .db
        .replay_webhook(&merchant.id, &delivery, state.clock.now_ms())
        .await?
    {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::with_detail(
            ErrorCode::NotFound,
            "el comercio no tiene esa entrega",
        ))
    }
}
