//! Bulk payouts: a checked file of rows and how each row ended. The money of each row moves as
//! a payment operation of its own (kind `payout`), keyed `pago-masivo:<batch>:<line>` under the
//! batch's creator, so a row is paid at most once however often the run is restarted; the row
//! here only records the outcome.

use std::collections::HashMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;
use crate::error::StoreError;
use crate::payments::{to_i64, to_u64};

/// Most rows a file may have.
pub const PAYOUT_ROWS_MAX: usize = 100_000;
/// Rows written per statement, and looked up per `IN (…)`.
const ROWS_PER_STATEMENT: usize = 200;
/// Most batches one list shows.
pub const PAYOUT_BATCHES_PAGE_MAX: u32 = 100;

/// A batch as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutBatchRow {
    pub id: String,
    pub created_by_user_id: String,
    /// `banco:<code>` or `comercio:<merchant id>`.
    pub source: String,
    pub currency: String,
    pub file_name: String,
    pub row_count: u64,
    /// Of the valid rows.
    pub total_minor: u64,
    /// `invalid`, `ready`, `running` or `finished`.
    pub status: String,
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
}

/// A row as read from the file and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayoutRow {
    pub line: u64,
    pub recipient: String,
    pub user_id: Option<String>,
    pub amount_minor: Option<u64>,
    pub reference: String,
    /// Why the row is invalid; `None` for a valid one.
    pub error: Option<String>,
}

/// A row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutRowRow {
    pub batch_id: String,
    pub line: u64,
    pub recipient: String,
    pub user_id: Option<String>,
    pub amount_minor: Option<u64>,
    pub reference: String,
    /// `invalid`, `waiting`, `paid` or `refused`.
    pub status: String,
    pub error: Option<String>,
    pub operation_id: Option<String>,
    pub finished_at_ms: Option<i64>,
}

/// How a row ended: paid by `operation_id`, or refused with `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutOutcome {
    pub line: u64,
    pub paid: bool,
    pub operation_id: Option<String>,
    pub error: Option<String>,
}

/// How many rows stand where, and what the paid ones moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PayoutProgress {
    pub invalid: u64,
    pub waiting: u64,
    pub paid: u64,
    pub refused: u64,
    pub paid_minor: u64,
}

const BATCH_COLUMNS: &str = "id, created_by_user_id, source, currency, file_name, row_count, \
     total_minor, status, created_at_ms, started_at_ms, finished_at_ms";
const ROW_COLUMNS: &str = "batch_id, line, recipient, user_id, amount_minor, reference, status, \
     error, operation_id, finished_at_ms";

fn batch_row(row: &AnyRow) -> Result<PayoutBatchRow, StoreError> {
    Ok(PayoutBatchRow {
        id: row.try_get("id")?,
        created_by_user_id: row.try_get("created_by_user_id")?,
        source: row.try_get("source")?,
        currency: row.try_get("currency")?,
        file_name: row.try_get("file_name")?,
        row_count: to_u64(row.try_get("row_count")?, "filas")?,
        total_minor: to_u64(row.try_get("total_minor")?, "total")?,
        status: row.try_get("status")?,
        created_at_ms: row.try_get("created_at_ms")?,
        started_at_ms: row.try_get("started_at_ms")?,
        finished_at_ms: row.try_get("finished_at_ms")?,
    })
}

fn payout_row(row: &AnyRow) -> Result<PayoutRowRow, StoreError> {
    let amount: Option<i64> = row.try_get("amount_minor")?;
    Ok(PayoutRowRow {
        batch_id: row.try_get("batch_id")?,
        line: to_u64(row.try_get("line")?, "línea")?,
        recipient: row.try_get("recipient")?,
        user_id: row.try_get("user_id")?,
        amount_minor: amount.map(|v| to_u64(v, "importe")).transpose()?,
        reference: row.try_get("reference")?,
        status: row.try_get("status")?,
        error: row.try_get("error")?,
        operation_id: row.try_get("operation_id")?,
        finished_at_ms: row.try_get("finished_at_ms")?,
    })
}

/// `$first, $first+1, …` for `count` parameters.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Db {
    /// Records a checked file: the batch and every row, in one transaction.
    pub async fn create_payout_batch(
        &self,
        batch: &PayoutBatchRow,
        rows: &[NewPayoutRow],
    ) -> Result<(), StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        sqlx::query(&format!(
            "INSERT INTO payout_batches ({BATCH_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&batch.id)
        .bind(&batch.created_by_user_id)
        .bind(&batch.source)
        .bind(&batch.currency)
        .bind(&batch.file_name)
        .bind(to_i64(batch.row_count, "filas")?)
        .bind(to_i64(batch.total_minor, "total")?)
        .bind(&batch.status)
        .bind(batch.created_at_ms)
        .bind(batch.started_at_ms)
        .bind(batch.finished_at_ms)
        .execute(&mut *transaction)
        .await?;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let values = (0..chunk.len())
                .map(|i| format!("({})", placeholders(i * 8 + 1, 8)))
                .collect::<Vec<_>>()
                .join(", ");
            let query = format!(
                "INSERT INTO payout_rows (batch_id, line, recipient, user_id, amount_minor, \
                 reference, error, status) VALUES {values}"
            );
            let mut statement = sqlx::query(&query);
            for row in chunk {
                statement = statement
                    .bind(&batch.id)
                    .bind(to_i64(row.line, "línea")?)
                    .bind(&row.recipient)
                    .bind(row.user_id.as_deref())
                    .bind(row.amount_minor.map(|v| to_i64(v, "importe")).transpose()?)
                    .bind(&row.reference)
                    .bind(row.error.as_deref())
                    .bind(if row.error.is_some() {
                        "invalid"
                    } else {
                        "waiting"
                    });
            }
            statement.execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    pub async fn payout_batch(&self, id: &str) -> Result<Option<PayoutBatchRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {BATCH_COLUMNS} FROM payout_batches WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(batch_row)
        .transpose()
    }

    /// The batches `user_id` uploaded, newest first.
    pub async fn payout_batches_of(
        &self,
        user_id: &str,
    ) -> Result<Vec<PayoutBatchRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {BATCH_COLUMNS} FROM payout_batches WHERE created_by_user_id = $1 \
             ORDER BY created_at_ms DESC, id DESC LIMIT $2"
        ))
        .bind(user_id)
        .bind(i64::from(PAYOUT_BATCHES_PAGE_MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(batch_row).collect()
    }

    /// Batches ordered paid and not yet finished, oldest first.
    pub async fn running_payout_batches(&self) -> Result<Vec<PayoutBatchRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {BATCH_COLUMNS} FROM payout_batches WHERE status = 'running' \
             ORDER BY created_at_ms, id LIMIT $1"
        ))
        .bind(i64::from(PAYOUT_BATCHES_PAGE_MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(batch_row).collect()
    }

    pub async fn payout_progress(&self, batch_id: &str) -> Result<PayoutProgress, StoreError> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n, CAST(SUM(amount_minor) AS BIGINT) AS total FROM payout_rows \
             WHERE batch_id = $1 GROUP BY status",
        )
        .bind(batch_id)
        .fetch_all(self.pool())
        .await?;
        let mut progress = PayoutProgress::default();
        for row in &rows {
            let status: String = row.try_get("status")?;
            let count = to_u64(row.try_get("n")?, "filas")?;
            let total: Option<i64> = row.try_get("total")?;
            match status.as_str() {
                "invalid" => progress.invalid = count,
                "waiting" => progress.waiting = count,
                "paid" => {
                    progress.paid = count;
                    progress.paid_minor = total.map_or(Ok(0), |v| to_u64(v, "total"))?;
                }
                "refused" => progress.refused = count,
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "fila de pago masivo en un estado desconocido «{other}»"
                    )));
                }
            }
        }
        Ok(progress)
    }

    /// Orders a checked batch paid (`ready` → `running`); whether it was ready.
    pub async fn start_payout_batch(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE payout_batches SET status = 'running', started_at_ms = $1 \
             WHERE id = $2 AND status = 'ready'",
        )
        .bind(now_ms)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1)
    }

    /// The next rows of a batch still to pay after `after_line`, in file order.
    pub async fn waiting_payout_rows(
        &self,
        batch_id: &str,
        after_line: u64,
        limit: u32,
    ) -> Result<Vec<PayoutRowRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ROW_COLUMNS} FROM payout_rows WHERE batch_id = $1 AND status = 'waiting' \
             AND line > $2 ORDER BY line LIMIT $3"
        ))
        .bind(batch_id)
        .bind(to_i64(after_line, "línea")?)
        .bind(i64::from(limit.max(1)))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(payout_row).collect()
    }

    /// Records how waiting rows ended, in one transaction.
    pub async fn finish_payout_rows(
        &self,
        batch_id: &str,
        outcomes: &[PayoutOutcome],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let (_turn, mut transaction) = self.begin_write().await?;
        for outcome in outcomes {
            sqlx::query(
                "UPDATE payout_rows SET status = $1, operation_id = $2, error = $3, \
                 finished_at_ms = $4 WHERE batch_id = $5 AND line = $6 AND status = 'waiting'",
            )
            .bind(if outcome.paid { "paid" } else { "refused" })
            .bind(outcome.operation_id.as_deref())
            .bind(outcome.error.as_deref())
            .bind(now_ms)
            .bind(batch_id)
            .bind(to_i64(outcome.line, "línea")?)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Marks a running batch finished when no row waits any more; whether it did.
    pub async fn finish_payout_batch(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE payout_batches SET status = 'finished', finished_at_ms = $1 \
             WHERE id = $2 AND status = 'running' AND NOT EXISTS (SELECT 1 FROM payout_rows \
             WHERE batch_id = $2 AND status = 'waiting')",
        )
        .bind(now_ms)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1)
    }

    /// A batch's rows after `after_line`, in file order, at most `limit` (the result file, in
    /// pages).
    pub async fn payout_rows(
        &self,
        batch_id: &str,
        after_line: u64,
        limit: u32,
    ) -> Result<Vec<PayoutRowRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ROW_COLUMNS} FROM payout_rows WHERE batch_id = $1 AND line > $2 \
             ORDER BY line LIMIT $3"
        ))
        .bind(batch_id)
        .bind(to_i64(after_line, "línea")?)
        .bind(i64::from(limit.max(1)))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(payout_row).collect()
    }

    /// The ids of the active people with these phone numbers (E.164), by number.
    pub async fn active_user_ids_by_phone(
        &self,
        phones: &[&str],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut found = HashMap::new();
        for chunk in phones.chunks(ROWS_PER_STATEMENT) {
            let query = format!(
                "SELECT id, phone FROM users WHERE status = 'active' AND phone IN ({})",
                placeholders(1, chunk.len())
            );
            let mut statement = sqlx::query(&query);
            for phone in chunk {
                statement = statement.bind(*phone);
            }
            for row in statement.fetch_all(self.pool()).await? {
                found.insert(row.try_get("phone")?, row.try_get("id")?);
            }
        }
        Ok(found)
    }

    /// Who linked (and still has) a bank account of `currency` with each of these number
    /// hashes, by hash; only active people.
    pub async fn linked_account_owners(
        &self,
        hashes: &[&[u8]],
        currency: &str,
    ) -> Result<HashMap<Vec<u8>, String>, StoreError> {
        let mut found = HashMap::new();
        for chunk in hashes.chunks(ROWS_PER_STATEMENT) {
            let query = format!(
                "SELECT a.number_hash, a.user_id FROM linked_bank_accounts a \
                 JOIN users u ON u.id = a.user_id WHERE a.removed_at_ms IS NULL \
                 AND u.status = 'active' AND a.currency = $1 AND a.number_hash IN ({})",
                placeholders(2, chunk.len())
            );
            let mut statement = sqlx::query(&query).bind(currency);
            for hash in chunk {
                statement = statement.bind(*hash);
            }
            for row in statement.fetch_all(self.pool()).await? {
                found.insert(row.try_get("number_hash")?, row.try_get("user_id")?);
            }
        }
        Ok(found)
    }
}
