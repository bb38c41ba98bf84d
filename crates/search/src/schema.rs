//! The index's fields and the analyzers that turn text into terms.

use tantivy::Index;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer,
    Stemmer, TextAnalyzer,
};

/// Words longer than this are not indexed: no Spanish word is, and a run of letters that
/// long is noise (a hash, a URL) that would only bloat the dictionary.
pub(crate) const MAX_TOKEN_BYTES: usize = 40;

/// Analyzer for prose: words, lowercased, accents folded, then Spanish Snowball stems.
/// Folding comes before stemming so that "tecnología" and "tecnologia" reach the stemmer as
/// the same string and get the same stem.
pub(crate) const SPANISH: &str = "ceiba_es";
/// Analyzer for title words in autocomplete: like [`SPANISH`] without stemming, so that a
/// typed prefix matches the word as written.
pub(crate) const FOLDED: &str = "ceiba_folded";
/// Analyzer for the whole title as one term, lowercased and folded (prefix of the title).
pub(crate) const TITLE_KEY: &str = "ceiba_title_key";

/// Handles to the fields of an article index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    /// Article id: indexed (deletes by term), stored, fast.
    pub id: Field,
    /// Title as written: stored for display, analyzed with [`SPANISH`] for ranking.
    pub title: Field,
    /// Title words for autocomplete ([`FOLDED`]).
    pub title_words: Field,
    /// Whole folded title ([`TITLE_KEY`]).
    pub title_key: Field,
    /// Title length in characters: shorter titles come first among suggestions.
    pub title_chars: Field,
    /// Article text ([`SPANISH`]; frequencies, no positions: there are no phrase queries).
    pub body: Field,
    /// The start of the text, stored (not indexed) to cut snippets from.
    pub excerpt: Field,
}

/// The schema (field names are also the on-disk format) and its field handles.
pub(crate) fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let analyzed = |tokenizer: &str, record: IndexRecordOption| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(record),
        )
    };
    let id = builder.add_u64_field("id", INDEXED | STORED | FAST);
    let title = builder.add_text_field(
        "title",
        analyzed(SPANISH, IndexRecordOption::WithFreqs) | STORED,
    );
    let title_words =
        builder.add_text_field("title_words", analyzed(FOLDED, IndexRecordOption::Basic));
    let title_key =
        builder.add_text_field("title_key", analyzed(TITLE_KEY, IndexRecordOption::Basic));
    let title_chars = builder.add_u64_field("title_chars", FAST);
    let body = builder.add_text_field("body", analyzed(SPANISH, IndexRecordOption::WithFreqs));
    let excerpt = builder.add_text_field("excerpt", STORED);
    let fields = Fields {
        id,
        title,
        title_words,
        title_key,
        title_chars,
        body,
        excerpt,
    };
    (builder.build(), fields)
}

/// The prose analyzer ([`SPANISH`]).
pub(crate) fn spanish_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::Spanish))
        .build()
}

/// The word analyzer without stemming ([`FOLDED`]).
pub(crate) fn folded_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The whole-title analyzer ([`TITLE_KEY`]); callers normalise spacing first.
pub(crate) fn title_key_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Tokenizers are not persisted with the index: register them on every open.
pub(crate) fn register_analyzers(index: &Index) {
    let manager = index.tokenizers();
    manager.register(SPANISH, spanish_analyzer());
    manager.register(FOLDED, folded_analyzer());
    manager.register(TITLE_KEY, title_key_analyzer());
}

/// The terms `analyzer` makes of `text`, in order.
pub(crate) fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// A title as one search key: words separated by single spaces, punctuation dropped, so
/// that "La  Habana," and "la habana" meet; lowercasing and folding are the analyzer's.
pub(crate) fn title_key_text(title: &str) -> String {
    let mut key = String::with_capacity(title.len());
    for word in title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(word);
    }
    key
}
