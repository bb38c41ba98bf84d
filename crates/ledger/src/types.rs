//! The ledger's records: accounts, transfers and their flags. Identifiers and amounts are
//! 128-bit; an identifier of 0 or of all ones is refused by the state machine with its own code,
//! so the types accept any value and the checks live in one place.

use std::fmt;

/// Most events in one batch, as in TigerBeetle: what fits one 1 MiB message.
pub const BATCH_EVENTS_MAX: usize = 8_190;

/// Nanoseconds since the Unix epoch, as assigned by the ledger.
pub type Timestamp = u64;

macro_rules! id_type {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub u128);

        impl $name {
            pub fn is_zero(self) -> bool {
                self.0 == 0
            }

            pub fn is_max(self) -> bool {
                self.0 == u128::MAX
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    AccountId,
    "An account's 128-bit identifier, chosen by the client."
);
id_type!(
    TransferId,
    "A transfer's 128-bit identifier, chosen by the client."
);

/// A ledger: one currency. Accounts only exchange money with accounts of their own ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct LedgerId(pub u32);

impl LedgerId {
    /// Cuban pesos (ISO 4217 number 192), in centavos.
    pub const CUP: LedgerId = LedgerId(192);
    /// US dollars (840), in cents.
    pub const USD: LedgerId = LedgerId(840);
    /// Moneda libremente convertible; not an ISO 4217 currency, so a number outside its range.
    pub const MLC: LedgerId = LedgerId(1_000);

    /// The currency's code, for people.
    pub fn currency(self) -> Option<&'static str> {
        match self {
            LedgerId::CUP => Some("CUP"),
            LedgerId::USD => Some("USD"),
            LedgerId::MLC => Some("MLC"),
            _ => None,
        }
    }

    pub fn from_currency(code: &str) -> Option<LedgerId> {
        match code {
            "CUP" => Some(LedgerId::CUP),
            "USD" => Some(LedgerId::USD),
            "MLC" => Some(LedgerId::MLC),
            _ => None,
        }
    }
}

/// Flags of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AccountFlags(pub u16);

impl AccountFlags {
    /// This event succeeds or fails together with the next one in the batch.
    pub const LINKED: u16 = 1;
    /// Debits (posted and pending) may never exceed posted credits: a wallet cannot go negative.
    pub const DEBITS_MUST_NOT_EXCEED_CREDITS: u16 = 1 << 1;
    /// Credits (posted and pending) may never exceed posted debits.
    pub const CREDITS_MUST_NOT_EXCEED_DEBITS: u16 = 1 << 2;
    /// Keep the balances after every change, for balance-as-of queries.
    pub const HISTORY: u16 = 1 << 3;
    /// No transfer may move money into or out of the account.
    pub const CLOSED: u16 = 1 << 4;
    pub const KNOWN: u16 = Self::LINKED
        | Self::DEBITS_MUST_NOT_EXCEED_CREDITS
        | Self::CREDITS_MUST_NOT_EXCEED_DEBITS
        | Self::HISTORY
        | Self::CLOSED;

    pub fn has(self, flag: u16) -> bool {
        self.0 & flag == flag
    }

    /// The flags that describe the account, without the per-event `linked`.
    pub fn without_linked(self) -> AccountFlags {
        AccountFlags(self.0 & !Self::LINKED)
    }
}

/// Flags of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TransferFlags(pub u16);

impl TransferFlags {
    pub const LINKED: u16 = 1;
    /// Reserve the amount (two-phase): it stays pending until posted, voided or expired.
    pub const PENDING: u16 = 1 << 1;
    /// Post a pending transfer, in full or in part.
    pub const POST_PENDING: u16 = 1 << 2;
    /// Void a pending transfer: the reserved amount returns.
    pub const VOID_PENDING: u16 = 1 << 3;
    /// Move at most what the debit account has available.
    pub const BALANCING_DEBIT: u16 = 1 << 4;
    /// Move at most what the credit account may still receive.
    pub const BALANCING_CREDIT: u16 = 1 << 5;
    /// A pending transfer that closes its debit account; voiding it reopens the account.
    pub const CLOSING_DEBIT: u16 = 1 << 6;
    /// A pending transfer that closes its credit account; voiding it reopens the account.
    pub const CLOSING_CREDIT: u16 = 1 << 7;
    pub const KNOWN: u16 = Self::LINKED
        | Self::PENDING
        | Self::POST_PENDING
        | Self::VOID_PENDING
        | Self::BALANCING_DEBIT
        | Self::BALANCING_CREDIT
        | Self::CLOSING_DEBIT
        | Self::CLOSING_CREDIT;

    pub fn has(self, flag: u16) -> bool {
        self.0 & flag == flag
    }

    pub fn without_linked(self) -> TransferFlags {
        TransferFlags(self.0 & !Self::LINKED)
    }
}

/// What a client asks for when opening an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NewAccount {
    pub id: AccountId,
    pub ledger: LedgerId,
    /// The kind of account (wallet, merchant, fees, settlement…), chosen by the application.
    pub code: u16,
    /// Who owns it, as the application references owners (a user id, a merchant id).
    pub owner: u128,
    pub flags: AccountFlags,
}

/// Debits and credits of an account, posted and pending, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Balances {
    pub debits_pending: u128,
    pub debits_posted: u128,
    pub credits_pending: u128,
    pub credits_posted: u128,
}

/// An account as the ledger holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Account {
    pub id: AccountId,
    pub ledger: LedgerId,
    pub code: u16,
    pub owner: u128,
    pub flags: AccountFlags,
    pub balances: Balances,
    pub timestamp: Timestamp,
}

/// What a client asks for when moving money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NewTransfer {
    pub id: TransferId,
    pub debit_account_id: AccountId,
    pub credit_account_id: AccountId,
    /// Minor units (centavos). For `post_pending`, 0 posts the whole pending amount.
    pub amount: u128,
    /// The pending transfer that a `post_pending` or `void_pending` resolves.
    pub pending_id: TransferId,
    pub user_data: u128,
    /// Seconds a pending transfer waits before it expires; 0 waits for ever.
    pub timeout_seconds: u32,
    pub ledger: LedgerId,
    pub code: u16,
    pub flags: TransferFlags,
}

/// A transfer as the ledger holds it: the fields after defaults are filled in (post and void take
/// accounts, ledger and code from the pending transfer) and the amount actually moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Transfer {
    pub id: TransferId,
    pub debit_account_id: AccountId,
    pub credit_account_id: AccountId,
    pub amount: u128,
    pub pending_id: TransferId,
    pub user_data: u128,
    pub timeout_seconds: u32,
    pub ledger: LedgerId,
    pub code: u16,
    pub flags: TransferFlags,
    pub timestamp: Timestamp,
}

/// Where a pending transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PendingStatus {
    /// Not a pending transfer.
    None,
    Pending,
    Posted,
    Voided,
    Expired,
}

impl PendingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PendingStatus::None => "none",
            PendingStatus::Pending => "pending",
            PendingStatus::Posted => "posted",
            PendingStatus::Voided => "voided",
            PendingStatus::Expired => "expired",
        }
    }
}
