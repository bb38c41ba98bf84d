//! The buyer's side of online-shop checkouts and payment links (see `checkouts.rs`).
//!
//! `/pagar/pedido/{id}`: the order (shop, description, items, total) and its QR code to pay
//! from the phone app. Signed in, the buyer pays it with one form (its idempotency key drawn
//! with the page) or cancels it; without a session, a link signs in and comes back. Paid,
//! cancelled or expired, the page says so and sends the buyer back to the shop
//! (`return_url` or `cancel_url`, with `checkout_id` and `status` added) by a link and a
//! `<meta>` refresh: the site's CSP lets forms post only to itself, so the way back is a
//! navigation, not a redirect of the form. While the payment is under way it refreshes itself.
//!
//! `/pagar/enlace/{id}`: a payment link; the buyer (signed in) continues with its amount, or
//! types one, and lands on the checkout it opened.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use ceiba_payments::{Currency, Money};
use ceiba_store::{CheckoutRow, CheckoutStatus};
use serde::Deserialize;

use super::{error_sentence, form_key, fresh_key, is_refusal, row_sentence};
use crate::AppState;
use crate::account_pages::{PageForm, SIGN_IN_PATH, page, see_other, signed_in};
use crate::auth::Authenticated;
use crate::checkouts::{
    CHECKOUT_PAGE_PREFIX, LINK_PAGE_PREFIX, cancel_checkout, checkout_from_link, items_of,
    live_link, pay_checkout,
};
use crate::i18n::{Lang, PagosTexts};
use crate::pages::{Frame, page_lang};
use crate::problem::{ApiError, ErrorCode};

pub const CHECKOUT_PATH: &str = "/pagar/pedido/{id}";
pub const CHECKOUT_PAY_PATH: &str = "/pagar/pedido/{id}/pagar";
pub const CHECKOUT_CANCEL_PATH: &str = "/pagar/pedido/{id}/cancelar";
pub const CHECKOUT_QR_PATH: &str = "/pagar/pedido/{id}/qr.svg";
pub const LINK_PATH: &str = "/pagar/enlace/{id}";

/// Seconds before the page sends the buyer back to the shop on its own.
const BACK_AFTER_S: u32 = 5;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LangQuery {
    lang: Option<String>,
}

#[derive(Debug)]
struct ItemLine {
    name: String,
    quantity: u32,
    amount: String,
}

#[derive(Template)]
#[template(path = "pagar_pedido.html")]
struct CheckoutPage<'a> {
    frame: Frame,
    p: &'static PagosTexts,
    id: &'a str,
    merchant: String,
    description: &'a str,
    reference: Option<&'a str>,
    items: Vec<ItemLine>,
    total: String,
    /// `open`, `pending`, `completed`, `cancelled` or `expired`.
    status: &'static str,
    receipt: Option<&'a str>,
    /// Signed in: the session's `_csrf`, and the pay form's key.
    csrf: Option<&'a str>,
    key: String,
    sign_in_href: String,
    /// Where the buyer goes back to, when the checkout is over and the shop said where.
    back: Option<String>,
    refresh_s: Option<u32>,
    error: Option<String>,
}

fn money(minor: u64, currency: &str) -> String {
    Currency::parse(currency).map_or_else(
        |_| format!("{minor} {currency}"),
        |currency| Money::from_minor(minor, currency).to_string(),
    )
}

/// The shop's address with `checkout_id` and `status` added to its query.
fn back_to(url: &str, row: &CheckoutRow, status: CheckoutStatus) -> Option<String> {
    let mut parsed = url::Url::parse(url).ok()?;
    parsed
        .query_pairs_mut()
        .append_pair("checkout_id", &row.id)
        .append_pair("status", status.as_str());
    Some(parsed.into())
}

fn checkout_path(id: &str) -> String {
    format!("{CHECKOUT_PAGE_PREFIX}{id}")
}

async fn checkout_page(
    state: &AppState,
    lang: Lang,
    chosen: Option<Lang>,
    who: Option<&Authenticated>,
    id: &str,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let row = state
        .db
        .checkout(id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::CheckoutUnknown))?;
    let merchant = state
        .db
        .merchant(&row.merchant_id)
        .await?
        .map(|merchant| merchant.business_name)
        .unwrap_or_default();
    let status = row.status(state.clock.now_ms());
    let back = match status {
        CheckoutStatus::Completed => row.return_url.as_deref(),
        CheckoutStatus::Cancelled | CheckoutStatus::Expired => row.cancel_url.as_deref(),
        CheckoutStatus::Open | CheckoutStatus::Pending => None,
    }
    .and_then(|url| back_to(url, &row, status));
    let refresh_s = match status {
        CheckoutStatus::Pending => Some(2),
        _ if back.is_some() => Some(BACK_AFTER_S),
        _ => None,
    };
    let items = items_of(&row)
        .into_iter()
        .map(|item| ItemLine {
            name: item.name,
            quantity: item.quantity,
            amount: money(item.amount_minor, &row.currency),
        })
        .collect();
    let body = CheckoutPage {
        frame: Frame {
            signed_in: who.is_some(),
            ..Frame::new(lang)
        },
        p: lang.pagos(),
        id: &row.id,
        merchant,
        description: &row.description,
        reference: row.merchant_reference.as_deref(),
        items,
        total: money(row.amount_minor, &row.currency),
        status: status.as_str(),
        receipt: row.receipt_code.as_deref(),
        csrf: who.map(|who| who.csrf_token().expose()),
        key: fresh_key(),
        sign_in_href: format!("{SIGN_IN_PATH}?siguiente={}", checkout_path(&row.id)),
        back,
        refresh_s,
        error,
    }
    .render();
    Ok(page(lang, body, None, chosen))
}

/// Who is signed in, if anyone: a page anybody may see.
fn viewer(who: Result<Authenticated, ApiError>) -> Result<Option<Authenticated>, ApiError> {
    match who {
        Ok(who) => Ok(Some(who)),
        Err(error) if error.code == ErrorCode::Unauthenticated => Ok(None),
        Err(error) => Err(error),
    }
}

pub async fn checkout(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = viewer(who)?;
    let lang = page_lang(query.lang.as_deref(), &headers);
    let chosen = query.lang.as_deref().and_then(Lang::parse);
    checkout_page(&state, lang, chosen, who.as_ref(), &id, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PayForm {
    clave: String,
}

/// Pays the checkout, once per key, and shows it paid; a refusal stays on the page.
pub async fn pay(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<PayForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    let key = form_key(&form.clave)?;
    let error = match pay_checkout(&state, &who.user, &id, Some(&key)).await {
        Ok((operation, _)) if operation.status == ceiba_store::OperationStatus::Refused => {
            row_sentence(&operation, lang)
        }
        Ok(_) => return Ok(see_other(&checkout_path(&id), None)),
        Err(error) if is_refusal(&error) || error.code.entry().status.as_u16() == 410 => {
            error_sentence(&error, lang)
        }
        Err(error) => return Err(error),
    };
    checkout_page(&state, lang, None, Some(&who), &id, Some(error)).await
}

/// Cancels the checkout (while nobody has paid it) and shows it cancelled.
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    let row = state
        .db
        .checkout(&id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::CheckoutUnknown))?;
    let merchant = state
        .db
        .merchant(&row.merchant_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::CheckoutUnknown))?;
    match cancel_checkout(&state, &merchant, &id).await {
        Ok(_) => Ok(see_other(&checkout_path(&id), None)),
        Err(error) if is_refusal(&error) => {
            let sentence = error_sentence(&error, lang);
            checkout_page(&state, lang, None, Some(&who), &id, Some(sentence)).await
        }
        Err(error) => Err(error),
    }
}

/// The checkout's QR code, to pay it from the phone app (anyone with the checkout's address).
pub async fn qr_image(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = state
        .db
        .checkout(&id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::CheckoutUnknown))?;
    let svg = ceiba_emvqr::decode(&row.payload)
        .ok()
        .and_then(|payload| payload.svg().ok())
        .ok_or_else(|| {
            tracing::error!(checkout = %row.id, "a checkout's QR payload could not be drawn");
            ApiError::new(ErrorCode::Internal)
        })?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

// ---------------------------------------------------------------------------------------------
// Payment links
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "pagar_enlace.html")]
struct LinkPage<'a> {
    frame: Frame,
    p: &'static PagosTexts,
    id: &'a str,
    merchant: &'a str,
    description: &'a str,
    /// `None`: the payer types it.
    amount: Option<String>,
    currency: &'a str,
    csrf: Option<&'a str>,
    sign_in_href: String,
    typed: &'a str,
    error: Option<String>,
}

async fn link_page(
    state: &AppState,
    lang: Lang,
    chosen: Option<Lang>,
    who: Option<&Authenticated>,
    id: &str,
    typed: &str,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let (link, merchant) = live_link(state, id).await?;
    let body = LinkPage {
        frame: Frame {
            signed_in: who.is_some(),
            ..Frame::new(lang)
        },
        p: lang.pagos(),
        id: &link.id,
        merchant: &merchant.business_name,
        description: &link.description,
        amount: link.amount_minor.map(|minor| money(minor, &link.currency)),
        currency: &link.currency,
        csrf: who.map(|who| who.csrf_token().expose()),
        sign_in_href: format!("{SIGN_IN_PATH}?siguiente={LINK_PAGE_PREFIX}{}", link.id),
        typed,
        error,
    }
    .render();
    Ok(page(lang, body, None, chosen))
}

pub async fn link(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = viewer(who)?;
    let lang = page_lang(query.lang.as_deref(), &headers);
    let chosen = query.lang.as_deref().and_then(Lang::parse);
    link_page(&state, lang, chosen, who.as_ref(), &id, "", None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LinkForm {
    importe: String,
}

/// Opens a checkout from the link and goes to it.
pub async fn use_link(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<LinkForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    match checkout_from_link(&state, &id, Some(&form.importe)).await {
        Ok(row) => Ok(see_other(&checkout_path(&row.id), None)),
        Err(error) if is_refusal(&error) && error.code != ErrorCode::NotFound => {
            let sentence = error_sentence(&error, lang);
            link_page(
                &state,
                lang,
                None,
                Some(&who),
                &id,
                &form.importe,
                Some(sentence),
            )
            .await
        }
        Err(error) => Err(error),
    }
}
