//! Containers whose growth never stalls the ledger. A `Vec` or `HashMap` that doubles copies or
//! rehashes everything it holds at once: at ten million transfers that is a pause of over a
//! second inside one batch. These grow in small steps instead: a vector of fixed-size chunks,
//! and an index split into shards that each resize on their own.

use std::collections::HashMap;
use std::hash::Hash;
use std::ops::{Index, IndexMut};

use foldhash::fast::RandomState;

use crate::types::{AccountId, TransferId};

/// Elements per chunk (65,536).
const CHUNK_BITS: u32 = 16;
const CHUNK: usize = 1 << CHUNK_BITS;

/// A vector stored as chunks of [`CHUNK`] elements; indexing costs one more shift and mask.
#[derive(Debug, Clone)]
pub(crate) struct ChunkedVec<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for ChunkedVec<T> {
    fn default() -> Self {
        ChunkedVec {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> ChunkedVec<T> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn push(&mut self, value: T) {
        let chunk = self.len >> CHUNK_BITS;
        if chunk == self.chunks.len() {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks[chunk].push(value);
        self.len += 1;
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        let last = self.len.checked_sub(1)?;
        // An emptied chunk stays allocated until a pop reaches the chunk before it, so a
        // rollback at a chunk boundary does not free and reallocate a chunk over and over.
        self.chunks.truncate((last >> CHUNK_BITS) + 1);
        let value = self.chunks[last >> CHUNK_BITS].pop();
        self.len = last;
        value
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    /// Bytes of memory in use: the elements held, and the list of chunks. A chunk is allocated
    /// whole, but the system gives it pages only as they are written, so what a process holds
    /// grows with the elements, not by a chunk at a time.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.len * std::mem::size_of::<T>() + self.chunks.capacity() * std::mem::size_of::<Vec<T>>()
    }

    /// The first index at which `predicate` is false, for a predicate that is true for a
    /// prefix and false after it (as `slice::partition_point`).
    pub(crate) fn partition_point(&self, mut predicate: impl FnMut(&T) -> bool) -> usize {
        let (mut low, mut high) = (0, self.len);
        while low < high {
            let middle = low + (high - low) / 2;
            if predicate(&self[middle]) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }
}

impl<T> Index<usize> for ChunkedVec<T> {
    type Output = T;

    fn index(&self, index: usize) -> &T {
        assert!(index < self.len, "index {index} out of {}", self.len);
        &self.chunks[index >> CHUNK_BITS][index & (CHUNK - 1)]
    }
}

impl<T> IndexMut<usize> for ChunkedVec<T> {
    fn index_mut(&mut self, index: usize) -> &mut T {
        assert!(index < self.len, "index {index} out of {}", self.len);
        &mut self.chunks[index >> CHUNK_BITS][index & (CHUNK - 1)]
    }
}

/// Keys of a [`ShardedIndex`]: 128-bit identifiers.
pub(crate) trait IndexKey: Copy + Eq + Hash {
    fn bits(self) -> u128;
}

impl IndexKey for AccountId {
    fn bits(self) -> u128 {
        self.0
    }
}

impl IndexKey for TransferId {
    fn bits(self) -> u128 {
        self.0
    }
}

/// Shards of an index: the largest pause of a resize is about 1/256 of a whole rehash.
const SHARDS: usize = 256;

/// A fixed mix of a 128-bit id into 64 well-spread bits.
pub(crate) fn mix(bits: u128) -> u64 {
    let low = u64::try_from(bits & u128::from(u64::MAX)).expect("masked to 64 bits");
    let high = u64::try_from(bits >> 64).expect("shifted to 64 bits");
    let mixed = low.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ high.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    mixed ^ (mixed >> 29)
}

/// An id → slot map in shards. Shards that held equal shares would fill up, and resize, all in
/// the same batch; so shard `i` takes a share proportional to `2^(i/256)`, which spreads their
/// resizes evenly between one doubling of the whole index and the next. Within a shard the
/// hasher is seeded at random, so clients that choose ids cannot aim collisions at it; ids aimed
/// at one shard only make that shard as large as an unsharded map would be.
#[derive(Debug, Clone)]
pub(crate) struct ShardedIndex<K> {
    shards: Vec<HashMap<K, u32, RandomState>>,
    /// The shard of each value of a mixed id's top 16 bits.
    shard_of: &'static [u8],
}

impl<K: IndexKey> Default for ShardedIndex<K> {
    fn default() -> Self {
        ShardedIndex {
            shards: (0..SHARDS)
                .map(|_| HashMap::with_hasher(RandomState::default()))
                .collect(),
            shard_of: shard_table(),
        }
    }
}

/// The table from a mixed id's top 16 bits to its shard, computed once per process.
fn shard_table() -> &'static [u8] {
    static TABLE: std::sync::OnceLock<Box<[u8]>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let weights: Vec<f64> = (0..SHARDS)
            .map(|i| f64::from(u32::try_from(i).expect("few shards")) / 256.0)
            .map(f64::exp2)
            .collect();
        let total: f64 = weights.iter().sum();
        let mut cumulative = 0.0;
        let cuts: Vec<f64> = weights
            .iter()
            .map(|weight| {
                cumulative += weight;
                cumulative / total * 65_536.0
            })
            .collect();
        (0..65_536_u32)
            .map(|top| {
                let top = f64::from(top);
                let shard = cuts.partition_point(|cut| *cut <= top).min(SHARDS - 1);
                u8::try_from(shard).expect("256 shards fit u8")
            })
            .collect()
    })
}

impl<K: IndexKey> ShardedIndex<K> {
    fn shard(&self, key: K) -> usize {
        let top = usize::try_from(mix(key.bits()) >> 48).expect("16 bits fit usize");
        usize::from(self.shard_of[top])
    }

    pub(crate) fn get(&self, key: &K) -> Option<&u32> {
        self.shards[self.shard(*key)].get(key)
    }

    pub(crate) fn insert(&mut self, key: K, slot: u32) {
        let shard = self.shard(key);
        self.shards[shard].insert(key, slot);
    }

    pub(crate) fn remove(&mut self, key: &K) {
        let shard = self.shard(*key);
        self.shards[shard].remove(key);
    }

    /// Bytes of heap held, estimated from each shard's capacity: a slot of key and value per
    /// entry and one control byte, at the table's 7/8 load.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| map_bytes::<K, u32>(shard.capacity()))
            .sum()
    }
}

/// Heap bytes of a hash map able to hold `capacity` entries of `K → V` without growing.
pub(crate) fn map_bytes<K, V>(capacity: usize) -> usize {
    let buckets = (capacity * 8).div_ceil(7);
    buckets * (std::mem::size_of::<(K, V)>() + 1)
}

impl<K: IndexKey> Index<&K> for ShardedIndex<K> {
    type Output = u32;

    fn index(&self, key: &K) -> &u32 {
        self.get(key).expect("the key is in the index")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_vec_pushes_pops_and_searches_across_chunks() {
        let mut values = ChunkedVec::default();
        let count = CHUNK * 2 + 17;
        for value in 0..count {
            values.push(value);
        }
        assert_eq!(values.len(), count);
        assert_eq!(values[CHUNK], CHUNK);
        assert_eq!(values.iter().copied().sum::<usize>(), (0..count).sum());
        assert_eq!(values.partition_point(|v| *v < CHUNK + 5), CHUNK + 5);
        assert_eq!(values.partition_point(|_| true), count);
        for expected in (CHUNK - 3..count).rev() {
            assert_eq!(values.pop(), Some(expected));
        }
        values.push(7);
        assert_eq!(values[CHUNK - 3], 7);
        assert_eq!(values.len(), CHUNK - 2);
        values[0] = 99;
        assert_eq!(values[0], 99);
    }

    #[test]
    fn sharded_index_finds_what_it_holds() {
        let mut index = ShardedIndex::default();
        for id in 1..50_000_u128 {
            index.insert(TransferId(id << 64 | id), u32::try_from(id).expect("small"));
        }
        assert_eq!(index[&TransferId(7 << 64 | 7)], 7);
        index.remove(&TransferId(7 << 64 | 7));
        assert!(index.get(&TransferId(7 << 64 | 7)).is_none());
        assert!(index.get(&TransferId(7)).is_none());
        let used = index
            .shards
            .iter()
            .filter(|shard| !shard.is_empty())
            .count();
        assert!(used > 200, "ids spread over the shards: {used}");
    }
}
