//! Storage tests: each runs on SQLite and, when `CEIBA_TEST_POSTGRES_URL` is set, PostgreSQL.

use ceiba_store::testing::PostgresSchema;
use ceiba_store::{Db, Engine, LeaseHolder, LeaseName, PoolSettings};
use ceiba_testkit::{Suite, TestDatabase, TestResult};

fn main() {
    let mut suite = Suite::new();
    suite.each_engine("migrations_apply_once", migrations_apply_once);
    suite.each_engine("first_migrations_race_safely", first_migrations_race_safely);
    suite.each_engine("commits_are_durable", commits_are_durable);
    suite.each_engine(
        "lease_has_one_holder_until_it_expires",
        lease_has_one_holder,
    );
    suite.each_engine("lease_release_hands_over_at_once", lease_release_hands_over);
    suite.each_engine("lease_contest_elects_exactly_one", lease_contest_elects_one);
    suite.run()
}

async fn migrations_apply_once(database: TestDatabase) -> TestResult {
    let db = database.db;
    // The harness already migrated; a second run (another process starting) changes nothing.
    let again = db.migrate().await?;
    assert_eq!(again.applied_now, 0);
    assert_eq!(again.applied_total, again.known);
    assert!(again.known >= 1);
    db.ping().await?;
    Ok(())
}

/// Several processes starting at once on a new database (a fresh deployment, a restart of all
/// of them) must agree: each migration applied exactly once, and none of them failing.
async fn first_migrations_race_safely(database: TestDatabase) -> TestResult {
    const PROCESSES: usize = 4;
    let mut schema = None;
    let mut handles = Vec::new();
    for _ in 0..PROCESSES {
        let db = match database.engine() {
            Engine::Sqlite => {
                Db::open_embedded(&database.data_dir().join("nueva"), PoolSettings::default())
                    .await?
            }
            Engine::Postgres => {
                if schema.is_none() {
                    let admin = ceiba_testkit::postgres_admin_url()?.ok_or("no PostgreSQL")?;
                    schema = Some(PostgresSchema::create(&admin).await?);
                }
                let url = schema
                    .as_ref()
                    .map(PostgresSchema::url)
                    .ok_or("no schema")?;
                Db::connect(url, PoolSettings::default()).await?
            }
        };
        handles.push(db);
    }
    let tasks: Vec<_> = handles
        .iter()
        .cloned()
        .map(|db| tokio::spawn(async move { db.migrate().await }))
        .collect();
    let mut applied = 0;
    for task in tasks {
        let report = task.await??;
        assert_eq!(report.applied_total, report.known);
        applied += report.applied_now;
    }
    let known = handles[0].migrate().await?.known;
    assert_eq!(applied, known, "each migration applied exactly once");
    for db in handles {
        db.close().await;
    }
    if let Some(schema) = schema {
        schema.drop_schema().await?;
    }
    Ok(())
}

async fn commits_are_durable(database: TestDatabase) -> TestResult {
    let durability = database.db.durability().await?;
    match database.engine() {
        Engine::Sqlite => {
            assert_eq!(durability.journal, "wal");
            assert_eq!(durability.sync_on_commit, "2", "synchronous must be FULL");
        }
        Engine::Postgres => assert_eq!(durability.journal, "on", "fsync must be on"),
    }
    assert!(durability.survives_power_loss(), "{durability:?}");
    Ok(())
}

const NOW_MS: i64 = 1_790_000_000_000;
const TTL_MS: i64 = 15_000;

async fn lease_has_one_holder(database: TestDatabase) -> TestResult {
    let db = database.db;
    let lease = LeaseName::MAINTENANCE;
    let (a, b) = (LeaseHolder::new("proceso-a"), LeaseHolder::new("proceso-b"));

    let first = db.try_acquire_lease(lease, &a, NOW_MS, TTL_MS).await?;
    let first = first.expect("the first asker gets a free lease");
    assert_eq!(first.fencing_token, 1);
    assert_eq!(first.expires_at_ms, NOW_MS + TTL_MS);

    assert_eq!(
        db.try_acquire_lease(lease, &b, NOW_MS + 1, TTL_MS).await?,
        None
    );
    assert_eq!(db.lease_holder(lease, NOW_MS + 1).await?, Some(a.clone()));

    // Renewal by the holder keeps the token and moves the expiry.
    let renewed = db
        .try_acquire_lease(lease, &a, NOW_MS + 5_000, TTL_MS)
        .await?;
    assert_eq!(renewed.map(|grant| grant.fencing_token), Some(1));
    assert_eq!(
        db.try_acquire_lease(lease, &b, NOW_MS + TTL_MS, TTL_MS)
            .await?,
        None
    );

    // Once expired, another takes it with a larger token; the old holder is refused.
    let expired_at = NOW_MS + 5_000 + TTL_MS;
    assert_eq!(db.lease_holder(lease, expired_at).await?, None);
    let taken = db.try_acquire_lease(lease, &b, expired_at, TTL_MS).await?;
    assert_eq!(taken.map(|grant| grant.fencing_token), Some(2));
    assert_eq!(
        db.try_acquire_lease(lease, &a, expired_at + 1, TTL_MS)
            .await?,
        None
    );
    assert_eq!(db.lease_holder(lease, expired_at + 1).await?, Some(b));
    Ok(())
}

async fn lease_release_hands_over(database: TestDatabase) -> TestResult {
    let db = database.db;
    let lease = LeaseName::MAINTENANCE;
    let (a, b) = (LeaseHolder::new("proceso-a"), LeaseHolder::new("proceso-b"));
    db.try_acquire_lease(lease, &a, NOW_MS, TTL_MS).await?;
    assert!(
        !db.release_lease(lease, &b).await?,
        "only the holder may release"
    );
    assert!(db.release_lease(lease, &a).await?);
    let taken = db.try_acquire_lease(lease, &b, NOW_MS + 1, TTL_MS).await?;
    assert_eq!(taken.map(|grant| grant.fencing_token), Some(2));
    Ok(())
}

async fn lease_contest_elects_one(database: TestDatabase) -> TestResult {
    let db = database.db;
    let contenders = 12;
    let mut tasks = Vec::new();
    for index in 0..contenders {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let holder = LeaseHolder::new(format!("proceso-{index}"));
            db.try_acquire_lease(LeaseName::MAINTENANCE, &holder, NOW_MS, TTL_MS)
                .await
                .map(|grant| grant.map(|_| holder))
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        if let Some(holder) = task.await?? {
            winners.push(holder);
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let holder = db.lease_holder(LeaseName::MAINTENANCE, NOW_MS).await?;
    assert_eq!(holder.as_ref(), winners.first());
    Ok(())
}
