use ceiba_identity::{TOTP_STEP_S, TotpError, TotpSecret, totp_step};

use crate::rng;

/// RFC 6238 Appendix B's SHA-1 key: the ASCII string "12345678901234567890".
fn rfc_secret() -> TotpSecret {
    TotpSecret::from_bytes(*b"12345678901234567890")
}

#[test]
fn rfc_6238_appendix_b_sha1_vectors_last_six_digits() {
    // The RFC's 8-digit values; a 6-digit code is their last six digits. The 8-digit values
    // themselves are checked by the unit test beside the implementation.
    let vectors = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];
    let secret = rfc_secret();
    for (unix_s, eight_digits) in vectors {
        assert_eq!(secret.code_at(unix_s), &eight_digits[2..], "at {unix_s}");
        assert_eq!(
            secret.verify(&eight_digits[2..], unix_s, None),
            Ok(totp_step(unix_s))
        );
    }
}

#[test]
fn a_generated_secret_is_20_random_bytes_in_base32() {
    let secret = TotpSecret::generate(&mut rng(1));
    let base32 = secret.to_base32();
    assert_eq!(base32.len(), 32);
    assert!(
        base32
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
    );
    assert_eq!(
        TotpSecret::from_base32(&base32).unwrap().as_bytes(),
        secret.as_bytes()
    );
    // As people copy it: lower case, in groups.
    let typed: String = base32
        .to_lowercase()
        .as_bytes()
        .chunks(4)
        .map(|chunk| std::str::from_utf8(chunk).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(
        TotpSecret::from_base32(&typed).unwrap().as_bytes(),
        secret.as_bytes()
    );
    assert_ne!(
        TotpSecret::generate(&mut rng(2)).as_bytes(),
        secret.as_bytes()
    );
    assert_eq!(format!("{secret:?}"), "TotpSecret(<oculto>)");
}

#[test]
fn malformed_secrets_are_refused() {
    for text in [
        "",
        "ABC",
        "0000000000000000000000000000000000",
        "GEZDGNBVGY3TQOJQ",
        &"A".repeat(200),
    ] {
        assert_eq!(
            TotpSecret::from_base32(text).map(|_| ()),
            Err(TotpError::MalformedSecret),
            "{text:?}"
        );
    }
}

#[test]
fn the_enrolment_uri() {
    let secret = rfc_secret();
    assert_eq!(secret.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert_eq!(
        secret.otpauth_uri("+5351234567"),
        "otpauth://totp/Ceiba:%2B5351234567?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Ceiba"
    );
    assert_eq!(
        secret.otpauth_uri("José Martí"),
        "otpauth://totp/Ceiba:Jos%C3%A9%20Mart%C3%AD?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Ceiba"
    );
}

#[test]
fn one_step_of_drift_either_way_is_accepted_and_no_more() {
    let secret = TotpSecret::generate(&mut rng(3));
    let now_s = 1_750_000_005;
    let step = totp_step(now_s);
    let code_at_step = |s: u64| secret.code_at(s * TOTP_STEP_S);
    assert_eq!(secret.verify(&code_at_step(step), now_s, None), Ok(step));
    assert_eq!(
        secret.verify(&code_at_step(step - 1), now_s, None),
        Ok(step - 1)
    );
    assert_eq!(
        secret.verify(&code_at_step(step + 1), now_s, None),
        Ok(step + 1)
    );
    for far in [step - 2, step + 2, step - 10, step + 10] {
        let code = code_at_step(far);
        // Guard against a chance collision with a code inside the window.
        if (step - 1..=step + 1).all(|s| code_at_step(s) != code) {
            assert_eq!(secret.verify(&code, now_s, None), Err(TotpError::Mismatch));
        }
    }
}

#[test]
fn a_code_is_accepted_once() {
    let secret = TotpSecret::generate(&mut rng(4));
    let now_s = 1_750_000_000;
    let code = secret.code_at(now_s);
    let accepted = secret.verify(&code, now_s, None).unwrap();
    // The same code again, in the same step or the next: refused as a replay.
    assert_eq!(
        secret.verify(&code, now_s, Some(accepted)),
        Err(TotpError::Replayed)
    );
    assert_eq!(
        secret.verify(&code, now_s + TOTP_STEP_S, Some(accepted)),
        Err(TotpError::Replayed)
    );
    // The next step's code is fine.
    let next = secret.code_at(now_s + TOTP_STEP_S);
    assert_eq!(
        secret.verify(&next, now_s + TOTP_STEP_S, Some(accepted)),
        Ok(accepted + 1)
    );
    // Once a later step was used, an earlier code still inside the drift window is refused.
    let earlier = secret.code_at(now_s - TOTP_STEP_S);
    assert_eq!(
        secret.verify(&earlier, now_s, Some(accepted)),
        Err(TotpError::Replayed)
    );
}

#[test]
fn codes_are_six_digits_and_may_be_typed_with_a_space() {
    let secret = rfc_secret();
    let unix_s = 1_111_111_109;
    assert_eq!(
        secret.verify("081 804", unix_s, None),
        Ok(totp_step(unix_s))
    );
    for typed in [
        "",
        "08180",
        "0818044",
        "08180a",
        "０８１８０４",
        "081-804",
        &"1".repeat(100),
    ] {
        assert_eq!(
            secret.verify(typed, unix_s, None),
            Err(TotpError::Malformed),
            "{typed:?}"
        );
    }
    assert_eq!(
        secret.verify("000000", unix_s, None),
        Err(TotpError::Mismatch)
    );
}

#[test]
fn the_first_steps_of_unix_time_do_not_underflow() {
    let secret = rfc_secret();
    assert_eq!(secret.verify(&secret.code_at(0), 0, None), Ok(0));
    assert_eq!(secret.verify(&secret.code_at(30), 0, None), Ok(1));
    let far = u64::MAX;
    assert_eq!(
        secret.verify(&secret.code_at(far), far, None),
        Ok(totp_step(far))
    );
}
