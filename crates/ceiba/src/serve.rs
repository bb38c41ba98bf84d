//! `ceiba serve`: opens storage, migrates, elects the singleton worker and serves HTTP until
//! SIGTERM or SIGINT, then lets the requests in flight finish.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use ceiba_audit::{AuditEvent, CheckpointSigner, EventKind};
use ceiba_identity::{Argon2Config, CredentialHasher};
use ceiba_store::{Db, LeaseHolder, LeaseName};
use ceiba_web::{AppState, Metrics};
use tokio::sync::watch;

use crate::config::{Config, Storage};
use crate::print_line;
use crate::sms::SmsSender;

/// How long a lease lasts, and how often its holder renews it: three tries before it lapses,
/// so one slow round trip does not hand the work over.
const LEASE_TTL: Duration = Duration::from_secs(15);
const LEASE_RENEW_EVERY: Duration = Duration::from_secs(5);
/// The longest a due SMS waits before the lease holder sends it (a confirmation code should
/// leave within seconds). The maintenance loop turns at least this often, renewing the lease
/// each time (a cheap `UPDATE`).
const SMS_DISPATCH_EVERY: Duration = Duration::from_secs(2);

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

/// Reads the certificate chain and key into a rustls configuration: TLS 1.3 and 1.2 only
/// (rustls implements nothing older), HTTP/1.1.
fn load_tls(files: &crate::config::TlsFiles) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(&files.cert_file)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .with_context(|| {
            format!(
                "no se pudo leer el certificado TLS «{}»",
                files.cert_file.display()
            )
        })?;
    anyhow::ensure!(
        !certs.is_empty(),
        "el archivo «{}» no contiene ningún certificado PEM",
        files.cert_file.display()
    );
    let key = PrivateKeyDer::from_pem_file(&files.key_file).with_context(|| {
        format!(
            "no se pudo leer la clave TLS «{}»",
            files.key_file.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("TLS")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("el certificado y la clave TLS no forman pareja")?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(tls))
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    // Bind first: a port in use must be refused before anything is written to disk.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("no se pudo escuchar en {}", config.listen))?;
    let address = listener
        .local_addr()
        .context("no se pudo leer la dirección de escucha")?;
    // Read the certificate before anything is written: a bad one changes nothing.
    let tls = config.tls.as_ref().map(load_tls).transpose()?;

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

    std::fs::create_dir_all(config.data_dir()).with_context(|| {
        format!(
            "no se pudo crear la carpeta de datos «{}»",
            config.data_dir().display()
        )
    })?;
    let signer = crate::audit::load_or_create_signing_key(&config.audit_signing_key_file)?;
    let secrets_key =
        crate::audit::load_or_create_key(&config.secrets_key_file, "clave de secretos")?;
    let sms = SmsSender::from_config(&config)?;
    tracing::info!(sender = %sms.describe(), "SMS outbox sender ready");
    let holder = LeaseHolder::new(uuid::Uuid::new_v4().to_string());
    let started = AuditEvent::new(EventKind::ServerStarted, now_ms())
        .actor("sistema")
        .detail("version", env!("CARGO_PKG_VERSION"))
        .detail("proceso", holder.as_str())
        .detail("base_de_datos", db.engine().as_str());
    db.append_audit(&[started.to_bytes()], now_ms())
        .await
        .context("no se pudo escribir en el registro de auditoría")?;

    // The ledger is rebuilt from its journal before the server answers anything.
    let ledger = ceiba_store::LedgerEngine::start(
        db.clone(),
        LeaseHolder::new(holder.as_str()),
        ceiba_store::system_clock(),
    )
    .await
    .context("no se pudo reconstruir el libro mayor desde su diario")?;

    let metrics = Metrics::new();
    let (stop_sender, stop) = watch::channel(false);
    let audit_public_key = signer.public_key_bytes();
    let maintenance_task = tokio::spawn(maintain(
        Maintenance {
            db: db.clone(),
            metrics: metrics.clone(),
            holder,
            signer,
            checkpoint_interval: config.audit_checkpoint_interval,
            sms,
            sealer: ceiba_identity::SecretSealer::from_key(&secrets_key),
        },
        stop.clone(),
    ));

    let mut state = AppState::new(
        db.clone(),
        metrics,
        audit_public_key,
        CredentialHasher::new(Argon2Config::default())
            .context("los parámetros de Argon2 no son válidos")?,
        ceiba_identity::SecretSealer::from_key(&secrets_key),
    );
    state.rate_limits = Arc::new(ceiba_web::ratelimit::RateLimits::new(&config.rate_limits));
    state.ledger = Some(ledger.clone());
    state.payments = Arc::new(
        config
            .payments
            .settings(ceiba_web::payments::derive_receipt_key(&secrets_key)),
    );
    let mut ussd =
        ceiba_web::ussd::UssdSettings::closed(ceiba_web::ussd::derive_text_key(&secrets_key));
    ussd.session_idle = config.ussd.session_idle;
    match &config.ussd.gateway_key {
        Some(key) => {
            ussd = ussd.with_gateway_key(key.expose());
            tracing::info!(
                session_idle_s = ussd.session_idle.as_secs(),
                "the USSD channel is open to its gateway"
            );
        }
        None => tracing::info!("the USSD channel is closed: ussd.gateway_key is not set"),
    }
    state.ussd = Arc::new(ussd);
    state = state.with_wiki_index(Arc::new(open_wiki_index(config.data_dir())?));
    if state.wiki_index.num_articles() == 0 {
        match ceiba_web::wiki::rebuild_index(&state).await {
            Ok(0) => {}
            Ok(articles) => tracing::info!(articles, "the encyclopedia's search index was rebuilt"),
            Err(error) => tracing::warn!(?error, "could not rebuild the encyclopedia's index"),
        }
    }
    let settle_task = tokio::spawn(settle_payments(state.clone(), stop.clone()));
    let payouts_task = tokio::spawn(pay_payouts(state.clone(), stop.clone()));
    let outbreaks_task = tokio::spawn(watch_outbreaks(
        state.clone(),
        config.salud.clone(),
        stop.clone(),
    ));
    // Cookies are Secure when people reach Ceiba over HTTPS: served here, or by a proxy.
    state.tls = tls.is_some() || config.behind_https_proxy;
    let app = ceiba_web::router(state, config.limits);
    let shutdown = shutdown_signal()?;
    tracing::info!(%address, data_dir = %config.data_dir().display(), "serving");
    let scheme = if tls.is_some() { "https" } else { "http" };
    print_line(&format!("Ceiba escucha en {scheme}://{address}"))?;

    let served = match tls {
        Some(tls) => ceiba_web::serve_tls(listener, app, config.limits, tls, shutdown).await,
        None => ceiba_web::serve(listener, app, config.limits, shutdown).await,
    };
    tracing::info!("shutting down: requests in flight have finished");
    let _ = stop_sender.send(true);
    if let Err(error) = settle_task.await {
        tracing::error!(%error, "the payments settlement task failed");
    }
    if let Err(error) = payouts_task.await {
        tracing::error!(%error, "the bulk payouts task failed");
    }
    if let Err(error) = outbreaks_task.await {
        tracing::error!(%error, "the outbreak detection task failed");
    }
    ledger.stop().await;
    if let Err(error) = maintenance_task.await {
        tracing::error!(%error, "the maintenance task failed");
    }
    db.close().await;
    served.context("el servidor HTTP falló")
}

/// How often the ledger's writer looks for payment operations left pending, and how old one
/// must be before it is settled (a live request finishes its own in well under this).
const SETTLE_EVERY: Duration = Duration::from_secs(30);
const SETTLE_AFTER_MS: i64 = 60_000;

/// How often the ledger's writer looks for bulk payouts to pay, and how many rows of each it
/// pays in one turn (so a shutdown waits for at most one turn).
const PAYOUTS_EVERY: Duration = Duration::from_secs(1);
const PAYOUT_ROWS_PER_TURN: usize = 2_000;

/// Pays the rows of bulk payouts ordered paid (see `ceiba_web::payouts`), in the process that
/// writes to the ledger; a restart goes on where the last one stopped.
async fn pay_payouts(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(PAYOUTS_EVERY) => {}
        }
        if !state
            .ledger
            .as_ref()
            .is_some_and(ceiba_store::LedgerEngine::is_writer)
        {
            continue;
        }
        match ceiba_web::payouts::run_due(&state, PAYOUT_ROWS_PER_TURN).await {
            Ok(report) if report.paid + report.refused + report.finished > 0 => tracing::info!(
                paid = report.paid,
                refused = report.refused,
                finished = report.finished,
                "bulk payout rows paid"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(code = ?error.code, "could not pay bulk payout rows"),
        }
    }
}

/// The encyclopedia's search index, in the data folder.
pub const WIKI_INDEX_DIR: &str = "enciclopedia-indice";

/// Opens the encyclopedia's search index in the data folder. Another process holding it (two
/// servers on one data folder) leaves this one with an index in memory, rebuilt from the
/// records: searches still work, from what this process has seen.
fn open_wiki_index(data_dir: &std::path::Path) -> anyhow::Result<ceiba_search::ArticleIndex> {
    let dir = data_dir.join(WIKI_INDEX_DIR);
    match ceiba_search::ArticleIndex::open(&dir) {
        Ok(index) => Ok(index),
        Err(error) => {
            tracing::warn!(%error, dir = %dir.display(), "the search index is held elsewhere; using one in memory");
            ceiba_search::ArticleIndex::in_memory()
                .context("no se pudo crear el índice de búsqueda de la enciclopedia")
        }
    }
}

/// How often the outbreak detector looks whether Salud's records changed.
const OUTBREAKS_EVERY: Duration = Duration::from_secs(60);

/// Looks for outbreaks each time Salud's records change (see `ceiba_web::salud_alerts`). Any
/// process may: a signal is stored, and sent, once whoever finds it.
async fn watch_outbreaks(
    state: AppState,
    salud: crate::config::SaludConfig,
    mut stop: watch::Receiver<bool>,
) {
    let settings = salud.alerts;
    let mut looked_at: Option<u64> = None;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(OUTBREAKS_EVERY) => {}
        }
        match state.db.salud_revision().await {
            Ok(revision) if looked_at == Some(revision) => continue,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "could not read Salud's revision");
                continue;
            }
        }
        let now_ms = state.clock.now_ms();
        let notify_from =
            ceiba_web::salud_alerts::cuba_day(now_ms).plus_days(-i64::from(salud.notify_days));
        match ceiba_web::salud_alerts::run(&state.db, &state.salud, &settings, notify_from, now_ms)
            .await
        {
            Ok(run) => {
                looked_at = Some(run.revision);
                if run.new > 0 {
                    tracing::info!(
                        signals = run.signals,
                        new = run.new,
                        "outbreak signals found"
                    );
                }
            }
            Err(error) => tracing::warn!(%error, "could not look for outbreaks"),
        }
    }
}

/// Finishes payment operations that a crash or an unavailable ledger left pending. Runs in the
/// process that writes to the ledger, so the chains it resubmits are applied right there. Also
/// forgets USSD sessions a day old (any process may; deleting twice is harmless).
async fn settle_payments(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(SETTLE_EVERY) => {}
        }
        if let Err(error) = ceiba_web::ussd::purge_sessions(&state).await {
            tracing::warn!(code = ?error.code, "could not purge old USSD sessions");
        }
        if state
            .ledger
            .as_ref()
            .is_some_and(ceiba_store::LedgerEngine::is_writer)
        {
            match ceiba_web::payments::settle_stale(&state, SETTLE_AFTER_MS).await {
                Ok(0) => {}
                Ok(settled) => {
                    tracing::info!(settled, "payment operations left pending were settled")
                }
                Err(error) => {
                    tracing::warn!(code = ?error.code, "could not settle pending payment operations")
                }
            }
        }
    }
}

/// A future that completes on SIGTERM or SIGINT. The handlers are installed now, before the
/// server announces itself, so a signal sent right after the announcement is never lost to the
/// default action (which would kill the process without a graceful stop).
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate =
        signal(SignalKind::terminate()).context("no se pudo atender la señal SIGTERM")?;
    let mut interrupt =
        signal(SignalKind::interrupt()).context("no se pudo atender la señal SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

pub(crate) fn now_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// What the maintenance loop needs.
struct Maintenance {
    db: Db,
    metrics: Arc<Metrics>,
    holder: LeaseHolder,
    signer: CheckpointSigner,
    checkpoint_interval: Duration,
    sms: SmsSender,
    /// Opens the merchants' webhook signing keys.
    sealer: ceiba_identity::SecretSealer,
}

/// Takes and keeps the maintenance lease while the process runs, and does the singleton work
/// while it holds it: signing audit checkpoints and sending the SMS outbox. Every process tries,
/// so when the holder dies another takes over within `LEASE_TTL`. A turn starts every
/// `SMS_DISPATCH_EVERY` (or the checkpoint interval, when shorter), or right after the
/// previous one when that took longer; a turn's work is bounded (see `crate::sms`) so it ends
/// well before the lease it renewed at its start could lapse.
async fn maintain(work: Maintenance, mut stop: watch::Receiver<bool>) {
    let lease = LeaseName::MAINTENANCE;
    let ttl_ms = i64::try_from(LEASE_TTL.as_millis()).unwrap_or(i64::MAX);
    let mut held = false;
    let mut last_checkpoint: Option<Instant> = None;
    loop {
        let turn_started = tokio::time::Instant::now();
        let grant = work
            .db
            .try_acquire_lease(lease, &work.holder, now_ms(), ttl_ms)
            .await;
        let now_held = match grant {
            Ok(grant) => grant.is_some(),
            Err(error) => {
                // Unsure whether we still hold it: stop acting as holder until renewal succeeds.
                tracing::warn!(%error, lease = lease.as_str(), "could not renew the lease");
                false
            }
        };
        if now_held != held {
            tracing::info!(lease = lease.as_str(), holder = %work.holder, held = now_held, "lease changed hands");
            held = now_held;
            if held {
                let event = AuditEvent::new(EventKind::LeaseAcquired, now_ms())
                    .actor("sistema")
                    .detail("concesion", lease.as_str())
                    .detail("proceso", work.holder.as_str());
                if let Err(error) = work.db.append_audit(&[event.to_bytes()], now_ms()).await {
                    tracing::error!(%error, "could not write to the audit log");
                }
            }
        }
        work.metrics.set_lease_held(lease.as_str(), held);
        if held && last_checkpoint.is_none_or(|at| at.elapsed() >= work.checkpoint_interval) {
            checkpoint(&work).await;
            last_checkpoint = Some(Instant::now());
        }
        if held {
            dispatch_sms(&work).await;
            dispatch_webhooks(&work).await;
        }
        let period = LEASE_RENEW_EVERY
            .min(work.checkpoint_interval)
            .min(SMS_DISPATCH_EVERY);
        tokio::select! {
            _ = tokio::time::sleep_until(turn_started + period) => {}
            _ = stop.changed() => break,
        }
    }
    if held {
        // Leave a checkpoint covering everything this process saw logged.
        checkpoint(&work).await;
        match work.db.release_lease(lease, &work.holder).await {
            Ok(_) => tracing::info!(lease = lease.as_str(), "lease released"),
            Err(error) => tracing::warn!(%error, "could not release the lease; it will expire"),
        }
        work.metrics.set_lease_held(lease.as_str(), false);
    }
}

async fn checkpoint(work: &Maintenance) {
    match crate::audit::checkpoint_if_grown(&work.db, &work.signer, now_ms()).await {
        Ok(Some(size)) => tracing::info!(tree_size = size, "signed an audit checkpoint"),
        Ok(None) => {}
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "could not sign an audit checkpoint")
        }
    }
}

async fn dispatch_webhooks(work: &Maintenance) {
    // Expiries first, so their events leave in this same turn.
    match ceiba_web::checkouts::announce_expired(&work.db, now_ms()).await {
        Ok(0) => {}
        Ok(announced) => tracing::info!(announced, "expired checkouts announced"),
        Err(error) => tracing::error!(%error, "could not announce the expired checkouts"),
    }
    match ceiba_web::webhooks::dispatch_due(&work.db, &work.sealer, now_ms()).await {
        Ok(report) if report.delivered > 0 || report.failed > 0 => {
            tracing::info!(
                delivered = report.delivered,
                failed = report.failed,
                "merchant webhooks dispatched"
            );
        }
        Ok(_) => {}
        Err(error) => tracing::error!(%error, "could not dispatch the merchant webhooks"),
    }
}

async fn dispatch_sms(work: &Maintenance) {
    match crate::sms::dispatch_due(&work.db, &work.sms, now_ms()).await {
        Ok(report) if report.sent > 0 || report.failed > 0 => {
            tracing::info!(
                sent = report.sent,
                failed = report.failed,
                "SMS outbox dispatched"
            );
        }
        Ok(_) => {}
        Err(error) => tracing::error!(%error, "could not dispatch the SMS outbox"),
    }
}
