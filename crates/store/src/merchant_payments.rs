//! Payments to merchants and the QR codes they show. A payment is an operation (see
//! `payments.rs`) plus the merchant it pays and the code scanned; a dynamic code is claimed by
//! its paying operation in the same transaction that begins it, so it is paid at most once.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;
use crate::error::StoreError;
use crate::payments::{
    BeginPayment, COLUMNS as OPERATION_COLUMNS, Finish, LimitWindows, NewOperation, OperationRow,
    OperationStatus, begin_payment_in, finish_payment_in, operation_row, to_i64, to_u64,
};
use crate::webhooks::{WebhookEvent, queue_webhook_in};

/// Most rows in one page of a merchant's payments.
pub const MERCHANT_PAYMENTS_PAGE_MAX: u32 = 500;

/// Static (the payer types the amount, any number of payments) or dynamic (amount inside, paid
/// once, expires).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrKind {
    Static,
    Dynamic,
}

impl QrKind {
    pub fn as_str(self) -> &'static str {
        match self {
            QrKind::Static => "static",
            QrKind::Dynamic => "dynamic",
        }
    }
}

/// What a new QR code records.
#[derive(Debug, Clone)]
pub struct NewQrCode<'a> {
    pub id: &'a str,
    pub merchant_id: &'a str,
    pub kind: QrKind,
    pub currency: &'a str,
    pub amount_minor: Option<u64>,
    pub reference: Option<&'a str>,
    pub payload: &'a str,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
}

/// A QR code as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrCodeRow {
    pub id: String,
    pub merchant_id: String,
    pub kind: QrKind,
    pub currency: String,
    pub amount_minor: Option<u64>,
    pub reference: Option<String>,
    pub payload: String,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub paid_by_operation: Option<String>,
}

/// Why a dynamic code cannot be paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrRefusal {
    Unknown,
    /// Paid, or being paid by another operation.
    AlreadyPaid,
    Expired,
}

/// The merchant side of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantPaymentRow {
    pub operation_id: String,
    pub merchant_id: String,
    pub qr_code_id: Option<String>,
    pub reference: Option<String>,
    pub created_at_ms: i64,
    /// What refunds of it took, pending and completed.
    pub refunded_minor: u64,
}

/// Why a refund cannot begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundRefusal {
    /// No payment to this merchant has that id.
    UnknownPayment,
    /// The payment did not complete (pending or refused): nothing to give back yet.
    NotCompleted,
    /// More than what is left of the payment: `left_minor`.
    OverPaid { left_minor: u64 },
}

/// One line of a merchant's reconciliation: a payment received or a refund given, completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantMovementRow {
    pub operation_id: String,
    /// `merchant_payment` or `refund`.
    pub kind: String,
    pub amount_minor: u64,
    pub currency: String,
    pub reference: Option<String>,
    pub receipt_code: Option<String>,
    pub finished_at_ms: i64,
}

/// Most lines of one day's reconciliation.
pub const MERCHANT_DAY_ROWS_MAX: u32 = 100_000;

/// A refund's link to the payment it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantRefundRow {
    pub operation_id: String,
    pub payment_operation_id: String,
    pub merchant_id: String,
    pub created_at_ms: i64,
}

const QR_COLUMNS: &str = "id, merchant_id, kind, currency, amount_minor, reference, payload, \
     created_at_ms, expires_at_ms, paid_by_operation";

fn qr_row(row: &AnyRow) -> Result<QrCodeRow, StoreError> {
    let kind: String = row.try_get("kind")?;
    let amount: Option<i64> = row.try_get("amount_minor")?;
    Ok(QrCodeRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        kind: match kind.as_str() {
            "static" => QrKind::Static,
            "dynamic" => QrKind::Dynamic,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "tipo de código QR desconocido «{other}»"
                )));
            }
        },
        currency: row.try_get("currency")?,
        amount_minor: amount.map(|v| to_u64(v, "importe")).transpose()?,
        reference: row.try_get("reference")?,
        payload: row.try_get("payload")?,
        created_at_ms: row.try_get("created_at_ms")?,
        expires_at_ms: row.try_get("expires_at_ms")?,
        paid_by_operation: row.try_get("paid_by_operation")?,
    })
}

async fn qr_in(
    connection: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<Option<QrCodeRow>, StoreError> {
    let query = format!("SELECT {QR_COLUMNS} FROM merchant_qr_codes WHERE id = $1");
    sqlx::query(&query)
        .bind(id)
        .fetch_optional(&mut *connection)
        .await?
        .as_ref()
        .map(qr_row)
        .transpose()
}

impl Db {
    pub async fn create_qr_code(&self, code: &NewQrCode<'_>) -> Result<QrCodeRow, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO merchant_qr_codes (id, merchant_id, kind, currency, amount_minor, \
             reference, payload, created_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(code.id)
        .bind(code.merchant_id)
        .bind(code.kind.as_str())
        .bind(code.currency)
        .bind(
            code.amount_minor
                .map(|v| to_i64(v, "importe"))
                .transpose()?,
        )
        .bind(code.reference)
        .bind(code.payload)
        .bind(code.created_at_ms)
        .bind(code.expires_at_ms)
        .execute(&mut *transaction)
        .await?;
        let row = qr_in(&mut transaction, code.id).await?.ok_or_else(|| {
            StoreError::Corrupt("el código QR recién guardado no está".to_owned())
        })?;
        transaction.commit().await?;
        Ok(row)
    }

    /// A merchant's codes, oldest first, at most `limit`.
    pub async fn qr_codes_of(
        &self,
        merchant_id: &str,
        limit: u32,
    ) -> Result<Vec<QrCodeRow>, StoreError> {
        let query = format!(
            "SELECT {QR_COLUMNS} FROM merchant_qr_codes WHERE merchant_id = $1 \
             ORDER BY created_at_ms, id LIMIT $2"
        );
        let rows = sqlx::query(&query)
            .bind(merchant_id)
            .bind(i64::from(limit.clamp(1, MERCHANT_PAYMENTS_PAGE_MAX)))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(qr_row).collect()
    }

    pub async fn qr_code(&self, id: &str) -> Result<Option<QrCodeRow>, StoreError> {
        let mut connection = self.pool().acquire().await?;
        qr_in(&mut connection, id).await
    }

    /// Records a payment to `merchant_id` as a pending operation (its idempotency key as
    /// [`Db::begin_payment`] keeps it; payments to merchants count toward no person-to-person
    /// limit) with what it pays; a dynamic code (`qr_code_id` of a dynamic code) is claimed for
    /// it in the same transaction, and one unknown, paid, being paid or expired at `now_ms`
    /// refuses the payment with nothing written.
    ///
    /// # Panics
    /// When `operation.counts_toward_limits`.
    pub async fn begin_merchant_payment(
        &self,
        operation: &NewOperation<'_>,
        merchant_id: &str,
        qr_code_id: Option<&str>,
        reference: Option<&str>,
        now_ms: i64,
    ) -> Result<BeginPayment<QrRefusal>, StoreError> {
        assert!(
            !operation.counts_toward_limits,
            "payments to merchants count toward no person-to-person limit"
        );
        let windows = LimitWindows {
            day_start_ms: 0,
            month_start_ms: 0,
        };
        let (_turn, mut transaction) = self.begin_write().await?;
        let row = match begin_payment_in(&mut transaction, operation, windows, |_| {
            Ok::<(), QrRefusal>(())
        })
        .await?
        {
            BeginPayment::Started(row) => row,
            other => {
                transaction.commit().await?;
                return Ok(other);
            }
        };
        if let Some(qr) = qr_code_id {
            let code = qr_in(&mut transaction, qr).await?;
            let refusal = match &code {
                None => Some(QrRefusal::Unknown),
                Some(code) if code.merchant_id != merchant_id => Some(QrRefusal::Unknown),
                Some(code) if code.kind == QrKind::Static => None,
                Some(code) if code.expires_at_ms.is_some_and(|at| at <= now_ms) => {
                    Some(QrRefusal::Expired)
                }
                Some(_) => {
                    // The conditional update is the claim; of two payers the second finds it
                    // taken.
                    let claimed = sqlx::query(
                        "UPDATE merchant_qr_codes SET paid_by_operation = $1 \
                         WHERE id = $2 AND paid_by_operation IS NULL",
                    )
                    .bind(&row.id)
                    .bind(qr)
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected()
                        == 1;
                    (!claimed).then_some(QrRefusal::AlreadyPaid)
                }
            };
            if let Some(refusal) = refusal {
                transaction.rollback().await?;
                return Ok(BeginPayment::Refused(refusal));
            }
        }
        sqlx::query(
            "INSERT INTO merchant_payments (operation_id, merchant_id, qr_code_id, reference, \
             created_at_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&row.id)
        .bind(merchant_id)
        .bind(qr_code_id)
        .bind(reference)
        .bind(operation.created_at_ms)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(BeginPayment::Started(row))
    }

    /// The merchant side of an operation; `None` for operations that pay no merchant.
    pub async fn merchant_payment(
        &self,
        operation_id: &str,
    ) -> Result<Option<MerchantPaymentRow>, StoreError> {
        sqlx::query(
            "SELECT operation_id, merchant_id, qr_code_id, reference, created_at_ms, \
             refunded_minor FROM merchant_payments WHERE operation_id = $1",
        )
        .bind(operation_id)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(merchant_payment_row)
        .transpose()
    }

    /// Ends a payment to a merchant or a refund as [`Db::finish_payment`] does (with its SMS);
    /// a refused one gives back, in the same transaction, what it held: the dynamic code a
    /// payment claimed, or the share of its payment a refund reserved.
    /// A completed one queues `event` for the merchant's webhook in the same transaction.
    pub async fn finish_merchant_operation(
        &self,
        id: &str,
        finish: Finish<'_>,
        messages: &[(&str, &str)],
        event: Option<&WebhookEvent<'_>>,
        now_ms: i64,
    ) -> Result<OperationRow, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let (row, changed) =
            finish_payment_in(&mut transaction, id, finish, messages, now_ms).await?;
        if changed
            && row.status == OperationStatus::Completed
            && let Some(event) = event
        {
            queue_webhook_in(&mut transaction, event, now_ms).await?;
        }
        if changed && row.status == OperationStatus::Refused {
            sqlx::query(
                "UPDATE merchant_qr_codes SET paid_by_operation = NULL \
                 WHERE paid_by_operation = $1",
            )
            .bind(id)
            .execute(&mut *transaction)
            .await?;
            sqlx::query(
                "UPDATE merchant_payments SET refunded_minor = refunded_minor - $1 \
                 WHERE operation_id = (SELECT payment_operation_id FROM merchant_refunds \
                 WHERE operation_id = $2)",
            )
            .bind(to_i64(row.amount_minor, "importe")?)
            .bind(id)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(row)
    }

    /// What a merchant received and gave back, completed in `[from_ms, to_ms)`, in the order it
    /// completed; at most `limit` (a day's reconciliation).
    pub async fn merchant_movements(
        &self,
        merchant_id: &str,
        from_ms: i64,
        to_ms: i64,
        limit: u32,
    ) -> Result<Vec<MerchantMovementRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.id, o.kind, o.amount_minor, o.currency, o.receipt_code, o.finished_at_ms, \
             m.reference FROM merchant_payments m JOIN payment_operations o \
             ON o.id = m.operation_id WHERE m.merchant_id = $1 AND o.status = 'completed' \
             AND o.finished_at_ms >= $2 AND o.finished_at_ms < $3 \
             UNION ALL \
             SELECT o.id, o.kind, o.amount_minor, o.currency, o.receipt_code, o.finished_at_ms, \
             p.reference FROM merchant_refunds r JOIN payment_operations o \
             ON o.id = r.operation_id JOIN merchant_payments p \
             ON p.operation_id = r.payment_operation_id WHERE r.merchant_id = $1 \
             AND o.status = 'completed' AND o.finished_at_ms >= $2 AND o.finished_at_ms < $3 \
             ORDER BY 6, 1 LIMIT $4",
        )
        .bind(merchant_id)
        .bind(from_ms)
        .bind(to_ms)
        .bind(i64::from(limit.clamp(1, MERCHANT_DAY_ROWS_MAX)))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MerchantMovementRow {
                    operation_id: row.try_get(0)?,
                    kind: row.try_get(1)?,
                    amount_minor: to_u64(row.try_get(2)?, "importe")?,
                    currency: row.try_get(3)?,
                    receipt_code: row.try_get(4)?,
                    finished_at_ms: row.try_get(5)?,
                    reference: row.try_get(6)?,
                })
            })
            .collect()
    }

    /// A merchant's payments, newest first, with what each paid; at most `limit`.
    pub async fn payments_to_merchant(
        &self,
        merchant_id: &str,
        limit: u32,
    ) -> Result<Vec<(OperationRow, MerchantPaymentRow)>, StoreError> {
        let columns: Vec<String> = OPERATION_COLUMNS
            .split(',')
            .map(|column| format!("o.{}", column.trim()))
            .collect();
        let query = format!(
            "SELECT {}, m.merchant_id, m.qr_code_id, m.reference, \
             m.created_at_ms AS m_created_at_ms, m.refunded_minor FROM merchant_payments m \
             JOIN payment_operations o ON o.id = m.operation_id \
             WHERE m.merchant_id = $1 ORDER BY m.created_at_ms DESC, m.operation_id DESC LIMIT $2",
            columns.join(", ")
        );
        let rows = sqlx::query(&query)
            .bind(merchant_id)
            .bind(i64::from(limit.clamp(1, MERCHANT_PAYMENTS_PAGE_MAX)))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let operation = operation_row(row)?;
                let paid = MerchantPaymentRow {
                    operation_id: operation.id.clone(),
                    merchant_id: row.try_get("merchant_id")?,
                    qr_code_id: row.try_get("qr_code_id")?,
                    reference: row.try_get("reference")?,
                    created_at_ms: row.try_get("m_created_at_ms")?,
                    refunded_minor: to_u64(row.try_get("refunded_minor")?, "devuelto")?,
                };
                Ok((operation, paid))
            })
            .collect()
    }

    /// A merchant's refunds (of one payment, when `payment_operation_id` is given), newest
    /// first, with the operation of each; at most `limit`.
    pub async fn refunds_of_merchant(
        &self,
        merchant_id: &str,
        payment_operation_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(OperationRow, MerchantRefundRow)>, StoreError> {
        let columns: Vec<String> = OPERATION_COLUMNS
            .split(',')
            .map(|column| format!("o.{}", column.trim()))
            .collect();
        let query = format!(
            "SELECT {}, r.payment_operation_id, r.merchant_id, \
             r.created_at_ms AS r_created_at_ms FROM merchant_refunds r \
             JOIN payment_operations o ON o.id = r.operation_id \
             WHERE r.merchant_id = $1 {} ORDER BY r.created_at_ms DESC, r.operation_id DESC \
             LIMIT $2",
            columns.join(", "),
            if payment_operation_id.is_some() {
                "AND r.payment_operation_id = $3"
            } else {
                ""
            }
        );
        let mut statement = sqlx::query(&query)
            .bind(merchant_id)
            .bind(i64::from(limit.clamp(1, MERCHANT_PAYMENTS_PAGE_MAX)));
        if let Some(payment) = payment_operation_id {
            statement = statement.bind(payment);
        }
        let rows = statement.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                let operation = operation_row(row)?;
                let refund = MerchantRefundRow {
                    operation_id: operation.id.clone(),
                    payment_operation_id: row.try_get("payment_operation_id")?,
                    merchant_id: row.try_get("merchant_id")?,
                    created_at_ms: row.try_get("r_created_at_ms")?,
                };
                Ok((operation, refund))
            })
            .collect()
    }

    /// Records a refund of `payment_operation_id` (a completed payment to `merchant_id`) as a
    /// pending operation of the person who paid, and reserves its amount on the payment in the
    /// same transaction: `refunded_minor` only grows while it stays within what was paid, so
    /// refunds at once can never give back more. A refusal writes nothing.
    pub async fn begin_merchant_refund(
        &self,
        operation: &NewOperation<'_>,
        merchant_id: &str,
        payment_operation_id: &str,
    ) -> Result<BeginPayment<RefundRefusal>, StoreError> {
        let windows = LimitWindows {
            day_start_ms: 0,
            month_start_ms: 0,
        };
        let (_turn, mut transaction) = self.begin_write().await?;
        let row = match begin_payment_in(&mut transaction, operation, windows, |_| {
            Ok::<(), RefundRefusal>(())
        })
        .await?
        {
            BeginPayment::Started(row) => row,
            other => {
                transaction.commit().await?;
                return Ok(other);
            }
        };
        let paid = sqlx::query(
            "SELECT o.status, o.amount_minor, o.currency, o.user_id, m.refunded_minor \
             FROM merchant_payments m JOIN payment_operations o ON o.id = m.operation_id \
             WHERE m.operation_id = $1 AND m.merchant_id = $2",
        )
        .bind(payment_operation_id)
        .bind(merchant_id)
        .fetch_optional(&mut *transaction)
        .await?;
        let refusal = match &paid {
            None => Some(RefundRefusal::UnknownPayment),
            Some(paid) => {
                let status: String = paid.try_get("status")?;
                let amount = to_u64(paid.try_get("amount_minor")?, "importe")?;
                let refunded = to_u64(paid.try_get("refunded_minor")?, "devuelto")?;
                let currency: String = paid.try_get("currency")?;
                let payer: String = paid.try_get("user_id")?;
                if status != OperationStatus::Completed.as_str() {
                    Some(RefundRefusal::NotCompleted)
                } else if currency != operation.currency || payer != operation.user_id {
                    Some(RefundRefusal::UnknownPayment)
                } else {
                    let reserved = sqlx::query(
                        "UPDATE merchant_payments SET refunded_minor = refunded_minor + $1 \
                         WHERE operation_id = $2 AND refunded_minor + $1 <= $3",
                    )
                    .bind(to_i64(operation.amount_minor, "importe")?)
                    .bind(payment_operation_id)
                    .bind(to_i64(amount, "importe")?)
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected()
                        == 1;
                    (!reserved).then(|| RefundRefusal::OverPaid {
                        left_minor: amount.saturating_sub(refunded),
                    })
                }
            }
        };
        if let Some(refusal) = refusal {
            transaction.rollback().await?;
            return Ok(BeginPayment::Refused(refusal));
        }
        sqlx::query(
            "INSERT INTO merchant_refunds (operation_id, payment_operation_id, merchant_id, \
             created_at_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(&row.id)
        .bind(payment_operation_id)
        .bind(merchant_id)
        .bind(operation.created_at_ms)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(BeginPayment::Started(row))
    }

    /// The payment a refund returns; `None` for operations that are no refund.
    pub async fn merchant_refund(
        &self,
        operation_id: &str,
    ) -> Result<Option<MerchantRefundRow>, StoreError> {
        let row = sqlx::query(
            "SELECT operation_id, payment_operation_id, merchant_id, created_at_ms \
             FROM merchant_refunds WHERE operation_id = $1",
        )
        .bind(operation_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(MerchantRefundRow {
                operation_id: row.try_get("operation_id")?,
                payment_operation_id: row.try_get("payment_operation_id")?,
                merchant_id: row.try_get("merchant_id")?,
                created_at_ms: row.try_get("created_at_ms")?,
            })
        })
        .transpose()
    }
}

fn merchant_payment_row(row: &AnyRow) -> Result<MerchantPaymentRow, StoreError> {
    Ok(MerchantPaymentRow {
        operation_id: row.try_get("operation_id")?,
        merchant_id: row.try_get("merchant_id")?,
        qr_code_id: row.try_get("qr_code_id")?,
        reference: row.try_get("reference")?,
        created_at_ms: row.try_get("created_at_ms")?,
        refunded_minor: to_u64(row.try_get("refunded_minor")?, "devuelto")?,
    })
}
