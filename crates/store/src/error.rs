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
            StoreError::Corrupt(_) => ErrorKind::Internal,
            StoreError::NotFound(_) => ErrorKind::NotFound,
            StoreError::Shared { kind, .. } => *kind,
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
