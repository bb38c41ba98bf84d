//! What a business types to be onboarded: each field parsed, each refusal its own sentence.

use ceiba_payments::accounts;
use ceiba_payments::{BusinessName, CategoryCode, City, Currency, MerchantError, Nit};

#[test]
fn names_and_cities_are_tidied_and_bounded() {
    assert_eq!(
        BusinessName::parse("  Cafetería   La Esquina ")
            .expect("a name")
            .as_str(),
        "Cafetería La Esquina"
    );
    for bad in ["", "   ", "Línea\u{7}rara", &"x".repeat(61)] {
        assert_eq!(
            BusinessName::parse(bad),
            Err(MerchantError::BusinessName),
            "{bad:?}"
        );
    }
    assert!(
        BusinessName::parse(&"ñ".repeat(60)).is_ok(),
        "60 characters, not bytes"
    );
    assert_eq!(
        City::parse("Santiago de Cuba").expect("a city").as_str(),
        "Santiago de Cuba"
    );
    assert_eq!(City::parse(""), Err(MerchantError::City));
}

#[test]
fn a_nit_is_eleven_digits() {
    assert_eq!(
        Nit::parse("0123 4567-890").expect("a NIT").as_str(),
        "01234567890"
    );
    for bad in [
        "",
        "0123456789",
        "012345678901",
        "0123456789a",
        "٠١٢٣٤٥٦٧٨٩٠",
    ] {
        assert_eq!(Nit::parse(bad), Err(MerchantError::Nit), "{bad:?}");
    }
    assert_eq!(
        MerchantError::Nit.to_string(),
        "el NIT debe tener 11 dígitos"
    );
}

#[test]
fn a_category_is_four_digits_with_a_name_when_common() {
    let grocery = CategoryCode::parse("5411").expect("a code");
    assert_eq!(grocery.get(), 5411);
    assert_eq!(grocery.to_string(), "5411");
    assert_eq!(grocery.name_es(), Some("Mercados y tiendas de víveres"));
    let rare = CategoryCode::parse("0742").expect("veterinarians");
    assert_eq!(rare.to_string(), "0742");
    assert_eq!(rare.name_es(), None);
    for bad in ["", "541", "54111", "54a1", "0000", "+541"] {
        assert_eq!(
            CategoryCode::parse(bad),
            Err(MerchantError::Category),
            "{bad:?}"
        );
    }
}

#[test]
fn a_merchant_account_is_its_own_never_negative_with_history() {
    let account = accounts::merchant_account("m-1", Currency::Cup);
    assert_eq!(account.id, accounts::merchant("m-1", Currency::Cup));
    assert_eq!(account.code, accounts::CODE_MERCHANT);
    assert_ne!(account.id, accounts::merchant("m-2", Currency::Cup));
    assert_ne!(account.id, accounts::merchant("m-1", Currency::Usd));
    assert_ne!(account.id, accounts::biller("m-1", Currency::Cup));
    assert_eq!(account.ledger, Currency::Cup.ledger());
    assert!(
        account
            .flags
            .has(ceiba_ledger::AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS)
    );
    assert!(account.flags.has(ceiba_ledger::AccountFlags::HISTORY));
}
