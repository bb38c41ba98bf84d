//! What passes between the menu and the edge: the actions the edge performs, the outcomes it
//! reports back (stored with the session, so they must serialize), and the PIN as typed.

use std::fmt;

use ceiba_identity::{PhoneNumber, Pin};
use ceiba_payments::{Currency, Money, NautaAccount, TopUpService};
use serde::{Deserialize, Serialize};

/// Four digits typed where the menu asks for the current PIN. Whether they are the PIN is for
/// the edge to find out (with the lockout that goes with it); this type only says they have the
/// shape of one, so that a mistyped length is re-prompted without counting as a failure.
///
/// There is no `Display`, and `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct PinEntry(String);

impl PinEntry {
    /// Four ASCII digits, or nothing.
    pub fn parse(text: &str) -> Option<PinEntry> {
        let text = text.trim();
        (text.len() == 4 && text.bytes().all(|byte| byte.is_ascii_digit()))
            .then(|| PinEntry(text.to_owned()))
    }

    /// The digits, for the one place that verifies them.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PinEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PinEntry(••••)")
    }
}

/// The account a top-up credits, parsed for its service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopUpAccount {
    Mobile(PhoneNumber),
    Nauta(NautaAccount),
}

impl TopUpAccount {
    pub fn service(&self) -> TopUpService {
        match self {
            TopUpAccount::Mobile(_) => TopUpService::Mobile,
            TopUpAccount::Nauta(_) => TopUpService::Nauta,
        }
    }

    /// `+5351234567` or `usuario@nauta.com.cu`.
    pub fn as_str(&self) -> &str {
        match self {
            TopUpAccount::Mobile(phone) => phone.as_e164(),
            TopUpAccount::Nauta(account) => account.as_str(),
        }
    }
}

/// What the edge must do before the menu can show its next screen. Every action that reads or
/// moves money, and the PIN change, carries the PIN typed for it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Action {
    /// Who has this number: [`Outcome::Recipient`], or [`Outcome::Refused`] (no active
    /// account, the caller's own number).
    LookupRecipient { phone: PhoneNumber },
    /// The caller's balances: [`Outcome::Balances`].
    Balance { pin: PinEntry },
    /// The caller's last operations, newest first, at most [`crate::OPERATIONS_SHOWN_MAX`]:
    /// [`Outcome::Operations`].
    LastOperations { pin: PinEntry },
    /// Send money: [`Outcome::Completed`].
    Transfer {
        to: PhoneNumber,
        amount: Money,
        pin: PinEntry,
    },
    /// The billers a person may pay: [`Outcome::Billers`].
    ListBillers,
    /// The bill with this reference: [`Outcome::Bill`], or [`Outcome::Refused`] (unknown,
    /// already paid).
    FindBill {
        biller_id: String,
        reference: String,
    },
    /// Pay the bill found: [`Outcome::Completed`].
    PayBill {
        biller_id: String,
        reference: String,
        pin: PinEntry,
    },
    /// Top up a line or a Nauta account: [`Outcome::Completed`].
    TopUp {
        account: TopUpAccount,
        amount: Money,
        pin: PinEntry,
    },
    /// Whether this is the current PIN, before asking for a new one: [`Outcome::PinAccepted`].
    CheckPin { pin: PinEntry },
    /// Replace the PIN (the edge checks `old` again): [`Outcome::PinChanged`].
    ChangePin { old: PinEntry, new: Pin },
    /// What others ask the caller to pay, pending, newest first: [`Outcome::Requests`].
    ListRequests,
    /// Pay a request: [`Outcome::Completed`].
    AcceptRequest { id: String, pin: PinEntry },
    /// Decline a request: [`Outcome::Declined`].
    DeclineRequest { id: String, pin: PinEntry },
}

impl Action {
    /// Whether the action moves money: the edge gives it an idempotency key derived from the
    /// session and the input it answers, so a gateway's retry moves the money once.
    pub fn moves_money(&self) -> bool {
        matches!(
            self,
            Action::Transfer { .. }
                | Action::PayBill { .. }
                | Action::TopUp { .. }
                | Action::AcceptRequest { .. }
        )
    }

    /// The PIN the action carries, if any.
    pub fn pin(&self) -> Option<&PinEntry> {
        match self {
            Action::Balance { pin }
            | Action::LastOperations { pin }
            | Action::Transfer { pin, .. }
            | Action::PayBill { pin, .. }
            | Action::TopUp { pin, .. }
            | Action::CheckPin { pin }
            | Action::AcceptRequest { pin, .. }
            | Action::DeclineRequest { pin, .. } => Some(pin),
            Action::ChangePin { old, .. } => Some(old),
            Action::LookupRecipient { .. }
            | Action::ListBillers
            | Action::FindBill { .. }
            | Action::ListRequests => None,
        }
    }
}

/// A biller in the numbered list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Biller {
    /// What the edge needs to find and pay its bills.
    pub id: String,
    /// What the person reads: "Electricidad (UNE)".
    pub name: String,
}

/// A request to pay the caller, in the numbered list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLine {
    /// What the edge needs to pay or decline it.
    pub id: String,
    /// Who asks: a person's or a merchant's name.
    pub from: String,
    pub currency: Currency,
    pub amount_minor: u64,
    pub note: String,
}

impl RequestLine {
    pub(crate) fn amount(&self) -> Money {
        Money::from_minor(self.amount_minor, self.currency)
    }
}

/// One currency of the wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub currency: Currency,
    pub available_minor: u64,
}

/// One line of the last operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationLine {
    /// Day and month in the country's time zone (the edge knows the clock and the zone).
    pub day: u8,
    pub month: u8,
    /// Money that left the wallet (shown with `-`) or came in (`+`).
    pub sent: bool,
    pub currency: Currency,
    pub amount_minor: u64,
    /// The other party: a person's name, a bank, a biller.
    pub counterparty: String,
}

/// What a completed money movement shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The verification code printed on every receipt.
    pub code: String,
    pub currency: Currency,
    pub amount_minor: u64,
    /// Who received it.
    pub counterparty: String,
    /// What is left to spend in that currency, when the edge knows.
    pub balance_minor: Option<u64>,
}

impl Receipt {
    pub(crate) fn amount(&self) -> Money {
        Money::from_minor(self.amount_minor, self.currency)
    }
}

/// What became of an action. Stored with the session (JSON), so that the screens of a session
/// can be rebuilt from its inputs and these answers alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    Recipient {
        name: String,
    },
    Billers {
        billers: Vec<Biller>,
    },
    Bill {
        customer: String,
        currency: Currency,
        amount_minor: u64,
    },
    Balances {
        balances: Vec<Balance>,
    },
    Operations {
        operations: Vec<OperationLine>,
    },
    PinAccepted,
    Completed {
        receipt: Receipt,
    },
    PinChanged,
    Requests {
        requests: Vec<RequestLine>,
    },
    /// The request was declined; nothing moved.
    Declined,
    /// The PIN was wrong; the person may try again this many times before the lock.
    WrongPin {
        attempts_left: u32,
    },
    /// Too many wrong PINs: nothing is done until the lock ends.
    Locked {
        retry_after_s: u64,
    },
    /// Refused for a reason the person can act on (a sentence in Spanish); nothing moved.
    Refused {
        reason: String,
    },
    /// Recorded, not yet settled: the result arrives by SMS.
    InProgress,
    /// The service could not answer (database or ledger away).
    Unavailable,
}

/// An outcome and the input it answers (the index, from 0, of the input whose action it was).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub at_input: usize,
    pub outcome: Outcome,
}
