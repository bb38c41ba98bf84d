//! Billers and what is paid to them: the billers themselves (data, seeded by a migration), the
//! bills they upload, and which operation paid which bill or topped up which account.
//!
//! A bill is paid at most once. The operation that pays it *claims* it in the transaction that
//! records the operation (`held_by_operation`, only while the bill is open and unclaimed), so two
//! requests at once cannot both get that far; the claim becomes `paid` in the transaction that
//! records the operation as completed, or is released in the one that records it as refused.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;
use crate::error::StoreError;
use crate::payments::{
    BeginPayment, Finish, LimitWindows, NewOperation, OperationRow, OperationStatus,
    begin_payment_in, finish_payment_in, to_i64, to_u64,
};

/// Most bills one upload may carry; they are written in one transaction.
pub const BILLS_UPLOAD_MAX: usize = 5_000;
/// Most payments in one page of a biller's list.
pub const BILLER_PAYMENTS_PAGE_MAX: u32 = 1_000;

/// A biller as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillerRow {
    pub code: String,
    pub name: String,
    /// `servicios`, `impuestos` or `telecomunicaciones`.
    pub kind: String,
    /// The account that operates it, once one is named.
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillStatus {
    Open,
    Paid,
}

impl BillStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BillStatus::Open => "open",
            BillStatus::Paid => "paid",
        }
    }

    fn parse(text: &str) -> Result<BillStatus, StoreError> {
        match text {
            "open" => Ok(BillStatus::Open),
            "paid" => Ok(BillStatus::Paid),
            other => Err(StoreError::Corrupt(format!(
                "estado de factura desconocido «{other}»"
            ))),
        }
    }
}

/// A bill as a biller uploads it (already validated).
#[derive(Debug, Clone)]
pub struct NewBill<'a> {
    pub reference: &'a str,
    pub customer_name: &'a str,
    pub amount_minor: u64,
    pub currency: &'a str,
    /// `AAAA-MM-DD`.
    pub due_date: &'a str,
    pub period: &'a str,
}

/// A bill as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillRow {
    pub biller_code: String,
    pub reference: String,
    pub customer_name: String,
    pub amount_minor: u64,
    pub currency: String,
    pub due_date: String,
    pub period: String,
    pub status: BillStatus,
    /// The operation paying it right now, if any.
    pub held_by_operation: Option<String>,
    pub paid_by_operation: Option<String>,
    pub paid_at_ms: Option<i64>,
    pub uploaded_at_ms: i64,
}

/// How an upload ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertBills {
    /// Every bill was written.
    Inserted(usize),
    /// The bill at this index has a reference the biller already used (in an earlier upload or
    /// earlier in this one); nothing was written.
    Duplicate(usize),
}

/// What a payment to a biller is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillerTarget<'a> {
    /// A bill, by its reference.
    Bill(&'a str),
    /// A top-up of this account (a phone number, a Nauta address).
    TopUp(&'a str),
}

/// Why a bill could not be claimed for a new payment; nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillRefusal {
    Unknown,
    AlreadyPaid,
    /// Another operation is paying it now.
    InProgress,
}

/// The biller side of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillerPaymentRow {
    pub operation_id: String,
    pub biller_code: String,
    pub bill_reference: Option<String>,
    pub top_up_account: Option<String>,
    pub hold_timeout_s: u32,
    pub created_at_ms: i64,
}

/// A completed payment as its biller sees it: for the list and the reconciliation file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidToBiller {
    pub operation_id: String,
    pub kind: String,
    /// The bill's reference, or the account topped up.
    pub reference: String,
    /// The bill's customer; empty for a top-up.
    pub customer_name: String,
    pub period: String,
    pub amount_minor: u64,
    pub currency: String,
    pub receipt_code: String,
    pub paid_at_ms: i64,
}

const BILL_COLUMNS: &str = "biller_code, reference, customer_name, amount_minor, currency, \
     due_date, period, status, held_by_operation, paid_by_operation, paid_at_ms, uploaded_at_ms";

fn biller_row(row: &AnyRow) -> Result<BillerRow, StoreError> {
    Ok(BillerRow {
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        user_id: row.try_get("user_id")?,
    })
}

fn bill_row(row: &AnyRow) -> Result<BillRow, StoreError> {
    Ok(BillRow {
        biller_code: row.try_get("biller_code")?,
        reference: row.try_get("reference")?,
        customer_name: row.try_get("customer_name")?,
        amount_minor: to_u64(row.try_get("amount_minor")?, "importe")?,
        currency: row.try_get("currency")?,
        due_date: row.try_get("due_date")?,
        period: row.try_get("period")?,
        status: BillStatus::parse(&row.try_get::<String, _>("status")?)?,
        held_by_operation: row.try_get("held_by_operation")?,
        paid_by_operation: row.try_get("paid_by_operation")?,
        paid_at_ms: row.try_get("paid_at_ms")?,
        uploaded_at_ms: row.try_get("uploaded_at_ms")?,
    })
}

fn biller_payment_row(row: &AnyRow) -> Result<BillerPaymentRow, StoreError> {
    let timeout: i64 = row.try_get("hold_timeout_s")?;
    Ok(BillerPaymentRow {
        operation_id: row.try_get("operation_id")?,
        biller_code: row.try_get("biller_code")?,
        bill_reference: row.try_get("bill_reference")?,
        top_up_account: row.try_get("top_up_account")?,
        hold_timeout_s: u32::try_from(timeout)
            .map_err(|_| StoreError::Corrupt("plazo de retención fuera de rango".to_owned()))?,
        created_at_ms: row.try_get("created_at_ms")?,
    })
}

async fn bill_in(
    connection: &mut sqlx::AnyConnection,
    biller_code: &str,
    reference: &str,
) -> Result<Option<BillRow>, StoreError> {
    let query =
        format!("SELECT {BILL_COLUMNS} FROM bills WHERE biller_code = $1 AND reference = $2");
    sqlx::query(&query)
        .bind(biller_code)
        .bind(reference)
        .fetch_optional(connection)
        .await?
        .as_ref()
        .map(bill_row)
        .transpose()
}

impl Db {
    /// Every biller, by code.
    pub async fn billers(&self) -> Result<Vec<BillerRow>, StoreError> {
        let rows = sqlx::query("SELECT code, name, kind, user_id FROM billers ORDER BY code")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(biller_row).collect()
    }

    pub async fn biller(&self, code: &str) -> Result<Option<BillerRow>, StoreError> {
        sqlx::query("SELECT code, name, kind, user_id FROM billers WHERE code = $1")
            .bind(code)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(biller_row)
            .transpose()
    }

    /// Names the account that operates a biller (or none). `false` when the biller does not
    /// exist.
    pub async fn set_biller_user(
        &self,
        code: &str,
        user_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query("UPDATE billers SET user_id = $1 WHERE code = $2")
            .bind(user_id)
            .bind(code)
            .execute(self.pool())
            .await?;
        Ok(changed.rows_affected() == 1)
    }

    /// Writes a biller's bills, all or none: a reference the biller already used refuses the
    /// whole upload.
    ///
    /// # Panics
    /// With more than [`BILLS_UPLOAD_MAX`] bills: the caller checks the count first.
    pub async fn insert_bills(
        &self,
        biller_code: &str,
        bills: &[NewBill<'_>],
        now_ms: i64,
    ) -> Result<InsertBills, StoreError> {
        assert!(
            bills.len() <= BILLS_UPLOAD_MAX,
            "an upload holds at most {BILLS_UPLOAD_MAX} bills"
        );
        let (_turn, mut transaction) = self.begin_write().await?;
        for (index, bill) in bills.iter().enumerate() {
            let inserted = sqlx::query(
                "INSERT INTO bills (biller_code, reference, customer_name, amount_minor, \
                 currency, due_date, period, status, uploaded_at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8) \
                 ON CONFLICT (biller_code, reference) DO NOTHING",
            )
            .bind(biller_code)
            .bind(bill.reference)
            .bind(bill.customer_name)
            .bind(to_i64(bill.amount_minor, "importe")?)
            .bind(bill.currency)
            .bind(bill.due_date)
            .bind(bill.period)
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?;
            if inserted.rows_affected() != 1 {
                transaction.rollback().await?;
                return Ok(InsertBills::Duplicate(index));
            }
        }
        transaction.commit().await?;
        Ok(InsertBills::Inserted(bills.len()))
    }

    pub async fn bill(
        &self,
        biller_code: &str,
        reference: &str,
    ) -> Result<Option<BillRow>, StoreError> {
        let mut connection = self.pool().acquire().await?;
        bill_in(&mut connection, biller_code, reference).await
    }

    /// Records a payment to a biller as a pending operation, as [`Db::begin_payment`] does (with
    /// its idempotency key, under the payer's row lock; payments to billers count toward no
    /// person-to-person limit), together with what it pays for; a bill is claimed for this
    /// operation in the same transaction. A bill that is unknown, paid, or being paid by another
    /// operation refuses the payment and nothing is written.
    ///
    /// # Panics
    /// When `operation.counts_toward_limits`: payments to billers never do.
    pub async fn begin_biller_payment(
        &self,
        operation: &NewOperation<'_>,
        biller_code: &str,
        target: BillerTarget<'_>,
        hold_timeout_s: u32,
    ) -> Result<BeginPayment<BillRefusal>, StoreError> {
        assert!(
            !operation.counts_toward_limits,
            "payments to billers count toward no person-to-person limit"
        );
        // No limits apply: the windows are never read.
        let windows = LimitWindows {
            day_start_ms: 0,
            month_start_ms: 0,
        };
        let (_turn, mut transaction) = self.begin_write().await?;
        let begun = begin_payment_in(&mut transaction, operation, windows, |_| {
            Ok::<(), BillRefusal>(())
        })
        .await?;
        let row = match begun {
            BeginPayment::Started(row) => row,
            BeginPayment::Existing(row) => {
                transaction.commit().await?;
                return Ok(BeginPayment::Existing(row));
            }
            BeginPayment::KeyReused(row) => {
                transaction.commit().await?;
                return Ok(BeginPayment::KeyReused(row));
            }
            BeginPayment::Refused(refusal) => {
                transaction.rollback().await?;
                return Ok(BeginPayment::Refused(refusal));
            }
        };
        let (bill_reference, top_up_account) = match target {
            BillerTarget::Bill(reference) => (Some(reference), None),
            BillerTarget::TopUp(account) => (None, Some(account)),
        };
        if let Some(reference) = bill_reference {
            // The conditional update is the claim: of two transactions, the second waits for the
            // first's row lock (PostgreSQL) or its write lock (SQLite) and then finds the bill
            // claimed.
            let claimed = sqlx::query(
                "UPDATE bills SET held_by_operation = $1 WHERE biller_code = $2 \
                 AND reference = $3 AND status = 'open' AND held_by_operation IS NULL",
            )
            .bind(&row.id)
            .bind(biller_code)
            .bind(reference)
            .execute(&mut *transaction)
            .await?
            .rows_affected()
                == 1;
            if !claimed {
                let bill = bill_in(&mut transaction, biller_code, reference).await?;
                transaction.rollback().await?;
                return Ok(BeginPayment::Refused(match bill {
                    None => BillRefusal::Unknown,
                    Some(bill) if bill.status == BillStatus::Paid => BillRefusal::AlreadyPaid,
                    Some(_) => BillRefusal::InProgress,
                }));
            }
        }
        sqlx::query(
            "INSERT INTO biller_payments (operation_id, biller_code, bill_reference, \
             top_up_account, hold_timeout_s, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&row.id)
        .bind(biller_code)
        .bind(bill_reference)
        .bind(top_up_account)
        .bind(i64::from(hold_timeout_s))
        .bind(operation.created_at_ms)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(BeginPayment::Started(row))
    }

    /// The biller side of an operation; `None` for operations that pay no biller.
    pub async fn biller_payment(
        &self,
        operation_id: &str,
    ) -> Result<Option<BillerPaymentRow>, StoreError> {
        sqlx::query(
            "SELECT operation_id, biller_code, bill_reference, top_up_account, hold_timeout_s, \
             created_at_ms FROM biller_payments WHERE operation_id = $1",
        )
        .bind(operation_id)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(biller_payment_row)
        .transpose()
    }

    /// Ends a payment to a biller as [`Db::finish_payment`] does (with its SMS), and in the
    /// same transaction settles the bill it claimed: paid when the operation completed, open
    /// again when it was refused or reversed. An operation already ended changes nothing.
    pub async fn finish_biller_payment(
        &self,
        id: &str,
        finish: Finish<'_>,
        messages: &[(&str, &str)],
        now_ms: i64,
    ) -> Result<OperationRow, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let (row, changed) =
            finish_payment_in(&mut transaction, id, finish, messages, now_ms).await?;
        if changed {
            let settled =
                match row.status {
                    OperationStatus::Completed => {
                        sqlx::query(
                            "UPDATE bills SET status = 'paid', paid_by_operation = $1, \
                         paid_at_ms = $2, held_by_operation = NULL WHERE held_by_operation = $1",
                        )
                        .bind(id)
                        .bind(now_ms)
                        .execute(&mut *transaction)
                        .await?
                    }
                    _ => sqlx::query(
                        "UPDATE bills SET held_by_operation = NULL WHERE held_by_operation = $1",
                    )
                    .bind(id)
                    .execute(&mut *transaction)
                    .await?,
                };
            let pays_a_bill = sqlx::query(
                "SELECT COUNT(*) FROM biller_payments \
                 WHERE operation_id = $1 AND bill_reference IS NOT NULL",
            )
            .bind(id)
            .fetch_one(&mut *transaction)
            .await?
            .try_get::<i64, _>(0)?
                == 1;
            if pays_a_bill && settled.rows_affected() != 1 {
                transaction.rollback().await?;
                return Err(StoreError::Corrupt(format!(
                    "la operación {id} paga una factura que no tenía reservada"
                )));
            }
        }
        transaction.commit().await?;
        Ok(row)
    }

    /// A biller's completed payments (bills and top-ups) paid in `[from_ms, to_ms)`, oldest
    /// first; `after` continues a page: `(paid_at_ms, operation id)` of the last row seen.
    pub async fn payments_to_biller(
        &self,
        biller_code: &str,
        from_ms: i64,
        to_ms: i64,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<PaidToBiller>, StoreError> {
        let limit = limit.clamp(1, BILLER_PAYMENTS_PAGE_MAX);
        let (after_ms, after_id) = after.unwrap_or((i64::MIN, ""));
        let rows = sqlx::query(
            "SELECT p.operation_id, o.kind, COALESCE(p.bill_reference, p.top_up_account) AS reference, \
             COALESCE(b.customer_name, '') AS customer_name, COALESCE(b.period, '') AS period, \
             o.amount_minor, o.currency, o.receipt_code, o.finished_at_ms \
             FROM biller_payments p \
             JOIN payment_operations o ON o.id = p.operation_id \
             LEFT JOIN bills b ON b.biller_code = p.biller_code AND b.reference = p.bill_reference \
             WHERE p.biller_code = $1 AND o.status = 'completed' \
             AND o.finished_at_ms >= $2 AND o.finished_at_ms < $3 \
             AND (o.finished_at_ms > $4 OR (o.finished_at_ms = $4 AND p.operation_id > $5)) \
             ORDER BY o.finished_at_ms, p.operation_id LIMIT $6",
        )
        .bind(biller_code)
        .bind(from_ms)
        .bind(to_ms)
        .bind(after_ms)
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PaidToBiller {
                    operation_id: row.try_get("operation_id")?,
                    kind: row.try_get("kind")?,
                    reference: row.try_get("reference")?,
                    customer_name: row.try_get("customer_name")?,
                    period: row.try_get("period")?,
                    amount_minor: to_u64(row.try_get("amount_minor")?, "importe")?,
                    currency: row.try_get("currency")?,
                    receipt_code: row
                        .try_get::<Option<String>, _>("receipt_code")?
                        .unwrap_or_default(),
                    paid_at_ms: row
                        .try_get::<Option<i64>, _>("finished_at_ms")?
                        .unwrap_or_default(),
                })
            })
            .collect()
    }
}
