//! Bank accounts people link to their wallet (bank, currency CUP/USD/MLC, alias, a 16-digit
//! account number of which only the last four digits are kept), and the money they move:
//! deposits (bank account → wallet) and withdrawals (wallet → bank account).
//!
//! A linked account is simulated on the ledger by its bank's settlement account in that
//! currency; the bank itself is asked through a [`BankConnector`], the seam where a real bank
//! connection plugs in ([`SimulatedBank`] confirms everything unless a test switches it).
//!
//! # The saga
//! The same as a payment to a biller (see `bills.rs`), around a *hold*:
//! 1. the account must be the person's and linked; the operation is recorded as `pending` with
//!    its idempotency key and the account it uses (`Db::begin_bank_account_operation`);
//! 2. the hold: the cash-in or cash-out legs (`plan::cash_in_hold`, `plan::cash_out_hold`),
//!    pending, expiring after `PaymentSettings::hold_timeout_s`; a withdrawal over the balance
//!    or a deposit over the wallet's cap is refused here and nothing moves;
//! 3. the bank is asked to confirm the debit (deposit) or the credit (withdrawal) of the
//!    person's account; confirmed: posted; refused: voided; no answer: it stays held and the
//!    ledger expires it at its timeout;
//! 4. the outcome is read back from the ledger and recorded with its SMS
//!    (`Db::finish_payment`). The recovery sweep (`payments::settle_stale`) calls [`resume`]
//!    for operations left pending.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use ceiba_ledger::NewTransfer;
use ceiba_payments::{Bank, Currency, HoldState, Money, OperationKind, ReceiptCode, plan};
use ceiba_store::{
    BankAccountOperationRow, BankAccountRow, BeginPayment, Finish, LINKED_BANK_ACCOUNTS_MAX,
    LedgerEngine, LinkBankAccount, NewBankAccount, NewOperation, OperationRow, OperationStatus,
    UserRow,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Authenticated;
use crate::bills::{mark, marked};
use crate::json::ApiJson;
use crate::payments::{
    self, AmountInput, OperationView, available, engine, ensure_wallet, idempotency_key,
    ledger_unavailable, messages_for, operation_view, parse_currency, parse_money, refusal_code,
    request_hash,
};
use crate::problem::{ApiError, ErrorCode, Problem};

pub use ceiba_payments::files::ACCOUNT_NUMBER_DIGITS;
/// Digits of the number kept in the clear.
const VISIBLE_DIGITS: usize = 4;
const ALIAS_CHARS_MAX: usize = 40;
/// The longest wait for a bank's answer; never more than half the hold.
const BANK_ANSWER_WAIT_MAX: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// The connector: where a real bank plugs in.
// ---------------------------------------------------------------------------------------------

/// A movement of a person's bank account, as the bank is asked to confirm it.
#[derive(Debug, Clone, Copy)]
pub struct BankRequest<'a> {
    /// The same for every retry of one operation: a connector must answer a repeated question
    /// the same way (the bank's own idempotency key).
    pub operation_id: &'a str,
    /// BPA, BANDEC, BANMET.
    pub bank_code: &'a str,
    /// The linked account's id in Ceiba.
    pub bank_account_id: &'a str,
    /// «************1234»: the full number is not kept; a real connection identifies the
    /// account by what it registered when the person linked it.
    pub masked_number: &'a str,
    pub amount: Money,
}

/// What a bank said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankAnswer {
    /// The bank moved the money on its side: the hold is posted.
    Confirmed,
    /// The bank refuses, saying why: the hold is voided.
    Refused(String),
    /// No answer (offline, timed out): the hold stays, to be asked again or to expire.
    NoAnswer,
}

/// The seam between Ceiba and the banks' systems. Implementations must be idempotent per
/// `operation_id` and must not block past the wait they are given (they are also cut off).
pub trait BankConnector: Send + Sync + std::fmt::Debug {
    /// A deposit: may the bank debit the person's account for `amount`?
    fn confirm_debit<'a>(
        &'a self,
        request: BankRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = BankAnswer> + Send + 'a>>;

    /// A withdrawal: has the bank credited the person's account with `amount`?
    fn confirm_credit<'a>(
        &'a self,
        request: BankRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = BankAnswer> + Send + 'a>>;
}

/// The banks Ceiba simulates itself (their settlement accounts on the ledger stand for the
/// people's accounts): each confirms at once, unless marked offline (never answers) or
/// refusing, by bank code. The marks are a switch for tests and demos.
#[derive(Debug, Default)]
pub struct SimulatedBank {
    offline: Mutex<BTreeSet<String>>,
    refusing: Mutex<BTreeSet<String>>,
}

impl SimulatedBank {
    pub fn new() -> SimulatedBank {
        SimulatedBank::default()
    }

    /// Marks a bank offline (it never answers) or back online.
    pub fn set_offline(&self, bank_code: &str, offline: bool) {
        mark(&self.offline, bank_code, offline);
    }

    /// Marks a bank as refusing every movement, or confirming again.
    pub fn set_refusing(&self, bank_code: &str, refusing: bool) {
        mark(&self.refusing, bank_code, refusing);
    }

    fn answer(&self, request: &BankRequest<'_>) -> BankAnswer {
        if marked(&self.offline, request.bank_code) {
            BankAnswer::NoAnswer
        } else if marked(&self.refusing, request.bank_code) {
            BankAnswer::Refused("el banco no autoriza la operación en este momento".to_owned())
        } else {
            BankAnswer::Confirmed
        }
    }
}

impl BankConnector for SimulatedBank {
    fn confirm_debit<'a>(
        &'a self,
        request: BankRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = BankAnswer> + Send + 'a>> {
        Box::pin(std::future::ready(self.answer(&request)))
    }

    fn confirm_credit<'a>(
        &'a self,
        request: BankRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = BankAnswer> + Send + 'a>> {
        Box::pin(std::future::ready(self.answer(&request)))
    }
}

// ---------------------------------------------------------------------------------------------
// Linked accounts
// ---------------------------------------------------------------------------------------------

/// A linked bank account as its owner sees it: the number masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BankAccountView {
    pub id: String,
    /// BPA, BANDEC or BANMET.
    pub bank: String,
    pub bank_name: String,
    /// CUP, USD or MLC.
    pub currency: String,
    pub alias: String,
    /// «************1234».
    pub account_number: String,
    pub created_at_ms: i64,
}

fn account_view(row: &BankAccountRow) -> BankAccountView {
    BankAccountView {
        id: row.id.clone(),
        bank: row.bank_code.clone(),
        bank_name: ceiba_payments::bank(&row.bank_code)
            .map(|bank| bank.name.to_owned())
            .unwrap_or_default(),
        currency: row.currency.clone(),
        alias: row.alias.clone(),
        account_number: row.masked_number.clone(),
        created_at_ms: row.created_at_ms,
    }
}

/// A bank account number as typed: 16 digits, spaces and dashes between them allowed.
pub fn parse_account_number(text: &str) -> Result<String, ApiError> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.len() == ACCOUNT_NUMBER_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(ApiError::with_detail(
            ErrorCode::PaymentBankAccountNumberInvalid,
            format!("el número de cuenta debe tener {ACCOUNT_NUMBER_DIGITS} dígitos"),
        ))
    }
}

/// «************1234».
pub(crate) fn masked(number: &str) -> String {
    let visible = &number[number.len().saturating_sub(VISIBLE_DIGITS)..];
    format!("{}{visible}", "*".repeat(number.len() - visible.len()))
}

/// The hash that recognises an account number linked again: keyed with a server secret, so a
/// copy of the database does not give the numbers back by trying every one.
pub(crate) fn number_hash(key: &[u8; 32], number: &str) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(b"ceiba/cuenta-bancaria/v1\0");
    hasher.update(key);
    hasher.update(number.as_bytes());
    hasher.finalize().to_vec()
}

fn parse_alias(text: &str) -> Result<String, ApiError> {
    let alias = text.trim();
    if alias.is_empty()
        || alias.chars().count() > ALIAS_CHARS_MAX
        || alias.chars().any(char::is_control)
    {
        return Err(ApiError::with_detail(
            ErrorCode::ValidationFailed,
            format!("el alias debe tener de 1 a {ALIAS_CHARS_MAX} caracteres, sin saltos de línea"),
        ));
    }
    Ok(alias.to_owned())
}

pub(crate) fn known_bank(code: &str) -> Result<&'static Bank, ApiError> {
    ceiba_payments::bank(code).ok_or_else(|| {
        ApiError::with_detail(
            ErrorCode::PaymentUnknownBank,
            format!(
                "«{}» no es un banco participante (BPA, BANDEC, BANMET)",
                code.chars().take(20).collect::<String>()
            ),
        )
    })
}

fn unknown_account() -> ApiError {
    ApiError::new(ErrorCode::PaymentBankAccountUnknown)
}

/// `owner`'s linked account `id`, if it is linked now.
async fn owned_account(
    state: &AppState,
    owner: &str,
    id: &str,
) -> Result<BankAccountRow, ApiError> {
    state
        .db
        .bank_account(id)
        .await?
        .filter(|row| row.user_id == owner && row.removed_at_ms.is_none())
        .ok_or_else(unknown_account)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBankAccountBody {
    /// BPA, BANDEC or BANMET.
    pub bank: String,
    /// CUP, USD or MLC: the wallet the account feeds and drains.
    pub currency: String,
    /// A name the person recognises, up to 40 characters: «Ahorros», «Tarjeta BANDEC».
    pub alias: String,
    /// The 16 digits of the account (spaces or dashes between them are ignored).
    pub account_number: String,
}

/// Links a bank account to the wallet. Linking again the same account (bank, currency, number)
/// answers the account already linked, so a retry links once.
#[utoipa::path(post, path = "/api/v1/payments/bank-accounts", tag = "pagos",
    security(("bearer" = [])),
    request_body = LinkBankAccountBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Clave única de la operación")),
    responses(
        (status = 201, description = "Vinculada", body = BankAccountView),
        (status = 422, description = "Banco, moneda, alias o número no válidos", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn link_bank_account(
    who: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LinkBankAccountBody>,
) -> Result<(StatusCode, Json<BankAccountView>), ApiError> {
    // Checked for its form; linking is idempotent by what is linked.
    idempotency_key(&headers)?;
    let row = link_account(
        &state,
        &who.user,
        &body.bank,
        &body.currency,
        &body.alias,
        &body.account_number,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(account_view(&row))))
}

/// Links a bank account to `person`'s wallet, as typed; for every channel. Linking again the
/// same account (bank, currency, number) gives the account already linked.
pub async fn link_account(
    state: &AppState,
    person: &UserRow,
    bank: &str,
    currency: &str,
    alias: &str,
    account_number: &str,
) -> Result<BankAccountRow, ApiError> {
    let bank = known_bank(bank)?;
    let currency = parse_currency(currency)?;
    let alias = parse_alias(alias)?;
    let number = parse_account_number(account_number)?;
    let id = rand::random::<u128>().max(1).to_string();
    let hash = number_hash(&state.payments.receipt_key, &number);
    let masked_number = masked(&number);
    let new = NewBankAccount {
        id: &id,
        user_id: &person.id,
        bank_code: bank.code,
        currency: currency.code(),
        alias: &alias,
        masked_number: &masked_number,
        number_hash: &hash,
        created_at_ms: state.clock.now_ms(),
    };
    match state.db.link_bank_account(&new).await? {
        LinkBankAccount::Linked(row) | LinkBankAccount::Existing(row) => Ok(row),
        LinkBankAccount::TooMany => Err(ApiError::with_detail(
            ErrorCode::ValidationFailed,
            format!("puede vincular hasta {LINKED_BANK_ACCOUNTS_MAX} cuentas bancarias"),
        )),
    }
}

/// Unlinks `person`'s account `id`; for every channel.
pub async fn unlink_account(state: &AppState, person: &UserRow, id: &str) -> Result<(), ApiError> {
    if state
        .db
        .remove_bank_account(&person.id, id, state.clock.now_ms())
        .await?
    {
        Ok(())
    } else {
        Err(unknown_account())
    }
}

/// The bank accounts linked to the wallet, numbers masked.
#[utoipa::path(get, path = "/api/v1/payments/bank-accounts", tag = "pagos",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Cuentas vinculadas", body = [BankAccountView]),
        (status = 401, description = "Sin sesión", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_bank_accounts(
    who: Authenticated,
    State(state): State<AppState>,
) -> Result<Json<Vec<BankAccountView>>, ApiError> {
    let rows = state.db.bank_accounts_of(&who.user.id).await?;
    Ok(Json(rows.iter().map(account_view).collect()))
}

/// Unlinks a bank account; operations made with it stay in the history.
#[utoipa::path(delete, path = "/api/v1/payments/bank-accounts/{id}", tag = "pagos",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Identificador de la cuenta vinculada")),
    responses(
        (status = 204, description = "Desvinculada"),
        (status = 404, description = "No es suya o ya estaba desvinculada", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unlink_bank_account(
    who: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    unlink_account(&state, &who.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Deposits and withdrawals
// ---------------------------------------------------------------------------------------------

/// Moves `amount` (as typed, in the account's currency) between `person`'s linked account `id`
/// and their wallet: `CashIn` deposits, `CashOut` withdraws. The whole saga, for every channel.
pub async fn move_with_bank_account(
    state: &AppState,
    person: &UserRow,
    id: &str,
    kind: OperationKind,
    amount: &str,
    idempotency_key: Option<&str>,
) -> Result<OperationRow, ApiError> {
    if !matches!(kind, OperationKind::CashIn | OperationKind::CashOut) {
        return Err(ApiError::new(ErrorCode::Internal));
    }
    let engine = engine(state)?;
    let account = owned_account(state, &person.id, id).await?;
    let bank = known_bank(&account.bank_code)?;
    let currency = parse_currency(&account.currency)?;
    let amount = parse_money(amount, currency)?;
    ensure_wallet(state, engine, &person.id, currency).await?;
    let operation_id = rand::random::<u128>().max(1).to_string();
    let minor = amount.minor.to_string();
    let hash = request_hash(&[
        kind.as_str(),
        "bank_account",
        &account.id,
        currency.code(),
        &minor,
    ]);
    let last_digits =
        &account.masked_number[account.masked_number.len().saturating_sub(VISIBLE_DIGITS)..];
    let note = format!("{} ****{last_digits}", account.alias);
    let new = NewOperation {
        id: &operation_id,
        user_id: &person.id,
        idempotency_key,
        request_hash: &hash,
        kind: kind.as_str(),
        currency: currency.code(),
        amount_minor: amount.minor,
        fee_minor: 0,
        counterparty_user_id: Some(&person.id),
        counterparty_label: bank.code,
        note: &note,
        counts_toward_limits: false,
        created_at_ms: state.clock.now_ms(),
    };
    let hold_timeout_s = state.payments.hold_timeout_s.max(1);
    let row = match state
        .db
        .begin_bank_account_operation(&new, &account.id, hold_timeout_s)
        .await?
    {
        BeginPayment::Started(row) | BeginPayment::Existing(row) => row,
        BeginPayment::KeyReused(_) => {
            return Err(ApiError::new(ErrorCode::PaymentIdempotencyKeyReused));
        }
        BeginPayment::Refused(()) => return Err(ApiError::new(ErrorCode::Internal)),
    };
    let Some(side) = state.db.bank_account_operation(&row.id).await? else {
        // The key named an operation of another kind.
        return Err(ApiError::new(ErrorCode::PaymentIdempotencyKeyReused));
    };
    resume(state, engine, row, &side).await
}

/// The linked account `row` moves money with; `None` for any other operation (or when it
/// cannot be read now: the sweep tries again later).
pub(crate) async fn moves_with_a_bank_account(
    state: &AppState,
    row: &OperationRow,
) -> Option<BankAccountOperationRow> {
    if !matches!(
        OperationKind::parse(&row.kind),
        Some(OperationKind::CashIn | OperationKind::CashOut)
    ) {
        return None;
    }
    match state.db.bank_account_operation(&row.id).await {
        Ok(side) => side,
        Err(error) => {
            tracing::warn!(operation = %row.id, %error, "could not read a bank account operation");
            None
        }
    }
}

/// The held legs of a deposit or withdrawal, rebuilt from its rows.
fn held_legs(
    row: &OperationRow,
    bank: &Bank,
    side: &BankAccountOperationRow,
) -> Result<(u128, OperationKind, Money, Vec<NewTransfer>), ApiError> {
    let corrupt = || {
        tracing::error!(operation = %row.id, "a bank account operation cannot be planned");
        ApiError::new(ErrorCode::Internal)
    };
    let id: u128 = row.id.parse().map_err(|_| corrupt())?;
    let currency = Currency::parse(&row.currency).map_err(|_| corrupt())?;
    let kind = OperationKind::parse(&row.kind).ok_or_else(corrupt)?;
    let amount = Money::from_minor(row.amount_minor, currency);
    if side.hold_timeout_s == 0 {
        return Err(corrupt());
    }
    let legs = match kind {
        OperationKind::CashIn => {
            plan::cash_in_hold(id, bank, &row.user_id, amount, side.hold_timeout_s)
        }
        OperationKind::CashOut => {
            plan::cash_out_hold(id, bank, &row.user_id, amount, side.hold_timeout_s)
        }
        _ => return Err(corrupt()),
    };
    Ok((id, kind, amount, legs))
}

/// Carries a deposit or withdrawal on from wherever the ledger says it stands: places the hold
/// if it is missing, asks the bank while it is held, and records the outcome once the hold is
/// posted, voided or expired. Returns the operation still `pending` when the bank did not
/// answer. Safe to run any number of times, concurrently.
pub async fn resume(
    state: &AppState,
    engine: &LedgerEngine,
    row: OperationRow,
    side: &BankAccountOperationRow,
) -> Result<OperationRow, ApiError> {
    if row.status != OperationStatus::Pending {
        return Ok(row);
    }
    let account = state
        .db
        .bank_account(&side.bank_account_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
    let bank = known_bank(&account.bank_code)?;
    let (id, kind, amount, legs) = held_legs(&row, bank, side)?;
    let read = |engine: &LedgerEngine| plan::hold_state(&engine.read().state, id);

    if read(engine) == HoldState::Missing {
        let results = engine
            .create_transfers(legs.clone())
            .await
            .map_err(|error| ledger_unavailable(&error))?;
        if let Some(refusal) = plan::refusal(&legs, &results) {
            // Nothing was held: over the balance, or over the wallet's cap. No SMS.
            return Ok(state
                .db
                .finish_payment(
                    &row.id,
                    Finish::Refused {
                        code: refusal_code(&refusal).name(),
                        detail: &refusal.to_string(),
                    },
                    &[],
                    state.clock.now_ms(),
                )
                .await?);
        }
    }

    let mut bank_reason = None;
    if read(engine) == HoldState::Held {
        let request = BankRequest {
            operation_id: &row.id,
            bank_code: bank.code,
            bank_account_id: &account.id,
            masked_number: &account.masked_number,
            amount,
        };
        let wait =
            BANK_ANSWER_WAIT_MAX.min(Duration::from_millis(u64::from(side.hold_timeout_s) * 500));
        let asked = if kind == OperationKind::CashIn {
            state.bank_connector.confirm_debit(request)
        } else {
            state.bank_connector.confirm_credit(request)
        };
        let answer = tokio::time::timeout(wait, asked)
            .await
            .unwrap_or(BankAnswer::NoAnswer);
        let resolution = match answer {
            BankAnswer::Confirmed => plan::post_hold(&legs),
            BankAnswer::Refused(reason) => {
                bank_reason = Some(reason);
                plan::void_hold(&legs)
            }
            BankAnswer::NoAnswer => return Ok(row),
        };
        // Whatever the ledger answers, the hold's state read below is the truth.
        engine
            .create_transfers(resolution)
            .await
            .map_err(|error| ledger_unavailable(&error))?;
    }

    let now_ms = state.clock.now_ms();
    let hold = read(engine);
    match hold {
        HoldState::Posted => {
            let receipt = ReceiptCode::compute(
                &state.payments.receipt_key,
                id,
                kind,
                amount,
                row.created_at_ms,
            );
            let messages = messages_for(state, engine, &row, amount, receipt.as_str(), &[]).await?;
            let messages: Vec<(&str, &str)> = messages
                .iter()
                .map(|(phone, body)| (phone.as_str(), body.as_str()))
                .collect();
            Ok(state
                .db
                .finish_payment(
                    &row.id,
                    Finish::Completed {
                        receipt_code: receipt.as_str(),
                    },
                    &messages,
                    now_ms,
                )
                .await?)
        }
        HoldState::Voided | HoldState::Expired => {
            let what = if kind == OperationKind::CashIn {
                "deposito"
            } else {
                "extraccion"
            };
            let detail = match (&hold, bank_reason) {
                (HoldState::Voided, reason) => format!(
                    "{} rechazó la operación: {}",
                    bank.code,
                    reason.as_deref().unwrap_or("no dijo por qué")
                ),
                _ => format!(
                    "{} no confirmó la operación en {} s; se anuló",
                    bank.code, side.hold_timeout_s
                ),
            };
            let balance = Money::from_minor(
                available(
                    engine,
                    ceiba_payments::accounts::wallet(&row.user_id, amount.currency),
                ),
                amount.currency,
            );
            let text = format!(
                "Ceiba Pagos: la {what} de {} con {} no se completo; no se movio dinero. Saldo {}.",
                amount.ascii(),
                bank.code,
                balance.ascii()
            );
            let person = state.db.user_by_id(&row.user_id).await?;
            let messages: Vec<(&str, &str)> = person
                .as_ref()
                .map(|person| (person.phone.as_str(), text.as_str()))
                .into_iter()
                .collect();
            let code = if hold == HoldState::Voided {
                ErrorCode::PaymentBankRefused
            } else {
                ErrorCode::PaymentReversed
            };
            Ok(state
                .db
                .finish_payment(
                    &row.id,
                    Finish::Refused {
                        code: code.name(),
                        detail: &detail,
                    },
                    &messages,
                    now_ms,
                )
                .await?)
        }
        HoldState::Held => Ok(row),
        HoldState::Missing | HoldState::NotAHold => {
            tracing::error!(operation = %row.id, ?hold, "a bank account operation has no hold to conclude");
            Err(ApiError::new(ErrorCode::Internal))
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankAmountBody {
    /// In the account's currency, at most two decimals: "150", "12.50".
    #[schema(value_type = String)]
    pub amount: AmountInput,
}

/// 201 when completed, 202 while the bank has not answered (follow it at
/// `GET /api/v1/payments/operations/{id}`), the refusal's problem when refused.
fn held_answer(
    row: &OperationRow,
    viewer: &str,
) -> Result<(StatusCode, Json<OperationView>), ApiError> {
    if row.status == OperationStatus::Pending {
        return Ok((StatusCode::ACCEPTED, Json(operation_view(row, viewer))));
    }
    payments::answer(row, viewer)
}

/// Brings money from a linked bank account into the wallet, once the bank confirms the debit.
/// Send an `Idempotency-Key`: a retry moves the money at most once.
#[utoipa::path(post, path = "/api/v1/payments/bank-accounts/{id}/deposits", tag = "pagos",
    security(("bearer" = [])),
    request_body = BankAmountBody,
    params(
        ("id" = String, Path, description = "Identificador de la cuenta vinculada"),
        ("Idempotency-Key" = Option<String>, Header, description = "Clave única de la operación"),
    ),
    responses(
        (status = 201, description = "Depositado", body = OperationView),
        (status = 202, description = "Esperando al banco; consulte la operación", body = OperationView),
        (status = 404, description = "Cuenta no vinculada", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rechazado: importe, tope del monedero o el banco", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "El libro mayor no está disponible; reintente con la misma clave", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn deposit(
    who: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<BankAmountBody>,
) -> Result<(StatusCode, Json<OperationView>), ApiError> {
    let key = idempotency_key(&headers)?;
    let amount = body.amount.text();
    let row = move_with_bank_account(
        &state,
        &who.user,
        &id,
        OperationKind::CashIn,
        &amount,
        key.as_deref(),
    )
    .await?;
    held_answer(&row, &who.user.id)
}

/// Sends money from the wallet to a linked bank account, once the bank confirms the credit.
/// Send an `Idempotency-Key`: a retry moves the money at most once.
#[utoipa::path(post, path = "/api/v1/payments/bank-accounts/{id}/withdrawals", tag = "pagos",
    security(("bearer" = [])),
    request_body = BankAmountBody,
    params(
        ("id" = String, Path, description = "Identificador de la cuenta vinculada"),
        ("Idempotency-Key" = Option<String>, Header, description = "Clave única de la operación"),
    ),
    responses(
        (status = 201, description = "Extraído", body = OperationView),
        (status = 202, description = "Esperando al banco; consulte la operación", body = OperationView),
        (status = 404, description = "Cuenta no vinculada", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rechazado: importe, saldo o el banco", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "El libro mayor no está disponible; reintente con la misma clave", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn withdraw(
    who: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<BankAmountBody>,
) -> Result<(StatusCode, Json<OperationView>), ApiError> {
    let key = idempotency_key(&headers)?;
    let amount = body.amount.text();
    let row = move_with_bank_account(
        &state,
        &who.user,
        &id,
        OperationKind::CashOut,
        &amount,
        key.as_deref(),
    )
    .await?;
    held_answer(&row, &who.user.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_numbers_are_sixteen_digits_and_kept_masked() {
        assert_eq!(
            parse_account_number("1234 5678-9012 3456").ok(),
            Some("1234567890123456".to_owned())
        );
        assert!(parse_account_number("123456789012345").is_err());
        assert!(parse_account_number("12345678901234567").is_err());
        assert!(parse_account_number("123456789012345a").is_err());
        assert!(parse_account_number("١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦").is_err());
        assert_eq!(masked("1234567890123456"), "************3456");
    }
}
