//! Pagos to billers: bills (electricity, water, gas, telephone), taxes and fines (ONAT,
//! contraventions) and top-ups (mobile lines and Nauta accounts, the telecom operator as
//! biller). Billers are data (`billers` table); a biller's operator uploads its bills (CSV or
//! JSON), lists what was paid and downloads a reconciliation file; a person looks a bill up by
//! the reference printed on it and pays it, or buys a top-up.
//!
//! # Two-phase holds
//! A payment to a biller is a saga around a *hold* (`ceiba_payments::plan::payment_hold`):
//! 1. parse and check (bill open, denomination sold), open the wallet and the biller's ledger
//!    account on first use;
//! 2. `Db::begin_biller_payment` records the operation as `pending`, with its idempotency key
//!    and what it pays for, and claims the bill in the same transaction: a bill paid, or being
//!    paid by another operation, refuses here and nothing moves;
//! 3. the hold: pending ledger transfers from the wallet to the biller's account that expire
//!    after `PaymentSettings::hold_timeout_s` (300 s by default);
//! 4. the biller is asked to confirm through a [`BillerConnector`];
//! 5. confirmed: the hold is posted; refused: it is voided; no answer: it stays held;
//! 6. the outcome is read back from the ledger (posted, voided or expired: whichever the ledger
//!    applied first is the only one that happened) and recorded with its SMS and the bill's new
//!    state in one transaction (`Db::finish_biller_payment`).
//!
//! If the process dies or the biller never answers, the ledger expires the hold at its timeout
//! and the money is the person's again; the recovery sweep (`payments::settle_stale`, which
//! calls [`resume`]) then records the operation as reversed (`payment_reversed`), tells the
//! person by SMS, and the bill is open again. [`resume`] is the whole saga from wherever the
//! ledger says the operation stands, so a retry with the same `Idempotency-Key`, the sweep and
//! the first request may all run it at once: every ledger step is idempotent by transfer id.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ceiba_identity::{PhoneNumber, Role};
use ceiba_ledger::NewTransfer;
use ceiba_payments::files::{
    BILL_REFERENCE_CHARS_MAX, BillFields, BillLine, bill_reference, read_bills, read_bills_csv,
};
use ceiba_payments::{
    Currency, HoldState, Money, NautaAccount, OperationKind, ReceiptCode, TopUpRules, TopUpService,
    accounts, plan,
};
use ceiba_store::{
    BILLER_PAYMENTS_PAGE_MAX, BILLS_UPLOAD_MAX, BeginPayment, BillRefusal, BillRow,
    BillerPaymentRow, BillerRow, BillerTarget, Finish, InsertBills, LedgerEngine, NewBill,
    NewOperation, OperationRow, OperationStatus, PaidToBiller, UserRow,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::{Administrator, Authenticated, Authorized, Biller};
use crate::json::ApiJson;
use crate::payments::{
    self, AmountInput, OperationView, available, engine, ensure_operator_accounts, ensure_wallet,
    idempotency_key, ledger_unavailable, operation_view, parse_money, refusal_code, request_hash,
};
use crate::problem::{ApiError, ErrorCode, Problem};

/// How long a payment to a biller is held, unless configured otherwise: five minutes.
pub const HOLD_TIMEOUT_S_DEFAULT: u32 = 300;
/// The longest wait for a biller's answer; never more than half the hold.
const BILLER_ANSWER_WAIT_MAX: Duration = Duration::from_secs(10);
/// Errors named in one refusal of an upload; the rest are counted.
const UPLOAD_ERRORS_SHOWN_MAX: usize = 10;
/// Most rows of one reconciliation file (a day of one biller).
const RECONCILIATION_ROWS_MAX: usize = 200_000;
const BILLER_PAYMENTS_PAGE_DEFAULT: u32 = 100;

/// What top-ups are sold, and which biller receives each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopUpSettings {
    pub rules: TopUpRules,
    /// The biller that receives mobile top-ups.
    pub mobile_biller: String,
    /// The biller that receives Nauta top-ups.
    pub nauta_biller: String,
}

impl TopUpSettings {
    /// ETECSA's launch offer (see [`TopUpRules::standard`]), paid to the seeded ETECSA billers.
    pub fn standard() -> TopUpSettings {
        TopUpSettings {
            rules: TopUpRules::standard(),
            mobile_biller: "etecsa-movil".to_owned(),
            nauta_biller: "etecsa-nauta".to_owned(),
        }
    }

    pub fn biller_for(&self, service: TopUpService) -> &str {
        match service {
            TopUpService::Mobile => &self.mobile_biller,
            TopUpService::Nauta => &self.nauta_biller,
        }
    }

    fn service_of(&self, biller_code: &str) -> Option<TopUpService> {
        TopUpService::ALL
            .into_iter()
            .find(|service| self.biller_for(*service) == biller_code)
    }
}

// ---------------------------------------------------------------------------------------------
// The connector: where a real utility, tax office or operator plugs in.
// ---------------------------------------------------------------------------------------------

/// A payment held for a biller, as the biller is asked to confirm it.
#[derive(Debug, Clone, Copy)]
pub struct BillerRequest<'a> {
    /// The same for every retry of one payment: a connector must answer a repeated question the
    /// same way (the biller's own idempotency key).
    pub operation_id: &'a str,
    pub biller_code: &'a str,
    pub kind: OperationKind,
    /// The bill's reference, or the account topped up.
    pub reference: &'a str,
    pub amount: Money,
}

/// What a biller said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BillerAnswer {
    /// The biller takes the payment: the hold is posted.
    Accepted,
    /// The biller refuses it, saying why: the hold is voided.
    Refused(String),
    /// No answer (offline, timed out): the hold stays, to be asked again or to expire.
    NoAnswer,
}

/// The seam between Ceiba and billers' systems. Implementations must be idempotent per
/// `operation_id` and must not block past the wait they are given (they are also cut off).
pub trait BillerConnector: Send + Sync + std::fmt::Debug {
    fn confirm<'a>(
        &'a self,
        request: BillerRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = BillerAnswer> + Send + 'a>>;
}

/// The billers Ceiba simulates itself: each confirms at once, unless marked offline (never
/// answers) or refusing. The marks are a switch for tests and demos.
#[derive(Debug, Default)]
pub struct BuiltInConnector {
    offline: Mutex<BTreeSet<String>>,
    refusing: Mutex<BTreeSet<String>>,
}

impl BuiltInConnector {
    pub fn new() -> BuiltInConnector {
        BuiltInConnector::default()
    }

    /// Marks a biller offline (it never answers) or back online.
    pub fn set_offline(&self, biller_code: &str, offline: bool) {
        mark(&self.offline, biller_code, offline);
    }

    /// Marks a biller as refusing every payment, or accepting again.
    pub fn set_refusing(&self, biller_code: &str, refusing: bool) {
        mark(&self.refusing, biller_code, refusing);
    }
}

pub(crate) fn mark(set: &Mutex<BTreeSet<String>>, code: &str, on: bool) {
    let mut set = set
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if on {
        set.insert(code.to_owned());
    } else {
        set.remove(code);
    }
}

pub(crate) fn marked(set: &Mutex<BTreeSet<String>>, code: &str) -> bool {
    set.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .contains(code)
}

impl BillerConnector for BuiltInConnector {
    fn confirm<'a>(
        &'a self,
        request: BillerRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = BillerAnswer> + Send + 'a>> {
        let answer = if marked(&self.offline, request.biller_code) {
            BillerAnswer::NoAnswer
        } else if marked(&self.refusing, request.biller_code) {
            BillerAnswer::Refused("el emisor no acepta pagos en este momento".to_owned())
        } else {
            BillerAnswer::Accepted
        };
        Box::pin(std::future::ready(answer))
    }
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

/// A biller as people see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BillerView {
    pub code: String,
    pub name: String,
    /// `servicios`, `impuestos` or `telecomunicaciones`.
    pub kind: String,
    /// `movil` or `nauta` when this biller sells top-ups (`POST /api/v1/payments/top-ups`);
    /// absent when it issues bills.
    pub top_up_service: Option<&'static str>,
    /// The amounts sold, in minor units, for a top-up with fixed denominations.
    pub top_up_amounts_minor: Vec<u64>,
    /// The bounds, in minor units, for a top-up of any amount.
    pub top_up_min_minor: Option<u64>,
    pub top_up_max_minor: Option<u64>,
}

/// A bill as the person paying it sees it: the customer's name masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BillView {
    pub biller: String,
    pub biller_name: String,
    pub reference: String,
    /// «A** P**** G*****»: enough to recognise one's own bill, not to learn a stranger's name.
    pub customer: String,
    pub amount_minor: u64,
    /// For people: "125,50 CUP".
    pub amount: String,
    pub currency: String,
    /// AAAA-MM-DD.
    pub due_date: String,
    pub period: String,
    /// `open` or `paid`.
    pub status: &'static str,
}

/// Masks every word of a name but its first letter: «Ana Pérez» → «A** P****».
pub fn mask_name(name: &str) -> String {
    name.split_whitespace()
        .map(|word| {
            let mut chars = word.chars();
            let first = chars.next().map(String::from).unwrap_or_default();
            first + &"*".repeat(chars.count())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn biller_view(settings: &TopUpSettings, biller: &BillerRow) -> BillerView {
    let service = settings.service_of(&biller.code);
    let rules = &settings.rules;
    BillerView {
        code: biller.code.clone(),
        name: biller.name.clone(),
        kind: biller.kind.clone(),
        top_up_service: service.map(TopUpService::as_str),
        top_up_amounts_minor: match service {
            Some(TopUpService::Mobile) => rules.mobile_denominations_minor.clone(),
            _ => Vec::new(),
        },
        top_up_min_minor: (service == Some(TopUpService::Nauta)).then_some(rules.nauta_min_minor),
        top_up_max_minor: (service == Some(TopUpService::Nauta)).then_some(rules.nauta_max_minor),
    }
}

fn bill_view(biller: &BillerRow, bill: &BillRow) -> BillView {
    let currency = Currency::parse(&bill.currency).unwrap_or(Currency::Cup);
    BillView {
        biller: biller.code.clone(),
        biller_name: biller.name.clone(),
        reference: bill.reference.clone(),
        customer: mask_name(&bill.customer_name),
        amount_minor: bill.amount_minor,
        amount: Money::from_minor(bill.amount_minor, currency).to_string(),
        currency: bill.currency.clone(),
        due_date: bill.due_date.clone(),
        period: bill.period.clone(),
        status: bill.status.as_str(),
    }
}

// ---------------------------------------------------------------------------------------------
// The services every channel calls (API, pages, USSD).
// ---------------------------------------------------------------------------------------------

/// Every biller, by code.
pub async fn billers(state: &AppState) -> Result<Vec<BillerView>, ApiError> {
    let settings = &state.payments.top_ups;
    Ok(state
        .db
        .billers()
        .await?
        .iter()
        .map(|biller| biller_view(settings, biller))
        .collect())
}

async fn known_biller(state: &AppState, code: &str) -> Result<BillerRow, ApiError> {
    let code = code.trim().to_ascii_lowercase();
    let unknown = || {
        ApiError::with_detail(
            ErrorCode::PaymentBillerUnknown,
            format!(
                "«{}» no es un emisor; la lista está en /api/v1/payments/billers",
                code.chars()
                    .take(BILL_REFERENCE_CHARS_MAX)
                    .collect::<String>()
            ),
        )
    };
    if code.is_empty() || code.len() > BILL_REFERENCE_CHARS_MAX {
        return Err(unknown());
    }
    state.db.biller(&code).await?.ok_or_else(unknown)
}

async fn known_bill(
    state: &AppState,
    biller: &BillerRow,
    reference: &str,
) -> Result<BillRow, ApiError> {
    let reference = bill_reference(reference)
        .map_err(|detail| ApiError::with_detail(ErrorCode::PaymentBillUnknown, detail))?;
    state
        .db
        .bill(&biller.code, &reference)
        .await?
        .ok_or_else(|| {
            ApiError::with_detail(
                ErrorCode::PaymentBillUnknown,
                format!("{} no tiene ninguna factura «{reference}»", biller.name),
            )
        })
}

/// A bill by its biller and reference: amount, masked customer name, status.
pub async fn find_bill(
    state: &AppState,
    biller: &str,
    reference: &str,
) -> Result<BillView, ApiError> {
    let biller = known_biller(state, biller).await?;
    let bill = known_bill(state, &biller, reference).await?;
    Ok(bill_view(&biller, &bill))
}

/// Opens a biller's ledger account in `currency` on first use. Idempotent.
async fn ensure_biller_account(
    engine: &LedgerEngine,
    biller_code: &str,
    currency: Currency,
) -> Result<(), ApiError> {
    if engine
        .read()
        .state
        .account(accounts::biller(biller_code, currency))
        .is_some()
    {
        return Ok(());
    }
    ensure_operator_accounts(engine).await?;
    engine
        .create_accounts(vec![accounts::biller_account(biller_code, currency)])
        .await
        .map_err(|error| ledger_unavailable(&error))?;
    Ok(())
}

/// The operation kind of paying `biller`'s bills: taxes and fines for the tax office and the
/// contraventions biller, bills for the rest.
fn bill_kind(biller: &BillerRow) -> OperationKind {
    if biller.kind == "impuestos" {
        OperationKind::TaxPayment
    } else {
        OperationKind::BillPayment
    }
}

/// Pays a bill (or a tax, or a fine) from `payer`'s wallet: the whole saga, for every channel.
/// A refusal before anything is recorded is an error (unknown, already paid, being paid); one
/// decided later is a `refused` operation (see [`payments::answer`]); a biller that has not
/// answered yet leaves it `pending`, and it completes or reverses by itself.
pub async fn pay_bill(
    state: &AppState,
    payer: &UserRow,
    biller: &str,
    reference: &str,
    idempotency_key: Option<&str>,
) -> Result<OperationRow, ApiError> {
    let engine = engine(state)?;
    let biller = known_biller(state, biller).await?;
    let bill = known_bill(state, &biller, reference).await?;
    let currency = Currency::parse(&bill.currency).map_err(|_| {
        tracing::error!(biller = %biller.code, reference = %bill.reference, "a bill has an unknown currency");
        ApiError::new(ErrorCode::Internal)
    })?;
    let amount = Money::from_minor(bill.amount_minor, currency);
    let kind = bill_kind(&biller);
    let word = if kind == OperationKind::TaxPayment {
        "Referencia"
    } else {
        "Factura"
    };
    let note = format!("{word} {}", bill.reference);
    begin_and_run(
        state,
        engine,
        payer,
        &biller,
        kind,
        amount,
        BillerTarget::Bill(&bill.reference),
        &note,
        idempotency_key,
    )
    .await
}

/// Tops up a mobile line (`service` `movil`, fixed denominations) or a Nauta account (`nauta`,
/// any amount within bounds) from `payer`'s wallet; the amount is in pesos as typed. The same
/// saga as [`pay_bill`], to the telecom operator.
pub async fn top_up(
    state: &AppState,
    payer: &UserRow,
    service: &str,
    account: &str,
    amount: &str,
    idempotency_key: Option<&str>,
) -> Result<OperationRow, ApiError> {
    let engine = engine(state)?;
    let settings = &state.payments.top_ups;
    let service = TopUpService::parse(service)
        .map_err(|error| ApiError::with_detail(ErrorCode::ValidationFailed, error.to_string()))?;
    let amount = parse_money(amount, settings.rules.currency)?;
    settings
        .rules
        .check(service, amount)
        .map_err(|error| ApiError::with_detail(ErrorCode::PaymentTopUpAmount, error.to_string()))?;
    let account = match service {
        TopUpService::Mobile => PhoneNumber::parse(account)
            .map(|phone| phone.as_e164().to_owned())
            .map_err(|error| error.to_string()),
        TopUpService::Nauta => NautaAccount::parse(account)
            .map(|account| account.as_str().to_owned())
            .map_err(|error| error.to_string()),
    }
    .map_err(|detail| ApiError::with_detail(ErrorCode::PaymentTopUpAccount, detail))?;
    let biller = known_biller(state, settings.biller_for(service)).await?;
    let note = format!("{} {account}", service.label_es());
    begin_and_run(
        state,
        engine,
        payer,
        &biller,
        OperationKind::TopUp,
        amount,
        BillerTarget::TopUp(&account),
        &note,
        idempotency_key,
    )
    .await
}

/// Steps 1 and 2 of the saga (see the module's docs), then [`resume`].
#[allow(clippy::too_many_arguments)]
async fn begin_and_run(
    state: &AppState,
    engine: &LedgerEngine,
    payer: &UserRow,
    biller: &BillerRow,
    kind: OperationKind,
    amount: Money,
    target: BillerTarget<'_>,
    note: &str,
    idempotency_key: Option<&str>,
) -> Result<OperationRow, ApiError> {
    let currency = amount.currency;
    ensure_wallet(state, engine, &payer.id, currency).await?;
    ensure_biller_account(engine, &biller.code, currency).await?;
    let fee = state.payments.fees.fee(kind, amount);
    let id = rand::random::<u128>().max(1).to_string();
    let (target_kind, target_text) = match target {
        BillerTarget::Bill(reference) => ("bill", reference),
        BillerTarget::TopUp(account) => ("top_up", account),
    };
    let minor = amount.minor.to_string();
    let hash = request_hash(&[
        kind.as_str(),
        &biller.code,
        target_kind,
        target_text,
        currency.code(),
        &minor,
    ]);
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
        counterparty_label: &biller.name,
        note,
        // Payments to businesses and the state are not capped by the Central Bank.
        counts_toward_limits: false,
        created_at_ms: state.clock.now_ms(),
    };
    let hold_timeout_s = state.payments.hold_timeout_s.max(1);
    let row = match state
        .db
        .begin_biller_payment(&new, &biller.code, target, hold_timeout_s)
        .await?
    {
        BeginPayment::Started(row) | BeginPayment::Existing(row) => row,
        BeginPayment::KeyReused(_) => {
            return Err(ApiError::new(ErrorCode::PaymentIdempotencyKeyReused));
        }
        BeginPayment::Refused(refusal) => {
            return Err(match refusal {
                BillRefusal::Unknown => ApiError::new(ErrorCode::PaymentBillUnknown),
                BillRefusal::AlreadyPaid => ApiError::with_detail(
                    ErrorCode::PaymentBillAlreadyPaid,
                    format!("la factura {target_text} de {} ya está pagada", biller.name),
                ),
                BillRefusal::InProgress => ApiError::new(ErrorCode::PaymentBillInProgress),
            });
        }
    };
    resume(state, engine, row).await
}

/// Whether an operation pays a biller, and so runs as a hold ([`resume`]).
pub fn pays_a_biller(row: &OperationRow) -> bool {
    matches!(
        OperationKind::parse(&row.kind),
        Some(OperationKind::BillPayment | OperationKind::TaxPayment | OperationKind::TopUp)
    )
}

/// What an operation to a biller holds in the ledger, rebuilt from its rows, so every attempt
/// submits exactly the same transfers.
struct Held {
    id: u128,
    kind: OperationKind,
    amount: Money,
    legs: Vec<NewTransfer>,
}

impl Held {
    fn of(row: &OperationRow, side: &BillerPaymentRow) -> Result<Held, ApiError> {
        let corrupt = || {
            tracing::error!(operation = %row.id, "a payment to a biller cannot be planned");
            ApiError::new(ErrorCode::Internal)
        };
        let id: u128 = row.id.parse().map_err(|_| corrupt())?;
        let currency = Currency::parse(&row.currency).map_err(|_| corrupt())?;
        let kind = OperationKind::parse(&row.kind).ok_or_else(corrupt)?;
        let amount = Money::from_minor(row.amount_minor, currency);
        let fee = Money::from_minor(row.fee_minor, currency);
        if side.hold_timeout_s == 0 {
            return Err(corrupt());
        }
        let legs = plan::payment_hold(
            id,
            kind,
            &row.user_id,
            accounts::biller(&side.biller_code, currency),
            amount,
            fee,
            side.hold_timeout_s,
        );
        Ok(Held {
            id,
            kind,
            amount,
            legs,
        })
    }
}

/// Carries a payment to a biller on from wherever the ledger says it stands (steps 3 to 6 of
/// the module's saga): places the hold if it is missing, asks the biller while it is held, and
/// records the outcome once the hold is posted, voided or expired. Returns the operation still
/// `pending` when the biller did not answer. Safe to run any number of times, concurrently.
pub async fn resume(
    state: &AppState,
    engine: &LedgerEngine,
    row: OperationRow,
) -> Result<OperationRow, ApiError> {
    if row.status != OperationStatus::Pending {
        return Ok(row);
    }
    let corrupt = || {
        tracing::error!(operation = %row.id, "a payment to a biller has no biller record");
        ApiError::new(ErrorCode::Internal)
    };
    let side = state
        .db
        .biller_payment(&row.id)
        .await?
        .ok_or_else(corrupt)?;
    let biller = state
        .db
        .biller(&side.biller_code)
        .await?
        .ok_or_else(corrupt)?;
    let held = Held::of(&row, &side)?;
    let read = |engine: &LedgerEngine| plan::hold_state(&engine.read().state, held.id);

    if read(engine) == HoldState::Missing {
        ensure_biller_account(engine, &side.biller_code, held.amount.currency).await?;
        let results = engine
            .create_transfers(held.legs.clone())
            .await
            .map_err(|error| ledger_unavailable(&error))?;
        if let Some(refusal) = plan::refusal(&held.legs, &results) {
            // Nothing was held: the wallet cannot pay it. The bill is released, no SMS.
            let finished = state
                .db
                .finish_biller_payment(
                    &row.id,
                    Finish::Refused {
                        code: refusal_code(&refusal).name(),
                        detail: &refusal.to_string(),
                    },
                    &[],
                    state.clock.now_ms(),
                )
                .await?;
            return Ok(finished);
        }
    }

    let mut biller_reason = None;
    if read(engine) == HoldState::Held {
        let reference = side
            .bill_reference
            .as_deref()
            .or(side.top_up_account.as_deref())
            .unwrap_or_default();
        let request = BillerRequest {
            operation_id: &row.id,
            biller_code: &side.biller_code,
            kind: held.kind,
            reference,
            amount: held.amount,
        };
        let wait =
            BILLER_ANSWER_WAIT_MAX.min(Duration::from_millis(u64::from(side.hold_timeout_s) * 500));
        let answer = tokio::time::timeout(wait, state.biller_connector.confirm(request))
            .await
            .unwrap_or(BillerAnswer::NoAnswer);
        let resolution = match answer {
            BillerAnswer::Accepted => plan::post_hold(&held.legs),
            BillerAnswer::Refused(reason) => {
                biller_reason = Some(reason);
                plan::void_hold(&held.legs)
            }
            BillerAnswer::NoAnswer => return Ok(row),
        };
        // Whatever the ledger answers (done, or already posted, voided or expired by someone
        // else), the hold's state read below is the truth.
        engine
            .create_transfers(resolution)
            .await
            .map_err(|error| ledger_unavailable(&error))?;
    }

    conclude(state, engine, &row, &biller, &side, &held, biller_reason).await
}

/// Records the outcome of a hold that is posted, voided or expired, with its SMS.
async fn conclude(
    state: &AppState,
    engine: &LedgerEngine,
    row: &OperationRow,
    biller: &BillerRow,
    side: &BillerPaymentRow,
    held: &Held,
    biller_reason: Option<String>,
) -> Result<OperationRow, ApiError> {
    let hold = plan::hold_state(&engine.read().state, held.id);
    let now_ms = state.clock.now_ms();
    let payer = state.db.user_by_id(&row.user_id).await?;
    let currency = held.amount.currency;
    let balance = || {
        Money::from_minor(
            available(engine, accounts::wallet(&row.user_id, currency)),
            currency,
        )
        .ascii()
    };
    let amount = held.amount.ascii();
    match hold {
        HoldState::Posted => {
            let receipt = ReceiptCode::compute(
                &state.payments.receipt_key,
                held.id,
                held.kind,
                held.amount,
                row.created_at_ms,
            );
            let what = match (&side.bill_reference, &side.top_up_account) {
                (Some(reference), _) if held.kind == OperationKind::TaxPayment => {
                    format!("pago de {amount} a {}, referencia {reference}", biller.name)
                }
                (Some(reference), _) => {
                    format!("pago de {amount} a {}, factura {reference}", biller.name)
                }
                (None, account) => format!(
                    "recarga de {amount} a {} ({})",
                    account.as_deref().unwrap_or_default(),
                    biller.name
                ),
            };
            let text = format!(
                "Ceiba Pagos: {what}. Saldo {}. Recibo {}",
                balance(),
                receipt.as_str()
            );
            let messages: Vec<(&str, &str)> = payer
                .as_ref()
                .map(|payer| (payer.phone.as_str(), text.as_str()))
                .into_iter()
                .collect();
            Ok(state
                .db
                .finish_biller_payment(
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
            let (code, detail) = if hold == HoldState::Voided {
                (
                    ErrorCode::PaymentBillerRefused,
                    format!(
                        "{} rechazó el pago: {}",
                        biller.name,
                        biller_reason.as_deref().unwrap_or("no dijo por qué")
                    ),
                )
            } else {
                (
                    ErrorCode::PaymentReversed,
                    format!(
                        "{} no confirmó el pago en {} s; se anuló",
                        biller.name, side.hold_timeout_s
                    ),
                )
            };
            let text = format!(
                "Ceiba Pagos: el pago de {amount} a {} no se completo; el dinero retenido volvio \
                 a su saldo. Saldo {}.",
                biller.name,
                balance()
            );
            let messages: Vec<(&str, &str)> = payer
                .as_ref()
                .map(|payer| (payer.phone.as_str(), text.as_str()))
                .into_iter()
                .collect();
            Ok(state
                .db
                .finish_biller_payment(
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
        // Still held: a resolution that the ledger has not applied yet. Later attempts finish it.
        HoldState::Held => Ok(row.clone()),
        HoldState::Missing | HoldState::NotAHold => {
            tracing::error!(operation = %row.id, ?hold, "a payment to a biller has no hold to conclude");
            Err(ApiError::new(ErrorCode::Internal))
        }
    }
}

/// The answer for a payment to a biller: 201 when completed, 202 while the biller has not
/// answered (follow it at `GET /api/v1/payments/operations/{id}`), the refusal's problem when
/// refused; the same for every retry with the same key.
fn held_answer(
    row: &OperationRow,
    viewer: &str,
) -> Result<(StatusCode, Json<OperationView>), ApiError> {
    if row.status == OperationStatus::Pending {
        return Ok((StatusCode::ACCEPTED, Json(operation_view(row, viewer))));
    }
    payments::answer(row, viewer)
}

// ---------------------------------------------------------------------------------------------
// HTTP for people
// ---------------------------------------------------------------------------------------------

/// The billers a person can pay: utilities, the tax office, fines, and the telecom operator's
/// top-ups with what they sell.
#[utoipa::path(get, path = "/api/v1/payments/billers", tag = "pagos",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Emisores", body = [BillerView]),
        (status = 401, description = "Sin sesión", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_billers(
    _who: Authenticated,
    State(state): State<AppState>,
) -> Result<Json<Vec<BillerView>>, ApiError> {
    Ok(Json(billers(&state).await?))
}

/// Looks a bill up by its biller and the reference printed on it, before paying it.
#[utoipa::path(get, path = "/api/v1/payments/bills/{biller}/{reference}", tag = "pagos",
    security(("bearer" = [])),
    params(
        ("biller" = String, Path, description = "Código del emisor, p. ej. «une»"),
        ("reference" = String, Path, description = "Referencia impresa en la factura"),
    ),
    responses(
        (status = 200, description = "La factura", body = BillView),
        (status = 404, description = "Emisor o factura desconocidos", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn lookup_bill(
    _who: Authenticated,
    State(state): State<AppState>,
    Path((biller, reference)): Path<(String, String)>,
) -> Result<Json<BillView>, ApiError> {
    Ok(Json(find_bill(&state, &biller, &reference).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayBillBody {
    /// The biller's code: `une`, `aguas-habana`, `onat`, `contravenciones` …
    pub biller: String,
    /// The reference printed on the bill, tax form or fine.
    pub reference: String,
}

/// Pays a bill, a tax or a fine in full from the wallet. The money is held first and reaches
/// the biller once it confirms; if it does not within the hold's timeout, the payment reverses
/// by itself and an SMS says so. Send an `Idempotency-Key`: a retry pays at most once.
#[utoipa::path(post, path = "/api/v1/payments/bills", tag = "pagos",
    security(("bearer" = [])),
    request_body = PayBillBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Clave única de la operación")),
    responses(
        (status = 201, description = "Pagada", body = OperationView),
        (status = 202, description = "Retenido, esperando al emisor; consulte la operación", body = OperationView),
        (status = 404, description = "Emisor o factura desconocidos", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Ya pagada, o otro pago en curso", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rechazado: saldo, emisor, o anulado por falta de respuesta", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "El libro mayor no está disponible; reintente con la misma clave", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn pay_bill_handler(
    who: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PayBillBody>,
) -> Result<(StatusCode, Json<OperationView>), ApiError> {
    let key = idempotency_key(&headers)?;
    let row = pay_bill(
        &state,
        &who.user,
        &body.biller,
        &body.reference,
        key.as_deref(),
    )
    .await?;
    held_answer(&row, &who.user.id)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopUpBody {
    /// `movil` or `nauta`.
    pub service: String,
    /// The mobile number (+53 5…) or the Nauta account (usuario@nauta.com.cu).
    pub account: String,
    /// In pesos: one of the mobile denominations, or any amount within the Nauta bounds (see
    /// `GET /api/v1/payments/billers`).
    #[schema(value_type = String)]
    pub amount: AmountInput,
}

/// Tops up a mobile line or a Nauta account from the wallet, held like a bill payment.
#[utoipa::path(post, path = "/api/v1/payments/top-ups", tag = "pagos",
    security(("bearer" = [])),
    request_body = TopUpBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Clave única de la operación")),
    responses(
        (status = 201, description = "Recargado", body = OperationView),
        (status = 202, description = "Retenido, esperando al operador", body = OperationView),
        (status = 422, description = "Importe no vendido, cuenta no válida, saldo", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "El libro mayor no está disponible; reintente con la misma clave", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn top_up_handler(
    who: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TopUpBody>,
) -> Result<(StatusCode, Json<OperationView>), ApiError> {
    let key = idempotency_key(&headers)?;
    let amount = body.amount.text();
    let row = top_up(
        &state,
        &who.user,
        &body.service,
        &body.account,
        &amount,
        key.as_deref(),
    )
    .await?;
    held_answer(&row, &who.user.id)
}

// ---------------------------------------------------------------------------------------------
// HTTP for billers
// ---------------------------------------------------------------------------------------------

/// The biller `code`, if `who` operates it.
async fn operated_biller(
    state: &AppState,
    code: &str,
    who: &Authenticated,
) -> Result<BillerRow, ApiError> {
    let biller = known_biller(state, code).await?;
    if biller.user_id.as_deref() != Some(who.user.id.as_str()) {
        return Err(ApiError::with_detail(
            ErrorCode::Forbidden,
            format!("su cuenta no opera el emisor «{}»", biller.code),
        ));
    }
    Ok(biller)
}

/// One bill in a JSON upload.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillInput {
    /// As printed on the bill: letters, digits, «-», «/», «.»; up to 30.
    pub reference: String,
    /// The customer's full name (people paying see it masked).
    pub customer: String,
    /// In pesos: "125.50".
    #[schema(value_type = String)]
    pub amount: AmountInput,
    /// AAAA-MM-DD.
    pub due_date: String,
    /// What the bill covers: "2026-11", "noviembre 2026".
    pub period: String,
    /// CUP (the default) or USD.
    pub currency: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillsUpload {
    pub bills: Vec<BillInput>,
}

/// The JSON upload's bills, checked like a file's.
fn read_bills_json(upload: &BillsUpload) -> Result<Vec<BillLine>, Vec<String>> {
    let amounts: Vec<String> = upload.bills.iter().map(|bill| bill.amount.text()).collect();
    let fields: Vec<BillFields<'_>> = upload
        .bills
        .iter()
        .zip(&amounts)
        .map(|(bill, amount)| BillFields {
            reference: &bill.reference,
            customer: &bill.customer,
            amount,
            due_date: &bill.due_date,
            period: &bill.period,
            currency: bill.currency.as_deref(),
        })
        .collect();
    read_bills(&fields, BILLS_UPLOAD_MAX)
}

fn invalid_bills(errors: &[String]) -> ApiError {
    let shown: Vec<&str> = errors
        .iter()
        .take(UPLOAD_ERRORS_SHOWN_MAX)
        .map(String::as_str)
        .collect();
    let mut detail = shown.join("; ");
    if errors.len() > shown.len() {
        detail.push_str(&format!("; y {} errores más", errors.len() - shown.len()));
    }
    ApiError::with_detail(ErrorCode::BillerBillsInvalid, detail)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadAnswer {
    /// How many bills were saved (all of them, or the upload was refused).
    pub inserted: usize,
}

/// A biller uploads its bills: `text/csv` with the header `referencia,cliente,importe,
/// vencimiento,periodo` (amounts in CUP as "125.50", dates AAAA-MM-DD), or JSON. Every line is
/// checked; an error refuses the whole file, naming the line, and nothing is saved. A reference
/// already uploaded is an error too: a bill, once issued, is not replaced.
#[utoipa::path(post, path = "/api/v1/billers/{code}/bills", tag = "pagos",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Código del emisor")),
    request_body(description = "Facturas en CSV o JSON", content(
        (String = "text/csv"),
        (BillsUpload = "application/json"),
    )),
    responses(
        (status = 201, description = "Guardadas todas", body = UploadAnswer),
        (status = 403, description = "Su cuenta no opera este emisor", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Ni text/csv ni application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "El archivo tiene errores; no se guardó nada", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upload_bills(
    operator: Authorized<Biller>,
    State(state): State<AppState>,
    Path(code): Path<String>,
    request: Request,
) -> Result<(StatusCode, Json<UploadAnswer>), ApiError> {
    let biller = operated_biller(&state, &code, &operator.who).await?;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let parsed = match content_type.as_str() {
        "text/csv" => {
            let body = Bytes::from_request(request, &state)
                .await
                .map_err(|rejection| {
                    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        ApiError::new(ErrorCode::PayloadTooLarge)
                    } else {
                        ApiError::with_detail(ErrorCode::BadRequest, rejection.body_text())
                    }
                })?;
            read_bills_csv(&body, BILLS_UPLOAD_MAX)
        }
        "application/json" => {
            let ApiJson(upload) = ApiJson::<BillsUpload>::from_request(request, &state).await?;
            read_bills_json(&upload)
        }
        _ => {
            return Err(ApiError::with_detail(
                ErrorCode::UnsupportedMediaType,
                "se espera Content-Type: text/csv o application/json",
            ));
        }
    }
    .map_err(|errors| invalid_bills(&errors))?;
    if parsed.is_empty() {
        return Err(invalid_bills(&["no trae ninguna factura".to_owned()]));
    }
    // A reference twice in one file is named here, with both places.
    let mut seen = std::collections::HashMap::new();
    for bill in &parsed {
        if let Some(first) = seen.insert(bill.reference.as_str(), bill.place.as_str()) {
            return Err(invalid_bills(&[format!(
                "{}: la referencia {} ya aparece en la {first}",
                bill.place, bill.reference
            )]));
        }
    }
    let bills: Vec<NewBill<'_>> = parsed
        .iter()
        .map(|bill| NewBill {
            reference: &bill.reference,
            customer_name: &bill.customer_name,
            amount_minor: bill.amount_minor,
            currency: bill.currency.code(),
            due_date: &bill.due_date,
            period: &bill.period,
        })
        .collect();
    match state
        .db
        .insert_bills(&biller.code, &bills, state.clock.now_ms())
        .await?
    {
        InsertBills::Inserted(inserted) => {
            Ok((StatusCode::CREATED, Json(UploadAnswer { inserted })))
        }
        InsertBills::Duplicate(index) => {
            let bill = &parsed[index];
            Err(invalid_bills(&[format!(
                "{}: la referencia {} ya se cargó antes",
                bill.place, bill.reference
            )]))
        }
    }
}

/// A payment as its biller sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaidView {
    pub operation_id: String,
    /// `bill_payment`, `tax_payment` or `top_up`.
    pub kind: String,
    /// The bill's reference, or the account topped up.
    pub reference: String,
    /// The bill's customer, in full; empty for a top-up.
    pub customer: String,
    pub period: String,
    pub amount_minor: u64,
    pub amount: String,
    pub currency: String,
    pub receipt_code: String,
    pub paid_at_ms: i64,
}

fn paid_view(paid: &PaidToBiller) -> PaidView {
    let currency = Currency::parse(&paid.currency).unwrap_or(Currency::Cup);
    PaidView {
        operation_id: paid.operation_id.clone(),
        kind: paid.kind.clone(),
        reference: paid.reference.clone(),
        customer: paid.customer_name.clone(),
        period: paid.period.clone(),
        amount_minor: paid.amount_minor,
        amount: Money::from_minor(paid.amount_minor, currency).to_string(),
        currency: paid.currency.clone(),
        receipt_code: paid.receipt_code.clone(),
        paid_at_ms: paid.paid_at_ms,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BillerPaymentsQuery {
    /// Only payments completed at or after this moment (ms since the epoch).
    pub from_ms: Option<i64>,
    /// Only payments completed before this moment.
    pub to_ms: Option<i64>,
    /// Page size, 1 to 1,000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillerPaymentsPage {
    pub payments: Vec<PaidView>,
    pub next_cursor: Option<String>,
}

/// The payments a biller received (bills, taxes, fines, top-ups), oldest first.
#[utoipa::path(get, path = "/api/v1/billers/{code}/payments", tag = "pagos",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Código del emisor"), BillerPaymentsQuery),
    responses(
        (status = 200, description = "Pagos recibidos", body = BillerPaymentsPage),
        (status = 403, description = "Su cuenta no opera este emisor", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn biller_payments(
    operator: Authorized<Biller>,
    State(state): State<AppState>,
    Path(code): Path<String>,
    query: Result<Query<BillerPaymentsQuery>, QueryRejection>,
) -> Result<Json<BillerPaymentsPage>, ApiError> {
    let bad = |detail: String| ApiError::with_detail(ErrorCode::BadRequest, detail);
    let Query(query) = query.map_err(|rejection| bad(rejection.body_text()))?;
    let biller = operated_biller(&state, &code, &operator.who).await?;
    let limit = query.limit.unwrap_or(BILLER_PAYMENTS_PAGE_DEFAULT);
    if !(1..=BILLER_PAYMENTS_PAGE_MAX).contains(&limit) {
        return Err(bad(format!(
            "«limit» debe estar entre 1 y {BILLER_PAYMENTS_PAGE_MAX}"
        )));
    }
    let after = match query.cursor.as_deref() {
        None => None,
        Some(cursor) => Some(
            cursor
                .split_once('.')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_owned())))
                .ok_or_else(|| bad("«cursor» no es un cursor de esta lista".to_owned()))?,
        ),
    };
    let rows = state
        .db
        .payments_to_biller(
            &biller.code,
            query.from_ms.unwrap_or(0),
            query.to_ms.unwrap_or(i64::MAX),
            after.as_ref().map(|(at, id)| (*at, id.as_str())),
            limit,
        )
        .await?;
    let next_cursor = (rows.len() == usize::try_from(limit).unwrap_or(usize::MAX))
        .then(|| {
            rows.last()
                .map(|paid| format!("{}.{}", paid.paid_at_ms, paid.operation_id))
        })
        .flatten();
    Ok(Json(BillerPaymentsPage {
        payments: rows.iter().map(paid_view).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReconciliationQuery {
    /// The day, AAAA-MM-DD, in Havana time.
    pub date: String,
}

/// A field of the reconciliation file, kept from being read as a formula by spreadsheets
/// (a leading `=`, `@`, or a sign not followed by a plain number gets an apostrophe).
pub(crate) fn spreadsheet_safe(text: &str) -> String {
    let risky = match text.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !text[1..].bytes().all(|b| b.is_ascii_digit() || b == b'.'),
        _ => false,
    };
    if risky {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// The reconciliation file of one day: every payment the biller received, completed that day
/// (Havana time), one line each, as CSV with the header
/// `fecha_pago,operacion,tipo,referencia,cliente,periodo,importe,moneda,recibo`.
#[utoipa::path(get, path = "/api/v1/billers/{code}/reconciliation", tag = "pagos",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Código del emisor"), ReconciliationQuery),
    responses(
        (status = 200, description = "Conciliación del día en CSV", content_type = "text/csv"),
        (status = 400, description = "Fecha no válida", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Su cuenta no opera este emisor", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reconciliation(
    operator: Authorized<Biller>,
    State(state): State<AppState>,
    Path(code): Path<String>,
    query: Result<Query<ReconciliationQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let bad = |detail: String| ApiError::with_detail(ErrorCode::BadRequest, detail);
    let Query(query) = query.map_err(|rejection| bad(rejection.body_text()))?;
    let biller = operated_biller(&state, &code, &operator.who).await?;
    let zone = state.payments.time_zone.clone();
    let (date, from_ms, to_ms) = day_bounds(&state, &query.date)?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write_error = |error: csv::Error| {
        tracing::error!(%error, "could not write a reconciliation file");
        ApiError::new(ErrorCode::Internal)
    };
    writer
        .write_record([
            "fecha_pago",
            "operacion",
            "tipo",
            "referencia",
            "cliente",
            "periodo",
            "importe",
            "moneda",
            "recibo",
        ])
        .map_err(write_error)?;
    let mut after: Option<(i64, String)> = None;
    let mut rows = 0_usize;
    loop {
        let page = state
            .db
            .payments_to_biller(
                &biller.code,
                from_ms,
                to_ms,
                after.as_ref().map(|(at, id)| (*at, id.as_str())),
                BILLER_PAYMENTS_PAGE_MAX,
            )
            .await?;
        rows += page.len();
        if rows > RECONCILIATION_ROWS_MAX {
            return Err(bad(format!(
                "el día tiene más de {RECONCILIATION_ROWS_MAX} pagos; use /payments por páginas"
            )));
        }
        for paid in &page {
            let when = local_timestamp(&zone, paid.paid_at_ms);
            let amount = plain_amount(paid.amount_minor);
            writer
                .write_record([
                    when,
                    paid.operation_id.clone(),
                    paid.kind.clone(),
                    spreadsheet_safe(&paid.reference),
                    spreadsheet_safe(&paid.customer_name),
                    spreadsheet_safe(&paid.period),
                    amount,
                    paid.currency.clone(),
                    paid.receipt_code.clone(),
                ])
                .map_err(write_error)?;
        }
        let full = page.len() == usize::try_from(BILLER_PAYMENTS_PAGE_MAX).unwrap_or(usize::MAX);
        after = page
            .last()
            .map(|paid| (paid.paid_at_ms, paid.operation_id.clone()));
        if !full {
            break;
        }
    }
    let body = writer
        .into_inner()
        .map_err(|error| write_error(error.into_error().into()))?;
    Ok(csv_file(
        &format!("conciliacion-{}-{date}.csv", biller.code),
        body,
    ))
}

/// The day `text` names (AAAA-MM-DD, Havana time) and the instants it starts and ends, in
/// milliseconds; for the reconciliation files.
pub(crate) fn day_bounds(
    state: &AppState,
    text: &str,
) -> Result<(jiff::civil::Date, i64, i64), ApiError> {
    let bad = |detail: String| ApiError::with_detail(ErrorCode::BadRequest, detail);
    let zone = state.payments.time_zone.clone();
    let date: jiff::civil::Date = text
        .trim()
        .parse()
        .map_err(|_| bad(format!("«{text}» no es una fecha AAAA-MM-DD")))?;
    let start_of = |date: jiff::civil::Date| {
        date.to_zoned(zone.clone())
            .map(|zoned| zoned.timestamp().as_millisecond())
            .map_err(|_| bad(format!("«{date}» no es una fecha válida")))
    };
    let from_ms = start_of(date)?;
    let to_ms = start_of(
        date.tomorrow()
            .map_err(|_| bad("la fecha no es válida".to_owned()))?,
    )?;
    Ok((date, from_ms, to_ms))
}

/// `2026-11-30 14:05:09`, in `zone`.
pub(crate) fn local_timestamp(zone: &jiff::tz::TimeZone, at_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(at_ms)
        .map(|at| {
            at.to_zoned(zone.clone())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

/// `1234.50`: an amount as spreadsheets read it.
pub(crate) fn plain_amount(minor: u64) -> String {
    format!(
        "{}.{:02}",
        minor / ceiba_payments::MINOR_PER_UNIT,
        minor % ceiba_payments::MINOR_PER_UNIT
    )
}

/// A CSV body as a download called `filename`.
pub(crate) fn csv_file(filename: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillerOperatorBody {
    /// The phone number of the account that will operate the biller; it must hold the role
    /// `biller`. `null` leaves the biller without operator.
    pub phone: Option<String>,
}

/// An administrator names the account that operates a biller (uploads its bills, reconciles).
#[utoipa::path(put, path = "/api/v1/billers/{code}/operator", tag = "pagos",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Código del emisor")),
    request_body = BillerOperatorBody,
    responses(
        (status = 403, description = "Sin el rol «Administrador» o sin segundo factor en la sesión", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "El emisor con su operador", body = BillerView),
        (status = 404, description = "Emisor desconocido", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "La cuenta no existe o no tiene el rol de emisor", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_biller_operator(
    _admin: Authorized<Administrator>,
    State(state): State<AppState>,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<BillerOperatorBody>,
) -> Result<Json<BillerView>, ApiError> {
    let biller = known_biller(&state, &code).await?;
    let user_id = match body.phone.as_deref() {
        None => None,
        Some(phone) => {
            let phone = PhoneNumber::parse(phone).map_err(|error| {
                ApiError::with_detail(ErrorCode::ValidationFailed, error.to_string())
            })?;
            let user = state
                .db
                .user_by_phone(&phone)
                .await?
                .filter(|user| user.roles.contains(&Role::Biller))
                .ok_or_else(|| {
                    ApiError::with_detail(
                        ErrorCode::ValidationFailed,
                        "no hay ninguna cuenta con ese número y el rol de emisor de facturas",
                    )
                })?;
            Some(user.id)
        }
    };
    state
        .db
        .set_biller_user(&biller.code, user_id.as_deref())
        .await?;
    Ok(Json(biller_view(&state.payments.top_ups, &biller)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_masked_word_by_word() {
        assert_eq!(mask_name("Ana Pérez García"), "A** P**** G*****");
        assert_eq!(mask_name("  Ñico   de la O "), "Ñ*** d* l* O");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn reconciliation_fields_are_not_formulas() {
        assert_eq!(spreadsheet_safe("+5351234567"), "+5351234567");
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("-2+3"), "'-2+3");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("Ana"), "Ana");
    }
}
