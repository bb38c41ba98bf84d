//! Ledger accounts: their ids, codes and flags. Every id is derived from what the account is (a
//! user's wallet in CUP, a bank's settlement account in USD), never drawn at random, so creating
//! accounts is idempotent: a retry after a crash meets `exists` instead of a second wallet.
//!
//! An id is the first 16 bytes, big-endian, of SHA-256 over `ceiba/KIND/NAME/CURRENCY` (or
//! `ceiba/KIND/CURRENCY` for the operator's own accounts). The currency code has a fixed length
//! and each kind a prefix no other kind shares, so two different accounts never hash the same
//! text. The two ids the ledger refuses, 0 and 2^128-1, become 1.
//!
//! # Accounts and their flags
//! | account | ledger | code | flags |
//! |---|---|---|---|
//! | wallet | money | [`CODE_WALLET`] | `debits_must_not_exceed_credits`, `history` |
//! | wallet headroom | headroom | [`CODE_HEADROOM`] | `debits_must_not_exceed_credits` |
//! | bank settlement | money | [`CODE_BANK_SETTLEMENT`] | none: a bank's position may be negative |
//! | fees | money | [`CODE_FEES`] | none |
//! | suspense | money | [`CODE_SUSPENSE`] | none |
//! | cap issuer | headroom | [`CODE_CAP_ISSUER`] | none |
//! | biller | money | [`CODE_BILLER`] | `debits_must_not_exceed_credits` |
//! | merchant | money | [`CODE_MERCHANT`] | `debits_must_not_exceed_credits`, `history` |

use ceiba_ledger::{AccountFlags, AccountId, NewAccount};

use crate::bank::{BANKS, Bank};
use crate::ids::hash_u128;
use crate::money::Currency;

/// A person's wallet.
pub const CODE_WALLET: u16 = 1;
/// What a wallet may still receive before its cap, in the headroom ledger.
pub const CODE_HEADROOM: u16 = 2;
/// A bank's side of cash-in and cash-out.
pub const CODE_BANK_SETTLEMENT: u16 = 3;
/// Fees the operator earned.
pub const CODE_FEES: u16 = 4;
/// Money held while an operation's outcome is unknown (reconciliation).
pub const CODE_SUSPENSE: u16 = 5;
/// The headroom ledger's counterparty: funds each new wallet's headroom with the cap.
pub const CODE_CAP_ISSUER: u16 = 6;
/// A biller or merchant that receives payments.
pub const CODE_BILLER: u16 = 7;

/// A merchant approved to take payments (QR, online shop).
pub const CODE_MERCHANT: u16 = 8;

/// Owner of the operator's own accounts (fees, suspense, cap issuers).
pub const OPERATOR_OWNER: u128 = 0;

fn id(kind: &str, name: Option<&str>, currency: Currency) -> AccountId {
    let mut parts: Vec<&[u8]> = vec![b"ceiba/", kind.as_bytes(), b"/"];
    if let Some(name) = name {
        parts.push(name.as_bytes());
        parts.push(b"/");
    }
    parts.push(currency.code().as_bytes());
    AccountId(hash_u128(&parts))
}

/// The ledger owner of a user's accounts, the same in every currency, so that a user's accounts
/// can be found together: SHA-256 of `ceiba/owner/user/USER_ID`.
pub fn user_owner(user_id: &str) -> u128 {
    hash_u128(&[b"ceiba/owner/user/", user_id.as_bytes()])
}

/// The ledger owner of a bank's settlement accounts.
pub fn bank_owner(bank: &Bank) -> u128 {
    hash_u128(&[b"ceiba/owner/bank/", bank.code.as_bytes()])
}

/// The ledger owner of a biller's accounts.
pub fn biller_owner(biller_id: &str) -> u128 {
    hash_u128(&[b"ceiba/owner/biller/", biller_id.as_bytes()])
}

/// A user's wallet in `currency`.
pub fn wallet(user_id: &str, currency: Currency) -> AccountId {
    id("wallet", Some(user_id), currency)
}

/// A user's wallet headroom in `currency`: what the wallet may still receive.
pub fn headroom(user_id: &str, currency: Currency) -> AccountId {
    id("headroom", Some(user_id), currency)
}

/// A bank's settlement account in `currency`.
pub fn bank_settlement(bank: &Bank, currency: Currency) -> AccountId {
    id("bank", Some(bank.code), currency)
}

/// The operator's fee income in `currency`.
pub fn fees(currency: Currency) -> AccountId {
    id("fees", None, currency)
}

/// The operator's suspense account in `currency`.
pub fn suspense(currency: Currency) -> AccountId {
    id("suspense", None, currency)
}

/// The counterparty of every headroom movement in `currency`'s headroom ledger.
pub fn cap_issuer(currency: Currency) -> AccountId {
    id("cap-issuer", None, currency)
}

/// A biller's (or merchant's) account in `currency`.
pub fn biller(biller_id: &str, currency: Currency) -> AccountId {
    id("biller", Some(biller_id), currency)
}

/// A user's wallet and its headroom in `currency`, to create together (not linked: a retry meets
/// `exists` for each). Fund the headroom next with [`crate::plan::headroom_funding`]; until then
/// the wallet can receive nothing.
pub fn wallet_accounts(user_id: &str, currency: Currency) -> [NewAccount; 2] {
    let owner = user_owner(user_id);
    [
        NewAccount {
            id: wallet(user_id, currency),
            ledger: currency.ledger(),
            code: CODE_WALLET,
            owner,
            flags: AccountFlags(
                AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS | AccountFlags::HISTORY,
            ),
        },
        NewAccount {
            id: headroom(user_id, currency),
            ledger: currency.headroom_ledger(),
            code: CODE_HEADROOM,
            owner,
            flags: AccountFlags(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS),
        },
    ]
}

/// The ledger owner of a merchant's accounts.
pub fn merchant_owner(merchant_id: &str) -> u128 {
    hash_u128(&[b"ceiba/owner/merchant/", merchant_id.as_bytes()])
}

/// A merchant's account in `currency`.
pub fn merchant(merchant_id: &str, currency: Currency) -> AccountId {
    id("merchant", Some(merchant_id), currency)
}

/// A merchant's account in `currency`: it receives payments and pays refunds and its own
/// settlement out, never below zero; `history` keeps its balance at every transfer for the
/// merchant's statements.
pub fn merchant_account(merchant_id: &str, currency: Currency) -> NewAccount {
    NewAccount {
        id: merchant(merchant_id, currency),
        ledger: currency.ledger(),
        code: CODE_MERCHANT,
        owner: merchant_owner(merchant_id),
        flags: AccountFlags(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS | AccountFlags::HISTORY),
    }
}

/// A biller's account in `currency`. It only receives, so it may never go negative.
pub fn biller_account(biller_id: &str, currency: Currency) -> NewAccount {
    NewAccount {
        id: biller(biller_id, currency),
        ledger: currency.ledger(),
        code: CODE_BILLER,
        owner: biller_owner(biller_id),
        flags: AccountFlags(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS),
    }
}

/// The operator's accounts in every currency: fees, suspense, the cap issuer and every bank's
/// settlement account. Create them at start-up; each is idempotent.
pub fn operator_accounts() -> Vec<NewAccount> {
    let mut accounts = Vec::with_capacity(Currency::ALL.len() * (3 + BANKS.len()));
    for currency in Currency::ALL {
        let operator = |id, ledger, code| NewAccount {
            id,
            ledger,
            code,
            owner: OPERATOR_OWNER,
            flags: AccountFlags(0),
        };
        accounts.push(operator(fees(currency), currency.ledger(), CODE_FEES));
        accounts.push(operator(
            suspense(currency),
            currency.ledger(),
            CODE_SUSPENSE,
        ));
        accounts.push(operator(
            cap_issuer(currency),
            currency.headroom_ledger(),
            CODE_CAP_ISSUER,
        ));
        for bank in BANKS {
            accounts.push(NewAccount {
                id: bank_settlement(bank, currency),
                ledger: currency.ledger(),
                code: CODE_BANK_SETTLEMENT,
                owner: bank_owner(bank),
                flags: AccountFlags(0),
            });
        }
    }
    accounts
}
