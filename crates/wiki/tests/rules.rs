//! The editorial rules, through the public API.

use ceiba_wiki::rules::{
    Action, BlockState, Condition, DAY_MS, EditFacts, EditMode, Editor, Filter, FilterAction,
    FilterError, FilterHit, MINUTE_MS, PageState, Pattern, Policy, Protection, ProtectionLevel,
    RateLimit, Refusal, RetryAfterMs, RevisionState, WikiRole, allows, can_edit,
    default_rate_limit, evaluate, visible_revision,
};

const NOW: i64 = 1_700_000_000_000;

#[test]
fn permission_matrix() {
    use Action::*;
    // Columns: Reader, Confirmed, Autoconfirmed, Editor, Reviewer, Administrator.
    let table: [(Action, [bool; 6]); 15] = [
        (Read, [true, true, true, true, true, true]),
        (Edit, [false, true, true, true, true, true]),
        (CreatePage, [false, true, true, true, true, true]),
        (Move, [false, false, true, true, true, true]),
        (Upload, [false, false, true, true, true, true]),
        (EditSemiProtected, [false, false, true, true, true, true]),
        (Autoreview, [false, false, false, true, true, true]),
        (Review, [false, false, false, false, true, true]),
        (Rollback, [false, false, false, false, true, true]),
        (Protect, [false, false, false, false, false, true]),
        (
            EditFullyProtected,
            [false, false, false, false, false, true],
        ),
        (Delete, [false, false, false, false, false, true]),
        (Block, [false, false, false, false, false, true]),
        (ManageFilters, [false, false, false, false, false, true]),
        (AssignRoles, [false, false, false, false, false, true]),
    ];
    let roles = [
        WikiRole::Reader,
        WikiRole::Confirmed,
        WikiRole::Autoconfirmed,
        WikiRole::Editor,
        WikiRole::Reviewer,
        WikiRole::Administrator,
    ];
    assert_eq!(table.len(), Action::ALL.len());
    for (action, expected) in table {
        for (role, allowed) in roles.iter().zip(expected) {
            assert_eq!(allows(*role, action), allowed, "{role:?} × {action:?}");
        }
    }
}

#[test]
fn roles_earned_from_account_facts() {
    let policy = Policy::default();
    let four_days_ago = NOW - 4 * DAY_MS;
    let cases = [
        (Editor::anonymous(), WikiRole::Reader),
        (
            Editor {
                confirmed: false,
                ..Editor::confirmed(four_days_ago, 50)
            },
            WikiRole::Reader,
        ),
        (Editor::confirmed(NOW, 0), WikiRole::Confirmed),
        (
            Editor::confirmed(four_days_ago, 10),
            WikiRole::Autoconfirmed,
        ),
        (
            Editor::confirmed(four_days_ago + 1, 10),
            WikiRole::Confirmed,
        ),
        (Editor::confirmed(four_days_ago, 9), WikiRole::Confirmed),
        (
            Editor {
                granted: vec![WikiRole::Reviewer, WikiRole::Editor],
                ..Editor::confirmed(NOW, 0)
            },
            WikiRole::Reviewer,
        ),
    ];
    for (editor, role) in cases {
        assert_eq!(editor.role(&policy, NOW), role, "{editor:?}");
    }
    let strict = Policy {
        autoconfirm_age_ms: 30 * DAY_MS,
        autoconfirm_edits: 100,
    };
    assert_eq!(
        Editor::confirmed(four_days_ago, 10).role(&strict, NOW),
        WikiRole::Confirmed
    );
}

fn page(protection: Option<Protection>, pending_changes: bool) -> PageState {
    PageState {
        exists: true,
        protection,
        pending_changes,
    }
}

fn with_role(role: WikiRole) -> Editor {
    Editor {
        granted: vec![role],
        ..Editor::confirmed(NOW - DAY_MS, 0)
    }
}

#[test]
fn editing_needs_a_confirmed_unblocked_account() {
    let policy = Policy::default();
    let open = page(None, false);
    assert_eq!(
        can_edit(&Editor::anonymous(), &open, &policy, NOW),
        Err(Refusal::NotLoggedIn)
    );
    let unconfirmed = Editor {
        confirmed: false,
        ..Editor::confirmed(NOW, 0)
    };
    assert_eq!(
        can_edit(&unconfirmed, &open, &policy, NOW),
        Err(Refusal::AccountNotConfirmed)
    );
    let newcomer = Editor::confirmed(NOW, 0);
    assert_eq!(
        can_edit(&newcomer, &open, &policy, NOW),
        Ok(EditMode::Publish)
    );
    let missing = PageState::default();
    assert_eq!(
        can_edit(&newcomer, &missing, &policy, NOW),
        Ok(EditMode::Publish)
    );

    let blocked = Editor {
        block: Some(BlockState {
            expires_ms: Some(NOW + 1000),
            reason: "vandalismo".to_owned(),
        }),
        ..Editor::confirmed(NOW - 10 * DAY_MS, 100)
    };
    let refusal = can_edit(&blocked, &open, &policy, NOW).unwrap_err();
    assert!(matches!(refusal, Refusal::Blocked { .. }));
    assert!(refusal.to_string().contains("vandalismo"), "{refusal}");
    // The block lapses at its expiry.
    assert_eq!(
        can_edit(&blocked, &open, &policy, NOW + 1000),
        Ok(EditMode::Publish)
    );
}

#[test]
fn protection_with_expiry() {
    let policy = Policy::default();
    let newcomer = Editor::confirmed(NOW, 0);
    let veteran = Editor::confirmed(NOW - 10 * DAY_MS, 100);
    let admin = with_role(WikiRole::Administrator);
    let semi = page(
        Some(Protection {
            level: ProtectionLevel::Semi,
            expires_ms: Some(NOW + 1000),
        }),
        false,
    );
    let full = page(
        Some(Protection {
            level: ProtectionLevel::Full,
            expires_ms: None,
        }),
        false,
    );
    // (editor, page, time, expected)
    let cases = [
        (&newcomer, &semi, NOW, Err("semi")),
        (&newcomer, &semi, NOW + 999, Err("semi")),
        (&newcomer, &semi, NOW + 1000, Ok(EditMode::Publish)),
        (&veteran, &semi, NOW, Ok(EditMode::Pending)),
        (&admin, &semi, NOW, Ok(EditMode::Publish)),
        (&veteran, &full, NOW, Err("full")),
        (&veteran, &full, NOW + 100 * DAY_MS, Err("full")),
        (&admin, &full, NOW, Ok(EditMode::Publish)),
    ];
    for (editor, page, at, expected) in cases {
        let got = can_edit(editor, page, &policy, at);
        match expected {
            Ok(mode) => assert_eq!(got, Ok(mode), "{editor:?} at {at}"),
            Err(level) => {
                let want = if level == "semi" {
                    ProtectionLevel::Semi
                } else {
                    ProtectionLevel::Full
                };
                assert!(
                    matches!(got, Err(Refusal::Protected { level, .. }) if level == want),
                    "{got:?}"
                );
            }
        }
    }
    let message = can_edit(&veteran, &full, &policy, NOW)
        .unwrap_err()
        .to_string();
    assert!(message.contains("protegida"), "{message}");
}

#[test]
fn pending_changes_review() {
    let policy = Policy::default();
    let flagged = page(None, true);
    // Edits by roles with autoreview are accepted at once; others wait for review.
    let cases = [
        (Editor::confirmed(NOW, 0), EditMode::Pending),
        (Editor::confirmed(NOW - 10 * DAY_MS, 100), EditMode::Pending),
        (with_role(WikiRole::Editor), EditMode::Publish),
        (with_role(WikiRole::Reviewer), EditMode::Publish),
        (with_role(WikiRole::Administrator), EditMode::Publish),
    ];
    for (editor, mode) in cases {
        assert_eq!(
            can_edit(&editor, &flagged, &policy, NOW),
            Ok(mode),
            "{editor:?}"
        );
    }

    let revisions = [
        RevisionState {
            id: 1,
            reviewed: true,
        },
        RevisionState {
            id: 2,
            reviewed: true,
        },
        RevisionState {
            id: 3,
            reviewed: false,
        },
    ];
    let view = |page: &PageState, role| visible_revision(&revisions, page, role, NOW);
    assert_eq!(view(&flagged, WikiRole::Reader), Some(2));
    assert_eq!(view(&flagged, WikiRole::Autoconfirmed), Some(2));
    assert_eq!(view(&flagged, WikiRole::Editor), Some(2));
    assert_eq!(view(&flagged, WikiRole::Reviewer), Some(3));
    assert_eq!(view(&flagged, WikiRole::Administrator), Some(3));
    // An unflagged, unprotected page shows its latest revision to all.
    assert_eq!(view(&page(None, false), WikiRole::Reader), Some(3));
    // A protected page is under review while the protection lasts.
    let protected = page(
        Some(Protection {
            level: ProtectionLevel::Semi,
            expires_ms: Some(NOW + 1),
        }),
        false,
    );
    assert_eq!(view(&protected, WikiRole::Reader), Some(2));
    assert_eq!(
        visible_revision(&revisions, &protected, WikiRole::Reader, NOW + 1),
        Some(3)
    );
    // Never reviewed: the latest; no revisions: none.
    let unreviewed = [RevisionState {
        id: 7,
        reviewed: false,
    }];
    assert_eq!(
        visible_revision(&unreviewed, &flagged, WikiRole::Reader, NOW),
        Some(7)
    );
    assert_eq!(visible_revision(&[], &flagged, WikiRole::Reader, NOW), None);
}

fn filters() -> Vec<Filter> {
    vec![
        Filter {
            id: 1,
            description: "Vaciado de página".to_owned(),
            conditions: vec![Condition::SizeDeltaUnder(-5000)],
            action: FilterAction::Disallow,
        },
        Filter {
            id: 2,
            description: "Enlaces externos de cuenta nueva".to_owned(),
            conditions: vec![
                Condition::NewAccount {
                    max_edits: 10,
                    max_age_ms: 4 * DAY_MS,
                },
                Condition::Matches(Pattern::new(r"(?i)https?://").unwrap()),
            ],
            action: FilterAction::Warn,
        },
        Filter {
            id: 3,
            description: "Texto grande añadido".to_owned(),
            conditions: vec![
                Condition::SizeDeltaOver(10_000),
                Condition::PageNamespace(0),
            ],
            action: FilterAction::Tag("adición grande".to_owned()),
        },
        Filter {
            id: 4,
            description: "Muchas ediciones con enlaces".to_owned(),
            conditions: vec![Condition::Matches(Pattern::new(r"https?://").unwrap())],
            action: FilterAction::Throttle {
                max: 2,
                per_ms: MINUTE_MS,
            },
        },
    ]
}

#[test]
fn abuse_filters_each_action() {
    let newcomer = Editor::confirmed(NOW, 0);
    let veteran = Editor::confirmed(NOW - 10 * DAY_MS, 100);
    let facts = |editor, ns, size_delta, added_text| EditFacts {
        editor,
        namespace: ns,
        size_delta,
        added_text,
        now_ms: NOW,
    };
    let filters = filters();

    let quiet = evaluate(&filters, &facts(&newcomer, 0, 10, "hola"), &[]);
    assert_eq!(quiet.matched, Vec::<u32>::new());
    assert!(quiet.may_save());

    let blanking = evaluate(&filters, &facts(&veteran, 0, -6000, ""), &[]);
    assert_eq!(blanking.matched, vec![1]);
    assert!(!blanking.may_save());
    assert!(blanking.disallowed.unwrap().contains("Vaciado de página"));

    let link = facts(&newcomer, 0, 30, "ver HTTP://spam.example");
    let warned = evaluate(&filters, &link, &[]);
    assert_eq!(warned.warnings, vec!["Enlaces externos de cuenta nueva"]);
    // Filter 4 is case-sensitive: not matched.
    assert_eq!(warned.matched, vec![2]);
    assert!(warned.may_save());
    let by_veteran = evaluate(&filters, &facts(&veteran, 0, 30, "ver http://x"), &[]);
    assert_eq!(by_veteran.warnings, Vec::<String>::new());

    let big = evaluate(&filters, &facts(&veteran, 0, 20_000, "texto"), &[]);
    assert_eq!(big.tags, vec!["adición grande"]);
    let big_elsewhere = evaluate(&filters, &facts(&veteran, 2, 20_000, "texto"), &[]);
    assert_eq!(big_elsewhere.tags, Vec::<String>::new());

    // Throttle: 2 matches per minute; the third within the window is refused.
    let edit = facts(&veteran, 0, 30, "http://a");
    let hit = |at_ms| FilterHit {
        filter_id: 4,
        at_ms,
    };
    assert!(evaluate(&filters, &edit, &[hit(NOW - 10)]).may_save());
    let other_filter = FilterHit {
        filter_id: 2,
        at_ms: NOW - 5,
    };
    assert!(evaluate(&filters, &edit, &[hit(NOW - 10), other_filter]).may_save());
    let throttled = evaluate(&filters, &edit, &[hit(NOW - 20_000), hit(NOW - 10)]);
    assert_eq!(throttled.throttled.map(|t| t.filter_id), Some(4));
    assert_eq!(
        throttled.throttled.map(|t| t.retry_after_ms),
        Some(MINUTE_MS - 20_000)
    );
    assert!(!throttled.may_save());
    assert!(
        evaluate(&filters, &edit, &[hit(NOW - MINUTE_MS), hit(NOW - 10)]).may_save(),
        "a hit exactly one window old no longer counts"
    );
}

#[test]
fn bad_patterns_are_refused_clearly() {
    let err = Pattern::new("(sin cerrar").unwrap_err();
    assert!(matches!(err, FilterError::InvalidPattern { .. }));
    assert!(err.to_string().contains("(sin cerrar"), "{err}");
    assert!(matches!(
        Pattern::new(&"a".repeat(5000)),
        Err(FilterError::PatternTooLong { .. })
    ));
    // Compiles to more than the size limit.
    assert!(Pattern::new(r"\w{1000}\w{1000}\w{1000}").is_err());
}

#[test]
fn rate_limits_at_the_boundary() {
    let limit = RateLimit {
        max: 3,
        per_ms: 1000,
    };
    // (history, now, expected)
    let cases: [(&[i64], i64, Result<(), RetryAfterMs>); 7] = [
        (&[], 5000, Ok(())),
        (&[4100, 4200], 5000, Ok(())),
        (&[4100, 4200, 4300], 5000, Err(RetryAfterMs(100))),
        (&[4300, 4100, 4200], 5000, Err(RetryAfterMs(100))),
        (&[4000, 4200, 4300], 5000, Ok(())),
        (&[4001, 4200, 4300], 5000, Err(RetryAfterMs(1))),
        (
            &[4100, 4200, 4300, 4400, 4500],
            5000,
            Err(RetryAfterMs(300)),
        ),
    ];
    for (history, now, expected) in cases {
        assert_eq!(limit.check(history, now), expected, "{history:?} at {now}");
    }
    let never = RateLimit { max: 0, per_ms: 60 };
    assert_eq!(never.check(&[], 0), Err(RetryAfterMs(60)));
}

#[test]
fn default_rate_limits_table() {
    let per_minute = |max| {
        Some(RateLimit {
            max,
            per_ms: MINUTE_MS,
        })
    };
    let cases = [
        (Action::Read, WikiRole::Reader, None),
        (Action::Edit, WikiRole::Reader, None),
        (Action::Edit, WikiRole::Confirmed, per_minute(8)),
        (Action::Edit, WikiRole::Autoconfirmed, per_minute(90)),
        (Action::Edit, WikiRole::Editor, None),
        (Action::Edit, WikiRole::Administrator, None),
        (Action::CreatePage, WikiRole::Confirmed, per_minute(3)),
        (Action::CreatePage, WikiRole::Autoconfirmed, per_minute(10)),
        (Action::Move, WikiRole::Confirmed, None),
        (Action::Move, WikiRole::Autoconfirmed, per_minute(8)),
        (Action::Upload, WikiRole::Reviewer, per_minute(8)),
        (Action::Rollback, WikiRole::Reviewer, per_minute(100)),
        (Action::Rollback, WikiRole::Administrator, None),
        (Action::Block, WikiRole::Administrator, None),
    ];
    for (action, role, expected) in cases {
        assert_eq!(
            default_rate_limit(action, role),
            expected,
            "{action:?} {role:?}"
        );
    }
}
