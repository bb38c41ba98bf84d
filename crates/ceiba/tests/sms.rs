//! The SMS outbox dispatcher end to end: the real `ceiba serve` sends what is queued in the
//! outbox, through the file sender or an HTTP gateway (a stand-in for Kannel run by the test),
//! retries a gateway that fails, and refuses a bad `[sms]` configuration naming the key.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use ceiba_identity::PhoneNumber;
use ceiba_testkit::process::ServeProcess;
use ceiba_testkit::{Suite, TestDatabase, TestResult};

const PHONE: &str = "+5351234567";
const CODE_BODY: &str = "Su código de Ceiba es 123456";
/// The file the file sender writes (`SENT_LOG_FILE` in the binary).
const SENT_LOG_FILE: &str = "sms-enviados.log";
/// How long a due message may take to leave (the loop turns every 2 s).
const DELIVERY_WAIT: Duration = Duration::from_secs(10);

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ceiba"))
}

fn main() {
    let mut suite = Suite::new();
    suite.each_engine(
        "file_sender_writes_each_message_once_in_the_documented_line",
        file_sender_writes_once,
    );
    suite.each_engine(
        "http_sender_passes_kannel_parameters_encoded",
        http_sender_passes_parameters,
    );
    suite.each_engine(
        "http_sender_retries_a_failing_gateway_with_backoff",
        http_sender_retries,
    );
    suite.test(
        "sms_configuration_refusals_name_the_key",
        configuration_refusals,
    );
    suite.test(
        "sms_configuration_shows_the_gateway_password_hidden",
        configuration_hides_password,
    );
    suite.run()
}

fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(since_epoch.as_millis()).expect("ms fit in i64")
}

/// Queues one message and returns its outbox id.
async fn queue(
    database: &TestDatabase,
    body: &str,
) -> Result<i64, Box<dyn std::error::Error + Send + Sync>> {
    let before: Vec<i64> = database
        .db
        .due_sms(i64::MAX, 100)
        .await?
        .iter()
        .map(|row| row.id)
        .collect();
    database
        .db
        .queue_sms(&PhoneNumber::parse(PHONE)?, body, now_ms())
        .await?;
    let after = database.db.due_sms(i64::MAX, 100).await?;
    let added: Vec<i64> = after
        .iter()
        .map(|row| row.id)
        .filter(|id| !before.contains(id))
        .collect();
    match added.as_slice() {
        [id] => Ok(*id),
        other => Err(format!("se esperaba un mensaje nuevo en la cola, hay {other:?}").into()),
    }
}

/// Polls `check` every 100 ms until it returns `Some` or `limit` passes.
async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        if started.elapsed() > limit {
            return Err(format!("{what}: nada tras {limit:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads the sent log's lines (none when it does not exist yet).
fn sent_lines(data_dir: &Path) -> Vec<String> {
    std::fs::read_to_string(data_dir.join(SENT_LOG_FILE))
        .map(|text| text.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

async fn file_sender_writes_once(database: TestDatabase) -> TestResult {
    // One message waits before the server starts, one arrives while it runs; the second has
    // every character the line format must escape.
    let first = queue(&database, CODE_BODY).await?;
    let server = ServeProcess::start(binary(), &database.cli_args(), &[]).await?;
    let tricky = "línea 1\nlínea 2\r\n\tsangría \\ barra";
    let second = queue(&database, tricky).await?;
    let queued_at = now_ms();

    let data_dir = database.data_dir().to_owned();
    let lines = eventually(DELIVERY_WAIT, "the two SMS in the sent log", || {
        let lines = sent_lines(&data_dir);
        async move { (lines.len() >= 2).then_some(lines) }
    })
    .await
    .map_err(|error| format!("{error}; logs:\n{}", server.stderr()))?;

    let fields: Vec<Vec<&str>> = lines
        .iter()
        .map(|line| line.split('\t').collect())
        .collect();
    for (line, (id, body)) in fields.iter().zip([
        (first, CODE_BODY.to_owned()),
        (
            second,
            "línea 1\\nlínea 2\\r\\n\\tsangría \\\\ barra".to_owned(),
        ),
    ]) {
        assert_eq!(line.len(), 4, "{line:?}");
        let written_at: i64 = line[0].parse()?;
        assert!(
            (queued_at - 60_000..=now_ms()).contains(&written_at),
            "time {written_at} is not a recent Unix time in ms"
        );
        assert_eq!(line[1], id.to_string(), "{line:?}");
        assert_eq!(line[2], PHONE, "{line:?}");
        assert_eq!(line[3], body, "{line:?}");
    }

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data_dir.join(SENT_LOG_FILE))?
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }

    // Exactly once: nothing due any more (the line is written before the row is marked sent,
    // so the mark may land a moment after the line), and two more turns of the loop add no line.
    let db = &database.db;
    eventually(DELIVERY_WAIT, "the outbox emptied", || async move {
        db.due_sms(i64::MAX, 100)
            .await
            .ok()
            .filter(|due| due.is_empty())
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    assert_eq!(sent_lines(&data_dir), lines, "a message was written twice");

    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "{logs}");
    assert!(
        !logs.contains("123456"),
        "a one-time code reached the logs:\n{logs}"
    );
    Ok(())
}

/// A stand-in for Kannel's `sendsms`: records each request's raw query and when it came, and
/// answers the given statuses in order, then 202 as Kannel does.
#[derive(Clone)]
struct StandInGateway {
    requests: Arc<Mutex<Vec<(Instant, String)>>>,
    answers: Arc<Mutex<Vec<u16>>>,
}

impl StandInGateway {
    async fn start(
        answers: &[u16],
    ) -> Result<(StandInGateway, SocketAddr), Box<dyn std::error::Error + Send + Sync>> {
        let gateway = StandInGateway {
            requests: Arc::default(),
            answers: Arc::new(Mutex::new(answers.iter().rev().copied().collect())),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let router = axum::Router::new()
            .route("/cgi-bin/sendsms", get(sendsms))
            .with_state(gateway.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok((gateway, address))
    }

    fn requests(&self) -> Vec<(Instant, String)> {
        self.requests.lock().expect("requests").clone()
    }
}

async fn sendsms(
    State(gateway): State<StandInGateway>,
    RawQuery(query): RawQuery,
) -> (StatusCode, &'static str) {
    gateway
        .requests
        .lock()
        .expect("requests")
        .push((Instant::now(), query.unwrap_or_default()));
    match gateway.answers.lock().expect("answers").pop() {
        Some(status) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "Internal error, try again later",
        ),
        None => (StatusCode::ACCEPTED, "0: Accepted for delivery"),
    }
}

/// A query string decoded as a form (`+` is a space, `%2B` a plus), keys to values.
fn decode(query: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn gateway_env(address: SocketAddr) -> Vec<(&'static str, String)> {
    vec![
        ("CEIBA_SMS__SENDER", "http".to_owned()),
        (
            "CEIBA_SMS__GATEWAY_URL",
            format!("http://{address}/cgi-bin/sendsms"),
        ),
        // `&`, `=` and spaces must be encoded.
        ("CEIBA_SMS__GATEWAY_USERNAME", "ceiba & co=sí".to_owned()),
        // All digits: an environment layer that parses values would read the number 731954.
        ("CEIBA_SMS__GATEWAY_PASSWORD", "00731954".to_owned()),
    ]
}

async fn http_sender_passes_parameters(database: TestDatabase) -> TestResult {
    let (gateway, address) = StandInGateway::start(&[]).await?;
    let body = format!("{CODE_BODY} & más=+ok");
    let id = queue(&database, &body).await?;
    let env = gateway_env(address);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = ServeProcess::start(binary(), &database.cli_args(), &env).await?;

    let requests = eventually(DELIVERY_WAIT, "a request at the gateway", || {
        let requests = gateway.requests();
        async move { (!requests.is_empty()).then_some(requests) }
    })
    .await
    .map_err(|error| format!("{error}; logs:\n{}", server.stderr()))?;
    let parameters = decode(&requests[0].1);
    assert_eq!(parameters["username"], "ceiba & co=sí", "{parameters:?}");
    assert_eq!(parameters["password"], "00731954", "{parameters:?}");
    assert_eq!(parameters["to"], PHONE, "{parameters:?}");
    assert_eq!(parameters["text"], body, "{parameters:?}");
    assert_eq!(parameters["charset"], "UTF-8", "{parameters:?}");
    // «ó» and «á» are outside the GSM 7-bit alphabet: UCS-2.
    assert_eq!(parameters["coding"], "2", "{parameters:?}");

    // Marked sent once the gateway accepted it: not sent again.
    eventually(Duration::from_secs(5), "the message marked sent", || {
        let db = database.db.clone();
        async move {
            db.due_sms(i64::MAX, 100)
                .await
                .ok()?
                .is_empty()
                .then_some(())
        }
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    assert_eq!(gateway.requests().len(), 1, "sent more than once");
    assert!(
        !sent_lines(database.data_dir())
            .iter()
            .any(|line| line.contains(&id.to_string()))
    );

    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "{logs}");
    assert!(
        !logs.contains("00731954"),
        "the gateway password reached the logs:\n{logs}"
    );
    Ok(())
}

async fn http_sender_retries(database: TestDatabase) -> TestResult {
    let (gateway, address) = StandInGateway::start(&[500, 500]).await?;
    queue(&database, CODE_BODY).await?;
    let env = gateway_env(address);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = ServeProcess::start(binary(), &database.cli_args(), &env).await?;

    // Failures after 0 and 1 earlier attempts wait 1 s and 2 s; the loop turns every 2 s.
    let requests = eventually(
        Duration::from_secs(14),
        "three requests at the gateway",
        || {
            let requests = gateway.requests();
            async move { (requests.len() >= 3).then_some(requests) }
        },
    )
    .await
    .map_err(|error| format!("{error}; logs:\n{}", server.stderr()))?;
    let texts: Vec<String> = requests
        .iter()
        .map(|(_, query)| decode(query)["text"].clone())
        .collect();
    assert_eq!(texts, vec![CODE_BODY; 3]);
    let first_gap = requests[1].0 - requests[0].0;
    let second_gap = requests[2].0 - requests[1].0;
    assert!(
        first_gap >= Duration::from_millis(900),
        "retried after {first_gap:?}"
    );
    assert!(
        second_gap >= Duration::from_millis(1_900),
        "retried after {second_gap:?}"
    );

    eventually(Duration::from_secs(5), "the message marked sent", || {
        let db = database.db.clone();
        async move {
            db.due_sms(i64::MAX, 100)
                .await
                .ok()?
                .is_empty()
                .then_some(())
        }
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    assert_eq!(
        gateway.requests().len(),
        3,
        "sent again after the gateway accepted it"
    );

    let (code, logs) = server.stop().await?;
    assert_eq!(code, Some(0), "{logs}");
    // The reason is logged in Spanish, naming the gateway and its answer.
    assert!(
        logs.contains(&format!("la pasarela SMS {address} respondió 500")),
        "{logs}"
    );
    Ok(())
}

/// Runs `ceiba ARGS…` to completion in `dir`, with only the given `CEIBA_*` variables.
fn run_ceiba(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = std::process::Command::new(binary());
    command.current_dir(dir).args(args);
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

async fn configuration_refusals() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("ceiba.toml");
    let https = "https://kannel.example:13013/cgi-bin/sendsms";
    // (environment, configuration file, what the refusal must say)
    type Case<'a> = (Vec<(&'a str, &'a str)>, Option<&'a str>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (
            vec![("CEIBA_SMS__SENDER", "http")],
            None,
            vec![
                "«sms.gateway_url»",
                "sms.sender = «http» (variable de entorno CEIBA_SMS__SENDER)",
            ],
        ),
        (
            vec![
                ("CEIBA_SMS__SENDER", "http"),
                ("CEIBA_SMS__GATEWAY_URL", https),
            ],
            None,
            vec![
                "«sms.gateway_url»",
                "variable de entorno CEIBA_SMS__GATEWAY_URL",
                "HTTPS",
                "TLS",
            ],
        ),
        (
            vec![],
            Some("[sms]\nsender = \"http\"\ngateway_url = \"https://kannel.example/\"\n"),
            vec!["«sms.gateway_url»", "archivo", "HTTPS"],
        ),
        (
            vec![("CEIBA_SMS__SENDER", "paloma")],
            None,
            vec![
                "«sms.sender»",
                "variable de entorno CEIBA_SMS__SENDER",
                "«file» o «http»",
                "paloma",
            ],
        ),
        (
            vec![("CEIBA_SMS__GATEWAY_URL", "ftp://kannel.example/")],
            None,
            vec!["«sms.gateway_url»", "http://"],
        ),
        (
            vec![],
            Some("[sms]\ngateway_pasword = \"x\"\n"),
            vec!["«sms.gateway_pasword»", "no existe", "sms.gateway_password"],
        ),
    ];
    for (env, toml, expected) in cases {
        let mut args = Vec::new();
        if let Some(text) = toml {
            std::fs::write(&file, text)?;
            args.extend(["--config", file.to_str().ok_or("ruta no UTF-8")?]);
        }
        args.push("config");
        let output = run_ceiba(dir.path(), &args, &env);
        let message = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{env:?} {toml:?}: {message}");
        for part in expected {
            assert!(
                message.contains(part),
                "{env:?} {toml:?}: «{part}» not in {message}"
            );
        }
    }

    // Credentials inside the address are refused, and not echoed.
    let output = run_ceiba(
        dir.path(),
        &["config"],
        &[(
            "CEIBA_SMS__GATEWAY_URL",
            "http://ceiba:s3creto@kannel.example/",
        )],
    );
    let message = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains("sms.gateway_password"), "{message}");
    assert!(!message.contains("s3creto"), "{message}");

    // `serve` refuses before it writes anything.
    let data_dir = dir.path().join("datos");
    let output = run_ceiba(
        dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data_dir.to_str().ok_or("ruta no UTF-8")?,
        ],
        &[("CEIBA_SMS__SENDER", "http")],
    );
    let message = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains("sms.gateway_url"), "{message}");
    assert!(!data_dir.exists(), "the data folder was created");
    Ok(())
}

async fn configuration_hides_password() -> TestResult {
    let dir = tempfile::tempdir()?;
    let effective = |env: &[(&str, &str)]| -> Result<(toml::Table, String), String> {
        let output = run_ceiba(dir.path(), &["config"], env);
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        let table = text
            .parse::<toml::Table>()
            .map_err(|error| error.to_string())?;
        Ok((table, text))
    };

    let (defaults, _) = effective(&[])?;
    assert_eq!(defaults["sms"]["sender"].as_str(), Some("file"));
    assert_eq!(defaults["sms"]["gateway_url"].as_str(), Some(""));
    assert_eq!(defaults["sms"]["gateway_password"].as_str(), Some(""));

    let url = "http://127.0.0.1:13013/cgi-bin/sendsms";
    let (table, text) = effective(&[
        ("CEIBA_SMS__SENDER", "HTTP"),
        ("CEIBA_SMS__GATEWAY_URL", url),
        ("CEIBA_SMS__GATEWAY_USERNAME", "ceiba"),
        ("CEIBA_SMS__GATEWAY_PASSWORD", "0070-secreta"),
    ])?;
    assert_eq!(table["sms"]["sender"].as_str(), Some("http"));
    assert_eq!(table["sms"]["gateway_url"].as_str(), Some(url));
    assert_eq!(table["sms"]["gateway_username"].as_str(), Some("ceiba"));
    assert_eq!(table["sms"]["gateway_password"].as_str(), Some("***"));
    assert!(!text.contains("secreta"), "{text}");

    // What `config` prints is a configuration file `config` accepts again.
    let file = dir.path().join("efectiva.toml");
    std::fs::write(&file, &text)?;
    let output = run_ceiba(
        dir.path(),
        &["--config", file.to_str().ok_or("ruta no UTF-8")?, "config"],
        &[],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}
