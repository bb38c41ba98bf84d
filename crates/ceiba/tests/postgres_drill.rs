//! PostgreSQL drills, on a private cluster this test starts (initdb, pg_ctl as the `postgres`
//! user, in a temporary folder, on a free port), so that stopping it disturbs no other test:
//! - PostgreSQL stops under load: requests fail cleanly (an RFC 9457 problem with status 5xx,
//!   within the server's timeout, no hang) while it is down, succeed after it is back, and no
//!   operation is applied twice (the crash drill's checks, `src/drill_load.rs`);
//! - two `ceiba serve` share the database: when the one holding the ledger's writer and the
//!   maintenance leases is killed, the other takes both over and payments go through it.

#[path = "../src/drill_load.rs"]
mod drill_load;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ceiba_store::{DatabaseUrl, Db, PoolSettings};
use ceiba_testkit::process::ServeProcess;
use ceiba_testkit::{Suite, TestResult};
use drill_load::{Load, Request};
use tokio::process::Command;

const SEED: u64 = 0x9057;
/// Longest a request may take while PostgreSQL is down: the server's request timeout (30 s)
/// and a little.
const DOWN_ANSWER_MAX: Duration = Duration::from_secs(32);

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ceiba"))
}

fn main() {
    let mut suite = Suite::new();
    // `pg_ctlcluster` (Debian's postgresql-common) marks PostgreSQL's server binaries as
    // installed; the test runs `initdb` and `pg_ctl` from `/usr/lib/postgresql/*/bin`.
    suite.with_programs(
        "postgres_restart_under_load_then_second_serve_takes_over",
        &["runuser", "pg_ctlcluster"],
        |_| drill(),
    );
    suite.run()
}

/// The folder of `initdb` and `pg_ctl`: the newest `/usr/lib/postgresql/*/bin`.
fn postgres_bin() -> Result<PathBuf, String> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|error| format!("PostgreSQL no está instalado (/usr/lib/postgresql): {error}"))?
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("pg_ctl").is_file() && bin.join("initdb").is_file())
        .collect();
    found.sort();
    found
        .pop()
        .ok_or_else(|| "no hay initdb ni pg_ctl".to_owned())
}

/// A PostgreSQL cluster owned by the test; stopped (immediately) when dropped.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    async fn create() -> Result<Cluster, Box<dyn std::error::Error + Send + Sync>> {
        let bin = postgres_bin()?;
        let dir = tempfile::tempdir()?;
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .await?;
        assert!(status.success(), "chown the cluster's folder to postgres");
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            listener.local_addr()?.port()
        };
        let cluster = Cluster { bin, dir, port };
        cluster
            .as_postgres(
                "initdb",
                &["-U", "postgres", "--auth=trust", "-E", "UTF8", "-D"],
            )
            .arg(cluster.data())
            .stdout(Stdio::null())
            .status()
            .await?
            .success()
            .then_some(())
            .ok_or("initdb failed")?;
        cluster.start().await?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("datos")
    }

    fn as_postgres(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(program))
            .args(args);
        command
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    async fn start(&self) -> TestResult {
        // fsync off: the drill stops the server process, not the machine.
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off \
             -c max_connections=100",
            self.port,
            self.dir.path().display()
        );
        let status = self
            .as_postgres("pg_ctl", &["-w", "-t", "60", "-o", &options, "-l"])
            .arg(self.dir.path().join("postgres.log"))
            .arg("-D")
            .arg(self.data())
            .arg("start")
            .stdout(Stdio::null())
            .status()
            .await?;
        assert!(status.success(), "pg_ctl start");
        Ok(())
    }

    async fn stop(&self, mode: &str) -> TestResult {
        let status = self
            .as_postgres("pg_ctl", &["-w", "-m", mode, "-D"])
            .arg(self.data())
            .arg("stop")
            .stdout(Stdio::null())
            .status()
            .await?;
        assert!(status.success(), "pg_ctl stop -m {mode}");
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-m", "immediate", "-D"])
            .arg(self.data())
            .arg("stop")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// `ceiba serve` on the cluster, with a data folder of its own, without the test's CEIBA_*.
async fn serve(cluster: &Cluster, data_dir: &Path) -> Result<ServeProcess, String> {
    let mut command = Command::new(binary());
    command.current_dir(data_dir);
    for (name, _) in std::env::vars() {
        if name.starts_with("CEIBA_") {
            command.env_remove(name);
        }
    }
    let args = [
        "--data-dir".to_owned(),
        data_dir.display().to_string(),
        "--database-url".to_owned(),
        cluster.url(),
    ];
    ServeProcess::start_command(
        command,
        &args,
        &[
            ("CEIBA_LIMITS__REQUESTS_PER_MINUTE_PER_ADDRESS", "1000000"),
            (
                "CEIBA_LIMITS__SENSITIVE_REQUESTS_PER_MINUTE_PER_ADDRESS",
                "1000000",
            ),
        ],
    )
    .await
}

/// A transfer of 1 CUP between the first two people, under a key of its own.
fn probe_transfer(load: &Load, key: &str) -> Request {
    let cast = &load.cast;
    Request {
        method: "POST",
        path: "/api/v1/payments/transfers".to_owned(),
        token: Some(cast.people[0].token.clone()),
        key: Some(key.to_owned()),
        content_type: "application/json",
        body: serde_json::json!({
            "to_phone": cast.people[1].phone, "currency": "CUP", "amount": "1"
        })
        .to_string(),
    }
}

/// Whether the maintenance lease is held by `server`, from its metrics.
async fn holds_maintenance(server: &ServeProcess) -> bool {
    let Ok(response) = ceiba_testkit::http::get(&server.url("/metrics")).await else {
        return false;
    };
    response.text().lines().any(|line| {
        line.starts_with("ceiba_lease_held{lease=\"maintenance\"}") && line.ends_with(" 1")
    })
}

/// Sends the probe transfer (recorded in the journal, so the balances count it).
async fn send_probe(load: &Load, request: &Request) -> Result<drill_load::Answer, String> {
    load.send_recorded(drill_load::Kind::Transfer, 0, Some(1), request)
        .await
}

async fn drill() -> TestResult {
    let started = Instant::now();
    let cluster = Cluster::create().await?;
    let db = Db::connect(
        &DatabaseUrl::parse(&cluster.url())?,
        PoolSettings::default(),
    )
    .await?;
    db.migrate().await?;
    let mut cast = drill_load::prepare_storage(&db, 10).await?;
    db.close().await;
    let first_dir = tempfile::tempdir()?;
    let first = serve(&cluster, first_dir.path()).await?;
    let client = drill_load::client();
    drill_load::prepare_http(&client, &first.base_url, &mut cast).await?;
    let mut load = Load::new(client, &first.base_url, cast, true);
    load.payouts = true;
    let stop = Arc::new(AtomicBool::new(false));
    let driver = {
        let (load, stop) = (load.clone(), stop.clone());
        tokio::spawn(async move { load.run(4, SEED, stop).await })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;

    // PostgreSQL goes away under load.
    cluster.stop("fast").await?;
    let down_at = Instant::now();
    let mut down_answers = Vec::new();
    for (n, request) in [
        probe_transfer(&load, "sonda-caida-1"),
        Request {
            token: Some(load.cast.people[2].token.clone()),
            ..Request::get("/api/v1/payments/wallet".to_owned())
        },
        Request::get("/readyz".to_owned()),
        probe_transfer(&load, "sonda-caida-2"),
    ]
    .into_iter()
    .enumerate()
    {
        let sent = Instant::now();
        let answer = if request.key.is_some() {
            send_probe(&load, &request).await
        } else {
            drill_load::send(&load.client, &load.base(), &request).await
        };
        let took = sent.elapsed();
        let answer = answer.map_err(|error| format!("probe {n} while down: {error}"))?;
        assert!(
            took <= DOWN_ANSWER_MAX,
            "probe {n} answered within the timeout: {took:?}"
        );
        assert!(
            answer.status >= 500
                && answer.json["status"] == answer.status
                && !answer.code().is_empty(),
            "probe {n} ({} {}) fails cleanly while PostgreSQL is down: {} {}",
            request.method,
            request.path,
            answer.status,
            answer.json
        );
        down_answers.push((answer.status, answer.code().to_owned(), took));
    }
    eprintln!("  con PostgreSQL caída: {down_answers:?}");
    let down_for = down_at.elapsed();
    cluster.start().await?;

    // Back: the same key goes through, once.
    let back_at = Instant::now();
    let probe = probe_transfer(&load, "sonda-caida-1");
    let first_answer = loop {
        let answer = send_probe(&load, &probe).await;
        if answer.as_ref().is_ok_and(|answer| answer.status == 201) {
            break answer?;
        }
        assert!(
            back_at.elapsed() < Duration::from_secs(30),
            "a payment succeeds once PostgreSQL is back: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let again = send_probe(&load, &probe).await?;
    assert_eq!(
        (again.status, &again.json["id"]),
        (201, &first_answer.json["id"]),
        "the same key answers the same operation"
    );
    eprintln!(
        "  PostgreSQL caída {:.1} s; el primer pago tras volver tardó {:.1} s",
        down_for.as_secs_f64(),
        back_at.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;

    // A second server on the same database, then the first dies.
    let second_dir = tempfile::tempdir()?;
    let second = serve(&cluster, second_dir.path()).await?;
    let since = Instant::now();
    while !holds_maintenance(&first).await && since.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        holds_maintenance(&first).await && !holds_maintenance(&second).await,
        "the first server holds the maintenance lease, the second waits"
    );
    let pid = first.pid().ok_or("the first server exited")?;
    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .await?;
    assert!(killed.success(), "kill -KILL {pid}");
    drop(first);
    load.set_base(&second.base_url);
    let killed_at = Instant::now();
    let probe = probe_transfer(&load, "sonda-relevo");
    loop {
        let answer = send_probe(&load, &probe).await;
        if answer.as_ref().is_ok_and(|answer| answer.status == 201) {
            break;
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(40),
            "the second server takes over the ledger's writer lease: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let writer_after = killed_at.elapsed();
    while !holds_maintenance(&second).await {
        assert!(
            killed_at.elapsed() < Duration::from_secs(40),
            "the second server takes over the maintenance lease"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!(
        "  relevo: pagos por el segundo servidor a los {:.1} s, mantenimiento a los {:.1} s",
        writer_after.as_secs_f64(),
        killed_at.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;

    stop.store(true, Ordering::Relaxed);
    driver.await?;
    let open = load.settle(Duration::from_secs(60)).await;
    assert_eq!(open, 0, "every operation gets a final answer");
    let verified = drill_load::verify(&load, &second.base_url).await?;
    assert!(
        verified.acknowledged > 20,
        "the load did work: {verified:?}"
    );
    let totals = load.totals();
    eprintln!(
        "  {} peticiones, {verified:?}, en {:.1} s",
        totals.requests(),
        started.elapsed().as_secs_f64()
    );
    let (code, logs) = second.stop().await?;
    assert_eq!(code, Some(0), "{logs}");
    Ok(())
}
