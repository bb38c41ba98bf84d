use ceiba_payments::{AMOUNT_MINOR_MAX, Currency};
use ceiba_ussd::{
    Action, Answer, Balance, Biller, Features, INPUT_CHARS_MAX, INPUTS_MAX, OperationLine, Outcome,
    Receipt, RequestLine, Screen, Step, fits, split_text, step,
};

use crate::input::Unstructured;

/// What a USSD gateway sends (`ceiba_ussd::split_text`, then `step` as the edge drives it).
///
/// The bytes before the first NUL are the gateway's `text` (everything typed, joined by `*`);
/// the bytes after it choose the features offered and the outcome of every action the menu
/// asks for, as the edge would answer it (names and reasons from outside included). Checked:
/// every screen fits in Spanish and in ASCII, no action that reads or moves money comes
/// without its PIN, no input is asked about twice (so a session always reaches a screen), and
/// the same inputs and answers give the same screen.
pub fn ussd_input(data: &[u8]) {
    let (text, choices) = match data.iter().position(|byte| *byte == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let text = String::from_utf8_lossy(text);
    let inputs = match split_text(&text) {
        Ok(inputs) => inputs,
        Err(ending) => {
            check_screen(&ending.screen());
            return;
        }
    };
    assert!(inputs.len() <= INPUTS_MAX);
    assert!(
        inputs
            .iter()
            .all(|input| input.chars().count() <= INPUT_CHARS_MAX)
    );
    let mut choices = Unstructured::new(choices);
    let features = Features {
        bills: choices.bool(),
        top_ups: choices.bool(),
    };
    let mut answers: Vec<Answer> = Vec::new();
    // Each input is answered at most once, so a session needs at most one action per input.
    for _ in 0..=inputs.len() {
        match step(features, &inputs, &answers) {
            Step::Show(screen) => {
                check_screen(&screen);
                let Step::Show(again) = step(features, &inputs, &answers) else {
                    panic!("the same inputs and answers gave an action, then a screen");
                };
                assert_eq!(
                    again, screen,
                    "the same inputs and answers gave two screens"
                );
                return;
            }
            Step::Perform { at_input, action } => {
                assert!(at_input < inputs.len(), "an action for an input not typed");
                assert!(
                    !answers.iter().any(|answer| answer.at_input == at_input),
                    "input {at_input} asked about again after its answer: {action:?}"
                );
                if action.moves_money() || reads_money(&action) {
                    assert!(action.pin().is_some(), "{action:?} without a PIN");
                }
                let outcome = outcome_for(&action, &mut choices);
                answers.push(Answer { at_input, outcome });
            }
        }
    }
    panic!("no screen after an action for every input");
}

fn reads_money(action: &Action) -> bool {
    matches!(
        action,
        Action::Balance { .. } | Action::LastOperations { .. }
    )
}

fn check_screen(screen: &Screen) {
    assert!(fits(screen.text()), "a screen over the limit: {screen:?}");
    assert!(fits(&screen.ascii_text()), "an ASCII screen over the limit");
    assert!(screen.ascii_text().is_ascii());
    let wire = screen.wire(true);
    assert!(wire.starts_with("CON ") || wire.starts_with("END "));
}

fn text(choices: &mut Unstructured<'_>) -> String {
    String::from_utf8_lossy(choices.short_bytes()).into_owned()
}

fn currency(choices: &mut Unstructured<'_>) -> Currency {
    [Currency::Cup, Currency::Usd, Currency::Mlc][choices.below(3)]
}

/// An amount as the ledger holds it: never above what one operation may move.
fn amount_minor(choices: &mut Unstructured<'_>) -> u64 {
    choices.u64() % (AMOUNT_MINOR_MAX + 1)
}

/// An outcome the edge could store for `action`, chosen by the bytes.
fn outcome_for(action: &Action, choices: &mut Unstructured<'_>) -> Outcome {
    // Outcomes any action can meet at the edge.
    match choices.u8() % 8 {
        0 => return Outcome::Unavailable,
        1 if action.pin().is_some() => {
            return Outcome::WrongPin {
                attempts_left: u32::from(choices.u8() % 4),
            };
        }
        2 if action.pin().is_some() => {
            return Outcome::Locked {
                retry_after_s: choices.u64() % 100_000,
            };
        }
        3 => {
            return Outcome::Refused {
                reason: text(choices),
            };
        }
        _ => {}
    }
    let count = |choices: &mut Unstructured<'_>| choices.below(12);
    match action {
        Action::LookupRecipient { .. } => Outcome::Recipient {
            name: text(choices),
        },
        Action::Balance { .. } => Outcome::Balances {
            balances: (0..count(choices))
                .map(|_| Balance {
                    currency: currency(choices),
                    available_minor: amount_minor(choices),
                })
                .collect(),
        },
        Action::LastOperations { .. } => Outcome::Operations {
            operations: (0..count(choices))
                .map(|_| OperationLine {
                    day: choices.u8() % 31 + 1,
                    month: choices.u8() % 12 + 1,
                    sent: choices.bool(),
                    currency: currency(choices),
                    amount_minor: amount_minor(choices),
                    counterparty: text(choices),
                })
                .collect(),
        },
        Action::ListBillers => Outcome::Billers {
            billers: (0..count(choices))
                .map(|_| Biller {
                    id: text(choices),
                    name: text(choices),
                })
                .collect(),
        },
        Action::FindBill { .. } => Outcome::Bill {
            customer: text(choices),
            currency: currency(choices),
            amount_minor: amount_minor(choices),
        },
        Action::Transfer { .. }
        | Action::PayBill { .. }
        | Action::TopUp { .. }
        | Action::AcceptRequest { .. } => {
            if choices.bool() {
                Outcome::InProgress
            } else {
                Outcome::Completed {
                    receipt: Receipt {
                        code: text(choices),
                        currency: currency(choices),
                        amount_minor: amount_minor(choices),
                        counterparty: text(choices),
                        balance_minor: choices.bool().then(|| amount_minor(choices)),
                    },
                }
            }
        }
        Action::CheckPin { .. } => Outcome::PinAccepted,
        Action::ChangePin { .. } => Outcome::PinChanged,
        Action::ListRequests => Outcome::Requests {
            requests: (0..count(choices))
                .map(|_| RequestLine {
                    id: text(choices),
                    from: text(choices),
                    currency: currency(choices),
                    amount_minor: amount_minor(choices),
                    note: text(choices),
                })
                .collect(),
        },
        Action::DeclineRequest { .. } => Outcome::Declined,
        // An action added later meets the outcome every action may meet.
        _ => Outcome::Unavailable,
    }
}
