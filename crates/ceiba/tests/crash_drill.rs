//! Crash drill: the real `ceiba serve` under the realistic mix of `src/drill_load.rs`
//! (transfers, bills issued and paid, top-ups, QR payments, bulk payout files, page reads and
//! edits, Salud's dashboard and line-list imports) is killed with SIGKILL at seeded random moments, 20 times per
//! engine (60 with `RUN_SLOW_TESTS=1`), and started again each time; the clients go on,
//! resending with the same `Idempotency-Key` whatever got no answer, as phones do. Afterwards:
//! - every money operation has a final answer, and every acknowledged one, sent again with its
//!   key, answers the same operation: present exactly once;
//! - each person's balance is the funding plus the effects of the acknowledged operations and
//!   of the payout batches ordered paid, with nothing held: nothing half-applied, nothing
//!   applied twice; every batch ordered paid is paid whole, once;
//! - every acknowledged page edit is in its page's history, once;
//! - every line list is answered in the end (sent again after a kill, it resumes), and each of
//!   its cases reads back as sent;
//! - `ceiba ledger check` and `ceiba audit verify` pass on the database.
//!
//! The seed (`CEIBA_DRILL_SEED`, printed) fixes the mix and the moments of the kills.

#[path = "../src/drill_load.rs"]
mod drill_load;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ceiba_store::{Db, LEDGER_WRITER_LEASE, LeaseName};
use ceiba_testkit::process::ServeProcess;
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use drill_load::{Load, Outcome};
use rand::{Rng, SeedableRng};
use tokio::process::Command;

const PEOPLE: u32 = 12;
const WORKERS: usize = 6;
/// How long the load runs between a restart and the next kill.
const LOAD_MS: std::ops::RangeInclusive<u64> = 300..=1_200;
/// How long the clients may take to get a final answer for everything after the last restart.
const SETTLE_WITHIN: Duration = Duration::from_secs(90);

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ceiba"))
}

fn slow() -> bool {
    std::env::var("RUN_SLOW_TESTS").is_ok_and(|value| value == "1")
}

fn seed() -> u64 {
    std::env::var("CEIBA_DRILL_SEED")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(0xD1211)
}

/// `ceiba` in the test's data folder, without the test's own CEIBA_* variables.
fn ceiba(database: &TestDatabase) -> Command {
    let mut command = Command::new(binary());
    command.current_dir(database.data_dir());
    for (name, _) in std::env::vars() {
        if name.starts_with("CEIBA_") {
            command.env_remove(name);
        }
    }
    command
}

/// The drill's clients all come from 127.0.0.1: the per-address limits would refuse them.
const SERVE_ENV: [(&str, &str); 2] = [
    ("CEIBA_LIMITS__REQUESTS_PER_MINUTE_PER_ADDRESS", "1000000"),
    (
        "CEIBA_LIMITS__SENSITIVE_REQUESTS_PER_MINUTE_PER_ADDRESS",
        "1000000",
    ),
];

async fn serve(database: &TestDatabase) -> Result<ServeProcess, String> {
    ServeProcess::start_command(ceiba(database), &database.cli_args(), &SERVE_ENV).await
}

fn main() {
    let mut suite = Suite::new();
    suite.each_engine("serve_survives_sigkill_under_load", survives_sigkill);
    suite.run()
}

/// SIGKILL, then waits until the process is gone or a zombie (which holds no file, lock or
/// socket any more).
async fn kill(server: ServeProcess) -> TestResult {
    let pid = server.pid().ok_or("the server already exited")?;
    let status = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .await?;
    assert!(status.success(), "kill -KILL {pid}");
    drop(server);
    let started = Instant::now();
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next());
        if matches!(state, None | Some("Z" | "X")) {
            return Ok(());
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "process {pid} still alive after SIGKILL"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Frees the leases a killed server left, so the next need not wait for them to expire; the
/// process is dead, as [`kill`] proved. (One restart per engine waits instead.)
async fn release_dead_leases(db: &Db) -> TestResult {
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis(),
    )?;
    for lease in [LEDGER_WRITER_LEASE, LeaseName::MAINTENANCE] {
        if let Some(holder) = db.lease_holder(lease, now_ms).await? {
            db.release_lease(lease, &holder).await?;
        }
    }
    Ok(())
}

fn completed(load: &Load) -> usize {
    load.journal().map_or(0, |journal| {
        journal
            .money
            .iter()
            .filter(|op| matches!(op.outcome, Outcome::Completed { .. }))
            .count()
    })
}

async fn survives_sigkill(database: TestDatabase) -> TestResult {
    let engine = database.engine().as_str();
    let seed = seed();
    let kills = if slow() { 60 } else { 20 };
    eprintln!("  {engine}: semilla {seed} (CEIBA_DRILL_SEED), {kills} caídas");
    let started = Instant::now();
    let db = database.db.clone();
    let mut cast = drill_load::prepare_storage(&db, PEOPLE).await?;
    // Salud's line lists name municipalities: the real geography first.
    let cuba = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cuba");
    let geography = ceiba(&database)
        .args(["salud", "geography", "--dir", &cuba.display().to_string()])
        .args(database.cli_args())
        .output()
        .await?;
    assert!(
        geography.status.success(),
        "ceiba salud geography: {}",
        String::from_utf8_lossy(&geography.stderr)
    );
    let mut server = serve(&database).await?;
    let client = drill_load::client();
    if let Err(error) = drill_load::prepare_http(&client, &server.base_url, &mut cast).await {
        return Err(format!("{error:#}\nstderr del servidor:\n{}", server.stderr()).into());
    }
    let mut load = Load::new(client, &server.base_url, cast, true);
    load.payouts = true;
    load.case_imports = true;
    let stop = Arc::new(AtomicBool::new(false));
    let driver = {
        let (load, stop) = (load.clone(), stop.clone());
        tokio::spawn(async move { load.run(WORKERS, seed, stop).await })
    };

    let mut moments = rand::rngs::StdRng::seed_from_u64(seed);
    let mut kills_mid_load = 0;
    for round in 0..kills {
        let before = completed(&load);
        tokio::time::sleep(Duration::from_millis(moments.random_range(LOAD_MS))).await;
        if completed(&load) > before {
            kills_mid_load += 1;
        }
        kill(server).await?;
        // The first restart takes over the writer lease on its own, when it expires.
        if round > 0 {
            release_dead_leases(&db).await?;
        }
        server = serve(&database).await?;
        load.set_base(&server.base_url);
    }
    // A last stretch on the last server, then the clients stop and settle what is open.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    driver.await?;
    let open_at_stop = load.journal().map_or(0, |journal| {
        journal
            .money
            .iter()
            .filter(|op| matches!(op.outcome, Outcome::Unknown { .. }))
            .count()
    });
    let still_open = load.settle(SETTLE_WITHIN).await;
    assert_eq!(still_open, 0, "every operation gets a final answer");
    assert!(
        kills_mid_load * 2 >= kills,
        "most kills land while operations are being acknowledged ({kills_mid_load} of {kills})"
    );

    let stats = load.totals();
    let verified = drill_load::verify(&load, &server.base_url).await?;
    assert!(
        verified.acknowledged > 100,
        "the load did work: {verified:?}"
    );
    assert!(
        verified.resent > 0,
        "some operations lost their answer to a kill and were sent again: {verified:?}"
    );
    assert!(verified.cases > 0, "line lists were imported: {verified:?}");

    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "the last server stops cleanly: {logs}");
    let check = ceiba(&database)
        .args(["ledger", "check"])
        .args(database.cli_args())
        .output()
        .await?;
    let check_out = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success() && check_out.contains("Invariantes: se cumplen todas."),
        "ceiba ledger check: {check_out}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let verify = ceiba(&database)
        .args(["audit", "verify"])
        .args(database.cli_args())
        .output()
        .await?;
    assert!(
        verify.status.success(),
        "ceiba audit verify: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    eprintln!(
        "  {engine}: {kills} SIGKILL ({kills_mid_load} con confirmaciones en curso) en {:.1} s; \
         {} peticiones, {} operaciones confirmadas, {} rechazadas, {} reenviadas tras perder \
         su respuesta, {open_at_stop} sin respuesta al parar, {} ediciones, {} lotes de pagos \
         masivos, {} casos importados",
        started.elapsed().as_secs_f64(),
        stats.requests(),
        verified.acknowledged,
        verified.refused,
        verified.resent,
        verified.edits,
        verified.payouts,
        verified.cases
    );
    Ok(())
}
