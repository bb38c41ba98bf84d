//! Ceiba Pagos on a basic phone: the USSD menu as a state machine that does no IO.
//!
//! The common gateway convention sends, on every request of a session, everything the person
//! typed so far joined by `*` (`text`), and shows the answer: `CON …` asks for another input,
//! `END …` closes the session. A screen holds at most [`SCREEN_CHARS_MAX`] characters.
//!
//! # Sans-IO
//! [`step`] takes the inputs ([`split_text`]) and the [`Answer`]s to the actions performed so
//! far and returns either the screen to show or the next [`Action`] (look up a recipient, check
//! a PIN and send money …). The edge performs the action, stores its [`Outcome`] with the
//! session, and calls [`step`] again; the menu then renders the screen for that outcome. The
//! state is rebuilt from the inputs on every call, so a session needs no stored state but its
//! answers, which hold no secret: the PIN travels in the gateway's `text` and is never stored.
//!
//! ```
//! use ceiba_ussd::{Answer, Features, Outcome, Step, step};
//!
//! // The person dialled and chose 1 (balance), then typed a PIN.
//! let Step::Perform { at_input, action } = step(Features::ALL, &["1", "2468"], &[]) else {
//!     panic!("a balance needs the PIN checked");
//! };
//! assert_eq!(at_input, 1);
//! assert!(action.pin().is_some());
//! let answers = [Answer { at_input, outcome: Outcome::Balances { balances: vec![] } }];
//! let Step::Show(screen) = step(Features::ALL, &["1", "2468"], &answers) else { panic!() };
//! assert!(screen.is_end());
//! ```
//!
//! # Menus
//! `1 Saldo`, `2 Transferir` (number, currency, amount, the recipient's name to confirm, PIN),
//! `3 Pagar factura` (biller from a numbered list, reference, amount and name to confirm, PIN),
//! `4 Recargar` (móvil or Nauta, account, amount, PIN), `5 Últimas operaciones`, `6 Cambiar PIN`,
//! `7 Solicitudes de pago` (what others ask the caller to pay: pay or decline, with the PIN).
//! `0` goes back one screen wherever there is one to go back to; an invalid choice shows the
//! same screen again under a line that says why. Balance and operations ask for the PIN too: a
//! basic phone is often shared, and what a wallet holds is nobody else's business.
//!
//! Architecture Invariant: no IO, no clock, no randomness (a domain crate; see ARCHITECTURE.md).
//! Every screen fits [`SCREEN_CHARS_MAX`] in Spanish and in its ASCII form ([`to_ascii`]):
//! whatever comes from outside (names, reasons) is cut to fit, never the options.

mod exchange;
mod menu;
mod screen;

pub use exchange::{
    Action, Answer, Balance, Biller, OperationLine, Outcome, PinEntry, Receipt, RequestLine,
    TopUpAccount,
};
pub use menu::{
    BILLERS_SHOWN_MAX, Ending, Features, INPUT_CHARS_MAX, INPUTS_MAX, OPERATIONS_SHOWN_MAX,
    REQUESTS_SHOWN_MAX, Step, split_text, step,
};
pub use screen::{SCREEN_CHARS_MAX, Screen, ScreenKind, fits, to_ascii};
