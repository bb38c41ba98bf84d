//! The Pagos pages for people (`/pagos`): balances and the last operations, sending money (a
//! form, then a confirmation page with the recipient's name, then the receipt), bills, top-ups,
//! a printable statement and printable receipts. Plain forms that work without JavaScript, in
//! the frame and stylesheet of every page, behind the session cookie; every form that changes
//! something carries the session's `_csrf` (checked by [`Authenticated`]).
//!
//! Every form that moves money also carries a hidden idempotency key (`clave`), drawn when the
//! form is shown: a double click, a reload of the answer or a resent form is the same operation,
//! which the services run at most once (see `payments.rs`). A refused form is shown again with
//! one plain sentence, what was typed, and a fresh key. Money moved answers 303 See Other to
//! the operation's receipt, so reloading the receipt sends nothing.
//!
//! The work itself is the services' (`payments.rs`, `bills.rs`, `statements.rs`), shared with
//! the JSON API and USSD; this module only translates forms to them and their answers to pages.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use ceiba_ledger::Balances;
use ceiba_payments::{
    Currency, Money, OperationKind, TopUpService, accounts, format_minor_es, plan,
};
use ceiba_store::{LedgerEngine, OperationRow, OperationStatus};
use serde::Deserialize;

use crate::AppState;
use crate::account_pages::{
    PageForm, as_sentence, iso_utc, page, phone_for_owner, see_other, signed_in,
};
use crate::auth::Authenticated;
use crate::bills::{self, BillView};
use crate::i18n::{Lang, PagosTexts};
use crate::pages::{Frame, page_lang};
use crate::payments::{self, Counterparties, TransferRequest, parse_idempotency_key, sent_by};
use crate::problem::{ApiError, ErrorCode};
use crate::statements::{statement_period, statement_rows};

pub const PAGOS_PATH: &str = "/pagos";
pub const SEND_PATH: &str = "/pagos/enviar";
pub const SEND_CONFIRM_PATH: &str = "/pagos/enviar/confirmar";
pub const BILLS_PATH: &str = "/pagos/facturas";
pub const BILL_PAY_PATH: &str = "/pagos/facturas/pagar";
pub const TOP_UP_PATH: &str = "/pagos/recargas";
pub const STATEMENT_PATH: &str = "/pagos/extracto";
pub const RECEIPT_PATH: &str = "/pagos/recibos/{id}";

/// Operations on the Pagos page; the statement has the rest.
const RECENT_OPERATIONS_SHOWN: u32 = 10;
/// Most operations on one statement page, so that it stays well under 30 KB; a longer period is
/// asked for in parts, or as CSV.
const STATEMENT_ROWS_SHOWN_MAX: usize = 100;
/// Legs of one operation's chain looked at for the balance after it (a chain has a handful).
const LEGS_MAX: u8 = 16;

/// The query of a Pagos page: a language choice, and what a page is asked to show or fill in.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PagosQuery {
    lang: Option<String>,
    // The send form, filled again by «Corregir».
    telefono: String,
    moneda: String,
    importe: String,
    nota: String,
    // A bill to look up.
    emisor: String,
    referencia: String,
    // The statement's period.
    desde: String,
    hasta: String,
}

impl PagosQuery {
    fn lang(&self, headers: &HeaderMap) -> (Lang, Option<Lang>) {
        (
            page_lang(self.lang.as_deref(), headers),
            self.lang.as_deref().and_then(Lang::parse),
        )
    }
}

/// The frame of a page shown to a signed-in person.
fn frame(lang: Lang) -> Frame {
    Frame {
        signed_in: true,
        ..Frame::new(lang)
    }
}

/// A new idempotency key for a money form: 128 random bits, so no two forms share one.
fn fresh_key() -> String {
    format!("web-{:032x}", rand::random::<u128>())
}

/// Whether a service's error is a refusal the person can act on (shown on the form) rather
/// than one that ends the request (no session, CSRF, a server error).
fn is_refusal(error: &ApiError) -> bool {
    matches!(error.code.entry().status.as_u16(), 400 | 404 | 409 | 422)
}

/// One plain sentence for a refusal: the service's own words on Spanish pages (they say which
/// limit and what is left, which number, which bill), the error table's on English pages.
fn refusal_sentence(code: ErrorCode, detail: Option<&str>, lang: Lang) -> String {
    let entry = code.entry();
    match lang {
        Lang::Es => detail
            .map(str::trim)
            .filter(|detail| !detail.is_empty())
            .map_or_else(|| entry.title_es.to_owned(), as_sentence),
        Lang::En => entry.title_en.to_owned(),
    }
}

fn error_sentence(error: &ApiError, lang: Lang) -> String {
    match (lang, error.detail_en.as_deref()) {
        (Lang::En, Some(english)) if !english.trim().is_empty() => as_sentence(english.trim()),
        _ => refusal_sentence(error.code, error.detail.as_deref(), lang),
    }
}

/// Why a recorded operation was refused (by the ledger, or a biller), as a sentence.
fn row_sentence(row: &OperationRow, lang: Lang) -> String {
    let code = row
        .refusal_code
        .as_deref()
        .and_then(ErrorCode::from_name)
        .unwrap_or(ErrorCode::PaymentRefused);
    refusal_sentence(code, row.refusal_detail.as_deref(), lang)
}

/// Where a money form's submission leads: to the receipt (`Ok`), or back to the form with the
/// sentence that says why not (`Err`); an error that ends the request passes through.
fn receipt_or_refusal(
    outcome: Result<OperationRow, ApiError>,
    lang: Lang,
) -> Result<Result<Response, String>, ApiError> {
    match outcome {
        Ok(row) if row.status == OperationStatus::Refused => Ok(Err(row_sentence(&row, lang))),
        Ok(row) => Ok(Ok(see_other(&receipt_path(&row.id), None))),
        Err(error) if is_refusal(&error) => Ok(Err(error_sentence(&error, lang))),
        Err(error) => Err(error),
    }
}

fn receipt_path(id: &str) -> String {
    RECEIPT_PATH.replace("{id}", id)
}

fn kind_label(p: &PagosTexts, kind: &str) -> &'static str {
    match OperationKind::parse(kind) {
        Some(OperationKind::PersonToPerson) => p.kind_person_to_person,
        Some(OperationKind::CashIn) => p.kind_cash_in,
        Some(OperationKind::CashOut) => p.kind_cash_out,
        Some(OperationKind::BillPayment) => p.kind_bill,
        Some(OperationKind::TaxPayment) => p.kind_tax,
        Some(OperationKind::TopUp) => p.kind_top_up,
        Some(OperationKind::Refund) => p.kind_refund,
        Some(OperationKind::Payout) => p.kind_payout,
        Some(OperationKind::MerchantPayment) | None => p.kind_merchant,
    }
}

fn status_label(p: &PagosTexts, status: OperationStatus) -> &'static str {
    match status {
        OperationStatus::Completed => p.status_completed,
        OperationStatus::Pending => p.status_pending,
        OperationStatus::Refused => p.status_refused,
    }
}

/// An instant as people there read it: `05/01/2026 14:03`, in the configured time zone.
fn local_time(state: &AppState, at_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(at_ms)
        .map(|at| {
            at.to_zoned(state.payments.time_zone.clone())
                .strftime("%d/%m/%Y %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

fn iso_of_ms(at_ms: i64) -> String {
    iso_utc(u64::try_from(at_ms.max(0)).unwrap_or(0) / 1000)
}

fn currency_of(row: &OperationRow) -> Currency {
    Currency::parse(&row.currency).unwrap_or(Currency::Cup)
}

fn spendable(balances: &Balances) -> u64 {
    let available = balances
        .credits_posted
        .saturating_sub(balances.debits_posted)
        .saturating_sub(balances.debits_pending);
    u64::try_from(available).unwrap_or(u64::MAX)
}

/// What `viewer` could spend right after the operation, read from the ledger's history of their
/// wallet at the last leg of the operation that touched it; `None` when it touched no wallet of
/// theirs. For a payment held for a biller that is the moment of the hold: posting it later
/// changes no available balance.
fn balance_after(engine: &LedgerEngine, row: &OperationRow, viewer: &str) -> Option<Money> {
    let id: u128 = row.id.parse().ok()?;
    let currency = Currency::parse(&row.currency).ok()?;
    let wallet = accounts::wallet(viewer, currency);
    let replica = engine.read();
    let ledger = &replica.state;
    let at = (0..LEGS_MAX)
        .map_while(|leg| ledger.transfer(plan::transfer_id(id, leg)))
        .filter(|transfer| {
            transfer.debit_account_id == wallet || transfer.credit_account_id == wallet
        })
        .map(|transfer| transfer.timestamp)
        .max()?;
    let balances = ledger.balances_at(wallet, at).ok()?;
    Some(Money::from_minor(spendable(&balances), currency))
}

/// One line of an operations table.
#[derive(Debug)]
struct OperationLine {
    id: String,
    when: String,
    what: String,
    /// With its sign: `-150,00 CUP` left, `+150,00 CUP` arrived.
    amount: String,
    incoming: bool,
    status: &'static str,
}

async fn operation_lines(
    state: &AppState,
    p: &PagosTexts,
    rows: &[OperationRow],
    viewer: &str,
) -> Result<Vec<OperationLine>, ApiError> {
    let mut counterparties = Counterparties::default();
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let sent = sent_by(row, viewer);
        let counterparty = counterparties.of(state, row, viewer).await?;
        let currency = currency_of(row);
        let minor = if sent {
            row.amount_minor.saturating_add(row.fee_minor)
        } else {
            row.amount_minor
        };
        lines.push(OperationLine {
            id: row.id.clone(),
            when: local_time(state, row.created_at_ms),
            what: format!("{} · {counterparty}", kind_label(p, &row.kind)),
            amount: format!(
                "{}{}",
                if sent { "-" } else { "+" },
                Money::from_minor(minor, currency)
            ),
            incoming: !sent,
            status: status_label(p, row.status),
        });
    }
    Ok(lines)
}

/// An option of a `<select>`.
#[derive(Debug)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn choices<'a>(options: impl IntoIterator<Item = (&'a str, &'a str)>, chosen: &str) -> Vec<Choice> {
    let mut choices: Vec<Choice> = options
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value.eq_ignore_ascii_case(chosen.trim()),
            value: value.to_owned(),
            label: label.to_owned(),
        })
        .collect();
    if !choices.iter().any(|choice| choice.selected)
        && let Some(first) = choices.first_mut()
    {
        first.selected = true;
    }
    choices
}

/// Signs the request in or answers where to go without a session (see `account_pages.rs`).
macro_rules! signed_in_or_return {
    ($state:expr, $headers:expr, $who:expr) => {
        match signed_in(&$state, &$headers, $who)? {
            Ok(who) => who,
            Err(redirect) => return Ok(redirect),
        }
    };
}

pub mod bank_accounts;
pub mod checkout;
pub mod merchant;
pub mod merchant_admin;
pub mod payouts;
pub mod requests;
pub mod settlement;

// ---------------------------------------------------------------------------------------------
// The Pagos page
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct BalanceLine {
    currency: &'static str,
    available: String,
    held: Option<String>,
}

#[derive(Template)]
#[template(path = "pagos.html")]
struct PagosPage {
    frame: Frame,
    p: &'static PagosTexts,
    balances: Vec<BalanceLine>,
    operations: Vec<OperationLine>,
}

pub async fn home(
    State(state): State<AppState>,
    Query(query): Query<PagosQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let (lang, chosen) = query.lang(&headers);
    let p = lang.pagos();
    let balances = payments::wallet_balances(&state, &who.user.id)
        .await?
        .into_iter()
        .map(|balance| {
            let currency = Currency::parse(balance.currency).unwrap_or(Currency::Cup);
            BalanceLine {
                currency: balance.currency,
                held: (balance.pending_minor > 0).then(|| {
                    p.held.replace(
                        "{amount}",
                        &Money::from_minor(balance.pending_minor, currency).to_string(),
                    )
                }),
                available: balance.available,
            }
        })
        .collect();
    let rows = state
        .db
        .payment_operations_of(&who.user.id, 0, i64::MAX, None, RECENT_OPERATIONS_SHOWN)
        .await?;
    let body = PagosPage {
        frame: frame(lang),
        p,
        balances,
        operations: operation_lines(&state, p, &rows, &who.user.id).await?,
    }
    .render();
    Ok(page(lang, body, None, chosen))
}

// ---------------------------------------------------------------------------------------------
// Sending money: form, confirmation, receipt
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "pagos_enviar.html")]
struct SendPage<'a> {
    frame: Frame,
    p: &'static PagosTexts,
    csrf: &'a str,
    error: Option<String>,
    phone: &'a str,
    currencies: Vec<Choice>,
    amount: &'a str,
    note: &'a str,
}

#[derive(Template)]
#[template(path = "pagos_confirmar.html")]
struct ConfirmPage<'a> {
    frame: Frame,
    p: &'static PagosTexts,
    csrf: &'a str,
    key: String,
    name: &'a str,
    phone: String,
    amount: String,
    fee: Option<String>,
    total: String,
    note: &'a str,
    typed: &'a SendForm,
}

/// The send form, as typed; the confirmation carries it again in hidden fields, with the key.
/// (Its `_csrf` was read and checked before the handler, by [`Authenticated`].)
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SendForm {
    telefono: String,
    moneda: String,
    importe: String,
    nota: String,
    clave: String,
}

impl SendForm {
    fn request(&self) -> TransferRequest<'_> {
        TransferRequest {
            to_phone: &self.telefono,
            currency: &self.moneda,
            amount: &self.importe,
            note: Some(&self.nota),
            idempotency_key: None,
        }
    }
}

fn currency_choices(chosen: &str) -> Vec<Choice> {
    choices(
        [Currency::Cup, Currency::Usd].map(|currency| (currency.code(), currency.code())),
        chosen,
    )
}

fn send_page(lang: Lang, csrf: &str, form: &SendForm, error: Option<String>) -> Response {
    let body = SendPage {
        frame: frame(lang),
        p: lang.pagos(),
        csrf,
        error,
        phone: &form.telefono,
        currencies: currency_choices(&form.moneda),
        amount: &form.importe,
        note: &form.nota,
    }
    .render();
    page(lang, body, None, None)
}

pub async fn send_form(
    State(state): State<AppState>,
    Query(query): Query<PagosQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let (lang, chosen) = query.lang(&headers);
    let body = SendPage {
        frame: frame(lang),
        p: lang.pagos(),
        csrf: who.csrf_token().expose(),
        error: None,
        phone: &query.telefono,
        currencies: currency_choices(&query.moneda),
        amount: &query.importe,
        note: &query.nota,
    }
    .render();
    Ok(page(lang, body, None, chosen))
}

/// Step 2: checks the transfer without moving anything and shows whom it reaches, by name, with
/// a fresh idempotency key in the form that sends it.
pub async fn send_check(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<SendForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    let csrf = who.csrf_token().expose();
    let preview = match payments::preview_transfer(&state, &who.user, &form.request()).await {
        Ok(preview) => preview,
        Err(error) if is_refusal(&error) => {
            return Ok(send_page(
                lang,
                csrf,
                &form,
                Some(error_sentence(&error, lang)),
            ));
        }
        Err(error) => return Err(error),
    };
    let total = preview
        .amount
        .checked_add(preview.fee)
        .unwrap_or(preview.amount);
    let body = ConfirmPage {
        frame: frame(lang),
        p: lang.pagos(),
        csrf,
        key: fresh_key(),
        name: &preview.payee.display_name,
        phone: phone_for_owner(&preview.payee.phone),
        amount: preview.amount.to_string(),
        fee: (!preview.fee.is_zero()).then(|| preview.fee.to_string()),
        total: total.to_string(),
        note: &preview.note,
        typed: &form,
    }
    .render();
    Ok(page(lang, body, None, None))
}

/// Step 3: sends, once per key, and shows the receipt; a refusal goes back to the form.
pub async fn send(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<SendForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    let csrf = who.csrf_token().expose();
    let key = form_key(&form.clave)?;
    let request = TransferRequest {
        idempotency_key: Some(&key),
        ..form.request()
    };
    let outcome = payments::transfer_to_person(&state, &who.user, &request).await;
    Ok(match receipt_or_refusal(outcome, lang)? {
        Ok(receipt) => receipt,
        Err(refusal) => send_page(lang, csrf, &form, Some(refusal)),
    })
}

/// The hidden key of a money form; a form without one was not made by these pages.
fn form_key(text: &str) -> Result<String, ApiError> {
    parse_idempotency_key(text).ok_or_else(|| {
        ApiError::with_detail(
            ErrorCode::BadRequest,
            "el formulario no trae su clave de operación (campo «clave»); vuelva a abrirlo",
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Receipts
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "pagos_recibo.html")]
struct ReceiptPage {
    frame: Frame,
    p: &'static PagosTexts,
    heading: &'static str,
    pending: bool,
    kind: &'static str,
    from: String,
    to: String,
    amount: String,
    fee: Option<String>,
    note: String,
    when: String,
    when_iso: String,
    id: String,
    code: Option<String>,
    balance_after: Option<String>,
    reason: Option<String>,
    status: &'static str,
}

/// Who paid and who received, by the names people know them by.
async fn parties(state: &AppState, row: &OperationRow) -> Result<(String, String), ApiError> {
    let name_of = |id: Option<String>| async move {
        Ok::<_, ApiError>(match id {
            Some(id) => state
                .db
                .user_by_id(&id)
                .await?
                .map(|user| user.display_name),
            None => None,
        })
    };
    let label = row.counterparty_label.clone();
    Ok(match OperationKind::parse(&row.kind) {
        Some(OperationKind::CashIn) => (
            label.clone(),
            name_of(row.counterparty_user_id.clone())
                .await?
                .unwrap_or(label),
        ),
        Some(OperationKind::CashOut) => (
            name_of(row.counterparty_user_id.clone())
                .await?
                .unwrap_or_default(),
            label,
        ),
        _ => (
            name_of(Some(row.user_id.clone()))
                .await?
                .unwrap_or_default(),
            label,
        ),
    })
}

/// A printable receipt of one of the person's operations (sent, or received once completed),
/// with its verification code; while a biller has not answered, where the payment stands.
pub async fn receipt(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<PagosQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let (lang, chosen) = query.lang(&headers);
    let p = lang.pagos();
    let viewer = who.user.id.as_str();
    // Another person's operation reads as one that does not exist, so ids reveal nothing.
    let row = state
        .db
        .payment_operation(&id)
        .await?
        .filter(|row| {
            row.user_id == viewer
                || (row.counterparty_user_id.as_deref() == Some(viewer)
                    && row.status == OperationStatus::Completed)
        })
        .ok_or_else(|| ApiError::with_detail(ErrorCode::NotFound, "la operación no existe"))?;
    let (from, to) = parties(&state, &row).await?;
    let currency = currency_of(&row);
    let sent = sent_by(&row, viewer);
    let completed = row.status == OperationStatus::Completed;
    let body = ReceiptPage {
        frame: frame(lang),
        p,
        heading: match row.status {
            OperationStatus::Completed => p.receipt_title,
            OperationStatus::Pending => p.pending_title,
            OperationStatus::Refused => p.refused_title,
        },
        pending: row.status == OperationStatus::Pending,
        kind: kind_label(p, &row.kind),
        from,
        to,
        amount: Money::from_minor(row.amount_minor, currency).to_string(),
        fee: (sent && row.fee_minor > 0)
            .then(|| Money::from_minor(row.fee_minor, currency).to_string()),
        note: row.note.clone(),
        when: local_time(&state, row.created_at_ms),
        when_iso: iso_of_ms(row.created_at_ms),
        id: row.id.clone(),
        code: row.receipt_code.clone().filter(|_| completed),
        balance_after: if completed {
            state
                .ledger
                .as_ref()
                .and_then(|engine| balance_after(engine, &row, viewer))
                .map(|money| money.to_string())
        } else {
            None
        },
        reason: (row.status == OperationStatus::Refused).then(|| row_sentence(&row, lang)),
        status: status_label(p, row.status),
    }
    .render();
    Ok(page(lang, body, None, chosen))
}

// ---------------------------------------------------------------------------------------------
// Bills
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "pagos_facturas.html")]
struct BillsPage<'a> {
    frame: Frame,
    p: &'static PagosTexts,
    csrf: &'a str,
    error: Option<String>,
    billers: Vec<Choice>,
    reference: &'a str,
    bill: Option<BillView>,
    key: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BillForm {
    emisor: String,
    referencia: String,
    clave: String,
}

/// The bills page: the billers, and the bill `biller`/`reference` when both are given (looked up
/// again, so its amount and status are current), with `error` above it.
async fn bills_page(
    state: &AppState,
    who: &Authenticated,
    lang: Lang,
    chosen: Option<Lang>,
    biller: &str,
    reference: &str,
    mut error: Option<String>,
) -> Result<Response, ApiError> {
    let all = bills::billers(state).await?;
    let issuers = all
        .iter()
        .filter(|biller| biller.top_up_service.is_none())
        .map(|biller| (biller.code.as_str(), biller.name.as_str()));
    let billers = choices(issuers, biller);
    let mut bill = None;
    if !biller.trim().is_empty() && !reference.trim().is_empty() {
        match bills::find_bill(state, biller, reference).await {
            Ok(found) => bill = Some(found),
            Err(refusal) if is_refusal(&refusal) => {
                error.get_or_insert_with(|| error_sentence(&refusal, lang));
            }
            Err(other) => return Err(other),
        }
    }
    let body = BillsPage {
        frame: frame(lang),
        p: lang.pagos(),
        csrf: who.csrf_token().expose(),
        error,
        billers,
        reference: reference.trim(),
        bill,
        key: fresh_key(),
    }
    .render();
    Ok(page(lang, body, None, chosen))
}

/// Choose a biller, type the reference: the bill's amount, name and due date, and a form to pay
/// it (or a notice that it is paid).
pub async fn bills_form(
    State(state): State<AppState>,
    Query(query): Query<PagosQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let (lang, chosen) = query.lang(&headers);
    bills_page(
        &state,
        &who,
        lang,
        chosen,
        &query.emisor,
        &query.referencia,
        None,
    )
    .await
}

/// Pays the bill, once per key, and shows the receipt (or where the payment stands while the
/// biller has not answered); a refusal shows the bill again with the reason.
pub async fn pay_bill(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<BillForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    let key = form_key(&form.clave)?;
    let outcome = bills::pay_bill(
        &state,
        &who.user,
        &form.emisor,
        &form.referencia,
        Some(&key),
    )
    .await;
    let refusal = match receipt_or_refusal(outcome, lang)? {
        Ok(receipt) => return Ok(receipt),
        Err(refusal) => refusal,
    };
    bills_page(
        &state,
        &who,
        lang,
        None,
        &form.emisor,
        &form.referencia,
        Some(refusal),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Top-ups
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "pagos_recargas.html")]
struct TopUpPage<'a> {
    frame: Frame,
    p: &'static PagosTexts,
    csrf: &'a str,
    key: String,
    error: Option<String>,
    services: Vec<Choice>,
    account: &'a str,
    amount: &'a str,
    currency: &'static str,
    amount_hint: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TopUpForm {
    servicio: String,
    cuenta: String,
    importe: String,
    clave: String,
}

fn top_up_page(
    state: &AppState,
    who: &Authenticated,
    lang: Lang,
    chosen: Option<Lang>,
    form: &TopUpForm,
    error: Option<String>,
) -> Response {
    let p = lang.pagos();
    let rules = &state.payments.top_ups.rules;
    let mobile: Vec<String> = rules
        .mobile_denominations_minor
        .iter()
        .map(|minor| format_minor_es(*minor))
        .collect();
    let currency = rules.currency;
    let amount_hint = p
        .top_up_amount_hint
        .replace(
            "{mobile}",
            &format!("{} {}", mobile.join(" · "), currency.code()),
        )
        .replace(
            "{min}",
            &Money::from_minor(rules.nauta_min_minor, currency).to_string(),
        )
        .replace(
            "{max}",
            &Money::from_minor(rules.nauta_max_minor, currency).to_string(),
        );
    let services = choices(
        [
            (TopUpService::Mobile.as_str(), p.service_mobile),
            (TopUpService::Nauta.as_str(), p.service_nauta),
        ],
        &form.servicio,
    );
    let body = TopUpPage {
        frame: frame(lang),
        p,
        csrf: who.csrf_token().expose(),
        key: fresh_key(),
        error,
        services,
        account: &form.cuenta,
        amount: &form.importe,
        currency: currency.code(),
        amount_hint,
    }
    .render();
    page(lang, body, None, chosen)
}

pub async fn top_up_form(
    State(state): State<AppState>,
    Query(query): Query<PagosQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let (lang, chosen) = query.lang(&headers);
    Ok(top_up_page(
        &state,
        &who,
        lang,
        chosen,
        &TopUpForm::default(),
        None,
    ))
}

/// Tops up, once per key, and shows the receipt; a refusal shows the form again.
pub async fn top_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
    PageForm(form): PageForm<TopUpForm>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let lang = page_lang(None, &headers);
    let key = form_key(&form.clave)?;
    let outcome = bills::top_up(
        &state,
        &who.user,
        &form.servicio,
        &form.cuenta,
        &form.importe,
        Some(&key),
    )
    .await;
    let refusal = match receipt_or_refusal(outcome, lang)? {
        Ok(receipt) => return Ok(receipt),
        Err(refusal) => refusal,
    };
    Ok(top_up_page(&state, &who, lang, None, &form, Some(refusal)))
}

// ---------------------------------------------------------------------------------------------
// The statement
// ---------------------------------------------------------------------------------------------

/// What came in and went out in one currency over the period (completed operations only).
#[derive(Debug)]
struct Totals {
    currency: &'static str,
    money_in: String,
    money_out: String,
}

#[derive(Template)]
#[template(path = "pagos_extracto.html")]
struct StatementPage<'a> {
    frame: Frame,
    p: &'static PagosTexts,
    name: &'a str,
    phone: String,
    from: String,
    to: String,
    error: Option<String>,
    csv_href: Option<String>,
    shown: bool,
    operations: Vec<OperationLine>,
    totals: Vec<Totals>,
}

fn totals(rows: &[OperationRow], viewer: &str) -> Vec<Totals> {
    [Currency::Cup, Currency::Usd]
        .into_iter()
        .filter_map(|currency| {
            let mut money_in: u64 = 0;
            let mut money_out: u64 = 0;
            for row in rows.iter().filter(|row| {
                row.status == OperationStatus::Completed && row.currency == currency.code()
            }) {
                if sent_by(row, viewer) {
                    money_out = money_out
                        .saturating_add(row.amount_minor)
                        .saturating_add(row.fee_minor);
                } else {
                    money_in = money_in.saturating_add(row.amount_minor);
                }
            }
            (money_in > 0 || money_out > 0).then(|| Totals {
                currency: currency.code(),
                money_in: Money::from_minor(money_in, currency).to_string(),
                money_out: Money::from_minor(money_out, currency).to_string(),
            })
        })
        .collect()
}

/// A printable statement of the person's operations between two days (this month by default),
/// with what came in and went out, and a link to the same period as CSV.
pub async fn statement(
    State(state): State<AppState>,
    Query(query): Query<PagosQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = signed_in_or_return!(state, headers, who);
    let (lang, chosen) = query.lang(&headers);
    let p = lang.pagos();
    let today = jiff::Timestamp::from_millisecond(state.clock.now_ms())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(state.payments.time_zone.clone())
        .date();
    let from = match query.desde.trim() {
        "" => today.first_of_month().to_string(),
        typed => typed.to_owned(),
    };
    let to = match query.hasta.trim() {
        "" => today.to_string(),
        typed => typed.to_owned(),
    };
    let mut error = None;
    let mut csv_href = None;
    let mut rows = None;
    match statement_period(&state, &from, &to) {
        Err(refusal) => error = Some(error_sentence(&refusal, lang)),
        Ok((from_ms, to_ms)) => {
            // Only dates that parsed reach the link, so nothing typed can change its query.
            csv_href = Some(format!(
                "/api/v1/payments/statement.csv?from={from}&to={to}"
            ));
            match statement_rows(
                &state,
                &who.user.id,
                from_ms,
                to_ms,
                STATEMENT_ROWS_SHOWN_MAX,
            )
            .await
            {
                Ok(found) => rows = Some(found),
                Err(refusal) if is_refusal(&refusal) => {
                    error = Some(error_sentence(&refusal, lang));
                }
                Err(other) => return Err(other),
            }
        }
    }
    let (operations, totals) = match &rows {
        Some(rows) => (
            operation_lines(&state, p, rows, &who.user.id).await?,
            totals(rows, &who.user.id),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let body = StatementPage {
        frame: frame(lang),
        p,
        name: &who.user.display_name,
        phone: phone_for_owner(&who.user.phone),
        from,
        to,
        error,
        csv_href,
        shown: rows.is_some(),
        operations,
        totals,
    }
    .render();
    Ok(page(lang, body, None, chosen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_as_one_sentence_in_each_language() {
        let limit = "Supera el límite diario del Banco Central (80.000,00 CUP); le quedan \
                     1.500,00 CUP hoy.";
        assert_eq!(
            refusal_sentence(ErrorCode::PaymentLimitExceeded, Some(limit), Lang::Es),
            limit
        );
        assert_eq!(
            refusal_sentence(
                ErrorCode::PaymentRecipientIsSelf,
                Some("no puede enviarse dinero a sí mismo: ese número es el suyo"),
                Lang::Es
            ),
            "No puede enviarse dinero a sí mismo: ese número es el suyo."
        );
        assert_eq!(
            refusal_sentence(ErrorCode::PaymentInsufficientFunds, None, Lang::Es),
            "Saldo insuficiente; no se movió dinero."
        );
        assert_eq!(
            refusal_sentence(ErrorCode::PaymentInsufficientFunds, Some("saldo"), Lang::En),
            "Insufficient funds; no money moved."
        );
    }

    #[test]
    fn a_select_always_has_one_choice() {
        let picked = choices([("CUP", "CUP"), ("USD", "USD")], "usd");
        assert_eq!(
            picked.iter().map(|c| c.selected).collect::<Vec<_>>(),
            [false, true]
        );
        let defaulted = choices([("CUP", "CUP"), ("USD", "USD")], "EUR");
        assert!(defaulted[0].selected && !defaulted[1].selected);
    }

    #[test]
    fn keys_differ_and_are_valid() {
        let (first, second) = (fresh_key(), fresh_key());
        assert_ne!(first, second);
        assert_eq!(parse_idempotency_key(&first), Some(first.clone()));
        assert_eq!(parse_idempotency_key("  "), None);
        assert_eq!(parse_idempotency_key("con espacio"), None);
    }
}
