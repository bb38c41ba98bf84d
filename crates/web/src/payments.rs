//! Pagos for people: wallets, person-to-person transfers, cash in and out at a bank, the
//! operations list. Money moves only in the ledger, as one linked chain per operation
//! (`ceiba_payments::plan`); this module is the saga around it:
//!
//! 1. parse and check the request (recipient, amount, currency), open wallets on first use;
//! 2. record the operation as `pending` with its idempotency key, after checking the
//!    person-to-person limits and the person's own ones under the turn every beginning takes
//!    (`Db::begin_payment`, written in batches with the requests arriving at once);
//! 3. submit the chain to the ledger (ids derive from the operation id, so a retry is
//!    idempotent there too);
//! 4. record the outcome and queue the SMS messages in one transaction (`Db::finish_payment`).
//!
//! A crash or a lost answer between 2 and 4 leaves a `pending` row; the same request with the
//! same `Idempotency-Key` resumes at 3, and so does the recovery sweep (`settle_stale`).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use ceiba_identity::PhoneNumber;
use ceiba_ledger::{AccountId, NewTransfer};
use ceiba_payments::{
    Currency, FeeSchedule, Limits, Money, OperationKind, PersonalLimits, ReceiptCode, Usage,
    WalletCaps, accounts, plan,
};
use ceiba_store::{
    BeginPayment, Finish, LedgerEngine, LimitContext, LimitWindows, NewOperation, OperationRow,
    OperationStatus, UserRow, UserStatus,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::{Authenticated, Authorized, BankOperator};
use crate::json::ApiJson;
use crate::problem::{ApiError, ErrorCode, Problem};

/// Longest idempotency key accepted.
pub(crate) const IDEMPOTENCY_KEY_CHARS_MAX: usize = 255;
/// Longest note a person may attach to a transfer.
const NOTE_CHARS_MAX: usize = 140;
const OPERATIONS_PAGE_DEFAULT: u32 = 20;

/// How Pagos is configured: the Central Bank's limits, wallet caps, fees, the key that makes
/// receipt codes, the time zone where days and months begin, how long a payment to a biller is
/// held before it reverses by itself, and what top-ups are sold.
#[derive(Debug, Clone)]
pub struct PaymentSettings {
    pub limits: Limits,
    pub caps: WalletCaps,
    pub fees: FeeSchedule,
    pub receipt_key: [u8; 32],
    pub time_zone: jiff::tz::TimeZone,
    /// Seconds a payment to a biller stays held waiting for the biller's answer; then the
    /// ledger gives the money back (see `bills.rs`). Never 0.
    pub hold_timeout_s: u32,
    pub top_ups: crate::bills::TopUpSettings,
    /// Seconds of one settlement window between the banks and Ceiba (see `settlement.rs`); a
    /// day is a whole number of them. An hour unless configured.
    pub settlement_window_s: u32,
}

impl PaymentSettings {
    /// Instruction 26/2022 limits, the launch caps, no fees, Havana time.
    pub fn standard(receipt_key: [u8; 32]) -> PaymentSettings {
        PaymentSettings {
            limits: Limits::central_bank(),
            caps: WalletCaps::default_caps(),
            fees: FeeSchedule::none(),
            receipt_key,
            time_zone: jiff::tz::TimeZone::get("America/Havana")
                .expect("the bundled time zone database knows Havana"),
            hold_timeout_s: crate::bills::HOLD_TIMEOUT_S_DEFAULT,
            top_ups: crate::bills::TopUpSettings::standard(),
            settlement_window_s: 3_600,
        }
    }

    /// Where the current day and month began in the configured time zone.
    pub fn windows(&self, now_ms: i64) -> LimitWindows {
        let now = jiff::Timestamp::from_millisecond(now_ms)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(self.time_zone.clone());
        let start_of = |date: jiff::civil::Date| {
            date.to_zoned(self.time_zone.clone())
                .map_or(now_ms, |zoned| zoned.timestamp().as_millisecond())
        };
        LimitWindows {
            day_start_ms: start_of(now.date()),
            month_start_ms: start_of(now.date().first_of_month()),
        }
    }
}

/// The key that makes receipt codes, derived from the server's secrets key so that it needs no
/// file of its own and differs from every other use of that key.
pub fn derive_receipt_key(secrets_key: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"ceiba/recibos/v1\0");
    hasher.update(secrets_key);
    hasher.finalize().into()
}

pub(crate) fn engine(state: &AppState) -> Result<&LedgerEngine, ApiError> {
    state.ledger.as_ref().ok_or_else(|| {
        ApiError::with_detail(
            ErrorCode::LedgerUnavailable,
            "este servidor no tiene el libro mayor en marcha",
        )
    })
}

pub(crate) fn ledger_unavailable(error: &ceiba_store::LedgerError) -> ApiError {
    let code = match error {
        ceiba_store::LedgerError::NotWriter => ErrorCode::LedgerNotWriter,
        _ => ErrorCode::LedgerUnavailable,
    };
    ApiError::with_detail(code, error.to_string())
}

/// Opens the ledger accounts every operation needs once: fees, suspense, cap issuers and the
/// banks' settlement accounts. Idempotent.
pub(crate) async fn ensure_operator_accounts(engine: &LedgerEngine) -> Result<(), ApiError> {
    let open = engine
        .read()
        .state
        .account(accounts::cap_issuer(Currency::Cup))
        .is_some();
    if open {
        return Ok(());
    }
    engine
        .create_accounts(accounts::operator_accounts())
        .await
        .map_err(|error| ledger_unavailable(&error))?;
    Ok(())
}

/// Opens a person's wallet in `currency` on first use: the wallet and its cap headroom on the
/// ledger, its record, then the headroom funded up to the cap. Idempotent (ids derive from
/// person and currency), and whole once the funding landed: that is what is checked, so a
/// crash between the steps is finished by the next call instead of leaving a wallet that can
/// receive nothing.
pub(crate) async fn ensure_wallet(
    state: &AppState,
    engine: &LedgerEngine,
    user_id: &str,
    currency: Currency,
) -> Result<(), ApiError> {
    let funded = engine
        .read()
        .state
        .account(accounts::headroom(user_id, currency))
        .is_some_and(|headroom| headroom.balances.credits_posted > 0);
    if funded {
        return Ok(());
    }
    ensure_operator_accounts(engine).await?;
    engine
        .create_accounts(accounts::wallet_accounts(user_id, currency).to_vec())
        .await
        .map_err(|error| ledger_unavailable(&error))?;
    let wallet = accounts::wallet(user_id, currency);
    state
        .db
        .record_wallet(
            user_id,
            currency.code(),
            &wallet.to_string(),
            state.clock.now_ms(),
        )
        .await?;
    let funding = plan::headroom_funding(
        user_id,
        currency,
        state.payments.caps.cap(currency),
        plan::wallet_opening_operation(user_id, currency),
    );
    engine
        .create_transfers(vec![funding])
        .await
        .map_err(|error| ledger_unavailable(&error))?;
    Ok(())
}

/// What a person may spend now: posted credits less posted and pending debits.
pub(crate) fn available(engine: &LedgerEngine, account: AccountId) -> u64 {
    engine.read().state.account(account).map_or(0, |account| {
        let b = account.balances;
        let available = b
            .credits_posted
            .saturating_sub(b.debits_posted)
            .saturating_sub(b.debits_pending);
        u64::try_from(available).unwrap_or(u64::MAX)
    })
}

/// One currency of a wallet.
#[derive(Debug, Serialize, ToSchema)]
pub struct WalletBalance {
    pub currency: &'static str,
    /// What can be spent now, in minor units (centavos).
    pub available_minor: u64,
    /// Reserved by operations not yet settled.
    pub pending_minor: u64,
    /// The most the wallet may hold.
    pub cap_minor: u64,
    /// `available_minor` for people: "1.234,50 CUP".
    pub available: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletView {
    pub phone: String,
    pub name: String,
    pub balances: Vec<WalletBalance>,
}

/// The signed-in person's wallet: balance per currency (CUP and USD open on first use).
#[utoipa::path(get, path = "/api/v1/payments/wallet", tag = "pagos",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Saldos del monedero", body = WalletView),
        (status = 401, description = "Sin sesión", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn wallet(
    who: Authenticated,
    State(state): State<AppState>,
) -> Result<Json<WalletView>, ApiError> {
    Ok(Json(WalletView {
        phone: who.user.phone.clone(),
        name: who.user.display_name.clone(),
        balances: wallet_balances(&state, &who.user.id).await?,
    }))
}

/// A person's balances in CUP and USD, opening the wallets on first use; for every channel.
pub async fn wallet_balances(
    state: &AppState,
    user_id: &str,
) -> Result<Vec<WalletBalance>, ApiError> {
    let engine = engine(state)?;
    let mut balances = Vec::new();
    for currency in [Currency::Cup, Currency::Usd] {
        ensure_wallet(state, engine, user_id, currency).await?;
        balances.push(balance_of(state, engine, user_id, currency));
    }
    Ok(balances)
}

fn balance_of(
    state: &AppState,
    engine: &LedgerEngine,
    user_id: &str,
    currency: Currency,
) -> WalletBalance {
    let account = accounts::wallet(user_id, currency);
    let pending = engine.read().state.account(account).map_or(0, |account| {
        u64::try_from(account.balances.debits_pending).unwrap_or(u64::MAX)
    });
    let available_minor = available(engine, account);
    WalletBalance {
        currency: currency.code(),
        available_minor,
        pending_minor: pending,
        cap_minor: state.payments.caps.cap(currency),
        available: Money::from_minor(available_minor, currency).to_string(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecipientQuery {
    /// Cuban mobile number, e.g. +53 5123 4567.
    pub phone: String,
}

/// Who would receive a transfer to this number, shown before sending so the person can check it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientView {
    pub phone: String,
    pub name: String,
}

/// The active account `payer` would send to at `phone`, refusing an unknown number or their own
/// (for every channel: the API, the pages and USSD).
pub(crate) async fn recipient(
    state: &AppState,
    phone: &str,
    payer: &UserRow,
) -> Result<UserRow, ApiError> {
    let payee = active_person_by_phone(state, phone).await?;
    if payee.id == payer.id {
        return Err(ApiError::with_detail(
            ErrorCode::PaymentRecipientIsSelf,
            "no puede enviarse dinero a sí mismo: ese número es el suyo",
        ));
    }
    Ok(payee)
}

/// The active person with this phone number, or a refusal naming the number as typed.
async fn active_person_by_phone(state: &AppState, phone: &str) -> Result<UserRow, ApiError> {
    let parsed = PhoneNumber::parse(phone)
        .map_err(|error| ApiError::with_detail(ErrorCode::ValidationFailed, error.to_string()))?;
    state
        .db
        .user_by_phone(&parsed)
        .await?
        .filter(|user| user.status == UserStatus::Active)
        .ok_or_else(|| {
            ApiError::with_detail(
                ErrorCode::PaymentRecipientUnknown,
                format!(
                    "no hay ninguna cuenta activa con ese número de teléfono ({})",
                    parsed.as_e164()
                ),
            )
        })
}

/// Looks a recipient up by phone number.
#[utoipa::path(get, path = "/api/v1/payments/recipients", tag = "pagos",
    security(("bearer" = [])),
    params(RecipientQuery),
    responses(
        (status = 200, description = "El destinatario", body = RecipientView),
        (status = 422, description = "Número mal escrito, sin cuenta activa, o el propio", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn find_recipient(
    who: Authenticated,
    State(state): State<AppState>,
    query: Result<Query<RecipientQuery>, QueryRejection>,
) -> Result<Json<RecipientView>, ApiError> {
    let Query(query) = query
        .map_err(|rejection| ApiError::with_detail(ErrorCode::BadRequest, rejection.body_text()))?;
    let payee = recipient(&state, &query.phone, &who.user).await?;
    Ok(Json(RecipientView {
        phone: payee.phone,
        name: payee.display_name,
    }))
}

pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .and_then(|key| parse_idempotency_key(key.trim_matches('"')))
        .ok_or_else(|| {
            ApiError::with_detail(
                ErrorCode::BadRequest,
                format!(
                    "la cabecera Idempotency-Key debe tener entre 1 y {IDEMPOTENCY_KEY_CHARS_MAX} \
                     caracteres ASCII visibles"
                ),
            )
        })?;
    Ok(Some(key))
}

/// An idempotency key as the header or a form's hidden field carries it: 1 to 255 visible ASCII
/// characters, spaces around it dropped.
pub(crate) fn parse_idempotency_key(text: &str) -> Option<String> {
    let key = text.trim();
    (!key.is_empty()
        && key.chars().count() <= IDEMPOTENCY_KEY_CHARS_MAX
        && key.chars().all(|c| c.is_ascii_graphic()))
    .then(|| key.to_owned())
}

pub(crate) fn parse_currency(code: &str) -> Result<Currency, ApiError> {
    Currency::parse(code).map_err(|error| {
        ApiError::with_detail(ErrorCode::PaymentInvalidCurrency, error.to_string())
    })
}

pub(crate) fn parse_money(text: &str, currency: Currency) -> Result<Money, ApiError> {
    Money::parse(text, currency)
        .map_err(|error| ApiError::with_detail(ErrorCode::PaymentInvalidAmount, error.to_string()))
}

pub(crate) fn parse_note(note: Option<&str>) -> Result<String, ApiError> {
    let note = note.unwrap_or("").trim();
    if note.chars().count() > NOTE_CHARS_MAX || note.chars().any(char::is_control) {
        return Err(ApiError::with_detail(
            ErrorCode::ValidationFailed,
            format!("la nota admite hasta {NOTE_CHARS_MAX} caracteres, sin saltos de línea"),
        ));
    }
    Ok(note.to_owned())
}

pub(crate) fn request_hash(parts: &[&str]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize().to_vec()
}

/// An amount in a request: a decimal string in pesos ("12.50" or "12,50"; a JSON number is
/// accepted too).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AmountInput {
    Text(String),
    Number(serde_json::Number),
}

impl AmountInput {
    pub fn text(&self) -> String {
        match self {
            AmountInput::Text(text) => text.clone(),
            AmountInput::Number(number) => number.to_string(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    /// The recipient's Cuban mobile number.
    pub to_phone: String,
    /// CUP or USD.
    pub currency: String,
    /// In pesos (or dollars), at most two decimals: "150", "12.50".
    #[schema(value_type = String)]
    pub amount: AmountInput,
    /// Up to 140 characters the recipient sees.
    pub note: Option<String>,
}

/// An operation as its payer or payee sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperationView {
    pub id: String,
    /// `person_to_person`, `cash_in`, `cash_out` …
    pub kind: String,
    /// `pending`, `completed` or `refused`.
    pub status: &'static str,
    /// `sent` or `received`, from the point of view of who asks.
    pub direction: &'static str,
    pub currency: String,
    pub amount_minor: u64,
    pub fee_minor: u64,
    /// The amount for people: "1.234,50 CUP".
    pub amount: String,
    pub counterparty: String,
    pub note: String,
    /// The verification code printed on the receipt, once completed.
    pub receipt_code: Option<String>,
    pub refusal_code: Option<String>,
    pub refusal_detail: Option<String>,
    pub created_at_ms: i64,
    pub finished_at_ms: Option<i64>,
}

/// Whether `row` is, for `viewer`, money that left: the payer (or the operator who acted) and the
/// person whose wallet a cash-out emptied.
pub fn sent_by(row: &OperationRow, viewer: &str) -> bool {
    // A refund is a shop's money coming back to the person who paid it.
    if row.kind == OperationKind::Refund.as_str() {
        return false;
    }
    // A deposit a person made from their own linked bank account is money that came in.
    if row.kind == OperationKind::CashIn.as_str()
        && row.counterparty_user_id.as_deref() == Some(viewer)
    {
        return false;
    }
    row.user_id == viewer
        || (row.kind == OperationKind::CashOut.as_str()
            && row.counterparty_user_id.as_deref() == Some(viewer))
}

/// The other parties of a person's operations as that person knows them: what was recorded
/// (the payee's name, or the bank), except for the payee of a transfer, who reads the payer's
/// name. Each payer is looked up once.
#[derive(Debug, Default)]
pub struct Counterparties {
    payers: std::collections::HashMap<String, String>,
}

impl Counterparties {
    pub async fn of(
        &mut self,
        state: &AppState,
        row: &OperationRow,
        viewer: &str,
    ) -> Result<String, ApiError> {
        if row.kind == OperationKind::Payout.as_str() && row.user_id != viewer {
            // The recipient of a payout knows its payer by the bank's code or the shop's name.
            return Ok(crate::payouts::payer_name(state, &row.counterparty_label).await);
        }
        if row.user_id == viewer || row.kind != OperationKind::PersonToPerson.as_str() {
            return Ok(row.counterparty_label.clone());
        }
        if let Some(name) = self.payers.get(&row.user_id) {
            return Ok(name.clone());
        }
        let name = state.db.user_by_id(&row.user_id).await?.map_or_else(
            || row.counterparty_label.clone(),
            |payer| payer.display_name,
        );
        self.payers.insert(row.user_id.clone(), name.clone());
        Ok(name)
    }

    /// [`operation_view`] with the other party as `viewer` knows them.
    pub async fn view(
        &mut self,
        state: &AppState,
        row: &OperationRow,
        viewer: &str,
    ) -> Result<OperationView, ApiError> {
        let mut view = operation_view(row, viewer);
        view.counterparty = self.of(state, row, viewer).await?;
        Ok(view)
    }
}

/// An operation as `viewer` sees it; `counterparty` is what was recorded (see
/// [`Counterparties`] for the payee's view of a transfer).
pub fn operation_view(row: &OperationRow, viewer: &str) -> OperationView {
    let currency = Currency::parse(&row.currency).unwrap_or(Currency::Cup);
    let sent = sent_by(row, viewer);
    OperationView {
        id: row.id.clone(),
        kind: row.kind.clone(),
        status: row.status.as_str(),
        direction: if sent { "sent" } else { "received" },
        currency: row.currency.clone(),
        amount_minor: row.amount_minor,
        fee_minor: if sent { row.fee_minor } else { 0 },
        amount: Money::from_minor(row.amount_minor, currency).to_string(),
        counterparty: row.counterparty_label.clone(),
        note: row.note.clone(),
        receipt_code: row.receipt_code.clone(),
        refusal_code: row.refusal_code.clone(),
        refusal_detail: row.refusal_detail.clone(),
        created_at_ms: row.created_at_ms,
        finished_at_ms: row.finished_at_ms,
    }
}

/// The ledger legs of a recorded operation, rebuilt from its row (so a retry or the recovery
/// sweep submits exactly what the first attempt did).
fn legs_for(row: &OperationRow) -> Result<Vec<NewTransfer>, ApiError> {
    let corrupt = || {
        tracing::error!(operation = %row.id, "an operation row cannot be planned");
        ApiError::new(ErrorCode::Internal)
    };
    let id: u128 = row.id.parse().map_err(|_| corrupt())?;
    let currency = Currency::parse(&row.currency).map_err(|_| corrupt())?;
    let amount = Money::from_minor(row.amount_minor, currency);
    let fee = Money::from_minor(row.fee_minor, currency);
    let counterparty = row.counterparty_user_id.as_deref().ok_or_else(corrupt)?;
    let kind = OperationKind::parse(&row.kind).ok_or_else(corrupt)?;
    Ok(match kind {
        OperationKind::PersonToPerson => {
            plan::person_to_person(id, &row.user_id, counterparty, amount, fee)
        }
        OperationKind::CashIn | OperationKind::CashOut => {
            let bank = ceiba_payments::bank(&row.counterparty_label).ok_or_else(corrupt)?;
            if kind == OperationKind::CashIn {
                plan::cash_in(id, bank, counterparty, amount)
            } else {
                plan::cash_out(id, bank, counterparty, amount)
            }
        }
        OperationKind::Payout => {
            let from = crate::payouts::source_account(&row.counterparty_label, currency)
                .ok_or_else(corrupt)?;
            plan::payout(id, from, counterparty, amount)
        }
        _ => return Err(corrupt()),
    })
}

/// Submits a pending operation's chain to the ledger and records its outcome with its SMS.
/// `known`: people the caller already read (payer, payee), spared a second read for the SMS.
async fn execute(
    state: &AppState,
    engine: &LedgerEngine,
    row: OperationRow,
    known: &[&UserRow],
) -> Result<OperationRow, ApiError> {
    if row.status != OperationStatus::Pending {
        return Ok(row);
    }
    let legs = legs_for(&row)?;
    let results = engine
        .create_transfers(legs.clone())
        .await
        .map_err(|error| ledger_unavailable(&error))?;
    let now_ms = state.clock.now_ms();
    let finished = match plan::refusal(&legs, &results) {
        None => {
            let currency = Currency::parse(&row.currency).unwrap_or(Currency::Cup);
            let amount = Money::from_minor(row.amount_minor, currency);
            let kind = OperationKind::parse(&row.kind).unwrap_or(OperationKind::PersonToPerson);
            let id: u128 = row.id.parse().unwrap_or(0);
            let receipt = ReceiptCode::compute(
                &state.payments.receipt_key,
                id,
                kind,
                amount,
                row.created_at_ms,
            );
            let messages =
                messages_for(state, engine, &row, amount, receipt.as_str(), known).await?;
            let messages: Vec<(&str, &str)> = messages
                .iter()
                .map(|(phone, body)| (phone.as_str(), body.as_str()))
                .collect();
            state
                .db
                .finish_payment(
                    &row.id,
                    Finish::Completed {
                        receipt_code: receipt.as_str(),
                    },
                    &messages,
                    now_ms,
                )
                .await?
        }
        Some(refusal) => {
            let code = refusal_code(&refusal);
            state
                .db
                .finish_payment(
                    &row.id,
                    Finish::Refused {
                        code: code.name(),
                        detail: &refusal.to_string(),
                    },
                    &[],
                    now_ms,
                )
                .await?
        }
    };
    Ok(finished)
}

pub(crate) fn refusal_code(refusal: &plan::PlanRefusal) -> ErrorCode {
    match refusal {
        plan::PlanRefusal::InsufficientFunds => ErrorCode::PaymentInsufficientFunds,
        plan::PlanRefusal::PayeeWalletCap => ErrorCode::PaymentRecipientWalletFull,
        _ => ErrorCode::PaymentRefused,
    }
}

/// The SMS of a completed operation: to the payer and the payee, with the amount, the other
/// party, the balance after and the receipt code; never a link, never a request for the PIN.
pub(crate) async fn messages_for(
    state: &AppState,
    engine: &LedgerEngine,
    row: &OperationRow,
    amount: Money,
    receipt: &str,
    known: &[&UserRow],
) -> Result<Vec<(String, String)>, ApiError> {
    let currency = amount.currency;
    let mut messages = Vec::new();
    let Some(person_id) = row.counterparty_user_id.as_deref() else {
        return Ok(messages);
    };
    let Some(person) = user_by_id(state, person_id, known).await? else {
        return Ok(messages);
    };
    let person_balance = Money::from_minor(
        available(engine, accounts::wallet(person_id, currency)),
        currency,
    );
    match OperationKind::parse(&row.kind) {
        Some(OperationKind::PersonToPerson) => {
            if let Some(payer) = user_by_id(state, &row.user_id, known).await? {
                let payer_balance = Money::from_minor(
                    available(engine, accounts::wallet(&payer.id, currency)),
                    currency,
                );
                messages.push((
                    payer.phone.clone(),
                    format!(
                        "Ceiba Pagos: envio {} a {}. Saldo {}. Recibo {receipt}",
                        amount.ascii(),
                        person.display_name,
                        payer_balance.ascii()
                    ),
                ));
                messages.push((
                    person.phone.clone(),
                    format!(
                        "Ceiba Pagos: recibio {} de {}. Saldo {}. Recibo {receipt}",
                        amount.ascii(),
                        payer.display_name,
                        person_balance.ascii()
                    ),
                ));
            }
        }
        Some(OperationKind::CashIn) => messages.push((
            person.phone.clone(),
            format!(
                "Ceiba Pagos: deposito de {} en {}. Saldo {}. Recibo {receipt}",
                amount.ascii(),
                row.counterparty_label,
                person_balance.ascii()
            ),
        )),
        Some(OperationKind::Payout) => {
            let payer = crate::payouts::payer_name(state, &row.counterparty_label).await;
            messages.push((
                person.phone.clone(),
                format!(
                    "Ceiba Pagos: recibio {} de {payer}{}. Saldo {}. Recibo {receipt}",
                    amount.ascii(),
                    if row.note.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", row.note)
                    },
                    person_balance.ascii()
                ),
            ));
        }
        Some(OperationKind::CashOut) => messages.push((
            person.phone.clone(),
            format!(
                "Ceiba Pagos: extraccion de {} en {}. Saldo {}. Recibo {receipt}",
                amount.ascii(),
                row.counterparty_label,
                person_balance.ascii()
            ),
        )),
        _ => {}
    }
    Ok(messages)
}

/// The answer for an operation: 201 with the operation when completed, the refusal's problem
/// when refused; the same answer for every retry with the same key.
pub fn answer(
    row: &OperationRow,
    viewer: &str,
) -> Result<(StatusCode, Json<OperationView>), ApiError> {
    match row.status {
        OperationStatus::Completed => Ok((StatusCode::CREATED, Json(operation_view(row, viewer)))),
        OperationStatus::Pending => Err(ApiError::new(ErrorCode::PaymentInProgress)),
        OperationStatus::Refused => {
            let code = row
                .refusal_code
                .as_deref()
                .and_then(ErrorCode::from_name)
                .unwrap_or(ErrorCode::PaymentRefused);
            Err(ApiError::with_detail(
                code,
                row.refusal_detail.clone().unwrap_or_default(),
            ))
        }
    }
}

/// A person by id: from `known` when the caller already read them, else from storage.
async fn user_by_id(
    state: &AppState,
    id: &str,
    known: &[&UserRow],
) -> Result<Option<UserRow>, ApiError> {
    match known.iter().find(|user| user.id == id) {
        Some(user) => Ok(Some((*user).clone())),
        None => Ok(state.db.user_by_id(id).await?),
    }
}

/// Begins (or finds, by idempotency key) an operation and carries it through.
pub(crate) async fn run_operation(
    state: &AppState,
    engine: &LedgerEngine,
    new: &NewOperation<'_>,
    known: &[&UserRow],
    check: impl FnOnce(&LimitContext) -> Result<(), String> + Send + 'static,
) -> Result<OperationRow, ApiError> {
    let windows = state.payments.windows(new.created_at_ms);
    let row = match state.db.begin_payment(new, windows, check).await? {
        BeginPayment::Started(row) | BeginPayment::Existing(row) => row,
        BeginPayment::KeyReused(_) => {
            return Err(ApiError::new(ErrorCode::PaymentIdempotencyKeyReused));
        }
        BeginPayment::Refused(detail) => {
            return Err(ApiError::with_detail(
                ErrorCode::PaymentLimitExceeded,
                detail,
            ));
        }
    };
    execute(state, engine, row, known).await
}

/// A person-to-person transfer as any channel (API, pages, USSD) asks for it: text as typed.
#[derive(Debug, Clone, Copy)]
pub struct TransferRequest<'a> {
    pub to_phone: &'a str,
    pub currency: &'a str,
    pub amount: &'a str,
    pub note: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
}

/// A transfer checked but not sent: whom it reaches and what it costs.
#[derive(Debug, Clone)]
pub struct TransferPreview {
    pub payee: UserRow,
    pub amount: Money,
    pub fee: Money,
    pub note: String,
}

/// What is refused before anything is recorded: currency, amount, note, recipient.
async fn checked_transfer(
    state: &AppState,
    payer: &UserRow,
    request: &TransferRequest<'_>,
) -> Result<TransferPreview, ApiError> {
    let currency = parse_currency(request.currency)?;
    let amount = parse_money(request.amount, currency)?;
    let note = parse_note(request.note)?;
    let payee = recipient(state, request.to_phone, payer).await?;
    let fee = state
        .payments
        .fees
        .fee(OperationKind::PersonToPerson, amount);
    Ok(TransferPreview {
        payee,
        amount,
        fee,
        note,
    })
}

async fn personal_limits(
    state: &AppState,
    user_id: &str,
    currency: Currency,
) -> Result<Option<PersonalLimits>, ApiError> {
    Ok(state
        .db
        .personal_limits(user_id, currency.code())
        .await?
        .map(personal_of))
}

fn personal_of(row: ceiba_store::PersonalLimitsRow) -> PersonalLimits {
    PersonalLimits {
        daily_minor: row.daily_minor,
        monthly_minor: row.monthly_minor,
    }
}

/// Checks a transfer as [`transfer_to_person`] will, recording and moving nothing: the
/// recipient (unknown, one's own number), currency, amount and note, the limits with what is
/// left of them, and the available balance. For a channel's confirmation step, which shows the
/// recipient's name before anything is sent; sending checks all of it again, under the locks.
pub async fn preview_transfer(
    state: &AppState,
    payer: &UserRow,
    request: &TransferRequest<'_>,
) -> Result<TransferPreview, ApiError> {
    let engine = engine(state)?;
    let preview = checked_transfer(state, payer, request).await?;
    let currency = preview.amount.currency;
    let personal = personal_limits(state, &payer.id, currency).await?;
    let windows = state.payments.windows(state.clock.now_ms());
    let sent = state
        .db
        .sent_usage(&payer.id, currency.code(), windows)
        .await?;
    let usage = Usage {
        today_minor: sent.today_minor,
        month_minor: sent.month_minor,
    };
    ceiba_payments::check_person_to_person(
        &state.payments.limits,
        personal.as_ref(),
        usage,
        preview.amount,
    )
    .map_err(|refusal| {
        ApiError::with_detail(ErrorCode::PaymentLimitExceeded, refusal.to_string())
            .with_english(refusal.english())
    })?;
    ensure_wallet(state, engine, &payer.id, currency).await?;
    let balance = Money::from_minor(
        available(engine, accounts::wallet(&payer.id, currency)),
        currency,
    );
    let total = preview
        .amount
        .checked_add(preview.fee)
        .ok_or_else(|| ApiError::new(ErrorCode::PaymentInvalidAmount))?;
    if balance.minor < total.minor {
        return Err(ApiError::with_detail(
            ErrorCode::PaymentInsufficientFunds,
            format!("saldo insuficiente: tiene {balance} disponibles y hacen falta {total}"),
        )
        .with_english(format!(
            "Insufficient funds: you have {} available and {} is needed.",
            balance.english(),
            total.english()
        )));
    }
    Ok(preview)
}

/// Sends money from `payer` to the person with `request.to_phone`: the whole saga, for every
/// channel. A refusal before anything is recorded is an error; one decided by the ledger is a
/// `refused` operation (see [`answer`]).
pub async fn transfer_to_person(
    state: &AppState,
    payer: &UserRow,
    request: &TransferRequest<'_>,
) -> Result<OperationRow, ApiError> {
    let engine = engine(state)?;
    let TransferPreview {
        payee,
        amount,
        fee,
        note,
    } = checked_transfer(state, payer, request).await?;
    let currency = amount.currency;
    ensure_wallet(state, engine, &payer.id, currency).await?;
    ensure_wallet(state, engine, &payee.id, currency).await?;
    let kind = OperationKind::PersonToPerson;
    let id = rand::random::<u128>().max(1).to_string();
    let minor = amount.minor.to_string();
    let hash = request_hash(&[kind.as_str(), &payee.phone, currency.code(), &minor, &note]);
    let new = NewOperation {
        id: &id,
        user_id: &payer.id,
        idempotency_key: request.idempotency_key,
        request_hash: &hash,
        kind: kind.as_str(),
        currency: currency.code(),
        amount_minor: amount.minor,
        fee_minor: fee.minor,
        counterparty_user_id: Some(&payee.id),
        counterparty_label: &payee.display_name,
        note: &note,
        counts_toward_limits: true,
        created_at_ms: state.clock.now_ms(),
    };
    let limits = state.payments.limits;
    // The refusal crosses the store as its Spanish sentence; its English waits here.
    let english = Arc::new(std::sync::Mutex::new(None::<String>));
    let english_of_refusal = english.clone();
    // Counted with the person's lower limits under the turn in which the operation begins.
    run_operation(state, engine, &new, &[payer, &payee], move |context| {
        let usage = Usage {
            today_minor: context.sent.today_minor,
            month_minor: context.sent.month_minor,
        };
        let personal = context.personal.map(personal_of);
        ceiba_payments::check_person_to_person(&limits, personal.as_ref(), usage, amount).map_err(
            |refusal| {
                if let Ok(mut slot) = english_of_refusal.lock() {
                    *slot = Some(refusal.english());
                }
                refusal.to_string()
            },
        )
    })
    .await
    .map_err(|error| {
        let taken = english.lock().ok().and_then(|mut slot| slot.take());
        match taken {
            Some(text) if error.code == ErrorCode::PaymentLimitExceeded => error.with_english(text),
            _ => error,
        }
    })
}

/// Sends money to another person by phone number. Send an `Idempotency-Key` header: a retry
/// with the same key (after a timeout or a lost answer) moves the money at most once and gets
/// the same answer.
#[utoipa::path(post, path = "/api/v1/payments/transfers", tag = "pagos",
    security(("bearer" = [])),
    request_body = SendBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Clave única de la operación")),
    responses(
        (status = 201, description = "Enviado", body = OperationView),
        (status = 409, description = "La operación con esa clave aún está en curso", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rechazado: importe, destinatario, saldo o límite", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "El libro mayor no está disponible; reintente con la misma clave", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn send_to_person(
    who: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SendBody>,
) -> Result<(StatusCode, Json<OperationView>), ApiError> {
    let key = idempotency_key(&headers)?;
    let amount = body.amount.text();
    let request = TransferRequest {
        to_phone: &body.to_phone,
        currency: &body.currency,
        amount: &amount,
        note: body.note.as_deref(),
        idempotency_key: key.as_deref(),
    };
    let row = transfer_to_person(&state, &who.user, &request).await?;
    answer(&row, &who.user.id)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CashBody {
    /// The wallet's owner, by phone number.
    pub phone: String,
    /// BPA, BANDEC or BANMET.
    pub bank: String,
    pub currency: String,
    #[schema(value_type = String)]
    pub amount: AmountInput,
}

async fn cash(
    operator: &Authenticated,
    state: &AppState,
    headers: &HeaderMap,
    body: &CashBody,
    kind: OperationKind,
) -> Result<(StatusCode, Json<OperationView>), ApiError> {
    let key = idempotency_key(headers)?;
    let amount = body.amount.text();
    let request = CashRequest {
        phone: &body.phone,
        bank: &body.bank,
        currency: &body.currency,
        amount: &amount,
        idempotency_key: key.as_deref(),
    };
    let row = cash_at_bank(state, &operator.user, &request, kind).await?;
    answer(&row, &operator.user.id)
}

/// Cash in or out at a bank's counter as an operator asks for it: text as typed.
#[derive(Debug, Clone, Copy)]
pub struct CashRequest<'a> {
    /// The wallet's owner.
    pub phone: &'a str,
    /// BPA, BANDEC or BANMET.
    pub bank: &'a str,
    pub currency: &'a str,
    pub amount: &'a str,
    pub idempotency_key: Option<&'a str>,
}

/// Credits (`CashIn`) or debits (`CashOut`) a person's wallet against a bank's settlement
/// account: the whole saga, for every caller (the API, `ceiba demo seed`). The caller has
/// checked that `operator` is a bank operator.
pub async fn cash_at_bank(
    state: &AppState,
    operator: &UserRow,
    request: &CashRequest<'_>,
    kind: OperationKind,
) -> Result<OperationRow, ApiError> {
    if !matches!(kind, OperationKind::CashIn | OperationKind::CashOut) {
        return Err(ApiError::new(ErrorCode::Internal));
    }
    let engine = engine(state)?;
    let currency = parse_currency(request.currency)?;
    let amount = parse_money(request.amount, currency)?;
    let bank = ceiba_payments::bank(&request.bank.to_ascii_uppercase()).ok_or_else(|| {
        ApiError::with_detail(
            ErrorCode::PaymentUnknownBank,
            format!(
                "«{}» no es un banco participante (BPA, BANDEC, BANMET)",
                request.bank.chars().take(20).collect::<String>()
            ),
        )
    })?;
    let person = active_person_by_phone(state, request.phone).await?;
    ensure_wallet(state, engine, &person.id, currency).await?;
    let id = rand::random::<u128>().max(1).to_string();
    let minor = amount.minor.to_string();
    let hash = request_hash(&[
        kind.as_str(),
        &person.phone,
        bank.code,
        currency.code(),
        &minor,
    ]);
    let new = NewOperation {
        id: &id,
        user_id: &operator.id,
        idempotency_key: request.idempotency_key,
        request_hash: &hash,
        kind: kind.as_str(),
        currency: currency.code(),
        amount_minor: amount.minor,
        fee_minor: 0,
        counterparty_user_id: Some(&person.id),
        counterparty_label: bank.code,
        note: "",
        counts_toward_limits: false,
        created_at_ms: state.clock.now_ms(),
    };
    run_operation(state, engine, &new, &[&person], |_| Ok(())).await
}

/// A bank operator credits a person's wallet with cash received at the bank's counter.
#[utoipa::path(post, path = "/api/v1/payments/cash-in", tag = "pagos",
    security(("bearer" = [])),
    request_body = CashBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Clave única de la operación")),
    responses(
        (status = 403, description = "Sin el rol «Operador bancario» o sin segundo factor en la sesión", body = Problem, content_type = "application/problem+json"),
        (status = 201, description = "Depositado", body = OperationView),
        (status = 422, description = "Rechazado", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cash_in(
    operator: Authorized<BankOperator>,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CashBody>,
) -> Result<(StatusCode, Json<OperationView>), ApiError> {
    cash(
        &operator.who,
        &state,
        &headers,
        &body,
        OperationKind::CashIn,
    )
    .await
}

/// A bank operator debits a person's wallet for cash handed out at the bank's counter.
#[utoipa::path(post, path = "/api/v1/payments/cash-out", tag = "pagos",
    security(("bearer" = [])),
    request_body = CashBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Clave única de la operación")),
    responses(
        (status = 403, description = "Sin el rol «Operador bancario» o sin segundo factor en la sesión", body = Problem, content_type = "application/problem+json"),
        (status = 201, description = "Extraído", body = OperationView),
        (status = 422, description = "Rechazado (saldo insuficiente …)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cash_out(
    operator: Authorized<BankOperator>,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CashBody>,
) -> Result<(StatusCode, Json<OperationView>), ApiError> {
    cash(
        &operator.who,
        &state,
        &headers,
        &body,
        OperationKind::CashOut,
    )
    .await
}

/// One operation of the signed-in person (sent or received).
#[utoipa::path(get, path = "/api/v1/payments/operations/{id}", tag = "pagos",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Identificador de la operación")),
    responses(
        (status = 200, description = "La operación y su estado", body = OperationView),
        (status = 404, description = "No existe o no es suya", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn operation(
    who: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<OperationView>, ApiError> {
    let row = state
        .db
        .payment_operation(&id)
        .await?
        .filter(|row| {
            row.user_id == who.user.id
                || (row.counterparty_user_id.as_deref() == Some(who.user.id.as_str())
                    && row.status == OperationStatus::Completed)
        })
        .ok_or_else(|| ApiError::with_detail(ErrorCode::NotFound, "la operación no existe"))?;
    let view = Counterparties::default()
        .view(&state, &row, &who.user.id)
        .await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OperationsQuery {
    /// Page size, 1 to 500 (default 20).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^-?[0-9]+[.].+$")]
    pub cursor: Option<String>,
    /// Only operations created at or after this moment (ms since the epoch).
    pub from_ms: Option<i64>,
    /// Only operations created before this moment.
    pub to_ms: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OperationsPage {
    pub operations: Vec<OperationView>,
    pub next_cursor: Option<String>,
}

/// The signed-in person's operations, newest first.
#[utoipa::path(get, path = "/api/v1/payments/operations", tag = "pagos",
    security(("bearer" = [])),
    params(OperationsQuery),
    responses(
        (status = 200, description = "Últimas operaciones", body = OperationsPage),
        (status = 400, description = "Parámetros no válidos", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn operations(
    who: Authenticated,
    State(state): State<AppState>,
    query: Result<Query<OperationsQuery>, QueryRejection>,
) -> Result<Json<OperationsPage>, ApiError> {
    let bad = |detail: String| ApiError::with_detail(ErrorCode::BadRequest, detail);
    let Query(query) = query.map_err(|rejection| bad(rejection.body_text()))?;
    let limit = query.limit.unwrap_or(OPERATIONS_PAGE_DEFAULT);
    if !(1..=ceiba_store::OPERATIONS_PAGE_MAX).contains(&limit) {
        return Err(bad(format!(
            "«limit» debe estar entre 1 y {}",
            ceiba_store::OPERATIONS_PAGE_MAX
        )));
    }
    let before = match query.cursor.as_deref() {
        None => None,
        Some(cursor) => {
            let (at, id) = cursor
                .split_once('.')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id)))
                .ok_or_else(|| bad("«cursor» no es un cursor de esta lista".to_owned()))?;
            Some((at, id.to_owned()))
        }
    };
    let rows = state
        .db
        .payment_operations_of(
            &who.user.id,
            query.from_ms.unwrap_or(0),
            query.to_ms.unwrap_or(i64::MAX),
            before.as_ref().map(|(at, id)| (*at, id.as_str())),
            limit,
        )
        .await?;
    let next_cursor = (rows.len() == usize::try_from(limit).unwrap_or(usize::MAX))
        .then(|| {
            rows.last()
                .map(|row| format!("{}.{}", row.created_at_ms, row.id))
        })
        .flatten();
    let mut counterparties = Counterparties::default();
    let mut operations = Vec::with_capacity(rows.len());
    for row in &rows {
        operations.push(counterparties.view(&state, row, &who.user.id).await?);
    }
    Ok(Json(OperationsPage {
        operations,
        next_cursor,
    }))
}

/// Finishes operations left pending (a crash between recording and answering, or a ledger
/// that was unavailable): submits their chain again, which the ledger applies at most once;
/// payments to billers whose hold expired are recorded as reversed, with their SMS.
/// Run by the maintenance loop; returns how many it settled.
pub async fn settle_stale(state: &AppState, older_than_ms: i64) -> Result<usize, ApiError> {
    let engine = engine(state)?;
    let cutoff = state.clock.now_ms().saturating_sub(older_than_ms);
    let stale = state.db.stale_payment_operations(cutoff, 100).await?;
    let mut settled = 0;
    for row in stale {
        let id = row.id.clone();
        // Payments to billers are held first: they go on from where their hold stands, and one
        // whose hold expired is recorded as reversed (see bills.rs).
        let outcome = if crate::bills::pays_a_biller(&row) {
            crate::bills::resume(state, engine, row).await
        } else if let Some(side) =
            crate::bank_accounts::moves_with_a_bank_account(state, &row).await
        {
            // Deposits and withdrawals of linked bank accounts are held too (bank_accounts.rs).
            crate::bank_accounts::resume(state, engine, row, &side).await
        } else if let Some(side) = crate::merchant_payments::pays_a_merchant(state, &row).await {
            crate::merchant_payments::resume(state, engine, row, &side).await
        } else if let Some(side) = crate::merchant_refunds::is_a_refund(state, &row).await {
            crate::merchant_refunds::resume_refund(state, engine, row, &side).await
        } else {
            execute(state, engine, row, &[]).await
        };
        match outcome {
            Ok(row) if row.status == OperationStatus::Pending => {}
            Ok(_) => settled += 1,
            Err(error) => {
                tracing::warn!(operation = %id, code = ?error.code, "a stale operation is still unsettled")
            }
        }
    }
    Ok(settled)
}
