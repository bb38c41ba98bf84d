//! The generated corpus: deterministic, within its stated shape, real Spanish forms.

use std::collections::HashSet;

use ceiba_search::corpus;

#[test]
fn same_seed_same_articles_other_seed_others() {
    let a: Vec<_> = corpus::generate(20, 1).collect();
    let b: Vec<_> = corpus::generate(20, 1).collect();
    let c: Vec<_> = corpus::generate(20, 2).collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(
        a.iter().map(|x| x.id).collect::<Vec<_>>(),
        (1..=20).collect::<Vec<_>>()
    );
}

#[test]
fn articles_have_the_stated_shape() {
    let articles: Vec<_> = corpus::generate(300, 3).collect();
    let titles: HashSet<&str> = articles.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(titles.len(), articles.len(), "títulos repetidos");
    let mut lengths = Vec::new();
    for a in &articles {
        // 1–4 words, plus a disambiguating place in brackets when the title was taken.
        let base = a.title.split(" (").next().unwrap_or_default();
        let title_words = base.split_whitespace().count();
        assert!((1..=4).contains(&title_words), "{}", a.title);
        let words = a.text.split_whitespace().count();
        // The last sentence may run past 2,000 by part of a sentence.
        assert!((200..=2_060).contains(&words), "{}: {words}", a.title);
        lengths.push(words);
        assert!(a.text.starts_with(&a.title), "{}", a.title);
        for sentence in a.text.split(". ").filter(|s| !s.contains('\n')) {
            let n = sentence.split_whitespace().count();
            assert!((8..=40).contains(&n), "{sentence}");
        }
    }
    // Log-uniform lengths: more short articles than long ones.
    let short = lengths.iter().filter(|n| **n < 700).count();
    assert!(short > lengths.len() / 2, "{short} de {}", lengths.len());
}

#[test]
fn words_follow_a_zipf_law() {
    let text: String = corpus::generate(100, 4).map(|a| a.text).collect();
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let count = |w: &str| words.iter().filter(|x| *x == w).count();
    // Rank 1 ("de") about twice rank 2 ("la") and far above a content word.
    let (de, la) = (count("de"), count("la"));
    assert!(de > la && la > 0, "de {de}, la {la}");
    assert!(de * 10 > words.len() / 2 / 10, "de {de} de {}", words.len());
    // Accented forms are there, as written in Spanish.
    for accented in ["también", "más", "población"] {
        assert!(count(accented) > 0, "{accented}");
    }
    assert!(
        corpus::vocabulary_size() >= 2_500,
        "{}",
        corpus::vocabulary_size()
    );
}

#[test]
fn plurals_follow_spanish_rules() {
    for (singular, plural) in [
        ("casa", "casas"),
        ("ciudad", "ciudades"),
        ("canción", "canciones"),
        ("camarón", "camarones"),
        ("maíz", "maíces"),
        ("café", "cafés"),
        ("tesis", "tesis"),
        ("origen", "orígenes"),
        ("árbol", "árboles"),
    ] {
        assert_eq!(corpus::plural(singular), plural);
    }
}
