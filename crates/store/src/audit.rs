//! The audit log's storage: entries, the tree head and signed checkpoints. The Merkle
//! arithmetic is `ceiba-audit`'s; this module keeps it consistent with the rows, in one
//! transaction per batch, whichever process appends.

use ceiba_audit::{Frontier, Hash, leaf_hash};
use sqlx::Row;

use crate::db::Db;
use crate::error::StoreError;

/// The most entries one append may carry, so one transaction stays short.
pub const AUDIT_APPEND_BATCH_MAX: usize = 1_000;
/// The most entries one page read returns.
pub const AUDIT_PAGE_MAX: u32 = 10_000;

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub index: u64,
    pub recorded_at_ms: i64,
    pub data: Vec<u8>,
    pub leaf_hash: Hash,
    pub root_after: Hash,
}

/// A stored signed checkpoint, in its text encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRow {
    pub tree_size: u64,
    pub signed_text: String,
    pub recorded_at_ms: i64,
}

/// The tree after an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditHead {
    pub tree_size: u64,
    pub root: Hash,
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).expect("audit sizes stay far below i64::MAX")
}

fn to_u64(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("valor negativo: {value}")))
}

fn to_hash(bytes: &[u8]) -> Result<Hash, StoreError> {
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("un hash de {} bytes", bytes.len())))?;
    Ok(Hash::from_bytes(array))
}

fn audit_row(row: &sqlx::any::AnyRow) -> Result<AuditRow, StoreError> {
    let data: Vec<u8> = row.try_get("data")?;
    let leaf: Vec<u8> = row.try_get("leaf_hash")?;
    let root: Vec<u8> = row.try_get("root_after")?;
    Ok(AuditRow {
        index: to_u64(row.try_get("entry_index")?)?,
        recorded_at_ms: row.try_get("recorded_at_ms")?,
        data,
        leaf_hash: to_hash(&leaf)?,
        root_after: to_hash(&root)?,
    })
}

impl Db {
    /// Appends events to the audit log, in order, atomically; returns the head after them.
    pub async fn append_audit(
        &self,
        events: &[Vec<u8>],
        now_ms: i64,
    ) -> Result<AuditHead, StoreError> {
        assert!(
            events.len() <= AUDIT_APPEND_BATCH_MAX,
            "at most {AUDIT_APPEND_BATCH_MAX} audit events per append"
        );
        let (_turn, mut transaction) = self.begin_write().await?;
        // A no-op update takes the row's write lock first (PostgreSQL row lock, SQLite write
        // lock), so two appenders never read the same head.
        sqlx::query("UPDATE audit_head SET tree_size = tree_size WHERE id = 1")
            .execute(&mut *transaction)
            .await?;
        let head = sqlx::query("SELECT tree_size, frontier FROM audit_head WHERE id = 1")
            .fetch_one(&mut *transaction)
            .await?;
        let tree_size = to_u64(head.try_get("tree_size")?)?;
        let frontier_bytes: Vec<u8> = head.try_get("frontier")?;
        let mut frontier = if frontier_bytes.is_empty() {
            Frontier::new()
        } else {
            Frontier::from_bytes(&frontier_bytes)
                .map_err(|error| StoreError::Corrupt(format!("frontera del registro: {error}")))?
        };
        if frontier.size() != tree_size {
            return Err(StoreError::Corrupt(format!(
                "la cabeza del registro dice {tree_size} entradas y su frontera {}",
                frontier.size()
            )));
        }
        for data in events {
            let index = frontier.size();
            let leaf = leaf_hash(data);
            frontier.append(leaf);
            let root = frontier.root();
            sqlx::query(
                "INSERT INTO audit_entries (entry_index, recorded_at_ms, data, leaf_hash, root_after) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(to_i64(index))
            .bind(now_ms)
            .bind(data.clone())
            .bind(leaf.as_bytes().to_vec())
            .bind(root.as_bytes().to_vec())
            .execute(&mut *transaction)
            .await?;
        }
        sqlx::query("UPDATE audit_head SET tree_size = $1, frontier = $2 WHERE id = 1")
            .bind(to_i64(frontier.size()))
            .bind(frontier.to_bytes())
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(AuditHead {
            tree_size: frontier.size(),
            root: frontier.root(),
        })
    }

    /// The tree's current size and root.
    pub async fn audit_head(&self) -> Result<AuditHead, StoreError> {
        let head = sqlx::query("SELECT tree_size, frontier FROM audit_head WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        let tree_size = to_u64(head.try_get("tree_size")?)?;
        let bytes: Vec<u8> = head.try_get("frontier")?;
        let frontier = if bytes.is_empty() {
            Frontier::new()
        } else {
            Frontier::from_bytes(&bytes)
                .map_err(|error| StoreError::Corrupt(format!("frontera del registro: {error}")))?
        };
        Ok(AuditHead {
            tree_size,
            root: frontier.root(),
        })
    }

    /// Entries from `from_index` on, in index order, at most `limit` (capped).
    pub async fn audit_entries(
        &self,
        from_index: u64,
        limit: u32,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT entry_index, recorded_at_ms, data, leaf_hash, root_after FROM audit_entries \
             WHERE entry_index >= $1 ORDER BY entry_index LIMIT $2",
        )
        .bind(to_i64(from_index))
        .bind(i64::from(limit.min(AUDIT_PAGE_MAX)))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(audit_row).collect()
    }

    /// The leaf hashes of the first `tree_size` entries, for proofs.
    pub async fn audit_leaf_hashes(&self, tree_size: u64) -> Result<Vec<Hash>, StoreError> {
        let rows = sqlx::query(
            "SELECT leaf_hash FROM audit_entries WHERE entry_index < $1 ORDER BY entry_index",
        )
        .bind(to_i64(tree_size))
        .fetch_all(self.pool())
        .await?;
        let hashes = rows
            .iter()
            .map(|row| to_hash(&row.try_get::<Vec<u8>, _>(0)?))
            .collect::<Result<Vec<_>, _>>()?;
        if hashes.len() as u64 != tree_size {
            return Err(StoreError::Corrupt(format!(
                "se esperaban {tree_size} hojas y hay {}",
                hashes.len()
            )));
        }
        Ok(hashes)
    }

    /// Stores a signed checkpoint; a second one for the same size is ignored.
    pub async fn store_checkpoint(
        &self,
        tree_size: u64,
        signed_text: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO audit_checkpoints (tree_size, signed_text, recorded_at_ms) \
             VALUES ($1, $2, $3) ON CONFLICT (tree_size) DO NOTHING",
        )
        .bind(to_i64(tree_size))
        .bind(signed_text)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Every checkpoint, smallest tree first.
    pub async fn checkpoints(&self) -> Result<Vec<CheckpointRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT tree_size, signed_text, recorded_at_ms FROM audit_checkpoints ORDER BY tree_size",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CheckpointRow {
                    tree_size: to_u64(row.try_get("tree_size")?)?,
                    signed_text: row.try_get("signed_text")?,
                    recorded_at_ms: row.try_get("recorded_at_ms")?,
                })
            })
            .collect()
    }

    /// The checkpoint of the largest tree, if any.
    pub async fn latest_checkpoint(&self) -> Result<Option<CheckpointRow>, StoreError> {
        let row = sqlx::query(
            "SELECT tree_size, signed_text, recorded_at_ms FROM audit_checkpoints \
             ORDER BY tree_size DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(CheckpointRow {
                tree_size: to_u64(row.try_get("tree_size")?)?,
                signed_text: row.try_get("signed_text")?,
                recorded_at_ms: row.try_get("recorded_at_ms")?,
            })
        })
        .transpose()
    }
}

/// An inclusion proof, checked before it is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    pub index: u64,
    pub tree_size: u64,
    pub leaf_hash: Hash,
    pub root: Hash,
    pub audit_path: Vec<Hash>,
}

/// A consistency proof, checked before it is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    pub first: u64,
    pub second: u64,
    pub first_root: Hash,
    pub second_root: Hash,
    pub proof: Vec<Hash>,
}

impl Db {
    async fn audit_size_or_current(&self, size: Option<u64>) -> Result<u64, StoreError> {
        let current = self.audit_head().await?.tree_size;
        match size {
            Some(size) if size > current => Err(StoreError::NotFound(format!(
                "el registro tiene {current} entradas; no hay árbol de tamaño {size}"
            ))),
            Some(size) => Ok(size),
            None => Ok(current),
        }
    }

    /// Proves that entry `index` is in the tree of `tree_size` entries (the current tree when
    /// `None`).
    pub async fn audit_inclusion_proof(
        &self,
        index: u64,
        tree_size: Option<u64>,
    ) -> Result<InclusionProof, StoreError> {
        let tree_size = self.audit_size_or_current(tree_size).await?;
        if index >= tree_size {
            return Err(StoreError::NotFound(format!(
                "la entrada {index} no está en un árbol de {tree_size} entradas"
            )));
        }
        let leaves = self.audit_leaf_hashes(tree_size).await?;
        let audit_path = ceiba_audit::inclusion_proof(&leaves, index, tree_size)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        let leaf_hash = leaves[usize::try_from(index).expect("index below a stored size")];
        let root = ceiba_audit::root(&leaves);
        // Post-condition: what we hand out verifies.
        ceiba_audit::verify_inclusion(leaf_hash, index, tree_size, &audit_path, root)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        Ok(InclusionProof {
            index,
            tree_size,
            leaf_hash,
            root,
            audit_path,
        })
    }

    /// Proves that the tree of `first` entries is a prefix of the tree of `second` (the
    /// current tree when `None`).
    pub async fn audit_consistency_proof(
        &self,
        first: u64,
        second: Option<u64>,
    ) -> Result<ConsistencyProof, StoreError> {
        let second = self.audit_size_or_current(second).await?;
        if first > second {
            return Err(StoreError::NotFound(format!(
                "el primer tamaño ({first}) no puede pasar del segundo ({second})"
            )));
        }
        let leaves = self.audit_leaf_hashes(second).await?;
        let proof = ceiba_audit::consistency_proof(&leaves, first, second)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        let first_root =
            ceiba_audit::root(&leaves[..usize::try_from(first).expect("first below second")]);
        let second_root = ceiba_audit::root(&leaves);
        ceiba_audit::verify_consistency(first, second, first_root, second_root, &proof)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        Ok(ConsistencyProof {
            first,
            second,
            first_root,
            second_root,
            proof,
        })
    }
}
