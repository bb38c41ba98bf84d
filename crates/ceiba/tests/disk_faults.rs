//! Faults of the data folder under a running `ceiba serve` (SQLite, the embedded default, whose
//! database lives there):
//!
//! - It fills up: transfers meanwhile are refused with a clear 503 problem, never a 500, never
//!   half-applied; reads go on; once space returns, the same server takes transfers again
//!   without a restart. A folder that is read-only at start: the server refuses to start,
//!   saying why. (A small tmpfs the test mounts.)
//! - It turns read-only mid-run, as a disk does when its file system meets an error and the
//!   kernel remounts it (`errors=remount-ro`): an ext4 image on a loop device, the error
//!   triggered through the kernel's own test knob (`/sys/fs/ext4/<device>/trigger_fs_error`).
//!   Transfers are refused cleanly, reads go on; after the server stops, the file system is
//!   checked (`e2fsck`) and mounted again, and the server starts on it.
//!
//! Afterwards, in both, every acknowledged transfer is present exactly once and `ceiba ledger
//! check` and `ceiba audit verify` hold. Mounting needs root; CI runs as root.

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
/// The ext4 image: the demo's database, its log and the search index, with room to spare.
const IMAGE_BYTES: u64 = 128 * 1024 * 1024;
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
    suite.with_programs(
        "a_data_folder_turning_read_only_mid_run_refuses_writes_cleanly_and_loses_nothing",
        &["mount", "umount", "mkfs.ext4", "e2fsck", "findmnt"],
        read_only_mid_run,
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
        return Err(with_log(&error.to_string(), &stderr).into());
    }
    server.stop().await?;

    // Read-only at start (a file system left read-only after errors, say; the live case is the
    // other test): the server refuses to start, saying why, rather than start and fail later.
    mounted.remount(mount, "ro")?;
    let refused = serve_refused(&data_dir).await;
    mounted.remount(mount, "rw")?;
    let refused = refused?;
    assert!(
        refused.contains("no se puede usar") && refused.contains(&display(&data_dir)),
        "{refused}"
    );

    nothing_lost(&data_dir, &tokens, &acks).await?;
    drop(mounted);
    Ok(())
}

/// A failure with the end of the server's log, which says what the server saw.
fn with_log(error: &str, stderr: &str) -> String {
    let tail: String = stderr
        .chars()
        .rev()
        .take(4000)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{error}\n--- the server's log ---\n{tail}")
}

/// Nothing acknowledged was lost, nothing is there twice (each key answers its own operation
/// again), and every check holds.
async fn nothing_lost(data_dir: &Path, tokens: &[String; 2], acks: &Acks) -> TestResult {
    ceiba(data_dir, &["ledger", "check"]).await?;
    ceiba(data_dir, &["audit", "verify"]).await?;
    let server = start(data_dir).await?;
    for (key, payer, operation) in acks {
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
    ceiba(data_dir, &["ledger", "check"]).await?;
    Ok(())
}

/// An ext4 image mounted on a loop device with `errors=remount-ro`; unmounted when dropped.
struct Ext4Image {
    point: PathBuf,
    umount: PathBuf,
}

impl Ext4Image {
    fn mount(mount: &Path, umount: &Path, image: &Path, point: &Path) -> Result<Ext4Image, String> {
        std::fs::create_dir_all(point).map_err(|error| error.to_string())?;
        command(
            mount,
            &[
                "-t",
                "ext4",
                "-o",
                "loop,errors=remount-ro",
                &display(image),
                &display(point),
            ],
        )?;
        Ok(Ext4Image {
            point: point.to_path_buf(),
            umount: umount.to_path_buf(),
        })
    }

    /// The kernel's name of the mounted file system (`loop3`), as under `/sys/fs/ext4`.
    fn device(&self, findmnt: &Path) -> Result<String, String> {
        let output = std::process::Command::new(findmnt)
            .args(["-n", "-o", "SOURCE", &display(&self.point)])
            .output()
            .map_err(|error| error.to_string())?;
        let source = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        source
            .strip_prefix("/dev/")
            .map(str::to_owned)
            .ok_or_else(|| {
                format!(
                    "{} is not mounted from a device: {source:?}",
                    self.point.display()
                )
            })
    }

    fn unmount(&self) -> Result<(), String> {
        command(&self.umount, &[&display(&self.point)])
    }
}

impl Drop for Ext4Image {
    fn drop(&mut self) {
        let _ = std::process::Command::new(&self.umount)
            .args(["-l", &display(&self.point)])
            .status();
    }
}

async fn read_only_mid_run(programs: Vec<PathBuf>) -> TestResult {
    let [mount, umount, mkfs, e2fsck, findmnt] = programs.as_slice() else {
        return Err("five programs".into());
    };
    let dir = tempfile::tempdir()?;
    let image = dir.path().join("disco.img");
    std::fs::File::create(&image)?.set_len(IMAGE_BYTES)?;
    command(mkfs, &["-q", "-F", &display(&image)])?;
    let data_dir = dir.path().join("datos");
    let mounted = Ext4Image::mount(mount, umount, &image, &data_dir)?;
    ceiba(&data_dir, &["demo", "seed"]).await?;
    let server = start(&data_dir).await?;
    let base_url = server.base_url.clone();
    let tokens = [
        sign_in(&base_url, PAYERS[0]).await?,
        sign_in(&base_url, PAYERS[1]).await?,
    ];
    let mut acks = Acks::new();
    let outcome = async {
        recovers(&base_url, &tokens, "antes", &mut acks).await?;
        // The file system meets an error; the kernel makes it read-only under the server.
        let device = mounted.device(findmnt)?;
        std::fs::write(
            format!("/sys/fs/ext4/{device}/trigger_fs_error"),
            "drill: the disk failed",
        )
        .map_err(|error| format!("triggering the error on {device}: {error}"))?;
        let refusals =
            transfers_while_faulty(&base_url, &tokens, "solo-lectura", &mut acks).await?;
        if refusals.is_empty() {
            return Err(format!(
                "a read-only data folder refused nothing in {ATTEMPTS_WHILE_FAULTY} transfers"
            ));
        }
        let home = send("GET", &format!("{base_url}/"), &[], Vec::new()).await?;
        if home.status != 200 {
            return Err(format!("reads stopped while read-only: {}", home.status));
        }
        Ok(())
    }
    .await;
    let (_, stderr) = server.stop().await?;
    if let Err(error) = outcome {
        return Err(with_log(&error.to_string(), &stderr).into());
    }

    // What an operator does: unmount, check and repair the file system, mount it again.
    mounted.unmount()?;
    let checked = std::process::Command::new(e2fsck)
        .args(["-f", "-y", &display(&image)])
        .output()?;
    // 0: clean; 1: errors corrected (the error the drill recorded is one).
    assert!(
        matches!(checked.status.code(), Some(0 | 1)),
        "e2fsck: {}",
        String::from_utf8_lossy(&checked.stdout)
    );
    let mounted = Ext4Image::mount(mount, umount, &image, &data_dir)?;
    nothing_lost(&data_dir, &tokens, &acks).await?;
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
