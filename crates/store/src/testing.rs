//! Fresh databases for tests: an SQLite file in a temporary folder, or a PostgreSQL schema of
//! its own inside the database that `CEIBA_TEST_POSTGRES_URL` names. The harness in
//! `ceiba-testkit` decides which engines a test runs on.

use std::path::Path;

use rand::Rng;

use crate::db::{Db, PoolSettings};
use crate::error::StoreError;
use crate::url::DatabaseUrl;

/// A PostgreSQL schema created for one test and dropped by [`PostgresSchema::drop_schema`].
#[derive(Debug)]
pub struct PostgresSchema {
    admin: Db,
    schema: String,
    url: DatabaseUrl,
}

impl PostgresSchema {
    /// Creates an empty schema with a random name in the database `admin_url` names, and a URL
    /// whose connections see only that schema.
    pub async fn create(admin_url: &DatabaseUrl) -> Result<PostgresSchema, StoreError> {
        let settings = PoolSettings {
            connections_max: 1,
            ..PoolSettings::default()
        };
        let admin = Db::connect(admin_url, settings).await?;
        let schema = format!("ceiba_test_{:016x}", rand::rng().random::<u64>());
        // The name is ours and made of [a-z0-9_], so it is safe to splice into DDL.
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(admin.pool())
            .await?;
        let url = admin_url.with_query_pair("options", &format!("-c search_path={schema}"));
        Ok(PostgresSchema { admin, schema, url })
    }

    /// The URL to give the code under test (the binary's `--database-url`, or [`Db::connect`]).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.schema
    }

    pub async fn drop_schema(self) -> Result<(), StoreError> {
        sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.schema))
            .execute(self.admin.pool())
            .await?;
        self.admin.close().await;
        Ok(())
    }
}

/// Opens a fresh, migrated embedded database in `dir`.
/// An active citizen made directly in storage, with id `u` + the phone's digits and a cheap
/// password hash: for tests that need a person to hang records on.
pub async fn active_citizen(db: &Db, phone: &str) -> Result<String, StoreError> {
    use ceiba_identity::{Argon2Config, CredentialHasher, Password, PhoneNumber, Role};
    let hasher = CredentialHasher::new(Argon2Config::INSECURE_FOR_TESTS)
        .expect("the test parameters of Argon2 are valid");
    let password = Password::parse("caballo-correcto-bateria").expect("a valid test password");
    let hash = hasher.hash(&password, &mut rand::rng());
    let id = format!("u{}", phone.trim_start_matches('+'));
    db.register_user(
        &crate::NewUser {
            id: &id,
            phone: &PhoneNumber::parse(phone).expect("a test's phone number is valid"),
            display_name: "Ana Pérez",
            password_hash: &hash,
            status: crate::UserStatus::Active,
            roles: &[Role::Citizen],
        },
        None,
        None,
        0,
    )
    .await?;
    Ok(id)
}

pub async fn fresh_sqlite(dir: &Path) -> Result<Db, StoreError> {
    let db = Db::open_embedded(dir, PoolSettings::default()).await?;
    db.migrate().await?;
    Ok(db)
}

/// Opens a fresh, migrated database in a new PostgreSQL schema.
pub async fn fresh_postgres(admin_url: &DatabaseUrl) -> Result<(Db, PostgresSchema), StoreError> {
    let schema = PostgresSchema::create(admin_url).await?;
    let db = Db::connect(schema.url(), PoolSettings::default()).await?;
    db.migrate().await?;
    Ok((db, schema))
}

/// What an attacker with write access to the database could do to the audit log, for tests
/// that prove `ceiba audit verify` catches it. Each drops the append-only triggers first, as
/// such an attacker could.
pub mod tamper {
    use crate::db::{Db, Engine};
    use crate::error::StoreError;

    async fn drop_guards(db: &Db) -> Result<(), StoreError> {
        let statements: &[&str] = match db.engine() {
            Engine::Sqlite => &[
                "DROP TRIGGER IF EXISTS audit_entries_append_only_update",
                "DROP TRIGGER IF EXISTS audit_entries_append_only_delete",
            ],
            Engine::Postgres => {
                &["DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries"]
            }
        };
        for statement in statements {
            sqlx::query(statement).execute(db.pool()).await?;
        }
        Ok(())
    }

    /// Replaces an entry's data, leaving its stored hashes as they were.
    pub async fn alter_entry_data(db: &Db, index: u64, data: &[u8]) -> Result<(), StoreError> {
        drop_guards(db).await?;
        sqlx::query("UPDATE audit_entries SET data = $1 WHERE entry_index = $2")
            .bind(data.to_vec())
            .bind(i64::try_from(index).expect("small index"))
            .execute(db.pool())
            .await?;
        Ok(())
    }

    /// Removes one entry.
    pub async fn delete_entry(db: &Db, index: u64) -> Result<(), StoreError> {
        drop_guards(db).await?;
        sqlx::query("DELETE FROM audit_entries WHERE entry_index = $1")
            .bind(i64::try_from(index).expect("small index"))
            .execute(db.pool())
            .await?;
        Ok(())
    }

    /// Swaps the positions of two entries (each row keeps its own hashes).
    pub async fn swap_entries(db: &Db, first: u64, second: u64) -> Result<(), StoreError> {
        drop_guards(db).await?;
        let parking = -1_i64;
        let (first, second) = (
            i64::try_from(first).expect("small index"),
            i64::try_from(second).expect("small index"),
        );
        for (from, to) in [(first, parking), (second, first), (parking, second)] {
            sqlx::query("UPDATE audit_entries SET entry_index = $1 WHERE entry_index = $2")
                .bind(to)
                .bind(from)
                .execute(db.pool())
                .await?;
        }
        Ok(())
    }

    /// Tries to change an entry without removing the guards; returns the database's refusal.
    pub async fn try_update_entry(db: &Db, index: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE audit_entries SET recorded_at_ms = 0 WHERE entry_index = $1")
            .bind(i64::try_from(index).expect("small index"))
            .execute(db.pool())
            .await?;
        Ok(())
    }

    /// Tries to remove an entry without removing the guards; returns the database's refusal.
    pub async fn try_delete_entry(db: &Db, index: u64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM audit_entries WHERE entry_index = $1")
            .bind(i64::try_from(index).expect("small index"))
            .execute(db.pool())
            .await?;
        Ok(())
    }

    /// Tries to change a ledger journal record; returns the database's refusal.
    pub async fn try_update_ledger_record(db: &Db, sequence: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE ledger_journal SET record = record WHERE sequence = $1")
            .bind(i64::try_from(sequence).expect("small sequence"))
            .execute(db.pool())
            .await?;
        Ok(())
    }

    /// Tries to remove a ledger journal record; returns the database's refusal.
    pub async fn try_delete_ledger_record(db: &Db, sequence: u64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM ledger_journal WHERE sequence = $1")
            .bind(i64::try_from(sequence).expect("small sequence"))
            .execute(db.pool())
            .await?;
        Ok(())
    }
}
