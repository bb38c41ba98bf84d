//! Group commit for Pagos' operation rows.
//!
//! Every operation is written twice: when it begins (`pending`, after its idempotency key is
//! looked up and the person's limits are counted) and when it ends (`completed` or `refused`,
//! with its SMS). Written one request at a time, each write is a transaction of half a dozen
//! statements and its own flush to disk, and on the embedded engine every statement is a hop to
//! the driver's worker thread: at a thousand payments a second those hops, not the disk, were
//! what the machine spent its time on. Here each of the two writes has one task per process
//! ([`Batcher`]) that takes every request waiting, writes them all in one transaction with a
//! fixed handful of statements (one lookup of all the keys, one sum of all the limits, one
//! multi-row insert or update), and answers each request when that transaction has committed.
//! A lone request is written at once; under load the batches grow by themselves.
//!
//! Correctness does not rest on the batching: every batch of beginnings first takes the lock on
//! the one `payment_turn` row, so batches of every process sharing a PostgreSQL database run one
//! after another, and inside a batch the requests are taken in order, each counting what the
//! earlier ones of the same person added.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use crate::db::Db;
use crate::error::{ErrorKind, StoreError};
use crate::payments::{
    BeginPayment, COLUMNS, LimitWindows, OperationRow, OperationStatus, SentUsage, operation_row,
    to_i64, to_u64,
};

/// Most requests written in one transaction.
pub(crate) const BATCH_MAX: usize = 256;
/// Requests waiting for their task; beyond this, callers wait (backpressure).
const QUEUE_MAX: usize = 4_096;
/// Rows per multi-row statement, well under both engines' limits on bound values.
const ROWS_PER_STATEMENT: usize = 32;

/// The lower limits a person set for a currency, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PersonalLimitsRow {
    pub daily_minor: Option<u64>,
    pub monthly_minor: Option<u64>,
}

/// What a limit check sees: what the person already sent (in flight included) and the lower
/// limits they set, as of the moment the operation begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LimitContext {
    pub sent: SentUsage,
    pub personal: Option<PersonalLimitsRow>,
}

/// Decides whether an operation may begin; its error is what the caller gets back.
pub type LimitCheck<'c, R> = Box<dyn FnOnce(&LimitContext) -> Result<(), R> + Send + 'c>;

/// One operation to begin.
pub(crate) struct BeginItem<'c, R> {
    /// The row as it will be written (status `pending`).
    pub row: OperationRow,
    pub windows: LimitWindows,
    /// Run only when `row.counts_toward_limits`.
    pub check: LimitCheck<'c, R>,
}

/// One operation to end.
#[derive(Debug, Clone)]
pub(crate) struct FinishItem {
    pub id: String,
    pub status: OperationStatus,
    pub refusal_code: Option<String>,
    pub refusal_detail: Option<String>,
    pub receipt_code: Option<String>,
    /// `(phone in E.164, text)`, queued only if this request is the one that ends it.
    pub messages: Vec<(String, String)>,
    pub now_ms: i64,
}

type Reply<O> = oneshot::Sender<Result<O, StoreError>>;

/// A task that writes what its callers submit in batches, one transaction per batch.
pub(crate) struct Batcher<I, O> {
    sender: mpsc::Sender<(I, Reply<O>)>,
}

impl<I: Send + 'static, O: Send + 'static> Batcher<I, O> {
    /// Starts the task. `write` gets every request waiting (at most [`BATCH_MAX`]) and answers
    /// each in order; an error of its own fails the whole batch, which wrote nothing.
    pub(crate) fn start<W, F>(db: Db, write: W) -> Batcher<I, O>
    where
        W: Fn(Db, Vec<I>) -> F + Send + 'static,
        F: Future<Output = Result<Vec<Result<O, StoreError>>, StoreError>> + Send,
    {
        let (sender, mut inbox) = mpsc::channel::<(I, Reply<O>)>(QUEUE_MAX);
        tokio::spawn(async move {
            while let Some(first) = inbox.recv().await {
                let mut items = vec![first.0];
                let mut replies = vec![first.1];
                while items.len() < BATCH_MAX {
                    let Ok((item, reply)) = inbox.try_recv() else {
                        break;
                    };
                    items.push(item);
                    replies.push(reply);
                }
                match write(db.clone(), items).await {
                    Ok(results) => {
                        for (reply, result) in replies.into_iter().zip(results) {
                            let _ = reply.send(result);
                        }
                    }
                    Err(error) => {
                        let kind = error.kind();
                        let message = error.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(StoreError::Shared {
                                kind,
                                message: message.clone(),
                            }));
                        }
                    }
                }
            }
        });
        Batcher { sender }
    }

    /// Queues `item` and waits until its batch is written.
    pub(crate) async fn submit(&self, item: I) -> Result<O, StoreError> {
        let stopped = || StoreError::Shared {
            kind: ErrorKind::Unavailable,
            message: "la escritura por lotes de operaciones se detuvo".to_owned(),
        };
        let (reply, answer) = oneshot::channel();
        self.sender
            .send((item, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// What the operations' batch writer is asked to do.
pub(crate) enum OperationWrite {
    Begin(Box<BeginItem<'static, String>>),
    Finish(FinishItem),
}

/// What it answers.
pub(crate) enum OperationWritten {
    Begun(BeginPayment<String>),
    Finished(OperationRow),
}

/// The batch writer of one [`Db`]: beginnings and endings share its transactions, so a busy
/// moment costs one transaction for both (the ledger's journal is the other).
pub(crate) struct PaymentBatches {
    pub writer: Batcher<OperationWrite, OperationWritten>,
}

impl PaymentBatches {
    /// `db` must not share this `PaymentBatches` (see `Db::detached`): the task ends when the
    /// last handle that does is dropped.
    pub(crate) fn start(db: &Db) -> PaymentBatches {
        PaymentBatches {
            writer: Batcher::start(db.clone(), |db, items| async move {
                let mut begins = Vec::new();
                let mut finishes = Vec::new();
                let mut order = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        OperationWrite::Begin(begin) => {
                            order.push(true);
                            begins.push(*begin);
                        }
                        OperationWrite::Finish(finish) => {
                            order.push(false);
                            finishes.push(finish);
                        }
                    }
                }
                let (_turn, mut transaction) = db.begin_write().await?;
                // Endings first: they only ever lower what the beginnings count.
                let finished = if finishes.is_empty() {
                    Vec::new()
                } else {
                    finish_batch_in(&mut transaction, &finishes).await?
                };
                let begun = if begins.is_empty() {
                    Vec::new()
                } else {
                    begin_batch_in(&mut transaction, begins).await?
                };
                transaction.commit().await?;
                let mut begun = begun.into_iter();
                let mut finished = finished.into_iter();
                Ok(order
                    .into_iter()
                    .filter_map(|is_begin| {
                        if is_begin {
                            begun.next().map(|b| Ok(OperationWritten::Begun(b)))
                        } else {
                            finished
                                .next()
                                .map(|f| f.map(|(row, _)| OperationWritten::Finished(row)))
                        }
                    })
                    .collect())
            }),
        }
    }
}

type Transaction = sqlx::Transaction<'static, sqlx::Any>;

/// Begins `items` in order inside `transaction` (which the caller commits): an idempotency key
/// used before answers with its operation, a refused limit check writes nothing, the rest are
/// inserted as pending. Writes nothing the caller must roll back.
pub(crate) async fn begin_batch_in<R>(
    transaction: &mut Transaction,
    items: Vec<BeginItem<'_, R>>,
) -> Result<Vec<BeginPayment<R>>, StoreError> {
    // The turn: batches of beginnings, of every process, one after another.
    sqlx::query("UPDATE payment_turn SET turns = turns + 1 WHERE id = 1")
        .execute(&mut **transaction)
        .await?;
    let keys: Vec<(&str, &str)> = items
        .iter()
        .filter_map(|item| {
            let key = item.row.idempotency_key.as_deref()?;
            Some((item.row.user_id.as_str(), key))
        })
        .collect();
    let mut earlier = rows_by_key(transaction, &keys).await?;
    let counted: Vec<(&str, &str, LimitWindows)> = items
        .iter()
        .filter(|item| item.row.counts_toward_limits)
        .map(|item| {
            (
                item.row.user_id.as_str(),
                item.row.currency.as_str(),
                item.windows,
            )
        })
        .collect();
    let mut sent = sent_usage_of(transaction, &counted).await?;
    let pairs: Vec<(&str, &str)> = counted.iter().map(|&(u, c, _)| (u, c)).collect();
    let personal = personal_limits_of(transaction, &pairs).await?;

    let mut begun = Vec::with_capacity(items.len());
    let mut inserting: Vec<OperationRow> = Vec::new();
    for item in items {
        let row = item.row;
        if let Some(key) = &row.idempotency_key
            && let Some(first) = earlier.get(&(row.user_id.clone(), key.clone()))
        {
            begun.push(if first.request_hash == row.request_hash {
                BeginPayment::Existing(first.clone())
            } else {
                BeginPayment::KeyReused(first.clone())
            });
            continue;
        }
        if row.counts_toward_limits {
            let usage_key = (row.user_id.clone(), row.currency.clone(), item.windows);
            let usage = sent.entry(usage_key).or_default();
            let context = LimitContext {
                sent: *usage,
                personal: personal
                    .get(&(row.user_id.clone(), row.currency.clone()))
                    .copied(),
            };
            if let Err(refusal) = (item.check)(&context) {
                begun.push(BeginPayment::Refused(refusal));
                continue;
            }
            if row.created_at_ms >= item.windows.day_start_ms {
                usage.today_minor = usage.today_minor.saturating_add(row.amount_minor);
            }
            if row.created_at_ms >= month_from(item.windows) {
                usage.month_minor = usage.month_minor.saturating_add(row.amount_minor);
            }
        }
        if let Some(key) = &row.idempotency_key {
            // A second request with this key later in the batch gets this one.
            earlier.insert((row.user_id.clone(), key.clone()), row.clone());
        }
        inserting.push(row.clone());
        begun.push(BeginPayment::Started(row));
    }
    insert_operations(transaction, &inserting).await?;
    Ok(begun)
}

/// Where the month's sum starts: the day starts within the month, unless the caller's windows
/// say otherwise, and then the earlier of the two.
fn month_from(windows: LimitWindows) -> i64 {
    windows.month_start_ms.min(windows.day_start_ms)
}

/// The operations already recorded under these `(user, idempotency key)` pairs.
async fn rows_by_key(
    transaction: &mut Transaction,
    keys: &[(&str, &str)],
) -> Result<HashMap<(String, String), OperationRow>, StoreError> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let terms: Vec<String> = (0..chunk.len())
            .map(|n| {
                format!(
                    "(user_id = ${} AND idempotency_key = ${})",
                    2 * n + 1,
                    2 * n + 2
                )
            })
            .collect();
        let query = format!(
            "SELECT {COLUMNS} FROM payment_operations WHERE {}",
            terms.join(" OR ")
        );
        let mut statement = sqlx::query(&query);
        for (user, key) in chunk {
            statement = statement.bind(*user).bind(*key);
        }
        for row in statement.fetch_all(&mut **transaction).await? {
            let row = operation_row(&row)?;
            if let Some(key) = row.idempotency_key.clone() {
                found.insert((row.user_id.clone(), key), row);
            }
        }
    }
    Ok(found)
}

type UsageKey = (String, String, LimitWindows);

/// What each `(user, currency)` sent person-to-person (pending and completed) since the starts
/// of the day and of the month of its windows: one statement per distinct windows and chunk.
pub(crate) async fn sent_usage_of(
    connection: &mut sqlx::AnyConnection,
    counted: &[(&str, &str, LimitWindows)],
) -> Result<HashMap<UsageKey, SentUsage>, StoreError> {
    let mut by_windows: HashMap<LimitWindows, Vec<(&str, &str)>> = HashMap::new();
    for &(user, currency, windows) in counted {
        let pairs = by_windows.entry(windows).or_default();
        if !pairs.contains(&(user, currency)) {
            pairs.push((user, currency));
        }
    }
    let mut usage = HashMap::new();
    for (windows, pairs) in by_windows {
        let mut users: Vec<&str> = pairs.iter().map(|&(user, _)| user).collect();
        users.sort_unstable();
        users.dedup();
        for chunk in users.chunks(ROWS_PER_STATEMENT) {
            let places: Vec<String> = (3..chunk.len() + 3).map(|n| format!("${n}")).collect();
            // `user_id IN (…) AND created_at_ms >= …` walks the (user, time) index for just
            // these people's month; one pass gives both sums of every currency. `status <>
            // 'refused'` (pending or completed) rather than `status IN (…)`, which SQLite's
            // planner would take to the status index and scan everybody's month instead.
            let query = format!(
                "SELECT user_id, currency, \
                 CAST(COALESCE(SUM(CASE WHEN created_at_ms >= $1 THEN amount_minor ELSE 0 END), \
                 0) AS BIGINT), CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) \
                 FROM payment_operations WHERE user_id IN ({}) AND created_at_ms >= $2 \
                 AND counts_toward_limits = 1 AND status <> 'refused' \
                 GROUP BY user_id, currency",
                places.join(", ")
            );
            let mut statement = sqlx::query(&query)
                .bind(windows.day_start_ms)
                .bind(month_from(windows));
            for user in chunk {
                statement = statement.bind(*user);
            }
            for row in statement.fetch_all(&mut *connection).await? {
                let user: String = row.try_get(0)?;
                let currency: String = row.try_get(1)?;
                usage.insert(
                    (user, currency, windows),
                    SentUsage {
                        today_minor: to_u64(row.try_get(2)?, "importe enviado")?,
                        month_minor: to_u64(row.try_get(3)?, "importe enviado")?,
                    },
                );
            }
        }
    }
    Ok(usage)
}

/// The lower limits these `(user, currency)` pairs set.
pub(crate) async fn personal_limits_of(
    connection: &mut sqlx::AnyConnection,
    pairs: &[(&str, &str)],
) -> Result<HashMap<(String, String), PersonalLimitsRow>, StoreError> {
    let mut distinct: Vec<(&str, &str)> = Vec::new();
    for pair in pairs {
        if !distinct.contains(pair) {
            distinct.push(*pair);
        }
    }
    let mut found = HashMap::new();
    for chunk in distinct.chunks(ROWS_PER_STATEMENT) {
        let terms: Vec<String> = (0..chunk.len())
            .map(|n| format!("(user_id = ${} AND currency = ${})", 2 * n + 1, 2 * n + 2))
            .collect();
        let query = format!(
            "SELECT user_id, currency, daily_minor, monthly_minor FROM personal_limits WHERE {}",
            terms.join(" OR ")
        );
        let mut statement = sqlx::query(&query);
        for (user, currency) in chunk {
            statement = statement.bind(*user).bind(*currency);
        }
        for row in statement.fetch_all(&mut *connection).await? {
            let daily: Option<i64> = row.try_get(2)?;
            let monthly: Option<i64> = row.try_get(3)?;
            found.insert(
                (row.try_get(0)?, row.try_get(1)?),
                PersonalLimitsRow {
                    daily_minor: daily.map(|v| to_u64(v, "límite")).transpose()?,
                    monthly_minor: monthly.map(|v| to_u64(v, "límite")).transpose()?,
                },
            );
        }
    }
    Ok(found)
}

/// Inserts new pending operations, several rows a statement.
async fn insert_operations(
    transaction: &mut Transaction,
    rows: &[OperationRow],
) -> Result<(), StoreError> {
    const FIELDS: usize = 13;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|n| {
                let p: Vec<String> = (1..=FIELDS)
                    .map(|f| format!("${}", n * FIELDS + f))
                    .collect();
                format!(
                    "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 'pending', {})",
                    p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12]
                )
            })
            .collect();
        let query = format!(
            "INSERT INTO payment_operations (id, user_id, idempotency_key, request_hash, kind, \
             currency, amount_minor, fee_minor, counterparty_user_id, counterparty_label, note, \
             counts_toward_limits, status, created_at_ms) VALUES {}",
            values.join(", ")
        );
        let mut statement = sqlx::query(&query);
        for row in chunk {
            statement = statement
                .bind(row.id.as_str())
                .bind(row.user_id.as_str())
                .bind(row.idempotency_key.as_deref())
                .bind(row.request_hash.as_slice())
                .bind(row.kind.as_str())
                .bind(row.currency.as_str())
                .bind(to_i64(row.amount_minor, "importe")?)
                .bind(to_i64(row.fee_minor, "comisión")?)
                .bind(row.counterparty_user_id.as_deref())
                .bind(row.counterparty_label.as_str())
                .bind(row.note.as_str())
                .bind(i32::from(row.counts_toward_limits))
                .bind(row.created_at_ms);
        }
        statement.execute(&mut **transaction).await?;
    }
    Ok(())
}

/// Ends `items` inside `transaction` (which the caller commits): each pending one takes its
/// outcome and has its messages queued; one that had ended is returned as it stands with
/// `false` and nothing queued. An unknown id is that item's error.
pub(crate) async fn finish_batch_in(
    transaction: &mut Transaction,
    items: &[FinishItem],
) -> Result<Vec<Result<(OperationRow, bool), StoreError>>, StoreError> {
    // Only the first request for an id can end it; later ones in the batch read the outcome.
    let mut seen = HashSet::new();
    let first: Vec<&FinishItem> = items
        .iter()
        .filter(|item| seen.insert(item.id.as_str()))
        .collect();
    let mut ended: HashMap<String, OperationRow> = HashMap::new();
    for chunk in first.chunks(ROWS_PER_STATEMENT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|n| {
                let b = n * 6;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6
                )
            })
            .collect();
        // SQLite and PostgreSQL both name a VALUES list's columns column1, column2 …
        let query = format!(
            "UPDATE payment_operations SET status = v.column2, refusal_code = v.column3, \
             refusal_detail = v.column4, receipt_code = v.column5, finished_at_ms = v.column6 \
             FROM (VALUES {}) AS v WHERE payment_operations.id = v.column1 \
             AND payment_operations.status = 'pending' RETURNING {COLUMNS}",
            values.join(", ")
        );
        let mut statement = sqlx::query(&query);
        for item in chunk {
            statement = statement
                .bind(item.id.as_str())
                .bind(item.status.as_str())
                .bind(item.refusal_code.as_deref())
                .bind(item.refusal_detail.as_deref())
                .bind(item.receipt_code.as_deref())
                .bind(item.now_ms);
        }
        for row in statement.fetch_all(&mut **transaction).await? {
            let row = operation_row(&row)?;
            ended.insert(row.id.clone(), row);
        }
    }
    let messages: Vec<(&str, &str, i64)> = first
        .iter()
        .filter(|item| ended.contains_key(&item.id))
        .flat_map(|item| {
            item.messages
                .iter()
                .map(|(phone, body)| (phone.as_str(), body.as_str(), item.now_ms))
        })
        .collect();
    queue_messages(transaction, &messages).await?;
    // The rest had ended before (or ended just now, for a repeated id): read as they stand.
    let unchanged: Vec<&str> = items
        .iter()
        .map(|item| item.id.as_str())
        .filter(|id| !ended.contains_key(*id))
        .collect();
    let standing = rows_by_id(transaction, &unchanged).await?;
    let mut answered = HashSet::new();
    Ok(items
        .iter()
        .map(|item| {
            if let Some(row) = ended.get(&item.id) {
                // Ended by this item if it was the id's first; a repeat changed nothing.
                let changed = answered.insert(item.id.as_str());
                return Ok((row.clone(), changed));
            }
            standing
                .get(&item.id)
                .map(|row| (row.clone(), false))
                .ok_or_else(|| StoreError::NotFound(format!("la operación {} no existe", item.id)))
        })
        .collect())
}

async fn rows_by_id(
    transaction: &mut Transaction,
    ids: &[&str],
) -> Result<HashMap<String, OperationRow>, StoreError> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let places: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let query = format!(
            "SELECT {COLUMNS} FROM payment_operations WHERE id IN ({})",
            places.join(", ")
        );
        let mut statement = sqlx::query(&query);
        for id in chunk {
            statement = statement.bind(*id);
        }
        for row in statement.fetch_all(&mut **transaction).await? {
            let row = operation_row(&row)?;
            found.insert(row.id.clone(), row);
        }
    }
    Ok(found)
}

/// Queues SMS `(phone, text, at)` in the outbox, several a statement.
async fn queue_messages(
    transaction: &mut Transaction,
    messages: &[(&str, &str, i64)],
) -> Result<(), StoreError> {
    for chunk in messages.chunks(ROWS_PER_STATEMENT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|n| {
                let b = n * 3;
                format!("(${}, ${}, ${}, 0, ${})", b + 1, b + 2, b + 3, b + 3)
            })
            .collect();
        let query = format!(
            "INSERT INTO sms_outbox (phone, body, created_at_ms, attempts, next_attempt_at_ms) \
             VALUES {}",
            values.join(", ")
        );
        let mut statement = sqlx::query(&query);
        for (phone, body, at) in chunk {
            statement = statement.bind(*phone).bind(*body).bind(*at);
        }
        statement.execute(&mut **transaction).await?;
    }
    Ok(())
}
