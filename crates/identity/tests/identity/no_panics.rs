//! No parser panics, whatever it is given; and what a parser accepts, it accepts again.

use ceiba_identity::{
    CalendarDate, DeviceToken, NationalId, Password, PhcString, PhoneNumber, Pin, PresentedSecret,
    RecoveryCode, RecoveryCodeHash, Role, SessionToken, TokenHash, TotpSecret,
};
use proptest::prelude::*;

/// Arbitrary text, and text made of the characters the parsers care about, so that inputs also
/// get past the first checks.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9 +().-]{0,40}",
        "[0-9]{11}",
        "[0-9a-zA-Z_-]{40,46}",
        "[0-9a-zA-Z -]{20,40}",
        "\\PC{0,200}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn phone_numbers(input in text()) {
        if let Ok(phone) = PhoneNumber::parse(&input) {
            prop_assert_eq!(PhoneNumber::parse(phone.as_e164()), Ok(phone.clone()));
            prop_assert_eq!(phone.as_e164().len(), 11);
            prop_assert!(phone.masked().starts_with("+53 5"));
        }
    }

    #[test]
    fn national_ids(input in text(), unix_s in any::<u64>()) {
        let today = CalendarDate::from_unix_seconds(unix_s);
        if let Ok(id) = NationalId::parse(&input, today) {
            prop_assert!(id.birth_date() <= today);
            prop_assert_eq!(id.reveal().len(), 11);
            prop_assert_eq!(NationalId::parse(id.reveal(), today), Ok(id.clone()));
        }
    }

    #[test]
    fn calendar_dates(year in any::<u16>(), month in any::<u8>(), day in any::<u8>()) {
        if let Ok(date) = CalendarDate::new(year, month, day) {
            prop_assert_eq!((date.year(), date.month(), date.day()), (year, month, day));
        }
    }

    #[test]
    fn passwords_and_pins(input in text()) {
        if let Ok(password) = Password::parse(&input) {
            prop_assert!((8..=128).contains(&password.char_count()));
        }
        let _ = PresentedSecret::parse(&input);
        let _ = Pin::parse(&input);
    }

    #[test]
    fn second_factor_inputs(input in text(), unix_s in any::<u64>(), last in any::<Option<u64>>()) {
        let _ = RecoveryCode::parse(&input);
        let _ = RecoveryCodeHash::parse_hex(&input);
        if let Ok(secret) = TotpSecret::from_base32(&input) {
            prop_assert_eq!(secret.to_base32().len(), 32);
        }
        let secret = TotpSecret::from_bytes([7; 20]);
        if let Ok(step) = secret.verify(&input, unix_s, last) {
            prop_assert!(last.is_none_or(|last| step > last));
        }
    }

    #[test]
    fn tokens_roles_and_hashes(input in text()) {
        if let Ok(token) = SessionToken::parse(&input) {
            prop_assert_eq!(token.expose(), input.as_str());
        }
        let _ = DeviceToken::parse(&input);
        let _ = TokenHash::parse_hex(&input);
        let _ = PhcString::parse(&input);
        if let Ok(role) = Role::parse(&input) {
            prop_assert_eq!(role.as_str(), input.as_str());
        }
    }

    #[test]
    fn recovery_codes_round_trip(seed in any::<u64>()) {
        let codes = ceiba_identity::RecoveryCodes::generate(&mut crate::rng(seed), 2);
        for code in codes.codes() {
            let parsed = RecoveryCode::parse(&code.formatted()).unwrap();
            prop_assert_eq!(parsed.hash(), code.hash());
        }
    }

    #[test]
    fn session_tokens_round_trip(seed in any::<u64>()) {
        let token = SessionToken::generate(&mut crate::rng(seed));
        let parsed = SessionToken::parse(token.expose()).unwrap();
        prop_assert_eq!(parsed.hash(), token.hash());
    }
}
