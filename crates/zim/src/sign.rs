//! Detached Ed25519 signatures of offline packages, so that a copy passed from hand to hand
//! can be checked against the publisher's key before anyone trusts it.
//!
//! The signed message is not the file itself but a domain-separated digest of it,
//! `"ceiba-zim-firma/1" 0x00 || length (u64, big-endian) || SHA-256(file)`: a package of
//! gigabytes is streamed through SHA-256 once, and a signature made for this purpose can never
//! be replayed as a signature of anything else the same key signs.
//!
//! A signature travels as a small text file next to the package:
//!
//! ```text
//! ceiba-zim-firma/1
//! clave: <public key, base64>
//! tamaño: <length of the package in bytes>
//! sha256: <digest of the package, lowercase hex>
//! firma: <Ed25519 signature, base64>
//! ```
//!
//! The parser is strict (one canonical spelling of every value), so that flipping any bit of
//! the text either makes it unreadable or changes what it says, and verification fails.

use std::fmt;
use std::io::Read;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

/// First line of a signature file; also the domain separator of the signed message.
pub const SIGNATURE_FORMAT: &str = "ceiba-zim-firma/1";

/// Prefix of a published public key in text form.
pub const PUBLIC_KEY_PREFIX: &str = "ed25519:";

/// Largest signature or key text accepted: the real ones are a few hundred bytes, so anything
/// larger is not one of ours and is refused before it is looked at.
pub const MAX_TEXT_LEN: usize = 4096;

/// Domain separator of the fingerprint, so it cannot be confused with any other key digest.
const FINGERPRINT_DOMAIN: &[u8] = b"ceiba-zim-huella/1\0";

/// Buffer size when streaming a package through SHA-256.
const READ_CHUNK: usize = 64 * 1024;

/// Why a package or a signature was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The signature was made with a key other than the published, trusted one.
    #[error(
        "la firma es de otra clave (huella {found}), no de la clave publicada (huella {expected})"
    )]
    WrongKey {
        /// Fingerprint of the trusted key.
        expected: Fingerprint,
        /// Fingerprint of the key named in the signature file.
        found: Fingerprint,
    },
    /// The Ed25519 signature does not match what the signature file declares.
    #[error(
        "la firma no es válida: el archivo de firma fue alterado o no lo firmó la clave publicada"
    )]
    BadSignature,
    /// The package is shorter than the signed one.
    #[error("el paquete está truncado: tiene {actual} bytes y el firmado tenía {expected} bytes")]
    Truncated {
        /// Length of the package that was given.
        actual: u64,
        /// Length that was signed.
        expected: u64,
    },
    /// The package is longer than the signed one.
    #[error(
        "el paquete fue alterado: tiene más bytes que los {expected} bytes del paquete firmado"
    )]
    TooLong {
        /// Length that was signed.
        expected: u64,
    },
    /// The package has the signed length but different content.
    #[error(
        "el paquete fue alterado: su SHA-256 es {actual} y el del paquete firmado es {expected}"
    )]
    Altered {
        /// Digest that was signed, lowercase hex.
        expected: String,
        /// Digest of the package that was given, lowercase hex.
        actual: String,
    },
    /// The signature file cannot be read.
    #[error("archivo de firma mal formado, línea {line}: {reason}")]
    MalformedSignature {
        /// Line number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The public key text cannot be read.
    #[error("clave pública mal formada: {reason}")]
    MalformedKey {
        /// What is wrong with it.
        reason: String,
    },
    /// The package stream could not be read.
    #[error("no se pudo leer el paquete: {0}")]
    Read(#[from] std::io::Error),
}

/// A published Ed25519 public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// The public half of a signing key.
    #[must_use]
    pub fn from_signing_key(key: &SigningKey) -> Self {
        Self(key.verifying_key())
    }

    /// Wraps an Ed25519 verifying key.
    #[must_use]
    pub fn from_verifying_key(key: VerifyingKey) -> Self {
        Self(key)
    }

    /// The Ed25519 verifying key.
    #[must_use]
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }

    /// Text form to publish: `ed25519:` followed by the 32 key bytes in base64.
    #[must_use]
    pub fn to_text(&self) -> String {
        format!("{PUBLIC_KEY_PREFIX}{}", BASE64.encode(self.0.as_bytes()))
    }

    /// Reads a key written by [`PublicKey::to_text`]; surrounding blanks are ignored because
    /// people copy keys from web pages and messages.
    ///
    /// # Errors
    /// [`SignError::MalformedKey`] saying what is wrong.
    pub fn parse(text: &str) -> Result<Self, SignError> {
        let malformed = |reason: &str| SignError::MalformedKey {
            reason: reason.to_owned(),
        };
        if text.len() > MAX_TEXT_LEN {
            return Err(malformed("el texto es demasiado largo para ser una clave"));
        }
        let encoded = text
            .trim()
            .strip_prefix(PUBLIC_KEY_PREFIX)
            .ok_or_else(|| malformed("debe empezar por «ed25519:»"))?;
        decode_key(encoded).map_err(|reason| SignError::MalformedKey { reason })
    }

    /// A short digest of the key for people to compare by voice or on paper.
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        let mut hasher = Sha256::new();
        hasher.update(FINGERPRINT_DOMAIN);
        hasher.update(self.0.as_bytes());
        let digest = hasher.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Fingerprint(bytes)
    }
}

/// 128 bits of a key's digest, shown as 8 groups of 4 hex digits (`3f2a 9c01 …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 16]);

impl Fingerprint {
    /// The raw 16 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, pair) in self.0.chunks(2).enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{:02x}{:02x}", pair[0], pair[1])?;
        }
        Ok(())
    }
}

/// Length and SHA-256 of a package: what a signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageDigest {
    /// Length in bytes.
    pub len: u64,
    /// SHA-256 of the whole file.
    pub sha256: [u8; 32],
}

impl PackageDigest {
    /// Digest of bytes in memory.
    #[must_use]
    pub fn of_bytes(package: &[u8]) -> Self {
        Self {
            len: package.len() as u64,
            sha256: Sha256::digest(package).into(),
        }
    }

    /// Digest of a stream, read to its end in chunks.
    ///
    /// # Errors
    /// [`SignError::Read`] when the stream fails.
    pub fn of_reader<R: Read>(reader: R) -> Result<Self, SignError> {
        let mut reader = reader;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; READ_CHUNK];
        let mut len = 0u64;
        loop {
            let read = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error.into()),
            };
            hasher.update(&buffer[..read]);
            len += read as u64;
        }
        Ok(Self {
            len,
            sha256: hasher.finalize().into(),
        })
    }

    /// The message Ed25519 signs: domain, length, digest.
    fn signed_message(&self) -> Vec<u8> {
        let mut message = Vec::with_capacity(SIGNATURE_FORMAT.len() + 1 + 8 + 32);
        message.extend_from_slice(SIGNATURE_FORMAT.as_bytes());
        message.push(0);
        message.extend_from_slice(&self.len.to_be_bytes());
        message.extend_from_slice(&self.sha256);
        message
    }
}

/// A signature kept apart from the package it signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachedSignature {
    key: PublicKey,
    digest: PackageDigest,
    signature: Signature,
}

impl DetachedSignature {
    /// The key the signature file says made it (not yet checked against the trusted one).
    #[must_use]
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// Length and digest of the package that was signed.
    #[must_use]
    pub fn digest(&self) -> &PackageDigest {
        &self.digest
    }

    /// The Ed25519 signature.
    #[must_use]
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The signature file, five lines each ending in `\n`.
    #[must_use]
    pub fn to_text(&self) -> String {
        format!(
            "{SIGNATURE_FORMAT}\nclave: {}\ntamaño: {}\nsha256: {}\nfirma: {}\n",
            BASE64.encode(self.key.0.as_bytes()),
            self.digest.len,
            to_hex(&self.digest.sha256),
            BASE64.encode(self.signature.to_bytes()),
        )
    }

    /// Reads a signature file written by [`DetachedSignature::to_text`]. Lines may end in
    /// `\r\n` (files copied through Windows); nothing else is tolerated.
    ///
    /// # Errors
    /// [`SignError::MalformedSignature`] naming the line and what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, SignError> {
        let malformed = |line: usize, reason: &str| SignError::MalformedSignature {
            line,
            reason: reason.to_owned(),
        };
        if text.len() > MAX_TEXT_LEN {
            return Err(malformed(
                1,
                "el archivo es demasiado grande para ser una firma",
            ));
        }
        let body = text.strip_suffix('\n').unwrap_or(text);
        let lines: Vec<&str> = body
            .split('\n')
            .map(|line| line.strip_suffix('\r').unwrap_or(line))
            .collect();
        if lines.first() != Some(&SIGNATURE_FORMAT) {
            return Err(malformed(1, "debe decir «ceiba-zim-firma/1»"));
        }
        let field = |index: usize, name: &str| -> Result<&str, SignError> {
            let line = lines
                .get(index)
                .ok_or_else(|| malformed(index + 1, &format!("falta la línea «{name}: …»")))?;
            line.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(": "))
                .ok_or_else(|| malformed(index + 1, &format!("debe empezar por «{name}: »")))
        };

        let key = decode_key(field(1, "clave")?)
            .map_err(|reason| SignError::MalformedSignature { line: 2, reason })?;

        let len_text = field(2, "tamaño")?;
        let len = parse_decimal(len_text).ok_or_else(|| {
            malformed(
                3,
                "el tamaño debe ser un número de bytes, sin ceros a la izquierda",
            )
        })?;

        let sha256 = from_hex_32(field(3, "sha256")?).ok_or_else(|| {
            malformed(
                4,
                "el SHA-256 debe tener 64 cifras hexadecimales en minúscula",
            )
        })?;

        let signature_bytes: [u8; 64] = BASE64
            .decode(field(4, "firma")?)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| malformed(5, "la firma debe ser 64 bytes en base64"))?;

        if lines.len() > 5 {
            return Err(malformed(6, "sobra texto después de la firma"));
        }
        Ok(Self {
            key,
            digest: PackageDigest { len, sha256 },
            signature: Signature::from_bytes(&signature_bytes),
        })
    }
}

/// What a successful verification vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Fingerprint of the (trusted) key that signed.
    pub signer: Fingerprint,
    /// Length and digest of the verified package.
    pub digest: PackageDigest,
}

/// Signs a package held in memory.
#[must_use]
pub fn sign(package: &[u8], key: &SigningKey) -> DetachedSignature {
    sign_digest(PackageDigest::of_bytes(package), key)
}

/// Signs a package read from a stream (a file of gigabytes need not fit in memory).
///
/// # Errors
/// [`SignError::Read`] when the stream fails.
pub fn sign_reader<R: Read>(package: R, key: &SigningKey) -> Result<DetachedSignature, SignError> {
    Ok(sign_digest(PackageDigest::of_reader(package)?, key))
}

/// Signs an already computed digest.
#[must_use]
pub fn sign_digest(digest: PackageDigest, key: &SigningKey) -> DetachedSignature {
    DetachedSignature {
        key: PublicKey::from_signing_key(key),
        digest,
        signature: key.sign(&digest.signed_message()),
    }
}

/// Checks a package in memory against its detached signature and the published key.
///
/// # Errors
/// [`SignError::WrongKey`], [`SignError::BadSignature`], [`SignError::Truncated`],
/// [`SignError::TooLong`] or [`SignError::Altered`].
pub fn verify(
    package: &[u8],
    signature: &DetachedSignature,
    trusted_key: &PublicKey,
) -> Result<Verified, SignError> {
    check_signature(signature, trusted_key)?;
    compare_digest(signature, PackageDigest::of_bytes(package))
}

/// Checks a package read from a stream. Reads at most one byte past the signed length, so a
/// stream that never ends cannot hold the check forever.
///
/// # Errors
/// As [`verify`], plus [`SignError::Read`] when the stream fails.
pub fn verify_reader<R: Read>(
    package: R,
    signature: &DetachedSignature,
    trusted_key: &PublicKey,
) -> Result<Verified, SignError> {
    check_signature(signature, trusted_key)?;
    let limit = signature.digest.len.saturating_add(1);
    compare_digest(signature, PackageDigest::of_reader(package.take(limit))?)
}

/// The key and the Ed25519 signature, before any byte of the package is read.
fn check_signature(
    signature: &DetachedSignature,
    trusted_key: &PublicKey,
) -> Result<(), SignError> {
    if signature.key != *trusted_key {
        return Err(SignError::WrongKey {
            expected: trusted_key.fingerprint(),
            found: signature.key.fingerprint(),
        });
    }
    // Strict verification refuses malleable signatures and small-order keys.
    trusted_key
        .0
        .verify_strict(&signature.digest.signed_message(), &signature.signature)
        .map_err(|_| SignError::BadSignature)
}

fn compare_digest(
    signature: &DetachedSignature,
    actual: PackageDigest,
) -> Result<Verified, SignError> {
    let expected = signature.digest;
    if actual.len < expected.len {
        return Err(SignError::Truncated {
            actual: actual.len,
            expected: expected.len,
        });
    }
    if actual.len > expected.len {
        return Err(SignError::TooLong {
            expected: expected.len,
        });
    }
    if actual.sha256 != expected.sha256 {
        return Err(SignError::Altered {
            expected: to_hex(&expected.sha256),
            actual: to_hex(&actual.sha256),
        });
    }
    Ok(Verified {
        signer: signature.key.fingerprint(),
        digest: actual,
    })
}

fn decode_key(encoded: &str) -> Result<PublicKey, String> {
    let bytes: [u8; 32] = BASE64
        .decode(encoded)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| "la clave debe ser 32 bytes en base64".to_owned())?;
    VerifyingKey::from_bytes(&bytes)
        .map(PublicKey)
        .map_err(|_| "la clave no es un punto válido de Ed25519".to_owned())
}

/// Canonical decimal only: digits, no sign, no leading zero (except "0" itself).
fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|byte| byte.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Lowercase only, so one digest has exactly one spelling.
fn from_hex_32(text: &str) -> Option<[u8; 32]> {
    let digits = text.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let nibble = |digit: u8| match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}
