use ceiba_audit::{
    Checkpoint, CheckpointSigner, Frontier, Hash, SignedCheckpoint, consistency_proof, empty_root,
    inclusion_proof, leaf_hash, root, verify_consistency, verify_inclusion,
};

use crate::input::Unstructured;

/// No Merkle tree of `u64` leaves is higher than this, so no valid proof is longer.
const TREE_HEIGHT_MAX: usize = 64;

/// The proof verifiers (`ceiba_audit::verify_inclusion`, `verify_consistency`), which check
/// proofs that come from outside (a client auditing the log). The first byte chooses:
///
/// - odd: sizes, indexes, roots and proof hashes straight from the bytes. Checked: never a
///   panic, an index outside the tree or sizes out of order are refused, and no proof longer
///   than a tree can be high is accepted.
/// - even: a genuine proof over a tree built from the bytes, which must verify, then the same
///   proof with one bit changed (in a sibling, the leaf or a root), which must not.
pub fn audit_proof(data: &[u8]) {
    let mut input = Unstructured::new(data);
    if input.bool() {
        arbitrary_proofs(&mut input);
    } else {
        genuine_proofs(&mut input);
    }
}

fn arbitrary_proofs(input: &mut Unstructured<'_>) {
    // Small numbers reach the interesting branches; any `u64` reaches the edges.
    let number = |input: &mut Unstructured<'_>| {
        let value = input.u64();
        if input.bool() { value } else { value % 70 }
    };
    let (index, tree_size) = (number(input), number(input));
    let (old_size, new_size) = (number(input), number(input));
    let leaf = Hash::from_bytes(input.array());
    let tree_root = Hash::from_bytes(input.array());
    let proof: Vec<Hash> = input
        .rest()
        .chunks_exact(32)
        .map(|chunk| Hash::from_bytes(chunk.try_into().expect("32 bytes")))
        .collect();
    let inclusion = verify_inclusion(leaf, index, tree_size, &proof, tree_root);
    let consistency = verify_consistency(old_size, new_size, leaf, tree_root, &proof);
    if index >= tree_size || proof.len() > TREE_HEIGHT_MAX {
        assert!(
            inclusion.is_err(),
            "index {index} of {tree_size}, {} hashes",
            proof.len()
        );
    }
    if old_size > new_size || proof.len() > TREE_HEIGHT_MAX {
        assert!(
            consistency.is_err(),
            "{old_size} to {new_size}, {} hashes",
            proof.len()
        );
    }
    for error in [inclusion.err(), consistency.err()].into_iter().flatten() {
        assert!(!error.to_string().is_empty());
    }
}

fn flip(hash: Hash, bit: u8) -> Hash {
    let mut bytes = *hash.as_bytes();
    bytes[usize::from(bit / 8) % 32] ^= 1 << (bit % 8);
    Hash::from_bytes(bytes)
}

fn genuine_proofs(input: &mut Unstructured<'_>) {
    let leaf_count = 1 + input.below(48);
    let salt = input.u8();
    let leaves: Vec<Hash> = (0..leaf_count)
        .map(|position| leaf_hash(&[salt, position.to_le_bytes()[0]]))
        .collect();
    let tree_size = 1 + input.below(leaf_count);
    let index = input.below(tree_size);
    let tree_root = root(&leaves[..tree_size]);
    let leaf = leaves[index];
    let (index, size) = (index as u64, tree_size as u64);

    let proof = inclusion_proof(&leaves, index, size).expect("a proof for a leaf in the tree");
    assert!(proof.len() <= TREE_HEIGHT_MAX);
    verify_inclusion(leaf, index, size, &proof, tree_root)
        .expect("a genuine inclusion proof verifies");
    let bit = input.u8();
    assert!(verify_inclusion(flip(leaf, bit), index, size, &proof, tree_root).is_err());
    assert!(verify_inclusion(leaf, index, size, &proof, flip(tree_root, bit)).is_err());
    if !proof.is_empty() {
        let mut broken = proof.clone();
        let at = input.below(broken.len());
        broken[at] = flip(broken[at], bit);
        assert!(
            verify_inclusion(leaf, index, size, &broken, tree_root).is_err(),
            "a changed sibling still proves inclusion"
        );
        broken.truncate(at);
        assert!(
            verify_inclusion(leaf, index, size, &broken, tree_root).is_err(),
            "a shortened proof still proves inclusion"
        );
    }

    let old_size = input.below(tree_size + 1);
    let old_root = if old_size == 0 {
        empty_root()
    } else {
        root(&leaves[..old_size])
    };
    let old = old_size as u64;
    let proof = consistency_proof(&leaves, old, size).expect("a proof between two sizes");
    verify_consistency(old, size, old_root, tree_root, &proof)
        .expect("a genuine consistency proof verifies");
    assert!(verify_consistency(old, size, flip(old_root, bit), tree_root, &proof).is_err());
    // The empty tree is extended by every tree (RFC 9162 §2.1.4): only a real old tree binds
    // the new root.
    if old_size > 0 {
        assert!(verify_consistency(old, size, old_root, flip(tree_root, bit), &proof).is_err());
    }
    if !proof.is_empty() {
        let mut broken = proof;
        let at = input.below(broken.len());
        broken[at] = flip(broken[at], bit);
        assert!(
            verify_consistency(old, size, old_root, tree_root, &broken).is_err(),
            "a changed proof still proves consistency"
        );
    }
}

/// The canonical encodings of the audit log read from outside or from storage:
/// `ceiba_audit::SignedCheckpoint::parse` (a checkpoint's text), `Hash::from_str` and
/// `Frontier::from_bytes`. Checked: what parses writes back to the same text or bytes; a
/// checkpoint signed here verifies, and once any byte of its text changes it either no longer
/// parses or no longer verifies.
pub fn audit_checkpoint(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match SignedCheckpoint::parse(&text) {
        Ok(signed) => {
            assert!(text.len() <= SignedCheckpoint::TEXT_BYTES_MAX);
            assert_eq!(signed.to_text(), text, "a checkpoint has two texts");
            let _ = signed.verify(&[7; 32]);
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
    if let Ok(hash) = text.parse::<Hash>() {
        assert_eq!(hash.to_string(), text.to_ascii_lowercase());
        assert_eq!(hash.to_string().parse::<Hash>(), Ok(hash));
    }
    if let Ok(frontier) = Frontier::from_bytes(data) {
        assert_eq!(frontier.to_bytes(), data, "a frontier has two encodings");
    }

    // A checkpoint of our own, then its text with edits.
    let mut input = Unstructured::new(data);
    let signer = CheckpointSigner::from_seed(input.array());
    let origin = String::from_utf8_lossy(input.short_bytes()).into_owned();
    let tree_size = input.u64();
    let timestamp_ms = i64::from_le_bytes(input.array());
    let Ok(checkpoint) = Checkpoint::new(
        origin,
        tree_size,
        Hash::from_bytes(input.array()),
        timestamp_ms,
    ) else {
        return;
    };
    let signed = signer.sign(&checkpoint);
    let public_key = signer.public_key_bytes();
    let original = signed.to_text();
    assert_eq!(SignedCheckpoint::parse(&original).as_ref(), Ok(&signed));
    signed
        .verify(&public_key)
        .expect("our own signature verifies");
    let mut edited = original.clone().into_bytes();
    crate::input::mutate(&mut edited, &mut input, 4);
    let edited = String::from_utf8_lossy(&edited);
    if edited != original
        && let Ok(parsed) = SignedCheckpoint::parse(&edited)
    {
        assert!(
            parsed.verify(&public_key).is_err(),
            "an edited checkpoint still verifies: {edited:?}"
        );
    }
}
