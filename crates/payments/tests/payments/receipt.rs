//! Receipt codes: ten Crockford base32 characters that prove an operation.

use ceiba_payments::{Currency, Money, OperationKind, ReceiptCode};

const KEY: [u8; 32] = [7; 32];
const AT_MS: i64 = 1_760_000_000_123;

fn amount() -> Money {
    Money::from_minor(123_450, Currency::Cup)
}

fn code() -> ReceiptCode {
    ReceiptCode::compute(&KEY, 42, OperationKind::PersonToPerson, amount(), AT_MS)
}

fn verify(candidate: &str) -> bool {
    ReceiptCode::verify(
        &KEY,
        42,
        OperationKind::PersonToPerson,
        amount(),
        AT_MS,
        candidate,
    )
}

const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#[test]
fn shape() {
    let code = code();
    let text = code.as_str();
    assert_eq!(text.len(), 11);
    assert_eq!(&text[5..6], "-");
    assert!(
        text.chars()
            .filter(|c| *c != '-')
            .all(|c| ALPHABET.contains(c)),
        "{text}"
    );
    assert_eq!(code.to_string(), text);
    assert_eq!(code, self::code(), "deterministic");
}

#[test]
fn verifies_as_people_type_it() {
    let code = code();
    let text = code.as_str();
    assert!(verify(text));
    assert!(verify(&text.to_lowercase()));
    assert!(verify(&text.replace('-', "")));
    assert!(verify(&format!(" {} ", text.replace('-', " "))));
    assert!(!verify(""));
    assert!(!verify(&text[..10]));
    assert!(!verify(&format!("{text}0")));
    assert!(!verify(&format!("{text}!")));
    assert!(!verify(&"0".repeat(1_000)));
}

#[test]
fn any_one_character_changed_fails() {
    let text = code().as_str().to_owned();
    for position in (0..text.len()).filter(|&position| position != 5) {
        let original = text.as_bytes()[position];
        for replacement in ALPHABET.bytes().filter(|b| *b != original) {
            let mut changed = text.clone().into_bytes();
            changed[position] = replacement;
            let changed = String::from_utf8(changed).expect("ascii");
            assert!(!verify(&changed), "{changed} passed for {text}");
        }
    }
}

#[test]
fn every_field_is_covered() {
    let base = code();
    let others = [
        ReceiptCode::compute(&[8; 32], 42, OperationKind::PersonToPerson, amount(), AT_MS),
        ReceiptCode::compute(&KEY, 43, OperationKind::PersonToPerson, amount(), AT_MS),
        ReceiptCode::compute(&KEY, 42, OperationKind::CashIn, amount(), AT_MS),
        ReceiptCode::compute(
            &KEY,
            42,
            OperationKind::PersonToPerson,
            Money::from_minor(123_451, Currency::Cup),
            AT_MS,
        ),
        ReceiptCode::compute(
            &KEY,
            42,
            OperationKind::PersonToPerson,
            Money::from_minor(123_450, Currency::Usd),
            AT_MS,
        ),
        ReceiptCode::compute(&KEY, 42, OperationKind::PersonToPerson, amount(), AT_MS + 1),
    ];
    for other in others {
        assert_ne!(other, base);
        assert!(!verify(other.as_str()));
    }
}
