//! Inclusion and consistency proofs: produced from the leaf hashes as RFC 6962 §2.1.1 and
//! §2.1.2 define them, checked as RFC 9162 §2.1.3.2 and §2.1.4.2 prescribe.
//!
//! A proof binds a root *and its size*: verify against the size that was signed with the root
//! (a [`crate::Checkpoint`]), never a size taken from whoever sent the proof.

use crate::{AuditError, Hash, empty_root, node_hash, root};

/// The largest power of two strictly smaller than `size` (at least 2): where RFC 6962 splits a
/// tree into its left and right subtrees.
fn split_point(size: usize) -> usize {
    debug_assert!(size >= 2, "a tree of {size} leaves has no split point");
    1 << (usize::BITS - 1 - (size - 1).leading_zeros())
}

/// The first `tree_size` leaves, or the refusal when there are fewer.
fn first_leaves(leaves: &[Hash], tree_size: u64) -> Result<&[Hash], AuditError> {
    usize::try_from(tree_size)
        .ok()
        .and_then(|size| leaves.get(..size))
        .ok_or(AuditError::TreeSizeBeyondLeaves {
            tree_size,
            leaves_count: leaves.len() as u64,
        })
}

/// The audit path `PATH(index, D[0:tree_size])` of RFC 6962 §2.1.1: the sibling hashes from
/// the leaf up to the root, for [`verify_inclusion`].
///
/// `leaves` holds the leaf hashes of the log (at least `tree_size` of them). Costs O(tree_size)
/// hashing, since the siblings are recomputed from the leaves.
pub fn inclusion_proof(
    leaves: &[Hash],
    index: u64,
    tree_size: u64,
) -> Result<Vec<Hash>, AuditError> {
    let tree = first_leaves(leaves, tree_size)?;
    let mut index_in_subtree = usize::try_from(index)
        .ok()
        .filter(|position| *position < tree.len())
        .ok_or(AuditError::IndexOutOfRange { index, tree_size })?;

    // PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) when m < k, else
    // PATH(m - k, D[k:n]) : MTH(D[0:k]). Descending from the root meets the siblings top
    // first, so they are gathered top down and reversed.
    let mut subtree = tree;
    let mut siblings = Vec::new();
    while subtree.len() > 1 {
        let (left, right) = subtree.split_at(split_point(subtree.len()));
        if index_in_subtree < left.len() {
            siblings.push(root(right));
            subtree = left;
        } else {
            siblings.push(root(left));
            index_in_subtree -= left.len();
            subtree = right;
        }
    }
    siblings.reverse();
    Ok(siblings)
}

/// The consistency proof `PROOF(old_size, D[0:new_size])` of RFC 6962 §2.1.2, for
/// [`verify_consistency`].
///
/// Empty when `old_size` is 0 or equals `new_size`: there is nothing to prove (RFC 9162
/// §2.1.4.1 defines proofs for `0 < old_size < new_size` only). Costs O(new_size) hashing.
pub fn consistency_proof(
    leaves: &[Hash],
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, AuditError> {
    let tree = first_leaves(leaves, new_size)?;
    if old_size > new_size {
        return Err(AuditError::SizesOutOfOrder { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    let mut old_in_subtree =
        usize::try_from(old_size).expect("old_size is at most new_size, a slice length");

    // SUBPROOF(m, D[n], b): while the subtree still starts where the old tree does (b), reaching
    // m == n means the subtree is the old tree itself, whose root the verifier already holds;
    // after stepping right it is a part the verifier lacks, so it goes into the proof.
    let mut starts_with_old_tree = true;
    let mut subtree = tree;
    let mut nodes = Vec::new();
    loop {
        if old_in_subtree == subtree.len() {
            if !starts_with_old_tree {
                nodes.push(root(subtree));
            }
            break;
        }
        let (left, right) = subtree.split_at(split_point(subtree.len()));
        if old_in_subtree <= left.len() {
            nodes.push(root(right));
            subtree = left;
        } else {
            nodes.push(root(left));
            old_in_subtree -= left.len();
            starts_with_old_tree = false;
            subtree = right;
        }
    }
    nodes.reverse();
    Ok(nodes)
}

/// Checks that `proof` shows the leaf with hash `leaf_hash` at `index` in the tree of
/// `tree_size` leaves whose root is `root`, following RFC 9162 §2.1.3.2 step by step.
pub fn verify_inclusion(
    leaf_hash: Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: Hash,
) -> Result<(), AuditError> {
    // 1.
    if index >= tree_size {
        return Err(AuditError::IndexOutOfRange { index, tree_size });
    }
    // 2. The RFC's fn and sn: the node on the path and the last node, at the current level.
    let mut node = index;
    let mut last_node = tree_size - 1;
    // 3.
    let mut computed = leaf_hash;
    // 4.
    for sibling in proof {
        // a. A longer proof than the tree has levels.
        if last_node == 0 {
            return Err(AuditError::InclusionProofInvalid);
        }
        // b. The sibling is on the left when the node is a right child, or when the node is
        // the last of its level (a right edge with no sibling is promoted unchanged, so skip up
        // to the level where it is a right child).
        if node & 1 == 1 || node == last_node {
            computed = node_hash(*sibling, computed);
            while node & 1 == 0 && node != 0 {
                node >>= 1;
                last_node >>= 1;
            }
        } else {
            computed = node_hash(computed, *sibling);
        }
        // c.
        node >>= 1;
        last_node >>= 1;
    }
    // 5. `last_node == 0` refuses a proof shorter than the tree is high.
    if last_node == 0 && computed == root {
        Ok(())
    } else {
        Err(AuditError::InclusionProofInvalid)
    }
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends, by appending only,
/// the tree of `old_size` leaves with root `old_root`, following RFC 9162 §2.1.4.2 step by step.
///
/// The cases that algorithm leaves out have an empty proof: equal sizes need equal roots, and
/// the empty tree (root [`empty_root`]) is extended by every tree.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: Hash,
    new_root: Hash,
    proof: &[Hash],
) -> Result<(), AuditError> {
    if old_size > new_size {
        return Err(AuditError::SizesOutOfOrder { old_size, new_size });
    }
    let trivially_consistent = if old_size == new_size {
        Some(old_root == new_root)
    } else if old_size == 0 {
        Some(old_root == empty_root())
    } else {
        None
    };
    if let Some(roots_agree) = trivially_consistent {
        return if proof.is_empty() && roots_agree {
            Ok(())
        } else {
            Err(AuditError::ConsistencyProofInvalid)
        };
    }
    // 1.
    let Some((first, rest)) = proof.split_first() else {
        return Err(AuditError::ConsistencyProofInvalid);
    };
    // 2. When the old tree is a perfect subtree of the new one, the proof leaves out its root,
    // which the verifier holds.
    let (seed, path) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (*first, rest)
    };
    // 3. The RFC's fn and sn.
    let mut node = old_size - 1;
    let mut last_node = new_size - 1;
    // 4. Climb past the levels where the old tree's last node is a right child: the seed
    // already covers them.
    while node & 1 == 1 {
        node >>= 1;
        last_node >>= 1;
    }
    // 5. The RFC's fr and sr.
    let mut old_computed = seed;
    let mut new_computed = seed;
    // 6.
    for node_in_proof in path {
        // a.
        if last_node == 0 {
            return Err(AuditError::ConsistencyProofInvalid);
        }
        // b. A left sibling belongs to both trees; a right one only to the new tree.
        if node & 1 == 1 || node == last_node {
            old_computed = node_hash(*node_in_proof, old_computed);
            new_computed = node_hash(*node_in_proof, new_computed);
            while node & 1 == 0 && node != 0 {
                node >>= 1;
                last_node >>= 1;
            }
        } else {
            new_computed = node_hash(new_computed, *node_in_proof);
        }
        // c.
        node >>= 1;
        last_node >>= 1;
    }
    // 7.
    if old_computed == old_root && new_computed == new_root && last_node == 0 {
        Ok(())
    } else {
        Err(AuditError::ConsistencyProofInvalid)
    }
}
