//! Settlement between the banks and Ceiba: over a window of time, what each bank owes or is
//! owed in each currency, from the transfers the ledger posted in it.
//!
//! Every posted transfer moves `amount` out of one account and into another. Counting, per
//! currency, each account's credits less its debits and grouping the accounts by participant
//! (a bank's settlement account is that bank; every other account, wallets, merchants, billers,
//! fees and suspense, is Ceiba's side, which holds the people's money) gives each participant's
//! net position. Double entry makes the positions of a currency sum to zero, whatever the
//! transfers: the report proves it line by line. Pending transfers reserve and settle nothing;
//! their posting does (a post carries the amount it posted), a void or an expiry moves nothing.

use std::collections::BTreeMap;

use ceiba_ledger::{AccountId, Transfer, TransferFlags};

use crate::accounts;
use crate::bank::{BANKS, Bank};
use crate::money::Currency;

/// Who a position belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Participant {
    /// A bank, by its settlement accounts.
    Bank(&'static str),
    /// Ceiba: the wallets, merchants, billers and the operator's own accounts.
    Ceiba,
}

impl Participant {
    pub fn code(self) -> &'static str {
        match self {
            Participant::Bank(code) => code,
            Participant::Ceiba => "CEIBA",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Participant::Bank(code) => crate::bank::bank(code).map_or(code, |bank| bank.name),
            Participant::Ceiba => "Ceiba (monederos, comercios y comisiones)",
        }
    }
}

/// One participant's net position in one currency: positive, it receives; negative, it pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub currency: Currency,
    pub participant: Participant,
    /// Credits less debits posted to its accounts in the window, in minor units.
    pub net_minor: i128,
    /// What went into its accounts and what came out, in minor units.
    pub credits_minor: u128,
    pub debits_minor: u128,
}

fn participant_of(account: AccountId, currency: Currency) -> Participant {
    BANKS
        .iter()
        .find(|bank: &&Bank| accounts::bank_settlement(bank, currency) == account)
        .map_or(Participant::Ceiba, |bank| Participant::Bank(bank.code))
}

/// The net positions of the window the `transfers` were posted in (pass exactly the window's
/// transfers, in any order). Every bank and Ceiba appear for every currency that moved, banks
/// that moved nothing with zero; currencies that did not move do not appear.
pub fn net_positions<'a>(transfers: impl IntoIterator<Item = &'a Transfer>) -> Vec<Position> {
    let mut positions: BTreeMap<(Currency, Participant), Position> = BTreeMap::new();
    for transfer in transfers {
        let flags = transfer.flags;
        if flags.has(TransferFlags::PENDING) || flags.has(TransferFlags::VOID_PENDING) {
            continue;
        }
        let Some(currency) = Currency::from_ledger(transfer.ledger) else {
            // The headroom ledgers count what wallets may still receive, not money.
            continue;
        };
        if !positions.keys().any(|(c, _)| *c == currency) {
            for participant in BANKS
                .iter()
                .map(|bank| Participant::Bank(bank.code))
                .chain([Participant::Ceiba])
            {
                positions.insert(
                    (currency, participant),
                    Position {
                        currency,
                        participant,
                        net_minor: 0,
                        credits_minor: 0,
                        debits_minor: 0,
                    },
                );
            }
        }
        let amount = transfer.amount;
        let signed = i128::try_from(amount).unwrap_or(i128::MAX);
        let debtor = participant_of(transfer.debit_account_id, currency);
        let creditor = participant_of(transfer.credit_account_id, currency);
        if let Some(position) = positions.get_mut(&(currency, debtor)) {
            position.debits_minor = position.debits_minor.saturating_add(amount);
            position.net_minor = position.net_minor.saturating_sub(signed);
        }
        if let Some(position) = positions.get_mut(&(currency, creditor)) {
            position.credits_minor = position.credits_minor.saturating_add(amount);
            position.net_minor = position.net_minor.saturating_add(signed);
        }
    }
    positions.into_values().collect()
}
