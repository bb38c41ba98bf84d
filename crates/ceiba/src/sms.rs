//! The SMS outbox dispatcher: takes the messages that are due from the outbox table, hands
//! each to a sender, and records the outcome.
//!
//! # Delivery: at least once
//! A message is marked sent only after its sender said so (the file is synced, or the gateway
//! answered 2xx). A crash, a lost database connection or a lost lease between the two sends it
//! again at the next turn: never zero times, possibly twice. The opposite order (mark, then
//! send) would lose a confirmation code to a crash, which is worse than a duplicate.
//!
//! # Shown at most once: how duplicates are kept rare and visible
//! - Only the holder of the maintenance lease dispatches, so two processes never work on the
//!   same batch while the lease holds.
//! - One dispatch starts no new send after [`DISPATCH_BUDGET`], so with the gateway's
//!   [`SEND_TIMEOUT`] it ends (12 s at worst) before the lease (15 s, renewed each turn of the
//!   loop) could lapse and a second process take the same messages.
//! - Each message is marked right after its own send, not at the end of the batch, so a crash
//!   repeats at most the one message in flight.
//! - A repeat carries the same body, hence the same one-time code: a person might see the same
//!   message twice, never two codes that contradict each other.
//! - The file sender writes the outbox id on every line, so a duplicate shows as two lines
//!   with one id.
//! - Kannel's `sendsms` has no idempotency key, so the gateway cannot drop a repeat for us. Its
//!   only free-text parameters are taken: `account` is for billing (logged as `ACT`, forwarded
//!   to upstream Kannels, and used by newer bearerboxes to queue fairly per account), `binfo`
//!   becomes SMPP's `service_type` (which the SMS centre interprets), `meta-data` sets SMPP
//!   optional parameters, and `dlr-url` only matters with delivery reports, which Ceiba does
//!   not receive yet. Putting a per-message id in any of them would misuse it, so none is sent;
//!   when delivery reports arrive, `dlr-url` carrying the outbox id is the natural place.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use ceiba_store::{Db, SMS_BATCH_MAX, SmsRow, StoreError};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::config::{Config, GatewayConfig, Secret, SmsSenderKind};

/// The file the file sender appends to, in the data folder.
///
/// One line per message, fields separated by a tab:
///
/// ```text
/// <unix ms when written>\t<outbox id>\t<phone, E.164>\t<body>
/// ```
///
/// In the phone and the body, a backslash is written `\\`, a tab `\t`, a carriage return `\r`
/// and a line feed `\n` (two characters each), so every message is one line and the fields
/// split on tabs. The file is created readable by its owner only (mode 0600): it holds phone
/// numbers and one-time codes. Each line is synced to disk before the message counts as sent.
pub const SENT_LOG_FILE: &str = "sms-enviados.log";

/// How long the gateway has to answer one message, connection included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// After this long, a dispatch starts no new send (the rest wait for the next turn): see the
/// module documentation for why it must stay well under the lease's lifetime.
pub const DISPATCH_BUDGET: Duration = Duration::from_secs(2);

/// The longest wait between two attempts at one message.
pub const BACKOFF_MAX: Duration = Duration::from_secs(10 * 60);

/// How much of a gateway's answer is read (for the failure reason).
const ANSWER_BYTES_MAX: usize = 4096;
/// How much of it goes into the recorded reason.
const ANSWER_CHARS_SHOWN: usize = 200;

/// Why a message was not sent, as a Spanish sentence for logs and the outbox's `last_error`.
/// It never contains the gateway's password or the message's body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SendError(String);

/// Where messages go. Enum dispatch: one variant per sender (the gateway's, with its HTTP
/// client, boxed: it is much the larger).
#[derive(Debug)]
pub enum SmsSender {
    File(FileSender),
    Gateway(Box<GatewaySender>),
}

impl SmsSender {
    /// The sender the configuration asks for. Creates nothing: the file appears with the first
    /// message.
    pub fn from_config(config: &Config) -> anyhow::Result<SmsSender> {
        match config.sms.sender {
            SmsSenderKind::File => Ok(SmsSender::File(FileSender::new(
                config.data_dir().join(SENT_LOG_FILE),
            ))),
            SmsSenderKind::Http => {
                let gateway = config
                    .sms
                    .gateway
                    .clone()
                    .context("sms.sender = «http» necesita sms.gateway_url")?;
                Ok(SmsSender::Gateway(Box::new(GatewaySender::new(gateway))))
            }
        }
    }

    /// Sends one message; `Ok` only once it is out of our hands.
    pub async fn send(&self, message: &SmsRow) -> Result<(), SendError> {
        match self {
            SmsSender::File(sender) => sender.send(message).await,
            SmsSender::Gateway(sender) => sender.send(message).await,
        }
    }

    /// A name for logs.
    pub fn describe(&self) -> String {
        match self {
            SmsSender::File(sender) => format!("archivo {}", sender.path.display()),
            SmsSender::Gateway(sender) => format!("pasarela http://{}", sender.target),
        }
    }
}

/// Appends each message to [`SENT_LOG_FILE`] (for development and tests).
#[derive(Debug, Clone)]
pub struct FileSender {
    path: PathBuf,
}

impl FileSender {
    pub fn new(path: PathBuf) -> FileSender {
        FileSender { path }
    }

    async fn send(&self, message: &SmsRow) -> Result<(), SendError> {
        let line = format!(
            "{}\t{}\t{}\t{}\n",
            crate::serve::now_ms(),
            message.id,
            escape_field(&message.phone),
            escape_field(&message.body)
        );
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || append_synced(&path, line.as_bytes()))
            .await
            .map_err(|error| SendError(format!("la escritura del SMS no terminó: {error}")))?
            .map_err(|error| {
                SendError(format!(
                    "no se pudo escribir el SMS en «{}»: {error}",
                    self.path.display()
                ))
            })
    }
}

/// Opens in append mode (created 0600), writes the whole line, and syncs its data to disk.
fn append_synced(path: &Path, line: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(line)?;
    file.sync_data()
}

/// One field of a [`SENT_LOG_FILE`] line: `\`, tab, CR and LF escaped so it stays one field.
pub fn escape_field(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '\\' => escaped.push_str("\\\\"),
            '\t' => escaped.push_str("\\t"),
            '\r' => escaped.push_str("\\r"),
            '\n' => escaped.push_str("\\n"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Sends through an HTTP gateway with Kannel's `sendsms` GET form:
/// `<gateway_url>?username=…&password=…&to=<phone>&text=<body>&charset=UTF-8[&coding=2]`.
///
/// `charset=UTF-8` because Kannel otherwise reads the text as ISO-8859-1; `coding=2` (UCS-2)
/// when the body has a character outside the GSM 7-bit alphabet (Spanish `á`, `í`, `ó`, `ú`
/// are outside it), which Kannel would otherwise replace. No deduplication parameter is sent:
/// see the module documentation.
#[derive(Debug)]
pub struct GatewaySender {
    url: url::Url,
    username: Option<String>,
    password: Option<Secret>,
    /// `host:port`, for messages (never the whole address, which carries the password).
    target: String,
    client: Client<HttpConnector, Empty<Bytes>>,
}

impl GatewaySender {
    pub fn new(config: GatewayConfig) -> GatewaySender {
        let target = format!(
            "{}:{}",
            config.url.host_str().unwrap_or(""),
            config.url.port_or_known_default().unwrap_or(80)
        );
        GatewaySender {
            url: config.url,
            username: config.username,
            password: config.password,
            target,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// The request's address for one message.
    fn request_url(&self, message: &SmsRow) -> url::Url {
        let mut url = self.url.clone();
        {
            let mut query = url.query_pairs_mut();
            if let Some(username) = &self.username {
                query.append_pair("username", username);
            }
            if let Some(password) = &self.password {
                query.append_pair("password", password.expose());
            }
            query.append_pair("to", &message.phone);
            query.append_pair("text", &message.body);
            query.append_pair("charset", "UTF-8");
            if !fits_gsm_alphabet(&message.body) {
                query.append_pair("coding", "2");
            }
        }
        url
    }

    async fn send(&self, message: &SmsRow) -> Result<(), SendError> {
        let request = hyper::Request::get(self.request_url(message).as_str())
            .header(
                hyper::header::USER_AGENT,
                concat!("ceiba/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::new())
            .map_err(|error| SendError(format!("petición a la pasarela SMS imposible: {error}")))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|error| {
                SendError(format!(
                    "no se pudo hablar con la pasarela SMS {}: {}",
                    self.target,
                    error_chain(&error)
                ))
            })?;
            let status = response.status();
            // Read the answer (it frees the connection for the next message, and explains a
            // refusal), but only so much of it.
            let answer = Limited::new(response.into_body(), ANSWER_BYTES_MAX)
                .collect()
                .await
                .map(|body| String::from_utf8_lossy(&body.to_bytes()).into_owned())
                .unwrap_or_default();
            Ok::<_, SendError>((status, answer))
        };
        let (status, answer) = tokio::time::timeout(SEND_TIMEOUT, exchange)
            .await
            .map_err(|_| {
                SendError(format!(
                    "la pasarela SMS {} no respondió en {} s",
                    self.target,
                    SEND_TIMEOUT.as_secs()
                ))
            })??;
        if status.is_success() {
            return Ok(());
        }
        let answer: String = answer
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(ANSWER_CHARS_SHOWN)
            .collect();
        Err(SendError(format!(
            "la pasarela SMS {} respondió {}{}",
            self.target,
            status.as_u16(),
            if answer.is_empty() {
                String::new()
            } else {
                format!(": «{answer}»")
            }
        )))
    }
}

/// An error and its causes on one line (hyper's own text is only "client error (Connect)").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let more = error.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = error.source();
    }
    text
}

/// Whether every character is in the GSM 03.38 default alphabet or its extension table.
fn fits_gsm_alphabet(text: &str) -> bool {
    const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                         ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const EXTENSION: &str = "\u{c}^{}\\[~]|€";
    text.chars()
        .all(|character| BASIC.contains(character) || EXTENSION.contains(character))
}

/// What one dispatch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    pub sent: usize,
    pub failed: usize,
}

/// Sends up to [`SMS_BATCH_MAX`] messages due at `now_ms`, oldest first, marking each sent or
/// failed right after its own attempt. A failure waits `min(2^attempts s, 10 min)` before the
/// next try, `attempts` counting the tries before this one (1 s, 2 s, 4 s, …). Returns early on
/// a storage error: the message in hand is then sent again later (at least once).
pub async fn dispatch_due(
    db: &Db,
    sender: &SmsSender,
    now_ms: i64,
) -> Result<DispatchReport, StoreError> {
    let started = Instant::now();
    let mut report = DispatchReport::default();
    for message in db.due_sms(now_ms, SMS_BATCH_MAX).await? {
        if started.elapsed() >= DISPATCH_BUDGET {
            break;
        }
        let outcome = sender.send(&message).await;
        let at_ms = now_ms.saturating_add(millis(started.elapsed()));
        match outcome {
            Ok(()) => {
                db.mark_sms_sent(message.id, at_ms).await?;
                report.sent += 1;
            }
            Err(error) => {
                let next_attempt_at_ms = at_ms.saturating_add(millis(backoff(message.attempts)));
                db.mark_sms_failed(message.id, &error.to_string(), next_attempt_at_ms)
                    .await?;
                tracing::warn!(
                    sms_id = message.id,
                    attempts = message.attempts + 1,
                    next_attempt_at_ms,
                    %error,
                    "could not send an SMS; it will be retried"
                );
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// The wait after a failed attempt, given the attempts made before it.
pub fn backoff(attempts_before: i64) -> Duration {
    match u32::try_from(attempts_before.max(0)) {
        Ok(exponent) if exponent < 20 => Duration::from_secs(1 << exponent).min(BACKOFF_MAX),
        _ => BACKOFF_MAX,
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_up_to_ten_minutes() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(5), Duration::from_secs(32));
        assert_eq!(backoff(9), Duration::from_secs(512));
        assert_eq!(backoff(10), BACKOFF_MAX);
        assert_eq!(backoff(i64::MAX), BACKOFF_MAX);
        assert_eq!(backoff(-3), Duration::from_secs(1));
    }

    #[test]
    fn fields_escape_separators_and_backslashes() {
        assert_eq!(escape_field("a\tb\r\nc\\d"), "a\\tb\\r\\nc\\\\d");
        assert_eq!(escape_field("Su código es 123456"), "Su código es 123456");
    }

    /// The backoff, tested with explicit times (the end-to-end tests cannot wait minutes): a
    /// file sender whose folder is missing fails until the folder appears.
    #[tokio::test]
    async fn failures_wait_one_two_four_seconds_then_the_message_is_sent_once() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let db = ceiba_store::testing::fresh_sqlite(dir.path())
            .await
            .expect("SQLite");
        let phone = ceiba_identity::PhoneNumber::parse("+5351234567").expect("phone");
        db.queue_sms(&phone, "Su código es 123456", 0)
            .await
            .expect("queued");
        let folder = dir.path().join("aún-no");
        let sender = SmsSender::File(FileSender::new(folder.join(SENT_LOG_FILE)));
        let failed = DispatchReport { sent: 0, failed: 1 };
        let idle = DispatchReport::default();

        // Each failure at `t` is retried from `t + 2^attempts s` (plus the few ms the attempt
        // took, well under the half second of slack used here), not before.
        let mut t = 0;
        for (attempt, wait) in [1_000, 2_000, 4_000].into_iter().enumerate() {
            let report = dispatch_due(&db, &sender, t).await.expect("dispatch");
            assert_eq!(report, failed, "attempt {attempt} at {t}");
            let rows = db.due_sms(i64::MAX, 10).await.expect("outbox");
            assert_eq!(rows[0].attempts, i64::try_from(attempt + 1).expect("small"));
            let early = dispatch_due(&db, &sender, t + wait - 1)
                .await
                .expect("dispatch");
            assert_eq!(early, idle, "retried before {wait} ms");
            t += wait + 500;
        }

        std::fs::create_dir(&folder).expect("folder");
        let report = dispatch_due(&db, &sender, t).await.expect("dispatch");
        assert_eq!(report, DispatchReport { sent: 1, failed: 0 });
        assert!(db.due_sms(i64::MAX, 10).await.expect("outbox").is_empty());
        let again = dispatch_due(&db, &sender, i64::MAX / 2)
            .await
            .expect("dispatch");
        assert_eq!(again, idle);
        let text = std::fs::read_to_string(folder.join(SENT_LOG_FILE)).expect("sent log");
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            text.ends_with("\t+5351234567\tSu código es 123456\n"),
            "{text}"
        );
        db.close().await;
    }

    fn row(body: &str) -> SmsRow {
        SmsRow {
            id: 7,
            phone: "+5351234567".to_owned(),
            body: body.to_owned(),
            attempts: 0,
        }
    }

    fn gateway(url: &str) -> GatewaySender {
        GatewaySender::new(GatewayConfig {
            url: url::Url::parse(url).expect("URL"),
            username: Some("ceiba".to_owned()),
            password: Some(Secret::new("clave&=".to_owned())),
        })
    }

    #[test]
    fn the_gateway_request_keeps_the_configured_query_and_encodes_every_value() {
        let sender = gateway("http://kannel.local:13013/cgi-bin/sendsms?smsc=movil");
        let url = sender.request_url(&row("plain text"));
        assert_eq!(
            url.as_str(),
            "http://kannel.local:13013/cgi-bin/sendsms?smsc=movil&username=ceiba\
             &password=clave%26%3D&to=%2B5351234567&text=plain+text&charset=UTF-8"
        );
        assert!(
            sender
                .request_url(&row("código"))
                .as_str()
                .ends_with("&coding=2")
        );
        // Logs name the gateway by host and port only: the address carries the password.
        assert_eq!(
            SmsSender::Gateway(Box::new(sender)).describe(),
            "pasarela http://kannel.local:13013"
        );
    }

    #[tokio::test]
    async fn an_unreachable_gateway_is_a_failure_naming_it() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        let address = listener.local_addr().expect("address");
        drop(listener);
        let sender = gateway(&format!("http://{address}/cgi-bin/sendsms"));
        let error = sender.send(&row("hola")).await.expect_err("nobody listens");
        let reason = error.to_string();
        assert!(
            reason.starts_with(&format!("no se pudo hablar con la pasarela SMS {address}")),
            "{reason}"
        );
        assert!(!reason.contains("clave"), "{reason}");
    }

    #[test]
    fn gsm_alphabet_covers_plain_text_but_not_spanish_acute_vowels() {
        assert!(fits_gsm_alphabet("Su codigo de Ceiba es 123456 [ok] ¿Ñ?"));
        assert!(!fits_gsm_alphabet("Su código de Ceiba es 123456"));
        assert!(!fits_gsm_alphabet("emoji 🙂"));
    }
}
