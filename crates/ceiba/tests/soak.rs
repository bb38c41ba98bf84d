//! A short `ceiba bench soak` on each engine: the realistic mix runs for about 25 seconds (two
//! minutes with `RUN_SLOW_TESTS=1`) and must end with zero failed requests and the ledger's
//! invariants holding. Figures are printed, never asserted (STYLE.md: benchmarks are programs).

use std::process::Stdio;

use ceiba_testkit::{Suite, TestDatabase, TestResult};

fn main() {
    let mut suite = Suite::new();
    suite.each_engine("short_soak_has_no_errors_nor_violations", short_soak);
    suite.run()
}

fn slow() -> bool {
    std::env::var("RUN_SLOW_TESTS").is_ok_and(|value| value == "1")
}

async fn short_soak(database: TestDatabase) -> TestResult {
    let minutes = if slow() { "2" } else { "0.4" };
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ceiba"));
    command
        .current_dir(database.data_dir())
        .args(["bench", "soak", "--minutes", minutes])
        .args(["--concurrency", "8", "--people", "20"])
        .stdin(Stdio::null())
        .kill_on_drop(true);
    // On PostgreSQL the soak runs in the test's fresh schema; on SQLite it makes its own file.
    let args = database.cli_args();
    if let Some(at) = args.iter().position(|arg| arg == "--database-url") {
        command.args(&args[at..at + 2]);
    }
    for (name, _) in std::env::vars() {
        if name.starts_with("CEIBA_") {
            command.env_remove(name);
        }
    }
    let output = command.output().await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "ceiba bench soak failed: {:?}\n{stdout}\n{stderr}",
        output.status
    );
    let summary: serde_json::Value = serde_json::from_str(
        stdout
            .lines()
            .last()
            .ok_or("ceiba bench soak printed nothing")?,
    )?;
    assert_eq!(summary["errors"], 0, "{summary}");
    assert_eq!(summary["ledger_check"], "ok", "{summary}");
    // Every kind of the mix ran and succeeded at least once: a mix that silently lost a kind
    // would pass with zero errors otherwise.
    for kind in [
        "transfer",
        "bill",
        "top_up",
        "qr",
        "page_read",
        "page_edit",
        "dashboard",
    ] {
        let ok = summary["kinds"][kind]["ok"].as_u64().unwrap_or(0);
        assert!(ok > 0, "{kind} succeeded at least once: {summary}");
    }
    let intervals = summary["memory_kib"]["samples"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(intervals >= 2, "the soak printed its intervals: {summary}");
    Ok(())
}
