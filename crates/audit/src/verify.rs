//! Verification of a stored log: replay every entry into a [`Frontier`] and compare each
//! stored hash, root and checkpoint with the recomputation.

use std::ops::Range;

use ed25519_dalek::VerifyingKey;

use crate::{Frontier, Hash, SignedCheckpoint, leaf_hash};

/// One entry as storage keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// Position in the log, from 0.
    pub index: u64,
    /// The entry itself, as it was hashed.
    pub data: Vec<u8>,
    /// [`leaf_hash`] of `data`, stored when the entry was appended.
    pub leaf_hash: Hash,
    /// The tree root once this entry was appended, stored beside it.
    pub root_after: Hash,
}

/// What a successful [`verify_log`] checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSummary {
    /// Entries replayed.
    pub entries: u64,
    /// Checkpoints whose signature and root were checked.
    pub checkpoints: u64,
    /// The root of the whole log.
    pub root: Hash,
}

/// The first sign of tampering [`verify_log`] met, naming the entry or checkpoint at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TamperError {
    /// The entry's data no longer hashes to its stored leaf hash.
    #[error("la entrada {index} fue alterada: sus datos ya no corresponden a su hash de hoja")]
    EntryAltered { index: u64 },
    /// No entry with this index is stored, though later ones are.
    #[error("falta la entrada {index}: fue eliminada del registro")]
    EntryMissing { index: u64 },
    /// Where entry `expected_index` belongs, storage has entry `found_index`: entries were
    /// reordered, or one was duplicated.
    #[error(
        "el registro está desordenado o tiene entradas repetidas: donde va la entrada \
         {expected_index} aparece la entrada {found_index}"
    )]
    EntryOutOfOrder {
        expected_index: u64,
        found_index: u64,
    },
    /// The root stored after this entry differs from the recomputed one.
    #[error("la raíz guardada tras la entrada {index} no coincide con la raíz recalculada")]
    RootAfterMismatch { index: u64 },
    /// A checkpoint's signature does not verify with the public key.
    #[error("la firma del punto de control de tamaño {tree_size} no es válida")]
    CheckpointSignatureInvalid { tree_size: u64 },
    /// A validly signed checkpoint's root differs from the recomputed root at its size. Every
    /// entry before `entries.start` was vouched for by an earlier checkpoint that matched, so
    /// either the checkpoint or one of `entries` (those it is the first to cover) was altered.
    #[error(
        "la raíz del punto de control de tamaño {tree_size} no coincide con la raíz recalculada: \
         se alteró el punto de control o alguna de las entradas {} que cubre por primera vez",
        describe_range(entries)
    )]
    CheckpointRootMismatch { tree_size: u64, entries: Range<u64> },
    /// A validly signed checkpoint covers more entries than the log holds: entries at the end
    /// were removed.
    #[error(
        "el punto de control de tamaño {tree_size} cubre más entradas de las {log_size} que tiene \
         el registro: se eliminaron entradas del final"
    )]
    CheckpointBeyondLog { tree_size: u64, log_size: u64 },
    /// The key given to check the checkpoints is not an Ed25519 public key (a configuration
    /// mistake, not tampering; reported before anything is read).
    #[error("la clave pública no es una clave Ed25519 válida")]
    PublicKeyInvalid,
}

fn describe_range(entries: &Range<u64>) -> String {
    match entries.end.checked_sub(1) {
        Some(last) if entries.start <= last => format!("{} a {last}", entries.start),
        _ => "(ninguna)".to_owned(),
    }
}

/// Replays a stored log and checks it against itself and its signed checkpoints.
///
/// `entries` come in storage order, which must be index order from 0; they are read once and
/// not kept (memory is O(log n) for the entries, O(number of checkpoints) for the
/// checkpoints, which may come in any order). Problems are reported in log order: for each
/// entry its index, then its leaf hash, then its `root_after`; after the entry that completes a
/// checkpoint's size, that checkpoint's signature, then its root; at the end, a checkpoint
/// larger than the log. The first problem is returned.
///
/// Removing entries from the end of the log leaves no gap: only a checkpoint covering them
/// shows it, so checkpoints should be signed often.
pub fn verify_log<I>(
    entries: I,
    checkpoints: &[SignedCheckpoint],
    public_key_bytes: &[u8; 32],
) -> Result<LogSummary, TamperError>
where
    I: IntoIterator<Item = StoredEntry>,
{
    let key =
        VerifyingKey::from_bytes(public_key_bytes).map_err(|_| TamperError::PublicKeyInvalid)?;
    let mut by_size: Vec<&SignedCheckpoint> = checkpoints.iter().collect();
    by_size.sort_by_key(|signed| signed.checkpoint.tree_size());
    let mut checkpoints = CheckpointCursor {
        pending: by_size.into_iter().peekable(),
        key,
        verified_count: 0,
        vouched_size: 0,
    };

    let mut frontier = Frontier::new();
    checkpoints.check_at(0, frontier.root())?;
    let mut entries = entries.into_iter();
    while let Some(entry) = entries.next() {
        let expected_index = frontier.size();
        if entry.index < expected_index {
            return Err(TamperError::EntryOutOfOrder {
                expected_index,
                found_index: entry.index,
            });
        }
        if entry.index > expected_index {
            // Entry `expected_index` is either further on (the log was reordered) or nowhere
            // (it was removed). Reading on for it keeps memory constant.
            let reordered = entries.any(|later| later.index == expected_index);
            return Err(if reordered {
                TamperError::EntryOutOfOrder {
                    expected_index,
                    found_index: entry.index,
                }
            } else {
                TamperError::EntryMissing {
                    index: expected_index,
                }
            });
        }
        if leaf_hash(&entry.data) != entry.leaf_hash {
            return Err(TamperError::EntryAltered { index: entry.index });
        }
        frontier.append(entry.leaf_hash);
        let root_after = frontier.root();
        if root_after != entry.root_after {
            return Err(TamperError::RootAfterMismatch { index: entry.index });
        }
        checkpoints.check_at(frontier.size(), root_after)?;
    }

    if let Some(beyond) = checkpoints.pending.next() {
        let tree_size = beyond.checkpoint.tree_size();
        if beyond.verify_with(&checkpoints.key).is_err() {
            return Err(TamperError::CheckpointSignatureInvalid { tree_size });
        }
        return Err(TamperError::CheckpointBeyondLog {
            tree_size,
            log_size: frontier.size(),
        });
    }
    Ok(LogSummary {
        entries: frontier.size(),
        checkpoints: checkpoints.verified_count,
        root: frontier.root(),
    })
}

/// The checkpoints not yet reached, smallest size first.
struct CheckpointCursor<'a> {
    pending: std::iter::Peekable<std::vec::IntoIter<&'a SignedCheckpoint>>,
    key: VerifyingKey,
    verified_count: u64,
    /// Size of the largest checkpoint verified so far: entries below it are vouched for.
    vouched_size: u64,
}

impl CheckpointCursor<'_> {
    /// Checks every checkpoint of exactly `tree_size` against the recomputed `root` there.
    fn check_at(&mut self, tree_size: u64, root: Hash) -> Result<(), TamperError> {
        while let Some(signed) = self
            .pending
            .next_if(|signed| signed.checkpoint.tree_size() == tree_size)
        {
            if signed.verify_with(&self.key).is_err() {
                return Err(TamperError::CheckpointSignatureInvalid { tree_size });
            }
            if signed.checkpoint.root() != root {
                return Err(TamperError::CheckpointRootMismatch {
                    tree_size,
                    entries: self.vouched_size..tree_size,
                });
            }
            self.verified_count += 1;
            self.vouched_size = tree_size;
        }
        Ok(())
    }
}
