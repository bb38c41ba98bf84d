//! Every result code, produced on purpose: one scenario per code (some codes have more than one
//! way in), run on a small ledger, checking the code the event gets and that a refused event
//! leaves the ledger exactly as it was. A final test fails when a code has no scenario, so a
//! new code cannot land untested. Then the tables themselves: stable snake_case names that
//! round-trip, and a sentence in Spanish (and English) for each.

use std::collections::HashSet;

use ceiba_ledger::*;

use AccountFlags as AF;
use TransferFlags as TF;

const SECOND: Timestamp = 1_000_000_000;
/// When the common ledger is made.
const START: Timestamp = 1_000 * SECOND;
/// When the event under test is applied: after transfer 106 expired, before 107 does.
const LATER: Timestamp = START + 3 * SECOND;

// ----- Building events -----

fn account(id: u128) -> NewAccount {
    NewAccount {
        id: AccountId(id),
        ledger: LedgerId(1),
        code: 1,
        owner: 0,
        flags: AccountFlags(0),
    }
}

fn account_flagged(id: u128, flags: u16) -> NewAccount {
    NewAccount {
        flags: AccountFlags(flags),
        ..account(id)
    }
}

fn transfer(id: u128, debit: u128, credit: u128, amount: u128) -> NewTransfer {
    NewTransfer {
        id: TransferId(id),
        debit_account_id: AccountId(debit),
        credit_account_id: AccountId(credit),
        amount,
        ledger: LedgerId(1),
        code: 1,
        ..NewTransfer::default()
    }
}

fn flagged(flags: u16, event: NewTransfer) -> NewTransfer {
    NewTransfer {
        flags: TransferFlags(flags),
        ..event
    }
}

fn pending(id: u128, debit: u128, credit: u128, amount: u128) -> NewTransfer {
    flagged(TF::PENDING, transfer(id, debit, credit, amount))
}

/// A post with every optional field left to default.
fn post(id: u128, pending_id: u128) -> NewTransfer {
    NewTransfer {
        id: TransferId(id),
        pending_id: TransferId(pending_id),
        flags: TransferFlags(TF::POST_PENDING),
        ..NewTransfer::default()
    }
}

fn void(id: u128, pending_id: u128) -> NewTransfer {
    NewTransfer {
        flags: TransferFlags(TF::VOID_PENDING),
        ..post(id, pending_id)
    }
}

// ----- The common ledger -----

/// Accounts:
/// - 1, 2, 3: ledger 1, no limits; 4: ledger 2;
/// - 5: debits must not exceed credits (and it has no credits); 6: credits must not exceed
///   debits (and it has no debits); 7: created closed; 8: keeps history;
/// - 21, 22, 23: ledger 1, for the overflow scenarios.
///
/// Transfers:
/// - 100: pending 1 → 2, 10, user data 7, no timeout;
/// - 101: single-phase 1 → 2, 5, user data 3;
/// - 102: pending 1 → 3, 4, posted by 103;
/// - 104: pending 1 → 3, 4, voided by 105;
/// - 106: pending 1 → 3, 4, timeout 1 s, expired before `LATER`;
/// - 107: pending 1 → 2, 1, timeout 5 s, still pending at `LATER`.
fn common_ledger() -> LedgerState {
    let mut state = LedgerState::new();
    let accounts = vec![
        account(1),
        account(2),
        account(3),
        NewAccount {
            ledger: LedgerId(2),
            ..account(4)
        },
        account_flagged(5, AF::DEBITS_MUST_NOT_EXCEED_CREDITS),
        account_flagged(6, AF::CREDITS_MUST_NOT_EXCEED_DEBITS),
        account_flagged(7, AF::CLOSED),
        account_flagged(8, AF::HISTORY),
        account(21),
        account(22),
        account(23),
    ];
    let transfers = vec![
        NewTransfer {
            user_data: 7,
            ..pending(100, 1, 2, 10)
        },
        NewTransfer {
            user_data: 3,
            ..transfer(101, 1, 2, 5)
        },
        pending(102, 1, 3, 4),
        post(103, 102),
        pending(104, 1, 3, 4),
        void(105, 104),
        NewTransfer {
            timeout_seconds: 1,
            ..pending(106, 1, 3, 4)
        },
        NewTransfer {
            timeout_seconds: 5,
            ..pending(107, 1, 2, 1)
        },
    ];
    let results = state.apply(
        START,
        &[
            Operation::CreateAccounts(accounts),
            Operation::CreateTransfers(transfers),
        ],
    );
    for result in &results {
        match result {
            OperationResults::CreateAccounts(results) => {
                assert!(results.iter().all(|r| *r == CreateAccountResult::Ok));
            }
            OperationResults::CreateTransfers(results) => {
                assert!(results.iter().all(|r| *r == CreateTransferResult::Ok));
            }
        }
    }
    state.apply(START + 2 * SECOND, &[]);
    assert_eq!(
        state.pending_status(TransferId(106)),
        Some(PendingStatus::Expired)
    );
    assert_eq!(
        state.pending_status(TransferId(107)),
        Some(PendingStatus::Pending)
    );
    state
}

// ----- The table -----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Expected {
    Account(CreateAccountResult),
    Transfer(CreateTransferResult),
}

impl Expected {
    fn is_ok(self) -> bool {
        matches!(
            self,
            Expected::Account(CreateAccountResult::Ok)
                | Expected::Transfer(CreateTransferResult::Ok)
        )
    }
}

/// One way to produce one code.
#[derive(Debug)]
struct Case {
    name: &'static str,
    expected: Expected,
    /// Transfers made after the common ledger and before the event under test.
    setup: Vec<NewTransfer>,
    /// When the batch under test is applied.
    at: Timestamp,
    /// The batch under test.
    batch: Operation,
    /// Which event of the batch gets `expected`.
    index: usize,
}

fn account_case(name: &'static str, expected: CreateAccountResult, event: NewAccount) -> Case {
    Case {
        name,
        expected: Expected::Account(expected),
        setup: Vec::new(),
        at: LATER,
        batch: Operation::CreateAccounts(vec![event]),
        index: 0,
    }
}

fn transfer_case(name: &'static str, expected: CreateTransferResult, event: NewTransfer) -> Case {
    Case {
        name,
        expected: Expected::Transfer(expected),
        setup: Vec::new(),
        at: LATER,
        batch: Operation::CreateTransfers(vec![event]),
        index: 0,
    }
}

fn after(setup: Vec<NewTransfer>, case: Case) -> Case {
    Case { setup, ..case }
}

fn cases() -> Vec<Case> {
    use CreateAccountResult as A;
    use CreateTransferResult as T;
    let max = u128::MAX;
    vec![
        // ----- Accounts -----
        account_case("a new account", A::Ok, account(50)),
        Case {
            batch: Operation::CreateAccounts(vec![account_flagged(50, AF::LINKED), account(0)]),
            ..account_case(
                "linked to an invalid account",
                A::LinkedEventFailed,
                account(50),
            )
        },
        Case {
            batch: Operation::CreateAccounts(vec![account_flagged(50, AF::LINKED)]),
            ..account_case(
                "linked as the last event",
                A::LinkedEventChainOpen,
                account(50),
            )
        },
        account_case(
            "unknown account flag",
            A::FlagsAreUnknown,
            account_flagged(50, 1 << 5),
        ),
        account_case(
            "unknown flag checked before the id",
            A::FlagsAreUnknown,
            account_flagged(0, 1 << 15),
        ),
        account_case("account id 0", A::IdMustNotBeZero, account(0)),
        account_case("account id 2^128-1", A::IdMustNotBeIntMax, account(max)),
        account_case(
            "both limits",
            A::FlagsAreMutuallyExclusive,
            account_flagged(
                50,
                AF::DEBITS_MUST_NOT_EXCEED_CREDITS | AF::CREDITS_MUST_NOT_EXCEED_DEBITS,
            ),
        ),
        account_case(
            "account ledger 0",
            A::LedgerMustNotBeZero,
            NewAccount {
                ledger: LedgerId(0),
                ..account(50)
            },
        ),
        account_case(
            "account code 0",
            A::CodeMustNotBeZero,
            NewAccount {
                code: 0,
                ..account(50)
            },
        ),
        account_case(
            "existing account, other flags",
            A::ExistsWithDifferentFlags,
            account_flagged(1, AF::HISTORY),
        ),
        account_case(
            "existing account, other owner",
            A::ExistsWithDifferentOwner,
            NewAccount {
                owner: 9,
                ..account(1)
            },
        ),
        account_case(
            "existing account, other ledger",
            A::ExistsWithDifferentLedger,
            NewAccount {
                ledger: LedgerId(2),
                ..account(1)
            },
        ),
        account_case(
            "existing account, other code",
            A::ExistsWithDifferentCode,
            NewAccount {
                code: 2,
                ..account(1)
            },
        ),
        account_case("existing account, same fields", A::Exists, account(1)),
        Case {
            batch: Operation::CreateAccounts(vec![account_flagged(2, AF::LINKED), account(50)]),
            ..account_case(
                "existing account, linked flag ignored",
                A::Exists,
                account(2),
            )
        },
        account_case(
            "closed account, created without the flag",
            A::Exists,
            account(7),
        ),
        after(
            vec![flagged(
                TF::PENDING | TF::CLOSING_DEBIT,
                transfer(200, 3, 1, 1),
            )],
            account_case(
                "account closed by a transfer, same fields",
                A::Exists,
                account(3),
            ),
        ),
        // ----- Transfers: the chain -----
        transfer_case("a new transfer", T::Ok, transfer(200, 1, 2, 1)),
        Case {
            batch: Operation::CreateTransfers(vec![
                flagged(TF::LINKED, transfer(200, 1, 2, 1)),
                transfer(201, 1, 1, 1),
            ]),
            ..transfer_case(
                "linked to an invalid transfer",
                T::LinkedEventFailed,
                transfer(200, 1, 2, 1),
            )
        },
        Case {
            batch: Operation::CreateTransfers(vec![
                flagged(TF::LINKED, transfer(200, 1, 2, 1)),
                flagged(TF::LINKED, transfer(201, 1, 2, 1)),
                transfer(202, 1, 2, 0),
            ]),
            index: 1,
            ..transfer_case(
                "second of a chain whose last fails",
                T::LinkedEventFailed,
                transfer(200, 1, 2, 1),
            )
        },
        Case {
            batch: Operation::CreateTransfers(vec![
                flagged(TF::LINKED, transfer(200, 1, 1, 1)),
                flagged(TF::LINKED, transfer(201, 1, 2, 1)),
            ]),
            index: 1,
            ..transfer_case(
                "linked last event of a chain that already failed",
                T::LinkedEventFailed,
                transfer(200, 1, 2, 1),
            )
        },
        Case {
            batch: Operation::CreateTransfers(vec![flagged(TF::LINKED, transfer(200, 1, 2, 1))]),
            ..transfer_case(
                "transfer linked as the last event",
                T::LinkedEventChainOpen,
                transfer(200, 1, 2, 1),
            )
        },
        // ----- Transfers: the event alone -----
        transfer_case(
            "unknown transfer flag",
            T::FlagsAreUnknown,
            flagged(1 << 8, transfer(200, 1, 2, 1)),
        ),
        transfer_case("transfer id 0", T::IdMustNotBeZero, transfer(0, 1, 2, 1)),
        transfer_case(
            "transfer id 2^128-1",
            T::IdMustNotBeIntMax,
            transfer(max, 1, 2, 1),
        ),
        transfer_case(
            "pending and post",
            T::FlagsAreMutuallyExclusive,
            flagged(TF::PENDING | TF::POST_PENDING, transfer(200, 1, 2, 1)),
        ),
        transfer_case(
            "post and void",
            T::FlagsAreMutuallyExclusive,
            flagged(TF::POST_PENDING | TF::VOID_PENDING, post(200, 100)),
        ),
        transfer_case(
            "balancing post",
            T::FlagsAreMutuallyExclusive,
            flagged(TF::POST_PENDING | TF::BALANCING_DEBIT, post(200, 100)),
        ),
        transfer_case(
            "closing void",
            T::FlagsAreMutuallyExclusive,
            flagged(TF::VOID_PENDING | TF::CLOSING_CREDIT, void(200, 100)),
        ),
        transfer_case(
            "debit account 0",
            T::DebitAccountIdMustNotBeZero,
            transfer(200, 0, 2, 1),
        ),
        transfer_case(
            "debit account 2^128-1",
            T::DebitAccountIdMustNotBeIntMax,
            transfer(200, max, 2, 1),
        ),
        transfer_case(
            "credit account 0",
            T::CreditAccountIdMustNotBeZero,
            transfer(200, 1, 0, 1),
        ),
        transfer_case(
            "credit account 2^128-1",
            T::CreditAccountIdMustNotBeIntMax,
            transfer(200, 1, max, 1),
        ),
        transfer_case(
            "same account on both sides",
            T::AccountsMustBeDifferent,
            transfer(200, 1, 1, 1),
        ),
        transfer_case(
            "pending id on a single-phase transfer",
            T::PendingIdMustBeZero,
            NewTransfer {
                pending_id: TransferId(100),
                ..transfer(200, 1, 2, 1)
            },
        ),
        transfer_case("post of 0", T::PendingIdMustNotBeZero, post(200, 0)),
        transfer_case(
            "void of 2^128-1",
            T::PendingIdMustNotBeIntMax,
            void(200, max),
        ),
        transfer_case(
            "post of itself",
            T::PendingIdMustBeDifferent,
            post(200, 200),
        ),
        transfer_case(
            "timeout on a single-phase transfer",
            T::TimeoutReservedForPendingTransfer,
            NewTransfer {
                timeout_seconds: 1,
                ..transfer(200, 1, 2, 1)
            },
        ),
        transfer_case(
            "timeout on a post",
            T::TimeoutReservedForPendingTransfer,
            NewTransfer {
                timeout_seconds: 1,
                ..post(200, 100)
            },
        ),
        transfer_case(
            "closing a single-phase transfer",
            T::ClosingTransferMustBePending,
            flagged(TF::CLOSING_DEBIT, transfer(200, 1, 2, 1)),
        ),
        transfer_case("amount 0", T::AmountMustNotBeZero, transfer(200, 1, 2, 0)),
        transfer_case(
            "transfer ledger 0",
            T::LedgerMustNotBeZero,
            NewTransfer {
                ledger: LedgerId(0),
                ..transfer(200, 1, 2, 1)
            },
        ),
        transfer_case(
            "transfer code 0",
            T::CodeMustNotBeZero,
            NewTransfer {
                code: 0,
                ..transfer(200, 1, 2, 1)
            },
        ),
        // ----- Transfers: the accounts -----
        transfer_case(
            "no such debit account",
            T::DebitAccountNotFound,
            transfer(200, 99, 2, 1),
        ),
        transfer_case(
            "no such credit account",
            T::CreditAccountNotFound,
            transfer(200, 1, 99, 1),
        ),
        transfer_case(
            "accounts in two ledgers",
            T::AccountsMustHaveTheSameLedger,
            transfer(200, 1, 4, 1),
        ),
        transfer_case(
            "transfer in another ledger than its accounts",
            T::TransferMustHaveTheSameLedgerAsAccounts,
            NewTransfer {
                ledger: LedgerId(2),
                ..transfer(200, 1, 2, 1)
            },
        ),
        transfer_case(
            "debit account created closed",
            T::DebitAccountAlreadyClosed,
            transfer(200, 7, 1, 1),
        ),
        transfer_case(
            "credit account created closed",
            T::CreditAccountAlreadyClosed,
            transfer(200, 1, 7, 1),
        ),
        after(
            vec![flagged(
                TF::PENDING | TF::CLOSING_DEBIT,
                transfer(300, 3, 1, 1),
            )],
            transfer_case(
                "debit account closed by a pending transfer",
                T::DebitAccountAlreadyClosed,
                transfer(200, 3, 1, 1),
            ),
        ),
        after(
            vec![flagged(
                TF::PENDING | TF::CLOSING_CREDIT,
                transfer(300, 1, 3, 1),
            )],
            transfer_case(
                "credit account closed by a pending transfer",
                T::CreditAccountAlreadyClosed,
                transfer(200, 2, 3, 1),
            ),
        ),
        after(
            vec![
                flagged(TF::PENDING | TF::CLOSING_DEBIT, transfer(300, 3, 1, 1)),
                post(301, 300),
            ],
            transfer_case(
                "account stays closed when its closing transfer is posted",
                T::DebitAccountAlreadyClosed,
                transfer(200, 3, 1, 1),
            ),
        ),
        after(
            vec![
                flagged(TF::PENDING | TF::CLOSING_DEBIT, transfer(300, 3, 1, 1)),
                void(301, 300),
            ],
            transfer_case(
                "account reopened by voiding its closing transfer",
                T::Ok,
                transfer(200, 3, 1, 1),
            ),
        ),
        // ----- Transfers: posting and voiding -----
        transfer_case(
            "post of a transfer that does not exist",
            T::PendingTransferNotFound,
            post(200, 999),
        ),
        transfer_case(
            "post of a single-phase transfer",
            T::PendingTransferNotPending,
            post(200, 101),
        ),
        transfer_case(
            "post naming another debit account",
            T::PendingTransferHasDifferentDebitAccountId,
            NewTransfer {
                debit_account_id: AccountId(3),
                ..post(200, 100)
            },
        ),
        transfer_case(
            "post naming another credit account",
            T::PendingTransferHasDifferentCreditAccountId,
            NewTransfer {
                credit_account_id: AccountId(3),
                ..post(200, 100)
            },
        ),
        transfer_case(
            "void naming another ledger",
            T::PendingTransferHasDifferentLedger,
            NewTransfer {
                ledger: LedgerId(2),
                ..void(200, 100)
            },
        ),
        transfer_case(
            "post naming another code",
            T::PendingTransferHasDifferentCode,
            NewTransfer {
                code: 2,
                ..post(200, 100)
            },
        ),
        transfer_case(
            "post of more than is pending",
            T::ExceedsPendingTransferAmount,
            NewTransfer {
                amount: 11,
                ..post(200, 100)
            },
        ),
        transfer_case(
            "post of too much, checked before the expiry",
            T::ExceedsPendingTransferAmount,
            NewTransfer {
                amount: 5,
                ..post(200, 106)
            },
        ),
        transfer_case(
            "void of part of the pending amount",
            T::PendingTransferHasDifferentAmount,
            NewTransfer {
                amount: 9,
                ..void(200, 100)
            },
        ),
        transfer_case("post in part", T::Ok, {
            NewTransfer {
                amount: 3,
                ..post(200, 100)
            }
        }),
        transfer_case(
            "post of a posted transfer",
            T::PendingTransferAlreadyPosted,
            post(200, 102),
        ),
        transfer_case(
            "void of a voided transfer",
            T::PendingTransferAlreadyVoided,
            void(200, 104),
        ),
        transfer_case(
            "void of an expired transfer",
            T::PendingTransferExpired,
            void(200, 106),
        ),
        // ----- Transfers: the same id again -----
        transfer_case(
            "existing id, now pending",
            T::ExistsWithDifferentFlags,
            flagged(TF::PENDING, transfer(101, 1, 2, 5)),
        ),
        transfer_case(
            "existing id, other debit account",
            T::ExistsWithDifferentDebitAccountId,
            NewTransfer {
                user_data: 3,
                ..transfer(101, 3, 2, 5)
            },
        ),
        transfer_case(
            "existing id, other credit account",
            T::ExistsWithDifferentCreditAccountId,
            transfer(101, 1, 3, 5),
        ),
        transfer_case(
            "existing id, other amount",
            T::ExistsWithDifferentAmount,
            transfer(101, 1, 2, 6),
        ),
        transfer_case(
            "existing post, other pending transfer",
            T::ExistsWithDifferentPendingId,
            post(103, 100),
        ),
        transfer_case(
            "existing id, other user data",
            T::ExistsWithDifferentUserData,
            NewTransfer {
                user_data: 4,
                ..transfer(101, 1, 2, 5)
            },
        ),
        transfer_case(
            "existing pending transfer, other timeout",
            T::ExistsWithDifferentTimeout,
            NewTransfer {
                timeout_seconds: 6,
                ..pending(107, 1, 2, 1)
            },
        ),
        transfer_case(
            "existing post, other ledger",
            T::ExistsWithDifferentLedger,
            NewTransfer {
                ledger: LedgerId(2),
                ..post(103, 102)
            },
        ),
        transfer_case(
            "existing id, other code",
            T::ExistsWithDifferentCode,
            NewTransfer {
                code: 2,
                ..transfer(101, 1, 2, 5)
            },
        ),
        transfer_case(
            "existing id, same fields",
            T::Exists,
            NewTransfer {
                user_data: 3,
                ..transfer(101, 1, 2, 5)
            },
        ),
        transfer_case(
            "existing id, user data left to default",
            T::Exists,
            transfer(101, 1, 2, 5),
        ),
        transfer_case(
            "existing post, fields left to default",
            T::Exists,
            post(103, 102),
        ),
        // ----- Transfers: balances -----
        after(
            vec![pending(300, 21, 22, max)],
            transfer_case(
                "pending debits past 2^128",
                T::OverflowsDebitsPending,
                pending(200, 21, 23, 1),
            ),
        ),
        after(
            vec![pending(300, 21, 23, max), pending(301, 23, 22, max)],
            transfer_case(
                "both sides past 2^128: the debit side is checked first",
                T::OverflowsDebitsPending,
                pending(200, 21, 22, 1),
            ),
        ),
        after(
            vec![pending(300, 21, 23, max)],
            transfer_case(
                "pending credits past 2^128",
                T::OverflowsCreditsPending,
                pending(200, 22, 23, 1),
            ),
        ),
        after(
            vec![transfer(300, 21, 22, max)],
            transfer_case(
                "posted debits past 2^128",
                T::OverflowsDebitsPosted,
                transfer(200, 21, 23, 1),
            ),
        ),
        after(
            vec![transfer(300, 21, 23, max)],
            transfer_case(
                "posted credits past 2^128",
                T::OverflowsCreditsPosted,
                transfer(200, 22, 23, 1),
            ),
        ),
        after(
            vec![pending(300, 21, 22, max)],
            transfer_case(
                "pending and posted debits past 2^128",
                T::OverflowsDebits,
                transfer(200, 21, 23, 1),
            ),
        ),
        after(
            vec![pending(300, 21, 23, max)],
            transfer_case(
                "pending and posted credits past 2^128",
                T::OverflowsCredits,
                transfer(200, 22, 23, 1),
            ),
        ),
        Case {
            at: u64::MAX - 1_000_000_000 * SECOND,
            ..transfer_case(
                "expiry past the last representable time",
                T::OverflowsTimeout,
                NewTransfer {
                    timeout_seconds: u32::MAX,
                    ..pending(200, 1, 2, 1)
                },
            )
        },
        transfer_case(
            "debit beyond the credits",
            T::ExceedsCredits,
            transfer(200, 5, 1, 1),
        ),
        transfer_case(
            "balancing debit with nothing available",
            T::ExceedsCredits,
            flagged(TF::BALANCING_DEBIT, transfer(200, 5, 1, 10)),
        ),
        after(
            vec![transfer(300, 1, 5, 10), pending(301, 5, 2, 4)],
            transfer_case(
                "pending debits count against the credits",
                T::ExceedsCredits,
                transfer(200, 5, 1, 7),
            ),
        ),
        transfer_case(
            "credit beyond the debits",
            T::ExceedsDebits,
            transfer(200, 1, 6, 1),
        ),
        transfer_case(
            "balancing credit with no room",
            T::ExceedsDebits,
            flagged(TF::BALANCING_CREDIT, transfer(200, 1, 6, 10)),
        ),
        after(
            vec![transfer(300, 1, 5, 10)],
            transfer_case(
                "balancing debit moves what is available",
                T::Ok,
                flagged(TF::BALANCING_DEBIT, transfer(200, 5, 1, 25)),
            ),
        ),
    ]
}

// ----- Running the table -----

/// Everything a refused event must leave as it was.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    accounts_count: usize,
    transfers_count: usize,
    accounts: Vec<Option<Account>>,
    transfers: Vec<Transfer>,
    pending: Vec<Option<PendingStatus>>,
    expired: Vec<(Timestamp, Transfer)>,
}

fn snapshot(state: &LedgerState) -> Snapshot {
    let transfers = state.changes_after(0, usize::MAX);
    Snapshot {
        accounts_count: state.accounts_count(),
        transfers_count: state.transfers_count(),
        accounts: (0..=60).map(|id| state.account(AccountId(id))).collect(),
        pending: transfers
            .iter()
            .map(|transfer| state.pending_status(transfer.id))
            .collect(),
        transfers,
        expired: state.expirations_after(0, usize::MAX),
    }
}

/// Runs one case; the error says what went wrong.
fn run(case: &Case) -> Result<(), String> {
    let mut state = common_ledger();
    if !case.setup.is_empty() {
        let results = state.apply(
            LATER - SECOND,
            &[Operation::CreateTransfers(case.setup.clone())],
        );
        let all_ok = matches!(
            results.as_slice(),
            [OperationResults::CreateTransfers(results)]
                if results.iter().all(|r| *r == CreateTransferResult::Ok)
        );
        if !all_ok {
            return Err(format!("setup refused: {results:?}"));
        }
    }
    // Expire what is due at `at` first, so that only the event can change the ledger.
    state.apply(case.at, &[]);
    let before = snapshot(&state);
    let results = state.apply(case.at, std::slice::from_ref(&case.batch));
    let got = match results.as_slice() {
        [OperationResults::CreateAccounts(results)] => {
            results.get(case.index).copied().map(Expected::Account)
        }
        [OperationResults::CreateTransfers(results)] => {
            results.get(case.index).copied().map(Expected::Transfer)
        }
        _ => None,
    };
    if got != Some(case.expected) {
        return Err(format!(
            "expected {:?}, got {got:?} (all results: {results:?})",
            case.expected
        ));
    }
    let after = snapshot(&state);
    if case.expected.is_ok() {
        if after == before {
            return Err("accepted but the ledger did not change".to_owned());
        }
    } else if after != before {
        return Err(format!(
            "refused but the ledger changed:\nbefore {before:?}\nafter  {after:?}"
        ));
    }
    let report = check(&state);
    if !report.is_sound() {
        return Err(format!("unsound ledger: {:?}", report.violations));
    }
    Ok(())
}

#[test]
fn the_common_ledger_is_sound() {
    let state = common_ledger();
    let report = check(&state);
    assert!(report.is_sound(), "{:?}", report.violations);
    assert_eq!(report.accounts, 11);
    assert_eq!(report.transfers, 8);
}

#[test]
fn every_scenario_gets_its_code() {
    let failures: Vec<String> = cases()
        .iter()
        .filter_map(|case| {
            run(case)
                .err()
                .map(|error| format!("{} ({:?}): {error}", case.name, case.expected))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_code_has_a_scenario() {
    let cases = cases();
    let covered: HashSet<Expected> = cases.iter().map(|case| case.expected).collect();
    let mut missing: Vec<String> = CreateAccountResult::ALL
        .iter()
        .filter(|&&code| code != CreateAccountResult::Ok)
        .filter(|&&code| !covered.contains(&Expected::Account(code)))
        .map(|code| format!("account: {code}"))
        .collect();
    missing.extend(
        CreateTransferResult::ALL
            .iter()
            .filter(|&&code| code != CreateTransferResult::Ok)
            .filter(|&&code| !covered.contains(&Expected::Transfer(code)))
            .map(|code| format!("transfer: {code}")),
    );
    assert!(missing.is_empty(), "codes without a scenario: {missing:?}");
    let names: HashSet<&str> = cases.iter().map(|case| case.name).collect();
    assert_eq!(names.len(), cases.len(), "scenario names are unique");
}

// ----- The tables themselves -----

fn is_snake_case(code: &str) -> bool {
    code.starts_with(|c: char| c.is_ascii_lowercase())
        && !code.ends_with('_')
        && !code.contains("__")
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// What both tables offer, to check them with one function.
struct Entry {
    code: &'static str,
    message_es: &'static str,
    message_en: &'static str,
    round_trips: bool,
    display: String,
}

fn check_table(table: &str, entries: &[Entry]) {
    let codes: HashSet<&str> = entries.iter().map(|entry| entry.code).collect();
    assert_eq!(codes.len(), entries.len(), "{table}: codes are unique");
    assert!(codes.contains("ok"), "{table}: has ok");
    for entry in entries {
        let code = entry.code;
        assert!(is_snake_case(code), "{table}: {code:?} is snake_case");
        assert!(
            entry.round_trips,
            "{table}: from_code({code:?}) round-trips"
        );
        assert_eq!(entry.display, code, "{table}: Display is the code");
        for message in [entry.message_es, entry.message_en] {
            assert!(
                !message.trim().is_empty() && message.ends_with('.'),
                "{table}: {code}: {message:?} is a sentence ending with a period"
            );
        }
        assert_ne!(
            entry.message_es, entry.message_en,
            "{table}: {code} is translated"
        );
    }
    let messages: HashSet<&str> = entries.iter().map(|entry| entry.message_es).collect();
    assert_eq!(
        messages.len(),
        entries.len(),
        "{table}: each code says something of its own"
    );
}

#[test]
fn account_result_table() {
    let entries: Vec<Entry> = CreateAccountResult::ALL
        .iter()
        .map(|&result| Entry {
            code: result.code(),
            message_es: result.message_es(),
            message_en: result.message_en(),
            round_trips: CreateAccountResult::from_code(result.code()) == Some(result),
            display: result.to_string(),
        })
        .collect();
    check_table("CreateAccountResult", &entries);
    let variants: HashSet<CreateAccountResult> = CreateAccountResult::ALL.iter().copied().collect();
    assert_eq!(variants.len(), CreateAccountResult::ALL.len());
    for unknown in ["", "OK", "Ok", " ok", "ok ", "exists_with_different_amount"] {
        assert_eq!(CreateAccountResult::from_code(unknown), None, "{unknown:?}");
    }
}

#[test]
fn transfer_result_table() {
    let entries: Vec<Entry> = CreateTransferResult::ALL
        .iter()
        .map(|&result| Entry {
            code: result.code(),
            message_es: result.message_es(),
            message_en: result.message_en(),
            round_trips: CreateTransferResult::from_code(result.code()) == Some(result),
            display: result.to_string(),
        })
        .collect();
    check_table("CreateTransferResult", &entries);
    let variants: HashSet<CreateTransferResult> =
        CreateTransferResult::ALL.iter().copied().collect();
    assert_eq!(variants.len(), CreateTransferResult::ALL.len());
    for unknown in ["", "OK", "Exists", "exists_with_different_owner"] {
        assert_eq!(
            CreateTransferResult::from_code(unknown),
            None,
            "{unknown:?}"
        );
    }
}

#[test]
fn shared_codes_mean_the_same_in_both_tables() {
    for account in CreateAccountResult::ALL {
        if let Some(transfer) = CreateTransferResult::from_code(account.code()) {
            assert_eq!(transfer.code(), account.code());
        }
    }
    assert_eq!(
        CreateAccountResult::LinkedEventFailed.code(),
        CreateTransferResult::LinkedEventFailed.code()
    );
}
