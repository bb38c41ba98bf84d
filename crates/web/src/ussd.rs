//! `POST /ussd`: Ceiba Pagos for basic phones, through a USSD gateway speaking the common
//! convention (`sessionId`, `serviceCode`, `phoneNumber`, `text` with every input so far joined
//! by `*`; the answer `CON …` or `END …` in `text/plain`). The menu is `ceiba-ussd`; this module
//! authenticates the gateway, identifies the caller by `phoneNumber`, keeps sessions in the
//! database (so any process can answer any request), performs the menu's actions through the
//! same services as the API and the pages, and answers.
//!
//! - **The gateway** proves itself with the shared secret `X-Ceiba-Ussd-Key` (configured as
//!   `ussd.gateway_key`); without one configured the channel refuses every request. The caller
//!   is whoever the gateway says dialled: the mobile network authenticated the SIM.
//! - **Sessions** expire after `ussd.session_idle_s` without input (180 s by default); the next
//!   request gets an `END` saying so. A retry of the last request (same inputs, same text) gets
//!   the same answer without acting again; the text is kept only as a keyed digest, since it
//!   carries PINs.
//! - **PIN**: every action that reads or moves money or changes the PIN checks it. Three wrong
//!   PINs within 15 minutes lock the person's USSD PIN for 15 minutes (counted in the database,
//!   across sessions and processes; audited; an SMS tells the owner). Nothing moves while locked.
//! - **Idempotency**: a money action's `Idempotency-Key` is derived from the session and the
//!   input that asked for it, so a retry — even one racing the first on another process, or
//!   arriving after a crash — moves the money once.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use ceiba_audit::{AuditEvent, EventKind};
use ceiba_identity::{DeviceTrust, PhoneNumber, Pin, ThrottlePolicy, ThrottleState};
use ceiba_payments::{Currency, Money};
use ceiba_store::{OperationRow, OperationStatus, UserRow, UserStatus, UssdSessionRow};
use ceiba_ussd::{
    Action, Answer, Balance, Biller, Ending, Features, OperationLine, Outcome, PinEntry, Receipt,
    RequestLine, Screen, Step,
};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::AppState;
use crate::accounts::{audit, blocking};
use crate::bills;
use crate::payments::{self, Counterparties, TransferRequest};
use crate::problem::{ApiError, ErrorCode, Problem};

pub const USSD_PATH: &str = "/ussd";
/// The header that carries the gateway's shared secret.
pub const GATEWAY_KEY_HEADER: &str = "x-ceiba-ussd-key";
/// A gateway's request is a few short fields.
pub const BODY_BYTES_MAX: usize = 4 * 1024;
const SESSION_ID_CHARS_MAX: usize = 128;
const SERVICE_CODE_CHARS_MAX: usize = 32;
/// Shortest gateway key accepted in the configuration: a secret, not a password.
pub const GATEWAY_KEY_CHARS_MIN: usize = 16;
/// How long a session is kept after its last request: a late retry still finds its answer and
/// an expired session is told so. Older ones are purged ([`purge_sessions`]).
pub const SESSION_KEPT_MS: i64 = 24 * 60 * 60 * 1000;
/// Operations fetched to find the last few that moved money (refused ones are skipped).
const OPERATIONS_FETCHED_MAX: u32 = 20;

/// What this server offers on the menu: everything.
const FEATURES: Features = Features::ALL;

/// How the USSD channel is configured.
#[derive(Clone)]
pub struct UssdSettings {
    /// SHA-256 of the gateway's shared secret; `None`: the channel is closed.
    gateway_key_digest: Option<[u8; 32]>,
    /// A session with no request for this long is over.
    pub session_idle: Duration,
    /// Wrong PINs: how many, within what window, lock for how long.
    pub pin_policy: ThrottlePolicy,
    /// Keys the digest of a session's last text; the same in every process.
    text_key: [u8; 32],
}

impl std::fmt::Debug for UssdSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UssdSettings")
            .field("open", &self.gateway_key_digest.is_some())
            .field("session_idle", &self.session_idle)
            .field("pin_policy", &self.pin_policy)
            .finish_non_exhaustive()
    }
}

impl UssdSettings {
    /// A closed channel (no gateway key), with the default session and PIN limits.
    pub fn closed(text_key: [u8; 32]) -> UssdSettings {
        UssdSettings {
            gateway_key_digest: None,
            session_idle: Duration::from_secs(180),
            pin_policy: ThrottlePolicy {
                failures_max: 3,
                window_s: 15 * 60,
                lockout_s: 15 * 60,
            },
            text_key,
        }
    }

    /// Opens the channel to the gateway that presents `key`.
    #[must_use]
    pub fn with_gateway_key(mut self, key: &str) -> UssdSettings {
        self.gateway_key_digest = Some(Sha256::digest(key.as_bytes()).into());
        self
    }

    /// Whether `headers` carry the gateway's key. Digests are compared, so the time taken says
    /// nothing about the key.
    pub fn is_gateway(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = self.gateway_key_digest else {
            return false;
        };
        headers.get(GATEWAY_KEY_HEADER).is_some_and(|presented| {
            <[u8; 32]>::from(Sha256::digest(presented.as_bytes())) == expected
        })
    }
}

/// The key of the text digests, derived from the server's secrets key so that it needs no file
/// of its own, is the same in every process, and differs from every other use of that key.
pub fn derive_text_key(secrets_key: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"ceiba/ussd-texto/v1\0");
    hasher.update(secrets_key);
    hasher.finalize().into()
}

/// A gateway's request, as a form (what gateways send) or as JSON. Other fields gateways add
/// (`networkCode` …) are ignored.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UssdRequest {
    /// The gateway's id of the session, the same on every request of one dial.
    #[serde(rename = "sessionId")]
    pub session_id: String,
    /// What was dialled, e.g. `*234#`.
    #[serde(rename = "serviceCode")]
    pub service_code: String,
    /// Who dialled, as the mobile network identified them.
    #[serde(rename = "phoneNumber")]
    pub phone_number: String,
    /// Every input of the session so far joined by `*`; empty on the first request.
    #[serde(default)]
    pub text: String,
    /// `1` or `true`: answer in plain ASCII, for handsets that cannot show accents.
    #[serde(default)]
    pub ascii: Option<String>,
}

fn bad_request(detail: impl Into<String>) -> ApiError {
    ApiError::with_detail(ErrorCode::BadRequest, detail)
}

fn parse_request(headers: &HeaderMap, body: &[u8]) -> Result<UssdRequest, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let request: UssdRequest = if content_type.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes(body).map_err(|error| bad_request(error.to_string()))?
    } else if content_type.starts_with("application/json") {
        serde_json::from_slice(body).map_err(|error| bad_request(error.to_string()))?
    } else {
        return Err(ApiError::with_detail(
            ErrorCode::UnsupportedMediaType,
            "envíe application/x-www-form-urlencoded o application/json",
        ));
    };
    let id = &request.session_id;
    if id.is_empty()
        || id.chars().count() > SESSION_ID_CHARS_MAX
        || id.chars().any(char::is_control)
    {
        return Err(bad_request(format!(
            "«sessionId» debe tener entre 1 y {SESSION_ID_CHARS_MAX} caracteres visibles"
        )));
    }
    if request.service_code.chars().count() > SERVICE_CODE_CHARS_MAX {
        return Err(bad_request(format!(
            "«serviceCode» admite hasta {SERVICE_CODE_CHARS_MAX} caracteres"
        )));
    }
    Ok(request)
}

fn plain(screen: String) -> Response {
    let mut response = screen.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// One request of a USSD session, from a gateway.
#[utoipa::path(post, path = "/ussd", tag = "pagos",
    request_body(content(
        (UssdRequest = "application/x-www-form-urlencoded"),
        (UssdRequest = "application/json"),
    )),
    params(("X-Ceiba-Ussd-Key" = String, Header, description = "El secreto compartido de la pasarela USSD")),
    responses(
        (status = 200, description = "La pantalla: «CON …» (sigue) o «END …» (termina), 182 caracteres como mucho",
            body = String, content_type = "text/plain"),
        (status = 400, description = "Faltan campos o no son válidos", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Falta la clave de la pasarela o no es la configurada", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "El cuerpo pasa de 4 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Ni formulario ni JSON", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ussd(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    match answer_gateway(&state, &headers, &body).await {
        // The person holds a phone, not a problem document: a failure of ours is a screen.
        Err(error) if error.code.entry().status.is_server_error() => {
            tracing::error!(code = error.code.name(), detail = ?error.detail, "a USSD request failed");
            let ascii = parse_request(&headers, &body)
                .ok()
                .and_then(|request| request.ascii)
                .is_some_and(|flag| wants_ascii(&flag));
            Ok(plain(Ending::Unavailable.screen().wire(ascii)))
        }
        other => other,
    }
}

fn wants_ascii(flag: &str) -> bool {
    matches!(flag.trim(), "1" | "true" | "si" | "sí")
}

async fn answer_gateway(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let settings = &state.ussd;
    if !settings.is_gateway(headers) {
        let detail = if settings.gateway_key_digest.is_none() {
            "el canal USSD no está abierto en este servidor (configure ussd.gateway_key)"
        } else {
            "falta la cabecera X-Ceiba-Ussd-Key o no es la de la pasarela"
        };
        return Err(ApiError::with_detail(
            ErrorCode::UssdGatewayRejected,
            detail,
        ));
    }
    let request = parse_request(headers, body)?;
    let ascii = request.ascii.as_deref().is_some_and(wants_ascii);
    let answer = |screen: Screen| Ok(plain(screen.wire(ascii)));

    let Ok(phone) = PhoneNumber::parse(&request.phone_number) else {
        return answer(Ending::UnknownCaller.screen());
    };
    let inputs = match ceiba_ussd::split_text(&request.text) {
        Ok(inputs) => inputs,
        Err(ending) => return answer(ending.screen()),
    };
    let Some(caller) = state
        .db
        .user_by_phone(&phone)
        .await?
        .filter(|user| user.status == UserStatus::Active)
    else {
        return answer(Ending::UnknownCaller.screen());
    };
    if caller.pin_hash.is_none() {
        return answer(Ending::NoPin.screen());
    }

    let now_ms = state.clock.now_ms();
    let digest = text_digest(&settings.text_key, &request.session_id, &request.text);
    let inputs_count = u32::try_from(inputs.len()).unwrap_or(u32::MAX);
    let stored = state.db.ussd_session(&request.session_id).await?;
    let mut answers: Vec<Answer> = Vec::new();
    if let Some(stored) = &stored {
        if stored.phone != phone.as_e164() {
            return answer(Ending::Invalid.screen());
        }
        if stored.inputs_count == inputs_count && stored.text_digest == digest {
            // The gateway retried the last request: the same answer, nothing done again.
            return Ok(plain(stored.last_screen.clone()));
        }
        if stored.ended {
            return answer(Ending::Finished.screen());
        }
        let idle_ms = i64::try_from(settings.session_idle.as_millis()).unwrap_or(i64::MAX);
        if now_ms.saturating_sub(stored.updated_at_ms) > idle_ms {
            let screen = Ending::Expired.screen().wire(ascii);
            let expired = UssdSessionRow {
                inputs_count,
                text_digest: digest,
                last_screen: screen.clone(),
                ended: true,
                updated_at_ms: now_ms,
                ..stored.clone()
            };
            state
                .db
                .advance_ussd_session(&expired, stored.inputs_count)
                .await?;
            return Ok(plain(screen));
        }
        if inputs_count <= stored.inputs_count {
            return answer(Ending::Invalid.screen());
        }
        let Ok(earlier) = serde_json::from_str(&stored.answers) else {
            tracing::error!(session = %request.session_id, "a stored USSD session cannot be read");
            return answer(Ending::Invalid.screen());
        };
        answers = earlier;
    }

    let screen = run_menu(state, &caller, &request.session_id, &inputs, &mut answers).await?;
    let wire = screen.wire(ascii);
    let row = UssdSessionRow {
        session_id: request.session_id.clone(),
        phone: phone.as_e164().to_owned(),
        service_code: request.service_code.clone(),
        inputs_count,
        text_digest: digest,
        answers: serde_json::to_string(&answers).map_err(|_| ApiError::new(ErrorCode::Internal))?,
        last_screen: wire.clone(),
        ended: screen.is_end(),
        created_at_ms: stored
            .as_ref()
            .map_or(now_ms, |stored| stored.created_at_ms),
        updated_at_ms: now_ms,
    };
    let saved = match &stored {
        None => state.db.insert_ussd_session(&row).await?,
        Some(stored) => {
            state
                .db
                .advance_ussd_session(&row, stored.inputs_count)
                .await?
        }
    };
    if saved {
        return Ok(plain(wire));
    }
    // Another request of this session (a retry racing this one) was saved first. Its answer is
    // the one the session goes on from; what this one did was idempotent.
    match state.db.ussd_session(&request.session_id).await? {
        Some(winner) if winner.inputs_count == inputs_count => Ok(plain(winner.last_screen)),
        _ => answer(Ending::Invalid.screen()),
    }
}

fn text_digest(key: &[u8; 32], session_id: &str, text: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(session_id.as_bytes());
    mac.update(&[0]);
    mac.update(text.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Steps the menu, performing its actions, until it has a screen.
async fn run_menu(
    state: &AppState,
    caller: &UserRow,
    session_id: &str,
    inputs: &[&str],
    answers: &mut Vec<Answer>,
) -> Result<Screen, ApiError> {
    // The menu asks for at most one action per input.
    for _ in 0..=inputs.len() {
        match ceiba_ussd::step(FEATURES, inputs, answers) {
            Step::Show(screen) => return Ok(screen),
            Step::Perform { at_input, action } => {
                let key = idempotency_key(session_id, at_input);
                let outcome = perform(state, caller, action, &key).await?;
                answers.push(Answer { at_input, outcome });
            }
        }
    }
    tracing::error!("the USSD menu asked for more actions than inputs");
    Ok(Ending::Invalid.screen())
}

/// The `Idempotency-Key` of the money action that input `at_input` of a session asked for. The
/// gateway's session id is hashed: it may hold anything, and a key must be short visible ASCII.
fn idempotency_key(session_id: &str, at_input: usize) -> String {
    let digest = Sha256::digest(session_id.as_bytes());
    let hex = crate::audit_api::hex(&digest[..16]);
    format!("ussd-{hex}-{at_input}")
}

/// What the menu should show for a refusal from a service: a reason for what the person can act
/// on, the service away for the rest.
fn refusal(error: &ApiError) -> Outcome {
    let entry = error.code.entry();
    if error.code == ErrorCode::PaymentInProgress {
        return Outcome::InProgress;
    }
    if entry.status.is_server_error() {
        return Outcome::Unavailable;
    }
    Outcome::Refused {
        reason: error
            .detail
            .clone()
            .filter(|detail| !detail.trim().is_empty())
            .unwrap_or_else(|| entry.title_es.to_owned()),
    }
}

async fn perform(
    state: &AppState,
    caller: &UserRow,
    action: Action,
    key: &str,
) -> Result<Outcome, ApiError> {
    if let Some(pin) = action.pin()
        && let Some(refused) = check_pin(state, caller, pin).await?
    {
        return Ok(refused);
    }
    let outcome = match action {
        Action::LookupRecipient { phone } => {
            match payments::recipient(state, phone.as_e164(), caller).await {
                Ok(payee) => Outcome::Recipient {
                    name: payee.display_name,
                },
                Err(error) => refusal(&error),
            }
        }
        Action::CheckPin { .. } => Outcome::PinAccepted,
        Action::Balance { .. } => match payments::wallet_balances(state, &caller.id).await {
            Ok(balances) => Outcome::Balances {
                balances: balances
                    .iter()
                    .filter_map(|balance| {
                        Some(Balance {
                            currency: Currency::parse(balance.currency).ok()?,
                            available_minor: balance.available_minor,
                        })
                    })
                    .collect(),
            },
            Err(error) => refusal(&error),
        },
        Action::LastOperations { .. } => last_operations(state, caller).await?,
        Action::Transfer { to, amount, .. } => {
            let amount_text = decimal(amount);
            let request = TransferRequest {
                to_phone: to.as_e164(),
                currency: amount.currency.code(),
                amount: &amount_text,
                note: None,
                idempotency_key: Some(key),
            };
            match payments::transfer_to_person(state, caller, &request).await {
                Ok(row) => settled(state, caller, &row).await,
                Err(error) => refusal(&error),
            }
        }
        Action::ChangePin { new, .. } => change_pin(state, caller, new).await?,
        Action::ListBillers => match bills::billers(state).await {
            // Top-ups have their own entry; the list is of those who issue bills.
            Ok(billers) => Outcome::Billers {
                billers: billers
                    .into_iter()
                    .filter(|biller| biller.top_up_service.is_none())
                    .map(|biller| Biller {
                        id: biller.code,
                        name: biller.name,
                    })
                    .collect(),
            },
            Err(error) => refusal(&error),
        },
        Action::FindBill {
            biller_id,
            reference,
        } => match bills::find_bill(state, &biller_id, &reference).await {
            Ok(bill) if bill.status == "paid" => Outcome::Refused {
                reason: format!("La factura {} ya está pagada.", bill.reference),
            },
            Ok(bill) => match Currency::parse(&bill.currency) {
                Ok(currency) => Outcome::Bill {
                    customer: bill.customer,
                    currency,
                    amount_minor: bill.amount_minor,
                },
                Err(_) => Outcome::Unavailable,
            },
            Err(error) => refusal(&error),
        },
        Action::PayBill {
            biller_id,
            reference,
            ..
        } => match bills::pay_bill(state, caller, &biller_id, &reference, Some(key)).await {
            Ok(row) => settled(state, caller, &row).await,
            Err(error) => refusal(&error),
        },
        Action::TopUp {
            account, amount, ..
        } => {
            let service = account.service();
            let amount_text = decimal(amount);
            match bills::top_up(
                state,
                caller,
                service.as_str(),
                account.as_str(),
                &amount_text,
                Some(key),
            )
            .await
            {
                Ok(row) => settled(state, caller, &row).await,
                Err(error) => refusal(&error),
            }
        }
        Action::ListRequests => pending_requests(state, caller).await?,
        Action::AcceptRequest { id, .. } => {
            match crate::payment_requests::accept_request(state, caller, &id, Some(key)).await {
                Ok(row) => settled(state, caller, &row).await,
                Err(error) => refusal(&error),
            }
        }
        Action::DeclineRequest { id, .. } => {
            match crate::payment_requests::decline_request(state, caller, &id).await {
                Ok(_) => Outcome::Declined,
                Err(error) => refusal(&error),
            }
        }
        // An action this edge does not know yet: the menu says the service is away.
        _ => Outcome::Unavailable,
    };
    Ok(outcome)
}

/// What others ask the caller to pay and is still open, newest first.
async fn pending_requests(state: &AppState, caller: &UserRow) -> Result<Outcome, ApiError> {
    let mut requests = Vec::new();
    for row in state.db.payment_requests_of(&caller.id).await? {
        if row.payer_user_id != caller.id {
            continue;
        }
        let shown = crate::payment_requests::view(state, &row).await?;
        let Ok(currency) = Currency::parse(&row.currency) else {
            continue;
        };
        if shown.status == "pending" {
            requests.push(RequestLine {
                id: row.id,
                from: shown.from,
                currency,
                amount_minor: row.amount_minor,
                note: row.note,
            });
        }
    }
    Ok(Outcome::Requests { requests })
}

/// `150.00`: an amount as the services read it.
fn decimal(amount: Money) -> String {
    format!(
        "{}.{:02}",
        amount.minor / ceiba_payments::MINOR_PER_UNIT,
        amount.minor % ceiba_payments::MINOR_PER_UNIT
    )
}

/// The outcome of a money operation's row: its receipt, its refusal, or still pending.
async fn settled(state: &AppState, caller: &UserRow, row: &OperationRow) -> Outcome {
    match row.status {
        OperationStatus::Pending => Outcome::InProgress,
        OperationStatus::Refused => {
            let code = row
                .refusal_code
                .as_deref()
                .and_then(ErrorCode::from_name)
                .unwrap_or(ErrorCode::PaymentRefused);
            refusal(&ApiError {
                code,
                detail: row.refusal_detail.clone(),
                detail_en: None,
            })
        }
        OperationStatus::Completed => {
            let currency = Currency::parse(&row.currency).unwrap_or(Currency::Cup);
            let balance_minor = payments::wallet_balances(state, &caller.id)
                .await
                .ok()
                .and_then(|balances| {
                    balances
                        .into_iter()
                        .find(|balance| balance.currency == currency.code())
                })
                .map(|balance| balance.available_minor);
            Outcome::Completed {
                receipt: Receipt {
                    code: row.receipt_code.clone().unwrap_or_default(),
                    currency,
                    amount_minor: row.amount_minor,
                    counterparty: row.counterparty_label.clone(),
                    balance_minor,
                },
            }
        }
    }
}

async fn last_operations(state: &AppState, caller: &UserRow) -> Result<Outcome, ApiError> {
    let rows = state
        .db
        .payment_operations_of(&caller.id, 0, i64::MAX, None, OPERATIONS_FETCHED_MAX)
        .await?;
    let mut counterparties = Counterparties::default();
    let mut operations = Vec::new();
    for row in rows
        .iter()
        .filter(|row| row.status != OperationStatus::Refused)
        .take(ceiba_ussd::OPERATIONS_SHOWN_MAX)
    {
        let date = jiff::Timestamp::from_millisecond(row.created_at_ms)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(state.payments.time_zone.clone())
            .date();
        operations.push(OperationLine {
            day: u8::try_from(date.day()).unwrap_or(1),
            month: u8::try_from(date.month()).unwrap_or(1),
            sent: payments::sent_by(row, &caller.id),
            currency: Currency::parse(&row.currency).unwrap_or(Currency::Cup),
            amount_minor: row.amount_minor,
            counterparty: counterparties.of(state, row, &caller.id).await?,
        });
    }
    Ok(Outcome::Operations { operations })
}

/// Checks a PIN typed on USSD against the person's, under the wrong-PIN lock: `None` when it
/// is right, or the outcome to show (wrong, locked). A locked person's PIN is not even checked.
async fn check_pin(
    state: &AppState,
    caller: &UserRow,
    entry: &PinEntry,
) -> Result<Option<Outcome>, ApiError> {
    let policy = state.ussd.pin_policy;
    let now_s = state.clock.now_s();
    let counter = state.db.ussd_pin_failures(&caller.id).await?;
    let throttle = |counter| ThrottleState {
        unknown_devices: counter,
        ..ThrottleState::default()
    };
    if let ceiba_identity::ThrottleDecision::Locked { retry_after_s } =
        throttle(counter).check(DeviceTrust::Unknown, now_s)
    {
        return Ok(Some(Outcome::Locked { retry_after_s }));
    }
    let right = match (Pin::parse(entry.expose()), caller.pin_hash.clone()) {
        // A PIN the rules refuse cannot be anyone's: it counts as wrong.
        (Ok(pin), Some(hash)) => {
            let hasher = state.hasher.clone();
            match blocking(move || hasher.verify(&pin, &hash)).await {
                Ok(_) => true,
                Err(ceiba_identity::CredentialError::Mismatch) => false,
                Err(error) => {
                    tracing::error!(%error, "a stored USSD PIN cannot be verified");
                    return Ok(Some(Outcome::Unavailable));
                }
            }
        }
        _ => false,
    };
    if right {
        if counter.failures > 0 {
            state
                .db
                .update_ussd_pin_failures(&caller.id, |_| Default::default())
                .await?;
        }
        return Ok(None);
    }
    let mut lock_started = false;
    let after = state
        .db
        .update_ussd_pin_failures(&caller.id, |before| {
            let after = throttle(before)
                .record_failure(&policy, DeviceTrust::Unknown, now_s)
                .unknown_devices;
            lock_started = after.locked_until_s.is_some() && after != before;
            after
        })
        .await?;
    match after.locked_until_s {
        Some(until_s) if until_s > now_s => {
            if lock_started {
                locked_out(state, caller, policy).await;
            }
            Ok(Some(Outcome::Locked {
                retry_after_s: until_s - now_s,
            }))
        }
        _ => Ok(Some(Outcome::WrongPin {
            attempts_left: policy.failures_max.saturating_sub(after.failures),
        })),
    }
}

/// A lock just began: it goes in the audit log, and the owner hears of it by SMS (someone may
/// be trying their PIN).
async fn locked_out(state: &AppState, caller: &UserRow, policy: ThrottlePolicy) {
    let now_ms = state.clock.now_ms();
    audit(
        state,
        AuditEvent::new(EventKind::AccountLocked, now_ms)
            .actor(&caller.id)
            .detail("canal", "ussd")
            .detail("motivo", "intentos fallidos en USSD"),
    )
    .await;
    let minutes = policy.lockout_s.div_ceil(60);
    let body = format!(
        "Ceiba Pagos: tras {} intentos fallidos, el USSD queda bloqueado {minutes} min. Si no \
         fue usted, cambie su PIN en la web. Nunca comparta su PIN.",
        policy.failures_max
    );
    queue_sms(state, caller, &body).await;
}

async fn queue_sms(state: &AppState, caller: &UserRow, body: &str) {
    let Ok(phone) = PhoneNumber::parse(&caller.phone) else {
        return;
    };
    if let Err(error) = state.db.queue_sms(&phone, body, state.clock.now_ms()).await {
        tracing::error!(%error, "could not queue a USSD notice");
    }
}

/// Sets the new PIN (the old one was just checked) and tells the owner by SMS.
async fn change_pin(state: &AppState, caller: &UserRow, new: Pin) -> Result<Outcome, ApiError> {
    let hasher = state.hasher.clone();
    let hash = blocking(move || hasher.hash(&new, &mut rand::rng())).await;
    state.db.set_pin_hash(&caller.id, &hash).await?;
    audit(
        state,
        AuditEvent::new(EventKind::PinChanged, state.clock.now_ms())
            .actor(&caller.id)
            .detail("canal", "ussd"),
    )
    .await;
    queue_sms(
        state,
        caller,
        "Ceiba Pagos: su PIN de USSD se cambio. Si no fue usted, entre en la web y cambielo.",
    )
    .await;
    Ok(Outcome::PinChanged)
}

/// Deletes sessions untouched for [`SESSION_KEPT_MS`]; for the maintenance loop.
pub async fn purge_sessions(state: &AppState) -> Result<u64, ApiError> {
    let before_ms = state.clock.now_ms().saturating_sub(SESSION_KEPT_MS);
    Ok(state.db.purge_ussd_sessions(before_ms).await?)
}
