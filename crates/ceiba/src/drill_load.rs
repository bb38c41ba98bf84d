//! The load that `ceiba bench soak` and the crash drills drive over HTTP: a seeded mix of what
//! people do (transfers, bills, top-ups, merchant QR payments, bulk payouts, encyclopedia reads
//! and edits, Salud's dashboard and line-list imports), with every money operation sent under
//! an `Idempotency-Key` and recorded with what it was answered, so that a checker can later
//! prove each acknowledged one is present exactly once, the balances add up to their effects,
//! and every acknowledged case is stored as sent.
//!
//! `tests/crash_drill.rs` includes this file with `#[path]`, as `ledger_crash.rs` does
//! `load_plan.rs`, so it uses only crates the binary and its tests share.
#![allow(dead_code)] // the binary and each drill use different parts

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use ceiba_identity::{
    Argon2Config, CredentialHasher, Password, PhcString, PhoneNumber, Role, SessionToken,
};
use ceiba_store::{Db, NewUser, SessionRow, UserStatus};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use rand::{Rng, SeedableRng};

/// What each person receives by a cash-in before the load, in centavos: 20.000 CUP, far from
/// the wallet cap and the Central Bank's daily limit for the amounts below.
pub const FUNDING_MINOR: u64 = 2_000_000;
/// The biller whose bills the load issues and pays.
pub const BILLER: &str = "une";
/// How long one request may take before the load gives up on it (the server's own timeout is
/// 30 s; a request to a killed server fails at once).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(35);
/// Pages every reader chooses from.
pub const READ_PAGES: usize = 4;
/// Kept error messages (the counts are complete).
const ERROR_SAMPLES_MAX: usize = 20;
/// Pause after a failed request, so a dead server is not hammered while it restarts.
const BACK_OFF: Duration = Duration::from_millis(25);

/// One kind of request in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Transfer,
    Bill,
    TopUp,
    Qr,
    PageRead,
    PageEdit,
    Dashboard,
    /// A bulk payout file uploaded and ordered paid (only where the server pays them: `ceiba
    /// serve`, not the soak's in-process server).
    Payout,
    /// A line list of a few cases sent to Salud by an epidemiologist (only where the geography
    /// is loaded).
    CaseImport,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Transfer,
        Kind::Bill,
        Kind::TopUp,
        Kind::Qr,
        Kind::PageRead,
        Kind::PageEdit,
        Kind::Dashboard,
        Kind::Payout,
        Kind::CaseImport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Transfer => "transfer",
            Kind::Bill => "bill",
            Kind::TopUp => "top_up",
            Kind::Qr => "qr",
            Kind::PageRead => "page_read",
            Kind::PageEdit => "page_edit",
            Kind::Dashboard => "dashboard",
            Kind::Payout => "payout",
            Kind::CaseImport => "case_import",
        }
    }

    /// Share of the mix, out of the sum of all: mostly transfers and reads, as in a day's use.
    fn weight(self) -> u32 {
        match self {
            Kind::Transfer => 30,
            Kind::Bill => 8,
            Kind::TopUp => 8,
            Kind::Qr => 12,
            Kind::PageRead => 20,
            Kind::PageEdit => 8,
            Kind::Dashboard => 14,
            Kind::Payout => 2,
            Kind::CaseImport => 3,
        }
    }
}

/// A person of the load: their account id, phone (E.164) and bearer token.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub phone: String,
    pub token: String,
}

/// Who acts in the load, made in storage before the server starts taking load.
#[derive(Debug, Clone)]
pub struct Cast {
    /// A tag of this run, in keys, references and titles, so runs never collide.
    pub run: String,
    pub people: Vec<Person>,
    /// Bank operator: the cash-ins that fund people.
    pub operator: String,
    /// Operates [`BILLER`]: issues the bills people pay.
    pub biller: String,
    /// Approves the merchant.
    pub admin: String,
    /// Owns the merchant.
    pub owner: String,
    /// Sends the line lists of [`Kind::CaseImport`] and reads the cases back.
    pub epidemiologist: String,
    /// The merchant's static QR code, once [`prepare_http`] made it.
    pub qr_payload: String,
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis()),
    )
    .unwrap_or(i64::MAX)
}

/// Creates an active person with an open session straight in storage (sign-in and Argon2 are
/// not what a load measures); the session has proved a second factor, which operators' roles
/// demand. The bearer token.
pub async fn person_with_session(
    db: &Db,
    id: &str,
    phone: &PhoneNumber,
    display_name: &str,
    hash: &PhcString,
    roles: &[Role],
) -> anyhow::Result<String> {
    db.register_user(
        &NewUser {
            id,
            phone,
            display_name,
            password_hash: hash,
            status: UserStatus::Active,
            roles,
        },
        None,
        None,
        now_ms(),
    )
    .await?;
    let token = SessionToken::generate(&mut rand::rng());
    let now_s = u64::try_from(now_ms() / 1_000).unwrap_or(0);
    db.create_session(&SessionRow {
        id: uuid::Uuid::new_v4().to_string(),
        token_hash: token.hash(),
        user_id: id.to_owned(),
        created_at_s: now_s,
        last_seen_at_s: now_s,
        revoked_at_s: None,
        client: "api".to_owned(),
        second_factor_at_s: Some(now_s),
    })
    .await?;
    Ok(token.expose().to_owned())
}

/// Creates the people (citizens who may also edit pages without a rate limit, as reviewers),
/// the operators and their sessions directly in storage; sign-in and Argon2 are not what the
/// load measures. `people` at least 2.
pub async fn prepare_storage(db: &Db, people: u32) -> anyhow::Result<Cast> {
    anyhow::ensure!(people >= 2, "hacen falta al menos dos personas");
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let hasher = CredentialHasher::new(Argon2Config::INSECURE_FOR_TESTS)?;
    let hash = hasher.hash(
        &Password::parse("una-frase-de-simulacro")?,
        &mut rand::rng(),
    );
    let account = async |n: u32, roles: &[Role]| -> anyhow::Result<Person> {
        let id = format!("simulacro-{run}-{n}");
        let phone = PhoneNumber::parse(&format!("+535{:07}", 2_000_000 + n))?;
        let name = format!("Persona {n} del simulacro");
        let token = person_with_session(db, &id, &phone, &name, &hash, roles).await?;
        Ok(Person {
            id,
            phone: phone.as_e164().to_owned(),
            token,
        })
    };
    let mut cast = Cast {
        run: run.clone(),
        people: Vec::new(),
        operator: account(0, &[Role::BankOperator]).await?.token,
        biller: String::new(),
        admin: account(2, &[Role::Administrator]).await?.token,
        owner: account(3, &[Role::Citizen]).await?.token,
        epidemiologist: account(4, &[Role::Epidemiologist]).await?.token,
        qr_payload: String::new(),
    };
    let biller = account(1, &[Role::Biller]).await?;
    db.set_biller_user(BILLER, Some(&biller.id)).await?;
    cast.biller = biller.token;
    for n in 0..people {
        cast.people
            .push(account(10 + n, &[Role::Citizen, Role::Reviewer]).await?);
    }
    Ok(cast)
}

pub type Client = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

pub fn client() -> Client {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_max_idle_per_host(256)
        .build_http()
}

/// An answer: status and body (JSON when it is JSON, else `Null`).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub json: serde_json::Value,
}

impl Answer {
    /// The problem document's `code`, if any.
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }
}

/// One request: `(method, path, token, idempotency key, content type, body)`.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub token: Option<String>,
    pub key: Option<String>,
    pub content_type: &'static str,
    pub body: String,
}

impl Request {
    pub fn json(
        method: &'static str,
        path: String,
        token: &str,
        body: &serde_json::Value,
    ) -> Request {
        Request {
            method,
            path,
            token: Some(token.to_owned()),
            key: None,
            content_type: "application/json",
            body: body.to_string(),
        }
    }

    pub fn get(path: String) -> Request {
        Request {
            method: "GET",
            path,
            token: None,
            key: None,
            content_type: "application/json",
            body: String::new(),
        }
    }
}

/// Sends one request to `base` and reads the whole answer, within [`REQUEST_TIMEOUT`].
pub async fn send(client: &Client, base: &str, request: &Request) -> Result<Answer, String> {
    let mut builder = hyper::Request::builder()
        .method(request.method)
        .uri(format!("{base}{}", request.path))
        .header("content-type", request.content_type);
    if let Some(token) = &request.token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    if let Some(key) = &request.key {
        builder = builder.header("idempotency-key", key);
    }
    let built = builder
        .body(Full::new(Bytes::from(request.body.clone())))
        .map_err(|error| error.to_string())?;
    let exchange = async {
        let response = client
            .request(built)
            .await
            .map_err(|error| format!("{error:?}"))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|error| error.to_string())?
            .to_bytes();
        Ok::<_, String>(Answer {
            status,
            json: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        })
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("sin respuesta en {} s", REQUEST_TIMEOUT.as_secs()))?
}

/// What the load must find before it starts: every person funded by a cash-in, the merchant
/// approved with a static QR code, and the pages readers read.
pub async fn prepare_http(client: &Client, base: &str, cast: &mut Cast) -> anyhow::Result<()> {
    let expect = |what: &str, answer: &Answer, status: u16| {
        anyhow::ensure!(
            answer.status == status,
            "{what}: respondió {} {}",
            answer.status,
            answer.json
        );
        Ok(())
    };
    let send = async |request: Request| {
        send(client, base, &request)
            .await
            .map_err(anyhow::Error::msg)
    };
    for (n, person) in cast.people.iter().enumerate() {
        let mut request = Request::json(
            "POST",
            "/api/v1/payments/cash-in".to_owned(),
            &cast.operator,
            &serde_json::json!({
                "phone": person.phone, "bank": "BPA", "currency": "CUP",
                "amount": (FUNDING_MINOR / 100).to_string(),
            }),
        );
        request.key = Some(format!("fondos-{}-{n}", cast.run));
        expect("el depósito inicial", &send(request).await?, 201)?;
    }
    let applied = send(Request::json(
        "POST",
        "/api/v1/merchants".to_owned(),
        &cast.owner,
        &serde_json::json!({
            "business_name": "Cafetería del Simulacro", "nit": "90000000077",
            "category_code": "5814", "city": "La Habana",
            "settlement": {"bank": "BPA", "currency": "CUP", "account_number": "9205129900017777"},
        }),
    ))
    .await?;
    expect("la solicitud del comercio", &applied, 201)?;
    let merchant = applied.json["id"]
        .as_str()
        .context("el comercio no trae id")?
        .to_owned();
    let approved = send(Request::json(
        "POST",
        format!("/api/v1/admin/merchants/{merchant}/approve"),
        &cast.admin,
        &serde_json::json!({}),
    ))
    .await?;
    expect("la aprobación del comercio", &approved, 200)?;
    let code = send(Request::json(
        "POST",
        format!("/api/v1/merchants/{merchant}/qr-codes"),
        &cast.owner,
        &serde_json::json!({}),
    ))
    .await?;
    expect("el código QR", &code, 201)?;
    cast.qr_payload = code.json["payload"]
        .as_str()
        .context("el código QR no trae payload")?
        .to_owned();
    for page in 0..READ_PAGES {
        let saved = send(Request::json(
            "PUT",
            format!("/api/v1/wiki/pages/{}", read_title(&cast.run, page)),
            &cast.people[0].token,
            &serde_json::json!({
                "text": format!(
                    "'''Artículo {page}''' del simulacro de carga.\n\n== Historia ==\nUn texto \
                     que los lectores piden una y otra vez. Véase [[Cuba]].\n"
                ),
                "summary": "creación",
            }),
        ))
        .await?;
        anyhow::ensure!(
            matches!(saved.status, 200 | 201),
            "la página de lectura {page}: {} {}",
            saved.status,
            saved.json
        );
    }
    Ok(())
}

/// The title (as a path segment) of reading page `page`.
pub fn read_title(run: &str, page: usize) -> String {
    format!("Simulacro_{run}_lectura_{page}")
}

/// The title (as a path segment) of the page worker `worker` edits: one page per worker, so
/// that edits never conflict unless a crash lost an answer.
pub fn edit_title(run: &str, worker: usize) -> String {
    format!("Simulacro_{run}_edicion_{worker}")
}

/// What became of a money operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Answered 201: the operation's id and what it took from the payer (amount and fee) and
    /// gave the payee (for transfers).
    Completed {
        id: String,
        debit_minor: u64,
        credit_minor: u64,
    },
    /// Refused with a problem document (no money moved).
    Refused { status: u16, code: String },
    /// No final answer yet (the server died, or the payment is held): resend the same key.
    Unknown { why: String },
}

/// A money operation the load sent, with enough to send it again exactly.
#[derive(Debug, Clone)]
pub struct MoneyOp {
    pub kind: Kind,
    pub payer: usize,
    /// The person a transfer credits.
    pub payee: Option<usize>,
    pub request: Request,
    pub outcome: Outcome,
    /// Times it was sent: more than one when the server died or answered 5xx meanwhile.
    pub attempts: u32,
}

/// A page edit that was answered as saved.
#[derive(Debug, Clone)]
pub struct Edit {
    pub title: String,
    pub revision_id: String,
}

/// Whether a payout batch was ordered paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Answered 202, or 409 (ordered already: an earlier answer was lost).
    Started,
    /// No answer yet: order it again.
    Unknown,
}

/// A payout batch the load uploaded (answered 201) and ordered paid.
#[derive(Debug, Clone)]
pub struct Payout {
    pub id: String,
    /// Who each row pays, and how much (centavos).
    pub rows: Vec<(usize, u64)>,
    pub start: Start,
}

/// A case of a line list: what the checker expects to read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCase {
    pub id: String,
    pub municipality: String,
    pub age: u64,
}

/// A line list the load sent; `answered` once the server confirmed it whole (200).
#[derive(Debug, Clone)]
pub struct CaseImport {
    pub file: String,
    pub cases: Vec<SentCase>,
    pub answered: bool,
}

/// Everything the load was told, for the checker; kept only when asked for (a soak of hours
/// would grow it without end).
#[derive(Debug, Default)]
pub struct Journal {
    pub money: Vec<MoneyOp>,
    pub edits: Vec<Edit>,
    pub payouts: Vec<Payout>,
    pub imports: Vec<CaseImport>,
}

/// Latencies on a log scale (5 % per bucket, 1 µs to about 5 minutes), so that memory stays
/// flat however long the load runs.
#[derive(Debug, Clone)]
pub struct Histogram {
    buckets: Vec<u64>,
    count: u64,
}

const BUCKET_RATIO_LN: f64 = 0.048_790_164_169_432; // ln(1.05)
const BUCKETS: usize = 400;

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: vec![0; BUCKETS],
            count: 0,
        }
    }
}

impl Histogram {
    // The casts are of a non-negative logarithm, then clamped to the buckets.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn record(&mut self, latency: Duration) {
        let micros = latency.as_secs_f64() * 1e6;
        let index = if micros <= 1.0 {
            0
        } else {
            ((micros.ln() / BUCKET_RATIO_LN) as usize).min(BUCKETS - 1)
        };
        self.buckets[index] += 1;
        self.count += 1;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The latency below which `fraction` of the recorded ones lie, in milliseconds (the middle
    /// of its bucket); 0 when empty.
    // The rank is a non-negative count, at most `count`.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn percentile_ms(&self, fraction: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = ((self.count as f64) * fraction).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, count) in self.buckets.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let micros = ((index as f64 + 0.5) * BUCKET_RATIO_LN).exp();
                return (micros / 1e3 * 100.0).round() / 100.0;
            }
        }
        0.0
    }
}

/// Counts and latencies of one kind.
#[derive(Debug, Clone, Default)]
pub struct KindStats {
    pub ok: u64,
    /// Refusals that are the service's answer, not a fault: not enough money, a limit, an edit
    /// on a page that moved.
    pub refused: u64,
    pub errors: u64,
    pub latency: Histogram,
}

/// What the load saw, per kind.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub kinds: BTreeMap<Kind, KindStats>,
    pub error_samples: Vec<String>,
}

impl Stats {
    pub fn errors(&self) -> u64 {
        self.kinds.values().map(|kind| kind.errors).sum()
    }

    pub fn requests(&self) -> u64 {
        self.kinds
            .values()
            .map(|kind| kind.ok + kind.refused + kind.errors)
            .sum()
    }

    pub fn to_json(&self, seconds: f64) -> serde_json::Value {
        let mut kinds = serde_json::Map::new();
        for (kind, stats) in &self.kinds {
            kinds.insert(
                kind.as_str().to_owned(),
                serde_json::json!({
                    "ok": stats.ok,
                    "refused": stats.refused,
                    "errors": stats.errors,
                    "latency_ms_p50": stats.latency.percentile_ms(0.50),
                    "latency_ms_p95": stats.latency.percentile_ms(0.95),
                    "latency_ms_p99": stats.latency.percentile_ms(0.99),
                }),
            );
        }
        serde_json::json!({
            "requests": self.requests(),
            "requests_per_second": ((self.requests() as f64) / seconds.max(f64::EPSILON)).round(),
            "errors": self.errors(),
            "kinds": kinds,
        })
    }
}

/// How a request ended, for the counts.
enum Tally {
    Ok,
    Refused,
    Error(String),
}

/// Problem codes of payments that are the service saying no, which a realistic mix meets.
fn is_refusal(code: &str) -> bool {
    matches!(
        code,
        "payment_insufficient_funds"
            | "payment_limit_exceeded"
            | "payment_recipient_wallet_full"
            | "payment_refused"
    )
}

/// The load: a fixed cast, a base URL that a drill may point elsewhere after a restart, and
/// what was answered.
#[derive(Debug, Clone)]
pub struct Load {
    pub client: Client,
    pub base: Arc<RwLock<String>>,
    pub cast: Arc<Cast>,
    pub journal: Option<Arc<Mutex<Journal>>>,
    pub stats: Arc<Mutex<Stats>>,
    /// Since the last [`Load::take_interval`].
    pub interval: Arc<Mutex<Stats>>,
    /// Whether the mix includes bulk payouts (the server must run their payer).
    pub payouts: bool,
    /// Whether the mix includes Salud line lists (the server must hold the geography).
    pub case_imports: bool,
}

impl Load {
    pub fn new(client: Client, base: &str, cast: Cast, keep_journal: bool) -> Load {
        Load {
            client,
            base: Arc::new(RwLock::new(base.to_owned())),
            cast: Arc::new(cast),
            journal: keep_journal.then(|| Arc::new(Mutex::new(Journal::default()))),
            stats: Arc::new(Mutex::new(Stats::default())),
            interval: Arc::new(Mutex::new(Stats::default())),
            payouts: false,
            case_imports: false,
        }
    }

    pub fn base(&self) -> String {
        self.base
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn set_base(&self, base: &str) {
        *self
            .base
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = base.to_owned();
    }

    /// The counts since the last call, and a fresh interval.
    pub fn take_interval(&self) -> Stats {
        std::mem::take(
            &mut *self
                .interval
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    pub fn totals(&self) -> Stats {
        self.stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn journal(&self) -> Option<std::sync::MutexGuard<'_, Journal>> {
        self.journal.as_ref().map(|journal| {
            journal
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
    }

    fn count(&self, kind: Kind, latency: Duration, tally: &Tally) {
        for stats in [&self.stats, &self.interval] {
            let mut stats = stats
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let entry = stats.kinds.entry(kind).or_default();
            entry.latency.record(latency);
            match tally {
                Tally::Ok => entry.ok += 1,
                Tally::Refused => entry.refused += 1,
                Tally::Error(message) => {
                    entry.errors += 1;
                    if stats.error_samples.len() < ERROR_SAMPLES_MAX {
                        stats
                            .error_samples
                            .push(format!("{}: {message}", kind.as_str()));
                    }
                }
            }
        }
    }

    async fn timed(&self, kind: Kind, request: &Request) -> Result<Answer, String> {
        let started = Instant::now();
        let answer = send(&self.client, &self.base(), request).await;
        let tally = match &answer {
            Ok(answer) if (200..300).contains(&answer.status) => Tally::Ok,
            Ok(answer) if answer.status < 500 && is_refusal(answer.code()) => Tally::Refused,
            // Another edit moved the page (one whose answer a crash lost): the editor merges.
            Ok(answer) if kind == Kind::PageEdit && answer.code() == "conflict" => Tally::Refused,
            Ok(answer) => Tally::Error(format!(
                "{} {} → {} {}",
                request.method, request.path, answer.status, answer.json
            )),
            Err(error) => Tally::Error(format!("{} {}: {error}", request.method, request.path)),
        };
        self.count(kind, started.elapsed(), &tally);
        answer
    }

    /// Runs `workers` clients until `stop` is set; worker `w` draws its requests from
    /// `seed + w`, so a run replays from its seed.
    pub async fn run(&self, workers: usize, seed: u64, stop: Arc<AtomicBool>) {
        let mut tasks = tokio::task::JoinSet::new();
        for worker in 0..workers {
            let (load, stop) = (self.clone(), stop.clone());
            tasks.spawn(async move { load.worker(worker, seed, &stop).await });
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn worker(&self, worker: usize, seed: u64, stop: &AtomicBool) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed.wrapping_add(worker as u64));
        let weight = |kind: Kind| {
            if (kind == Kind::Payout && !self.payouts)
                || (kind == Kind::CaseImport && !self.case_imports)
            {
                0
            } else {
                kind.weight()
            }
        };
        let total: u32 = Kind::ALL.into_iter().map(weight).sum();
        let mut base_revision: Option<String> = None;
        let mut sequence = 0_u64;
        while !stop.load(Ordering::Relaxed) {
            sequence += 1;
            let mut draw = rng.random_range(0..total);
            let kind = Kind::ALL
                .into_iter()
                .find(|kind| {
                    if draw < weight(*kind) {
                        true
                    } else {
                        draw -= weight(*kind);
                        false
                    }
                })
                .unwrap_or(Kind::Transfer);
            let tag = format!("{}-{worker}-{sequence}", self.cast.run);
            let ok = match kind {
                Kind::PageRead => {
                    let page = rng.random_range(0..READ_PAGES);
                    let path = format!("/api/v1/wiki/pages/{}", read_title(&self.cast.run, page));
                    self.timed(kind, &Request::get(path))
                        .await
                        .is_ok_and(|answer| answer.status == 200)
                }
                Kind::Dashboard => {
                    let path = if rng.random_bool(0.5) {
                        "/salud"
                    } else {
                        "/api/salud/open/national"
                    };
                    self.timed(kind, &Request::get(path.to_owned()))
                        .await
                        .is_ok_and(|answer| answer.status == 200)
                }
                Kind::PageEdit => self.edit(worker, sequence, &mut base_revision).await,
                Kind::Payout => self.payout(&tag, &mut rng, stop).await,
                Kind::CaseImport => self.case_import(&tag, &mut rng, stop).await,
                _ => self.money(kind, &tag, &mut rng, stop).await,
            };
            if !ok {
                tokio::time::sleep(BACK_OFF).await;
            }
        }
    }

    /// One edit of the worker's own page on the revision it last saw.
    async fn edit(&self, worker: usize, sequence: u64, base: &mut Option<String>) -> bool {
        let title = edit_title(&self.cast.run, worker);
        let person = &self.cast.people[worker % self.cast.people.len()];
        let request = Request::json(
            "PUT",
            format!("/api/v1/wiki/pages/{title}"),
            &person.token,
            &serde_json::json!({
                "text": format!(
                    "Página del trabajador {worker} del simulacro.\n\nEdición número {sequence}.\n"
                ),
                "summary": format!("edición {sequence}"),
                "base_revision_id": base,
            }),
        );
        match self.timed(Kind::PageEdit, &request).await {
            Ok(answer) if matches!(answer.status, 200 | 201) => {
                let revision = answer.json["revision_id"].as_str().unwrap_or("").to_owned();
                if let Some(mut journal) = self.journal() {
                    journal.edits.push(Edit {
                        title,
                        revision_id: revision.clone(),
                    });
                }
                *base = Some(revision);
                true
            }
            // The page moved without this worker seeing it (its answer was lost in a crash):
            // start again from what is stored.
            _ => {
                let path = format!("/api/v1/wiki/pages/{title}");
                if let Ok(page) = send(&self.client, &self.base(), &Request::get(path)).await
                    && page.status == 200
                {
                    *base = page.json["latest_revision_id"]
                        .as_str()
                        .or(page.json["revision_id"].as_str())
                        .map(str::to_owned);
                }
                false
            }
        }
    }

    /// One money operation with a key of its own; a bill is issued by the biller first. Like a
    /// phone, it sends the same request with the same key again while the server is away or
    /// answers 5xx, until it answers or the load stops.
    async fn money(
        &self,
        kind: Kind,
        tag: &str,
        rng: &mut rand::rngs::StdRng,
        stop: &AtomicBool,
    ) -> bool {
        let people = &self.cast.people;
        let payer = rng.random_range(0..people.len());
        let mut payee = None;
        let token = &people[payer].token;
        let mut request = match kind {
            Kind::Transfer => {
                let mut to = rng.random_range(0..people.len());
                if to == payer {
                    to = (payer + 1) % people.len();
                }
                payee = Some(to);
                Request::json(
                    "POST",
                    "/api/v1/payments/transfers".to_owned(),
                    token,
                    &serde_json::json!({
                        "to_phone": people[to].phone, "currency": "CUP",
                        "amount": rng.random_range(1..=20_u32).to_string(),
                    }),
                )
            }
            Kind::Bill => {
                let reference = format!("SIM-{tag}");
                if !self
                    .issue_bill(&reference, rng.random_range(5..=60_u32))
                    .await
                {
                    return false;
                }
                Request::json(
                    "POST",
                    "/api/v1/payments/bills".to_owned(),
                    token,
                    &serde_json::json!({"biller": BILLER, "reference": reference}),
                )
            }
            Kind::TopUp => Request::json(
                "POST",
                "/api/v1/payments/top-ups".to_owned(),
                token,
                &serde_json::json!({
                    "service": "nauta", "account": format!("simulacro{payer}@nauta.com.cu"),
                    "amount": rng.random_range(25..=40_u32).to_string(),
                }),
            ),
            _ => Request::json(
                "POST",
                "/api/v1/payments/qr".to_owned(),
                token,
                &serde_json::json!({
                    "payload": self.cast.qr_payload,
                    "amount": rng.random_range(1..=30_u32).to_string(),
                }),
            ),
        };
        request.key = Some(format!("clave-{tag}"));
        let mut answer = self.timed(kind, &request).await;
        let mut attempts = 1;
        while !answer.as_ref().is_ok_and(|answer| answer.status < 500)
            && !stop.load(Ordering::Relaxed)
        {
            tokio::time::sleep(BACK_OFF * 4).await;
            answer = self.timed(kind, &request).await;
            attempts += 1;
        }
        let outcome = outcome_of(&answer);
        let ok = answer.is_ok_and(|answer| answer.status < 500);
        if let Some(mut journal) = self.journal() {
            journal.money.push(MoneyOp {
                kind,
                payer,
                payee,
                request,
                outcome,
                attempts,
            });
        }
        ok
    }

    /// The bank operator uploads a file of three rows paying people from the bank (BPA) and
    /// orders it paid, ordering again while there is no answer. A lost answer to the upload
    /// leaves a batch nobody ordered paid, which pays nothing.
    async fn payout(&self, tag: &str, rng: &mut rand::rngs::StdRng, stop: &AtomicBool) -> bool {
        let people = &self.cast.people;
        let rows: Vec<(usize, u64)> = (0..3)
            .map(|_| {
                (
                    rng.random_range(0..people.len()),
                    rng.random_range(1..=9_u64) * 100,
                )
            })
            .collect();
        let mut file = String::from("destino,importe,referencia\n");
        for (row, (person, minor)) in rows.iter().enumerate() {
            file.push_str(&format!(
                "{},{}.00,simulacro-{tag}-{row}\n",
                people[*person].phone,
                minor / 100
            ));
        }
        let upload = Request {
            method: "POST",
            path: format!("/api/v1/payouts?source=BPA&file_name=simulacro-{tag}.csv"),
            token: Some(self.cast.operator.clone()),
            key: None,
            content_type: "text/csv",
            body: file,
        };
        let id = match self.timed(Kind::Payout, &upload).await {
            Ok(answer) if answer.status == 201 && answer.json["status"] == "ready" => {
                answer.json["id"].as_str().unwrap_or("").to_owned()
            }
            _ => return false,
        };
        let order = Request::json(
            "POST",
            format!("/api/v1/payouts/{id}/start"),
            &self.cast.operator,
            &serde_json::json!({}),
        );
        let mut start = Start::Unknown;
        loop {
            match self.timed(Kind::Payout, &order).await {
                Ok(answer) if matches!(answer.status, 202 | 409) => {
                    start = Start::Started;
                    break;
                }
                Ok(answer) if answer.status < 500 => break,
                _ if stop.load(Ordering::Relaxed) => break,
                _ => tokio::time::sleep(BACK_OFF * 4).await,
            }
        }
        if let Some(mut journal) = self.journal() {
            journal.payouts.push(Payout { id, rows, start });
        }
        start == Start::Started
    }

    /// The epidemiologist's request that sends line list `file` (CSV).
    fn case_import_request(&self, file: &str) -> Request {
        Request {
            method: "POST",
            path: "/api/v1/salud/imports".to_owned(),
            token: Some(self.cast.epidemiologist.clone()),
            key: None,
            content_type: "text/csv",
            body: file.to_owned(),
        }
    }

    /// An epidemiologist sends a line list of three confirmed cases in La Habana, sending the
    /// same file again while there is no answer (an import resumes where an interrupted one
    /// stopped, and a finished one answers the same report).
    async fn case_import(
        &self,
        tag: &str,
        rng: &mut rand::rngs::StdRng,
        stop: &AtomicBool,
    ) -> bool {
        // Two days ago: never "after today" in any time zone.
        let day = jiff::Zoned::now()
            .date()
            .checked_sub(jiff::ToSpan::days(2))
            .unwrap_or_default();
        let cases: Vec<SentCase> = (0..3)
            .map(|n| SentCase {
                id: format!("SIM-{tag}-{n}"),
                municipality: format!("23.{:02}", rng.random_range(1..=15_u32)),
                age: rng.random_range(0..=99),
            })
            .collect();
        let mut file = String::from("id,estado,fecha_confirmacion,edad,sexo,municipio,fuente\n");
        for case in &cases {
            file.push_str(&format!(
                "{},confirmado,{day},{},F,{},autoctono\n",
                case.id, case.age, case.municipality
            ));
        }
        let request = self.case_import_request(&file);
        let mut answered = false;
        loop {
            match self.timed(Kind::CaseImport, &request).await {
                // Whether the cases were all kept is for the checker to read back.
                Ok(answer) if answer.status == 200 => {
                    answered = true;
                    break;
                }
                // Another send of this file is still writing (its answer was lost): again.
                Ok(answer) if answer.status < 500 && answer.status != 409 => break,
                _ if stop.load(Ordering::Relaxed) => break,
                _ => tokio::time::sleep(BACK_OFF * 4).await,
            }
        }
        if let Some(mut journal) = self.journal() {
            journal.imports.push(CaseImport {
                file,
                cases,
                answered,
            });
        }
        answered
    }

    /// The biller issues one bill of `amount` CUP; counted with the bill payments.
    async fn issue_bill(&self, reference: &str, amount: u32) -> bool {
        let today = jiff::Zoned::now().date();
        let due = today.checked_add(jiff::ToSpan::days(30)).unwrap_or(today);
        let request = Request {
            method: "POST",
            path: format!("/api/v1/billers/{BILLER}/bills"),
            token: Some(self.cast.biller.clone()),
            key: None,
            content_type: "text/csv",
            body: format!(
                "referencia,cliente,importe,vencimiento,periodo\n{reference},Persona del \
                 simulacro,{amount}.00,{due},{:04}-{:02}\n",
                today.year(),
                today.month()
            ),
        };
        self.timed(Kind::Bill, &request)
            .await
            .is_ok_and(|answer| answer.status == 201)
    }

    /// Sends a money operation from outside the mix (a drill's probe) and records it like the
    /// mix's; the same key again updates its record.
    pub async fn send_recorded(
        &self,
        kind: Kind,
        payer: usize,
        payee: Option<usize>,
        request: &Request,
    ) -> Result<Answer, String> {
        let answer = send(&self.client, &self.base(), request).await;
        if let Some(mut journal) = self.journal() {
            let outcome = outcome_of(&answer);
            match journal
                .money
                .iter_mut()
                .find(|op| op.request.key == request.key)
            {
                Some(op) => {
                    op.outcome = outcome;
                    op.attempts += 1;
                }
                None => journal.money.push(MoneyOp {
                    kind,
                    payer,
                    payee,
                    request: request.clone(),
                    outcome,
                    attempts: 1,
                }),
            }
        }
        answer
    }

    /// Sends every operation without a final answer again, with its key, until each has one
    /// (completed or refused) or `within` passes; returns how many are still open.
    pub async fn settle(&self, within: Duration) -> usize {
        let deadline = Instant::now() + within;
        self.settle_payouts(deadline).await;
        self.settle_imports(deadline).await;
        loop {
            let open: Vec<(usize, Request)> = match self.journal() {
                Some(journal) => journal
                    .money
                    .iter()
                    .enumerate()
                    .filter(|(_, op)| matches!(op.outcome, Outcome::Unknown { .. }))
                    .map(|(index, op)| (index, op.request.clone()))
                    .collect(),
                None => return 0,
            };
            if open.is_empty() || Instant::now() >= deadline {
                return open.len();
            }
            for (index, request) in open {
                let outcome = outcome_of(&send(&self.client, &self.base(), &request).await);
                if let Some(mut journal) = self.journal() {
                    journal.money[index].outcome = outcome;
                    journal.money[index].attempts += 1;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Load {
    /// Sends again every line list that got no answer, until it is answered (or `deadline`).
    async fn settle_imports(&self, deadline: Instant) {
        let imports = match self.journal() {
            Some(journal) => journal.imports.clone(),
            None => return,
        };
        for (index, import) in imports.iter().enumerate() {
            let request = self.case_import_request(&import.file);
            while !import.answered && Instant::now() < deadline {
                if let Ok(answer) = send(&self.client, &self.base(), &request).await
                    && answer.status == 200
                {
                    if let Some(mut journal) = self.journal() {
                        journal.imports[index].answered = true;
                    }
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    /// Orders again every payout batch whose order got no answer, then waits until every
    /// ordered batch has finished paying (or `deadline`).
    async fn settle_payouts(&self, deadline: Instant) {
        let payouts = match self.journal() {
            Some(journal) => journal.payouts.clone(),
            None => return,
        };
        for (index, payout) in payouts.iter().enumerate() {
            let order = Request::json(
                "POST",
                format!("/api/v1/payouts/{}/start", payout.id),
                &self.cast.operator,
                &serde_json::json!({}),
            );
            while payout.start == Start::Unknown && Instant::now() < deadline {
                if let Ok(answer) = send(&self.client, &self.base(), &order).await
                    && matches!(answer.status, 202 | 409)
                {
                    if let Some(mut journal) = self.journal() {
                        journal.payouts[index].start = Start::Started;
                    }
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let mut view = Request::get(format!("/api/v1/payouts/{}", payout.id));
            view.token = Some(self.cast.operator.clone());
            while Instant::now() < deadline {
                if let Ok(answer) = send(&self.client, &self.base(), &view).await
                    && (answer.json["status"] == "finished" || answer.json["status"] == "ready")
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// What an answer to a money operation says of it.
pub fn outcome_of(answer: &Result<Answer, String>) -> Outcome {
    match answer {
        Ok(answer) if answer.status == 201 => {
            let number = |name: &str| answer.json[name].as_u64().unwrap_or(0);
            let amount = number("amount_minor");
            Outcome::Completed {
                id: answer.json["id"].as_str().unwrap_or("").to_owned(),
                debit_minor: amount + number("fee_minor"),
                credit_minor: amount,
            }
        }
        // Held for a biller, or another request with this key is running: not final yet.
        Ok(answer) if answer.status == 202 || answer.code() == "payment_in_progress" => {
            Outcome::Unknown {
                why: format!("{} {}", answer.status, answer.code()),
            }
        }
        Ok(answer) if (400..500).contains(&answer.status) => Outcome::Refused {
            status: answer.status,
            code: answer.code().to_owned(),
        },
        Ok(answer) => Outcome::Unknown {
            why: format!("{} {}", answer.status, answer.json),
        },
        Err(error) => Outcome::Unknown { why: error.clone() },
    }
}

/// Each person's CUP balance as the journal says it must be: the funding, less what they paid
/// (amount and fee), plus what transfers gave them.
pub fn expected_balances(cast: &Cast, journal: &Journal) -> Vec<i128> {
    let mut balances = vec![i128::from(FUNDING_MINOR); cast.people.len()];
    for payout in &journal.payouts {
        if payout.start == Start::Started {
            for (person, minor) in &payout.rows {
                balances[*person] += i128::from(*minor);
            }
        }
    }
    for op in &journal.money {
        if let Outcome::Completed {
            debit_minor,
            credit_minor,
            ..
        } = op.outcome
        {
            balances[op.payer] -= i128::from(debit_minor);
            if let Some(payee) = op.payee {
                balances[payee] += i128::from(credit_minor);
            }
        }
    }
    balances
}

/// The resident memory of this process in KiB, from `/proc/self/status` (0 where there is
/// none).
pub fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// What [`verify`] found sound.
#[derive(Debug, Clone, Copy)]
pub struct Verified {
    /// Money operations acknowledged (201), each answered again the same.
    pub acknowledged: usize,
    /// Money operations refused (no money moved).
    pub refused: usize,
    /// Page edits acknowledged, each found in its page's history.
    pub edits: usize,
    /// Money operations sent more than once with their key (the first try got no answer).
    pub resent: usize,
    /// Payout batches ordered paid, each paid whole.
    pub payouts: usize,
    /// Cases of acknowledged line lists, each read back as sent.
    pub cases: usize,
}

/// Checks what the server at `base` holds against the journal, once every operation has a final
/// answer ([`Load::settle`]):
/// - present exactly once: every acknowledged key, sent again, answers the same operation with
///   the same effect, and no two acknowledgements name one operation;
/// - each person's balance is the funding plus the acknowledged effects, and nothing is held:
///   nothing half-applied, nothing applied twice;
/// - every acknowledged page edit is in its page's history, and no revision is there twice;
/// - every line list has its answer, and each of its cases reads back as sent.
pub async fn verify(load: &Load, base: &str) -> Result<Verified, String> {
    let (ops, edits, payouts, imports) = {
        let journal = load.journal().ok_or("la carga no lleva diario")?;
        (
            journal.money.clone(),
            journal.edits.clone(),
            journal.payouts.clone(),
            journal.imports.clone(),
        )
    };
    let mut cases = 0;
    for import in &imports {
        if !import.answered {
            return Err(format!(
                "una lista de casos sigue sin respuesta: {import:?}"
            ));
        }
        for case in &import.cases {
            let mut read = Request::get(format!("/api/v1/salud/cases/{}", case.id));
            read.token = Some(load.cast.epidemiologist.clone());
            let answer = send(&load.client, base, &read).await?;
            let json = &answer.json;
            if answer.status != 200
                || json["municipality_code"] != case.municipality.as_str()
                || json["age"].as_u64() != Some(case.age)
                || json["status"] != "confirmed"
            {
                return Err(format!(
                    "el caso confirmado {} no está como se envió ({case:?}): {} {json}",
                    case.id, answer.status
                ));
            }
            cases += 1;
        }
    }
    for payout in &payouts {
        let mut view = Request::get(format!("/api/v1/payouts/{}", payout.id));
        view.token = Some(load.cast.operator.clone());
        let answer = send(&load.client, base, &view).await?;
        let json = &answer.json;
        let paid_whole = json["status"] == "finished"
            && json["paid_rows"].as_u64() == Some(payout.rows.len() as u64)
            && json["refused_rows"] == 0;
        let untouched = json["status"] == "ready" && json["paid_rows"] == 0;
        let sound = match payout.start {
            Start::Started => paid_whole,
            // Refused when ordered (never with this load): nothing may have been paid.
            Start::Unknown => untouched,
        };
        if !sound {
            return Err(format!(
                "el lote {} ({:?}) no quedó pagado entero una vez: {json}",
                payout.id, payout.start
            ));
        }
    }
    if let Some(open) = ops
        .iter()
        .find(|op| matches!(op.outcome, Outcome::Unknown { .. }))
    {
        return Err(format!("una operación sigue sin respuesta final: {open:?}"));
    }
    let mut ids = std::collections::HashSet::new();
    let mut replays = tokio::task::JoinSet::new();
    let mut acknowledged = 0;
    for op in &ops {
        let Outcome::Completed { id, .. } = &op.outcome else {
            continue;
        };
        acknowledged += 1;
        if !ids.insert(id.clone()) {
            return Err(format!("la operación {id} fue confirmada dos veces"));
        }
        let (client, base, op) = (load.client.clone(), base.to_owned(), op.clone());
        replays.spawn(async move {
            let again = outcome_of(&send(&client, &base, &op.request).await);
            if again == op.outcome {
                Ok(())
            } else {
                Err(format!(
                    "{} {} con la clave {:?} respondió {again:?} al repetirla; antes {:?}",
                    op.request.method, op.request.path, op.request.key, op.outcome
                ))
            }
        });
        // A bounded number at once: the server under test has other clients' limits.
        while replays.len() >= 8 {
            if let Some(joined) = replays.join_next().await {
                joined.map_err(|error| error.to_string())??;
            }
        }
    }
    while let Some(joined) = replays.join_next().await {
        joined.map_err(|error| error.to_string())??;
    }

    let expected = {
        let journal = load.journal().ok_or("la carga no lleva diario")?;
        expected_balances(&load.cast, &journal)
    };
    for (person, expected) in load.cast.people.iter().zip(&expected) {
        let mut request = Request::get("/api/v1/payments/wallet".to_owned());
        request.token = Some(person.token.clone());
        let wallet = send(&load.client, base, &request).await?;
        let cup = wallet.json["balances"]
            .as_array()
            .and_then(|balances| balances.iter().find(|b| b["currency"] == "CUP"))
            .ok_or(format!("{}: sin saldo en CUP: {}", person.id, wallet.json))?;
        if cup["available_minor"].as_u64().map(i128::from) != Some(*expected)
            || cup["pending_minor"] != 0
        {
            return Err(format!(
                "{}: el saldo debía ser {expected} centavos sin nada retenido (el depósito más \
                 lo confirmado), y es {cup}",
                person.id
            ));
        }
    }

    let mut by_title: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for edit in &edits {
        by_title
            .entry(&edit.title)
            .or_default()
            .push(&edit.revision_id);
    }
    for (title, revisions) in &by_title {
        let path = format!("/api/v1/wiki/pages/{title}/history");
        let history = send(&load.client, base, &Request::get(path)).await?;
        let stored: Vec<&str> = history
            .json
            .as_array()
            .ok_or(format!(
                "{title}: historial {} {}",
                history.status, history.json
            ))?
            .iter()
            .filter_map(|revision| revision["id"].as_str())
            .collect();
        let unique: std::collections::HashSet<&str> = stored.iter().copied().collect();
        if unique.len() != stored.len() {
            return Err(format!("{title}: una revisión aparece dos veces"));
        }
        if let Some(missing) = revisions.iter().find(|id| !unique.contains(*id)) {
            return Err(format!(
                "{title}: la revisión confirmada {missing} no está en el historial"
            ));
        }
    }
    Ok(Verified {
        acknowledged,
        refused: ops.len() - acknowledged,
        edits: edits.len(),
        resent: ops.iter().filter(|op| op.attempts > 1).count(),
        payouts: payouts
            .iter()
            .filter(|payout| payout.start == Start::Started)
            .count(),
        cases,
    })
}
