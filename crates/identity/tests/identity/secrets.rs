use ceiba_identity::{
    PASSWORD_CHARS_MAX, PASSWORD_CHARS_MIN, Password, PasswordError, Pin, PinError,
    PresentedSecret, is_common_password,
};

#[test]
fn the_password_policy() {
    use PasswordError::*;
    let long = "a".repeat(PASSWORD_CHARS_MAX + 1);
    let table: Vec<(&str, Result<usize, PasswordError>)> = vec![
        // Common passwords, whatever their case (all in the NCSC list's top 3,000).
        ("password", Err(Common)),
        ("PASSWORD", Err(Common)),
        ("PassWord", Err(Common)),
        ("12345678", Err(Common)),
        ("123456789", Err(Common)),
        ("iloveyou", Err(Common)),
        ("qwertyuiop", Err(Common)),
        ("password1", Err(Common)),
        ("P@ssw0rd", Err(Common)),
        ("football", Err(Common)),
        ("1q2w3e4r5t", Err(Common)),
        // Length, in Unicode scalar values.
        (
            "",
            Err(TooShort {
                length: 0,
                minimum: 8,
            }),
        ),
        (
            "Tz9#",
            Err(TooShort {
                length: 4,
                minimum: 8,
            }),
        ),
        (
            "ñandú17",
            Err(TooShort {
                length: 7,
                minimum: 8,
            }),
        ),
        (&long, Err(TooLong { maximum: 128 })),
        // No composition rules: a long passphrase of lower-case words is good.
        ("caballo correcto pila grapa", Ok(27)),
        ("el malecón de noche con la brisa", Ok(32)),
        ("ñandúes8", Ok(8)),
        ("Tz9#kq!2", Ok(8)),
        ("ааааааааааааааа", Ok(15)),
    ];
    for (input, expected) in table {
        let got = Password::parse(input).map(|password| password.char_count());
        assert_eq!(got, expected, "{input:?}");
    }
    let exactly_max = "ab".repeat(PASSWORD_CHARS_MAX / 2);
    assert_eq!(
        Password::parse(&exactly_max).map(|p| p.char_count()),
        Ok(PASSWORD_CHARS_MAX)
    );
    assert_eq!(PASSWORD_CHARS_MIN, 8);
}

#[test]
fn characters_are_counted_after_nfkc_normalisation() {
    // "ñ" written as "n" and a combining tilde is one character after NFKC.
    let decomposed = "n\u{0303}n\u{0303}n\u{0303}n\u{0303}";
    assert_eq!(
        Password::parse(decomposed).map(|p| p.char_count()),
        Err(PasswordError::TooShort {
            length: 4,
            minimum: 8
        })
    );
    let decomposed = "man\u{0303}ana soleada";
    assert_eq!(Password::parse(decomposed).map(|p| p.char_count()), Ok(14));
    // Full-width letters fold to ASCII: a common password in disguise is still common.
    assert!(is_common_password("ｐａｓｓｗｏｒｄ"));
    assert_eq!(
        Password::parse("ｐａｓｓｗｏｒｄ").map(|p| p.char_count()),
        Err(PasswordError::Common)
    );
}

#[test]
fn a_presented_secret_is_normalised_but_not_held_to_the_policy() {
    assert!(PresentedSecret::parse("password").is_ok());
    assert!(PresentedSecret::parse("").is_ok());
    assert_eq!(
        PresentedSecret::parse(&"x".repeat(PASSWORD_CHARS_MAX + 1)).map(|_| ()),
        Err(PasswordError::TooLong { maximum: 128 })
    );
    assert_eq!(
        PresentedSecret::parse(&"x".repeat(100_000)).map(|_| ()),
        Err(PasswordError::TooLong { maximum: 128 })
    );
}

#[test]
fn secrets_never_show_in_debug() {
    let password = Password::parse("caballo correcto pila grapa").unwrap();
    assert_eq!(format!("{password:?}"), "Password(<oculta>)");
    let presented = PresentedSecret::parse("caballo correcto pila grapa").unwrap();
    assert!(!format!("{presented:?}").contains("caballo"));
    let pin = Pin::parse("3865").unwrap();
    assert_eq!(format!("{pin:?}"), "Pin(••••)");
}

#[test]
fn the_pin_policy() {
    use PinError::*;
    let table: [(&str, Result<(), PinError>); 34] = [
        ("3865", Ok(())),
        ("0417", Ok(())),
        ("9021", Ok(())),
        ("7513", Ok(())),
        ("", Err(WrongLength { length: 0 })),
        ("123", Err(WrongLength { length: 3 })),
        ("12345", Err(WrongLength { length: 5 })),
        ("12a4", Err(NotDigits)),
        ("12 4", Err(NotDigits)),
        ("١٢٣٤", Err(NotDigits)),
        ("０４１７", Err(NotDigits)),
        ("0000", Err(SameDigit)),
        ("7777", Err(SameDigit)),
        ("1234", Err(Sequence)),
        ("0123", Err(Sequence)),
        ("6789", Err(Sequence)),
        ("7890", Err(Sequence)),
        ("9012", Err(Sequence)),
        ("4321", Err(Sequence)),
        ("9876", Err(Sequence)),
        ("3210", Err(Sequence)),
        ("0987", Err(Sequence)),
        ("1212", Err(RepeatedPair)),
        ("6969", Err(RepeatedPair)),
        ("1122", Err(RepeatedPair)),
        ("7788", Err(RepeatedPair)),
        ("1221", Err(RepeatedPair)),
        ("2580", Err(Common)),
        ("0852", Err(Common)),
        ("1470", Err(Common)),
        ("1004", Err(Common)),
        ("2000", Err(Common)),
        ("1984", Err(Common)),
        ("0007", Err(Common)),
    ];
    for (input, expected) in table {
        assert_eq!(Pin::parse(input).map(|_| ()), expected, "{input:?}");
    }
}

#[test]
fn errors_read_as_spanish_sentences() {
    assert_eq!(
        Password::parse("corto").unwrap_err().to_string(),
        "la contraseña es demasiado corta: tiene 5 caracteres y hacen falta al menos 8"
    );
    assert!(
        Password::parse("password")
            .unwrap_err()
            .to_string()
            .starts_with("esa contraseña está entre las más usadas")
    );
    assert_eq!(
        Pin::parse("1234").unwrap_err().to_string(),
        "un PIN de cifras seguidas, hacia arriba o hacia abajo, es de los primeros que se prueban"
    );
}
