//! `ceiba bench soak --minutes N`: a realistic mix of requests (transfers, bills, top-ups, QR
//! payments, encyclopedia reads and edits, Salud's dashboard; see `drill_load.rs`) against a
//! server started in this process on a fresh database (SQLite, or an empty PostgreSQL named
//! with `--database-url`), for N minutes. Prints a line per interval (throughput, latency
//! percentiles per kind, errors, resident memory) and a JSON summary at the end; fails when
//! any request failed or the ledger breaks an invariant, so CI can run a short one.
//!
//! Memory: the ledger answers from memory every transfer it holds (ARCHITECTURE.md), so the
//! memory of a load that keeps adding transfers grows with them. Each line prints the resident
//! memory, the live heap (jemalloc's `stats.allocated`: what the program holds, without the
//! allocator's own spare pages), the ledger's part of it (`LedgerState::heap_bytes`), and the
//! rest of the heap, which is what must stay flat. The search index is on disk, as `ceiba serve`
//! keeps it.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use ceiba_identity::{Argon2Config, CredentialHasher};
use ceiba_store::{DatabaseUrl, Db, PoolSettings};

use crate::bench_payments::BenchServer;
use crate::drill_load::{self, Kind, Load};
use crate::print_line;

/// The longest soak: a day.
const MINUTES_MAX: f64 = 24.0 * 60.0;
/// Seed of the mix; a soak replays its requests from it.
const SEED: u64 = 0x50A4;

/// What `ceiba bench soak` was asked to do.
#[derive(Debug, Clone)]
pub struct SoakBench {
    pub minutes: f64,
    pub concurrency: u32,
    pub people: u32,
    pub database_url: Option<String>,
}

pub async fn run(bench: SoakBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        bench.minutes > 0.0 && bench.minutes <= MINUTES_MAX,
        "--minutes debe ser mayor que 0 y no pasar de {MINUTES_MAX} (un día)"
    );
    anyhow::ensure!(
        (1..=512).contains(&bench.concurrency),
        "--concurrency debe estar entre 1 y 512"
    );
    anyhow::ensure!(
        (2..=10_000).contains(&bench.people),
        "--people debe estar entre 2 y 10000"
    );
    let scratch = std::env::temp_dir().join(format!("ceiba-soak-{}", uuid::Uuid::new_v4()));
    let db = match bench.database_url.as_deref() {
        Some(url) => Db::connect(&DatabaseUrl::parse(url)?, PoolSettings::default()).await?,
        None => Db::open_embedded(&scratch, PoolSettings::default()).await?,
    };
    db.migrate().await?;
    let outcome = soak(&db, &bench, &scratch).await;
    db.close().await;
    let _ = std::fs::remove_dir_all(&scratch);
    let summary = outcome?;
    print_line(&summary.to_string())?;
    let errors = summary["errors"].as_u64().unwrap_or(u64::MAX);
    anyhow::ensure!(
        errors == 0,
        "la prueba de resistencia tuvo {errors} peticiones fallidas (ejemplos en el resumen)"
    );
    anyhow::ensure!(
        summary["ledger_check"] == "ok",
        "el libro mayor incumple sus invariantes: {}",
        summary["ledger_check"]
    );
    Ok(())
}

/// How often a line is printed: every 10 s, or a third of a short soak.
fn interval_of(duration: Duration) -> Duration {
    (duration / 3).clamp(Duration::from_secs(1), Duration::from_secs(10))
}

async fn soak(
    db: &Db,
    bench: &SoakBench,
    scratch: &std::path::Path,
) -> anyhow::Result<serde_json::Value> {
    let hasher = CredentialHasher::new(Argon2Config::INSECURE_FOR_TESTS)?;
    let index_dir = scratch.join(crate::serve::WIKI_INDEX_DIR);
    std::fs::create_dir_all(&index_dir)?;
    let server = BenchServer::start_with_index(db, hasher, Some(&index_dir)).await?;
    let (engine, base) = (server.engine.clone(), server.base.clone());
    let outcome = async {
        // People, operators, the merchant and the pages: not measured.
        let mut cast = drill_load::prepare_storage(db, bench.people).await?;
        let client = drill_load::client();
        drill_load::prepare_http(&client, &base, &mut cast).await?;
        let load = Load::new(client, &base, cast, false);

        let duration = Duration::from_secs_f64(bench.minutes * 60.0);
        let interval = interval_of(duration);
        let stop = Arc::new(AtomicBool::new(false));
        let driver = {
            let (load, stop) = (load.clone(), stop.clone());
            let workers = usize::try_from(bench.concurrency)?;
            tokio::spawn(async move { load.run(workers, SEED, stop).await })
        };
        let started = Instant::now();
        let mut memory_kib = Vec::new();
        let mut heap_kib = Vec::new();
        let mut ledger_kib = Vec::new();
        print_line(&format!(
            "Prueba de resistencia: {} min, {} clientes, {} personas, {}",
            bench.minutes,
            bench.concurrency,
            bench.people,
            db.engine().as_str()
        ))?;
        while started.elapsed() < duration {
            let left = duration.saturating_sub(started.elapsed());
            tokio::time::sleep(interval.min(left)).await;
            let stats = load.take_interval();
            let rss = drill_load::resident_kib();
            let (ledger, transfers) = {
                let ledger = engine.read();
                (
                    ledger.state.heap_bytes() as u64 / 1024,
                    ledger.state.transfers_count(),
                )
            };
            let heap = live_heap_kib()?;
            memory_kib.push(rss);
            heap_kib.push(heap);
            ledger_kib.push(ledger);
            let seconds = interval.min(left).as_secs_f64();
            let mut line = format!(
                "t={:>6.0}s {:>6.0} pet/s errores={} memoria={} MiB, montón {} MiB: libro mayor \
                 {} MiB con {transfers} transferencias, resto {} MiB |",
                started.elapsed().as_secs_f64(),
                stats.requests() as f64 / seconds.max(f64::EPSILON),
                stats.errors(),
                rss / 1024,
                heap / 1024,
                ledger / 1024,
                heap.saturating_sub(ledger) / 1024
            );
            for kind in Kind::ALL {
                if let Some(kind_stats) = stats.kinds.get(&kind) {
                    line.push_str(&format!(
                        " {} p50/p95/p99={}/{}/{} ms",
                        kind.as_str(),
                        kind_stats.latency.percentile_ms(0.50),
                        kind_stats.latency.percentile_ms(0.95),
                        kind_stats.latency.percentile_ms(0.99)
                    ));
                }
            }
            print_line(&line)?;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        driver.await?;
        let seconds = started.elapsed().as_secs_f64();
        let totals = load.totals();
        let check = ceiba_ledger::check(&engine.read().state);
        let mut summary = totals.to_json(seconds);
        summary["backend"] = db.engine().as_str().into();
        summary["minutes"] = bench.minutes.into();
        summary["concurrency"] = bench.concurrency.into();
        summary["people"] = bench.people.into();
        summary["seconds"] = ((seconds * 1e3).round() / 1e3).into();
        let others: Vec<u64> = heap_kib
            .iter()
            .zip(&ledger_kib)
            .map(|(heap, ledger)| heap.saturating_sub(*ledger))
            .collect();
        summary["memory_kib"] = serde_json::json!({
            "first": memory_kib.first(),
            "last": memory_kib.last(),
            "min": memory_kib.iter().min(),
            "max": memory_kib.iter().max(),
            "samples": memory_kib,
        });
        summary["heap_kib"] = serde_json::json!({
            "first": heap_kib.first(),
            "last": heap_kib.last(),
            "min": heap_kib.iter().min(),
            "max": heap_kib.iter().max(),
            "samples": heap_kib,
        });
        summary["ledger_kib"] = serde_json::json!({
            "first": ledger_kib.first(),
            "last": ledger_kib.last(),
            "transfers": engine.read().state.transfers_count(),
            "samples": ledger_kib,
        });
        // The live heap that is not the ledger's data: flat unless something leaks.
        summary["other_kib"] = serde_json::json!({
            "first": others.first(),
            "last": others.last(),
            "min": others.iter().min(),
            "max": others.iter().max(),
        });
        summary["error_samples"] = totals.error_samples.clone().into();
        summary["ledger_check"] = if check.is_sound() {
            "ok".into()
        } else {
            format!("{:?}", check.violations).into()
        };
        Ok::<_, anyhow::Error>(summary)
    }
    .await;
    server.stop().await;
    outcome
}

/// The heap the program holds now, in KiB: jemalloc's `stats.allocated`, refreshed first.
fn live_heap_kib() -> anyhow::Result<u64> {
    tikv_jemalloc_ctl::epoch::advance()
        .map_err(|error| anyhow::anyhow!("jemalloc no dio su época: {error}"))?;
    let bytes = tikv_jemalloc_ctl::stats::allocated::read()
        .map_err(|error| anyhow::anyhow!("jemalloc no dio su estadística: {error}"))?;
    Ok(u64::try_from(bytes)? / 1024)
}
