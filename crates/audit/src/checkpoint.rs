//! Checkpoints: a signed statement "the log named origin had this size and this root at this
//! time", which a third party keeps to hold the log to its history.
//!
//! # Text format
//!
//! The signed body is four lines, each ending in `'\n'`:
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <root, standard base64 with padding (44 characters)>
//! <timestamp in milliseconds since the Unix epoch, decimal, may be negative>
//! ```
//!
//! The signed checkpoint adds a blank line and a signature line, also ending in `'\n'`:
//!
//! ```text
//! — <origin> <Ed25519 signature of the body's bytes, standard base64 with padding>
//! ```
//!
//! (`—` is U+2014 EM DASH, as in the signed notes of transparency logs.) Numbers are written
//! without sign `+`, leading zeros or spaces; there is one encoding of each checkpoint, and the
//! parser refuses every other text, including `"\r\n"` line ends.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::{AuditError, Hash};

/// Opens the signature line.
const SIGNATURE_LINE_PREFIX: &str = "— ";

/// A statement of the log's size and root at a time, before signing.
///
/// Built by [`Checkpoint::new`], which checks the origin, so every checkpoint has a text
/// encoding that parses back to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    tree_size: u64,
    root: Hash,
    timestamp_ms: i64,
}

impl Checkpoint {
    /// Longest origin accepted, in bytes: a log name, not a document.
    pub const ORIGIN_BYTES_MAX: usize = 256;

    /// A checkpoint of the log named `origin` (for instance `ceiba.example/auditoria`) holding
    /// `tree_size` entries with root `root` at `timestamp_ms` (milliseconds since the Unix
    /// epoch, passed in by the caller).
    ///
    /// The origin must be 1 to [`Checkpoint::ORIGIN_BYTES_MAX`] bytes with no whitespace and no
    /// control characters, so that it fits on one line and in the signature line.
    pub fn new(
        origin: impl Into<String>,
        tree_size: u64,
        root: Hash,
        timestamp_ms: i64,
    ) -> Result<Checkpoint, AuditError> {
        let origin = origin.into();
        check_origin(&origin)?;
        Ok(Checkpoint {
            origin,
            tree_size,
            root,
            timestamp_ms,
        })
    }

    /// The name of the log.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// How many entries the log held.
    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    /// The Merkle Tree Hash of those entries.
    pub fn root(&self) -> Hash {
        self.root
    }

    /// When the checkpoint was made, in milliseconds since the Unix epoch.
    pub fn timestamp_ms(&self) -> i64 {
        self.timestamp_ms
    }

    /// The canonical body that is signed (see the module documentation for the format).
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n",
            self.origin,
            self.tree_size,
            BASE64.encode(self.root.as_bytes()),
            self.timestamp_ms
        )
    }
}

fn check_origin(origin: &str) -> Result<(), AuditError> {
    if origin.is_empty() {
        return Err(AuditError::OriginInvalid {
            reason: "está vacío",
        });
    }
    if origin.len() > Checkpoint::ORIGIN_BYTES_MAX {
        return Err(AuditError::OriginInvalid {
            reason: "supera los 256 bytes",
        });
    }
    if origin
        .chars()
        .any(|character| character.is_whitespace() || character.is_control())
    {
        return Err(AuditError::OriginInvalid {
            reason: "contiene espacios o caracteres de control",
        });
    }
    Ok(())
}

/// Signs checkpoints with an Ed25519 key.
///
/// Its `Debug` shows the public key only.
pub struct CheckpointSigner {
    signing_key: SigningKey,
}

impl CheckpointSigner {
    /// The signer whose Ed25519 secret key is this 32-byte seed (RFC 8032 §5.1.5). The caller
    /// draws the seed from a secure random source once and keeps it secret; this crate needs no
    /// random numbers.
    pub fn from_seed(seed: [u8; 32]) -> CheckpointSigner {
        CheckpointSigner {
            signing_key: SigningKey::from_bytes(&seed),
        }
    }

    /// The public key that verifies this signer's checkpoints, to publish.
    pub fn public_key_bytes(&self) -> [u8; 32] {
        self.signing_key.verifying_key().to_bytes()
    }

    /// Signs the checkpoint's [`Checkpoint::body`].
    pub fn sign(&self, checkpoint: &Checkpoint) -> SignedCheckpoint {
        let signature = self.signing_key.sign(checkpoint.body().as_bytes());
        SignedCheckpoint {
            checkpoint: checkpoint.clone(),
            signature: signature.to_bytes(),
        }
    }
}

impl fmt::Debug for CheckpointSigner {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CheckpointSigner")
            .field("public_key", &BASE64.encode(self.public_key_bytes()))
            .finish_non_exhaustive()
    }
}

/// A checkpoint with its Ed25519 signature over [`Checkpoint::body`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub signature: [u8; 64],
}

impl SignedCheckpoint {
    /// Longest text [`SignedCheckpoint::parse`] reads, in bytes: a valid one is under 700.
    pub const TEXT_BYTES_MAX: usize = 1024;

    /// Checks the signature against this Ed25519 public key.
    ///
    /// Uses the strict verification of ed25519-dalek, which also refuses weak public keys and
    /// non-canonical signatures, so a valid signature cannot be altered into another valid one.
    pub fn verify(&self, public_key_bytes: &[u8; 32]) -> Result<(), AuditError> {
        let key =
            VerifyingKey::from_bytes(public_key_bytes).map_err(|_| AuditError::PublicKeyInvalid)?;
        self.verify_with(&key)
    }

    pub(crate) fn verify_with(&self, key: &VerifyingKey) -> Result<(), AuditError> {
        key.verify_strict(
            self.checkpoint.body().as_bytes(),
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|_| AuditError::SignatureInvalid)
    }

    /// The text encoding: the body, a blank line, and the signature line (see the module
    /// documentation).
    pub fn to_text(&self) -> String {
        format!(
            "{}\n{}{} {}\n",
            self.checkpoint.body(),
            SIGNATURE_LINE_PREFIX,
            self.checkpoint.origin,
            BASE64.encode(self.signature)
        )
    }

    /// Reads the text of [`SignedCheckpoint::to_text`], refusing anything else. Does not check
    /// the signature: call [`SignedCheckpoint::verify`].
    pub fn parse(text: &str) -> Result<SignedCheckpoint, AuditError> {
        let malformed = |reason| AuditError::CheckpointMalformed { reason };
        if text.len() > SignedCheckpoint::TEXT_BYTES_MAX {
            return Err(malformed("supera los 1024 bytes"));
        }
        let Some(lines_text) = text.strip_suffix('\n') else {
            return Err(malformed("no termina en salto de línea"));
        };
        let lines: Vec<&str> = lines_text.split('\n').collect();
        let [origin, size, root, timestamp, blank, signature_line] = lines[..] else {
            return Err(malformed(
                "se esperan cuatro líneas de cuerpo, una línea vacía y una línea de firma",
            ));
        };
        if !blank.is_empty() {
            return Err(malformed("falta la línea vacía antes de la firma"));
        }
        check_origin(origin).map_err(|_| malformed("el origen no es válido"))?;
        let tree_size = parse_canonical::<u64>(size)
            .ok_or_else(|| malformed("el tamaño no es un número decimal canónico"))?;
        let root = decode_base64::<32>(root)
            .ok_or_else(|| malformed("la raíz no es base64 canónico de 32 bytes"))?;
        let timestamp_ms = parse_canonical::<i64>(timestamp)
            .ok_or_else(|| malformed("la marca de tiempo no es un número decimal canónico"))?;
        let Some(signed_by_and_signature) = signature_line.strip_prefix(SIGNATURE_LINE_PREFIX)
        else {
            return Err(malformed("la línea de firma no empieza por «— »"));
        };
        let Some((signed_by, signature)) = signed_by_and_signature.split_once(' ') else {
            return Err(malformed("la línea de firma no tiene origen y firma"));
        };
        if signed_by != origin {
            return Err(malformed("la línea de firma nombra otro origen"));
        }
        let signature = decode_base64::<64>(signature)
            .ok_or_else(|| malformed("la firma no es base64 canónico de 64 bytes"))?;
        Ok(SignedCheckpoint {
            checkpoint: Checkpoint {
                origin: origin.to_owned(),
                tree_size,
                root: Hash::from_bytes(root),
                timestamp_ms,
            },
            signature,
        })
    }
}

/// A number written exactly as Rust writes it back: no `+`, no leading zeros, no `-0`.
fn parse_canonical<T: std::str::FromStr + ToString>(text: &str) -> Option<T> {
    let value: T = text.parse().ok()?;
    (value.to_string() == text).then_some(value)
}

/// Exactly `N` bytes in standard padded base64, written as it encodes back.
fn decode_base64<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = BASE64.decode(text).ok()?;
    let array: [u8; N] = bytes.try_into().ok()?;
    (BASE64.encode(array) == text).then_some(array)
}
