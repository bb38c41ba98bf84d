//! Layered configuration: defaults, then an optional TOML file, then `CEIBA_*` environment
//! variables (nested keys with `__`: `CEIBA_LIMITS__BODY_BYTES_MAX`), then command-line flags.
//! Values are parsed into types here, once; a bad one is refused at start with a sentence that
//! names it and where it came from.
//!
//! Text keys that may hold anything a person types (the SMS gateway's address, user and
//! password, the USSD gateway's key) and Pagos' amounts are also read from the environment
//! verbatim, after figment's `Env`: that one reads `007` as the number 7 and `80.000` (eighty
//! thousand, written the Spanish way) as the number 80, and unescapes quoted text, which would
//! silently change a password or a limit.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use ceiba_store::{DatabaseUrl, PoolSettings};
use ceiba_web::ServerLimits;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Serialize};

use crate::cli::{ServeArgs, StorageArgs};

pub mod payments;
pub mod salud;
pub use payments::PaymentsConfig;
pub use salud::SaludConfig;

/// The configuration as written (file, environment), before it is parsed into types.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub listen: String,
    pub data_dir: PathBuf,
    /// Empty or absent: SQLite in the data folder.
    pub database_url: Option<String>,
    /// `text` or `json`.
    pub log_format: String,
    /// A `tracing` filter such as `info` or `ceiba_web=debug,info`.
    pub log_level: String,
    /// PEM certificate chain; with `tls_key_file`, Ceiba serves HTTPS.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// Key that seals secrets the server must read back (TOTP); empty: `secretos.key` in the
    /// data folder. Every process sharing one PostgreSQL needs the same file.
    pub secrets_key_file: Option<PathBuf>,
    /// People reach Ceiba over HTTPS through a proxy that terminates TLS: cookies get `Secure`.
    pub behind_https_proxy: bool,
    pub limits: RawLimits,
    pub database: RawDatabase,
    pub audit: RawAudit,
    pub sms: RawSms,
    pub ussd: RawUssd,
    pub payments: payments::RawPayments,
    pub salud: salud::RawSalud,
}

/// The USSD channel (`POST /ussd`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUssd {
    /// The secret the USSD gateway sends in `X-Ceiba-Ussd-Key` (at least 16 characters); empty:
    /// the channel is closed. Never printed.
    pub gateway_key: Option<String>,
    /// Seconds without input after which a session is over.
    pub session_idle_s: u64,
}

impl std::fmt::Debug for RawUssd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawUssd")
            .field("gateway_key", &self.gateway_key.as_ref().map(|_| HIDDEN))
            .field("session_idle_s", &self.session_idle_s)
            .finish()
    }
}

/// How SMS leave (the outbox dispatcher's sender).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSms {
    /// `file`: each message appended to `sms-enviados.log` in the data folder (development and
    /// tests); `http`: a Kannel-style `sendsms` gateway at `gateway_url`.
    pub sender: String,
    /// `http://host:port/cgi-bin/sendsms`; required when `sender = "http"`.
    pub gateway_url: Option<String>,
    pub gateway_username: Option<String>,
    /// Never printed.
    pub gateway_password: Option<String>,
}

impl std::fmt::Debug for RawSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawSms")
            .field("sender", &self.sender)
            .field("gateway_url", &self.gateway_url)
            .field("gateway_username", &self.gateway_username)
            .field(
                "gateway_password",
                &self.gateway_password.as_ref().map(|_| HIDDEN),
            )
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAudit {
    /// Ed25519 seed that signs checkpoints; empty: `audit-signing.key` in the data folder.
    /// Every process sharing one PostgreSQL must be given the same file.
    pub signing_key_file: Option<PathBuf>,
    pub checkpoint_interval_s: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub body_bytes_max: u64,
    pub header_bytes_max: u64,
    pub request_timeout_ms: u64,
    pub requests_per_minute_per_address: u64,
    /// Sign-in, registration, password and second-factor changes.
    pub sensitive_requests_per_minute_per_address: u64,
    /// Proxies (IP addresses) whose `X-Forwarded-For` names the client; empty: none.
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    pub connections_max: u32,
    pub connect_timeout_ms: u64,
}

impl Default for RawConfig {
    fn default() -> Self {
        let limits = ServerLimits::default();
        let rate = ceiba_web::ratelimit::RateLimitSettings::default();
        let pool = PoolSettings::default();
        RawConfig {
            listen: "127.0.0.1:8080".to_owned(),
            data_dir: PathBuf::from("./ceiba-data"),
            database_url: None,
            log_format: "text".to_owned(),
            log_level: "info".to_owned(),
            tls_cert_file: None,
            tls_key_file: None,
            secrets_key_file: None,
            behind_https_proxy: false,
            limits: RawLimits {
                body_bytes_max: limits.body_bytes_max as u64,
                header_bytes_max: limits.header_bytes_max as u64,
                request_timeout_ms: duration_ms(limits.request_timeout),
                requests_per_minute_per_address: u64::from(rate.requests_per_minute),
                sensitive_requests_per_minute_per_address: u64::from(
                    rate.sensitive_requests_per_minute,
                ),
                trusted_proxies: Vec::new(),
            },
            database: RawDatabase {
                connections_max: pool.connections_max,
                connect_timeout_ms: duration_ms(pool.connect_timeout),
            },
            audit: RawAudit {
                signing_key_file: None,
                checkpoint_interval_s: 60,
            },
            sms: RawSms {
                sender: "file".to_owned(),
                gateway_url: None,
                gateway_username: None,
                gateway_password: None,
            },
            ussd: RawUssd {
                gateway_key: None,
                session_idle_s: 180,
            },
            payments: payments::RawPayments::default(),
            salud: salud::RawSalud::default(),
        }
    }
}

fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the data lives.
#[derive(Debug, Clone)]
pub enum Storage {
    /// SQLite inside the data folder.
    Embedded { data_dir: PathBuf },
    /// A PostgreSQL shared by several processes.
    Postgres { url: DatabaseUrl, data_dir: PathBuf },
}

/// The configuration, parsed: every value is known good.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub storage: Storage,
    pub log_format: LogFormat,
    pub log_level: String,
    pub limits: ServerLimits,
    pub rate_limits: ceiba_web::ratelimit::RateLimitSettings,
    /// Certificate and key files, when serving HTTPS.
    pub tls: Option<TlsFiles>,
    pub behind_https_proxy: bool,
    pub pool: PoolSettings,
    pub audit_signing_key_file: PathBuf,
    /// The key that seals TOTP secrets in the database.
    pub secrets_key_file: PathBuf,
    pub audit_checkpoint_interval: Duration,
    pub sms: SmsConfig,
    pub ussd: UssdConfig,
    /// Pagos: limits, caps, fees, the hold of a payment to a biller.
    pub payments: PaymentsConfig,
    /// Salud: the thresholds of outbreak detection.
    pub salud: SaludConfig,
}

/// The `[ussd]` section, parsed.
#[derive(Debug, Clone)]
pub struct UssdConfig {
    /// The gateway's shared secret; `None`: the channel is closed.
    pub gateway_key: Option<Secret>,
    pub session_idle: Duration,
}

/// Which sender the SMS outbox dispatcher uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsSenderKind {
    /// Appends to `sms-enviados.log` in the data folder.
    File,
    /// A Kannel `sendsms` gateway over HTTP.
    Http,
}

/// The `[sms]` section, parsed.
#[derive(Debug, Clone)]
pub struct SmsConfig {
    pub sender: SmsSenderKind,
    /// Present whenever `sms.gateway_url` is set, and always when `sender` is `Http`.
    pub gateway: Option<GatewayConfig>,
}

/// Where and as whom to reach the SMS gateway.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// An `http://` address without user or password in it (checked).
    pub url: url::Url,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

/// Text that must never be printed: `Debug` shows `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: String) -> Secret {
        Secret(text)
    }

    /// The text itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(HIDDEN)
    }
}

/// How a secret that is set is shown.
const HIDDEN: &str = "***";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// The file that holds the key sealing TOTP secrets when the configuration names none.
pub const SECRETS_KEY_FILE: &str = "secretos.key";

/// The file that holds the checkpoint signing key when the configuration names none.
pub const AUDIT_KEY_FILE: &str = "audit-signing.key";
const CHECKPOINT_INTERVAL_S_CAP: u64 = 24 * 60 * 60;

/// Caps on what the configuration may ask for: beyond these a value is a mistake.
const BODY_BYTES_CAP: u64 = 64 * 1024 * 1024;
const HEADER_BYTES_CAP: u64 = 1024 * 1024;
const REQUEST_TIMEOUT_MS_CAP: u64 = 10 * 60 * 1000;
const CONNECTIONS_CAP: u32 = 1000;
const REQUESTS_PER_MINUTE_CAP: u64 = 1_000_000;
/// Longest idle time of a USSD session: gateways and networks end theirs well before.
const USSD_SESSION_IDLE_S_CAP: u64 = 60 * 60;

/// Keys read verbatim from `CEIBA_<SECTION>__<KEY>` (see the module documentation).
const VERBATIM_ENV_KEYS: &[(&str, &str)] = &[
    ("sms", "gateway_url"),
    ("sms", "gateway_username"),
    ("sms", "gateway_password"),
    ("ussd", "gateway_key"),
];

/// Every key read verbatim, as its path: [`VERBATIM_ENV_KEYS`] and Pagos' amounts.
fn verbatim_env_paths() -> Vec<Vec<String>> {
    VERBATIM_ENV_KEYS
        .iter()
        .map(|(section, key)| vec![(*section).to_owned(), (*key).to_owned()])
        .chain(payments::decimal_paths())
        .collect()
}

/// The environment variables of [`verbatim_env_paths`], as written, as a figment layer. Its
/// name says "environment" so a refusal names the variable, as for every other one.
#[derive(Debug)]
struct VerbatimEnv;

impl Provider for VerbatimEnv {
    fn metadata(&self) -> Metadata {
        Metadata::named("`CEIBA_` environment variable(s), verbatim")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut root = Dict::new();
        for path in verbatim_env_paths() {
            let name = format!("CEIBA_{}", path.join("__")).to_uppercase();
            if let Ok(value) = std::env::var(&name) {
                insert_at(&mut root, &path, Value::from(value));
            }
        }
        Ok(Profile::Default.collect(root))
    }
}

/// Puts `value` at `path` in nested dictionaries, making the missing ones.
fn insert_at(dict: &mut Dict, path: &[String], value: Value) {
    match path {
        [] => {}
        [key] => {
            dict.insert(key.clone(), value);
        }
        [section, rest @ ..] => {
            let entry = dict
                .entry(section.clone())
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, inner) = entry {
                insert_at(inner, rest, value);
            }
        }
    }
}

/// Whether a `CEIBA_…` variable (prefix stripped) is a configuration key: `CEIBA_CONFIG` names
/// the file and `CEIBA_TEST_…` belong to the test suite.
fn is_configuration_variable(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key != "config" && !key.starts_with("test_")
}

/// The layers, without flags (what `ceiba migrate` and `serve` share).
fn layers(config_file: Option<&Path>) -> anyhow::Result<Figment> {
    let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
    if let Some(path) = config_file {
        if !path.is_file() {
            bail!(
                "el archivo de configuración «{}» no existe o no es un archivo",
                path.display()
            );
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    Ok(figment
        .merge(
            Env::prefixed("CEIBA_")
                .filter(|key| is_configuration_variable(key.as_str()))
                .split("__"),
        )
        .merge(VerbatimEnv))
}

/// Loads the configuration for `serve` (and `config`).
pub fn load(config_file: Option<&Path>, flags: &ServeArgs) -> anyhow::Result<Config> {
    let mut figment = layers(config_file)?;
    let mut flag_keys = Vec::new();
    if let Some(listen) = &flags.listen {
        figment = figment.merge(Serialized::default("listen", listen));
        flag_keys.push("listen");
    }
    if let Some(cert) = &flags.tls_cert {
        figment = figment.merge(Serialized::default("tls_cert_file", cert));
        flag_keys.push("tls_cert_file");
    }
    if let Some(key) = &flags.tls_key {
        figment = figment.merge(Serialized::default("tls_key_file", key));
        flag_keys.push("tls_key_file");
    }
    figment = merge_storage_flags(figment, &flags.storage, &mut flag_keys);
    parse(&figment, &flag_keys)
}

/// Loads the configuration for `migrate`.
pub fn load_storage(config_file: Option<&Path>, flags: &StorageArgs) -> anyhow::Result<Config> {
    let mut flag_keys = Vec::new();
    let figment = merge_storage_flags(layers(config_file)?, flags, &mut flag_keys);
    parse(&figment, &flag_keys)
}

fn merge_storage_flags(
    mut figment: Figment,
    flags: &StorageArgs,
    flag_keys: &mut Vec<&'static str>,
) -> Figment {
    if let Some(data_dir) = &flags.data_dir {
        figment = figment.merge(Serialized::default("data_dir", data_dir));
        flag_keys.push("data_dir");
    }
    if let Some(url) = &flags.database_url {
        figment = figment.merge(Serialized::default("database_url", url));
        flag_keys.push("database_url");
    }
    figment
}

/// Names where a key's value came from, for error messages.
fn source_of(figment: &Figment, flag_keys: &[&str], key: &str) -> String {
    if flag_keys.contains(&key) {
        return format!("opción --{}", key.replace('_', "-"));
    }
    match figment.find_metadata(key) {
        Some(metadata) if metadata.name.contains("environment") => {
            format!(
                "variable de entorno CEIBA_{}",
                key.replace('.', "__").to_uppercase()
            )
        }
        Some(metadata) if metadata.name.contains("TOML") => match &metadata.source {
            Some(source) => format!("archivo {source}"),
            None => "archivo de configuración".to_owned(),
        },
        Some(metadata) => metadata.name.to_string(),
        None => "valor por defecto".to_owned(),
    }
}

fn parse(figment: &Figment, flag_keys: &[&str]) -> anyhow::Result<Config> {
    let raw: RawConfig = figment.extract().map_err(|error| {
        let sentences: Vec<String> = error
            .into_iter()
            .map(|error| {
                let key = error.path.join(".");
                let source = source_of(figment, flag_keys, &key);
                match &error.kind {
                    figment::error::Kind::UnknownField(field, _) => format!(
                        "la clave «{}» ({source}) no existe; las claves son listen, \
                         data_dir, database_url, log_format, log_level, tls_cert_file, \
                         tls_key_file, behind_https_proxy, secrets_key_file, limits.*, database.*, \
                         audit.*, sms.* (sms.sender, sms.gateway_url, sms.gateway_username, \
                         sms.gateway_password), ussd.* (ussd.gateway_key, ussd.session_idle_s) y \
                         payments.* (payments.hold_timeout_s, payments.limits.cup_daily … \
                         mlc_monthly, payments.caps.cup|usd|mlc, \
                         payments.fees.OPERACIÓN.MONEDA.fixed|percent|min|max con OPERACIÓN \
                         person_to_person, bill_payment, tax_payment o top_up y MONEDA cup, usd \
                         o mlc) y salud.alerts.* (ears_threshold, c3_threshold, sd_floor, \
                         min_cases, incidence_14d_per_100k, notify_days)",
                        if key.is_empty() { field } else { &key }
                    ),
                    kind if key.is_empty() => format!("{kind} ({source})"),
                    kind => format!("el valor de «{key}» ({source}) no es válido: {kind}"),
                }
            })
            .collect();
        anyhow!("la configuración no es válida: {}", sentences.join("; "))
    })?;
    let refuse = |key: &str, reason: String| {
        anyhow!(
            "la configuración no es válida: el valor de «{key}» ({}) {reason}",
            source_of(figment, flag_keys, key)
        )
    };

    let listen: SocketAddr = raw.listen.parse().map_err(|_| {
        refuse(
            "listen",
            format!(
                "no es una dirección con puerto como 127.0.0.1:8080: «{}»",
                raw.listen
            ),
        )
    })?;
    let url = match raw.database_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(
            DatabaseUrl::parse(text)
                .map_err(|error| refuse("database_url", format!("no sirve: {error}")))?,
        ),
    };
    if raw.data_dir.as_os_str().is_empty() {
        return Err(refuse("data_dir", "está vacío".to_owned()));
    }
    let storage = match url {
        Some(url) if url.engine() == ceiba_store::Engine::Postgres => Storage::Postgres {
            url,
            data_dir: raw.data_dir.clone(),
        },
        Some(_) => {
            return Err(refuse(
                "database_url",
                "nombra SQLite; para SQLite use --data-dir, la base de datos va dentro".to_owned(),
            ));
        }
        None => Storage::Embedded {
            data_dir: raw.data_dir.clone(),
        },
    };
    let log_format = match raw.log_format.to_ascii_lowercase().as_str() {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => {
            return Err(refuse(
                "log_format",
                format!("debe ser «text» o «json», no «{other}»"),
            ));
        }
    };
    tracing_subscriber::EnvFilter::try_new(&raw.log_level)
        .map_err(|error| refuse("log_level", format!("no es un filtro válido: {error}")))?;

    let in_range = |key: &str, value: u64, cap: u64| -> anyhow::Result<u64> {
        if value == 0 || value > cap {
            Err(refuse(
                key,
                format!("debe estar entre 1 y {cap}, no {value}"),
            ))
        } else {
            Ok(value)
        }
    };
    let limits = ServerLimits {
        body_bytes_max: usize::try_from(in_range(
            "limits.body_bytes_max",
            raw.limits.body_bytes_max,
            BODY_BYTES_CAP,
        )?)
        .context("body_bytes_max")?,
        header_bytes_max: usize::try_from(in_range(
            "limits.header_bytes_max",
            raw.limits.header_bytes_max,
            HEADER_BYTES_CAP,
        )?)
        .context("header_bytes_max")?,
        request_timeout: Duration::from_millis(in_range(
            "limits.request_timeout_ms",
            raw.limits.request_timeout_ms,
            REQUEST_TIMEOUT_MS_CAP,
        )?),
    };
    let tls = match (raw.tls_cert_file.clone(), raw.tls_key_file.clone()) {
        (None, None) => None,
        (Some(cert_file), Some(key_file)) => Some(TlsFiles {
            cert_file,
            key_file,
        }),
        (Some(_), None) => {
            return Err(refuse(
                "tls_cert_file",
                "llegó sin tls_key_file: hacen falta los dos para servir HTTPS".to_owned(),
            ));
        }
        (None, Some(_)) => {
            return Err(refuse(
                "tls_key_file",
                "llegó sin tls_cert_file: hacen falta los dos para servir HTTPS".to_owned(),
            ));
        }
    };
    let mut trusted_proxies = Vec::new();
    for text in &raw.limits.trusted_proxies {
        let address = text.trim().parse().map_err(|_| {
            refuse(
                "limits.trusted_proxies",
                format!("contiene «{text}», que no es una dirección IP"),
            )
        })?;
        trusted_proxies.push(address);
    }
    let per_minute = |key: &str, value: u64| -> anyhow::Result<u32> {
        Ok(u32::try_from(in_range(key, value, REQUESTS_PER_MINUTE_CAP)?).unwrap_or(u32::MAX))
    };
    let rate_limits = ceiba_web::ratelimit::RateLimitSettings {
        requests_per_minute: per_minute(
            "limits.requests_per_minute_per_address",
            raw.limits.requests_per_minute_per_address,
        )?,
        sensitive_requests_per_minute: per_minute(
            "limits.sensitive_requests_per_minute_per_address",
            raw.limits.sensitive_requests_per_minute_per_address,
        )?,
        trusted_proxies,
    };
    let pool = PoolSettings {
        connections_max: u32::try_from(in_range(
            "database.connections_max",
            u64::from(raw.database.connections_max),
            u64::from(CONNECTIONS_CAP),
        )?)
        .context("connections_max")?,
        connect_timeout: Duration::from_millis(in_range(
            "database.connect_timeout_ms",
            raw.database.connect_timeout_ms,
            REQUEST_TIMEOUT_MS_CAP,
        )?),
    };
    let secrets_key_file = match raw.secrets_key_file.clone() {
        Some(path) if !path.as_os_str().is_empty() => path,
        _ => raw.data_dir.join(SECRETS_KEY_FILE),
    };
    let audit_signing_key_file = match raw.audit.signing_key_file {
        Some(path) if !path.as_os_str().is_empty() => path,
        _ => raw.data_dir.join(AUDIT_KEY_FILE),
    };
    let audit_checkpoint_interval = Duration::from_secs(in_range(
        "audit.checkpoint_interval_s",
        raw.audit.checkpoint_interval_s,
        CHECKPOINT_INTERVAL_S_CAP,
    )?);
    let source = |key: &str| source_of(figment, flag_keys, key);
    let sms = parse_sms(raw.sms, &refuse, &source)?;
    let gateway_key = match raw.ussd.gateway_key.filter(|key| !key.trim().is_empty()) {
        None => None,
        // Not echoed: it is a secret.
        Some(key) if key.chars().count() < ceiba_web::ussd::GATEWAY_KEY_CHARS_MIN => {
            return Err(refuse(
                "ussd.gateway_key",
                format!(
                    "es demasiado corto: un secreto compartido con la pasarela tiene al menos {} \
                     caracteres",
                    ceiba_web::ussd::GATEWAY_KEY_CHARS_MIN
                ),
            ));
        }
        Some(key) => Some(Secret::new(key)),
    };
    let ussd = UssdConfig {
        gateway_key,
        session_idle: Duration::from_secs(in_range(
            "ussd.session_idle_s",
            raw.ussd.session_idle_s,
            USSD_SESSION_IDLE_S_CAP,
        )?),
    };
    let payments = payments::parse(&raw.payments, &refuse)?;
    let salud = salud::parse(&raw.salud, &refuse)?;
    Ok(Config {
        listen,
        storage,
        log_format,
        log_level: raw.log_level,
        limits,
        rate_limits,
        tls,
        behind_https_proxy: raw.behind_https_proxy,
        pool,
        audit_signing_key_file,
        secrets_key_file,
        audit_checkpoint_interval,
        sms,
        ussd,
        payments,
        salud,
    })
}

/// The `[sms]` section. The gateway's keys are checked whenever they are set, even with the
/// file sender, so a bad address cannot lie in wait for the day someone switches.
fn parse_sms(
    raw: RawSms,
    refuse: &dyn Fn(&str, String) -> anyhow::Error,
    source: &dyn Fn(&str) -> String,
) -> anyhow::Result<SmsConfig> {
    let sender = match raw.sender.trim().to_ascii_lowercase().as_str() {
        "file" => SmsSenderKind::File,
        "http" => SmsSenderKind::Http,
        other => {
            return Err(refuse(
                "sms.sender",
                format!("debe ser «file» o «http», no «{other}»"),
            ));
        }
    };
    let non_empty = |value: Option<String>| value.filter(|text| !text.trim().is_empty());
    let gateway = match non_empty(raw.gateway_url) {
        None => None,
        Some(text) => Some(GatewayConfig {
            url: parse_gateway_url(text.trim())
                .map_err(|reason| refuse("sms.gateway_url", reason))?,
            username: non_empty(raw.gateway_username),
            password: non_empty(raw.gateway_password).map(Secret::new),
        }),
    };
    if sender == SmsSenderKind::Http && gateway.is_none() {
        return Err(refuse(
            "sms.gateway_url",
            format!(
                "está vacío, y sms.sender = «http» ({}) lo necesita: la dirección de la \
                 pasarela SMS, como http://127.0.0.1:13013/cgi-bin/sendsms",
                source("sms.sender")
            ),
        ));
    }
    Ok(SmsConfig { sender, gateway })
}

/// An `http://` address for the gateway, or why it is not one (a sentence ending that follows
/// "el valor de «sms.gateway_url» (…)").
fn parse_gateway_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text)
        .map_err(|error| format!("no es una dirección http:// válida ({error})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        // Not echoed: it holds a credential.
        return Err(
            "lleva usuario o contraseña dentro de la dirección; póngalos en \
                    sms.gateway_username y sms.gateway_password, que nunca se muestran"
                .to_owned(),
        );
    }
    match url.scheme() {
        "http" => Ok(url),
        "https" => Err(format!(
            "usa HTTPS, que Ceiba aún no admite (el programa no incluye TLS): use una dirección \
             http:// hacia una pasarela en una red de confianza, o un proxy TLS local; «{url}»"
        )),
        scheme => Err(format!(
            "debe empezar por http://, no por «{scheme}:»; «{url}»"
        )),
    }
}

impl Config {
    /// The effective configuration as TOML, the database and SMS gateway passwords and the USSD
    /// gateway's key hidden.
    pub fn to_toml(&self) -> String {
        format!(
            "{}\n{}\n{}",
            self.to_toml_general(),
            self.payments.to_toml(),
            self.salud.to_toml()
        )
    }

    fn to_toml_general(&self) -> String {
        let (data_dir, database_url) = match &self.storage {
            Storage::Embedded { data_dir } => (data_dir, String::new()),
            Storage::Postgres { url, data_dir } => (data_dir, url.to_string()),
        };
        let quote = |text: &str| format!("{:?}", text);
        let gateway = self.sms.gateway.as_ref();
        format!(
            "listen = {}\ndata_dir = {}\ndatabase_url = {}\nlog_format = {}\nlog_level = {}\n\
             tls_cert_file = {}\ntls_key_file = {}\nbehind_https_proxy = {}\nsecrets_key_file = {}\n\n\
             [limits]\nbody_bytes_max = {}\nheader_bytes_max = {}\nrequest_timeout_ms = {}\n\
             requests_per_minute_per_address = {}\nsensitive_requests_per_minute_per_address = {}\n\
             trusted_proxies = [{}]\n\n\
             [database]\nconnections_max = {}\nconnect_timeout_ms = {}\n\n\
             [audit]\nsigning_key_file = {}\ncheckpoint_interval_s = {}\n\n\
             [sms]\nsender = {}\ngateway_url = {}\ngateway_username = {}\n\
             gateway_password = {}\n\n\
             [ussd]\ngateway_key = {}\nsession_idle_s = {}\n",
            quote(&self.listen.to_string()),
            quote(&data_dir.display().to_string()),
            quote(&database_url),
            quote(match self.log_format {
                LogFormat::Text => "text",
                LogFormat::Json => "json",
            }),
            quote(&self.log_level),
            quote(
                &self
                    .tls
                    .as_ref()
                    .map_or(String::new(), |tls| tls.cert_file.display().to_string())
            ),
            quote(
                &self
                    .tls
                    .as_ref()
                    .map_or(String::new(), |tls| tls.key_file.display().to_string())
            ),
            self.behind_https_proxy,
            quote(&self.secrets_key_file.display().to_string()),
            self.limits.body_bytes_max,
            self.limits.header_bytes_max,
            duration_ms(self.limits.request_timeout),
            self.rate_limits.requests_per_minute,
            self.rate_limits.sensitive_requests_per_minute,
            self.rate_limits
                .trusted_proxies
                .iter()
                .map(|address| quote(&address.to_string()))
                .collect::<Vec<_>>()
                .join(", "),
            self.pool.connections_max,
            duration_ms(self.pool.connect_timeout),
            quote(&self.audit_signing_key_file.display().to_string()),
            self.audit_checkpoint_interval.as_secs(),
            quote(match self.sms.sender {
                SmsSenderKind::File => "file",
                SmsSenderKind::Http => "http",
            }),
            quote(gateway.map_or("", |gateway| gateway.url.as_str())),
            quote(
                gateway
                    .and_then(|gateway| gateway.username.as_deref())
                    .unwrap_or("")
            ),
            quote(
                if gateway.is_some_and(|gateway| gateway.password.is_some()) {
                    HIDDEN
                } else {
                    ""
                }
            ),
            quote(if self.ussd.gateway_key.is_some() {
                HIDDEN
            } else {
                ""
            }),
            self.ussd.session_idle.as_secs(),
        )
    }
}
