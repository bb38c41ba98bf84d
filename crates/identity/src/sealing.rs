//! Secrets the server must be able to read back (a TOTP secret: codes are computed from it,
//! so it cannot be hashed) are kept sealed: XChaCha20-Poly1305 under a key held outside the
//! database, with the account id as associated data, so a copy of the database alone reveals
//! nothing and a sealed value moved to another account's row does not open.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use data_encoding::BASE64URL_NOPAD;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

const PREFIX: &str = "v1:";
const NONCE_BYTES: usize = 24;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    #[error("el secreto sellado no tiene el formato v1:<base64url>")]
    Malformed,
    #[error(
        "el secreto sellado no abre con esta clave y esta cuenta: clave equivocada o dato alterado"
    )]
    Rejected,
}

/// Seals and opens small secrets with one 256-bit key.
pub struct SecretSealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretSealer(••••)")
    }
}

impl SecretSealer {
    pub fn from_key(key: &[u8; 32]) -> SecretSealer {
        SecretSealer {
            cipher: XChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }

    /// `v1:` and base64url of a fresh 192-bit nonce followed by the ciphertext and its tag.
    pub fn seal<R>(&self, plaintext: &[u8], account_id: &str, rng: &mut R) -> String
    where
        R: CryptoRng + RngCore + ?Sized,
    {
        let mut nonce = [0_u8; NONCE_BYTES];
        rng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: account_id.as_bytes(),
                },
            )
            .expect("sealing a small secret cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}", BASE64URL_NOPAD.encode(&bytes))
    }

    pub fn open(&self, sealed: &str, account_id: &str) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let encoded = sealed.strip_prefix(PREFIX).ok_or(SealError::Malformed)?;
        let bytes = BASE64URL_NOPAD
            .decode(encoded.as_bytes())
            .map_err(|_| SealError::Malformed)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: account_id.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SealError::Rejected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_account() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let sealer = SecretSealer::from_key(&[7; 32]);
        let sealed = sealer.seal(b"secreto totp", "cuenta-a", &mut rng);
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("secreto"));
        assert_eq!(
            &sealer.open(&sealed, "cuenta-a").unwrap()[..],
            b"secreto totp"
        );
        assert_ne!(
            sealed,
            sealer.seal(b"secreto totp", "cuenta-a", &mut rng),
            "fresh nonces"
        );
        assert_eq!(sealer.open(&sealed, "cuenta-b"), Err(SealError::Rejected));
        let other = SecretSealer::from_key(&[8; 32]);
        assert_eq!(other.open(&sealed, "cuenta-a"), Err(SealError::Rejected));
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(sealer.open(&altered, "cuenta-a").is_err());
        assert_eq!(sealer.open("texto", "cuenta-a"), Err(SealError::Malformed));
        assert_eq!(sealer.open("v1:", "cuenta-a"), Err(SealError::Malformed));
    }
}
