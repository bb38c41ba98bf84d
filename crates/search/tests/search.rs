//! Search behaviour through the public API: folding, stemming, typos, suggestions,
//! snippets, updates, ranking, limits and hostile input.

use ceiba_search::{
    Article, ArticleIndex, MAX_LIMIT, MAX_QUERY_CHARS, MAX_QUERY_TERMS, SearchError, corpus,
};
use proptest::prelude::*;

fn article(id: u64, title: &str, text: &str) -> Article {
    Article {
        id,
        title: title.to_owned(),
        text: text.to_owned(),
    }
}

/// Hand-written articles the assertions are about, plus generated filler so that scores
/// and document frequencies look like a real index's.
fn known_articles() -> Vec<Article> {
    vec![
        article(
            1,
            "Tecnología",
            "La tecnología es el conjunto de conocimientos técnicos que permiten fabricar objetos.",
        ),
        article(
            2,
            "Zapato",
            "El zapato es un calzado que cubre el pie; el zapatero lo fabrica con cuero.",
        ),
        article(
            3,
            "La Habana",
            "La Habana es la capital de Cuba y su ciudad más poblada, fundada en 1519.",
        ),
        article(
            4,
            "Arquitectura colonial",
            "Las casas coloniales de Trinidad tienen patios interiores y rejas de madera.",
        ),
        article(
            5,
            "Atletismo",
            "El corredor estaba corriendo cuando empezó a llover; correr bajo la lluvia es difícil.",
        ),
        article(
            6,
            "Etiquetas peligrosas",
            "Un texto con <script>alert('x')</script> y el símbolo & de ampersand en código.",
        ),
        article(
            7,
            "Camagüey",
            "Camagüey es la ciudad de los tinajones, en el centro de la isla.",
        ),
        article(
            8,
            "Café",
            "El café se cultiva en las montañas de la Sierra Maestra; la tecnología del secado \
             al sol se mantiene.",
        ),
    ]
}

/// Generated articles in the shared, read-only index.
const FILLER: usize = 200;
/// Generated articles in the indexes that tests modify (smaller: each test builds one).
const SMALL_FILLER: usize = 40;

fn build_index(filler: usize) -> ArticleIndex {
    let index = ArticleIndex::in_memory().expect("índice en memoria");
    for a in known_articles() {
        index.upsert(&a).expect("upsert");
    }
    // Generated ids start at 1: shift them past the hand-written ones.
    for mut a in corpus::generate(filler, 7) {
        a.id += 1_000;
        index.upsert(&a).expect("upsert de relleno");
    }
    index.commit().expect("commit");
    index
}

/// The index read-only tests share (built once: debug builds index slowly).
fn shared_index() -> &'static ArticleIndex {
    static INDEX: std::sync::OnceLock<ArticleIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| build_index(FILLER))
}

fn ids(index: &ArticleIndex, query: &str) -> Vec<u64> {
    index
        .search(query, 10)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .iter()
        .map(|h| h.id)
        .collect()
}

#[test]
fn finds_accented_stemmed_and_misspelled_queries() {
    let index = shared_index();
    // (query, article that must be among the top 10): accents folded both ways, Spanish
    // stems, typos within one edit. The filler mentions La Habana and Camagüey too.
    let table: &[(&str, u64)] = &[
        ("tecnología", 1),
        ("tecnologia", 1),
        ("TECNOLOGÍA", 1),
        ("camaguey", 7),
        ("Camagüey", 7),
        ("tinajón", 7),
        ("zapatos", 2),
        ("sapato", 2),
        ("zapatp", 2),
        ("habana", 3),
        ("Habanna", 3),
        ("la habana", 3),
        ("casa colonial", 4),
        ("coloniales", 4),
        ("correr", 5),
        ("corriendo", 5),
    ];
    for (query, expected) in table {
        let found = ids(index, query);
        assert!(found.contains(expected), "«{query}» → {found:?}");
    }
}

#[test]
fn stemming_does_what_snowball_spanish_does() {
    let index = shared_index();
    // Plural and singular share a stem: "casas" (in article 4) is found by "casa".
    assert!(ids(index, "casa").contains(&4));
    // Snowball Spanish strips "-iendo" and "-er": "corr" for both ("corriendo", "correr"
    // are in the first table). Folding comes before stemming (so that accentless queries
    // stem like accented text), and then the accented verb endings ("-ió", "-ía") are no
    // longer recognised: "corrió" stems to "corri" and does not meet "corr".
    assert!(ids(index, "corriendo").contains(&5));
    assert!(!ids(index, "corrió").contains(&5));
    // Nouns are unaffected: "tecnologías" and "tecnologia" share a stem.
    assert!(ids(index, "tecnologías").contains(&1));
    // Different words stay apart: "poblada" does not match "pueblo".
    assert!(!ids(index, "pueblo").contains(&3));
}

#[test]
fn typo_tolerance_is_bounded() {
    let index = shared_index();
    // Three letters allow no edit: "zap" is not "zapato" and finds nothing of article 2.
    assert!(!ids(index, "zap").contains(&2));
    // Two edits on a six-letter stem are too many.
    assert!(!ids(index, "sxpxto").contains(&2));
}

#[test]
fn suggests_titles_by_prefix() {
    let index = shared_index();
    let titles = |prefix: &str| -> Vec<String> {
        index
            .suggest(prefix, 10)
            .unwrap_or_else(|e| panic!("{prefix}: {e}"))
            .into_iter()
            .map(|s| s.title)
            .collect()
    };
    for (prefix, title) in [
        ("tec", "Tecnología"),
        ("Tecnolo", "Tecnología"),
        ("TECNOLOGÍA", "Tecnología"),
        ("la hab", "La Habana"),
        ("habana", "La Habana"),
        ("camag", "Camagüey"),
        ("arquitectura col", "Arquitectura colonial"),
    ] {
        assert!(
            titles(prefix).iter().any(|t| t == title),
            "«{prefix}» → {:?}",
            titles(prefix)
        );
    }
    // Whole-title prefixes come before word prefixes.
    let la = index.suggest("la hab", 10).expect("suggest");
    assert_eq!(la.first().map(|s| s.id), Some(3));
    assert!(titles("qqqqzz").is_empty());
    assert!(titles("   ").is_empty());
    assert!(index.suggest("a", 3).expect("suggest").len() <= 3);
}

#[test]
fn snippets_highlight_matches_and_escape_html() {
    let index = shared_index();
    let hits = index.search("zapatero", 10).expect("search");
    let hit = hits.iter().find(|h| h.id == 2).expect("artículo 2");
    assert!(
        hit.snippet_html.contains("<b>zapatero</b>"),
        "{}",
        hit.snippet_html
    );

    let hits = index.search("alert ampersand", 10).expect("search");
    let hit = hits.iter().find(|h| h.id == 6).expect("artículo 6");
    let html = &hit.snippet_html;
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(html.contains("&amp;"), "{html}");
    // The only tags are <b> and </b>.
    let without_bold = html.replace("<b>", "").replace("</b>", "");
    assert!(
        !without_bold.contains('<') && !without_bold.contains('>'),
        "{html}"
    );
    assert!(html.contains("<b>alert</b>"), "{html}");
}

#[test]
fn typo_matches_are_highlighted_too() {
    let index = shared_index();
    let hits = index.search("sapato", 10).expect("search");
    let hit = hits.iter().find(|h| h.id == 2).expect("artículo 2");
    assert!(
        hit.snippet_html.contains("<b>zapato</b>"),
        "{}",
        hit.snippet_html
    );
}

#[test]
fn upsert_replaces_and_delete_removes() {
    let index = &build_index(SMALL_FILLER);
    assert_eq!(ids(index, "tinajones").first(), Some(&7));
    index
        .upsert(&article(
            7,
            "Camagüey",
            "Ciudad de iglesias y plazas irregulares.",
        ))
        .expect("upsert");
    // Not visible before the commit…
    assert_eq!(ids(index, "tinajones").first(), Some(&7));
    index.commit().expect("commit");
    // …and right after it: old words gone, new ones found, one document only.
    assert!(!ids(index, "tinajones").contains(&7));
    assert_eq!(ids(index, "iglesias irregulares").first(), Some(&7));
    assert_eq!(
        ids(index, "camagüey").iter().filter(|id| **id == 7).count(),
        1
    );
    let before = index.num_articles();
    index.delete(7);
    index.commit().expect("commit");
    assert!(!ids(index, "irregulares").contains(&7));
    assert_eq!(index.num_articles(), before - 1);
    index.delete(999_999);
    index.commit().expect("borrar un id ausente no es un error");
}

#[test]
fn an_edit_is_searchable_right_after_commit() {
    let index = &build_index(SMALL_FILLER);
    assert!(ids(index, "guayabera").iter().all(|id| *id != 50));
    index
        .upsert(&article(
            50,
            "Guayabera",
            "La guayabera es una camisa de lino.",
        ))
        .expect("upsert");
    index.commit().expect("commit");
    assert_eq!(ids(index, "guayaberas").first(), Some(&50));
}

#[test]
fn title_matches_rank_first() {
    let index = shared_index();
    // Article 8 mentions "tecnología" in its text; article 1 has it as title.
    let found = ids(index, "tecnología");
    let title = found.iter().position(|id| *id == 1);
    let body = found.iter().position(|id| *id == 8);
    assert!(title.is_some() && body.is_some(), "{found:?}");
    assert!(title < body, "{found:?}");
    // The hit with the title match has the higher score.
    let hits = index.search("café", 10).expect("search");
    assert_eq!(hits.first().map(|h| h.id), Some(8));
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn every_word_must_match_unless_none_does_together() {
    let index = shared_index();
    // Both words in article 4 only.
    assert_eq!(ids(index, "patios rejas"), vec![4]);
    // No article has both: fall back to articles with either.
    let either = ids(index, "tinajones zapatero");
    assert!(either.contains(&7) && either.contains(&2), "{either:?}");
}

#[test]
fn limits_are_refused_with_spanish_messages() {
    let index = shared_index();
    let long = "a".repeat(MAX_QUERY_CHARS + 1);
    let err = index.search(&long, 10).expect_err("consulta larga");
    assert!(matches!(err, SearchError::QueryTooLong { .. }));
    assert!(err.to_string().contains("caracteres"), "{err}");

    let many = vec!["palabra"; MAX_QUERY_TERMS + 1].join(" ");
    let err = index.search(&many, 10).expect_err("demasiadas palabras");
    assert!(matches!(err, SearchError::TooManyTerms { .. }));
    assert!(err.to_string().contains("palabras"), "{err}");
    let err = index.suggest(&many, 10).expect_err("demasiadas palabras");
    assert!(matches!(err, SearchError::TooManyTerms { .. }));

    let err = index.search("casa", MAX_LIMIT + 1).expect_err("límite");
    assert!(matches!(err, SearchError::LimitTooLarge { .. }));
    assert!(err.to_string().contains("resultados"), "{err}");
    let err = index.suggest("ca", MAX_LIMIT + 1).expect_err("límite");
    assert!(matches!(err, SearchError::LimitTooLarge { .. }));

    // Exactly at the limits is fine.
    let at_limit = vec!["casa"; MAX_QUERY_TERMS].join(" ");
    index.search(&at_limit, MAX_LIMIT).expect("en el límite");
    assert!(index.search("casa", 0).expect("límite 0").is_empty());
}

#[test]
fn articles_outside_the_limits_are_refused() {
    let index = ArticleIndex::in_memory().expect("índice");
    let huge = "palabra ".repeat(300_000);
    let err = index
        .upsert(&article(1, "Grande", &huge))
        .expect_err("texto grande");
    assert!(matches!(err, SearchError::ArticleTooLarge { id: 1, .. }));
    assert!(err.to_string().contains("artículo 1"), "{err}");
    let err = index
        .upsert(&article(2, "  ", "texto"))
        .expect_err("sin título");
    assert!(matches!(err, SearchError::EmptyTitle { id: 2 }));
    let err = index
        .upsert(&article(3, &"t".repeat(2_000), "texto"))
        .expect_err("título largo");
    assert!(matches!(err, SearchError::TitleTooLong { id: 3, .. }));
}

#[test]
fn queries_without_words_return_nothing() {
    let index = shared_index();
    for query in ["", "   ", "\"", "*", "()", "¿?", "—"] {
        assert!(ids(index, query).is_empty(), "«{query}»");
    }
    // Only stopwords: they are searched for rather than dropped.
    assert!(!ids(index, "de la").is_empty());
}

#[test]
fn query_syntax_is_just_text() {
    let index = shared_index();
    for query in [
        "\"la habana",
        "habana AND OR (",
        "habana^5 -cuba",
        "habana*",
        "habana~2",
        "+habana +",
    ] {
        // Words that are not in the index ("title", "and") make the search fall back to
        // any word, so La Habana is still found.
        let found = ids(index, query);
        assert!(found.contains(&3), "«{query}» → {found:?}");
    }
}

#[test]
fn a_reopened_directory_keeps_its_articles() {
    let dir = tempfile::tempdir().expect("directorio temporal");
    {
        let index = ArticleIndex::open(dir.path()).expect("abrir");
        index
            .upsert(&article(1, "Viñales", "Valle de mogotes en Pinar del Río."))
            .expect("upsert");
        index.commit().expect("commit");
    }
    let index = &ArticleIndex::open(dir.path()).expect("reabrir");
    assert_eq!(index.num_articles(), 1);
    assert_eq!(ids(index, "mogote"), vec![1]);
    // A second writer on the same directory is refused while the first lives.
    let err = ArticleIndex::open(dir.path()).expect_err("segundo escritor");
    assert!(matches!(err, SearchError::Open { .. }));
    assert!(err.to_string().contains("no se pudo abrir"), "{err}");
}

#[test]
fn the_index_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<ArticleIndex>();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Any text, syntax characters included, is a query: at worst it breaks a limit.
    #[test]
    fn hostile_queries_never_fail(query in hostile_query()) {
        let index = shared_index();
        match index.search(&query, 10) {
            Ok(hits) => prop_assert!(hits.len() <= 10),
            Err(SearchError::TooManyTerms { .. } | SearchError::QueryTooLong { .. }) => {}
            Err(e) => prop_assert!(false, "«{query}»: {e}"),
        }
        match index.suggest(&query, 10) {
            Ok(found) => prop_assert!(found.len() <= 10),
            Err(SearchError::TooManyTerms { .. } | SearchError::QueryTooLong { .. }) => {}
            Err(e) => prop_assert!(false, "«{query}»: {e}"),
        }
    }

    /// Any article text can be indexed and its snippets stay valid escaped HTML.
    #[test]
    fn any_text_indexes_and_snippets_stay_escaped(text in "[\\PC<>&\"' a-z]{0,300}") {
        let index = ArticleIndex::in_memory().expect("índice");
        index.upsert(&article(1, "Prueba", &text)).expect("upsert");
        index.commit().expect("commit");
        let word: String = text.split_whitespace().next().unwrap_or("prueba").chars().take(30).collect();
        if let Ok(hits) = index.search(&word, 5) {
            for hit in hits {
                let plain = hit.snippet_html.replace("<b>", "").replace("</b>", "");
                prop_assert!(!plain.contains('<') && !plain.contains('>'), "{}", hit.snippet_html);
            }
        }
    }
}

fn hostile_query() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "\"", "AND", "OR", "NOT", "(", ")", "*", "?", "~", "^", ":", "+", "-", "[", "]", "{", "}",
        "\\", "/", "TO", "habana", "zapato", "ñ", "ü", "á", "🇨🇺", "\u{0}", "\u{200b}", "\u{301}",
        "ﬁ", "İ", "ß", " ", "  ", "title:", "body:", "id:1",
    ]);
    prop_oneof![
        prop::collection::vec(pieces, 0..30).prop_map(|p| p.concat()),
        any::<String>(),
        "\\PC{0,250}",
    ]
}
