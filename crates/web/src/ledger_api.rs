//! The ledger over HTTP, for bank operators (second factor required): create accounts and
//! transfers in batches, read accounts, transfers, an account's history, balances as of a time,
//! pending transfers, and the change stream. Pagos (wallets, bills, merchants) builds on the
//! same engine in-process; this API is the operators' and integrators' door.
//!
//! 128-bit numbers (ids, amounts, user data) and nanosecond timestamps travel as decimal
//! strings: JSON numbers lose precision past 2^53 in most clients. Amounts are integer minor
//! units (centavos).

use std::fmt;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use ceiba_ledger::{
    Account, AccountFlags, AccountId, Balances, CreateAccountResult, CreateTransferResult,
    Direction, LedgerId, NewAccount, NewTransfer, PendingStatus, Transfer, TransferFilter,
    TransferFlags, TransferId,
};
use ceiba_store::{LedgerEngine, LedgerError};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::{Authorized, BankOperator};
use crate::json::ApiJson;
use crate::problem::{ApiError, ErrorCode, Problem};

/// Most transfers in one page of a query.
pub const LEDGER_PAGE_MAX: usize = 1_000;
const LEDGER_PAGE_DEFAULT: usize = 100;

/// A non-negative 128-bit integer: a decimal string (or a JSON integer below 2^64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decimal128(pub u128);

impl Serialize for Decimal128 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Decimal128 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DecimalVisitor;
        impl Visitor<'_> for DecimalVisitor {
            type Value = Decimal128;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("un entero no negativo de hasta 128 bits, en una cadena decimal")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Decimal128, E> {
                parse_decimal(text).map_err(E::custom)
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Decimal128, E> {
                Ok(Decimal128(u128::from(value)))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Decimal128, E> {
                u128::try_from(value).map(Decimal128).map_err(|_| {
                    E::custom(format!(
                        "{value} es negativo; se espera un entero no negativo"
                    ))
                })
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Decimal128, E> {
                Err(E::custom(format!(
                    "{value} no es un entero exacto: los importes van en centavos, y los \
                     números de 2^64 o más, como cadena decimal"
                )))
            }
        }
        deserializer.deserialize_any(DecimalVisitor)
    }
}

fn parse_decimal(text: &str) -> Result<Decimal128, String> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!(
            "«{}» no es un entero decimal no negativo",
            text.chars().take(40).collect::<String>()
        ));
    }
    text.parse::<u128>().map(Decimal128).map_err(|_| {
        format!(
            "«{}» no cabe en 128 bits",
            text.chars().take(40).collect::<String>()
        )
    })
}

/// A currency, which is a ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Currency {
    #[serde(rename = "CUP")]
    Cup,
    #[serde(rename = "USD")]
    Usd,
    #[serde(rename = "MLC")]
    Mlc,
}

impl Currency {
    fn ledger(self) -> LedgerId {
        match self {
            Currency::Cup => LedgerId::CUP,
            Currency::Usd => LedgerId::USD,
            Currency::Mlc => LedgerId::MLC,
        }
    }

    fn of(ledger: LedgerId) -> Option<Currency> {
        match ledger {
            LedgerId::CUP => Some(Currency::Cup),
            LedgerId::USD => Some(Currency::Usd),
            LedgerId::MLC => Some(Currency::Mlc),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountFlag {
    Linked,
    DebitsMustNotExceedCredits,
    CreditsMustNotExceedDebits,
    History,
    Closed,
}

const ACCOUNT_FLAGS: [(AccountFlag, u16); 5] = [
    (AccountFlag::Linked, AccountFlags::LINKED),
    (
        AccountFlag::DebitsMustNotExceedCredits,
        AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS,
    ),
    (
        AccountFlag::CreditsMustNotExceedDebits,
        AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS,
    ),
    (AccountFlag::History, AccountFlags::HISTORY),
    (AccountFlag::Closed, AccountFlags::CLOSED),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferFlag {
    Linked,
    Pending,
    PostPending,
    VoidPending,
    BalancingDebit,
    BalancingCredit,
    ClosingDebit,
    ClosingCredit,
}

const TRANSFER_FLAGS: [(TransferFlag, u16); 8] = [
    (TransferFlag::Linked, TransferFlags::LINKED),
    (TransferFlag::Pending, TransferFlags::PENDING),
    (TransferFlag::PostPending, TransferFlags::POST_PENDING),
    (TransferFlag::VoidPending, TransferFlags::VOID_PENDING),
    (TransferFlag::BalancingDebit, TransferFlags::BALANCING_DEBIT),
    (
        TransferFlag::BalancingCredit,
        TransferFlags::BALANCING_CREDIT,
    ),
    (TransferFlag::ClosingDebit, TransferFlags::CLOSING_DEBIT),
    (TransferFlag::ClosingCredit, TransferFlags::CLOSING_CREDIT),
];

fn flag_bits<F: PartialEq + Copy>(names: &[F], table: &[(F, u16)]) -> u16 {
    table
        .iter()
        .filter(|(name, _)| names.contains(name))
        .fold(0, |bits, (_, bit)| bits | bit)
}

fn flag_names<F: Copy>(bits: u16, table: &[(F, u16)]) -> Vec<F> {
    table
        .iter()
        .filter(|(_, bit)| bits & bit == *bit)
        .map(|(name, _)| *name)
        .collect()
}

/// One account to open.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountInput {
    /// 128-bit identifier chosen by the client (decimal string); not 0 nor 2^128-1.
    #[schema(value_type = String)]
    pub id: Decimal128,
    pub ledger: Option<Currency>,
    /// The kind of account, chosen by the application; not 0.
    #[serde(default)]
    pub code: u16,
    /// The owner's reference (decimal string).
    #[serde(default)]
    #[schema(value_type = String)]
    pub owner: Decimal128,
    #[serde(default)]
    pub flags: Vec<AccountFlag>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountsBody {
    /// At most 8,190 accounts.
    pub accounts: Vec<AccountInput>,
}

/// One transfer. For `post_pending` and `void_pending`, accounts, ledger and code may be left
/// out (they come from the pending transfer), and amount 0 posts the whole pending amount.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    #[schema(value_type = String)]
    pub id: Decimal128,
    #[serde(default)]
    #[schema(value_type = String)]
    pub debit_account_id: Decimal128,
    #[serde(default)]
    #[schema(value_type = String)]
    pub credit_account_id: Decimal128,
    /// Minor units (centavos), a decimal string.
    #[serde(default)]
    #[schema(value_type = String)]
    pub amount: Decimal128,
    #[serde(default)]
    #[schema(value_type = String)]
    pub pending_id: Decimal128,
    #[serde(default)]
    #[schema(value_type = String)]
    pub user_data: Decimal128,
    /// Seconds before a pending transfer expires; 0 never.
    #[serde(default)]
    pub timeout_seconds: u32,
    pub ledger: Option<Currency>,
    #[serde(default)]
    pub code: u16,
    #[serde(default)]
    pub flags: Vec<TransferFlag>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTransfersBody {
    /// At most 8,190 transfers.
    pub transfers: Vec<TransferInput>,
}

/// The outcome of one event of the batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResult {
    pub index: usize,
    /// `ok`, `exists`, or the refusal's code (`exceeds_credits`, `accounts_must_be_different` …).
    pub result: &'static str,
    pub message: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResults {
    /// Events newly applied.
    pub created: usize,
    /// Events refused (an `exists` answer counts as refused: nothing new happened).
    pub refused: usize,
    /// One result per event, in order.
    pub results: Vec<EventResult>,
}

fn batch_results<R: Copy>(
    results: &[R],
    is_ok: impl Fn(R) -> bool,
    describe: impl Fn(R) -> (&'static str, &'static str),
) -> BatchResults {
    let created = results.iter().filter(|r| is_ok(**r)).count();
    BatchResults {
        created,
        refused: results.len() - created,
        results: results
            .iter()
            .enumerate()
            .map(|(index, result)| {
                let (result, message) = describe(*result);
                EventResult {
                    index,
                    result,
                    message,
                }
            })
            .collect(),
    }
}

fn engine(state: &AppState) -> Result<&LedgerEngine, ApiError> {
    state.ledger.as_ref().ok_or_else(|| {
        ApiError::with_detail(
            ErrorCode::LedgerUnavailable,
            "este servidor no tiene el libro mayor en marcha",
        )
    })
}

fn ledger_error(error: &LedgerError) -> ApiError {
    let code = match error {
        LedgerError::BatchTooLarge { .. } => ErrorCode::LedgerBatchTooLarge,
        LedgerError::EmptyBatch => ErrorCode::LedgerBatchEmpty,
        LedgerError::NotWriter => ErrorCode::LedgerNotWriter,
        _ => ErrorCode::LedgerUnavailable,
    };
    ApiError::with_detail(code, error.to_string())
}

/// Opens accounts, each with its own result. Idempotent: an id already open with the same
/// fields answers `exists`.
#[utoipa::path(post, path = "/api/v1/ledger/accounts", tag = "pagos",
    security(("bearer" = [])),
    request_body = CreateAccountsBody,
    responses(
        (status = 403, description = "Sin el rol «Operador bancario» o sin segundo factor en la sesión", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Un resultado por cuenta", body = BatchResults),
        (status = 422, description = "Lote vacío, demasiado grande o mal formado", body = Problem,
            content_type = "application/problem+json"),
        (status = 503, description = "El libro mayor no está disponible aquí", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn create_accounts(
    _operator: Authorized<BankOperator>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateAccountsBody>,
) -> Result<Json<BatchResults>, ApiError> {
    let events = body
        .accounts
        .iter()
        .map(|input| NewAccount {
            id: AccountId(input.id.0),
            ledger: input.ledger.map_or(LedgerId(0), Currency::ledger),
            code: input.code,
            owner: input.owner.0,
            flags: AccountFlags(flag_bits(&input.flags, &ACCOUNT_FLAGS)),
        })
        .collect();
    let results = engine(&state)?
        .create_accounts(events)
        .await
        .map_err(|error| ledger_error(&error))?;
    Ok(Json(batch_results(
        &results,
        |r| r == CreateAccountResult::Ok,
        |r| (r.code(), r.message_es()),
    )))
}

/// Moves money, each transfer with its own result. Idempotent: a transfer id already applied
/// with the same fields answers `exists`; with different fields, `exists_with_different_…`.
#[utoipa::path(post, path = "/api/v1/ledger/transfers", tag = "pagos",
    security(("bearer" = [])),
    request_body = CreateTransfersBody,
    responses(
        (status = 403, description = "Sin el rol «Operador bancario» o sin segundo factor en la sesión", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Un resultado por transferencia", body = BatchResults),
        (status = 422, description = "Lote vacío, demasiado grande o mal formado", body = Problem,
            content_type = "application/problem+json"),
        (status = 503, description = "El libro mayor no está disponible aquí", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn create_transfers(
    _operator: Authorized<BankOperator>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateTransfersBody>,
) -> Result<Json<BatchResults>, ApiError> {
    let events = body
        .transfers
        .iter()
        .map(|input| NewTransfer {
            id: TransferId(input.id.0),
            debit_account_id: AccountId(input.debit_account_id.0),
            credit_account_id: AccountId(input.credit_account_id.0),
            amount: input.amount.0,
            pending_id: TransferId(input.pending_id.0),
            user_data: input.user_data.0,
            timeout_seconds: input.timeout_seconds,
            ledger: input.ledger.map_or(LedgerId(0), Currency::ledger),
            code: input.code,
            flags: TransferFlags(flag_bits(&input.flags, &TRANSFER_FLAGS)),
        })
        .collect();
    let results = engine(&state)?
        .create_transfers(events)
        .await
        .map_err(|error| ledger_error(&error))?;
    Ok(Json(batch_results(
        &results,
        |r| r == CreateTransferResult::Ok,
        |r| (r.code(), r.message_es()),
    )))
}

/// An account's balances in minor units (decimal strings).
#[derive(Debug, Serialize, ToSchema)]
pub struct BalancesView {
    #[schema(value_type = String)]
    pub debits_pending: Decimal128,
    #[schema(value_type = String)]
    pub debits_posted: Decimal128,
    #[schema(value_type = String)]
    pub credits_pending: Decimal128,
    #[schema(value_type = String)]
    pub credits_posted: Decimal128,
}

impl From<Balances> for BalancesView {
    fn from(b: Balances) -> Self {
        BalancesView {
            debits_pending: Decimal128(b.debits_pending),
            debits_posted: Decimal128(b.debits_posted),
            credits_pending: Decimal128(b.credits_pending),
            credits_posted: Decimal128(b.credits_posted),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    #[schema(value_type = String)]
    pub id: Decimal128,
    pub ledger: Option<Currency>,
    pub ledger_id: u32,
    pub code: u16,
    #[schema(value_type = String)]
    pub owner: Decimal128,
    pub flags: Vec<AccountFlag>,
    pub balances: BalancesView,
    /// Nanoseconds since the Unix epoch when the account was opened (decimal string).
    #[schema(value_type = String)]
    pub timestamp: Decimal128,
}

impl From<Account> for AccountView {
    fn from(account: Account) -> Self {
        AccountView {
            id: Decimal128(account.id.0),
            ledger: Currency::of(account.ledger),
            ledger_id: account.ledger.0,
            code: account.code,
            owner: Decimal128(account.owner),
            flags: flag_names(account.flags.0, &ACCOUNT_FLAGS),
            balances: account.balances.into(),
            timestamp: Decimal128(u128::from(account.timestamp)),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferView {
    #[schema(value_type = String)]
    pub id: Decimal128,
    #[schema(value_type = String)]
    pub debit_account_id: Decimal128,
    #[schema(value_type = String)]
    pub credit_account_id: Decimal128,
    #[schema(value_type = String)]
    pub amount: Decimal128,
    #[schema(value_type = String)]
    pub pending_id: Decimal128,
    #[schema(value_type = String)]
    pub user_data: Decimal128,
    pub timeout_seconds: u32,
    pub ledger: Option<Currency>,
    pub ledger_id: u32,
    pub code: u16,
    pub flags: Vec<TransferFlag>,
    #[schema(value_type = String)]
    pub timestamp: Decimal128,
    /// For a pending transfer: `pending`, `posted`, `voided` or `expired`.
    pub pending_status: Option<&'static str>,
}

fn transfer_view(transfer: Transfer, status: PendingStatus) -> TransferView {
    TransferView {
        id: Decimal128(transfer.id.0),
        debit_account_id: Decimal128(transfer.debit_account_id.0),
        credit_account_id: Decimal128(transfer.credit_account_id.0),
        amount: Decimal128(transfer.amount),
        pending_id: Decimal128(transfer.pending_id.0),
        user_data: Decimal128(transfer.user_data),
        timeout_seconds: transfer.timeout_seconds,
        ledger: Currency::of(transfer.ledger),
        ledger_id: transfer.ledger.0,
        code: transfer.code,
        flags: flag_names(transfer.flags.0, &TRANSFER_FLAGS),
        timestamp: Decimal128(u128::from(transfer.timestamp)),
        pending_status: (status != PendingStatus::None).then(|| status.as_str()),
    }
}

fn path_id(text: &str) -> Result<u128, ApiError> {
    parse_decimal(text)
        .map(|decimal| decimal.0)
        .map_err(|detail| ApiError::with_detail(ErrorCode::BadRequest, detail))
}

fn query_error(rejection: &QueryRejection) -> ApiError {
    ApiError::with_detail(ErrorCode::BadRequest, rejection.body_text())
}

fn not_found(what: &str) -> ApiError {
    ApiError::with_detail(ErrorCode::NotFound, format!("{what} no existe"))
}

/// One account with its balances.
#[utoipa::path(get, path = "/api/v1/ledger/accounts/{id}", tag = "pagos",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Identificador de la cuenta (decimal)")),
    responses(
        (status = 403, description = "Sin el rol «Operador bancario» o sin segundo factor en la sesión", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "La cuenta", body = AccountView),
        (status = 404, description = "No existe", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn account(
    _operator: Authorized<BankOperator>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    let id = AccountId(path_id(&id)?);
    let account = engine(&state)?.read().state.account(id);
    account
        .map(|account| Json(account.into()))
        .ok_or_else(|| not_found("la cuenta"))
}

/// One transfer.
#[utoipa::path(get, path = "/api/v1/ledger/transfers/{id}", tag = "pagos",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Identificador de la transferencia (decimal)")),
    responses(
        (status = 403, description = "Sin el rol «Operador bancario» o sin segundo factor en la sesión", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "La transferencia", body = TransferView),
        (status = 404, description = "No existe", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn transfer(
    _operator: Authorized<BankOperator>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TransferView>, ApiError> {
    let id = TransferId(path_id(&id)?);
    let engine = engine(&state)?;
    let replica = engine.read();
    let found = replica.state.transfer(id).map(|transfer| {
        let status = replica
            .state
            .pending_status(id)
            .unwrap_or(PendingStatus::None);
        transfer_view(transfer, status)
    });
    drop(replica);
    found.map(Json).ok_or_else(|| not_found("la transferencia"))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum DirectionParam {
    Debits,
    Credits,
    #[default]
    Both,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TransfersQuery {
    /// First timestamp included (nanoseconds, decimal).
    pub from: Option<String>,
    /// Last timestamp included.
    pub to: Option<String>,
    /// Only transfers of this code.
    pub code: Option<u16>,
    /// `debits`, `credits` or `both` (default).
    #[param(inline)]
    pub direction: Option<DirectionParam>,
    /// `asc` (oldest first, default) or `desc`.
    #[param(inline)]
    pub order: Option<Order>,
    /// Page size, 1 to 1,000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of transfers; `next_cursor` continues it (absent on the last page).
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferPage {
    pub transfers: Vec<TransferView>,
    pub next_cursor: Option<String>,
}

fn timestamp_param(text: Option<&String>, default: u64) -> Result<u64, ApiError> {
    match text {
        None => Ok(default),
        Some(text) => {
            let value = path_id(text)?;
            u64::try_from(value).map_err(|_| {
                ApiError::with_detail(ErrorCode::BadRequest, "marca de tiempo fuera de rango")
            })
        }
    }
}

fn page_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    let limit = limit.unwrap_or(LEDGER_PAGE_DEFAULT);
    if (1..=LEDGER_PAGE_MAX).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::with_detail(
            ErrorCode::BadRequest,
            format!("«limit» debe estar entre 1 y {LEDGER_PAGE_MAX}"),
        ))
    }
}

fn page(transfers: Vec<TransferView>, limit: usize) -> TransferPage {
    let next_cursor = (transfers.len() == limit)
        .then(|| transfers.last().map(|last| last.timestamp.0.to_string()))
        .flatten();
    TransferPage {
        transfers,
        next_cursor,
    }
}

/// An account's transfers in a time range, oldest first (or newest first with `order=desc`),
/// filtered by code and direction, paged by keyset cursor.
#[utoipa::path(get, path = "/api/v1/ledger/accounts/{id}/transfers", tag = "pagos",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Identificador de la cuenta"), TransfersQuery),
    responses(
        (status = 403, description = "Sin el rol «Operador bancario» o sin segundo factor en la sesión", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Una página de transferencias", body = TransferPage),
        (status = 400, description = "Parámetros no válidos", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn account_transfers(
    _operator: Authorized<BankOperator>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<TransfersQuery>, QueryRejection>,
) -> Result<Json<TransferPage>, ApiError> {
    let Query(query) = query.map_err(|rejection| query_error(&rejection))?;
    let id = AccountId(path_id(&id)?);
    let limit = page_limit(query.limit)?;
    let mut from = timestamp_param(query.from.as_ref(), 0)?;
    let mut to = timestamp_param(query.to.as_ref(), u64::MAX)?;
    let reversed = matches!(query.order.unwrap_or_default(), Order::Desc);
    if let Some(cursor) = query.cursor.as_ref() {
        let cursor = timestamp_param(Some(cursor), 0)?;
        if reversed {
            to = to.min(cursor.saturating_sub(1));
        } else {
            from = from.max(cursor.saturating_add(1));
        }
    }
    let filter = TransferFilter {
        account_id: id,
        from,
        to,
        code: query.code,
        direction: match query.direction.unwrap_or_default() {
            DirectionParam::Debits => Direction::Debits,
            DirectionParam::Credits => Direction::Credits,
            DirectionParam::Both => Direction::Both,
        },
        limit,
        reversed,
    };
    let engine = engine(&state)?;
    let replica = engine.read();
    if replica.state.account(id).is_none() {
        return Err(not_found("la cuenta"));
    }
    let views = replica
        .state
        .account_transfers(&filter)
        .into_iter()
        .map(|transfer| {
            let status = replica
                .state
                .pending_status(transfer.id)
                .unwrap_or(PendingStatus::None);
            transfer_view(transfer, status)
        })
        .collect();
    drop(replica);
    Ok(Json(page(views, limit)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BalanceQuery {
    /// The moment (nanoseconds since the epoch, decimal); now when absent.
    pub at: Option<String>,
}

/// Balances of an account with `history` as they stood at a moment.
#[utoipa::path(get, path = "/api/v1/ledger/accounts/{id}/balances", tag = "pagos",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Identificador de la cuenta"), BalanceQuery),
    responses(
        (status = 403, description = "Sin el rol «Operador bancario» o sin segundo factor en la sesión", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Saldos en ese momento", body = BalancesView),
        (status = 404, description = "No existe", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "La cuenta no guarda historial", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn balances_at(
    _operator: Authorized<BankOperator>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<BalanceQuery>, QueryRejection>,
) -> Result<Json<BalancesView>, ApiError> {
    let Query(query) = query.map_err(|rejection| query_error(&rejection))?;
    let id = AccountId(path_id(&id)?);
    let at = timestamp_param(query.at.as_ref(), u64::MAX)?;
    let balances = engine(&state)?.read().state.balances_at(id, at);
    match balances {
        Ok(balances) => Ok(Json(balances.into())),
        Err(ceiba_ledger::HistoryError::AccountNotFound) => Err(not_found("la cuenta")),
        Err(error) => Err(ApiError::with_detail(
            ErrorCode::LedgerHistoryNotEnabled,
            error.to_string(),
        )),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PendingQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 1,000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// The account's transfers still pending (reserved, neither posted, voided nor expired),
/// oldest first, paged by `next_cursor`.
#[utoipa::path(get, path = "/api/v1/ledger/accounts/{id}/pending", tag = "pagos",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Identificador de la cuenta"), PendingQuery),
    responses(
        (status = 403, description = "Sin el rol «Operador bancario» o sin segundo factor en la sesión", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Transferencias pendientes, las más antiguas primero", body = TransferPage),
        (status = 404, description = "No existe", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn pending_transfers(
    _operator: Authorized<BankOperator>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<PendingQuery>, QueryRejection>,
) -> Result<Json<TransferPage>, ApiError> {
    let Query(query) = query.map_err(|rejection| query_error(&rejection))?;
    let id = AccountId(path_id(&id)?);
    let cursor = timestamp_param(query.cursor.as_ref(), 0)?;
    let limit = page_limit(query.limit)?;
    let engine = engine(&state)?;
    let replica = engine.read();
    if replica.state.account(id).is_none() {
        return Err(not_found("la cuenta"));
    }
    let views = replica
        .state
        .pending_transfers_after(id, cursor, limit)
        .into_iter()
        .map(|transfer| transfer_view(transfer, PendingStatus::Pending))
        .collect();
    drop(replica);
    Ok(Json(page(views, limit)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// Resume after this cursor (a timestamp, decimal); from the start when absent.
    pub cursor: Option<String>,
    /// Page size, 1 to 1,000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// The change stream: every committed transfer in commit order. A consumer stores the last
/// `next_cursor` it handled and resumes from it; a page shorter than `limit` means it is up to
/// date (then `next_cursor` still tells where to resume).
#[utoipa::path(get, path = "/api/v1/ledger/changes", tag = "pagos",
    security(("bearer" = [])),
    params(ChangesQuery),
    responses(
        (status = 403, description = "Sin el rol «Operador bancario» o sin segundo factor en la sesión", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Transferencias confirmadas tras el cursor", body = TransferPage),
    ))]
pub async fn changes(
    _operator: Authorized<BankOperator>,
    State(state): State<AppState>,
    query: Result<Query<ChangesQuery>, QueryRejection>,
) -> Result<Json<TransferPage>, ApiError> {
    let Query(query) = query.map_err(|rejection| query_error(&rejection))?;
    let cursor = timestamp_param(query.cursor.as_ref(), 0)?;
    let limit = page_limit(query.limit)?;
    let engine = engine(&state)?;
    let replica = engine.read();
    let views: Vec<TransferView> = replica
        .state
        .changes_after(cursor, limit)
        .into_iter()
        .map(|transfer| {
            let status = replica
                .state
                .pending_status(transfer.id)
                .unwrap_or(PendingStatus::None);
            transfer_view(transfer, status)
        })
        .collect();
    drop(replica);
    let next_cursor = Some(
        views
            .last()
            .map_or(cursor.to_string(), |last| last.timestamp.0.to_string()),
    );
    Ok(Json(TransferPage {
        transfers: views,
        next_cursor,
    }))
}
