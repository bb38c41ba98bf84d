//! The USSD channel's records: sessions, so that any process can answer the next request of a
//! session, and the wrong-PIN counter of each person, so that a lock holds across sessions and
//! processes. The menu itself is `ceiba-ussd`; what an answer or a screen says is opaque here.

use ceiba_identity::FailureCounter;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;
use crate::error::StoreError;

/// Most sessions one purge deletes (the maintenance loop calls it again while there are more).
pub const USSD_PURGE_BATCH_MAX: u32 = 1_000;

/// A USSD session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UssdSessionRow {
    /// The gateway's `sessionId`.
    pub session_id: String,
    /// The number that dialled (E.164); every request of the session must come from it.
    pub phone: String,
    pub service_code: String,
    /// How many inputs the last request answered had.
    pub inputs_count: u32,
    /// A keyed digest of the last request's `text`: a retry of it has the same.
    pub text_digest: Vec<u8>,
    /// The answers to the session's actions, as the edge serialized them.
    pub answers: String,
    /// The last answer sent, as sent (`CON …` or `END …`).
    pub last_screen: String,
    /// Whether the last answer ended the session.
    pub ended: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

const COLUMNS: &str = "session_id, phone, service_code, inputs_count, text_digest, answers, \
     last_screen, ended, created_at_ms, updated_at_ms";

fn session_row(row: &AnyRow) -> Result<UssdSessionRow, StoreError> {
    let inputs_count: i64 = row.try_get("inputs_count")?;
    let ended: i64 = row.try_get("ended")?;
    Ok(UssdSessionRow {
        session_id: row.try_get("session_id")?,
        phone: row.try_get("phone")?,
        service_code: row.try_get("service_code")?,
        inputs_count: u32::try_from(inputs_count)
            .map_err(|_| StoreError::Corrupt(format!("entradas USSD: {inputs_count}")))?,
        text_digest: row.try_get("text_digest")?,
        answers: row.try_get("answers")?,
        last_screen: row.try_get("last_screen")?,
        ended: ended != 0,
        created_at_ms: row.try_get("created_at_ms")?,
        updated_at_ms: row.try_get("updated_at_ms")?,
    })
}

fn seconds(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("segundos: {value}")))
}

fn unsigned(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("valor negativo: {value}")))
}

async fn pin_failures_in(
    connection: &mut sqlx::AnyConnection,
    user_id: &str,
) -> Result<FailureCounter, StoreError> {
    let Some(row) = sqlx::query(
        "SELECT failures, window_started_at_s, locked_until_s FROM ussd_pin_failures \
         WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(&mut *connection)
    .await?
    else {
        return Ok(FailureCounter::default());
    };
    let failures: i64 = row.try_get("failures")?;
    let window: i64 = row.try_get("window_started_at_s")?;
    let locked: Option<i64> = row.try_get("locked_until_s")?;
    Ok(FailureCounter {
        failures: u32::try_from(failures)
            .map_err(|_| StoreError::Corrupt(format!("fallos de PIN: {failures}")))?,
        window_started_at_s: unsigned(window)?,
        locked_until_s: locked.map(unsigned).transpose()?,
    })
}

impl Db {
    pub async fn ussd_session(
        &self,
        session_id: &str,
    ) -> Result<Option<UssdSessionRow>, StoreError> {
        let query = format!("SELECT {COLUMNS} FROM ussd_sessions WHERE session_id = $1");
        sqlx::query(&query)
            .bind(session_id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(session_row)
            .transpose()
    }

    /// Records a new session; `false` (and nothing written) when one with its id exists: a
    /// first request handled twice at once, of which only one may start the session.
    pub async fn insert_ussd_session(&self, session: &UssdSessionRow) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO ussd_sessions (session_id, phone, service_code, inputs_count, \
             text_digest, answers, last_screen, ended, created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (session_id) DO NOTHING",
        )
        .bind(&session.session_id)
        .bind(&session.phone)
        .bind(&session.service_code)
        .bind(i64::from(session.inputs_count))
        .bind(&session.text_digest)
        .bind(&session.answers)
        .bind(&session.last_screen)
        .bind(i32::from(session.ended))
        .bind(session.created_at_ms)
        .bind(session.updated_at_ms)
        .execute(self.pool())
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Moves a session on from the state in which it had `inputs_count_before` inputs and was
    /// not ended; `false` (and nothing written) when another request moved it first.
    pub async fn advance_ussd_session(
        &self,
        session: &UssdSessionRow,
        inputs_count_before: u32,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE ussd_sessions SET inputs_count = $1, text_digest = $2, answers = $3, \
             last_screen = $4, ended = $5, updated_at_ms = $6 \
             WHERE session_id = $7 AND inputs_count = $8 AND ended = 0",
        )
        .bind(i64::from(session.inputs_count))
        .bind(&session.text_digest)
        .bind(&session.answers)
        .bind(&session.last_screen)
        .bind(i32::from(session.ended))
        .bind(session.updated_at_ms)
        .bind(&session.session_id)
        .bind(i64::from(inputs_count_before))
        .execute(self.pool())
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Deletes up to [`USSD_PURGE_BATCH_MAX`] sessions untouched since `updated_before_ms`;
    /// returns how many. Sessions are kept a while after they end so that a late retry finds
    /// its answer, and an expired one is told so.
    pub async fn purge_ussd_sessions(&self, updated_before_ms: i64) -> Result<u64, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM ussd_sessions WHERE session_id IN (SELECT session_id FROM ussd_sessions \
             WHERE updated_at_ms < $1 LIMIT $2)",
        )
        .bind(updated_before_ms)
        .bind(i64::from(USSD_PURGE_BATCH_MAX))
        .execute(self.pool())
        .await?;
        Ok(deleted.rows_affected())
    }

    /// A person's wrong USSD PINs (default when none was ever wrong).
    pub async fn ussd_pin_failures(&self, user_id: &str) -> Result<FailureCounter, StoreError> {
        let mut connection = self.pool().acquire().await?;
        pin_failures_in(&mut connection, user_id).await
    }

    /// Changes a person's wrong-PIN counter with `change` under the row's lock, so that two
    /// wrong PINs typed at once both count; returns the counter as saved.
    pub async fn update_ussd_pin_failures(
        &self,
        user_id: &str,
        change: impl FnOnce(FailureCounter) -> FailureCounter,
    ) -> Result<FailureCounter, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO ussd_pin_failures (user_id, failures, window_started_at_s) \
             VALUES ($1, 0, 0) ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .execute(&mut *transaction)
        .await?;
        // A no-op write takes the row's lock before it is read (PostgreSQL; SQLite's one
        // writer is held since the insert).
        sqlx::query("UPDATE ussd_pin_failures SET failures = failures WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *transaction)
            .await?;
        let before = pin_failures_in(&mut transaction, user_id).await?;
        let after = change(before);
        sqlx::query(
            "UPDATE ussd_pin_failures SET failures = $1, window_started_at_s = $2, \
             locked_until_s = $3 WHERE user_id = $4",
        )
        .bind(i64::from(after.failures))
        .bind(seconds(after.window_started_at_s)?)
        .bind(after.locked_until_s.map(seconds).transpose()?)
        .bind(user_id)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(after)
    }
}
