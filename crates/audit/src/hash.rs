use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::AuditError;

/// Prefix of a leaf's hash input. Leaves and nodes are hashed under different prefixes
/// (RFC 6962 §2.1) so that an interior node can never be passed off as a leaf.
const LEAF_PREFIX: u8 = 0x00;
/// Prefix of an interior node's hash input.
const NODE_PREFIX: u8 = 0x01;

/// A SHA-256 digest: the hash of a leaf, of an interior node, or a tree root.
///
/// Shown and parsed as 64 hexadecimal digits (shown in lower case; parsed in either case).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, std::hash::Hash)]
pub struct Hash([u8; 32]);

impl Hash {
    /// The hash with these bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Hash {
        Hash(bytes)
    }

    /// The 32 bytes of the digest.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl From<[u8; 32]> for Hash {
    fn from(bytes: [u8; 32]) -> Hash {
        Hash(bytes)
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(formatter, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Hash({self})")
    }
}

impl FromStr for Hash {
    type Err = AuditError;

    /// Parses exactly 64 hexadecimal digits, upper or lower case.
    fn from_str(text: &str) -> Result<Hash, AuditError> {
        // Bytes, not chars: a multi-byte character is simply not a digit.
        let digits = text.as_bytes();
        if digits.len() != 64 {
            return Err(AuditError::HashMalformed);
        }
        let mut bytes = [0_u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let high = hex_value(pair[0]).ok_or(AuditError::HashMalformed)?;
            let low = hex_value(pair[1]).ok_or(AuditError::HashMalformed)?;
            *byte = (high << 4) | low;
        }
        Ok(Hash(bytes))
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// The hash of one log entry: `SHA-256(0x00 ‖ data)` (RFC 6962 §2.1).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(data);
    Hash(hasher.finalize().into())
}

/// The hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)` (RFC 6962 §2.1).
pub fn node_hash(left: Hash, right: Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left.0);
    hasher.update(right.0);
    Hash(hasher.finalize().into())
}

/// The root of the empty tree: `SHA-256("")` (RFC 6962 §2.1).
pub fn empty_root() -> Hash {
    Hash(Sha256::digest(b"").into())
}
