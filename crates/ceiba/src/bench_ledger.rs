//! `ceiba bench ledger`: creates accounts, then submits transfers in batches through the same
//! engine the server uses (group commit, durable append, apply), and prints one line of JSON.

use std::time::{Duration, Instant};

use anyhow::Context;
use ceiba_ledger::{
    AccountFlags, AccountId, BATCH_EVENTS_MAX, CreateTransferResult, LedgerId, NewAccount,
    NewTransfer, TransferFlags, TransferId,
};
use ceiba_store::{DatabaseUrl, Db, LeaseHolder, LedgerEngine, PoolSettings, Replica};
use rand::{Rng, SeedableRng};

use crate::bench::percentile;
use crate::print_line;

/// What `ceiba bench ledger` was asked to do.
#[derive(Debug, Clone)]
pub struct LedgerBench {
    pub accounts: u32,
    pub transfers: u32,
    pub batch: u32,
    pub hot_accounts: u32,
    pub clients: u32,
    pub database_url: Option<String>,
    /// Also run PostgreSQL's `pgbench` (TPC-B, 8 clients) on the same database first.
    pub compare_pgbench: bool,
}

/// Account code of the benchmark's accounts.
const BENCH_ACCOUNT_CODE: u16 = 1;
/// Transfer code of the benchmark's transfers.
const BENCH_TRANSFER_CODE: u16 = 1;

pub async fn run(bench: LedgerBench) -> anyhow::Result<()> {
    anyhow::ensure!(bench.accounts >= 2, "--accounts debe ser al menos 2");
    anyhow::ensure!(bench.transfers > 0, "--transfers debe ser mayor que 0");
    anyhow::ensure!(
        bench.batch > 0 && bench.batch as usize <= BATCH_EVENTS_MAX,
        "--batch debe estar entre 1 y {BATCH_EVENTS_MAX}"
    );
    anyhow::ensure!(
        bench.hot_accounts <= bench.accounts,
        "--hot-accounts no puede pasar de --accounts"
    );
    anyhow::ensure!(
        (1..=64).contains(&bench.clients),
        "--clients debe estar entre 1 y 64"
    );
    anyhow::ensure!(
        !bench.compare_pgbench || bench.database_url.is_some(),
        "--compare-pgbench necesita --database-url"
    );
    let scratch = std::env::temp_dir().join(format!("ceiba-bench-{}", uuid::Uuid::new_v4()));
    let db = match bench.database_url.as_deref() {
        Some(url) => Db::connect(&DatabaseUrl::parse(url)?, PoolSettings::default()).await?,
        None => Db::open_embedded(&scratch, PoolSettings::default()).await?,
    };
    db.migrate().await?;
    let pgbench = match (&bench.database_url, bench.compare_pgbench) {
        (Some(url), true) => Some(run_pgbench(url)?),
        _ => None,
    };
    let outcome = measure(&db, &bench).await.map(|mut figures| {
        if let Some(tps) = pgbench {
            figures["pgbench_tps"] = serde_json::json!(round(tps, 0));
            figures["times_pgbench"] = serde_json::json!(round(
                figures["transfers_per_second"].as_f64().unwrap_or(0.0) / tps.max(f64::EPSILON),
                1
            ));
        }
        figures
    });
    db.close().await;
    if bench.database_url.is_none() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    print_line(&outcome?.to_string())
}

async fn measure(db: &Db, bench: &LedgerBench) -> anyhow::Result<serde_json::Value> {
    let durability = db.durability().await?;
    let engine = LedgerEngine::start(
        db.clone(),
        LeaseHolder::new(format!("bench-{}", uuid::Uuid::new_v4())),
        ceiba_store::system_clock(),
    )
    .await?;
    anyhow::ensure!(
        engine.wait_until_writer(Duration::from_secs(30)).await,
        "el banco de pruebas no obtuvo el turno de escritura del libro mayor"
    );
    anyhow::ensure!(
        engine.read().sequence == 0,
        "la base de datos de pruebas ya tiene un libro mayor; use una vacía"
    );

    // Accounts first, in full batches; not part of the measured figures.
    let accounts: Vec<NewAccount> = (1..=u128::from(bench.accounts))
        .map(|id| NewAccount {
            id: AccountId(id),
            ledger: LedgerId::CUP,
            code: BENCH_ACCOUNT_CODE,
            owner: id,
            flags: AccountFlags::default(),
        })
        .collect();
    for chunk in accounts.chunks(BATCH_EVENTS_MAX) {
        let results = engine.create_accounts(chunk.to_vec()).await?;
        anyhow::ensure!(
            results
                .iter()
                .all(|r| *r == ceiba_ledger::CreateAccountResult::Ok),
            "no se pudieron crear las cuentas de prueba"
        );
    }

    // Every batch is generated before the clock starts, so the figures measure the ledger.
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xCE1BA);
    let mut batches: Vec<Vec<NewTransfer>> = Vec::new();
    let mut next_id = 1_u128;
    let mut left = bench.transfers;
    while left > 0 {
        let size = left.min(bench.batch);
        left -= size;
        let batch = (0..size)
            .map(|_| {
                let (debit, credit) = pick_accounts(&mut rng, bench);
                let transfer = NewTransfer {
                    id: TransferId(next_id),
                    debit_account_id: AccountId(debit),
                    credit_account_id: AccountId(credit),
                    amount: rng.random_range(1..=10_000),
                    ledger: LedgerId::CUP,
                    code: BENCH_TRANSFER_CODE,
                    flags: TransferFlags::default(),
                    ..NewTransfer::default()
                };
                next_id += 1;
                transfer
            })
            .collect();
        batches.push(batch);
    }

    let clients = usize::try_from(bench.clients).expect("a small number");
    let mut shares: Vec<Vec<Vec<NewTransfer>>> = (0..clients).map(|_| Vec::new()).collect();
    for (index, batch) in batches.into_iter().enumerate() {
        shares[index % clients].push(batch);
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for share in shares {
        let engine = engine.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(share.len());
            let mut refused = 0_u64;
            for batch in share {
                let submitted = Instant::now();
                let results = engine.create_transfers(batch).await?;
                latencies.push(submitted.elapsed());
                refused += results
                    .iter()
                    .filter(|r| **r != CreateTransferResult::Ok)
                    .count() as u64;
            }
            anyhow::Ok((latencies, refused))
        });
    }
    let mut latencies = Vec::new();
    let mut refused = 0;
    while let Some(joined) = tasks.join_next().await {
        let (mut some, some_refused) = joined??;
        latencies.append(&mut some);
        refused += some_refused;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();

    let report = ceiba_ledger::check(&engine.read().state);
    let records = engine.read().sequence;
    engine.stop().await;

    // Recovery: rebuild the whole ledger from the durable journal, as a restart would.
    let replay_started = Instant::now();
    let mut replica = Replica::default();
    ceiba_store::replay_ledger(db, &mut replica)
        .await
        .context("no se pudo releer el diario del libro mayor")?;
    let replay_seconds = replay_started.elapsed().as_secs_f64();
    let replayed = ceiba_ledger::check(&replica.state);
    anyhow::ensure!(
        replica.sequence == records
            && replayed.transfers == report.transfers
            && replayed.ledgers == report.ledgers,
        "el libro releído del diario no coincide con el que se escribió"
    );

    let milliseconds = |fraction: f64| percentile(&latencies, fraction).as_secs_f64() * 1e3;
    #[allow(clippy::cast_precision_loss)]
    let transfers_per_second = f64::from(bench.transfers) / seconds.max(f64::EPSILON);
    Ok(serde_json::json!({
        "backend": db.engine().as_str(),
        "journal": durability.journal,
        "sync_on_commit": durability.sync_on_commit,
        "accounts": bench.accounts,
        "hot_accounts": bench.hot_accounts,
        "transfers": bench.transfers,
        "batch": bench.batch,
        "clients": bench.clients,
        "seconds": round(seconds, 3),
        "transfers_per_second": round(transfers_per_second, 0),
        "batch_latency_ms_p50": round(milliseconds(0.50), 3),
        "batch_latency_ms_p99": round(milliseconds(0.99), 3),
        "batch_latency_ms_max": round(milliseconds(1.0), 3),
        "refused": refused,
        "journal_records": records,
        "replay_seconds": round(replay_seconds, 3),
        "check": if report.is_sound() && replayed.is_sound() { "ok".to_owned() } else {
            format!("{:?}", report.violations)
        },
    }))
}

/// Runs `pgbench` with its default TPC-B script, 8 clients, for 10 s on `url` (after
/// initialising its tables at scale 1) and returns the transactions per second it reports.
fn run_pgbench(url: &str) -> anyhow::Result<f64> {
    let run = |args: &[&str]| -> anyhow::Result<String> {
        let output = std::process::Command::new("pgbench")
            .args(args)
            .arg(url)
            .output()
            .context("no se pudo ejecutar pgbench (paquete postgresql-client)")?;
        anyhow::ensure!(
            output.status.success(),
            "pgbench falló: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    run(&["--initialize", "--quiet", "--scale=1"])?;
    let report = run(&["--client=8", "--jobs=2", "--time=10"])?;
    report
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix("tps = ")?;
            rest.split_whitespace().next()?.parse::<f64>().ok()
        })
        .context("pgbench no informó de sus transacciones por segundo")
}

/// A debit and a credit account: uniform over all accounts, or, with hot accounts, every
/// transfer pays one of the few hot ones (merchants on payday).
fn pick_accounts(rng: &mut impl Rng, bench: &LedgerBench) -> (u128, u128) {
    let accounts = u128::from(bench.accounts);
    let debit = rng.random_range(1..=accounts);
    let credit_range = if bench.hot_accounts > 0 {
        u128::from(bench.hot_accounts)
    } else {
        accounts
    };
    loop {
        let credit = rng.random_range(1..=credit_range);
        if credit != debit {
            return (debit, credit);
        }
        if credit_range == 1 {
            // The single hot account cannot pay itself; pick another debit.
            return (if debit == accounts { 2 } else { debit + 1 }, credit);
        }
    }
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10_f64.powi(decimals);
    (value * scale).round() / scale
}
