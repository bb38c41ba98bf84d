//! Settlement positions computed from what a real ledger posted: each bank's net position, and
//! Ceiba's, sum to zero in every currency; holds settle only when posted.

use ceiba_ledger::Transfer;
use ceiba_payments::settlement::{Participant, net_positions};
use ceiba_payments::{BANKS, Currency, Money, OperationKind, WalletCaps, accounts, plan};
use proptest::prelude::*;

use crate::world::World;

fn cup(units: u64) -> Money {
    Money::from_minor(units * 100, Currency::Cup)
}

fn posted(world: &World) -> Vec<Transfer> {
    world.ledger.changes_after(0, usize::MAX)
}

fn net(positions: &[ceiba_payments::settlement::Position], who: Participant) -> i128 {
    positions
        .iter()
        .find(|p| p.participant == who && p.currency == Currency::Cup)
        .map_or(0, |p| p.net_minor)
}

#[test]
fn deposits_withdrawals_and_holds_give_each_bank_its_position() {
    let mut world = World::new(WalletCaps::default_caps());
    world.open_wallet("ana", Currency::Cup);
    world.open_wallet("beto", Currency::Cup);
    let bpa = &BANKS[0];
    let bandec = &BANKS[1];
    assert_eq!(world.run(&plan::cash_in(1, bpa, "ana", cup(1_000))), None);
    assert_eq!(world.run(&plan::cash_in(2, bandec, "beto", cup(300))), None);
    assert_eq!(world.run(&plan::cash_out(3, bandec, "ana", cup(200))), None);
    assert_eq!(
        world.run(&plan::person_to_person(
            4,
            "ana",
            "beto",
            cup(50),
            Money::zero(Currency::Cup)
        )),
        None
    );
    // A bill held and posted settles; one held and voided does not.
    let biller = accounts::biller("une", Currency::Cup);
    world.create_accounts(vec![accounts::biller_account("une", Currency::Cup)]);
    let paid = plan::payment_hold(
        5,
        OperationKind::BillPayment,
        "ana",
        biller,
        cup(70),
        Money::zero(Currency::Cup),
        300,
    );
    assert_eq!(world.run(&paid), None);
    assert_eq!(world.run(&plan::post_hold(&paid)), None);
    let given_back = plan::payment_hold(
        6,
        OperationKind::BillPayment,
        "beto",
        biller,
        cup(40),
        Money::zero(Currency::Cup),
        300,
    );
    assert_eq!(world.run(&given_back), None);
    assert_eq!(world.run(&plan::void_hold(&given_back)), None);

    let positions = net_positions(&posted(&world));
    // BPA paid 1,000 into Ceiba; BANDEC paid 300 and received 200 back.
    assert_eq!(net(&positions, Participant::Bank("BPA")), -100_000);
    assert_eq!(net(&positions, Participant::Bank("BANDEC")), -10_000);
    assert_eq!(net(&positions, Participant::Bank("BANMET")), 0);
    assert_eq!(net(&positions, Participant::Ceiba), 110_000);
    let total: i128 = positions.iter().map(|p| p.net_minor).sum();
    assert_eq!(total, 0);
    assert!(
        positions.iter().all(|p| p.currency == Currency::Cup),
        "only CUP moved: {positions:?}"
    );
    assert_eq!(positions.len(), BANKS.len() + 1, "every bank and Ceiba");
    world.assert_sound();
}

proptest! {
    #[test]
    fn positions_always_sum_to_zero(moves in prop::collection::vec((0_usize..3, 0_u8..4, 1_u64..500), 1..40)) {
        let mut world = World::new(WalletCaps::default_caps());
        world.open_wallet("ana", Currency::Cup);
        world.open_wallet("ana", Currency::Usd);
        for (n, (bank, kind, units)) in moves.into_iter().enumerate() {
            let id = u128::try_from(n).unwrap_or(0) + 1;
            let bank = &BANKS[bank];
            let currency = if kind % 2 == 0 { Currency::Cup } else { Currency::Usd };
            let amount = Money::from_minor(units * 100, currency);
            let legs = if kind < 2 {
                plan::cash_in(id, bank, "ana", amount)
            } else {
                plan::cash_out(id, bank, "ana", amount)
            };
            // Refused chains (a withdrawal over the balance) post nothing, which is fine.
            let _ = world.run(&legs);
        }
        let positions = net_positions(&posted(&world));
        for currency in [Currency::Cup, Currency::Usd] {
            let total: i128 = positions.iter().filter(|p| p.currency == currency).map(|p| p.net_minor).sum();
            prop_assert_eq!(total, 0);
        }
        for position in &positions {
            let credits = i128::try_from(position.credits_minor).unwrap_or(i128::MAX);
            let debits = i128::try_from(position.debits_minor).unwrap_or(i128::MAX);
            prop_assert_eq!(position.net_minor, credits - debits);
        }
    }
}
