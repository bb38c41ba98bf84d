//! The ledger transfers of each operation, as one linked chain: every transfer but the last
//! carries `linked`, so the ledger applies all of them or none.
//!
//! # Wallet caps in the ledger
//! Each wallet has a twin, its headroom account, in a separate ledger per currency
//! ([`Currency::headroom_ledger`]). When the wallet opens, the cap issuer credits its headroom
//! with the cap ([`headroom_funding`]). From then on every chain keeps
//! `wallet balance + headroom balance = cap`: money into a wallet debits its headroom by the same
//! amount, money out of a wallet credits it back. Headroom accounts may not go negative
//! (`debits_must_not_exceed_credits`), so a credit that would pass the cap fails that leg with
//! `exceeds_credits`, the whole chain with it, and nothing moves. No read-then-write race can
//! break the cap, because the check is the ledger's own.
//!
//! # Ids and retries
//! Leg `n` of operation `o` has the transfer id [`transfer_id`]`(o, n)` and carries `o` as its
//! `user_data`. Submitting the same plan again is therefore harmless: the ledger answers `exists`
//! for the first leg, which fails the chain, and `linked_event_failed` for the rest, and
//! [`refusal`] reads that as "already done".
//!
//! # Legs
//! The money leg comes first, so a retry meets `exists` on it.
//! - person to person: payer wallet → payee wallet; payee headroom → cap issuer; cap issuer →
//!   payer headroom; with a fee, payer wallet → fees and cap issuer → payer headroom.
//! - cash in: bank settlement → wallet; wallet headroom → cap issuer.
//! - cash out: wallet → bank settlement; cap issuer → wallet headroom.
//! - payment: wallet → creditor; cap issuer → payer headroom; with a fee, as above.
//!
//! # Holds: payments that wait for a biller
//! A payment that a biller (or, later, a bank) must confirm is first *held*
//! ([`payment_hold`]): the same legs as [`payment`], each `pending` with a timeout, so the
//! wallet's available balance drops at once but nothing reaches the biller yet. Then either
//! [`post_hold`] makes it final, or [`void_hold`] gives it back, or nobody does anything and
//! the ledger expires every leg at the timeout, which gives it back too. Post and void are linked
//! chains like any other, so a hold is posted or released whole; their ids derive from the
//! operation id ([`POST_LEG_OFFSET`], [`VOID_LEG_OFFSET`]), so a retry meets `exists`, and
//! whichever of post, void or expiry the ledger applies first is the only one that happens.
//! [`hold_state`] reads which one it was.
//!
//! While held, the payer's headroom is credited only as *pending*, which does not count toward
//! what the wallet may receive: the cap stays exact, and errs on the safe side until the hold ends.

use ceiba_ledger::{
    AccountId, CreateTransferResult, LedgerId, LedgerState, NewTransfer, PendingStatus,
    TransferFlags, TransferId,
};

use crate::accounts;
use crate::bank::Bank;
use crate::ids::hash_u128;
use crate::money::{Currency, Money};
use crate::operation::OperationKind;

/// Transfer code of [`payment_to`]'s legs, which does not say what the payment is for; prefer
/// [`payment`], whose legs carry the kind's own code.
pub const TRANSFER_CODE_PAYMENT: u16 = 8;
/// Transfer code of [`headroom_funding`].
pub const TRANSFER_CODE_HEADROOM_FUNDING: u16 = 9;

/// The transfer id of leg `leg` of an operation: the first 16 bytes of
/// SHA-256(`ceiba/transfer/` ‖ operation id, 16 bytes big-endian ‖ leg), never 0 or 2^128-1.
pub fn transfer_id(operation_id: u128, leg: u8) -> TransferId {
    TransferId(hash_u128(&[
        b"ceiba/transfer/",
        &operation_id.to_be_bytes(),
        &[leg],
    ]))
}

/// The operation id of opening `user_id`'s wallet in `currency`, derived rather than drawn, so
/// that opening a wallet twice funds its headroom once.
pub fn wallet_opening_operation(user_id: &str, currency: Currency) -> u128 {
    hash_u128(&[
        b"ceiba/operation/wallet-opening/",
        user_id.as_bytes(),
        b"/",
        currency.code().as_bytes(),
    ])
}

/// Credits a new wallet's headroom with its cap: cap issuer → headroom, one transfer. Use
/// [`wallet_opening_operation`] as the operation id so that a retry meets `exists`.
pub fn headroom_funding(
    user_id: &str,
    currency: Currency,
    cap_minor: u64,
    operation_id: u128,
) -> NewTransfer {
    let mut chain = Chain::new(operation_id, TRANSFER_CODE_HEADROOM_FUNDING);
    chain.leg(
        accounts::cap_issuer(currency),
        accounts::headroom(user_id, currency),
        cap_minor,
        currency.headroom_ledger(),
    );
    chain.finish()[0]
}

/// A transfer between two people's wallets, with its fee (zero for none) paid by the payer.
///
/// # Panics
/// When `fee` is in another currency than `amount`: a bug in the caller.
pub fn person_to_person(
    operation_id: u128,
    payer: &str,
    payee: &str,
    amount: Money,
    fee: Money,
) -> Vec<NewTransfer> {
    let currency = same_currency(amount, fee);
    let mut chain = Chain::new(operation_id, OperationKind::PersonToPerson.transfer_code());
    chain.leg(
        accounts::wallet(payer, currency),
        accounts::wallet(payee, currency),
        amount.minor,
        currency.ledger(),
    );
    chain.leg(
        accounts::headroom(payee, currency),
        accounts::cap_issuer(currency),
        amount.minor,
        currency.headroom_ledger(),
    );
    chain.leg(
        accounts::cap_issuer(currency),
        accounts::headroom(payer, currency),
        amount.minor,
        currency.headroom_ledger(),
    );
    chain.fee_legs(payer, fee);
    chain.finish()
}

/// A merchant's refund into the wallet of the person who paid: the merchant's account pays
/// (never below zero), the wallet receives within its cap.
pub fn refund(
    operation_id: u128,
    merchant_id: &str,
    user: &str,
    amount: Money,
) -> Vec<NewTransfer> {
    let from = accounts::merchant(merchant_id, amount.currency);
    into_wallet(operation_id, OperationKind::Refund, from, user, amount)
}

/// One row of a bulk payout: money from `from` (a bank's settlement account, or a merchant's
/// account) into `user`'s wallet, within its cap.
pub fn payout(operation_id: u128, from: AccountId, user: &str, amount: Money) -> Vec<NewTransfer> {
    into_wallet(operation_id, OperationKind::Payout, from, user, amount)
}

/// Money from `from` into `user`'s wallet, within its cap: the wallet's headroom pays the cap
/// issuer in the same chain, so a full wallet refuses the whole chain.
fn into_wallet(
    operation_id: u128,
    kind: OperationKind,
    from: AccountId,
    user: &str,
    amount: Money,
) -> Vec<NewTransfer> {
    let currency = amount.currency;
    let mut chain = Chain::new(operation_id, kind.transfer_code());
    chain.leg(
        from,
        accounts::wallet(user, currency),
        amount.minor,
        currency.ledger(),
    );
    chain.leg(
        accounts::headroom(user, currency),
        accounts::cap_issuer(currency),
        amount.minor,
        currency.headroom_ledger(),
    );
    chain.finish()
}

/// Money from the user's account at `bank` into their wallet.
pub fn cash_in(operation_id: u128, bank: &Bank, user: &str, amount: Money) -> Vec<NewTransfer> {
    let from = accounts::bank_settlement(bank, amount.currency);
    into_wallet(operation_id, OperationKind::CashIn, from, user, amount)
}

/// Money from the user's wallet back to their account at `bank`; the headroom grows again.
pub fn cash_out(operation_id: u128, bank: &Bank, user: &str, amount: Money) -> Vec<NewTransfer> {
    let currency = amount.currency;
    let mut chain = Chain::new(operation_id, OperationKind::CashOut.transfer_code());
    chain.leg(
        accounts::wallet(user, currency),
        accounts::bank_settlement(bank, currency),
        amount.minor,
        currency.ledger(),
    );
    chain.leg(
        accounts::cap_issuer(currency),
        accounts::headroom(user, currency),
        amount.minor,
        currency.headroom_ledger(),
    );
    chain.finish()
}

/// A payment from the user's wallet to a biller or merchant account, with its fee; the legs
/// carry [`TRANSFER_CODE_PAYMENT`]. Prefer [`payment`], which records the kind.
///
/// `creditor` must not be a wallet: money into a wallet must debit its headroom, which only
/// [`person_to_person`] does.
///
/// # Panics
/// When `fee` is in another currency than `amount`.
pub fn payment_to(
    operation_id: u128,
    user: &str,
    creditor: AccountId,
    amount: Money,
    fee: Money,
) -> Vec<NewTransfer> {
    payment_with_code(
        operation_id,
        TRANSFER_CODE_PAYMENT,
        user,
        creditor,
        amount,
        fee,
    )
}

/// [`payment_to`] whose legs carry `kind`'s transfer code (a bill, a tax, a top-up, a shop).
///
/// # Panics
/// When `fee` is in another currency than `amount`.
pub fn payment(
    operation_id: u128,
    kind: OperationKind,
    user: &str,
    creditor: AccountId,
    amount: Money,
    fee: Money,
) -> Vec<NewTransfer> {
    payment_with_code(
        operation_id,
        kind.transfer_code(),
        user,
        creditor,
        amount,
        fee,
    )
}

fn payment_with_code(
    operation_id: u128,
    code: u16,
    user: &str,
    creditor: AccountId,
    amount: Money,
    fee: Money,
) -> Vec<NewTransfer> {
    let currency = same_currency(amount, fee);
    let mut chain = Chain::new(operation_id, code);
    chain.leg(
        accounts::wallet(user, currency),
        creditor,
        amount.minor,
        currency.ledger(),
    );
    chain.leg(
        accounts::cap_issuer(currency),
        accounts::headroom(user, currency),
        amount.minor,
        currency.headroom_ledger(),
    );
    chain.fee_legs(user, fee);
    chain.finish()
}

/// Leg `n` of a hold is posted by leg `POST_LEG_OFFSET + n` of the same operation.
pub const POST_LEG_OFFSET: u8 = 64;
/// Leg `n` of a hold is voided by leg `VOID_LEG_OFFSET + n` of the same operation.
pub const VOID_LEG_OFFSET: u8 = 128;

/// [`payment`] held rather than made: the same legs, each pending, expiring after
/// `timeout_seconds` unless [`post_hold`] or [`void_hold`] resolves it first.
///
/// # Panics
/// When `fee` is in another currency than `amount`, or `timeout_seconds` is 0 (a hold that
/// never expires would keep a person's money if the biller never answers).
pub fn payment_hold(
    operation_id: u128,
    kind: OperationKind,
    user: &str,
    creditor: AccountId,
    amount: Money,
    fee: Money,
    timeout_seconds: u32,
) -> Vec<NewTransfer> {
    into_hold(
        payment(operation_id, kind, user, creditor, amount, fee),
        timeout_seconds,
    )
}

/// [`cash_in`] held rather than made, for a deposit from a person's linked bank account: the
/// money reaches the wallet once the bank confirms ([`post_hold`]), or never ([`void_hold`], or
/// the timeout). The wallet's cap is checked when the hold is placed.
///
/// # Panics
/// When `timeout_seconds` is 0.
pub fn cash_in_hold(
    operation_id: u128,
    bank: &Bank,
    user: &str,
    amount: Money,
    timeout_seconds: u32,
) -> Vec<NewTransfer> {
    into_hold(cash_in(operation_id, bank, user, amount), timeout_seconds)
}

/// [`cash_out`] held rather than made, for a withdrawal to a person's linked bank account.
///
/// # Panics
/// When `timeout_seconds` is 0.
pub fn cash_out_hold(
    operation_id: u128,
    bank: &Bank,
    user: &str,
    amount: Money,
    timeout_seconds: u32,
) -> Vec<NewTransfer> {
    into_hold(cash_out(operation_id, bank, user, amount), timeout_seconds)
}

fn into_hold(mut legs: Vec<NewTransfer>, timeout_seconds: u32) -> Vec<NewTransfer> {
    assert!(timeout_seconds > 0, "a hold expires");
    for leg in &mut legs {
        leg.flags = TransferFlags(leg.flags.0 | TransferFlags::PENDING);
        leg.timeout_seconds = timeout_seconds;
    }
    legs
}

/// Makes a hold final: one `post_pending` of the whole amount per leg of `hold`, linked.
///
/// # Panics
/// When `hold` is empty, not pending, or has more legs than the offsets leave room for.
pub fn post_hold(hold: &[NewTransfer]) -> Vec<NewTransfer> {
    resolve_hold(hold, POST_LEG_OFFSET, TransferFlags::POST_PENDING)
}

/// Gives a hold back: one `void_pending` per leg of `hold`, linked.
///
/// # Panics
/// As [`post_hold`].
pub fn void_hold(hold: &[NewTransfer]) -> Vec<NewTransfer> {
    resolve_hold(hold, VOID_LEG_OFFSET, TransferFlags::VOID_PENDING)
}

fn resolve_hold(hold: &[NewTransfer], offset: u8, flag: u16) -> Vec<NewTransfer> {
    assert!(!hold.is_empty(), "a hold has legs");
    assert!(
        hold.len() < usize::from(POST_LEG_OFFSET),
        "a hold has a handful of legs"
    );
    let operation_id = hold[0].user_data;
    let mut legs: Vec<NewTransfer> = hold
        .iter()
        .enumerate()
        .map(|(index, pending)| {
            assert!(
                pending.flags.has(TransferFlags::PENDING),
                "only a pending leg is resolved"
            );
            let leg = offset + u8::try_from(index).expect("checked above");
            NewTransfer {
                id: transfer_id(operation_id, leg),
                debit_account_id: pending.debit_account_id,
                credit_account_id: pending.credit_account_id,
                amount: pending.amount,
                pending_id: pending.id,
                user_data: operation_id,
                timeout_seconds: 0,
                ledger: pending.ledger,
                code: pending.code,
                flags: TransferFlags(flag | TransferFlags::LINKED),
            }
        })
        .collect();
    if let Some(last) = legs.last_mut() {
        last.flags = TransferFlags(flag);
    }
    legs
}

/// Where an operation's hold stands in the ledger, read from its first leg (the money leg):
/// the legs of a hold are created, posted and voided together, and expire within nanoseconds
/// of each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldState {
    /// No hold was placed for this operation (yet).
    Missing,
    /// The money is reserved; the biller has not been answered for.
    Held,
    /// The biller confirmed and the money is theirs.
    Posted,
    /// The hold was given back (the biller refused).
    Voided,
    /// Nobody resolved the hold in time; the ledger gave the money back.
    Expired,
    /// The operation's first leg is an ordinary transfer: not a held operation.
    NotAHold,
}

/// [`HoldState`] of `operation_id` in `ledger`.
pub fn hold_state(ledger: &LedgerState, operation_id: u128) -> HoldState {
    match ledger.pending_status(transfer_id(operation_id, 0)) {
        None => HoldState::Missing,
        Some(PendingStatus::Pending) => HoldState::Held,
        Some(PendingStatus::Posted) => HoldState::Posted,
        Some(PendingStatus::Voided) => HoldState::Voided,
        Some(PendingStatus::Expired) => HoldState::Expired,
        Some(PendingStatus::None) => HoldState::NotAHold,
    }
}

fn same_currency(amount: Money, fee: Money) -> Currency {
    assert_eq!(
        amount.currency, fee.currency,
        "a fee is charged in the currency of its amount"
    );
    amount.currency
}

/// The legs of one operation as they are built.
struct Chain {
    operation_id: u128,
    code: u16,
    legs: Vec<NewTransfer>,
}

impl Chain {
    fn new(operation_id: u128, code: u16) -> Chain {
        Chain {
            operation_id,
            code,
            legs: Vec::with_capacity(5),
        }
    }

    fn leg(&mut self, debit: AccountId, credit: AccountId, amount_minor: u64, ledger: LedgerId) {
        let leg = u8::try_from(self.legs.len()).expect("an operation has a handful of legs");
        self.legs.push(NewTransfer {
            id: transfer_id(self.operation_id, leg),
            debit_account_id: debit,
            credit_account_id: credit,
            amount: u128::from(amount_minor),
            pending_id: TransferId(0),
            user_data: self.operation_id,
            timeout_seconds: 0,
            ledger,
            code: self.code,
            flags: TransferFlags(0),
        });
    }

    /// The payer's fee to the operator, and the headroom it frees.
    fn fee_legs(&mut self, payer: &str, fee: Money) {
        if fee.is_zero() {
            return;
        }
        let currency = fee.currency;
        self.leg(
            accounts::wallet(payer, currency),
            accounts::fees(currency),
            fee.minor,
            currency.ledger(),
        );
        self.leg(
            accounts::cap_issuer(currency),
            accounts::headroom(payer, currency),
            fee.minor,
            currency.headroom_ledger(),
        );
    }

    /// Links every leg to the next; the last closes the chain.
    fn finish(mut self) -> Vec<NewTransfer> {
        let last = self.legs.len().saturating_sub(1);
        for leg in &mut self.legs[..last] {
            leg.flags = TransferFlags(leg.flags.0 | TransferFlags::LINKED);
        }
        self.legs
    }
}

/// Why the ledger refused an operation's chain, for the person who asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanRefusal {
    /// The paying wallet does not hold the amount and its fee.
    #[error("Saldo insuficiente: la billetera no tiene el importe más la comisión.")]
    InsufficientFunds,
    /// The receiving wallet would pass its cap.
    #[error("La billetera que recibe superaría su tope de saldo; pruebe con un importe menor.")]
    PayeeWalletCap,
    /// A wallet, biller or operator account of the chain does not exist.
    #[error("Una de las cuentas de la operación no existe.")]
    AccountMissing,
    /// The operation id was used before for a different operation.
    #[error("Ese número de operación ya se usó para otra operación distinta.")]
    OperationIdReused,
    /// Any other refusal, with the ledger's code.
    #[error("La operación no se pudo hacer: {}", .0.message_es())]
    Other(CreateTransferResult),
}

impl PlanRefusal {
    /// The stable machine name, for error codes: ours, or the ledger's for [`PlanRefusal::Other`].
    pub fn code(self) -> &'static str {
        match self {
            PlanRefusal::InsufficientFunds => "insufficient_funds",
            PlanRefusal::PayeeWalletCap => "payee_wallet_cap",
            PlanRefusal::AccountMissing => "account_missing",
            PlanRefusal::OperationIdReused => "operation_id_reused",
            PlanRefusal::Other(result) => result.code(),
        }
    }
}

/// Which part of the chain failed, from the ledger's per-leg results (`results[i]` answers
/// `legs[i]`). `None` when the operation is done: every leg `ok`, or an idempotent retry (the
/// first leg `exists` and the others `linked_event_failed`, or every leg `exists`).
///
/// `exceeds_credits` on a money leg is the payer's wallet (the only money accounts with that
/// flag that a chain debits); on a headroom leg it is the receiving wallet's cap.
///
/// # Panics
/// When there is not one result per leg.
pub fn refusal(legs: &[NewTransfer], results: &[CreateTransferResult]) -> Option<PlanRefusal> {
    use CreateTransferResult as R;
    assert_eq!(legs.len(), results.len(), "one ledger result per leg");
    let all = |wanted: R| results.iter().all(|result| *result == wanted);
    if all(R::Ok) || all(R::Exists) {
        return None;
    }
    if let Some((R::Exists, rest)) = results.split_first()
        && rest.iter().all(|result| *result == R::LinkedEventFailed)
    {
        return None;
    }
    let Some((index, &result)) = results
        .iter()
        .enumerate()
        .find(|(_, result)| !matches!(result, R::Ok | R::LinkedEventFailed))
    else {
        return Some(PlanRefusal::Other(R::LinkedEventFailed));
    };
    Some(match result {
        R::ExceedsCredits if Currency::from_headroom_ledger(legs[index].ledger).is_some() => {
            PlanRefusal::PayeeWalletCap
        }
        R::ExceedsCredits => PlanRefusal::InsufficientFunds,
        R::DebitAccountNotFound | R::CreditAccountNotFound => PlanRefusal::AccountMissing,
        // A later leg that exists while the first did not: the id belongs to another operation.
        R::Exists
        | R::ExistsWithDifferentFlags
        | R::ExistsWithDifferentDebitAccountId
        | R::ExistsWithDifferentCreditAccountId
        | R::ExistsWithDifferentAmount
        | R::ExistsWithDifferentPendingId
        | R::ExistsWithDifferentUserData
        | R::ExistsWithDifferentTimeout
        | R::ExistsWithDifferentLedger
        | R::ExistsWithDifferentCode => PlanRefusal::OperationIdReused,
        other => PlanRefusal::Other(other),
    })
}
