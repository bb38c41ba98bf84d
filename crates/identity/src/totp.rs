use std::fmt;
use std::fmt::Write as _;

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use rand_core::{CryptoRng, RngCore};
use sha1::Sha1;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Seconds per TOTP time step (RFC 6238's default, and what every authenticator app assumes).
pub const TOTP_STEP_S: u64 = 30;
/// Digits in a TOTP code.
pub const TOTP_DIGITS: u32 = 6;
/// Bytes of a TOTP secret: 160 bits, the length of an HMAC-SHA-1 output (RFC 4226 §4).
const SECRET_BYTES: usize = 20;
/// Steps of clock drift accepted on either side of the current one.
const DRIFT_STEPS: u64 = 1;
/// The issuer shown by authenticator apps.
const ISSUER: &str = "Ceiba";
/// Longest code input looked at (six digits and a few spaces).
const CODE_CHARS_MAX: usize = 16;

/// The TOTP time step of an instant: `unix_s / 30`.
pub fn totp_step(unix_s: u64) -> u64 {
    unix_s / TOTP_STEP_S
}

/// A TOTP secret (RFC 6238 with HMAC-SHA-1, 6 digits, 30-second steps: what authenticator apps
/// implement). The server must be able to read it back to compute codes, so storage keeps it
/// encrypted, not hashed. `Debug` shows nothing of it; the memory is zeroed on drop.
pub struct TotpSecret {
    bytes: Zeroizing<[u8; SECRET_BYTES]>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TotpError {
    #[error("el código de verificación tiene 6 cifras")]
    Malformed,
    #[error("el código de verificación no es correcto o ya caducó")]
    Mismatch,
    #[error(
        "ese código de verificación ya se usó: espere a que la aplicación muestre el siguiente"
    )]
    Replayed,
    #[error("el secreto TOTP guardado no es Base32 de 20 bytes")]
    MalformedSecret,
}

impl TotpSecret {
    /// 20 fresh random bytes.
    pub fn generate<R>(rng: &mut R) -> TotpSecret
    where
        R: CryptoRng + RngCore + ?Sized,
    {
        let mut bytes = Zeroizing::new([0u8; SECRET_BYTES]);
        rng.fill_bytes(&mut bytes[..]);
        TotpSecret { bytes }
    }

    /// A secret read back from (decrypted) storage.
    pub fn from_bytes(bytes: [u8; SECRET_BYTES]) -> TotpSecret {
        TotpSecret {
            bytes: Zeroizing::new(bytes),
        }
    }

    /// The raw bytes, for storage to encrypt.
    pub fn as_bytes(&self) -> &[u8; SECRET_BYTES] {
        &self.bytes
    }

    /// The secret in Base32 (RFC 4648, upper case, no padding: 32 characters), for people who
    /// type it into their app instead of scanning the QR code.
    pub fn to_base32(&self) -> String {
        BASE32_NOPAD.encode(&self.bytes[..])
    }

    /// Reads a Base32 secret, ignoring case, spaces, dashes and padding.
    pub fn from_base32(text: &str) -> Result<TotpSecret, TotpError> {
        if text.len() > 4 * SECRET_BYTES {
            return Err(TotpError::MalformedSecret);
        }
        let cleaned: Zeroizing<String> = Zeroizing::new(
            text.chars()
                .filter(|c| !matches!(c, ' ' | '-' | '='))
                .map(|c| c.to_ascii_uppercase())
                .collect(),
        );
        let decoded = Zeroizing::new(
            BASE32_NOPAD
                .decode(cleaned.as_bytes())
                .map_err(|_| TotpError::MalformedSecret)?,
        );
        let bytes: [u8; SECRET_BYTES] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| TotpError::MalformedSecret)?;
        Ok(TotpSecret::from_bytes(bytes))
    }

    /// The enrolment URI for a QR code:
    /// `otpauth://totp/Ceiba:<label>?secret=<Base32>&issuer=Ceiba`, the label percent-encoded.
    pub fn otpauth_uri(&self, label: &str) -> String {
        format!(
            "otpauth://totp/{ISSUER}:{}?secret={}&issuer={ISSUER}",
            percent_encode(label),
            self.to_base32()
        )
    }

    /// The 6-digit code for the step holding `unix_s`.
    pub fn code_at(&self, unix_s: u64) -> String {
        format_code(
            hotp(&self.bytes[..], totp_step(unix_s), TOTP_DIGITS),
            TOTP_DIGITS,
        )
    }

    /// Checks a code typed at `unix_s`, accepting the current step and one on either side (a
    /// phone's clock drifts), and refusing any step at or before `last_used_step`, so that a
    /// code cannot be used twice (RFC 6238 §5.2). Returns the step accepted: store it as the
    /// new `last_used_step`. Codes are compared in constant time.
    pub fn verify(
        &self,
        code: &str,
        unix_s: u64,
        last_used_step: Option<u64>,
    ) -> Result<u64, TotpError> {
        if code.len() > CODE_CHARS_MAX {
            return Err(TotpError::Malformed);
        }
        let typed: Vec<u8> = code.bytes().filter(|byte| *byte != b' ').collect();
        if typed.len() != TOTP_DIGITS as usize || !typed.iter().all(u8::is_ascii_digit) {
            return Err(TotpError::Malformed);
        }
        let current = totp_step(unix_s);
        let first = current.saturating_sub(DRIFT_STEPS);
        let last = current.saturating_add(DRIFT_STEPS);
        let mut matched_any = false;
        let mut accepted: Option<u64> = None;
        // Every candidate is computed and compared, whatever the earlier ones gave.
        for step in first..=last {
            let expected = format_code(hotp(&self.bytes[..], step, TOTP_DIGITS), TOTP_DIGITS);
            let matches: bool = expected.as_bytes().ct_eq(&typed).into();
            if matches {
                matched_any = true;
                if last_used_step.is_none_or(|used| step > used) {
                    accepted = Some(step);
                }
            }
        }
        match accepted {
            Some(step) => Ok(step),
            None if matched_any => Err(TotpError::Replayed),
            None => Err(TotpError::Mismatch),
        }
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<oculto>)")
    }
}

/// HOTP (RFC 4226 §5.3) with HMAC-SHA-1: the code for `counter`, `digits` long.
pub(crate) fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let truncated = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    truncated % 10u32.pow(digits)
}

fn format_code(code: u32, digits: u32) -> String {
    format!("{code:0width$}", width = digits as usize)
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 column: the 20-byte ASCII key "12345678901234567890", 8 digits.
    #[test]
    fn rfc_6238_appendix_b_sha1_eight_digits() {
        let key = b"12345678901234567890";
        let vectors: [(u64, u32); 6] = [
            (59, 94_287_082),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ];
        for (unix_s, expected) in vectors {
            assert_eq!(hotp(key, totp_step(unix_s), 8), expected, "at {unix_s}");
            assert_eq!(format_code(hotp(key, totp_step(unix_s), 8), 8).len(), 8);
        }
    }

    #[test]
    fn rfc_4226_appendix_d_hotp_values() {
        let key = b"12345678901234567890";
        let expected = [
            755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871,
            520_489,
        ];
        for (counter, code) in expected.into_iter().enumerate() {
            assert_eq!(hotp(key, counter as u64, 6), code, "counter {counter}");
        }
    }

    #[test]
    fn labels_are_percent_encoded() {
        assert_eq!(percent_encode("+53 5123-4567"), "%2B53%205123-4567");
        assert_eq!(percent_encode("josé"), "jos%C3%A9");
    }
}
