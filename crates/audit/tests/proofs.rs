//! Inclusion and consistency proofs: produced as the naive reference produces them, accepted
//! when right, refused when anything about them is wrong.

mod reference;

use ceiba_audit::{
    AuditError, Hash, consistency_proof, empty_root, inclusion_proof, leaf_hash, root,
    verify_consistency, verify_inclusion,
};
use proptest::prelude::*;

/// Exhaustive checks cover every tree up to this many leaves.
const EXHAUSTIVE_LEAVES_MAX: usize = 64;

fn hex(text: &str) -> Hash {
    text.parse().expect("test hashes are valid hex")
}

/// The same hash with one bit flipped, the bit chosen by `seed`.
fn flip_bit(hash: Hash, seed: usize) -> Hash {
    let mut bytes = *hash.as_bytes();
    bytes[(seed / 8) % 32] ^= 1 << (seed % 8);
    Hash::from_bytes(bytes)
}

/// The reference tree of the Certificate Transparency implementations (see tests/tree.rs).
fn certificate_transparency_leaves() -> Vec<Hash> {
    [
        &b""[..],
        &[0x00],
        &[0x10],
        &[0x20, 0x21],
        &[0x30, 0x31],
        &[0x40, 0x41, 0x42, 0x43],
        &[0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        &[
            0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d,
            0x6e, 0x6f,
        ],
    ]
    .iter()
    .map(|data| leaf_hash(data))
    .collect()
}

#[test]
fn certificate_transparency_reference_inclusion_proofs() {
    let leaves = certificate_transparency_leaves();
    // (index, tree size, proof), as published by the CT implementations (which number leaves
    // from 1; these are from 0).
    let vectors: [(usize, usize, &[&str]); 5] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (index, tree_size, expected) in vectors {
        let expected: Vec<Hash> = expected.iter().map(|text| hex(text)).collect();
        let (index_u64, tree_size_u64) = (index as u64, tree_size as u64);
        let proof = inclusion_proof(&leaves, index_u64, tree_size_u64).expect("in range");
        assert_eq!(proof, expected, "PATH({index}, {tree_size})");
        let tree_root = root(&leaves[..tree_size]);
        assert_eq!(
            verify_inclusion(leaves[index], index_u64, tree_size_u64, &proof, tree_root),
            Ok(())
        );
    }
}

#[test]
fn certificate_transparency_reference_consistency_proofs() {
    let leaves = certificate_transparency_leaves();
    let vectors: [(usize, usize, &[&str]); 4] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (old_size, new_size, expected) in vectors {
        let expected: Vec<Hash> = expected.iter().map(|text| hex(text)).collect();
        let (old_u64, new_u64) = (old_size as u64, new_size as u64);
        let proof = consistency_proof(&leaves, old_u64, new_u64).expect("in range");
        assert_eq!(proof, expected, "PROOF({old_size}, {new_size})");
        let (old_root, new_root) = (root(&leaves[..old_size]), root(&leaves[..new_size]));
        assert_eq!(
            verify_consistency(old_u64, new_u64, old_root, new_root, &proof),
            Ok(())
        );
    }
}

#[test]
fn every_inclusion_proof_verifies_and_every_alteration_is_refused() {
    let leaves = reference::leaves(EXHAUSTIVE_LEAVES_MAX);
    let roots: Vec<Hash> = (0..=leaves.len())
        .map(|size| reference::mth(&leaves[..size]))
        .collect();
    for tree_size in 1..=leaves.len() {
        let tree_root = roots[tree_size];
        for index in 0..tree_size {
            let leaf = leaves[index];
            let proof = inclusion_proof(&leaves, index as u64, tree_size as u64).unwrap();
            assert_eq!(
                proof,
                reference::path(index, &leaves[..tree_size]),
                "PATH({index}, {tree_size})"
            );
            let verify = |leaf, index: usize, tree_size: usize, proof: &[Hash], root| {
                verify_inclusion(leaf, index as u64, tree_size as u64, proof, root)
            };
            assert_eq!(verify(leaf, index, tree_size, &proof, tree_root), Ok(()));

            let refused = Err(AuditError::InclusionProofInvalid);
            for position in 0..proof.len() {
                // One bit per hash, a different one for each (index, size, position).
                let mut altered = proof.clone();
                let seed = index * 31 + tree_size * 7 + position * 97;
                altered[position] = flip_bit(altered[position], seed);
                assert_eq!(verify(leaf, index, tree_size, &altered, tree_root), refused);
                let mut shorter = proof.clone();
                shorter.remove(position);
                assert_eq!(verify(leaf, index, tree_size, &shorter, tree_root), refused);
                let mut swapped = proof.clone();
                swapped.swap(position, (position + 1) % proof.len());
                if swapped != proof {
                    assert_eq!(verify(leaf, index, tree_size, &swapped, tree_root), refused);
                }
            }
            let longer = [proof.as_slice(), &[tree_root]].concat();
            assert_eq!(verify(leaf, index, tree_size, &longer, tree_root), refused);
            assert_eq!(
                verify(flip_bit(leaf, index), index, tree_size, &proof, tree_root),
                refused
            );
            assert_eq!(
                verify(leaf, index, tree_size, &proof, flip_bit(tree_root, index)),
                refused
            );
            // Another leaf's hash at this index, and this leaf at another index: the
            // neighbours, the mirror image and the ends.
            let others = [
                index ^ 1,
                index + 1,
                index.wrapping_sub(1),
                tree_size - 1 - index,
                0,
                tree_size - 1,
            ];
            for other in others {
                if other != index && other < tree_size {
                    assert_eq!(
                        verify(leaves[other], index, tree_size, &proof, tree_root),
                        refused
                    );
                    assert_eq!(verify(leaf, other, tree_size, &proof, tree_root), refused);
                }
            }
            // Another size with the same root: the verifier can only tell sizes apart through
            // the proof's shape, so it must refuse exactly when the shapes differ. (Which is
            // why a root is only trusted together with the size it was signed with.)
            let shape = reference::inclusion_shape(index, tree_size);
            for other_size in index + 1..=leaves.len() {
                if other_size != tree_size {
                    let same_shape = reference::inclusion_shape(index, other_size) == shape;
                    assert_eq!(
                        verify(leaf, index, other_size, &proof, tree_root).is_ok(),
                        same_shape,
                        "PATH({index}, {tree_size}) checked as size {other_size}"
                    );
                }
            }
            // And another size with that size's own root is refused.
            for other_size in [tree_size - 1, tree_size + 1] {
                if index < other_size && other_size <= leaves.len() {
                    assert_eq!(
                        verify(leaf, index, other_size, &proof, roots[other_size]),
                        refused
                    );
                }
            }
        }
    }
}

#[test]
fn every_consistency_proof_verifies_and_every_alteration_is_refused() {
    let leaves = reference::leaves(EXHAUSTIVE_LEAVES_MAX);
    let roots: Vec<Hash> = (0..=leaves.len())
        .map(|size| reference::mth(&leaves[..size]))
        .collect();
    let verify = |old_size: usize, new_size: usize, old_root, new_root, proof: &[Hash]| {
        verify_consistency(old_size as u64, new_size as u64, old_root, new_root, proof)
    };
    let refused = Err(AuditError::ConsistencyProofInvalid);
    for new_size in 1..=leaves.len() {
        for old_size in 1..new_size {
            let (old_root, new_root) = (roots[old_size], roots[new_size]);
            let proof = consistency_proof(&leaves, old_size as u64, new_size as u64).unwrap();
            assert_eq!(
                proof,
                reference::consistency(old_size, &leaves[..new_size]),
                "PROOF({old_size}, {new_size})"
            );
            assert_eq!(
                verify(old_size, new_size, old_root, new_root, &proof),
                Ok(())
            );

            for position in 0..proof.len() {
                let mut altered = proof.clone();
                let seed = old_size * 31 + new_size * 7 + position * 97;
                altered[position] = flip_bit(altered[position], seed);
                assert_eq!(
                    verify(old_size, new_size, old_root, new_root, &altered),
                    refused
                );
                let mut shorter = proof.clone();
                shorter.remove(position);
                assert_eq!(
                    verify(old_size, new_size, old_root, new_root, &shorter),
                    refused
                );
            }
            let longer = [proof.as_slice(), &[new_root]].concat();
            assert_eq!(
                verify(old_size, new_size, old_root, new_root, &longer),
                refused
            );
            assert_eq!(
                verify(old_size, new_size, flip_bit(old_root, 3), new_root, &proof),
                refused
            );
            assert_eq!(
                verify(old_size, new_size, old_root, flip_bit(new_root, 3), &proof),
                refused
            );
            // Roots of other sizes, nearby and far.
            for other in [
                old_size - 1,
                old_size + 1,
                new_size - 1,
                new_size + 1,
                old_size / 2,
                new_size * 2,
            ] {
                if other == 0 || other > leaves.len() {
                    continue;
                }
                if other != old_size {
                    assert_eq!(
                        verify(old_size, new_size, roots[other], new_root, &proof),
                        refused
                    );
                }
                if other != new_size {
                    assert_eq!(
                        verify(old_size, new_size, old_root, roots[other], &proof),
                        refused
                    );
                }
            }
            // Neighbouring sizes with the same roots: refused exactly when the proof's shape
            // differs (see the inclusion test); with their own roots, always refused.
            let shape = reference::consistency_shape(old_size, new_size);
            for (other_old, other_new) in [
                (old_size - 1, new_size),
                (old_size + 1, new_size),
                (old_size, new_size - 1),
                (old_size, new_size + 1),
                (old_size + 1, new_size + 1),
                (old_size - 1, new_size - 1),
            ] {
                if other_old == 0 || other_old >= other_new || other_new > leaves.len() {
                    continue;
                }
                let same_shape = reference::consistency_shape(other_old, other_new) == shape;
                assert_eq!(
                    verify(other_old, other_new, old_root, new_root, &proof).is_ok(),
                    same_shape,
                    "PROOF({old_size}, {new_size}) checked as ({other_old}, {other_new})"
                );
                assert_eq!(
                    verify(
                        other_old,
                        other_new,
                        roots[other_old],
                        roots[other_new],
                        &proof
                    ),
                    refused,
                    "PROOF({old_size}, {new_size}) checked as ({other_old}, {other_new})"
                );
            }
            // Equal sizes and the empty tree need an empty proof.
            assert_eq!(
                verify(new_size, new_size, new_root, new_root, &proof),
                refused
            );
            assert_eq!(verify(0, new_size, empty_root(), new_root, &proof), refused);
        }
    }
}

#[test]
fn trivial_consistency_cases_follow_the_rfc() {
    let leaves = reference::leaves(10);
    let tree_root = root(&leaves);
    let other_root = root(&leaves[..9]);
    // A tree is consistent with itself, with an empty proof, and with nothing else.
    assert_eq!(consistency_proof(&leaves, 10, 10), Ok(Vec::new()));
    assert_eq!(
        verify_consistency(10, 10, tree_root, tree_root, &[]),
        Ok(())
    );
    assert_eq!(
        verify_consistency(10, 10, other_root, tree_root, &[]),
        Err(AuditError::ConsistencyProofInvalid)
    );
    // Every tree extends the empty tree, whose root is fixed.
    assert_eq!(consistency_proof(&leaves, 0, 10), Ok(Vec::new()));
    assert_eq!(consistency_proof(&[], 0, 0), Ok(Vec::new()));
    assert_eq!(
        verify_consistency(0, 10, empty_root(), tree_root, &[]),
        Ok(())
    );
    assert_eq!(
        verify_consistency(0, 0, empty_root(), empty_root(), &[]),
        Ok(())
    );
    assert_eq!(
        verify_consistency(0, 10, other_root, tree_root, &[]),
        Err(AuditError::ConsistencyProofInvalid)
    );
    // Step 1 of RFC 9162 §2.1.4.2: otherwise an empty proof proves nothing.
    assert_eq!(
        verify_consistency(4, 10, root(&leaves[..4]), tree_root, &[]),
        Err(AuditError::ConsistencyProofInvalid)
    );
}

#[test]
fn out_of_range_arguments_are_refused() {
    let leaves = reference::leaves(5);
    let leaf = leaves[0];
    let tree_root = root(&leaves);
    assert_eq!(
        inclusion_proof(&leaves, 0, 6),
        Err(AuditError::TreeSizeBeyondLeaves {
            tree_size: 6,
            leaves_count: 5
        })
    );
    assert_eq!(
        inclusion_proof(&leaves, 5, 5),
        Err(AuditError::IndexOutOfRange {
            index: 5,
            tree_size: 5
        })
    );
    assert_eq!(
        inclusion_proof(&leaves, 3, 3),
        Err(AuditError::IndexOutOfRange {
            index: 3,
            tree_size: 3
        })
    );
    assert_eq!(
        inclusion_proof(&[], 0, 0),
        Err(AuditError::IndexOutOfRange {
            index: 0,
            tree_size: 0
        })
    );
    assert_eq!(
        inclusion_proof(&leaves, u64::MAX, u64::MAX),
        Err(AuditError::TreeSizeBeyondLeaves {
            tree_size: u64::MAX,
            leaves_count: 5
        })
    );
    assert_eq!(
        consistency_proof(&leaves, 3, 6),
        Err(AuditError::TreeSizeBeyondLeaves {
            tree_size: 6,
            leaves_count: 5
        })
    );
    assert_eq!(
        consistency_proof(&leaves, 4, 3),
        Err(AuditError::SizesOutOfOrder {
            old_size: 4,
            new_size: 3
        })
    );
    assert_eq!(
        verify_inclusion(leaf, 5, 5, &[], tree_root),
        Err(AuditError::IndexOutOfRange {
            index: 5,
            tree_size: 5
        })
    );
    assert_eq!(
        verify_inclusion(leaf, 0, 0, &[], empty_root()),
        Err(AuditError::IndexOutOfRange {
            index: 0,
            tree_size: 0
        })
    );
    assert_eq!(
        verify_consistency(5, 4, tree_root, tree_root, &[]),
        Err(AuditError::SizesOutOfOrder {
            old_size: 5,
            new_size: 4
        })
    );
}

#[test]
fn huge_sizes_do_not_overflow_the_verifiers() {
    // A proof claiming a tree of 2^64 − 1 leaves is refused, not a panic or a long loop.
    let leaf = leaf_hash(b"x");
    let proof = vec![leaf; 70];
    assert_eq!(
        verify_inclusion(leaf, u64::MAX - 1, u64::MAX, &proof, leaf),
        Err(AuditError::InclusionProofInvalid)
    );
    assert_eq!(
        verify_consistency(u64::MAX - 1, u64::MAX, leaf, leaf, &proof),
        Err(AuditError::ConsistencyProofInvalid)
    );
    assert_eq!(
        verify_consistency(1 << 63, u64::MAX, leaf, leaf, &proof),
        Err(AuditError::ConsistencyProofInvalid)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn proofs_of_larger_trees_match_the_reference(
        (tree_size, index, old_size) in (1_usize..700)
            .prop_flat_map(|size| (Just(size), 0..size, 1..=size)),
    ) {
        let leaves = reference::leaves(tree_size);
        let tree_root = root(&leaves);
        let proof = inclusion_proof(&leaves, index as u64, tree_size as u64).unwrap();
        prop_assert_eq!(&proof, &reference::path(index, &leaves));
        prop_assert_eq!(
            verify_inclusion(leaves[index], index as u64, tree_size as u64, &proof, tree_root),
            Ok(())
        );
        let proof = consistency_proof(&leaves, old_size as u64, tree_size as u64).unwrap();
        if old_size < tree_size {
            prop_assert_eq!(&proof, &reference::consistency(old_size, &leaves));
        } else {
            prop_assert!(proof.is_empty());
        }
        prop_assert_eq!(
            verify_consistency(
                old_size as u64,
                tree_size as u64,
                root(&leaves[..old_size]),
                tree_root,
                &proof
            ),
            Ok(())
        );
    }

    #[test]
    fn random_proofs_are_refused(
        index in 0_u64..40,
        tree_size in 0_u64..40,
        old_size in 0_u64..40,
        proof in proptest::collection::vec(any::<[u8; 32]>(), 0..12),
        root_bytes in any::<[u8; 32]>(),
    ) {
        let proof: Vec<Hash> = proof.into_iter().map(Hash::from_bytes).collect();
        let some_root = Hash::from_bytes(root_bytes);
        prop_assert!(verify_inclusion(leaf_hash(b"x"), index, tree_size, &proof, some_root).is_err());
        if old_size > 0 {
            prop_assert!(
                verify_consistency(old_size, tree_size, some_root, leaf_hash(b"y"), &proof).is_err()
            );
        }
    }
}
