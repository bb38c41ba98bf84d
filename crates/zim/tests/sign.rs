//! Detached Ed25519 signatures of offline packages: round trip, every refusal with its
//! message, and that no single flipped bit of a package or a signature gets through.

use ceiba_zim::sign::{
    DetachedSignature, PackageDigest, PublicKey, SignError, sign, sign_reader, verify,
    verify_reader,
};
use ed25519_dalek::{Signer as _, SigningKey};
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn package() -> Vec<u8> {
    (0..10_000u32)
        .map(|i| u8::try_from(i * 7 % 251).unwrap())
        .collect()
}

#[test]
fn round_trip_through_text() {
    let signing = key(1);
    let published = PublicKey::from_signing_key(&signing);
    let data = package();

    let text = sign(&data, &signing).to_text();
    let signature = DetachedSignature::parse(&text).unwrap();
    let verified = verify(
        &data,
        &signature,
        &PublicKey::parse(&published.to_text()).unwrap(),
    )
    .unwrap();

    assert_eq!(verified.signer, published.fingerprint());
    assert_eq!(verified.digest.len, 10_000);
    assert_eq!(
        verified.digest.sha256,
        <[u8; 32]>::from(Sha256::digest(&data))
    );
    // Streaming gives the same signature as bytes in memory (Ed25519 is deterministic).
    assert_eq!(sign_reader(&data[..], &signing).unwrap(), signature);
    assert!(verify_reader(&data[..], &signature, &published).is_ok());
}

#[test]
fn signature_file_has_the_documented_lines() {
    let data = b"hola";
    let text = sign(data, &key(2)).to_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0], "ceiba-zim-firma/1");
    assert!(lines[1].starts_with("clave: "));
    assert_eq!(lines[2], "tamaño: 4");
    // SHA-256("hola"), computed independently.
    assert_eq!(
        lines[3],
        "sha256: b221d9dbb083a7f33428d7c2a3c3198ae925614d70210e28716ccaa7cd4ddb79"
    );
    assert!(lines[4].starts_with("firma: "));
    assert!(text.ends_with('\n'));
}

#[test]
fn signed_message_is_domain_separated_digest() {
    // An independent reconstruction of the signed message: domain, NUL, length BE, SHA-256.
    let signing = key(3);
    let data = b"paquete";
    let mut message = b"ceiba-zim-firma/1\0".to_vec();
    message.extend_from_slice(&(data.len() as u64).to_be_bytes());
    message.extend_from_slice(&Sha256::digest(data));
    assert_eq!(
        sign(data, &signing).signature().to_bytes(),
        signing.sign(&message).to_bytes()
    );
}

#[test]
fn windows_line_endings_are_accepted() {
    let signing = key(4);
    let data = package();
    let text = sign(&data, &signing).to_text().replace('\n', "\r\n");
    let signature = DetachedSignature::parse(&text).unwrap();
    assert!(verify(&data, &signature, &PublicKey::from_signing_key(&signing)).is_ok());
}

#[test]
fn public_key_text_and_fingerprint() {
    let published = PublicKey::from_signing_key(&key(5));
    let text = published.to_text();
    assert!(text.starts_with("ed25519:"));
    assert_eq!(text.len(), "ed25519:".len() + 44);
    assert_eq!(PublicKey::parse(&format!("  {text}\n")).unwrap(), published);

    let fingerprint = published.fingerprint().to_string();
    let groups: Vec<&str> = fingerprint.split(' ').collect();
    assert_eq!(groups.len(), 8);
    assert!(groups.iter().all(|group| {
        group.len() == 4
            && group
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    }));
    assert_ne!(
        fingerprint,
        PublicKey::from_signing_key(&key(6))
            .fingerprint()
            .to_string()
    );
}

#[test]
fn malformed_public_keys_are_refused() {
    let good = PublicKey::from_signing_key(&key(7)).to_text();
    let encoded = good.strip_prefix("ed25519:").unwrap();
    let cases = [
        (encoded.to_owned(), "ed25519:"),
        (format!("ed25519:{}", &encoded[..40]), "32 bytes"),
        ("ed25519:!!!!".to_owned(), "32 bytes"),
        ("x".repeat(5000), "demasiado largo"),
    ];
    for (text, needle) in cases {
        let error = PublicKey::parse(&text).unwrap_err();
        assert!(
            matches!(error, SignError::MalformedKey { .. }),
            "{text}: {error:?}"
        );
        assert!(error.to_string().contains(needle), "{text}: {error}");
    }
}

#[test]
fn wrong_key_is_refused_naming_both_fingerprints() {
    let data = package();
    let signature = sign(&data, &key(8));
    let published = PublicKey::from_signing_key(&key(9));
    let error = verify(&data, &signature, &published).unwrap_err();
    assert!(matches!(error, SignError::WrongKey { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("otra clave"), "{message}");
    assert!(
        message.contains(&published.fingerprint().to_string()),
        "{message}"
    );
    assert!(
        message.contains(
            &PublicKey::from_signing_key(&key(8))
                .fingerprint()
                .to_string()
        )
    );
}

#[test]
fn forged_signature_file_with_swapped_key_is_refused() {
    // Someone re-signs an altered package with their own key and writes the published key in
    // the file: the signature does not verify under the published key.
    let data = package();
    let published = PublicKey::from_signing_key(&key(10));
    let genuine = sign(&data, &key(10)).to_text();
    let forged = sign(b"otro paquete", &key(11)).to_text();
    let forged_lines: Vec<&str> = forged.lines().collect();
    let genuine_lines: Vec<&str> = genuine.lines().collect();
    let text = format!(
        "{}\n{}\n{}\n{}\n{}\n",
        forged_lines[0], genuine_lines[1], forged_lines[2], forged_lines[3], forged_lines[4]
    );
    let signature = DetachedSignature::parse(&text).unwrap();
    let error = verify(b"otro paquete", &signature, &published).unwrap_err();
    assert!(matches!(error, SignError::BadSignature), "{error:?}");
    assert!(error.to_string().contains("firma no es válida"));
}

#[test]
fn altered_truncated_and_extended_packages_are_refused() {
    let signing = key(12);
    let published = PublicKey::from_signing_key(&signing);
    let data = package();
    let signature = sign(&data, &signing);

    let mut altered = data.clone();
    altered[5000] ^= 1;
    let error = verify(&altered, &signature, &published).unwrap_err();
    assert!(matches!(error, SignError::Altered { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("alterado"), "{message}");
    assert!(
        message.contains(&format!("{:x}", Sha256::digest(&data))),
        "{message}"
    );

    let error = verify(&data[..9_000], &signature, &published).unwrap_err();
    assert!(
        matches!(
            error,
            SignError::Truncated {
                actual: 9_000,
                expected: 10_000
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("truncado"));
    assert!(error.to_string().contains("9000"));

    let mut longer = data.clone();
    longer.push(0);
    let error = verify(&longer, &signature, &published).unwrap_err();
    assert!(
        matches!(error, SignError::TooLong { expected: 10_000 }),
        "{error:?}"
    );

    // The streaming check reads at most one byte past the signed length.
    let endless = std::io::repeat(0);
    let error = verify_reader(endless, &signature, &published).unwrap_err();
    assert!(matches!(error, SignError::TooLong { .. }), "{error:?}");
}

#[test]
fn read_errors_are_reported() {
    struct Failing;
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disco roto"))
        }
    }
    let error = sign_reader(Failing, &key(13)).unwrap_err();
    assert!(matches!(error, SignError::Read(_)));
    assert!(error.to_string().contains("no se pudo leer el paquete"));
}

#[test]
fn malformed_signature_files_name_the_line() {
    let text = sign(b"datos", &key(14)).to_text();
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let with_line = |index: usize, replacement: &str| {
        let mut changed = lines.clone();
        changed[index] = replacement.to_owned();
        changed.join("\n") + "\n"
    };
    let cases: Vec<(String, usize, &str)> = vec![
        (String::new(), 1, "ceiba-zim-firma/1"),
        (with_line(0, "ceiba-zim-firma/2"), 1, "ceiba-zim-firma/1"),
        (with_line(1, "llave: abc"), 2, "clave: "),
        (with_line(1, "clave: AAAA"), 2, "32 bytes"),
        (with_line(2, "tamaño: 05"), 3, "ceros a la izquierda"),
        (with_line(2, "tamaño: -5"), 3, "número de bytes"),
        (
            with_line(2, "tamaño: 99999999999999999999999"),
            3,
            "número de bytes",
        ),
        (
            with_line(3, &lines[3].to_uppercase().replace("SHA256", "sha256")),
            4,
            "minúscula",
        ),
        (with_line(3, "sha256: abc"), 4, "64 cifras"),
        (with_line(4, "firma: AAAA"), 5, "64 bytes"),
        (lines[..3].join("\n"), 4, "falta la línea «sha256"),
        (text.clone() + "más\n", 6, "sobra texto"),
        ("x".repeat(5000), 1, "demasiado grande"),
    ];
    for (text, line, needle) in cases {
        let error = DetachedSignature::parse(&text).unwrap_err();
        let SignError::MalformedSignature { line: found, .. } = &error else {
            panic!("{text:?}: {error:?}");
        };
        assert_eq!(*found, line, "{text:?}: {error}");
        let message = error.to_string();
        assert!(message.contains(&format!("línea {line}")), "{message}");
        assert!(message.contains(needle), "{text:?}: {message}");
    }
}

#[test]
fn empty_package_can_be_signed() {
    let signing = key(15);
    let signature = sign(b"", &signing);
    assert_eq!(signature.digest(), &PackageDigest::of_bytes(b""));
    let parsed = DetachedSignature::parse(&signature.to_text()).unwrap();
    assert!(verify(b"", &parsed, &PublicKey::from_signing_key(&signing)).is_ok());
}

fn flip(bytes: &mut [u8], bit: usize) {
    let bit = bit % (bytes.len() * 8);
    bytes[bit / 8] ^= 1 << (bit % 8);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_flipped_bit_of_the_package_fails(data in proptest::collection::vec(any::<u8>(), 1..600), bit in any::<usize>()) {
        let signing = key(16);
        let signature = sign(&data, &signing);
        let mut altered = data.clone();
        flip(&mut altered, bit);
        let refused = matches!(
            verify(&altered, &signature, &PublicKey::from_signing_key(&signing)),
            Err(SignError::Altered { .. })
        );
        prop_assert!(refused);
    }

    #[test]
    fn any_flipped_bit_of_the_signature_fails(data in proptest::collection::vec(any::<u8>(), 0..300), bit in any::<usize>()) {
        let signing = key(17);
        let published = PublicKey::from_signing_key(&signing);
        let signature = sign(&data, &signing);
        let mut raw = signature.signature().to_bytes();
        flip(&mut raw, bit);
        let lines: Vec<String> = signature.to_text().lines().map(str::to_owned).collect();
        let text = format!(
            "{}\n{}\n{}\n{}\nfirma: {}\n",
            lines[0], lines[1], lines[2], lines[3],
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, raw)
        );
        let parsed = DetachedSignature::parse(&text).unwrap();
        let refused = matches!(verify(&data, &parsed, &published), Err(SignError::BadSignature));
        prop_assert!(refused);
    }

    #[test]
    fn any_flipped_bit_of_the_signature_file_fails(data in proptest::collection::vec(any::<u8>(), 0..300), bit in any::<usize>()) {
        let signing = key(18);
        let published = PublicKey::from_signing_key(&signing);
        let mut text = sign(&data, &signing).to_text().into_bytes();
        flip(&mut text, bit);
        let refused = match String::from_utf8(text) {
            Err(_) => true,
            Ok(text) => match DetachedSignature::parse(&text) {
                Err(_) => true,
                Ok(parsed) => verify(&data, &parsed, &published).is_err(),
            },
        };
        prop_assert!(refused);
    }

    #[test]
    fn parsers_never_panic(text in ".{0,400}") {
        let _ = DetachedSignature::parse(&text);
        let _ = PublicKey::parse(&text);
    }

    #[test]
    fn mutated_signature_files_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut text = sign(b"abc", &key(19)).to_text().into_bytes();
        for (at, byte) in edits {
            let at = at % text.len();
            text[at] = byte;
        }
        let _ = DetachedSignature::parse(&String::from_utf8_lossy(&text));
    }
}
