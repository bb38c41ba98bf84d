use crate::{AuditError, Hash, empty_root, node_hash};

/// The Merkle Tree Hash `MTH` of RFC 6962 §2.1 over these leaf hashes.
///
/// O(n) hashing (n − 1 node hashes) and O(log n) memory, without recursion, so a tree of
/// millions of leaves is fine.
pub fn root(leaves: &[Hash]) -> Hash {
    let mut frontier = Frontier::new();
    for leaf in leaves {
        frontier.append(*leaf);
    }
    frontier.root()
}

/// Version byte that opens [`Frontier::to_bytes`], so the layout can change later without
/// an old frontier being misread.
const FRONTIER_FORMAT_VERSION: u8 = 1;
/// Version byte plus the size as a big-endian `u64`.
const FRONTIER_HEADER_BYTES: usize = 1 + 8;

/// The compact state of a tree for appending: its size and the roots of the perfect subtrees
/// its leaves decompose into (one per set bit of the size, largest first).
///
/// Appending and taking the root cost O(log n) time and memory, so the log can grow without
/// its leaves being read back. [`Frontier::root`] equals [`root`] over every leaf appended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Roots of the perfect subtrees, largest first; `perfect_roots.len() == size.count_ones()`.
    perfect_roots: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// How many leaves the tree holds.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash (see [`crate::leaf_hash`]).
    ///
    /// # Panics
    /// When the tree already holds `u64::MAX` leaves, which no storage can reach.
    pub fn append(&mut self, leaf_hash: Hash) {
        // Each trailing one bit of the old size is a perfect subtree as large as the one being
        // built: merge them, as binary addition carries.
        let mut carried = leaf_hash;
        let mut size_rest = self.size;
        while size_rest & 1 == 1 {
            let left = self
                .perfect_roots
                .pop()
                .expect("one perfect root per set bit of the size");
            carried = node_hash(left, carried);
            size_rest >>= 1;
        }
        self.perfect_roots.push(carried);
        self.size = self
            .size
            .checked_add(1)
            .expect("a log of u64::MAX entries cannot be stored");
        debug_assert_eq!(self.perfect_roots.len(), self.size.count_ones() as usize);
    }

    /// The Merkle Tree Hash of the leaves appended so far.
    pub fn root(&self) -> Hash {
        // MTH splits off the largest perfect subtree on the left and recurses on the rest, so
        // the root folds the perfect roots from the smallest (rightmost) up.
        let mut smaller = self.perfect_roots.iter().rev();
        match smaller.next() {
            None => empty_root(),
            Some(last) => smaller.fold(*last, |right, left| node_hash(*left, right)),
        }
    }

    /// The frontier as bytes, for storage: a version byte (1), the size as a big-endian `u64`,
    /// then the 32 bytes of each perfect subtree root, largest first.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(FRONTIER_HEADER_BYTES + 32 * self.perfect_roots.len());
        bytes.push(FRONTIER_FORMAT_VERSION);
        bytes.extend_from_slice(&self.size.to_be_bytes());
        for perfect_root in &self.perfect_roots {
            bytes.extend_from_slice(perfect_root.as_bytes());
        }
        bytes
    }

    /// Reads back what [`Frontier::to_bytes`] wrote, refusing an unknown version or a length
    /// that does not match the size (a truncated or padded value).
    pub fn from_bytes(bytes: &[u8]) -> Result<Frontier, AuditError> {
        let Some((&version, rest)) = bytes.split_first() else {
            return Err(AuditError::FrontierMalformed {
                reason: "está vacía",
            });
        };
        if version != FRONTIER_FORMAT_VERSION {
            return Err(AuditError::FrontierMalformed {
                reason: "versión de formato desconocida",
            });
        }
        let Some((size_bytes, hashes)) = rest.split_first_chunk::<8>() else {
            return Err(AuditError::FrontierMalformed {
                reason: "le falta el tamaño",
            });
        };
        let size = u64::from_be_bytes(*size_bytes);
        let (roots, remainder) = hashes.as_chunks::<32>();
        if !remainder.is_empty() || roots.len() != size.count_ones() as usize {
            return Err(AuditError::FrontierMalformed {
                reason: "su longitud no corresponde a su tamaño",
            });
        }
        Ok(Frontier {
            size,
            perfect_roots: roots.iter().map(|bytes| Hash::from_bytes(*bytes)).collect(),
        })
    }
}
