//! The article index: writes, commits, searches and title suggestions.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, TantivyDocument,
    Term,
};

use crate::error::SearchError;
use crate::query::{QueryPlan, plan_query};
use crate::schema::{self, Fields};
use crate::snippet::{fallback_html, match_window, snippet_html};

/// Most characters in a search query or a suggestion prefix.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words in a search query.
pub const MAX_QUERY_TERMS: usize = 16;
/// Most hits or suggestions one call returns.
pub const MAX_LIMIT: usize = 100;
/// Largest article text accepted, in bytes (UTF-8).
pub const MAX_ARTICLE_TEXT_BYTES: usize = 2 * 1024 * 1024;
/// Longest title accepted, in bytes (MediaWiki's own limit is 255).
pub const MAX_TITLE_BYTES: usize = 1024;

/// How much of an article's text is stored to cut snippets from. The whole text would
/// double the index for little gain: most matches of a top hit lie in its first pages.
const EXCERPT_BYTES: usize = 64 * 1024;
/// Length of a snippet, in characters.
const SNIPPET_CHARS: usize = 180;
/// Writer memory for an on-disk index (shared by its threads) and for an in-memory one.
const DISK_WRITER_HEAP_BYTES: usize = 128 * 1024 * 1024;
const MEMORY_WRITER_HEAP_BYTES: usize = 20 * 1024 * 1024;

/// An article as the index sees it: plain text, markup already stripped by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    /// Stable id (the wiki's page id); an upsert with the same id replaces the article.
    pub id: u64,
    /// Title as shown to people.
    pub title: String,
    /// Plain text of the article.
    pub text: String,
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The article's id.
    pub id: u64,
    /// The article's title.
    pub title: String,
    /// Relevance (BM25 with boosts); only meaningful to compare hits of one search.
    pub score: f32,
    /// A fragment of the text, HTML-escaped, with the matched words in `<b>…</b>` (the
    /// only tags it contains).
    pub snippet_html: String,
}

/// One title suggestion for autocomplete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The article's id.
    pub id: u64,
    /// The article's title.
    pub title: String,
}

/// A full-text index of articles: one writer, any number of concurrent readers.
///
/// Changes ([`upsert`](Self::upsert), [`delete`](Self::delete)) are seen by searches after
/// [`commit`](Self::commit), which also reloads the reader, so a search that starts after
/// `commit` returns sees them.
pub struct ArticleIndex {
    fields: Fields,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    /// The files on disk, for an index kept there: see [`ArticleIndex::commit`].
    mmap: Option<MmapDirectory>,
}

impl fmt::Debug for ArticleIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArticleIndex")
            .field("documents", &self.reader.searcher().num_docs())
            .finish_non_exhaustive()
    }
}

impl ArticleIndex {
    /// Opens the index kept in `dir`, creating the directory and an empty index if needed.
    ///
    /// # Errors
    /// [`SearchError::Open`] when the directory cannot be used, holds an index of another
    /// schema, or another writer holds its lock.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        let open_error = |reason: String| SearchError::Open {
            path: dir.to_path_buf(),
            reason,
        };
        std::fs::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
        let directory = MmapDirectory::open(dir).map_err(|e| open_error(e.to_string()))?;
        let (schema, fields) = schema::build_schema();
        let index = Index::builder()
            .schema(schema)
            .open_or_create(directory.clone())
            .map_err(|e| open_error(e.to_string()))?;
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .clamp(1, 2);
        let mut opened = Self::with_index(&index, fields, threads, DISK_WRITER_HEAP_BYTES)
            .map_err(|e| open_error(e.to_string()))?;
        opened.mmap = Some(directory);
        Ok(opened)
    }

    /// A new, empty index held in memory (tests, small temporary indexes).
    ///
    /// # Errors
    /// [`SearchError::Index`] if the writer cannot start (no thread could be spawned).
    pub fn in_memory() -> Result<Self, SearchError> {
        let (schema, fields) = schema::build_schema();
        let index = Index::create_in_ram(schema);
        Self::with_index(&index, fields, 1, MEMORY_WRITER_HEAP_BYTES)
    }

    fn with_index(
        index: &Index,
        fields: Fields,
        threads: usize,
        heap_bytes: usize,
    ) -> Result<Self, SearchError> {
        schema::register_analyzers(index);
        let writer = index.writer_with_num_threads(threads, heap_bytes)?;
        // Manual: a reload right after each commit makes the edit visible at once,
        // instead of "some time later" from a file watcher.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            fields,
            reader,
            writer: Mutex::new(writer),
            mmap: None,
        })
    }

    fn writer(&self) -> MutexGuard<'_, IndexWriter> {
        // A panic while holding the lock leaves the writer as consistent as tantivy keeps
        // it (uncommitted work is simply lost on error), so carry on with it.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds an article, or replaces the article with the same id. Visible after
    /// [`commit`](Self::commit).
    ///
    /// # Errors
    /// [`SearchError::EmptyTitle`], [`SearchError::TitleTooLong`],
    /// [`SearchError::ArticleTooLarge`] for articles outside the limits;
    /// [`SearchError::Index`] if the writer has failed.
    pub fn upsert(&self, article: &Article) -> Result<(), SearchError> {
        let id = article.id;
        if article.title.trim().is_empty() {
            return Err(SearchError::EmptyTitle { id });
        }
        if article.title.len() > MAX_TITLE_BYTES {
            return Err(SearchError::TitleTooLong {
                id,
                bytes: article.title.len(),
                max: MAX_TITLE_BYTES,
            });
        }
        if article.text.len() > MAX_ARTICLE_TEXT_BYTES {
            return Err(SearchError::ArticleTooLarge {
                id,
                bytes: article.text.len(),
                max: MAX_ARTICLE_TEXT_BYTES,
            });
        }
        let f = &self.fields;
        let title_chars = u64::try_from(article.title.chars().count()).unwrap_or(u64::MAX);
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.id, id);
        doc.add_text(f.title, &article.title);
        doc.add_text(f.title_words, &article.title);
        doc.add_text(f.title_key, schema::title_key_text(&article.title));
        doc.add_u64(f.title_chars, title_chars);
        doc.add_text(f.body, &article.text);
        doc.add_text(
            f.excerpt,
            prefix_at_char_boundary(&article.text, EXCERPT_BYTES),
        );
        let writer = self.writer();
        // The delete only touches documents added before it, so the new one survives.
        writer.delete_term(Term::from_field_u64(f.id, id));
        writer.add_document(doc)?;
        Ok(())
    }

    /// Removes the article with this id, if any. Visible after [`commit`](Self::commit).
    pub fn delete(&self, id: u64) {
        self.writer()
            .delete_term(Term::from_field_u64(self.fields.id, id));
    }

    /// Makes every change so far durable and visible to searches that start afterwards.
    ///
    /// One edit (upsert + commit) takes a few milliseconds on an in-memory index and tens
    /// of milliseconds on disk (fsync), well within the one second the wiki promises; see
    /// `BenchReport::edit_visible_ms`.
    ///
    /// # Errors
    /// [`SearchError::Index`] if the commit or the reload fails; the changes are then lost.
    pub fn commit(&self) -> Result<(), SearchError> {
        self.writer().commit()?;
        self.reader.reload()?;
        // tantivy's mmap directory remembers every file it ever mapped (a path and a weak
        // reference each) and forgets the dead ones only when asked for its cache's state.
        // Each commit writes new segment files, so without this the map grew with every edit:
        // about 2.5 MiB a minute in the soak, found with jemalloc's heap profile.
        if let Some(mmap) = &self.mmap {
            let _ = mmap.get_cache_info();
        }
        Ok(())
    }

    /// Number of articles visible to searches.
    #[must_use]
    pub fn num_articles(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The `limit` best articles for what a person typed, best first.
    ///
    /// The text is taken as words, never as query syntax: quotes, `AND`, `*` or brackets
    /// are just characters. Common Spanish words ("de", "la") are ignored unless the query
    /// has nothing else. Every other word must match, exactly, by stem, without accents,
    /// or, when the word is rare in the index and a close spelling is much more common,
    /// by that spelling (one edit for stems of 4–7 letters, two from 8 on). If no article
    /// has them all, articles with some of them are returned. Title matches weigh more,
    /// and a title equal to the whole query most.
    ///
    /// # Errors
    /// [`SearchError::QueryTooLong`], [`SearchError::TooManyTerms`],
    /// [`SearchError::LimitTooLarge`] beyond the limits; [`SearchError::Index`] on a
    /// storage failure.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        check_request(query, limit)?;
        let searcher = self.reader.searcher();
        let Some(plan) = plan_query(&searcher, &self.fields, query)? else {
            return Ok(Vec::new());
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        let QueryPlan {
            all_words,
            any_word,
        } = plan;
        let collector = TopDocs::with_limit(limit).order_by_score();
        let mut query: Box<dyn Query> = all_words;
        let mut top = searcher.search(&*query, &collector)?;
        if top.is_empty()
            && let Some(any_word) = any_word
        {
            query = any_word;
            top = searcher.search(&*query, &collector)?;
        }
        let mut snippets = SnippetGenerator::create(&searcher, &*query, self.fields.body)?;
        snippets.set_max_num_chars(SNIPPET_CHARS);
        let mut body_stems = HashSet::new();
        query.query_terms(&mut |term, _| {
            if term.field() == self.fields.body
                && let Some(stem) = term.value().as_str()
            {
                body_stems.insert(stem.to_owned());
            }
        });
        top.into_iter()
            .map(|(score, address)| {
                let stored = StoredArticle::load(&searcher, &self.fields, address)?;
                let (window_start, window) = match_window(&stored.excerpt, &body_stems);
                let snippet = snippets.snippet(window);
                let snippet_html = if snippet.highlighted().is_empty() {
                    fallback_html(&stored.excerpt, SNIPPET_CHARS)
                } else {
                    snippet_html(&snippet, window_start, stored.excerpt.len())
                };
                Ok(Hit {
                    id: stored.id,
                    title: stored.title,
                    score,
                    snippet_html,
                })
            })
            .collect()
    }

    /// Titles that start with `prefix` (ignoring case and accents), shortest first, then
    /// titles with a word starting with it ("Habana" suggests "La Habana"); for several
    /// words, each but the last must be a word of the title and the last a word's start.
    ///
    /// # Errors
    /// [`SearchError::QueryTooLong`], [`SearchError::LimitTooLarge`] beyond the limits;
    /// [`SearchError::TooManyTerms`] for too many words; [`SearchError::Index`] on a
    /// storage failure.
    pub fn suggest(&self, prefix: &str, limit: usize) -> Result<Vec<Suggestion>, SearchError> {
        check_request(prefix, limit)?;
        let mut folded = schema::folded_analyzer();
        let words = schema::tokens(&mut folded, prefix);
        if words.len() > MAX_QUERY_TERMS {
            return Err(SearchError::TooManyTerms {
                terms: words.len(),
                max: MAX_QUERY_TERMS,
            });
        }
        if words.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let f = &self.fields;
        let collector =
            TopDocs::with_limit(limit).order_by_fast_field::<u64>("title_chars", Order::Asc);

        let mut key_analyzer = schema::title_key_analyzer();
        let key = schema::tokens(&mut key_analyzer, &schema::title_key_text(prefix));
        let mut found: Vec<DocAddress> = Vec::with_capacity(limit);
        if let Some(key) = key.first() {
            let whole = prefix_query(Term::from_field_text(f.title_key, key));
            found.extend(
                searcher
                    .search(&whole, &collector)?
                    .into_iter()
                    .map(|(_, a)| a),
            );
        }
        if found.len() < limit {
            let last = words.len() - 1;
            let clauses = words
                .iter()
                .enumerate()
                .map(|(i, word)| {
                    let term = Term::from_field_text(f.title_words, word);
                    let clause: Box<dyn Query> = if i == last {
                        Box::new(prefix_query(term))
                    } else {
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic))
                    };
                    (Occur::Must, clause)
                })
                .collect();
            let by_word = BooleanQuery::new(clauses);
            let seen: HashSet<DocAddress> = found.iter().copied().collect();
            let more = searcher.search(&by_word, &collector)?;
            found.extend(
                more.into_iter()
                    .map(|(_, a)| a)
                    .filter(|a| !seen.contains(a))
                    .take(limit - found.len()),
            );
        }
        found
            .into_iter()
            .map(|address| {
                let stored = StoredArticle::load(&searcher, f, address)?;
                Ok(Suggestion {
                    id: stored.id,
                    title: stored.title,
                })
            })
            .collect()
    }
}

/// Terms starting with the given one: a Levenshtein prefix automaton at distance 0.
fn prefix_query(term: Term) -> FuzzyTermQuery {
    FuzzyTermQuery::new_prefix(term, 0, true)
}

fn check_request(text: &str, limit: usize) -> Result<(), SearchError> {
    if limit > MAX_LIMIT {
        return Err(SearchError::LimitTooLarge {
            requested: limit,
            max: MAX_LIMIT,
        });
    }
    let chars = text.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(SearchError::QueryTooLong {
            chars,
            max: MAX_QUERY_CHARS,
        });
    }
    Ok(())
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a char boundary.
fn prefix_at_char_boundary(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The stored fields of one indexed article.
struct StoredArticle {
    id: u64,
    title: String,
    excerpt: String,
}

impl StoredArticle {
    fn load(searcher: &Searcher, f: &Fields, address: DocAddress) -> Result<Self, SearchError> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        Ok(Self {
            id: doc
                .get_first(f.id)
                .and_then(|v| v.as_u64())
                .unwrap_or_default(),
            title: text(f.title),
            excerpt: text(f.excerpt),
        })
    }
}
