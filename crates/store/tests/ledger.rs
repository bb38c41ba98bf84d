//! The ledger's durable engine on SQLite and PostgreSQL: replay after restart, one writer among
//! several processes, fencing of a stale writer, concurrency against hot accounts, expiry of
//! pending transfers, append-only journal and detection of a corrupt record.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ceiba_ledger::{
    AccountFlags, AccountId, CreateAccountResult, CreateTransferResult, LedgerId, NewAccount,
    NewTransfer, Operation, PendingStatus, Record, TransferFlags, TransferId,
};
use ceiba_store::{Db, LeaseHolder, LedgerClock, LedgerEngine, LedgerError, Replica};
use ceiba_testkit::{Suite, TestDatabase, TestResult};

fn main() {
    let mut suite = Suite::new();
    suite.each_engine("ledger_survives_restart_by_replay", survives_restart);
    suite.each_engine("ledger_refuses_bad_batches", refuses_bad_batches);
    suite.each_engine("ledger_one_writer_and_takeover", one_writer_and_takeover);
    suite.each_engine("ledger_stale_writer_is_fenced", stale_writer_is_fenced);
    suite.each_engine(
        "ledger_hot_accounts_never_overdraw",
        hot_accounts_never_overdraw,
    );
    suite.each_engine(
        "ledger_pending_expires_when_idle",
        pending_expires_when_idle,
    );
    suite.each_engine("ledger_journal_is_append_only", journal_is_append_only);
    suite.each_engine(
        "ledger_corrupt_record_is_detected",
        corrupt_record_is_detected,
    );
    suite.run()
}

/// 2026-11-29 in nanoseconds, moved by hand.
const START_NS: u64 = 1_795_996_800_000_000_000;

fn manual_clock() -> (Arc<AtomicU64>, LedgerClock) {
    let now = Arc::new(AtomicU64::new(START_NS));
    let read = now.clone();
    (now, Arc::new(move || read.load(Ordering::SeqCst)))
}

async fn start(
    db: &Db,
    holder: &str,
    clock: LedgerClock,
) -> Result<LedgerEngine, Box<dyn std::error::Error + Send + Sync>> {
    let engine = LedgerEngine::start(db.clone(), LeaseHolder::new(holder), clock).await?;
    assert!(
        engine.wait_until_writer(Duration::from_secs(10)).await,
        "{holder} never became the writer"
    );
    Ok(engine)
}

fn wallet(id: u128, flags: u16) -> NewAccount {
    NewAccount {
        id: AccountId(id),
        ledger: LedgerId::CUP,
        code: 1,
        owner: id,
        flags: AccountFlags(flags),
    }
}

fn transfer(id: u128, debit: u128, credit: u128, amount: u128) -> NewTransfer {
    NewTransfer {
        id: TransferId(id),
        debit_account_id: AccountId(debit),
        credit_account_id: AccountId(credit),
        amount,
        ledger: LedgerId::CUP,
        code: 1,
        ..NewTransfer::default()
    }
}

async fn survives_restart(database: TestDatabase) -> TestResult {
    let db = database.db;
    let (_, clock) = manual_clock();
    let engine = start(&db, "primero", clock.clone()).await?;
    let created = engine
        .create_accounts(vec![
            wallet(1, 0),
            wallet(
                2,
                AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS | AccountFlags::HISTORY,
            ),
        ])
        .await?;
    assert_eq!(created, [CreateAccountResult::Ok, CreateAccountResult::Ok]);
    let results = engine
        .create_transfers(vec![
            transfer(10, 1, 2, 5_000),
            transfer(11, 2, 1, 9_000),
            NewTransfer {
                flags: TransferFlags(TransferFlags::PENDING),
                timeout_seconds: 3_600,
                ..transfer(12, 2, 1, 1_500)
            },
        ])
        .await?;
    assert_eq!(
        results,
        [
            CreateTransferResult::Ok,
            CreateTransferResult::ExceedsCredits,
            CreateTransferResult::Ok
        ]
    );
    let before = {
        let replica = engine.read();
        (
            replica.sequence,
            replica.state.account(AccountId(2)),
            replica.state.transfer(TransferId(12)),
        )
    };
    engine.stop().await;

    // A new process: everything comes back from the journal, and ids stay idempotent.
    let (_, clock) = manual_clock();
    let again = start(&db, "segundo", clock).await?;
    {
        let replica = again.read();
        assert_eq!(replica.sequence, before.0);
        assert_eq!(replica.state.account(AccountId(2)), before.1);
        assert_eq!(replica.state.transfer(TransferId(12)), before.2);
        assert_eq!(
            replica.state.pending_status(TransferId(12)),
            Some(PendingStatus::Pending)
        );
        assert!(ceiba_ledger::check(&replica.state).is_sound());
    }
    let retried = again
        .create_transfers(vec![transfer(10, 1, 2, 5_000)])
        .await?;
    assert_eq!(retried, [CreateTransferResult::Exists]);
    let balances = again.read().state.account(AccountId(2)).expect("account 2");
    assert_eq!(balances.balances.credits_posted, 5_000);
    assert_eq!(balances.balances.debits_pending, 1_500);
    again.stop().await;
    Ok(())
}

async fn refuses_bad_batches(database: TestDatabase) -> TestResult {
    let (_, clock) = manual_clock();
    let engine = start(&database.db, "unico", clock).await?;
    assert_eq!(
        engine.create_transfers(Vec::new()).await,
        Err(LedgerError::EmptyBatch)
    );
    let too_many = vec![wallet(1, 0); ceiba_ledger::BATCH_EVENTS_MAX + 1];
    assert_eq!(
        engine.create_accounts(too_many).await,
        Err(LedgerError::BatchTooLarge {
            events: ceiba_ledger::BATCH_EVENTS_MAX + 1,
            max: ceiba_ledger::BATCH_EVENTS_MAX
        })
    );
    assert_eq!(engine.read().sequence, 0, "a refused batch wrote nothing");
    engine.stop().await;
    Ok(())
}

async fn one_writer_and_takeover(database: TestDatabase) -> TestResult {
    let db = database.db;
    let (_, clock) = manual_clock();
    let first = start(&db, "a", clock.clone()).await?;
    let second = LedgerEngine::start(db.clone(), LeaseHolder::new("b"), clock.clone()).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(first.is_writer());
    assert!(!second.is_writer(), "two writers at once");
    assert_eq!(
        second.create_accounts(vec![wallet(1, 0)]).await,
        Err(LedgerError::NotWriter)
    );
    first
        .create_accounts(vec![wallet(1, 0), wallet(2, 0)])
        .await?;
    first.create_transfers(vec![transfer(1, 1, 2, 700)]).await?;
    // The follower reads what the writer wrote.
    let mut followed = false;
    for _ in 0..50 {
        if second.read().state.transfer(TransferId(1)).is_some() {
            followed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(followed, "the follower never saw the writer's transfer");

    // The writer goes away; the follower takes over and goes on from the same state.
    first.stop().await;
    assert!(
        second.wait_until_writer(Duration::from_secs(10)).await,
        "no takeover"
    );
    let results = second
        .create_transfers(vec![transfer(1, 1, 2, 700), transfer(2, 2, 1, 50)])
        .await?;
    assert_eq!(
        results,
        [CreateTransferResult::Exists, CreateTransferResult::Ok]
    );
    assert_eq!(second.read().sequence, 3);
    second.stop().await;
    Ok(())
}

async fn stale_writer_is_fenced(database: TestDatabase) -> TestResult {
    let db = database.db;
    let (_, clock) = manual_clock();
    let engine = start(&db, "a", clock).await?;
    engine
        .create_accounts(vec![wallet(1, 0), wallet(2, 0)])
        .await?;
    // Another writer (one that took the lease while this one was paused) adds record 2.
    let foreign = Record {
        sequence: 2,
        now: START_NS + 1_000,
        operations: vec![Operation::CreateTransfers(vec![transfer(77, 1, 2, 300)])],
    };
    assert!(
        db.append_ledger_record(2, &ceiba_ledger::encode(&foreign))
            .await?
    );
    // This writer's next append collides with it: refused, nothing applied twice.
    assert_eq!(
        engine.create_transfers(vec![transfer(78, 2, 1, 5)]).await,
        Err(LedgerError::NotWriter)
    );
    // It takes the lease again (it never lost it here), reads record 2 and goes on.
    assert!(engine.wait_until_writer(Duration::from_secs(10)).await);
    let results = engine.create_transfers(vec![transfer(78, 2, 1, 5)]).await?;
    assert_eq!(results, [CreateTransferResult::Ok]);
    {
        let replica = engine.read();
        assert_eq!(replica.sequence, 3);
        assert!(replica.state.transfer(TransferId(77)).is_some());
        assert!(ceiba_ledger::check(&replica.state).is_sound());
    }
    engine.stop().await;
    Ok(())
}

async fn hot_accounts_never_overdraw(database: TestDatabase) -> TestResult {
    let db = database.db;
    let (_, clock) = manual_clock();
    let engine = start(&db, "unico", clock).await?;
    const ISSUER: u128 = 1;
    const HOT: [u128; 3] = [2, 3, 4];
    let mut accounts = vec![wallet(ISSUER, 0)];
    accounts.extend(
        HOT.iter()
            .map(|id| wallet(*id, AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS)),
    );
    accounts.push(wallet(5, 0));
    engine.create_accounts(accounts).await?;
    let funding: Vec<NewTransfer> = HOT
        .iter()
        .map(|id| transfer(*id, ISSUER, *id, 1_000))
        .collect();
    engine.create_transfers(funding).await?;

    // 16 clients each try to spend 40 × 10 from every hot account: 1,920 attempts for 300 units.
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..16_u128 {
        let engine = engine.clone();
        clients.spawn(async move {
            let mut ok = 0_u128;
            for round in 0..40_u128 {
                let batch: Vec<NewTransfer> = HOT
                    .iter()
                    .enumerate()
                    .map(|(index, hot)| {
                        let id = 1_000 + client * 1_000 + round * 10 + index as u128;
                        transfer(id, *hot, 5, 10)
                    })
                    .collect();
                let results = engine.create_transfers(batch).await?;
                for result in results {
                    match result {
                        CreateTransferResult::Ok => ok += 1,
                        CreateTransferResult::ExceedsCredits => {}
                        other => panic!("unexpected result {other}"),
                    }
                }
            }
            Ok::<_, LedgerError>(ok)
        });
    }
    let mut succeeded = 0;
    while let Some(joined) = clients.join_next().await {
        succeeded += joined??;
    }
    assert_eq!(succeeded, 300, "exactly the funded amount was spent");
    {
        let replica = engine.read();
        for hot in HOT {
            let account = replica.state.account(AccountId(hot)).expect("hot account");
            assert_eq!(account.balances.debits_posted, 1_000);
            assert_eq!(account.balances.credits_posted, 1_000);
        }
        assert!(ceiba_ledger::check(&replica.state).is_sound());
    }
    engine.stop().await;
    Ok(())
}

async fn pending_expires_when_idle(database: TestDatabase) -> TestResult {
    let db = database.db;
    let (now, clock) = manual_clock();
    let engine = start(&db, "unico", clock).await?;
    engine
        .create_accounts(vec![wallet(1, 0), wallet(2, 0)])
        .await?;
    let reserve = NewTransfer {
        flags: TransferFlags(TransferFlags::PENDING),
        timeout_seconds: 1,
        ..transfer(1, 1, 2, 250)
    };
    assert_eq!(
        engine.create_transfers(vec![reserve]).await?,
        [CreateTransferResult::Ok]
    );
    now.fetch_add(2_000_000_000, Ordering::SeqCst);
    // No client writes; the writer notices the timeout on its own (within its renewal period).
    let mut expired = false;
    for _ in 0..60 {
        if engine.read().state.pending_status(TransferId(1)) == Some(PendingStatus::Expired) {
            expired = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(expired, "the pending transfer never expired");
    let account = engine
        .read()
        .state
        .account(AccountId(1))
        .expect("account 1");
    assert_eq!(account.balances.debits_pending, 0);
    let post = NewTransfer {
        flags: TransferFlags(TransferFlags::POST_PENDING),
        pending_id: TransferId(1),
        ..transfer(2, 0, 0, 0)
    };
    assert_eq!(
        engine.create_transfers(vec![post]).await?,
        [CreateTransferResult::PendingTransferExpired]
    );
    engine.stop().await;
    // The expiry was journaled: a replay sees it too.
    let mut replica = Replica::default();
    ceiba_store::replay_ledger(&db, &mut replica).await?;
    assert_eq!(
        replica.state.pending_status(TransferId(1)),
        Some(PendingStatus::Expired)
    );
    Ok(())
}

async fn journal_is_append_only(database: TestDatabase) -> TestResult {
    let db = database.db;
    let (_, clock) = manual_clock();
    let engine = start(&db, "unico", clock).await?;
    engine.create_accounts(vec![wallet(1, 0)]).await?;
    engine.stop().await;
    let update = ceiba_store::testing::tamper::try_update_ledger_record(&db, 1).await;
    assert!(update.is_err(), "a journal record was updated");
    let delete = ceiba_store::testing::tamper::try_delete_ledger_record(&db, 1).await;
    let message = delete
        .expect_err("a journal record was deleted")
        .to_string();
    assert!(message.contains("append-only"), "{message}");
    assert_eq!(db.ledger_records_after(0, 10).await?.len(), 1);
    Ok(())
}

async fn corrupt_record_is_detected(database: TestDatabase) -> TestResult {
    let db = database.db;
    let (_, clock) = manual_clock();
    let engine = start(&db, "unico", clock.clone()).await?;
    engine.create_accounts(vec![wallet(1, 0)]).await?;
    engine.stop().await;
    let mut bytes = ceiba_ledger::encode(&Record {
        sequence: 2,
        now: START_NS,
        operations: vec![Operation::CreateAccounts(vec![wallet(2, 0)])],
    });
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    assert!(db.append_ledger_record(2, &bytes).await?);
    let error = LedgerEngine::start(db.clone(), LeaseHolder::new("otro"), clock)
        .await
        .expect_err("a corrupt journal was replayed");
    let message = error.to_string();
    assert!(message.contains("registro 2"), "{message}");
    assert!(message.contains("suma de control"), "{message}");
    Ok(())
}
