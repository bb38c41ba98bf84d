use std::fmt;

use data_encoding::HEXLOWER;
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

/// Crockford's Base32 alphabet in lower case: digits and letters without i, l, o and u, so that
/// nothing read aloud or copied by hand is ambiguous.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Characters in a recovery code, shown in groups of [`GROUP_CHARS`].
const CODE_CHARS: usize = 24;
const GROUP_CHARS: usize = 4;
/// Entropy of one recovery code: 24 characters of 5 bits. At 112 bits or more a lookup secret
/// may be stored under a plain SHA-256 (ASVS 5.0 6.5.2); below, it would need a salted password
/// hash, and lookup by hash would be impossible.
pub const RECOVERY_CODE_BITS: usize = CODE_CHARS * 5;
const _: () = assert!(RECOVERY_CODE_BITS >= 112);
/// Most recovery codes generated at once.
pub const RECOVERY_CODES_MAX: usize = 20;
/// Longest input looked at: the code with dashes and spaces to spare.
const INPUT_CHARS_MAX: usize = 64;

/// One single-use recovery code, for a person who lost the device with their second factor.
/// Shown once, as `xxxx-xxxx-xxxx-xxxx-xxxx-xxxx`; stored only as its [`RecoveryCodeHash`].
/// `Debug` shows nothing of it.
pub struct RecoveryCode {
    /// The 24 characters, lower case, without dashes.
    canonical: Zeroizing<String>,
}

/// SHA-256 of a recovery code's canonical form: what storage keeps.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecoveryCodeHash([u8; 32]);

/// A freshly generated set of recovery codes.
#[derive(Debug)]
pub struct RecoveryCodes {
    codes: Vec<RecoveryCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecoveryCodeError {
    #[error("un código de recuperación tiene 24 letras y cifras, y aquí hay {length}")]
    WrongLength { length: usize },
    #[error(
        "el código de recuperación tiene un carácter que no puede estar en él: cópielo tal como \
         se le dio"
    )]
    InvalidCharacter,
    #[error("el código de recuperación no es válido o ya se usó")]
    NotFound,
    #[error("el hash de código de recuperación guardado no tiene 64 cifras hexadecimales")]
    MalformedHash,
}

impl RecoveryCode {
    /// Reads a code as a person types it: any case, with or without dashes and spaces, and with
    /// Crockford's readings of look-alikes (o as 0, i and l as 1).
    pub fn parse(text: &str) -> Result<RecoveryCode, RecoveryCodeError> {
        if text.chars().count() > INPUT_CHARS_MAX {
            return Err(RecoveryCodeError::WrongLength {
                length: text.chars().filter(|c| !matches!(c, '-' | ' ')).count(),
            });
        }
        let mut canonical = Zeroizing::new(String::with_capacity(CODE_CHARS));
        let mut invalid = false;
        for character in text.chars() {
            let character = match character.to_ascii_lowercase() {
                '-' | ' ' => continue,
                'o' => '0',
                'i' | 'l' => '1',
                other => other,
            };
            invalid |= !u8::try_from(character).is_ok_and(|byte| ALPHABET.contains(&byte));
            canonical.push(character);
        }
        let length = canonical.chars().count();
        if invalid {
            return Err(RecoveryCodeError::InvalidCharacter);
        }
        if length != CODE_CHARS {
            return Err(RecoveryCodeError::WrongLength { length });
        }
        Ok(RecoveryCode { canonical })
    }

    /// The code as shown to the person: `xxxx-xxxx-xxxx-xxxx-xxxx-xxxx`.
    pub fn formatted(&self) -> String {
        let groups: Vec<&str> = (0..CODE_CHARS)
            .step_by(GROUP_CHARS)
            .map(|start| &self.canonical[start..start + GROUP_CHARS])
            .collect();
        groups.join("-")
    }

    pub fn hash(&self) -> RecoveryCodeHash {
        RecoveryCodeHash(Sha256::digest(self.canonical.as_bytes()).into())
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(<oculto>)")
    }
}

impl RecoveryCodes {
    /// `count` fresh codes of [`RECOVERY_CODE_BITS`] bits each.
    ///
    /// # Panics
    /// When `count` is 0 or above [`RECOVERY_CODES_MAX`]: a caller's bug.
    pub fn generate<R>(rng: &mut R, count: usize) -> RecoveryCodes
    where
        R: CryptoRng + RngCore + ?Sized,
    {
        assert!(
            (1..=RECOVERY_CODES_MAX).contains(&count),
            "between 1 and {RECOVERY_CODES_MAX} recovery codes, not {count}"
        );
        let codes = (0..count)
            .map(|_| {
                let mut random = Zeroizing::new([0u8; CODE_CHARS]);
                rng.fill_bytes(&mut random[..]);
                // 256 is a multiple of 32: the low five bits of a uniform byte are uniform.
                let canonical: String = random
                    .iter()
                    .map(|byte| char::from(ALPHABET[usize::from(byte & 0x1f)]))
                    .collect();
                RecoveryCode {
                    canonical: Zeroizing::new(canonical),
                }
            })
            .collect();
        RecoveryCodes { codes }
    }

    /// The codes, to show once.
    pub fn codes(&self) -> &[RecoveryCode] {
        &self.codes
    }

    /// Their hashes, in the same order, to store.
    pub fn hashes(&self) -> Vec<RecoveryCodeHash> {
        self.codes.iter().map(RecoveryCode::hash).collect()
    }
}

impl RecoveryCodeHash {
    pub fn from_bytes(bytes: [u8; 32]) -> RecoveryCodeHash {
        RecoveryCodeHash(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// 64 lower-case hexadecimal digits.
    pub fn to_hex(&self) -> String {
        HEXLOWER.encode(&self.0)
    }

    pub fn parse_hex(text: &str) -> Result<RecoveryCodeHash, RecoveryCodeError> {
        let bytes = HEXLOWER
            .decode(text.to_ascii_lowercase().as_bytes())
            .map_err(|_| RecoveryCodeError::MalformedHash)?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| RecoveryCodeError::MalformedHash)?;
        Ok(RecoveryCodeHash(bytes))
    }
}

impl fmt::Debug for RecoveryCodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecoveryCodeHash({}…)", &self.to_hex()[..8])
    }
}

/// Which of the stored hashes a presented code matches, if any. Every stored hash is compared,
/// in constant time, whatever the earlier ones gave.
pub fn find_recovery_code(presented: &RecoveryCode, stored: &[RecoveryCodeHash]) -> Option<usize> {
    let presented = presented.hash();
    let mut found = subtle::Choice::from(0);
    let mut index = 0u64;
    for (position, hash) in stored.iter().enumerate() {
        let matches = presented.0.ct_eq(&hash.0);
        // Positions are below RECOVERY_CODES_MAX in practice and always fit a u64.
        let position = u64::try_from(position).unwrap_or(u64::MAX);
        index.conditional_assign(&position, matches);
        found |= matches;
    }
    if bool::from(found) {
        usize::try_from(index).ok()
    } else {
        None
    }
}

/// Uses a recovery code: removes the hash it matches from `stored`, so that the same code is
/// refused the next time, and returns that hash (storage marks its row used).
pub fn redeem_recovery_code(
    presented: &RecoveryCode,
    stored: &mut Vec<RecoveryCodeHash>,
) -> Result<RecoveryCodeHash, RecoveryCodeError> {
    let index = find_recovery_code(presented, stored).ok_or(RecoveryCodeError::NotFound)?;
    Ok(stored.remove(index))
}
