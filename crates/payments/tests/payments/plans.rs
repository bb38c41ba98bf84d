//! Plans applied to a real ledger: money is conserved, refusals move nothing and say why, a
//! retry is recognised, caps hold.

use std::collections::BTreeSet;

use ceiba_ledger::{CreateTransferResult as R, TransferFlags};
use ceiba_payments::{
    BANKS, Currency, Money, OperationKind, PlanRefusal, WalletCaps, accounts, bank, plan,
};

use crate::world::World;

const CUP: Currency = Currency::Cup;

fn cup(units: u64) -> Money {
    Money::from_minor(units * 100, CUP)
}

fn bpa() -> &'static ceiba_payments::Bank {
    bank("BPA").expect("BPA is a bank")
}

/// Ana and Luis have CUP wallets; Ana cashed in 1,000 CUP.
fn two_people() -> World {
    let mut world = World::new(WalletCaps::default_caps());
    world.open_wallet("ana", CUP);
    world.open_wallet("luis", CUP);
    assert_eq!(world.run(&plan::cash_in(1, bpa(), "ana", cup(1_000))), None);
    world
}

/// Everything the ledger holds about these people, to prove that a refusal moved nothing.
fn snapshot(world: &World) -> (usize, Vec<i128>) {
    let mut held = Vec::new();
    for user in ["ana", "luis"] {
        held.push(world.wallet(user, CUP));
        held.push(world.headroom(user, CUP));
    }
    held.push(world.held(accounts::fees(CUP)));
    (world.ledger.transfers_count(), held)
}

#[test]
fn a_new_wallet_has_its_cap_as_headroom() {
    let mut world = World::new(WalletCaps::default_caps());
    world.open_wallet("ana", CUP);
    assert_eq!(world.wallet("ana", CUP), 0);
    assert_eq!(world.headroom("ana", CUP), 8_000_000);
    // Opening again funds nothing twice.
    let again = plan::headroom_funding(
        "ana",
        CUP,
        8_000_000,
        plan::wallet_opening_operation("ana", CUP),
    );
    assert_eq!(world.submit(&[again]), [R::Exists]);
    assert_eq!(world.headroom("ana", CUP), 8_000_000);
    world.assert_sound();
}

#[test]
fn cash_in_then_person_to_person_with_a_fee() {
    let mut world = two_people();
    assert_eq!(world.wallet("ana", CUP), 100_000);
    assert_eq!(world.headroom("ana", CUP), 8_000_000 - 100_000);
    assert_eq!(world.held(accounts::bank_settlement(bpa(), CUP)), -100_000);

    let legs = plan::person_to_person(2, "ana", "luis", cup(300), cup(5));
    assert_eq!(legs.len(), 5);
    assert_eq!(world.run(&legs), None);
    assert_eq!(world.wallet("ana", CUP), 100_000 - 30_500);
    assert_eq!(world.wallet("luis", CUP), 30_000);
    assert_eq!(world.held(accounts::fees(CUP)), 500);
    // Wallet plus headroom is the cap, for both.
    for user in ["ana", "luis"] {
        assert_eq!(
            world.wallet(user, CUP) + world.headroom(user, CUP),
            8_000_000,
            "{user}"
        );
    }
    // Money is conserved: what the bank let out is in the wallets and the fees.
    assert_eq!(
        world.wallet("ana", CUP) + world.wallet("luis", CUP) + world.held(accounts::fees(CUP)),
        -world.held(accounts::bank_settlement(bpa(), CUP))
    );
    world.assert_sound();
}

#[test]
fn without_a_fee_there_are_three_legs() {
    let mut world = two_people();
    let legs = plan::person_to_person(2, "ana", "luis", cup(10), Money::zero(CUP));
    assert_eq!(legs.len(), 3);
    assert_eq!(world.run(&legs), None);
    assert_eq!(world.wallet("luis", CUP), 1_000);
    world.assert_sound();
}

#[test]
fn more_than_the_balance_is_insufficient_funds_and_moves_nothing() {
    let mut world = two_people();
    let before = snapshot(&world);
    let legs = plan::person_to_person(2, "ana", "luis", cup(1_001), Money::zero(CUP));
    let results = world.submit(&legs);
    assert_eq!(results[0], R::ExceedsCredits);
    assert_eq!(
        plan::refusal(&legs, &results),
        Some(PlanRefusal::InsufficientFunds)
    );
    assert_eq!(snapshot(&world), before);
    world.assert_sound();
}

#[test]
fn the_balance_without_the_fee_is_insufficient_funds() {
    let mut world = two_people();
    let before = snapshot(&world);
    // The amount passes; its fee does not.
    let legs = plan::person_to_person(2, "ana", "luis", cup(1_000), cup(1));
    let results = world.submit(&legs);
    assert_eq!(results[3], R::ExceedsCredits);
    assert_eq!(
        plan::refusal(&legs, &results),
        Some(PlanRefusal::InsufficientFunds)
    );
    assert_eq!(snapshot(&world), before);
    // The same operation id may be used again once refused: nothing of it was stored.
    let legs = plan::person_to_person(2, "ana", "luis", cup(999), cup(1));
    assert_eq!(world.run(&legs), None);
    assert_eq!(world.wallet("ana", CUP), 0);
    world.assert_sound();
}

#[test]
fn past_the_payees_cap_is_refused_and_moves_nothing() {
    let mut world = two_people();
    // Luis holds 79,900 CUP: 100 CUP below the cap.
    assert_eq!(
        world.run(&plan::cash_in(2, bpa(), "luis", cup(79_900))),
        None
    );
    let before = snapshot(&world);
    let legs = plan::person_to_person(3, "ana", "luis", cup(101), Money::zero(CUP));
    let results = world.submit(&legs);
    assert_eq!(results[1], R::ExceedsCredits);
    assert_eq!(
        plan::refusal(&legs, &results),
        Some(PlanRefusal::PayeeWalletCap)
    );
    assert_eq!(snapshot(&world), before);
    // Up to the cap exactly is fine.
    let legs = plan::person_to_person(4, "ana", "luis", cup(100), Money::zero(CUP));
    assert_eq!(world.run(&legs), None);
    assert_eq!(world.wallet("luis", CUP), 8_000_000);
    assert_eq!(world.headroom("luis", CUP), 0);
    // A cash-in past one's own cap is refused the same way.
    let legs = plan::cash_in(5, bpa(), "luis", Money::from_minor(1, CUP));
    assert_eq!(world.run(&legs), Some(PlanRefusal::PayeeWalletCap));
    world.assert_sound();
}

#[test]
fn resubmitting_a_plan_is_recognised_as_done() {
    let mut world = two_people();
    let legs = plan::person_to_person(2, "ana", "luis", cup(300), cup(5));
    assert_eq!(world.run(&legs), None);
    let after_first = snapshot(&world);
    let results = world.submit(&legs);
    let mut expected = vec![R::LinkedEventFailed; legs.len()];
    expected[0] = R::Exists;
    assert_eq!(results, expected);
    assert_eq!(plan::refusal(&legs, &results), None);
    assert_eq!(snapshot(&world), after_first);
    // The same for a cash-in.
    let legs = plan::cash_in(1, bpa(), "ana", cup(1_000));
    assert_eq!(world.submit(&legs), [R::Exists, R::LinkedEventFailed]);
    assert_eq!(world.run(&legs), None);
    assert_eq!(snapshot(&world), after_first);
    world.assert_sound();
}

#[test]
fn an_operation_id_used_for_something_else_is_refused() {
    let mut world = two_people();
    let legs = plan::person_to_person(2, "ana", "luis", cup(300), Money::zero(CUP));
    assert_eq!(world.run(&legs), None);
    let before = snapshot(&world);
    let other = plan::person_to_person(2, "ana", "luis", cup(301), Money::zero(CUP));
    let results = world.submit(&other);
    assert_eq!(results[0], R::ExistsWithDifferentAmount);
    assert_eq!(
        plan::refusal(&other, &results),
        Some(PlanRefusal::OperationIdReused)
    );
    assert_eq!(snapshot(&world), before);
}

#[test]
fn cash_out_returns_headroom() {
    let mut world = two_people();
    let legs = plan::cash_out(2, bpa(), "ana", cup(400));
    assert_eq!(world.run(&legs), None);
    assert_eq!(world.wallet("ana", CUP), 60_000);
    assert_eq!(world.headroom("ana", CUP), 8_000_000 - 60_000);
    assert_eq!(world.held(accounts::bank_settlement(bpa(), CUP)), -60_000);
    let before = snapshot(&world);
    let legs = plan::cash_out(3, bpa(), "ana", cup(601));
    assert_eq!(world.run(&legs), Some(PlanRefusal::InsufficientFunds));
    assert_eq!(snapshot(&world), before);
    // Out through another bank.
    let bandec = bank("BANDEC").expect("a bank");
    assert_eq!(world.run(&plan::cash_out(4, bandec, "ana", cup(600))), None);
    assert_eq!(world.wallet("ana", CUP), 0);
    assert_eq!(world.headroom("ana", CUP), 8_000_000);
    world.assert_sound();
}

#[test]
fn payments_to_a_biller() {
    let mut world = two_people();
    let results = world.create_accounts(vec![accounts::biller_account("UNE", CUP)]);
    assert_eq!(results, [ceiba_ledger::CreateAccountResult::Ok]);
    let une = accounts::biller("UNE", CUP);
    let legs = plan::payment(2, OperationKind::BillPayment, "ana", une, cup(250), cup(2));
    assert_eq!(legs.len(), 4);
    assert!(
        legs.iter()
            .all(|leg| leg.code == OperationKind::BillPayment.transfer_code())
    );
    assert_eq!(world.run(&legs), None);
    assert_eq!(world.held(une), 25_000);
    assert_eq!(world.wallet("ana", CUP), 100_000 - 25_200);
    assert_eq!(world.held(accounts::fees(CUP)), 200);
    assert_eq!(
        world.wallet("ana", CUP) + world.headroom("ana", CUP),
        8_000_000
    );
    let legs = plan::payment_to(3, "ana", une, cup(10), Money::zero(CUP));
    assert!(
        legs.iter()
            .all(|leg| leg.code == plan::TRANSFER_CODE_PAYMENT)
    );
    assert_eq!(world.run(&legs), None);
    assert_eq!(world.held(une), 26_000);
    // An unknown biller.
    let before = snapshot(&world);
    let nobody = accounts::biller("NADIE", CUP);
    let legs = plan::payment_to(4, "ana", nobody, cup(10), Money::zero(CUP));
    assert_eq!(world.run(&legs), Some(PlanRefusal::AccountMissing));
    // More than the balance.
    let legs = plan::payment_to(5, "ana", une, cup(1_000), Money::zero(CUP));
    assert_eq!(world.run(&legs), Some(PlanRefusal::InsufficientFunds));
    assert_eq!(snapshot(&world), before);
    world.assert_sound();
}

#[test]
fn a_payee_without_a_wallet_is_an_account_missing() {
    let mut world = two_people();
    let before = snapshot(&world);
    let legs = plan::person_to_person(2, "ana", "pedro", cup(1), Money::zero(CUP));
    assert_eq!(world.run(&legs), Some(PlanRefusal::AccountMissing));
    // A wallet in another currency is another wallet.
    let legs = plan::person_to_person(
        3,
        "ana",
        "luis",
        Money::from_minor(1, Currency::Usd),
        Money::zero(Currency::Usd),
    );
    assert_eq!(world.run(&legs), Some(PlanRefusal::AccountMissing));
    assert_eq!(snapshot(&world), before);
}

#[test]
fn paying_oneself_is_another_refusal() {
    let mut world = two_people();
    let legs = plan::person_to_person(2, "ana", "ana", cup(1), Money::zero(CUP));
    let refusal = world.run(&legs).expect("refused");
    assert_eq!(refusal, PlanRefusal::Other(R::AccountsMustBeDifferent));
    assert_eq!(refusal.code(), "accounts_must_be_different");
    assert!(refusal.to_string().contains("deben ser distintas"));
}

#[test]
fn chains_are_linked_and_ids_follow_the_operation() {
    let une = accounts::biller("UNE", CUP);
    let plans = [
        plan::person_to_person(7, "ana", "luis", cup(1), cup(1)),
        plan::person_to_person(7, "ana", "luis", cup(1), Money::zero(CUP)),
        plan::cash_in(7, bpa(), "ana", cup(1)),
        plan::cash_out(7, bpa(), "ana", cup(1)),
        plan::payment_to(7, "ana", une, cup(1), cup(1)),
        plan::payment(
            7,
            OperationKind::TopUp,
            "ana",
            une,
            cup(1),
            Money::zero(CUP),
        ),
    ];
    for legs in plans {
        let (last, rest) = legs.split_last().expect("legs");
        assert!(rest.iter().all(|leg| leg.flags.has(TransferFlags::LINKED)));
        assert_eq!(last.flags, TransferFlags(0));
        for (index, leg) in legs.iter().enumerate() {
            let index = u8::try_from(index).expect("few legs");
            assert_eq!(leg.id, plan::transfer_id(7, index));
            assert_eq!(leg.user_data, 7);
            assert_ne!(leg.code, 0);
            assert!(
                Currency::from_ledger(leg.ledger).is_some()
                    || Currency::from_headroom_ledger(leg.ledger).is_some()
            );
        }
    }
}

#[test]
fn transfer_ids_are_deterministic_and_distinct() {
    let mut seen = BTreeSet::new();
    for operation_id in [0, 1, 2, u128::MAX, 1 << 64, 0xdead_beef] {
        for leg in 0..=8 {
            let id = plan::transfer_id(operation_id, leg);
            assert_eq!(id, plan::transfer_id(operation_id, leg));
            assert!(!id.is_zero() && !id.is_max());
            assert!(seen.insert(id));
        }
    }
    assert_ne!(
        plan::wallet_opening_operation("ana", Currency::Cup),
        plan::wallet_opening_operation("ana", Currency::Usd)
    );
}

#[test]
fn refusal_reads_the_results() {
    let legs = plan::person_to_person(1, "ana", "luis", cup(1), cup(1));
    let mut results = vec![R::Ok; legs.len()];
    assert_eq!(plan::refusal(&legs, &results), None);
    results.fill(R::Exists);
    assert_eq!(plan::refusal(&legs, &results), None);
    results.fill(R::LinkedEventFailed);
    results[2] = R::CreditAccountNotFound;
    assert_eq!(
        plan::refusal(&legs, &results),
        Some(PlanRefusal::AccountMissing)
    );
    results[2] = R::Exists;
    assert_eq!(
        plan::refusal(&legs, &results),
        Some(PlanRefusal::OperationIdReused)
    );
    results[2] = R::CreditAccountAlreadyClosed;
    assert_eq!(
        plan::refusal(&legs, &results),
        Some(PlanRefusal::Other(R::CreditAccountAlreadyClosed))
    );
    assert_eq!(plan::refusal(&[], &[]), None);
    let messages: BTreeSet<String> = [
        PlanRefusal::InsufficientFunds,
        PlanRefusal::PayeeWalletCap,
        PlanRefusal::AccountMissing,
        PlanRefusal::OperationIdReused,
        PlanRefusal::Other(R::DebitAccountAlreadyClosed),
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(messages.len(), 5);
    assert_eq!(
        PlanRefusal::InsufficientFunds.to_string(),
        "Saldo insuficiente: la billetera no tiene el importe más la comisión."
    );
}

#[test]
fn every_bank_settles_every_currency() {
    let mut world = World::new(WalletCaps::default_caps());
    for currency in Currency::ALL {
        world.open_wallet("ana", currency);
        for (index, bank) in BANKS.iter().enumerate() {
            let operation_id =
                u128::try_from(index).expect("small") + 100 * u128::from(currency.ledger().0);
            let legs = plan::cash_in(operation_id, bank, "ana", Money::from_minor(100, currency));
            assert_eq!(world.run(&legs), None, "{} {currency}", bank.code);
        }
        assert_eq!(world.wallet("ana", currency), 300);
    }
    world.assert_sound();
}
