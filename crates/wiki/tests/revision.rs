//! Revisions: diffs, three-way merges and rollback, through the public API.

use ceiba_wiki::revision::{
    Block, Conflict, Merge, RevisionMeta, Segment, SegmentKind, diff, merge3, rollback_target,
};
use proptest::prelude::*;

fn lines(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| (*t).to_owned()).collect()
}

fn seg(kind: SegmentKind, text: &str) -> Segment {
    Segment {
        kind,
        text: text.to_owned(),
    }
}

/// (old, new, expected blocks, lines added, lines removed, size delta)
type DiffCase = (&'static str, &'static str, Vec<Block>, usize, usize, i64);

#[test]
fn diff_of_known_inputs() {
    use SegmentKind::{Added, Removed, Same};
    // (old, new, expected blocks, lines added, lines removed, size delta)
    let cases: Vec<DiffCase> = vec![
        (
            "a\nb\n",
            "a\nb\n",
            vec![Block::Same {
                lines: lines(&["a\n", "b\n"]),
            }],
            0,
            0,
            0,
        ),
        (
            "a\nc\n",
            "a\nb\nc\n",
            vec![
                Block::Same {
                    lines: lines(&["a\n"]),
                },
                Block::Added {
                    lines: lines(&["b\n"]),
                },
                Block::Same {
                    lines: lines(&["c\n"]),
                },
            ],
            1,
            0,
            2,
        ),
        (
            "a\nb\nc\n",
            "a\nc\n",
            vec![
                Block::Same {
                    lines: lines(&["a\n"]),
                },
                Block::Removed {
                    lines: lines(&["b\n"]),
                },
                Block::Same {
                    lines: lines(&["c\n"]),
                },
            ],
            0,
            1,
            -2,
        ),
        (
            "La Habana es la capital.\n",
            "La Habana es la capital de Cuba.\n",
            vec![Block::Changed {
                old: lines(&["La Habana es la capital.\n"]),
                new: lines(&["La Habana es la capital de Cuba.\n"]),
                words: vec![
                    seg(Same, "La Habana es la capital"),
                    seg(Added, " de Cuba"),
                    seg(Same, ".\n"),
                ],
            }],
            1,
            1,
            8,
        ),
        (
            "[[Santiago]] y [[Holguín]]",
            "[[Santiago de Cuba]] y [[Holguín]]",
            vec![Block::Changed {
                old: lines(&["[[Santiago]] y [[Holguín]]"]),
                new: lines(&["[[Santiago de Cuba]] y [[Holguín]]"]),
                words: vec![
                    seg(Same, "[[Santiago"),
                    seg(Added, " de Cuba"),
                    seg(Same, "]] y [[Holguín]]"),
                ],
            }],
            1,
            1,
            8,
        ),
        (
            "",
            "nuevo",
            vec![Block::Added {
                lines: lines(&["nuevo"]),
            }],
            1,
            0,
            5,
        ),
        (
            "uno dos\n",
            "uno tres\n",
            vec![Block::Changed {
                old: lines(&["uno dos\n"]),
                new: lines(&["uno tres\n"]),
                words: vec![
                    seg(Same, "uno "),
                    seg(Removed, "dos"),
                    seg(Added, "tres"),
                    seg(Same, "\n"),
                ],
            }],
            1,
            1,
            1,
        ),
    ];
    for (old, new, blocks, added, removed, delta) in cases {
        let d = diff(old, new);
        assert_eq!(d.blocks, blocks, "diff({old:?}, {new:?})");
        assert_eq!(d.lines_added(), added, "lines added in {old:?} → {new:?}");
        assert_eq!(
            d.lines_removed(),
            removed,
            "lines removed in {old:?} → {new:?}"
        );
        assert_eq!(d.size_delta(), delta, "size delta in {old:?} → {new:?}");
        assert_eq!(d.apply(old).as_deref(), Ok(new));
    }
}

#[test]
fn diff_counts_bytes_and_added_text() {
    let d = diff("uno dos\nfin\n", "uno tres\nfin\nnueva línea\n");
    assert_eq!(d.added_text(), "tres\nnueva línea\n");
    assert_eq!(d.bytes_added(), "tres\nnueva línea\n".len());
    assert_eq!(d.bytes_removed(), "dos".len());
    assert!(!d.is_empty());
    assert!(diff("x\n", "x\n").is_empty());
}

#[test]
fn diff_html_escapes_everything_and_marks_changes() {
    let d = diff(
        "<script>alert('x')</script>\nigual\n",
        "<b onclick=\"x\">&</b>\nigual\n",
    );
    let html = d.to_html();
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<b "), "{html}");
    assert!(html.contains("script&gt;alert(&#39;"), "{html}");
    assert!(html.contains("&amp;"), "{html}");
    assert!(html.contains("&quot;"), "{html}");
    assert!(html.contains("&#39;"), "{html}");
    assert!(html.contains("<del>") && html.contains("<ins>"), "{html}");

    let whole_line = diff("a\n", "a\nb <i>\n").to_html();
    assert!(
        whole_line.contains("<div class=\"diff-added\"><ins>b &lt;i&gt;</ins></div>"),
        "{whole_line}"
    );
}

#[test]
fn diff_html_folds_long_unchanged_runs() {
    let old: String = (0..20).map(|i| format!("línea {i}\n")).collect();
    let new = old.replace("línea 10\n", "línea diez\n");
    let html = diff(&old, &new).to_html_with_context(2);
    assert!(html.contains("(8 líneas sin cambios)"), "{html}");
    assert!(html.contains("(7 líneas sin cambios)"), "{html}");
    assert!(
        html.contains("línea 8") && html.contains("línea 12"),
        "{html}"
    );
    assert!(
        !html.contains("línea 7\n") && !html.contains(">línea 7<"),
        "{html}"
    );
}

#[test]
fn apply_refuses_a_different_text() {
    let d = diff("a\nb\n", "a\nc\n");
    assert!(d.apply("a\nx\n").is_err());
    assert!(d.apply("a\nb\nextra\n").is_err());
    assert!(d.apply("a\n").is_err());
}

#[test]
fn merge3_clean_cases() {
    let base = "Intro.\n\nHistoria.\n\nGeografía.\n";
    // (mine, theirs, expected merge)
    let cases = [
        // Edits in different paragraphs.
        (
            "Intro nueva.\n\nHistoria.\n\nGeografía.\n",
            "Intro.\n\nHistoria.\n\nGeografía de Cuba.\n",
            "Intro nueva.\n\nHistoria.\n\nGeografía de Cuba.\n",
        ),
        // One side unchanged.
        (base, "Intro.\n\nOtra.\n", "Intro.\n\nOtra.\n"),
        ("Intro.\n\nOtra.\n", base, "Intro.\n\nOtra.\n"),
        // Both made the same change.
        (
            "Intro.\n\nHistoria de Cuba.\n\nGeografía.\n",
            "Intro.\n\nHistoria de Cuba.\n\nGeografía.\n",
            "Intro.\n\nHistoria de Cuba.\n\nGeografía.\n",
        ),
        // An insertion and a deletion far apart.
        (
            "Arriba.\nIntro.\n\nHistoria.\n\nGeografía.\n",
            "Intro.\n\nHistoria.\n\n",
            "Arriba.\nIntro.\n\nHistoria.\n\n",
        ),
    ];
    for (mine, theirs, expected) in cases {
        assert_eq!(
            merge3(base, mine, theirs),
            Merge::Clean(expected.to_owned()),
            "mine {mine:?} theirs {theirs:?}"
        );
    }
}

#[test]
fn merge3_conflict_when_both_change_the_same_line() {
    let base = "uno\ndos\ntres\n";
    let mine = "uno\nDOS mío\ntres\n";
    let theirs = "uno\ndos suyo\ntres\n";
    assert_eq!(
        merge3(base, mine, theirs),
        Merge::Conflict {
            text_with_markers: "uno\n<<<<<<< su versión\nDOS mío\n=======\ndos suyo\n\
                                >>>>>>> versión actual\ntres\n"
                .to_owned(),
            conflicts: vec![Conflict {
                base: "dos\n".to_owned(),
                mine: "DOS mío\n".to_owned(),
                theirs: "dos suyo\n".to_owned(),
                line: 2,
            }],
        }
    );
}

#[test]
fn merge3_reports_every_conflict_and_keeps_clean_parts() {
    let base = "a\nb\nc\nd\ne\nf\ng\n";
    let mine = "a\nB1\nc\nd\ne\nf\nG1";
    let theirs = "a\nB2\nc\nD\ne\nf\nG2\n";
    let Merge::Conflict {
        text_with_markers,
        conflicts,
    } = merge3(base, mine, theirs)
    else {
        panic!("expected a conflict");
    };
    // Line 2: conflict; line 4: theirs' change only; line 7: conflict (mine lacks its \n).
    assert_eq!(conflicts.len(), 2, "{text_with_markers}");
    assert_eq!(
        text_with_markers,
        "a\n<<<<<<< su versión\nB1\n=======\nB2\n>>>>>>> versión actual\nc\nD\ne\nf\n\
         <<<<<<< su versión\nG1\n=======\nG2\n>>>>>>> versión actual\n"
    );
    assert_eq!(conflicts[0].line, 2);
    assert_eq!(conflicts[1].line, 11);
    assert_eq!(conflicts[1].base, "g\n");
    assert_eq!(conflicts[1].mine, "G1");
}

#[test]
fn merge3_adjacent_changes_conflict_rather_than_guess() {
    // Like diff3 and git: edits on touching lines are not merged silently.
    let merged = merge3("a\nb\nc\nd\n", "a\nB\nc\nd\n", "a\nb\nC\nd\n");
    assert!(matches!(merged, Merge::Conflict { .. }), "{merged:?}");
}

fn meta(id: u64, author: &str) -> RevisionMeta {
    RevisionMeta {
        id,
        parent: id.checked_sub(1).filter(|p| *p > 0),
        author: author.to_owned(),
        timestamp_ms: i64::try_from(id).unwrap_or(0) * 1000,
        summary: String::new(),
        bytes: 10,
        minor: false,
    }
}

#[test]
fn rollback_returns_to_the_last_revision_by_someone_else() {
    let history = [
        meta(1, "Ana"),
        meta(2, "Beto"),
        meta(3, "Vándalo"),
        meta(4, "Vándalo"),
    ];
    assert_eq!(rollback_target(&history, "Vándalo"), Some(2));
    // Someone else edited since: refuse.
    assert_eq!(rollback_target(&history, "Beto"), None);
    // Only the author's revisions: nothing to return to.
    assert_eq!(rollback_target(&history[2..], "Vándalo"), None);
    assert_eq!(rollback_target(&[], "Vándalo"), None);
    assert_eq!(rollback_target(&history[..2], "Beto"), Some(1));
}

fn text_strategy() -> impl Strategy<Value = String> {
    // Few distinct lines so that random texts share lines and the merge has work to do.
    prop::collection::vec(
        prop::sample::select(vec!["a\n", "b\n", "c\n", "d\n", "e e\n", "", "x", "ñ\n"]),
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn merge3_identities(base in text_strategy(), x in text_strategy()) {
        prop_assert_eq!(merge3(&base, &x, &base), Merge::Clean(x.clone()));
        prop_assert_eq!(merge3(&base, &base, &x), Merge::Clean(x.clone()));
        prop_assert_eq!(merge3(&base, &x, &x), Merge::Clean(x.clone()));
    }

    #[test]
    fn merge3_never_loses_a_side(base in text_strategy(), x in text_strategy(), y in text_strategy()) {
        match merge3(&base, &x, &y) {
            Merge::Clean(_) => {}
            Merge::Conflict { text_with_markers, conflicts } => {
                prop_assert!(!conflicts.is_empty());
                for conflict in &conflicts {
                    prop_assert!(conflict.mine != conflict.theirs);
                    prop_assert!(text_with_markers.contains(&conflict.mine));
                    prop_assert!(text_with_markers.contains(&conflict.theirs));
                }
            }
        }
    }

    #[test]
    fn diff_roundtrips(old in text_strategy(), new in text_strategy()) {
        let d = diff(&old, &new);
        prop_assert_eq!(d.apply(&old), Ok(new.clone()));
        prop_assert_eq!(d.old_text(), old.clone());
        prop_assert_eq!(d.new_text(), new.clone());
        let html = d.to_html();
        prop_assert!(!html.contains("<script"));
    }

    #[test]
    fn diff_of_arbitrary_text_never_panics(old in "\\PC{0,80}", new in "\\PC{0,80}") {
        let d = diff(&old, &new);
        prop_assert_eq!(d.apply(&old), Ok(new.clone()));
        let _ = d.to_html();
        let _ = merge3(&old, &new, &old);
    }
}
