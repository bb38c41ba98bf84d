//! The tree itself: hashes, roots and the frontier, against known answers and the naive
//! reference.

mod reference;

use ceiba_audit::{AuditError, Frontier, Hash, empty_root, leaf_hash, node_hash, root};
use proptest::prelude::*;

fn hex(text: &str) -> Hash {
    text.parse().expect("test hashes are valid hex")
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).expect("test data is valid hex"))
        .collect()
}

/// The inputs of the reference tree used by the Certificate Transparency implementations
/// (C++, Go, transparency-dev), with the roots they publish for each size.
const REFERENCE_INPUTS_HEX: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];
const REFERENCE_ROOTS_HEX: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

#[test]
fn empty_root_is_sha256_of_nothing() {
    // The SHA-256 of the empty string, as published with FIPS 180 examples everywhere.
    assert_eq!(
        empty_root(),
        hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(root(&[]), empty_root());
    assert_eq!(Frontier::new().root(), empty_root());
}

#[test]
fn leaf_and_node_hashes_prefix_one_byte() {
    // SHA-256 of the single byte 0x00: the hash of the empty leaf in RFC 6962 logs.
    assert_eq!(
        leaf_hash(b""),
        hex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    );
    assert_eq!(leaf_hash(b"ceiba"), reference::sha256(&[&[0], b"ceiba"]));
    let (left, right) = (leaf_hash(b"a"), leaf_hash(b"b"));
    assert_eq!(
        node_hash(left, right),
        reference::sha256(&[&[1], left.as_bytes(), right.as_bytes()])
    );
    // A leaf is never mistaken for the node over the same bytes.
    let mut node_input = left.as_bytes().to_vec();
    node_input.extend_from_slice(right.as_bytes());
    assert_ne!(leaf_hash(&node_input), node_hash(left, right));
}

#[test]
fn small_trees_by_hand() {
    let [a, b, c] = [b"a", b"b", b"c"].map(|data| reference::sha256(&[&[0], data]));
    let ab = reference::sha256(&[&[1], a.as_bytes(), b.as_bytes()]);
    let abc = reference::sha256(&[&[1], ab.as_bytes(), c.as_bytes()]);
    assert_eq!(root(&[a]), a, "a one-leaf tree's root is its leaf hash");
    assert_eq!(root(&[a, b]), ab);
    // Three leaves split 2 + 1: the third is promoted, not paired with itself.
    assert_eq!(root(&[a, b, c]), abc);
}

#[test]
fn certificate_transparency_reference_roots() {
    let leaves: Vec<Hash> = REFERENCE_INPUTS_HEX
        .iter()
        .map(|input| leaf_hash(&unhex(input)))
        .collect();
    let mut frontier = Frontier::new();
    for size in 0..=leaves.len() {
        assert_eq!(
            root(&leaves[..size]),
            hex(REFERENCE_ROOTS_HEX[size]),
            "size {size}"
        );
        assert_eq!(
            frontier.root(),
            hex(REFERENCE_ROOTS_HEX[size]),
            "size {size}"
        );
        if let Some(leaf) = leaves.get(size) {
            frontier.append(*leaf);
        }
    }
}

#[test]
fn hash_hex_round_trip_and_refusals() {
    let hash = leaf_hash(b"ceiba");
    let text = hash.to_string();
    assert_eq!(text.len(), 64);
    assert_eq!(text, text.to_lowercase());
    assert_eq!(text.parse::<Hash>(), Ok(hash));
    assert_eq!(text.to_uppercase().parse::<Hash>(), Ok(hash));
    assert_eq!(format!("{hash:?}"), format!("Hash({text})"));
    for bad in [
        String::new(),
        text[..63].to_owned(),
        format!("{text}0"),
        format!("{}g", &text[..63]),
        format!(" {}", &text[..63]),
        // 64 bytes, but one of the characters is two bytes long.
        format!("{}é", &text[..62]),
    ] {
        assert_eq!(
            bad.parse::<Hash>(),
            Err(AuditError::HashMalformed),
            "{bad:?}"
        );
    }
}

#[test]
fn frontier_bytes_refusals() {
    let mut frontier = Frontier::new();
    for index in 0..5_u8 {
        frontier.append(leaf_hash(&[index]));
    }
    let bytes = frontier.to_bytes();
    // Size 5 = 0b101: two perfect roots.
    assert_eq!(bytes.len(), 1 + 8 + 2 * 32);
    assert_eq!(Frontier::from_bytes(&bytes), Ok(frontier.clone()));

    let mut wrong_version = bytes.clone();
    wrong_version[0] = 2;
    let mut wrong_size = bytes.clone();
    wrong_size[8] = 6; // 0b110 also has two perfect roots...
    let mut too_big = bytes.clone();
    too_big[8] = 7; // ...but 0b111 has three.
    for bad in [
        &[][..],
        &bytes[..1],
        &bytes[..8],
        &bytes[..bytes.len() - 1],
        &[bytes.as_slice(), &[0]].concat(),
        &wrong_version,
        &too_big,
    ] {
        assert!(
            matches!(
                Frontier::from_bytes(bad),
                Err(AuditError::FrontierMalformed { .. })
            ),
            "{bad:?}"
        );
    }
    // A consistent but different frontier decodes: the bytes carry no checksum, storage's own
    // integrity and the stored roots are what catch that.
    assert_eq!(Frontier::from_bytes(&wrong_size).map(|f| f.size()), Ok(6));
}

#[test]
fn frontier_of_empty_tree_round_trips() {
    let bytes = Frontier::new().to_bytes();
    assert_eq!(bytes, [1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(Frontier::from_bytes(&bytes), Ok(Frontier::new()));
}

proptest! {
    #[test]
    fn root_matches_the_reference(count in 0_usize..300) {
        let leaves = reference::leaves(count);
        prop_assert_eq!(root(&leaves), reference::mth(&leaves));
    }

    #[test]
    fn frontier_matches_the_reference_at_every_size(count in 0_usize..130) {
        let leaves = reference::leaves(count);
        let mut frontier = Frontier::new();
        for (index, leaf) in leaves.iter().enumerate() {
            frontier.append(*leaf);
            prop_assert_eq!(frontier.size(), index as u64 + 1);
            prop_assert_eq!(frontier.root(), reference::mth(&leaves[..=index]));
        }
    }

    #[test]
    fn frontier_survives_bytes(count in 0_usize..600) {
        let mut frontier = Frontier::new();
        for leaf in reference::leaves(count) {
            frontier.append(leaf);
            // Appending after a round trip continues the same tree.
            frontier = Frontier::from_bytes(&frontier.to_bytes()).expect("own bytes decode");
        }
        prop_assert_eq!(frontier.size(), count as u64);
        prop_assert_eq!(frontier.root(), root(&reference::leaves(count)));
    }

    #[test]
    fn frontier_decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(frontier) = Frontier::from_bytes(&bytes) {
            prop_assert_eq!(frontier.to_bytes(), bytes);
        }
    }

    #[test]
    fn hash_parsing_never_panics(text in "\\PC{0,70}") {
        if let Ok(hash) = text.parse::<Hash>() {
            prop_assert_eq!(hash.to_string(), text.to_lowercase());
        }
    }
}
