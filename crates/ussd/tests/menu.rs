//! The USSD menu through its public API: scripted sessions whose every screen and action are
//! compared with `tests/screens.txt` (rewrite it with `UPDATE_EXPECT=1` and read the diff), an
//! exhaustive walk of every short session and a seeded random walk of long ones, both checking
//! the invariants on every screen: at most 182 characters in Spanish and in ASCII, plain ASCII
//! in the fallback, and no money moved without the PIN typed for it.

use std::fmt::Write as _;

use ceiba_payments::Currency;
use ceiba_ussd::{
    Action, Answer, Balance, Biller, Ending, Features, OperationLine, Outcome, Receipt,
    RequestLine, SCREEN_CHARS_MAX, Screen, Step, split_text, step,
};

/// One input and, when it triggers an action, what the edge answers.
type Turn = (&'static str, Option<Outcome>);

fn action_text(action: &Action) -> String {
    match action {
        Action::LookupRecipient { phone } => format!("LookupRecipient {}", phone.as_e164()),
        Action::Balance { pin } => format!("Balance pin={}", pin.expose()),
        Action::LastOperations { pin } => format!("LastOperations pin={}", pin.expose()),
        Action::Transfer { to, amount, pin } => format!(
            "Transfer to={} amount={} pin={}",
            to.as_e164(),
            amount.ascii(),
            pin.expose()
        ),
        Action::ListBillers => "ListBillers".to_owned(),
        Action::FindBill {
            biller_id,
            reference,
        } => format!("FindBill biller={biller_id} reference={reference}"),
        Action::PayBill {
            biller_id,
            reference,
            pin,
        } => format!(
            "PayBill biller={biller_id} reference={reference} pin={}",
            pin.expose()
        ),
        Action::TopUp {
            account,
            amount,
            pin,
        } => format!(
            "TopUp service={} account={} amount={} pin={}",
            account.service(),
            account.as_str(),
            amount.ascii(),
            pin.expose()
        ),
        Action::CheckPin { pin } => format!("CheckPin pin={}", pin.expose()),
        Action::ChangePin { old, .. } => format!("ChangePin old={}", old.expose()),
        Action::ListRequests => "ListRequests".to_owned(),
        Action::AcceptRequest { id, pin } => format!("AcceptRequest id={id} pin={}", pin.expose()),
        Action::DeclineRequest { id, pin } => {
            format!("DeclineRequest id={id} pin={}", pin.expose())
        }
        other => format!("{other:?}"),
    }
}

/// The invariants every screen keeps.
fn assert_screen(screen: &Screen, context: &str) {
    let ascii = screen.ascii_text();
    assert!(
        screen.text().chars().count() <= SCREEN_CHARS_MAX,
        "{context}: {} characters:\n{}",
        screen.text().chars().count(),
        screen.text()
    );
    assert!(
        ascii.chars().count() <= SCREEN_CHARS_MAX,
        "{context}: ASCII form too long"
    );
    assert!(ascii.is_ascii(), "{context}: not ASCII: {ascii}");
    assert!(!screen.text().trim().is_empty(), "{context}: empty screen");
    let wire = screen.wire(true);
    assert!(wire.starts_with("CON ") || wire.starts_with("END "));
    assert_eq!(wire.starts_with("END "), screen.is_end());
}

/// The invariants every action keeps: an action that moves money, reads the wallet or changes
/// the PIN carries the PIN typed as the very input that asked for it.
fn assert_action(action: &Action, at_input: usize, inputs: &[&str], context: &str) {
    assert!(at_input < inputs.len(), "{context}: action past the inputs");
    let needs_pin = matches!(
        action,
        Action::Transfer { .. }
            | Action::PayBill { .. }
            | Action::TopUp { .. }
            | Action::Balance { .. }
            | Action::LastOperations { .. }
            | Action::CheckPin { .. }
            | Action::AcceptRequest { .. }
            | Action::DeclineRequest { .. }
    );
    if needs_pin || action.moves_money() {
        let pin = action.pin().unwrap_or_else(|| panic!("{context}: no PIN"));
        assert_eq!(
            pin.expose(),
            inputs[at_input].trim(),
            "{context}: the PIN is not the input that asked for the action"
        );
    }
    if let Action::ChangePin { old, .. } = action {
        assert!(
            inputs.contains(&old.expose()),
            "{context}: old PIN not typed"
        );
    }
}

/// Plays a session one request at a time, as a gateway would, answering each action from the
/// turn that caused it; returns the transcript.
fn play(features: Features, turns: &[Turn]) -> String {
    let mut transcript = String::new();
    let mut answers: Vec<Answer> = Vec::new();
    let all: Vec<&str> = turns.iter().map(|(input, _)| *input).collect();
    for typed in 0..=turns.len() {
        let inputs = &all[..typed];
        match typed.checked_sub(1) {
            None => transcript.push_str("> (marca)\n"),
            Some(last) => writeln!(transcript, "> {}", all[last]).unwrap(),
        }
        let context = format!("after {inputs:?}");
        let mut actions = 0;
        let screen = loop {
            match step(features, inputs, &answers) {
                Step::Show(screen) => break screen,
                Step::Perform { at_input, action } => {
                    actions += 1;
                    assert!(actions <= 1, "{context}: more than one action per input");
                    assert_action(&action, at_input, inputs, &context);
                    writeln!(transcript, "! {}", action_text(&action)).unwrap();
                    let outcome = turns[at_input]
                        .1
                        .clone()
                        .unwrap_or_else(|| panic!("{context}: unexpected {action:?}"));
                    answers.push(Answer { at_input, outcome });
                }
            }
        };
        assert_screen(&screen, &context);
        writeln!(transcript, "{}", screen.wire(false)).unwrap();
        if screen.is_end() && typed < turns.len() {
            transcript.push_str("(la sesión terminó; lo demás se ignora)\n");
            break;
        }
    }
    transcript
}

fn receipt(counterparty: &str, amount_minor: u64, balance_minor: Option<u64>) -> Outcome {
    Outcome::Completed {
        receipt: Receipt {
            code: "7KQ2M-9XD4T".to_owned(),
            currency: Currency::Cup,
            amount_minor,
            counterparty: counterparty.to_owned(),
            balance_minor,
        },
    }
}

fn recipient(name: &str) -> Option<Outcome> {
    Some(Outcome::Recipient {
        name: name.to_owned(),
    })
}

fn refused(reason: &str) -> Option<Outcome> {
    Some(Outcome::Refused {
        reason: reason.to_owned(),
    })
}

fn billers() -> Vec<Biller> {
    [
        ("une", "Electricidad (UNE)"),
        ("aguas", "Aguas de La Habana"),
        ("etecsa", "Teléfono fijo (ETECSA)"),
        ("onat", "ONAT: impuestos y contribuciones"),
    ]
    .into_iter()
    .map(|(id, name)| Biller {
        id: id.to_owned(),
        name: name.to_owned(),
    })
    .collect()
}

fn requests() -> Outcome {
    Outcome::Requests {
        requests: vec![
            RequestLine {
                id: "req-1".to_owned(),
                from: "Ana Pérez".to_owned(),
                currency: Currency::Cup,
                amount_minor: 8_000,
                note: "Almuerzo del viernes".to_owned(),
            },
            RequestLine {
                id: "req-2".to_owned(),
                from: "Paladar La Bodeguita del Medio".to_owned(),
                currency: Currency::Cup,
                amount_minor: 125_050,
                note: String::new(),
            },
        ],
    }
}

fn operations(names: &[&str]) -> Option<Outcome> {
    Some(Outcome::Operations {
        operations: names
            .iter()
            .enumerate()
            .map(|(index, name)| OperationLine {
                day: 28,
                month: 11,
                sent: index % 2 == 0,
                currency: if index == 3 {
                    Currency::Usd
                } else {
                    Currency::Cup
                },
                amount_minor: 15_000 * (index as u64 + 1) + 50,
                counterparty: (*name).to_owned(),
            })
            .collect(),
    })
}

const LONG_NAME: &str = "María de los Ángeles Hernández Rodríguez de la Caridad Peñalver y Güell";

/// Every scripted session, by name.
fn scenarios() -> Vec<(&'static str, Features, Vec<Turn>)> {
    let all = Features::ALL;
    vec![
        (
            "invalid choices re-prompt and 0 goes back",
            all,
            vec![
                ("9", None),
                ("", None),
                ("1", None),
                ("0", None),
                ("x", None),
            ],
        ),
        (
            "balance",
            all,
            vec![
                ("1", None),
                (
                    "2468",
                    Some(Outcome::Balances {
                        balances: vec![
                            Balance {
                                currency: Currency::Cup,
                                available_minor: 123_450,
                            },
                            Balance {
                                currency: Currency::Usd,
                                available_minor: 0,
                            },
                        ],
                    }),
                ),
                ("1", None),
            ],
        ),
        (
            "a mistyped PIN is re-prompted, a wrong one counts, the third locks",
            all,
            vec![
                ("1", None),
                ("12", None),
                ("1111", Some(Outcome::WrongPin { attempts_left: 2 })),
                ("1112", Some(Outcome::WrongPin { attempts_left: 1 })),
                ("1113", Some(Outcome::Locked { retry_after_s: 900 })),
            ],
        ),
        (
            "transfer with the name to confirm and the PIN",
            all,
            vec![
                ("2", None),
                ("51234567", recipient("Ana Pérez")),
                ("1", None),
                ("150", None),
                ("1", None),
                ("2468", Some(receipt("Ana Pérez", 15_000, Some(108_450)))),
            ],
        ),
        (
            "transfer: back at every step, refusals re-prompt, the ledger refuses",
            all,
            vec![
                ("2", None),
                ("0", None),
                ("2", None),
                ("5123", None),
                (
                    "52222222",
                    refused("No hay ninguna cuenta activa con ese número de teléfono."),
                ),
                ("51234567", recipient("Ana Pérez")),
                ("0", None),
                ("51234567", recipient("Ana Pérez")),
                ("3", None),
                ("2", None),
                ("0", None),
                ("1", None),
                ("abc", None),
                ("0,001", None),
                ("0", None),
                ("1", None),
                ("150", None),
                ("0", None),
                ("150", None),
                ("1", None),
                ("0", None),
                ("1", None),
                (
                    "2468",
                    refused("Saldo insuficiente: tiene 100,00 CUP disponibles."),
                ),
            ],
        ),
        (
            "transfer still in progress",
            all,
            vec![
                ("2", None),
                ("51234567", recipient("Ana")),
                ("2", None),
                ("20", None),
                ("1", None),
                ("2468", Some(Outcome::InProgress)),
            ],
        ),
        (
            "a long name is cut, the options never are",
            all,
            vec![
                ("2", None),
                ("+53 5123 4567", recipient(LONG_NAME)),
                ("1", None),
                ("999999999.99", None),
                ("1", None),
                ("2468", Some(receipt(LONG_NAME, 99_999_999_999, Some(0)))),
            ],
        ),
        (
            "pay a bill",
            all,
            vec![
                ("3", Some(Outcome::Billers { billers: billers() })),
                ("7", None),
                ("1", None),
                ("", None),
                (
                    "12345",
                    refused("No hay ninguna factura con esa referencia."),
                ),
                (
                    "12346",
                    Some(Outcome::Bill {
                        customer: "José Martí Pérez".to_owned(),
                        currency: Currency::Cup,
                        amount_minor: 24_530,
                    }),
                ),
                ("1", None),
                ("2468", Some(receipt("Electricidad (UNE)", 24_530, None))),
            ],
        ),
        (
            "bills: back from the reference to the list and to the menu",
            all,
            vec![
                ("3", Some(Outcome::Billers { billers: billers() })),
                ("4", None),
                ("0", None),
                ("0", None),
                ("3", Some(Outcome::Billers { billers: vec![] })),
            ],
        ),
        (
            "bills and top-ups not offered by this server",
            Features {
                bills: false,
                top_ups: false,
            },
            vec![("3", None)],
        ),
        (
            "top-ups not offered by this server",
            Features {
                bills: false,
                top_ups: false,
            },
            vec![("4", None)],
        ),
        (
            "top up a mobile line",
            all,
            vec![
                ("4", None),
                ("1", None),
                ("51234567", None),
                ("250", None),
                ("1", None),
                ("2468", Some(receipt("+5351234567", 25_000, Some(10_000)))),
            ],
        ),
        (
            "top up Nauta: refused by the operator's rules",
            all,
            vec![
                ("4", None),
                ("3", None),
                ("2", None),
                ("pepe@gmail.com", None),
                ("pepe", None),
                ("0", None),
                ("pepe", None),
                ("5000", None),
                ("1", None),
                (
                    "2468",
                    refused("la recarga Nauta debe estar entre 25,00 CUP y 2.000,00 CUP"),
                ),
            ],
        ),
        (
            "last operations",
            all,
            vec![
                ("5", None),
                (
                    "2468",
                    operations(&[
                        "Ana Pérez",
                        LONG_NAME,
                        "BANDEC",
                        "Electricidad (UNE)",
                        "Luis",
                    ]),
                ),
            ],
        ),
        (
            "no operations yet",
            all,
            vec![("5", None), ("2468", operations(&[]))],
        ),
        (
            "change the PIN",
            all,
            vec![
                ("6", None),
                ("2468", Some(Outcome::PinAccepted)),
                ("1234", None),
                ("2468", None),
                ("135", None),
                ("1357", None),
                ("1358", None),
                ("0", None),
                ("2468", Some(Outcome::PinAccepted)),
                ("1357", None),
                ("1357", Some(Outcome::PinChanged)),
            ],
        ),
        (
            "change the PIN: a wrong current PIN counts",
            all,
            vec![
                ("6", None),
                ("9999", Some(Outcome::WrongPin { attempts_left: 1 })),
                ("9998", Some(Outcome::Locked { retry_after_s: 61 })),
            ],
        ),
        (
            "the service away",
            all,
            vec![("5", None), ("2468", Some(Outcome::Unavailable))],
        ),
        (
            "an answer that does not fit its action",
            all,
            vec![("1", None), ("2468", Some(Outcome::PinChanged))],
        ),
        (
            "requests to pay: one paid, with the PIN",
            all,
            vec![
                ("7", Some(requests())),
                ("3", None),
                ("2", None),
                ("x", None),
                ("0", None),
                ("1", None),
                ("1", None),
                ("2468", Some(receipt("Ana Pérez", 8_000, Some(42_000)))),
            ],
        ),
        (
            "requests to pay: one declined",
            all,
            vec![
                ("7", Some(requests())),
                ("2", None),
                ("2", None),
                ("2468", Some(Outcome::Declined)),
            ],
        ),
        (
            "requests to pay: none waiting",
            all,
            vec![("7", Some(Outcome::Requests { requests: vec![] }))],
        ),
        (
            "a shortcut dial (*234*1#) starts with an input",
            all,
            vec![("1", None)],
        ),
    ]
}

fn transcripts() -> String {
    let mut text = String::from(
        "# Every screen of the scripted sessions in tests/menu.rs. `>` is what the person typed,\n\
         # `!` the action the edge performed. Rewrite with UPDATE_EXPECT=1 and read the diff.\n",
    );
    for (name, features, turns) in scenarios() {
        writeln!(text, "\n== {name}").unwrap();
        text.push_str(&play(features, &turns));
    }
    for ending in Ending::ALL {
        writeln!(text, "\n== {ending:?}").unwrap();
        let screen = ending.screen();
        assert_screen(&screen, &format!("{ending:?}"));
        writeln!(text, "{}", screen.wire(false)).unwrap();
    }
    text
}

#[test]
fn scripted_sessions_match_the_snapshot() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/screens.txt");
    let actual = transcripts();
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &actual).expect("the snapshot is writable");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if actual != expected {
        let first = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or(actual.lines().count().min(expected.lines().count()));
        panic!(
            "screens differ from tests/screens.txt at line {} (UPDATE_EXPECT=1 rewrites it):\n\
             actual:   {:?}\nexpected: {:?}",
            first + 1,
            actual.lines().nth(first),
            expected.lines().nth(first)
        );
    }
}

/// A small deterministic generator (xorshift64*), so that a failure replays from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let index = usize::try_from(self.next() % items.len() as u64).unwrap_or(0);
        &items[index]
    }
}

/// Inputs that reach every branch: options, back, PINs good and guessable, numbers, amounts,
/// accounts, garbage, and the longest input a session admits.
const VOCABULARY: &[&str] = &[
    "",
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "7",
    "x",
    "2468",
    "1357",
    "1234",
    "12",
    "51234567",
    "+53 5999 9999",
    "150",
    "0,001",
    "999999999.99",
    "pepe",
    "REF-001",
    "ñññññññññññññññññññññññññññññññññññññññññññññññññññññññññññññññññññññññññññññññ",
];

/// The inputs of the exhaustive walk: one of each kind, so that 13⁴ sessions reach every
/// screen four inputs deep.
const SHORT_VOCABULARY: &[&str] = &[
    "", "0", "1", "2", "3", "4", "5", "6", "7", "x", "2468", "1234", "51234567", "pepe",
];

/// Every outcome an action may get, with the longest and oddest texts the edge could send.
fn outcomes_for(action: &Action) -> Vec<Outcome> {
    let long = "Ñandú ".repeat(40);
    let mut common = vec![
        Outcome::Refused {
            reason: long.clone(),
        },
        Outcome::Unavailable,
        Outcome::WrongPin { attempts_left: 2 },
        Outcome::Locked {
            retry_after_s: 86_400,
        },
        Outcome::InProgress,
        Outcome::PinChanged,
    ];
    let specific = match action {
        Action::LookupRecipient { .. } => vec![Outcome::Recipient {
            name: format!("{long}😀\n…"),
        }],
        Action::ListBillers => vec![
            Outcome::Billers {
                billers: (0..12)
                    .map(|index| Biller {
                        id: format!("b{index}"),
                        name: format!("{index} {long}"),
                    })
                    .collect(),
            },
            Outcome::Billers { billers: vec![] },
        ],
        Action::FindBill { .. } => vec![Outcome::Bill {
            customer: long.clone(),
            currency: Currency::Cup,
            amount_minor: 100_000_000_000,
        }],
        Action::Balance { .. } => vec![Outcome::Balances {
            balances: vec![
                Balance {
                    currency: Currency::Cup,
                    available_minor: 100_000_000_000,
                };
                5
            ],
        }],
        Action::LastOperations { .. } => vec![Outcome::Operations {
            operations: vec![
                OperationLine {
                    day: 31,
                    month: 12,
                    sent: true,
                    currency: Currency::Mlc,
                    amount_minor: 100_000_000_000,
                    counterparty: long.clone(),
                };
                9
            ],
        }],
        Action::CheckPin { .. } => vec![Outcome::PinAccepted],
        Action::ListRequests => vec![
            Outcome::Requests {
                requests: (0..9)
                    .map(|index| RequestLine {
                        id: format!("r{index}"),
                        from: format!("{index} {long}"),
                        currency: Currency::Usd,
                        amount_minor: 100_000_000_000,
                        note: long.clone(),
                    })
                    .collect(),
            },
            Outcome::Requests { requests: vec![] },
        ],
        Action::DeclineRequest { .. } => vec![Outcome::Declined],
        _ => vec![Outcome::Completed {
            receipt: Receipt {
                code: "X".repeat(64),
                currency: Currency::Usd,
                amount_minor: 100_000_000_000,
                counterparty: long.clone(),
                balance_minor: Some(100_000_000_000),
            },
        }],
    };
    common.extend(specific);
    common
}

/// Runs one session request by request, choosing outcomes with `rng`; checks every screen and
/// action. Returns how many screens it checked.
fn walk(inputs: &[&str], rng: &mut Rng) -> usize {
    let mut answers: Vec<Answer> = Vec::new();
    let mut screens = 0;
    for typed in 0..=inputs.len() {
        let prefix = &inputs[..typed];
        let context = format!("{prefix:?} with {answers:?}");
        let mut actions = 0;
        let screen = loop {
            match step(Features::ALL, prefix, &answers) {
                Step::Show(screen) => break screen,
                Step::Perform { at_input, action } => {
                    actions += 1;
                    assert!(actions <= 1, "{context}: two actions for one input");
                    assert_eq!(at_input, typed - 1, "{context}: an old input acted again");
                    assert_action(&action, at_input, prefix, &context);
                    let outcome = rng.pick(&outcomes_for(&action)).clone();
                    answers.push(Answer { at_input, outcome });
                }
            }
        };
        assert_screen(&screen, &context);
        screens += 1;
        if screen.is_end() {
            break;
        }
    }
    screens
}

#[test]
fn every_session_of_up_to_four_inputs_keeps_the_invariants() {
    let mut rng = Rng(0x5EED_0001);
    let mut screens = 0;
    let mut inputs: Vec<&str> = Vec::new();
    // Depth-first over VOCABULARY⁴; prefixes are sessions too.
    fn visit(inputs: &mut Vec<&'static str>, depth: usize, rng: &mut Rng, screens: &mut usize) {
        *screens += walk(inputs, rng);
        if depth == 0 {
            return;
        }
        for input in SHORT_VOCABULARY {
            inputs.push(input);
            visit(inputs, depth - 1, rng, screens);
            inputs.pop();
        }
    }
    visit(&mut inputs, 4, &mut rng, &mut screens);
    assert!(screens > 20_000, "{screens}");
}

#[test]
fn long_random_sessions_keep_the_invariants() {
    let seed = std::env::var("CEIBA_USSD_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x5EED_0002_u64);
    let mut rng = Rng(seed.max(1));
    for _ in 0..3_000 {
        let length = usize::try_from(rng.next() % 25).unwrap_or(0);
        let inputs: Vec<&str> = (0..length).map(|_| *rng.pick(VOCABULARY)).collect();
        walk(&inputs, &mut rng);
    }
}

#[test]
fn text_splits_into_inputs_within_limits() {
    assert_eq!(split_text(""), Ok(vec![]));
    assert_eq!(split_text("1"), Ok(vec!["1"]));
    assert_eq!(split_text("2* 51234567 *1"), Ok(vec!["2", "51234567", "1"]));
    assert_eq!(split_text("1**"), Ok(vec!["1", "", ""]));
    let many = vec!["1"; ceiba_ussd::INPUTS_MAX + 1].join("*");
    assert_eq!(split_text(&many), Err(Ending::TooLong));
    let long = "9".repeat(ceiba_ussd::INPUT_CHARS_MAX + 1);
    assert_eq!(split_text(&long), Err(Ending::TooLong));
    let inputs = vec!["0"; ceiba_ussd::INPUTS_MAX + 1];
    let Step::Show(screen) = step(Features::ALL, &inputs, &[]) else {
        panic!("too many inputs end the session")
    };
    assert_eq!(screen, Ending::TooLong.screen());
}

#[test]
fn answers_survive_storage_as_json() {
    let answers = vec![
        Answer {
            at_input: 1,
            outcome: Outcome::Recipient {
                name: "Ana Pérez".to_owned(),
            },
        },
        Answer {
            at_input: 5,
            outcome: Outcome::WrongPin { attempts_left: 2 },
        },
        Answer {
            at_input: 6,
            outcome: receipt("Ana", 100, Some(5)),
        },
    ];
    let json = serde_json::to_string(&answers).expect("answers serialize");
    assert!(json.contains(r#""outcome":"wrong_pin""#), "{json}");
    assert!(json.contains(r#""currency":"CUP""#), "{json}");
    let back: Vec<Answer> = serde_json::from_str(&json).expect("answers deserialize");
    assert_eq!(back, answers);
}

#[test]
fn a_pin_never_shows_in_debug_output() {
    let Step::Perform { action, .. } = step(Features::ALL, &["1", "2468"], &[]) else {
        panic!("a balance is an action")
    };
    let debug = format!("{action:?}");
    assert!(!debug.contains("2468"), "{debug}");
    assert!(debug.contains("••••"), "{debug}");
}

#[test]
fn the_same_inputs_and_answers_give_the_same_step() {
    let inputs = ["2", "51234567", "1", "150", "1", "2468"];
    let answers = [Answer {
        at_input: 1,
        outcome: Outcome::Recipient {
            name: "Ana".to_owned(),
        },
    }];
    let first = format!("{:?}", step(Features::ALL, &inputs, &answers));
    let again = format!("{:?}", step(Features::ALL, &inputs, &answers));
    assert_eq!(first, again);
    assert!(first.starts_with("Perform { at_input: 5"), "{first}");
}
