use std::path::PathBuf;

/// What kind of failure a [`StoreError`] is, for callers that map errors to answers
/// (the web crate turns `Unavailable` into 503, the binary into an exit status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration names something that cannot work (bad URL, unusable folder).
    InvalidConfiguration,
    /// The database could not be reached or did not answer in time.
    Unavailable,
    /// Migrations could not be applied.
    Migration,
    /// What was asked for does not exist.
    NotFound,
    /// The storage refuses to write: disk full, read-only, an I/O error. Nothing was applied,
    /// and the same request may succeed once an operator fixes the disk.
    StorageFault,
    /// A query failed for another reason; a bug or a broken database.
    Internal,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("la URL de base de datos «{url}» no es válida: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("la carpeta de datos «{}» no se puede usar: {reason}", path.display())]
    DataDir { path: PathBuf, reason: String },
    #[error("no se pudo conectar con la base de datos {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("no se pudieron aplicar las migraciones: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("la base de datos no respondió: {0}")]
    Query(#[from] sqlx::Error),
    #[error("los datos guardados no son coherentes: {0}")]
    Corrupt(String),
    #[error("{0}")]
    NotFound(String),
    #[error("no se pudo leer o escribir «{}»: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// SQLite's online backup (or the check of its copy) failed.
    #[error("la copia de SQLite falló: {0}")]
    Copy(String),
    /// A failure shared by every request of a batch written together (see
    /// `payment_batches.rs`), with the kind of the error that caused it.
    #[error("{message}")]
    Shared { kind: ErrorKind, message: String },
}

impl StoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::InvalidUrl { .. } | StoreError::DataDir { .. } => {
                ErrorKind::InvalidConfiguration
            }
            StoreError::Connect { .. } => ErrorKind::Unavailable,
            StoreError::Migrate(_) => ErrorKind::Migration,
            StoreError::Corrupt(_) | StoreError::Copy(_) => ErrorKind::Internal,
            StoreError::File { .. } => ErrorKind::Unavailable,
            StoreError::NotFound(_) => ErrorKind::NotFound,
            StoreError::Shared { kind, .. } => *kind,
            StoreError::Query(error) if storage_fault(error) => ErrorKind::StorageFault,
            StoreError::Query(error) => match error {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed => ErrorKind::Unavailable,
                _ => ErrorKind::Internal,
            },
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::Copy(error.to_string())
    }
}

/// Whether the database refused because of its storage rather than the query: SQLite's
/// READONLY, IOERR, FULL and CANTOPEN (by primary code, the low byte of the extended one);
/// PostgreSQL's classes 53 (insufficient resources: disk full) and 58 (system error: I/O), and
/// a read-only transaction (a standby, or `default_transaction_read_only`).
fn storage_fault(error: &sqlx::Error) -> bool {
    use sqlx::error::DatabaseError;
    let sqlx::Error::Database(database) = error else {
        return false;
    };
    if let Some(sqlite) = database.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
        let primary = sqlite
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .map(|code| code & 0xff);
        return matches!(primary, Some(8 | 10 | 13 | 14));
    }
    if let Some(postgres) = database.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        let code = postgres.code();
        return code.starts_with("53") || code.starts_with("58") || code == "25006";
    }
    false
}
