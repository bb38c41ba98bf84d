//! Pagos' records on SQLite and PostgreSQL: idempotency keys, limits counted under a lock,
//! finishing once with its SMS, statements and wallets.

use ceiba_store::testing::active_citizen as user;
use ceiba_store::{
    BeginPayment, Finish, LimitContext, LimitWindows, NewOperation, OperationStatus,
    PersonalLimitsRow, SentUsage,
};
use ceiba_testkit::{Suite, TestDatabase, TestResult};

fn main() {
    let mut suite = Suite::new();
    suite.each_engine("payments_idempotency_key_returns_the_first", idempotency);
    suite.each_engine("payments_limits_count_pending_and_completed", limits_count);
    suite.each_engine(
        "payments_concurrent_requests_respect_a_limit",
        concurrent_limit,
    );
    suite.each_engine("payments_finish_once_with_its_messages", finish_once);
    suite.each_engine(
        "payments_batches_answer_every_request_once",
        batches_answer_once,
    );
    suite.each_engine("payments_statement_pages_newest_first", statement_pages);
    suite.each_engine("payments_wallets_and_personal_limits", wallets_and_limits);
    suite.run()
}

const NOW_MS: i64 = 1_795_996_800_000;
const WINDOWS: LimitWindows = LimitWindows {
    day_start_ms: NOW_MS - 3_600_000,
    month_start_ms: NOW_MS - 86_400_000 * 20,
};

fn operation<'a>(
    id: &'a str,
    user: &'a str,
    key: Option<&'a str>,
    amount: u64,
) -> NewOperation<'a> {
    NewOperation {
        id,
        user_id: user,
        idempotency_key: key,
        request_hash: b"hash-of-the-request",
        kind: "person_to_person",
        currency: "CUP",
        amount_minor: amount,
        fee_minor: 0,
        counterparty_user_id: None,
        counterparty_label: "Luis",
        note: "",
        counts_toward_limits: true,
        created_at_ms: NOW_MS,
    }
}

fn accept(_: &LimitContext) -> Result<(), String> {
    Ok(())
}

async fn idempotency(database: TestDatabase) -> TestResult {
    let db = database.db;
    let ana = user(&db, "+5351000001").await?;
    let first = db
        .begin_payment(&operation("1", &ana, Some("clave-1"), 500), WINDOWS, accept)
        .await?;
    assert!(
        matches!(first, BeginPayment::Started(ref row) if row.status == OperationStatus::Pending)
    );
    let again = db
        .begin_payment(&operation("2", &ana, Some("clave-1"), 500), WINDOWS, accept)
        .await?;
    match again {
        BeginPayment::Existing(row) => assert_eq!(row.id, "1"),
        other => panic!("expected the first operation, got {other:?}"),
    }
    let mut other_request = operation("3", &ana, Some("clave-1"), 900);
    other_request.request_hash = b"another-request";
    assert!(matches!(
        db.begin_payment(&other_request, WINDOWS, accept).await?,
        BeginPayment::KeyReused(ref row) if row.id == "1"
    ));
    assert!(
        db.payment_operation("2").await?.is_none(),
        "a replay wrote nothing"
    );
    assert!(db.payment_operation("3").await?.is_none());
    // Keys are per person: another person may use the same key.
    let luis = user(&db, "+5351000002").await?;
    assert!(matches!(
        db.begin_payment(
            &operation("4", &luis, Some("clave-1"), 500),
            WINDOWS,
            accept
        )
        .await?,
        BeginPayment::Started(_)
    ));
    Ok(())
}

async fn limits_count(database: TestDatabase) -> TestResult {
    let db = database.db;
    let ana = user(&db, "+5351000001").await?;
    db.begin_payment(&operation("1", &ana, None, 1_000), WINDOWS, accept)
        .await?;
    db.finish_payment("1", Finish::Completed { receipt_code: "R1" }, &[], NOW_MS)
        .await?;
    db.begin_payment(&operation("2", &ana, None, 300), WINDOWS, accept)
        .await?;
    db.begin_payment(&operation("3", &ana, None, 50), WINDOWS, accept)
        .await?;
    db.finish_payment(
        "3",
        Finish::Refused {
            code: "x",
            detail: "y",
        },
        &[],
        NOW_MS,
    )
    .await?;
    let mut yesterday = operation("4", &ana, None, 7_000);
    yesterday.created_at_ms = WINDOWS.day_start_ms - 1;
    db.begin_payment(&yesterday, WINDOWS, accept).await?;
    let mut not_counted = operation("5", &ana, None, 9_999);
    not_counted.counts_toward_limits = false;
    db.begin_payment(&not_counted, WINDOWS, accept).await?;
    db.set_personal_limits(&ana, "CUP", Some(2_000), None)
        .await?;
    let (seen, saw) = std::sync::mpsc::channel();
    let outcome = db
        .begin_payment(&operation("6", &ana, None, 1), WINDOWS, move |context| {
            let _ = seen.send(*context);
            Err("refused".to_owned())
        })
        .await?;
    assert!(matches!(outcome, BeginPayment::Refused(ref why) if why == "refused"));
    assert_eq!(
        saw.try_recv()?,
        LimitContext {
            sent: SentUsage {
                today_minor: 1_300,
                month_minor: 8_300
            },
            personal: Some(PersonalLimitsRow {
                daily_minor: Some(2_000),
                monthly_minor: None
            }),
        },
        "pending and completed count, refused and uncounted do not, yesterday only monthly; \
         the person's own limits come with them"
    );
    assert!(
        db.payment_operation("6").await?.is_none(),
        "a refusal writes nothing"
    );
    Ok(())
}

async fn concurrent_limit(database: TestDatabase) -> TestResult {
    let db = database.db;
    let ana = user(&db, "+5351000001").await?;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..12 {
        let db = db.clone();
        let ana = ana.clone();
        tasks.spawn(async move {
            let id = format!("op-{n}");
            let outcome = db
                .begin_payment(&operation(&id, &ana, None, 100), WINDOWS, |context| {
                    if context.sent.today_minor + 100 > 500 {
                        Err("over".to_owned())
                    } else {
                        Ok(())
                    }
                })
                .await?;
            Ok::<_, ceiba_store::StoreError>(matches!(outcome, BeginPayment::Started(_)))
        });
    }
    let mut started = 0;
    while let Some(joined) = tasks.join_next().await {
        if joined?? {
            started += 1;
        }
    }
    assert_eq!(started, 5, "exactly the limit's worth of operations began");
    Ok(())
}

async fn finish_once(database: TestDatabase) -> TestResult {
    let db = database.db;
    let ana = user(&db, "+5351000001").await?;
    db.begin_payment(&operation("1", &ana, None, 500), WINDOWS, accept)
        .await?;
    let messages = [
        ("+5351000001", "Transferencia enviada"),
        ("+5351000002", "Recibido"),
    ];
    let done = db
        .finish_payment(
            "1",
            Finish::Completed {
                receipt_code: "ABCDE-FGHJK",
            },
            &messages,
            NOW_MS + 5,
        )
        .await?;
    assert_eq!(done.status, OperationStatus::Completed);
    assert_eq!(done.receipt_code.as_deref(), Some("ABCDE-FGHJK"));
    assert_eq!(done.finished_at_ms, Some(NOW_MS + 5));
    // A second finish (a retry after a lost answer) changes nothing and sends nothing.
    let again = db
        .finish_payment(
            "1",
            Finish::Refused {
                code: "x",
                detail: "y",
            },
            &messages,
            NOW_MS + 9,
        )
        .await?;
    assert_eq!(again, done);
    let due = db.due_sms(NOW_MS + 10, 10).await?;
    assert_eq!(due.len(), 2, "one message each, queued once");
    assert!(
        db.finish_payment("nope", Finish::Completed { receipt_code: "r" }, &[], NOW_MS)
            .await
            .is_err()
    );
    Ok(())
}

/// Many requests at once land in shared batches: one key begins one operation whoever sends
/// it, limits are counted per person across a batch, and one operation ends once.
async fn batches_answer_once(database: TestDatabase) -> TestResult {
    let db = database.db;
    let ana = user(&db, "+5351000001").await?;
    let luis = user(&db, "+5351000002").await?;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..30 {
        let db = db.clone();
        let (who, key) = if n % 3 == 0 {
            (luis.clone(), format!("luis-{}", n % 2))
        } else {
            (ana.clone(), "misma-clave".to_owned())
        };
        tasks.spawn(async move {
            let id = format!("op-{n}");
            let new = operation(&id, &who, Some(&key), 100);
            let begun = db
                .begin_payment(&new, WINDOWS, |context| {
                    if context.sent.today_minor + 100 > 100 {
                        Err(format!("ya envió {}", context.sent.today_minor))
                    } else {
                        Ok(())
                    }
                })
                .await?;
            Ok::<_, ceiba_store::StoreError>((n, who, begun))
        });
    }
    let mut started = Vec::new();
    let mut existing = 0;
    let mut refused = 0;
    while let Some(joined) = tasks.join_next().await {
        let (n, who, begun) = joined??;
        match begun {
            BeginPayment::Started(row) => started.push((who, row.id)),
            BeginPayment::Existing(row) => {
                assert_eq!(
                    row.user_id, who,
                    "request {n} got another person's operation"
                );
                existing += 1;
            }
            BeginPayment::Refused(_) => refused += 1,
            BeginPayment::KeyReused(row) => panic!("request {n}: key reused by {row:?}"),
        }
    }
    // Ana: one key, one operation. Luis: two keys, but his limit (100 a day) lets only the
    // first begin.
    assert_eq!(
        started.iter().filter(|(who, _)| *who == ana).count(),
        1,
        "one operation for Ana's one key: {started:?}"
    );
    assert_eq!(
        started.iter().filter(|(who, _)| *who == luis).count(),
        1,
        "Luis's second key is over his limit: {started:?}"
    );
    assert_eq!(refused + existing + started.len(), 30);
    assert!(refused >= 1, "Luis's other key was refused at least once");
    let mut other_body = operation("op-otra", &ana, Some("misma-clave"), 100);
    other_body.request_hash = b"otra-peticion";
    assert!(matches!(
        db.begin_payment(&other_body, WINDOWS, accept).await?,
        BeginPayment::KeyReused(_)
    ));

    // The same operation ended by ten requests at once: ended once, its messages queued once.
    let (_, id) = started
        .iter()
        .find(|(who, _)| *who == ana)
        .ok_or("Ana's operation")?
        .clone();
    let mut ends = tokio::task::JoinSet::new();
    for n in 0..10_i64 {
        let db = db.clone();
        let id = id.clone();
        ends.spawn(async move {
            let body = format!("aviso {n}");
            db.finish_payment(
                &id,
                Finish::Completed {
                    receipt_code: "R-1",
                },
                &[("+5351000001", body.as_str())],
                NOW_MS + n,
            )
            .await
        });
    }
    let mut finished = Vec::new();
    while let Some(joined) = ends.join_next().await {
        finished.push(joined??);
    }
    let first = finished.first().ok_or("an answer")?.clone();
    assert_eq!(first.status, OperationStatus::Completed);
    assert!(
        finished.iter().all(|row| *row == first),
        "every request got the same ended operation"
    );
    let queued = db.due_sms(NOW_MS + 100, 100).await?;
    assert_eq!(
        queued.len(),
        1,
        "one message, from the request that ended it"
    );
    Ok(())
}

async fn statement_pages(database: TestDatabase) -> TestResult {
    let db = database.db;
    let ana = user(&db, "+5351000001").await?;
    let luis = user(&db, "+5351000002").await?;
    for n in 0..5_i64 {
        let id = format!("a{n}");
        let mut sent = operation(&id, &ana, None, 100);
        sent.created_at_ms = NOW_MS + n;
        sent.counterparty_user_id = Some(&luis);
        db.begin_payment(&sent, WINDOWS, accept).await?;
        if n != 2 {
            db.finish_payment(&id, Finish::Completed { receipt_code: "r" }, &[], NOW_MS)
                .await?;
        }
    }
    let first = db.payment_operations_of(&ana, 0, i64::MAX, None, 2).await?;
    assert_eq!(
        first.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["a4", "a3"]
    );
    let last = first.last().ok_or("a row")?;
    let second = db
        .payment_operations_of(&ana, 0, i64::MAX, Some((last.created_at_ms, &last.id)), 10)
        .await?;
    assert_eq!(
        second.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["a2", "a1", "a0"]
    );
    // The payee sees completed operations only.
    let received = db
        .payment_operations_of(&luis, 0, i64::MAX, None, 10)
        .await?;
    assert_eq!(
        received.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["a4", "a3", "a1", "a0"]
    );
    let window = db
        .payment_operations_of(&ana, NOW_MS + 1, NOW_MS + 3, None, 10)
        .await?;
    assert_eq!(
        window.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["a2", "a1"]
    );
    let stale = db.stale_payment_operations(NOW_MS + 100, 10).await?;
    assert_eq!(
        stale.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["a2"]
    );
    Ok(())
}

async fn wallets_and_limits(database: TestDatabase) -> TestResult {
    let db = database.db;
    let ana = user(&db, "+5351000001").await?;
    assert!(db.wallets_of(&ana).await?.is_empty());
    db.record_wallet(&ana, "USD", "22", NOW_MS).await?;
    db.record_wallet(&ana, "CUP", "11", NOW_MS).await?;
    db.record_wallet(&ana, "CUP", "11", NOW_MS + 1).await?;
    assert_eq!(
        db.wallets_of(&ana).await?,
        [
            ("CUP".to_owned(), "11".to_owned()),
            ("USD".to_owned(), "22".to_owned())
        ]
    );
    assert_eq!(db.personal_limits(&ana, "CUP").await?, None);
    db.set_personal_limits(&ana, "CUP", Some(10_000), None)
        .await?;
    db.set_personal_limits(&ana, "CUP", Some(20_000), Some(50_000))
        .await?;
    assert_eq!(
        db.personal_limits(&ana, "CUP").await?,
        Some(PersonalLimitsRow {
            daily_minor: Some(20_000),
            monthly_minor: Some(50_000)
        })
    );
    assert_eq!(db.personal_limits(&ana, "USD").await?, None);
    Ok(())
}
