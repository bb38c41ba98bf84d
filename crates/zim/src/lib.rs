//! ZIM files, the openZIM format Kiwix opens: [`reader`] opens one and refuses a broken one
//! with a clear error (never a panic), [`writer`] makes one that openZIM's `zimcheck` passes,
//! [`sign`] signs and verifies offline packages (Ed25519, detached), and [`delta`] carries
//! only what changed between two exports and rebuilds the newer file exactly from the older.
//!
//! Architecture Invariant: no IO of its own beyond the bytes and streams it is handed; no
//! async runtime, no SQL, no HTTP.

pub mod delta;
pub mod reader;
pub mod sign;
pub mod writer;
