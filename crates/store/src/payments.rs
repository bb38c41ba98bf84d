//! Pagos' records: wallets, operations with their idempotency keys and outcomes, and the
//! personal limits people set. Money itself is in the ledger; an operation row is what a person
//! asked for, and it is written *before* the ledger moves money (status `pending`) so that the
//! limits of concurrent requests count it and a crash leaves a trace that recovery finishes.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;
use crate::error::StoreError;
use crate::payment_batches::{
    BeginItem, FinishItem, LimitContext, OperationWrite, OperationWritten, PersonalLimitsRow,
    begin_batch_in, finish_batch_in, personal_limits_of, sent_usage_of,
};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

pub(crate) const COLUMNS: &str = "id, user_id, idempotency_key, request_hash, kind, currency, amount_minor, \
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

pub(crate) fn operation_row(row: &AnyRow) -> Result<OperationRow, StoreError> {
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

fn answer_mismatch() -> StoreError {
    StoreError::Corrupt("el escritor de operaciones respondió otra cosa".to_owned())
}

impl NewOperation<'_> {
    /// The row as [`Db::begin_payment`] writes it: pending, nothing decided yet.
    pub(crate) fn pending_row(&self) -> OperationRow {
        OperationRow {
            id: self.id.to_owned(),
            user_id: self.user_id.to_owned(),
            idempotency_key: self.idempotency_key.map(str::to_owned),
            request_hash: self.request_hash.to_vec(),
            kind: self.kind.to_owned(),
            currency: self.currency.to_owned(),
            amount_minor: self.amount_minor,
            fee_minor: self.fee_minor,
            counterparty_user_id: self.counterparty_user_id.map(str::to_owned),
            counterparty_label: self.counterparty_label.to_owned(),
            note: self.note.to_owned(),
            counts_toward_limits: self.counts_toward_limits,
            status: OperationStatus::Pending,
            refusal_code: None,
            refusal_detail: None,
            receipt_code: None,
            created_at_ms: self.created_at_ms,
            finished_at_ms: None,
        }
    }
}

impl Finish<'_> {
    fn item(self, id: &str, messages: &[(&str, &str)], now_ms: i64) -> FinishItem {
        let (status, refusal_code, refusal_detail, receipt_code) = match self {
            Finish::Completed { receipt_code } => (
                OperationStatus::Completed,
                None,
                None,
                Some(receipt_code.to_owned()),
            ),
            Finish::Refused { code, detail } => (
                OperationStatus::Refused,
                Some(code.to_owned()),
                Some(detail.to_owned()),
                None,
            ),
        };
        FinishItem {
            id: id.to_owned(),
            status,
            refusal_code,
            refusal_detail,
            receipt_code,
            messages: messages
                .iter()
                .map(|(phone, body)| ((*phone).to_owned(), (*body).to_owned()))
                .collect(),
            now_ms,
        }
    }
}

/// [`Db::begin_payment`] inside a transaction that the caller commits, so that what else an
/// operation needs is written atomically with it (the claim on a bill, see `bills.rs`). A
/// refusal writes nothing.
pub(crate) async fn begin_payment_in<R>(
    transaction: &mut sqlx::Transaction<'static, sqlx::Any>,
    operation: &NewOperation<'_>,
    windows: LimitWindows,
    check: impl FnOnce(&LimitContext) -> Result<(), R> + Send,
) -> Result<BeginPayment<R>, StoreError> {
    let item = BeginItem {
        row: operation.pending_row(),
        windows,
        check: Box::new(check),
    };
    begin_batch_in(transaction, vec![item])
        .await?
        .pop()
        .ok_or_else(|| StoreError::Corrupt("un lote de una operación no dio respuesta".to_owned()))
}

/// [`Db::finish_payment`] inside a transaction the caller commits; also says whether this call
/// ended the operation (`false`: it had ended before, and nothing was written).
pub(crate) async fn finish_payment_in(
    transaction: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: &str,
    finish: Finish<'_>,
    messages: &[(&str, &str)],
    now_ms: i64,
) -> Result<(OperationRow, bool), StoreError> {
    finish_batch_in(transaction, &[finish.item(id, messages, now_ms)])
        .await?
        .pop()
        .ok_or_else(|| {
            StoreError::Corrupt("un lote de una operación no dio respuesta".to_owned())
        })?
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
        let usage = sent_usage_of(&mut connection, &[(user_id, currency, windows)]).await?;
        Ok(usage
            .get(&(user_id.to_owned(), currency.to_owned(), windows))
            .copied()
            .unwrap_or_default())
    }

    /// Records a new operation as pending, after `check` accepts what the person already sent
    /// today and this month and the lower limits they set (only for operations that count
    /// toward the limits). Operations begin in batches under one turn shared by every process
    /// (see `payment_batches.rs`), so two requests of one person are counted one after the
    /// other and cannot both slip under a limit. With an idempotency key already used, returns
    /// that operation instead and writes nothing.
    pub async fn begin_payment(
        &self,
        operation: &NewOperation<'_>,
        windows: LimitWindows,
        check: impl FnOnce(&LimitContext) -> Result<(), String> + Send + 'static,
    ) -> Result<BeginPayment<String>, StoreError> {
        let item = BeginItem {
            row: operation.pending_row(),
            windows,
            check: Box::new(check),
        };
        match self
            .payment_batches()
            .writer
            .submit(OperationWrite::Begin(Box::new(item)))
            .await?
        {
            OperationWritten::Begun(begun) => Ok(begun),
            OperationWritten::Finished(_) => Err(answer_mismatch()),
        }
    }

    /// Ends a pending operation and, in the same transaction, queues its SMS messages
    /// (`(phone in E.164, text)`). An operation already ended is returned as it is and no
    /// message is queued again. Written in batches with other operations ending at once.
    pub async fn finish_payment(
        &self,
        id: &str,
        finish: Finish<'_>,
        messages: &[(&str, &str)],
        now_ms: i64,
    ) -> Result<OperationRow, StoreError> {
        match self
            .payment_batches()
            .writer
            .submit(OperationWrite::Finish(finish.item(id, messages, now_ms)))
            .await?
        {
            OperationWritten::Finished(row) => Ok(row),
            OperationWritten::Begun(_) => Err(answer_mismatch()),
        }
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

    /// The operation `user_id` began with `idempotency_key`, if any.
    pub async fn payment_operation_by_key(
        &self,
        user_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<OperationRow>, StoreError> {
        let query = format!(
            "SELECT {COLUMNS} FROM payment_operations WHERE user_id = $1 AND idempotency_key = $2"
        );
        sqlx::query(&query)
            .bind(user_id)
            .bind(idempotency_key)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(operation_row)
            .transpose()
    }

    /// A person's operations, sent or received (received only once completed), newest first,
    /// created in `[from_ms, to_ms)`; `before` continues a page: `(created_at_ms, id)` of the
    /// last row seen. ("Completed" is written as "neither pending nor refused" so that SQLite
    /// takes the counterparty's index, not the status index and everybody's period.)
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
             WHERE (user_id = $1 OR (counterparty_user_id = $1 \
             AND status NOT IN ('pending', 'refused'))) \
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

    /// The lower limits a person set in `currency`, if any.
    pub async fn personal_limits(
        &self,
        user_id: &str,
        currency: &str,
    ) -> Result<Option<PersonalLimitsRow>, StoreError> {
        let mut connection = self.pool().acquire().await?;
        let mut found = personal_limits_of(&mut connection, &[(user_id, currency)]).await?;
        Ok(found.remove(&(user_id.to_owned(), currency.to_owned())))
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
