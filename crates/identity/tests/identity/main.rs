//! The identity model through its public API: one test binary, a module per area.

mod hashing;
mod national_id;
mod no_panics;
mod phone;
mod recovery;
mod roles;
mod secrets;
mod throttle;
mod tokens;
mod totp;

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

/// A deterministic, cryptographically strong generator: the same seed, the same values.
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}
