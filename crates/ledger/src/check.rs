//! The ledger's invariants, checked from scratch: money is neither created nor lost, no balance
//! breaks its account's flags, every transfer refers to existing accounts of its ledger, and
//! timestamps strictly increase. Balances are recomputed from the transfers and compared.

use std::collections::{BTreeMap, HashMap};

use crate::state::LedgerState;
use crate::types::{AccountFlags, AccountId, Balances, LedgerId, PendingStatus, TransferFlags};

/// Totals of one ledger; debits equal credits when the ledger is sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LedgerTotals {
    pub ledger: LedgerId,
    pub accounts: u64,
    pub debits_posted: u128,
    pub credits_posted: u128,
    pub debits_pending: u128,
    pub credits_pending: u128,
}

/// What `check` found: totals per ledger and every broken invariant, in Spanish.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckReport {
    pub accounts: u64,
    pub transfers: u64,
    pub ledgers: Vec<LedgerTotals>,
    pub violations: Vec<String>,
}

impl CheckReport {
    pub fn is_sound(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Most violations listed; a corrupt ledger could otherwise produce millions of lines.
const VIOLATIONS_MAX: usize = 100;

pub fn check(state: &LedgerState) -> CheckReport {
    let mut report = CheckReport::default();
    let violation = |report: &mut CheckReport, text: String| {
        if report.violations.len() < VIOLATIONS_MAX {
            report.violations.push(text);
        }
    };
    let mut totals: BTreeMap<LedgerId, LedgerTotals> = BTreeMap::new();
    let mut ledger_of: HashMap<AccountId, LedgerId> = HashMap::new();
    let mut recomputed: HashMap<AccountId, Balances> = HashMap::new();
    let mut last_account_timestamp = 0;
    for account in state.all_accounts() {
        report.accounts += 1;
        if account.id.is_zero() || account.id.is_max() {
            violation(
                &mut report,
                format!("cuenta con identificador inválido {}", account.id),
            );
        }
        if account.timestamp <= last_account_timestamp {
            violation(
                &mut report,
                format!(
                    "la cuenta {} no tiene marca de tiempo creciente",
                    account.id
                ),
            );
        }
        last_account_timestamp = account.timestamp;
        let b = account.balances;
        let t = totals.entry(account.ledger).or_insert(LedgerTotals {
            ledger: account.ledger,
            ..LedgerTotals::default()
        });
        t.accounts += 1;
        let add = |total: &mut u128, value: u128| *total = total.wrapping_add(value);
        add(&mut t.debits_posted, b.debits_posted);
        add(&mut t.credits_posted, b.credits_posted);
        add(&mut t.debits_pending, b.debits_pending);
        add(&mut t.credits_pending, b.credits_pending);
        let debits = b.debits_posted.checked_add(b.debits_pending);
        let credits = b.credits_posted.checked_add(b.credits_pending);
        if account
            .flags
            .has(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS)
            && debits.is_none_or(|debits| debits > b.credits_posted)
        {
            violation(
                &mut report,
                format!("la cuenta {} debe más de lo que tiene", account.id),
            );
        }
        if account
            .flags
            .has(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS)
            && credits.is_none_or(|credits| credits > b.debits_posted)
        {
            violation(
                &mut report,
                format!("la cuenta {} recibió más de lo permitido", account.id),
            );
        }
        ledger_of.insert(account.id, account.ledger);
        recomputed.insert(account.id, Balances::default());
    }
    let mut last_timestamp = 0;
    for (slot, transfer) in state.all_transfers().enumerate() {
        report.transfers += 1;
        if transfer.timestamp <= last_timestamp {
            violation(
                &mut report,
                format!(
                    "la transferencia {} no tiene marca de tiempo creciente",
                    transfer.id
                ),
            );
        }
        last_timestamp = transfer.timestamp;
        if transfer.amount == 0 {
            violation(
                &mut report,
                format!("la transferencia {} no mueve dinero", transfer.id),
            );
        }
        for side in [transfer.debit_account_id, transfer.credit_account_id] {
            match ledger_of.get(&side) {
                None => violation(
                    &mut report,
                    format!(
                        "la transferencia {} nombra la cuenta inexistente {side}",
                        transfer.id
                    ),
                ),
                Some(ledger) if *ledger != transfer.ledger => violation(
                    &mut report,
                    format!(
                        "la transferencia {} cruza del libro {} al {}",
                        transfer.id, transfer.ledger.0, ledger.0
                    ),
                ),
                Some(_) => {}
            }
        }
        let flags = transfer.flags;
        let amount = transfer.amount;
        let (pending, posted) = if flags.has(TransferFlags::PENDING) {
            let open = state.status_of_slot(slot) == PendingStatus::Pending;
            (if open { amount } else { 0 }, 0)
        } else if flags.has(TransferFlags::VOID_PENDING) {
            (0, 0)
        } else {
            (0, amount)
        };
        if let Some(debit) = recomputed.get_mut(&transfer.debit_account_id) {
            debit.debits_pending = debit.debits_pending.wrapping_add(pending);
            debit.debits_posted = debit.debits_posted.wrapping_add(posted);
        }
        if let Some(credit) = recomputed.get_mut(&transfer.credit_account_id) {
            credit.credits_pending = credit.credits_pending.wrapping_add(pending);
            credit.credits_posted = credit.credits_posted.wrapping_add(posted);
        }
    }
    if state.last_timestamp() < last_timestamp.max(last_account_timestamp) {
        violation(
            &mut report,
            "el reloj del libro va por detrás de sus registros".to_owned(),
        );
    }
    for account in state.all_accounts() {
        if recomputed.get(&account.id) != Some(&account.balances) {
            violation(
                &mut report,
                format!(
                    "los saldos de la cuenta {} no cuadran con sus transferencias",
                    account.id
                ),
            );
        }
    }
    for t in totals.values() {
        if t.debits_posted != t.credits_posted {
            violation(
                &mut report,
                format!(
                    "libro {}: débitos asentados ≠ créditos asentados",
                    t.ledger.0
                ),
            );
        }
        if t.debits_pending != t.credits_pending {
            violation(
                &mut report,
                format!(
                    "libro {}: débitos pendientes ≠ créditos pendientes",
                    t.ledger.0
                ),
            );
        }
    }
    report.ledgers = totals.into_values().collect();
    report
}
