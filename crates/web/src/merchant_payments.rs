//! Paying a merchant by QR code (EMVCo merchant-presented mode, `ceiba-emvqr`).
//!
//! A merchant (approved, see `merchants.rs`) makes codes: **static** (no amount; the payer types
//! it; any number of payments: a sticker at the till) or **dynamic** (amount and the merchant's
//! reference inside; paid once; expires). Every code carries Ceiba's merchant account template
//! (ID 26: `cu.ceiba`, the merchant id) and its own id as the reference label (62.05).
//!
//! The payer's app submits the scanned payload: it is decoded and validated (CRC, lengths,
//! mandatory fields), the merchant and the code are looked up, and the payment runs as a saga
//! like a transfer: the operation begins (claiming a dynamic code in the same transaction), its
//! chain goes to the ledger (wallet → merchant, single phase: the merchant is ours and needs
//! nobody's confirmation), and it ends with an SMS to the payer and one to the merchant's owner.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ceiba_emvqr::{AdditionalDataFields, MerchantAccount, MerchantQr, Payload, PointOfInitiation};
use ceiba_ledger::NewTransfer;
use ceiba_payments::{Currency, Money, OperationKind, ReceiptCode, accounts, plan};
use ceiba_store::{
    BeginPayment, Finish, LedgerEngine, MerchantRow, MerchantStatus, NewOperation, NewQrCode,
    OperationRow, OperationStatus, QrCodeRow, QrKind, QrRefusal, UserRow,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Authenticated;
use crate::json::ApiJson;
use crate::merchant_api::MerchantCaller;
use crate::payments::{
    OperationView, answer, engine, ensure_operator_accounts, ensure_wallet, idempotency_key,
    ledger_unavailable, parse_money, refusal_code, request_hash,
};
use crate::problem::{ApiError, ErrorCode, Problem};

/// Longest a dynamic code may live, and how long it lives when not told.
const DYNAMIC_EXPIRY_S_MAX: u32 = 86_400;
const DYNAMIC_EXPIRY_S_DEFAULT: u32 = 900;
/// The longest merchant reference a code carries (the EMV field holds 25 characters).
const REFERENCE_CHARS_MAX: usize = 25;
/// The country every Ceiba code names.
const COUNTRY: &str = "CU";

/// ISO 4217 numeric codes of the currencies a code may carry (MLC has none).
fn numeric_currency(currency: Currency) -> Option<&'static str> {
    match currency {
        Currency::Cup => Some("192"),
        Currency::Usd => Some("840"),
        Currency::Mlc => None,
    }
}

fn currency_of_numeric(code: &str) -> Option<Currency> {
    match code {
        "192" => Some(Currency::Cup),
        "840" => Some(Currency::Usd),
        _ => None,
    }
}

/// `12.50`: the EMV amount field's format.
fn emv_amount(money: Money) -> String {
    format!("{}.{:02}", money.minor / 100, money.minor % 100)
}

/// The first `chars_max` characters (the EMV fields count characters).
fn cut(text: &str, chars_max: usize) -> String {
    text.chars().take(chars_max).collect()
}

fn qr_invalid(detail: impl Into<String>) -> ApiError {
    ApiError::with_detail(ErrorCode::PaymentQrInvalid, detail)
}

/// An approved merchant the caller owns, or 404 (whoever else asks).
pub(crate) async fn owned_merchant(
    state: &AppState,
    owner: &UserRow,
    merchant_id: &str,
) -> Result<MerchantRow, ApiError> {
    state
        .db
        .merchant(merchant_id)
        .await?
        .filter(|row| row.owner_user_id == owner.id)
        .ok_or_else(|| ApiError::new(ErrorCode::MerchantUnknown))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct QrCodeBody {
    /// With an amount the code is dynamic (paid once, expires); without, static.
    pub amount: Option<String>,
    /// CUP (the default) or USD.
    pub currency: Option<String>,
    /// The merchant's own reference (an order, a table), up to 25 characters.
    pub reference: Option<String>,
    /// How long a dynamic code lives: 900 s unless told, at most a day.
    pub expires_in_s: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QrCodeView {
    pub id: String,
    pub merchant_id: String,
    /// `static` or `dynamic`.
    pub kind: String,
    pub currency: String,
    pub amount_minor: Option<u64>,
    pub reference: Option<String>,
    /// The EMVCo payload the image encodes.
    pub payload: String,
    pub expires_at_ms: Option<i64>,
    /// Whether a dynamic code was paid (or is being paid).
    pub paid: bool,
    /// The image, SVG.
    pub svg_url: String,
    /// The image, PNG.
    pub png_url: String,
}

fn qr_view(row: &QrCodeRow) -> QrCodeView {
    let base = format!("/api/v1/merchants/{}/qr-codes/{}", row.merchant_id, row.id);
    QrCodeView {
        id: row.id.clone(),
        merchant_id: row.merchant_id.clone(),
        kind: row.kind.as_str().to_owned(),
        currency: row.currency.clone(),
        amount_minor: row.amount_minor,
        reference: row.reference.clone(),
        payload: row.payload.clone(),
        expires_at_ms: row.expires_at_ms,
        paid: row.paid_by_operation.is_some(),
        svg_url: format!("{base}/svg"),
        png_url: format!("{base}/png"),
    }
}

/// Makes a QR code for `merchant`; for every channel.
pub async fn make_qr_code(
    state: &AppState,
    merchant: &MerchantRow,
    body: &QrCodeBody,
) -> Result<QrCodeRow, ApiError> {
    if merchant.status != MerchantStatus::Approved {
        return Err(ApiError::with_detail(
            ErrorCode::MerchantNotApproved,
            "el comercio aún no está aprobado para cobrar",
        ));
    }
    let currency = crate::payments::parse_currency(body.currency.as_deref().unwrap_or("CUP"))?;
    let numeric = numeric_currency(currency).ok_or_else(|| {
        ApiError::with_detail(
            ErrorCode::PaymentInvalidCurrency,
            "un código QR cobra en CUP o en USD",
        )
    })?;
    let amount = body
        .amount
        .as_deref()
        .map(|text| parse_money(text, currency))
        .transpose()?;
    let reference = match body.reference.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text)
            if text.chars().count() <= REFERENCE_CHARS_MAX
                && !text.chars().any(char::is_control) =>
        {
            Some(text.to_owned())
        }
        Some(_) => {
            return Err(ApiError::with_detail(
                ErrorCode::ValidationFailed,
                format!("la referencia debe tener como mucho {REFERENCE_CHARS_MAX} caracteres"),
            ));
        }
    };
    let expires_in_s = body.expires_in_s.unwrap_or(DYNAMIC_EXPIRY_S_DEFAULT);
    if expires_in_s == 0 || expires_in_s > DYNAMIC_EXPIRY_S_MAX {
        return Err(ApiError::with_detail(
            ErrorCode::ValidationFailed,
            format!("expires_in_s debe estar entre 1 y {DYNAMIC_EXPIRY_S_MAX}"),
        ));
    }
    let id = format!("qr{:020x}", rand::random::<u128>() >> 48);
    let now_ms = state.clock.now_ms();
    let kind = if amount.is_some() {
        QrKind::Dynamic
    } else {
        QrKind::Static
    };
    let qr = MerchantQr {
        point_of_initiation: match kind {
            QrKind::Static => PointOfInitiation::Static,
            QrKind::Dynamic => PointOfInitiation::Dynamic,
        },
        accounts: vec![MerchantAccount::ceiba(&merchant.id)],
        category_code: merchant.category_code.clone(),
        currency: numeric.to_owned(),
        amount: amount.map(emv_amount),
        country: COUNTRY.to_owned(),
        name: cut(&merchant.business_name, 25),
        city: cut(&merchant.city, 15),
        additional_data: AdditionalDataFields {
            reference_label: Some(id.clone()),
            bill_number: reference.clone(),
            ..AdditionalDataFields::default()
        },
        ..MerchantQr::default()
    };
    let payload = qr
        .encode()
        .map_err(|error| ApiError::with_detail(ErrorCode::ValidationFailed, error.to_string()))?;
    let row = state
        .db
        .create_qr_code(&NewQrCode {
            id: &id,
            merchant_id: &merchant.id,
            kind,
            currency: currency.code(),
            amount_minor: amount.map(|money| money.minor),
            reference: reference.as_deref(),
            payload: &payload,
            created_at_ms: now_ms,
            expires_at_ms: (kind == QrKind::Dynamic)
                .then(|| now_ms.saturating_add(i64::from(expires_in_s) * 1_000)),
        })
        .await?;
    Ok(row)
}

/// Makes a QR code for one of the caller's approved merchants: static without an amount,
/// dynamic (paid once, expiring) with one.
#[utoipa::path(post, path = "/api/v1/merchants/{id}/qr-codes", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio")),
    request_body = QrCodeBody,
    responses(
        (status = 201, description = "El código", body = QrCodeView),
        (status = 404, description = "No es su comercio", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "El comercio no está aprobado", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Importe, moneda, referencia o caducidad no válidos", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_qr_code(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<QrCodeBody>,
) -> Result<(StatusCode, Json<QrCodeView>), ApiError> {
    let merchant = caller.merchant(&state, &id, "payments:write").await?;
    let row = make_qr_code(&state, &merchant, &body).await?;
    Ok((StatusCode::CREATED, Json(qr_view(&row))))
}

async fn owned_code(
    state: &AppState,
    caller: &MerchantCaller,
    merchant_id: &str,
    qr_id: &str,
) -> Result<QrCodeRow, ApiError> {
    caller.merchant(state, merchant_id, "payments:read").await?;
    state
        .db
        .qr_code(qr_id)
        .await?
        .filter(|row| row.merchant_id == merchant_id)
        .ok_or_else(|| ApiError::with_detail(ErrorCode::NotFound, "no existe ese código QR"))
}

fn image(code: &QrCodeRow, svg: bool) -> Result<Response, ApiError> {
    let payload = ceiba_emvqr::decode(&code.payload).map_err(|error| {
        tracing::error!(%error, qr = %code.id, "a stored QR payload does not decode");
        ApiError::new(ErrorCode::Internal)
    })?;
    let drawn = if svg {
        payload.svg().map(String::into_bytes)
    } else {
        payload.png()
    };
    let bytes = drawn.map_err(|error| {
        tracing::error!(%error, qr = %code.id, "a QR payload could not be drawn");
        ApiError::new(ErrorCode::Internal)
    })?;
    let kind = if svg { "image/svg+xml" } else { "image/png" };
    Ok(([(header::CONTENT_TYPE, kind)], bytes).into_response())
}

/// The code's image as SVG, for the merchant to show or print.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/qr-codes/{qr}/svg", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio"), ("qr" = String, Path, description = "El id del código")),
    responses(
        (status = 200, description = "La imagen", content_type = "image/svg+xml", body = String),
        (status = 404, description = "No existe o no es suyo", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn qr_svg(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path((id, qr)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    image(&owned_code(&state, &caller, &id, &qr).await?, true)
}

/// The code's image as PNG.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/qr-codes/{qr}/png", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio"), ("qr" = String, Path, description = "El id del código")),
    responses(
        (status = 200, description = "La imagen", content_type = "image/png", body = Vec<u8>),
        (status = 404, description = "No existe o no es suyo", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn qr_png(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path((id, qr)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    image(&owned_code(&state, &caller, &id, &qr).await?, false)
}

// ---------------------------------------------------------------------------------------------
// Paying
// ---------------------------------------------------------------------------------------------

/// A scanned code, understood: whom and what it asks to pay.
#[derive(Debug, Clone)]
pub struct ScannedCode {
    pub merchant: MerchantRow,
    pub code: QrCodeRow,
    pub currency: Currency,
    /// Inside a dynamic code; `None` for a static one (the payer types it).
    pub amount: Option<Money>,
}

/// Decodes and checks a scanned payload and finds its merchant and code.
pub async fn scan(state: &AppState, payload_text: &str) -> Result<ScannedCode, ApiError> {
    let payload: Payload =
        ceiba_emvqr::decode(payload_text.trim()).map_err(|error| qr_invalid(error.to_string()))?;
    let merchant_id = payload
        .merchant_accounts()
        .find(|account| account.field(0) == Some(ceiba_emvqr::CEIBA_IDENTIFIER))
        .and_then(|account| account.field(1))
        .ok_or_else(|| qr_invalid("el código no es de un comercio de Ceiba"))?;
    let unknown = || ApiError::new(ErrorCode::PaymentQrUnknown);
    let merchant = state
        .db
        .merchant(merchant_id)
        .await?
        .filter(|row| row.status == MerchantStatus::Approved)
        .ok_or_else(unknown)?;
    let code = match payload.reference_label() {
        Some(id) => state.db.qr_code(id).await?,
        None => None,
    }
    .filter(|code| code.merchant_id == merchant.id)
    .ok_or_else(unknown)?;
    let currency = currency_of_numeric(payload.currency())
        .filter(|currency| currency.code() == code.currency)
        .ok_or_else(|| qr_invalid("la moneda del código no es la del comercio"))?;
    let amount = match (code.kind, payload.amount()) {
        (QrKind::Dynamic, Some(text)) => {
            let money = parse_money(text, currency)?;
            if Some(money.minor) != code.amount_minor {
                return Err(qr_invalid(
                    "el importe del código no es el que el comercio pidió",
                ));
            }
            Some(money)
        }
        (QrKind::Static, None) => None,
        _ => {
            return Err(qr_invalid(
                "el código no corresponde al que hizo el comercio",
            ));
        }
    };
    Ok(ScannedCode {
        merchant,
        code,
        currency,
        amount,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanBody {
    /// The text the camera read from the code.
    pub payload: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScanView {
    pub merchant_id: String,
    pub merchant_name: String,
    pub city: String,
    pub currency: String,
    /// `null` for a static code: the payer types the amount.
    pub amount_minor: Option<u64>,
    pub amount: Option<String>,
    pub reference: Option<String>,
    /// `static` or `dynamic`.
    pub kind: String,
}

/// What a scanned code asks to pay, to show before paying it.
#[utoipa::path(post, path = "/api/v1/payments/qr/scan", tag = "pagos",
    security(("bearer" = [])),
    request_body = ScanBody,
    responses(
        (status = 200, description = "Comercio e importe", body = ScanView),
        (status = 404, description = "Comercio o código desconocido", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Código mal formado (CRC, longitudes, campos)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn scan_code(
    _who: Authenticated,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ScanBody>,
) -> Result<Json<ScanView>, ApiError> {
    let scanned = scan(&state, &body.payload).await?;
    Ok(Json(ScanView {
        merchant_id: scanned.merchant.id.clone(),
        merchant_name: scanned.merchant.business_name.clone(),
        city: scanned.merchant.city.clone(),
        currency: scanned.currency.code().to_owned(),
        amount_minor: scanned.amount.map(|money| money.minor),
        amount: scanned.amount.map(|money| money.to_string()),
        reference: scanned.code.reference.clone(),
        kind: scanned.code.kind.as_str().to_owned(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayByQrBody {
    pub payload: String,
    /// Only for a static code: what the payer pays ("12.50").
    pub amount: Option<String>,
}

/// Pays a scanned code from the caller's wallet, as every channel asks for it.
pub async fn pay_by_qr(
    state: &AppState,
    payer: &UserRow,
    payload: &str,
    typed_amount: Option<&str>,
    idempotency_key: Option<&str>,
) -> Result<OperationRow, ApiError> {
    let scanned = scan(state, payload).await?;
    let amount = match (scanned.amount, typed_amount) {
        (Some(amount), _) => amount,
        (None, Some(text)) => parse_money(text, scanned.currency)?,
        (None, None) => {
            return Err(ApiError::with_detail(
                ErrorCode::PaymentInvalidAmount,
                "este código no trae importe: escriba cuánto paga",
            ));
        }
    };
    pay_merchant(
        state,
        payer,
        &scanned.merchant,
        amount,
        Some(&scanned.code),
        scanned.code.reference.as_deref(),
        idempotency_key,
    )
    .await
}

/// Pays `amount` to an approved `merchant` from `payer`'s wallet: for a scanned `code` (a
/// dynamic one is claimed) or without one (a request to pay); for every channel.
pub(crate) async fn pay_merchant(
    state: &AppState,
    payer: &UserRow,
    merchant: &MerchantRow,
    amount: Money,
    code: Option<&QrCodeRow>,
    reference: Option<&str>,
    idempotency_key: Option<&str>,
) -> Result<OperationRow, ApiError> {
    let engine = engine(state)?;
    if merchant.owner_user_id == payer.id {
        return Err(ApiError::with_detail(
            ErrorCode::PaymentRecipientIsSelf,
            "no puede pagarse a sí mismo en su propio comercio",
        ));
    }
    let currency = amount.currency;
    ensure_wallet(state, engine, &payer.id, currency).await?;
    ensure_merchant_account(engine, &merchant.id, currency).await?;
    let kind = OperationKind::MerchantPayment;
    let fee = state.payments.fees.fee(kind, amount);
    let id = rand::random::<u128>().max(1).to_string();
    let minor = amount.minor.to_string();
    let code_id = code.map(|code| code.id.as_str()).unwrap_or_default();
    let hash = request_hash(&[
        kind.as_str(),
        &merchant.id,
        code_id,
        currency.code(),
        &minor,
    ]);
    let note = reference.unwrap_or_default();
    let new = NewOperation {
        id: &id,
        user_id: &payer.id,
        idempotency_key,
        request_hash: &hash,
        kind: kind.as_str(),
        currency: currency.code(),
        amount_minor: amount.minor,
        fee_minor: fee.minor,
        counterparty_user_id: None,
        counterparty_label: &merchant.business_name,
        note,
        counts_toward_limits: false,
        created_at_ms: state.clock.now_ms(),
    };
    let row = match state
        .db
        .begin_merchant_payment(
            &new,
            &merchant.id,
            code.map(|code| code.id.as_str()),
            reference,
            state.clock.now_ms(),
        )
        .await?
    {
        BeginPayment::Started(row) | BeginPayment::Existing(row) => row,
        BeginPayment::KeyReused(_) => {
            return Err(ApiError::new(ErrorCode::PaymentIdempotencyKeyReused));
        }
        BeginPayment::Refused(refusal) => {
            return Err(match refusal {
                QrRefusal::Unknown => ApiError::new(ErrorCode::PaymentQrUnknown),
                QrRefusal::AlreadyPaid => ApiError::new(ErrorCode::PaymentQrAlreadyPaid),
                QrRefusal::Expired => ApiError::new(ErrorCode::PaymentQrExpired),
            });
        }
    };
    execute(state, engine, row, merchant, payer).await
}

async fn ensure_merchant_account(
    engine: &LedgerEngine,
    merchant_id: &str,
    currency: Currency,
) -> Result<(), ApiError> {
    if engine
        .read()
        .state
        .account(accounts::merchant(merchant_id, currency))
        .is_some()
    {
        return Ok(());
    }
    ensure_operator_accounts(engine).await?;
    engine
        .create_accounts(vec![accounts::merchant_account(merchant_id, currency)])
        .await
        .map_err(|error| ledger_unavailable(&error))?;
    Ok(())
}

/// What a pending merchant operation (a payment or a refund) needs to be carried out.
pub(crate) struct Parsed {
    pub id: u128,
    pub currency: Currency,
    pub amount: Money,
    pub fee: Money,
}

pub(crate) fn parsed(row: &OperationRow) -> Result<Parsed, ApiError> {
    let corrupt = || {
        tracing::error!(operation = %row.id, "a merchant operation row cannot be planned");
        ApiError::new(ErrorCode::Internal)
    };
    let id: u128 = row.id.parse().map_err(|_| corrupt())?;
    let currency = Currency::parse(&row.currency).map_err(|_| corrupt())?;
    Ok(Parsed {
        id,
        currency,
        amount: Money::from_minor(row.amount_minor, currency),
        fee: Money::from_minor(row.fee_minor, currency),
    })
}

/// Submits a pending merchant operation's `legs` and records the outcome: completed, with its
/// receipt code and the SMS `messages` writes from the receipt and the wallet's balance after
/// it; or refused, with the ledger's reason (which also gives back what the operation held:
/// a dynamic code, a refund's share of its payment).
pub(crate) async fn submit_and_finish(
    state: &AppState,
    engine: &LedgerEngine,
    row: &OperationRow,
    merchant: &MerchantRow,
    kind: OperationKind,
    legs: Vec<NewTransfer>,
    messages: impl FnOnce(&str, Money) -> Vec<(String, String)>,
) -> Result<OperationRow, ApiError> {
    let Parsed {
        id,
        currency,
        amount,
        ..
    } = parsed(row)?;
    let results = engine
        .create_transfers(legs.clone())
        .await
        .map_err(|error| ledger_unavailable(&error))?;
    let now_ms = state.clock.now_ms();
    let finished = match plan::refusal(&legs, &results) {
        None => {
            let receipt = ReceiptCode::compute(
                &state.payments.receipt_key,
                id,
                kind,
                amount,
                row.created_at_ms,
            );
            let balance = Money::from_minor(
                crate::payments::available(engine, accounts::wallet(&row.user_id, currency)),
                currency,
            );
            let messages = messages(receipt.as_str(), balance);
            let messages: Vec<(&str, &str)> = messages
                .iter()
                .map(|(phone, text)| (phone.as_str(), text.as_str()))
                .collect();
            let completed = Finish::Completed {
                receipt_code: receipt.as_str(),
            };
            // A payment of an online-shop checkout is told as the checkout's completion.
            let checkout = match kind {
                OperationKind::MerchantPayment => state.db.checkout_paid_by(&row.id).await?,
                _ => None,
            };
            let (event_id, event_type, payload) = match &checkout {
                Some(checkout) => crate::checkouts::event(
                    checkout,
                    ceiba_store::CheckoutStatus::Completed,
                    Some((&row.id, receipt.as_str())),
                    now_ms,
                ),
                None => crate::webhooks::payload(row, merchant, kind, receipt.as_str(), now_ms),
            };
            state
                .db
                .finish_merchant_operation(
                    &row.id,
                    completed,
                    &messages,
                    Some(&crate::webhooks::event_of(
                        &event_id,
                        &event_type,
                        &payload,
                        merchant,
                    )),
                    now_ms,
                )
                .await?
        }
        Some(refusal) => {
            let refused = Finish::Refused {
                code: refusal_code(&refusal).name(),
                detail: &refusal.to_string(),
            };
            state
                .db
                .finish_merchant_operation(&row.id, refused, &[], None, now_ms)
                .await?
        }
    };
    Ok(finished)
}

/// Carries out a pending payment to `merchant`, with an SMS to the payer and one to the
/// merchant's owner.
async fn execute(
    state: &AppState,
    engine: &LedgerEngine,
    row: OperationRow,
    merchant: &MerchantRow,
    payer: &UserRow,
) -> Result<OperationRow, ApiError> {
    if row.status != OperationStatus::Pending {
        return Ok(row);
    }
    let Parsed {
        id,
        currency,
        amount,
        fee,
    } = parsed(&row)?;
    let kind = OperationKind::MerchantPayment;
    let creditor = accounts::merchant(&merchant.id, currency);
    let legs = plan::payment(id, kind, &row.user_id, creditor, amount, fee);
    let owner = state.db.user_by_id(&merchant.owner_user_id).await?;
    submit_and_finish(
        state,
        engine,
        &row,
        merchant,
        kind,
        legs,
        |receipt, balance| {
            let mut messages = vec![(
                payer.phone.clone(),
                format!(
                    "Ceiba Pagos: pago de {} a {}. Saldo {}. Recibo {receipt}",
                    amount.ascii(),
                    merchant.business_name,
                    balance.ascii(),
                ),
            )];
            if let Some(owner) = &owner {
                messages.push((
                    owner.phone.clone(),
                    format!(
                        "Ceiba Pagos: {} cobro {} de {}. Recibo {receipt}",
                        merchant.business_name,
                        amount.ascii(),
                        payer.display_name,
                    ),
                ));
            }
            messages
        },
    )
    .await
}

/// Whether `row` pays a merchant; its merchant side when it does.
pub async fn pays_a_merchant(
    state: &AppState,
    row: &OperationRow,
) -> Option<ceiba_store::MerchantPaymentRow> {
    if OperationKind::parse(&row.kind) != Some(OperationKind::MerchantPayment) {
        return None;
    }
    state.db.merchant_payment(&row.id).await.ok().flatten()
}

/// Goes on with a payment to a merchant left pending (the recovery sweep).
pub async fn resume(
    state: &AppState,
    engine: &LedgerEngine,
    row: OperationRow,
    side: &ceiba_store::MerchantPaymentRow,
) -> Result<OperationRow, ApiError> {
    let merchant = state
        .db
        .merchant(&side.merchant_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
    let payer = state
        .db
        .user_by_id(&row.user_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
    execute(state, engine, row, &merchant, &payer).await
}

/// Pays a scanned merchant QR code from the wallet. Send an `Idempotency-Key`: a retry moves
/// money at most once. A dynamic code is paid once; a static one needs `amount`.
#[utoipa::path(post, path = "/api/v1/payments/qr", tag = "pagos",
    security(("bearer" = [])),
    request_body = PayByQrBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Clave única de la operación")),
    responses(
        (status = 201, description = "Pagado", body = OperationView),
        (status = 404, description = "Comercio o código desconocido", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "El código ya se pagó, o el pago con esa clave sigue en curso", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "El código caducó", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Código mal formado, importe o saldo", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn pay(
    who: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PayByQrBody>,
) -> Result<(StatusCode, Json<OperationView>), ApiError> {
    let key = idempotency_key(&headers)?;
    let row = pay_by_qr(
        &state,
        &who.user,
        &body.payload,
        body.amount.as_deref(),
        key.as_deref(),
    )
    .await?;
    answer(&row, &who.user.id)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MerchantPaymentView {
    pub operation_id: String,
    /// `completed`, `pending` or `refused`.
    pub status: String,
    pub amount_minor: u64,
    pub currency: String,
    pub qr_code_id: Option<String>,
    pub reference: Option<String>,
    pub receipt_code: Option<String>,
    pub created_at_ms: i64,
    /// What refunds of it took so far.
    pub refunded_minor: u64,
}

/// The merchant's payments, newest first (poll it to see a payment arrive).
#[utoipa::path(get, path = "/api/v1/merchants/{id}/payments", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio")),
    responses(
        (status = 200, description = "Cobros", body = [MerchantPaymentView]),
        (status = 404, description = "No es su comercio", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn payments(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<MerchantPaymentView>>, ApiError> {
    let merchant = caller.merchant(&state, &id, "payments:read").await?;
    let rows = state
        .db
        .payments_to_merchant(&merchant.id, ceiba_store::MERCHANT_PAYMENTS_PAGE_MAX)
        .await?;
    Ok(Json(
        rows.iter()
            .map(|(operation, paid)| MerchantPaymentView {
                operation_id: operation.id.clone(),
                status: operation.status.as_str().to_owned(),
                amount_minor: operation.amount_minor,
                currency: operation.currency.clone(),
                qr_code_id: paid.qr_code_id.clone(),
                reference: paid.reference.clone(),
                receipt_code: operation.receipt_code.clone(),
                created_at_ms: operation.created_at_ms,
                refunded_minor: paid.refunded_minor,
            })
            .collect(),
    ))
}

/// The reconciliation file of one day (Havana time): every payment received and refund given
/// that completed that day, in order, then the totals per currency, as CSV with the header
/// `fecha,operacion,tipo,referencia,importe,moneda,recibo` (`tipo`: `pago`, `devolucion`, or
/// `total_cobrado`, `total_devuelto` and `neto` on the last lines).
#[utoipa::path(get, path = "/api/v1/merchants/{id}/reconciliation", tag = "comercios",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del comercio"), crate::bills::ReconciliationQuery),
    responses(
        (status = 200, description = "Conciliación del día en CSV", content_type = "text/csv"),
        (status = 400, description = "Fecha no válida, o un día con demasiadas líneas", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No es su comercio", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reconciliation(
    caller: MerchantCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<
        axum::extract::Query<crate::bills::ReconciliationQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<Response, ApiError> {
    let axum::extract::Query(query) = query
        .map_err(|rejection| ApiError::with_detail(ErrorCode::BadRequest, rejection.body_text()))?;
    let merchant = caller.merchant(&state, &id, "payments:read").await?;
    let (date, from_ms, to_ms) = crate::bills::day_bounds(&state, &query.date)?;
    let rows = state
        .db
        .merchant_movements(
            &merchant.id,
            from_ms,
            to_ms,
            ceiba_store::MERCHANT_DAY_ROWS_MAX,
        )
        .await?;
    if rows.len() >= usize::try_from(ceiba_store::MERCHANT_DAY_ROWS_MAX).unwrap_or(usize::MAX) {
        return Err(ApiError::with_detail(
            ErrorCode::BadRequest,
            "el día tiene demasiadas líneas para un solo archivo",
        ));
    }
    let write_error = |error: csv::Error| {
        tracing::error!(%error, "could not write a merchant reconciliation file");
        ApiError::new(ErrorCode::Internal)
    };
    let zone = state.payments.time_zone.clone();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "fecha",
            "operacion",
            "tipo",
            "referencia",
            "importe",
            "moneda",
            "recibo",
        ])
        .map_err(write_error)?;
    // Per currency: received, given back.
    let mut totals: std::collections::BTreeMap<String, (u64, u64)> =
        std::collections::BTreeMap::new();
    for row in &rows {
        let refund = row.kind == OperationKind::Refund.as_str();
        let total = totals.entry(row.currency.clone()).or_default();
        if refund {
            total.1 = total.1.saturating_add(row.amount_minor);
        } else {
            total.0 = total.0.saturating_add(row.amount_minor);
        }
        writer
            .write_record([
                crate::bills::local_timestamp(&zone, row.finished_at_ms),
                row.operation_id.clone(),
                if refund { "devolucion" } else { "pago" }.to_owned(),
                crate::bills::spreadsheet_safe(row.reference.as_deref().unwrap_or_default()),
                crate::bills::plain_amount(row.amount_minor),
                row.currency.clone(),
                row.receipt_code.clone().unwrap_or_default(),
            ])
            .map_err(write_error)?;
    }
    for (currency, (received, given)) in &totals {
        let net = if received >= given {
            crate::bills::plain_amount(received - given)
        } else {
            format!("-{}", crate::bills::plain_amount(given - received))
        };
        for (label, amount) in [
            ("total_cobrado", crate::bills::plain_amount(*received)),
            ("total_devuelto", crate::bills::plain_amount(*given)),
            ("neto", net),
        ] {
            writer
                .write_record([
                    date.to_string(),
                    String::new(),
                    label.to_owned(),
                    String::new(),
                    amount,
                    currency.clone(),
                    String::new(),
                ])
                .map_err(write_error)?;
        }
    }
    let body = writer
        .into_inner()
        .map_err(|error| write_error(error.into_error().into()))?;
    Ok(crate::bills::csv_file(
        &format!("conciliacion-{}-{date}.csv", merchant.id),
        body,
    ))
}
