//! The data folder fills up under a running `ceiba serve` (SQLite, the embedded default, whose
//! database lives there): transfers meanwhile are refused with a clear 503 problem, never a
//! 500, never half-applied; reads go on; once space returns, the same server takes transfers
//! again without a restart. Then the folder turns read-only: the server refuses to start,
//! saying why. Afterwards every acknowledged transfer is present exactly once and `ceiba ledger
//! check` and `ceiba audit verify` hold.
//!
//! The folder is a small tmpfs mounted by the test (it needs `mount`, as root; CI runs as root).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ceiba_testkit::demo::{DEMO_PAYERS, ceiba_command, sign_in, transfer_one_peso};
use ceiba_testkit::http::send;
use ceiba_testkit::process::ServeProcess;
use ceiba_testkit::{Suite, TestResult};
use serde_json::Value;

const PAYERS: [&str; 2] = DEMO_PAYERS;
/// Room for the demo's database, its write-ahead log and the search index, and not much more.
const TMPFS_SIZE: &str = "size=48m";
/// Transfers tried while the folder is full; enough for one to need new pages.
const ATTEMPTS_WHILE_FAULTY: u32 = 400;
/// How long the server may take to write again once the fault is gone.
const RECOVERY_WAIT: Duration = Duration::from_secs(20);

fn main() {
    let mut suite = Suite::new();
    suite.with_programs(
        "a_full_data_folder_refuses_writes_cleanly_and_recovers_and_a_read_only_one_is_refused",
        &["mount", "umount"],
        full_then_read_only,
    );
    suite.run()
}

/// A tmpfs mounted for the test; unmounted when dropped.
struct Mount {
    umount: PathBuf,
    point: PathBuf,
}

impl Mount {
    fn new(mount: &Path, umount: &Path, point: &Path) -> Result<Mount, String> {
        std::fs::create_dir_all(point).map_err(|error| error.to_string())?;
        command(
            mount,
            &["-t", "tmpfs", "-o", TMPFS_SIZE, "tmpfs", &display(point)],
        )?;
        Ok(Mount {
            umount: umount.to_path_buf(),
            point: point.to_path_buf(),
        })
    }

    fn remount(&self, mount: &Path, mode: &str) -> Result<(), String> {
        command(
            mount,
            &["-o", &format!("remount,{mode}"), &display(&self.point)],
        )
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new(&self.umount)
            .args(["-l", &display(&self.point)])
            .status();
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn command(program: &Path, args: &[&str]) -> Result<(), String> {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .map_err(|error| format!("{}: {error}", program.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} {args:?}: {}",
            program.display(),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

async fn ceiba(data_dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = ceiba_command(Path::new(env!("CARGO_BIN_EXE_ceiba")))
        .args(args)
        .args(["--data-dir", &display(data_dir)])
        .output()
        .await
        .map_err(|error| error.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "ceiba {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

async fn start(data_dir: &Path) -> Result<ServeProcess, String> {
    let command = ceiba_command(Path::new(env!("CARGO_BIN_EXE_ceiba")));
    ServeProcess::start_command(command, &["--data-dir".to_owned(), display(data_dir)], &[]).await
}

/// `ceiba serve` on a folder it cannot use: it must exit with an error, soon; its message.
async fn serve_refused(data_dir: &Path) -> Result<String, String> {
    let mut command = ceiba_command(Path::new(env!("CARGO_BIN_EXE_ceiba")));
    command.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        &display(data_dir),
    ]);
    let output = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .map_err(|_| "ceiba serve started on a read-only data folder".to_owned())?
        .map_err(|error| error.to_string())?;
    if output.status.success() {
        return Err("ceiba serve exited successfully on a read-only data folder".to_owned());
    }
    Ok(String::from_utf8_lossy(&output.stderr).into_owned())
}

/// How a transfer was answered.
enum Answer {
    Acknowledged(Value),
    /// A clean refusal: 503 with a problem document in Spanish.
    Refused(String),
}

async fn transfer(base_url: &str, token: &str, to: &str, key: &str) -> Result<Answer, String> {
    let response = transfer_one_peso(base_url, token, to, key).await?;
    match response.status {
        201 => Ok(Answer::Acknowledged(response.json()?)),
        503 => {
            let problem = response.json()?;
            let content_type = response.header("content-type").unwrap_or_default();
            if !content_type.starts_with("application/problem+json") {
                return Err(format!(
                    "{key}: 503 without a problem document: {content_type}"
                ));
            }
            let detail = problem["title"].as_str().unwrap_or_default().to_owned();
            if detail.is_empty() {
                return Err(format!("{key}: 503 without a title: {problem}"));
            }
            Ok(Answer::Refused(detail))
        }
        status => Err(format!(
            "{key}: a fault must be refused with 503, not {status}: {}",
            response.text()
        )),
    }
}

/// The acknowledged transfers: key, payer index, operation.
type Acks = Vec<(String, usize, Value)>;

/// Transfers until one is refused (or `attempts` run out); every answer must be clean.
async fn transfers_while_faulty(
    base_url: &str,
    tokens: &[String; 2],
    prefix: &str,
    acks: &mut Acks,
) -> Result<Vec<String>, String> {
    let mut refusals = Vec::new();
    for attempt in 0..ATTEMPTS_WHILE_FAULTY {
        let payer = usize::try_from(attempt % 2).map_err(|error| error.to_string())?;
        let key = format!("{prefix}-{attempt}");
        match transfer(base_url, &tokens[payer], PAYERS[1 - payer], &key).await? {
            Answer::Acknowledged(operation) => acks.push((key, payer, operation)),
            Answer::Refused(title) => {
                refusals.push(title);
                if refusals.len() >= 3 {
                    break;
                }
            }
        }
    }
    Ok(refusals)
}

/// Transfers succeed again within [`RECOVERY_WAIT`], and keep succeeding.
async fn recovers(
    base_url: &str,
    tokens: &[String; 2],
    prefix: &str,
    acks: &mut Acks,
) -> Result<(), String> {
    let started = Instant::now();
    let mut attempt = 0_u32;
    let mut in_a_row = 0;
    while in_a_row < 10 {
        if started.elapsed() > RECOVERY_WAIT {
            return Err(format!(
                "{prefix}: transfers did not come back within {RECOVERY_WAIT:?}"
            ));
        }
        let payer = usize::try_from(attempt % 2).map_err(|error| error.to_string())?;
        let key = format!("{prefix}-{attempt}");
        attempt += 1;
        match transfer(base_url, &tokens[payer], PAYERS[1 - payer], &key).await? {
            Answer::Acknowledged(operation) => {
                acks.push((key, payer, operation));
                in_a_row += 1;
            }
            Answer::Refused(_) => {
                in_a_row = 0;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    Ok(())
}

/// Fills the file system under `path` until it has no room left.
fn fill(path: &Path) -> Result<(), String> {
    let mut file = std::fs::File::create(path).map_err(|error| error.to_string())?;
    let block = vec![0xCE_u8; 64 * 1024];
    loop {
        match file.write_all(&block) {
            Ok(()) => {}
            Err(error) if error.raw_os_error() == Some(28) => break,
            Err(error) => return Err(format!("filling: {error}")),
        }
    }
    // The last partial block: byte by byte is too slow, so the remainder in small pieces.
    let small = [0xCE_u8; 512];
    while file.write_all(&small).is_ok() {}
    Ok(())
}

async fn full_then_read_only(programs: Vec<PathBuf>) -> TestResult {
    let (mount, umount) = (&programs[0], &programs[1]);
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("datos");
    let mounted = Mount::new(mount, umount, &data_dir)?;
    ceiba(&data_dir, &["demo", "seed"]).await?;
    let server = start(&data_dir).await?;
    let base_url = server.base_url.clone();
    let tokens = [
        sign_in(&base_url, PAYERS[0]).await?,
        sign_in(&base_url, PAYERS[1]).await?,
    ];
    let mut acks = Acks::new();
    let outcome = disk_full(&base_url, &tokens, &data_dir, &mut acks).await;
    if let Err(error) = outcome {
        let (_, stderr) = server.stop().await?;
        let tail: String = stderr
            .chars()
            .rev()
            .take(4000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(format!("{error}\n--- the server's log ---\n{tail}").into());
    }
    server.stop().await?;

    // Read-only (a file system the kernel remounted after errors, say). Linux refuses to make
    // a mount read-only while files on it are open for writing, so this happens between two
    // runs: the server refuses to start, saying why, rather than start and fail later.
    mounted.remount(mount, "ro")?;
    let refused = serve_refused(&data_dir).await;
    mounted.remount(mount, "rw")?;
    let refused = refused?;
    assert!(
        refused.contains("no se puede usar") && refused.contains(&display(&data_dir)),
        "{refused}"
    );

    // Nothing acknowledged was lost, nothing is there twice, and every check holds.
    ceiba(&data_dir, &["ledger", "check"]).await?;
    ceiba(&data_dir, &["audit", "verify"]).await?;
    let server = start(&data_dir).await?;
    for (key, payer, operation) in &acks {
        match transfer(&server.base_url, &tokens[*payer], PAYERS[1 - payer], key).await? {
            Answer::Acknowledged(again) => {
                assert_eq!(
                    again["id"], operation["id"],
                    "{key} answered another operation"
                );
            }
            Answer::Refused(title) => {
                return Err(format!("{key}: refused after recovery: {title}").into());
            }
        }
    }
    server.stop().await?;
    ceiba(&data_dir, &["ledger", "check"]).await?;
    drop(mounted);
    Ok(())
}

/// Fills the folder, checking the answers while it is full and the recovery after.
async fn disk_full(
    base_url: &str,
    tokens: &[String; 2],
    data_dir: &Path,
    acks: &mut Acks,
) -> TestResult {
    recovers(base_url, tokens, "antes", acks).await?;

    // Full: writes are refused cleanly, reads go on.
    let filler = data_dir.join("relleno");
    fill(&filler)?;
    let refusals = transfers_while_faulty(base_url, tokens, "lleno", acks).await?;
    assert!(
        !refusals.is_empty(),
        "a full data folder refused nothing in {ATTEMPTS_WHILE_FAULTY} transfers"
    );
    let home = send("GET", &format!("{base_url}/"), &[], Vec::new()).await?;
    assert_eq!(home.status, 200, "reads go on while the disk is full");
    std::fs::remove_file(&filler)?;
    recovers(base_url, tokens, "con-espacio", acks).await?;

    Ok(())
}
