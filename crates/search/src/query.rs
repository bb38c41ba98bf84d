//! Turns what a person typed into a tantivy query, without any query syntax.

use std::collections::{BTreeMap, HashSet};

use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use crate::error::SearchError;
use crate::index::MAX_QUERY_TERMS;
use crate::schema::{self, Fields};

/// Weight of a title match relative to a body match.
const TITLE_BOOST: f32 = 3.0;
/// Weight of a title equal to the whole query.
const WHOLE_TITLE_BOOST: f32 = 6.0;
/// Weight of a near spelling (one edit, two edits) relative to the word as typed.
const FUZZY_BOOST: [f32; 2] = [0.5, 0.25];
/// A near spelling is used only when it is this many times more common than the word as
/// typed: then the typed word is most likely the typo ("habanna" vs "habana"), while two
/// real words of similar frequency ("casa", "cosa") are left alone.
const FUZZY_DOMINANCE: u64 = 10;
/// Most near spellings kept per word, the closest and most common first.
const MAX_EXPANSIONS: usize = 8;

/// Short function words that would match nearly every article: dropped from queries
/// (unless the query has nothing else), already lowercased and folded.
const STOPWORDS: &[&str] = &[
    "a", "al", "ante", "con", "como", "de", "del", "desde", "e", "el", "en", "entre", "es", "ha",
    "la", "las", "le", "les", "lo", "los", "mas", "me", "mi", "muy", "ni", "no", "nos", "o",
    "para", "pero", "por", "que", "se", "sin", "sobre", "su", "sus", "te", "tu", "u", "un", "una",
    "unas", "uno", "unos", "y", "ya",
];

/// The queries to run for one search.
pub(crate) struct QueryPlan {
    /// Every word must match (by stem, folding or a near spelling).
    pub all_words: Box<dyn Query>,
    /// At least one word must match: tried when `all_words` finds nothing.
    pub any_word: Option<Box<dyn Query>>,
}

/// Builds the queries for `text`, or `None` when it holds no word at all.
pub(crate) fn plan_query(
    searcher: &Searcher,
    fields: &Fields,
    text: &str,
) -> Result<Option<QueryPlan>, SearchError> {
    let mut folded = schema::folded_analyzer();
    let words = schema::tokens(&mut folded, text);
    if words.len() > MAX_QUERY_TERMS {
        return Err(SearchError::TooManyTerms {
            terms: words.len(),
            max: MAX_QUERY_TERMS,
        });
    }
    let content: Vec<&String> = words
        .iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect();
    let chosen: Vec<&String> = if content.is_empty() {
        words.iter().collect()
    } else {
        content
    };
    let mut stemmer = schema::spanish_analyzer();
    let mut seen = HashSet::new();
    let mut groups: Vec<Vec<Clause>> = Vec::new();
    for word in chosen {
        for stem in schema::tokens(&mut stemmer, word) {
            if seen.insert(stem.clone()) {
                groups.push(word_clauses(searcher, fields, &stem)?);
            }
        }
    }
    let whole_title = whole_title_clause(fields, text);
    if groups.len() <= 1 {
        // One word: a flat union of boosted term queries, which tantivy answers with
        // block-max WAND (it skips blocks that cannot reach the top 10). The whole-title
        // clause needs no guard: a title equal to the word contains the word.
        let Some(mut clauses) = groups.pop() else {
            return Ok(None);
        };
        clauses.extend(whole_title);
        return Ok(Some(QueryPlan {
            all_words: Box::new(BooleanQuery::new(clauses)),
            any_word: None,
        }));
    }
    let combine = |occur: Occur| -> Box<dyn Query> {
        let mut clauses: Vec<Clause> = groups
            .iter()
            .map(|group| -> Clause {
                let union = group.iter().map(|(o, q)| (*o, q.box_clone())).collect();
                (occur, Box::new(BooleanQuery::new(union)))
            })
            .collect();
        if let Some((occur, query)) = &whole_title {
            clauses.push((*occur, query.box_clone()));
        }
        Box::new(BooleanQuery::new(clauses))
    };
    Ok(Some(QueryPlan {
        all_words: combine(Occur::Must),
        any_word: Some(combine(Occur::Should)),
    }))
}

type Clause = (Occur, Box<dyn Query>);

/// A bonus for titles equal to the whole query ("la habana" → "La Habana").
fn whole_title_clause(fields: &Fields, text: &str) -> Option<Clause> {
    let mut key_analyzer = schema::title_key_analyzer();
    let key = schema::tokens(&mut key_analyzer, &schema::title_key_text(text))
        .into_iter()
        .next()?;
    let exact = TermQuery::new(
        Term::from_field_text(fields.title_key, &key),
        IndexRecordOption::Basic,
    );
    Some((
        Occur::Should,
        Box::new(BoostQuery::new(Box::new(exact), WHOLE_TITLE_BOOST)),
    ))
}

/// Alternatives (to be joined by OR) that match one analyzed word (a stem) in title or
/// body, exactly or by a near spelling.
fn word_clauses(
    searcher: &Searcher,
    fields: &Fields,
    stem: &str,
) -> Result<Vec<Clause>, SearchError> {
    let mut clauses: Vec<Clause> = Vec::new();
    let mut add = |text: &str, weight: f32| {
        for (field, boost) in [(fields.title, TITLE_BOOST), (fields.body, 1.0)] {
            let term = Term::from_field_text(field, text);
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                    boost * weight,
                )),
            ));
        }
    };
    add(stem, 1.0);
    for (near, distance) in near_spellings(searcher, fields.body, stem)? {
        add(&near, FUZZY_BOOST[usize::from(distance - 1)]);
    }
    Ok(clauses)
}

/// Edits allowed for a stem of this many characters.
fn allowed_edits(chars: usize) -> u8 {
    match chars {
        0..4 => 0,
        4..8 => 1,
        _ => 2,
    }
}

/// Spellings within the allowed edits of `stem` that are far more common than it, with
/// their distance (1 or 2), closest and most common first.
fn near_spellings(
    searcher: &Searcher,
    field: Field,
    stem: &str,
) -> Result<Vec<(String, u8)>, SearchError> {
    let edits = allowed_edits(stem.chars().count());
    if edits == 0 {
        return Ok(Vec::new());
    }
    // A word in a tenth of the articles or more cannot have a spelling ten times more
    // common: skip the walk of the term dictionary.
    let typed = searcher.doc_freq(&Term::from_field_text(field, stem))?;
    if typed.saturating_mul(FUZZY_DOMINANCE) >= searcher.num_docs() {
        return Ok(Vec::new());
    }
    let automaton =
        FuzzyTermQuery::new(Term::from_field_text(field, stem), edits, true).automaton()?;
    // Document frequency per candidate, summed over segments.
    let mut candidates: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let mut stream = inverted
            .terms()
            .search(&automaton)
            .into_stream()
            .map_err(tantivy::TantivyError::from)?;
        while stream.advance() {
            *candidates.entry(stream.key().to_vec()).or_default() +=
                u64::from(stream.value().doc_freq);
        }
    }
    let typed = candidates.remove(stem.as_bytes()).unwrap_or(0);
    let threshold = typed.saturating_mul(FUZZY_DOMINANCE);
    let mut near: Vec<(String, u8, u64)> = candidates
        .into_iter()
        .filter(|(_, freq)| *freq > threshold)
        .filter_map(|(bytes, freq)| {
            let text = String::from_utf8(bytes).ok()?;
            let distance = edit_distance(stem, &text).clamp(1, 2);
            Some((text, u8::try_from(distance).ok()?, freq))
        })
        .collect();
    near.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)));
    near.truncate(MAX_EXPANSIONS);
    Ok(near.into_iter().map(|(text, d, _)| (text, d)).collect())
}

/// Optimal-string-alignment distance (a transposition costs one edit), as the automaton
/// counts it.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        d[i * width] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::{allowed_edits, edit_distance};

    #[test]
    fn edit_distance_counts_edits() {
        for (a, b, expected) in [
            ("zapat", "sapat", 1),
            ("haban", "habann", 1),
            ("casa", "caas", 1),
            ("", "abc", 3),
            ("tecnolog", "tecnolog", 0),
            ("kitten", "sitting", 3),
        ] {
            assert_eq!(edit_distance(a, b), expected, "{a} / {b}");
        }
    }

    #[test]
    fn longer_stems_allow_more_edits() {
        assert_eq!([3, 4, 7, 8, 20].map(allowed_edits), [0, 1, 1, 2, 2]);
    }
}
