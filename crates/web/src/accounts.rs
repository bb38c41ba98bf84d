//! Accounts: registration with an SMS code, sign-in with sessions, the sessions list and
//! revocation, the second factor and password changes. Every security event goes to the audit
//! log.
//!
//! The work is done by plain async functions that take the state and typed inputs and return
//! typed outcomes or an [`ApiError`]: [`register_account`], [`confirm_account`],
//! [`sign_in_person`] (throttle, second factor, known devices), [`open_sessions`],
//! [`revoke_session_of`] and [`change_password_of`]. The JSON handlers below and the pages in
//! `account_pages.rs` only translate their wire (JSON and bearer tokens; forms and cookies) to
//! and from these, so both channels follow one set of rules.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ceiba_audit::{AuditEvent, EventKind};
use ceiba_identity::{
    CalendarDate, ConfirmationCode, DeviceToken, DeviceTrust, NationalId, Password, PhoneNumber,
    Pin, PresentedSecret, RecoveryCode, RecoveryCodes, Role, SessionToken, ThrottleDecision,
    TokenHash, TotpError, TotpSecret,
};
use ceiba_store::{Confirmation, NewUser, Registration, SessionRow, UserStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Administrator, Authenticated, Authorized};
use crate::json::ApiJson;
use crate::problem::{ApiError, ErrorCode, Problem};

/// At most this many SMS to one number per window, from registrations.
const SMS_PER_NUMBER_MAX: u64 = 3;
const SMS_PER_NUMBER_WINDOW_MS: i64 = 60 * 60 * 1000;
/// How long a phone confirmation code lasts.
const CONFIRMATION_TTL_MS: i64 = 10 * 60 * 1000;
/// The header an API client sends back with the device token it was given at sign-in.
pub const DEVICE_HEADER: &str = "x-ceiba-device";
pub const DISPLAY_NAME_CHARS_MAX: usize = 100;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::with_detail(ErrorCode::ValidationFailed, detail)
}

fn parse_phone(text: &str) -> Result<PhoneNumber, ApiError> {
    PhoneNumber::parse(text).map_err(|error| invalid(format!("phone: {error}")))
}

/// Appends one event; a failure is logged, not shown to the person (the action itself was
/// already committed), and counted as an error to alert on.
pub(crate) async fn audit(state: &AppState, event: AuditEvent) {
    if let Err(error) = state
        .db
        .append_audit(&[event.to_bytes()], state.clock.now_ms())
        .await
    {
        tracing::error!(%error, "could not write to the audit log");
    }
}

/// Runs Argon2 off the async threads: it takes tens of milliseconds of one core on purpose.
pub(crate) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work)
        .await
        .expect("credential work does not panic")
}

/// Where a request came from: recorded in the audit log and shown in the sessions list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// The JSON API, with bearer tokens.
    Api,
    /// The web pages, with cookies.
    Web,
}

impl Channel {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Channel::Api => "api",
            Channel::Web => "web",
        }
    }
}

/// The name a person gives: trimmed, 1 to [`DISPLAY_NAME_CHARS_MAX`] characters, no control
/// characters.
#[derive(Debug, Clone)]
pub(crate) struct DisplayName(String);

impl DisplayName {
    pub(crate) fn parse(text: &str) -> Option<DisplayName> {
        let name = text.trim();
        (!name.is_empty()
            && name.chars().count() <= DISPLAY_NAME_CHARS_MAX
            && !name.chars().any(char::is_control))
        .then(|| DisplayName(name.to_owned()))
    }
}

/// What a registration needs, already parsed.
#[derive(Debug)]
pub(crate) struct NewAccount {
    pub phone: PhoneNumber,
    pub display_name: DisplayName,
    pub password: Password,
}

/// A number gets a few SMS an hour, whoever asks and whether or not it has an account: SMS
/// cost money and a flood of them is harassment.
async fn ensure_sms_allowed(
    state: &AppState,
    phone: &PhoneNumber,
    now_ms: i64,
) -> Result<(), ApiError> {
    let queued = state
        .db
        .sms_queued_since(phone, now_ms - SMS_PER_NUMBER_WINDOW_MS)
        .await?;
    if queued >= SMS_PER_NUMBER_MAX {
        return Err(ApiError::with_detail(
            ErrorCode::RateLimited,
            "ya se enviaron varios mensajes a este número en la última hora; espere antes de \
             volver a intentarlo",
        ));
    }
    Ok(())
}

/// Registers a person (pending) and queues the SMS with the confirmation code, or, when the
/// number already has an account, an SMS to its owner instead. Both cases return the same, in
/// about the same time, so that the caller cannot tell them apart.
pub(crate) async fn register_account(
    state: &AppState,
    account: NewAccount,
    channel: Channel,
) -> Result<(), ApiError> {
    let NewAccount {
        phone,
        display_name: DisplayName(display_name),
        password,
    } = account;
    let now_ms = state.clock.now_ms();
    ensure_sms_allowed(state, &phone, now_ms).await?;
    let hasher = state.hasher.clone();
    // Hash before looking anything up, so both answers take the same time.
    let password_hash = blocking(move || hasher.hash(&password, &mut rand::rng())).await;
    let user_id = uuid::Uuid::new_v4().to_string();
    let code = ConfirmationCode::generate(&mut rand::rng());
    let sms = format!(
        "Ceiba: su código de confirmación es {}. Vence en 10 minutos. No lo comparta con nadie.",
        code.expose()
    );
    let outcome = state
        .db
        .register_user(
            &NewUser {
                id: &user_id,
                phone: &phone,
                display_name: &display_name,
                password_hash: &password_hash,
                status: UserStatus::Pending,
                roles: &[Role::Citizen],
            },
            Some((&code.hash_for(&user_id), now_ms + CONFIRMATION_TTL_MS)),
            Some(&sms),
            now_ms,
        )
        .await?;
    match outcome {
        Registration::Created => {
            audit(
                state,
                AuditEvent::new(EventKind::UserRegistered, now_ms)
                    .actor(&user_id)
                    .detail("canal", channel.as_str()),
            )
            .await;
        }
        Registration::PhoneTaken => {
            state
                .db
                .queue_sms(
                    &phone,
                    "Ceiba: alguien intentó crear una cuenta con este número, que ya tiene una. \
                     Si fue usted, inicie sesión; si no, no haga nada.",
                    now_ms,
                )
                .await?;
        }
    }
    Ok(())
}

/// What became of a confirmation code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConfirmOutcome {
    Confirmed,
    /// Wrong, expired, used up, malformed, or no such pending account: one answer for all.
    Refused,
}

/// Confirms a phone number with the code of its SMS, which activates the account.
pub(crate) async fn confirm_account(
    state: &AppState,
    phone: &PhoneNumber,
    code: &str,
) -> Result<ConfirmOutcome, ApiError> {
    let Some(code) = ConfirmationCode::parse(code) else {
        return Ok(ConfirmOutcome::Refused);
    };
    let Some(user) = state.db.user_by_phone(phone).await? else {
        return Ok(ConfirmOutcome::Refused);
    };
    let now_ms = state.clock.now_ms();
    match state
        .db
        .confirm_phone(&user.id, &code.hash_for(&user.id), now_ms)
        .await?
    {
        Confirmation::Confirmed => {
            audit(
                state,
                AuditEvent::new(EventKind::PhoneConfirmed, now_ms).actor(&user.id),
            )
            .await;
            Ok(ConfirmOutcome::Confirmed)
        }
        Confirmation::WrongCode | Confirmation::Void => Ok(ConfirmOutcome::Refused),
    }
}

/// One attempt to sign in, as typed.
#[derive(Debug)]
pub(crate) struct SignInAttempt<'a> {
    pub phone: PhoneNumber,
    /// As typed; checked, never held to the password policy.
    pub password: &'a str,
    /// The authenticator app's code or a recovery code, if the person gave one.
    pub second_factor_code: Option<&'a str>,
    /// The hash of the device token the client sent back (header or cookie), if any.
    pub device: Option<TokenHash>,
    pub channel: Channel,
}

/// A session just opened. The tokens are shown to the client once.
#[derive(Debug)]
pub(crate) struct NewSession {
    pub token: SessionToken,
    pub session_id: String,
    /// A token for the client to keep when this device was not known yet.
    pub device_token: Option<DeviceToken>,
}

/// What became of a sign-in attempt.
#[derive(Debug)]
pub(crate) enum SignInOutcome {
    SignedIn(NewSession),
    /// Too many failures from this kind of device: nothing was checked.
    Locked {
        retry_after_s: u64,
    },
    /// Wrong number, wrong password or no such account: one answer for all three.
    InvalidCredentials,
    /// The password was right but the account is not active (pending confirmation, disabled).
    NotActive,
    /// The password was right and the account has a second factor, but no code came.
    SecondFactorMissing,
    /// The code that came was wrong or already used; a Spanish sentence says which.
    SecondFactorWrong(String),
}

/// Signs a person in: throttle by number and device trust, password (a dummy verification for
/// unknown numbers, so the time reveals nothing), account status, second factor, then a new
/// session of `attempt.channel` and, for a device not known yet, a device token.
pub(crate) async fn sign_in_person(
    state: &AppState,
    attempt: SignInAttempt<'_>,
) -> Result<SignInOutcome, ApiError> {
    let SignInAttempt {
        phone,
        password,
        second_factor_code,
        device,
        channel,
    } = attempt;
    let now_ms = state.clock.now_ms();
    let now_s = state.clock.now_s();
    let user = state.db.user_by_phone(&phone).await?;
    let trust = match (&user, &device) {
        (Some(user), Some(hash)) if state.db.is_known_device(&user.id, hash).await? => {
            DeviceTrust::Known
        }
        _ => DeviceTrust::Unknown,
    };
    let throttle = state.db.login_throttle(&phone).await?;
    if let ThrottleDecision::Locked { retry_after_s } = throttle.check(trust, now_s) {
        return Ok(SignInOutcome::Locked { retry_after_s });
    }

    let hasher = state.hasher.clone();
    let presented = PresentedSecret::parse(password).ok();
    let stored = user.as_ref().map(|user| user.password_hash.clone());
    let verification = blocking(move || match (presented, stored) {
        (Some(secret), Some(stored)) => hasher.verify(&secret, &stored).ok(),
        (Some(secret), None) => hasher.verify_dummy(&secret).ok(),
        // An unparsable password still costs a hash, so its answer takes the usual time.
        (None, _) => {
            let _ = PresentedSecret::parse("contraseña-de-relleno")
                .map(|filler| hasher.verify_dummy(&filler));
            None
        }
    })
    .await;

    let known_user_id = user.as_ref().map(|user| user.id.clone());
    let (Some(user), Some(verification)) = (user, verification) else {
        let after = throttle.record_failure(&state.throttle_policy, trust, now_s);
        state.db.save_login_throttle(&phone, &after).await?;
        let mut event =
            AuditEvent::new(EventKind::LoginFailed, now_ms).detail("canal", channel.as_str());
        if let Some(user_id) = known_user_id {
            event = event.actor(user_id);
        }
        audit(state, event).await;
        if matches!(after.check(trust, now_s), ThrottleDecision::Locked { .. })
            && matches!(throttle.check(trust, now_s), ThrottleDecision::Allowed)
        {
            audit(
                state,
                AuditEvent::new(EventKind::AccountLocked, now_ms)
                    .subject(phone.masked())
                    .detail(
                        "dispositivos",
                        match trust {
                            DeviceTrust::Known => "conocidos",
                            DeviceTrust::Unknown => "desconocidos",
                        },
                    ),
            )
            .await;
        }
        return Ok(SignInOutcome::InvalidCredentials);
    };
    if user.status != UserStatus::Active {
        return Ok(SignInOutcome::NotActive);
    }
    let second_factor_at_s =
        match check_second_factor(state, &user.id, second_factor_code, now_s).await? {
            SecondFactor::NotEnrolled => None,
            SecondFactor::Proven => Some(now_s),
            SecondFactor::Missing => return Ok(SignInOutcome::SecondFactorMissing),
            SecondFactor::Wrong(reason) => {
                // A wrong second factor counts as a failed attempt, like a wrong password.
                let after = throttle.record_failure(&state.throttle_policy, trust, now_s);
                state.db.save_login_throttle(&phone, &after).await?;
                audit(
                    state,
                    AuditEvent::new(EventKind::LoginFailed, now_ms)
                        .actor(&user.id)
                        .detail("motivo", "segundo factor"),
                )
                .await;
                return Ok(SignInOutcome::SecondFactorWrong(reason));
            }
        };
    state
        .db
        .save_login_throttle(&phone, &throttle.record_success(trust))
        .await?;
    if verification.needs_rehash
        && let Ok(password) = Password::parse(password)
    {
        let hasher = state.hasher.clone();
        let upgraded = blocking(move || hasher.hash(&password, &mut rand::rng())).await;
        state.db.set_password_hash(&user.id, &upgraded).await?;
    }

    let token = SessionToken::generate(&mut rand::rng());
    let session_id = uuid::Uuid::new_v4().to_string();
    state
        .db
        .create_session(&SessionRow {
            id: session_id.clone(),
            token_hash: token.hash(),
            user_id: user.id.clone(),
            created_at_s: now_s,
            last_seen_at_s: now_s,
            revoked_at_s: None,
            client: channel.as_str().to_owned(),
            second_factor_at_s,
        })
        .await?;
    let device_token = if trust == DeviceTrust::Known {
        None
    } else {
        let device = DeviceToken::generate(&mut rand::rng());
        state
            .db
            .add_known_device(&user.id, &device.hash(), now_ms)
            .await?;
        Some(device)
    };
    audit(
        state,
        AuditEvent::new(EventKind::LoginSucceeded, now_ms)
            .actor(&user.id)
            .detail("canal", channel.as_str())
            .detail("sesion", &session_id),
    )
    .await;
    Ok(SignInOutcome::SignedIn(NewSession {
        token,
        session_id,
        device_token,
    }))
}

/// Ends one of a user's sessions; false when the user has no such live session (another
/// person's included), so ids reveal nothing.
pub(crate) async fn revoke_session_of(
    state: &AppState,
    user_id: &str,
    session_id: &str,
) -> Result<bool, ApiError> {
    let revoked = state
        .db
        .revoke_session(user_id, session_id, state.clock.now_s())
        .await?;
    if revoked {
        audit(
            state,
            AuditEvent::new(EventKind::SessionRevoked, state.clock.now_ms())
                .actor(user_id)
                .detail("sesion", session_id),
        )
        .await;
    }
    Ok(revoked)
}

/// The person's live sessions, newest first, the one of this request marked.
pub(crate) async fn open_sessions(
    state: &AppState,
    who: &Authenticated,
) -> Result<Vec<SessionView>, ApiError> {
    let now_s = state.clock.now_s();
    let sessions = state.db.sessions_of(&who.user.id).await?;
    Ok(sessions
        .into_iter()
        .filter(|session| {
            state
                .session_policy
                .is_valid(session.created_at_s, session.last_seen_at_s, now_s)
        })
        .map(|session| SessionView {
            current: session.id == who.session_id,
            id: session.id,
            client: session.client,
            created_at_s: session.created_at_s,
            last_seen_at_s: session.last_seen_at_s,
        })
        .collect())
}

/// Changes the password after checking the current one (401 `invalid_credentials` if wrong,
/// then 422 if the new one is refused), and ends every session of the account. Returns how
/// many sessions were closed.
pub(crate) async fn change_password_of(
    state: &AppState,
    who: &Authenticated,
    current_password: &str,
    new_password: &str,
) -> Result<u64, ApiError> {
    reauthenticate(state, who, current_password).await?;
    let password =
        Password::parse(new_password).map_err(|error| invalid(format!("new_password: {error}")))?;
    let hasher = state.hasher.clone();
    let hash = blocking(move || hasher.hash(&password, &mut rand::rng())).await;
    state.db.set_password_hash(&who.user.id, &hash).await?;
    let revoked = state
        .db
        .revoke_sessions_of(&who.user.id, state.clock.now_s())
        .await?;
    audit(
        state,
        AuditEvent::new(EventKind::PasswordChanged, state.clock.now_ms())
            .actor(&who.user.id)
            .detail("sesiones_cerradas", revoked.to_string()),
    )
    .await;
    Ok(revoked)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationRequest {
    /// Cuban mobile number, e.g. `+53 5123 4567`.
    pub phone: String,
    pub display_name: String,
    /// 8 to 128 characters, not among the most common passwords.
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationAccepted {
    /// Always `confirmation_sent`: the answer does not say whether the number had an account.
    pub status: &'static str,
    pub message: &'static str,
}

/// Registers a person and sends a confirmation code by SMS. The answer is the same whether
/// or not the number already has an account (that person gets an SMS saying so instead), so
/// registration cannot be used to find out who has an account.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "cuentas",
    request_body = RegistrationRequest,
    responses(
        (status = 202, description = "SMS en camino", body = RegistrationAccepted),
        (status = 400, description = "JSON mal formado", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Datos no válidos", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn register(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RegistrationRequest>,
) -> Result<(StatusCode, Json<RegistrationAccepted>), ApiError> {
    let phone = parse_phone(&request.phone)?;
    let display_name = DisplayName::parse(&request.display_name).ok_or_else(|| {
        invalid(format!(
            "display_name: entre 1 y {DISPLAY_NAME_CHARS_MAX} caracteres, sin caracteres de control"
        ))
    })?;
    let password = Password::parse(&request.password)
        .map_err(|error| invalid(format!("password: {error}")))?;
    register_account(
        &state,
        NewAccount {
            phone,
            display_name,
            password,
        },
        Channel::Api,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RegistrationAccepted {
            status: "confirmation_sent",
            message: "Si el número puede registrarse, le enviamos un SMS con un código.",
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationRequest {
    pub phone: String,
    /// The six digits of the SMS.
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmationDone {
    /// `active`.
    pub status: &'static str,
}

/// Confirms the phone number with the SMS code and activates the account.
#[utoipa::path(post, path = "/api/v1/accounts/confirmation", tag = "cuentas",
    request_body = ConfirmationRequest,
    responses(
        (status = 200, description = "Cuenta activa", body = ConfirmationDone),
        (status = 422, description = "Código no válido o vencido", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ConfirmationRequest>,
) -> Result<Json<ConfirmationDone>, ApiError> {
    let phone = parse_phone(&request.phone)?;
    match confirm_account(&state, &phone, &request.code).await? {
        ConfirmOutcome::Confirmed => Ok(Json(ConfirmationDone { status: "active" })),
        ConfirmOutcome::Refused => Err(invalid("el código no es válido o venció")),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub phone: String,
    pub password: String,
    /// The six digits of the authenticator app, or a recovery code; required once the account
    /// has a second factor.
    #[serde(default)]
    pub second_factor_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionCreated {
    /// The bearer token: send `Authorization: Bearer <token>`. Shown once; only its hash is kept.
    pub token: String,
    pub session_id: String,
    /// Seconds of inactivity after which the session ends.
    pub idle_timeout_s: u64,
    /// Seconds after which the session ends whatever happens.
    pub absolute_timeout_s: u64,
    /// When this device was not known yet: a token to send back in `X-Ceiba-Device` at the
    /// next sign-in, so a lockout of unknown devices does not lock this one out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
}

fn too_many(retry_after_s: u64) -> Response {
    let mut response = ApiError::with_detail(
        ErrorCode::TooManyAttempts,
        format!(
            "vuelva a intentarlo dentro de {} minutos",
            retry_after_s.div_ceil(60)
        ),
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&retry_after_s.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Signs in with phone number and password and opens a session. Wrong number, wrong password
/// and no such account all get the same answer in the same time; ten failures from devices the
/// account has not used lock such devices out for 30 minutes (see ARCHITECTURE.md).
#[utoipa::path(post, path = "/api/v1/sessions", tag = "cuentas",
    request_body = SignInRequest,
    params(("x-ceiba-device" = Option<String>, Header, description = "El device_token de un inicio de sesión anterior")),
    responses(
        (status = 201, description = "Sesión abierta", body = SessionCreated),
        (status = 401, description = "Credenciales no válidas", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Cuenta no activa", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Demasiados intentos", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SignInRequest>,
) -> Result<Response, ApiError> {
    let phone = parse_phone(&request.phone)?;
    let device = headers
        .get(HeaderName::from_static(DEVICE_HEADER))
        .and_then(|value| value.to_str().ok())
        .and_then(|text| DeviceToken::parse(text.trim()).ok())
        .map(|token| token.hash());
    let attempt = SignInAttempt {
        phone,
        password: &request.password,
        second_factor_code: request.second_factor_code.as_deref(),
        device,
        channel: Channel::Api,
    };
    match sign_in_person(&state, attempt).await? {
        SignInOutcome::SignedIn(session) => Ok((
            StatusCode::CREATED,
            Json(SessionCreated {
                token: session.token.expose().to_owned(),
                session_id: session.session_id,
                idle_timeout_s: state.session_policy.idle_timeout_s,
                absolute_timeout_s: state.session_policy.absolute_timeout_s,
                device_token: session
                    .device_token
                    .map(|device| device.expose().to_owned()),
            }),
        )
            .into_response()),
        SignInOutcome::Locked { retry_after_s } => Ok(too_many(retry_after_s)),
        SignInOutcome::InvalidCredentials => Err(ApiError::new(ErrorCode::InvalidCredentials)),
        SignInOutcome::NotActive => Err(ApiError::new(ErrorCode::AccountNotActive)),
        SignInOutcome::SecondFactorMissing => Err(ApiError::with_detail(
            ErrorCode::SecondFactorRequired,
            "envíe second_factor_code: el código de su aplicación o un código de recuperación",
        )),
        SignInOutcome::SecondFactorWrong(reason) => Err(ApiError::with_detail(
            ErrorCode::SecondFactorRequired,
            reason,
        )),
    }
}

/// Ends the session whose token came with the request.
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "cuentas",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Sesión cerrada"),
        (status = 401, description = "Sin sesión", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn sign_out(
    State(state): State<AppState>,
    who: Authenticated,
) -> Result<StatusCode, ApiError> {
    revoke(&state, &who, &who.session_id).await
}

async fn revoke(
    state: &AppState,
    who: &Authenticated,
    session_id: &str,
) -> Result<StatusCode, ApiError> {
    if revoke_session_of(state, &who.user.id, session_id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        // Another person's session, or none: the same answer, so ids reveal nothing.
        Err(ApiError::with_detail(
            ErrorCode::NotFound,
            "no hay tal sesión",
        ))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: String,
    /// E.164; the owner sees it in full.
    pub phone: String,
    pub display_name: String,
    pub roles: Vec<&'static str>,
    /// The carné de identidad in full: this is its owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub national_id: Option<String>,
    /// Whether a USSD PIN is set (never the PIN).
    pub has_pin: bool,
}

/// The signed-in person.
#[utoipa::path(get, path = "/api/v1/me", tag = "cuentas", security(("bearer" = [])),
    responses(
        (status = 200, description = "La cuenta", body = Me),
        (status = 401, description = "Sin sesión", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn me(who: Authenticated) -> Json<Me> {
    Json(Me {
        id: who.user.id.clone(),
        phone: who.user.phone.clone(),
        display_name: who.user.display_name.clone(),
        roles: who.user.roles.iter().map(|role| role.as_str()).collect(),
        national_id: who.user.national_id.clone(),
        has_pin: who.user.pin_hash.is_some(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub client: String,
    pub created_at_s: u64,
    pub last_seen_at_s: u64,
    /// The session this request came with.
    pub current: bool,
}

/// The person's open sessions, to spot one they do not recognise and close it.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "cuentas", security(("bearer" = [])),
    responses(
        (status = 200, description = "Sesiones abiertas", body = Vec<SessionView>),
        (status = 401, description = "Sin sesión", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_sessions(
    State(state): State<AppState>,
    who: Authenticated,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    Ok(Json(open_sessions(&state, &who).await?))
}

/// Closes one of the person's sessions.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "cuentas",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id de la sesión")),
    responses(
        (status = 204, description = "Sesión cerrada"),
        (status = 401, description = "Sin sesión", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No hay tal sesión", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_my_session(
    State(state): State<AppState>,
    who: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    revoke(&state, &who, &id).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    /// Masked: administrators identify people without handling their full number here.
    pub phone: String,
    pub display_name: String,
    pub status: &'static str,
    pub roles: Vec<&'static str>,
    /// The carné de identidad: administrators may see it in full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub national_id: Option<String>,
}

/// An account, for administrators.
#[utoipa::path(get, path = "/api/v1/admin/users/{id}", tag = "administración",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del usuario")),
    responses(
        (status = 200, description = "La cuenta", body = UserView),
        (status = 401, description = "Sin sesión", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No es administrador", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No existe", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn admin_user(
    State(state): State<AppState>,
    _admin: Authorized<Administrator>,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let user = state
        .db
        .user_by_id(&id)
        .await?
        .ok_or_else(|| ApiError::with_detail(ErrorCode::NotFound, "no existe tal usuario"))?;
    let phone = PhoneNumber::parse(&user.phone)
        .map(|phone| phone.masked())
        .unwrap_or_else(|_| "•••".to_owned());
    Ok(Json(UserView {
        id: user.id,
        phone,
        display_name: user.display_name,
        status: user.status.as_str(),
        roles: user.roles.iter().map(|role| role.as_str()).collect(),
        national_id: user.national_id,
    }))
}

/// Where a sign-in stands with the second factor.
enum SecondFactor {
    NotEnrolled,
    Proven,
    Missing,
    Wrong(String),
}

async fn check_second_factor(
    state: &AppState,
    user_id: &str,
    presented: Option<&str>,
    now_s: u64,
) -> Result<SecondFactor, ApiError> {
    let Some(enrolled) = state.db.second_factor(user_id).await? else {
        return Ok(SecondFactor::NotEnrolled);
    };
    if !enrolled.confirmed {
        return Ok(SecondFactor::NotEnrolled);
    }
    let Some(presented) = presented.map(str::trim).filter(|code| !code.is_empty()) else {
        return Ok(SecondFactor::Missing);
    };
    // Six digits are a TOTP code; anything longer may be a recovery code.
    if presented.chars().filter(char::is_ascii_digit).count() <= 8 && presented.len() <= 8 {
        let secret = open_totp_secret(state, user_id, &enrolled.totp_secret)?;
        return Ok(
            match secret.verify(presented, now_s, enrolled.last_used_step) {
                Ok(step) if state.db.use_totp_step(user_id, step).await? => SecondFactor::Proven,
                Ok(_) => SecondFactor::Wrong(TotpError::Replayed.to_string()),
                Err(error) => SecondFactor::Wrong(error.to_string()),
            },
        );
    }
    let Ok(code) = RecoveryCode::parse(presented) else {
        return Ok(SecondFactor::Wrong("el código no es válido".to_owned()));
    };
    Ok(
        if state
            .db
            .use_recovery_code(user_id, &code.hash().to_hex(), state.clock.now_ms())
            .await?
        {
            SecondFactor::Proven
        } else {
            SecondFactor::Wrong("el código de recuperación no es válido o ya se usó".to_owned())
        },
    )
}

/// Opens a stored (sealed) TOTP secret; a failure is a server fault, logged, never detailed.
fn open_totp_secret(state: &AppState, user_id: &str, sealed: &str) -> Result<TotpSecret, ApiError> {
    let bytes = state.sealer.open(sealed, user_id).map_err(|error| {
        tracing::error!(%error, "a stored TOTP secret does not open");
        ApiError::new(ErrorCode::Internal)
    })?;
    let array: [u8; 20] = bytes[..].try_into().map_err(|_| {
        tracing::error!("a stored TOTP secret has the wrong length");
        ApiError::new(ErrorCode::Internal)
    })?;
    Ok(TotpSecret::from_bytes(array))
}

/// Checks the person's current password again before a sensitive change.
async fn reauthenticate(
    state: &AppState,
    who: &Authenticated,
    password: &str,
) -> Result<(), ApiError> {
    let refused = || {
        ApiError::with_detail(
            ErrorCode::InvalidCredentials,
            "la contraseña actual no es correcta",
        )
    };
    let presented = PresentedSecret::parse(password).map_err(|_| refused())?;
    let hasher = state.hasher.clone();
    let stored = who.user.password_hash.clone();
    let _verified = blocking(move || hasher.verify(&presented, &stored))
        .await
        .map_err(|_| refused())?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentRequest {
    /// The current password: enrolling a second factor is a sensitive change.
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentStarted {
    /// The TOTP secret in Base32, to type into an authenticator app.
    pub secret: String,
    /// The same as an `otpauth://` URI, for a QR code.
    pub otpauth_uri: String,
}

/// Starts enrolling an authenticator app (TOTP, RFC 6238). Confirm with a first code.
#[utoipa::path(post, path = "/api/v1/me/second-factor", tag = "cuentas",
    security(("bearer" = [])), request_body = EnrolmentRequest,
    responses(
        (status = 201, description = "Secreto generado; falta confirmarlo", body = EnrolmentStarted),
        (status = 401, description = "Sin sesión o contraseña incorrecta", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Ya tiene un segundo factor", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn begin_second_factor(
    State(state): State<AppState>,
    who: Authenticated,
    ApiJson(request): ApiJson<EnrolmentRequest>,
) -> Result<(StatusCode, Json<EnrolmentStarted>), ApiError> {
    reauthenticate(&state, &who, &request.password).await?;
    let secret = TotpSecret::generate(&mut rand::rng());
    // Sealed before storing: a copy of the database alone must not give the codes away.
    let sealed = state
        .sealer
        .seal(secret.as_bytes(), &who.user.id, &mut rand::rng());
    if !state.db.begin_second_factor(&who.user.id, &sealed).await? {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "la cuenta ya tiene un segundo factor confirmado",
        ));
    }
    let label = PhoneNumber::parse(&who.user.phone)
        .map(|phone| phone.as_e164().to_owned())
        .unwrap_or_else(|_| who.user.id.clone());
    Ok((
        StatusCode::CREATED,
        Json(EnrolmentStarted {
            secret: secret.to_base32(),
            otpauth_uri: secret.otpauth_uri(&label),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentConfirmation {
    /// The code the authenticator app shows now.
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentDone {
    /// Ten single-use recovery codes, shown this once: keep them on paper.
    pub recovery_codes: Vec<String>,
}

/// Confirms the authenticator app with its first code and issues recovery codes.
#[utoipa::path(post, path = "/api/v1/me/second-factor/confirmation", tag = "cuentas",
    security(("bearer" = [])), request_body = EnrolmentConfirmation,
    responses(
        (status = 200, description = "Segundo factor activo", body = EnrolmentDone),
        (status = 401, description = "Sin sesión", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Código no válido", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm_second_factor(
    State(state): State<AppState>,
    who: Authenticated,
    ApiJson(request): ApiJson<EnrolmentConfirmation>,
) -> Result<Json<EnrolmentDone>, ApiError> {
    let pending = state
        .db
        .second_factor(&who.user.id)
        .await?
        .filter(|factor| !factor.confirmed)
        .ok_or_else(|| invalid("no hay un segundo factor pendiente de confirmar"))?;
    let secret = open_totp_secret(&state, &who.user.id, &pending.totp_secret)?;
    let step = secret
        .verify(&request.code, state.clock.now_s(), None)
        .map_err(|error| invalid(format!("code: {error}")))?;
    let codes = RecoveryCodes::generate(&mut rand::rng(), 10);
    let hashes: Vec<String> = codes.hashes().iter().map(|hash| hash.to_hex()).collect();
    let now_ms = state.clock.now_ms();
    if !state
        .db
        .confirm_second_factor(&who.user.id, step, &hashes, now_ms)
        .await?
    {
        return Err(invalid("no hay un segundo factor pendiente de confirmar"));
    }
    audit(
        &state,
        AuditEvent::new(EventKind::SecondFactorEnrolled, now_ms).actor(&who.user.id),
    )
    .await;
    Ok(Json(EnrolmentDone {
        recovery_codes: codes.codes().iter().map(|code| code.formatted()).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the password after checking the current one, and ends every session of the
/// account, this one included: whoever knew the old password is out.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "cuentas",
    security(("bearer" = [])), request_body = PasswordChange,
    responses(
        (status = 204, description = "Contraseña cambiada; todas las sesiones cerradas"),
        (status = 401, description = "Sin sesión o contraseña actual incorrecta", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "La nueva contraseña no es válida", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    who: Authenticated,
    ApiJson(request): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    change_password_of(
        &state,
        &who,
        &request.current_password,
        &request.new_password,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesChange {
    /// The complete list of roles the account will have.
    pub roles: Vec<String>,
}

/// Sets an account's roles (the whole list), for administrators; logged in the audit log.
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/roles", tag = "administración",
    security(("bearer" = [])), request_body = RolesChange,
    params(("id" = String, Path, description = "El id del usuario")),
    responses(
        (status = 204, description = "Roles cambiados"),
        (status = 401, description = "Sin sesión", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No es administrador", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No existe", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Un rol no existe", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn admin_set_roles(
    State(state): State<AppState>,
    admin: Authorized<Administrator>,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<RolesChange>,
) -> Result<StatusCode, ApiError> {
    if change.roles.len() > Role::ALL.len() {
        return Err(invalid("roles: demasiados"));
    }
    let mut roles = Vec::with_capacity(change.roles.len());
    for name in &change.roles {
        let role = Role::parse(name).map_err(|error| invalid(format!("roles: {error}")))?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    roles.sort_by_key(|role| role.as_str());
    if id == admin.who.user.id && !roles.contains(&Role::Administrator) {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "un administrador no puede quitarse a sí mismo el rol de administrador",
        ));
    }
    if !state.db.set_roles(&id, &roles).await? {
        return Err(ApiError::with_detail(
            ErrorCode::NotFound,
            "no existe tal usuario",
        ));
    }
    let names: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
    audit(
        &state,
        AuditEvent::new(EventKind::RoleChanged, state.clock.now_ms())
            .actor(&admin.who.user.id)
            .subject(&id)
            .detail("roles", names.join(",")),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Disables an account and ends all its sessions, for administrators.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/disable", tag = "administración",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del usuario")),
    responses(
        (status = 204, description = "Cuenta desactivada; sus sesiones, cerradas"),
        (status = 401, description = "Sin sesión", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No es administrador", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No existe", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Es la propia cuenta", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn admin_disable_user(
    State(state): State<AppState>,
    admin: Authorized<Administrator>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if id == admin.who.user.id {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "un administrador no puede desactivar su propia cuenta",
        ));
    }
    if state.db.user_by_id(&id).await?.is_none() {
        return Err(ApiError::with_detail(
            ErrorCode::NotFound,
            "no existe tal usuario",
        ));
    }
    state.db.set_user_status(&id, UserStatus::Disabled).await?;
    let revoked = state
        .db
        .revoke_sessions_of(&id, state.clock.now_s())
        .await?;
    audit(
        &state,
        AuditEvent::new(EventKind::AccountDisabled, state.clock.now_ms())
            .actor(&admin.who.user.id)
            .subject(&id)
            .detail("sesiones_cerradas", revoked.to_string()),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NationalIdChange {
    /// The 11 digits of the carné de identidad.
    pub national_id: String,
    /// The current password: this is personal data.
    pub password: String,
}

/// Records the person's carné de identidad (optional). Only its owner and administrators ever
/// see it in full.
#[utoipa::path(put, path = "/api/v1/me/national-id", tag = "cuentas",
    security(("bearer" = [])), request_body = NationalIdChange,
    responses(
        (status = 204, description = "Carné guardado"),
        (status = 401, description = "Sin sesión o contraseña incorrecta", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Ese carné está en otra cuenta", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "El carné no es válido", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_national_id(
    State(state): State<AppState>,
    who: Authenticated,
    ApiJson(change): ApiJson<NationalIdChange>,
) -> Result<StatusCode, ApiError> {
    reauthenticate(&state, &who, &change.password).await?;
    let today = CalendarDate::from_unix_seconds(state.clock.now_s());
    let national_id = NationalId::parse(&change.national_id, today)
        .map_err(|error| invalid(format!("national_id: {error}")))?;
    if !state.db.set_national_id(&who.user.id, &national_id).await? {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "ese carné de identidad ya figura en otra cuenta; contacte con soporte",
        ));
    }
    audit(
        &state,
        AuditEvent::new(EventKind::NationalIdSet, state.clock.now_ms()).actor(&who.user.id),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinChange {
    /// Four digits, not a guessable one (1234, 0000, 2580 …).
    pub pin: String,
    pub password: String,
}

/// Sets the 4-digit PIN that the USSD channel (basic phones) asks for, bound to this number.
#[utoipa::path(put, path = "/api/v1/me/pin", tag = "cuentas",
    security(("bearer" = [])), request_body = PinChange,
    responses(
        (status = 204, description = "PIN guardado"),
        (status = 401, description = "Sin sesión o contraseña incorrecta", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "El PIN no es válido", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_pin(
    State(state): State<AppState>,
    who: Authenticated,
    ApiJson(change): ApiJson<PinChange>,
) -> Result<StatusCode, ApiError> {
    reauthenticate(&state, &who, &change.password).await?;
    let pin = Pin::parse(&change.pin).map_err(|error| invalid(format!("pin: {error}")))?;
    let hasher = state.hasher.clone();
    let hash = blocking(move || hasher.hash(&pin, &mut rand::rng())).await;
    state.db.set_pin_hash(&who.user.id, &hash).await?;
    audit(
        &state,
        AuditEvent::new(EventKind::PinChanged, state.clock.now_ms()).actor(&who.user.id),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneChange {
    /// The new Cuban mobile number.
    pub phone: String,
    pub password: String,
}

/// Starts moving the account to another number: a code goes by SMS to the new number.
#[utoipa::path(post, path = "/api/v1/me/phone", tag = "cuentas",
    security(("bearer" = [])), request_body = PhoneChange,
    responses(
        (status = 202, description = "Código enviado al número nuevo"),
        (status = 401, description = "Sin sesión o contraseña incorrecta", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "El número no es válido", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Demasiados SMS a ese número", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn begin_phone_change(
    State(state): State<AppState>,
    who: Authenticated,
    ApiJson(change): ApiJson<PhoneChange>,
) -> Result<StatusCode, ApiError> {
    reauthenticate(&state, &who, &change.password).await?;
    let phone = parse_phone(&change.phone)?;
    if phone.as_e164() == who.user.phone {
        return Err(invalid("phone: es el número que ya tiene la cuenta"));
    }
    let now_ms = state.clock.now_ms();
    ensure_sms_allowed(&state, &phone, now_ms).await?;
    let code = ConfirmationCode::generate(&mut rand::rng());
    let sms = format!(
        "Ceiba: para usar este número en su cuenta, su código es {}. Vence en 10 minutos.",
        code.expose()
    );
    state
        .db
        .begin_phone_change(
            &who.user.id,
            &phone,
            &code.hash_for(&who.user.id),
            now_ms + CONFIRMATION_TTL_MS,
            &sms,
            now_ms,
        )
        .await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneChangeConfirmation {
    pub code: String,
}

/// Confirms the new number with the SMS code; the old number is told by SMS.
#[utoipa::path(post, path = "/api/v1/me/phone/confirmation", tag = "cuentas",
    security(("bearer" = [])), request_body = PhoneChangeConfirmation,
    responses(
        (status = 204, description = "Número cambiado"),
        (status = 401, description = "Sin sesión", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Código no válido o vencido", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm_phone_change(
    State(state): State<AppState>,
    who: Authenticated,
    ApiJson(confirmation): ApiJson<PhoneChangeConfirmation>,
) -> Result<StatusCode, ApiError> {
    let refused = || invalid("el código no es válido o venció");
    let code = ConfirmationCode::parse(&confirmation.code).ok_or_else(refused)?;
    let now_ms = state.clock.now_ms();
    match state
        .db
        .confirm_phone_change(&who.user.id, &code.hash_for(&who.user.id), now_ms)
        .await?
    {
        Confirmation::Confirmed => {}
        Confirmation::WrongCode | Confirmation::Void => return Err(refused()),
    }
    if let Ok(old) = PhoneNumber::parse(&who.user.phone) {
        state
            .db
            .queue_sms(
                &old,
                "Ceiba: el número de su cuenta acaba de cambiar. Si no fue usted, contacte con \
                 soporte de inmediato.",
                now_ms,
            )
            .await?;
    }
    audit(
        &state,
        AuditEvent::new(EventKind::PhoneChanged, now_ms).actor(&who.user.id),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
