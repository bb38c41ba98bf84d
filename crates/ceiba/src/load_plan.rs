//! What `ceiba ledger load` submits, as a pure function of its arguments: the accounts, the
//! transfers that fund the limited ones, and every batch of transfers. The crash test in
//! `tests/ledger_crash.rs` includes this file with `#[path]` to regenerate each batch and check
//! the ledger against it, so it depends on nothing but `ceiba-ledger`.

use ceiba_ledger::{
    AccountFlags, AccountId, LedgerId, NewAccount, NewTransfer, TransferFlags, TransferId,
};

/// The account that pays in: it has no limits and funds every limited account.
pub const FUNDING_ACCOUNT: u128 = 1;
/// A funding transfer's id is this plus the id of the account it funds; load transfers stay
/// below it.
pub const FUNDING_TRANSFER_BASE: u128 = 1 << 64;
/// What each limited account receives before the load starts, in centavos.
pub const FUNDING_AMOUNT: u128 = 5_000;
/// The largest amount of a load transfer; several in a row exhaust a limited account.
pub const AMOUNT_MAX: u64 = 2_000;
/// Account code of the accounts without limits.
pub const ACCOUNT_CODE_OPEN: u16 = 1;
/// Account code of the accounts whose debits must not exceed their credits (wallets).
pub const ACCOUNT_CODE_WALLET: u16 = 2;
/// Transfer code of the funding transfers.
pub const TRANSFER_CODE_FUNDING: u16 = 1;
/// Transfer code of the load transfers.
pub const TRANSFER_CODE_LOAD: u16 = 2;
/// Fewest accounts a load needs: the funding account and room to pick two others.
pub const ACCOUNTS_MIN: u32 = 4;

/// Whether account `id` has `debits_must_not_exceed_credits`: the even ones, half of them.
pub fn is_limited(id: u128) -> bool {
    id.is_multiple_of(2)
}

/// Accounts 1 to `count`, all in CUP; the even ones are limited wallets.
pub fn accounts(count: u32) -> Vec<NewAccount> {
    (1..=u128::from(count))
        .map(|id| {
            let limited = is_limited(id);
            NewAccount {
                id: AccountId(id),
                ledger: LedgerId::CUP,
                code: if limited {
                    ACCOUNT_CODE_WALLET
                } else {
                    ACCOUNT_CODE_OPEN
                },
                owner: id,
                flags: AccountFlags(if limited {
                    AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS
                } else {
                    0
                }),
            }
        })
        .collect()
}

/// One transfer from the funding account to each limited account.
pub fn funding(count: u32) -> Vec<NewTransfer> {
    (1..=u128::from(count))
        .filter(|&id| is_limited(id))
        .map(|id| NewTransfer {
            id: TransferId(FUNDING_TRANSFER_BASE + id),
            debit_account_id: AccountId(FUNDING_ACCOUNT),
            credit_account_id: AccountId(id),
            amount: FUNDING_AMOUNT,
            ledger: LedgerId::CUP,
            code: TRANSFER_CODE_FUNDING,
            ..NewTransfer::default()
        })
        .collect()
}

/// The batch of `size` transfers with ids `first_id`, `first_id + 1`, …, between accounts 1 to
/// `accounts`. Transfers come in pairs chosen by the seed: two single-phase transfers, a linked
/// pair (both or neither), a pending transfer and its post, or a pending transfer and its void.
/// Half the payers are limited wallets, so some transfers are refused with `exceeds_credits` (and
/// their partners with `linked_event_failed` or `pending_transfer_not_found`).
pub fn batch(seed: u64, first_id: u64, size: u32, accounts: u32) -> Vec<NewTransfer> {
    let mut events = Vec::new();
    let last_id = first_id + u64::from(size);
    let mut id = first_id;
    while id < last_id {
        let first = single(seed, first_id, id, accounts);
        if id + 1 == last_id {
            events.push(first);
            break;
        }
        let second = single(seed, first_id, id + 1, accounts);
        match draw(seed, id, 0) % 8 {
            0..=3 => events.extend([first, second]),
            4 | 5 => events.extend([
                NewTransfer {
                    flags: TransferFlags(TransferFlags::LINKED),
                    ..first
                },
                second,
            ]),
            kind => {
                let resolution = if kind == 6 {
                    TransferFlags::POST_PENDING
                } else {
                    TransferFlags::VOID_PENDING
                };
                events.extend([
                    NewTransfer {
                        flags: TransferFlags(TransferFlags::PENDING),
                        ..first
                    },
                    NewTransfer {
                        id: second.id,
                        pending_id: first.id,
                        flags: TransferFlags(resolution),
                        ..first
                    },
                ]);
            }
        }
        id += 2;
    }
    events
}

/// A single-phase transfer: a random payer among accounts 2 to `accounts` (half of them limited)
/// to any other account, for 1 to [`AMOUNT_MAX`] centavos, tagged with its batch's first id.
fn single(seed: u64, first_id: u64, id: u64, accounts: u32) -> NewTransfer {
    let accounts = u64::from(accounts);
    let debit = 2 + draw(seed, id, 1) % (accounts - 1);
    let credit = match 1 + draw(seed, id, 2) % accounts {
        same if same == debit => 1,
        other => other,
    };
    NewTransfer {
        id: TransferId(u128::from(id)),
        debit_account_id: AccountId(u128::from(debit)),
        credit_account_id: AccountId(u128::from(credit)),
        amount: u128::from(1 + draw(seed, id, 3) % AMOUNT_MAX),
        user_data: u128::from(first_id),
        ledger: LedgerId::CUP,
        code: TRANSFER_CODE_LOAD,
        ..NewTransfer::default()
    }
}

/// A pseudo-random number fixed by the seed, the transfer id and what it is for (SplitMix64).
fn draw(seed: u64, id: u64, salt: u64) -> u64 {
    let mut z =
        seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
