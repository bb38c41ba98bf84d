use ceiba_identity::{CalendarDate, DateError, NationalId, NationalIdError};

fn date(year: u16, month: u8, day: u8) -> CalendarDate {
    CalendarDate::new(year, month, day).unwrap()
}

fn today() -> CalendarDate {
    date(2025, 6, 15)
}

#[test]
fn reads_the_date_of_birth_and_its_century() {
    let table = [
        ("85031512345", date(1985, 3, 15)),
        ("00010100001", date(1900, 1, 1)),
        ("99123156789", date(1999, 12, 31)),
        ("05071568123", date(2005, 7, 15)),
        ("10022876543", date(2010, 2, 28)),
        ("25061580001", date(2025, 6, 15)),
        ("99123195555", date(1899, 12, 31)),
        // Leap days: 2000 and 1904 were leap years.
        ("00022961234", date(2000, 2, 29)),
        ("04022931234", date(1904, 2, 29)),
        ("24022971234", date(2024, 2, 29)),
        (" 85031512345 ", date(1985, 3, 15)),
    ];
    for (input, birth_date) in table {
        let id = NationalId::parse(input, today())
            .unwrap_or_else(|error| panic!("{input:?} should be accepted: {error}"));
        assert_eq!(id.birth_date(), birth_date, "{input:?}");
        assert_eq!(id.reveal(), input.trim());
    }
}

#[test]
fn refuses_anything_else_with_its_reason() {
    use NationalIdError::*;
    let table: [(&str, NationalIdError); 12] = [
        ("", Empty),
        ("8503151234", WrongLength { length: 10 }),
        ("850315123456", WrongLength { length: 12 }),
        ("85031512a45", NotDigit('a')),
        ("85 03 15 12345", NotDigit(' ')),
        ("85-031512345", NotDigit('-')),
        (
            "85131512345",
            InvalidBirthDate {
                year: 1985,
                month: 13,
                day: 15,
            },
        ),
        (
            "85003212345",
            InvalidBirthDate {
                year: 1985,
                month: 0,
                day: 32,
            },
        ),
        (
            "85043112345",
            InvalidBirthDate {
                year: 1985,
                month: 4,
                day: 31,
            },
        ),
        // 1900 was not a leap year, nor 2023.
        (
            "00022901234",
            InvalidBirthDate {
                year: 1900,
                month: 2,
                day: 29,
            },
        ),
        (
            "23022971234",
            InvalidBirthDate {
                year: 2023,
                month: 2,
                day: 29,
            },
        ),
        (
            "25061680001",
            BirthDateInFuture {
                birth_date: date(2025, 6, 16),
                today: today(),
            },
        ),
    ];
    for (input, expected) in table {
        assert_eq!(
            NationalId::parse(input, today()),
            Err(expected),
            "{input:?}"
        );
    }
}

#[test]
fn never_shows_more_than_the_last_two_digits_unless_revealed() {
    let id = NationalId::parse("85031512345", today()).unwrap();
    assert_eq!(id.masked(), "•••••••••45");
    assert_eq!(format!("{id:?}"), "NationalId(\"•••••••••45\")");
    assert_eq!(id.reveal(), "85031512345");
}

#[test]
fn today_can_come_from_the_callers_clock() {
    // 2025-06-15T12:00:00Z.
    let today = CalendarDate::from_unix_seconds(1_749_988_800);
    assert_eq!(today, date(2025, 6, 15));
    assert!(NationalId::parse("25061580001", today).is_ok());
    assert!(NationalId::parse("25061680001", today).is_err());
}

#[test]
fn calendar_dates_exist_or_are_refused() {
    assert_eq!(date(2024, 2, 29).to_string(), "2024-02-29");
    assert_eq!(
        CalendarDate::new(2023, 2, 29),
        Err(DateError::NotInCalendar {
            year: 2023,
            month: 2,
            day: 29
        })
    );
    assert!(CalendarDate::new(2000, 2, 29).is_ok());
    assert!(CalendarDate::new(2100, 2, 29).is_err());
    assert!(CalendarDate::new(2025, 0, 1).is_err());
    assert!(CalendarDate::new(0, 1, 1).is_err());
    assert!(date(1999, 12, 31) < date(2000, 1, 1));
}

#[test]
fn errors_read_as_spanish_sentences() {
    let error = NationalId::parse("8503151234", today()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "el carné de identidad tiene 11 cifras, y aquí hay 10"
    );
}
