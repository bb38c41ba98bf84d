//! `ceiba bench payments`: authenticated person-to-person transfers over the HTTP API, the way
//! phones send them, against a server started in this process on a fresh database (SQLite, or
//! an empty PostgreSQL named with `--database-url`). Prints one JSON line.
//!
//! People are created directly in storage with sessions already open (sign-in and Argon2 are
//! what `ceiba bench login` measures); every payer gets money with a cash-in over the API; then
//! `--concurrency` clients send `--transfers` transfers with an `Idempotency-Key` each.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use ceiba_identity::{Argon2Config, CredentialHasher, PhoneNumber, Role};
use ceiba_store::{DatabaseUrl, Db, LeaseHolder, LedgerEngine, PoolSettings};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use rand::{Rng, SeedableRng};

use crate::bench::percentile;
use crate::print_line;

/// What `ceiba bench payments` was asked to do.
#[derive(Debug, Clone)]
pub struct PaymentsBench {
    pub users: u32,
    pub transfers: u32,
    pub concurrency: u32,
    pub database_url: Option<String>,
}

pub(crate) type Client = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

pub async fn run(bench: PaymentsBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        (2..=100_000).contains(&bench.users),
        "--users debe estar entre 2 y 100000"
    );
    anyhow::ensure!(bench.transfers > 0, "--transfers debe ser mayor que 0");
    anyhow::ensure!(
        (1..=512).contains(&bench.concurrency),
        "--concurrency debe estar entre 1 y 512"
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

/// A phone number for person `n`: +53 5 followed by seven digits.
pub(crate) fn phone(n: u32) -> anyhow::Result<PhoneNumber> {
    Ok(PhoneNumber::parse(&format!("+535{:07}", 1_000_000 + n))?)
}

/// Creates an active person with an open session; returns the bearer token.
pub(crate) async fn person(
    db: &Db,
    n: u32,
    roles: &[Role],
    hash: &ceiba_identity::PhcString,
) -> anyhow::Result<String> {
    let name = format!("Persona {n}");
    crate::drill_load::person_with_session(
        db,
        &format!("bench-{n}"),
        &phone(n)?,
        &name,
        hash,
        roles,
    )
    .await
}

pub(crate) async fn post(
    client: &Client,
    url: &str,
    token: &str,
    key: &str,
    body: String,
) -> anyhow::Result<u16> {
    let request = hyper::Request::post(url)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .header("idempotency-key", key)
        .body(Full::new(Bytes::from(body)))?;
    let response = client.request(request).await?;
    let status = response.status().as_u16();
    let _ = response.into_body().collect().await?;
    Ok(status)
}

/// A server for a benchmark, in this process: the ledger's writer and the HTTP API on a free
/// port of 127.0.0.1, without rate limits.
pub(crate) struct BenchServer {
    pub engine: LedgerEngine,
    pub state: ceiba_web::AppState,
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl BenchServer {
    pub(crate) async fn start(db: &Db, hasher: CredentialHasher) -> anyhow::Result<BenchServer> {
        BenchServer::start_with_index(db, hasher, None).await
    }

    /// [`BenchServer::start`], with the encyclopedia's search index on disk in `index_dir` as
    /// `ceiba serve` keeps it (rather than in memory), for a soak whose memory is measured.
    pub(crate) async fn start_with_index(
        db: &Db,
        hasher: CredentialHasher,
        index_dir: Option<&std::path::Path>,
    ) -> anyhow::Result<BenchServer> {
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
        let mut state = ceiba_web::AppState::new(
            db.clone(),
            ceiba_web::Metrics::new(),
            [0; 32],
            hasher,
            ceiba_identity::SecretSealer::from_key(&rand::random()),
        );
        if let Some(dir) = index_dir {
            state = state.with_wiki_index(Arc::new(ceiba_search::ArticleIndex::open(dir)?));
        }
        state.ledger = Some(engine.clone());
        state.rate_limits = Arc::new(ceiba_web::ratelimit::RateLimits::new(
            &ceiba_web::ratelimit::RateLimitSettings {
                requests_per_minute: u32::MAX,
                sensitive_requests_per_minute: u32::MAX,
                trusted_proxies: Vec::new(),
            },
        ));
        let limits = ceiba_web::ServerLimits::default();
        let app = ceiba_web::router(state.clone(), limits);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(ceiba_web::serve(listener, app, limits, async move {
            let _ = stopped.await;
        }));
        Ok(BenchServer {
            engine,
            state,
            base,
            stop,
            server,
        })
    }

    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
        self.engine.stop().await;
    }
}

async fn measure(db: &Db, bench: &PaymentsBench) -> anyhow::Result<serde_json::Value> {
    let hasher = CredentialHasher::new(Argon2Config::INSECURE_FOR_TESTS)?;
    let hash = hasher.hash(
        &ceiba_identity::Password::parse("una-frase-para-medir")?,
        &mut rand::rng(),
    );
    let bench_server = BenchServer::start(db, hasher).await?;
    let (engine, base) = (bench_server.engine.clone(), bench_server.base.clone());
    let client: Client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_max_idle_per_host(1_024)
            .build_http();

    // People and their money: not measured.
    let operator = person(db, 0, &[Role::BankOperator], &hash).await?;
    let mut tokens = Vec::with_capacity(usize::try_from(bench.users)?);
    for n in 1..=bench.users {
        tokens.push(person(db, n, &[Role::Citizen], &hash).await?);
        let body = serde_json::json!({
            "phone": phone(n)?.as_e164(), "bank": "BPA", "currency": "CUP", "amount": "50000"
        });
        let status = post(
            &client,
            &format!("{base}/api/v1/payments/cash-in"),
            &operator,
            &format!("fondos-{n}"),
            body.to_string(),
        )
        .await?;
        anyhow::ensure!(status == 201, "el depósito inicial respondió {status}");
    }

    // Each transfer: a random payer to a random other person, 1 to 100 CUP.
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xCE1BA);
    let users = bench.users;
    let plan: Vec<(usize, String)> = (0..bench.transfers)
        .map(|_| {
            let payer = rng.random_range(1..=users);
            let mut payee = rng.random_range(1..=users);
            if payee == payer {
                payee = payer % users + 1;
            }
            let amount = rng.random_range(1..=100_u32);
            let body = serde_json::json!({
                "to_phone": format!("+535{:07}", 1_000_000 + payee),
                "currency": "CUP",
                "amount": amount.to_string(),
            });
            (usize::try_from(payer - 1).unwrap_or(0), body.to_string())
        })
        .collect();
    let plan = Arc::new(plan);
    let tokens = Arc::new(tokens);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let url = Arc::new(format!("{base}/api/v1/payments/transfers"));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..bench.concurrency {
        let (plan, tokens, next, url, client) = (
            plan.clone(),
            tokens.clone(),
            next.clone(),
            url.clone(),
            client.clone(),
        );
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0_u64;
            loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((payer, body)) = plan.get(index) else {
                    break;
                };
                let sent = Instant::now();
                let status = post(
                    &client,
                    &url,
                    &tokens[*payer],
                    &format!("p-{index}"),
                    body.clone(),
                )
                .await;
                latencies.push(sent.elapsed());
                if !matches!(status, Ok(201)) {
                    errors += 1;
                }
            }
            (latencies, errors)
        });
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    while let Some(joined) = workers.join_next().await {
        let (mut some, some_errors) = joined.context("un cliente del banco de pruebas falló")?;
        latencies.append(&mut some);
        errors += some_errors;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let check = ceiba_ledger::check(&engine.read().state);
    bench_server.stop().await;
    let milliseconds = |fraction: f64| percentile(&latencies, fraction).as_secs_f64() * 1e3;
    let round = |value: f64| (value * 1_000.0).round() / 1_000.0;
    Ok(serde_json::json!({
        "backend": db.engine().as_str(),
        "users": bench.users,
        "transfers": bench.transfers,
        "concurrency": bench.concurrency,
        "seconds": round(seconds),
        "payments_per_second": (f64::from(bench.transfers) / seconds.max(f64::EPSILON)).round(),
        "latency_ms_p50": round(milliseconds(0.50)),
        "latency_ms_p99": round(milliseconds(0.99)),
        "latency_ms_max": round(milliseconds(1.0)),
        "errors": errors,
        "check": if check.is_sound() { "ok".to_owned() } else { format!("{:?}", check.violations) },
    }))
}
