//! OAuth clients of merchants' servers and the access tokens they get. Secrets and tokens are
//! stored only as SHA-256 (hex) of their random bytes: a copy of the database gives neither.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;
use crate::error::StoreError;

/// Most live clients one merchant may have.
pub const MERCHANT_CLIENTS_MAX: usize = 20;

/// A client as stored (without its secret's hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantClientRow {
    pub client_id: String,
    pub merchant_id: String,
    pub name: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// What a valid access token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantTokenRow {
    pub client_id: String,
    pub merchant_id: String,
    pub scopes: Vec<String>,
    pub expires_at_ms: i64,
}

fn client_row(row: &AnyRow) -> Result<MerchantClientRow, StoreError> {
    Ok(MerchantClientRow {
        client_id: row.try_get("client_id")?,
        merchant_id: row.try_get("merchant_id")?,
        name: row.try_get("name")?,
        created_at_ms: row.try_get("created_at_ms")?,
        revoked_at_ms: row.try_get("revoked_at_ms")?,
    })
}

impl Db {
    /// Registers a client for a merchant; `None` when it has [`MERCHANT_CLIENTS_MAX`] live ones.
    pub async fn create_merchant_client(
        &self,
        client: &MerchantClientRow,
        secret_hash: &str,
    ) -> Result<Option<MerchantClientRow>, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        // The merchant's row lock orders two registrations, so the count holds.
        sqlx::query("UPDATE merchants SET status = status WHERE id = $1")
            .bind(&client.merchant_id)
            .execute(&mut *transaction)
            .await?;
        let live: i64 = sqlx::query(
            "SELECT COUNT(*) FROM merchant_clients WHERE merchant_id = $1 \
             AND revoked_at_ms IS NULL",
        )
        .bind(&client.merchant_id)
        .fetch_one(&mut *transaction)
        .await?
        .try_get(0)?;
        if usize::try_from(live).unwrap_or(usize::MAX) >= MERCHANT_CLIENTS_MAX {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO merchant_clients (client_id, merchant_id, name, secret_hash, \
             created_at_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&client.client_id)
        .bind(&client.merchant_id)
        .bind(&client.name)
        .bind(secret_hash)
        .bind(client.created_at_ms)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(Some(client.clone()))
    }

    /// A merchant's clients, oldest first, revoked ones included.
    pub async fn merchant_clients(
        &self,
        merchant_id: &str,
    ) -> Result<Vec<MerchantClientRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT client_id, merchant_id, name, created_at_ms, revoked_at_ms \
             FROM merchant_clients WHERE merchant_id = $1 ORDER BY created_at_ms, client_id",
        )
        .bind(merchant_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(client_row).collect()
    }

    /// A live client whose secret hashes to `secret_hash`; `None` for a wrong secret, an
    /// unknown or a revoked client alike.
    pub async fn authenticate_merchant_client(
        &self,
        client_id: &str,
        secret_hash: &str,
    ) -> Result<Option<MerchantClientRow>, StoreError> {
        let row = sqlx::query(
            "SELECT client_id, merchant_id, name, created_at_ms, revoked_at_ms, secret_hash \
             FROM merchant_clients WHERE client_id = $1 AND revoked_at_ms IS NULL",
        )
        .bind(client_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let stored: String = row.try_get("secret_hash")?;
        // Both are hex SHA-256 of 256 random bits: comparing them leaks nothing useful, but a
        // constant-time comparison costs nothing either.
        let same = stored.len() == secret_hash.len()
            && stored
                .bytes()
                .zip(secret_hash.bytes())
                .fold(0_u8, |diff, (a, b)| diff | (a ^ b))
                == 0;
        if !same {
            return Ok(None);
        }
        Ok(Some(client_row(&row)?))
    }

    /// Revokes a merchant's client and every token it holds; false when there is no such live
    /// client of that merchant.
    pub async fn revoke_merchant_client(
        &self,
        merchant_id: &str,
        client_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let revoked = sqlx::query(
            "UPDATE merchant_clients SET revoked_at_ms = $1 WHERE client_id = $2 \
             AND merchant_id = $3 AND revoked_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(client_id)
        .bind(merchant_id)
        .execute(&mut *transaction)
        .await?
        .rows_affected()
            == 1;
        if revoked {
            sqlx::query("DELETE FROM merchant_tokens WHERE client_id = $1")
                .bind(client_id)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(revoked)
    }

    /// Keeps an access token's hash; expired tokens of any client are swept on the way.
    pub async fn issue_merchant_token(
        &self,
        token_hash: &str,
        client_id: &str,
        scopes: &[&str],
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<(), StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        sqlx::query("DELETE FROM merchant_tokens WHERE expires_at_ms <= $1")
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "INSERT INTO merchant_tokens (token_hash, client_id, scopes, created_at_ms, \
             expires_at_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(client_id)
        .bind(scopes.join(" "))
        .bind(now_ms)
        .bind(expires_at_ms)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// What a token grants, if it is live at `now_ms` and its client is not revoked.
    pub async fn merchant_token(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<MerchantTokenRow>, StoreError> {
        let row = sqlx::query(
            "SELECT t.client_id, c.merchant_id, t.scopes, t.expires_at_ms \
             FROM merchant_tokens t JOIN merchant_clients c ON c.client_id = t.client_id \
             WHERE t.token_hash = $1 AND t.expires_at_ms > $2 AND c.revoked_at_ms IS NULL",
        )
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            let scopes: String = row.try_get("scopes")?;
            Ok(MerchantTokenRow {
                client_id: row.try_get("client_id")?,
                merchant_id: row.try_get("merchant_id")?,
                scopes: scopes.split_whitespace().map(str::to_owned).collect(),
                expires_at_ms: row.try_get("expires_at_ms")?,
            })
        })
        .transpose()
    }
}
