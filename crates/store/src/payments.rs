//! Pagos' records: wallets, operations with their idempotency keys and outcomes, and the
//! personal limits people set. Money itself is in the ledger; an operation row is what a person
//! asked for, and it is written *before* the ledger moves money (status `pending`) so that the
//! limits of concurrent requests count it and a crash leaves a trace that recovery finishes.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;
use crate::error::StoreError;
use crate::identity::queue_sms_in;

/// Most operations in one page of a statement.
pub const OPERATIONS_PAGE_MAX: u32 = 500;

/// What a new operation records.
#[derive(Debug, Clone)]
pub struct NewOperation<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub request_hash: &'a [u8],
    pub kind: &'a str,
    pub currency: &'a str,
    pub amount_minor: u64,
    pub fee_minor: u64,
    pub counterparty_user_id: Option<&'a str>,
    pub counterparty_label: &'a str,
    pub note: &'a str,
    pub counts_toward_limits: bool,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationStatus {
    Pending,
    Completed,
    Refused,
}

impl OperationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::Pending => "pending",
            OperationStatus::Completed => "completed",
            OperationStatus::Refused => "refused",
        }
    }

    fn parse(text: &str) -> Result<OperationStatus, StoreError> {
        match text {
            "pending" => Ok(OperationStatus::Pending),
            "completed" => Ok(OperationStatus::Completed),
            "refused" => Ok(OperationStatus::Refused),
            other => Err(StoreError::Corrupt(format!(
                "estado de operación desconocido «{other}»"
            ))),
        }
    }
}

/// An operation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRow {
    pub id: String,
    pub user_id: String,
    pub idempotency_key: Option<String>,
    pub request_hash: Vec<u8>,
    pub kind: String,
    pub currency: String,
    pub amount_minor: u64,
    pub fee_minor: u64,
    pub counterparty_user_id: Option<String>,
    pub counterparty_label: String,
    pub note: String,
    pub counts_toward_limits: bool,
    pub status: OperationStatus,
    pub refusal_code: Option<String>,
    pub refusal_detail: Option<String>,
    pub receipt_code: Option<String>,
    pub created_at_ms: i64,
    pub finished_at_ms: Option<i64>,
}

/// Where the current day and month began, for the limits (local time is the caller's business).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitWindows {
    pub day_start_ms: i64,
    pub month_start_ms: i64,
}

/// Person-to-person amounts already sent (or in flight) in the current day and month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SentUsage {
    pub today_minor: u64,
    pub month_minor: u64,
}

/// How `begin_payment` ended.
#[derive(Debug)]
pub enum BeginPayment<R> {
    /// A new operation, recorded as pending.
    Started(OperationRow),
    /// The idempotency key was used before for the same request: that operation.
    Existing(OperationRow),
    /// The idempotency key was used before for another request.
    KeyReused(OperationRow),
    /// The limit check refused it; nothing was written.
    Refused(R),
}

/// The end of an operation.
#[derive(Debug, Clone, Copy)]
pub enum Finish<'a> {
    Completed { receipt_code: &'a str },
    Refused { code: &'a str, detail: &'a str },
}

const COLUMNS: &str = "id, user_id, idempotency_key, request_hash, kind, currency, amount_minor, \
     fee_minor, counterparty_user_id, counterparty_label, note, counts_toward_limits, status, \
     refusal_code, refusal_detail, receipt_code, created_at_ms, finished_at_ms";

/// A count or amount as SQL stores it; `what` names it in the error.
pub(crate) fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} fuera de rango")))
}

/// A stored count or amount back; a negative one is corruption.
pub(crate) fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} negativo")))
}

fn operation_row(row: &AnyRow) -> Result<OperationRow, StoreError> {
    Ok(OperationRow {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        idempotency_key: row.try_get("idempotency_key")?,
        request_hash: row.try_get("request_hash")?,
        kind: row.try_get("kind")?,
        currency: row.try_get("currency")?,
        amount_minor: to_u64(row.try_get("amount_minor")?, "importe")?,
        fee_minor: to_u64(row.try_get("fee_minor")?, "comisión")?,
        counterparty_user_id: row.try_get("counterparty_user_id")?,
        counterparty_label: row.try_get("counterparty_label")?,
        note: row.try_get("note")?,
        counts_toward_limits: row.try_get::<i32, _>("counts_toward_limits")? != 0,
        status: OperationStatus::parse(&row.try_get::<String, _>("status")?)?,
        refusal_code: row.try_get("refusal_code")?,
        refusal_detail: row.try_get("refusal_detail")?,
        receipt_code: row.try_get("receipt_code")?,
        created_at_ms: row.try_get("created_at_ms")?,
        finished_at_ms: row.try_get("finished_at_ms")?,
    })
}

/// What `user_id` sent person-to-person in `currency` (pending and completed) since the
/// starts of the day and of the month.
async fn sent_usage_in(
    connection: &mut sqlx::AnyConnection,
    user_id: &str,
    currency: &str,
    windows: LimitWindows,
) -> Result<SentUsage, StoreError> {
    // One pass over the month's rows gives both sums (the day starts within the month).
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN created_at_ms >= $3 THEN amount_minor ELSE 0 END), 0) \
         AS BIGINT), CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM payment_operations \
         WHERE user_id = $1 AND currency = $2 AND counts_toward_limits = 1 \
         AND status IN ('pending', 'completed') AND created_at_ms >= $4",
    )
    .bind(user_id)
    .bind(currency)
    .bind(windows.day_start_ms)
    .bind(windows.month_start_ms.min(windows.day_start_ms))
    .fetch_one(&mut *connection)
    .await?;
    let sums = [
        to_u64(row.try_get(0)?, "importe enviado")?,
        to_u64(row.try_get(1)?, "importe enviado")?,
    ];
    Ok(SentUsage {
        today_minor: sums[0],
        month_minor: sums[1],
    })
}

/// [`Db::begin_payment`] inside a transaction that the caller commits (or rolls back on
/// `Refused`), so that what else an operation needs is written atomically with it (the claim on
/// a bill, see `bills.rs`).
pub(crate) async fn begin_payment_in<R>(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    operation: &NewOperation<'_>,
    windows: LimitWindows,
    check: impl FnOnce(SentUsage) -> Result<(), R>,
) -> Result<BeginPayment<R>, StoreError> {
    sqlx::query("UPDATE users SET status = status WHERE id = $1")
        .bind(operation.user_id)
        .execute(&mut **transaction)
        .await?;
    if let Some(key) = operation.idempotency_key {
        let query = format!(
            "SELECT {COLUMNS} FROM payment_operations WHERE user_id = $1 AND idempotency_key = $2"
        );
        let earlier = sqlx::query(&query)
            .bind(operation.user_id)
            .bind(key)
            .fetch_optional(&mut **transaction)
            .await?;
        if let Some(earlier) = earlier {
            let earlier = operation_row(&earlier)?;
            return Ok(if earlier.request_hash == operation.request_hash {
                BeginPayment::Existing(earlier)
            } else {
                BeginPayment::KeyReused(earlier)
            });
        }
    }
    if operation.counts_toward_limits {
        let usage =
            sent_usage_in(transaction, operation.user_id, operation.currency, windows).await?;
        if let Err(refusal) = check(usage) {
            return Ok(BeginPayment::Refused(refusal));
        }
    }
    sqlx::query(
        "INSERT INTO payment_operations (id, user_id, idempotency_key, request_hash, kind, \
         currency, amount_minor, fee_minor, counterparty_user_id, counterparty_label, note, \
         counts_toward_limits, status, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending', $13)",
    )
    .bind(operation.id)
    .bind(operation.user_id)
    .bind(operation.idempotency_key)
    .bind(operation.request_hash)
    .bind(operation.kind)
    .bind(operation.currency)
    .bind(to_i64(operation.amount_minor, "importe")?)
    .bind(to_i64(operation.fee_minor, "comisión")?)
    .bind(operation.counterparty_user_id)
    .bind(operation.counterparty_label)
    .bind(operation.note)
    .bind(i32::from(operation.counts_toward_limits))
    .bind(operation.created_at_ms)
    .execute(&mut **transaction)
    .await?;
    // The row as just written, without reading it back: one statement fewer on the hot path.
    Ok(BeginPayment::Started(OperationRow {
        id: operation.id.to_owned(),
        user_id: operation.user_id.to_owned(),
        idempotency_key: operation.idempotency_key.map(str::to_owned),
        request_hash: operation.request_hash.to_vec(),
        kind: operation.kind.to_owned(),
        currency: operation.currency.to_owned(),
        amount_minor: operation.amount_minor,
        fee_minor: operation.fee_minor,
        counterparty_user_id: operation.counterparty_user_id.map(str::to_owned),
        counterparty_label: operation.counterparty_label.to_owned(),
        note: operation.note.to_owned(),
        counts_toward_limits: operation.counts_toward_limits,
        status: OperationStatus::Pending,
        refusal_code: None,
        refusal_detail: None,
        receipt_code: None,
        created_at_ms: operation.created_at_ms,
        finished_at_ms: None,
    }))
}

/// [`Db::finish_payment`] inside a transaction the caller commits; also says whether this call
/// ended the operation (`false`: it had ended before, and nothing was written).
pub(crate) async fn finish_payment_in(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    finish: Finish<'_>,
    messages: &[(&str, &str)],
    now_ms: i64,
) -> Result<(OperationRow, bool), StoreError> {
    let (status, code, detail, receipt) = match finish {
        Finish::Completed { receipt_code } => {
            (OperationStatus::Completed, None, None, Some(receipt_code))
        }
        Finish::Refused { code, detail } => {
            (OperationStatus::Refused, Some(code), Some(detail), None)
        }
    };
    // RETURNING gives the finished row in the same statement (SQLite 3.35+ and PostgreSQL).
    let query = format!(
        "UPDATE payment_operations SET status = $1, refusal_code = $2, refusal_detail = $3, \
         receipt_code = $4, finished_at_ms = $5 WHERE id = $6 AND status = 'pending' \
         RETURNING {COLUMNS}"
    );
    let finished = sqlx::query(&query)
        .bind(status.as_str())
        .bind(code)
        .bind(detail)
        .bind(receipt)
        .bind(now_ms)
        .bind(id)
        .fetch_optional(&mut **transaction)
        .await?;
    if let Some(finished) = finished {
        for (phone, body) in messages {
            queue_sms_in(transaction, phone, body, now_ms).await?;
        }
        return Ok((operation_row(&finished)?, true));
    }
    // It had ended before: as it stands, and nothing queued again.
    let query = format!("SELECT {COLUMNS} FROM payment_operations WHERE id = $1");
    let row = sqlx::query(&query)
        .bind(id)
        .fetch_optional(&mut **transaction)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("la operación {id} no existe")))?;
    Ok((operation_row(&row)?, false))
}

impl Db {
    /// What a person sent person-to-person in `currency` today and this month (in flight
    /// included), for showing what is left of the limits.
    pub async fn sent_usage(
        &self,
        user_id: &str,
        currency: &str,
        windows: LimitWindows,
    ) -> Result<SentUsage, StoreError> {
        let mut connection = self.pool().acquire().await?;
        sent_usage_in(&mut connection, user_id, currency, windows).await
    }

    /// Records a new operation as pending, after `check` accepts what the person already sent
    /// today and this month. The person's row is locked for the transaction, so two requests
    /// of one person are counted one after the other and cannot both slip under a limit. With
    /// an idempotency key already used, returns that operation instead and writes nothing.
    pub async fn begin_payment<R>(
        &self,
        operation: &NewOperation<'_>,
        windows: LimitWindows,
        check: impl FnOnce(SentUsage) -> Result<(), R>,
    ) -> Result<BeginPayment<R>, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let begun = begin_payment_in(&mut transaction, operation, windows, check).await?;
        if matches!(begun, BeginPayment::Refused(_)) {
            transaction.rollback().await?;
        } else {
            transaction.commit().await?;
        }
        Ok(begun)
    }

    /// Ends a pending operation and, in the same transaction, queues its SMS messages
    /// (`(phone in E.164, text)`). An operation already ended is returned as it is and no
    /// message is queued again.
    pub async fn finish_payment(
        &self,
        id: &str,
        finish: Finish<'_>,
        messages: &[(&str, &str)],
        now_ms: i64,
    ) -> Result<OperationRow, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let (row, _changed) =
            finish_payment_in(&mut transaction, id, finish, messages, now_ms).await?;
        transaction.commit().await?;
        Ok(row)
    }

    pub async fn payment_operation(&self, id: &str) -> Result<Option<OperationRow>, StoreError> {
        let query = format!("SELECT {COLUMNS} FROM payment_operations WHERE id = $1");
        sqlx::query(&query)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(operation_row)
            .transpose()
    }

    /// A person's operations, sent or received (received only once completed), newest first,
    /// created in `[from_ms, to_ms)`; `before` continues a page: `(created_at_ms, id)` of the
    /// last row seen.
    pub async fn payment_operations_of(
        &self,
        user_id: &str,
        from_ms: i64,
        to_ms: i64,
        before: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<OperationRow>, StoreError> {
        let limit = limit.clamp(1, OPERATIONS_PAGE_MAX);
        let (before_ms, before_id) = before.unwrap_or((i64::MAX, ""));
        let query = format!(
            "SELECT {COLUMNS} FROM payment_operations \
             WHERE (user_id = $1 OR (counterparty_user_id = $1 AND status = 'completed')) \
             AND created_at_ms >= $2 AND created_at_ms < $3 \
             AND (created_at_ms < $4 OR (created_at_ms = $4 AND ($5 = '' OR id < $5))) \
             ORDER BY created_at_ms DESC, id DESC LIMIT $6"
        );
        let rows = sqlx::query(&query)
            .bind(user_id)
            .bind(from_ms)
            .bind(to_ms)
            .bind(before_ms)
            .bind(before_id)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(operation_row).collect()
    }

    /// Operations still pending since before `created_before_ms`: the ones a crash or a lost
    /// answer left unfinished, for recovery to settle.
    pub async fn stale_payment_operations(
        &self,
        created_before_ms: i64,
        limit: u32,
    ) -> Result<Vec<OperationRow>, StoreError> {
        let query = format!(
            "SELECT {COLUMNS} FROM payment_operations WHERE status = 'pending' \
             AND created_at_ms < $1 ORDER BY created_at_ms LIMIT $2"
        );
        let rows = sqlx::query(&query)
            .bind(created_before_ms)
            .bind(i64::from(limit.clamp(1, OPERATIONS_PAGE_MAX)))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(operation_row).collect()
    }

    /// Records that a person's wallet in `currency` is open on the ledger. Idempotent.
    pub async fn record_wallet(
        &self,
        user_id: &str,
        currency: &str,
        account_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO wallets (user_id, currency, account_id, opened_at_ms) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, currency) DO NOTHING",
        )
        .bind(user_id)
        .bind(currency)
        .bind(account_id)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The currencies in which a person has a wallet, with the ledger account of each.
    pub async fn wallets_of(&self, user_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT currency, account_id FROM wallets WHERE user_id = $1 ORDER BY currency",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// The lower limits a person set in `currency`: `(daily, monthly)`, each optional.
    pub async fn personal_limits(
        &self,
        user_id: &str,
        currency: &str,
    ) -> Result<Option<(Option<u64>, Option<u64>)>, StoreError> {
        let row = sqlx::query(
            "SELECT daily_minor, monthly_minor FROM personal_limits \
             WHERE user_id = $1 AND currency = $2",
        )
        .bind(user_id)
        .bind(currency)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            let daily: Option<i64> = row.try_get(0)?;
            let monthly: Option<i64> = row.try_get(1)?;
            Ok((
                daily.map(|v| to_u64(v, "límite")).transpose()?,
                monthly.map(|v| to_u64(v, "límite")).transpose()?,
            ))
        })
        .transpose()
    }

    pub async fn set_personal_limits(
        &self,
        user_id: &str,
        currency: &str,
        daily_minor: Option<u64>,
        monthly_minor: Option<u64>,
    ) -> Result<(), StoreError> {
        let daily = daily_minor.map(|v| to_i64(v, "límite")).transpose()?;
        let monthly = monthly_minor.map(|v| to_i64(v, "límite")).transpose()?;
        sqlx::query(
            "INSERT INTO personal_limits (user_id, currency, daily_minor, monthly_minor) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, currency) \
             DO UPDATE SET daily_minor = $3, monthly_minor = $4",
        )
        .bind(user_id)
        .bind(currency)
        .bind(daily)
        .bind(monthly)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
