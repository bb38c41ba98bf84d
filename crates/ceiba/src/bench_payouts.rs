//! `ceiba bench payouts`: a bulk payout file checked and paid, against a server started in this
//! process on a fresh database (SQLite, or an empty PostgreSQL named with `--database-url`).
//! Prints one JSON line: how long the upload took (reading, checking every row, looking up every
//! recipient, storing the batch) and how many rows a second the runner paid.

use std::time::Instant;

use anyhow::Context;
use ceiba_identity::{Argon2Config, CredentialHasher, Role};
use ceiba_store::{DatabaseUrl, Db, PoolSettings};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;

use crate::bench_payments::{BenchServer, Client, person, phone};
use crate::print_line;

/// What `ceiba bench payouts` was asked to do.
#[derive(Debug, Clone)]
pub struct PayoutsBench {
    pub rows: u32,
    pub people: u32,
    pub database_url: Option<String>,
}

pub async fn run(bench: PayoutsBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=100_000).contains(&bench.rows),
        "--rows debe estar entre 1 y 100000"
    );
    anyhow::ensure!(
        (1..=100_000).contains(&bench.people),
        "--people debe estar entre 1 y 100000"
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

async fn send(
    client: &Client,
    method: &str,
    url: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> anyhow::Result<(u16, serde_json::Value)> {
    let request = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", content_type)
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::from(body)))?;
    let response = client.request(request).await?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok((status, serde_json::from_slice(&bytes).unwrap_or_default()))
}

async fn measure(db: &Db, bench: &PayoutsBench) -> anyhow::Result<serde_json::Value> {
    let hasher = CredentialHasher::new(Argon2Config::INSECURE_FOR_TESTS)?;
    let hash = hasher.hash(
        &ceiba_identity::Password::parse("una-frase-para-medir")?,
        &mut rand::rng(),
    );
    let bench_server = BenchServer::start(db, hasher).await?;
    let (engine, state, base) = (
        bench_server.engine.clone(),
        bench_server.state.clone(),
        bench_server.base.clone(),
    );
    let client: Client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();

    // The operator and the people the file pays: not measured.
    let operator = person(db, 0, &[Role::BankOperator], &hash).await?;
    for n in 1..=bench.people {
        person(db, n, &[Role::Citizen], &hash).await?;
    }
    let mut file = String::from("destino,importe,referencia\n");
    for row in 0..bench.rows {
        let recipient = phone(row % bench.people + 1)?;
        file.push_str(&format!(
            "{},{}.{:02},nomina-{row}\n",
            recipient.as_e164(),
            row % 100 + 1,
            row % 100
        ));
    }
    let file_bytes = file.len();

    let started = Instant::now();
    let (status, batch) = send(
        &client,
        "POST",
        &format!("{base}/api/v1/payouts?source=BPA&file_name=banco-de-pruebas.csv"),
        &operator,
        "text/csv",
        file.into_bytes(),
    )
    .await?;
    let upload_seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(status == 201, "la subida respondió {status}: {batch}");
    anyhow::ensure!(
        batch["status"] == "ready",
        "el lote no quedó listo: {batch}"
    );
    let id = batch["id"]
        .as_str()
        .context("el lote no trae id")?
        .to_owned();
    let (status, started_batch) = send(
        &client,
        "POST",
        &format!("{base}/api/v1/payouts/{id}/start"),
        &operator,
        "application/json",
        b"{}".to_vec(),
    )
    .await?;
    anyhow::ensure!(
        status == 202,
        "la orden de pago respondió {status}: {started_batch}"
    );

    let started = Instant::now();
    loop {
        let turn = ceiba_web::payouts::run_due(&state, 2_000)
            .await
            .map_err(|error| anyhow::anyhow!("{:?}", error))?;
        if turn.finished > 0 || turn.paid + turn.refused == 0 {
            break;
        }
    }
    let pay_seconds = started.elapsed().as_secs_f64();
    let progress = db.payout_progress(&id).await?;
    let check = ceiba_ledger::check(&engine.read().state);
    bench_server.stop().await;
    let round = |value: f64| (value * 1_000.0).round() / 1_000.0;
    Ok(serde_json::json!({
        "backend": db.engine().as_str(),
        "rows": bench.rows,
        "people": bench.people,
        "file_bytes": file_bytes,
        "upload_seconds": round(upload_seconds),
        "rows_checked_per_second": (f64::from(bench.rows) / upload_seconds.max(f64::EPSILON)).round(),
        "pay_seconds": round(pay_seconds),
        "rows_paid_per_second": (f64::from(bench.rows) / pay_seconds.max(f64::EPSILON)).round(),
        "paid": progress.paid,
        "refused": progress.refused,
        "check": if check.is_sound() { "ok".to_owned() } else { format!("{:?}", check.violations) },
    }))
}
