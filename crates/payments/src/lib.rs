//! Ceiba's payment rules, the part of Pagos that needs no IO: currencies and amounts as people
//! type them, the Central Bank's person-to-person limits and a person's own, wallet caps, fees,
//! the ledger accounts of wallets, banks, billers and the operator, the linked chain of ledger
//! transfers each operation becomes (held, then posted or voided, when a biller must confirm
//! it), what a refused chain means for the person, what top-ups are sold, receipt codes, and the
//! bills and payout files people upload ([`files`]).
//!
//! Architecture Invariant: this crate does no IO and reads no clock (a domain crate; see
//! ARCHITECTURE.md). Time comes in as an argument (`at_ms`); the amounts already sent today come
//! in as [`Usage`]; storage and HTTP live in `ceiba-store` and `ceiba-web`.
//!
//! # Parse, don't validate
//! [`Currency::parse`], [`Money::parse`], [`OperationKind::parse`] and [`PersonalLimits::new`]
//! refuse with a `#[non_exhaustive]` error whose `Display` is a Spanish sentence.
//!
//! # The ledger enforces what must never break
//! Balances never go negative (wallet flags) and never pass the cap (headroom accounts; see
//! [`plan`]); both are checked by the ledger inside the same linked chain that moves the money,
//! so no concurrent request can slip between a check and a write. The person-to-person limits
//! depend on a day's and a month's history, which the ledger does not know; they are checked
//! here ([`check_person_to_person`]) by the single writer before it submits the chain.

pub mod accounts;
mod bank;
mod fees;
pub mod files;
mod ids;
mod limits;
mod merchant;
mod money;
mod operation;
pub mod plan;
mod receipt;
pub mod settlement;
mod topup;

pub use bank::{BANKS, Bank, bank};
pub use fees::{FeeRule, FeeSchedule};
pub use limits::{
    CurrencyLimits, LimitError, LimitKind, LimitRefusal, Limits, PersonalLimits, Usage, WalletCaps,
    check_person_to_person, check_wallet_cap,
};
pub use merchant::{
    BUSINESS_NAME_CHARS_MAX, BusinessName, CITY_CHARS_MAX, COMMON_CATEGORIES, CategoryCode, City,
    MerchantError, NIT_DIGITS, Nit,
};
pub use money::{
    AMOUNT_MINOR_MAX, AmountError, Currency, CurrencyError, MINOR_PER_UNIT, Money, format_minor_en,
    format_minor_es,
};
pub use operation::{OperationKind, OperationKindError};
pub use plan::{HoldState, PlanRefusal};
pub use receipt::ReceiptCode;
pub use topup::{NAUTA_DOMAINS, NautaAccount, TopUpError, TopUpRules, TopUpService};
