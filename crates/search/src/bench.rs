//! Measures indexing speed and query latency on a generated corpus (`ceiba bench wiki`).

use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{Article, ArticleIndex, SearchError, corpus};

/// Seed of the generated corpus and queries: runs are comparable.
const SEED: u64 = 2_024;
/// Hits per query, as on a results page.
const TOP: usize = 10;
/// Single edits timed from upsert to visible.
const EDITS: usize = 20;

/// What [`run`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// Articles indexed.
    pub articles: usize,
    /// Words in the corpus (whitespace-separated).
    pub corpus_words: u64,
    /// Seconds spent generating the corpus (not counted as indexing).
    pub generate_seconds: f64,
    /// Seconds spent indexing, final commit included.
    pub index_seconds: f64,
    /// Articles indexed per second.
    pub index_articles_per_second: f64,
    /// Size of the index on disk, in bytes.
    pub index_bytes: u64,
    /// Queries timed.
    pub queries: usize,
    /// Median latency of a top-10 search with snippets, in milliseconds.
    pub query_p50_ms: f64,
    /// 99th percentile of the same.
    pub query_p99_ms: f64,
    /// Slowest query.
    pub query_max_ms: f64,
    /// Share of queries with at least one hit.
    pub queries_with_hits: f64,
    /// Median latency of a title suggestion (top 10), in milliseconds.
    pub suggest_p50_ms: f64,
    /// 99th percentile of the same.
    pub suggest_p99_ms: f64,
    /// Median time from an upsert to the article being searchable (commit + reload).
    pub edit_visible_p50_ms: f64,
    /// Slowest of those edits.
    pub edit_visible_max_ms: f64,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "corpus: {} artículos, {} palabras (generado en {:.1} s)",
            self.articles, self.corpus_words, self.generate_seconds
        )?;
        writeln!(
            f,
            "indexación: {:.1} s, {:.0} artículos/s, índice de {:.1} MiB",
            self.index_seconds,
            self.index_articles_per_second,
            bytes_to_mib(self.index_bytes)
        )?;
        writeln!(
            f,
            "búsqueda (top {TOP}, con fragmentos): {} consultas, p50 {:.2} ms, p99 {:.2} ms, máx. {:.2} ms, {:.0} % con resultados",
            self.queries,
            self.query_p50_ms,
            self.query_p99_ms,
            self.query_max_ms,
            self.queries_with_hits * 100.0
        )?;
        writeln!(
            f,
            "autocompletado: p50 {:.2} ms, p99 {:.2} ms",
            self.suggest_p50_ms, self.suggest_p99_ms
        )?;
        write!(
            f,
            "edición visible (upsert + commit): p50 {:.1} ms, máx. {:.1} ms",
            self.edit_visible_p50_ms, self.edit_visible_max_ms
        )
    }
}

fn bytes_to_mib(bytes: u64) -> f64 {
    f64::from(u32::try_from(bytes / 1024).unwrap_or(u32::MAX)) / 1024.0
}

/// Latencies of searches, suggestions and single edits on an index.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryLatencies {
    /// Queries timed.
    pub queries: usize,
    /// Median latency of a top-10 search with snippets, in milliseconds.
    pub query_p50_ms: f64,
    /// 99th percentile of the same.
    pub query_p99_ms: f64,
    /// Slowest query.
    pub query_max_ms: f64,
    /// Share of queries with at least one hit.
    pub queries_with_hits: f64,
    /// Median latency of a title suggestion (top 10), in milliseconds.
    pub suggest_p50_ms: f64,
    /// 99th percentile of the same.
    pub suggest_p99_ms: f64,
    /// Median time from an upsert to the article being searchable (commit + reload).
    pub edit_visible_p50_ms: f64,
    /// Slowest of those edits.
    pub edit_visible_max_ms: f64,
}

/// Builds an index of `articles` generated articles in `dir` (which should be empty),
/// then times `queries` searches and suggestions and a few single edits
/// ([`measure_queries`]).
///
/// The corpus is generated in full before indexing starts, so that the indexing time is
/// the index's alone (the generator would otherwise compete for the same cores).
///
/// # Errors
/// Whatever the index reports ([`SearchError`]).
pub fn run(articles: usize, queries: usize, dir: &Path) -> Result<BenchReport, SearchError> {
    let index = ArticleIndex::open(dir)?;
    let started = Instant::now();
    let corpus: Vec<Article> = corpus::generate(articles, SEED).collect();
    let generate = started.elapsed();
    let corpus_words = corpus
        .iter()
        .map(|a| u64::try_from(a.text.split_whitespace().count()).unwrap_or(0))
        .sum();

    let started = Instant::now();
    for article in &corpus {
        index.upsert(article)?;
    }
    index.commit()?;
    let indexing = started.elapsed();
    drop(corpus);

    let latencies = measure_queries(&index, queries)?;
    let index_seconds = indexing.as_secs_f64();
    let count = f64::from(u32::try_from(articles).unwrap_or(u32::MAX));
    Ok(BenchReport {
        articles,
        corpus_words,
        generate_seconds: generate.as_secs_f64(),
        index_seconds,
        index_articles_per_second: if index_seconds > 0.0 {
            count / index_seconds
        } else {
            0.0
        },
        index_bytes: directory_bytes(dir),
        queries,
        query_p50_ms: latencies.query_p50_ms,
        query_p99_ms: latencies.query_p99_ms,
        query_max_ms: latencies.query_max_ms,
        queries_with_hits: latencies.queries_with_hits,
        suggest_p50_ms: latencies.suggest_p50_ms,
        suggest_p99_ms: latencies.suggest_p99_ms,
        edit_visible_p50_ms: latencies.edit_visible_p50_ms,
        edit_visible_max_ms: latencies.edit_visible_max_ms,
    })
}

/// Times `queries` top-10 searches (one to three words drawn like the corpus, a fifth
/// without accents, a tenth with a typo), as many title suggestions (prefixes of 1–6
/// letters), and a few single edits (upsert + commit of articles `1..=20`, which are
/// replaced).
///
/// # Errors
/// Whatever the index reports ([`SearchError`]).
pub fn measure_queries(
    index: &ArticleIndex,
    queries: usize,
) -> Result<QueryLatencies, SearchError> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED + 1);
    let query_texts: Vec<String> = (0..queries).map(|_| query_text(&mut rng)).collect();
    let mut latencies = Vec::with_capacity(queries);
    let mut with_hits = 0usize;
    for text in &query_texts {
        let started = Instant::now();
        let hits = index.search(text, TOP)?;
        latencies.push(started.elapsed());
        with_hits += usize::from(!hits.is_empty());
    }
    let mut suggest_latencies = Vec::with_capacity(queries);
    for _ in 0..queries {
        let prefix = suggest_prefix(&mut rng);
        let started = Instant::now();
        index.suggest(&prefix, TOP)?;
        suggest_latencies.push(started.elapsed());
    }
    let mut edit_latencies = Vec::with_capacity(EDITS);
    for i in 0..EDITS {
        let id = u64::try_from(i + 1).unwrap_or(1);
        let article = Article {
            id,
            title: format!("Edición de prueba {i}"),
            text: format!("Texto editado con la palabra única ceibaedicion{i}."),
        };
        let started = Instant::now();
        index.upsert(&article)?;
        index.commit()?;
        edit_latencies.push(started.elapsed());
    }
    Ok(QueryLatencies {
        queries,
        query_p50_ms: percentile_ms(&mut latencies, 50),
        query_p99_ms: percentile_ms(&mut latencies, 99),
        query_max_ms: percentile_ms(&mut latencies, 100),
        queries_with_hits: if queries == 0 {
            0.0
        } else {
            f64::from(u32::try_from(with_hits).unwrap_or(u32::MAX))
                / f64::from(u32::try_from(queries).unwrap_or(u32::MAX))
        },
        suggest_p50_ms: percentile_ms(&mut suggest_latencies, 50),
        suggest_p99_ms: percentile_ms(&mut suggest_latencies, 99),
        edit_visible_p50_ms: percentile_ms(&mut edit_latencies, 50),
        edit_visible_max_ms: percentile_ms(&mut edit_latencies, 100),
    })
}

/// A query as people type them: one to three content words, some without accents, some
/// with a typo.
fn query_text(rng: &mut ChaCha8Rng) -> String {
    let words = rng.random_range(1..=3);
    let mut out: Vec<String> = (0..words).map(|_| corpus::query_word(rng)).collect();
    if rng.random_range(0..5) == 0 {
        out = out.iter().map(|w| strip_accents(w)).collect();
    }
    if rng.random_range(0..10) == 0
        && let Some(word) = out.iter_mut().find(|w| w.chars().count() >= 5)
    {
        *word = with_typo(rng, word);
    }
    out.join(" ")
}

fn strip_accents(word: &str) -> String {
    word.chars()
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' | 'ü' => 'u',
            other => other,
        })
        .collect()
}

/// The word with one letter replaced.
fn with_typo(rng: &mut ChaCha8Rng, word: &str) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    let at = rng.random_range(1..chars.len());
    chars[at] = if chars[at] == 'e' { 'i' } else { 'e' };
    chars.into_iter().collect()
}

/// The first 1–6 characters of a word people search for, as typed into a search box.
fn suggest_prefix(rng: &mut ChaCha8Rng) -> String {
    let word = corpus::query_word(rng);
    let take = rng.random_range(1..=6);
    word.chars().take(take).collect()
}

fn percentile_ms(samples: &mut [Duration], percentile: usize) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_unstable();
    let rank = (samples.len() * percentile)
        .div_ceil(100)
        .clamp(1, samples.len());
    samples[rank - 1].as_secs_f64() * 1000.0
}

fn directory_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter_map(|e| e.metadata().ok())
            .filter(std::fs::Metadata::is_file)
            .map(|m| m.len())
            .sum()
    })
}
