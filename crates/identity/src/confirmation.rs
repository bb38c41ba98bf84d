//! The one-time code an SMS carries to confirm a phone number.

use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Digits in a confirmation code.
pub const CONFIRMATION_CODE_DIGITS: usize = 6;

/// Six random decimal digits. Short enough to type from an SMS; guessing is bounded by the
/// storage (five attempts, ten minutes), not by the code's length.
pub struct ConfirmationCode(Zeroizing<String>);

impl ConfirmationCode {
    pub fn generate<R: CryptoRng + RngCore + ?Sized>(rng: &mut R) -> ConfirmationCode {
        // Rejection sampling keeps every code equally likely.
        let bound = u32::MAX - u32::MAX % 1_000_000;
        let value = loop {
            let candidate = rng.next_u32();
            if candidate < bound {
                break candidate % 1_000_000;
            }
        };
        ConfirmationCode(Zeroizing::new(format!("{value:06}")))
    }

    /// Reads what a person typed: six digits, spaces allowed between them.
    pub fn parse(text: &str) -> Option<ConfirmationCode> {
        let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        (digits.len() == CONFIRMATION_CODE_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| ConfirmationCode(Zeroizing::new(digits)))
    }

    /// The digits, to put in the SMS.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What storage keeps: SHA-256 over the account id and the code, hexadecimal, so a stored
    /// hash is useless for another account.
    pub fn hash_for(&self, account_id: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(account_id.as_bytes());
        hasher.update(b":");
        hasher.update(self.0.as_bytes());
        hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

impl std::fmt::Debug for ConfirmationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfirmationCode(••••••)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn codes_are_six_digits_and_hash_per_account() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let codes: Vec<_> = (0..200)
            .map(|_| ConfirmationCode::generate(&mut rng))
            .collect();
        assert!(codes.iter().all(|code| code.expose().len() == 6));
        let distinct: std::collections::HashSet<_> =
            codes.iter().map(|c| c.expose().to_owned()).collect();
        assert!(
            distinct.len() > 190,
            "codes repeat too often: {}",
            distinct.len()
        );
        let code = ConfirmationCode::parse("123 456").unwrap();
        assert_eq!(code.expose(), "123456");
        assert_ne!(code.hash_for("a"), code.hash_for("b"));
        assert_eq!(
            code.hash_for("a"),
            ConfirmationCode::parse("123456").unwrap().hash_for("a")
        );
        assert_eq!(code.hash_for("a").len(), 64);
        assert!(ConfirmationCode::parse("12345").is_none());
        assert!(ConfirmationCode::parse("12345a").is_none());
        assert_eq!(format!("{code:?}"), "ConfirmationCode(••••••)");
    }
}
