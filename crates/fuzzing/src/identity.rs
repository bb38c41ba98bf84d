use ceiba_identity::{CalendarDate, NationalId, PhoneNumber};

/// Phone numbers as people type them (`ceiba_identity::PhoneNumber::parse`): an accepted one
/// is `+53` and 8 digits starting with 5, and its E.164 form parses back to itself.
pub fn phone_number(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match PhoneNumber::parse(&text) {
        Ok(phone) => {
            let e164 = phone.as_e164();
            assert_eq!(e164.len(), 11, "{e164}");
            assert!(e164.starts_with("+535"), "{e164}");
            assert!(e164[1..].bytes().all(|b| b.is_ascii_digit()), "{e164}");
            assert_eq!(PhoneNumber::parse(e164).as_ref(), Ok(&phone));
            assert_eq!(PhoneNumber::parse(&phone.to_string()).as_ref(), Ok(&phone));
            // The masked form shows the first and the last two national digits only.
            let masked = phone.masked();
            assert!(masked.ends_with(&e164[10..]), "{masked}");
            assert_eq!(masked.chars().filter(char::is_ascii_digit).count(), 5);
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
}

/// The day national ids are checked against: a fixed day keeps runs reproducible.
fn today() -> CalendarDate {
    CalendarDate::new(2026, 11, 30).expect("a real day")
}

/// Carnés de identidad (`ceiba_identity::NationalId::parse`): an accepted one is 11 digits
/// whose date of birth exists and is not after today, and parses back to itself.
pub fn national_id(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let today = today();
    match NationalId::parse(&text, today) {
        Ok(id) => {
            let digits = id.reveal();
            assert_eq!(digits.len(), 11);
            assert!(digits.bytes().all(|b| b.is_ascii_digit()));
            assert!(id.birth_date() <= today);
            assert_eq!(NationalId::parse(digits, today).as_ref(), Ok(&id));
            let masked = id.masked();
            assert!(masked.ends_with(&digits[9..]));
            assert_eq!(masked.chars().filter(char::is_ascii_digit).count(), 2);
            assert!(!format!("{id:?}").contains(digits), "Debug reveals the id");
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
}
