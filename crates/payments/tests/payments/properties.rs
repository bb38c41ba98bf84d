//! Random sequences of cash-ins, cash-outs, transfers, payments and retries, run on a real ledger
//! and on a small reference model of the balances. The ledger must refuse exactly what the model
//! refuses, for the same reason; no wallet may go negative or pass its cap; wallet plus headroom
//! is always the cap; and the ledger stays sound.

use std::collections::BTreeMap;

use ceiba_payments::{BANKS, Currency, Money, PlanRefusal, WalletCaps, accounts, plan};
use proptest::prelude::*;

use crate::world::World;

const USERS: [&str; 3] = ["ana", "luis", "marta"];
const CURRENCIES: [Currency; 2] = [Currency::Cup, Currency::Usd];
const BILLER: &str = "UNE";

#[derive(Debug, Clone)]
enum Op {
    CashIn {
        user: usize,
        currency: usize,
        bank: usize,
        amount_minor: u64,
    },
    CashOut {
        user: usize,
        currency: usize,
        bank: usize,
        amount_minor: u64,
    },
    PersonToPerson {
        payer: usize,
        /// Added to the payer's index, so the payee is someone else.
        payee_offset: usize,
        currency: usize,
        amount_minor: u64,
        fee_minor: u64,
    },
    Pay {
        user: usize,
        currency: usize,
        amount_minor: u64,
        fee_minor: u64,
    },
    /// Submits an earlier operation's plan again.
    Retry { earlier: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let user = 0..USERS.len();
    let currency = 0..CURRENCIES.len();
    let amount = 1u64..700;
    prop_oneof![
        2 => (user.clone(), currency.clone(), 0..BANKS.len(), amount.clone()).prop_map(
            |(user, currency, bank, amount_minor)| Op::CashIn {
                user,
                currency,
                bank,
                amount_minor
            }
        ),
        1 => (user.clone(), currency.clone(), 0..BANKS.len(), amount.clone()).prop_map(
            |(user, currency, bank, amount_minor)| Op::CashOut {
                user,
                currency,
                bank,
                amount_minor
            }
        ),
        3 => (user.clone(), 1..USERS.len(), currency.clone(), amount.clone(), 0u64..30)
            .prop_map(|(payer, payee_offset, currency, amount_minor, fee_minor)| {
                Op::PersonToPerson {
                    payer,
                    payee_offset,
                    currency,
                    amount_minor,
                    fee_minor,
                }
            }),
        1 => (user, currency, amount, 0u64..30).prop_map(
            |(user, currency, amount_minor, fee_minor)| Op::Pay {
                user,
                currency,
                amount_minor,
                fee_minor
            }
        ),
        1 => (0usize..64).prop_map(|earlier| Op::Retry { earlier }),
    ]
}

/// The reference: each wallet's balance, and what an operation should do to it.
struct Model {
    caps: WalletCaps,
    balances: BTreeMap<(usize, Currency), u64>,
}

impl Model {
    fn balance(&self, user: usize, currency: Currency) -> u64 {
        self.balances.get(&(user, currency)).copied().unwrap_or(0)
    }

    /// The outcome the ledger must give, applied to the model when it succeeds.
    fn apply(&mut self, op: &Op) -> Option<PlanRefusal> {
        let mut next = self.balances.clone();
        let cap = |currency: Currency| self.caps.cap(currency);
        let mut take = |user: usize, currency: Currency, minor: u64| {
            let balance = next.entry((user, currency)).or_insert(0);
            if *balance < minor {
                return Err(PlanRefusal::InsufficientFunds);
            }
            *balance -= minor;
            Ok(())
        };
        let outcome = match *op {
            Op::CashIn {
                user,
                currency,
                amount_minor,
                ..
            } => {
                let currency = CURRENCIES[currency];
                let balance = next.entry((user, currency)).or_insert(0);
                if *balance + amount_minor > cap(currency) {
                    Err(PlanRefusal::PayeeWalletCap)
                } else {
                    *balance += amount_minor;
                    Ok(())
                }
            }
            Op::CashOut {
                user,
                currency,
                amount_minor,
                ..
            } => take(user, CURRENCIES[currency], amount_minor),
            Op::PersonToPerson {
                payer,
                payee_offset,
                currency,
                amount_minor,
                fee_minor,
            } => {
                let currency = CURRENCIES[currency];
                let payee = (payer + payee_offset) % USERS.len();
                // In the order of the legs: the amount leaves, the payee's cap, then the fee.
                take(payer, currency, amount_minor).and_then(|()| {
                    let balance = next.entry((payee, currency)).or_insert(0);
                    if *balance + amount_minor > cap(currency) {
                        return Err(PlanRefusal::PayeeWalletCap);
                    }
                    *balance += amount_minor;
                    let payer_balance = next.entry((payer, currency)).or_insert(0);
                    if *payer_balance < fee_minor {
                        return Err(PlanRefusal::InsufficientFunds);
                    }
                    *payer_balance -= fee_minor;
                    Ok(())
                })
            }
            Op::Pay {
                user,
                currency,
                amount_minor,
                fee_minor,
            } => take(user, CURRENCIES[currency], amount_minor + fee_minor),
            Op::Retry { .. } => unreachable!("retries are resolved by the caller"),
        };
        match outcome {
            Ok(()) => {
                self.balances = next;
                None
            }
            Err(refusal) => Some(refusal),
        }
    }
}

fn legs_of(op: &Op, operation_id: u128) -> Vec<ceiba_ledger::NewTransfer> {
    match *op {
        Op::CashIn {
            user,
            currency,
            bank,
            amount_minor,
        } => plan::cash_in(
            operation_id,
            &BANKS[bank],
            USERS[user],
            Money::from_minor(amount_minor, CURRENCIES[currency]),
        ),
        Op::CashOut {
            user,
            currency,
            bank,
            amount_minor,
        } => plan::cash_out(
            operation_id,
            &BANKS[bank],
            USERS[user],
            Money::from_minor(amount_minor, CURRENCIES[currency]),
        ),
        Op::PersonToPerson {
            payer,
            payee_offset,
            currency,
            amount_minor,
            fee_minor,
        } => plan::person_to_person(
            operation_id,
            USERS[payer],
            USERS[(payer + payee_offset) % USERS.len()],
            Money::from_minor(amount_minor, CURRENCIES[currency]),
            Money::from_minor(fee_minor, CURRENCIES[currency]),
        ),
        Op::Pay {
            user,
            currency,
            amount_minor,
            fee_minor,
        } => plan::payment_to(
            operation_id,
            USERS[user],
            accounts::biller(BILLER, CURRENCIES[currency]),
            Money::from_minor(amount_minor, CURRENCIES[currency]),
            Money::from_minor(fee_minor, CURRENCIES[currency]),
        ),
        Op::Retry { .. } => unreachable!("retries are resolved by the caller"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn wallets_stay_within_zero_and_the_cap(ops in prop::collection::vec(op(), 1..60)) {
        // Small caps, so that sequences run into them often.
        let caps = WalletCaps::default_caps()
            .with(Currency::Cup, 1_000)
            .with(Currency::Usd, 600);
        let mut world = World::new(caps);
        let mut biller_accounts = Vec::new();
        for currency in CURRENCIES {
            for user in USERS {
                world.open_wallet(user, currency);
            }
            biller_accounts.push(accounts::biller_account(BILLER, currency));
        }
        world.create_accounts(biller_accounts);
        let mut model = Model { caps, balances: BTreeMap::new() };
        // (operation, its id, whether the ledger took it)
        let mut history: Vec<(Op, u128, bool)> = Vec::new();
        for (index, op) in ops.iter().enumerate() {
            let (entry, (op, operation_id, done_before)) = match op {
                Op::Retry { earlier } if !history.is_empty() => {
                    let entry = earlier % history.len();
                    (entry, history[entry].clone())
                }
                Op::Retry { .. } => continue,
                other => {
                    history.push((other.clone(), 1_000 + u128::try_from(index).expect("small"), false));
                    (history.len() - 1, history[history.len() - 1].clone())
                }
            };
            let legs = legs_of(&op, operation_id);
            let transfers_before = world.ledger.transfers_count();
            let outcome = world.run(&legs);
            if done_before {
                prop_assert_eq!(outcome, None, "a retry of {:?} is recognised", op);
                prop_assert_eq!(world.ledger.transfers_count(), transfers_before);
                continue;
            }
            let expected = model.apply(&op);
            prop_assert_eq!(outcome, expected, "{:?}", op);
            if outcome.is_some() {
                prop_assert_eq!(world.ledger.transfers_count(), transfers_before);
            }
            // A refused operation stored nothing; retried, it runs afresh and may now pass.
            history[entry].2 = outcome.is_none();
            for currency in CURRENCIES {
                for (user_index, user) in USERS.iter().enumerate() {
                    let wallet = world.wallet(user, currency);
                    prop_assert!(wallet >= 0);
                    prop_assert!(wallet <= i128::from(caps.cap(currency)));
                    prop_assert_eq!(wallet + world.headroom(user, currency), i128::from(caps.cap(currency)));
                    prop_assert_eq!(wallet, i128::from(model.balance(user_index, currency)));
                }
            }
        }
        let report = ceiba_ledger::check(&world.ledger);
        prop_assert!(report.is_sound(), "{:?}", report.violations);
    }
}
