use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{Connection, Row};

use crate::error::StoreError;
use crate::identity_cache::IdentityCache;
use crate::payment_batches::PaymentBatches;
use crate::url::DatabaseUrl;

/// The file that holds the embedded database inside the data folder.
pub const EMBEDDED_DATABASE_FILE: &str = "ceiba.sqlite3";

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The two database engines Ceiba runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// Embedded, one data folder, the default.
    Sqlite,
    /// Shared by many `ceiba serve` processes.
    Postgres,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgresql",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Pool limits; every one of them bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    pub connections_max: u32,
    /// How long to wait for a connection (and for the first one at start) before giving up.
    pub connect_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            connections_max: 8,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// What the engine promises about a commit surviving a crash, read back from the engine itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Durability {
    pub engine: Engine,
    /// SQLite: `journal_mode`; PostgreSQL: `fsync`.
    pub journal: String,
    /// SQLite: `synchronous` (2 = FULL); PostgreSQL: `synchronous_commit`.
    pub sync_on_commit: String,
}

impl Durability {
    /// Whether an acknowledged commit survives a power cut on this configuration.
    pub fn survives_power_loss(&self) -> bool {
        match self.engine {
            Engine::Sqlite => self.journal == "wal" && self.sync_on_commit == "2",
            Engine::Postgres => self.journal == "on" && self.sync_on_commit != "off",
        }
    }
}

/// A handle to the database: a bounded connection pool and the engine behind it.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    /// Where write transactions run. With SQLite, a pool of one connection: a connection
    /// forgets its page cache whenever *another* connection has committed, so if writes moved
    /// from connection to connection every transaction would start cold and read its pages
    /// again; on one connection they stay warm (readers never commit anything). With
    /// PostgreSQL, the same pool as reads.
    write_pool: AnyPool,
    engine: Engine,
    url: DatabaseUrl,
    /// SQLite takes one writer at a time and makes the others wait by sleeping and polling,
    /// which under load turns into tails of hundreds of milliseconds; queueing this process's
    /// write transactions here first makes the wait fair and short. Unused with PostgreSQL.
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// The tasks that write Pagos' operations in batches, started on first use.
    payment_batches: std::sync::Arc<std::sync::OnceLock<PaymentBatches>>,
    /// Sessions and people read lately (see `identity_cache.rs`).
    identity_cache: std::sync::Arc<IdentityCache>,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("engine", &self.engine)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens (creating when missing) the embedded SQLite database inside `data_dir`.
    ///
    /// The folder is created and proven writable first, so a bad folder is reported as such
    /// rather than as an obscure SQLite error.
    pub async fn open_embedded(data_dir: &Path, settings: PoolSettings) -> Result<Db, StoreError> {
        let data_dir = prepare_data_dir(data_dir)?;
        let url = DatabaseUrl::sqlite_file(&data_dir.join(EMBEDDED_DATABASE_FILE))?;
        Db::connect(&url, settings).await
    }

    /// Connects to the database the URL names and checks that it answers.
    pub async fn connect(url: &DatabaseUrl, settings: PoolSettings) -> Result<Db, StoreError> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);

        let engine = url.engine();
        let mut options = AnyPoolOptions::new()
            .max_connections(settings.connections_max)
            .acquire_timeout(settings.connect_timeout);
        if engine == Engine::Sqlite {
            options = options.after_connect(|connection, _meta| {
                Box::pin(async move {
                    // WAL lets readers run beside the one writer; FULL syncs the WAL on every
                    // commit, so an acknowledged write survives a power cut.
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = FULL",
                        "PRAGMA foreign_keys = ON",
                        "PRAGMA busy_timeout = 5000",
                        // Statement journals (the undo of one statement inside a transaction)
                        // and temporary tables never need to survive a crash.
                        "PRAGMA temp_store = MEMORY",
                    ] {
                        sqlx::query(pragma).execute(&mut *connection).await?;
                    }
                    Ok(())
                })
            });
        }
        // One direct connection first: a pool that cannot connect only says it timed out, while
        // the driver says why (refused, unknown host, bad password).
        let connect_error = |source| StoreError::Connect {
            url: url.to_string(),
            source,
        };
        let first = tokio::time::timeout(
            settings.connect_timeout,
            sqlx::AnyConnection::connect(url.expose()),
        )
        .await
        .map_err(|_elapsed| connect_error(sqlx::Error::PoolTimedOut))?
        .map_err(connect_error)?;
        first.close().await.map_err(connect_error)?;
        let write_options = options.clone().max_connections(1);
        let pool = options.connect(url.expose()).await.map_err(connect_error)?;
        // SQLite: every write transaction of this process on one connection (see
        // `write_pool`). PostgreSQL: the one pool.
        let write_pool = match engine {
            Engine::Sqlite => write_options
                .connect(url.expose())
                .await
                .map_err(connect_error)?,
            Engine::Postgres => pool.clone(),
        };
        Ok(Db {
            pool,
            write_pool,
            engine,
            url: url.clone(),
            write_gate: std::sync::Arc::new(tokio::sync::Mutex::new(())),
            payment_batches: std::sync::Arc::default(),
            identity_cache: std::sync::Arc::default(),
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The URL with its password hidden.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Waits for this process's turn to write (SQLite only); hold the guard until the write
    /// commits.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.engine {
            Engine::Sqlite => Some(self.write_gate.lock().await),
            Engine::Postgres => None,
        }
    }

    /// The batch writers of Pagos' operations, started on first use.
    pub(crate) fn payment_batches(&self) -> &PaymentBatches {
        self.payment_batches
            .get_or_init(|| PaymentBatches::start(&self.detached()))
    }

    /// The same database without this handle's batch writers, for those writers' own tasks: a
    /// task holding a full handle would keep itself alive forever.
    fn detached(&self) -> Db {
        Db {
            pool: self.pool.clone(),
            write_pool: self.write_pool.clone(),
            engine: self.engine,
            url: self.url.clone(),
            write_gate: self.write_gate.clone(),
            payment_batches: std::sync::Arc::default(),
            identity_cache: self.identity_cache.clone(),
        }
    }

    pub(crate) fn identity_cache(&self) -> &IdentityCache {
        &self.identity_cache
    }

    /// A write transaction, begun in this process's turn (see [`Db::write_turn`]).
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<
        (
            Option<tokio::sync::MutexGuard<'_, ()>>,
            sqlx::Transaction<'static, sqlx::Any>,
        ),
        StoreError,
    > {
        let turn = self.write_turn().await;
        // SQLite: take the write lock at BEGIN. A deferred transaction that reads first and
        // writes after another connection committed (a session touched, another process) fails
        // at once with SQLITE_BUSY, whatever the busy timeout; the crash drill met it on edits.
        let transaction = match self.engine {
            Engine::Sqlite => match self.write_pool.begin_with("BEGIN IMMEDIATE").await {
                Err(sqlx::Error::InvalidSavePointStatement) => {
                    // A COMMIT refused for a full or read-only disk ends the transaction inside
                    // SQLite, but sqlx still counts it open (its ROLLBACK then fails), so that
                    // connection could never begin again and every write would fail until a
                    // restart (the disk-fault drill met it). Close it; the pool opens a fresh one.
                    tracing::warn!("closing a write connection left inside a failed transaction");
                    self.write_pool.acquire().await?.close().await?;
                    self.write_pool.begin_with("BEGIN IMMEDIATE").await?
                }
                begun => begun?,
            },
            Engine::Postgres => self.write_pool.begin().await?,
        };
        Ok((turn, transaction))
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool for a write outside [`Db::begin_write`] (take [`Db::write_turn`] first).
    pub(crate) fn write_pool(&self) -> &AnyPool {
        &self.write_pool
    }

    /// Applies every pending migration for this engine, and says how many it applied.
    ///
    /// Safe when several processes start at once: the count and the migrations run under one
    /// lock, a PostgreSQL advisory lock per schema or an exclusive lock on a file beside the
    /// SQLite database, so each migration is applied, and reported, exactly once.
    pub async fn migrate(&self) -> Result<MigrationReport, StoreError> {
        let mut connection = self.pool.acquire().await?;
        match self.engine {
            Engine::Sqlite => {
                let _lock = self.lock_sqlite_migrations().await?;
                migrate_locked(&SQLITE_MIGRATIONS, &mut connection).await
            }
            Engine::Postgres => {
                sqlx::query(POSTGRES_MIGRATION_LOCK)
                    .execute(&mut *connection)
                    .await?;
                let outcome = migrate_locked(&POSTGRES_MIGRATIONS, &mut connection).await;
                // The lock belongs to the session: release it before the connection is reused.
                sqlx::query(POSTGRES_MIGRATION_UNLOCK)
                    .execute(&mut *connection)
                    .await?;
                outcome
            }
        }
    }

    /// Blocks until this process holds the exclusive lock on `<database file>.migrate-lock`.
    async fn lock_sqlite_migrations(&self) -> Result<std::fs::File, StoreError> {
        let path = self
            .url
            .sqlite_path()
            .map(|path| path.with_extension("migrate-lock"))
            .ok_or_else(|| StoreError::DataDir {
                path: PathBuf::from(self.url.to_string()),
                reason: "la URL de SQLite no nombra un archivo".to_owned(),
            })?;
        let locked = tokio::task::spawn_blocking(move || {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|error| (path.clone(), error))?;
            file.lock().map_err(|error| (path, error))?;
            Ok::<_, (PathBuf, std::io::Error)>(file)
        })
        .await
        .expect("the lock task does not panic");
        locked.map_err(|(path, error)| StoreError::DataDir {
            path,
            reason: format!("no se pudo bloquear para migrar ({error})"),
        })
    }
    /// Proves the database answers a query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let row = sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        let one: i32 = row.try_get(0)?;
        debug_assert_eq!(one, 1);
        Ok(())
    }

    /// Reads back the durability settings in force on a live connection.
    pub async fn durability(&self) -> Result<Durability, StoreError> {
        let (journal_query, sync_query) = match self.engine {
            Engine::Sqlite => ("PRAGMA journal_mode", "PRAGMA synchronous"),
            Engine::Postgres => ("SHOW fsync", "SHOW synchronous_commit"),
        };
        let mut connection = self.pool.acquire().await?;
        let journal_row = sqlx::query(journal_query)
            .fetch_one(&mut *connection)
            .await?;
        let sync_row = sqlx::query(sync_query).fetch_one(&mut *connection).await?;
        let journal = scalar_text(&journal_row)?;
        let sync_on_commit = scalar_text(&sync_row)?;
        Ok(Durability {
            engine: self.engine,
            journal,
            sync_on_commit,
        })
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.write_pool.close().await;
        self.pool.close().await;
    }
}

/// The newest migration this binary carries for `engine`.
pub fn latest_migration_version(engine: Engine) -> i64 {
    let migrator = match engine {
        Engine::Sqlite => &SQLITE_MIGRATIONS,
        Engine::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator
        .iter()
        .map(|migration| migration.version)
        .max()
        .unwrap_or(0)
}

/// One advisory lock per schema, so test schemas (and tenants, if ever) do not wait for each
/// other. The migrator takes its own lock too; ours also covers the counting around it.
const POSTGRES_MIGRATION_LOCK: &str =
    "SELECT pg_advisory_lock(hashtext('ceiba-migrate:' || current_schema()))";
const POSTGRES_MIGRATION_UNLOCK: &str =
    "SELECT pg_advisory_unlock(hashtext('ceiba-migrate:' || current_schema()))";

async fn migrate_locked(
    migrator: &Migrator,
    connection: &mut sqlx::pool::PoolConnection<sqlx::Any>,
) -> Result<MigrationReport, StoreError> {
    let before = applied_migrations(connection).await.unwrap_or(0);
    migrator.run_direct(&mut **connection).await?;
    let after = applied_migrations(connection).await?;
    Ok(MigrationReport {
        applied_now: after.saturating_sub(before),
        applied_total: after,
        known: migrator.iter().count(),
    })
}

/// How many migrations the database records as applied; an error before the first migration
/// (the bookkeeping table does not exist yet).
async fn applied_migrations(
    connection: &mut sqlx::pool::PoolConnection<sqlx::Any>,
) -> Result<usize, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
        .fetch_one(&mut **connection)
        .await?;
    let count: i64 = row.try_get(0)?;
    Ok(usize::try_from(count).unwrap_or(0))
}

/// How many migrations a [`Db::migrate`] call applied and how many the database now has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationReport {
    pub applied_now: usize,
    pub applied_total: usize,
    pub known: usize,
}

/// Reads a one-column answer that may come back as text or as an integer.
fn scalar_text(row: &sqlx::any::AnyRow) -> Result<String, StoreError> {
    if let Ok(text) = row.try_get::<String, _>(0) {
        return Ok(text.to_lowercase());
    }
    let number: i64 = row.try_get(0)?;
    Ok(number.to_string())
}

/// Creates the folder, proves it takes writes, and returns its absolute path (a URL cannot
/// carry a relative one).
fn prepare_data_dir(data_dir: &Path) -> Result<PathBuf, StoreError> {
    let refuse = |reason: String| StoreError::DataDir {
        path: data_dir.to_path_buf(),
        reason,
    };
    if data_dir.exists() && !data_dir.is_dir() {
        return Err(refuse("existe y no es una carpeta".to_owned()));
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|error| refuse(format!("no se pudo crear ({error})")))?;
    // Prove the folder takes writes before SQLite tries, so the error names the real cause.
    let probe: PathBuf = data_dir.join(".ceiba-write-probe");
    std::fs::write(&probe, b"ok")
        .map_err(|error| refuse(format!("no admite escritura ({error})")))?;
    std::fs::remove_file(&probe)
        .map_err(|error| refuse(format!("no se pudo borrar un archivo de prueba ({error})")))?;
    std::fs::canonicalize(data_dir)
        .map_err(|error| refuse(format!("no se pudo resolver la ruta ({error})")))
}
