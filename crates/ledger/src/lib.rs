//! Ceiba's double-entry ledger, modelled on TigerBeetle: accounts and transfers with 128-bit ids
//! in ledgers per currency, single-phase, pending (two-phase) with timeouts, post and void,
//! balancing and closing transfers, linked chains, idempotent ids and a result code per refusal.
//!
//! Architecture Invariant: this crate does no IO and reads no clock. [`LedgerState::apply`] takes
//! the time as an argument, so a journal of [`Record`]s replays to the same state every time; the
//! durable writer lives in `ceiba-store`.

mod check;
mod codec;
mod collections;
mod results;
mod state;
mod types;

pub use check::{CheckReport, LedgerTotals, check};
pub use codec::{CodecError, Record, decode, encode};
pub use results::{CreateAccountResult, CreateTransferResult};
pub use state::{
    Direction, HistoryError, LedgerState, Linked, Operation, OperationResults, TransferFilter,
};
pub use types::{
    Account, AccountFlags, AccountId, BATCH_EVENTS_MAX, Balances, LedgerId, NewAccount,
    NewTransfer, PendingStatus, Timestamp, Transfer, TransferFlags, TransferId,
};
