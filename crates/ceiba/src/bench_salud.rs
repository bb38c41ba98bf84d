//! `ceiba bench salud`: the geography and the covid19cubadata archive imported into a fresh
//! database (SQLite, or an empty PostgreSQL named with `--database-url`), then the open daily
//! series and the dashboards of the nation, a province and a municipality asked for over
//! HTTP, `--requests` times each, and outbreak detection over every municipality. Prints one
//! JSON line: the import's seconds, the first page's time (it builds the dashboards' figures),
//! each request's latency (p50, p99, max) and size, and the alerts' run.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ceiba_identity::{Argon2Config, CredentialHasher};
use ceiba_store::{DatabaseUrl, Db, PoolSettings};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;

use crate::bench::percentile;
use crate::bench_payments::BenchServer;
use crate::print_line;

/// What `ceiba bench salud` was asked to do.
#[derive(Debug, Clone)]
pub struct SaludBench {
    pub archive: PathBuf,
    pub requests: u32,
    pub database_url: Option<String>,
}

pub async fn run(bench: SaludBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=10_000).contains(&bench.requests),
        "--requests debe estar entre 1 y 10000"
    );
    let scratch = std::env::temp_dir().join(format!("ceiba-bench-{}", uuid::Uuid::new_v4()));
    let db = match bench.database_url.as_deref() {
        Some(url) => Db::connect(&DatabaseUrl::parse(url)?, PoolSettings::default()).await?,
        None => Db::open_embedded(&scratch, PoolSettings::default()).await?,
    };
    db.migrate().await?;
    let outcome = measure(&db, &bench).await;
    db.close().await;
    if bench.database_url.is_none() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    print_line(&outcome?.to_string())
}

async fn measure(db: &Db, bench: &SaludBench) -> anyhow::Result<serde_json::Value> {
    let folder = bench.archive.parent().unwrap_or(std::path::Path::new("."));
    crate::salud::store_geography(db, &crate::salud::read_geography(folder)?).await?;
    let started = Instant::now();
    let imported = crate::salud::import_into(db, &bench.archive, None, false).await?;
    let import_seconds = started.elapsed().as_secs_f64();
    let server =
        BenchServer::start(db, CredentialHasher::new(Argon2Config::INSECURE_FOR_TESTS)?).await?;
    type Client = hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Empty<Bytes>,
    >;
    let client: Client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let round = |value: f64| (value * 1_000.0).round() / 1_000.0;
    let get = |path: String| {
        let client = &client;
        let url = format!("{}{path}", server.base);
        async move {
            let sent = Instant::now();
            let response = client.get(url.parse()?).await?;
            anyhow::ensure!(
                response.status().is_success(),
                "{url} respondió {}",
                response.status()
            );
            let bytes = response.into_body().collect().await?.to_bytes().len();
            Ok::<_, anyhow::Error>((sent.elapsed(), bytes))
        }
    };
    // The first page builds the dashboards' figures (held until the records change).
    let (first_page, _) = get("/salud".to_owned()).await?;
    // The first request for the nation's models fits Rt, the forecast and its four reruns
    // (kept until the records change).
    let (first_models, _) = get("/api/salud/open/models".to_owned()).await?;
    let mut figures = serde_json::Map::new();
    for (label, path) in [
        ("series_nation", "/api/salud/open/series"),
        ("series_province_23", "/api/salud/open/series?area=23"),
        (
            "series_municipality_23_04",
            "/api/salud/open/series?area=23.04",
        ),
        ("page_nation", "/salud"),
        ("page_province_23", "/salud/provincia/23"),
        ("page_municipality_23_04", "/salud/municipio/23.04"),
        ("page_nation_2020_06_01", "/salud?fecha=2020-06-01"),
        ("page_models_nation", "/salud/modelos"),
        ("models_nation", "/api/salud/open/models"),
    ] {
        let mut latencies: Vec<Duration> = Vec::with_capacity(bench.requests as usize);
        let mut bytes = 0;
        for _ in 0..bench.requests {
            let (latency, size) = get(path.to_owned()).await?;
            latencies.push(latency);
            bytes = size;
        }
        latencies.sort_unstable();
        let milliseconds =
            |fraction: f64| round(percentile(&latencies, fraction).as_secs_f64() * 1e3);
        figures.insert(
            label.to_owned(),
            serde_json::json!({
                "ms_p50": milliseconds(0.50),
                "ms_p99": milliseconds(0.99),
                "ms_max": milliseconds(1.0),
                "bytes": bytes,
            }),
        );
    }
    // Outbreak detection over every municipality's whole series, from cold.
    let started = Instant::now();
    let alerts = ceiba_web::salud_alerts::run(
        db,
        &ceiba_web::salud_dashboard::SaludCache::default(),
        &ceiba_surveillance::alerts::AlertSettings::default(),
        ceiba_surveillance::covid19cubadata::Date {
            year: 2100,
            month: 1,
            day: 1,
        },
        0,
    )
    .await?;
    let alerts_seconds = started.elapsed().as_secs_f64();
    server.stop().await;
    Ok(serde_json::json!({
        "backend": db.engine().as_str(),
        "cases": imported.stored.cases_added,
        "import_seconds": round(import_seconds),
        "requests_each": bench.requests,
        "first_page_ms": round(first_page.as_secs_f64() * 1e3),
        "first_models_ms": round(first_models.as_secs_f64() * 1e3),
        "requests": figures,
        "alerts_signals": alerts.signals,
        "alerts_seconds": round(alerts_seconds),
    }))
}
