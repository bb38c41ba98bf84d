use std::collections::HashSet;

use ceiba_identity::{
    CsrfToken, DeviceToken, SessionPolicy, SessionToken, TOKEN_CHARS, TokenError, TokenHash,
};

use crate::rng;

fn is_base64url(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

#[test]
fn a_session_token_is_256_bits_in_43_base64url_characters() {
    assert_eq!(TOKEN_CHARS, 43);
    let mut rng = rng(1);
    let mut seen = HashSet::new();
    let mut hashes = HashSet::new();
    for _ in 0..1_000 {
        let token = SessionToken::generate(&mut rng);
        let text = token.expose();
        assert_eq!(text.len(), 43, "{text}");
        assert!(text.bytes().all(is_base64url), "{text}");
        assert!(seen.insert(text.to_owned()), "{text} twice");
        assert!(hashes.insert(token.hash()));
    }
}

#[test]
fn every_character_of_the_alphabet_appears() {
    // 1,000 tokens of 43 characters: each of the 64 symbols is all but certain to appear, and
    // one that never did would betray a narrowed alphabet.
    let mut rng = rng(2);
    let used: HashSet<u8> = (0..1_000)
        .flat_map(|_| {
            SessionToken::generate(&mut rng)
                .expose()
                .bytes()
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(used.len(), 64);
}

#[test]
fn the_hash_is_stable_and_survives_storage() {
    let token = SessionToken::generate(&mut rng(3));
    let presented = SessionToken::parse(token.expose()).unwrap();
    assert_eq!(presented.hash(), token.hash());
    assert_eq!(token.hash(), token.hash());
    // The same seed, the same token and hash: deterministic.
    assert_eq!(SessionToken::generate(&mut rng(3)).hash(), token.hash());
    let hex = token.hash().to_hex();
    assert_eq!(hex.len(), 64);
    assert_eq!(TokenHash::parse_hex(&hex), Ok(token.hash()));
    assert_eq!(
        TokenHash::from_bytes(*token.hash().as_bytes()),
        token.hash()
    );
    assert_eq!(TokenHash::parse_hex("abc"), Err(TokenError::MalformedHash));
    assert_eq!(
        TokenHash::parse_hex(&"zz".repeat(32)),
        Err(TokenError::MalformedHash)
    );
}

#[test]
fn the_hash_is_sha256_of_the_token_bytes() {
    // 32 zero bytes in base64url are 43 'A's; SHA-256 of 32 zero bytes is well known.
    let zeros = SessionToken::parse(&"A".repeat(43)).unwrap();
    assert_eq!(
        zeros.hash().to_hex(),
        "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
    );
}

#[test]
fn anything_but_that_shape_is_refused() {
    use TokenError::*;
    let good = SessionToken::generate(&mut rng(4)).expose().to_owned();
    let table: Vec<(String, TokenError)> = vec![
        (String::new(), WrongLength { length: 0 }),
        (good[..42].to_owned(), WrongLength { length: 42 }),
        (format!("{good}A"), WrongLength { length: 44 }),
        (format!("{good}="), WrongLength { length: 44 }),
        (format!("{}+", &good[..42]), NotBase64Url),
        (format!("{}/", &good[..42]), NotBase64Url),
        (format!("{} ", &good[..42]), NotBase64Url),
        // The last character carries two unused bits, which must be zero: 'B' sets one.
        (format!("{}B", "A".repeat(42)), NotBase64Url),
        (format!("{}ñ", &good[..41]), NotBase64Url),
    ];
    for (input, expected) in table {
        assert_eq!(
            SessionToken::parse(&input).map(|_| ()),
            Err(expected),
            "{input:?}"
        );
    }
}

#[test]
fn tokens_never_show_in_debug() {
    let token = SessionToken::generate(&mut rng(5));
    assert_eq!(format!("{token:?}"), "SessionToken(<oculto>)");
    let device = DeviceToken::generate(&mut rng(5));
    assert_eq!(format!("{device:?}"), "DeviceToken(<oculto>)");
    let shown = format!("{:?}", token.hash());
    assert!(
        shown.starts_with("TokenHash(") && shown.len() < 30,
        "{shown}"
    );
}

#[test]
fn device_tokens_have_the_same_shape() {
    let device = DeviceToken::generate(&mut rng(6));
    assert_eq!(device.expose().len(), 43);
    assert_eq!(
        DeviceToken::parse(device.expose()).unwrap().hash(),
        device.hash()
    );
}

#[test]
fn session_lifetimes() {
    let policy = SessionPolicy::default();
    assert_eq!(policy.idle_timeout_s, 30 * 60);
    assert_eq!(policy.absolute_timeout_s, 12 * 60 * 60);
    let created = 1_750_000_000;
    // Fresh, and used a moment ago.
    assert!(policy.is_valid(created, created, created));
    assert!(policy.is_valid(created, created, created + 29 * 60));
    // Idle for 30 minutes: over.
    assert!(!policy.is_valid(created, created, created + 30 * 60));
    // Used every 10 minutes, it lasts, but not past 12 hours.
    let last_seen = created + 11 * 3600 + 50 * 60;
    assert!(policy.is_valid(created, last_seen, created + 11 * 3600 + 59 * 60));
    assert!(!policy.is_valid(created, last_seen, created + 12 * 3600));
    assert_eq!(policy.expires_at_s(created, last_seen), created + 12 * 3600);
    assert_eq!(
        policy.expires_at_s(created, created + 60),
        created + 60 + 30 * 60
    );
    // A clock a second behind the one that created the session is not an expiry.
    assert!(policy.is_valid(created, created, created - 1));
    // Timestamps at the end of time do not overflow.
    assert!(policy.is_valid(u64::MAX - 10, u64::MAX - 10, u64::MAX - 5));
}

#[test]
fn a_session_csrf_token_is_derived_and_compared_in_full() {
    let session = SessionToken::generate(&mut rng(7));
    let csrf = session.csrf_token();
    // Stable for the session, whichever process computes it from the cookie's value.
    let presented = SessionToken::parse(session.expose()).unwrap();
    assert_eq!(presented.csrf_token().expose(), csrf.expose());
    assert_eq!(csrf.expose().len(), 43);
    // Neither the session token nor what storage keeps.
    assert_ne!(csrf.expose(), session.expose());
    assert_ne!(csrf.hash(), session.hash());
    assert!(!csrf.expose().contains(&session.hash().to_hex()[..8]));
    // Another session, another token.
    let other = SessionToken::generate(&mut rng(8)).csrf_token();
    assert_ne!(other.expose(), csrf.expose());

    assert!(csrf.matches(csrf.expose()));
    assert!(csrf.matches(&format!(" {} ", csrf.expose())));
    assert!(!csrf.matches(other.expose()));
    assert!(!csrf.matches(""));
    assert!(!csrf.matches(&csrf.expose()[..42]));
    assert!(!csrf.matches(&format!("{}A", csrf.expose())));
    assert!(!csrf.matches(session.expose()));
    assert_eq!(format!("{csrf:?}"), "CsrfToken(<oculto>)");
}

#[test]
fn a_pre_session_csrf_token_is_random_and_parses_back() {
    let mut rng = rng(9);
    let first = CsrfToken::generate(&mut rng);
    let second = CsrfToken::generate(&mut rng);
    assert_ne!(first.expose(), second.expose());
    let parsed = CsrfToken::parse(first.expose()).unwrap();
    assert!(parsed.matches(first.expose()));
    assert!(!parsed.matches(second.expose()));
    assert!(CsrfToken::parse("corto").is_err());
}
