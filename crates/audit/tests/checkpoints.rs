//! Signed checkpoints: the text format, signing and verification, and a parser that refuses
//! everything but the one encoding.

use ceiba_audit::{
    AuditError, Checkpoint, CheckpointSigner, Hash, SignedCheckpoint, empty_root, leaf_hash,
};
use proptest::prelude::*;

const ORIGIN: &str = "ceiba.example/auditoria";
const SEED: [u8; 32] = [42; 32];
/// Not the compressed form of any curve point (y = 2 has no x), so not a public key.
const NOT_A_PUBLIC_KEY: [u8; 32] = {
    let mut bytes = [0; 32];
    bytes[0] = 2;
    bytes
};

fn unhex<const N: usize>(text: &str) -> [u8; N] {
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).expect("test data is valid hex"))
        .collect();
    bytes.try_into().expect("test data has the right length")
}

fn checkpoint() -> Checkpoint {
    Checkpoint::new(ORIGIN, 300, leaf_hash(b"raiz"), 1_700_000_000_000).expect("valid origin")
}

#[test]
fn signer_derives_the_rfc_8032_public_key() {
    // RFC 8032 §7.1, TEST 1.
    let signer = CheckpointSigner::from_seed(unhex(
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    ));
    assert_eq!(
        signer.public_key_bytes(),
        unhex::<32>("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    );
}

#[test]
fn body_and_text_have_the_documented_format() {
    let checkpoint = Checkpoint::new(ORIGIN, 300, Hash::from_bytes([0; 32]), -5).unwrap();
    assert_eq!(
        checkpoint.body(),
        "ceiba.example/auditoria\n300\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n-5\n"
    );
    let signed = CheckpointSigner::from_seed(SEED).sign(&checkpoint);
    let text = signed.to_text();
    let (body, signature_part) = text.split_once("\n\n").expect("a blank line");
    assert_eq!(format!("{body}\n"), checkpoint.body());
    let signature_line = signature_part
        .strip_suffix('\n')
        .expect("ends in a newline");
    let (prefix, signature) = signature_line.rsplit_once(' ').unwrap();
    assert_eq!(prefix, "— ceiba.example/auditoria");
    assert_eq!(signature.len(), 88, "64 bytes in padded base64");
    assert!(!signature_part[..signature_part.len() - 1].contains('\n'));
}

#[test]
fn signed_text_snapshot() {
    // Ed25519 signatures are deterministic, so the whole text is fixed. Checkpoints already
    // handed out must keep verifying: a change here is a format break, not a refactor.
    let signed = CheckpointSigner::from_seed(SEED).sign(&checkpoint());
    let expected = include_str!("snapshots/signed_checkpoint.txt");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/snapshots/signed_checkpoint.txt"
            ),
            signed.to_text(),
        )
        .unwrap();
        return;
    }
    assert_eq!(signed.to_text(), expected);
    let public_key = CheckpointSigner::from_seed(SEED).public_key_bytes();
    assert_eq!(
        SignedCheckpoint::parse(expected).and_then(|parsed| parsed.verify(&public_key)),
        Ok(())
    );
}

#[test]
fn sign_then_verify_round_trips_through_text() {
    let signer = CheckpointSigner::from_seed(SEED);
    let signed = signer.sign(&checkpoint());
    assert_eq!(signed.checkpoint, checkpoint());
    assert_eq!(signed.verify(&signer.public_key_bytes()), Ok(()));
    let parsed = SignedCheckpoint::parse(&signed.to_text()).expect("own text parses");
    assert_eq!(parsed, signed);
    assert_eq!(parsed.verify(&signer.public_key_bytes()), Ok(()));
    assert_eq!(parsed.checkpoint.origin(), ORIGIN);
    assert_eq!(parsed.checkpoint.tree_size(), 300);
    assert_eq!(parsed.checkpoint.root(), leaf_hash(b"raiz"));
    assert_eq!(parsed.checkpoint.timestamp_ms(), 1_700_000_000_000);
}

#[test]
fn any_change_or_another_key_is_refused() {
    let signer = CheckpointSigner::from_seed(SEED);
    let public_key = signer.public_key_bytes();
    let signed = signer.sign(&checkpoint());
    let original = checkpoint();
    let changed = [
        Checkpoint::new(
            "ceiba.example/otro",
            original.tree_size(),
            original.root(),
            original.timestamp_ms(),
        ),
        Checkpoint::new(ORIGIN, 301, original.root(), original.timestamp_ms()),
        Checkpoint::new(ORIGIN, 300, empty_root(), original.timestamp_ms()),
        Checkpoint::new(ORIGIN, 300, original.root(), original.timestamp_ms() + 1),
    ];
    for checkpoint in changed {
        let forged = SignedCheckpoint {
            checkpoint: checkpoint.unwrap(),
            signature: signed.signature,
        };
        assert_eq!(
            forged.verify(&public_key),
            Err(AuditError::SignatureInvalid),
            "{forged:?}"
        );
    }
    for bit in [0, 100, 511] {
        let mut forged = signed.clone();
        forged.signature[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            forged.verify(&public_key),
            Err(AuditError::SignatureInvalid)
        );
    }
    let other_key = CheckpointSigner::from_seed([43; 32]).public_key_bytes();
    assert_eq!(signed.verify(&other_key), Err(AuditError::SignatureInvalid));
    assert_eq!(
        signed.verify(&NOT_A_PUBLIC_KEY),
        Err(AuditError::PublicKeyInvalid)
    );
}

#[test]
fn origins_are_one_printable_word() {
    for origin in ["a", "ceiba.gob.example/auditoría", &"x".repeat(256)] {
        assert!(
            Checkpoint::new(origin, 0, empty_root(), 0).is_ok(),
            "{origin:?}"
        );
    }
    for origin in [
        "",
        "con espacio",
        "tab\tulador",
        "salto\n",
        "\u{7f}",
        "no\u{a0}break",
        &"x".repeat(257),
    ] {
        assert!(
            matches!(
                Checkpoint::new(origin, 0, empty_root(), 0),
                Err(AuditError::OriginInvalid { .. })
            ),
            "{origin:?}"
        );
    }
}

#[test]
fn the_signer_does_not_show_its_secret() {
    let signer = CheckpointSigner::from_seed(SEED);
    let shown = format!("{signer:?}");
    assert!(shown.starts_with("CheckpointSigner"));
    // The seed is 32 bytes of 42: neither as numbers, hex nor base64 ("Kioq").
    for secret in ["42, 42", "2a2a", "Kioq"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[test]
fn the_parser_refuses_every_other_text() {
    let signed = CheckpointSigner::from_seed(SEED).sign(&checkpoint());
    let text = signed.to_text();
    let lines: Vec<&str> = text.lines().collect();
    let [origin, size, root, timestamp, blank, signature_line] = lines[..] else {
        panic!("six lines: {text:?}");
    };
    assert_eq!(blank, "");
    let signature = signature_line.rsplit_once(' ').unwrap().1;
    let join = |lines: &[&str]| {
        lines
            .iter()
            .map(|line| format!("{line}\n"))
            .collect::<String>()
    };
    let other_signature = {
        let mut other = signed.clone();
        other.signature[0] ^= 1;
        other.to_text().lines().last().unwrap().to_owned()
    };
    let long_origin = "x".repeat(257);
    let long_origin_signature = format!("— {long_origin} {signature}");
    let url_safe_root = format!("-_{}=", "A".repeat(41));
    let padding_bits_root = format!("{}B=", "A".repeat(42));
    let cases: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("no final newline", text.trim_end_matches('\n').to_owned()),
        ("two final newlines", format!("{text}\n")),
        ("CRLF", text.replace('\n', "\r\n")),
        (
            "no blank line",
            join(&[origin, size, root, timestamp, signature_line]),
        ),
        (
            "two blank lines",
            join(&[origin, size, root, timestamp, "", "", signature_line]),
        ),
        ("no signature", join(&[origin, size, root, timestamp, ""])),
        (
            "extra body line",
            join(&[origin, size, root, timestamp, "extra", "", signature_line]),
        ),
        (
            "two signatures",
            join(&[
                origin,
                size,
                root,
                timestamp,
                "",
                signature_line,
                &other_signature,
            ]),
        ),
        (
            "size with +",
            join(&[origin, "+300", root, timestamp, "", signature_line]),
        ),
        (
            "size with zero",
            join(&[origin, "0300", root, timestamp, "", signature_line]),
        ),
        (
            "size negative",
            join(&[origin, "-300", root, timestamp, "", signature_line]),
        ),
        (
            "size too big",
            join(&[
                origin,
                "18446744073709551616",
                root,
                timestamp,
                "",
                signature_line,
            ]),
        ),
        (
            "size spaced",
            join(&[origin, " 300", root, timestamp, "", signature_line]),
        ),
        (
            "size empty",
            join(&[origin, "", root, timestamp, "", signature_line]),
        ),
        (
            "timestamp -0",
            join(&[origin, size, root, "-0", "", signature_line]),
        ),
        (
            "timestamp with +",
            join(&[
                origin,
                size,
                root,
                &format!("+{timestamp}"),
                "",
                signature_line,
            ]),
        ),
        (
            "timestamp hex",
            join(&[origin, size, root, "0x10", "", signature_line]),
        ),
        (
            "root unpadded",
            join(&[
                origin,
                size,
                root.trim_end_matches('='),
                timestamp,
                "",
                signature_line,
            ]),
        ),
        (
            "root as hex",
            join(&[
                origin,
                size,
                &leaf_hash(b"raiz").to_string(),
                timestamp,
                "",
                signature_line,
            ]),
        ),
        (
            "root url-safe alphabet",
            join(&[origin, size, &url_safe_root, timestamp, "", signature_line]),
        ),
        (
            "root of 33 bytes",
            join(&[
                origin,
                size,
                &format!("{}AAAA", root.trim_end_matches('=')),
                timestamp,
                "",
                signature_line,
            ]),
        ),
        (
            "root with non-zero padding bits",
            join(&[
                origin,
                size,
                &padding_bits_root,
                timestamp,
                "",
                signature_line,
            ]),
        ),
        (
            "origin with space",
            join(&[
                "ceiba example",
                size,
                root,
                timestamp,
                "",
                &format!("— ceiba example {signature}"),
            ]),
        ),
        (
            "origin too long",
            join(&[
                &long_origin,
                size,
                root,
                timestamp,
                "",
                &long_origin_signature,
            ]),
        ),
        (
            "other origin in signature line",
            join(&[
                origin,
                size,
                root,
                timestamp,
                "",
                &format!("— ceiba.example/otro {signature}"),
            ]),
        ),
        (
            "hyphen instead of em dash",
            join(&[
                origin,
                size,
                root,
                timestamp,
                "",
                &format!("- {origin} {signature}"),
            ]),
        ),
        (
            "two spaces",
            join(&[
                origin,
                size,
                root,
                timestamp,
                "",
                &format!("— {origin}  {signature}"),
            ]),
        ),
        (
            "trailing space",
            join(&[
                origin,
                size,
                root,
                timestamp,
                "",
                &format!("{signature_line} "),
            ]),
        ),
        (
            "signature missing",
            join(&[origin, size, root, timestamp, "", &format!("— {origin}")]),
        ),
        (
            "signature truncated",
            join(&[
                origin,
                size,
                root,
                timestamp,
                "",
                &format!("— {origin} {}", &signature[..84]),
            ]),
        ),
        ("too long", format!("{text}{}", " ".repeat(1024))),
    ];
    for (why, bad) in cases {
        assert!(
            matches!(
                SignedCheckpoint::parse(&bad),
                Err(AuditError::CheckpointMalformed { .. })
            ),
            "{why}: {bad:?} gave {:?}",
            SignedCheckpoint::parse(&bad)
        );
    }
}

fn signed_checkpoints() -> impl Strategy<Value = SignedCheckpoint> {
    (
        "[a-z0-9./ñáé-]{1,40}",
        any::<u64>(),
        any::<[u8; 32]>(),
        any::<i64>(),
        any::<[u8; 32]>(),
    )
        .prop_map(|(origin, tree_size, root, timestamp_ms, seed)| {
            let checkpoint =
                Checkpoint::new(origin, tree_size, Hash::from_bytes(root), timestamp_ms)
                    .expect("the pattern only makes valid origins");
            CheckpointSigner::from_seed(seed).sign(&checkpoint)
        })
}

proptest! {
    #[test]
    fn every_signed_checkpoint_round_trips(signed in signed_checkpoints()) {
        prop_assert_eq!(SignedCheckpoint::parse(&signed.to_text()), Ok(signed));
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(text in "\\PC*(\n\\PC*){0,7}") {
        let _ = SignedCheckpoint::parse(&text);
    }

    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..800)) {
        let _ = SignedCheckpoint::parse(&String::from_utf8_lossy(&bytes));
    }

    /// A valid text with one character replaced, inserted or removed either is refused or is
    /// the one encoding of what it parses to: there is one text per signed checkpoint.
    #[test]
    fn mutated_texts_are_refused_or_canonical(
        signed in signed_checkpoints(),
        position in any::<prop::sample::Index>(),
        replacement in prop::option::of(any::<char>()),
        insert in any::<bool>(),
    ) {
        let mut characters: Vec<char> = signed.to_text().chars().collect();
        let at = position.index(characters.len());
        match (replacement, insert) {
            (Some(character), true) => characters.insert(at, character),
            (Some(character), false) => characters[at] = character,
            (None, _) => {
                characters.remove(at);
            }
        }
        let mutated: String = characters.into_iter().collect();
        if let Ok(parsed) = SignedCheckpoint::parse(&mutated) {
            prop_assert_eq!(parsed.to_text(), mutated);
        }
    }
}
