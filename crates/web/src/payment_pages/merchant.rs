//! Charging and paying with QR codes in the browser, without script.
//!
//! `/comercio`: a merchant's owner types an amount (and a reference) and the page shows the
//! dynamic code to scan, with its text, and the latest payments; while the code waits to be paid
//! the page refreshes itself every five seconds (polling with a `<meta>` refresh, which works
//! on any phone's browser). `/pagos/qr`: a payer pastes what the camera read, sees the merchant
//! and the amount, and pays with the form's idempotency key; the receipt follows.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use ceiba_payments::{Currency, Money};
use ceiba_store::MerchantStatus;
use serde::Deserialize;

use super::{
    error_sentence, form_key, frame, fresh_key, is_refusal, local_time, receipt_or_refusal,
};
use crate::AppState;
use crate::account_pages::{PageForm, page, see_other, signed_in};
use crate::auth::Authenticated;
use crate::i18n::{Lang, PagosTexts};
use crate::merchant_payments::{self, QrCodeBody};
use crate::pages::{Frame, page_lang};
use crate::payments::parse_money;
use crate::problem::{ApiError, ErrorCode};

pub const MERCHANT_PATH: &str = "/comercio";
pub const CHARGE_PATH: &str = "/comercio/cobrar";
pub const REFUND_PATH: &str = "/comercio/devolver";
pub const QR_PATH: &str = "/pagos/qr";
pub const QR_CONFIRM_PATH: &str = "/pagos/qr/confirmar";

/// Payments shown on the merchant page.
const PAYMENTS_SHOWN: u32 = 10;

#[derive(Debug)]
struct CodeLine {
    svg_url: String,
    amount: String,
    reference: Option<String>,
    payload: String,
    paid: bool,
}

#[derive(Debug)]
struct PaymentLine {
    id: String,
    when: String,
    amount: String,
    reference: String,
    status: &'static str,
    /// What refunds took of it, when any.
    refunded: Option<String>,
    /// Completed with something left to give back: the refund form's key.
    refund_key: Option<String>,
}

/// Today's money in one currency: received, given back, and what is left.
#[derive(Debug)]
struct DayTotal {
    currency: &'static str,
    received: String,
    refunded: String,
    net: String,
}

#[derive(Debug)]
struct MerchantLine {
    id: String,
    name: String,
    status: &'static str,
    reason: String,
    code: Option<CodeLine>,
    payments: Vec<PaymentLine>,
    today: Vec<DayTotal>,
}

#[derive(Template)]
#[template(path = "comercio.html")]
struct MerchantPage<'a> {
    frame: Frame,
    p: &'static PagosTexts,
    csrf: &'a str,
    error: Option<String>,
    merchants: Vec<MerchantLine>,
    refresh: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MerchantQuery {
    lang: Option<String>,
    /// The code just made, to show.
    qr: String,
}

async fn merchant_page(
    state: &AppState,
    who: &Authenticated,
    lang: Lang,
    chosen: Option<Lang>,
    shown_code: &str,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let p = lang.pagos();
    let mut merchants = Vec::new();
    for row in state.db.merchants_of(&who.user.id).await? {
        let mut line = MerchantLine {
            id: row.id.clone(),
            name: row.business_name.clone(),
            status: row.status.as_str(),
            reason: row.decision_reason.clone().unwrap_or_default(),
            code: None,
            payments: Vec::new(),
            today: Vec::new(),
        };
        if row.status == MerchantStatus::Approved {
            if !shown_code.is_empty()
                && let Some(code) = state
                    .db
                    .qr_code(shown_code)
                    .await?
                    .filter(|code| code.merchant_id == row.id)
            {
                let currency = Currency::parse(&code.currency).unwrap_or(Currency::Cup);
                line.code = Some(CodeLine {
                    svg_url: format!("/api/v1/merchants/{}/qr-codes/{}/svg", row.id, code.id),
                    amount: code
                        .amount_minor
                        .map(|minor| Money::from_minor(minor, currency).to_string())
                        .unwrap_or_default(),
                    reference: code.reference.clone(),
                    payload: code.payload.clone(),
                    paid: code.paid_by_operation.is_some(),
                });
            }
            for (operation, paid) in state
                .db
                .payments_to_merchant(&row.id, PAYMENTS_SHOWN)
                .await?
            {
                let currency = Currency::parse(&operation.currency).unwrap_or(Currency::Cup);
                let refundable = operation.status == ceiba_store::OperationStatus::Completed
                    && paid.refunded_minor < operation.amount_minor;
                line.payments.push(PaymentLine {
                    id: operation.id.clone(),
                    refund_key: refundable.then(fresh_key),
                    when: local_time(state, operation.created_at_ms),
                    amount: Money::from_minor(operation.amount_minor, currency).to_string(),
                    reference: paid.reference.unwrap_or_default(),
                    status: super::status_label(p, operation.status),
                    refunded: (paid.refunded_minor > 0)
                        .then(|| Money::from_minor(paid.refunded_minor, currency).to_string()),
                });
            }
            line.today = day_totals(state, &row.id).await?;
        }
        merchants.push(line);
    }
    let refresh = merchants
        .iter()
        .any(|line| line.code.as_ref().is_some_and(|code| !code.paid));
    let body = MerchantPage {
        frame: frame(lang),
        p,
        csrf: who.csrf_token().expose(),
        error,
        merchants,
        refresh,
    }
    .render();
    Ok(page(lang, body, None, chosen))
}

/// Today's (Havana) received, refunded and net per currency, from the reconciliation's rows.
async fn day_totals(state: &AppState, merchant_id: &str) -> Result<Vec<DayTotal>, ApiError> {
    let now_ms = state.clock.now_ms();
    let day_start_ms = state.payments.windows(now_ms).day_start_ms;
    let rows = state
        .db
        .merchant_movements(
            merchant_id,
            day_start_ms,
            now_ms.saturating_add(1),
            ceiba_store::MERCHANT_DAY_ROWS_MAX,
        )
        .await?;
    let mut totals = Vec::new();
    for currency in Currency::ALL {
        let (mut received, mut refunded) = (0_u64, 0_u64);
        for row in rows.iter().filter(|row| row.currency == currency.code()) {
            if row.kind == ceiba_payments::OperationKind::Refund.as_str() {
                refunded = refunded.saturating_add(row.amount_minor);
            } else {
                received = received.saturating_add(row.amount_minor);
            }
        }
        if received == 0 && refunded == 0 {
            continue;
        }
        let money = |minor| Money::from_minor(minor, currency).to_string();
        let net = if received >= refunded {
            money(received - refunded)
        } else {
            format!("−{}", money(refunded - received))
        };
        totals.push(DayTotal {
            currency: currency.code(),
            received: money(received),
            refunded: money(refunded),
            net,
        });
    }
    Ok(totals)
}

pub async fn merchant(
    State(state): State<AppState>,
    Query(query): Query<MerchantQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(query.lang.as_deref(), &headers);
    let chosen = query.lang.as_deref().and_then(Lang::parse);
    merchant_page(&state, &who, lang, chosen, &query.qr, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChargeForm {
    comercio: String,
    importe: String,
    referencia: String,
}

/// Makes a dynamic code for the amount typed and shows it.
pub async fn charge(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<ChargeForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    let made = async {
        let merchant = state
            .db
            .merchant(&form.comercio)
            .await?
            .filter(|row| row.owner_user_id == who.user.id)
            .ok_or_else(|| ApiError::new(ErrorCode::MerchantUnknown))?;
        let body = QrCodeBody {
            amount: Some(form.importe.clone()),
            reference: Some(form.referencia.clone()),
            ..QrCodeBody::default()
        };
        merchant_payments::make_qr_code(&state, &merchant, &body).await
    }
    .await;
    match made {
        Ok(code) => Ok(see_other(&format!("{MERCHANT_PATH}?qr={}", code.id), None)),
        Err(error) if is_refusal(&error) => {
            let sentence = error_sentence(&error, lang);
            merchant_page(&state, &who, lang, None, "", Some(sentence)).await
        }
        Err(error) => Err(error),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RefundForm {
    comercio: String,
    pago: String,
    importe: String,
    clave: String,
}

/// Gives back all or part of a payment (all that is left without an amount), once per key.
pub async fn refund(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<RefundForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    let key = form_key(&form.clave)?;
    let amount = Some(form.importe.trim()).filter(|amount| !amount.is_empty());
    let caller = crate::merchant_api::MerchantCaller::Owner(Box::new(who.clone()));
    let refunded = crate::merchant_refunds::refund_payment(
        &state,
        &caller,
        &form.comercio,
        &form.pago,
        amount,
        Some(&key),
    )
    .await;
    let error = match refunded {
        Ok(row) if row.status == ceiba_store::OperationStatus::Refused => {
            super::row_sentence(&row, lang)
        }
        Ok(_) => return Ok(see_other(MERCHANT_PATH, None)),
        Err(error) if is_refusal(&error) => error_sentence(&error, lang),
        Err(error) => return Err(error),
    };
    merchant_page(&state, &who, lang, None, "", Some(error)).await
}

#[derive(Template)]
#[template(path = "pagos_qr.html")]
struct QrPage<'a> {
    frame: Frame,
    p: &'static PagosTexts,
    csrf: &'a str,
    error: Option<String>,
    code: &'a str,
    amount: &'a str,
}

#[derive(Template)]
#[template(path = "pagos_qr_confirmar.html")]
struct QrConfirmPage<'a> {
    frame: Frame,
    p: &'static PagosTexts,
    csrf: &'a str,
    key: String,
    merchant: &'a str,
    city: &'a str,
    amount: String,
    reference: Option<&'a str>,
    code: &'a str,
    typed_amount: &'a str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QrForm {
    codigo: String,
    importe: String,
    clave: String,
}

fn qr_page(lang: Lang, csrf: &str, form: &QrForm, error: Option<String>) -> Response {
    let body = QrPage {
        frame: frame(lang),
        p: lang.pagos(),
        csrf,
        error,
        code: &form.codigo,
        amount: &form.importe,
    }
    .render();
    page(lang, body, None, None)
}

pub async fn qr_form(
    State(state): State<AppState>,
    Query(query): Query<super::PagosQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let (lang, _) = query.lang(&headers);
    Ok(qr_page(
        lang,
        who.csrf_token().expose(),
        &QrForm::default(),
        None,
    ))
}

/// Reads the pasted code and shows whom and how much it pays, with the form that pays it.
pub async fn qr_check(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<QrForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    let csrf = who.csrf_token().expose();
    let checked = async {
        let scanned = merchant_payments::scan(&state, &form.codigo).await?;
        let amount = match scanned.amount {
            Some(amount) => amount,
            None if form.importe.trim().is_empty() => {
                return Err(ApiError::with_detail(
                    ErrorCode::PaymentInvalidAmount,
                    "este código no trae importe: escriba cuánto paga",
                ));
            }
            None => parse_money(&form.importe, scanned.currency)?,
        };
        Ok((scanned, amount))
    }
    .await;
    let (scanned, amount) = match checked {
        Ok(checked) => checked,
        Err(error) if is_refusal(&error) => {
            return Ok(qr_page(
                lang,
                csrf,
                &form,
                Some(error_sentence(&error, lang)),
            ));
        }
        Err(error) => return Err(error),
    };
    let body = QrConfirmPage {
        frame: frame(lang),
        p: lang.pagos(),
        csrf,
        key: fresh_key(),
        merchant: &scanned.merchant.business_name,
        city: &scanned.merchant.city,
        amount: amount.to_string(),
        reference: scanned.code.reference.as_deref(),
        code: form.codigo.trim(),
        typed_amount: &form.importe,
    }
    .render();
    Ok(page(lang, body, None, None))
}

/// Pays, once per key, and shows the receipt; a refusal goes back to the form.
pub async fn qr_pay(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<QrForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    let key = form_key(&form.clave)?;
    let typed = (!form.importe.trim().is_empty()).then_some(form.importe.as_str());
    let outcome =
        merchant_payments::pay_by_qr(&state, &who.user, &form.codigo, typed, Some(&key)).await;
    Ok(match receipt_or_refusal(outcome, lang)? {
        Ok(receipt) => receipt,
        Err(refusal) => qr_page(lang, who.csrf_token().expose(), &form, Some(refusal)),
    })
}
