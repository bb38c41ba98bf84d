//! Leases: how several `ceiba serve` processes sharing one database elect the single one that
//! runs singleton work. A lease is a row with a holder and an expiry; the holder renews it well
//! before it expires, and anyone may take it once it has expired. The clock is passed in.

use std::fmt;

use sqlx::Row;

use crate::db::Db;
use crate::error::StoreError;

/// The name of a lease; one per kind of singleton work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseName(&'static str);

impl LeaseName {
    /// Housekeeping that must run in exactly one process.
    pub const MAINTENANCE: LeaseName = LeaseName("maintenance");

    pub const fn new(name: &'static str) -> LeaseName {
        LeaseName(name)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// Who asks for a lease: one identity per process, fresh at every start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseHolder(String);

impl LeaseHolder {
    pub fn new(id: impl Into<String>) -> LeaseHolder {
        LeaseHolder(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A lease held until `expires_at_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseGrant {
    pub expires_at_ms: i64,
    /// Grows each time the lease changes hands; work done under a lease can carry it so that a
    /// holder that lost the lease (paused, partitioned) is recognised as stale.
    pub fencing_token: i64,
}

impl Db {
    /// Takes or renews the lease for `holder` until `now_ms + ttl_ms`. Returns `None` when
    /// another holder has it and it has not expired.
    pub async fn try_acquire_lease(
        &self,
        name: LeaseName,
        holder: &LeaseHolder,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Option<LeaseGrant>, StoreError> {
        assert!(ttl_ms > 0, "a lease must last some time");
        let expires_at_ms = now_ms
            .checked_add(ttl_ms)
            .expect("lease expiry fits in i64 milliseconds");
        let (_turn, mut transaction) = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at_ms, fencing_token) \
             VALUES ($1, $2, $3, 1) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name.as_str())
        .bind(holder.as_str())
        .bind(expires_at_ms)
        .execute(&mut *transaction)
        .await?;
        let grant = if inserted.rows_affected() == 1 {
            Some(LeaseGrant {
                expires_at_ms,
                fencing_token: 1,
            })
        } else {
            // Right-hand sides see the row as it was, so the CASE compares with the old holder.
            sqlx::query(
                "UPDATE leases SET \
                   fencing_token = CASE WHEN holder = $2 THEN fencing_token ELSE fencing_token + 1 END, \
                   holder = $2, expires_at_ms = $3 \
                 WHERE name = $1 AND (holder = $2 OR expires_at_ms <= $4) \
                 RETURNING fencing_token",
            )
            .bind(name.as_str())
            .bind(holder.as_str())
            .bind(expires_at_ms)
            .bind(now_ms)
            .fetch_optional(&mut *transaction)
            .await?
            .map(|row| -> Result<LeaseGrant, StoreError> {
                Ok(LeaseGrant {
                    expires_at_ms,
                    fencing_token: row.try_get(0)?,
                })
            })
            .transpose()?
        };
        transaction.commit().await?;
        Ok(grant)
    }

    /// Gives the lease up at once (on shutdown), so another process need not wait for expiry.
    /// Does nothing when `holder` no longer has it.
    pub async fn release_lease(
        &self,
        name: LeaseName,
        holder: &LeaseHolder,
    ) -> Result<bool, StoreError> {
        let result =
            sqlx::query("UPDATE leases SET expires_at_ms = 0 WHERE name = $1 AND holder = $2")
                .bind(name.as_str())
                .bind(holder.as_str())
                .execute(self.pool())
                .await?;
        Ok(result.rows_affected() == 1)
    }

    /// The current holder of a lease, if it has not expired at `now_ms`.
    pub async fn lease_holder(
        &self,
        name: LeaseName,
        now_ms: i64,
    ) -> Result<Option<LeaseHolder>, StoreError> {
        let row = sqlx::query("SELECT holder FROM leases WHERE name = $1 AND expires_at_ms > $2")
            .bind(name.as_str())
            .bind(now_ms)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| Ok(LeaseHolder(row.try_get(0)?))).transpose()
    }
}
