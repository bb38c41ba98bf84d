//! The audit log's wiring: the checkpoint signing key in the data folder, signing checkpoints
//! as the tree grows, and verification of the whole stored log.

use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use ceiba_audit::{Checkpoint, CheckpointSigner, LogSummary, SignedCheckpoint, StoredEntry};
use ceiba_store::{AUDIT_PAGE_MAX, Db, StoreError};

/// The name every checkpoint of this log carries.
pub const AUDIT_ORIGIN: &str = "ceiba-auditoria";

/// Reads a 256-bit key (64 hexadecimal digits) from `path`, creating it, readable by its owner
/// only, when it does not exist yet. `what` names the key in messages.
pub fn load_or_create_key(path: &Path, what: &str) -> anyhow::Result<[u8; 32]> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_seed(text.trim())
            .with_context(|| format!("la {what} «{}» no es válida", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0_u8; 32];
            rand::fill(&mut seed);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .with_context(|| format!("no se pudo crear la {what} «{}»", path.display()))?;
            file.write_all(hex(&seed).as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("no se pudo escribir «{}»", path.display()))?;
            tracing::info!(path = %path.display(), key = what, "created a new key");
            Ok(seed)
        }
        Err(error) => {
            Err(error).with_context(|| format!("no se pudo leer la {what} «{}»", path.display()))
        }
    }
}

/// The checkpoint signer from its key file, created when missing.
pub fn load_or_create_signing_key(path: &Path) -> anyhow::Result<CheckpointSigner> {
    load_or_create_key(path, "clave de firma").map(CheckpointSigner::from_seed)
}

/// Reads only an existing key (verification must not invent one).
pub fn load_signing_key(path: &Path) -> anyhow::Result<CheckpointSigner> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("no se pudo leer la clave de firma «{}»", path.display()))?;
    parse_seed(text.trim())
        .map(CheckpointSigner::from_seed)
        .with_context(|| format!("la clave de firma «{}» no es válida", path.display()))
}

fn parse_seed(text: &str) -> anyhow::Result<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        bail!("se esperan 64 dígitos hexadecimales");
    }
    let mut seed = [0_u8; 32];
    for (index, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[index * 2..index * 2 + 2], 16)?;
    }
    Ok(seed)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Signs and stores a checkpoint of the current tree when it has grown since the last one.
/// Returns the size signed, if any.
pub async fn checkpoint_if_grown(
    db: &Db,
    signer: &CheckpointSigner,
    now_ms: i64,
) -> anyhow::Result<Option<u64>> {
    let head = db.audit_head().await?;
    let latest = db.latest_checkpoint().await?;
    if latest.is_some_and(|checkpoint| checkpoint.tree_size >= head.tree_size) {
        return Ok(None);
    }
    let checkpoint = Checkpoint::new(AUDIT_ORIGIN, head.tree_size, head.root, now_ms)?;
    let signed = signer.sign(&checkpoint);
    db.store_checkpoint(head.tree_size, &signed.to_text(), now_ms)
        .await?;
    Ok(Some(head.tree_size))
}

/// Why a verification did not pass.
#[derive(Debug, thiserror::Error)]
pub enum VerifyFailure {
    #[error(transparent)]
    Tampered(#[from] ceiba_audit::TamperError),
    #[error("un punto de control guardado no se puede leer (tamaño {tree_size}): {reason}")]
    CheckpointUnreadable { tree_size: u64, reason: String },
    #[error("no se pudo leer el registro: {0}")]
    Storage(#[from] StoreError),
}

/// Recomputes the whole tree from storage and checks every stored hash, root and checkpoint.
pub async fn verify(db: &Db, public_key: [u8; 32]) -> Result<LogSummary, VerifyFailure> {
    let mut checkpoints = Vec::new();
    for row in db.checkpoints().await? {
        let signed = SignedCheckpoint::parse(&row.signed_text).map_err(|error| {
            VerifyFailure::CheckpointUnreadable {
                tree_size: row.tree_size,
                reason: error.to_string(),
            }
        })?;
        checkpoints.push(signed);
    }
    let failure = Arc::new(Mutex::new(None));
    let pages = Pages {
        db: db.clone(),
        runtime: tokio::runtime::Handle::current(),
        next_index: 0,
        buffer: VecDeque::new(),
        finished: false,
        failure: failure.clone(),
    };
    // The verifier is synchronous and streams: feed it page by page from a blocking thread.
    let outcome = tokio::task::spawn_blocking(move || {
        ceiba_audit::verify_log(pages, &checkpoints, &public_key)
    })
    .await
    .expect("the verifier does not panic");
    if let Some(error) = failure.lock().expect("failure slot").take() {
        return Err(VerifyFailure::Storage(error));
    }
    Ok(outcome?)
}

/// The stored entries as an iterator, read a page at a time.
struct Pages {
    db: Db,
    runtime: tokio::runtime::Handle,
    next_index: u64,
    buffer: VecDeque<StoredEntry>,
    finished: bool,
    failure: Arc<Mutex<Option<StoreError>>>,
}

impl Iterator for Pages {
    type Item = StoredEntry;

    fn next(&mut self) -> Option<StoredEntry> {
        if self.buffer.is_empty() && !self.finished {
            match self
                .runtime
                .block_on(self.db.audit_entries(self.next_index, AUDIT_PAGE_MAX))
            {
                Ok(rows) => {
                    self.finished = rows.len() < AUDIT_PAGE_MAX as usize;
                    if let Some(last) = rows.last() {
                        self.next_index = last.index + 1;
                    }
                    self.buffer.extend(rows.into_iter().map(|row| StoredEntry {
                        index: row.index,
                        data: row.data,
                        leaf_hash: row.leaf_hash,
                        root_after: row.root_after,
                    }));
                }
                Err(error) => {
                    *self.failure.lock().expect("failure slot") = Some(error);
                    self.finished = true;
                }
            }
        }
        self.buffer.pop_front()
    }
}
