//! Amounts as people type them, and as they are written back.

use ceiba_payments::{AmountError, Currency, CurrencyError, Money};

/// Parses `input` as CUP and writes what came out: the Spanish form and the ASCII form, or the
/// error's variant.
fn render(input: &str) -> String {
    match Money::parse(input, Currency::Cup) {
        Ok(money) => format!("{money} | {}", money.ascii()),
        Err(error) => format!("{error:?}"),
    }
}

#[test]
fn parse_table() {
    let table: &[(&str, &str)] = &[
        // Accepted.
        ("12", "12,00 CUP | 12.00 CUP"),
        ("12.5", "12,50 CUP | 12.50 CUP"),
        ("12.50", "12,50 CUP | 12.50 CUP"),
        ("12,50", "12,50 CUP | 12.50 CUP"),
        ("12,5", "12,50 CUP | 12.50 CUP"),
        ("0,01", "0,01 CUP | 0.01 CUP"),
        ("0.1", "0,10 CUP | 0.10 CUP"),
        ("  7 ", "7,00 CUP | 7.00 CUP"),
        ("\t1500,75\n", "1.500,75 CUP | 1500.75 CUP"),
        ("007", "7,00 CUP | 7.00 CUP"),
        ("1234,50", "1.234,50 CUP | 1234.50 CUP"),
        ("80000", "80.000,00 CUP | 80000.00 CUP"),
        ("999999999.99", "999.999.999,99 CUP | 999999999.99 CUP"),
        ("1000000000", "1.000.000.000,00 CUP | 1000000000.00 CUP"),
        ("1000000000.00", "1.000.000.000,00 CUP | 1000000000.00 CUP"),
        // Empty.
        ("", "Empty"),
        ("   ", "Empty"),
        // Not a number.
        ("abc", "NotANumber"),
        ("12a", "NotANumber"),
        ("+5", "NotANumber"),
        ("1e3", "NotANumber"),
        ("1.234,50", "NotANumber"),
        ("1,234.50", "NotANumber"),
        ("1.234.567", "NotANumber"),
        ("1 234", "NotANumber"),
        ("12.", "NotANumber"),
        (".5", "NotANumber"),
        (",5", "NotANumber"),
        ("-", "NotANumber"),
        ("--5", "NotANumber"),
        ("- 5", "NotANumber"),
        ("5 CUP", "NotANumber"),
        ("١٢", "NotANumber"),
        ("１２", "NotANumber"),
        ("0x10", "NotANumber"),
        ("NaN", "NotANumber"),
        // Negative.
        ("-5", "Negative"),
        ("-0,50", "Negative"),
        (" -12.5 ", "Negative"),
        // Zero.
        ("0", "Zero"),
        ("0,00", "Zero"),
        ("000.0", "Zero"),
        // Too many decimals (also what a thousands separator looks like on its own).
        ("12.345", "TooManyDecimals"),
        ("1.000", "TooManyDecimals"),
        ("0,001", "TooManyDecimals"),
        ("1,2345", "TooManyDecimals"),
        // Too large: the boundary is 1,000,000,000.00.
        ("1000000000.01", "TooLarge"),
        ("1000000001", "TooLarge"),
        ("99999999999999999999999999", "TooLarge"),
        ("184467440737095516", "TooLarge"),
    ];
    let mut failures = Vec::new();
    for (input, expected) in table {
        let actual = render(input);
        if actual != *expected {
            failures.push(format!("{input:?}: expected {expected}, got {actual}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_refusal_has_a_spanish_message() {
    let cases = [
        (AmountError::Empty, "falta el importe"),
        (AmountError::NotANumber, "no es un número"),
        (AmountError::Negative, "no puede ser negativo"),
        (AmountError::Zero, "mayor que cero"),
        (AmountError::TooManyDecimals, "dos decimales"),
        (AmountError::TooLarge, "1.000.000.000,00"),
    ];
    for (error, fragment) in cases {
        let message = error.to_string();
        assert!(message.contains(fragment), "{error:?}: {message}");
    }
}

#[test]
fn display_and_ascii() {
    let table: &[(u64, Currency, &str, &str)] = &[
        (0, Currency::Cup, "0,00 CUP", "0.00 CUP"),
        (1, Currency::Usd, "0,01 USD", "0.01 USD"),
        (10, Currency::Mlc, "0,10 MLC", "0.10 MLC"),
        (100, Currency::Cup, "1,00 CUP", "1.00 CUP"),
        (123_450, Currency::Cup, "1.234,50 CUP", "1234.50 CUP"),
        (100_000, Currency::Usd, "1.000,00 USD", "1000.00 USD"),
        (12_000_000, Currency::Cup, "120.000,00 CUP", "120000.00 CUP"),
        (
            100_000_000_000,
            Currency::Cup,
            "1.000.000.000,00 CUP",
            "1000000000.00 CUP",
        ),
    ];
    for &(minor, currency, spanish, ascii) in table {
        let money = Money::from_minor(minor, currency);
        assert_eq!(money.to_string(), spanish);
        assert_eq!(money.ascii(), ascii);
        assert!(money.ascii().is_ascii());
    }
}

#[test]
fn display_parses_back() {
    for minor in [1, 99, 100, 12_345, 8_000_000, 99_999_999_999] {
        let money = Money::from_minor(minor, Currency::Usd);
        let spanish = money.to_string().replace('.', "").replace(" USD", "");
        assert_eq!(Money::parse(&spanish, Currency::Usd), Ok(money));
        let ascii = money.ascii().replace(" USD", "");
        assert_eq!(Money::parse(&ascii, Currency::Usd), Ok(money));
    }
}

#[test]
fn currencies() {
    for (code, currency) in [
        ("CUP", Currency::Cup),
        ("usd", Currency::Usd),
        (" Mlc ", Currency::Mlc),
    ] {
        assert_eq!(Currency::parse(code), Ok(currency));
    }
    for currency in Currency::ALL {
        assert_eq!(Currency::parse(currency.code()), Ok(currency));
        assert_eq!(currency.to_string(), currency.code());
        assert_eq!(
            currency.headroom_ledger().0,
            10_000 + currency.ledger().0,
            "{currency:?}"
        );
        let json = serde_json::to_string(&currency).expect("serialises");
        assert_eq!(json, format!("\"{}\"", currency.code()));
        assert_eq!(
            serde_json::from_str::<Currency>(&json).expect("deserialises"),
            currency
        );
    }
    assert_eq!(Currency::Cup.ledger(), ceiba_ledger::LedgerId::CUP);
    assert_eq!(Currency::Usd.ledger(), ceiba_ledger::LedgerId::USD);
    assert_eq!(Currency::Mlc.ledger(), ceiba_ledger::LedgerId::MLC);
    let error = Currency::parse("EUR").expect_err("EUR is not handled");
    assert_eq!(error, CurrencyError::Unknown("EUR".to_owned()));
    assert_eq!(
        error.to_string(),
        "la moneda «EUR» no se admite: use CUP, USD o MLC"
    );
    assert!(serde_json::from_str::<Currency>("\"EUR\"").is_err());
}
