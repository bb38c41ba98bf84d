//! Requests to pay: who asks whom for how much, and how it ended.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;
use crate::error::StoreError;
use crate::identity::queue_sms_in;
use crate::payments::{to_i64, to_u64};

/// Most requests one list shows.
pub const PAYMENT_REQUESTS_PAGE_MAX: u32 = 100;

/// A request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequestRow {
    pub id: String,
    pub requester_user_id: String,
    pub merchant_id: Option<String>,
    pub payer_user_id: String,
    pub currency: String,
    pub amount_minor: u64,
    pub note: String,
    /// `pending`, `accepted` or `declined`.
    pub status: String,
    pub operation_id: Option<String>,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub decided_at_ms: Option<i64>,
}

const COLUMNS: &str = "id, requester_user_id, merchant_id, payer_user_id, currency, \
     amount_minor, note, status, operation_id, created_at_ms, expires_at_ms, decided_at_ms";

fn request_row(row: &AnyRow) -> Result<PaymentRequestRow, StoreError> {
    Ok(PaymentRequestRow {
        id: row.try_get("id")?,
        requester_user_id: row.try_get("requester_user_id")?,
        merchant_id: row.try_get("merchant_id")?,
        payer_user_id: row.try_get("payer_user_id")?,
        currency: row.try_get("currency")?,
        amount_minor: to_u64(row.try_get("amount_minor")?, "importe")?,
        note: row.try_get("note")?,
        status: row.try_get("status")?,
        operation_id: row.try_get("operation_id")?,
        created_at_ms: row.try_get("created_at_ms")?,
        expires_at_ms: row.try_get("expires_at_ms")?,
        decided_at_ms: row.try_get("decided_at_ms")?,
    })
}

impl Db {
    /// Records a request and, in the same transaction, the SMS that tells the payer.
    pub async fn create_payment_request(
        &self,
        request: &PaymentRequestRow,
        payer_phone: &str,
        sms: &str,
    ) -> Result<(), StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO payment_requests (id, requester_user_id, merchant_id, payer_user_id, \
             currency, amount_minor, note, status, created_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9)",
        )
        .bind(&request.id)
        .bind(&request.requester_user_id)
        .bind(request.merchant_id.as_deref())
        .bind(&request.payer_user_id)
        .bind(&request.currency)
        .bind(to_i64(request.amount_minor, "importe")?)
        .bind(&request.note)
        .bind(request.created_at_ms)
        .bind(request.expires_at_ms)
        .execute(&mut *transaction)
        .await?;
        queue_sms_in(&mut transaction, payer_phone, sms, request.created_at_ms).await?;
        transaction.commit().await?;
        Ok(())
    }

    pub async fn payment_request(&self, id: &str) -> Result<Option<PaymentRequestRow>, StoreError> {
        let query = format!("SELECT {COLUMNS} FROM payment_requests WHERE id = $1");
        sqlx::query(&query)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(request_row)
            .transpose()
    }

    /// Requests a person made or received, newest first.
    pub async fn payment_requests_of(
        &self,
        user_id: &str,
    ) -> Result<Vec<PaymentRequestRow>, StoreError> {
        let query = format!(
            "SELECT {COLUMNS} FROM payment_requests WHERE payer_user_id = $1 \
             OR requester_user_id = $1 ORDER BY created_at_ms DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(&query)
            .bind(user_id)
            .bind(i64::from(PAYMENT_REQUESTS_PAGE_MAX))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(request_row).collect()
    }

    /// Ends a pending request: accepted with the operation that paid it, or declined (`None`).
    /// Returns the request as it stands; it had ended before when its status is not the one
    /// asked for.
    pub async fn decide_payment_request(
        &self,
        id: &str,
        paid_by: Option<&str>,
        now_ms: i64,
    ) -> Result<Option<PaymentRequestRow>, StoreError> {
        let status = if paid_by.is_some() {
            "accepted"
        } else {
            "declined"
        };
        sqlx::query(
            "UPDATE payment_requests SET status = $1, operation_id = $2, decided_at_ms = $3 \
             WHERE id = $4 AND status = 'pending'",
        )
        .bind(status)
        .bind(paid_by)
        .bind(now_ms)
        .bind(id)
        .execute(self.pool())
        .await?;
        self.payment_request(id).await
    }
}
