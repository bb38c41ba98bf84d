//! `ceiba serve`: opens storage, migrates, elects the singleton worker and serves HTTP until
//! SIGTERM or SIGINT, then lets the requests in flight finish.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use ceiba_store::{Db, LeaseHolder, LeaseName};
use ceiba_web::{AppState, Metrics};
use tokio::sync::watch;

use crate::config::{Config, Storage};
use crate::print_line;

/// How long a lease lasts, and how often its holder renews it: three tries before it lapses,
/// so one slow round trip does not hand the work over.
const LEASE_TTL: Duration = Duration::from_secs(15);
const LEASE_RENEW_EVERY: Duration = Duration::from_secs(5);

pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    match &config.storage {
        Storage::Embedded { data_dir } => Db::open_embedded(data_dir, config.pool)
            .await
            .context("no se pudo abrir la base de datos SQLite"),
        Storage::Postgres { url, .. } => Db::connect(url, config.pool)
            .await
            .context("no se pudo abrir la base de datos PostgreSQL"),
    }
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    // Bind first: a port in use must be refused before anything is written to disk.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("no se pudo escuchar en {}", config.listen))?;
    let address = listener
        .local_addr()
        .context("no se pudo leer la dirección de escucha")?;

    let db = open_database(&config).await?;
    let report = db
        .migrate()
        .await
        .context("no se pudieron aplicar las migraciones")?;
    tracing::info!(
        applied_now = report.applied_now,
        applied_total = report.applied_total,
        database = %db.url(),
        "database ready"
    );
    let durability = db
        .durability()
        .await
        .context("no se pudo leer la configuración de durabilidad")?;
    if durability.survives_power_loss() {
        tracing::info!(?durability, "commits are synced to disk");
    } else {
        tracing::warn!(
            ?durability,
            "this database does not sync commits to disk: a power cut may lose acknowledged work"
        );
    }

    let metrics = Metrics::new();
    let (stop_sender, stop) = watch::channel(false);
    let lease_task = tokio::spawn(hold_lease(
        db.clone(),
        metrics.clone(),
        LeaseName::MAINTENANCE,
        stop.clone(),
    ));

    let app = ceiba_web::router(
        AppState {
            db: db.clone(),
            metrics,
        },
        config.limits,
    );
    tracing::info!(%address, data_dir = %config.data_dir().display(), "serving");
    print_line(&format!("Ceiba escucha en http://{address}"))?;

    let served = ceiba_web::serve(listener, app, config.limits, shutdown_signal()).await;
    tracing::info!("shutting down: requests in flight have finished");
    let _ = stop_sender.send(true);
    if let Err(error) = lease_task.await {
        tracing::error!(%error, "the lease task failed");
    }
    db.close().await;
    served.context("el servidor HTTP falló")
}

/// Completes on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM; only SIGINT stops the server");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// Takes and keeps `lease` while the process runs; singleton work checks `held` before it
/// runs. Every process tries, so when the holder dies another takes over within `LEASE_TTL`.
async fn hold_lease(
    db: Db,
    metrics: Arc<Metrics>,
    lease: LeaseName,
    mut stop: watch::Receiver<bool>,
) {
    let holder = LeaseHolder::new(uuid::Uuid::new_v4().to_string());
    let ttl_ms = i64::try_from(LEASE_TTL.as_millis()).unwrap_or(i64::MAX);
    let mut held = false;
    loop {
        let grant = db.try_acquire_lease(lease, &holder, now_ms(), ttl_ms).await;
        let now_held = match grant {
            Ok(grant) => grant.is_some(),
            Err(error) => {
                // Unsure whether we still hold it: stop acting as holder until renewal succeeds.
                tracing::warn!(%error, lease = lease.as_str(), "could not renew the lease");
                false
            }
        };
        if now_held != held {
            tracing::info!(lease = lease.as_str(), %holder, held = now_held, "lease changed hands");
            held = now_held;
        }
        metrics.set_lease_held(lease.as_str(), held);
        tokio::select! {
            _ = tokio::time::sleep(LEASE_RENEW_EVERY) => {}
            _ = stop.changed() => break,
        }
    }
    if held {
        match db.release_lease(lease, &holder).await {
            Ok(_) => tracing::info!(lease = lease.as_str(), "lease released"),
            Err(error) => tracing::warn!(%error, "could not release the lease; it will expire"),
        }
        metrics.set_lease_held(lease.as_str(), false);
    }
}
