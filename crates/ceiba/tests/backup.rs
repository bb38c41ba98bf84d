//! `ceiba backup` and `ceiba restore`, as an operator runs them. A backup taken while the server
//! moves money restores, on another database, to a state where every transfer acknowledged
//! before the backup began is present exactly once and `ceiba ledger check` and `ceiba audit
//! verify` hold. A damaged, altered, truncated, foreign or misdirected backup is refused with
//! its reason and leaves the target as it was.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ceiba_testkit::demo::{DEMO_PAYERS, ceiba_command, sign_in, transfer_one_peso};
use ceiba_testkit::process::ServeProcess;
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use serde_json::Value;
use tokio::process::Command;

const PAYERS: [&str; 2] = DEMO_PAYERS;
/// Where the audit signing key lives in a data folder by default.
const KEY_FILE: &str = "audit-signing.key";

fn main() {
    let mut suite = Suite::new();
    suite.each_engine_pair(
        "a_backup_taken_under_load_restores_every_acknowledged_transfer",
        a_backup_taken_under_load_restores_every_acknowledged_transfer,
    );
    suite.each_engine_pair(
        "damaged_altered_foreign_and_misdirected_backups_are_refused",
        damaged_altered_foreign_and_misdirected_backups_are_refused,
    );
    suite.run()
}

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ceiba"))
}

/// `ceiba ARGS… <the database's flags>`, in its data folder.
fn ceiba(database: &TestDatabase, args: &[&str]) -> Command {
    database.ceiba(binary(), args)
}

/// Runs `ceiba ARGS…`: (succeeded, stdout, stderr).
async fn run(database: &TestDatabase, args: &[&str]) -> Result<(bool, String, String), String> {
    let output = ceiba(database, args)
        .output()
        .await
        .map_err(|error| format!("ceiba {args:?}: {error}"))?;
    Ok((
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

async fn run_ok(database: &TestDatabase, args: &[&str]) -> Result<String, String> {
    let (ok, stdout, stderr) = run(database, args).await?;
    if ok {
        Ok(stdout)
    } else {
        Err(format!("ceiba {args:?} failed: {stderr}{stdout}"))
    }
}

/// Runs `ceiba ARGS…`, which must fail; its error output.
async fn run_refused(database: &TestDatabase, args: &[&str]) -> Result<String, String> {
    let (ok, stdout, stderr) = run(database, args).await?;
    if ok {
        Err(format!("ceiba {args:?} should have been refused: {stdout}"))
    } else {
        Ok(stderr)
    }
}

async fn start_server(database: &TestDatabase) -> Result<ServeProcess, String> {
    let mut command = ceiba_command(binary());
    command.current_dir(database.data_dir());
    ServeProcess::start_command(command, &database.cli_args(), &[]).await
}

/// A transfer of 1 CUP that must be acknowledged (201): the operation.
async fn transfer(base_url: &str, token: &str, to: &str, key: &str) -> Result<Value, String> {
    let response = transfer_one_peso(base_url, token, to, key).await?;
    if response.status != 201 {
        return Err(format!(
            "transfer {key}: {} {}",
            response.status,
            response.text()
        ));
    }
    response.json()
}

/// One acknowledged transfer: its key, payer, the operation, and when the answer arrived.
#[derive(Debug, Clone)]
struct Acknowledged {
    key: String,
    payer: usize,
    operation: Value,
    at: Instant,
}

fn copy_key(from: &TestDatabase, to: &TestDatabase) -> Result<(), String> {
    std::fs::copy(from.data_dir().join(KEY_FILE), to.data_dir().join(KEY_FILE))
        .map(drop)
        .map_err(|error| format!("copying the installation's key: {error}"))
}

fn backup_path(database: &TestDatabase, name: &str) -> PathBuf {
    database.data_dir().join(name)
}

async fn a_backup_taken_under_load_restores_every_acknowledged_transfer(
    source: TestDatabase,
    target: TestDatabase,
) -> TestResult {
    run_ok(&source, &["demo", "seed"]).await?;
    let server = start_server(&source).await?;
    let base_url = server.base_url.clone();
    let tokens = [
        sign_in(&base_url, PAYERS[0]).await?,
        sign_in(&base_url, PAYERS[1]).await?,
    ];

    // Two payers send each other 1 CUP, one transfer after another each, until told to stop.
    let acknowledged: Arc<Mutex<Vec<Acknowledged>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = tokio::task::JoinSet::new();
    for payer in 0..2 {
        let (base_url, token) = (base_url.clone(), tokens[payer].clone());
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        load.spawn(async move {
            let mut sent = 0_u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let key = format!("copia-{payer}-{sent}");
                let operation = transfer(&base_url, &token, PAYERS[1 - payer], &key).await?;
                acknowledged.lock().expect("acks").push(Acknowledged {
                    key,
                    payer,
                    operation,
                    at: Instant::now(),
                });
                sent += 1;
            }
            Ok::<u32, String>(sent)
        });
    }
    tokio::time::sleep(Duration::from_millis(700)).await;

    // A restore onto the database the server is using is refused, whatever the flags.
    let out = backup_path(&source, "copia.ceiba");
    let started = Instant::now();
    let printed = run_ok(&source, &["backup", out.to_str().ok_or("path")?]).await?;
    let finished = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = run_refused(
        &source,
        &["restore", out.to_str().ok_or("path")?, "--force"],
    )
    .await?;
    assert!(
        refused.contains("está usando esta base de datos"),
        "{refused}"
    );

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    while let Some(outcome) = load.join_next().await {
        outcome??;
    }
    server.stop().await?;
    assert!(printed.contains("Copia de"), "{printed}");
    let acknowledged = acknowledged.lock().expect("acks").clone();
    let before: Vec<&Acknowledged> = acknowledged.iter().filter(|a| a.at < started).collect();
    let after: Vec<&Acknowledged> = acknowledged.iter().filter(|a| a.at > finished).collect();
    assert!(
        before.len() >= 5 && !after.is_empty(),
        "the load ran before and after the backup: {} before, {} after",
        before.len(),
        after.len()
    );

    // The same installation on another machine: its key comes along with the backup.
    copy_key(&source, &target)?;
    let restored = run_ok(&target, &["restore", out.to_str().ok_or("path")?]).await?;
    assert!(restored.contains("restaurada"), "{restored}");
    run_ok(&target, &["ledger", "check"]).await?;
    run_ok(&target, &["audit", "verify"]).await?;

    // Every transfer acknowledged before the backup began is there exactly once: sending it
    // again with its key answers the same operation and moves nothing.
    let server = start_server(&target).await?;
    let base_url = server.base_url.clone();
    let tokens = [
        sign_in(&base_url, PAYERS[0]).await?,
        sign_in(&base_url, PAYERS[1]).await?,
    ];
    for acknowledged in &before {
        let again = transfer(
            &base_url,
            &tokens[acknowledged.payer],
            PAYERS[1 - acknowledged.payer],
            &acknowledged.key,
        )
        .await?;
        assert_eq!(
            again["id"], acknowledged.operation["id"],
            "{} was acknowledged before the backup",
            acknowledged.key
        );
    }
    server.stop().await?;
    run_ok(&target, &["ledger", "check"]).await?;
    Ok(())
}

/// The file with the bits of `mask` flipped in the byte at `at` (from the end when negative).
fn with_byte_flipped(from: &Path, to: &Path, at: i64, mask: u8) -> Result<(), String> {
    let mut bytes = std::fs::read(from).map_err(|error| error.to_string())?;
    let len = i64::try_from(bytes.len()).map_err(|error| error.to_string())?;
    let index = usize::try_from(if at < 0 { len + at } else { at }).map_err(|e| e.to_string())?;
    bytes[index] ^= mask;
    std::fs::write(to, bytes).map_err(|error| error.to_string())
}

async fn damaged_altered_foreign_and_misdirected_backups_are_refused(
    source: TestDatabase,
    target: TestDatabase,
) -> TestResult {
    run_ok(&source, &["demo", "seed"]).await?;
    let good = backup_path(&source, "buena.ceiba");
    let good_text = good.to_str().ok_or("path")?;
    run_ok(&source, &["backup", good_text]).await?;
    // A backup never writes over a file.
    let refused = run_refused(&source, &["backup", good_text]).await?;
    assert!(refused.contains("ya existe"), "{refused}");

    // The target holds data of its own, and will be checked unchanged after every refusal.
    copy_key(&source, &target)?;
    run_ok(&target, &["demo", "seed"]).await?;
    // A transfer of the target's own, so its ledger differs from the backup's.
    let server = start_server(&target).await?;
    let token = sign_in(&server.base_url, PAYERS[0]).await?;
    transfer(&server.base_url, &token, PAYERS[1], "solo-en-destino").await?;
    server.stop().await?;
    let ledger_before = run_ok(&target, &["ledger", "check"]).await?;
    let audit_before = run_ok(&target, &["audit", "verify"]).await?;

    let damaged = backup_path(&source, "dañada.ceiba");
    with_byte_flipped(&good, &damaged, -10, 0x20)?;
    let altered = backup_path(&source, "alterada.ceiba");
    let text = std::fs::read(&good)?;
    let at = text
        .windows(7)
        .position(|window| window == b"\"rows\":")
        .ok_or("no row count in the manifest")?;
    // A row count changed by one digit: still a manifest, no longer the one that was signed.
    with_byte_flipped(&good, &altered, i64::try_from(at + 7)?, 0x01)?;
    let truncated = backup_path(&source, "cortada.ceiba");
    std::fs::write(&truncated, &text[..text.len() / 2])?;
    let stranger = backup_path(&source, "otra-cosa.ceiba");
    std::fs::write(&stranger, b"PK\x03\x04 not a backup at all\n")?;

    let foreign_key = "ab".repeat(32);
    let cases: [(&Path, &[&str], &str); 6] = [
        (&damaged, &["--force"], "está dañada"),
        (&altered, &["--force"], "fue alterada"),
        (&truncated, &["--force"], "está dañada"),
        (&stranger, &["--force"], "no es una copia de Ceiba"),
        (
            &good,
            &["--force", "--public-key", &foreign_key],
            "es de otra instalación",
        ),
        (&good, &[], "ya tiene datos"),
    ];
    for (file, flags, reason) in cases {
        let mut args = vec!["restore", file.to_str().ok_or("path")?];
        args.extend_from_slice(flags);
        let refused = run_refused(&target, &args).await?;
        assert!(refused.contains(reason), "{args:?}: {refused}");
        let ledger = run_ok(&target, &["ledger", "check"]).await?;
        assert_eq!(
            ledger, ledger_before,
            "{args:?} changed the target's ledger"
        );
        let audit = run_ok(&target, &["audit", "verify"]).await?;
        assert_eq!(
            audit, audit_before,
            "{args:?} changed the target's audit log"
        );
        assert!(
            !target.data_dir().join("restaurando.carga").exists(),
            "{args:?} left its working file"
        );
    }
    // With --force the good backup replaces everything, and every check holds.
    run_ok(&target, &["restore", good_text, "--force"]).await?;
    let ledger = run_ok(&target, &["ledger", "check"]).await?;
    assert_ne!(
        ledger, ledger_before,
        "the backup's ledger replaced the target's"
    );
    assert_eq!(
        ledger,
        run_ok(&source, &["ledger", "check"]).await?,
        "the restored ledger is the backup's"
    );
    run_ok(&target, &["audit", "verify"]).await?;
    Ok(())
}
