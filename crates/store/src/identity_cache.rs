//! A short-lived cache of who is asking: a session with its person, and people by phone number.
//!
//! Every authenticated request reads its session and person, and every transfer its recipient;
//! on the embedded engine each read is a hop to the driver's thread and a fresh read
//! transaction, which under steady writes also drops that connection's page cache. These
//! answers change rarely, so they are kept here:
//!
//! - for at most [`FRESH_FOR`] (what another process sharing PostgreSQL may have changed is
//!   seen within that time: a session revoked there still works here for up to a second);
//! - and not past any change made through this process: every write to people, their roles or
//!   their sessions bumps a generation (after its commit), and an entry read under an older
//!   generation is not used. The generation is taken *before* the read, so an entry can only be
//!   older than the data if a change came after it, and then the generation says so.
//!
//! Only found rows are kept; a miss always asks the database.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::identity::{SessionRow, UserRow};

/// How long an answer is used without asking the database again.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(1);
/// Entries kept at most per map; beyond it the map starts again empty.
const ENTRIES_MAX: usize = 100_000;

struct Entry<T> {
    generation: u64,
    read_at: Instant,
    value: T,
}

#[derive(Default)]
pub(crate) struct IdentityCache {
    generation: AtomicU64,
    sessions: Mutex<HashMap<String, Entry<(SessionRow, UserRow)>>>,
    people_by_phone: Mutex<HashMap<String, Entry<UserRow>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn fresh<T: Clone>(map: &HashMap<String, Entry<T>>, key: &str, generation: u64) -> Option<T> {
    map.get(key)
        .filter(|entry| entry.generation == generation && entry.read_at.elapsed() < FRESH_FOR)
        .map(|entry| entry.value.clone())
}

fn keep<T>(map: &mut HashMap<String, Entry<T>>, key: String, generation: u64, value: T) {
    if map.len() >= ENTRIES_MAX {
        map.clear();
    }
    map.insert(
        key,
        Entry {
            generation,
            read_at: Instant::now(),
            value,
        },
    );
}

impl IdentityCache {
    /// The generation to read under: take it before reading the database.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Something about people, roles or sessions changed (call after the commit).
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn session(&self, token_hash: &str) -> Option<(SessionRow, UserRow)> {
        fresh(&lock(&self.sessions), token_hash, self.generation())
    }

    pub(crate) fn keep_session(
        &self,
        token_hash: &str,
        generation: u64,
        found: (SessionRow, UserRow),
    ) {
        keep(
            &mut lock(&self.sessions),
            token_hash.to_owned(),
            generation,
            found,
        );
    }

    /// A session was seen again at `now_s`: the entry follows, without a new read.
    pub(crate) fn touched(&self, token_hash: &str, now_s: u64) {
        if let Some(entry) = lock(&self.sessions).get_mut(token_hash) {
            entry.value.0.last_seen_at_s = now_s;
        }
    }

    pub(crate) fn person_by_phone(&self, phone: &str) -> Option<UserRow> {
        fresh(&lock(&self.people_by_phone), phone, self.generation())
    }

    pub(crate) fn keep_person_by_phone(&self, phone: &str, generation: u64, found: UserRow) {
        keep(
            &mut lock(&self.people_by_phone),
            phone.to_owned(),
            generation,
            found,
        );
    }
}
