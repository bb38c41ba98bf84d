use ceiba_identity::{PhoneNumber, PhoneNumberError};

#[test]
fn accepts_the_common_writings_of_a_cuban_mobile() {
    let table = [
        ("+53 5123 4567", "+5351234567"),
        ("+5351234567", "+5351234567"),
        ("0053 51234567", "+5351234567"),
        ("53 51234567", "+5351234567"),
        ("5351234567", "+5351234567"),
        ("51234567", "+5351234567"),
        ("5123-4567", "+5351234567"),
        ("5.123.45.67", "+5351234567"),
        ("(+53) 5123-4567", "+5351234567"),
        ("+53 (5) 123 4567", "+5351234567"),
        ("  +53 5 1 2 3 4 5 6 7  ", "+5351234567"),
        // 53 is also a mobile block: eight digits starting with 53 are a national number.
        ("53123456", "+5353123456"),
        ("+53 53 12 34 56", "+5353123456"),
        ("00 53 59 99 99 99", "+5359999999"),
    ];
    for (input, expected) in table {
        let phone = PhoneNumber::parse(input)
            .unwrap_or_else(|error| panic!("{input:?} should be accepted: {error}"));
        assert_eq!(phone.as_e164(), expected, "{input:?}");
        assert_eq!(phone.to_string(), expected, "{input:?}");
    }
}

#[test]
fn refuses_anything_else_with_its_reason() {
    use PhoneNumberError::*;
    let table: [(&str, PhoneNumberError); 18] = [
        ("", Empty),
        ("   ", Empty),
        ("5123456", WrongLength { digits: 7 }),
        ("512345678", WrongLength { digits: 9 }),
        ("+53 5123 456", WrongLength { digits: 7 }),
        ("+53 5123 45678", WrongLength { digits: 9 }),
        ("0053 5123456", WrongLength { digits: 7 }),
        ("72345678", NotMobile),
        ("+53 7 834 5678", NotMobile),
        ("+53 7834 5678", NotMobile),
        ("+1 305 123 4567", NotCuban),
        ("0034 612 345 678", NotCuban),
        ("5123456a", InvalidCharacter('a')),
        ("cinco uno dos", InvalidCharacter('c')),
        ("53+51234567", MisplacedPlus),
        ("++53 51234567", MisplacedPlus),
        ("+53 5123 4567 ext. 2", InvalidCharacter('e')),
        (
            "5 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7",
            TooLong { maximum: 32 },
        ),
    ];
    for (input, expected) in table {
        assert_eq!(PhoneNumber::parse(input), Err(expected), "{input:?}");
    }
    // Full-width and other non-ASCII digits are not digits here.
    assert_eq!(PhoneNumber::parse("５1234567"), Err(InvalidCharacter('５')));
}

#[test]
fn masks_all_but_the_first_and_last_two_national_digits() {
    let phone = PhoneNumber::parse("+53 5123 4567").unwrap();
    assert_eq!(phone.masked(), "+53 5••• ••67");
    assert_eq!(format!("{phone:?}"), "PhoneNumber(\"+53 5••• ••67\")");
    assert!(!format!("{phone:?}").contains("1234"));
}

#[test]
fn errors_read_as_spanish_sentences() {
    let error = PhoneNumber::parse("72345678").unwrap_err();
    assert_eq!(
        error.to_string(),
        "no es un número móvil: los móviles cubanos empiezan por 5"
    );
    let error = PhoneNumber::parse("5123").unwrap_err();
    assert_eq!(
        error.to_string(),
        "un número móvil cubano tiene 8 cifras sin el prefijo +53, y este tiene 4"
    );
}
