//! Merchants: a business's application to take payments, and an administrator's decision on
//! it (know your business). Approval grants the owner the `merchant` role in the same
//! transaction, so whoever can act for an approved merchant is decided in one place.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;
use crate::error::StoreError;

/// Most merchants one page of a list holds.
pub const MERCHANTS_PAGE_MAX: u32 = 200;
/// Most merchants one person may own.
pub const MERCHANTS_PER_OWNER_MAX: usize = 20;

/// What an application records.
#[derive(Debug, Clone)]
pub struct NewMerchant<'a> {
    pub id: &'a str,
    pub owner_user_id: &'a str,
    pub business_name: &'a str,
    pub nit: &'a str,
    pub category_code: &'a str,
    pub city: &'a str,
    pub settlement_bank_code: &'a str,
    pub settlement_currency: &'a str,
    pub settlement_masked_number: &'a str,
    pub settlement_number_hash: &'a [u8],
    pub created_at_ms: i64,
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MerchantStatus {
    /// Waiting for an administrator.
    Pending,
    /// May take payments.
    Approved,
    /// Refused, with a reason for its owner.
    Rejected,
}

impl MerchantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MerchantStatus::Pending => "pending",
            MerchantStatus::Approved => "approved",
            MerchantStatus::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<MerchantStatus> {
        match text {
            "pending" => Some(MerchantStatus::Pending),
            "approved" => Some(MerchantStatus::Approved),
            "rejected" => Some(MerchantStatus::Rejected),
            _ => None,
        }
    }
}

/// A merchant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantRow {
    pub id: String,
    pub owner_user_id: String,
    pub business_name: String,
    pub nit: String,
    pub category_code: String,
    pub city: String,
    pub settlement_bank_code: String,
    pub settlement_currency: String,
    pub settlement_masked_number: String,
    pub status: MerchantStatus,
    pub created_at_ms: i64,
    pub decided_at_ms: Option<i64>,
    pub decided_by_user_id: Option<String>,
    pub decision_reason: Option<String>,
}

/// How an application ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyMerchant {
    Applied(Box<MerchantRow>),
    /// Another merchant has this NIT; nothing was written.
    NitTaken,
    /// The person owns [`MERCHANTS_PER_OWNER_MAX`] merchants; nothing was written.
    TooMany,
}

/// An administrator's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MerchantDecision<'a> {
    Approve,
    Reject { reason: &'a str },
}

/// How deciding ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecideMerchant {
    Decided(Box<MerchantRow>),
    /// It had been decided before (approved or rejected): as it stands, unchanged.
    AlreadyDecided(Box<MerchantRow>),
    NotFound,
}

const COLUMNS: &str = "id, owner_user_id, business_name, nit, category_code, city, \
     settlement_bank_code, settlement_currency, settlement_masked_number, status, created_at_ms, \
     decided_at_ms, decided_by_user_id, decision_reason";

fn merchant_row(row: &AnyRow) -> Result<MerchantRow, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(MerchantRow {
        id: row.try_get("id")?,
        owner_user_id: row.try_get("owner_user_id")?,
        business_name: row.try_get("business_name")?,
        nit: row.try_get("nit")?,
        category_code: row.try_get("category_code")?,
        city: row.try_get("city")?,
        settlement_bank_code: row.try_get("settlement_bank_code")?,
        settlement_currency: row.try_get("settlement_currency")?,
        settlement_masked_number: row.try_get("settlement_masked_number")?,
        status: MerchantStatus::parse(&status).ok_or_else(|| {
            StoreError::Corrupt(format!("estado de comercio desconocido «{status}»"))
        })?,
        created_at_ms: row.try_get("created_at_ms")?,
        decided_at_ms: row.try_get("decided_at_ms")?,
        decided_by_user_id: row.try_get("decided_by_user_id")?,
        decision_reason: row.try_get("decision_reason")?,
    })
}

async fn merchant_in(
    connection: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<Option<MerchantRow>, StoreError> {
    let query = format!("SELECT {COLUMNS} FROM merchants WHERE id = $1");
    sqlx::query(&query)
        .bind(id)
        .fetch_optional(&mut *connection)
        .await?
        .as_ref()
        .map(merchant_row)
        .transpose()
}

impl Db {
    /// Records a business's application, pending an administrator's decision.
    pub async fn apply_merchant(
        &self,
        merchant: &NewMerchant<'_>,
    ) -> Result<ApplyMerchant, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        // The owner's row lock orders two applications of one person, so the count holds.
        sqlx::query("UPDATE users SET status = status WHERE id = $1")
            .bind(merchant.owner_user_id)
            .execute(&mut *transaction)
            .await?;
        let owned: i64 = sqlx::query("SELECT COUNT(*) FROM merchants WHERE owner_user_id = $1")
            .bind(merchant.owner_user_id)
            .fetch_one(&mut *transaction)
            .await?
            .try_get(0)?;
        if usize::try_from(owned).unwrap_or(usize::MAX) >= MERCHANTS_PER_OWNER_MAX {
            return Ok(ApplyMerchant::TooMany);
        }
        let inserted = sqlx::query(
            "INSERT INTO merchants (id, owner_user_id, business_name, nit, category_code, city, \
             settlement_bank_code, settlement_currency, settlement_masked_number, \
             settlement_number_hash, status, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11) \
             ON CONFLICT (nit) DO NOTHING",
        )
        .bind(merchant.id)
        .bind(merchant.owner_user_id)
        .bind(merchant.business_name)
        .bind(merchant.nit)
        .bind(merchant.category_code)
        .bind(merchant.city)
        .bind(merchant.settlement_bank_code)
        .bind(merchant.settlement_currency)
        .bind(merchant.settlement_masked_number)
        .bind(merchant.settlement_number_hash)
        .bind(merchant.created_at_ms)
        .execute(&mut *transaction)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(ApplyMerchant::NitTaken);
        }
        let row = merchant_in(&mut transaction, merchant.id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("el comercio recién guardado no está".to_owned()))?;
        transaction.commit().await?;
        Ok(ApplyMerchant::Applied(Box::new(row)))
    }

    pub async fn merchant(&self, id: &str) -> Result<Option<MerchantRow>, StoreError> {
        let mut connection = self.pool().acquire().await?;
        merchant_in(&mut connection, id).await
    }

    /// The merchants a person owns, oldest first.
    pub async fn merchants_of(&self, owner_user_id: &str) -> Result<Vec<MerchantRow>, StoreError> {
        let query = format!(
            "SELECT {COLUMNS} FROM merchants WHERE owner_user_id = $1 \
             ORDER BY created_at_ms, id LIMIT $2"
        );
        let rows = sqlx::query(&query)
            .bind(owner_user_id)
            .bind(i64::from(MERCHANTS_PAGE_MAX))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(merchant_row).collect()
    }

    /// Merchants in `status`, oldest first (the queue an administrator works through).
    pub async fn merchants_with_status(
        &self,
        status: MerchantStatus,
        limit: u32,
    ) -> Result<Vec<MerchantRow>, StoreError> {
        let query = format!(
            "SELECT {COLUMNS} FROM merchants WHERE status = $1 \
             ORDER BY created_at_ms, id LIMIT $2"
        );
        let rows = sqlx::query(&query)
            .bind(status.as_str())
            .bind(i64::from(limit.clamp(1, MERCHANTS_PAGE_MAX)))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(merchant_row).collect()
    }

    /// Approves or rejects a pending application, once. Approval gives the owner the
    /// `merchant` role in the same transaction. `decided_by_user_id` is the administrator
    /// (`None` only for the demonstration's own merchant).
    pub async fn decide_merchant(
        &self,
        id: &str,
        decision: MerchantDecision<'_>,
        decided_by_user_id: Option<&str>,
        now_ms: i64,
    ) -> Result<DecideMerchant, StoreError> {
        let (status, reason) = match decision {
            MerchantDecision::Approve => (MerchantStatus::Approved, None),
            MerchantDecision::Reject { reason } => (MerchantStatus::Rejected, Some(reason)),
        };
        let (_turn, mut transaction) = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE merchants SET status = $1, decided_at_ms = $2, decided_by_user_id = $3, \
             decision_reason = $4 WHERE id = $5 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(now_ms)
        .bind(decided_by_user_id)
        .bind(reason)
        .bind(id)
        .execute(&mut *transaction)
        .await?
        .rows_affected()
            == 1;
        let Some(row) = merchant_in(&mut transaction, id).await? else {
            return Ok(DecideMerchant::NotFound);
        };
        if !changed {
            transaction.commit().await?;
            return Ok(DecideMerchant::AlreadyDecided(Box::new(row)));
        }
        if status == MerchantStatus::Approved {
            sqlx::query(
                "INSERT INTO user_roles (user_id, role) VALUES ($1, 'merchant') \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&row.owner_user_id)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        if status == MerchantStatus::Approved {
            self.identity_cache().changed();
        }
        Ok(DecideMerchant::Decided(Box::new(row)))
    }
}
