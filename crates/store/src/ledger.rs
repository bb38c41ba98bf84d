//! The ledger's durable write path and its recovery path.
//!
//! Write path: one writer task per process gathers client requests into a batch of at most
//! [`BATCH_EVENTS_MAX`] events (group commit), encodes it as a journal [`Record`], appends the
//! record in one transaction (SQLite with `synchronous=FULL`, or PostgreSQL with its WAL
//! flushed at commit), and only then applies it to the in-memory [`LedgerState`] and answers
//! the requests. Nothing is acknowledged before it is durable; nothing durable is skipped on
//! replay.
//!
//! Recovery path: at start, and after any failed append, the state is rebuilt by replaying the
//! journal in order. A failed append may or may not have committed (a lost connection during
//! COMMIT); replaying what is stored settles it, and clients that saw an error retry with the
//! same ids, which the ledger answers with `exists` when the first try did land.
//!
//! Several processes: the one holding the `ledger-writer` lease writes; the others follow the
//! journal and answer reads. The journal's primary key fences a writer that lost its lease
//! without knowing: its append of an already used sequence number fails, and it steps down.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use ceiba_ledger::{
    BATCH_EVENTS_MAX, CreateAccountResult, CreateTransferResult, LedgerState, NewAccount,
    NewTransfer, Operation, OperationResults, Record, Timestamp,
};
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use crate::db::Db;
use crate::error::StoreError;
use crate::lease::{LeaseHolder, LeaseName};
use crate::payments::to_i64;

/// The lease whose holder is the one process that writes to the ledger.
pub const LEDGER_WRITER_LEASE: LeaseName = LeaseName::new("ledger-writer");
/// Records read per query while replaying (each up to about 900 KB).
const RECORDS_PER_READ: i64 = 16;
/// Requests waiting for the writer; beyond this, callers wait (backpressure).
const QUEUE_REQUESTS_MAX: usize = 1_024;
const LEASE_TTL_MS: i64 = 10_000;
/// Renew the lease when it is this old, well before it expires.
const LEASE_RENEW_MS: i64 = 2_000;
/// How often a follower reads the journal for records the writer added.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(200);
/// Wait before retrying a rebuild that failed (the database is down).
const REBUILD_RETRY: Duration = Duration::from_millis(500);
const NANOS_PER_MILLI: u64 = 1_000_000;

impl Db {
    /// Appends record `sequence` to the journal and makes it durable. Returns `false`, writing
    /// nothing, when another writer already holds that number.
    pub async fn append_ledger_record(
        &self,
        sequence: u64,
        record: &[u8],
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let result = sqlx::query(
            "INSERT INTO ledger_journal (sequence, record) VALUES ($1, $2) \
             ON CONFLICT (sequence) DO NOTHING",
        )
        .bind(to_i64(sequence, "secuencia del diario")?)
        .bind(record)
        .execute(self.write_pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Journal records after `after`, in order, at most `limit`.
    pub async fn ledger_records_after(
        &self,
        after: u64,
        limit: i64,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT sequence, record FROM ledger_journal WHERE sequence > $1 \
             ORDER BY sequence LIMIT $2",
        )
        .bind(to_i64(after, "secuencia del diario")?)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|row| {
                let sequence: i64 = row.try_get(0)?;
                let sequence = u64::try_from(sequence)
                    .map_err(|_| StoreError::Corrupt(format!("secuencia negativa {sequence}")))?;
                Ok((sequence, row.try_get(1)?))
            })
            .collect()
    }
}

/// The state rebuilt from the journal, and how far into the journal it is.
#[derive(Debug, Default)]
pub struct Replica {
    pub state: LedgerState,
    /// The last record applied; 0 before the first.
    pub sequence: u64,
}

impl Replica {
    /// Decodes and applies one stored record, refusing anything but the next number.
    fn apply_stored(&mut self, sequence: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let record = ceiba_ledger::decode(bytes).map_err(|error| {
            StoreError::Corrupt(format!("registro {sequence} del diario del libro: {error}"))
        })?;
        let expected = self.sequence + 1;
        if sequence != expected || record.sequence != expected {
            return Err(StoreError::Corrupt(format!(
                "el diario del libro salta del registro {} al {sequence}",
                self.sequence
            )));
        }
        self.state.apply(record.now, &record.operations);
        self.sequence = expected;
        Ok(())
    }
}

/// Replays every journal record after `replica.sequence` into `replica`.
pub async fn replay_ledger(db: &Db, replica: &mut Replica) -> Result<u64, StoreError> {
    let mut applied = 0;
    loop {
        let records = db
            .ledger_records_after(replica.sequence, RECORDS_PER_READ)
            .await?;
        if records.is_empty() {
            return Ok(applied);
        }
        for (sequence, bytes) in records {
            replica.apply_stored(sequence, &bytes)?;
            applied += 1;
        }
    }
}

/// Why the ledger did not take a request. The events' own refusals are result codes, not errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    #[error("el lote tiene {events} operaciones y el máximo es {max}")]
    BatchTooLarge { events: usize, max: usize },
    #[error("el lote está vacío")]
    EmptyBatch,
    #[error("este proceso no escribe en el libro mayor ahora; lo hace otro")]
    NotWriter,
    #[error(
        "el libro mayor no pudo guardar el lote ({0}); reintente con los mismos identificadores"
    )]
    Unavailable(String),
    #[error("el libro mayor se está deteniendo")]
    Stopped,
}

/// Nanoseconds since the Unix epoch; passed in so tests and the simulator control time.
pub type LedgerClock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The wall clock, for production.
pub fn system_clock() -> LedgerClock {
    Arc::new(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        u64::try_from(nanos).unwrap_or(u64::MAX)
    })
}

enum Message {
    Write {
        operation: Operation,
        reply: oneshot::Sender<Result<OperationResults, LedgerError>>,
    },
    Stop {
        done: oneshot::Sender<()>,
    },
}

struct Shared {
    replica: RwLock<Replica>,
    writer: AtomicBool,
}

/// A handle on the ledger: submit batches, read the state. Cheap to clone.
#[derive(Clone)]
pub struct LedgerEngine {
    shared: Arc<Shared>,
    messages: mpsc::Sender<Message>,
}

impl std::fmt::Debug for LedgerEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerEngine")
            .field("writer", &self.is_writer())
            .finish_non_exhaustive()
    }
}

impl LedgerEngine {
    /// Rebuilds the state from the journal and starts the writer task, which writes once it
    /// holds the lease and follows the journal otherwise.
    pub async fn start(
        db: Db,
        holder: LeaseHolder,
        clock: LedgerClock,
    ) -> Result<LedgerEngine, StoreError> {
        let mut replica = Replica::default();
        replay_ledger(&db, &mut replica).await?;
        let report = ceiba_ledger::check(&replica.state);
        if !report.is_sound() {
            return Err(StoreError::Corrupt(format!(
                "el libro mayor reconstruido no cuadra: {}",
                report.violations.join("; ")
            )));
        }
        tracing::info!(
            records = replica.sequence,
            accounts = replica.state.accounts_count(),
            transfers = replica.state.transfers_count(),
            "libro mayor reconstruido desde su diario"
        );
        let shared = Arc::new(Shared {
            replica: RwLock::new(replica),
            writer: AtomicBool::new(false),
        });
        let (messages, inbox) = mpsc::channel(QUEUE_REQUESTS_MAX);
        let writer = Writer {
            db,
            holder,
            clock,
            shared: shared.clone(),
            inbox,
            carried: None,
            lease_renewed_at_ms: None,
        };
        tokio::spawn(writer.run());
        Ok(LedgerEngine { shared, messages })
    }

    pub async fn create_accounts(
        &self,
        events: Vec<NewAccount>,
    ) -> Result<Vec<CreateAccountResult>, LedgerError> {
        match self.submit(Operation::CreateAccounts(events)).await? {
            OperationResults::CreateAccounts(results) => Ok(results),
            OperationResults::CreateTransfers(_) => unreachable!("results match the operation"),
        }
    }

    pub async fn create_transfers(
        &self,
        events: Vec<NewTransfer>,
    ) -> Result<Vec<CreateTransferResult>, LedgerError> {
        match self.submit(Operation::CreateTransfers(events)).await? {
            OperationResults::CreateTransfers(results) => Ok(results),
            OperationResults::CreateAccounts(_) => unreachable!("results match the operation"),
        }
    }

    async fn submit(&self, operation: Operation) -> Result<OperationResults, LedgerError> {
        let events = operation.len();
        if events == 0 {
            return Err(LedgerError::EmptyBatch);
        }
        if events > BATCH_EVENTS_MAX {
            return Err(LedgerError::BatchTooLarge {
                events,
                max: BATCH_EVENTS_MAX,
            });
        }
        if !self.is_writer() {
            return Err(LedgerError::NotWriter);
        }
        let (reply, answer) = oneshot::channel();
        self.messages
            .send(Message::Write { operation, reply })
            .await
            .map_err(|_| LedgerError::Stopped)?;
        answer.await.map_err(|_| LedgerError::Stopped)?
    }

    /// Reads the state as of the last applied record.
    pub fn read(&self) -> RwLockReadGuard<'_, Replica> {
        self.shared
            .replica
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether this process writes now (holds the lease and has caught up).
    pub fn is_writer(&self) -> bool {
        self.shared.writer.load(Ordering::Acquire)
    }

    /// Waits until this process writes, up to `limit`; for start-up and tests.
    pub async fn wait_until_writer(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while !self.is_writer() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// Finishes the batch in hand, gives the lease up and stops the writer task.
    pub async fn stop(&self) {
        let (done, finished) = oneshot::channel();
        if self.messages.send(Message::Stop { done }).await.is_ok() {
            let _ = finished.await;
        }
    }
}

struct Writer {
    db: Db,
    holder: LeaseHolder,
    clock: LedgerClock,
    shared: Arc<Shared>,
    inbox: mpsc::Receiver<Message>,
    /// A request that did not fit the last batch; it opens the next one.
    carried: Option<Message>,
    /// When the lease was last taken or renewed, while this process holds it.
    lease_renewed_at_ms: Option<i64>,
}

struct Pending {
    reply: oneshot::Sender<Result<OperationResults, LedgerError>>,
}

impl Writer {
    fn now_ms(&self) -> i64 {
        i64::try_from((self.clock)() / NANOS_PER_MILLI).unwrap_or(i64::MAX)
    }

    fn set_writer(&self, writer: bool) {
        self.shared.writer.store(writer, Ordering::Release);
    }

    async fn run(mut self) {
        loop {
            self.keep_lease().await;
            let stop = if self.lease_renewed_at_ms.is_some() {
                self.write_once().await
            } else {
                self.follow_once().await
            };
            if let Some(done) = stop {
                self.set_writer(false);
                if self.lease_renewed_at_ms.is_some() {
                    let _ = self
                        .db
                        .release_lease(LEDGER_WRITER_LEASE, &self.holder)
                        .await;
                }
                let _ = done.send(());
                return;
            }
        }
    }

    /// Takes the lease when free, renews it when due, and steps down when it is lost.
    async fn keep_lease(&mut self) {
        let now_ms = self.now_ms();
        if self
            .lease_renewed_at_ms
            .is_some_and(|at| now_ms.saturating_sub(at) < LEASE_RENEW_MS)
        {
            return;
        }
        match self
            .db
            .try_acquire_lease(LEDGER_WRITER_LEASE, &self.holder, now_ms, LEASE_TTL_MS)
            .await
        {
            Ok(Some(_)) => {
                if self.lease_renewed_at_ms.is_none() {
                    // A new writer first reads everything the last one wrote.
                    self.catch_up_until_done().await;
                    tracing::info!(holder = %self.holder, "este proceso escribe en el libro mayor");
                }
                self.lease_renewed_at_ms = Some(now_ms);
                self.set_writer(true);
            }
            Ok(None) => self.step_down(),
            Err(error) => {
                tracing::warn!(%error, "no se pudo renovar el turno de escritura del libro mayor");
                if self
                    .lease_renewed_at_ms
                    .is_some_and(|at| now_ms.saturating_sub(at) >= LEASE_TTL_MS / 2)
                {
                    self.step_down();
                }
            }
        }
    }

    fn step_down(&mut self) {
        if self.lease_renewed_at_ms.take().is_some() {
            tracing::warn!(holder = %self.holder, "este proceso deja de escribir en el libro mayor");
        }
        self.set_writer(false);
    }

    /// One round as a follower: read new records, refuse writes, wait a little.
    async fn follow_once(&mut self) -> Option<oneshot::Sender<()>> {
        if let Err(error) = self.catch_up().await {
            tracing::warn!(%error, "no se pudo leer el diario del libro mayor");
        }
        let message = match self.carried.take() {
            Some(message) => Some(message),
            None => tokio::select! {
                message = self.inbox.recv() => message,
                () = tokio::time::sleep(FOLLOW_INTERVAL) => return None,
            },
        };
        match message {
            None => Some(oneshot::channel().0),
            Some(Message::Stop { done }) => Some(done),
            Some(Message::Write { reply, .. }) => {
                let _ = reply.send(Err(LedgerError::NotWriter));
                None
            }
        }
    }

    /// One round as the writer: wait for requests (or for a pending transfer to expire), write
    /// one record, apply it, answer.
    async fn write_once(&mut self) -> Option<oneshot::Sender<()>> {
        let first = match self.carried.take() {
            Some(message) => message,
            None => {
                let wait = self.idle_wait();
                tokio::select! {
                    message = self.inbox.recv() => match message {
                        Some(message) => message,
                        None => return Some(oneshot::channel().0),
                    },
                    () = tokio::time::sleep(wait) => {
                        if self.expiry_due() {
                            self.commit(Vec::new(), Vec::new()).await;
                        }
                        return None;
                    }
                }
            }
        };
        let mut operations = Vec::new();
        let mut waiting = Vec::new();
        let mut events = 0;
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Stop { done } => {
                    self.commit(operations, waiting).await;
                    return Some(done);
                }
                Message::Write { operation, reply } => {
                    if events + operation.len() > BATCH_EVENTS_MAX {
                        self.carried = Some(Message::Write { operation, reply });
                        break;
                    }
                    events += operation.len();
                    operations.push(operation);
                    waiting.push(Pending { reply });
                }
            }
            next = self.inbox.try_recv().ok();
        }
        self.commit(operations, waiting).await;
        None
    }

    fn idle_wait(&self) -> Duration {
        let until_renewal = Duration::from_millis(LEASE_RENEW_MS.unsigned_abs());
        let now = (self.clock)();
        let next_expiry = self.read_replica().state.next_expiry();
        match next_expiry {
            Some(at) => until_renewal.min(Duration::from_nanos(at.saturating_sub(now))),
            None => until_renewal,
        }
    }

    fn expiry_due(&self) -> bool {
        let now = (self.clock)();
        self.read_replica()
            .state
            .next_expiry()
            .is_some_and(|at| at <= now)
    }

    fn read_replica(&self) -> RwLockReadGuard<'_, Replica> {
        self.shared
            .replica
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes one record durable, then applies it and answers each request.
    async fn commit(&mut self, operations: Vec<Operation>, waiting: Vec<Pending>) {
        if operations.is_empty() && !self.expiry_due() {
            return;
        }
        let sequence = self.read_replica().sequence + 1;
        let record = Record {
            sequence,
            now: (self.clock)(),
            operations,
        };
        let bytes = ceiba_ledger::encode(&record);
        debug_assert_eq!(ceiba_ledger::decode(&bytes).as_ref(), Ok(&record));
        match self.db.append_ledger_record(sequence, &bytes).await {
            Ok(true) => {
                let results = {
                    let mut replica = self
                        .shared
                        .replica
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let results = replica.state.apply(record.now, &record.operations);
                    replica.sequence = sequence;
                    results
                };
                for (pending, results) in waiting.into_iter().zip(results) {
                    let _ = pending.reply.send(Ok(results));
                }
            }
            Ok(false) => {
                // Another process wrote this number: it holds the lease now.
                for pending in waiting {
                    let _ = pending.reply.send(Err(LedgerError::NotWriter));
                }
                self.step_down();
            }
            Err(error) => {
                tracing::error!(%error, sequence, "no se pudo guardar un lote del libro mayor");
                for pending in waiting {
                    let _ = pending
                        .reply
                        .send(Err(LedgerError::Unavailable(error.to_string())));
                }
                // The append may have landed or not; only the journal knows.
                self.rebuild_until_done().await;
            }
        }
    }

    /// Applies journal records written by another process.
    async fn catch_up(&self) -> Result<(), StoreError> {
        loop {
            let after = self.read_replica().sequence;
            let records = self
                .db
                .ledger_records_after(after, RECORDS_PER_READ)
                .await?;
            if records.is_empty() {
                return Ok(());
            }
            let mut replica = self
                .shared
                .replica
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (sequence, bytes) in records {
                replica.apply_stored(sequence, &bytes)?;
            }
        }
    }

    async fn catch_up_until_done(&self) {
        while let Err(error) = self.catch_up().await {
            tracing::error!(%error, "no se pudo leer el diario del libro mayor; se reintenta");
            tokio::time::sleep(REBUILD_RETRY).await;
        }
    }

    /// Throws the in-memory state away and replays the journal from the start.
    async fn rebuild_until_done(&self) {
        loop {
            let mut fresh = Replica::default();
            match replay_ledger(&self.db, &mut fresh).await {
                Ok(_) => {
                    *self
                        .shared
                        .replica
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
                    return;
                }
                Err(error) => {
                    tracing::error!(%error, "no se pudo reconstruir el libro mayor; se reintenta");
                    tokio::time::sleep(REBUILD_RETRY).await;
                }
            }
        }
    }
}
