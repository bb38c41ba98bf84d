//! Bank accounts people link to their wallet, and which linked account each deposit or
//! withdrawal used. The full account number is never stored: only a masked form (the last four
//! digits) and a hash of it, so the same account linked twice is recognised.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;
use crate::error::StoreError;
use crate::payments::{BeginPayment, LimitWindows, NewOperation, begin_payment_in};

/// Most accounts one person may have linked at a time.
pub const LINKED_BANK_ACCOUNTS_MAX: usize = 20;

/// What linking an account records.
#[derive(Debug, Clone)]
pub struct NewBankAccount<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub bank_code: &'a str,
    pub currency: &'a str,
    pub alias: &'a str,
    pub masked_number: &'a str,
    pub number_hash: &'a [u8],
    pub created_at_ms: i64,
}

/// A linked bank account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAccountRow {
    pub id: String,
    pub user_id: String,
    pub bank_code: String,
    pub currency: String,
    pub alias: String,
    pub masked_number: String,
    pub number_hash: Vec<u8>,
    pub created_at_ms: i64,
    pub removed_at_ms: Option<i64>,
}

/// How linking an account ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkBankAccount {
    /// Newly linked.
    Linked(BankAccountRow),
    /// The person had this account (bank, currency, number) linked already: that one.
    Existing(BankAccountRow),
    /// The person has [`LINKED_BANK_ACCOUNTS_MAX`] accounts linked; nothing was written.
    TooMany,
}

/// The linked account a deposit or withdrawal moves money with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAccountOperationRow {
    pub operation_id: String,
    pub bank_account_id: String,
    pub hold_timeout_s: u32,
    pub created_at_ms: i64,
}

const COLUMNS: &str = "id, user_id, bank_code, currency, alias, masked_number, number_hash, \
     created_at_ms, removed_at_ms";

fn account_row(row: &AnyRow) -> Result<BankAccountRow, StoreError> {
    Ok(BankAccountRow {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        bank_code: row.try_get("bank_code")?,
        currency: row.try_get("currency")?,
        alias: row.try_get("alias")?,
        masked_number: row.try_get("masked_number")?,
        number_hash: row.try_get("number_hash")?,
        created_at_ms: row.try_get("created_at_ms")?,
        removed_at_ms: row.try_get("removed_at_ms")?,
    })
}

impl Db {
    /// Links a bank account to a person. Linking again an account the person has linked (same
    /// bank, currency and number) returns that one and writes nothing.
    pub async fn link_bank_account(
        &self,
        account: &NewBankAccount<'_>,
    ) -> Result<LinkBankAccount, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        // The person's row lock orders two links of one person, so the count below holds.
        sqlx::query("UPDATE users SET status = status WHERE id = $1")
            .bind(account.user_id)
            .execute(&mut *transaction)
            .await?;
        let query = format!(
            "SELECT {COLUMNS} FROM linked_bank_accounts WHERE user_id = $1 \
             AND removed_at_ms IS NULL ORDER BY created_at_ms, id"
        );
        let linked = sqlx::query(&query)
            .bind(account.user_id)
            .fetch_all(&mut *transaction)
            .await?
            .iter()
            .map(account_row)
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(existing) = linked.into_iter().find(|row| {
            row.bank_code == account.bank_code
                && row.currency == account.currency
                && row.number_hash == account.number_hash
        }) {
            transaction.commit().await?;
            return Ok(LinkBankAccount::Existing(existing));
        }
        let count: i64 = sqlx::query(
            "SELECT COUNT(*) FROM linked_bank_accounts WHERE user_id = $1 \
             AND removed_at_ms IS NULL",
        )
        .bind(account.user_id)
        .fetch_one(&mut *transaction)
        .await?
        .try_get(0)?;
        if usize::try_from(count).unwrap_or(usize::MAX) >= LINKED_BANK_ACCOUNTS_MAX {
            transaction.rollback().await?;
            return Ok(LinkBankAccount::TooMany);
        }
        sqlx::query(
            "INSERT INTO linked_bank_accounts (id, user_id, bank_code, currency, alias, \
             masked_number, number_hash, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(account.id)
        .bind(account.user_id)
        .bind(account.bank_code)
        .bind(account.currency)
        .bind(account.alias)
        .bind(account.masked_number)
        .bind(account.number_hash)
        .bind(account.created_at_ms)
        .execute(&mut *transaction)
        .await?;
        let query = format!("SELECT {COLUMNS} FROM linked_bank_accounts WHERE id = $1");
        let row = account_row(
            &sqlx::query(&query)
                .bind(account.id)
                .fetch_one(&mut *transaction)
                .await?,
        )?;
        transaction.commit().await?;
        Ok(LinkBankAccount::Linked(row))
    }

    /// The accounts a person has linked and not removed, oldest first.
    pub async fn bank_accounts_of(&self, user_id: &str) -> Result<Vec<BankAccountRow>, StoreError> {
        let query = format!(
            "SELECT {COLUMNS} FROM linked_bank_accounts WHERE user_id = $1 \
             AND removed_at_ms IS NULL ORDER BY created_at_ms, id"
        );
        sqlx::query(&query)
            .bind(user_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(account_row)
            .collect()
    }

    /// A linked account by id, removed or not.
    pub async fn bank_account(&self, id: &str) -> Result<Option<BankAccountRow>, StoreError> {
        let query = format!("SELECT {COLUMNS} FROM linked_bank_accounts WHERE id = $1");
        sqlx::query(&query)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(account_row)
            .transpose()
    }

    /// Unlinks `user_id`'s account `id`; `false` when it is not theirs or was removed before.
    /// Operations that used it keep pointing at it.
    pub async fn remove_bank_account(
        &self,
        user_id: &str,
        id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE linked_bank_accounts SET removed_at_ms = $1 WHERE id = $2 AND user_id = $3 \
             AND removed_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(id)
        .bind(user_id)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1)
    }

    /// Records a deposit from or a withdrawal to a linked account as a pending operation, as
    /// [`Db::begin_payment`] does (with its idempotency key, under the person's row lock; they
    /// count toward no person-to-person limit), with the account it uses, in one transaction.
    ///
    /// # Panics
    /// When `operation.counts_toward_limits`.
    pub async fn begin_bank_account_operation(
        &self,
        operation: &NewOperation<'_>,
        bank_account_id: &str,
        hold_timeout_s: u32,
    ) -> Result<BeginPayment<()>, StoreError> {
        assert!(
            !operation.counts_toward_limits,
            "moving one's own money counts toward no person-to-person limit"
        );
        let windows = LimitWindows {
            day_start_ms: 0,
            month_start_ms: 0,
        };
        let (_turn, mut transaction) = self.begin_write().await?;
        let begun = begin_payment_in(&mut transaction, operation, windows, |_| Ok(())).await?;
        if let BeginPayment::Started(row) = &begun {
            sqlx::query(
                "INSERT INTO bank_account_operations (operation_id, bank_account_id, \
                 hold_timeout_s, created_at_ms) VALUES ($1, $2, $3, $4)",
            )
            .bind(&row.id)
            .bind(bank_account_id)
            .bind(i64::from(hold_timeout_s))
            .bind(operation.created_at_ms)
            .execute(&mut *transaction)
            .await?;
        }
        if matches!(begun, BeginPayment::Refused(())) {
            transaction.rollback().await?;
        } else {
            transaction.commit().await?;
        }
        Ok(begun)
    }

    /// The linked account of a deposit or withdrawal; `None` for any other operation.
    pub async fn bank_account_operation(
        &self,
        operation_id: &str,
    ) -> Result<Option<BankAccountOperationRow>, StoreError> {
        let row = sqlx::query(
            "SELECT operation_id, bank_account_id, hold_timeout_s, created_at_ms \
             FROM bank_account_operations WHERE operation_id = $1",
        )
        .bind(operation_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            let timeout: i64 = row.try_get("hold_timeout_s")?;
            Ok(BankAccountOperationRow {
                operation_id: row.try_get("operation_id")?,
                bank_account_id: row.try_get("bank_account_id")?,
                hold_timeout_s: u32::try_from(timeout).map_err(|_| {
                    StoreError::Corrupt("plazo de retención fuera de rango".to_owned())
                })?,
                created_at_ms: row.try_get("created_at_ms")?,
            })
        })
        .transpose()
    }
}
