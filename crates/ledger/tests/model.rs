//! Property tests of the ledger against a naive reference model.
//!
//! The model keeps plain vectors searched linearly, no indexes, no expiry queue and no undo log:
//! a linked chain runs on the model itself and, when any of its events fails, the whole model is
//! restored from a clone taken before the chain. Random batches over a small id space go to both;
//! every per-event result, every account, transfer, pending status, expiry and history entry must
//! agree, and `check` must find the ledger sound after every batch. The same batches, written as
//! journal records and read back, must replay to the same ledger.

use ceiba_ledger::*;
use proptest::collection::vec;
use proptest::prelude::*;

const NANOS_PER_SECOND: u64 = 1_000_000_000;

// ----- The reference model -----

#[derive(Debug, Clone)]
struct ModelAccount {
    account: Account,
    /// (timestamp, balances after the change) for every change, kept only with `history`.
    history: Vec<(Timestamp, Balances)>,
}

#[derive(Debug, Clone)]
struct ModelTransfer {
    transfer: Transfer,
    /// `PendingStatus::None` for anything but a pending transfer.
    status: PendingStatus,
    expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default)]
struct Model {
    /// In creation order.
    accounts: Vec<ModelAccount>,
    /// In creation order.
    transfers: Vec<ModelTransfer>,
    /// (when, transfer id), in the order they expired.
    expired: Vec<(Timestamp, TransferId)>,
    last_timestamp: Timestamp,
}

/// Which side of an account a balance change touches.
#[derive(Debug, Clone, Copy)]
enum Side {
    DebitsPending,
    DebitsPosted,
    CreditsPending,
    CreditsPosted,
}

fn has(flags: u16, flag: u16) -> bool {
    flags & flag == flag
}

impl Model {
    fn account_position(&self, id: AccountId) -> Option<usize> {
        self.accounts.iter().position(|a| a.account.id == id)
    }

    fn transfer_position(&self, id: TransferId) -> Option<usize> {
        self.transfers.iter().position(|t| t.transfer.id == id)
    }

    /// Applies one balance change (add or subtract, never overflowing: the caller checked) and
    /// records the history of a `history` account.
    fn change(&mut self, account: usize, at: Timestamp, changes: &[(Side, u128, bool)]) {
        let entry = &mut self.accounts[account];
        let b = &mut entry.account.balances;
        for &(side, amount, add) in changes {
            let field = match side {
                Side::DebitsPending => &mut b.debits_pending,
                Side::DebitsPosted => &mut b.debits_posted,
                Side::CreditsPending => &mut b.credits_pending,
                Side::CreditsPosted => &mut b.credits_posted,
            };
            *field = if add {
                field.checked_add(amount).expect("model: checked before")
            } else {
                field.checked_sub(amount).expect("model: pending covers it")
            };
        }
        if has(entry.account.flags.0, AccountFlags::HISTORY) {
            let balances = entry.account.balances;
            entry.history.push((at, balances));
        }
    }

    fn set_closed(&mut self, account: usize, closed: bool) {
        let flags = &mut self.accounts[account].account.flags.0;
        if closed {
            *flags |= AccountFlags::CLOSED;
        } else {
            *flags &= !AccountFlags::CLOSED;
        }
    }

    /// Gives a pending amount back to both accounts and reopens what the transfer closed.
    fn release(&mut self, pending: &Transfer, at: Timestamp) {
        let debit = self
            .account_position(pending.debit_account_id)
            .expect("model: account exists");
        let credit = self
            .account_position(pending.credit_account_id)
            .expect("model: account exists");
        self.change(debit, at, &[(Side::DebitsPending, pending.amount, false)]);
        self.change(credit, at, &[(Side::CreditsPending, pending.amount, false)]);
        if has(pending.flags.0, TransferFlags::CLOSING_DEBIT) {
            self.set_closed(debit, false);
        }
        if has(pending.flags.0, TransferFlags::CLOSING_CREDIT) {
            self.set_closed(credit, false);
        }
    }

    fn apply(&mut self, now: Timestamp, operations: &[Operation]) -> Vec<OperationResults> {
        let start = if now > self.last_timestamp {
            now
        } else {
            self.last_timestamp + 1
        };
        let mut timestamp = start;
        // Expiries: the earliest deadline first (ties by creation order), each at a timestamp of
        // its own, for as long as the earliest deadline is not after the current timestamp.
        loop {
            let due = self
                .transfers
                .iter()
                .enumerate()
                .filter(|(_, t)| t.status == PendingStatus::Pending)
                .filter_map(|(i, t)| t.expires_at.map(|at| (at, i)))
                .min();
            let Some((deadline, index)) = due else { break };
            if deadline > timestamp {
                break;
            }
            self.transfers[index].status = PendingStatus::Expired;
            let transfer = self.transfers[index].transfer;
            self.release(&transfer, timestamp);
            self.expired.push((timestamp, transfer.id));
            timestamp += 1;
        }
        let mut out = Vec::new();
        for operation in operations {
            out.push(match operation {
                Operation::CreateAccounts(events) => {
                    OperationResults::CreateAccounts(self.run_chains(
                        events,
                        &mut timestamp,
                        |e| has(e.flags.0, AccountFlags::LINKED),
                        [
                            CreateAccountResult::Ok,
                            CreateAccountResult::LinkedEventFailed,
                            CreateAccountResult::LinkedEventChainOpen,
                        ],
                        Model::create_account,
                    ))
                }
                Operation::CreateTransfers(events) => {
                    OperationResults::CreateTransfers(self.run_chains(
                        events,
                        &mut timestamp,
                        |e| has(e.flags.0, TransferFlags::LINKED),
                        [
                            CreateTransferResult::Ok,
                            CreateTransferResult::LinkedEventFailed,
                            CreateTransferResult::LinkedEventChainOpen,
                        ],
                        Model::create_transfer,
                    ))
                }
            });
        }
        if timestamp > start {
            self.last_timestamp = timestamp - 1;
        }
        out
    }

    /// Splits events into chains (a run of linked events closed by the next unlinked one, or by
    /// the end of the batch) and applies each chain all or nothing.
    fn run_chains<E, R: Copy + PartialEq>(
        &mut self,
        events: &[E],
        timestamp: &mut Timestamp,
        linked: impl Fn(&E) -> bool,
        [ok, failed, open]: [R; 3],
        one: impl Fn(&mut Model, &E, Timestamp) -> R,
    ) -> Vec<R> {
        let mut results = Vec::new();
        let mut first = 0;
        while first < events.len() {
            let mut last = first;
            while linked(&events[last]) && last + 1 < events.len() {
                last += 1;
            }
            let before = self.clone();
            let mut chain: Vec<R> = Vec::new();
            let mut failure = None;
            for (index, event) in events.iter().enumerate().take(last + 1).skip(first) {
                let at = *timestamp;
                *timestamp += 1;
                let result = if failure.is_some() {
                    failed
                } else if linked(event) && index + 1 == events.len() {
                    open
                } else {
                    one(self, event, at)
                };
                if result != ok && failure.is_none() {
                    failure = Some(chain.len());
                }
                chain.push(result);
            }
            if let Some(failure) = failure {
                *self = before;
                for result in &mut chain[..failure] {
                    *result = failed;
                }
            }
            results.extend(chain);
            first = last + 1;
        }
        results
    }

    fn create_account(&mut self, event: &NewAccount, at: Timestamp) -> CreateAccountResult {
        use CreateAccountResult as R;
        let flags = event.flags.0;
        if flags & !AccountFlags::KNOWN != 0 {
            return R::FlagsAreUnknown;
        }
        match event.id.0 {
            0 => return R::IdMustNotBeZero,
            u128::MAX => return R::IdMustNotBeIntMax,
            _ => {}
        }
        if has(flags, AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS)
            && has(flags, AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS)
        {
            return R::FlagsAreMutuallyExclusive;
        }
        if event.ledger.0 == 0 {
            return R::LedgerMustNotBeZero;
        }
        if event.code == 0 {
            return R::CodeMustNotBeZero;
        }
        if let Some(index) = self.account_position(event.id) {
            let existing = self.accounts[index].account;
            let ignore = AccountFlags::LINKED | AccountFlags::CLOSED;
            return if existing.flags.0 & !ignore != flags & !ignore {
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
        self.accounts.push(ModelAccount {
            account: Account {
                id: event.id,
                ledger: event.ledger,
                code: event.code,
                owner: event.owner,
                flags: AccountFlags(flags & !AccountFlags::LINKED),
                balances: Balances::default(),
                timestamp: at,
            },
            history: Vec::new(),
        });
        R::Ok
    }

    fn create_transfer(&mut self, event: &NewTransfer, at: Timestamp) -> CreateTransferResult {
        use CreateTransferResult as R;
        use TransferFlags as F;
        let flags = event.flags.0;
        if flags & !F::KNOWN != 0 {
            return R::FlagsAreUnknown;
        }
        match event.id.0 {
            0 => return R::IdMustNotBeZero,
            u128::MAX => return R::IdMustNotBeIntMax,
            _ => {}
        }
        let pending = has(flags, F::PENDING);
        let post = has(flags, F::POST_PENDING);
        let void = has(flags, F::VOID_PENDING);
        let balancing = flags & (F::BALANCING_DEBIT | F::BALANCING_CREDIT) != 0;
        let closing = flags & (F::CLOSING_DEBIT | F::CLOSING_CREDIT) != 0;
        if u8::from(pending) + u8::from(post) + u8::from(void) > 1
            || ((post || void) && (balancing || closing))
        {
            return R::FlagsAreMutuallyExclusive;
        }
        if post || void {
            return self.resolve(event, at, post);
        }
        match event.debit_account_id.0 {
            0 => return R::DebitAccountIdMustNotBeZero,
            u128::MAX => return R::DebitAccountIdMustNotBeIntMax,
            _ => {}
        }
        match event.credit_account_id.0 {
            0 => return R::CreditAccountIdMustNotBeZero,
            u128::MAX => return R::CreditAccountIdMustNotBeIntMax,
            _ => {}
        }
        if event.debit_account_id == event.credit_account_id {
            return R::AccountsMustBeDifferent;
        }
        if event.pending_id.0 != 0 {
            return R::PendingIdMustBeZero;
        }
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
        if let Some(index) = self.transfer_position(event.id) {
            return existing_result(event, &self.transfers[index].transfer);
        }
        let Some(debit) = self.account_position(event.debit_account_id) else {
            return R::DebitAccountNotFound;
        };
        let Some(credit) = self.account_position(event.credit_account_id) else {
            return R::CreditAccountNotFound;
        };
        let d = self.accounts[debit].account;
        let c = self.accounts[credit].account;
        if d.ledger != c.ledger {
            return R::AccountsMustHaveTheSameLedger;
        }
        if event.ledger != d.ledger {
            return R::TransferMustHaveTheSameLedgerAsAccounts;
        }
        if has(d.flags.0, AccountFlags::CLOSED) {
            return R::DebitAccountAlreadyClosed;
        }
        if has(c.flags.0, AccountFlags::CLOSED) {
            return R::CreditAccountAlreadyClosed;
        }
        // A sum of balances, or None where it would not fit in 128 bits.
        let total = |values: &[u128]| -> Option<u128> {
            let mut sum: u128 = 0;
            for &value in values {
                if value > u128::MAX - sum {
                    return None;
                }
                sum += value;
            }
            Some(sum)
        };
        let mut amount = event.amount;
        if has(flags, F::BALANCING_DEBIT) {
            let used =
                total(&[d.balances.debits_posted, d.balances.debits_pending]).unwrap_or(u128::MAX);
            let available = d.balances.credits_posted.saturating_sub(used);
            amount = amount.min(available);
            if amount == 0 {
                return R::ExceedsCredits;
            }
        }
        if has(flags, F::BALANCING_CREDIT) {
            let used = total(&[c.balances.credits_posted, c.balances.credits_pending])
                .unwrap_or(u128::MAX);
            let room = c.balances.debits_posted.saturating_sub(used);
            amount = amount.min(room);
            if amount == 0 {
                return R::ExceedsDebits;
            }
        }
        if pending {
            if total(&[d.balances.debits_pending, amount]).is_none() {
                return R::OverflowsDebitsPending;
            }
            if total(&[c.balances.credits_pending, amount]).is_none() {
                return R::OverflowsCreditsPending;
            }
        } else {
            if total(&[d.balances.debits_posted, amount]).is_none() {
                return R::OverflowsDebitsPosted;
            }
            if total(&[c.balances.credits_posted, amount]).is_none() {
                return R::OverflowsCreditsPosted;
            }
        }
        let Some(debits) = total(&[d.balances.debits_pending, d.balances.debits_posted, amount])
        else {
            return R::OverflowsDebits;
        };
        let Some(credits) = total(&[
            c.balances.credits_pending,
            c.balances.credits_posted,
            amount,
        ]) else {
            return R::OverflowsCredits;
        };
        let mut expires_at = None;
        if pending && event.timeout_seconds != 0 {
            let nanos = u128::from(event.timeout_seconds) * u128::from(NANOS_PER_SECOND);
            let deadline = u128::from(at) + nanos;
            match u64::try_from(deadline) {
                Ok(deadline) => expires_at = Some(deadline),
                Err(_) => return R::OverflowsTimeout,
            }
        }
        if has(d.flags.0, AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS)
            && debits > d.balances.credits_posted
        {
            return R::ExceedsCredits;
        }
        if has(c.flags.0, AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS)
            && credits > c.balances.debits_posted
        {
            return R::ExceedsDebits;
        }
        self.transfers.push(ModelTransfer {
            transfer: Transfer {
                id: event.id,
                debit_account_id: event.debit_account_id,
                credit_account_id: event.credit_account_id,
                amount,
                pending_id: TransferId(0),
                user_data: event.user_data,
                timeout_seconds: event.timeout_seconds,
                ledger: event.ledger,
                code: event.code,
                flags: TransferFlags(flags & !F::LINKED),
                timestamp: at,
            },
            status: if pending {
                PendingStatus::Pending
            } else {
                PendingStatus::None
            },
            expires_at,
        });
        if pending {
            self.change(debit, at, &[(Side::DebitsPending, amount, true)]);
            self.change(credit, at, &[(Side::CreditsPending, amount, true)]);
            if has(flags, F::CLOSING_DEBIT) {
                self.set_closed(debit, true);
            }
            if has(flags, F::CLOSING_CREDIT) {
                self.set_closed(credit, true);
            }
        } else {
            self.change(debit, at, &[(Side::DebitsPosted, amount, true)]);
            self.change(credit, at, &[(Side::CreditsPosted, amount, true)]);
        }
        R::Ok
    }

    fn resolve(&mut self, event: &NewTransfer, at: Timestamp, post: bool) -> CreateTransferResult {
        use CreateTransferResult as R;
        match event.pending_id.0 {
            0 => return R::PendingIdMustNotBeZero,
            u128::MAX => return R::PendingIdMustNotBeIntMax,
            _ => {}
        }
        if event.pending_id == event.id {
            return R::PendingIdMustBeDifferent;
        }
        if event.timeout_seconds != 0 {
            return R::TimeoutReservedForPendingTransfer;
        }
        if let Some(index) = self.transfer_position(event.id) {
            return existing_result(event, &self.transfers[index].transfer);
        }
        let Some(index) = self.transfer_position(event.pending_id) else {
            return R::PendingTransferNotFound;
        };
        let ModelTransfer {
            transfer: p,
            status,
            ..
        } = self.transfers[index];
        if !has(p.flags.0, TransferFlags::PENDING) {
            return R::PendingTransferNotPending;
        }
        let given = |value: u128, stored: u128| value != 0 && value != stored;
        if given(event.debit_account_id.0, p.debit_account_id.0) {
            return R::PendingTransferHasDifferentDebitAccountId;
        }
        if given(event.credit_account_id.0, p.credit_account_id.0) {
            return R::PendingTransferHasDifferentCreditAccountId;
        }
        if given(event.ledger.0.into(), p.ledger.0.into()) {
            return R::PendingTransferHasDifferentLedger;
        }
        if given(event.code.into(), p.code.into()) {
            return R::PendingTransferHasDifferentCode;
        }
        if post && event.amount > p.amount {
            return R::ExceedsPendingTransferAmount;
        }
        if !post && given(event.amount, p.amount) {
            return R::PendingTransferHasDifferentAmount;
        }
        let amount = if post && event.amount != 0 {
            event.amount
        } else {
            p.amount
        };
        match status {
            PendingStatus::Posted => return R::PendingTransferAlreadyPosted,
            PendingStatus::Voided => return R::PendingTransferAlreadyVoided,
            PendingStatus::Expired => return R::PendingTransferExpired,
            PendingStatus::Pending | PendingStatus::None => {}
        }
        assert_eq!(
            status,
            PendingStatus::Pending,
            "model: pending has a status"
        );
        let debit = self
            .account_position(p.debit_account_id)
            .expect("model: account exists");
        let credit = self
            .account_position(p.credit_account_id)
            .expect("model: account exists");
        if post {
            if self.accounts[debit].account.balances.debits_posted > u128::MAX - amount {
                return R::OverflowsDebitsPosted;
            }
            if self.accounts[credit].account.balances.credits_posted > u128::MAX - amount {
                return R::OverflowsCreditsPosted;
            }
        }
        self.transfers.push(ModelTransfer {
            transfer: Transfer {
                id: event.id,
                debit_account_id: p.debit_account_id,
                credit_account_id: p.credit_account_id,
                amount,
                pending_id: event.pending_id,
                user_data: if event.user_data == 0 {
                    p.user_data
                } else {
                    event.user_data
                },
                timeout_seconds: 0,
                ledger: p.ledger,
                code: p.code,
                flags: TransferFlags(event.flags.0 & !TransferFlags::LINKED),
                timestamp: at,
            },
            status: PendingStatus::None,
            expires_at: None,
        });
        if post {
            self.transfers[index].status = PendingStatus::Posted;
            self.change(
                debit,
                at,
                &[
                    (Side::DebitsPending, p.amount, false),
                    (Side::DebitsPosted, amount, true),
                ],
            );
            self.change(
                credit,
                at,
                &[
                    (Side::CreditsPending, p.amount, false),
                    (Side::CreditsPosted, amount, true),
                ],
            );
        } else {
            self.transfers[index].status = PendingStatus::Voided;
            self.release(&p, at);
        }
        R::Ok
    }

    // ----- What the model answers to the ledger's queries -----

    fn account(&self, id: AccountId) -> Option<Account> {
        self.accounts
            .iter()
            .find(|a| a.account.id == id)
            .map(|a| a.account)
    }

    fn transfer(&self, id: TransferId) -> Option<Transfer> {
        self.transfers
            .iter()
            .find(|t| t.transfer.id == id)
            .map(|t| t.transfer)
    }

    fn pending_status(&self, id: TransferId) -> Option<PendingStatus> {
        self.transfers
            .iter()
            .find(|t| t.transfer.id == id)
            .map(|t| t.status)
    }

    fn touching(&self, id: AccountId) -> impl Iterator<Item = &ModelTransfer> {
        self.transfers.iter().filter(move |t| {
            t.transfer.debit_account_id == id || t.transfer.credit_account_id == id
        })
    }

    fn account_transfers(&self, filter: &TransferFilter) -> Vec<Transfer> {
        let mut found: Vec<Transfer> = self
            .touching(filter.account_id)
            .map(|t| t.transfer)
            .filter(|t| filter.from <= t.timestamp && t.timestamp <= filter.to)
            .filter(|t| match filter.direction {
                Direction::Both => true,
                Direction::Debits => t.debit_account_id == filter.account_id,
                Direction::Credits => t.credit_account_id == filter.account_id,
            })
            .filter(|t| filter.code.is_none() || filter.code == Some(t.code))
            .collect();
        if filter.reversed {
            found.reverse();
        }
        found.truncate(filter.limit);
        found
    }

    fn pending_transfers(&self, id: AccountId) -> Vec<Transfer> {
        self.touching(id)
            .filter(|t| t.status == PendingStatus::Pending)
            .map(|t| t.transfer)
            .collect()
    }

    fn balances_at(&self, id: AccountId, at: Timestamp) -> Result<Balances, HistoryError> {
        let account = self
            .accounts
            .iter()
            .find(|a| a.account.id == id)
            .ok_or(HistoryError::AccountNotFound)?;
        if !has(account.account.flags.0, AccountFlags::HISTORY) {
            return Err(HistoryError::HistoryNotEnabled);
        }
        Ok(account
            .history
            .iter()
            .rev()
            .find(|(when, _)| *when <= at)
            .map_or_else(Balances::default, |(_, balances)| *balances))
    }
}

/// Idempotency: what a second event with an existing id gets.
fn existing_result(event: &NewTransfer, existing: &Transfer) -> CreateTransferResult {
    use CreateTransferResult as R;
    use TransferFlags as F;
    let flags = event.flags.0;
    let defaulted = |given: u128, stored: u128| given == 0 || given == stored;
    let balancing = flags & (F::BALANCING_DEBIT | F::BALANCING_CREDIT) != 0;
    let resolving = flags & (F::POST_PENDING | F::VOID_PENDING) != 0;
    let amount_matches = if balancing {
        event.amount >= existing.amount
    } else if resolving {
        defaulted(event.amount, existing.amount)
    } else {
        event.amount == existing.amount
    };
    let checks = [
        (
            flags & !F::LINKED == existing.flags.0,
            R::ExistsWithDifferentFlags,
        ),
        (
            defaulted(event.debit_account_id.0, existing.debit_account_id.0),
            R::ExistsWithDifferentDebitAccountId,
        ),
        (
            defaulted(event.credit_account_id.0, existing.credit_account_id.0),
            R::ExistsWithDifferentCreditAccountId,
        ),
        (amount_matches, R::ExistsWithDifferentAmount),
        (
            event.pending_id == existing.pending_id,
            R::ExistsWithDifferentPendingId,
        ),
        (
            defaulted(event.user_data, existing.user_data),
            R::ExistsWithDifferentUserData,
        ),
        (
            event.timeout_seconds == existing.timeout_seconds,
            R::ExistsWithDifferentTimeout,
        ),
        (
            defaulted(event.ledger.0.into(), existing.ledger.0.into()),
            R::ExistsWithDifferentLedger,
        ),
        (
            defaulted(event.code.into(), existing.code.into()),
            R::ExistsWithDifferentCode,
        ),
    ];
    checks
        .iter()
        .find(|(ok, _)| !ok)
        .map_or(R::Exists, |(_, code)| *code)
}

// ----- Comparing the ledger with the model -----

const ACCOUNT_IDS: [u128; 11] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, u128::MAX];

fn transfer_ids() -> impl Iterator<Item = TransferId> {
    (0..=41).chain([u128::MAX]).map(TransferId)
}

/// Everything the ledger answers must be what the model answers.
fn assert_same(state: &LedgerState, model: &Model) -> Result<(), TestCaseError> {
    prop_assert_eq!(state.accounts_count(), model.accounts.len());
    prop_assert_eq!(state.transfers_count(), model.transfers.len());
    prop_assert_eq!(state.last_timestamp(), model.last_timestamp);
    for id in ACCOUNT_IDS.map(AccountId) {
        prop_assert_eq!(state.account(id), model.account(id), "account {}", id);
    }
    for id in transfer_ids() {
        prop_assert_eq!(state.transfer(id), model.transfer(id), "transfer {}", id);
        prop_assert_eq!(
            state.pending_status(id),
            model.pending_status(id),
            "pending status of {}",
            id
        );
    }
    let all: Vec<Transfer> = model.transfers.iter().map(|t| t.transfer).collect();
    prop_assert_eq!(&state.changes_after(0, usize::MAX), &all);
    if let Some(middle) = all.get(all.len() / 2) {
        let after: Vec<Transfer> = all
            .iter()
            .filter(|t| t.timestamp > middle.timestamp)
            .take(3)
            .copied()
            .collect();
        prop_assert_eq!(state.changes_after(middle.timestamp, 3), after);
    }
    let expired: Vec<(Timestamp, Transfer)> = model
        .expired
        .iter()
        .map(|(at, id)| (*at, model.transfer(*id).expect("model: expired transfer")))
        .collect();
    prop_assert_eq!(&state.expirations_after(0, usize::MAX), &expired);
    if let Some((at, _)) = expired.first() {
        let later: Vec<_> = expired
            .iter()
            .filter(|(when, _)| when > at)
            .copied()
            .collect();
        prop_assert_eq!(state.expirations_after(*at, usize::MAX), later);
    }
    let report = check(state);
    prop_assert!(report.is_sound(), "violations: {:?}", report.violations);
    prop_assert_eq!(
        usize::try_from(report.accounts).ok(),
        Some(model.accounts.len())
    );
    prop_assert_eq!(
        usize::try_from(report.transfers).ok(),
        Some(model.transfers.len())
    );
    let middle_timestamp = all.get(all.len() / 2).map_or(0, |t| t.timestamp);
    for id in ACCOUNT_IDS.map(AccountId) {
        prop_assert_eq!(
            state.pending_transfers(id, usize::MAX),
            model.pending_transfers(id)
        );
        prop_assert_eq!(
            state.pending_transfers(id, 1),
            model
                .pending_transfers(id)
                .into_iter()
                .take(1)
                .collect::<Vec<_>>()
        );
        let filters = [
            (0, Timestamp::MAX, None, Direction::Both, usize::MAX, false),
            (0, Timestamp::MAX, None, Direction::Both, 2, true),
            (0, middle_timestamp, Some(1), Direction::Debits, 3, false),
            (
                middle_timestamp,
                Timestamp::MAX,
                None,
                Direction::Credits,
                2,
                true,
            ),
            (
                middle_timestamp,
                middle_timestamp,
                None,
                Direction::Both,
                5,
                false,
            ),
        ];
        for (from, to, code, direction, limit, reversed) in filters {
            let filter = TransferFilter {
                account_id: id,
                from,
                to,
                code,
                direction,
                limit,
                reversed,
            };
            prop_assert_eq!(
                state.account_transfers(&filter),
                model.account_transfers(&filter),
                "{:?}",
                filter
            );
        }
        let mut moments = vec![0, middle_timestamp, model.last_timestamp, Timestamp::MAX];
        if let Some(account) = model.accounts.iter().find(|a| a.account.id == id) {
            for (at, _) in &account.history {
                moments.extend([at - 1, *at]);
            }
        }
        for at in moments {
            prop_assert_eq!(
                state.balances_at(id, at),
                model.balances_at(id, at),
                "balances of {} at {}",
                id,
                at
            );
        }
    }
    Ok(())
}

// ----- Random batches -----

fn account_id() -> impl Strategy<Value = AccountId> {
    prop_oneof![
        30 => 1u128..=8,
        1 => Just(0),
        1 => Just(u128::MAX),
    ]
    .prop_map(AccountId)
}

/// Accounts 1 to 6 keep money in ledger 1, accounts 7 and 8 in ledger 2; events mostly follow.
fn natural_ledger(id: AccountId) -> LedgerId {
    if (7..=8).contains(&id.0) {
        LedgerId(2)
    } else {
        LedgerId(1)
    }
}

/// Mostly `None`, for the natural ledger of the account; sometimes another one, or none at all.
fn ledger_override() -> impl Strategy<Value = Option<LedgerId>> {
    prop_oneof![
        24 => Just(None),
        2 => Just(Some(LedgerId(1))),
        2 => Just(Some(LedgerId(2))),
        1 => Just(Some(LedgerId(0))),
    ]
}

/// Transfer ids: pending transfers mostly take 1 to 8, which posts and voids mostly name, and
/// every other transfer mostly 9 to 40, so that resolutions often find a pending transfer.
fn transfer_id(pending: bool) -> impl Strategy<Value = TransferId> {
    let (usual, rare) = if pending {
        (1u128..=8, 9u128..=40)
    } else {
        (9u128..=40, 1u128..=8)
    };
    prop_oneof![
        40 => usual,
        4 => rare,
        1 => Just(0),
        1 => Just(u128::MAX),
    ]
    .prop_map(TransferId)
}

fn code() -> impl Strategy<Value = u16> {
    prop_oneof![20 => Just(1u16), 2 => Just(2), 1 => Just(0)]
}

fn amount() -> impl Strategy<Value = u128> {
    prop_oneof![
        40 => 1u128..=50,
        2 => Just(0),
        2 => Just(u128::MAX),
        2 => Just(u128::MAX / 2 + 1),
        1 => (u128::MAX - 50)..=u128::MAX,
    ]
}

fn bit(probability: f64, flag: u16) -> impl Strategy<Value = u16> {
    proptest::bool::weighted(probability).prop_map(move |on| if on { flag } else { 0 })
}

fn account_flags() -> impl Strategy<Value = AccountFlags> {
    use AccountFlags as F;
    let known = (
        bit(0.12, F::LINKED),
        bit(0.25, F::DEBITS_MUST_NOT_EXCEED_CREDITS),
        bit(0.1, F::CREDITS_MUST_NOT_EXCEED_DEBITS),
        bit(0.3, F::HISTORY),
        bit(0.03, F::CLOSED),
    )
        .prop_map(|(a, b, c, d, e)| a | b | c | d | e);
    prop_oneof![30 => known, 1 => any::<u16>()].prop_map(AccountFlags)
}

fn new_account() -> impl Strategy<Value = NewAccount> {
    (
        account_id(),
        ledger_override(),
        code(),
        prop_oneof![8 => Just(0u128), 1 => Just(1), 1 => Just(2)],
        account_flags(),
    )
        .prop_map(|(id, ledger, code, owner, flags)| NewAccount {
            id,
            ledger: ledger.unwrap_or(natural_ledger(id)),
            code,
            owner,
            flags,
        })
}

/// The first batch: most of accounts 1 to 8, valid, some limited, some keeping history.
fn opening_accounts() -> impl Strategy<Value = Operation> {
    use AccountFlags as F;
    let limit = prop_oneof![
        5 => Just(0u16),
        3 => Just(F::DEBITS_MUST_NOT_EXCEED_CREDITS),
        1 => Just(F::CREDITS_MUST_NOT_EXCEED_DEBITS),
    ];
    let account = (proptest::bool::weighted(0.8), limit, bit(0.3, F::HISTORY));
    vec(account, 8).prop_map(|accounts| {
        Operation::CreateAccounts(
            (1u128..)
                .zip(accounts)
                .filter(|(_, (open, _, _))| *open)
                .map(|(id, (_, limit, history))| NewAccount {
                    id: AccountId(id),
                    ledger: natural_ledger(AccountId(id)),
                    code: 1,
                    owner: 0,
                    flags: AccountFlags(limit | history),
                })
                .collect(),
        )
    })
}

fn timeout() -> impl Strategy<Value = u32> {
    prop_oneof![8 => Just(0u32), 6 => 1u32..=3, 1 => Just(u32::MAX)]
}

fn user_data() -> impl Strategy<Value = u128> {
    prop_oneof![4 => Just(0u128), 1 => 1u128..=3]
}

/// Mostly a different account of the debit account's ledger; sometimes any account at all.
fn counterpart(debit: AccountId, credit: AccountId, any_credit: bool) -> AccountId {
    if any_credit || !(1..=8).contains(&debit.0) || !(1..=8).contains(&credit.0) {
        return credit;
    }
    let group: Vec<u128> = (1u128..=8)
        .filter(|&id| id != debit.0 && natural_ledger(AccountId(id)) == natural_ledger(debit))
        .collect();
    let index = usize::try_from(credit.0).expect("a small id") % group.len();
    AccountId(group[index])
}

/// A single-phase or pending transfer, sometimes balancing or closing.
fn new_movement() -> impl Strategy<Value = NewTransfer> {
    use TransferFlags as F;
    let flags = (
        bit(0.12, F::LINKED),
        bit(0.45, F::PENDING),
        bit(0.1, F::BALANCING_DEBIT),
        bit(0.1, F::BALANCING_CREDIT),
        bit(0.08, F::CLOSING_DEBIT),
        bit(0.08, F::CLOSING_CREDIT),
        proptest::bool::weighted(0.1),
    )
        .prop_map(|(linked, pending, bd, bc, cd, cc, stray_closing)| {
            // Closing flags mostly on pending transfers, now and then on another, refused.
            let closing = if pending != 0 || stray_closing {
                cd | cc
            } else {
                0
            };
            linked | pending | bd | bc | closing
        });
    (
        (
            transfer_id(true),
            transfer_id(false),
            account_id(),
            account_id(),
            proptest::bool::weighted(0.1),
            amount(),
        ),
        (
            prop_oneof![30 => Just(TransferId(0)), 1 => transfer_id(true)],
            user_data(),
            timeout(),
            proptest::bool::weighted(0.05),
            ledger_override(),
            code(),
            flags,
        ),
    )
        .prop_map(
            |(
                (pending_id_choice, other_id, debit, credit, any_credit, amount),
                (pending_id, user_data, timeout, stray_timeout, ledger, code, flags),
            )| {
                let pending = flags & F::PENDING != 0;
                NewTransfer {
                    id: if pending { pending_id_choice } else { other_id },
                    debit_account_id: debit,
                    credit_account_id: counterpart(debit, credit, any_credit),
                    amount,
                    pending_id,
                    user_data,
                    // A timeout mostly on pending transfers, now and then on another, refused.
                    timeout_seconds: if pending || stray_timeout { timeout } else { 0 },
                    ledger: ledger.unwrap_or(natural_ledger(debit)),
                    code,
                    flags: TransferFlags(flags),
                }
            },
        )
}

/// A post or void of a (maybe) pending transfer, with fields mostly left to default.
fn new_resolution() -> impl Strategy<Value = NewTransfer> {
    use TransferFlags as F;
    let flags = (
        bit(0.12, F::LINKED),
        prop_oneof![Just(F::POST_PENDING), Just(F::VOID_PENDING)],
        prop_oneof![
            40 => Just(0u16),
            1 => Just(F::PENDING),
            1 => Just(F::BALANCING_DEBIT),
            1 => Just(F::CLOSING_CREDIT),
            1 => Just(F::POST_PENDING | F::VOID_PENDING),
        ],
    )
        .prop_map(|(a, b, c)| a | b | c);
    let defaulted_account = prop_oneof![10 => Just(AccountId(0)), 1 => account_id()];
    (
        (
            transfer_id(false),
            transfer_id(true),
            defaulted_account.clone(),
            defaulted_account,
        ),
        (
            prop_oneof![6 => Just(0u128), 3 => 1u128..=50, 1 => amount()],
            user_data(),
            prop_oneof![30 => Just(0u32), 1 => timeout()],
            prop_oneof![10 => Just(0u32), 1 => Just(1), 1 => Just(2)].prop_map(LedgerId),
            prop_oneof![10 => Just(0u16), 1 => Just(1), 1 => Just(2)],
            flags,
        ),
    )
        .prop_map(
            |(
                (id, pending_id, debit, credit),
                (amount, user_data, timeout, ledger, code, flags),
            )| {
                NewTransfer {
                    id,
                    debit_account_id: debit,
                    credit_account_id: credit,
                    amount,
                    pending_id,
                    user_data,
                    timeout_seconds: timeout,
                    ledger,
                    code,
                    flags: TransferFlags(flags),
                }
            },
        )
}

/// Anything at all in the fields that matter, unknown flag bits included.
fn new_oddity() -> impl Strategy<Value = NewTransfer> {
    (
        (transfer_id(false), account_id(), account_id(), amount()),
        (transfer_id(true), timeout(), 0u32..=2, code(), any::<u16>()),
    )
        .prop_map(
            |((id, debit, credit, amount), (pending_id, timeout, ledger, code, flags))| {
                NewTransfer {
                    id,
                    debit_account_id: debit,
                    credit_account_id: credit,
                    amount,
                    pending_id,
                    user_data: 0,
                    timeout_seconds: timeout,
                    ledger: LedgerId(ledger),
                    code,
                    flags: TransferFlags(flags),
                }
            },
        )
}

fn new_transfer() -> impl Strategy<Value = NewTransfer> {
    prop_oneof![
        12 => new_movement(),
        5 => new_resolution(),
        1 => new_oddity(),
    ]
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        1 => vec(new_account(), 0..=5).prop_map(Operation::CreateAccounts),
        4 => vec(new_transfer(), 0..=7).prop_map(Operation::CreateTransfers),
    ]
}

/// A client retrying an earlier transfer, as it was or with one field changed.
#[derive(Debug, Clone, Copy)]
enum Retry {
    Same,
    /// Optional fields left to 0: user data, and what a post or void takes from the pending.
    Defaults,
    Flags,
    DebitAccount,
    CreditAccount,
    Amount,
    PendingId,
    UserData,
    Timeout,
    Ledger,
    Code,
}

impl Retry {
    fn apply(self, mut event: NewTransfer) -> NewTransfer {
        let next = |value: u128| if value == 8 { 1 } else { value % 8 + 1 };
        match self {
            Retry::Same => {}
            Retry::Defaults => {
                event.user_data = 0;
                if event.flags.0 & (TransferFlags::POST_PENDING | TransferFlags::VOID_PENDING) != 0
                {
                    event.debit_account_id.0 = 0;
                    event.credit_account_id.0 = 0;
                    event.amount = 0;
                    event.ledger.0 = 0;
                    event.code = 0;
                }
            }
            Retry::Flags => event.flags.0 ^= TransferFlags::BALANCING_DEBIT,
            Retry::DebitAccount => event.debit_account_id.0 = next(event.debit_account_id.0),
            Retry::CreditAccount => event.credit_account_id.0 = next(event.credit_account_id.0),
            Retry::Amount => event.amount = event.amount.wrapping_add(1),
            Retry::PendingId => event.pending_id.0 = next(event.pending_id.0),
            Retry::UserData => event.user_data = event.user_data.wrapping_add(1),
            Retry::Timeout => event.timeout_seconds = event.timeout_seconds.wrapping_add(1),
            Retry::Ledger => event.ledger.0 = 3 - event.ledger.0 % 3,
            Retry::Code => event.code = event.code.wrapping_add(1),
        }
        event.flags.0 &= !TransferFlags::LINKED;
        event
    }
}

fn retry() -> impl Strategy<Value = Retry> {
    prop_oneof![
        6 => Just(Retry::Same),
        2 => Just(Retry::Defaults),
        1 => Just(Retry::Flags),
        1 => Just(Retry::DebitAccount),
        1 => Just(Retry::CreditAccount),
        1 => Just(Retry::Amount),
        1 => Just(Retry::PendingId),
        1 => Just(Retry::UserData),
        1 => Just(Retry::Timeout),
        1 => Just(Retry::Ledger),
        1 => Just(Retry::Code),
    ]
}

/// How the clock moves between batches: not at all, a little, past the timeouts, or back.
fn clock_step() -> impl Strategy<Value = (bool, u64)> {
    prop_oneof![
        2 => Just((true, 0u64)),
        4 => (1u64..=1_000).prop_map(|n| (true, n)),
        3 => (NANOS_PER_SECOND..=4 * NANOS_PER_SECOND).prop_map(|n| (true, n)),
        1 => (1u64..=2 * NANOS_PER_SECOND).prop_map(|n| (false, n)),
    ]
}

/// Where the clock starts: near the epoch, at a real date, or so late that the longest timeout
/// overflows the timestamp.
fn clock_start() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        Just(1u64),
        Just(1_750_000_000 * NANOS_PER_SECOND),
        Just(u64::MAX - 4_000_000_000 * NANOS_PER_SECOND),
    ]
}

/// A run of batches, each with the time it is applied at: the opening accounts, then random
/// batches, some ending with the retry of an earlier transfer.
fn history() -> impl Strategy<Value = Vec<(Timestamp, Vec<Operation>)>> {
    let batch = (
        clock_step(),
        vec(operation(), 1..=3),
        proptest::option::weighted(0.4, (any::<proptest::sample::Index>(), retry())),
    );
    (clock_start(), opening_accounts(), vec(batch, 1..=16)).prop_map(|(start, opening, batches)| {
        let mut now = start;
        let mut out = vec![(now, vec![opening])];
        let mut sent: Vec<NewTransfer> = Vec::new();
        for ((forward, step), mut operations, retry) in batches {
            now = if forward {
                now.saturating_add(step)
            } else {
                now.saturating_sub(step)
            };
            if let Some((index, retry)) = retry
                && !sent.is_empty()
            {
                let event = retry.apply(*index.get(&sent));
                operations.push(Operation::CreateTransfers(vec![event]));
            }
            for operation in &operations {
                if let Operation::CreateTransfers(events) = operation {
                    sent.extend(events);
                }
            }
            out.push((now, operations));
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ledger_agrees_with_the_reference_model(batches in history()) {
        let mut state = LedgerState::new();
        let mut model = Model::default();
        let mut journal = Vec::new();
        for (sequence, (now, operations)) in (1u64..).zip(&batches) {
            let got = state.apply(*now, operations);
            let want = model.apply(*now, operations);
            prop_assert_eq!(&got, &want, "batch {} at {}: {:?}", sequence, now, operations);
            assert_same(&state, &model)?;
            journal.push(encode(&Record {
                sequence,
                now: *now,
                operations: operations.clone(),
            }));
        }
        // The journal replays to the same ledger and the same answers.
        let mut replayed = LedgerState::new();
        let mut model = Model::default();
        for bytes in &journal {
            let record = decode(bytes).expect("a record written is read back");
            prop_assert_eq!(
                replayed.apply(record.now, &record.operations),
                model.apply(record.now, &record.operations)
            );
        }
        assert_same(&replayed, &model)?;
        prop_assert_eq!(replayed.last_timestamp(), state.last_timestamp());
    }
}

// ----- The journal codec -----

fn any_new_account() -> impl Strategy<Value = NewAccount> {
    (
        any::<u128>(),
        any::<u128>(),
        any::<u32>(),
        any::<u16>(),
        any::<u16>(),
    )
        .prop_map(|(id, owner, ledger, code, flags)| NewAccount {
            id: AccountId(id),
            ledger: LedgerId(ledger),
            code,
            owner,
            flags: AccountFlags(flags),
        })
}

fn any_new_transfer() -> impl Strategy<Value = NewTransfer> {
    (
        (any::<u128>(), any::<u128>(), any::<u128>(), any::<u128>()),
        (
            any::<u128>(),
            any::<u128>(),
            any::<u32>(),
            any::<u32>(),
            any::<u16>(),
            any::<u16>(),
        ),
    )
        .prop_map(
            |(
                (id, debit, credit, amount),
                (pending_id, user_data, timeout, ledger, code, flags),
            )| {
                NewTransfer {
                    id: TransferId(id),
                    debit_account_id: AccountId(debit),
                    credit_account_id: AccountId(credit),
                    amount,
                    pending_id: TransferId(pending_id),
                    user_data,
                    timeout_seconds: timeout,
                    ledger: LedgerId(ledger),
                    code,
                    flags: TransferFlags(flags),
                }
            },
        )
}

fn any_record() -> impl Strategy<Value = Record> {
    let operation = prop_oneof![
        vec(any_new_account(), 0..=4).prop_map(Operation::CreateAccounts),
        vec(any_new_transfer(), 0..=4).prop_map(Operation::CreateTransfers),
    ];
    (any::<u64>(), any::<u64>(), vec(operation, 0..=4)).prop_map(|(sequence, now, operations)| {
        Record {
            sequence,
            now,
            operations,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn records_round_trip(record in any_record()) {
        let bytes = encode(&record);
        prop_assert_eq!(decode(&bytes), Ok(record.clone()));
        prop_assert_eq!(encode(&record), bytes, "encoding is deterministic");
    }

    #[test]
    fn any_altered_byte_is_refused(record in any_record(), masks in vec(1u8..=255, 1..=64)) {
        let bytes = encode(&record);
        for (index, mask) in masks.iter().cycle().take(bytes.len()).enumerate() {
            let mut altered = bytes.clone();
            altered[index] ^= mask;
            prop_assert!(
                decode(&altered).is_err(),
                "byte {} xor {:#04x} of {} was accepted",
                index,
                mask,
                bytes.len()
            );
        }
    }

    #[test]
    fn truncated_or_extended_records_are_refused(record in any_record(), extra in 1u8..=255) {
        let bytes = encode(&record);
        for len in 0..bytes.len() {
            prop_assert!(decode(&bytes[..len]).is_err(), "prefix of {} bytes accepted", len);
        }
        let mut longer = bytes.clone();
        longer.push(extra);
        prop_assert!(decode(&longer).is_err());
    }
}

// ----- A few fixed histories the random ones may take long to find -----

fn accounts(events: &[(u128, u16)]) -> Operation {
    Operation::CreateAccounts(
        events
            .iter()
            .map(|&(id, flags)| NewAccount {
                id: AccountId(id),
                ledger: LedgerId(1),
                code: 1,
                owner: 0,
                flags: AccountFlags(flags),
            })
            .collect(),
    )
}

fn movement(id: u128, debit: u128, credit: u128, amount: u128, flags: u16) -> NewTransfer {
    NewTransfer {
        id: TransferId(id),
        debit_account_id: AccountId(debit),
        credit_account_id: AccountId(credit),
        amount,
        ledger: LedgerId(1),
        code: 1,
        flags: TransferFlags(flags),
        ..NewTransfer::default()
    }
}

fn run_both(batches: &[(Timestamp, Vec<Operation>)]) -> (LedgerState, Model) {
    let mut state = LedgerState::new();
    let mut model = Model::default();
    for (now, operations) in batches {
        assert_eq!(
            state.apply(*now, operations),
            model.apply(*now, operations),
            "at {now}"
        );
        assert_same(&state, &model).expect("ledger and model agree");
    }
    (state, model)
}

#[test]
fn timestamps_increase_when_the_clock_steps_back() {
    let (state, _) = run_both(&[
        (1_000, vec![accounts(&[(1, 0), (2, 0)])]),
        (
            10,
            vec![Operation::CreateTransfers(vec![movement(1, 1, 2, 5, 0)])],
        ),
        (10, vec![accounts(&[(3, 0)])]),
    ]);
    let a1 = state.account(AccountId(1)).expect("account 1");
    let a2 = state.account(AccountId(2)).expect("account 2");
    let t1 = state.transfer(TransferId(1)).expect("transfer 1");
    let a3 = state.account(AccountId(3)).expect("account 3");
    assert_eq!((a1.timestamp, a2.timestamp), (1_000, 1_001));
    assert_eq!(t1.timestamp, 1_002);
    assert_eq!(a3.timestamp, 1_003);
    assert_eq!(state.last_timestamp(), 1_003);
}

#[test]
fn expiry_releases_and_reopens_then_refuses_resolution() {
    use TransferFlags as F;
    let pending = NewTransfer {
        timeout_seconds: 1,
        ..movement(1, 1, 2, 7, F::PENDING | F::CLOSING_DEBIT)
    };
    let post = NewTransfer {
        id: TransferId(2),
        pending_id: TransferId(1),
        flags: TransferFlags(F::POST_PENDING),
        ..NewTransfer::default()
    };
    let (state, _) = run_both(&[
        (1_000, vec![accounts(&[(1, AccountFlags::HISTORY), (2, 0)])]),
        (2_000, vec![Operation::CreateTransfers(vec![pending])]),
        (
            2_000 + NANOS_PER_SECOND,
            vec![Operation::CreateTransfers(vec![post])],
        ),
    ]);
    assert_eq!(
        state.pending_status(TransferId(1)),
        Some(PendingStatus::Expired)
    );
    let account = state.account(AccountId(1)).expect("account 1");
    assert!(!account.flags.has(AccountFlags::CLOSED));
    assert_eq!(account.balances, Balances::default());
    assert_eq!(state.transfer(TransferId(2)), None);
}

#[test]
fn a_failed_chain_leaves_nothing_behind() {
    use TransferFlags as F;
    let (state, _) = run_both(&[
        (
            1_000,
            vec![accounts(&[
                (1, AccountFlags::HISTORY),
                (2, AccountFlags::HISTORY),
                (3, AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS),
            ])],
        ),
        (
            2_000,
            vec![Operation::CreateTransfers(vec![NewTransfer {
                timeout_seconds: 5,
                ..movement(1, 1, 2, 10, F::PENDING)
            }])],
        ),
        (
            3_000,
            vec![Operation::CreateTransfers(vec![
                movement(2, 1, 2, 3, F::LINKED | F::PENDING | F::CLOSING_CREDIT),
                NewTransfer {
                    id: TransferId(3),
                    pending_id: TransferId(1),
                    flags: TransferFlags(F::LINKED | F::POST_PENDING),
                    ..NewTransfer::default()
                },
                movement(4, 3, 1, 1, 0),
            ])],
        ),
    ]);
    assert_eq!(state.transfers_count(), 1);
    assert_eq!(
        state.pending_status(TransferId(1)),
        Some(PendingStatus::Pending)
    );
    assert!(
        !state
            .account(AccountId(2))
            .expect("account 2")
            .flags
            .has(AccountFlags::CLOSED)
    );
}
