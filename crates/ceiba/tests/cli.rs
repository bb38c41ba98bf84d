//! The `ceiba` binary end to end: commands, configuration layers, refusals of bad input, and
//! `serve` on each engine, including two processes sharing one database.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use ceiba_testkit::http;
use ceiba_testkit::process::ServeProcess;
use ceiba_testkit::{Suite, TestDatabase, TestResult};

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ceiba"))
}

fn main() {
    let mut suite = Suite::new();
    suite.test("version_prints_the_version", version_prints_the_version);
    suite.test("config_layers_defaults_file_env_flags", config_layers);
    suite.test(
        "bad_configuration_is_refused_naming_the_value",
        bad_configuration_is_refused,
    );
    suite.test(
        "serve_without_flags_creates_data_dir_and_sqlite",
        serve_without_flags,
    );
    suite.test("unusable_data_dir_is_refused", unusable_data_dir_is_refused);
    suite.test(
        "port_in_use_is_refused_and_nothing_written",
        port_in_use_is_refused,
    );
    suite.test(
        "unreachable_postgres_is_refused",
        unreachable_postgres_is_refused,
    );
    suite.test("json_logs_carry_request_ids", json_logs_carry_request_ids);
    suite.each_engine(
        "migrate_applies_pending_migrations_once",
        migrate_applies_once,
    );
    suite.each_engine(
        "serve_answers_and_stops_on_sigterm",
        serve_answers_and_stops,
    );
    suite.each_engine(
        "two_processes_elect_one_lease_holder",
        two_processes_elect_one,
    );
    suite.each_engine("audit_verify_passes_on_an_honest_log", audit_verify_passes);
    suite.each_engine(
        "audit_verify_names_an_altered_entry",
        audit_verify_names_altered,
    );
    suite.each_engine(
        "audit_verify_names_a_removed_entry",
        audit_verify_names_removed,
    );
    suite.each_engine(
        "audit_verify_names_reordered_entries",
        audit_verify_names_reordered,
    );
    suite.each_engine(
        "audit_proofs_print_verifiable_json",
        audit_proofs_print_json,
    );
    suite.test("bench_audit_prints_figures", bench_audit_prints_figures);
    suite.test("bench_login_prints_figures", bench_login_prints_figures);
    suite.test(
        "bench_ledger_prints_one_json_line",
        bench_ledger_prints_json,
    );
    suite.test(
        "bench_salud_refuses_bad_arguments",
        bench_salud_refuses_bad_arguments,
    );
    suite.test(
        "epi_abm_runs_cuba_and_synthetic_populations_reproducibly",
        epi_abm_runs_reproducibly,
    );
    suite.test(
        "wiki_offline_packages_are_described_verified_and_patched",
        wiki_offline_packages,
    );
    suite.test(
        "bench_wiki_measures_a_small_corpus_and_refuses_bad_sizes",
        bench_wiki_small,
    );
    suite.with_programs(
        "wiki_imports_mediawiki_once_and_exports_a_signed_zim_zimcheck_passes",
        &["zimcheck"],
        wiki_import_and_export,
    );
    suite.test(
        "bench_ledger_refuses_bad_arguments",
        bench_ledger_refuses_bad_arguments,
    );
    suite.each_engine(
        "admin_create_user_bootstraps_an_administrator",
        admin_create_user,
    );
    suite.each_engine(
        "ussd_dials_a_real_server_from_the_terminal",
        ussd_dials_a_real_server,
    );
    suite.test(
        "ussd_gateway_key_is_never_shown_and_must_be_long",
        ussd_gateway_key_configuration,
    );
    suite.with_programs(
        "tls_serves_https_from_tls_1_2_up",
        &["curl", "openssl"],
        tls_serves_https,
    );
    suite.test("tls_needs_both_files_and_refuses_bad_ones", tls_refusals);
    suite.test(
        "payments_configuration_layers_defaults_file_env",
        payments_configuration_layers,
    );
    suite.each_engine(
        "demo_seed_is_idempotent_and_its_credentials_sign_in",
        demo_seed_then_sign_in,
    );
    suite.each_engine(
        "a_payout_is_paid_once_per_row_across_a_killed_server",
        payout_across_a_killed_server,
    );
    suite.each_engine(
        "salud_geography_loads_once_and_is_open_data",
        salud_geography_loads_once,
    );
    suite.each_engine(
        "salud_import_of_the_real_archive_matches_its_daily_series",
        salud_import_matches_the_series,
    );
    suite.test(
        "demo_seed_refuses_a_database_with_other_accounts",
        demo_seed_refuses_other_accounts,
    );
    suite.test(
        "configured_limit_and_fee_take_effect_over_http",
        configured_limit_and_fee_take_effect,
    );
    suite.test(
        "qr_decode_prints_the_fields_of_a_payload",
        qr_decode_prints_fields,
    );
    suite.test(
        "qr_decode_refuses_a_changed_crc_in_spanish",
        qr_decode_refuses_changed_crc,
    );
    suite.test(
        "qr_encode_prints_a_payload_that_decodes_again",
        qr_encode_decodes_again,
    );
    suite.run()
}

/// Runs `ceiba ARGS…` to completion in `dir` with extra environment variables.
fn run_ceiba(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = std::process::Command::new(binary());
    command.current_dir(dir).args(args);
    // The test's own CEIBA_* variables must not leak into the configuration under test.
    for (name, _) in std::env::vars() {
        if name.starts_with("CEIBA_") {
            command.env_remove(name);
        }
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the ceiba binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn version_prints_the_version() -> TestResult {
    let dir = tempfile::tempdir()?;
    let output = run_ceiba(dir.path(), &["version"], &[]);
    assert!(output.status.success());
    assert_eq!(
        stdout(&output).trim(),
        format!("ceiba {}", env!("CARGO_PKG_VERSION"))
    );
    Ok(())
}

async fn config_layers() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("ceiba.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:7000\"\ndata_dir = \"/desde/archivo\"\nlog_level = \"debug\"\n\
         [limits]\nbody_bytes_max = 2048\nrequest_timeout_ms = 5000\n",
    )?;
    let file = file.display().to_string();
    let effective = |args: &[&str], env: &[(&str, &str)]| -> Result<toml::Table, String> {
        let mut all = vec!["--config", file.as_str(), "config"];
        all.extend_from_slice(args);
        let output = run_ceiba(dir.path(), &all, env);
        if !output.status.success() {
            return Err(stderr(&output));
        }
        stdout(&output)
            .parse::<toml::Table>()
            .map_err(|error| error.to_string())
    };

    let defaults = run_ceiba(dir.path(), &["config"], &[]);
    let defaults: toml::Table = stdout(&defaults).parse()?;
    assert_eq!(defaults["listen"].as_str(), Some("127.0.0.1:8080"));
    assert_eq!(defaults["data_dir"].as_str(), Some("./ceiba-data"));
    assert_eq!(
        defaults["limits"]["body_bytes_max"].as_integer(),
        Some(1_048_576)
    );

    // The file overrides the defaults it names and leaves the rest.
    let from_file = effective(&[], &[])?;
    assert_eq!(from_file["listen"].as_str(), Some("127.0.0.1:7000"));
    assert_eq!(from_file["log_level"].as_str(), Some("debug"));
    assert_eq!(
        from_file["limits"]["body_bytes_max"].as_integer(),
        Some(2048)
    );
    assert_eq!(
        from_file["limits"]["header_bytes_max"].as_integer(),
        Some(16_384)
    );

    // The environment overrides the file, nested keys with `__`.
    let env = [
        ("CEIBA_LISTEN", "127.0.0.1:7001"),
        ("CEIBA_DATA_DIR", "/desde/entorno"),
        ("CEIBA_LIMITS__BODY_BYTES_MAX", "4096"),
        ("CEIBA_LOG_FORMAT", "json"),
    ];
    let from_env = effective(&[], &env)?;
    assert_eq!(from_env["listen"].as_str(), Some("127.0.0.1:7001"));
    assert_eq!(from_env["data_dir"].as_str(), Some("/desde/entorno"));
    assert_eq!(
        from_env["limits"]["body_bytes_max"].as_integer(),
        Some(4096)
    );
    assert_eq!(
        from_env["limits"]["request_timeout_ms"].as_integer(),
        Some(5000)
    );
    assert_eq!(from_env["log_format"].as_str(), Some("json"));

    // Flags override everything.
    let from_flags = effective(
        &["--listen", "127.0.0.1:7002", "--data-dir", "/desde/opcion"],
        &env,
    )?;
    assert_eq!(from_flags["listen"].as_str(), Some("127.0.0.1:7002"));
    assert_eq!(from_flags["data_dir"].as_str(), Some("/desde/opcion"));
    assert_eq!(
        from_flags["limits"]["body_bytes_max"].as_integer(),
        Some(4096)
    );

    // A password never shows.
    let with_url = effective(
        &[
            "--database-url",
            "postgres://ceiba:secreto@db.example/ceiba",
        ],
        &[],
    )?;
    let shown = with_url["database_url"].as_str().unwrap_or_default();
    assert!(
        shown.contains("db.example") && !shown.contains("secreto"),
        "{shown}"
    );
    Ok(())
}

/// Arguments, environment, and what the refusal's sentence must name.
type RefusalCase<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a [&'a str]);

async fn bad_configuration_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("malo.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:7000\"\nlisten_port = 80\n")?;
    let file = file.display().to_string();
    let data_dir = dir.path().join("datos").display().to_string();
    let cases: &[RefusalCase] = &[
        (
            &[],
            &[("CEIBA_LISTEN", "no-es-direccion")],
            &["«listen»", "CEIBA_LISTEN", "no-es-direccion"],
        ),
        (&["--listen", "1.2.3.4"], &[], &["1.2.3.4"]),
        (
            &[],
            &[("CEIBA_LIMITS__BODY_BYTES_MAX", "0")],
            &["limits.body_bytes_max", "CEIBA_LIMITS__BODY_BYTES_MAX"],
        ),
        (
            &[],
            &[("CEIBA_LIMITS__REQUEST_TIMEOUT_MS", "muchos")],
            &["request_timeout_ms", "CEIBA_LIMITS__REQUEST_TIMEOUT_MS"],
        ),
        (&[], &[("CEIBA_LOG_FORMAT", "xml")], &["log_format", "xml"]),
        (&[], &[("CEIBA_LOG_LEVEL", "[[[")], &["log_level"]),
        (
            &[],
            &[("CEIBA_LISTN", "127.0.0.1:1")],
            &["listn", "CEIBA_LISTN", "no existe"],
        ),
        (
            &["--config", file.as_str()],
            &[],
            &["listen_port", "malo.toml"],
        ),
        (&["--config", "/no/existe.toml"], &[], &["/no/existe.toml"]),
        (
            &["--database-url", "mysql://root:s3creta-xyz@localhost/db"],
            &[],
            &["--database-url", "mysql"],
        ),
        // Pagos: amounts, limits that contradict each other, fees, the hold. The first guards a
        // bug: figment's environment layer read `80.000` (eighty thousand, the Spanish way) as
        // the number 80, and the server started with that limit.
        (
            &[],
            &[("CEIBA_PAYMENTS__LIMITS__CUP_DAILY", "80.000")],
            &[
                "payments.limits.cup_daily",
                "CEIBA_PAYMENTS__LIMITS__CUP_DAILY",
                "80.000",
                "dos decimales",
            ],
        ),
        (
            &[],
            &[("CEIBA_PAYMENTS__LIMITS__USD_DAILY", "6000")],
            &[
                "payments.limits.usd_daily",
                "payments.limits.usd_monthly",
                "6.000,00",
            ],
        ),
        (
            &[],
            &[("CEIBA_PAYMENTS__CAPS__CUP", "0")],
            &["payments.caps.cup", "mayor que cero"],
        ),
        (
            &[],
            &[(
                "CEIBA_PAYMENTS__FEES__PERSON_TO_PERSON__USD__PERCENT",
                "101",
            )],
            &["payments.fees.person_to_person.usd.percent", "porcentaje"],
        ),
        (
            &[],
            &[
                ("CEIBA_PAYMENTS__FEES__TOP_UP__CUP__MIN", "5"),
                ("CEIBA_PAYMENTS__FEES__TOP_UP__CUP__MAX", "1"),
            ],
            &["payments.fees.top_up.cup.max", "mínimo"],
        ),
        (
            &[],
            &[("CEIBA_PAYMENTS__FEES__CASH_IN__CUP__FIXED", "1")],
            &["payments.fees.cash_in", "no existe", "person_to_person"],
        ),
        (
            &[],
            &[("CEIBA_PAYMENTS__HOLD_TIMEOUT_S", "0")],
            &[
                "payments.hold_timeout_s",
                "CEIBA_PAYMENTS__HOLD_TIMEOUT_S",
                "86400",
            ],
        ),
        (
            &[],
            &[("CEIBA_SALUD__ALERTS__SD_FLOOR", "0")],
            &[
                "salud.alerts.sd_floor",
                "CEIBA_SALUD__ALERTS__SD_FLOOR",
                "mayor que 0",
            ],
        ),
        (
            &[],
            &[("CEIBA_SALUD__ALERTS__NOTIFY_DAYS", "400")],
            &["salud.alerts.notify_days", "120"],
        ),
        (
            &[],
            &[("CEIBA_PAYMENTS__SETTLEMENT_WINDOW_S", "7000")],
            &[
                "payments.settlement_window_s",
                "CEIBA_PAYMENTS__SETTLEMENT_WINDOW_S",
                "86400",
            ],
        ),
    ];
    for (args, env, expected) in cases {
        let mut all = vec!["serve"];
        all.extend_from_slice(args);
        all.extend(["--data-dir", data_dir.as_str()]);
        let output = run_ceiba(dir.path(), &all, env);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{all:?} {env:?}: {message}");
        assert!(message.starts_with("error: "), "{message}");
        assert_eq!(message.trim().lines().count(), 1, "one sentence: {message}");
        for needle in *expected {
            assert!(
                message.contains(needle),
                "{all:?} {env:?}: «{needle}» missing in: {message}"
            );
        }
        assert!(
            !message.contains("s3creta-xyz"),
            "password shown: {message}"
        );
        assert!(
            !Path::new(&data_dir).exists(),
            "{all:?}: the data folder was created"
        );
    }
    Ok(())
}

/// Waits until `condition` holds, polling; fails after `limit`.
async fn eventually<F, Fut>(limit: Duration, what: &str, mut condition: F) -> TestResult
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < limit {
        if condition().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{what}: not within {} s", limit.as_secs()).into())
}

async fn serve_without_flags() -> TestResult {
    let dir = tempfile::tempdir()?;
    // Run in a folder of our own: the default data folder is ./ceiba-data.
    let mut command = tokio::process::Command::new(binary());
    command.current_dir(dir.path());
    let server = ServeProcess::start_command(command, &[], &[]).await?;
    let ready = http::get(&server.url("/readyz")).await?;
    assert_eq!(ready.status, 200, "{}", ready.text());
    assert_eq!(ready.json()?["database"], "sqlite");
    let database = dir
        .path()
        .join("ceiba-data")
        .join(ceiba_store::EMBEDDED_DATABASE_FILE);
    assert!(database.is_file(), "{} missing", database.display());
    // The keys the server made for itself are readable by their owner only.
    for key in ["audit-signing.key", "secretos.key"] {
        let path = dir.path().join("ceiba-data").join(key);
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path)?.permissions());
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "{logs}");

    // The file is in WAL mode with FULL sync, as the server left it.
    let db = ceiba_store::Db::open_embedded(
        &dir.path().join("ceiba-data"),
        ceiba_store::PoolSettings::default(),
    )
    .await?;
    let durability = db.durability().await?;
    assert_eq!(durability.journal, "wal");
    assert!(durability.survives_power_loss(), "{durability:?}");
    db.close().await;
    Ok(())
}

async fn unusable_data_dir_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("un-archivo");
    std::fs::write(&file, "no soy una carpeta")?;
    let cases: [(PathBuf, &str); 2] = [
        (file.clone(), "no es una carpeta"),
        // Even root cannot create folders in /proc: a read-only place on every Linux machine.
        (PathBuf::from("/proc/ceiba-datos"), "no se pudo crear"),
    ];
    for (data_dir, reason) in cases {
        let data_dir = data_dir.display().to_string();
        let output = run_ceiba(
            dir.path(),
            &["serve", "--listen", "127.0.0.1:0", "--data-dir", &data_dir],
            &[],
        );
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{message}");
        assert!(
            message.contains(&data_dir) && message.contains(reason),
            "{message}"
        );
    }
    assert_eq!(std::fs::read_to_string(&file)?, "no soy una carpeta");
    Ok(())
}

async fn port_in_use_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let address = taken.local_addr()?.to_string();
    let data_dir = dir.path().join("datos");
    let output = run_ceiba(
        dir.path(),
        &[
            "serve",
            "--listen",
            &address,
            "--data-dir",
            &data_dir.display().to_string(),
        ],
        &[],
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(
        message.contains("no se pudo escuchar en") && message.contains(&address),
        "{message}"
    );
    assert!(
        !data_dir.exists(),
        "the data folder was created although the port was taken"
    );
    Ok(())
}

async fn unreachable_postgres_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let url = "postgres://ceiba:secreto@127.0.0.1:1/ceiba";
    let started = Instant::now();
    let output = run_ceiba(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0", "--database-url", url],
        &[],
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(
        message.contains("PostgreSQL") && message.contains("127.0.0.1:1"),
        "{message}"
    );
    assert!(!message.contains("secreto"), "password shown: {message}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    let migrate = run_ceiba(dir.path(), &["migrate", "--database-url", url], &[]);
    assert_eq!(migrate.status.code(), Some(1));
    Ok(())
}

async fn json_logs_carry_request_ids() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("datos").display().to_string();
    let server = ServeProcess::start(
        binary(),
        &["--data-dir".to_owned(), data_dir],
        &[("CEIBA_LOG_FORMAT", "json")],
    )
    .await?;
    let response = http::get(&server.url("/healthz")).await?;
    let request_id = response
        .header("x-request-id")
        .ok_or("no x-request-id")?
        .to_owned();
    // The access log line is written as the response leaves; give it a moment.
    eventually(Duration::from_secs(5), "the request's log line", || {
        let logs = server.stderr();
        let id = request_id.clone();
        async move { logs.contains(&id) }
    })
    .await?;
    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0));
    let mut found = false;
    for line in logs.lines().filter(|line| !line.trim().is_empty()) {
        let entry: serde_json::Value =
            serde_json::from_str(line).map_err(|error| format!("not JSON ({error}): {line}"))?;
        if entry.to_string().contains(&request_id) {
            found = true;
            assert!(
                entry["level"].is_string() && entry["timestamp"].is_string(),
                "{entry}"
            );
        }
    }
    assert!(found, "no log line carries {request_id}:\n{logs}");
    Ok(())
}

async fn migrate_applies_once(database: TestDatabase) -> TestResult {
    let args = database.cli_args();
    let mut all = vec!["migrate"];
    all.extend(args.iter().map(String::as_str));
    let output = run_ceiba(database.data_dir(), &all, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    // The harness migrated already: nothing is new, and all are there.
    let said = stdout(&output);
    assert!(
        said.starts_with("Migraciones aplicadas: 0 nuevas"),
        "{said}"
    );
    Ok(())
}

async fn serve_answers_and_stops(database: TestDatabase) -> TestResult {
    let server = ServeProcess::start(binary(), &database.cli_args(), &[]).await?;
    let ready = http::get(&server.url("/readyz")).await?;
    assert_eq!(ready.status, 200, "{}", ready.text());
    let engine = match database.engine() {
        ceiba_store::Engine::Sqlite => "sqlite",
        ceiba_store::Engine::Postgres => "postgresql",
    };
    assert_eq!(ready.json()?["database"], engine);
    let home = http::get(&server.url("/")).await?;
    assert_eq!(home.status, 200);
    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "exit after SIGTERM: {logs}");
    assert!(logs.contains("lease released"), "{logs}");
    Ok(())
}

async fn lease_held(server: &ServeProcess) -> Option<bool> {
    let metrics = http::get(&server.url("/metrics")).await.ok()?;
    let line = metrics
        .text()
        .lines()
        .find(|line| line.starts_with("ceiba_lease_held{lease=\"maintenance\"}"))?
        .to_owned();
    Some(line.ends_with(" 1"))
}

async fn two_processes_elect_one(database: TestDatabase) -> TestResult {
    let first = ServeProcess::start(binary(), &database.cli_args(), &[]).await?;
    let second = ServeProcess::start(binary(), &database.cli_args(), &[]).await?;
    // Both report a state once each has tried for the lease (the first try is at start).
    let started = Instant::now();
    let mut states = (None, None);
    while started.elapsed() < Duration::from_secs(10) {
        states = (lease_held(&first).await, lease_held(&second).await);
        if states.0.is_some() && states.1.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        [states.0, states.1]
            .iter()
            .filter(|held| **held == Some(true))
            .count(),
        1,
        "exactly one holder: {states:?}"
    );
    // When the holder stops, it hands the lease over; the other takes it at its next renewal.
    let (holder, other) = if states.0 == Some(true) {
        (first, second)
    } else {
        (second, first)
    };
    let (code, _) = holder.stop().await?;
    assert_eq!(code, Some(0));
    eventually(
        Duration::from_secs(12),
        "the other process takes the lease",
        || {
            let other = &other;
            async move { lease_held(other).await == Some(true) }
        },
    )
    .await?;
    other.stop().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Audit log: serve writes to it and signs checkpoints; verify catches tampering and names it.
// ---------------------------------------------------------------------------------------------

/// Runs `ceiba ARGS… <storage flags>` against the test's database.
fn run_on(database: &TestDatabase, args: &[&str]) -> Output {
    let storage = database.cli_args();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(storage.iter().map(String::as_str));
    run_ceiba(database.data_dir(), &all, &[])
}

/// A log as a running Ceiba leaves it: a serve (its start is logged and checkpointed), then
/// more events and a checkpoint of those.
async fn honest_log(database: &TestDatabase) -> TestResult {
    let server = ServeProcess::start(binary(), &database.cli_args(), &[]).await?;
    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "{logs}");
    let events: Vec<Vec<u8>> = (0..40)
        .map(|number| {
            ceiba_audit::AuditEvent::new(ceiba_audit::EventKind::LoginFailed, 1_790_000_000_000)
                .actor(format!("usuario-{number}"))
                .to_bytes()
        })
        .collect();
    database.db.append_audit(&events, 1_790_000_000_000).await?;
    let checkpoint = run_on(database, &["audit", "checkpoint"]);
    assert!(checkpoint.status.success(), "{}", stderr(&checkpoint));
    assert!(
        stdout(&checkpoint).contains("Punto de control firmado"),
        "{}",
        stdout(&checkpoint)
    );
    Ok(())
}

fn verify(database: &TestDatabase) -> (Option<i32>, String, String) {
    let output = run_on(database, &["audit", "verify"]);
    (output.status.code(), stdout(&output), stderr(&output))
}

async fn audit_verify_passes(database: TestDatabase) -> TestResult {
    honest_log(&database).await?;
    let (code, said, errors) = verify(&database);
    assert_eq!(code, Some(0), "{errors}");
    assert!(said.starts_with("Registro de auditoría íntegro"), "{said}");
    let head = database.db.audit_head().await?;
    assert!(
        head.tree_size >= 42,
        "serve logs its start and its lease: {}",
        head.tree_size
    );
    assert!(
        said.contains(&format!("{} entradas", head.tree_size)),
        "{said}"
    );
    assert!(said.contains(&head.root.to_string()), "{said}");
    let checkpoints = database.db.checkpoints().await?;
    assert!(
        checkpoints.len() >= 2,
        "serve and the command each signed one: {checkpoints:?}"
    );
    Ok(())
}

async fn audit_verify_names_altered(database: TestDatabase) -> TestResult {
    honest_log(&database).await?;
    ceiba_store::testing::tamper::alter_entry_data(&database.db, 17, b"{\"v\":1}").await?;
    let (code, _, errors) = verify(&database);
    assert_eq!(code, Some(1), "{errors}");
    assert!(errors.contains("la entrada 17 fue alterada"), "{errors}");
    Ok(())
}

async fn audit_verify_names_removed(database: TestDatabase) -> TestResult {
    honest_log(&database).await?;
    ceiba_store::testing::tamper::delete_entry(&database.db, 9).await?;
    let (code, _, errors) = verify(&database);
    assert_eq!(code, Some(1), "{errors}");
    assert!(errors.contains("falta la entrada 9"), "{errors}");
    Ok(())
}

async fn audit_verify_names_reordered(database: TestDatabase) -> TestResult {
    honest_log(&database).await?;
    ceiba_store::testing::tamper::swap_entries(&database.db, 5, 30).await?;
    let (code, _, errors) = verify(&database);
    assert_eq!(code, Some(1), "{errors}");
    assert!(
        errors.contains("desordenado") || errors.contains("entrada 5"),
        "{errors}"
    );
    assert!(errors.contains('5'), "{errors}");
    Ok(())
}

async fn audit_proofs_print_json(database: TestDatabase) -> TestResult {
    honest_log(&database).await?;
    let head = database.db.audit_head().await?;
    let output = run_on(&database, &["audit", "proof", "inclusion", "--index", "3"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let proof: serde_json::Value = serde_json::from_str(&stdout(&output))?;
    let path: Vec<ceiba_audit::Hash> = proof["audit_path"]
        .as_array()
        .ok_or("no audit_path")?
        .iter()
        .map(|hash| hash.as_str().unwrap_or_default().parse())
        .collect::<Result<_, _>>()?;
    let leaf: ceiba_audit::Hash = proof["leaf_hash"].as_str().ok_or("no leaf")?.parse()?;
    ceiba_audit::verify_inclusion(leaf, 3, head.tree_size, &path, head.root)?;

    let output = run_on(
        &database,
        &["audit", "proof", "consistency", "--first", "2"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let proof: serde_json::Value = serde_json::from_str(&stdout(&output))?;
    assert_eq!(proof["second"], head.tree_size);
    let refused = run_on(
        &database,
        &["audit", "proof", "inclusion", "--index", "100000"],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("100000"), "{}", stderr(&refused));
    Ok(())
}

async fn bench_audit_prints_figures() -> TestResult {
    let dir = tempfile::tempdir()?;
    let output = run_ceiba(
        dir.path(),
        &["bench", "audit", "--entries", "50", "--batch", "10"],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stdout(&output);
    assert!(said.contains("una entrada por transacción"), "{said}");
    assert!(said.contains("lotes de 10"), "{said}");
    assert!(
        said.contains("verificación completa: 100 entradas"),
        "{said}"
    );
    Ok(())
}

async fn bench_login_prints_figures() -> TestResult {
    let dir = tempfile::tempdir()?;
    let output = run_ceiba(dir.path(), &["bench", "login", "--sign-ins", "2"], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stdout(&output);
    assert!(
        said.contains("2 inicios de sesión") && said.contains("latencia p50"),
        "{said}"
    );
    Ok(())
}

async fn bench_ledger_prints_json() -> TestResult {
    let dir = tempfile::tempdir()?;
    let output = run_ceiba(
        dir.path(),
        &[
            "bench",
            "ledger",
            "--accounts",
            "50",
            "--transfers",
            "1000",
            "--batch",
            "100",
            "--hot-accounts",
            "3",
            "--clients",
            "2",
        ],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stdout(&output);
    let figures: serde_json::Value = serde_json::from_str(said.trim())?;
    assert_eq!(figures["backend"], "sqlite");
    assert_eq!(figures["transfers"], 1000);
    assert_eq!(figures["batch"], 100);
    assert_eq!(figures["refused"], 0);
    assert_eq!(figures["check"], "ok");
    for key in [
        "seconds",
        "transfers_per_second",
        "batch_latency_ms_p50",
        "batch_latency_ms_p99",
        "batch_latency_ms_max",
        "replay_seconds",
    ] {
        assert!(
            figures[key].as_f64().is_some_and(|v| v > 0.0),
            "{key}: {said}"
        );
    }
    // 1 record of accounts and at least 10 of transfers (two clients may share records).
    assert!(
        figures["journal_records"]
            .as_u64()
            .is_some_and(|n| (2..=11).contains(&n)),
        "{said}"
    );
    Ok(())
}

async fn bench_ledger_refuses_bad_arguments() -> TestResult {
    let dir = tempfile::tempdir()?;
    for (args, says) in [
        (&["--batch", "8191"][..], "--batch"),
        (&["--accounts", "1"][..], "--accounts"),
        (
            &["--accounts", "10", "--hot-accounts", "11"][..],
            "--hot-accounts",
        ),
        (&["--compare-pgbench"][..], "--database-url"),
    ] {
        let mut all = vec!["bench", "ledger"];
        all.extend_from_slice(args);
        let output = run_ceiba(dir.path(), &all, &[]);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&output).contains(says),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Administration
// ---------------------------------------------------------------------------------------------

/// Runs `ceiba ARGS… <storage flags>` with `input` on standard input.
fn run_with_input(database: &TestDatabase, args: &[&str], input: &str) -> Output {
    let mut all: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    all.extend(database.cli_args());
    pipe_to_ceiba(database.data_dir(), &all, input)
}

/// Runs `ceiba ARGS…` in `dir` with `input` on its standard input, without the test's own
/// CEIBA_* variables.
fn pipe_to_ceiba(dir: &Path, args: &[String], input: &str) -> Output {
    use std::io::Write;
    let mut command = std::process::Command::new(binary());
    command
        .current_dir(dir)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (name, _) in std::env::vars() {
        if name.starts_with("CEIBA_") {
            command.env_remove(name);
        }
    }
    let mut child = command.spawn().expect("the ceiba binary runs");
    // A program that ends before reading everything closes the pipe: what it did is in its
    // output and status, which the test checks.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes());
    child.wait_with_output().expect("ceiba finishes")
}

async fn admin_create_user(database: TestDatabase) -> TestResult {
    let create = [
        "admin",
        "create-user",
        "--phone",
        "+53 5555 0001",
        "--name",
        "Administración",
        "--role",
        "administrator",
        "--role",
        "auditor",
    ];
    let output = run_with_input(&database, &create, "una-frase-de-paso-larga\n");
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stdout(&output);
    assert!(
        said.starts_with("Cuenta creada:") && said.contains("administrator, auditor"),
        "{said}"
    );
    assert!(
        !said.contains("55550001"),
        "the number must be masked: {said}"
    );

    // The same number twice, a role that does not exist, a common password: refused.
    let again = run_with_input(&database, &create, "una-frase-de-paso-larga\n");
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("ya existe"), "{}", stderr(&again));
    let bad_role = [
        "admin",
        "create-user",
        "--phone",
        "+53 5555 0002",
        "--name",
        "X",
        "--role",
        "rey",
    ];
    let refused = run_with_input(&database, &bad_role, "una-frase-de-paso-larga\n");
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("rey"), "{}", stderr(&refused));
    let weak = [
        "admin",
        "create-user",
        "--phone",
        "+53 5555 0003",
        "--name",
        "X",
        "--role",
        "citizen",
    ];
    let refused = run_with_input(&database, &weak, "password\n");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("contraseña"),
        "{}",
        stderr(&refused)
    );

    // The administrator signs in on a real server and holds the roles.
    let server = ServeProcess::start(binary(), &database.cli_args(), &[]).await?;
    let body = serde_json::json!({"phone": "+5355550001", "password": "una-frase-de-paso-larga"});
    let session = http::send(
        "POST",
        &server.url("/api/v1/sessions"),
        &[("content-type", "application/json")],
        body.to_string().into_bytes(),
    )
    .await?;
    assert_eq!(session.status, 201, "{}", session.text());
    let token = session.json()?["token"]
        .as_str()
        .ok_or("no token")?
        .to_owned();
    let authorization = format!("Bearer {token}");
    let me = http::send(
        "GET",
        &server.url("/api/v1/me"),
        &[("authorization", &authorization)],
        Vec::new(),
    )
    .await?;
    assert_eq!(
        me.json()?["roles"],
        serde_json::json!(["administrator", "auditor"])
    );
    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "{logs}");
    let entries = database.db.audit_entries(0, 1000).await?;
    assert!(
        entries
            .iter()
            .any(|entry| String::from_utf8_lossy(&entry.data).contains("role_changed")),
        "the grant of roles is in the audit log"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------------------------

/// A self-signed certificate for 127.0.0.1 made with openssl; returns (cert, key) paths.
fn self_signed(dir: &Path, openssl: &Path) -> Result<(PathBuf, PathBuf), String> {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let output = std::process::Command::new(openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .map_err(|error| error.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    Ok((cert, key))
}

fn curl(curl: &Path, args: &[&str]) -> Output {
    std::process::Command::new(curl)
        .args(["--silent", "--show-error", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl runs")
}

async fn tls_serves_https(programs: Vec<PathBuf>) -> TestResult {
    let (curl_path, openssl) = (&programs[0], &programs[1]);
    let dir = tempfile::tempdir()?;
    let (cert, key) = self_signed(dir.path(), openssl)?;
    let args = [
        "--data-dir".to_owned(),
        dir.path().join("datos").display().to_string(),
        "--tls-cert".to_owned(),
        cert.display().to_string(),
        "--tls-key".to_owned(),
        key.display().to_string(),
    ];
    let server = ServeProcess::start(binary(), &args, &[]).await?;
    assert!(
        server.base_url.starts_with("https://"),
        "{}",
        server.base_url
    );
    let url = server.url("/healthz");
    let cacert = cert.display().to_string();

    let answer = curl(curl_path, &["--cacert", &cacert, &url]);
    assert!(answer.status.success(), "{}", stderr(&answer));
    assert!(
        stdout(&answer).contains("\"status\":\"ok\""),
        "{}",
        stdout(&answer)
    );
    let tls12 = curl(
        curl_path,
        &["--cacert", &cacert, "--tlsv1.2", "--tls-max", "1.2", &url],
    );
    assert!(
        tls12.status.success(),
        "TLS 1.2 must work: {}",
        stderr(&tls12)
    );
    let tls11 = curl(
        curl_path,
        &["--cacert", &cacert, "--tlsv1.1", "--tls-max", "1.1", &url],
    );
    assert!(!tls11.status.success(), "TLS 1.1 must be refused");
    let plain = curl(curl_path, &[&url.replace("https://", "http://")]);
    assert!(
        !plain.status.success() || !stdout(&plain).contains("\"ok\""),
        "plain HTTP answered on the TLS port"
    );
    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "{logs}");
    Ok(())
}

async fn tls_refusals() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("datos");
    let data = data_dir.display().to_string();
    let half = run_ceiba(
        dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            &data,
            "--tls-cert",
            "/no/cert.pem",
        ],
        &[],
    );
    assert_eq!(half.status.code(), Some(1));
    assert!(stderr(&half).contains("tls_key_file"), "{}", stderr(&half));
    let missing = run_ceiba(
        dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            &data,
            "--tls-cert",
            "/no/cert.pem",
            "--tls-key",
            "/no/key.pem",
        ],
        &[],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("/no/cert.pem"),
        "{}",
        stderr(&missing)
    );
    assert!(
        !data_dir.exists(),
        "nothing is written when TLS cannot start"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// USSD from the terminal
// ---------------------------------------------------------------------------------------------

const USSD_KEY: &str = "clave-de-la-pasarela-de-la-demo";

/// A JSON request to the server, with a bearer token when given; the answer must have `status`.
async fn call(
    server: &ServeProcess,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &serde_json::Value,
    status: u16,
) -> Result<serde_json::Value, String> {
    let authorization = token.map(|token| format!("Bearer {token}"));
    let mut headers = vec![
        ("content-type", "application/json"),
        ("idempotency-key", "clave-de-la-prueba-cli"),
    ];
    headers.extend(
        authorization
            .as_deref()
            .map(|value| ("authorization", value)),
    );
    let response = http::send(
        method,
        &server.url(path),
        &headers,
        body.to_string().into_bytes(),
    )
    .await?;
    if response.status != status {
        return Err(format!(
            "{method} {path}: {} {}",
            response.status,
            response.text()
        ));
    }
    if response.body.is_empty() {
        return Ok(serde_json::Value::Null);
    }
    response.json()
}

async fn signed_in(
    server: &ServeProcess,
    phone: &str,
    code: Option<&str>,
) -> Result<String, String> {
    let mut body = serde_json::json!({"phone": phone, "password": "una-frase-de-paso-larga"});
    if let Some(code) = code {
        body["second_factor_code"] = serde_json::json!(code);
    }
    let session = call(server, "POST", "/api/v1/sessions", None, &body, 201).await?;
    Ok(session["token"].as_str().ok_or("no token")?.to_owned())
}

/// `ceiba ussd` with `input` piped in, against `server`.
async fn dial(
    database: &TestDatabase,
    server: &ServeProcess,
    phone: &str,
    key: &str,
    input: &str,
) -> Result<Output, String> {
    let args: Vec<String> = [
        "ussd",
        "--phone",
        phone,
        "--server",
        &server.base_url,
        "--key",
        key,
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .collect();
    let dir = database.data_dir().to_owned();
    let input = input.to_owned();
    tokio::task::spawn_blocking(move || pipe_to_ceiba(&dir, &args, &input))
        .await
        .map_err(|error| error.to_string())
}

async fn ussd_dials_a_real_server(database: TestDatabase) -> TestResult {
    // People made the way an operator makes them: the CLI, then the HTTP API.
    for (phone, name, role) in [
        ("+53 5555 0101", "Ana Pérez", "citizen"),
        ("+53 5555 0102", "Roberto Díaz", "citizen"),
        ("+53 5555 0109", "Cajero BPA", "bank_operator"),
    ] {
        let create = [
            "admin",
            "create-user",
            "--phone",
            phone,
            "--name",
            name,
            "--role",
            role,
        ];
        let output = run_with_input(&database, &create, "una-frase-de-paso-larga\n");
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let server = ServeProcess::start(
        binary(),
        &database.cli_args(),
        &[("CEIBA_USSD__GATEWAY_KEY", USSD_KEY)],
    )
    .await?;
    let ana = signed_in(&server, "+5355550101", None).await?;
    let pin = serde_json::json!({"pin": "2468", "password": "una-frase-de-paso-larga"});
    call(&server, "PUT", "/api/v1/me/pin", Some(&ana), &pin, 204).await?;
    // The bank operator needs a second factor: enrolled with the authenticator's code, then a
    // sign-in with one of the recovery codes (the code just used may not serve twice).
    let first = signed_in(&server, "+5355550109", None).await?;
    let password = serde_json::json!({"password": "una-frase-de-paso-larga"});
    let started = call(
        &server,
        "POST",
        "/api/v1/me/second-factor",
        Some(&first),
        &password,
        201,
    )
    .await?;
    let secret =
        ceiba_identity::TotpSecret::from_base32(started["secret"].as_str().ok_or("no secret")?)?;
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let code = serde_json::json!({"code": secret.code_at(now_s)});
    let confirmed = call(
        &server,
        "POST",
        "/api/v1/me/second-factor/confirmation",
        Some(&first),
        &code,
        200,
    )
    .await?;
    let recovery = confirmed["recovery_codes"][0]
        .as_str()
        .ok_or("no recovery code")?
        .to_owned();
    let operator = signed_in(&server, "+5355550109", Some(&recovery)).await?;
    let cash = serde_json::json!({"phone": "+5355550101", "bank": "BPA", "currency": "CUP",
        "amount": "500"});
    call(
        &server,
        "POST",
        "/api/v1/payments/cash-in",
        Some(&operator),
        &cash,
        201,
    )
    .await?;

    // The balance, then a transfer to Roberto with his name to confirm and the PIN.
    let balance = dial(&database, &server, "+5355550101", USSD_KEY, "1\n2468\n").await?;
    assert!(balance.status.success(), "{}", stderr(&balance));
    let screens = stdout(&balance);
    assert!(screens.starts_with("Ceiba Pagos\n1 Saldo\n"), "{screens}");
    assert!(
        screens.ends_with("Saldo disponible:\n500,00 CUP\n0,00 USD\n"),
        "{screens}"
    );
    let transfer = dial(
        &database,
        &server,
        "+5355550101",
        USSD_KEY,
        "2\n55550102\n1\n150\n1\n2468\n",
    )
    .await?;
    assert!(transfer.status.success(), "{}", stderr(&transfer));
    let screens = stdout(&transfer);
    assert!(screens.contains("Para: Roberto Díaz\nMoneda:"), "{screens}");
    assert!(
        screens.contains("¿Enviar 150,00 CUP a Roberto Díaz (+5355550102)?"),
        "{screens}"
    );
    assert!(
        screens.contains("Enviado 150,00 CUP a Roberto Díaz.\nRecibo: "),
        "{screens}"
    );
    let beto = signed_in(&server, "+5355550102", None).await?;
    let wallet = call(
        &server,
        "GET",
        "/api/v1/payments/wallet",
        Some(&beto),
        &serde_json::Value::Null,
        200,
    )
    .await?;
    assert_eq!(wallet["balances"][0]["available_minor"], 15_000, "{wallet}");

    // The plain-ASCII screens; input that ends before the session; the wrong gateway key.
    let ascii_args: Vec<String> = [
        "ussd",
        "--phone",
        "+5355550101",
        "--server",
        &server.base_url,
        "--key",
        USSD_KEY,
        "--ascii",
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .collect();
    let dir = database.data_dir().to_owned();
    let ascii =
        tokio::task::spawn_blocking(move || pipe_to_ceiba(&dir, &ascii_args, "5\n2468\n")).await?;
    assert!(ascii.status.success(), "{}", stderr(&ascii));
    assert!(
        stdout(&ascii).contains("Ultimas operaciones:\n"),
        "{}",
        stdout(&ascii)
    );
    assert!(stdout(&ascii).is_ascii(), "{}", stdout(&ascii));
    let cut = dial(&database, &server, "+5355550101", USSD_KEY, "1\n").await?;
    assert_eq!(cut.status.code(), Some(1));
    assert!(
        stderr(&cut).contains("la entrada terminó"),
        "{}",
        stderr(&cut)
    );
    let refused = dial(
        &database,
        &server,
        "+5355550101",
        "otra-clave-que-no-es",
        "",
    )
    .await?;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("X-Ceiba-Ussd-Key"),
        "{}",
        stderr(&refused)
    );

    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "{logs}");
    Ok(())
}

async fn ussd_gateway_key_configuration() -> TestResult {
    let dir = tempfile::tempdir()?;
    let defaults: toml::Table = stdout(&run_ceiba(dir.path(), &["config"], &[])).parse()?;
    assert_eq!(defaults["ussd"]["gateway_key"].as_str(), Some(""));
    assert_eq!(defaults["ussd"]["session_idle_s"].as_integer(), Some(180));
    // Read as written from the environment (a key may look like a number), and never shown.
    let env = [
        ("CEIBA_USSD__GATEWAY_KEY", USSD_KEY),
        ("CEIBA_USSD__SESSION_IDLE_S", "90"),
    ];
    let output = run_ceiba(dir.path(), &["config"], &env);
    assert!(output.status.success(), "{}", stderr(&output));
    let shown: toml::Table = stdout(&output).parse()?;
    assert_eq!(shown["ussd"]["gateway_key"].as_str(), Some("***"));
    assert_eq!(shown["ussd"]["session_idle_s"].as_integer(), Some(90));
    assert!(!stdout(&output).contains(USSD_KEY));
    let short = run_ceiba(
        dir.path(),
        &["config"],
        &[("CEIBA_USSD__GATEWAY_KEY", "corta")],
    );
    assert_eq!(short.status.code(), Some(1));
    let said = stderr(&short);
    assert!(
        said.contains("ussd.gateway_key") && said.contains("CEIBA_USSD__GATEWAY_KEY"),
        "{said}"
    );
    assert!(!said.contains("corta"), "the key is not echoed: {said}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Pagos configuration and the demo data
// ---------------------------------------------------------------------------------------------

async fn payments_configuration_layers() -> TestResult {
    let dir = tempfile::tempdir()?;
    let shown = |args: &[&str], env: &[(&str, &str)]| -> Result<toml::Table, String> {
        let mut all = args.to_vec();
        all.push("config");
        let output = run_ceiba(dir.path(), &all, env);
        if !output.status.success() {
            return Err(stderr(&output));
        }
        stdout(&output)
            .parse::<toml::Table>()
            .map_err(|error| error.to_string())
    };

    // The defaults: Instruction 26/2022, the launch caps, no fees, five minutes' hold.
    let defaults = shown(&[], &[])?;
    let payments = &defaults["payments"];
    assert_eq!(payments["hold_timeout_s"].as_integer(), Some(300));
    assert_eq!(payments["settlement_window_s"].as_integer(), Some(3_600));
    assert_eq!(payments["limits"]["cup_daily"].as_str(), Some("80000.00"));
    assert_eq!(
        payments["limits"]["cup_monthly"].as_str(),
        Some("120000.00")
    );
    assert_eq!(payments["limits"]["usd_daily"].as_str(), Some("1000.00"));
    assert_eq!(payments["limits"]["usd_monthly"].as_str(), Some("5000.00"));
    assert_eq!(payments["caps"]["cup"].as_str(), Some("80000.00"));
    assert_eq!(payments["caps"]["usd"].as_str(), Some("5000.00"));
    for kind in ["person_to_person", "bill_payment", "tax_payment", "top_up"] {
        for currency in ["cup", "usd", "mlc"] {
            let rule = &payments["fees"][kind][currency];
            assert_eq!(rule["fixed"].as_str(), Some("0.00"), "{kind} {currency}");
            assert_eq!(rule["percent"].as_str(), Some("0.00"), "{kind} {currency}");
            assert_eq!(rule["max"].as_str(), Some(""), "{kind} {currency}");
        }
    }

    // A file: decimal comma, a bare number, an inline table that sets part of a rule.
    let file = dir.path().join("pagos.toml");
    std::fs::write(
        &file,
        "[payments]\nhold_timeout_s = 120\n\
         [payments.limits]\ncup_daily = \"20000,50\"\nusd_monthly = 4000\n\
         [payments.caps]\ncup = \"100000\"\n\
         [payments.fees.person_to_person]\ncup = { fixed = \"1\", percent = \"0.5\", max = \"50\" }\n",
    )?;
    let file = file.display().to_string();
    let from_file = shown(&["--config", &file], &[])?;
    let payments = &from_file["payments"];
    assert_eq!(payments["hold_timeout_s"].as_integer(), Some(120));
    assert_eq!(payments["limits"]["cup_daily"].as_str(), Some("20000.50"));
    assert_eq!(
        payments["limits"]["cup_monthly"].as_str(),
        Some("120000.00")
    );
    assert_eq!(payments["limits"]["usd_monthly"].as_str(), Some("4000.00"));
    assert_eq!(payments["caps"]["cup"].as_str(), Some("100000.00"));
    let rule = &payments["fees"]["person_to_person"]["cup"];
    assert_eq!(rule["fixed"].as_str(), Some("1.00"));
    assert_eq!(rule["percent"].as_str(), Some("0.50"));
    assert_eq!(rule["min"].as_str(), Some("0.00"));
    assert_eq!(rule["max"].as_str(), Some("50.00"));
    assert_eq!(
        payments["fees"]["person_to_person"]["usd"]["fixed"].as_str(),
        Some("0.00"),
        "a rule set in CUP leaves USD free"
    );

    // The environment over the file; what `ceiba config` prints reads back as the same.
    let env = [
        ("CEIBA_PAYMENTS__LIMITS__CUP_DAILY", "15000"),
        (
            "CEIBA_PAYMENTS__FEES__PERSON_TO_PERSON__CUP__PERCENT",
            "1.25",
        ),
        ("CEIBA_PAYMENTS__FEES__TOP_UP__USD__MIN", "0.10"),
    ];
    let from_env = shown(&["--config", &file], &env)?;
    let payments = &from_env["payments"];
    assert_eq!(payments["limits"]["cup_daily"].as_str(), Some("15000.00"));
    assert_eq!(payments["hold_timeout_s"].as_integer(), Some(120));
    let rule = &payments["fees"]["person_to_person"]["cup"];
    assert_eq!(rule["percent"].as_str(), Some("1.25"));
    assert_eq!(rule["fixed"].as_str(), Some("1.00"));
    assert_eq!(
        payments["fees"]["top_up"]["usd"]["min"].as_str(),
        Some("0.10")
    );
    let printed = run_ceiba(dir.path(), &["--config", &file, "config"], &env);
    let again = dir.path().join("impreso.toml");
    std::fs::write(&again, stdout(&printed))?;
    let reread = shown(&["--config", &again.display().to_string()], &[])?;
    assert_eq!(reread["payments"], from_env["payments"]);
    Ok(())
}

/// The demo's printout: the value after `label` on its line.
fn printed_after<'a>(printout: &'a str, label: &str) -> Result<&'a str, String> {
    printout
        .lines()
        .find_map(|line| line.trim().strip_prefix(label))
        .map(str::trim)
        .ok_or_else(|| format!("«{label}» is not in the printout:\n{printout}"))
}

/// An API request with an optional bearer token and idempotency key; returns status and JSON.
async fn api(
    server: &ServeProcess,
    method: &str,
    path: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: &serde_json::Value,
) -> Result<(u16, serde_json::Value), String> {
    let authorization = token.map(|token| format!("Bearer {token}"));
    let mut headers = vec![("content-type", "application/json")];
    headers.extend(key.map(|key| ("idempotency-key", key)));
    headers.extend(
        authorization
            .as_deref()
            .map(|value| ("authorization", value)),
    );
    let body = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let response = http::send(method, &server.url(path), &headers, body).await?;
    let json = if response.body.is_empty() {
        serde_json::Value::Null
    } else {
        response.json()?
    };
    Ok((response.status, json))
}

/// Signs in over the API; returns the bearer token.
async fn api_sign_in(
    server: &ServeProcess,
    phone: &str,
    password: &str,
    second_factor: Option<&str>,
) -> Result<String, String> {
    let mut body = serde_json::json!({"phone": phone, "password": password});
    if let Some(code) = second_factor {
        body["second_factor_code"] = serde_json::json!(code);
    }
    let (status, session) = api(server, "POST", "/api/v1/sessions", None, None, &body).await?;
    if status != 201 {
        return Err(format!("sign-in of {phone}: {status} {session}"));
    }
    Ok(session["token"].as_str().ok_or("no token")?.to_owned())
}

/// The available CUP balance of the signed-in person, in centavos.
async fn cup_available(server: &ServeProcess, token: &str) -> Result<i64, String> {
    let (status, wallet) = api(
        server,
        "GET",
        "/api/v1/payments/wallet",
        Some(token),
        None,
        &serde_json::Value::Null,
    )
    .await?;
    if status != 200 {
        return Err(format!("wallet: {status} {wallet}"));
    }
    let cup = wallet["balances"]
        .as_array()
        .and_then(|balances| balances.iter().find(|balance| balance["currency"] == "CUP"))
        .ok_or_else(|| format!("no CUP balance: {wallet}"))?;
    cup["available_minor"]
        .as_i64()
        .ok_or_else(|| format!("no available_minor: {wallet}"))
}

/// The value of cookie `name` among an answer's `set-cookie` headers.
fn set_cookie_value(response: &http::Response, name: &str) -> Option<String> {
    let header = response.header("set-cookie")?;
    header.split(", ").find_map(|cookie| {
        cookie
            .strip_prefix(&format!("{name}="))
            .and_then(|rest| rest.split(';').next())
            .map(str::to_owned)
    })
}

/// Signs in through the page `/cuenta/entrar` as a browser would (double-submit CSRF); returns
/// the session cookie.
async fn page_sign_in(
    server: &ServeProcess,
    phone: &str,
    password: &str,
) -> Result<String, String> {
    let form = http::get(&server.url("/cuenta/entrar")).await?;
    let csrf_cookie = set_cookie_value(&form, "ceiba_csrf").ok_or("no ceiba_csrf cookie")?;
    let page = form.text();
    let csrf_field = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("no _csrf field in the form")?;
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let body = format!(
        "_csrf={}&telefono={}&contrasena={}&segundo_factor=",
        encode(csrf_field),
        encode(phone),
        encode(password)
    );
    let cookie = format!("ceiba_csrf={csrf_cookie}");
    let answer = http::send(
        "POST",
        &server.url("/cuenta/entrar"),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("cookie", &cookie),
        ],
        body.into_bytes(),
    )
    .await?;
    set_cookie_value(&answer, "ceiba_sesion").ok_or_else(|| {
        format!(
            "the page did not sign in: {} {}",
            answer.status,
            answer.text()
        )
    })
}

async fn demo_seed_then_sign_in(database: TestDatabase) -> TestResult {
    let seeded = run_on(&database, &["demo", "seed"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let first = stdout(&seeded);
    assert!(
        first.contains(
            " 8 cuentas nuevas, 8 depósitos nuevos, 11 facturas nuevas, 6 artículos nuevos"
        ),
        "{first}"
    );
    assert!(first.contains("Enciclopedia: /wiki/Portada"), "{first}");
    let password = printed_after(&first, "Contraseña de todas las cuentas:")?.to_owned();
    let pin = printed_after(&first, "PIN USSD de las personas:")?.to_owned();
    assert_eq!(pin.len(), 4, "{first}");
    assert!(
        first.contains("+53 5000 0001  Ana María Pérez Rodríguez")
            && first.contains("5.000,00 CUP"),
        "{first}"
    );
    assert!(first.contains("DEMO-UNE-0001"), "{first}");

    // Again: nothing new, the same people and money; the operators get new recovery codes.
    let again = run_on(&database, &["demo", "seed"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let second = stdout(&again);
    assert!(
        second.contains(
            " 0 cuentas nuevas, 0 depósitos nuevos, 0 facturas nuevas, 0 artículos nuevos"
        ),
        "{second}"
    );
    assert_eq!(
        printed_after(&second, "Contraseña de todas las cuentas:")?,
        password
    );
    let phone_lines = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|line| line.starts_with("  +53 5000 000"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        phone_lines(&first),
        phone_lines(&second),
        "balances did not change"
    );
    let operations = database
        .db
        .payment_operations_of("demo-cajera-bpa", 0, i64::MAX, None, 100)
        .await?;
    assert_eq!(
        operations.len(),
        8,
        "one cash-in per person and currency, once"
    );
    let first_codes = printed_after(
        &first,
        "Códigos de recuperación (un solo uso; cada siembra los renueva):",
    )?;
    let codes = printed_after(
        &second,
        "Códigos de recuperación (un solo uso; cada siembra los renueva):",
    )?;
    assert_ne!(first_codes, codes, "each run prints working codes");
    let recovery = codes
        .split_whitespace()
        .next()
        .ok_or("no recovery code")?
        .to_owned();
    let check = run_on(&database, &["ledger", "check"]);
    assert!(check.status.success(), "{}", stdout(&check));

    // `ceiba serve` on the same data: a person signs in with what was printed, on the API and
    // on the page, sees the deposit and sends money.
    let server = ServeProcess::start(binary(), &database.cli_args(), &[]).await?;
    // The encyclopedia is there to read and to search (the index rebuilt at start).
    let portada = http::get(&server.url("/wiki/Portada")).await?;
    assert_eq!(portada.status, 200);
    assert!(
        portada.text().contains("Bienvenido a la Enciclopedia"),
        "{}",
        portada.text()
    );
    let habana = http::get(&server.url("/wiki/La_Habana")).await?.text();
    assert!(
        habana.contains("Fundación") && habana.contains("1519"),
        "the template: {habana}"
    );
    let found = http::get(&server.url("/api/v1/wiki/search?q=tecnologia")).await?;
    assert_eq!(found.status, 200, "{}", found.text());
    assert!(found.text().contains("Tecnología"), "{}", found.text());
    let ana = api_sign_in(&server, "+53 5000 0001", &password, None).await?;
    assert_eq!(cup_available(&server, &ana).await?, 500_000);
    let cookie = page_sign_in(&server, "+53 5000 0001", &password).await?;
    let wallet = http::send(
        "GET",
        &server.url("/api/v1/payments/wallet"),
        &[("cookie", &format!("ceiba_sesion={cookie}"))],
        Vec::new(),
    )
    .await?;
    assert_eq!(wallet.status, 200, "{}", wallet.text());
    let transfer = serde_json::json!({"to_phone": "+53 5000 0002", "currency": "CUP",
        "amount": "150"});
    let (status, sent) = api(
        &server,
        "POST",
        "/api/v1/payments/transfers",
        Some(&ana),
        Some("demo-prueba-1"),
        &transfer,
    )
    .await?;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(cup_available(&server, &ana).await?, 485_000);
    let roberto = api_sign_in(&server, "+53 5000 0002", &password, None).await?;
    assert_eq!(cup_available(&server, &roberto).await?, 315_000);
    // A printed bill, paid by its customer.
    let (status, paid) = api(
        &server,
        "POST",
        "/api/v1/payments/bills",
        Some(&roberto),
        Some("demo-prueba-2"),
        &serde_json::json!({"biller": "une", "reference": "DEMO-UNE-0002"}),
    )
    .await?;
    assert_eq!(status, 201, "{paid}");
    assert_eq!(cup_available(&server, &roberto).await?, 315_000 - 31_200);
    // The cashier signs in with a printed recovery code (the role needs a second factor) and
    // deposits.
    let cashier = api_sign_in(&server, "+53 5000 0090", &password, Some(&recovery)).await?;
    let cash = serde_json::json!({"phone": "+53 5000 0004", "bank": "BPA", "currency": "CUP",
        "amount": "100"});
    let (status, deposited) = api(
        &server,
        "POST",
        "/api/v1/payments/cash-in",
        Some(&cashier),
        Some("demo-prueba-3"),
        &cash,
    )
    .await?;
    assert_eq!(status, 201, "{deposited}");
    // The printed merchant's static QR code, paid by a person with an amount they type.
    let qr = first
        .lines()
        .skip_while(|line| !line.starts_with("Comercio: Cafetería El Ceibón"))
        .nth(1)
        .map(str::trim)
        .ok_or(format!("no QR code printed: {first}"))?
        .to_owned();
    assert_eq!(
        second
            .lines()
            .skip_while(|line| !line.starts_with("Comercio:"))
            .nth(1)
            .map(str::trim),
        Some(qr.as_str()),
        "seeding again keeps the same code"
    );
    let (status, bought) = api(
        &server,
        "POST",
        "/api/v1/payments/qr",
        Some(&roberto),
        Some("demo-prueba-4"),
        &serde_json::json!({"payload": qr, "amount": "25"}),
    )
    .await?;
    assert_eq!(status, 201, "{bought}");
    assert_eq!(
        cup_available(&server, &roberto).await?,
        315_000 - 31_200 - 2_500
    );
    // The printed online order, paid by Roberto on its page after signing in there.
    let order = printed_after(&first, "Pedido:")?
        .strip_prefix("http://127.0.0.1:8080")
        .ok_or("the order's address is on the default server")?
        .to_owned();
    assert!(printed_after(&first, "Enlace de pago:")?.contains("/pagar/enlace/lnk_"));
    let session = format!(
        "ceiba_sesion={}",
        page_sign_in(&server, "+53 5000 0002", &password).await?
    );
    let shown = http::send(
        "GET",
        &server.url(&order),
        &[("cookie", &session)],
        Vec::new(),
    )
    .await?;
    assert_eq!(shown.status, 200, "{}", shown.text());
    let page = shown.text();
    assert!(
        page.contains("Tienda La Ceiba") && page.contains("Miel de abejas"),
        "{page}"
    );
    let field = |name: &str| {
        page.split(&format!("name=\"{name}\" value=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned)
            .ok_or(format!("no {name} on the order's page"))
    };
    let body = format!("_csrf={}&clave={}", field("_csrf")?, field("clave")?);
    let paid = http::send(
        "POST",
        &server.url(&format!("{order}/pagar")),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("cookie", &session),
        ],
        body.into_bytes(),
    )
    .await?;
    assert_eq!(paid.status, 303, "{}", paid.text());
    assert_eq!(
        cup_available(&server, &roberto).await?,
        315_000 - 31_200 - 2_500 - 43_500
    );
    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "{logs}");

    // A third run after people moved money adds none back.
    let third = run_on(&database, &["demo", "seed"]);
    assert!(third.status.success(), "{}", stderr(&third));
    let said = stdout(&third);
    assert!(said.contains(" 0 depósitos nuevos"), "{said}");
    assert!(
        said.lines()
            .any(|line| line.starts_with("  +53 5000 0001") && line.contains("4.850,00 CUP")),
        "{said}"
    );
    assert!(
        said.contains("DEMO-UNE-0002") && said.contains("pagada"),
        "{said}"
    );
    let next_order = printed_after(&said, "Pedido:")?;
    assert!(
        !next_order.ends_with(order.trim_start_matches("/pagar/pedido/")),
        "a paid order is followed by a new one: {said}"
    );
    let check = run_on(&database, &["ledger", "check"]);
    assert!(check.status.success(), "{}", stdout(&check));
    Ok(())
}

async fn demo_seed_refuses_other_accounts() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("datos").display().to_string();
    let create = [
        "admin",
        "create-user",
        "--phone",
        "+53 5555 0301",
        "--name",
        "Alguien de verdad",
        "--role",
        "citizen",
        "--data-dir",
        &data_dir,
    ];
    let args: Vec<String> = create.iter().map(|arg| (*arg).to_owned()).collect();
    let created = pipe_to_ceiba(dir.path(), &args, "una-frase-de-paso-larga\n");
    assert!(created.status.success(), "{}", stderr(&created));

    let refused = run_ceiba(dir.path(), &["demo", "seed", "--data-dir", &data_dir], &[]);
    assert_eq!(refused.status.code(), Some(1));
    let said = stderr(&refused);
    assert!(said.starts_with("error: "), "{said}");
    assert!(
        said.contains("1 cuenta(s) que no son de la demostración") && said.contains("--force"),
        "{said}"
    );
    assert!(
        stdout(&refused).is_empty(),
        "nothing seeded: {}",
        stdout(&refused)
    );
    let db =
        ceiba_store::Db::open_embedded(Path::new(&data_dir), ceiba_store::PoolSettings::default())
            .await?;
    assert!(
        db.user_by_phone(&ceiba_identity::PhoneNumber::parse("+53 5000 0001")?)
            .await?
            .is_none(),
        "nothing was written"
    );

    // With --force the demo is added beside the account, which it leaves alone.
    let forced = run_ceiba(
        dir.path(),
        &["demo", "seed", "--force", "--data-dir", &data_dir],
        &[],
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    let someone = db
        .user_by_phone(&ceiba_identity::PhoneNumber::parse("+53 5555 0301")?)
        .await?
        .ok_or("the account is gone")?;
    assert_eq!(someone.display_name, "Alguien de verdad");
    assert!(someone.pin_hash.is_none());
    db.close().await;

    // An SMS gateway would carry the demo's messages to real phones: refused.
    let gateway = run_ceiba(
        dir.path(),
        &["demo", "seed", "--data-dir", &data_dir],
        &[
            ("CEIBA_SMS__SENDER", "http"),
            (
                "CEIBA_SMS__GATEWAY_URL",
                "http://127.0.0.1:9/cgi-bin/sendsms",
            ),
        ],
    );
    assert_eq!(gateway.status.code(), Some(1));
    assert!(
        stderr(&gateway).contains("sms.sender"),
        "{}",
        stderr(&gateway)
    );
    Ok(())
}

async fn configured_limit_and_fee_take_effect() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("datos").display().to_string();
    let seeded = run_ceiba(dir.path(), &["demo", "seed", "--data-dir", &data_dir], &[]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let printout = stdout(&seeded);
    let password = printed_after(&printout, "Contraseña de todas las cuentas:")?.to_owned();
    let file = dir.path().join("pagos.toml");
    std::fs::write(
        &file,
        "[payments.limits]\ncup_daily = \"1000\"\ncup_monthly = \"2000\"\n\
         [payments.fees.person_to_person]\ncup = { fixed = \"1\", percent = \"1\" }\n",
    )?;
    let args = vec![
        "--config".to_owned(),
        file.display().to_string(),
        "--data-dir".to_owned(),
        data_dir.clone(),
    ];
    let server = ServeProcess::start(binary(), &args, &[]).await?;
    let ana = api_sign_in(&server, "+53 5000 0001", &password, None).await?;
    let send = |amount: &str| serde_json::json!({"to_phone": "+53 5000 0002", "currency": "CUP", "amount": amount});

    // Over the configured daily limit: refused, saying how much is left.
    let (status, refused) = api(
        &server,
        "POST",
        "/api/v1/payments/transfers",
        Some(&ana),
        Some("limite-1"),
        &send("1500"),
    )
    .await?;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["code"], "payment_limit_exceeded", "{refused}");
    let detail = refused["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("límite diario del Banco Central (1.000,00 CUP)")
            && detail.contains("le quedan 1.000,00 CUP hoy"),
        "{detail}"
    );

    // Under it: sent, with the configured fee (1.00 + 1 % of 200.00 = 3.00).
    let (status, sent) = api(
        &server,
        "POST",
        "/api/v1/payments/transfers",
        Some(&ana),
        Some("limite-2"),
        &send("200"),
    )
    .await?;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["fee_minor"], 300, "{sent}");
    assert_eq!(cup_available(&server, &ana).await?, 500_000 - 20_000 - 300);
    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "{logs}");
    Ok(())
}

/// The first published EMV QR payload (`shared/data/emvqr/vectors.txt`, beside the repository).
fn first_emvqr_vector() -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/emvqr/vectors.txt"
    );
    let text = std::fs::read_to_string(path).map_err(|error| {
        format!("the EMV QR vectors must be at {path} (shared/data beside the repository): {error}")
    })?;
    let vector = text
        .lines()
        .find(|line| !line.starts_with('#') && !line.trim().is_empty())
        .ok_or("no payload in the EMV QR vectors")?;
    Ok(vector.to_owned())
}

async fn qr_decode_prints_fields() -> TestResult {
    let dir = tempfile::tempdir()?;
    let vector = first_emvqr_vector()?;
    let output = run_ceiba(dir.path(), &["qr", "decode", &vector], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let fields: serde_json::Value = serde_json::from_str(&stdout(&output))?;
    assert_eq!(fields["merchant_name"], "Fulano de Tal");
    assert_eq!(fields["merchant_city"], "BRASILIA");
    assert_eq!(fields["transaction_currency"], "986");
    assert_eq!(fields["country_code"], "BR");
    assert_eq!(fields["additional_data"]["reference_label"], "***");
    assert_eq!(
        fields["merchant_accounts"][0]["fields"]["00"],
        "br.gov.bcb.pix"
    );
    assert_eq!(fields["crc"], "1D3D");
    Ok(())
}

async fn qr_decode_refuses_changed_crc() -> TestResult {
    let dir = tempfile::tempdir()?;
    let vector = first_emvqr_vector()?;
    let changed = format!("{}1D3E", &vector[..vector.len() - 4]);
    let output = run_ceiba(dir.path(), &["qr", "decode", &changed], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
    let said = stderr(&output);
    assert!(
        said.contains("el CRC no coincide: se esperaba 1D3D y el código trae 1D3E"),
        "{said}"
    );
    assert_eq!(said.trim().lines().count(), 1, "one sentence: {said}");
    Ok(())
}

async fn qr_encode_decodes_again() -> TestResult {
    let dir = tempfile::tempdir()?;
    let png = dir.path().join("codigo.png");
    let png_arg = png.to_str().ok_or("a UTF-8 temporary path")?;
    let output = run_ceiba(
        dir.path(),
        &[
            "qr",
            "encode",
            "--name",
            "Bodega Ñañá",
            "--city",
            "La Habana",
            "--mcc",
            "5411",
            "--currency",
            "192",
            "--amount",
            "12,50",
            "--reference",
            "F-17",
            "--account-id",
            "42",
            "--png",
            png_arg,
        ],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let payload = stdout(&output).trim().to_owned();
    assert!(payload.starts_with("000201010212"), "{payload}");
    assert!(std::fs::read(&png)?.starts_with(b"\x89PNG\r\n\x1a\n"));

    let decoded = run_ceiba(dir.path(), &["qr", "decode", &payload], &[]);
    assert!(decoded.status.success(), "{}", stderr(&decoded));
    let fields: serde_json::Value = serde_json::from_str(&stdout(&decoded))?;
    assert_eq!(fields["merchant_name"], "Bodega Ñañá");
    assert_eq!(fields["merchant_city"], "La Habana");
    assert_eq!(fields["merchant_category_code"], "5411");
    assert_eq!(fields["transaction_currency"], "192");
    assert_eq!(fields["transaction_amount"], "12.50");
    assert_eq!(fields["country_code"], "CU");
    assert_eq!(fields["point_of_initiation"], "dynamic");
    assert_eq!(fields["additional_data"]["reference_label"], "F-17");
    assert_eq!(
        fields["merchant_accounts"][0],
        serde_json::json!({ "id": "26", "fields": { "00": "cu.ceiba", "01": "42" } })
    );

    // Without an amount the code is static, and a bad field is refused in Spanish.
    let svg = dir.path().join("codigo.svg");
    let svg_arg = svg.to_str().ok_or("a UTF-8 temporary path")?;
    let static_code = run_ceiba(
        dir.path(),
        &[
            "qr",
            "encode",
            "--name",
            "Bodega",
            "--city",
            "Cienfuegos",
            "--mcc",
            "5411",
            "--currency",
            "192",
            "--svg",
            svg_arg,
        ],
        &[],
    );
    assert!(static_code.status.success(), "{}", stderr(&static_code));
    assert!(stdout(&static_code).starts_with("000201010211"));
    assert!(std::fs::read_to_string(&svg)?.contains("<svg"));
    let refused = run_ceiba(
        dir.path(),
        &[
            "qr",
            "encode",
            "--name",
            "Bodega",
            "--city",
            "Cienfuegos",
            "--mcc",
            "5411",
            "--currency",
            "CUP",
        ],
        &[],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("el campo 53 (moneda de la transacción) debe llevar tres cifras"),
        "{}",
        stderr(&refused)
    );
    Ok(())
}

/// The progress of a payout batch, as its uploader reads it.
async fn payout_progress(
    server: &ServeProcess,
    token: &str,
    id: &str,
) -> Result<serde_json::Value, String> {
    let (status, batch) = api(
        server,
        "GET",
        &format!("/api/v1/payouts/{id}"),
        Some(token),
        None,
        &serde_json::Value::Null,
    )
    .await?;
    if status != 200 {
        return Err(format!("progress: {status} {batch}"));
    }
    Ok(batch)
}

/// A bank's payout to the demo people is being paid when `ceiba serve` is killed with SIGKILL;
/// a new server goes on with it, and in the end every row is paid exactly once.
async fn payout_across_a_killed_server(database: TestDatabase) -> TestResult {
    const ROWS: usize = 4_000;
    let seeded = run_on(&database, &["demo", "seed"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let printout = stdout(&seeded);
    let password = printed_after(&printout, "Contraseña de todas las cuentas:")?.to_owned();
    let recovery = printed_after(
        &printout,
        "Códigos de recuperación (un solo uso; cada siembra los renueva):",
    )?
    .split_whitespace()
    .next()
    .ok_or("no recovery code")?
    .to_owned();

    let server = ServeProcess::start(binary(), &database.cli_args(), &[]).await?;
    let cashier = api_sign_in(&server, "+53 5000 0090", &password, Some(&recovery)).await?;
    let mut people = Vec::new();
    for n in 1..=6 {
        let token = api_sign_in(&server, &format!("+53 5000 000{n}"), &password, None).await?;
        let before = cup_available(&server, &token).await?;
        people.push((token, before, 0_i64));
    }
    let mut file = String::from("destino,importe,referencia\n");
    for row in 0..ROWS {
        let person = row % 6;
        let cents = i64::try_from(100 + row % 50).unwrap_or(100);
        file.push_str(&format!(
            "+5350000{:03},{}.{:02},asistencia-{row}\n",
            person + 1,
            cents / 100,
            cents % 100
        ));
        people[person].2 += cents;
    }
    let uploaded = http::send(
        "POST",
        &server.url("/api/v1/payouts?source=BPA&file_name=asistencia.csv"),
        &[
            ("authorization", format!("Bearer {cashier}").as_str()),
            ("content-type", "text/csv"),
        ],
        file.into_bytes(),
    )
    .await?;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text());
    let batch: serde_json::Value = serde_json::from_str(&uploaded.text())?;
    assert_eq!(batch["status"], "ready", "{batch}");
    let id = batch["id"].as_str().ok_or("a batch id")?.to_owned();
    let (status, started) = api(
        &server,
        "POST",
        &format!("/api/v1/payouts/{id}/start"),
        Some(&cashier),
        None,
        &serde_json::json!({}),
    )
    .await?;
    assert_eq!(status, 202, "{started}");

    // Killed as soon as some rows are recorded paid, while others are not.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let paid_at_kill = loop {
        let progress = payout_progress(&server, &cashier, &id).await?;
        let paid = progress["paid_rows"].as_u64().unwrap_or(0);
        if paid > 0 {
            break paid;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing was paid: {progress}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let pid = server.pid().ok_or("the server has no pid")?;
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()?;
    assert!(killed.success());
    drop(server);
    assert!(
        paid_at_kill < ROWS as u64,
        "the batch was finished before the kill; the test proves nothing"
    );

    // A new server takes the ledger over (once the dead one's lease lapses) and goes on.
    // The sessions are in the database: the same tokens work on the new server.
    let server = ServeProcess::start(binary(), &database.cli_args(), &[]).await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let done = loop {
        let progress = payout_progress(&server, &cashier, &id).await?;
        if progress["status"] == "finished" {
            break progress;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not finished: {progress}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(done["paid_rows"], ROWS as u64, "{done}");
    assert_eq!(done["refused_rows"], 0, "{done}");
    for (n, (token, before, owed)) in people.iter().enumerate() {
        assert_eq!(
            cup_available(&server, token).await?,
            before + owed,
            "person {} got each of their rows once",
            n + 1
        );
    }
    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "{logs}");
    let check = run_on(&database, &["ledger", "check"]);
    assert!(check.status.success(), "{}", stdout(&check));
    Ok(())
}

/// `ceiba salud geography` loads the real division, a second run changes nothing, and the open
/// API serves it without an account.
async fn salud_geography_loads_once(database: TestDatabase) -> TestResult {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cuba")
        .display()
        .to_string();
    let first = run_on(&database, &["salud", "geography", "--dir", &dir]);
    assert!(first.status.success(), "{}", stderr(&first));
    let said = stdout(&first);
    assert!(
        said.starts_with(
            "Geografía: 17 provincias y 169 municipios, 11.211.060 habitantes; cambiaron 17 \
             provincias y 169 municipios."
        ),
        "{said}"
    );
    assert!(said.contains("21.09, 34.03"), "{said}");
    let again = run_on(&database, &["salud", "geography", "--dir", &dir]);
    assert!(
        stdout(&again).contains("cambiaron 0 provincias y 0 municipios"),
        "{}",
        stdout(&again)
    );
    let missing = run_on(&database, &["salud", "geography", "--dir", "/no/existe"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("provincias.geojson"),
        "{}",
        stderr(&missing)
    );

    let server = ServeProcess::start(binary(), &database.cli_args(), &[]).await?;
    let (status, geography) = api(
        &server,
        "GET",
        "/api/salud/open/geography",
        None,
        None,
        &serde_json::Value::Null,
    )
    .await?;
    assert_eq!(status, 200, "{geography}");
    assert_eq!(geography["schema"], "ceiba-salud-geografia/1");
    assert_eq!(geography["population"], 11_211_060);
    let habana = geography["provinces"]
        .as_array()
        .and_then(|provinces| provinces.iter().find(|p| p["code"] == "23"))
        .ok_or("La Habana")?;
    assert_eq!(habana["municipalities"].as_array().map(Vec::len), Some(15));
    assert!(
        !geography.to_string().contains("boundary"),
        "no boundaries in the list"
    );
    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "{logs}");
    Ok(())
}

/// The real covid19cubadata archive imported: a slice (up to 30 April 2020) always, the whole
/// of it with `RUN_SLOW_TESTS=1`. The cases stored each day are the ones the source's own
/// daily series counts; a second run adds nothing.
async fn salud_import_matches_the_series(database: TestDatabase) -> TestResult {
    let archive = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cuba/covid19cuba.zip")
        .display()
        .to_string();
    let whole = std::env::var_os("RUN_SLOW_TESTS").is_some();
    let mut args = vec!["salud", "import", "covid19cubadata", archive.as_str()];
    if !whole {
        args.extend(["--until", "2020-04-30"]);
    }
    let first = run_on(&database, &args);
    assert!(first.status.success(), "{}", stderr(&first));
    let said = stdout(&first);
    assert!(
        said.starts_with("Importado de covid19cubadata en "),
        "{said}"
    );
    assert!(said.contains("Informe de calidad de los datos:"), "{said}");
    assert!(
        said.contains("centro_aislamient5o"),
        "a misspelled key is reported: {said}"
    );
    let counts = database.db.salud_counts().await?;
    let series = database.db.salud_series_against_cases().await?;
    let mismatched: Vec<_> = series
        .iter()
        .filter(|(_, said, stored)| said != stored)
        .collect();
    if whole {
        assert_eq!(counts.cases_added, 422_610);
        assert_eq!(series.len(), 511);
        // The four cases the source lists twice are stored once, on their first day.
        assert_eq!(mismatched.len(), 4, "{mismatched:?}");
    } else {
        assert_eq!(series.len(), 51, "11 March to 30 April 2020");
        assert!(mismatched.is_empty(), "{mismatched:?}");
        let confirmed: u64 = series.iter().map(|(_, said, _)| said).sum();
        assert_eq!(counts.cases_added, confirmed);
        assert_eq!(confirmed, 1_537, "the source's series up to 30 April 2020");
    }
    let again = run_on(&database, &args);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains(": 0 casos nuevos, 0 fallecidos nuevos, 0 días nuevos"),
        "{}",
        stdout(&again)
    );
    // Outbreak detection reads its thresholds from `[salud.alerts]`: set beyond reach, nothing
    // signals; at the defaults, the spring of 2020 does (and an old day is never sent).
    if !whole {
        let alerts = |env: &[(&str, &str)]| {
            let storage = database.cli_args();
            let mut all = vec!["salud", "alerts"];
            all.extend(storage.iter().map(String::as_str));
            run_ceiba(database.data_dir(), &all, env)
        };
        let strict = alerts(&[
            ("CEIBA_SALUD__ALERTS__EARS_THRESHOLD", "100000"),
            ("CEIBA_SALUD__ALERTS__C3_THRESHOLD", "100000"),
            ("CEIBA_SALUD__ALERTS__INCIDENCE_14D_PER_100K", "100000"),
        ]);
        assert!(strict.status.success(), "{}", stderr(&strict));
        assert!(
            stdout(&strict).starts_with("Alertas: 0 señales en toda la serie, 0 nuevas"),
            "{}",
            stdout(&strict)
        );
        let usual = alerts(&[]);
        assert!(usual.status.success(), "{}", stderr(&usual));
        let said = stdout(&usual);
        let signals: u64 = said
            .strip_prefix("Alertas: ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|count| count.replace('.', "").parse().ok())
            .ok_or_else(|| format!("no count in «{said}»"))?;
        assert!(signals > 0, "{said}");
        assert!(said.contains("últimos 3 días"), "{said}");
        assert!(database.db.due_sms(i64::MAX, 10).await?.is_empty());
    }
    // The models from the command line, on the same records.
    if !whole {
        let dir = tempfile::tempdir()?;
        let csv = dir.path().join("rt.csv").display().to_string();
        let rt = run_on(&database, &["epi", "rt", "--area", "cu", "--out", &csv]);
        assert!(rt.status.success(), "{}", stderr(&rt));
        assert!(
            stdout(&rt).starts_with("Rt de Cuba al 2020-04-30: "),
            "{}",
            stdout(&rt)
        );
        let text = std::fs::read_to_string(&csv)?;
        assert!(
            text.starts_with("fecha,rt_media,rt_inferior_95,rt_mediana,rt_superior_95,fiable\n")
        );
        assert!(
            text.trim_end()
                .lines()
                .last()
                .is_some_and(|line| line.starts_with("2020-04-30,"))
        );
        for (args, needle) in [
            (&["epi", "rt", "--area", "99"][..], "«99»"),
            (&["epi", "rt", "--window", "0"][..], "window_days"),
            (&["epi", "rt", "--si-mean", "0.5"][..], "mean"),
        ] {
            let refused = run_on(&database, args);
            assert_eq!(refused.status.code(), Some(1), "{args:?}");
            assert!(
                stderr(&refused).contains(needle),
                "{args:?}: {}",
                stderr(&refused)
            );
        }
        let json = dir.path().join("pronostico.json").display().to_string();
        let forecast = run_on(
            &database,
            &["epi", "forecast", "--area", "23", "--out", &json],
        );
        assert!(forecast.status.success(), "{}", stderr(&forecast));
        assert!(
            stdout(&forecast).starts_with("Pronóstico de La Habana desde el 2020-05-01"),
            "{}",
            stdout(&forecast)
        );
        let view: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
        assert_eq!(view["forecast"].as_array().map(Vec::len), Some(28));
        let json = dir.path().join("seir.json").display().to_string();
        let seir = run_on(&database, &["epi", "seir", "--days", "90", "--out", &json]);
        assert!(seir.status.success(), "{}", stderr(&seir));
        let said = stdout(&seir);
        let names: Vec<&str> = said
            .lines()
            .filter_map(|line| line.split(':').next())
            .collect();
        assert_eq!(names, ["Favorable", "Medio", "Crítico"], "{said}");
        let outcome: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
        assert_eq!(
            outcome["outcome"]["patches"], 16,
            "the provinces with people"
        );
        assert_eq!(outcome["outcome"]["start_day"], "2020-04-30");
        let stochastic = run_on(
            &database,
            &["epi", "seir", "--days", "30", "--stochastic", "5"],
        );
        assert!(stochastic.status.success(), "{}", stderr(&stochastic));
        assert!(
            stdout(&stochastic)
                .starts_with("SEIR estocástico (semilla 5), 16 territorios, 30 días: ")
        );
    }
    // The open series: the nation's cumulative count is the source's; a municipality's small
    // counts are not published.
    if !whole {
        let server = ServeProcess::start(binary(), &database.cli_args(), &[]).await?;
        let open = |document: &'static str| {
            let server = &server;
            async move {
                let path = format!("/api/salud/open/{document}");
                let (status, body) =
                    api(server, "GET", &path, None, None, &serde_json::Value::Null).await?;
                assert_eq!(status, 200, "{path}: {body}");
                Ok::<_, String>(body)
            }
        };
        let nation = open("series").await?;
        assert_eq!(nation["schema"], "ceiba-salud-serie/2");
        assert_eq!(nation["population"], 11_211_060);
        let last = nation["days"]
            .as_array()
            .and_then(|days| days.last())
            .ok_or("days")?;
        assert_eq!(last["date"], "2020-04-30");
        assert_eq!(last["cumulative"], 1_537);
        assert!(
            last["incidence_14d"]
                .as_f64()
                .is_some_and(|rate| rate > 5.0),
            "{last}"
        );
        let habana = open("series?area=23").await?;
        assert_eq!(habana["level"], "province");
        let small = open("series?area=21.09").await?;
        assert_eq!(small["suppressed_below"], 5);
        assert!(
            small["days"]
                .as_array()
                .is_some_and(|days| days.iter().all(|day| {
                    day["new_cases"].as_u64().is_none_or(|n| n == 0 || n >= 5)
                        && day["cumulative"].as_u64().is_none_or(|n| n == 0 || n >= 5)
                })),
            "{small}"
        );
        // Below the province, by complete weeks; a cumulative count stops at the first
        // withheld week, since the difference of two would give it away.
        assert_eq!(small["period_days"], 7);
        let days = small["days"].as_array().ok_or("days")?;
        assert!(
            days.windows(2).all(|pair| {
                let day = |value: &serde_json::Value| {
                    value["date"].as_str().and_then(ceiba_surveillance::covid19cubadata::Date::parse)
                };
                matches!((day(&pair[0]), day(&pair[1])), (Some(a), Some(b)) if b.days_since_epoch() - a.days_since_epoch() == 7)
            }),
            "{small}"
        );
        let first_withheld = days
            .iter()
            .position(|day| day["new_cases"].is_null())
            .ok_or("21.09 has a week withheld")?;
        assert!(
            days[first_withheld..]
                .iter()
                .all(|day| day["cumulative"].is_null()),
            "{small}"
        );
        assert!(
            days[first_withheld..]
                .iter()
                .take(2)
                .all(|day| day["incidence_14d"].is_null()),
            "{small}"
        );
        // No withheld week can be worked out from its province's week: in Pinar del Río, the
        // province's count each week less its municipalities' published ones is 0 or at least 5.
        let province = open("series?area=21").await?;
        assert_eq!(province["period_days"], 1);
        let province_days = province["days"].as_array().ok_or("days")?;
        let first_day =
            ceiba_surveillance::covid19cubadata::Date::parse("2020-03-11").ok_or("day")?;
        let mut province_weeks = std::collections::BTreeMap::new();
        for day in province_days {
            let date = day["date"]
                .as_str()
                .and_then(ceiba_surveillance::covid19cubadata::Date::parse)
                .ok_or("date")?;
            let week = (date.days_since_epoch() - first_day.days_since_epoch()) / 7;
            *province_weeks.entry(week).or_insert(0_u64) +=
                day["new_cases"].as_u64().ok_or("count")?;
        }
        let geography = open("geography").await?;
        let municipalities: Vec<String> = geography["provinces"]
            .as_array()
            .and_then(|provinces| provinces.iter().find(|p| p["code"] == "21"))
            .and_then(|p| p["municipalities"].as_array())
            .ok_or("Pinar del Río")?
            .iter()
            .filter_map(|m| m["code"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(municipalities.len(), 11);
        let mut published = std::collections::BTreeMap::new();
        for code in &municipalities {
            let path = format!("/api/salud/open/series?area={code}");
            let (status, series) =
                api(&server, "GET", &path, None, None, &serde_json::Value::Null).await?;
            assert_eq!(status, 200, "{series}");
            for day in series["days"].as_array().ok_or("days")? {
                let date = day["date"]
                    .as_str()
                    .and_then(ceiba_surveillance::covid19cubadata::Date::parse)
                    .ok_or("date")?;
                let week = (date.days_since_epoch() - first_day.days_since_epoch()) / 7;
                let entry = published.entry(week).or_insert((0_u64, 0_usize));
                match day["new_cases"].as_u64() {
                    Some(count) => entry.0 += count,
                    None => entry.1 += 1,
                }
            }
        }
        for (week, (shown, withheld)) in &published {
            let total = province_weeks.get(week).copied().unwrap_or(0);
            let hidden = total - shown;
            assert!(
                hidden == 0 || hidden >= 5 || *withheld >= 2,
                "week {week}: {total} in the province, {shown} shown, {withheld} withheld"
            );
        }
        assert_eq!(
            open_raw(&server, "/api/salud/open/profile?area=21.09").await?,
            404
        );
        let unknown = open_raw(&server, "/api/salud/open/series?area=99.99").await?;
        assert_eq!(unknown, 404);
        // The published national series: each day's figures add up to the totals, which are
        // the source's own.
        let national = open("national").await?;
        assert_eq!(national["schema"], "ceiba-salud-nacional/1");
        let published = database.db.salud_national_days().await?;
        let days = national["days"].as_array().ok_or("days")?;
        assert_eq!(days.len(), published.len());
        let last = days.last().ok_or("a day")?;
        assert_eq!(last["date"], "2020-04-30");
        assert_eq!(last["confirmed_total"], 1_537);
        let sum = |pick: fn(&ceiba_store::NationalDay) -> Option<u64>| {
            published.iter().filter_map(pick).sum::<u64>()
        };
        assert_eq!(last["deaths_total"], sum(|day| day.deaths));
        assert_eq!(last["recovered_total"], sum(|day| day.recovered));
        let added: u64 = days.iter().filter_map(|day| day["deaths"].as_u64()).sum();
        assert_eq!(last["deaths_total"], added);
        assert_eq!(
            last["tests_total"],
            published
                .last()
                .and_then(|day| day.tests_total)
                .ok_or("tests")?
        );
        let positivity = last["positivity_7d"].as_f64().ok_or("positivity")?;
        assert!((0.5..20.0).contains(&positivity), "{positivity}");
        // Cases by group each day: every dimension adds up to the nation's 1,537.
        for document in [
            "groups?dimension=edad",
            "groups?dimension=sexo",
            "groups?dimension=fuente",
        ] {
            let groups = open(document).await?;
            assert_eq!(groups["schema"], "ceiba-salud-grupos/1");
            let last = groups["days"]
                .as_array()
                .and_then(|days| days.last())
                .ok_or("days")?;
            let total: u64 = last["cumulative"]
                .as_array()
                .ok_or("cumulative")?
                .iter()
                .filter_map(serde_json::Value::as_u64)
                .sum();
            assert_eq!(total, 1_537, "{document}");
        }
        // A municipality's groups each day would mostly be withheld: not published.
        let municipality = open_raw(&server, "/api/salud/open/groups?area=21.09&dimension=sexo");
        assert_eq!(municipality.await?, 404);
        let (status, problem) = api(
            &server,
            "GET",
            "/api/salud/open/groups?dimension=color",
            None,
            None,
            &serde_json::Value::Null,
        )
        .await?;
        assert_eq!(status, 400, "{problem}");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|detail| detail.contains("«color»")),
            "{problem}"
        );
        let csv =
            http::get(&server.url("/api/salud/open/groups.csv?area=23&dimension=edad")).await?;
        assert_eq!(csv.header("ceiba-schema"), Some("ceiba-salud-grupos/1"));
        assert!(
            csv.text()
                .starts_with("fecha,grupo,casos_nuevos,acumulados\n"),
            "{}",
            csv.text()
        );
        // The models: Rt as an independent run of the method over the open counts by source
        // gives it, a 28-day forecast, and the forecast of a week earlier scored.
        let models = open("models").await?;
        assert_eq!(models["schema"], "ceiba-salud-modelos/1");
        assert_eq!(models["last_day"], "2020-04-30");
        let by_source = open("groups?dimension=fuente").await?;
        let imported_at = by_source["groups"]
            .as_array()
            .and_then(|groups| groups.iter().position(|group| group == "Importado"))
            .ok_or("imported group")?;
        let (mut local, mut imported) = (Vec::new(), Vec::new());
        for day in by_source["days"].as_array().ok_or("days")? {
            let counts: Vec<u64> = day["new_cases"]
                .as_array()
                .ok_or("counts")?
                .iter()
                .filter_map(serde_json::Value::as_u64)
                .collect();
            imported.push(counts[imported_at]);
            local.push(counts.iter().sum::<u64>() - counts[imported_at]);
        }
        let expected =
            ceiba_epi::rt::estimate_rt(&local, &imported, &ceiba_epi::rt::RtParams::default())?;
        let rt = models["rt"].as_array().ok_or("rt")?;
        assert_eq!(rt.len(), expected.len());
        let last_rt = rt.last().ok_or("an Rt")?;
        assert_eq!(last_rt["date"], "2020-04-30");
        let mean = last_rt["mean"].as_f64().ok_or("mean")?;
        let reference = expected.last().ok_or("an estimate")?;
        assert!(
            (mean - reference.mean).abs() < 1e-9,
            "{mean} {}",
            reference.mean
        );
        assert!(
            last_rt["lower_95"].as_f64() < Some(mean) && Some(mean) < last_rt["upper_95"].as_f64()
        );
        assert_eq!(models["forecast"].as_array().map(Vec::len), Some(28));
        assert_eq!(models["forecast"][0]["date"], "2020-05-01");
        let past = models["past_forecasts"].as_array().ok_or("past")?;
        assert_eq!(
            past.len(),
            1,
            "51 days: one forecast a week back with 42 days before it"
        );
        assert_eq!(past[0]["origin"], "2020-04-23");
        assert_eq!(past[0]["ensemble"]["days_scored"], 7);
        assert_eq!(
            models,
            open("models").await?,
            "the same revision, the same figures"
        );
        assert_eq!(
            open_raw(&server, "/api/salud/open/models?area=21.09").await?,
            404
        );
        let page = http::get(&server.url("/salud/modelos?area=23")).await?;
        assert_eq!(page.status, 200);
        assert!(
            page.text().contains("Modelos: La Habana"),
            "{}",
            page.text()
        );
        assert!(
            page.text().matches("<svg").count() >= 2,
            "Rt and forecast charts"
        );
        let csv = http::get(&server.url("/api/salud/open/national.csv")).await?;
        assert_eq!(csv.header("ceiba-schema"), Some("ceiba-salud-nacional/1"));
        assert!(
            csv.text()
                .starts_with("fecha,confirmados,altas,fallecidos,"),
            "{}",
            csv.text()
        );
        let csv = http::get(&server.url("/api/salud/open/series.csv?area=23")).await?;
        assert_eq!(csv.status, 200);
        assert_eq!(csv.header("ceiba-schema"), Some("ceiba-salud-serie/2"));
        assert!(
            csv.text().starts_with("fecha,casos_nuevos,acumulados,"),
            "{}",
            csv.text()
        );
        let (code, logs) = server.stop().await?;
        assert_eq!(code, Some(0), "{logs}");
    }
    let refused = run_on(&database, &["salud", "import", "otra-fuente", &archive]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("covid19cubadata"),
        "{}",
        stderr(&refused)
    );
    Ok(())
}

/// The status of a GET without a session.
async fn open_raw(server: &ServeProcess, path: &str) -> Result<u16, String> {
    Ok(http::get(&server.url(path)).await?.status)
}

async fn bench_salud_refuses_bad_arguments() -> TestResult {
    let dir = tempfile::tempdir()?;
    let refused = run_ceiba(dir.path(), &["bench", "salud", "--requests", "0"], &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("--requests"),
        "{}",
        stderr(&refused)
    );
    let missing = run_ceiba(
        dir.path(),
        &["bench", "salud", "--archive", "/no/existe/covid19cuba.zip"],
        &[],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("provincias.geojson"),
        "{}",
        stderr(&missing)
    );
    Ok(())
}

/// `ceiba epi abm`: the line of figures the issue asks for, the daily series, the same output
/// for the same seed with any number of threads, all of Cuba, and clear refusals.
async fn epi_abm_runs_reproducibly() -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = |name: &str| dir.path().join(name).display().to_string();
    let abm = |args: &[&str]| {
        let mut all = vec!["epi", "abm"];
        all.extend_from_slice(args);
        run_ceiba(dir.path(), &all, &[])
    };
    let csv = out("serie.csv");
    let run = abm(&[
        "--population",
        "20000",
        "--days",
        "60",
        "--seed",
        "4",
        "--out",
        &csv,
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let figures: serde_json::Value = serde_json::from_str(stdout(&run).trim())?;
    assert_eq!(figures["agents"], 20_000);
    assert_eq!(figures["days"], 60);
    for key in ["seconds", "person_days_per_second", "peak_memory_bytes"] {
        assert!(
            figures[key].as_f64().is_some_and(|value| value > 0.0),
            "{key}: {figures}"
        );
    }
    let text = std::fs::read_to_string(&csv)?;
    assert!(text.starts_with("dia,infecciones,"), "{text}");
    assert_eq!(text.lines().count(), 61, "a header and one line a day");
    let infections: u64 = figures["infections"].as_u64().ok_or("infections")?;
    assert!(
        infections > 100,
        "the epidemic spreads from its 100 first cases: {figures}"
    );

    let (one, two) = (out("uno.json"), out("dos.json"));
    for (file, threads) in [(&one, "1"), (&two, "2")] {
        let run = abm(&[
            "--population",
            "20000",
            "--days",
            "60",
            "--seed",
            "4",
            "--threads",
            threads,
            "--out",
            file,
        ]);
        assert!(run.status.success(), "{}", stderr(&run));
    }
    assert_eq!(
        std::fs::read(&one)?,
        std::fs::read(&two)?,
        "same seed, 1 or 2 threads"
    );
    let other = out("otra.json");
    let run = abm(&[
        "--population",
        "20000",
        "--days",
        "60",
        "--seed",
        "5",
        "--out",
        &other,
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_ne!(
        std::fs::read(&one)?,
        std::fs::read(&other)?,
        "another seed, another epidemic"
    );

    let data = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cuba")
        .display()
        .to_string();
    let cuba = abm(&[
        "--population",
        "cuba",
        "--dir",
        &data,
        "--days",
        "3",
        "--out",
        &out("cuba.json"),
    ]);
    assert!(cuba.status.success(), "{}", stderr(&cuba));
    let figures: serde_json::Value = serde_json::from_str(stdout(&cuba).trim())?;
    assert_eq!(figures["agents"], 11_211_060, "one agent per Cuban");

    let params = out("params.json");
    std::fs::write(&params, r#"{"r0": -2}"#)?;
    for (args, needle) in [
        (vec!["--population", "1000", "--days", "0"], "days"),
        (vec!["--population", "0", "--days", "10"], "habitantes"),
        (vec!["--population", "mil", "--days", "10"], "«mil»"),
        (
            vec!["--population", "1000", "--days", "10", "--threads", "0"],
            "threads",
        ),
        (
            vec![
                "--population",
                "1000",
                "--days",
                "10",
                "--params",
                params.as_str(),
            ],
            "r0",
        ),
    ] {
        let mut all = args.clone();
        let target = out("nada.json");
        all.extend(["--out", target.as_str()]);
        let refused = abm(&all);
        assert_eq!(refused.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&refused).contains(needle),
            "{args:?}: {}",
            stderr(&refused)
        );
        assert!(!Path::new(&target).exists(), "{args:?}: nothing written");
    }
    Ok(())
}

/// `ceiba wiki zim-info|verify|delta` on the openZIM test files: a good file is described, a
/// broken one refused in one sentence; a signed copy verifies and an altered one or a foreign
/// key does not; a patch rebuilds the newer file exactly and refuses another old one.
async fn wiki_offline_packages() -> TestResult {
    let dir = tempfile::tempdir()?;
    let zim = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/zim")
            .join(name)
            .display()
            .to_string()
    };
    let wiki = |args: &[&str]| {
        let mut all = vec!["wiki"];
        all.extend_from_slice(args);
        run_ceiba(dir.path(), &all, &[])
    };
    let good = zim("nons_small.zim");
    let info = wiki(&["zim-info", &good, "--completo"]);
    assert!(info.status.success(), "{}", stderr(&info));
    let said = stdout(&info);
    assert!(said.contains("Formato: ZIM 6."), "{said}");
    assert!(said.contains("Entradas: "), "{said}");
    assert!(said.contains("Comprobado: cada cluster"), "{said}");
    for broken in [
        "nons_invalid.bad_mimetype_in_dirent.zim",
        "nons_invalid.nonsorted_dirent_table.zim",
        "nons_invalid.outofbounds_urlptrpos.zim",
        "nons_invalid.smaller_than_header.zim",
    ] {
        let refused = wiki(&["zim-info", &zim(broken)]);
        assert_eq!(refused.status.code(), Some(1), "{broken}");
        let message = stderr(&refused);
        assert!(
            message.contains("no es un archivo ZIM válido"),
            "{broken}: {message}"
        );
        assert_eq!(message.trim().lines().count(), 1, "{message}");
    }

    // A signed copy, as the export publishes it.
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let published = ceiba_zim::sign::PublicKey::from_signing_key(&key).to_text();
    let copy = dir.path().join("enciclopedia.zim");
    let bytes = std::fs::read(&good)?;
    std::fs::write(&copy, &bytes)?;
    let signature = ceiba_zim::sign::sign(&bytes, &key).to_text();
    std::fs::write(dir.path().join("enciclopedia.zim.firma"), &signature)?;
    let copy = copy.display().to_string();
    let verified = wiki(&["verify", &copy, "--clave", &published]);
    assert!(verified.status.success(), "{}", stderr(&verified));
    assert!(
        stdout(&verified).contains("firma válida"),
        "{}",
        stdout(&verified)
    );
    let other = ed25519_dalek::SigningKey::from_bytes(&[8; 32]);
    let foreign = ceiba_zim::sign::PublicKey::from_signing_key(&other).to_text();
    let refused = wiki(&["verify", &copy, "--clave", &foreign]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("otra clave"),
        "{}",
        stderr(&refused)
    );
    let mut altered = bytes.clone();
    let middle = altered.len() / 2;
    altered[middle] ^= 1;
    std::fs::write(&copy, &altered)?;
    let refused = wiki(&["verify", &copy, "--clave", &published]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("alterado"),
        "{}",
        stderr(&refused)
    );

    // A patch from the good file to one changed in a few places.
    let mut newer = bytes.clone();
    newer.extend_from_slice(b"una entrada nueva");
    newer[100] ^= 0xff;
    let (old_path, new_path, patch, rebuilt) = (
        dir.path().join("viejo.zim"),
        dir.path().join("nuevo.zim"),
        dir.path().join("parche.delta"),
        dir.path().join("rehecho.zim"),
    );
    std::fs::write(&old_path, &bytes)?;
    std::fs::write(&new_path, &newer)?;
    let path = |p: &Path| p.display().to_string();
    let made = wiki(&[
        "delta",
        "make",
        &path(&old_path),
        &path(&new_path),
        &path(&patch),
    ]);
    assert!(made.status.success(), "{}", stderr(&made));
    assert!(
        std::fs::metadata(&patch)?.len() < newer.len() as u64 / 4,
        "the patch carries only what changed"
    );
    let applied = wiki(&[
        "delta",
        "apply",
        &path(&old_path),
        &path(&patch),
        &path(&rebuilt),
    ]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    assert_eq!(std::fs::read(&rebuilt)?, newer);
    let wrong = wiki(&[
        "delta",
        "apply",
        &path(&new_path),
        &path(&patch),
        &path(&rebuilt),
    ]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        stderr(&wrong).contains("otra versión"),
        "{}",
        stderr(&wrong)
    );
    Ok(())
}

/// `ceiba wiki import mediawiki` on the shared exports (twice: the second adds nothing; a bad
/// page among good ones is reported and the rest imported), then `ceiba wiki export zim`: a
/// signed file that openZIM's zimcheck passes with every check and our reader opens.
async fn wiki_import_and_export(programs: Vec<std::path::PathBuf>) -> TestResult {
    let zimcheck = programs.first().ok_or("zimcheck")?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("datos").display().to_string();
    let wiki = |args: &[&str]| {
        let mut all = vec!["wiki"];
        all.extend_from_slice(args);
        all.extend(["--data-dir", data.as_str()]);
        run_ceiba(dir.path(), &all, &[])
    };
    let shared = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/mediawiki")
            .join(name)
            .display()
            .to_string()
    };
    let pages = shared("testmw_pages_current.xml");
    let first = wiki(&["import", "mediawiki", &pages]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains(": 177 páginas, 177 revisiones nuevas, 0 ya estaban, 0 páginas"),
        "{}",
        stdout(&first)
    );
    let again = wiki(&["import", "mediawiki", &pages]);
    assert!(
        stdout(&again).contains(": 177 páginas, 0 revisiones nuevas, 177 ya estaban"),
        "{}",
        stdout(&again)
    );
    let dump = wiki(&["import", "mediawiki", &shared("mwxml_dump.xml")]);
    assert!(
        stdout(&dump).contains("3 revisiones nuevas"),
        "{}",
        stdout(&dump)
    );

    // A bad page between two good ones: reported with its reason, the others imported.
    let broken = dir.path().join("roto.xml");
    std::fs::write(
        &broken,
        r#"<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="es">
<siteinfo><sitename>Prueba</sitename><dbname>prueba</dbname><namespaces><namespace key="0" case="first-letter" /></namespaces></siteinfo>
<page><title>Bayamo</title><ns>0</ns><id>1</id><revision><id>10</id><timestamp>2020-01-01T00:00:00Z</timestamp><contributor><username>Ana</username><id>1</id></contributor><text bytes="30">Ciudad de [[Granma]], himno.</text></revision></page>
<page><title>Roto</title><ns>0</ns><id>2</id><revision><id>11</id><timestamp>ayer</timestamp><contributor><username>Ana</username><id>1</id></contributor><text bytes="1">x</text></revision></page>
<page><title>Granma</title><ns>0</ns><id>3</id><revision><id>12</id><timestamp>2020-01-02T00:00:00Z</timestamp><contributor><ip>10.0.0.1</ip></contributor><text bytes="20">Provincia. [[Bayamo]]</text></revision></page>
</mediawiki>"#,
    )?;
    let partly = wiki(&["import", "mediawiki", &broken.display().to_string()]);
    assert!(partly.status.success(), "{}", stderr(&partly));
    let said = stdout(&partly);
    assert!(
        said.contains(": 2 páginas, 2 revisiones nuevas, 0 ya estaban, 1 páginas con problemas"),
        "{said}"
    );
    assert!(said.contains("Roto"), "the bad page is named: {said}");
    let refused = wiki(&["import", "otra", &pages]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("mediawiki"),
        "{}",
        stderr(&refused)
    );

    // The export: signed, and zimcheck passes it with every check.
    let zim = dir.path().join("enciclopedia.zim").display().to_string();
    let exported = wiki(&["export", "zim", &zim]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let said = stdout(&exported);
    assert!(said.starts_with(&format!("Exportado {zim} en ")), "{said}");
    let key = said
        .split_whitespace()
        .find(|word| word.starts_with("ed25519:"))
        .ok_or_else(|| format!("no published key in {said}"))?
        .to_owned();
    let checked = std::process::Command::new(zimcheck)
        .args(["-A", &zim])
        .output()?;
    assert!(
        checked.status.success(),
        "zimcheck: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let verified = run_ceiba(dir.path(), &["wiki", "verify", &zim, "--clave", &key], &[]);
    assert!(verified.status.success(), "{}", stderr(&verified));
    let archive = ceiba_zim::reader::Archive::from_bytes(std::fs::read(&zim)?)?;
    archive.check()?;
    let bayamo = archive.user_entry("Bayamo").ok_or("Bayamo in the file")?;
    let html = String::from_utf8(archive.content(bayamo)?)?;
    assert!(
        html.contains("<a href=\"Granma\""),
        "a relative link inside the file: {html}"
    );
    assert_eq!(archive.metadata("Language").as_deref(), Some("spa"));
    Ok(())
}

/// `ceiba bench wiki` prints its line of figures for a small corpus, and refuses sizes out of
/// range naming the flag.
async fn bench_wiki_small() -> TestResult {
    let dir = tempfile::tempdir()?;
    let run = run_ceiba(
        dir.path(),
        &["bench", "wiki", "--articles", "300", "--queries", "50"],
        &[],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let figures: serde_json::Value = serde_json::from_str(stdout(&run).trim())?;
    assert_eq!(figures["articles"], 300);
    assert_eq!(figures["queries"], 50);
    for key in [
        "index_articles_per_second",
        "query_p50_ms",
        "query_p99_ms",
        "edit_visible_p50_ms",
    ] {
        assert!(
            figures[key].as_f64().is_some_and(|value| value > 0.0),
            "{key}: {figures}"
        );
    }
    for (flag, value) in [("--articles", "0"), ("--queries", "0")] {
        let refused = run_ceiba(dir.path(), &["bench", "wiki", flag, value], &[]);
        assert_eq!(refused.status.code(), Some(1));
        assert!(stderr(&refused).contains(flag), "{}", stderr(&refused));
    }
    Ok(())
}
