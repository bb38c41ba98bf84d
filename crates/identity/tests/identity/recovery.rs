use std::collections::HashSet;

use ceiba_identity::{
    RECOVERY_CODE_BITS, RecoveryCode, RecoveryCodeError, RecoveryCodeHash, RecoveryCodes,
    find_recovery_code, redeem_recovery_code,
};

use crate::rng;

const ALPHABET: &str = "0123456789abcdefghjkmnpqrstvwxyz";

#[test]
fn ten_human_friendly_codes_of_at_least_112_bits() {
    const { assert!(RECOVERY_CODE_BITS >= 112) };
    assert_eq!(RECOVERY_CODE_BITS, 24 * 5);
    let codes = RecoveryCodes::generate(&mut rng(1), 10);
    assert_eq!(codes.codes().len(), 10);
    let mut seen = HashSet::new();
    for code in codes.codes() {
        let shown = code.formatted();
        let groups: Vec<&str> = shown.split('-').collect();
        assert_eq!(groups.len(), 6, "{shown}");
        assert!(groups.iter().all(|group| group.len() == 4), "{shown}");
        assert!(
            shown.chars().all(|c| c == '-' || ALPHABET.contains(c)),
            "{shown}"
        );
        assert!(seen.insert(shown));
    }
    let hashes = codes.hashes();
    assert_eq!(hashes.len(), 10);
    for (code, hash) in codes.codes().iter().zip(&hashes) {
        assert_eq!(&code.hash(), hash);
    }
    assert_eq!(format!("{:?}", codes.codes()[0]), "RecoveryCode(<oculto>)");
}

#[test]
fn codes_are_read_back_whatever_their_case_dashes_and_look_alikes() {
    let codes = RecoveryCodes::generate(&mut rng(2), 3);
    let code = &codes.codes()[0];
    let shown = code.formatted();
    let variants = [
        shown.clone(),
        shown.to_uppercase(),
        shown.replace('-', ""),
        shown.replace('-', " "),
        format!("  {}  ", shown.replace('-', " - ")),
        shown.replace('0', "o").replace('1', "l"),
        shown.replace('0', "O").replace('1', "I"),
    ];
    for variant in variants {
        let parsed = RecoveryCode::parse(&variant).unwrap();
        assert_eq!(parsed.hash(), code.hash(), "{variant:?}");
        assert_eq!(parsed.formatted(), shown);
    }
}

#[test]
fn malformed_codes_are_refused() {
    use RecoveryCodeError::*;
    let table: [(&str, RecoveryCodeError); 6] = [
        ("", WrongLength { length: 0 }),
        ("abcd-efgh-jkmn", WrongLength { length: 12 }),
        (
            "abcd-efgh-jkmn-pqrs-tvwx-yz01-2",
            WrongLength { length: 25 },
        ),
        ("abcd-efgh-jkmn-pqrs-tvwx-yzu1", InvalidCharacter),
        ("abcd-efgh-jkmn-pqrs-tvwx-yz!1", InvalidCharacter),
        ("abcd-efgh-jkmn-pqrs-tvwx-yzñ1", InvalidCharacter),
    ];
    for (input, expected) in table {
        assert_eq!(
            RecoveryCode::parse(input).map(|_| ()),
            Err(expected),
            "{input:?}"
        );
    }
    assert!(RecoveryCode::parse(&"a".repeat(1000)).is_err());
}

#[test]
fn a_code_finds_its_stored_hash_and_only_its_own() {
    let codes = RecoveryCodes::generate(&mut rng(3), 10);
    let stored = codes.hashes();
    for (index, code) in codes.codes().iter().enumerate() {
        let presented = RecoveryCode::parse(&code.formatted()).unwrap();
        assert_eq!(find_recovery_code(&presented, &stored), Some(index));
    }
    let strangers = RecoveryCodes::generate(&mut rng(4), 1);
    let stranger = &strangers.codes()[0];
    assert_eq!(find_recovery_code(stranger, &stored), None);
    assert_eq!(find_recovery_code(stranger, &[]), None);
}

#[test]
fn each_code_is_used_once() {
    let codes = RecoveryCodes::generate(&mut rng(5), 10);
    let mut stored = codes.hashes();
    let code = RecoveryCode::parse(&codes.codes()[3].formatted()).unwrap();
    assert_eq!(
        redeem_recovery_code(&code, &mut stored),
        Ok(codes.codes()[3].hash())
    );
    assert_eq!(stored.len(), 9);
    assert_eq!(
        redeem_recovery_code(&code, &mut stored),
        Err(RecoveryCodeError::NotFound)
    );
    // The others still work, each once.
    for other in codes.codes().iter().filter(|c| c.hash() != code.hash()) {
        assert!(redeem_recovery_code(other, &mut stored).is_ok());
        assert_eq!(
            redeem_recovery_code(other, &mut stored),
            Err(RecoveryCodeError::NotFound)
        );
    }
    assert!(stored.is_empty());
}

#[test]
fn hashes_survive_storage_as_hex() {
    let codes = RecoveryCodes::generate(&mut rng(6), 1);
    let hash = codes.codes()[0].hash();
    let hex = hash.to_hex();
    assert_eq!(hex.len(), 64);
    assert_eq!(RecoveryCodeHash::parse_hex(&hex), Ok(hash));
    assert_eq!(RecoveryCodeHash::parse_hex(&hex.to_uppercase()), Ok(hash));
    assert_eq!(RecoveryCodeHash::from_bytes(*hash.as_bytes()), hash);
    assert_eq!(
        RecoveryCodeHash::parse_hex(&hex[..62]),
        Err(RecoveryCodeError::MalformedHash)
    );
}

#[test]
#[should_panic(expected = "between 1 and 20 recovery codes")]
fn asking_for_too_many_codes_is_a_bug() {
    let _ = RecoveryCodes::generate(&mut rng(7), 21);
}
