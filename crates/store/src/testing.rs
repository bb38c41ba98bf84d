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
