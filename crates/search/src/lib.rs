//! Full-text search for the Enciclopedia, on tantivy.
//!
//! [`ArticleIndex`] keeps one index of articles (id, title, plain text) and answers:
//! - [`ArticleIndex::search`]: ranked hits with a highlighted snippet. Spanish stemming
//!   ("casas" finds "casa"), accent folding both ways ("tecnologia" finds "tecnología")
//!   and typo tolerance ("sapato" finds "zapato");
//! - [`ArticleIndex::suggest`]: title autocomplete by prefix, accent- and case-insensitive.
//!
//! Writes go through one writer; [`ArticleIndex::commit`] makes them visible to the next
//! search at once (the reader is reloaded right after the commit).
//!
//! [`corpus`] generates realistic Spanish articles and [`mod@bench`] measures indexing speed and
//! query latency over them.

pub mod bench;
pub mod corpus;
mod error;
mod index;
mod query;
mod schema;
mod snippet;

pub use error::SearchError;
pub use index::{
    Article, ArticleIndex, Hit, MAX_ARTICLE_TEXT_BYTES, MAX_LIMIT, MAX_QUERY_CHARS,
    MAX_QUERY_TERMS, MAX_TITLE_BYTES, Suggestion,
};
