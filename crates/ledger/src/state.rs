//! The state machine. It owns every account and transfer in memory, applies batches in order and
//! answers queries. It never reads a clock: each batch brings the time it is applied at, so the
//! same journal replays to the same state, byte for byte.

use std::collections::{BTreeSet, HashMap};

use foldhash::fast::RandomState;

use crate::collections::{ChunkedVec, ShardedIndex};

use crate::results::{CreateAccountResult, CreateTransferResult};
use crate::types::{
    Account, AccountFlags, AccountId, Balances, NewAccount, NewTransfer, PendingStatus, Timestamp,
    Transfer, TransferFlags, TransferId,
};

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// Index of an account or transfer in its vector. u32 bounds the ledger at 4 billion transfers in
/// memory, far beyond what one process holds before snapshots exist.
type Slot = u32;

fn slot(index: usize) -> Slot {
    Slot::try_from(index).expect("fewer than 2^32 records in memory")
}

#[derive(Debug, Clone)]
struct AccountEntry {
    account: Account,
    /// Slots of the transfers that touch this account, in timestamp order.
    transfers: Vec<Slot>,
    /// Balances after each change, for accounts with `history`.
    history: Vec<(Timestamp, Balances)>,
}

#[derive(Debug, Clone, Copy)]
struct PendingEntry {
    status: PendingStatus,
    expires_at: Option<Timestamp>,
}

/// What to undo when a linked chain fails.
#[derive(Debug, Clone, Copy)]
enum Undo {
    AccountCreated,
    TransferCreated {
        debit: Slot,
        credit: Slot,
    },
    Balances {
        account: Slot,
        before: Balances,
    },
    Flags {
        account: Slot,
        before: AccountFlags,
    },
    HistoryPushed {
        account: Slot,
    },
    PendingInserted {
        transfer: Slot,
    },
    PendingStatus {
        transfer: Slot,
        before: PendingStatus,
    },
    ExpiryInserted {
        at: Timestamp,
        transfer: Slot,
    },
    ExpiryRemoved {
        at: Timestamp,
        transfer: Slot,
    },
}

/// One kind of request in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    CreateAccounts(Vec<NewAccount>),
    CreateTransfers(Vec<NewTransfer>),
}

impl Operation {
    pub fn len(&self) -> usize {
        match self {
            Operation::CreateAccounts(events) => events.len(),
            Operation::CreateTransfers(events) => events.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The results of one operation, one per event, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationResults {
    CreateAccounts(Vec<CreateAccountResult>),
    CreateTransfers(Vec<CreateTransferResult>),
}

/// Which side of an account a query follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Debits,
    Credits,
    Both,
}

/// A page of an account's transfers: `[from, to]` inclusive, optionally one code, oldest first
/// unless `reversed`. The next page starts after the last timestamp returned (keyset pagination).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferFilter {
    pub account_id: AccountId,
    pub from: Timestamp,
    pub to: Timestamp,
    pub code: Option<u16>,
    pub direction: Direction,
    pub limit: usize,
    pub reversed: bool,
}

/// Why a balance-as-of query has no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    #[error("la cuenta no existe")]
    AccountNotFound,
    #[error("la cuenta no guarda historial de saldos (marca «history»)")]
    HistoryNotEnabled,
}

/// The whole ledger in memory.
#[derive(Debug, Clone, Default)]
pub struct LedgerState {
    accounts: ChunkedVec<AccountEntry>,
    account_index: ShardedIndex<AccountId>,
    transfers: ChunkedVec<Transfer>,
    transfer_index: ShardedIndex<TransferId>,
    pending: HashMap<Slot, PendingEntry, RandomState>,
    expiries: BTreeSet<(Timestamp, Slot)>,
    /// Pending transfers that expired, in the order they expired, with the time they did.
    expired: Vec<(Timestamp, Slot)>,
    last_timestamp: Timestamp,
    undo: Vec<Undo>,
}

impl LedgerState {
    pub fn new() -> LedgerState {
        LedgerState::default()
    }

    /// The last timestamp the ledger handed out; the next batch starts after it.
    pub fn last_timestamp(&self) -> Timestamp {
        self.last_timestamp
    }

    /// When the next pending transfer expires, so a writer with nothing else to do can apply an
    /// empty batch then and release the money.
    pub fn next_expiry(&self) -> Option<Timestamp> {
        self.expiries.first().map(|(at, _)| *at)
    }

    pub fn accounts_count(&self) -> usize {
        self.accounts.len()
    }

    pub fn transfers_count(&self) -> usize {
        self.transfers.len()
    }

    /// The memory this state holds, in bytes, estimated from its containers (the elements of
    /// the chunked vectors, the capacities of the rest): what the ledger itself adds to the
    /// process's memory (every account with its lists of
    /// transfers and balances, every transfer, the indexes). It grows with the transfers kept;
    /// a soak prints it next to the resident memory to tell the ledger's data from a leak.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let per_account: usize = self
            .accounts
            .iter()
            .map(|entry| {
                entry.transfers.capacity() * size_of::<Slot>()
                    + entry.history.capacity() * size_of::<(Timestamp, Balances)>()
            })
            .sum();
        // A B-tree node holds up to 11 entries; at least half full.
        let expiries = self.expiries.len() * size_of::<(Timestamp, Slot)>() * 2;
        self.accounts.heap_bytes()
            + per_account
            + self.account_index.heap_bytes()
            + self.transfers.heap_bytes()
            + self.transfer_index.heap_bytes()
            + crate::collections::map_bytes::<Slot, PendingEntry>(self.pending.capacity())
            + expiries
            + self.expired.capacity() * size_of::<(Timestamp, Slot)>()
            + self.undo.capacity() * size_of::<Undo>()
    }

    /// Applies a batch of operations at `now`. Timestamps are strictly increasing across batches
    /// even when the clock steps back: each batch starts after the last timestamp handed out.
    /// Pending transfers whose timeout has passed expire first.
    pub fn apply(&mut self, now: Timestamp, operations: &[Operation]) -> Vec<OperationResults> {
        let start = now.max(self.last_timestamp.saturating_add(1));
        let mut timestamp = self.expire_pending(start);
        let mut out = Vec::with_capacity(operations.len());
        for operation in operations {
            let results = match operation {
                Operation::CreateAccounts(events) => OperationResults::CreateAccounts(
                    self.run_chained(events, &mut timestamp, Self::create_account),
                ),
                Operation::CreateTransfers(events) => OperationResults::CreateTransfers(
                    self.run_chained(events, &mut timestamp, Self::create_transfer),
                ),
            };
            out.push(results);
        }
        if timestamp > start {
            self.last_timestamp = timestamp - 1;
        }
        debug_assert!(self.undo.is_empty());
        out
    }

    /// Runs events in order; a run of `linked` events ends at the first unlinked one and
    /// succeeds or fails as a whole. Every event takes a timestamp, applied or not.
    fn run_chained<E: Linked, R: ChainResult>(
        &mut self,
        events: &[E],
        timestamp: &mut Timestamp,
        mut one: impl FnMut(&mut LedgerState, &E, Timestamp) -> R,
    ) -> Vec<R> {
        let mut results: Vec<R> = Vec::with_capacity(events.len());
        let mut chain_start: Option<usize> = None;
        let mut chain_failed = false;
        let last = events.len().saturating_sub(1);
        for (index, event) in events.iter().enumerate() {
            let at = *timestamp;
            *timestamp = timestamp.checked_add(1).expect("timestamps fit in u64");
            let start = *chain_start.get_or_insert(index);
            let linked = event.linked();
            let result = if chain_failed {
                R::linked_failed()
            } else if linked && index == last {
                R::chain_open()
            } else {
                one(self, event, at)
            };
            if !result.is_ok() && !chain_failed {
                chain_failed = true;
                self.rollback();
                for earlier in &mut results[start..] {
                    *earlier = R::linked_failed();
                }
            }
            results.push(result);
            if !linked || index == last {
                chain_start = None;
                chain_failed = false;
                self.undo.clear();
            }
        }
        results
    }

    fn rollback(&mut self) {
        while let Some(step) = self.undo.pop() {
            match step {
                Undo::AccountCreated => {
                    let entry = self.accounts.pop().expect("an account to remove");
                    self.account_index.remove(&entry.account.id);
                }
                Undo::TransferCreated { debit, credit } => {
                    let transfer = self.transfers.pop().expect("a transfer to remove");
                    self.transfer_index.remove(&transfer.id);
                    self.accounts[debit as usize].transfers.pop();
                    self.accounts[credit as usize].transfers.pop();
                }
                Undo::Balances { account, before } => {
                    self.accounts[account as usize].account.balances = before;
                }
                Undo::Flags { account, before } => {
                    self.accounts[account as usize].account.flags = before;
                }
                Undo::HistoryPushed { account } => {
                    self.accounts[account as usize].history.pop();
                }
                Undo::PendingInserted { transfer } => {
                    self.pending.remove(&transfer);
                }
                Undo::PendingStatus { transfer, before } => {
                    self.pending
                        .get_mut(&transfer)
                        .expect("a pending entry")
                        .status = before;
                }
                Undo::ExpiryInserted { at, transfer } => {
                    self.expiries.remove(&(at, transfer));
                }
                Undo::ExpiryRemoved { at, transfer } => {
                    self.expiries.insert((at, transfer));
                }
            }
        }
    }

    /// Expires pending transfers whose time has come; each expiry takes a timestamp of its own.
    fn expire_pending(&mut self, mut timestamp: Timestamp) -> Timestamp {
        while let Some(&(at, transfer_slot)) = self.expiries.first() {
            if at > timestamp {
                break;
            }
            self.expiries.pop_first();
            let transfer = self.transfers[transfer_slot as usize];
            let entry = self
                .pending
                .get_mut(&transfer_slot)
                .expect("an expiring transfer is pending");
            assert_eq!(entry.status, PendingStatus::Pending);
            entry.status = PendingStatus::Expired;
            self.release_pending(&transfer, timestamp);
            self.expired.push((timestamp, transfer_slot));
            timestamp = timestamp.checked_add(1).expect("timestamps fit in u64");
        }
        self.undo.clear();
        timestamp
    }

    /// Returns a pending amount to both accounts (void or expiry) and reopens closed accounts.
    fn release_pending(&mut self, pending: &Transfer, at: Timestamp) {
        let debit = self.account_index[&pending.debit_account_id];
        let credit = self.account_index[&pending.credit_account_id];
        self.change_balances(debit, at, |b| {
            b.debits_pending -= pending.amount;
        });
        self.change_balances(credit, at, |b| {
            b.credits_pending -= pending.amount;
        });
        if pending.flags.has(TransferFlags::CLOSING_DEBIT) {
            self.set_closed(debit, false);
        }
        if pending.flags.has(TransferFlags::CLOSING_CREDIT) {
            self.set_closed(credit, false);
        }
    }

    fn change_balances(
        &mut self,
        account: Slot,
        at: Timestamp,
        change: impl FnOnce(&mut Balances),
    ) {
        let entry = &mut self.accounts[account as usize];
        let before = entry.account.balances;
        change(&mut entry.account.balances);
        self.undo.push(Undo::Balances { account, before });
        if entry.account.flags.has(AccountFlags::HISTORY) {
            entry.history.push((at, entry.account.balances));
            self.undo.push(Undo::HistoryPushed { account });
        }
    }

    fn set_closed(&mut self, account: Slot, closed: bool) {
        let flags = &mut self.accounts[account as usize].account.flags;
        let before = *flags;
        if closed {
            flags.0 |= AccountFlags::CLOSED;
        } else {
            flags.0 &= !AccountFlags::CLOSED;
        }
        self.undo.push(Undo::Flags { account, before });
    }

    fn create_account(&mut self, event: &NewAccount, at: Timestamp) -> CreateAccountResult {
        use CreateAccountResult as R;
        let flags = event.flags;
        if flags.0 & !AccountFlags::KNOWN != 0 {
            return R::FlagsAreUnknown;
        }
        if event.id.is_zero() {
            return R::IdMustNotBeZero;
        }
        if event.id.is_max() {
            return R::IdMustNotBeIntMax;
        }
        if flags.has(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS)
            && flags.has(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS)
        {
            return R::FlagsAreMutuallyExclusive;
        }
        if event.ledger.0 == 0 {
            return R::LedgerMustNotBeZero;
        }
        if event.code == 0 {
            return R::CodeMustNotBeZero;
        }
        if let Some(&existing) = self.account_index.get(&event.id) {
            let existing = &self.accounts[existing as usize].account;
            // An account closed since creation still matches the event that created it.
            let existing_flags = AccountFlags(existing.flags.0 & !AccountFlags::CLOSED);
            let event_flags = AccountFlags(flags.without_linked().0 & !AccountFlags::CLOSED);
            return if existing_flags != event_flags {
                R::ExistsWithDifferentFlags
            } else if existing.owner != event.owner {
                R::ExistsWithDifferentOwner
            } else if existing.ledger != event.ledger {
                R::ExistsWithDifferentLedger
            } else if existing.code != event.code {
                R::ExistsWithDifferentCode
            } else {
                R::Exists
            };
        }
        let account = Account {
            id: event.id,
            ledger: event.ledger,
            code: event.code,
            owner: event.owner,
            flags: flags.without_linked(),
            balances: Balances::default(),
            timestamp: at,
        };
        self.account_index
            .insert(event.id, slot(self.accounts.len()));
        self.accounts.push(AccountEntry {
            account,
            transfers: Vec::new(),
            history: Vec::new(),
        });
        self.undo.push(Undo::AccountCreated);
        R::Ok
    }

    fn create_transfer(&mut self, event: &NewTransfer, at: Timestamp) -> CreateTransferResult {
        use CreateTransferResult as R;
        use TransferFlags as F;
        let flags = event.flags;
        if flags.0 & !F::KNOWN != 0 {
            return R::FlagsAreUnknown;
        }
        if event.id.is_zero() {
            return R::IdMustNotBeZero;
        }
        if event.id.is_max() {
            return R::IdMustNotBeIntMax;
        }
        let resolving = flags.has(F::POST_PENDING) || flags.has(F::VOID_PENDING);
        let kinds = [F::PENDING, F::POST_PENDING, F::VOID_PENDING]
            .iter()
            .filter(|&&kind| flags.has(kind))
            .count();
        let closing = flags.has(F::CLOSING_DEBIT) || flags.has(F::CLOSING_CREDIT);
        let balancing = flags.has(F::BALANCING_DEBIT) || flags.has(F::BALANCING_CREDIT);
        if kinds > 1 || (resolving && (balancing || closing)) {
            return R::FlagsAreMutuallyExclusive;
        }
        if resolving {
            return self.resolve_pending(event, at);
        }
        if event.debit_account_id.is_zero() {
            return R::DebitAccountIdMustNotBeZero;
        }
        if event.debit_account_id.is_max() {
            return R::DebitAccountIdMustNotBeIntMax;
        }
        if event.credit_account_id.is_zero() {
            return R::CreditAccountIdMustNotBeZero;
        }
        if event.credit_account_id.is_max() {
            return R::CreditAccountIdMustNotBeIntMax;
        }
        if event.debit_account_id == event.credit_account_id {
            return R::AccountsMustBeDifferent;
        }
        if !event.pending_id.is_zero() {
            return R::PendingIdMustBeZero;
        }
        let pending = flags.has(F::PENDING);
        if !pending && event.timeout_seconds != 0 {
            return R::TimeoutReservedForPendingTransfer;
        }
        if !pending && closing {
            return R::ClosingTransferMustBePending;
        }
        if event.amount == 0 {
            return R::AmountMustNotBeZero;
        }
        if event.ledger.0 == 0 {
            return R::LedgerMustNotBeZero;
        }
        if event.code == 0 {
            return R::CodeMustNotBeZero;
        }
        if let Some(&existing) = self.transfer_index.get(&event.id) {
            return self.compare_existing(event, &self.transfers[existing as usize]);
        }
        let Some(&debit_slot) = self.account_index.get(&event.debit_account_id) else {
            return R::DebitAccountNotFound;
        };
        let Some(&credit_slot) = self.account_index.get(&event.credit_account_id) else {
            return R::CreditAccountNotFound;
        };
        let debit = self.accounts[debit_slot as usize].account;
        let credit = self.accounts[credit_slot as usize].account;
        if debit.ledger != credit.ledger {
            return R::AccountsMustHaveTheSameLedger;
        }
        if event.ledger != debit.ledger {
            return R::TransferMustHaveTheSameLedgerAsAccounts;
        }
        if debit.flags.has(AccountFlags::CLOSED) {
            return R::DebitAccountAlreadyClosed;
        }
        if credit.flags.has(AccountFlags::CLOSED) {
            return R::CreditAccountAlreadyClosed;
        }
        let mut amount = event.amount;
        if flags.has(F::BALANCING_DEBIT) {
            let b = debit.balances;
            let used = b.debits_posted.saturating_add(b.debits_pending);
            amount = amount.min(b.credits_posted.saturating_sub(used));
            if amount == 0 {
                return R::ExceedsCredits;
            }
        }
        if flags.has(F::BALANCING_CREDIT) {
            let b = credit.balances;
            let used = b.credits_posted.saturating_add(b.credits_pending);
            amount = amount.min(b.debits_posted.saturating_sub(used));
            if amount == 0 {
                return R::ExceedsDebits;
            }
        }
        let (d, c) = (debit.balances, credit.balances);
        if pending {
            if d.debits_pending.checked_add(amount).is_none() {
                return R::OverflowsDebitsPending;
            }
            if c.credits_pending.checked_add(amount).is_none() {
                return R::OverflowsCreditsPending;
            }
        } else {
            if d.debits_posted.checked_add(amount).is_none() {
                return R::OverflowsDebitsPosted;
            }
            if c.credits_posted.checked_add(amount).is_none() {
                return R::OverflowsCreditsPosted;
            }
        }
        let debits_total = d
            .debits_pending
            .checked_add(d.debits_posted)
            .and_then(|total| total.checked_add(amount));
        let Some(debits_total) = debits_total else {
            return R::OverflowsDebits;
        };
        let credits_total = c
            .credits_pending
            .checked_add(c.credits_posted)
            .and_then(|total| total.checked_add(amount));
        let Some(credits_total) = credits_total else {
            return R::OverflowsCredits;
        };
        let expires_at = if pending && event.timeout_seconds > 0 {
            let expiry = u64::from(event.timeout_seconds)
                .checked_mul(NANOS_PER_SECOND)
                .and_then(|nanos| at.checked_add(nanos));
            match expiry {
                Some(expiry) => Some(expiry),
                None => return R::OverflowsTimeout,
            }
        } else {
            None
        };
        if debit
            .flags
            .has(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS)
            && debits_total > d.credits_posted
        {
            return R::ExceedsCredits;
        }
        if credit
            .flags
            .has(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS)
            && credits_total > c.debits_posted
        {
            return R::ExceedsDebits;
        }

        let transfer = Transfer {
            id: event.id,
            debit_account_id: event.debit_account_id,
            credit_account_id: event.credit_account_id,
            amount,
            pending_id: TransferId(0),
            user_data: event.user_data,
            timeout_seconds: event.timeout_seconds,
            ledger: event.ledger,
            code: event.code,
            flags: flags.without_linked(),
            timestamp: at,
        };
        let transfer_slot = self.insert_transfer(transfer, debit_slot, credit_slot);
        if pending {
            self.change_balances(debit_slot, at, |b| b.debits_pending += amount);
            self.change_balances(credit_slot, at, |b| b.credits_pending += amount);
            self.pending.insert(
                transfer_slot,
                PendingEntry {
                    status: PendingStatus::Pending,
                    expires_at,
                },
            );
            self.undo.push(Undo::PendingInserted {
                transfer: transfer_slot,
            });
            if let Some(expiry) = expires_at {
                self.expiries.insert((expiry, transfer_slot));
                self.undo.push(Undo::ExpiryInserted {
                    at: expiry,
                    transfer: transfer_slot,
                });
            }
            if flags.has(F::CLOSING_DEBIT) {
                self.set_closed(debit_slot, true);
            }
            if flags.has(F::CLOSING_CREDIT) {
                self.set_closed(credit_slot, true);
            }
        } else {
            self.change_balances(debit_slot, at, |b| b.debits_posted += amount);
            self.change_balances(credit_slot, at, |b| b.credits_posted += amount);
        }
        R::Ok
    }

    fn insert_transfer(&mut self, transfer: Transfer, debit: Slot, credit: Slot) -> Slot {
        let transfer_slot = slot(self.transfers.len());
        self.transfer_index.insert(transfer.id, transfer_slot);
        self.transfers.push(transfer);
        push_slot(&mut self.accounts[debit as usize], transfer_slot);
        push_slot(&mut self.accounts[credit as usize], transfer_slot);
        self.undo.push(Undo::TransferCreated { debit, credit });
        transfer_slot
    }

    /// Posts or voids a pending transfer.
    fn resolve_pending(&mut self, event: &NewTransfer, at: Timestamp) -> CreateTransferResult {
        use CreateTransferResult as R;
        use TransferFlags as F;
        let post = event.flags.has(F::POST_PENDING);
        if event.pending_id.is_zero() {
            return R::PendingIdMustNotBeZero;
        }
        if event.pending_id.is_max() {
            return R::PendingIdMustNotBeIntMax;
        }
        if event.pending_id == event.id {
            return R::PendingIdMustBeDifferent;
        }
        if event.timeout_seconds != 0 {
            return R::TimeoutReservedForPendingTransfer;
        }
        if let Some(&existing) = self.transfer_index.get(&event.id) {
            return self.compare_existing(event, &self.transfers[existing as usize]);
        }
        let Some(&pending_slot) = self.transfer_index.get(&event.pending_id) else {
            return R::PendingTransferNotFound;
        };
        let pending = self.transfers[pending_slot as usize];
        if !pending.flags.has(F::PENDING) {
            return R::PendingTransferNotPending;
        }
        if !event.debit_account_id.is_zero() && event.debit_account_id != pending.debit_account_id {
            return R::PendingTransferHasDifferentDebitAccountId;
        }
        if !event.credit_account_id.is_zero()
            && event.credit_account_id != pending.credit_account_id
        {
            return R::PendingTransferHasDifferentCreditAccountId;
        }
        if event.ledger.0 != 0 && event.ledger != pending.ledger {
            return R::PendingTransferHasDifferentLedger;
        }
        if event.code != 0 && event.code != pending.code {
            return R::PendingTransferHasDifferentCode;
        }
        let amount = if post {
            if event.amount > pending.amount {
                return R::ExceedsPendingTransferAmount;
            }
            if event.amount == 0 {
                pending.amount
            } else {
                event.amount
            }
        } else {
            if event.amount != 0 && event.amount != pending.amount {
                return R::PendingTransferHasDifferentAmount;
            }
            pending.amount
        };
        let entry = self.pending[&pending_slot];
        match entry.status {
            PendingStatus::Pending => {}
            PendingStatus::Posted => return R::PendingTransferAlreadyPosted,
            PendingStatus::Voided => return R::PendingTransferAlreadyVoided,
            PendingStatus::Expired => return R::PendingTransferExpired,
            PendingStatus::None => unreachable!("a pending transfer has a pending status"),
        }
        let debit_slot = self.account_index[&pending.debit_account_id];
        let credit_slot = self.account_index[&pending.credit_account_id];
        if post {
            let d = self.accounts[debit_slot as usize].account.balances;
            let c = self.accounts[credit_slot as usize].account.balances;
            if d.debits_posted.checked_add(amount).is_none() {
                return R::OverflowsDebitsPosted;
            }
            if c.credits_posted.checked_add(amount).is_none() {
                return R::OverflowsCreditsPosted;
            }
        }
        let transfer = Transfer {
            id: event.id,
            debit_account_id: pending.debit_account_id,
            credit_account_id: pending.credit_account_id,
            amount,
            pending_id: event.pending_id,
            user_data: if event.user_data == 0 {
                pending.user_data
            } else {
                event.user_data
            },
            timeout_seconds: 0,
            ledger: pending.ledger,
            code: pending.code,
            flags: event.flags.without_linked(),
            timestamp: at,
        };
        self.insert_transfer(transfer, debit_slot, credit_slot);
        if let Some(expiry) = entry.expires_at {
            self.expiries.remove(&(expiry, pending_slot));
            self.undo.push(Undo::ExpiryRemoved {
                at: expiry,
                transfer: pending_slot,
            });
        }
        let status = if post {
            PendingStatus::Posted
        } else {
            PendingStatus::Voided
        };
        self.pending
            .get_mut(&pending_slot)
            .expect("a pending entry")
            .status = status;
        self.undo.push(Undo::PendingStatus {
            transfer: pending_slot,
            before: PendingStatus::Pending,
        });
        if post {
            let full = pending.amount;
            self.change_balances(debit_slot, at, |b| {
                b.debits_pending -= full;
                b.debits_posted += amount;
            });
            self.change_balances(credit_slot, at, |b| {
                b.credits_pending -= full;
                b.credits_posted += amount;
            });
        } else {
            self.release_pending(&pending, at);
        }
        R::Ok
    }

    /// Idempotency: the same id with the same fields is `exists`; any field that differs has its
    /// own code. Fields the event left to default (0) match what the ledger filled in.
    fn compare_existing(&self, event: &NewTransfer, existing: &Transfer) -> CreateTransferResult {
        use CreateTransferResult as R;
        use TransferFlags as F;
        let flags = event.flags;
        let matches = |given: u128, stored: u128| given == 0 || given == stored;
        let amount_matches = if flags.has(F::BALANCING_DEBIT) || flags.has(F::BALANCING_CREDIT) {
            existing.amount <= event.amount
        } else if flags.has(F::POST_PENDING) || flags.has(F::VOID_PENDING) {
            matches(event.amount, existing.amount)
        } else {
            event.amount == existing.amount
        };
        if flags.without_linked() != existing.flags {
            R::ExistsWithDifferentFlags
        } else if !matches(event.debit_account_id.0, existing.debit_account_id.0) {
            R::ExistsWithDifferentDebitAccountId
        } else if !matches(event.credit_account_id.0, existing.credit_account_id.0) {
            R::ExistsWithDifferentCreditAccountId
        } else if !amount_matches {
            R::ExistsWithDifferentAmount
        } else if event.pending_id != existing.pending_id {
            R::ExistsWithDifferentPendingId
        } else if !matches(event.user_data, existing.user_data) {
            R::ExistsWithDifferentUserData
        } else if event.timeout_seconds != existing.timeout_seconds {
            R::ExistsWithDifferentTimeout
        } else if !matches(u128::from(event.ledger.0), u128::from(existing.ledger.0)) {
            R::ExistsWithDifferentLedger
        } else if !matches(u128::from(event.code), u128::from(existing.code)) {
            R::ExistsWithDifferentCode
        } else {
            R::Exists
        }
    }

    // ----- Queries -----

    pub fn account(&self, id: AccountId) -> Option<Account> {
        let slot = *self.account_index.get(&id)?;
        Some(self.accounts[slot as usize].account)
    }

    pub fn transfer(&self, id: TransferId) -> Option<Transfer> {
        let slot = *self.transfer_index.get(&id)?;
        Some(self.transfers[slot as usize])
    }

    /// Where a pending transfer stands; `None` status for any other transfer.
    pub fn pending_status(&self, id: TransferId) -> Option<PendingStatus> {
        let slot = *self.transfer_index.get(&id)?;
        Some(
            self.pending
                .get(&slot)
                .map_or(PendingStatus::None, |entry| entry.status),
        )
    }

    /// An account's transfers matching `filter`, at most `filter.limit` of them.
    pub fn account_transfers(&self, filter: &TransferFilter) -> Vec<Transfer> {
        let Some(&account_slot) = self.account_index.get(&filter.account_id) else {
            return Vec::new();
        };
        let slots = &self.accounts[account_slot as usize].transfers;
        let timestamp_of = |slot: &Slot| self.transfers[*slot as usize].timestamp;
        let start = slots.partition_point(|s| timestamp_of(s) < filter.from);
        let end = slots.partition_point(|s| timestamp_of(s) <= filter.to);
        let in_range = &slots[start..end.max(start)];
        let wanted = |slot: &&Slot| {
            let transfer = &self.transfers[**slot as usize];
            let side = match filter.direction {
                Direction::Both => true,
                Direction::Debits => transfer.debit_account_id == filter.account_id,
                Direction::Credits => transfer.credit_account_id == filter.account_id,
            };
            side && filter.code.is_none_or(|code| code == transfer.code)
        };
        let pick = |slot: &Slot| self.transfers[*slot as usize];
        if filter.reversed {
            in_range
                .iter()
                .rev()
                .filter(wanted)
                .take(filter.limit)
                .map(pick)
                .collect()
        } else {
            in_range
                .iter()
                .filter(wanted)
                .take(filter.limit)
                .map(pick)
                .collect()
        }
    }

    /// The balances of a `history` account as they stood at `at` (after every change up to and
    /// including that timestamp).
    pub fn balances_at(&self, id: AccountId, at: Timestamp) -> Result<Balances, HistoryError> {
        let slot = *self
            .account_index
            .get(&id)
            .ok_or(HistoryError::AccountNotFound)?;
        let entry = &self.accounts[slot as usize];
        if !entry.account.flags.has(AccountFlags::HISTORY) {
            return Err(HistoryError::HistoryNotEnabled);
        }
        let after = entry
            .history
            .partition_point(|(timestamp, _)| *timestamp <= at);
        Ok(after
            .checked_sub(1)
            .map_or_else(Balances::default, |index| entry.history[index].1))
    }

    /// The account's transfers still pending, oldest first, at most `limit`.
    pub fn pending_transfers(&self, id: AccountId, limit: usize) -> Vec<Transfer> {
        self.pending_transfers_after(id, 0, limit)
    }

    /// The account's transfers still pending with a timestamp after `cursor`, oldest first, at
    /// most `limit`: a page of the pending list.
    pub fn pending_transfers_after(
        &self,
        id: AccountId,
        cursor: Timestamp,
        limit: usize,
    ) -> Vec<Transfer> {
        let Some(&slot) = self.account_index.get(&id) else {
            return Vec::new();
        };
        let slots = &self.accounts[slot as usize].transfers;
        let start = slots.partition_point(|s| self.transfers[*s as usize].timestamp <= cursor);
        slots[start..]
            .iter()
            .filter(|s| {
                self.pending
                    .get(s)
                    .is_some_and(|entry| entry.status == PendingStatus::Pending)
            })
            .take(limit)
            .map(|s| self.transfers[*s as usize])
            .collect()
    }

    /// Committed transfers after `cursor` (a timestamp; 0 from the start), oldest first: the
    /// change stream. A consumer resumes from the last timestamp it handled.
    pub fn changes_after(&self, cursor: Timestamp, limit: usize) -> Vec<Transfer> {
        let start = self.transfers.partition_point(|t| t.timestamp <= cursor);
        let end = start.saturating_add(limit).min(self.transfers.len());
        (start..end).map(|slot| self.transfers[slot]).collect()
    }

    /// Pending transfers that expired after `cursor`, with the time they expired.
    pub fn expirations_after(&self, cursor: Timestamp, limit: usize) -> Vec<(Timestamp, Transfer)> {
        let start = self.expired.partition_point(|(at, _)| *at <= cursor);
        self.expired[start..]
            .iter()
            .take(limit)
            .map(|(at, slot)| (*at, self.transfers[*slot as usize]))
            .collect()
    }

    pub(crate) fn all_accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.iter().map(|entry| &entry.account)
    }

    pub(crate) fn all_transfers(&self) -> impl Iterator<Item = &Transfer> {
        self.transfers.iter()
    }

    pub(crate) fn status_of_slot(&self, slot: usize) -> PendingStatus {
        let slot = Slot::try_from(slot).expect("slot fits");
        self.pending
            .get(&slot)
            .map_or(PendingStatus::None, |entry| entry.status)
    }
}

/// Adds a transfer to an account's list. Lists grow by a factor between 1.5 and 2.4 chosen by
/// the account id, so that accounts that fill up together (a uniform payday load) do not all
/// reallocate in the same batch.
fn push_slot(entry: &mut AccountEntry, slot: Slot) {
    let list = &mut entry.transfers;
    if list.len() == list.capacity() {
        let eighths =
            4 + usize::try_from(crate::collections::mix(entry.account.id.0) % 8).expect("below 8");
        list.reserve_exact((list.len() * eighths / 8).max(4));
    }
    list.push(slot);
}

/// Events that may be linked to the next.
pub trait Linked {
    fn linked(&self) -> bool;
}

impl Linked for NewAccount {
    fn linked(&self) -> bool {
        self.flags.has(AccountFlags::LINKED)
    }
}

impl Linked for NewTransfer {
    fn linked(&self) -> bool {
        self.flags.has(TransferFlags::LINKED)
    }
}

/// The result codes a chain needs to speak of.
trait ChainResult: Copy {
    fn linked_failed() -> Self;
    fn chain_open() -> Self;
    fn is_ok(self) -> bool;
}

impl ChainResult for CreateAccountResult {
    fn linked_failed() -> Self {
        CreateAccountResult::LinkedEventFailed
    }
    fn chain_open() -> Self {
        CreateAccountResult::LinkedEventChainOpen
    }
    fn is_ok(self) -> bool {
        self == CreateAccountResult::Ok
    }
}

impl ChainResult for CreateTransferResult {
    fn linked_failed() -> Self {
        CreateTransferResult::LinkedEventFailed
    }
    fn chain_open() -> Self {
        CreateTransferResult::LinkedEventChainOpen
    }
    fn is_ok(self) -> bool {
        self == CreateTransferResult::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::LedgerId;

    fn account(id: u128, flags: u16) -> NewAccount {
        NewAccount {
            id: AccountId(id),
            ledger: LedgerId(1),
            code: 1,
            owner: 0,
            flags: AccountFlags(flags),
        }
    }

    #[test]
    fn heap_bytes_counts_every_transfer_kept_and_the_balances_history() {
        let mut state = LedgerState::new();
        let empty = state.heap_bytes();
        state.apply(
            1,
            &[Operation::CreateAccounts(vec![
                account(1, 0),
                account(2, AccountFlags::HISTORY),
            ])],
        );
        let transfers: Vec<NewTransfer> = (1..=1_000)
            .map(|id| NewTransfer {
                id: TransferId(id),
                debit_account_id: AccountId(1),
                credit_account_id: AccountId(2),
                amount: 1,
                ledger: LedgerId(1),
                code: 1,
                ..NewTransfer::default()
            })
            .collect();
        state.apply(2, &[Operation::CreateTransfers(transfers)]);
        assert_eq!(state.transfers_count(), 1_000);
        let held = state.heap_bytes() - empty;
        // At least each transfer, its index entry, both accounts' lists and one history entry.
        let floor = 1_000
            * (size_of::<Transfer>()
                + size_of::<(TransferId, Slot)>()
                + 2 * size_of::<Slot>()
                + size_of::<(Timestamp, Balances)>());
        assert!(held >= floor, "{held} < {floor}");
        // Not much more: lists grow by at most 2.4 times, maps by 2 at their 7/8 load.
        let ceiling = 4 * floor;
        assert!(held <= ceiling, "{held} > {ceiling}");
    }
}
