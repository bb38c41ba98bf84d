//! Account ids: deterministic, distinct, never an id the ledger refuses.

use std::collections::BTreeSet;

use ceiba_ledger::{AccountFlags, AccountId};
use ceiba_payments::{BANKS, Currency, accounts, bank};

#[test]
fn ids_are_deterministic_and_documented() {
    // First 16 bytes of SHA-256("ceiba/wallet/+5351234567/CUP"), big-endian.
    use sha2_check::expected;
    assert_eq!(
        accounts::wallet("+5351234567", Currency::Cup),
        AccountId(expected("ceiba/wallet/+5351234567/CUP"))
    );
    assert_eq!(
        accounts::headroom("+5351234567", Currency::Usd),
        AccountId(expected("ceiba/headroom/+5351234567/USD"))
    );
    assert_eq!(
        accounts::wallet("u", Currency::Mlc),
        accounts::wallet("u", Currency::Mlc)
    );
}

/// The specification of an id, written again from the description, against the crate.
mod sha2_check {
    pub fn expected(text: &str) -> u128 {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(text.as_bytes());
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        u128::from_be_bytes(first)
    }
}

#[test]
fn ids_are_distinct_across_users_currencies_and_kinds() {
    let users = ["ana", "luis", "ana/CUP", "", "+5351234567", "a/b"];
    let billers = ["UNE", "ONAT", "ana"];
    let mut seen = BTreeSet::new();
    let mut add = |id: AccountId, what: String| {
        assert!(!id.is_zero() && !id.is_max(), "{what}");
        assert!(seen.insert(id), "{what} collides");
    };
    for currency in Currency::ALL {
        for user in users {
            add(
                accounts::wallet(user, currency),
                format!("wallet {user} {currency}"),
            );
            add(
                accounts::headroom(user, currency),
                format!("headroom {user} {currency}"),
            );
        }
        for biller in billers {
            add(
                accounts::biller(biller, currency),
                format!("biller {biller} {currency}"),
            );
        }
        for bank in BANKS {
            add(
                accounts::bank_settlement(bank, currency),
                format!("bank {} {currency}", bank.code),
            );
        }
        add(accounts::fees(currency), format!("fees {currency}"));
        add(accounts::suspense(currency), format!("suspense {currency}"));
        add(
            accounts::cap_issuer(currency),
            format!("cap issuer {currency}"),
        );
    }
}

#[test]
fn wallet_accounts_shape() {
    let [wallet, headroom] = accounts::wallet_accounts("ana", Currency::Usd);
    assert_eq!(wallet.id, accounts::wallet("ana", Currency::Usd));
    assert_eq!(wallet.ledger, Currency::Usd.ledger());
    assert_eq!(wallet.code, accounts::CODE_WALLET);
    assert_eq!(
        wallet.flags,
        AccountFlags(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS | AccountFlags::HISTORY)
    );
    assert_eq!(headroom.id, accounts::headroom("ana", Currency::Usd));
    assert_eq!(headroom.ledger, Currency::Usd.headroom_ledger());
    assert_eq!(headroom.code, accounts::CODE_HEADROOM);
    assert_eq!(
        headroom.flags,
        AccountFlags(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS)
    );
    assert_eq!(wallet.owner, accounts::user_owner("ana"));
    assert_eq!(headroom.owner, wallet.owner);
    // One owner across currencies, a different one per user.
    assert_eq!(
        accounts::wallet_accounts("ana", Currency::Cup)[0].owner,
        wallet.owner
    );
    assert_ne!(accounts::user_owner("luis"), wallet.owner);
}

#[test]
fn operator_accounts_cover_every_currency_and_bank() {
    let all = accounts::operator_accounts();
    assert_eq!(all.len(), Currency::ALL.len() * (3 + BANKS.len()));
    let ids: BTreeSet<AccountId> = all.iter().map(|account| account.id).collect();
    assert_eq!(ids.len(), all.len());
    for currency in Currency::ALL {
        let find = |id| {
            all.iter()
                .find(|account| account.id == id)
                .copied()
                .expect("listed")
        };
        let fees = find(accounts::fees(currency));
        assert_eq!(
            (fees.ledger, fees.code, fees.flags),
            (currency.ledger(), accounts::CODE_FEES, AccountFlags(0))
        );
        let suspense = find(accounts::suspense(currency));
        assert_eq!(
            (suspense.ledger, suspense.code, suspense.flags),
            (currency.ledger(), accounts::CODE_SUSPENSE, AccountFlags(0))
        );
        let issuer = find(accounts::cap_issuer(currency));
        assert_eq!(
            (issuer.ledger, issuer.code, issuer.flags),
            (
                currency.headroom_ledger(),
                accounts::CODE_CAP_ISSUER,
                AccountFlags(0)
            )
        );
        for bank in BANKS {
            let settlement = find(accounts::bank_settlement(bank, currency));
            assert_eq!(
                (settlement.ledger, settlement.code, settlement.flags),
                (
                    currency.ledger(),
                    accounts::CODE_BANK_SETTLEMENT,
                    AccountFlags(0)
                )
            );
        }
    }
}

#[test]
fn codes_are_distinct() {
    let codes = [
        accounts::CODE_WALLET,
        accounts::CODE_HEADROOM,
        accounts::CODE_BANK_SETTLEMENT,
        accounts::CODE_FEES,
        accounts::CODE_SUSPENSE,
        accounts::CODE_CAP_ISSUER,
        accounts::CODE_BILLER,
    ];
    assert_eq!(codes, [1, 2, 3, 4, 5, 6, 7]);
}

#[test]
fn banks() {
    let codes: Vec<&str> = BANKS.iter().map(|bank| bank.code).collect();
    assert_eq!(codes, ["BPA", "BANDEC", "BANMET"]);
    assert_eq!(
        bank("bandec").map(|bank| bank.name),
        Some("Banco de Crédito y Comercio")
    );
    assert_eq!(
        bank("BPA").map(|bank| bank.name),
        Some("Banco Popular de Ahorro")
    );
    assert_eq!(
        bank("Banmet").map(|bank| bank.name),
        Some("Banco Metropolitano")
    );
    assert_eq!(bank("BFI"), None);
}
