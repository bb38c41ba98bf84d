//! The menu: from a session's inputs and the answers to its actions, the next screen or the
//! next action. The state is rebuilt from the start on every request (a few dozen inputs at
//! most), so nothing but the inputs, which the gateway sends anyway, and the answers, which hold
//! no secret, needs keeping between requests: a PIN is never stored.

use ceiba_identity::{PhoneNumber, Pin, PinError};
use ceiba_payments::{AmountError, Currency, Money, NautaAccount, TopUpService};

use crate::exchange::{
    Action, Answer, Balance, Biller, OperationLine, Outcome, PinEntry, Receipt, RequestLine,
    TopUpAccount,
};
use crate::screen::{Screen, clip, fit, fits};

/// Most inputs in one session: a person who needs more has lost their way, and the limit keeps
/// the replay of a session small.
pub const INPUTS_MAX: usize = 40;
/// Longest single input (a Nauta address is the longest thing anyone types here).
pub const INPUT_CHARS_MAX: usize = 80;
/// Most billers in the numbered list (six fit one screen with a warning line above them).
pub const BILLERS_SHOWN_MAX: usize = 6;
/// Most operations the last-operations screen shows.
pub const OPERATIONS_SHOWN_MAX: usize = 5;
/// Most requests to pay in the numbered list.
pub const REQUESTS_SHOWN_MAX: usize = 4;
/// Longest name of who asks, in the numbered list of requests.
const REQUEST_LIST_NAME_CHARS_MAX: usize = 16;
/// Longest name of a person or biller on a screen.
const NAME_CHARS_MAX: usize = 40;
/// Longest biller name in the numbered list.
const BILLER_LIST_NAME_CHARS_MAX: usize = 18;
/// Longest bill reference accepted.
const REFERENCE_CHARS_MAX: usize = 40;
/// Longest reason from the edge shown as a warning above a prompt.
const REASON_CHARS_MAX: usize = 100;

/// Which menu entries this server offers (the bills and top-ups services may be absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    pub bills: bool,
    pub top_ups: bool,
}

impl Features {
    pub const ALL: Features = Features {
        bills: true,
        top_ups: true,
    };
}

/// What the edge does next.
#[derive(Debug)]
pub enum Step {
    /// Show this screen.
    Show(Screen),
    /// Perform this action, then call [`step`] again with its [`Answer`] added.
    Perform { at_input: usize, action: Action },
}

/// Why a session ends before (or instead of) the menu: the edge's own end screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ending {
    /// No input for longer than the idle limit.
    Expired,
    /// The session already ended and the gateway sent more.
    Finished,
    /// The number has no active account.
    UnknownCaller,
    /// The account has no PIN yet.
    NoPin,
    /// More inputs, or a longer one, than a session admits.
    TooLong,
    /// The inputs do not continue the session (a gateway out of step).
    Invalid,
    /// The service could not answer.
    Unavailable,
}

impl Ending {
    pub const ALL: [Ending; 7] = [
        Ending::Expired,
        Ending::Finished,
        Ending::UnknownCaller,
        Ending::NoPin,
        Ending::TooLong,
        Ending::Invalid,
        Ending::Unavailable,
    ];

    pub fn screen(self) -> Screen {
        Screen::end(match self {
            Ending::Expired => {
                "Su sesión expiró por falta de respuesta. No se movió dinero. Marque de nuevo \
                 para empezar."
            }
            Ending::Finished => "Esta sesión ya terminó. Marque de nuevo para empezar.",
            Ending::UnknownCaller => {
                "Este número no tiene una cuenta activa en Ceiba Pagos. Regístrese en la web de \
                 Ceiba."
            }
            Ending::NoPin => {
                "Aún no tiene PIN para USSD. Créelo en la web de Ceiba, en Mi cuenta, y marque de \
                 nuevo."
            }
            Ending::TooLong => "La sesión es demasiado larga. Marque de nuevo para empezar.",
            Ending::Invalid => "La sesión no es válida. Marque de nuevo para empezar.",
            Ending::Unavailable => {
                "El servicio no está disponible ahora. Pruebe más tarde. Si se movió dinero, \
                 recibirá un SMS."
            }
        })
    }
}

/// The inputs of a session from the gateway's `text`: everything typed so far joined by `*`;
/// empty before the first answer. Refuses more than [`INPUTS_MAX`] inputs or one longer than
/// [`INPUT_CHARS_MAX`] characters.
pub fn split_text(text: &str) -> Result<Vec<&str>, Ending> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let inputs: Vec<&str> = text.split('*').map(str::trim).collect();
    if inputs.len() > INPUTS_MAX
        || inputs
            .iter()
            .any(|input| input.chars().count() > INPUT_CHARS_MAX)
    {
        return Err(Ending::TooLong);
    }
    Ok(inputs)
}

/// The next screen or action of a session with these `inputs` (see [`split_text`]) and the
/// `answers` to its actions so far. Deterministic: the same inputs and answers give the same
/// step, which is how a session resumes in any process.
pub fn step(features: Features, inputs: &[&str], answers: &[Answer]) -> Step {
    if inputs.len() > INPUTS_MAX {
        return Step::Show(Ending::TooLong.screen());
    }
    let mut state = State::Main(None);
    for (index, input) in inputs.iter().enumerate() {
        if matches!(state, State::Ended(_)) {
            break;
        }
        match advance(features, state, input.trim(), index, answers) {
            Next::State(next) => state = next,
            Next::Perform(action) => {
                return Step::Perform {
                    at_input: index,
                    action,
                };
            }
        }
    }
    Step::Show(render(&state))
}

#[derive(Debug, Clone)]
struct Recipient {
    phone: PhoneNumber,
    name: String,
}

#[derive(Debug, Clone)]
struct Bill {
    reference: String,
    customer: String,
    amount: Money,
}

/// What a PIN prompt is for, with what it needs to go back or go on.
#[derive(Debug, Clone)]
enum Purpose {
    Balance,
    Operations,
    ChangePin,
    Transfer {
        to: Recipient,
        amount: Money,
    },
    Bill {
        billers: Vec<Biller>,
        biller: Biller,
        bill: Bill,
    },
    TopUp {
        account: TopUpAccount,
        amount: Money,
    },
    AcceptRequest {
        requests: Vec<RequestLine>,
        request: RequestLine,
    },
    DeclineRequest {
        requests: Vec<RequestLine>,
        request: RequestLine,
    },
}

/// A line above a prompt saying why it is asked again.
#[derive(Debug, Clone)]
enum Notice {
    InvalidOption,
    PinFormat,
    WrongPin { attempts_left: u32 },
    InvalidPhone,
    InvalidAmount(AmountError),
    InvalidAccount(TopUpService),
    EmptyReference,
    GuessablePin,
    SamePin,
    PinMismatch,
    Refused(String),
}

#[derive(Debug, Clone)]
enum State {
    Main(Option<Notice>),
    Pin {
        purpose: Purpose,
        notice: Option<Notice>,
    },
    TransferPhone(Option<Notice>),
    TransferCurrency {
        to: Recipient,
        notice: Option<Notice>,
    },
    TransferAmount {
        to: Recipient,
        currency: Currency,
        notice: Option<Notice>,
    },
    TransferConfirm {
        to: Recipient,
        amount: Money,
        notice: Option<Notice>,
    },
    Billers {
        billers: Vec<Biller>,
        notice: Option<Notice>,
    },
    BillReference {
        billers: Vec<Biller>,
        biller: Biller,
        notice: Option<Notice>,
    },
    BillConfirm {
        billers: Vec<Biller>,
        biller: Biller,
        bill: Bill,
        notice: Option<Notice>,
    },
    TopUpService(Option<Notice>),
    TopUpAccount {
        service: TopUpService,
        notice: Option<Notice>,
    },
    TopUpAmount {
        account: TopUpAccount,
        notice: Option<Notice>,
    },
    TopUpConfirm {
        account: TopUpAccount,
        amount: Money,
        notice: Option<Notice>,
    },
    Requests {
        requests: Vec<RequestLine>,
        notice: Option<Notice>,
    },
    RequestChoice {
        requests: Vec<RequestLine>,
        request: RequestLine,
        notice: Option<Notice>,
    },
    NewPin {
        old: PinEntry,
        notice: Option<Notice>,
    },
    RepeatPin {
        old: PinEntry,
        new: String,
        notice: Option<Notice>,
    },
    Ended(Screen),
}

enum Next {
    State(State),
    Perform(Action),
}

/// The state after the outcome of `action` if the edge already answered it, or the action.
fn act(
    answers: &[Answer],
    index: usize,
    action: Action,
    on: impl FnOnce(&Outcome) -> State,
) -> Next {
    match answers.iter().find(|answer| answer.at_input == index) {
        Some(answer) => Next::State(on(&answer.outcome)),
        None => Next::Perform(action),
    }
}

fn invalid() -> State {
    State::Ended(Ending::Invalid.screen())
}

fn advance(
    features: Features,
    state: State,
    input: &str,
    index: usize,
    answers: &[Answer],
) -> Next {
    let back = input == "0";
    let again = Some(Notice::InvalidOption);
    let state = match state {
        State::Ended(screen) => State::Ended(screen),
        State::Main(_) => match input {
            "1" => pin_prompt(Purpose::Balance),
            "2" => State::TransferPhone(None),
            "3" if !features.bills => State::Ended(not_yet("El pago de facturas")),
            "3" => {
                return act(
                    answers,
                    index,
                    Action::ListBillers,
                    |outcome| match outcome {
                        Outcome::Billers { billers } if billers.is_empty() => State::Ended(
                            Screen::end("No hay empresas a las que pagar por USSD ahora."),
                        ),
                        Outcome::Billers { billers } => State::Billers {
                            billers: billers.iter().take(BILLERS_SHOWN_MAX).cloned().collect(),
                            notice: None,
                        },
                        other => ended_by(other, QUERY),
                    },
                );
            }
            "4" if !features.top_ups => State::Ended(not_yet("La recarga")),
            "4" => State::TopUpService(None),
            "5" => pin_prompt(Purpose::Operations),
            "6" => pin_prompt(Purpose::ChangePin),
            "7" => {
                return act(
                    answers,
                    index,
                    Action::ListRequests,
                    |outcome| match outcome {
                        Outcome::Requests { requests } if requests.is_empty() => {
                            State::Ended(Screen::end("No tiene solicitudes de pago pendientes."))
                        }
                        Outcome::Requests { requests } => State::Requests {
                            requests: requests.iter().take(REQUESTS_SHOWN_MAX).cloned().collect(),
                            notice: None,
                        },
                        other => ended_by(other, QUERY),
                    },
                );
            }
            _ => State::Main(again),
        },
        State::Requests { .. } if back => State::Main(None),
        State::Requests { requests, .. } => {
            let chosen = input
                .parse::<usize>()
                .ok()
                .and_then(|number| number.checked_sub(1))
                .and_then(|position| requests.get(position))
                .cloned();
            match chosen {
                Some(request) => State::RequestChoice {
                    requests,
                    request,
                    notice: None,
                },
                None => State::Requests {
                    requests,
                    notice: again,
                },
            }
        }
        State::RequestChoice { requests, .. } if back => State::Requests {
            requests,
            notice: None,
        },
        State::RequestChoice {
            requests, request, ..
        } => match input {
            "1" => pin_prompt(Purpose::AcceptRequest { requests, request }),
            "2" => pin_prompt(Purpose::DeclineRequest { requests, request }),
            _ => State::RequestChoice {
                requests,
                request,
                notice: again,
            },
        },
        State::Pin { purpose, .. } if back => match purpose {
            Purpose::Balance | Purpose::Operations | Purpose::ChangePin => State::Main(None),
            Purpose::Transfer { to, amount } => State::TransferConfirm {
                to,
                amount,
                notice: None,
            },
            Purpose::Bill {
                billers,
                biller,
                bill,
            } => State::BillConfirm {
                billers,
                biller,
                bill,
                notice: None,
            },
            Purpose::TopUp { account, amount } => State::TopUpConfirm {
                account,
                amount,
                notice: None,
            },
            Purpose::AcceptRequest { requests, request }
            | Purpose::DeclineRequest { requests, request } => State::RequestChoice {
                requests,
                request,
                notice: None,
            },
        },
        State::Pin { purpose, .. } => {
            let Some(pin) = PinEntry::parse(input) else {
                return Next::State(State::Pin {
                    purpose,
                    notice: Some(Notice::PinFormat),
                });
            };
            let action = match &purpose {
                Purpose::Balance => Action::Balance { pin: pin.clone() },
                Purpose::Operations => Action::LastOperations { pin: pin.clone() },
                Purpose::ChangePin => Action::CheckPin { pin: pin.clone() },
                Purpose::Transfer { to, amount } => Action::Transfer {
                    to: to.phone.clone(),
                    amount: *amount,
                    pin: pin.clone(),
                },
                Purpose::Bill { biller, bill, .. } => Action::PayBill {
                    biller_id: biller.id.clone(),
                    reference: bill.reference.clone(),
                    pin: pin.clone(),
                },
                Purpose::TopUp { account, amount } => Action::TopUp {
                    account: account.clone(),
                    amount: *amount,
                    pin: pin.clone(),
                },
                Purpose::AcceptRequest { request, .. } => Action::AcceptRequest {
                    id: request.id.clone(),
                    pin: pin.clone(),
                },
                Purpose::DeclineRequest { request, .. } => Action::DeclineRequest {
                    id: request.id.clone(),
                    pin: pin.clone(),
                },
            };
            return act(answers, index, action, |outcome| {
                after_pin(purpose, pin, outcome)
            });
        }
        State::TransferPhone(_) if back => State::Main(None),
        State::TransferPhone(_) => {
            let Ok(phone) = PhoneNumber::parse(input) else {
                return Next::State(State::TransferPhone(Some(Notice::InvalidPhone)));
            };
            let action = Action::LookupRecipient {
                phone: phone.clone(),
            };
            return act(answers, index, action, |outcome| match outcome {
                Outcome::Recipient { name } => State::TransferCurrency {
                    to: Recipient {
                        phone,
                        name: clip(name, NAME_CHARS_MAX),
                    },
                    notice: None,
                },
                Outcome::Refused { reason } => {
                    State::TransferPhone(Some(Notice::Refused(reason.clone())))
                }
                other => ended_by(other, QUERY),
            });
        }
        State::TransferCurrency { .. } if back => State::TransferPhone(None),
        State::TransferCurrency { to, .. } => match input {
            "1" | "2" => State::TransferAmount {
                to,
                currency: if input == "1" {
                    Currency::Cup
                } else {
                    Currency::Usd
                },
                notice: None,
            },
            _ => State::TransferCurrency { to, notice: again },
        },
        State::TransferAmount { to, .. } if back => State::TransferCurrency { to, notice: None },
        State::TransferAmount { to, currency, .. } => match Money::parse(input, currency) {
            Ok(amount) => State::TransferConfirm {
                to,
                amount,
                notice: None,
            },
            Err(error) => State::TransferAmount {
                to,
                currency,
                notice: Some(Notice::InvalidAmount(error)),
            },
        },
        State::TransferConfirm { to, amount, .. } => match input {
            "1" => pin_prompt(Purpose::Transfer { to, amount }),
            "0" => State::TransferAmount {
                to,
                currency: amount.currency,
                notice: None,
            },
            _ => State::TransferConfirm {
                to,
                amount,
                notice: again,
            },
        },
        State::Billers { .. } if back => State::Main(None),
        State::Billers { billers, .. } => {
            let chosen = input
                .parse::<usize>()
                .ok()
                .and_then(|number| number.checked_sub(1))
                .and_then(|position| billers.get(position))
                .cloned();
            match chosen {
                Some(biller) => State::BillReference {
                    billers,
                    biller,
                    notice: None,
                },
                None => State::Billers {
                    billers,
                    notice: again,
                },
            }
        }
        State::BillReference { billers, .. } if back => State::Billers {
            billers,
            notice: None,
        },
        State::BillReference {
            billers, biller, ..
        } => {
            if input.is_empty() || input.chars().count() > REFERENCE_CHARS_MAX {
                return Next::State(State::BillReference {
                    billers,
                    biller,
                    notice: Some(Notice::EmptyReference),
                });
            }
            let reference = input.to_owned();
            let action = Action::FindBill {
                biller_id: biller.id.clone(),
                reference: reference.clone(),
            };
            return act(answers, index, action, |outcome| match outcome {
                Outcome::Bill {
                    customer,
                    currency,
                    amount_minor,
                } => State::BillConfirm {
                    billers,
                    biller,
                    bill: Bill {
                        reference,
                        customer: clip(customer, NAME_CHARS_MAX),
                        amount: Money::from_minor(*amount_minor, *currency),
                    },
                    notice: None,
                },
                Outcome::Refused { reason } => State::BillReference {
                    billers,
                    biller,
                    notice: Some(Notice::Refused(reason.clone())),
                },
                other => ended_by(other, QUERY),
            });
        }
        State::BillConfirm {
            billers,
            biller,
            bill,
            ..
        } => match input {
            "1" => pin_prompt(Purpose::Bill {
                billers,
                biller,
                bill,
            }),
            "0" => State::BillReference {
                billers,
                biller,
                notice: None,
            },
            _ => State::BillConfirm {
                billers,
                biller,
                bill,
                notice: again,
            },
        },
        State::TopUpService(_) => match input {
            "0" => State::Main(None),
            "1" => State::TopUpAccount {
                service: TopUpService::Mobile,
                notice: None,
            },
            "2" => State::TopUpAccount {
                service: TopUpService::Nauta,
                notice: None,
            },
            _ => State::TopUpService(again),
        },
        State::TopUpAccount { .. } if back => State::TopUpService(None),
        State::TopUpAccount { service, .. } => {
            let account = match service {
                TopUpService::Mobile => PhoneNumber::parse(input).ok().map(TopUpAccount::Mobile),
                TopUpService::Nauta => NautaAccount::parse(input).ok().map(TopUpAccount::Nauta),
            };
            match account {
                Some(account) => State::TopUpAmount {
                    account,
                    notice: None,
                },
                None => State::TopUpAccount {
                    service,
                    notice: Some(Notice::InvalidAccount(service)),
                },
            }
        }
        State::TopUpAmount { account, .. } if back => State::TopUpAccount {
            service: account.service(),
            notice: None,
        },
        State::TopUpAmount { account, .. } => match Money::parse(input, Currency::Cup) {
            Ok(amount) => State::TopUpConfirm {
                account,
                amount,
                notice: None,
            },
            Err(error) => State::TopUpAmount {
                account,
                notice: Some(Notice::InvalidAmount(error)),
            },
        },
        State::TopUpConfirm {
            account, amount, ..
        } => match input {
            "1" => pin_prompt(Purpose::TopUp { account, amount }),
            "0" => State::TopUpAmount {
                account,
                notice: None,
            },
            _ => State::TopUpConfirm {
                account,
                amount,
                notice: again,
            },
        },
        State::NewPin { .. } if back => pin_prompt(Purpose::ChangePin),
        State::NewPin { old, .. } => match Pin::parse(input) {
            Err(PinError::WrongLength { .. } | PinError::NotDigits) => State::NewPin {
                old,
                notice: Some(Notice::PinFormat),
            },
            Err(_) => State::NewPin {
                old,
                notice: Some(Notice::GuessablePin),
            },
            Ok(_) if input == old.expose() => State::NewPin {
                old,
                notice: Some(Notice::SamePin),
            },
            Ok(_) => State::RepeatPin {
                old,
                new: input.to_owned(),
                notice: None,
            },
        },
        State::RepeatPin { old, .. } if back => State::NewPin { old, notice: None },
        State::RepeatPin { old, new, .. } => {
            let confirmed = if input == new {
                Pin::parse(&new).ok()
            } else {
                None
            };
            let Some(pin) = confirmed else {
                return Next::State(State::NewPin {
                    old,
                    notice: Some(Notice::PinMismatch),
                });
            };
            let action = Action::ChangePin {
                old: old.clone(),
                new: pin,
            };
            return act(answers, index, action, |outcome| match outcome {
                Outcome::PinChanged => State::Ended(Screen::end(
                    "Su PIN se cambió. Úselo desde ahora en USSD. Le enviamos un SMS de aviso.",
                )),
                Outcome::WrongPin { attempts_left } => State::Pin {
                    purpose: Purpose::ChangePin,
                    notice: Some(Notice::WrongPin {
                        attempts_left: *attempts_left,
                    }),
                },
                other => ended_by(other, "cambiar el PIN"),
            });
        }
    };
    Next::State(state)
}

fn pin_prompt(purpose: Purpose) -> State {
    State::Pin {
        purpose,
        notice: None,
    }
}

/// The state after a PIN-protected action answered.
fn after_pin(purpose: Purpose, pin: PinEntry, outcome: &Outcome) -> State {
    match (purpose, outcome) {
        (purpose, Outcome::WrongPin { attempts_left }) => State::Pin {
            purpose,
            notice: Some(Notice::WrongPin {
                attempts_left: *attempts_left,
            }),
        },
        (Purpose::Balance, Outcome::Balances { balances }) => {
            State::Ended(balances_screen(balances))
        }
        (Purpose::Operations, Outcome::Operations { operations }) => {
            State::Ended(operations_screen(operations))
        }
        (Purpose::ChangePin, Outcome::PinAccepted) => State::NewPin {
            old: pin,
            notice: None,
        },
        (Purpose::Transfer { .. }, Outcome::Completed { receipt }) => {
            State::Ended(done_screen("Enviado", receipt))
        }
        (Purpose::Bill { .. }, Outcome::Completed { receipt }) => {
            State::Ended(done_screen("Pagado", receipt))
        }
        (Purpose::TopUp { .. }, Outcome::Completed { receipt }) => {
            State::Ended(done_screen("Recargado", receipt))
        }
        (Purpose::AcceptRequest { .. }, Outcome::Completed { receipt }) => {
            State::Ended(done_screen("Pagado", receipt))
        }
        (Purpose::DeclineRequest { request, .. }, Outcome::Declined) => {
            State::Ended(Screen::end(fit(
                &format!(
                    "Rechazó la solicitud de {}",
                    clip(&request.from, NAME_CHARS_MAX)
                ),
                ". No se movió dinero.",
            )))
        }
        (purpose, other) => ended_by(other, purpose.verb()),
    }
}

impl Purpose {
    /// What failed, after "No se pudo …".
    fn verb(&self) -> &'static str {
        match self {
            Purpose::Balance | Purpose::Operations => QUERY,
            Purpose::ChangePin => "cambiar el PIN",
            Purpose::Transfer { .. } => "enviar",
            Purpose::Bill { .. } => "pagar",
            Purpose::TopUp { .. } => "recargar",
            Purpose::AcceptRequest { .. } => "pagar",
            Purpose::DeclineRequest { .. } => "rechazar",
        }
    }
}

/// The end screen of an outcome that ends the session whatever the action was (a refusal, a
/// lock, a service away), or [`Ending::Invalid`] for an answer that does not fit the action.
fn ended_by(outcome: &Outcome, verb: &str) -> State {
    let screen = match outcome {
        Outcome::Locked { retry_after_s } => {
            let minutes = retry_after_s.div_ceil(60).max(1);
            Screen::end(format!(
                "PIN bloqueado en USSD por intentos fallidos. Pruebe de nuevo en {minutes} min. \
                 No se movió dinero."
            ))
        }
        Outcome::Refused { reason } => Screen::end(fit(
            &format!("No se pudo {verb}: {}", clip(reason, REASON_CHARS_MAX)),
            // A query moves nothing; saying so after it would only puzzle.
            if verb == QUERY {
                ""
            } else {
                "\nNo se movió dinero."
            },
        )),
        Outcome::InProgress => Screen::end(
            "La operación está en curso. Recibirá un SMS con el resultado; no la repita.",
        ),
        Outcome::Unavailable => Ending::Unavailable.screen(),
        _ => return invalid(),
    };
    State::Ended(screen)
}

/// The verb of the actions that only read.
const QUERY: &str = "consultar";

fn not_yet(what: &str) -> Screen {
    Screen::end(format!(
        "{what} por USSD no está disponible todavía. Use la web de Ceiba."
    ))
}

fn balances_screen(balances: &[Balance]) -> Screen {
    let mut text = String::from("Saldo disponible:");
    for balance in balances.iter().take(3) {
        text.push('\n');
        text.push_str(&Money::from_minor(balance.available_minor, balance.currency).to_string());
    }
    Screen::end(text)
}

fn operations_screen(operations: &[OperationLine]) -> Screen {
    if operations.is_empty() {
        return Screen::end("Aún no tiene operaciones.");
    }
    let render = |name_chars_max: usize| {
        let mut text = String::from("Últimas operaciones:");
        for line in operations.iter().take(OPERATIONS_SHOWN_MAX) {
            let amount = Money::from_minor(line.amount_minor, line.currency);
            let sign = if line.sent { '-' } else { '+' };
            let name: String = line
                .counterparty
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .take(name_chars_max)
                .collect();
            text.push_str(&format!(
                "\n{:02}/{:02} {sign}{amount} {}",
                line.day,
                line.month,
                name.trim()
            ));
        }
        text
    };
    // The longest names that let every line fit: names are what gives way.
    let text = (0..=NAME_CHARS_MAX)
        .rev()
        .map(render)
        .find(|text| fits(text))
        .unwrap_or_else(|| render(0));
    Screen::end(text)
}

fn done_screen(verb: &str, receipt: &Receipt) -> Screen {
    let mut tail = format!("\nRecibo: {}", clip(&receipt.code, 20));
    if let Some(balance) = receipt.balance_minor {
        tail.push_str(&format!(
            "\nSaldo: {}",
            Money::from_minor(balance, receipt.currency)
        ));
    }
    tail.push_str("\nLe enviamos un SMS.");
    let counterparty = clip(&receipt.counterparty, NAME_CHARS_MAX);
    // A name cut with "..." needs no full stop after it.
    let stop = if counterparty.ends_with('.') { "" } else { "." };
    Screen::end(fit(
        &format!("{verb} {} a {counterparty}{stop}", receipt.amount()),
        &tail,
    ))
}

fn notice_text(notice: &Notice) -> String {
    match notice {
        Notice::InvalidOption => "Opción no válida.".to_owned(),
        Notice::PinFormat => "El PIN tiene 4 cifras.".to_owned(),
        Notice::WrongPin { attempts_left: 1 } => "PIN incorrecto. Le queda 1 intento.".to_owned(),
        Notice::WrongPin { attempts_left } => {
            format!("PIN incorrecto. Le quedan {attempts_left} intentos.")
        }
        Notice::InvalidPhone => "Número no válido: 8 cifras, empieza por 5.".to_owned(),
        Notice::InvalidAmount(error) => match error {
            AmountError::Zero => "El importe debe ser mayor que cero.",
            AmountError::TooManyDecimals => "Como mucho dos decimales.",
            AmountError::TooLarge => "El importe es demasiado grande.",
            AmountError::Negative => "El importe no puede ser negativo.",
            _ => "Importe no válido: escriba solo cifras.",
        }
        .to_owned(),
        Notice::InvalidAccount(TopUpService::Mobile) => {
            "Número no válido: 8 cifras, empieza por 5.".to_owned()
        }
        Notice::InvalidAccount(TopUpService::Nauta) => {
            "Cuenta no válida: escriba el usuario de Nauta.".to_owned()
        }
        Notice::EmptyReference => "Escriba la referencia que trae la factura.".to_owned(),
        Notice::GuessablePin => "Ese PIN es fácil de adivinar. Elija otro.".to_owned(),
        Notice::SamePin => "El nuevo PIN debe ser distinto del actual.".to_owned(),
        Notice::PinMismatch => "Los PIN no coinciden. Empiece de nuevo.".to_owned(),
        Notice::Refused(reason) => capitalized(&clip(reason, REASON_CHARS_MAX)),
    }
}

/// A reason from a service starts a line on its own: with a capital letter.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// A prompt: the warning line (if any) and `head` may be cut to fit; `tail` (the question and
/// the options) is always whole.
fn prompt(notice: Option<&Notice>, head: &str, tail: &str) -> Screen {
    let warning = notice.map(|notice| format!("{}\n", notice_text(notice)));
    Screen::con(fit(&format!("{}{head}", warning.unwrap_or_default()), tail))
}

const MAIN_MENU: &str = "1 Saldo\n2 Transferir\n3 Pagar factura\n4 Recargar\n5 Últimas \
                         operaciones\n6 Cambiar PIN\n7 Solicitudes de pago";
const BACK: &str = "\n0 Atrás";

fn render(state: &State) -> Screen {
    match state {
        State::Ended(screen) => screen.clone(),
        State::Main(notice) => prompt(notice.as_ref(), "Ceiba Pagos\n", MAIN_MENU),
        State::Pin { purpose, notice } => {
            let (head, question) = match purpose {
                Purpose::Balance => ("Saldo".to_owned(), "\nEscriba su PIN:"),
                Purpose::Operations => ("Últimas operaciones".to_owned(), "\nEscriba su PIN:"),
                Purpose::ChangePin => ("Cambiar PIN".to_owned(), "\nEscriba su PIN actual:"),
                Purpose::Transfer { to, amount } => (
                    format!("Enviar {amount} a {}", to.name),
                    "\nEscriba su PIN para confirmar:",
                ),
                Purpose::Bill { biller, bill, .. } => (
                    format!("Pagar {} a {}", bill.amount, biller.name),
                    "\nEscriba su PIN para confirmar:",
                ),
                Purpose::TopUp { account, amount } => (
                    format!("Recargar {amount} a {}", account.as_str()),
                    "\nEscriba su PIN para confirmar:",
                ),
                Purpose::AcceptRequest { request, .. } => (
                    format!(
                        "Pagar {} a {}",
                        request.amount(),
                        clip(&request.from, NAME_CHARS_MAX)
                    ),
                    "\nEscriba su PIN para confirmar:",
                ),
                Purpose::DeclineRequest { request, .. } => (
                    format!(
                        "Rechazar lo que pide {}",
                        clip(&request.from, NAME_CHARS_MAX)
                    ),
                    "\nEscriba su PIN para confirmar:",
                ),
            };
            prompt(notice.as_ref(), &head, &format!("{question}{BACK}"))
        }
        State::TransferPhone(notice) => prompt(
            notice.as_ref(),
            "Transferir",
            &format!("\nNúmero del destinatario:{BACK}"),
        ),
        State::TransferCurrency { to, notice } => prompt(
            notice.as_ref(),
            &format!("Para: {}", to.name),
            &format!("\nMoneda:\n1 CUP\n2 USD{BACK}"),
        ),
        State::TransferAmount {
            to,
            currency,
            notice,
        } => prompt(
            notice.as_ref(),
            &format!("Para: {}", to.name),
            &format!("\nImporte en {}:{BACK}", currency.code()),
        ),
        State::TransferConfirm { to, amount, notice } => prompt(
            notice.as_ref(),
            &format!("¿Enviar {amount} a {} ({})?", to.name, to.phone.as_e164()),
            &format!("\n1 Confirmar{BACK}"),
        ),
        State::Billers { billers, notice } => {
            let mut list = String::new();
            for (position, biller) in billers.iter().enumerate() {
                list.push_str(&format!(
                    "\n{} {}",
                    position + 1,
                    clip(&biller.name, BILLER_LIST_NAME_CHARS_MAX)
                ));
            }
            prompt(notice.as_ref(), "Pagar factura", &format!("{list}{BACK}"))
        }
        State::BillReference { biller, notice, .. } => prompt(
            notice.as_ref(),
            &clip(&biller.name, NAME_CHARS_MAX),
            &format!("\nReferencia de la factura:{BACK}"),
        ),
        State::BillConfirm {
            biller,
            bill,
            notice,
            ..
        } => prompt(
            notice.as_ref(),
            &format!(
                "{}\n{}\nRef. {}",
                clip(&biller.name, NAME_CHARS_MAX),
                bill.customer,
                bill.reference
            ),
            &format!("\nImporte: {}\n1 Pagar{BACK}", bill.amount),
        ),
        State::TopUpService(notice) => prompt(
            notice.as_ref(),
            "Recargar",
            &format!("\n1 Móvil\n2 Nauta{BACK}"),
        ),
        State::TopUpAccount { service, notice } => {
            let (head, question) = match service {
                TopUpService::Mobile => ("Recarga móvil", "\nNúmero a recargar:"),
                TopUpService::Nauta => ("Recarga Nauta", "\nUsuario de Nauta:"),
            };
            prompt(notice.as_ref(), head, &format!("{question}{BACK}"))
        }
        State::TopUpAmount { account, notice } => prompt(
            notice.as_ref(),
            &format!("Recarga a {}", account.as_str()),
            &format!("\nImporte en CUP:{BACK}"),
        ),
        State::TopUpConfirm {
            account,
            amount,
            notice,
        } => prompt(
            notice.as_ref(),
            &format!("¿Recargar {amount} a {}?", account.as_str()),
            &format!("\n1 Confirmar{BACK}"),
        ),
        State::Requests { requests, notice } => {
            let mut list = String::new();
            for (position, request) in requests.iter().enumerate() {
                list.push_str(&format!(
                    "\n{} {} {}",
                    position + 1,
                    clip(&request.from, REQUEST_LIST_NAME_CHARS_MAX),
                    request.amount()
                ));
            }
            prompt(
                notice.as_ref(),
                "Le piden que pague",
                &format!("{list}{BACK}"),
            )
        }
        State::RequestChoice {
            request, notice, ..
        } => {
            let note = if request.note.trim().is_empty() {
                String::new()
            } else {
                format!("\n{}", request.note.trim())
            };
            prompt(
                notice.as_ref(),
                &format!(
                    "{} le pide {}{note}",
                    clip(&request.from, NAME_CHARS_MAX),
                    request.amount()
                ),
                &format!("\n1 Pagar\n2 Rechazar{BACK}"),
            )
        }
        State::NewPin { notice, .. } => prompt(
            notice.as_ref(),
            "Cambiar PIN",
            &format!("\nNuevo PIN (4 cifras):{BACK}"),
        ),
        State::RepeatPin { notice, .. } => prompt(
            notice.as_ref(),
            "Cambiar PIN",
            &format!("\nRepita el nuevo PIN:{BACK}"),
        ),
    }
}
