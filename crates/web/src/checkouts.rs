//! The online-shop payment API (EnZona-style checkouts) and payment links.
//!
//! A shop's server (OAuth client credentials, `merchant_api.rs`) creates a checkout: amount,
//! currency, description, items, its own reference, and where to send the buyer back after
//! paying (`return_url`) or giving up (`cancel_url`). The answer carries `checkout_url`, the
//! Ceiba page where the buyer signs in and confirms (`payment_pages/checkout.rs`); the page also
//! shows the checkout's QR code, so a buyer at a computer can pay it from the phone app. After
//! paying, the buyer goes to `return_url?checkout_id=…&status=completed`; after cancelling, to
//! `cancel_url?checkout_id=…&status=cancelled`.
//!
//! The money side is a dynamic QR code of the merchant: paid once (the paying operation claims
//! it), expiring with the checkout. Each state change is a webhook event —
//! `checkout.completed`, `checkout.cancelled`, `checkout.expired` — queued in the transaction
//! that makes the change (the expiry sweep, [`announce_expired`], runs in the maintenance loop).
//! Refunds of a checkout are refunds of its payment (`merchant_refunds.rs`, by `operation_id`).
//!
//! A payment link is a reusable address (`/pagar/enlace/{id}`) for a fixed amount or the one
//! the payer types; each use opens a checkout of the link's merchant.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use ceiba_payments::{Currency, Money};
use ceiba_store::{
    CHECKOUT_EXPIRY_BATCH_MAX, CancelRefusal, CheckoutFilter, CheckoutRow, CheckoutStatus, Db,
    MerchantRow, MerchantStatus, NewCheckout, OperationRow, PaymentLinkRow, StoreError, UserRow,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::json::ApiJson;
use crate::merchant_api::MerchantCaller;
use crate::merchant_payments::{QrCodeBody, make_qr_code, pay_merchant};
use crate::payments::{parse_currency, parse_money};
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::webhooks::web_address;

/// How long a checkout waits for its buyer unless told, and at most.
const EXPIRY_S_DEFAULT: u32 = 3_600;
const EXPIRY_S_MAX: u32 = 86_400;
const DESCRIPTION_CHARS_MAX: usize = 200;
const ITEMS_MAX: usize = 100;
const ITEM_NAME_CHARS_MAX: usize = 100;
const QUANTITY_MAX: u32 = 10_000;
/// Where the buyer confirms a checkout, and where a payment link is used.
pub const CHECKOUT_PAGE_PREFIX: &str = "/pagar/pedido/";
pub const LINK_PAGE_PREFIX: &str = "/pagar/enlace/";

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemBody {
    pub name: String,
    pub quantity: u32,
    /// Price of one, in the checkout's currency: "12.50".
    pub unit_amount: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CheckoutBody {
    /// What the buyer pays: "25.00". When items are given, their sum.
    pub amount: String,
    /// CUP (the default) or USD.
    pub currency: Option<String>,
    /// What the buyer reads: «Pedido 1024 de Tienda La Ceiba».
    pub description: String,
    pub items: Vec<ItemBody>,
    /// The shop's own reference (an order number), up to 25 characters; also in the QR code.
    pub merchant_reference: Option<String>,
    /// Where the buyer goes after paying (`?checkout_id=…&status=completed` is added).
    pub return_url: Option<String>,
    /// Where the buyer goes after cancelling (`?checkout_id=…&status=cancelled` is added).
    pub cancel_url: Option<String>,
    /// How long the buyer has: 3600 s unless told, at most a day.
    pub expires_in_s: Option<u32>,
}

/// An item as stored and shown.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ItemView {
    pub name: String,
    pub quantity: u32,
    pub unit_amount_minor: u64,
    pub amount_minor: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutView {
    pub id: String,
    pub merchant_id: String,
    /// `open`, `pending`, `completed`, `cancelled` or `expired`.
    pub status: String,
    pub amount_minor: u64,
    pub currency: String,
    pub description: String,
    pub items: Vec<ItemView>,
    pub merchant_reference: Option<String>,
    pub return_url: Option<String>,
    pub cancel_url: Option<String>,
    /// Where to send the buyer.
    pub checkout_url: String,
    /// The EMVCo payload of its QR code, to pay it by scanning.
    pub qr_payload: String,
    pub payment_link_id: Option<String>,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub cancelled_at_ms: Option<i64>,
    /// The payment, once the buyer confirmed: refund it by this id.
    pub operation_id: Option<String>,
    pub receipt_code: Option<String>,
    pub paid_at_ms: Option<i64>,
    pub refunded_minor: u64,
}

/// `https://host/path` from the request's `Host` (the address the shop's server used), or the
/// bare path without one.
pub(crate) fn public_url(state: &AppState, headers: &HeaderMap, path: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        });
    match host {
        Some(host) => format!(
            "{}://{host}{path}",
            if state.tls { "https" } else { "http" }
        ),
        None => path.to_owned(),
    }
}

pub(crate) fn items_of(row: &CheckoutRow) -> Vec<ItemView> {
    serde_json::from_str(&row.items).unwrap_or_else(|error| {
        tracing::error!(%error, checkout = %row.id, "a checkout's items do not parse");
        Vec::new()
    })
}

pub(crate) fn checkout_view(
    state: &AppState,
    headers: &HeaderMap,
    row: &CheckoutRow,
) -> CheckoutView {
    CheckoutView {
        id: row.id.clone(),
        merchant_id: row.merchant_id.clone(),
        status: row.status(state.clock.now_ms()).as_str().to_owned(),
        amount_minor: row.amount_minor,
        currency: row.currency.clone(),
        description: row.description.clone(),
        items: items_of(row),
        merchant_reference: row.merchant_reference.clone(),
        return_url: row.return_url.clone(),
        cancel_url: row.cancel_url.clone(),
        checkout_url: public_url(state, headers, &format!("{CHECKOUT_PAGE_PREFIX}{}", row.id)),
        qr_payload: row.payload.clone(),
        payment_link_id: row.payment_link_id.clone(),
        created_at_ms: row.created_at_ms,
        expires_at_ms: row.expires_at_ms,
        cancelled_at_ms: row.cancelled_at_ms,
        operation_id: row.operation_id.clone(),
        receipt_code: row.receipt_code.clone(),
        paid_at_ms: row.paid_at_ms,
        refunded_minor: row.refunded_minor,
    }
}

/// The webhook event of `row` entering `status`: its id, type and body. `paid` is the paying
/// operation and its receipt, for `completed`.
pub fn event(
    row: &CheckoutRow,
    status: CheckoutStatus,
    paid: Option<(&str, &str)>,
    now_ms: i64,
) -> (String, String, String) {
    let event_type = format!("checkout.{}", status.as_str());
    let id = format!("evt_{:032x}", rand::random::<u128>());
    let body = serde_json::json!({
        "id": id,
        "type": event_type,
        "created_at_ms": now_ms,
        "data": {
            "checkout_id": row.id,
            "merchant_id": row.merchant_id,
            "status": status.as_str(),
            "amount_minor": row.amount_minor,
            "currency": row.currency,
            "merchant_reference": row.merchant_reference,
            "payment_link_id": row.payment_link_id,
            "operation_id": paid.map(|(operation, _)| operation),
            "receipt_code": paid.map(|(_, receipt)| receipt),
        },
    });
    (id, event_type, body.to_string())
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::with_detail(ErrorCode::ValidationFailed, detail)
}

fn plain_text(text: &str, chars_max: usize, what: &str) -> Result<String, ApiError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > chars_max || text.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{what} debe tener de 1 a {chars_max} caracteres"
        )));
    }
    Ok(text.to_owned())
}

/// The items, checked, priced in minor units; their sum must be `amount` when there are any.
fn checked_items(
    items: &[ItemBody],
    currency: Currency,
    amount: Money,
) -> Result<Vec<ItemView>, ApiError> {
    if items.len() > ITEMS_MAX {
        return Err(invalid(format!(
            "un pedido tiene como mucho {ITEMS_MAX} artículos"
        )));
    }
    let mut total: u64 = 0;
    let mut checked = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let line = index + 1;
        let name = plain_text(
            &item.name,
            ITEM_NAME_CHARS_MAX,
            &format!("el nombre del artículo {line}"),
        )?;
        if item.quantity == 0 || item.quantity > QUANTITY_MAX {
            return Err(invalid(format!(
                "la cantidad del artículo {line} debe estar entre 1 y {QUANTITY_MAX}"
            )));
        }
        let unit = parse_money(&item.unit_amount, currency)?;
        let amount_minor = unit
            .minor
            .checked_mul(u64::from(item.quantity))
            .ok_or_else(|| invalid(format!("el artículo {line} suma demasiado")))?;
        total = total
            .checked_add(amount_minor)
            .ok_or_else(|| invalid("los artículos suman demasiado"))?;
        checked.push(ItemView {
            name,
            quantity: item.quantity,
            unit_amount_minor: unit.minor,
            amount_minor,
        });
    }
    if !checked.is_empty() && total != amount.minor {
        return Err(invalid(format!(
            "los artículos suman {}, no {}",
            Money::from_minor(total, currency),
            amount
        )));
    }
    Ok(checked)
}

/// Opens a checkout of `merchant` (approved), from a payment `link` or not; for every channel.
pub async fn open_checkout(
    state: &AppState,
    merchant: &MerchantRow,
    body: &CheckoutBody,
    link: Option<&PaymentLinkRow>,
) -> Result<CheckoutRow, ApiError> {
    if merchant.status != MerchantStatus::Approved {
        return Err(ApiError::new(ErrorCode::MerchantNotApproved));
    }
    let currency = parse_currency(body.currency.as_deref().unwrap_or("CUP"))?;
    let amount = parse_money(&body.amount, currency)?;
    let description = plain_text(&body.description, DESCRIPTION_CHARS_MAX, "la descripción")?;
    let items = checked_items(&body.items, currency, amount)?;
    let return_url = body
        .return_url
        .as_deref()
        .map(|url| web_address(url, "return_url"))
        .transpose()?;
    let cancel_url = body
        .cancel_url
        .as_deref()
        .map(|url| web_address(url, "cancel_url"))
        .transpose()?;
    let expires_in_s = body.expires_in_s.unwrap_or(EXPIRY_S_DEFAULT);
    if expires_in_s == 0 || expires_in_s > EXPIRY_S_MAX {
        return Err(invalid(format!(
            "expires_in_s debe estar entre 1 y {EXPIRY_S_MAX}"
        )));
    }
    // The code checks the reference and the currency (CUP or USD) and holds the claim.
    let code = make_qr_code(
        state,
        merchant,
        &QrCodeBody {
            amount: Some(body.amount.clone()),
            currency: Some(currency.code().to_owned()),
            reference: body.merchant_reference.clone(),
            expires_in_s: Some(expires_in_s),
        },
    )
    .await?;
    let items = serde_json::to_string(&items).map_err(|error| {
        tracing::error!(%error, "checkout items do not serialize");
        ApiError::new(ErrorCode::Internal)
    })?;
    let id = format!("chk_{:032x}", rand::random::<u128>());
    let row = state
        .db
        .create_checkout(&NewCheckout {
            id: &id,
            merchant_id: &merchant.id,
            qr_code_id: &code.id,
            payment_link_id: link.map(|link| link.id.as_str()),
            description: &description,
            items: &items,
            merchant_reference: code.reference.as_deref(),
            return_url,
            cancel_url,
            created_at_ms: code.created_at_ms,
            expires_at_ms: code.expires_at_ms.unwrap_or(code.created_at_ms),
        })
        .await?;
    Ok(row)
}

/// Creates a checkout; send the buyer to its `checkout_url`.
#[utoipa::path(post, path = "/api/v1/merchants/{id}/checkouts", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio")),
    request_body = CheckoutBody,
    responses(
        (status = 201, description = "Pedido abierto", body = CheckoutView),
        (status = 403, description = "El token no tiene payments:write", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No es su comercio", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "El comercio no está aprobado", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Importe, artículos, direcciones o caducidad no válidos", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CheckoutBody>,
) -> Result<(StatusCode, Json<CheckoutView>), ApiError> {
    let merchant = caller.merchant(&state, &id, "payments:write").await?;
    let row = open_checkout(&state, &merchant, &body, None).await?;
    Ok((
        StatusCode::CREATED,
        Json(checkout_view(&state, &headers, &row)),
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckoutsQuery {
    /// `open`, `pending`, `completed`, `cancelled` or `expired`.
    pub status: Option<String>,
    pub merchant_reference: Option<String>,
    /// Created at or after (ms since the epoch).
    pub from_ms: Option<i64>,
    /// Created before.
    pub to_ms: Option<i64>,
    /// At most 100 (the default).
    pub limit: Option<u32>,
}

/// The merchant's checkouts, newest first, narrowed by state, reference and creation time.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/checkouts", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio"), CheckoutsQuery),
    responses(
        (status = 200, description = "Pedidos", body = [CheckoutView]),
        (status = 400, description = "Filtro no válido", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No es su comercio", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<CheckoutsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<CheckoutView>>, ApiError> {
    let Query(query) = query
        .map_err(|rejection| ApiError::with_detail(ErrorCode::BadRequest, rejection.body_text()))?;
    let merchant = caller.merchant(&state, &id, "payments:read").await?;
    let status = query
        .status
        .as_deref()
        .map(|text| {
            CheckoutStatus::parse(text).ok_or_else(|| {
                ApiError::with_detail(
                    ErrorCode::BadRequest,
                    "status es open, pending, completed, cancelled o expired",
                )
            })
        })
        .transpose()?;
    let filter = CheckoutFilter {
        status,
        merchant_reference: query.merchant_reference.as_deref(),
        from_ms: query.from_ms,
        to_ms: query.to_ms,
        limit: query.limit.unwrap_or(ceiba_store::CHECKOUTS_PAGE_MAX),
    };
    let rows = state
        .db
        .checkouts_of(&merchant.id, &filter, state.clock.now_ms())
        .await?;
    Ok(Json(
        rows.iter()
            .map(|row| checkout_view(&state, &headers, row))
            .collect(),
    ))
}

async fn merchants_checkout(
    state: &AppState,
    merchant: &MerchantRow,
    checkout_id: &str,
) -> Result<CheckoutRow, ApiError> {
    state
        .db
        .checkout(checkout_id)
        .await?
        .filter(|row| row.merchant_id == merchant.id)
        .ok_or_else(|| ApiError::new(ErrorCode::CheckoutUnknown))
}

/// One checkout.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/checkouts/{checkout}", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio"), ("checkout" = String, Path, description = "El pedido")),
    responses(
        (status = 200, description = "El pedido", body = CheckoutView),
        (status = 404, description = "No existe o no es suyo", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path((id, checkout)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<CheckoutView>, ApiError> {
    let merchant = caller.merchant(&state, &id, "payments:read").await?;
    let row = merchants_checkout(&state, &merchant, &checkout).await?;
    Ok(Json(checkout_view(&state, &headers, &row)))
}

/// Cancels `checkout_id` of `merchant` while nobody has paid it; for the shop's server and the
/// buyer's page alike. Cancelling again answers the cancelled checkout.
pub async fn cancel_checkout(
    state: &AppState,
    merchant: &MerchantRow,
    checkout_id: &str,
) -> Result<CheckoutRow, ApiError> {
    let row = merchants_checkout(state, merchant, checkout_id).await?;
    let now_ms = state.clock.now_ms();
    let (event_id, event_type, payload) = event(&row, CheckoutStatus::Cancelled, None, now_ms);
    let stored = crate::webhooks::event_of(&event_id, &event_type, &payload, merchant);
    match state
        .db
        .cancel_checkout(&merchant.id, checkout_id, &stored, now_ms)
        .await?
    {
        Ok(row) => Ok(row),
        Err(CancelRefusal::Unknown) => Err(ApiError::new(ErrorCode::CheckoutUnknown)),
        Err(CancelRefusal::Closed(status)) => Err(ApiError::with_detail(
            ErrorCode::CheckoutClosed,
            format!("el pedido está «{}»", status.as_str()),
        )),
    }
}

/// Cancels a checkout nobody has paid yet; the buyer can no longer pay it.
#[utoipa::path(post, path = "/api/v1/merchants/{id}/checkouts/{checkout}/cancel", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio"), ("checkout" = String, Path, description = "El pedido")),
    responses(
        (status = 200, description = "Cancelado", body = CheckoutView),
        (status = 404, description = "No existe o no es suyo", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Ya se pagó, se está pagando o caducó", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path((id, checkout)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<CheckoutView>, ApiError> {
    let merchant = caller.merchant(&state, &id, "payments:write").await?;
    let row = cancel_checkout(&state, &merchant, &checkout).await?;
    Ok(Json(checkout_view(&state, &headers, &row)))
}

/// Pays an open checkout from `payer`'s wallet, once per `idempotency_key` (the buyer's page
/// draws one per form); the checkout as it stands after.
pub async fn pay_checkout(
    state: &AppState,
    payer: &UserRow,
    checkout_id: &str,
    idempotency_key: Option<&str>,
) -> Result<(OperationRow, CheckoutRow), ApiError> {
    let checkout = state
        .db
        .checkout(checkout_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::CheckoutUnknown))?;
    if checkout.cancelled_at_ms.is_some() {
        return Err(ApiError::with_detail(
            ErrorCode::CheckoutClosed,
            "el comercio o el comprador canceló este pedido",
        ));
    }
    let merchant = state
        .db
        .merchant(&checkout.merchant_id)
        .await?
        .filter(|merchant| merchant.status == MerchantStatus::Approved)
        .ok_or_else(|| ApiError::new(ErrorCode::MerchantUnknown))?;
    let code = state
        .db
        .qr_code(&checkout.qr_code_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
    let currency = Currency::parse(&checkout.currency).map_err(|_| {
        tracing::error!(checkout = %checkout.id, "a checkout's currency does not parse");
        ApiError::new(ErrorCode::Internal)
    })?;
    let operation = pay_merchant(
        state,
        payer,
        &merchant,
        Money::from_minor(checkout.amount_minor, currency),
        Some(&code),
        checkout.merchant_reference.as_deref(),
        idempotency_key,
    )
    .await?;
    let after = state
        .db
        .checkout(checkout_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
    Ok((operation, after))
}

/// Announces every checkout that expired unpaid (a `checkout.expired` event each); for the
/// maintenance-lease holder. How many it announced.
pub async fn announce_expired(db: &Db, now_ms: i64) -> Result<usize, StoreError> {
    let mut announced = 0;
    for row in db
        .expired_checkouts(now_ms, CHECKOUT_EXPIRY_BATCH_MAX)
        .await?
    {
        let (event_id, event_type, payload) = event(&row, CheckoutStatus::Expired, None, now_ms);
        let stored = ceiba_store::WebhookEvent {
            id: &event_id,
            merchant_id: &row.merchant_id,
            event_type: &event_type,
            payload: &payload,
        };
        if db.mark_checkout_expired(&row.id, &stored, now_ms).await? {
            announced += 1;
        }
    }
    Ok(announced)
}

// ---------------------------------------------------------------------------------------------
// Payment links
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentLinkBody {
    /// What the payer reads: «Donación al club de ajedrez».
    pub description: String,
    /// CUP (the default) or USD.
    pub currency: Option<String>,
    /// A fixed amount ("150.00"); without it the payer types one.
    pub amount: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentLinkView {
    pub id: String,
    pub merchant_id: String,
    /// The address to share.
    pub url: String,
    pub description: String,
    pub currency: String,
    /// `null`: the payer types the amount.
    pub amount_minor: Option<u64>,
    pub active: bool,
    pub created_at_ms: i64,
}

fn link_view(state: &AppState, headers: &HeaderMap, row: &PaymentLinkRow) -> PaymentLinkView {
    PaymentLinkView {
        id: row.id.clone(),
        merchant_id: row.merchant_id.clone(),
        url: public_url(state, headers, &format!("{LINK_PAGE_PREFIX}{}", row.id)),
        description: row.description.clone(),
        currency: row.currency.clone(),
        amount_minor: row.amount_minor,
        active: row.deactivated_at_ms.is_none(),
        created_at_ms: row.created_at_ms,
    }
}

/// Makes a payment link of `merchant`; for every channel.
pub async fn make_payment_link(
    state: &AppState,
    merchant: &MerchantRow,
    body: &PaymentLinkBody,
) -> Result<PaymentLinkRow, ApiError> {
    if merchant.status != MerchantStatus::Approved {
        return Err(ApiError::new(ErrorCode::MerchantNotApproved));
    }
    let currency = parse_currency(body.currency.as_deref().unwrap_or("CUP"))?;
    if currency == Currency::Mlc {
        return Err(ApiError::with_detail(
            ErrorCode::PaymentInvalidCurrency,
            "un enlace de pago cobra en CUP o en USD",
        ));
    }
    let amount = body
        .amount
        .as_deref()
        .map(|text| parse_money(text, currency))
        .transpose()?;
    let row = PaymentLinkRow {
        id: format!("lnk_{:024x}", rand::random::<u128>() >> 32),
        merchant_id: merchant.id.clone(),
        description: plain_text(&body.description, DESCRIPTION_CHARS_MAX, "la descripción")?,
        currency: currency.code().to_owned(),
        amount_minor: amount.map(|money| money.minor),
        created_at_ms: state.clock.now_ms(),
        deactivated_at_ms: None,
    };
    state.db.create_payment_link(&row).await?.ok_or_else(|| {
        invalid(format!(
            "un comercio puede tener hasta {} enlaces activos",
            ceiba_store::PAYMENT_LINKS_MAX
        ))
    })
}

/// Makes a payment link to share; every use opens a checkout.
#[utoipa::path(post, path = "/api/v1/merchants/{id}/payment-links", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio")),
    request_body = PaymentLinkBody,
    responses(
        (status = 201, description = "Enlace creado", body = PaymentLinkView),
        (status = 404, description = "No es su comercio", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "El comercio no está aprobado", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Descripción, moneda o importe no válidos", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_link(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PaymentLinkBody>,
) -> Result<(StatusCode, Json<PaymentLinkView>), ApiError> {
    let merchant = caller.merchant(&state, &id, "payments:write").await?;
    let row = make_payment_link(&state, &merchant, &body).await?;
    Ok((StatusCode::CREATED, Json(link_view(&state, &headers, &row))))
}

/// The merchant's payment links, newest first.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/payment-links", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio")),
    responses(
        (status = 200, description = "Enlaces", body = [PaymentLinkView]),
        (status = 404, description = "No es su comercio", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn links(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<PaymentLinkView>>, ApiError> {
    let merchant = caller.merchant(&state, &id, "payments:read").await?;
    let rows = state.db.payment_links_of(&merchant.id).await?;
    Ok(Json(
        rows.iter()
            .map(|row| link_view(&state, &headers, row))
            .collect(),
    ))
}

/// Deactivates a link: it opens no more checkouts (those open go on).
#[utoipa::path(delete, path = "/api/v1/merchants/{id}/payment-links/{link}", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio"), ("link" = String, Path, description = "El enlace")),
    responses(
        (status = 204, description = "Desactivado"),
        (status = 404, description = "No existe o ya estaba desactivado", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn deactivate_link(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path((id, link)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let merchant = caller.merchant(&state, &id, "payments:write").await?;
    if state
        .db
        .deactivate_payment_link(&merchant.id, &link, state.clock.now_ms())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::with_detail(
            ErrorCode::NotFound,
            "el comercio no tiene ese enlace activo",
        ))
    }
}

/// A live link and its approved merchant, or 404.
pub(crate) async fn live_link(
    state: &AppState,
    link_id: &str,
) -> Result<(PaymentLinkRow, MerchantRow), ApiError> {
    let unknown = || {
        ApiError::with_detail(
            ErrorCode::NotFound,
            "ese enlace de pago no existe o ya no está activo",
        )
    };
    let link = state
        .db
        .payment_link(link_id)
        .await?
        .filter(|link| link.deactivated_at_ms.is_none())
        .ok_or_else(unknown)?;
    let merchant = state
        .db
        .merchant(&link.merchant_id)
        .await?
        .filter(|merchant| merchant.status == MerchantStatus::Approved)
        .ok_or_else(unknown)?;
    Ok((link, merchant))
}

/// Opens a checkout from a live link: its amount, or `typed` for an open-amount link.
pub async fn checkout_from_link(
    state: &AppState,
    link_id: &str,
    typed: Option<&str>,
) -> Result<CheckoutRow, ApiError> {
    let (link, merchant) = live_link(state, link_id).await?;
    let currency = parse_currency(&link.currency)?;
    let amount = match (
        link.amount_minor,
        typed.map(str::trim).filter(|t| !t.is_empty()),
    ) {
        (Some(minor), _) => Money::from_minor(minor, currency),
        (None, Some(text)) => parse_money(text, currency)?,
        (None, None) => {
            return Err(ApiError::with_detail(
                ErrorCode::PaymentInvalidAmount,
                "escriba cuánto paga",
            ));
        }
    };
    let body = CheckoutBody {
        amount: format!("{}.{:02}", amount.minor / 100, amount.minor % 100),
        currency: Some(link.currency.clone()),
        description: link.description.clone(),
        ..CheckoutBody::default()
    };
    open_checkout(state, &merchant, &body, Some(&link)).await
}
