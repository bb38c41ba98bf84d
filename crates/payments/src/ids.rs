//! 128-bit identifiers derived from text by SHA-256, never one of the two the ledger refuses.

use sha2::{Digest, Sha256};

/// The first 16 bytes, big-endian, of SHA-256 over the concatenated `parts`; 0 and 2^128-1 (which
/// the ledger refuses as ids) become 1.
pub(crate) fn hash_u128(parts: &[&[u8]]) -> u128 {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    not_reserved(u128::from_be_bytes(first))
}

/// 0 and 2^128-1 become 1.
pub(crate) fn not_reserved(value: u128) -> u128 {
    if value == 0 || value == u128::MAX {
        1
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_values_become_one() {
        assert_eq!(not_reserved(0), 1);
        assert_eq!(not_reserved(u128::MAX), 1);
        assert_eq!(not_reserved(7), 7);
    }

    #[test]
    fn known_digest() {
        // SHA-256("abc") starts ba7816bf8f01cfea414140de5dae2223.
        assert_eq!(
            hash_u128(&[b"a", b"bc"]),
            0xba78_16bf_8f01_cfea_4141_40de_5dae_2223
        );
    }
}
