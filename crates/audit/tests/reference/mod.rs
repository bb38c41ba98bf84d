//! A naive reference: RFC 6962 §2.1 transcribed as recursion, hashing with `sha2` directly, so
//! that it shares no code with the crate under test. Slow and deep, fine for small trees.

#![allow(dead_code)] // Each test binary uses part of it.

use ceiba_audit::Hash;
use sha2::{Digest, Sha256};

pub fn sha256(parts: &[&[u8]]) -> Hash {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    Hash::from_bytes(hasher.finalize().into())
}

pub fn leaf(data: &[u8]) -> Hash {
    sha256(&[&[0], data])
}

pub fn node(left: Hash, right: Hash) -> Hash {
    sha256(&[&[1], left.as_bytes(), right.as_bytes()])
}

/// Distinct leaf hashes for tests: the leaf hash of each index's bytes.
pub fn leaves(count: usize) -> Vec<Hash> {
    (0..count as u64)
        .map(|index| leaf(&index.to_be_bytes()))
        .collect()
}

/// k < n ≤ 2k, by counting up.
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]).
pub fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => sha256(&[]),
        1 => leaves[0],
        n => {
            let k = split(n);
            node(mth(&leaves[..k]), mth(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]).
pub fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n == 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut proof = path(m, &leaves[..k]);
        proof.push(mth(&leaves[k..]));
        proof
    } else {
        let mut proof = path(m - k, &leaves[k..]);
        proof.push(mth(&leaves[..k]));
        proof
    }
}

/// PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
pub fn consistency(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    subproof(m, leaves, true)
}

fn subproof(m: usize, leaves: &[Hash], whole_old_tree: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if whole_old_tree {
            Vec::new()
        } else {
            vec![mth(leaves)]
        };
    }
    let k = split(n);
    if m <= k {
        let mut proof = subproof(m, &leaves[..k], whole_old_tree);
        proof.push(mth(&leaves[k..]));
        proof
    } else {
        let mut proof = subproof(m - k, &leaves[k..], false);
        proof.push(mth(&leaves[..k]));
        proof
    }
}

/// Which way each hash of PATH(m, D[n]) is combined, from the leaf up: `true` when the
/// sibling is on the left. A verifier's answer can depend only on this and the hashes.
pub fn inclusion_shape(m: usize, n: usize) -> Vec<bool> {
    if n == 1 {
        return Vec::new();
    }
    let k = split(n);
    let mut shape = if m < k {
        inclusion_shape(m, k)
    } else {
        inclusion_shape(m - k, n - k)
    };
    shape.push(m >= k);
    shape
}

/// How PROOF(m, D[n]) is used: whether the computation starts from the old root (which the
/// proof then leaves out) rather than the proof's first hash, and which way each further hash is
/// combined (`true`: on the left, part of both trees; `false`: on the right, new tree only).
pub fn consistency_shape(m: usize, n: usize) -> (bool, Vec<bool>) {
    subshape(m, n, true)
}

fn subshape(m: usize, n: usize, whole_old_tree: bool) -> (bool, Vec<bool>) {
    if m == n {
        return (whole_old_tree, Vec::new());
    }
    let k = split(n);
    let (starts_from_old_root, mut shape) = if m <= k {
        subshape(m, k, whole_old_tree)
    } else {
        subshape(m - k, n - k, false)
    };
    shape.push(m > k);
    (starts_from_old_root, shape)
}
