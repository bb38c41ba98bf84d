//! Binary deltas between two exports: they rebuild the newer file exactly, stay small when
//! little changed, and refuse the wrong old file or a damaged delta without panicking.

use ceiba_zim::delta::{
    DEFAULT_BLOCK_SIZE, DeltaError, MAGIC, apply_delta, delta_stats, make_delta,
    make_delta_with_block_size,
};
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};

/// Deterministic pseudo-random bytes (xorshift), so the tests need no RNG crate.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

fn round_trip(old: &[u8], new: &[u8], block_size: u32) -> Vec<u8> {
    let delta = make_delta_with_block_size(old, new, block_size).unwrap();
    assert_eq!(apply_delta(old, &delta).unwrap(), new);
    delta
}

/// Rewrites the trailing SHA-256 so a deliberately edited body reaches the op parser.
fn reseal(delta: &mut [u8]) {
    let body = delta.len() - 32;
    let checksum = Sha256::digest(&delta[..body]);
    delta[body..].copy_from_slice(&checksum);
}

#[test]
fn few_small_changes_in_a_mebibyte_give_a_small_delta() {
    let old = noise(1 << 20, 1);
    let mut new = old.clone();
    new[100_000..100_010].copy_from_slice(b"EnciclopeD");
    new.splice(500_000..500_000, b"articulo nuevo".iter().copied());
    new.drain(900_000..900_300);

    let delta = round_trip(&old, &new, DEFAULT_BLOCK_SIZE);
    assert!(
        delta.len() < new.len() / 10,
        "delta of {} bytes",
        delta.len()
    );

    let stats = delta_stats(&delta).unwrap();
    assert_eq!(stats.copied_bytes + stats.literal_bytes, new.len() as u64);
    assert_eq!(stats.delta_len, delta.len() as u64);
    assert_eq!(stats.old_len, old.len() as u64);
    assert_eq!(stats.new_len, new.len() as u64);
    assert_eq!(stats.block_size, DEFAULT_BLOCK_SIZE);
    assert_eq!(stats.old_sha256, <[u8; 32]>::from(Sha256::digest(&old)));
    assert_eq!(stats.new_sha256, <[u8; 32]>::from(Sha256::digest(&new)));
    // Each change costs at most about two blocks of literals.
    assert!(stats.literal_bytes < 6 * 4096, "{stats}");
    assert!(stats.copy_ops <= 4, "{stats}");
    assert!(stats.to_string().contains("bytes copiados"));
}

#[test]
fn identical_files_give_one_copy() {
    let old = noise(50_000, 2);
    let delta = round_trip(&old, &old, DEFAULT_BLOCK_SIZE);
    let stats = delta_stats(&delta).unwrap();
    assert_eq!((stats.copy_ops, stats.literal_ops), (1, 0), "{stats}");
    assert_eq!(stats.copied_bytes, 50_000);
}

#[test]
fn header_follows_the_documented_format() {
    let old = b"viejo".repeat(10);
    let new = b"nuevo".repeat(10);
    let delta = make_delta_with_block_size(&old, &new, 16).unwrap();
    assert_eq!(&delta[..11], MAGIC);
    assert_eq!(&delta[11..19], &(delta.len() as u64).to_le_bytes());
    assert_eq!(&delta[19..23], &16u32.to_le_bytes());
    assert_eq!(&delta[23..55], Sha256::digest(&old).as_slice());
    assert_eq!(&delta[55..87], Sha256::digest(&new).as_slice());
    assert_eq!(&delta[87..95], &50u64.to_le_bytes());
    assert_eq!(&delta[95..103], &50u64.to_le_bytes());
    let tail = delta.len() - 32;
    assert_eq!(&delta[tail..], Sha256::digest(&delta[..tail]).as_slice());
}

#[test]
fn edge_cases_round_trip() {
    let some = noise(10_000, 3);
    let cases: [(&[u8], &[u8]); 7] = [
        (b"", b""),
        (b"", &some),
        (&some, b""),
        (&some[..10], &some[..10]),
        (&some[..5_000], &some),
        (&some, &some[..5_000]),
        (&some, &some[1..]),
    ];
    for (old, new) in cases {
        for block_size in [16, 64, DEFAULT_BLOCK_SIZE] {
            round_trip(old, new, block_size);
        }
    }
}

#[test]
fn short_last_block_of_the_old_file_is_copied_too() {
    // 10 000 = 2 full blocks of 4096 and a short one of 1808; a change at the start leaves
    // the two later blocks, short one included, to be copied.
    let old = noise(10_000, 4);
    let mut new = old.clone();
    new[0] ^= 0xff;
    let delta = round_trip(&old, &new, DEFAULT_BLOCK_SIZE);
    let stats = delta_stats(&delta).unwrap();
    assert_eq!(stats.literal_bytes, 4096, "{stats}");
    assert_eq!(stats.copied_bytes, 10_000 - 4096, "{stats}");
}

#[test]
fn wrong_old_file_is_refused() {
    let old = noise(20_000, 5);
    let mut new = old.clone();
    new[42] = 0;
    let delta = make_delta(&old, &new).unwrap();

    let mut other = old.clone();
    other[7] ^= 1;
    for wrong in [&other[..], &old[..19_999], b""] {
        let error = apply_delta(wrong, &delta).unwrap_err();
        assert!(
            matches!(error, DeltaError::WrongOldFile { .. }),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("este parche es para otra versión"),
            "{error}"
        );
    }
    // Applying to the new file (already updated) is the same mistake.
    assert!(matches!(
        apply_delta(&new, &delta),
        Err(DeltaError::WrongOldFile { .. })
    ));
}

#[test]
fn broken_deltas_are_refused_with_their_reason() {
    let old = noise(3_000, 6);
    let mut new = old.clone();
    new.extend_from_slice(b"fin");
    let delta = make_delta_with_block_size(&old, &new, 64).unwrap();

    let mut flipped = delta.clone();
    flipped[200] ^= 0x10;
    let mut appended = delta.clone();
    appended.push(0);
    let mut not_ours = delta.clone();
    not_ours[0] = b'X';

    let cases: Vec<(Vec<u8>, &str)> = vec![
        (Vec::new(), "truncado"),
        (delta[..5].to_vec(), "truncado"),
        (delta[..60].to_vec(), "truncado"),
        (delta[..delta.len() - 1].to_vec(), "truncado"),
        (flipped, "dañado"),
        (appended, "dañado"),
        (not_ours, "no es un parche"),
        (b"PK\x03\x04 un zip".to_vec(), "no es un parche"),
    ];
    for (broken, needle) in cases {
        let error = apply_delta(&old, &broken).unwrap_err();
        assert!(error.to_string().contains(needle), "{needle}: {error}");
        assert!(delta_stats(&broken).is_err());
    }
}

#[test]
fn structurally_invalid_deltas_are_refused_even_when_resealed() {
    let old = noise(1_000, 7);
    let new = noise(1_000, 8);
    let delta = make_delta_with_block_size(&old, &new, 16).unwrap();
    // Header: magic 11, total 8, block size 4, hashes 64, lengths 16, op count 4 = 107.
    let edits: Vec<(usize, Vec<u8>, &str)> = vec![
        (19, 8u32.to_le_bytes().to_vec(), "tamaño de bloque inválido"),
        (
            19,
            (2u32 << 20).to_le_bytes().to_vec(),
            "tamaño de bloque inválido",
        ),
        (
            87,
            ((1u64 << 32) + 1).to_le_bytes().to_vec(),
            "el archivo viejo",
        ),
        (
            95,
            ((1u64 << 32) + 1).to_le_bytes().to_vec(),
            "el archivo nuevo",
        ),
        (95, 999u64.to_le_bytes().to_vec(), "anunciado"),
        (103, u32::MAX.to_le_bytes().to_vec(), "operaciones"),
        (103, 0u32.to_le_bytes().to_vec(), "sobran"),
        (107, vec![7], "tipo de operación desconocido"),
        (107, vec![2, 0, 0, 0, 0], "literal vacío"),
        (
            107,
            vec![1, 0, 0, 0, 0, 0, 0, 0, 0],
            "copia de cero bloques",
        ),
        (
            107,
            vec![1, 0, 0, 0, 0, 100, 0, 0, 0],
            "el archivo viejo no tiene",
        ),
    ];
    for (at, bytes, needle) in edits {
        let mut broken = delta.clone();
        broken[at..at + bytes.len()].copy_from_slice(&bytes);
        reseal(&mut broken);
        let error = apply_delta(&old, &broken).unwrap_err();
        assert!(error.to_string().contains(needle), "{needle}: {error}");
    }
}

#[test]
fn block_size_outside_limits_is_refused_when_making() {
    for size in [0, 15, (1 << 20) + 1] {
        assert_eq!(
            make_delta_with_block_size(b"a", b"b", size),
            Err(DeltaError::InvalidBlockSize { size })
        );
    }
}

/// A new file made from `old` by edits at random places.
fn edited(old: &[u8], edits: &[(usize, u8, Vec<u8>)]) -> Vec<u8> {
    let mut new = old.to_vec();
    for (at, kind, bytes) in edits {
        let at = if new.is_empty() { 0 } else { at % new.len() };
        match kind % 3 {
            0 => {
                new.splice(at..at, bytes.iter().copied());
            }
            1 => {
                let end = (at + bytes.len()).min(new.len());
                new.drain(at..end);
            }
            _ => {
                for (offset, byte) in bytes.iter().enumerate() {
                    if let Some(slot) = new.get_mut(at + offset) {
                        *slot = *byte;
                    }
                }
            }
        }
    }
    new
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_edits_round_trip(
        old in proptest::collection::vec(any::<u8>(), 0..3_000),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), proptest::collection::vec(any::<u8>(), 1..40)), 0..6),
        block_size in prop_oneof![Just(16u32), Just(32), Just(100), Just(4096)],
    ) {
        let new = edited(&old, &edits);
        let delta = make_delta_with_block_size(&old, &new, block_size).unwrap();
        prop_assert_eq!(apply_delta(&old, &delta).unwrap(), new.clone());
        let stats = delta_stats(&delta).unwrap();
        prop_assert_eq!(stats.copied_bytes + stats.literal_bytes, new.len() as u64);
    }

    #[test]
    fn repetitive_data_round_trips(
        unit in proptest::collection::vec(0u8..3, 1..20),
        repeats in 1usize..200,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), proptest::collection::vec(0u8..3, 1..20)), 0..4),
    ) {
        // Many identical blocks and weak-checksum collisions.
        let old = unit.repeat(repeats);
        let new = edited(&old, &edits);
        let delta = make_delta_with_block_size(&old, &new, 16).unwrap();
        prop_assert_eq!(apply_delta(&old, &delta).unwrap(), new);
    }

    #[test]
    fn mutated_deltas_fail_or_give_exactly_the_new_file(
        mutations in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        truncate_to in proptest::option::of(any::<usize>()),
        reseal_after in any::<bool>(),
    ) {
        let old = noise(2_000, 9);
        let new = edited(&old, &[(300, 0, b"insertado".to_vec()), (1_200, 2, b"cambio".to_vec())]);
        let mut delta = make_delta_with_block_size(&old, &new, 32).unwrap();
        for (at, byte) in mutations {
            let at = at % delta.len();
            delta[at] = byte;
        }
        if reseal_after {
            reseal(&mut delta);
        }
        if let Some(len) = truncate_to {
            delta.truncate(len % (delta.len() + 1));
        }
        match apply_delta(&old, &delta) {
            Ok(rebuilt) => prop_assert_eq!(rebuilt, new),
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
        let _ = delta_stats(&delta);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut delta = MAGIC.to_vec();
        delta.extend_from_slice(&bytes);
        let _ = apply_delta(b"", &delta);
        let _ = apply_delta(&bytes, &bytes);
        let _ = delta_stats(&delta);
    }
}
