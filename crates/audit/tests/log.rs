//! Verification of a stored log: a good log passes; each kind of tampering is named, at the
//! right entry or checkpoint.

use ceiba_audit::{
    Checkpoint, CheckpointSigner, Frontier, Hash, LogSummary, SignedCheckpoint, StoredEntry,
    TamperError, empty_root, leaf_hash, root, verify_log,
};
use proptest::prelude::*;

const ORIGIN: &str = "ceiba.example/auditoria";
const SEED: [u8; 32] = [7; 32];
const LOG_SIZE: u64 = 300;
const CHECKPOINT_SIZES: [u64; 5] = [0, 50, 128, 200, 300];

fn data(index: u64) -> Vec<u8> {
    format!("evento {index}: la cuenta {} cambió", index * 7919 % 1000).into_bytes()
}

/// Entries as storage would keep them, each with the root once it was appended.
fn entries(count: u64) -> impl Iterator<Item = StoredEntry> {
    let mut frontier = Frontier::new();
    (0..count).map(move |index| {
        let data = data(index);
        let leaf_hash = leaf_hash(&data);
        frontier.append(leaf_hash);
        StoredEntry {
            index,
            data,
            leaf_hash,
            root_after: frontier.root(),
        }
    })
}

fn log() -> Vec<StoredEntry> {
    entries(LOG_SIZE).collect()
}

fn signer() -> CheckpointSigner {
    CheckpointSigner::from_seed(SEED)
}

fn public_key() -> [u8; 32] {
    signer().public_key_bytes()
}

fn sign_at(log: &[StoredEntry], tree_size: u64) -> SignedCheckpoint {
    let leaves: Vec<Hash> = log
        .iter()
        .take(usize::try_from(tree_size).unwrap())
        .map(|entry| entry.leaf_hash)
        .collect();
    let checkpoint = Checkpoint::new(
        ORIGIN,
        tree_size,
        root(&leaves),
        1_700_000_000_000 + tree_size as i64,
    )
    .unwrap();
    signer().sign(&checkpoint)
}

fn checkpoints(log: &[StoredEntry]) -> Vec<SignedCheckpoint> {
    CHECKPOINT_SIZES
        .iter()
        .map(|size| sign_at(log, *size))
        .collect()
}

fn verify(
    log: Vec<StoredEntry>,
    checkpoints: &[SignedCheckpoint],
) -> Result<LogSummary, TamperError> {
    verify_log(log, checkpoints, &public_key())
}

fn all_leaves_root(log: &[StoredEntry]) -> Hash {
    root(&log.iter().map(|entry| entry.leaf_hash).collect::<Vec<_>>())
}

#[test]
fn a_good_log_verifies() {
    let log = log();
    let checkpoints = checkpoints(&log);
    let expected = LogSummary {
        entries: LOG_SIZE,
        checkpoints: CHECKPOINT_SIZES.len() as u64,
        root: all_leaves_root(&log),
    };
    assert_eq!(verify(log.clone(), &checkpoints), Ok(expected));
    // Checkpoints may come in any order.
    let reversed: Vec<_> = checkpoints.iter().rev().cloned().collect();
    assert_eq!(verify(log.clone(), &reversed), Ok(expected));
    // Two checkpoints of the same size are both checked.
    let doubled = [checkpoints.as_slice(), &checkpoints[2..3]].concat();
    assert_eq!(
        verify(log, &doubled).map(|summary| summary.checkpoints),
        Ok(6)
    );
}

#[test]
fn the_log_is_streamed_from_an_iterator() {
    // Entries are produced one at a time and never collected by the verifier.
    let count = 5_000;
    let log_for_checkpoints: Vec<StoredEntry> = entries(count).collect();
    let checkpoints: Vec<_> = [1_000, 4_096, 5_000]
        .iter()
        .map(|size| sign_at(&log_for_checkpoints, *size))
        .collect();
    let summary = verify_log(entries(count), &checkpoints, &public_key()).unwrap();
    assert_eq!(summary.entries, count);
    assert_eq!(summary.checkpoints, 3);
    assert_eq!(summary.root, all_leaves_root(&log_for_checkpoints));
}

#[test]
fn an_empty_log_verifies() {
    let empty = LogSummary {
        entries: 0,
        checkpoints: 0,
        root: empty_root(),
    };
    assert_eq!(verify(Vec::new(), &[]), Ok(empty));
    assert_eq!(
        verify(Vec::new(), &[sign_at(&[], 0)]),
        Ok(LogSummary {
            checkpoints: 1,
            ..empty
        })
    );
}

#[test]
fn altered_data_is_named() {
    let mut log = log();
    let checkpoints = checkpoints(&log);
    log[137].data = b"evento 137: nada que ver".to_vec();
    assert_eq!(
        verify(log, &checkpoints),
        Err(TamperError::EntryAltered { index: 137 })
    );
}

#[test]
fn altered_data_with_its_leaf_hash_is_caught_by_the_stored_root() {
    let mut log = log();
    let checkpoints = checkpoints(&log);
    log[137].data = b"evento 137: nada que ver".to_vec();
    log[137].leaf_hash = leaf_hash(&log[137].data);
    assert_eq!(
        verify(log, &checkpoints),
        Err(TamperError::RootAfterMismatch { index: 137 })
    );
}

#[test]
fn a_rewritten_history_is_caught_by_the_next_checkpoint() {
    // Whoever can write the database but not sign: alter entry 137 and recompute every hash
    // and root after it. Only the signed checkpoints still disagree.
    let mut log = log();
    let checkpoints = checkpoints(&log);
    log[137].data = b"evento 137: nada que ver".to_vec();
    let mut frontier = Frontier::new();
    for entry in &mut log {
        entry.leaf_hash = leaf_hash(&entry.data);
        frontier.append(entry.leaf_hash);
        entry.root_after = frontier.root();
    }
    let error = verify(log, &checkpoints).unwrap_err();
    assert_eq!(
        error,
        TamperError::CheckpointRootMismatch {
            tree_size: 200,
            entries: 128..200,
        }
    );
    assert_eq!(
        error.to_string(),
        "la raíz del punto de control de tamaño 200 no coincide con la raíz recalculada: se \
         alteró el punto de control o alguna de las entradas 128 a 199 que cubre por primera vez"
    );
}

#[test]
fn a_deleted_entry_is_named() {
    for deleted in [0, 77, 298] {
        let mut log = log();
        let checkpoints = checkpoints(&log);
        log.remove(deleted);
        assert_eq!(
            verify(log, &checkpoints),
            Err(TamperError::EntryMissing {
                index: deleted as u64
            }),
            "entry {deleted} deleted"
        );
    }
}

#[test]
fn deleting_the_last_entries_is_caught_by_a_checkpoint_beyond_the_log() {
    let mut log = log();
    let checkpoints = checkpoints(&log);
    log.truncate(290);
    assert_eq!(
        verify(log, &checkpoints),
        Err(TamperError::CheckpointBeyondLog {
            tree_size: 300,
            log_size: 290
        })
    );
}

#[test]
fn deleting_entries_no_checkpoint_covers_is_not_detectable() {
    // The limit of any such log, stated as a test: a truncation after the last checkpoint
    // leaves a shorter, self-consistent log. Frequent checkpoints keep the window small.
    let log = log();
    let checkpoints: Vec<_> = checkpoints(&log)
        .into_iter()
        .filter(|signed| signed.checkpoint.tree_size() <= 200)
        .collect();
    let truncated: Vec<_> = log.into_iter().take(250).collect();
    assert_eq!(
        verify(truncated, &checkpoints).map(|summary| summary.entries),
        Ok(250)
    );
}

#[test]
fn swapped_entries_are_named() {
    for (first, second) in [(10, 20), (10, 11), (0, 299)] {
        let mut log = log();
        let checkpoints = checkpoints(&log);
        log.swap(first, second);
        assert_eq!(
            verify(log, &checkpoints),
            Err(TamperError::EntryOutOfOrder {
                expected_index: first as u64,
                found_index: second as u64
            }),
            "entries {first} and {second} swapped"
        );
    }
}

#[test]
fn swapped_contents_under_kept_indices_are_caught_by_the_stored_root() {
    // The same swap done inside the rows: indices stay, everything else moves.
    let mut log = log();
    let checkpoints = checkpoints(&log);
    let (tenth, twentieth) = (log[10].clone(), log[20].clone());
    log[10] = StoredEntry {
        index: 10,
        ..twentieth
    };
    log[20] = StoredEntry { index: 20, ..tenth };
    assert_eq!(
        verify(log, &checkpoints),
        Err(TamperError::RootAfterMismatch { index: 10 })
    );
}

#[test]
fn a_duplicated_entry_is_named() {
    let mut log = log();
    let checkpoints = checkpoints(&log);
    log.insert(6, log[5].clone());
    assert_eq!(
        verify(log, &checkpoints),
        Err(TamperError::EntryOutOfOrder {
            expected_index: 6,
            found_index: 5
        })
    );
}

#[test]
fn a_changed_stored_root_is_named() {
    let mut log = log();
    let checkpoints = checkpoints(&log);
    log[42].root_after = log[41].root_after;
    assert_eq!(
        verify(log, &checkpoints),
        Err(TamperError::RootAfterMismatch { index: 42 })
    );
}

#[test]
fn a_changed_checkpoint_is_named() {
    let log = log();

    let mut altered = checkpoints(&log);
    altered[2].checkpoint = Checkpoint::new(ORIGIN, 128, altered[2].checkpoint.root(), 1).unwrap();
    assert_eq!(
        verify(log.clone(), &altered),
        Err(TamperError::CheckpointSignatureInvalid { tree_size: 128 })
    );

    let mut foreign = checkpoints(&log);
    foreign[2] = CheckpointSigner::from_seed([8; 32]).sign(&foreign[2].checkpoint);
    assert_eq!(
        verify(log.clone(), &foreign),
        Err(TamperError::CheckpointSignatureInvalid { tree_size: 128 })
    );

    // Validly signed, but not the root of the log at its size.
    let mut wrong_root = checkpoints(&log);
    wrong_root[2] = signer().sign(&Checkpoint::new(ORIGIN, 128, log[126].root_after, 1).unwrap());
    assert_eq!(
        verify(log.clone(), &wrong_root),
        Err(TamperError::CheckpointRootMismatch {
            tree_size: 128,
            entries: 50..128
        })
    );
}

#[test]
fn a_checkpoint_beyond_the_log_is_named() {
    let log = log();
    let mut checkpoints = checkpoints(&log);
    let beyond = Checkpoint::new(ORIGIN, 301, empty_root(), 1).unwrap();
    checkpoints.push(signer().sign(&beyond));
    assert_eq!(
        verify(log.clone(), &checkpoints),
        Err(TamperError::CheckpointBeyondLog {
            tree_size: 301,
            log_size: 300
        })
    );
    // A forged one is reported as forged.
    let last = checkpoints.len() - 1;
    checkpoints[last].signature[0] ^= 1;
    assert_eq!(
        verify(log, &checkpoints),
        Err(TamperError::CheckpointSignatureInvalid { tree_size: 301 })
    );
}

#[test]
fn the_first_problem_in_log_order_is_reported() {
    let mut log = log();
    let mut checkpoints = checkpoints(&log);
    let root_after_20 = log[20].root_after;
    log[100].data.push(b'!');
    log[20].root_after = empty_root();
    checkpoints[1].signature[0] ^= 1; // size 50
    assert_eq!(
        verify(log.clone(), &checkpoints),
        Err(TamperError::RootAfterMismatch { index: 20 })
    );
    log[20].root_after = root_after_20;
    log.swap(20, 21);
    assert_eq!(
        verify(log, &checkpoints),
        Err(TamperError::EntryOutOfOrder {
            expected_index: 20,
            found_index: 21
        })
    );
}

#[test]
fn a_key_that_is_not_a_key_is_refused_before_reading() {
    let mut not_a_key = [0; 32];
    not_a_key[0] = 2;
    let mut read = 0;
    let counted = entries(10).inspect(|_| read += 1);
    assert_eq!(
        verify_log(counted, &[], &not_a_key),
        Err(TamperError::PublicKeyInvalid)
    );
    assert_eq!(read, 0);
}

#[test]
fn messages_are_in_spanish() {
    assert_eq!(
        TamperError::EntryAltered { index: 137 }.to_string(),
        "la entrada 137 fue alterada: sus datos ya no corresponden a su hash de hoja"
    );
    assert_eq!(
        TamperError::EntryMissing { index: 77 }.to_string(),
        "falta la entrada 77: fue eliminada del registro"
    );
    assert_eq!(
        TamperError::CheckpointRootMismatch {
            tree_size: 128,
            entries: 128..128
        }
        .to_string(),
        "la raíz del punto de control de tamaño 128 no coincide con la raíz recalculada: se \
         alteró el punto de control o alguna de las entradas (ninguna) que cubre por primera vez"
    );
}

#[derive(Debug, Clone)]
enum Tampering {
    AlterData,
    AlterDataAndLeafHash,
    Delete,
    SwapWithNext,
    Duplicate,
    ChangeRootAfter,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any single tampering of a log whose last entry a checkpoint covers is detected.
    #[test]
    fn any_single_tampering_is_detected(
        (size, position) in (2_u64..120).prop_flat_map(|size| (Just(size), 0..size)),
        tampering in prop_oneof![
            Just(Tampering::AlterData),
            Just(Tampering::AlterDataAndLeafHash),
            Just(Tampering::Delete),
            Just(Tampering::SwapWithNext),
            Just(Tampering::Duplicate),
            Just(Tampering::ChangeRootAfter),
        ],
    ) {
        let mut log: Vec<StoredEntry> = entries(size).collect();
        let checkpoints = vec![sign_at(&log, size / 2), sign_at(&log, size)];
        prop_assert!(verify(log.clone(), &checkpoints).is_ok());
        let at = usize::try_from(position).unwrap();
        match tampering {
            Tampering::AlterData => log[at].data.push(0),
            Tampering::AlterDataAndLeafHash => {
                log[at].data.push(0);
                log[at].leaf_hash = leaf_hash(&log[at].data);
            }
            Tampering::Delete => {
                log.remove(at);
            }
            Tampering::SwapWithNext => {
                let next = (at + 1) % log.len();
                log.swap(at, next);
            }
            Tampering::Duplicate => log.insert(at, log[at].clone()),
            Tampering::ChangeRootAfter => log[at].root_after = leaf_hash(b"otra"),
        }
        prop_assert!(verify(log, &checkpoints).is_err());
    }
}
