//! Online-shop checkouts and payment links.
//!
//! A checkout is an order a shop's server asks a buyer to pay. Its money side is a dynamic QR
//! code of the merchant (`merchant_payments.rs`): the paying operation claims the code, so a
//! checkout is paid at most once, and the code's expiry ends it. Its state is read from the
//! code, the paying operation and the checkout's own cancellation and expiry marks, never kept
//! twice. A payment link is a reusable address whose every use opens a checkout.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;
use crate::error::StoreError;
use crate::payments::{to_i64, to_u64};
use crate::webhooks::{WebhookEvent, queue_webhook_in};

/// Most checkouts one list shows.
pub const CHECKOUTS_PAGE_MAX: u32 = 100;
/// Most live payment links a merchant keeps.
pub const PAYMENT_LINKS_MAX: u32 = 200;
/// Most checkouts one expiry sweep announces.
pub const CHECKOUT_EXPIRY_BATCH_MAX: u32 = 200;

/// Where a checkout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutStatus {
    /// Waiting for the buyer.
    Open,
    /// The buyer confirmed; the payment is being carried out.
    Pending,
    Completed,
    Cancelled,
    /// Nobody paid it in time.
    Expired,
}

impl CheckoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckoutStatus::Open => "open",
            CheckoutStatus::Pending => "pending",
            CheckoutStatus::Completed => "completed",
            CheckoutStatus::Cancelled => "cancelled",
            CheckoutStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<CheckoutStatus> {
        [
            CheckoutStatus::Open,
            CheckoutStatus::Pending,
            CheckoutStatus::Completed,
            CheckoutStatus::Cancelled,
            CheckoutStatus::Expired,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }

    /// The condition on the joined row (`c`: checkout, `q`: its code, `o`: the paying
    /// operation) that holds for checkouts in this state at `$now`.
    fn condition(self) -> &'static str {
        match self {
            CheckoutStatus::Open => {
                "c.cancelled_at_ms IS NULL AND q.paid_by_operation IS NULL \
                 AND q.expires_at_ms > $now"
            }
            CheckoutStatus::Pending => "c.cancelled_at_ms IS NULL AND o.status = 'pending'",
            CheckoutStatus::Completed => "c.cancelled_at_ms IS NULL AND o.status = 'completed'",
            CheckoutStatus::Cancelled => "c.cancelled_at_ms IS NOT NULL",
            CheckoutStatus::Expired => {
                "c.cancelled_at_ms IS NULL AND q.paid_by_operation IS NULL \
                 AND q.expires_at_ms <= $now"
            }
        }
    }
}

/// What a new checkout records; its code was made first.
#[derive(Debug, Clone)]
pub struct NewCheckout<'a> {
    pub id: &'a str,
    pub merchant_id: &'a str,
    pub qr_code_id: &'a str,
    pub payment_link_id: Option<&'a str>,
    pub description: &'a str,
    /// JSON array of the items.
    pub items: &'a str,
    pub merchant_reference: Option<&'a str>,
    pub return_url: Option<&'a str>,
    pub cancel_url: Option<&'a str>,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// A checkout with what its code and paying operation say of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRow {
    pub id: String,
    pub merchant_id: String,
    pub qr_code_id: String,
    pub payment_link_id: Option<String>,
    pub description: String,
    pub items: String,
    pub merchant_reference: Option<String>,
    pub return_url: Option<String>,
    pub cancel_url: Option<String>,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub cancelled_at_ms: Option<i64>,
    pub expired_at_ms: Option<i64>,
    pub currency: String,
    pub amount_minor: u64,
    /// The EMVCo payload of its code, to pay it by scanning.
    pub payload: String,
    /// The operation paying or that paid it.
    pub operation_id: Option<String>,
    /// That operation's state: `pending` or `completed` (a refused one lets the code go).
    pub operation_status: Option<String>,
    pub receipt_code: Option<String>,
    pub paid_at_ms: Option<i64>,
    /// What refunds of its payment took.
    pub refunded_minor: u64,
}

impl CheckoutRow {
    pub fn status(&self, now_ms: i64) -> CheckoutStatus {
        if self.cancelled_at_ms.is_some() {
            return CheckoutStatus::Cancelled;
        }
        match self.operation_status.as_deref() {
            Some("completed") => CheckoutStatus::Completed,
            Some(_) => CheckoutStatus::Pending,
            None if self.expires_at_ms <= now_ms => CheckoutStatus::Expired,
            None => CheckoutStatus::Open,
        }
    }
}

/// What narrows a list of a merchant's checkouts.
#[derive(Debug, Clone, Default)]
pub struct CheckoutFilter<'a> {
    pub status: Option<CheckoutStatus>,
    pub merchant_reference: Option<&'a str>,
    /// Created at or after.
    pub from_ms: Option<i64>,
    /// Created before.
    pub to_ms: Option<i64>,
    pub limit: u32,
}

/// Why a checkout could not be cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelRefusal {
    Unknown,
    /// Paid, being paid, or expired: it can no longer change.
    Closed(CheckoutStatus),
}

/// A payment link as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLinkRow {
    pub id: String,
    pub merchant_id: String,
    pub description: String,
    pub currency: String,
    /// `None`: the payer types it.
    pub amount_minor: Option<u64>,
    pub created_at_ms: i64,
    pub deactivated_at_ms: Option<i64>,
}

const SELECT: &str = "SELECT c.id, c.merchant_id, c.qr_code_id, c.payment_link_id, \
     c.description, c.items, c.merchant_reference, c.return_url, c.cancel_url, \
     c.created_at_ms, q.expires_at_ms, c.cancelled_at_ms, c.expired_at_ms, q.currency, \
     q.amount_minor, q.payload, q.paid_by_operation, o.status AS operation_status, \
     o.receipt_code, o.finished_at_ms, m.refunded_minor \
     FROM checkouts c JOIN merchant_qr_codes q ON q.id = c.qr_code_id \
     LEFT JOIN payment_operations o ON o.id = q.paid_by_operation \
     LEFT JOIN merchant_payments m ON m.operation_id = q.paid_by_operation";

fn checkout_row(row: &AnyRow) -> Result<CheckoutRow, StoreError> {
    let amount: Option<i64> = row.try_get("amount_minor")?;
    let expires: Option<i64> = row.try_get("expires_at_ms")?;
    let refunded: Option<i64> = row.try_get("refunded_minor")?;
    Ok(CheckoutRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        qr_code_id: row.try_get("qr_code_id")?,
        payment_link_id: row.try_get("payment_link_id")?,
        description: row.try_get("description")?,
        items: row.try_get("items")?,
        merchant_reference: row.try_get("merchant_reference")?,
        return_url: row.try_get("return_url")?,
        cancel_url: row.try_get("cancel_url")?,
        created_at_ms: row.try_get("created_at_ms")?,
        expires_at_ms: expires
            .ok_or_else(|| StoreError::Corrupt("un pedido cuyo código no caduca".to_owned()))?,
        cancelled_at_ms: row.try_get("cancelled_at_ms")?,
        expired_at_ms: row.try_get("expired_at_ms")?,
        currency: row.try_get("currency")?,
        amount_minor: to_u64(
            amount.ok_or_else(|| StoreError::Corrupt("un pedido sin importe".to_owned()))?,
            "importe",
        )?,
        payload: row.try_get("payload")?,
        operation_id: row.try_get("paid_by_operation")?,
        operation_status: row.try_get("operation_status")?,
        receipt_code: row.try_get("receipt_code")?,
        paid_at_ms: row.try_get("finished_at_ms")?,
        refunded_minor: refunded.map_or(Ok(0), |value| to_u64(value, "devuelto"))?,
    })
}

async fn checkout_in(
    connection: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<Option<CheckoutRow>, StoreError> {
    sqlx::query(&format!("{SELECT} WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(&mut *connection)
        .await?
        .as_ref()
        .map(checkout_row)
        .transpose()
}

const LINK_COLUMNS: &str =
    "id, merchant_id, description, currency, amount_minor, created_at_ms, deactivated_at_ms";

fn link_row(row: &AnyRow) -> Result<PaymentLinkRow, StoreError> {
    let amount: Option<i64> = row.try_get("amount_minor")?;
    Ok(PaymentLinkRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        description: row.try_get("description")?,
        currency: row.try_get("currency")?,
        amount_minor: amount.map(|v| to_u64(v, "importe")).transpose()?,
        created_at_ms: row.try_get("created_at_ms")?,
        deactivated_at_ms: row.try_get("deactivated_at_ms")?,
    })
}

impl Db {
    pub async fn create_checkout(
        &self,
        checkout: &NewCheckout<'_>,
    ) -> Result<CheckoutRow, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO checkouts (id, merchant_id, qr_code_id, payment_link_id, description, \
             items, merchant_reference, return_url, cancel_url, created_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(checkout.id)
        .bind(checkout.merchant_id)
        .bind(checkout.qr_code_id)
        .bind(checkout.payment_link_id)
        .bind(checkout.description)
        .bind(checkout.items)
        .bind(checkout.merchant_reference)
        .bind(checkout.return_url)
        .bind(checkout.cancel_url)
        .bind(checkout.created_at_ms)
        .bind(checkout.expires_at_ms)
        .execute(&mut *transaction)
        .await?;
        let row = checkout_in(&mut transaction, checkout.id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("el pedido recién guardado no está".to_owned()))?;
        transaction.commit().await?;
        Ok(row)
    }

    pub async fn checkout(&self, id: &str) -> Result<Option<CheckoutRow>, StoreError> {
        let mut connection = self.pool().acquire().await?;
        checkout_in(&mut connection, id).await
    }

    /// The checkout `operation_id` pays, if it pays one.
    pub async fn checkout_paid_by(
        &self,
        operation_id: &str,
    ) -> Result<Option<CheckoutRow>, StoreError> {
        sqlx::query(&format!("{SELECT} WHERE q.paid_by_operation = $1"))
            .bind(operation_id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(checkout_row)
            .transpose()
    }

    /// A merchant's checkouts as `filter` narrows them at `now_ms`, newest first.
    pub async fn checkouts_of(
        &self,
        merchant_id: &str,
        filter: &CheckoutFilter<'_>,
        now_ms: i64,
    ) -> Result<Vec<CheckoutRow>, StoreError> {
        // Conditions and their parameters in step: only what the filter names is bound.
        let mut conditions = vec!["c.merchant_id = $1".to_owned()];
        let mut texts: Vec<&str> = Vec::new();
        let mut numbers: Vec<i64> = Vec::new();
        let mut next = 2;
        if let Some(status) = filter.status
            && matches!(status, CheckoutStatus::Open | CheckoutStatus::Expired)
        {
            conditions.push(status.condition().replace("$now", &format!("${next}")));
            numbers.push(now_ms);
            next += 1;
        } else if let Some(status) = filter.status {
            conditions.push(status.condition().to_owned());
        }
        for (bound, column) in [(filter.from_ms, ">="), (filter.to_ms, "<")] {
            if let Some(at) = bound {
                conditions.push(format!("c.created_at_ms {column} ${next}"));
                numbers.push(at);
                next += 1;
            }
        }
        if let Some(reference) = filter.merchant_reference {
            conditions.push(format!("c.merchant_reference = ${next}"));
            texts.push(reference);
            next += 1;
        }
        let query = format!(
            "{SELECT} WHERE {} ORDER BY c.created_at_ms DESC, c.id DESC LIMIT ${next}",
            conditions.join(" AND ")
        );
        let mut statement = sqlx::query(&query).bind(merchant_id);
        for number in numbers {
            statement = statement.bind(number);
        }
        for text in texts {
            statement = statement.bind(text);
        }
        let rows = statement
            .bind(i64::from(filter.limit.clamp(1, CHECKOUTS_PAGE_MAX)))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(checkout_row).collect()
    }

    /// Cancels an open checkout of `merchant_id` at `now_ms` and queues `event`, in one
    /// transaction; the code expires with it, so nobody can pay it after. A cancelled one is
    /// answered as it is (cancelling twice is one cancellation).
    pub async fn cancel_checkout(
        &self,
        merchant_id: &str,
        id: &str,
        event: &WebhookEvent<'_>,
        now_ms: i64,
    ) -> Result<Result<CheckoutRow, CancelRefusal>, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let Some(row) = checkout_in(&mut transaction, id)
            .await?
            .filter(|row| row.merchant_id == merchant_id)
        else {
            return Ok(Err(CancelRefusal::Unknown));
        };
        if row.cancelled_at_ms.is_some() {
            return Ok(Ok(row));
        }
        // The same conditional update a payment's claim races against: only an unclaimed,
        // unexpired code is closed.
        let closed = sqlx::query(
            "UPDATE merchant_qr_codes SET expires_at_ms = $1 \
             WHERE id = $2 AND paid_by_operation IS NULL AND expires_at_ms > $1",
        )
        .bind(now_ms)
        .bind(&row.qr_code_id)
        .execute(&mut *transaction)
        .await?
        .rows_affected()
            == 1;
        if !closed {
            transaction.rollback().await?;
            return Ok(Err(CancelRefusal::Closed(row.status(now_ms))));
        }
        sqlx::query("UPDATE checkouts SET cancelled_at_ms = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(id)
            .execute(&mut *transaction)
            .await?;
        queue_webhook_in(&mut transaction, event, now_ms).await?;
        let row = checkout_in(&mut transaction, id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("el pedido cancelado no está".to_owned()))?;
        transaction.commit().await?;
        Ok(Ok(row))
    }

    /// Checkouts that expired unpaid by `now_ms` and were not yet announced, oldest first.
    pub async fn expired_checkouts(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<CheckoutRow>, StoreError> {
        let query = format!(
            "{SELECT} WHERE c.expired_at_ms IS NULL AND c.expires_at_ms <= $1 AND {} \
             ORDER BY c.expires_at_ms LIMIT $2",
            CheckoutStatus::Expired.condition().replace("$now", "$1")
        );
        let rows = sqlx::query(&query)
            .bind(now_ms)
            .bind(i64::from(limit.clamp(1, CHECKOUT_EXPIRY_BATCH_MAX)))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(checkout_row).collect()
    }

    /// Marks a checkout announced as expired and queues `event`, if it is still expired and
    /// unannounced (a payment may have claimed it meanwhile); whether it did.
    pub async fn mark_checkout_expired(
        &self,
        id: &str,
        event: &WebhookEvent<'_>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let marked = sqlx::query(
            "UPDATE checkouts SET expired_at_ms = $1 WHERE id = $2 AND expired_at_ms IS NULL \
             AND cancelled_at_ms IS NULL AND EXISTS (SELECT 1 FROM merchant_qr_codes q \
             WHERE q.id = checkouts.qr_code_id AND q.paid_by_operation IS NULL \
             AND q.expires_at_ms <= $1)",
        )
        .bind(now_ms)
        .bind(id)
        .execute(&mut *transaction)
        .await?
        .rows_affected()
            == 1;
        if marked {
            queue_webhook_in(&mut transaction, event, now_ms).await?;
        }
        transaction.commit().await?;
        Ok(marked)
    }

    /// Records a payment link, unless the merchant already has [`PAYMENT_LINKS_MAX`] live.
    pub async fn create_payment_link(
        &self,
        link: &PaymentLinkRow,
    ) -> Result<Option<PaymentLinkRow>, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let live: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM payment_links \
             WHERE merchant_id = $1 AND deactivated_at_ms IS NULL",
        )
        .bind(&link.merchant_id)
        .fetch_one(&mut *transaction)
        .await?
        .try_get("n")?;
        if live >= i64::from(PAYMENT_LINKS_MAX) {
            transaction.rollback().await?;
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO payment_links (id, merchant_id, description, currency, amount_minor, \
             created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&link.id)
        .bind(&link.merchant_id)
        .bind(&link.description)
        .bind(&link.currency)
        .bind(
            link.amount_minor
                .map(|v| to_i64(v, "importe"))
                .transpose()?,
        )
        .bind(link.created_at_ms)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(Some(link.clone()))
    }

    pub async fn payment_link(&self, id: &str) -> Result<Option<PaymentLinkRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM payment_links WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(link_row)
        .transpose()
    }

    /// A merchant's links, live and deactivated, newest first.
    pub async fn payment_links_of(
        &self,
        merchant_id: &str,
    ) -> Result<Vec<PaymentLinkRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM payment_links WHERE merchant_id = $1 \
             ORDER BY created_at_ms DESC, id DESC LIMIT $2"
        ))
        .bind(merchant_id)
        .bind(i64::from(PAYMENT_LINKS_MAX) * 2)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(link_row).collect()
    }

    /// Deactivates a live link of `merchant_id`; whether there was one.
    pub async fn deactivate_payment_link(
        &self,
        merchant_id: &str,
        id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE payment_links SET deactivated_at_ms = $1 \
             WHERE id = $2 AND merchant_id = $3 AND deactivated_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(id)
        .bind(merchant_id)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1)
    }
}
