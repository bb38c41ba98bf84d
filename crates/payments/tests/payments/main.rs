//! Ceiba's payment rules, tested through the crate's public API: one integration-test binary.
//! The plans run against a real `ceiba_ledger::LedgerState`.

mod accounts;
mod fees;
mod holds;
mod limits;
mod merchants;
mod money;
mod plans;
mod properties;
mod receipt;
mod settlement;
mod topups;
mod world;
