//! Merchants' webhooks: where to post, the sealed signing key, and the outbox of deliveries.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;
use crate::error::StoreError;
use crate::payments::to_u64;

/// Most deliveries one dispatch turn takes.
pub const WEBHOOK_BATCH_MAX: u32 = 50;
/// Most deliveries one page of the log shows.
pub const WEBHOOK_LOG_PAGE_MAX: u32 = 200;

/// An event to deliver, written with the operation it tells of.
#[derive(Debug, Clone, Copy)]
pub struct WebhookEvent<'a> {
    pub id: &'a str,
    pub merchant_id: &'a str,
    pub event_type: &'a str,
    pub payload: &'a str,
}

/// A delivery as stored, with where it goes when it is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDeliveryRow {
    pub id: String,
    pub merchant_id: String,
    pub event_type: String,
    pub payload: String,
    pub created_at_ms: i64,
    pub attempts: u64,
    pub next_attempt_at_ms: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at_ms: Option<i64>,
    pub gave_up_at_ms: Option<i64>,
}

/// A due delivery with its destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueWebhook {
    pub delivery: WebhookDeliveryRow,
    pub url: String,
    pub sealed_secret: String,
}

/// How one attempt went.
#[derive(Debug, Clone, Copy)]
pub enum WebhookAttempt<'a> {
    Delivered {
        status: u16,
    },
    Failed {
        status: Option<u16>,
        error: &'a str,
        /// When to try again; `None`: give up.
        retry_at_ms: Option<i64>,
    },
}

const COLUMNS: &str = "d.id, d.merchant_id, d.event_type, d.payload, d.created_at_ms, \
     d.attempts, d.next_attempt_at_ms, d.last_status, d.last_error, d.delivered_at_ms, \
     d.gave_up_at_ms";

fn delivery_row(row: &AnyRow) -> Result<WebhookDeliveryRow, StoreError> {
    Ok(WebhookDeliveryRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        event_type: row.try_get("event_type")?,
        payload: row.try_get("payload")?,
        created_at_ms: row.try_get("created_at_ms")?,
        attempts: to_u64(row.try_get("attempts")?, "intentos")?,
        next_attempt_at_ms: row.try_get("next_attempt_at_ms")?,
        last_status: row.try_get("last_status")?,
        last_error: row.try_get("last_error")?,
        delivered_at_ms: row.try_get("delivered_at_ms")?,
        gave_up_at_ms: row.try_get("gave_up_at_ms")?,
    })
}

/// Queues `event` inside the caller's transaction, if its merchant has a webhook.
pub(crate) async fn queue_webhook_in(
    transaction: &mut sqlx::Transaction<'static, sqlx::Any>,
    event: &WebhookEvent<'_>,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, merchant_id, event_type, payload, created_at_ms, \
         attempts, next_attempt_at_ms) SELECT $1, merchant_id, $2, $3, $4, 0, $4 \
         FROM merchant_webhooks WHERE merchant_id = $5",
    )
    .bind(event.id)
    .bind(event.event_type)
    .bind(event.payload)
    .bind(now_ms)
    .bind(event.merchant_id)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

impl Db {
    /// Sets (or replaces) a merchant's webhook.
    pub async fn set_merchant_webhook(
        &self,
        merchant_id: &str,
        url: &str,
        sealed_secret: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO merchant_webhooks (merchant_id, url, sealed_secret, updated_at_ms) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (merchant_id) \
             DO UPDATE SET url = $2, sealed_secret = $3, updated_at_ms = $4",
        )
        .bind(merchant_id)
        .bind(url)
        .bind(sealed_secret)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Where a merchant's webhook posts, if it has one.
    pub async fn merchant_webhook_url(
        &self,
        merchant_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query("SELECT url FROM merchant_webhooks WHERE merchant_id = $1")
                .bind(merchant_id)
                .fetch_optional(self.pool())
                .await?
                .map(|row| row.try_get("url"))
                .transpose()?,
        )
    }

    /// Deliveries due at `now_ms` (neither delivered nor given up), oldest first.
    pub async fn due_webhooks(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<DueWebhook>, StoreError> {
        let query = format!(
            "SELECT {COLUMNS}, w.url, w.sealed_secret FROM webhook_deliveries d \
             JOIN merchant_webhooks w ON w.merchant_id = d.merchant_id \
             WHERE d.next_attempt_at_ms <= $1 AND d.delivered_at_ms IS NULL \
             AND d.gave_up_at_ms IS NULL ORDER BY d.next_attempt_at_ms, d.id LIMIT $2"
        );
        let rows = sqlx::query(&query)
            .bind(now_ms)
            .bind(i64::from(limit.clamp(1, WEBHOOK_BATCH_MAX)))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(DueWebhook {
                    delivery: delivery_row(row)?,
                    url: row.try_get("url")?,
                    sealed_secret: row.try_get("sealed_secret")?,
                })
            })
            .collect()
    }

    /// Records one attempt of a delivery.
    pub async fn record_webhook_attempt(
        &self,
        id: &str,
        attempt: WebhookAttempt<'_>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let (status, error, delivered, next, gave_up) = match attempt {
            WebhookAttempt::Delivered { status } => {
                (Some(status), None, Some(now_ms), now_ms, None)
            }
            WebhookAttempt::Failed {
                status,
                error,
                retry_at_ms,
            } => (
                status,
                Some(error),
                None,
                retry_at_ms.unwrap_or(now_ms),
                retry_at_ms.is_none().then_some(now_ms),
            ),
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $1, \
             last_error = $2, delivered_at_ms = $3, next_attempt_at_ms = $4, gave_up_at_ms = $5 \
             WHERE id = $6",
        )
        .bind(status.map(i64::from))
        .bind(error)
        .bind(delivered)
        .bind(next)
        .bind(gave_up)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A merchant's deliveries, newest first.
    pub async fn webhook_deliveries_of(
        &self,
        merchant_id: &str,
        limit: u32,
    ) -> Result<Vec<WebhookDeliveryRow>, StoreError> {
        let query = format!(
            "SELECT {COLUMNS} FROM webhook_deliveries d WHERE d.merchant_id = $1 \
             ORDER BY d.created_at_ms DESC, d.id DESC LIMIT $2"
        );
        let rows = sqlx::query(&query)
            .bind(merchant_id)
            .bind(i64::from(limit.clamp(1, WEBHOOK_LOG_PAGE_MAX)))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(delivery_row).collect()
    }

    /// Sends a merchant's delivery again at the next turn, whatever became of it; false when
    /// the merchant has no such delivery.
    pub async fn replay_webhook(
        &self,
        merchant_id: &str,
        id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at_ms = $1, delivered_at_ms = NULL, \
             gave_up_at_ms = NULL WHERE id = $2 AND merchant_id = $3",
        )
        .bind(now_ms)
        .bind(id)
        .bind(merchant_id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(changed == 1)
    }
}
