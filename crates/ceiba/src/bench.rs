//! `ceiba bench …`: programs that measure and print figures. They run on a database of their
//! own (a fresh SQLite in a temporary folder unless a scratch PostgreSQL is named), never on
//! the live one.

use std::time::{Duration, Instant};

use anyhow::Context;
use ceiba_audit::{AuditEvent, CheckpointSigner, EventKind};
use ceiba_store::{DatabaseUrl, Db, PoolSettings};

use crate::print_line;
use crate::serve::now_ms;

/// Writes `entries` audit events one per transaction, then `entries` in batches, then verifies
/// the whole log; prints the rates.
pub async fn audit(entries: u32, batch: u32, database_url: Option<&str>) -> anyhow::Result<()> {
    anyhow::ensure!(entries > 0, "--entries debe ser mayor que 0");
    anyhow::ensure!(
        batch > 0 && batch as usize <= ceiba_store::AUDIT_APPEND_BATCH_MAX,
        "--batch debe estar entre 1 y {}",
        ceiba_store::AUDIT_APPEND_BATCH_MAX
    );
    let scratch = std::env::temp_dir().join(format!("ceiba-bench-{}", uuid::Uuid::new_v4()));
    let db = match database_url {
        Some(url) => Db::connect(&DatabaseUrl::parse(url)?, PoolSettings::default()).await?,
        None => Db::open_embedded(&scratch, PoolSettings::default()).await?,
    };
    db.migrate().await?;
    let durability = db.durability().await?;
    let outcome = run_audit(&db, entries, batch).await;
    db.close().await;
    if database_url.is_none() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    let figures = outcome?;
    print_line(&format!(
        "ceiba bench audit — {} (journal {}, sync {}), {entries} entradas por modo",
        db.engine(),
        durability.journal,
        durability.sync_on_commit
    ))?;
    for line in figures {
        print_line(&format!("  {line}"))?;
    }
    Ok(())
}

fn event(sequence: u64) -> Vec<u8> {
    AuditEvent::new(EventKind::LoginSucceeded, now_ms())
        .actor(format!("usuario-{sequence:08}"))
        .detail("canal", "web")
        .detail("direccion", "127.0.0.1")
        .to_bytes()
}

pub(crate) fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Nearest rank: small, positive and within the slice by construction.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn per_second(count: u64, elapsed: Duration) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let count = count as f64;
    count / elapsed.as_secs_f64().max(f64::EPSILON)
}

async fn run_audit(db: &Db, entries: u32, batch: u32) -> anyhow::Result<Vec<String>> {
    let mut figures = Vec::new();
    let mut sequence = 0_u64;

    let mut latencies = Vec::with_capacity(entries as usize);
    let started = Instant::now();
    for _ in 0..entries {
        let one = [event(sequence)];
        sequence += 1;
        let append_started = Instant::now();
        db.append_audit(&one, now_ms()).await?;
        latencies.push(append_started.elapsed());
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    figures.push(format!(
        "una entrada por transacción: {:.0} entradas/s (p50 {:.2} ms, p99 {:.2} ms)",
        per_second(u64::from(entries), elapsed),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    ));

    let started = Instant::now();
    let mut written = 0_u32;
    while written < entries {
        let size = batch.min(entries - written);
        let events: Vec<Vec<u8>> = (0..size)
            .map(|_| {
                sequence += 1;
                event(sequence)
            })
            .collect();
        db.append_audit(&events, now_ms()).await?;
        written += size;
    }
    figures.push(format!(
        "lotes de {batch}: {:.0} entradas/s",
        per_second(u64::from(entries), started.elapsed())
    ));

    let signer = CheckpointSigner::from_seed(rand::random());
    crate::audit::checkpoint_if_grown(db, &signer, now_ms()).await?;
    let started = Instant::now();
    let summary = crate::audit::verify(db, signer.public_key_bytes())
        .await
        .context("la verificación del registro de prueba falló")?;
    figures.push(format!(
        "verificación completa: {} entradas, {:.0} entradas/s",
        summary.entries,
        per_second(summary.entries, started.elapsed())
    ));
    Ok(figures)
}

/// Signs in `sign_ins` times over HTTP against an in-process server with the production
/// Argon2id parameters, and prints the latency of a whole sign-in.
pub async fn login(sign_ins: u32) -> anyhow::Result<()> {
    use ceiba_identity::{Argon2Config, CredentialHasher, Password, PhoneNumber, Role};
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;

    anyhow::ensure!(sign_ins > 0, "--sign-ins debe ser mayor que 0");
    let scratch = std::env::temp_dir().join(format!("ceiba-bench-{}", uuid::Uuid::new_v4()));
    let db = Db::open_embedded(&scratch, PoolSettings::default()).await?;
    db.migrate().await?;
    let hasher = CredentialHasher::new(Argon2Config::default())?;
    let password = "una-frase-para-medir";
    let phone = PhoneNumber::parse("+5351234567")?;
    let hash = hasher.hash(&Password::parse(password)?, &mut rand::rng());
    db.register_user(
        &ceiba_store::NewUser {
            id: "medida",
            phone: &phone,
            display_name: "Medida",
            password_hash: &hash,
            status: ceiba_store::UserStatus::Active,
            roles: &[Role::Citizen],
        },
        None,
        None,
        now_ms(),
    )
    .await?;
    let mut state = ceiba_web::AppState::new(
        db.clone(),
        ceiba_web::Metrics::new(),
        [0; 32],
        hasher,
        ceiba_identity::SecretSealer::from_key(&rand::random()),
    );
    state.rate_limits = std::sync::Arc::new(ceiba_web::ratelimit::RateLimits::new(
        &ceiba_web::ratelimit::RateLimitSettings {
            requests_per_minute: 1_000_000,
            sensitive_requests_per_minute: 1_000_000,
            trusted_proxies: Vec::new(),
        },
    ));
    let limits = ceiba_web::ServerLimits::default();
    let app = ceiba_web::router(state, limits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/api/v1/sessions", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ceiba_web::serve(listener, app, limits, async move {
        let _ = stopped.await;
    }));

    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let body = serde_json::json!({"phone": phone.as_e164(), "password": password}).to_string();
    let mut latencies = Vec::with_capacity(sign_ins as usize);
    let started = Instant::now();
    for _ in 0..sign_ins {
        let request = hyper::Request::post(&url)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.clone())))?;
        let one = Instant::now();
        let response = client.request(request).await?;
        let status = response.status();
        let _ = response.into_body().collect().await?;
        latencies.push(one.elapsed());
        anyhow::ensure!(status == 201, "el inicio de sesión respondió {status}");
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    let _ = server.await;
    db.close().await;
    let _ = std::fs::remove_dir_all(&scratch);
    latencies.sort_unstable();
    print_line(&format!(
        "ceiba bench login — {sign_ins} inicios de sesión por HTTP, Argon2id m=19456 KiB t=2 p=1, SQLite"
    ))?;
    print_line(&format!(
        "  latencia p50 {:.1} ms, p99 {:.1} ms; {:.1} inicios/s con un cliente",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        per_second(u64::from(sign_ins), elapsed),
    ))
}

/// Enciclopedia's search over a generated Spanish corpus, in a scratch folder (see
/// `ceiba_search::bench`): indexing rate, top-10 query and suggestion latencies, and how long
/// an edit takes to be searchable.
pub fn wiki(articles: usize, queries: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=2_000_000).contains(&articles),
        "--articles debe estar entre 1 y 2.000.000, no {articles}"
    );
    anyhow::ensure!(
        (1..=100_000).contains(&queries),
        "--queries debe estar entre 1 y 100.000, no {queries}"
    );
    let dir = std::env::temp_dir().join(format!("ceiba-bench-wiki-{}", uuid::Uuid::new_v4()));
    let report = ceiba_search::bench::run(articles, queries, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let report = report.context("la medición de la búsqueda falló")?;
    let round = |value: f64| (value * 1_000.0).round() / 1_000.0;
    print_line(&serde_json::to_string(&serde_json::json!({
        "articles": report.articles,
        "corpus_words": report.corpus_words,
        "index_seconds": round(report.index_seconds),
        "index_articles_per_second": report.index_articles_per_second.round(),
        "index_bytes": report.index_bytes,
        "queries": report.queries,
        "query_p50_ms": round(report.query_p50_ms),
        "query_p99_ms": round(report.query_p99_ms),
        "query_max_ms": round(report.query_max_ms),
        "queries_with_hits": round(report.queries_with_hits),
        "suggest_p50_ms": round(report.suggest_p50_ms),
        "suggest_p99_ms": round(report.suggest_p99_ms),
        "edit_visible_p50_ms": round(report.edit_visible_p50_ms),
        "edit_visible_max_ms": round(report.edit_visible_max_ms),
    }))?)
}
