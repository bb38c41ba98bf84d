//! Errors of the search index, with messages in Spanish for the people who read them.

use std::path::PathBuf;

/// What can go wrong when indexing or searching articles.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// The user's query is longer than the index accepts.
    #[error("la búsqueda tiene {chars} caracteres; el máximo es {max}")]
    QueryTooLong {
        /// Characters in the query.
        chars: usize,
        /// Most characters accepted.
        max: usize,
    },
    /// The user's query has more words than the index accepts.
    #[error("la búsqueda tiene {terms} palabras; el máximo es {max}")]
    TooManyTerms {
        /// Words found in the query.
        terms: usize,
        /// Most words accepted.
        max: usize,
    },
    /// More results were asked for than one page may hold.
    #[error("se pidieron {requested} resultados; el máximo es {max}")]
    LimitTooLarge {
        /// Results asked for.
        requested: usize,
        /// Most results per request.
        max: usize,
    },
    /// An article's text is larger than the index accepts.
    #[error("el texto del artículo {id} ocupa {bytes} bytes; el máximo es {max}")]
    ArticleTooLarge {
        /// The article.
        id: u64,
        /// Size of its text in bytes (UTF-8).
        bytes: usize,
        /// Most bytes accepted.
        max: usize,
    },
    /// An article's title is longer than the index accepts.
    #[error("el título del artículo {id} ocupa {bytes} bytes; el máximo es {max}")]
    TitleTooLong {
        /// The article.
        id: u64,
        /// Size of its title in bytes (UTF-8).
        bytes: usize,
        /// Most bytes accepted.
        max: usize,
    },
    /// An article came without a title.
    #[error("el artículo {id} no tiene título")]
    EmptyTitle {
        /// The article.
        id: u64,
    },
    /// The index directory could not be opened or created.
    #[error("no se pudo abrir el índice de búsqueda en {path}: {reason}")]
    Open {
        /// The directory.
        path: PathBuf,
        /// What the storage layer said.
        reason: String,
    },
    /// The index itself failed (storage, corruption, a writer that died).
    #[error("fallo del índice de búsqueda: {0}")]
    Index(#[from] tantivy::TantivyError),
}
