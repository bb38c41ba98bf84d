//! Holds on a real ledger: a held payment reserves the money without moving it; posting makes it
//! the biller's, voiding or expiry gives it back; whichever comes first is the only one that
//! happens, and a retry of any step changes nothing.

use ceiba_ledger::{CreateTransferResult as R, NewTransfer, TransferFlags};
use ceiba_payments::{
    Currency, HoldState, Money, OperationKind, PlanRefusal, WalletCaps, accounts, bank, plan,
};

use crate::world::World;

const CUP: Currency = Currency::Cup;
const BILLER: &str = "une";
const TIMEOUT_S: u32 = 300;
const CAP_MINOR: i128 = 8_000_000;

fn cup(units: u64) -> Money {
    Money::from_minor(units * 100, CUP)
}

/// Ana has 1,000 CUP in her wallet; the electricity company has an account.
fn world() -> World {
    let mut world = World::new(WalletCaps::default_caps());
    world.open_wallet("ana", CUP);
    let results = world.create_accounts(vec![accounts::biller_account(BILLER, CUP)]);
    assert_eq!(results, [ceiba_ledger::CreateAccountResult::Ok]);
    let bpa = bank("BPA").expect("BPA is a bank");
    assert_eq!(world.run(&plan::cash_in(1, bpa, "ana", cup(1_000))), None);
    world
}

fn hold(operation: u128, amount: Money, fee: Money) -> Vec<NewTransfer> {
    plan::payment_hold(
        operation,
        OperationKind::BillPayment,
        "ana",
        accounts::biller(BILLER, CUP),
        amount,
        fee,
        TIMEOUT_S,
    )
}

/// What Ana may spend now: posted credits less posted and pending debits.
fn available(world: &World) -> i128 {
    let balances = world
        .ledger
        .account(accounts::wallet("ana", CUP))
        .expect("the wallet exists")
        .balances;
    i128::try_from(balances.credits_posted).expect("small")
        - i128::try_from(balances.debits_posted + balances.debits_pending).expect("small")
}

#[test]
fn a_hold_reserves_without_moving_and_every_leg_is_pending() {
    let mut world = world();
    let legs = hold(10, cup(250), cup(0));
    assert_eq!(legs.len(), 2);
    for leg in &legs {
        assert!(leg.flags.has(TransferFlags::PENDING));
        assert_eq!(leg.timeout_seconds, TIMEOUT_S);
        assert_eq!(leg.user_data, 10);
        assert_eq!(leg.code, OperationKind::BillPayment.transfer_code());
    }
    assert!(legs[0].flags.has(TransferFlags::LINKED));
    assert!(!legs[1].flags.has(TransferFlags::LINKED));
    assert_eq!(world.run(&legs), None);
    assert_eq!(plan::hold_state(&world.ledger, 10), HoldState::Held);
    // Reserved: Ana cannot spend it, the company does not have it yet.
    assert_eq!(available(&world), 75_000);
    assert_eq!(world.wallet("ana", CUP), 100_000);
    assert_eq!(world.held(accounts::biller(BILLER, CUP)), 0);
    // The headroom grows only when the hold is posted.
    assert_eq!(world.headroom("ana", CUP), CAP_MINOR - 100_000);
    // Holding again is a retry: nothing more is reserved.
    assert_eq!(world.run(&legs), None);
    assert_eq!(available(&world), 75_000);
    world.assert_sound();
}

#[test]
fn posting_a_hold_pays_the_biller_and_keeps_the_cap_exact() {
    let mut world = world();
    let legs = hold(11, cup(250), cup(5));
    assert_eq!(legs.len(), 4, "money, headroom, fee, fee headroom");
    assert_eq!(world.run(&legs), None);
    let post = plan::post_hold(&legs);
    assert_eq!(post.len(), legs.len());
    for (posting, pending) in post.iter().zip(&legs) {
        assert!(posting.flags.has(TransferFlags::POST_PENDING));
        assert_eq!(posting.pending_id, pending.id);
        assert_eq!(posting.amount, pending.amount);
        assert_eq!(posting.timeout_seconds, 0);
        assert_ne!(posting.id, pending.id);
    }
    assert_eq!(world.run(&post), None);
    assert_eq!(plan::hold_state(&world.ledger, 11), HoldState::Posted);
    assert_eq!(world.wallet("ana", CUP), 100_000 - 25_500);
    assert_eq!(available(&world), 100_000 - 25_500);
    assert_eq!(world.held(accounts::biller(BILLER, CUP)), 25_000);
    assert_eq!(world.held(accounts::fees(CUP)), 500);
    assert_eq!(
        world.wallet("ana", CUP) + world.headroom("ana", CUP),
        CAP_MINOR
    );
    // Posting again is a retry; voiding now is refused and moves nothing.
    assert_eq!(world.run(&post), None);
    let void = plan::void_hold(&legs);
    let results = world.submit(&void);
    assert_eq!(results[0], R::PendingTransferAlreadyPosted);
    assert_eq!(world.held(accounts::biller(BILLER, CUP)), 25_000);
    world.assert_sound();
}

#[test]
fn voiding_a_hold_gives_everything_back() {
    let mut world = world();
    let legs = hold(12, cup(250), cup(5));
    assert_eq!(world.run(&legs), None);
    let void = plan::void_hold(&legs);
    assert!(
        void.iter()
            .all(|leg| leg.flags.has(TransferFlags::VOID_PENDING))
    );
    assert_eq!(world.run(&void), None);
    assert_eq!(plan::hold_state(&world.ledger, 12), HoldState::Voided);
    assert_eq!(available(&world), 100_000);
    assert_eq!(world.held(accounts::biller(BILLER, CUP)), 0);
    assert_eq!(world.held(accounts::fees(CUP)), 0);
    assert_eq!(world.headroom("ana", CUP), CAP_MINOR - 100_000);
    // A late confirmation cannot post what was given back.
    let results = world.submit(&plan::post_hold(&legs));
    assert_eq!(results[0], R::PendingTransferAlreadyVoided);
    assert_eq!(world.held(accounts::biller(BILLER, CUP)), 0);
    world.assert_sound();
}

#[test]
fn an_unresolved_hold_expires_and_then_cannot_be_posted() {
    let mut world = world();
    let legs = hold(13, cup(250), cup(0));
    assert_eq!(world.run(&legs), None);
    world.pass_seconds(u64::from(TIMEOUT_S) - 10);
    assert_eq!(plan::hold_state(&world.ledger, 13), HoldState::Held);
    world.pass_seconds(20);
    assert_eq!(plan::hold_state(&world.ledger, 13), HoldState::Expired);
    assert_eq!(available(&world), 100_000);
    let expired: Vec<_> = world
        .ledger
        .expirations_after(0, 10)
        .into_iter()
        .map(|(_, transfer)| transfer.id)
        .collect();
    assert_eq!(expired, legs.iter().map(|leg| leg.id).collect::<Vec<_>>());
    let results = world.submit(&plan::post_hold(&legs));
    assert_eq!(results[0], R::PendingTransferExpired);
    assert!(
        results[1..]
            .iter()
            .all(|result| *result == R::LinkedEventFailed)
    );
    assert_eq!(world.held(accounts::biller(BILLER, CUP)), 0);
    // Placing the same hold again is a retry, not a second chance.
    assert_eq!(world.run(&legs), None);
    assert_eq!(plan::hold_state(&world.ledger, 13), HoldState::Expired);
    assert_eq!(available(&world), 100_000);
    world.assert_sound();
}

#[test]
fn held_money_cannot_be_held_twice() {
    let mut world = world();
    assert_eq!(world.run(&hold(14, cup(600), cup(0))), None);
    assert_eq!(
        world.run(&hold(15, cup(600), cup(0))),
        Some(PlanRefusal::InsufficientFunds)
    );
    assert_eq!(plan::hold_state(&world.ledger, 15), HoldState::Missing);
    assert_eq!(available(&world), 40_000);
    world.assert_sound();
}

#[test]
fn an_ordinary_payment_is_not_a_hold() {
    let mut world = world();
    let legs = plan::payment(
        16,
        OperationKind::BillPayment,
        "ana",
        accounts::biller(BILLER, CUP),
        cup(10),
        cup(0),
    );
    assert_eq!(world.run(&legs), None);
    assert_eq!(plan::hold_state(&world.ledger, 16), HoldState::NotAHold);
    assert_eq!(plan::hold_state(&world.ledger, 17), HoldState::Missing);
}

#[test]
#[should_panic(expected = "a hold expires")]
fn a_hold_without_timeout_is_a_bug() {
    plan::payment_hold(
        18,
        OperationKind::TopUp,
        "ana",
        accounts::biller(BILLER, CUP),
        cup(10),
        cup(0),
        0,
    );
}
