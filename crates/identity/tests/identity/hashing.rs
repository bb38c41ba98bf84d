use ceiba_identity::{
    Argon2Config, CredentialError, CredentialHasher, Password, PhcString, Pin, PresentedSecret,
};

use crate::rng;

fn cheap() -> CredentialHasher {
    CredentialHasher::new(Argon2Config::INSECURE_FOR_TESTS).unwrap()
}

fn presented(text: &str) -> PresentedSecret {
    PresentedSecret::parse(text).unwrap()
}

#[test]
fn the_default_is_owasps_argon2id_minimum() {
    assert_eq!(
        Argon2Config::default(),
        Argon2Config {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1
        }
    );
    assert_eq!(Argon2Config::default(), Argon2Config::OWASP);
}

#[test]
fn a_hash_with_the_default_parameters_is_argon2id_at_owasps_cost() {
    let hasher = CredentialHasher::new(Argon2Config::default()).unwrap();
    let password = Password::parse("caballo correcto pila grapa").unwrap();
    let stored = hasher.hash(&password, &mut rng(1));
    assert!(
        stored
            .as_str()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        stored.as_str()
    );
    let verification = hasher.verify(&presented("caballo correcto pila grapa"), &stored);
    assert_eq!(verification.map(|v| v.needs_rehash), Ok(false));
}

#[test]
fn hash_and_verify_round_trip() {
    let hasher = cheap();
    let password = Password::parse("el malecón de noche").unwrap();
    let stored = hasher.hash(&password, &mut rng(2));
    assert_eq!(
        hasher.verify(&password, &stored).map(|v| v.needs_rehash),
        Ok(false)
    );
    assert_eq!(
        hasher
            .verify(&presented("el malecón de noche"), &stored)
            .map(|v| v.needs_rehash),
        Ok(false)
    );
    assert_eq!(
        hasher.verify(&presented("el malecon de noche"), &stored),
        Err(CredentialError::Mismatch)
    );
    assert_eq!(
        hasher.verify(&presented(""), &stored),
        Err(CredentialError::Mismatch)
    );
    // The stored form survives storage.
    let reloaded = PhcString::parse(stored.as_str()).unwrap();
    assert_eq!(reloaded, stored);
    assert!(hasher.verify(&password, &reloaded).is_ok());
}

#[test]
fn pins_hash_and_verify_too() {
    let hasher = cheap();
    let stored = hasher.hash(&Pin::parse("3865").unwrap(), &mut rng(3));
    assert!(hasher.verify(&presented("3865"), &stored).is_ok());
    assert_eq!(
        hasher.verify(&presented("3866"), &stored),
        Err(CredentialError::Mismatch)
    );
}

#[test]
fn each_hash_has_its_own_salt() {
    let hasher = cheap();
    let password = Password::parse("el malecón de noche").unwrap();
    let mut rng = rng(4);
    let first = hasher.hash(&password, &mut rng);
    let second = hasher.hash(&password, &mut rng);
    assert_ne!(first, second);
    // The same seed gives the same salt: tests are deterministic.
    assert_eq!(hasher.hash(&password, &mut crate::rng(4)), first);
}

#[test]
fn the_same_passphrase_typed_two_ways_is_the_same_password() {
    let hasher = cheap();
    let composed = Password::parse("contraseña segura").unwrap();
    let stored = hasher.hash(&composed, &mut rng(5));
    assert!(
        hasher
            .verify(&presented("contrasen\u{0303}a segura"), &stored)
            .is_ok()
    );
}

#[test]
fn a_hash_with_other_parameters_needs_a_rehash() {
    let old = CredentialHasher::new(Argon2Config {
        memory_kib: 32,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap();
    let current = cheap();
    let password = Password::parse("el malecón de noche").unwrap();
    let stored_old = old.hash(&password, &mut rng(6));
    assert_eq!(
        current
            .verify(&password, &stored_old)
            .map(|v| v.needs_rehash),
        Ok(true)
    );
    assert_eq!(
        old.verify(&password, &stored_old).map(|v| v.needs_rehash),
        Ok(false)
    );
    // A wrong password under old parameters is still just wrong.
    assert_eq!(
        current.verify(&presented("otra cosa"), &stored_old),
        Err(CredentialError::Mismatch)
    );
    // Upgraded on sign-in: the new hash needs nothing more.
    let upgraded = current.hash(&password, &mut rng(7));
    assert_eq!(
        current.verify(&password, &upgraded).map(|v| v.needs_rehash),
        Ok(false)
    );
    for config in [
        Argon2Config {
            iterations: 2,
            ..Argon2Config::INSECURE_FOR_TESTS
        },
        Argon2Config {
            parallelism: 2,
            ..Argon2Config::INSECURE_FOR_TESTS
        },
    ] {
        let stored = CredentialHasher::new(config)
            .unwrap()
            .hash(&password, &mut rng(8));
        assert_eq!(
            current.verify(&password, &stored).map(|v| v.needs_rehash),
            Ok(true),
            "{config:?}"
        );
    }
}

#[test]
fn argon2i_and_argon2d_hashes_verify_and_need_a_rehash() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let hasher = cheap();
    let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
    let params = argon2::Params::new(64, 1, 1, Some(32)).unwrap();
    for algorithm in [argon2::Algorithm::Argon2i, argon2::Algorithm::Argon2d] {
        let legacy = argon2::Argon2::new(algorithm, argon2::Version::V0x13, params.clone())
            .hash_password(b"el malecon de noche", &salt)
            .unwrap()
            .to_string();
        let stored = PhcString::parse(&legacy).unwrap();
        assert_eq!(
            hasher
                .verify(&presented("el malecon de noche"), &stored)
                .map(|v| v.needs_rehash),
            Ok(true),
            "{legacy}"
        );
        assert_eq!(
            hasher.verify(&presented("otra"), &stored),
            Err(CredentialError::Mismatch)
        );
    }
}

#[test]
fn stored_hashes_that_cannot_be_right_are_refused() {
    let hasher = cheap();
    assert_eq!(
        PhcString::parse("").map(|_| ()),
        Err(CredentialError::MalformedHash)
    );
    assert_eq!(
        PhcString::parse("not a hash").map(|_| ()),
        Err(CredentialError::MalformedHash)
    );
    assert_eq!(
        PhcString::parse(&"$".repeat(600)).map(|_| ()),
        Err(CredentialError::MalformedHash)
    );
    // A well-formed PHC string of another algorithm.
    let scrypt = PhcString::parse(
        "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
    )
    .unwrap();
    assert_eq!(
        hasher.verify(&presented("x"), &scrypt),
        Err(CredentialError::UnsupportedAlgorithm {
            algorithm: "scrypt".to_owned()
        })
    );
    // Argon2id asking for 4 GiB: refused before any work.
    let greedy = PhcString::parse(
        "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$pD2tZ7oTSWDBd2F1cc0o1Wh1q7kzrVyEE2UhURasO1Q",
    )
    .unwrap();
    assert_eq!(
        hasher.verify(&presented("x"), &greedy),
        Err(CredentialError::CostOutOfBounds {
            memory_kib: 4_194_304,
            iterations: 2,
            parallelism: 1
        })
    );
}

#[test]
fn invalid_parameters_are_refused_when_the_hasher_is_made() {
    let error = CredentialHasher::new(Argon2Config {
        memory_kib: 1,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap_err();
    assert!(
        matches!(error, CredentialError::InvalidParameters { .. }),
        "{error:?}"
    );
}

#[test]
fn unknown_accounts_fail_like_wrong_passwords() {
    let hasher = cheap();
    for text in [
        "caballo correcto pila grapa",
        "",
        "ceiba: no account has this password",
    ] {
        assert_eq!(
            hasher.verify_dummy(&presented(text)),
            Err(CredentialError::Mismatch),
            "{text:?}"
        );
    }
}

#[test]
fn a_phc_string_shows_its_parameters_not_its_hash() {
    let hasher = cheap();
    let stored = hasher.hash(
        &Password::parse("el malecón de noche").unwrap(),
        &mut rng(9),
    );
    let shown = format!("{stored:?}");
    assert_eq!(shown, "PhcString(\"$argon2id$v=19$m=64,t=1,p=1$…\")");
    let hash_part = stored.as_str().rsplit('$').next().unwrap();
    assert!(!shown.contains(hash_part));
}
