//! The tamper-evident audit log: a Merkle tree as in Certificate Transparency (RFC 6962,
//! RFC 9162), its inclusion and consistency proofs, Ed25519-signed checkpoints of its root, and
//! the verification of a stored log.
//!
//! Pure: no IO and no clock. Storage hands the entries, frontiers and checkpoints in and out as
//! values and bytes; the caller passes the time in (`timestamp_ms`).
//!
//! - [`leaf_hash`], [`node_hash`], [`empty_root`] and [`root`] define the tree (RFC 6962 §2.1).
//! - [`Frontier`] appends in O(log n) time and memory and gives the root at any size.
//! - [`inclusion_proof`] / [`verify_inclusion`] prove an entry is in the tree of a given size;
//!   [`consistency_proof`] / [`verify_consistency`] prove a tree only grew by appending.
//! - [`Checkpoint`], [`CheckpointSigner`] and [`SignedCheckpoint`] commit to a size and root.
//! - [`verify_log`] replays a stored log and names the first sign of tampering.

mod checkpoint;
mod error;
mod event;
mod hash;
mod proof;
mod tree;
mod verify;

pub use checkpoint::{Checkpoint, CheckpointSigner, SignedCheckpoint};
pub use error::AuditError;
pub use event::{AuditEvent, DETAIL_FIELDS_MAX, DETAIL_VALUE_CHARS_MAX, EventKind};
pub use hash::{Hash, empty_root, leaf_hash, node_hash};
pub use proof::{consistency_proof, inclusion_proof, verify_consistency, verify_inclusion};
pub use tree::{Frontier, root};
pub use verify::{LogSummary, StoredEntry, TamperError, verify_log};
