//! The USSD channel's records on SQLite and PostgreSQL: a session starts once, moves on only
//! from the state it was read in, ends for good, and is purged when old; wrong-PIN counters
//! count every failure, also when they arrive at once.

use ceiba_identity::FailureCounter;
use ceiba_store::testing::active_citizen as user;
use ceiba_store::{USSD_PURGE_BATCH_MAX, UssdSessionRow};
use ceiba_testkit::{Suite, TestDatabase, TestResult};

fn main() {
    let mut suite = Suite::new();
    suite.each_engine(
        "ussd_sessions_start_once_and_move_on_from_what_was_read",
        sessions,
    );
    suite.each_engine("ussd_sessions_are_purged_when_old", purge);
    suite.each_engine("ussd_pin_failures_count_every_failure", pin_failures);
    suite.run()
}

const NOW_MS: i64 = 1_795_996_800_000;

fn session(id: &str) -> UssdSessionRow {
    UssdSessionRow {
        session_id: id.to_owned(),
        phone: "+5351234567".to_owned(),
        service_code: "*234#".to_owned(),
        inputs_count: 0,
        text_digest: vec![1, 2, 3],
        answers: "[]".to_owned(),
        last_screen: "CON Ceiba Pagos".to_owned(),
        ended: false,
        created_at_ms: NOW_MS,
        updated_at_ms: NOW_MS,
    }
}

async fn sessions(database: TestDatabase) -> TestResult {
    let db = database.db;
    assert_eq!(db.ussd_session("ATUid_1").await?, None);
    let first = session("ATUid_1");
    assert!(db.insert_ussd_session(&first).await?);
    assert_eq!(db.ussd_session("ATUid_1").await?.as_ref(), Some(&first));
    // The same first request handled twice: the second writes nothing.
    let mut twin = first.clone();
    twin.last_screen = "CON otra".to_owned();
    assert!(!db.insert_ussd_session(&twin).await?);
    assert_eq!(db.ussd_session("ATUid_1").await?.as_ref(), Some(&first));

    // Moving on from what was read succeeds once; a request that read the same state loses.
    let mut second = first.clone();
    second.inputs_count = 1;
    second.text_digest = vec![9; 32];
    second.answers = r#"[{"at_input":0,"outcome":{"outcome":"pin_accepted"}}]"#.to_owned();
    second.last_screen = "CON Saldo".to_owned();
    second.updated_at_ms = NOW_MS + 1_000;
    assert!(db.advance_ussd_session(&second, 0).await?);
    let mut late = second.clone();
    late.last_screen = "CON tarde".to_owned();
    assert!(!db.advance_ussd_session(&late, 0).await?);
    assert_eq!(db.ussd_session("ATUid_1").await?.as_ref(), Some(&second));

    // An ended session takes nothing more.
    let mut ended = second.clone();
    ended.inputs_count = 2;
    ended.ended = true;
    ended.last_screen = "END Saldo disponible".to_owned();
    assert!(db.advance_ussd_session(&ended, 1).await?);
    let mut after = ended.clone();
    after.inputs_count = 3;
    after.ended = false;
    assert!(!db.advance_ussd_session(&after, 2).await?);
    let stored = db
        .ussd_session("ATUid_1")
        .await?
        .ok_or("the session is kept")?;
    assert!(stored.ended);
    assert_eq!(stored.last_screen, "END Saldo disponible");
    assert_eq!(stored.created_at_ms, NOW_MS, "the start time never changes");
    Ok(())
}

async fn purge(database: TestDatabase) -> TestResult {
    let db = database.db;
    for (index, age_ms) in [0_i64, 10, 86_400_000, 90_000_000].into_iter().enumerate() {
        let mut row = session(&format!("s{index}"));
        row.updated_at_ms = NOW_MS - age_ms;
        assert!(db.insert_ussd_session(&row).await?);
    }
    assert_eq!(db.purge_ussd_sessions(NOW_MS - 3_600_000).await?, 2);
    assert!(db.ussd_session("s0").await?.is_some());
    assert!(db.ussd_session("s1").await?.is_some());
    assert!(db.ussd_session("s2").await?.is_none());
    assert!(db.ussd_session("s3").await?.is_none());
    assert_eq!(db.purge_ussd_sessions(NOW_MS - 3_600_000).await?, 0);
    // One purge deletes at most a batch; the next takes the rest.
    let many = u64::from(USSD_PURGE_BATCH_MAX) + 3;
    for index in 0..many {
        let mut row = session(&format!("old{index}"));
        row.updated_at_ms = NOW_MS - 90_000_000;
        db.insert_ussd_session(&row).await?;
    }
    assert_eq!(
        db.purge_ussd_sessions(NOW_MS - 3_600_000).await?,
        u64::from(USSD_PURGE_BATCH_MAX)
    );
    assert_eq!(db.purge_ussd_sessions(NOW_MS - 3_600_000).await?, 3);
    Ok(())
}

async fn pin_failures(database: TestDatabase) -> TestResult {
    let db = database.db;
    let ana = user(&db, "+5351000001").await?;
    assert_eq!(db.ussd_pin_failures(&ana).await?, FailureCounter::default());
    let locked = db
        .update_ussd_pin_failures(&ana, |counter| FailureCounter {
            failures: counter.failures + 1,
            window_started_at_s: 1_000,
            locked_until_s: Some(1_900),
        })
        .await?;
    assert_eq!(db.ussd_pin_failures(&ana).await?, locked);
    assert_eq!(locked.locked_until_s, Some(1_900));

    // Twenty failures at once: every one counts, none is lost between a read and a write.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let db = db.clone();
        let ana = ana.clone();
        tasks.push(tokio::spawn(async move {
            db.update_ussd_pin_failures(&ana, |counter| FailureCounter {
                failures: counter.failures + 1,
                ..counter
            })
            .await
        }));
    }
    for task in tasks {
        task.await??;
    }
    let counter = db.ussd_pin_failures(&ana).await?;
    assert_eq!(counter.failures, 21);
    assert_eq!(counter.window_started_at_s, 1_000);

    // Forgetting them (a right PIN) is a change like any other; other people are untouched.
    let luis = user(&db, "+5351000002").await?;
    db.update_ussd_pin_failures(&ana, |_| FailureCounter::default())
        .await?;
    assert_eq!(db.ussd_pin_failures(&ana).await?, FailureCounter::default());
    assert_eq!(
        db.ussd_pin_failures(&luis).await?,
        FailureCounter::default()
    );
    Ok(())
}
