//! A generated corpus of Spanish articles for benchmarks and load tests.
//!
//! Words come from a hand-written vocabulary (module `words`): function words, nouns with their
//! plurals, adjectives in all four forms, regular verbs in seven tenses, Cuban places and
//! people; about 3,000 distinct forms. They are drawn with a Zipf law (rank r has weight
//! 1/r), the law word frequencies follow in real text, so the index sees realistic posting
//! list lengths: a few huge ("de", "la"), most short. Sentences have 8–25 words, articles
//! 200–2,000 words (log-uniform: many short, few long, like an encyclopedia), titles 1–4
//! words, unique. Same `(n, seed)`, same articles.

mod words;

use std::collections::HashSet;
use std::sync::OnceLock;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::Article;

/// Fewest and most words in a sentence.
const SENTENCE_WORDS: (usize, usize) = (8, 25);
/// Fewest and most words in an article.
const ARTICLE_WORDS: (usize, usize) = (200, 2_000);
/// Fewest and most sentences in a paragraph.
const PARAGRAPH_SENTENCES: (usize, usize) = (3, 7);

/// The ranked vocabulary and what titles are made of.
#[derive(Debug)]
struct Vocabulary {
    /// Every form, most frequent first.
    ranked: Vec<String>,
    /// Cumulative Zipf weights of `ranked`, for sampling by binary search.
    cumulative: Vec<f64>,
    /// Rank of the first content word (after the function words).
    first_content_rank: usize,
    /// Singular nouns, for titles.
    nouns: Vec<&'static str>,
    /// Adjectives, masculine singular, for titles.
    adjectives: Vec<&'static str>,
}

fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(Vocabulary::build)
}

impl Vocabulary {
    fn build() -> Self {
        let nouns: Vec<&'static str> = dedup(words::NOUNS.split_whitespace());
        let adjectives: Vec<&'static str> = dedup(words::ADJECTIVES.split_whitespace());
        let verbs: Vec<&'static str> = dedup(words::VERBS.split_whitespace());

        // Base forms outrank inflected ones; within each, categories alternate so that
        // frequent nouns, verbs and adjectives mix as in real prose.
        let noun_forms: Vec<String> = nouns
            .iter()
            .map(|n| (*n).to_owned())
            .chain(nouns.iter().map(|n| plural(n)))
            .collect();
        let verb_forms: Vec<String> = (0..7)
            .flat_map(|tense| verbs.iter().filter_map(move |v| conjugate(v, tense)))
            .collect();
        let adjective_forms: Vec<String> = (0..4)
            .flat_map(|form| {
                adjectives
                    .iter()
                    .filter_map(move |a| inflect_adjective(a, form))
            })
            .collect();
        let names: Vec<String> = words::PLACES
            .iter()
            .chain(words::PEOPLE)
            .map(|s| (*s).to_owned())
            .collect();

        let mut seen = HashSet::new();
        let mut ranked: Vec<String> = Vec::new();
        for word in words::FUNCTION_WORDS.split_whitespace() {
            if seen.insert(word.to_owned()) {
                ranked.push(word.to_owned());
            }
        }
        let first_content_rank = ranked.len();
        let lists = [&noun_forms, &verb_forms, &adjective_forms, &names];
        let longest = lists.iter().map(|l| l.len()).max().unwrap_or(0);
        for i in 0..longest {
            for list in lists {
                if let Some(word) = list.get(i)
                    && seen.insert(word.clone())
                {
                    ranked.push(word.clone());
                }
            }
        }
        let mut total = 0.0;
        let cumulative = (1..=ranked.len())
            .map(|rank| {
                total += 1.0 / f64::from(u32::try_from(rank).unwrap_or(u32::MAX));
                total
            })
            .collect();
        Self {
            ranked,
            cumulative,
            first_content_rank,
            nouns,
            adjectives,
        }
    }

    /// A word drawn with the Zipf law.
    fn word<R: Rng + ?Sized>(&self, rng: &mut R) -> &str {
        self.word_from(rng, 0)
    }

    /// A word drawn with the Zipf law among ranks `from..`.
    fn word_from<R: Rng + ?Sized>(&self, rng: &mut R, from: usize) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let floor = if from == 0 {
            0.0
        } else {
            self.cumulative.get(from - 1).copied().unwrap_or(0.0)
        };
        let target = floor + rng.random::<f64>() * (total - floor);
        let rank = self.cumulative.partition_point(|c| *c < target);
        self.ranked
            .get(rank)
            .or(self.ranked.last())
            .map_or("", String::as_str)
    }
}

fn dedup(words: impl Iterator<Item = &'static str>) -> Vec<&'static str> {
    let mut seen = HashSet::new();
    words.filter(|w| seen.insert(*w)).collect()
}

/// Every distinct word form the generator can write (names as written, with spaces).
#[must_use]
pub fn vocabulary_size() -> usize {
    vocabulary().ranked.len()
}

/// A content word (not a function word) drawn with the Zipf law: what people search for.
pub fn query_word<R: Rng + ?Sized>(rng: &mut R) -> String {
    let v = vocabulary();
    v.word_from(rng, v.first_content_rank).to_owned()
}

/// `n` articles with ids `1..=n`, deterministic for a given `seed`.
pub fn generate(n: usize, seed: u64) -> impl Iterator<Item = Article> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut titles = HashSet::new();
    (1..=n).map(move |i| {
        let id = u64::try_from(i).unwrap_or(u64::MAX);
        let title = unique_title(&mut rng, &mut titles);
        let text = article_text(&mut rng, &title);
        Article { id, title, text }
    })
}

/// The plural of a Spanish noun or adjective (the regular rules, which cover this list).
#[must_use]
pub fn plural(word: &str) -> String {
    let exceptions = [
        ("origen", "orígenes"),
        ("joven", "jóvenes"),
        ("ómnibus", "ómnibus"),
    ];
    if let Some((_, p)) = exceptions.iter().find(|(s, _)| *s == word) {
        return (*p).to_owned();
    }
    let Some(last) = word.chars().last() else {
        return String::new();
    };
    let stem = &word[..word.len() - last.len_utf8()];
    match last {
        'a' | 'e' | 'i' | 'o' | 'u' | 'á' | 'é' | 'ó' => format!("{word}s"),
        'í' | 'ú' => format!("{word}es"),
        'z' => format!("{stem}ces"),
        's' | 'x' => word.to_owned(),
        _ => {
            // An accent on the last syllable goes away with the added one: "canción" → "canciones".
            let mut chars: Vec<char> = stem.chars().collect();
            if let Some(vowel) = chars.last_mut() {
                *vowel = unaccent(*vowel);
            }
            let stem: String = chars.into_iter().collect();
            format!("{stem}{last}es")
        }
    }
}

fn unaccent(c: char) -> char {
    match c {
        'á' => 'a',
        'é' => 'e',
        'í' => 'i',
        'ó' => 'o',
        'ú' => 'u',
        other => other,
    }
}

/// Form `form` (0: masc. sing., 1: fem. sing., 2: masc. pl., 3: fem. pl.) of an
/// adjective; `None` where the form equals another (invariable adjectives).
fn inflect_adjective(adjective: &str, form: usize) -> Option<String> {
    let gendered = adjective.strip_suffix('o');
    let gentile = adjective.ends_with("ol"); // español, española
    match (form, gendered) {
        (0, _) => Some(adjective.to_owned()),
        (1, Some(stem)) => Some(format!("{stem}a")),
        (2, _) => Some(plural(adjective)),
        (3, Some(stem)) => Some(format!("{stem}as")),
        (1, None) if gentile => Some(format!("{adjective}a")),
        (3, None) if gentile => Some(format!("{adjective}as")),
        _ => None,
    }
}

/// Tense `tense` of a regular verb: present (3rd sing., pl.), preterite (3rd sing., pl.),
/// imperfect (3rd sing.), participle, gerund.
fn conjugate(verb: &str, tense: usize) -> Option<String> {
    if let Some(stem) = verb.strip_suffix("uir") {
        let forms = ["uye", "uyen", "uyó", "uyeron", "uía", "uido", "uyendo"];
        return forms.get(tense).map(|end| format!("{stem}{end}"));
    }
    let (stem, ending) = verb.split_at(verb.len().checked_sub(2)?);
    let forms: [&str; 7] = match ending {
        "ar" => ["a", "an", "ó", "aron", "aba", "ado", "ando"],
        "er" | "ir" => ["e", "en", "ió", "ieron", "ía", "ido", "iendo"],
        _ => return None,
    };
    forms.get(tense).map(|end| format!("{stem}{end}"))
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    if items.is_empty() {
        return "";
    }
    items[rng.random_range(0..items.len())]
}

/// A title of 1–4 words, made unique with a place in brackets as encyclopedias do.
fn unique_title(rng: &mut ChaCha8Rng, taken: &mut HashSet<String>) -> String {
    let v = vocabulary();
    let base = loop {
        let title = match rng.random_range(0..100) {
            0..30 => capitalize(pick(rng, &v.nouns)),
            30..50 => pick(rng, words::PLACES).to_owned(),
            50..60 => pick(rng, words::PEOPLE).to_owned(),
            60..85 => format!(
                "{} de {}",
                capitalize(pick(rng, &v.nouns)),
                pick(rng, words::PLACES)
            ),
            _ => {
                let noun = pick(rng, &v.nouns);
                let adjective = pick(rng, &v.adjectives);
                // Feminine nouns mostly end in -a; good enough for agreement in titles.
                let form = usize::from(noun.ends_with('a'));
                let adjective =
                    inflect_adjective(adjective, form).unwrap_or_else(|| adjective.to_owned());
                format!("{} {adjective}", capitalize(noun))
            }
        };
        if title.split_whitespace().count() <= 4 {
            break title;
        }
    };
    if taken.insert(base.clone()) {
        return base;
    }
    for attempt in 0u32.. {
        let candidate = if attempt < 8 {
            format!("{base} ({})", pick(rng, words::PLACES))
        } else {
            format!("{base} ({attempt})")
        };
        if taken.insert(candidate.clone()) {
            return candidate;
        }
    }
    base
}

/// The text of an article about `title`: paragraphs of Zipf-drawn sentences, the title
/// named in the first sentence and now and then after, as articles name their subject.
fn article_text(rng: &mut ChaCha8Rng, title: &str) -> String {
    let v = vocabulary();
    let (low, high) = ARTICLE_WORDS;
    let ln_low = f64::from(u32::try_from(low).unwrap_or(1)).ln();
    let ln_high = f64::from(u32::try_from(high).unwrap_or(1)).ln();
    let target = rng.random_range(ln_low..ln_high).exp();
    let mut text = String::with_capacity(8 * 1024);
    let mut written = 0.0;
    let mut sentences_left_in_paragraph =
        rng.random_range(PARAGRAPH_SENTENCES.0..=PARAGRAPH_SENTENCES.1);
    let mut first = true;
    while written < target {
        let length = rng.random_range(SENTENCE_WORDS.0..=SENTENCE_WORDS.1);
        let mut sentence: Vec<String> = Vec::with_capacity(length + 2);
        if first {
            sentence.push(title.to_owned());
            sentence.push("es".to_owned());
        }
        for _ in 0..length {
            let mut word = v.word(rng).to_owned();
            if rng.random_range(0..12) == 0 {
                word.push(',');
            }
            sentence.push(word);
        }
        if !first && rng.random_range(0..10) == 0 {
            let at = rng.random_range(0..sentence.len());
            sentence.insert(at, title.to_owned());
        }
        if let Some(last) = sentence.last_mut()
            && last.ends_with(',')
        {
            last.pop();
        }
        let joined = sentence.join(" ");
        text.push_str(&capitalize(&joined));
        text.push('.');
        // Names count as the words they are made of ("Pinar del Río" is three).
        let words: usize = sentence.iter().map(|w| w.split_whitespace().count()).sum();
        written += f64::from(u32::try_from(words).unwrap_or(u32::MAX));
        first = false;
        sentences_left_in_paragraph -= 1;
        if sentences_left_in_paragraph == 0 {
            text.push_str("\n\n");
            sentences_left_in_paragraph =
                rng.random_range(PARAGRAPH_SENTENCES.0..=PARAGRAPH_SENTENCES.1);
        } else {
            text.push(' ');
        }
    }
    text.truncate(text.trim_end().len());
    text
}
