//! Storage tests: each runs on SQLite and, when `CEIBA_TEST_POSTGRES_URL` is set, PostgreSQL.

use ceiba_store::testing::PostgresSchema;
use ceiba_store::{Db, Engine, LeaseHolder, LeaseName, PoolSettings};
use ceiba_testkit::{Suite, TestDatabase, TestResult};

fn main() {
    let mut suite = Suite::new();
    suite.each_engine("migrations_apply_once", migrations_apply_once);
    suite.each_engine(
        "a_migrated_database_holds_no_data_until_someone_writes",
        a_migrated_database_holds_no_data_until_someone_writes,
    );
    suite.each_engine("first_migrations_race_safely", first_migrations_race_safely);
    suite.each_engine("commits_are_durable", commits_are_durable);
    suite.each_engine(
        "lease_has_one_holder_until_it_expires",
        lease_has_one_holder,
    );
    suite.each_engine("lease_release_hands_over_at_once", lease_release_hands_over);
    suite.each_engine("lease_contest_elects_exactly_one", lease_contest_elects_one);
    suite.each_engine(
        "audit_appends_keep_tree_and_rows_in_step",
        audit_appends_keep_tree,
    );
    suite.each_engine(
        "audit_concurrent_appenders_never_collide",
        audit_concurrent_appenders,
    );
    suite.each_engine(
        "audit_rows_refuse_update_and_delete",
        audit_rows_append_only,
    );
    suite.each_engine("audit_proofs_verify_and_refuse_bad_sizes", audit_proofs);
    suite.each_engine("audit_checkpoints_store_once_per_size", audit_checkpoints);
    suite.run()
}

fn event(number: u64) -> Vec<u8> {
    ceiba_audit::AuditEvent::new(ceiba_audit::EventKind::LoginFailed, 1_790_000_000_000)
        .actor(format!("usuario-{number}"))
        .to_bytes()
}

async fn audit_appends_keep_tree(database: TestDatabase) -> TestResult {
    let db = database.db;
    let empty = db.audit_head().await?;
    assert_eq!(empty.tree_size, 0);
    assert_eq!(empty.root, ceiba_audit::empty_root());

    let first: Vec<Vec<u8>> = (0..3).map(event).collect();
    let head = db.append_audit(&first, NOW_MS).await?;
    assert_eq!(head.tree_size, 3);
    let second: Vec<Vec<u8>> = (3..10).map(event).collect();
    let head = db.append_audit(&second, NOW_MS + 1).await?;
    assert_eq!(head.tree_size, 10);
    assert_eq!(db.audit_head().await?, head);

    let rows = db.audit_entries(0, 100).await?;
    assert_eq!(rows.len(), 10);
    let leaves: Vec<_> = rows.iter().map(|row| row.leaf_hash).collect();
    assert_eq!(ceiba_audit::root(&leaves), head.root);
    for (position, row) in rows.iter().enumerate() {
        assert_eq!(row.index, position as u64);
        assert_eq!(row.data, event(position as u64));
        assert_eq!(row.leaf_hash, ceiba_audit::leaf_hash(&row.data));
        assert_eq!(row.root_after, ceiba_audit::root(&leaves[..=position]));
    }
    // Paging picks up where it stopped.
    let page = db.audit_entries(7, 2).await?;
    assert_eq!(page.iter().map(|row| row.index).collect::<Vec<_>>(), [7, 8]);
    Ok(())
}

async fn audit_concurrent_appenders(database: TestDatabase) -> TestResult {
    let db = database.db;
    let mut tasks = Vec::new();
    for writer in 0..6_u64 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..5_u64 {
                let batch = [
                    event(writer * 100 + round),
                    event(writer * 100 + round + 50),
                ];
                db.append_audit(&batch, NOW_MS).await?;
            }
            Ok::<_, ceiba_store::StoreError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let rows = db.audit_entries(0, 1_000).await?;
    assert_eq!(rows.len(), 60);
    let entries = rows.into_iter().map(|row| ceiba_audit::StoredEntry {
        index: row.index,
        data: row.data,
        leaf_hash: row.leaf_hash,
        root_after: row.root_after,
    });
    let key = ceiba_audit::CheckpointSigner::from_seed([7; 32]).public_key_bytes();
    let summary = ceiba_audit::verify_log(entries, &[], &key)?;
    assert_eq!(summary.entries, 60);
    assert_eq!(summary.root, db.audit_head().await?.root);
    Ok(())
}

async fn audit_rows_append_only(database: TestDatabase) -> TestResult {
    let db = database.db;
    db.append_audit(&[event(0), event(1)], NOW_MS).await?;
    let update = ceiba_store::testing::tamper::try_update_entry(&db, 0).await;
    assert!(update.is_err(), "an audit entry was updated");
    let delete = ceiba_store::testing::tamper::try_delete_entry(&db, 1).await;
    assert!(delete.is_err(), "an audit entry was deleted");
    let message = delete.unwrap_err().to_string();
    assert!(message.contains("append-only"), "{message}");
    assert_eq!(db.audit_entries(0, 10).await?.len(), 2);
    Ok(())
}

async fn audit_proofs(database: TestDatabase) -> TestResult {
    let db = database.db;
    let events: Vec<Vec<u8>> = (0..13).map(event).collect();
    let head = db.append_audit(&events, NOW_MS).await?;
    for index in [0, 5, 12] {
        let proof = db.audit_inclusion_proof(index, None).await?;
        assert_eq!(proof.tree_size, 13);
        assert_eq!(proof.root, head.root);
        assert_eq!(
            proof.leaf_hash,
            ceiba_audit::leaf_hash(&events[usize::try_from(index)?])
        );
        ceiba_audit::verify_inclusion(proof.leaf_hash, index, 13, &proof.audit_path, head.root)?;
    }
    let older = db.audit_inclusion_proof(2, Some(4)).await?;
    assert_eq!(older.root, ceiba_audit::root(&older_leaves(&events, 4)));
    let consistency = db.audit_consistency_proof(5, None).await?;
    ceiba_audit::verify_consistency(5, 13, consistency.first_root, head.root, &consistency.proof)?;
    for refused in [
        db.audit_inclusion_proof(13, None).await.err(),
        db.audit_inclusion_proof(0, Some(14)).await.err(),
        db.audit_consistency_proof(9, Some(4)).await.err(),
    ] {
        let error = refused.ok_or("an impossible proof was produced")?;
        assert_eq!(error.kind(), ceiba_store::ErrorKind::NotFound, "{error}");
    }
    Ok(())
}

fn older_leaves(events: &[Vec<u8>], size: usize) -> Vec<ceiba_audit::Hash> {
    events[..size]
        .iter()
        .map(|data| ceiba_audit::leaf_hash(data))
        .collect()
}

async fn audit_checkpoints(database: TestDatabase) -> TestResult {
    let db = database.db;
    assert_eq!(db.latest_checkpoint().await?, None);
    assert!(db.store_checkpoint(3, "tres", NOW_MS).await?);
    assert!(
        !db.store_checkpoint(3, "otro tres", NOW_MS).await?,
        "one per size"
    );
    assert!(db.store_checkpoint(7, "siete", NOW_MS + 1).await?);
    let all = db.checkpoints().await?;
    assert_eq!(
        all.iter().map(|row| row.tree_size).collect::<Vec<_>>(),
        [3, 7]
    );
    assert_eq!(all[0].signed_text, "tres");
    assert_eq!(
        db.latest_checkpoint().await?.map(|row| row.tree_size),
        Some(7)
    );
    Ok(())
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

/// What `ceiba restore` relies on to refuse replacing a database with data of its own: the rows
/// the migrations create (counters, the billers known from the start) are not data, an account
/// is.
async fn a_migrated_database_holds_no_data_until_someone_writes(
    database: TestDatabase,
) -> TestResult {
    let db = &database.db;
    assert!(
        !db.holds_data().await?,
        "a migrated database holds nothing yet"
    );
    ceiba_store::testing::active_citizen(db, "+53 5311 0001").await?;
    assert!(db.holds_data().await?, "an account is data");
    Ok(())
}
