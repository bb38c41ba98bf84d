//! The account pages: sign-up, phone confirmation, sign-in (with the second factor), and the
//! account page with the open sessions. Plain forms that work without JavaScript; each posts to
//! its own address, is shown again with one plain sentence and what was typed (never a
//! password) when something is wrong, and redirects with 303 See Other when it worked. The
//! work itself is `accounts.rs`'s, shared with the JSON API.
//!
//! Sessions travel in the `ceiba_sesion` cookie and forms carry an anti-CSRF token (`_csrf`):
//! the session's own once signed in (checked by [`Authenticated`]), a random one doubled in
//! the `ceiba_csrf` cookie before (checked here). See `auth.rs`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use ceiba_identity::{
    CalendarDate, CsrfToken, DeviceToken, Password, PasswordError, PhoneNumber, PhoneNumberError,
    Role,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::accounts::{
    Channel, ConfirmOutcome, DisplayName, NewAccount, SessionView, SignInAttempt, SignInOutcome,
    confirm_account, open_sessions, register_account, revoke_session_of, sign_in_person,
};
use crate::auth::{
    self, Authenticated, DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE_S, FORM_CONTENT_TYPE,
    PRE_SESSION_CSRF_COOKIE, SESSION_COOKIE,
};
use crate::i18n::{Lang, Texts};
use crate::pages::{Frame, html, page_lang, remember_lang_choice};
use crate::problem::{ApiError, ErrorCode};

pub const ACCOUNT_PATH: &str = "/cuenta";
pub const SIGN_UP_PATH: &str = "/cuenta/registro";
pub const CONFIRM_PATH: &str = "/cuenta/confirmar";
pub const SIGN_IN_PATH: &str = "/cuenta/entrar";
pub const SIGN_OUT_PATH: &str = "/cuenta/salir";
pub const REVOKE_PATH: &str = "/cuenta/sesiones/{id}/cerrar";

/// The account page lists at most this many sessions, newest first, so that it stays well
/// under 30 KB whatever happens.
const SESSIONS_SHOWN_MAX: usize = 25;

/// A form body (`application/x-www-form-urlencoded`), with refusals from the error table.
/// Unknown fields are ignored: a browser may add a button's name.
#[derive(Debug)]
pub struct PageForm<T>(pub T);

impl<T, S> FromRequest<S> for PageForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|kind| kind.trim().eq_ignore_ascii_case(FORM_CONTENT_TYPE));
        if !is_form {
            return Err(ApiError::with_detail(
                ErrorCode::UnsupportedMediaType,
                format!("se espera Content-Type: {FORM_CONTENT_TYPE}"),
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(ErrorCode::PayloadTooLarge)
                } else {
                    ApiError::with_detail(ErrorCode::BadRequest, rejection.body_text())
                }
            })?;
        serde_urlencoded::from_bytes(&bytes)
            .map(PageForm)
            .map_err(|error| ApiError::with_detail(ErrorCode::BadRequest, error.to_string()))
    }
}

/// The query of a page: a language choice, and which notice to show after a redirect.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    lang: Option<String>,
    aviso: Option<String>,
    /// Where the sign-in form sends the person once in (a path of this site).
    siguiente: Option<String>,
}

/// `path` if it is a path of this site (`/…`, not `//host`), to go to after signing in.
pub(crate) fn local_path(path: &str) -> Option<&str> {
    (path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= 300
        && path.chars().all(|c| c.is_ascii_graphic() && c != '\\'))
    .then_some(path)
}

impl PageQuery {
    /// The page's language, and the explicit choice to remember, if any.
    fn lang(&self, headers: &HeaderMap) -> (Lang, Option<Lang>) {
        (
            page_lang(self.lang.as_deref(), headers),
            self.lang.as_deref().and_then(Lang::parse),
        )
    }

    fn notice(&self, texts: &'static Texts) -> Option<&'static str> {
        match self.aviso.as_deref()? {
            "enviado" => Some(texts.sms_sent_notice),
            "confirmada" => Some(texts.confirmed_notice),
            "salida" => Some(texts.signed_out_notice),
            _ => None,
        }
    }
}

/// Why a form is shown again.
#[derive(Debug)]
enum FormProblem {
    Phone(PhoneNumberError),
    Name,
    Password(PasswordError),
    Code,
    Credentials,
    NotActive,
    SecondFactorMissing,
    SecondFactorWrong(String),
    Locked { retry_after_s: u64 },
}

/// A reason from a domain crate (a Spanish clause) as a sentence.
pub(crate) fn as_sentence(reason: &str) -> String {
    let mut characters = reason.chars();
    let mut sentence: String = characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default();
    if !sentence.ends_with('.') {
        sentence.push('.');
    }
    sentence
}

impl FormProblem {
    /// One plain sentence for the person. Spanish pages say exactly what the domain crate
    /// said (its messages are Spanish); English pages say it in general terms.
    fn sentence(&self, lang: Lang) -> String {
        let texts = lang.texts();
        let spanish = lang == Lang::Es;
        match self {
            FormProblem::Phone(error) if spanish => as_sentence(&error.to_string()),
            FormProblem::Phone(_) => texts.error_phone.to_owned(),
            FormProblem::Name => texts.error_name.to_owned(),
            FormProblem::Password(error) if spanish => as_sentence(&error.to_string()),
            FormProblem::Password(_) => texts.error_password.to_owned(),
            FormProblem::Code => texts.error_code.to_owned(),
            FormProblem::Credentials => texts.error_credentials.to_owned(),
            FormProblem::NotActive => texts.error_not_active.to_owned(),
            FormProblem::SecondFactorMissing => texts.error_second_factor_missing.to_owned(),
            FormProblem::SecondFactorWrong(reason) if spanish => {
                format!("El segundo factor no es correcto: {reason}.")
            }
            FormProblem::SecondFactorWrong(_) => texts.error_second_factor_wrong.to_owned(),
            FormProblem::Locked { retry_after_s } => texts
                .error_locked
                .replace("{n}", &retry_after_s.div_ceil(60).max(1).to_string()),
        }
    }
}

/// The pre-session anti-CSRF token this browser already has, or a fresh one and the cookie
/// that hands it over.
fn pre_session_csrf(headers: &HeaderMap, secure: bool) -> (CsrfToken, Option<HeaderValue>) {
    match auth::cookie(headers, PRE_SESSION_CSRF_COOKIE)
        .and_then(|text| CsrfToken::parse(text).ok())
    {
        Some(token) => (token, None),
        None => {
            let token = CsrfToken::generate(&mut rand::rng());
            let cookie = auth::set_cookie(PRE_SESSION_CSRF_COOKIE, token.expose(), None, secure);
            (token, Some(cookie))
        }
    }
}

/// Double submit: the form's `_csrf` must be the value of the `ceiba_csrf` cookie, which only
/// our own pages set and which a browser sends only on requests that Ceiba's pages start.
fn check_pre_session_csrf(headers: &HeaderMap, presented: &str) -> Result<(), ApiError> {
    let token =
        auth::cookie(headers, PRE_SESSION_CSRF_COOKIE).and_then(|text| CsrfToken::parse(text).ok());
    if token.is_some_and(|token| token.matches(presented)) {
        Ok(())
    } else {
        Err(ApiError::with_detail(
            ErrorCode::CsrfRejected,
            "el campo _csrf del formulario no coincide con la cookie ceiba_csrf",
        ))
    }
}

/// A page, with the cookies it sets.
pub(crate) fn page(
    lang: Lang,
    body: Result<String, askama::Error>,
    cookies: impl IntoIterator<Item = HeaderValue>,
    chosen: Option<Lang>,
) -> Response {
    let mut response = html(StatusCode::OK, lang, body);
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    remember_lang_choice(&mut response, chosen);
    response
}

/// 303 See Other to `location`, with the cookies it sets.
pub(crate) fn see_other(
    location: &str,
    cookies: impl IntoIterator<Item = HeaderValue>,
) -> Response {
    let mut response = Redirect::to(location).into_response();
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Where a request without a live session goes: the sign-in form, forgetting a session cookie
/// that no longer works.
fn to_sign_in(state: &AppState, headers: &HeaderMap, notice: Option<&str>) -> Response {
    let location = match notice {
        Some(notice) => format!("{SIGN_IN_PATH}?aviso={notice}"),
        None => SIGN_IN_PATH.to_owned(),
    };
    let stale = auth::cookie(headers, SESSION_COOKIE).is_some();
    see_other(
        &location,
        stale.then(|| auth::clear_cookie(SESSION_COOKIE, state.tls)),
    )
}

/// The session, or where to go without one: a missing, expired or revoked session sends to
/// the sign-in form; any other refusal (a missing `_csrf`: 403) is answered as it is.
pub(crate) fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Result<Authenticated, Response>, ApiError> {
    match who {
        Ok(who) => Ok(Ok(who)),
        Err(error) if error.code == ErrorCode::Unauthenticated => {
            Ok(Err(to_sign_in(state, headers, None)))
        }
        Err(error) => Err(error),
    }
}

// ---------------------------------------------------------------------------------------------
// Sign-up
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "cuenta_registro.html")]
struct SignUpPage<'a> {
    frame: Frame,
    csrf: &'a str,
    error: Option<String>,
    phone: &'a str,
    name: &'a str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignUpForm {
    telefono: String,
    nombre: String,
    contrasena: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

pub async fn sign_up_form(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, chosen) = query.lang(&headers);
    let (csrf, cookie) = pre_session_csrf(&headers, state.tls);
    let body = SignUpPage {
        frame: Frame::for_request(lang, &headers),
        csrf: csrf.expose(),
        error: None,
        phone: "",
        name: "",
    }
    .render();
    page(lang, body, cookie, chosen)
}

fn parse_sign_up(form: &SignUpForm) -> Result<NewAccount, FormProblem> {
    let phone = PhoneNumber::parse(&form.telefono).map_err(FormProblem::Phone)?;
    let display_name = DisplayName::parse(&form.nombre).ok_or(FormProblem::Name)?;
    let password = Password::parse(&form.contrasena).map_err(FormProblem::Password)?;
    Ok(NewAccount {
        phone,
        display_name,
        password,
    })
}

pub async fn sign_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(form): PageForm<SignUpForm>,
) -> Result<Response, ApiError> {
    check_pre_session_csrf(&headers, &form.csrf)?;
    match parse_sign_up(&form) {
        Ok(account) => {
            register_account(&state, account, Channel::Web).await?;
            Ok(see_other(&format!("{CONFIRM_PATH}?aviso=enviado"), None))
        }
        Err(problem) => {
            let lang = page_lang(None, &headers);
            let body = SignUpPage {
                frame: Frame::for_request(lang, &headers),
                csrf: &form.csrf,
                error: Some(problem.sentence(lang)),
                phone: &form.telefono,
                name: &form.nombre,
            }
            .render();
            Ok(page(lang, body, None, None))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Confirmation
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "cuenta_confirmar.html")]
struct ConfirmPage<'a> {
    frame: Frame,
    csrf: &'a str,
    notice: Option<&'static str>,
    error: Option<String>,
    phone: &'a str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfirmForm {
    telefono: String,
    codigo: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

pub async fn confirm_form(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, chosen) = query.lang(&headers);
    let (csrf, cookie) = pre_session_csrf(&headers, state.tls);
    let body = ConfirmPage {
        frame: Frame::for_request(lang, &headers),
        csrf: csrf.expose(),
        notice: query.notice(lang.texts()),
        error: None,
        phone: "",
    }
    .render();
    page(lang, body, cookie, chosen)
}

pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<Response, ApiError> {
    check_pre_session_csrf(&headers, &form.csrf)?;
    let problem = match PhoneNumber::parse(&form.telefono) {
        Err(error) => FormProblem::Phone(error),
        Ok(phone) => match confirm_account(&state, &phone, form.codigo.trim()).await? {
            ConfirmOutcome::Confirmed => {
                return Ok(see_other(&format!("{SIGN_IN_PATH}?aviso=confirmada"), None));
            }
            ConfirmOutcome::Refused => FormProblem::Code,
        },
    };
    let lang = page_lang(None, &headers);
    let body = ConfirmPage {
        frame: Frame::for_request(lang, &headers),
        csrf: &form.csrf,
        notice: None,
        error: Some(problem.sentence(lang)),
        phone: &form.telefono,
    }
    .render();
    Ok(page(lang, body, None, None))
}

// ---------------------------------------------------------------------------------------------
// Sign-in
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "cuenta_entrar.html")]
struct SignInPage<'a> {
    frame: Frame,
    csrf: &'a str,
    notice: Option<&'static str>,
    error: Option<String>,
    phone: &'a str,
    /// Where to go once in (empty: the account page).
    next: &'a str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInForm {
    telefono: String,
    contrasena: String,
    segundo_factor: String,
    siguiente: String,
    #[serde(rename = "_csrf")]
    csrf: String,
}

pub async fn sign_in_form(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, chosen) = query.lang(&headers);
    let (csrf, cookie) = pre_session_csrf(&headers, state.tls);
    let body = SignInPage {
        frame: Frame::for_request(lang, &headers),
        csrf: csrf.expose(),
        notice: query.notice(lang.texts()),
        error: None,
        phone: "",
        next: query
            .siguiente
            .as_deref()
            .and_then(local_path)
            .unwrap_or_default(),
    }
    .render();
    page(lang, body, cookie, chosen)
}

pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(form): PageForm<SignInForm>,
) -> Result<Response, ApiError> {
    check_pre_session_csrf(&headers, &form.csrf)?;
    let problem = match PhoneNumber::parse(&form.telefono) {
        Err(error) => FormProblem::Phone(error),
        Ok(phone) => {
            let device = auth::cookie(&headers, DEVICE_COOKIE)
                .and_then(|text| DeviceToken::parse(text).ok())
                .map(|token| token.hash());
            let attempt = SignInAttempt {
                phone,
                password: &form.contrasena,
                second_factor_code: Some(&form.segundo_factor),
                device,
                channel: Channel::Web,
            };
            match sign_in_person(&state, attempt).await? {
                SignInOutcome::SignedIn(session) => {
                    let mut cookies = vec![auth::set_cookie(
                        SESSION_COOKIE,
                        session.token.expose(),
                        None,
                        state.tls,
                    )];
                    if let Some(device) = session.device_token {
                        cookies.push(auth::set_cookie(
                            DEVICE_COOKIE,
                            device.expose(),
                            Some(DEVICE_COOKIE_MAX_AGE_S),
                            state.tls,
                        ));
                    }
                    let next = local_path(&form.siguiente).unwrap_or(ACCOUNT_PATH);
                    return Ok(see_other(next, cookies));
                }
                SignInOutcome::Locked { retry_after_s } => FormProblem::Locked { retry_after_s },
                SignInOutcome::InvalidCredentials => FormProblem::Credentials,
                SignInOutcome::NotActive => FormProblem::NotActive,
                SignInOutcome::SecondFactorMissing => FormProblem::SecondFactorMissing,
                SignInOutcome::SecondFactorWrong(reason) => FormProblem::SecondFactorWrong(reason),
            }
        }
    };
    let lang = page_lang(None, &headers);
    let body = SignInPage {
        frame: Frame::for_request(lang, &headers),
        csrf: &form.csrf,
        notice: None,
        error: Some(problem.sentence(lang)),
        phone: &form.telefono,
        next: local_path(&form.siguiente).unwrap_or_default(),
    }
    .render();
    Ok(page(lang, body, None, None))
}

// ---------------------------------------------------------------------------------------------
// The account page, revocation, sign-out
// ---------------------------------------------------------------------------------------------

/// One row of the sessions table.
#[derive(Debug)]
struct SessionLine {
    id: String,
    client: &'static str,
    current: bool,
    created_iso: String,
    created_ago: String,
    last_seen_iso: String,
    last_seen_ago: String,
}

#[derive(Template)]
#[template(path = "cuenta.html")]
struct AccountPage<'a> {
    frame: Frame,
    csrf: &'a str,
    name: &'a str,
    phone: String,
    roles: String,
    sessions: Vec<SessionLine>,
    more: Option<String>,
}

/// `+53 5123 4567`: the owner sees the number in full, grouped as people write it.
pub(crate) fn phone_for_owner(e164: &str) -> String {
    match e164.strip_prefix("+53") {
        Some(national) if national.len() == 8 && national.is_ascii() => {
            format!("+53 {} {}", &national[..4], &national[4..])
        }
        _ => e164.to_owned(),
    }
}

/// An instant as `datetime` wants it: `2025-06-15T14:03:09Z`.
pub(crate) fn iso_utc(unix_s: u64) -> String {
    let date = CalendarDate::from_unix_seconds(unix_s);
    let second_of_day = unix_s % 86_400;
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        date.year(),
        date.month(),
        date.day(),
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// How long ago, in words: sessions last hours, so this reads better than a date and needs no
/// time zone.
fn ago(texts: &Texts, unix_s: u64, now_s: u64) -> String {
    let elapsed_s = now_s.saturating_sub(unix_s);
    if elapsed_s < 60 {
        texts.just_now.to_owned()
    } else if elapsed_s < 3600 {
        texts
            .minutes_ago
            .replace("{n}", &(elapsed_s / 60).to_string())
    } else {
        texts
            .hours_ago
            .replace("{n}", &(elapsed_s / 3600).to_string())
    }
}

fn session_line(texts: &Texts, session: SessionView, now_s: u64) -> SessionLine {
    SessionLine {
        client: match session.client.as_str() {
            "web" => texts.client_web,
            _ => texts.client_api,
        },
        current: session.current,
        created_iso: iso_utc(session.created_at_s),
        created_ago: ago(texts, session.created_at_s, now_s),
        last_seen_iso: iso_utc(session.last_seen_at_s),
        last_seen_ago: ago(texts, session.last_seen_at_s, now_s),
        id: session.id,
    }
}

pub async fn account(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = match signed_in(&state, &headers, who)? {
        Ok(who) => who,
        Err(redirect) => return Ok(redirect),
    };
    let (lang, chosen) = query.lang(&headers);
    let texts = lang.texts();
    let now_s = state.clock.now_s();
    let mut sessions = open_sessions(&state, &who).await?;
    let hidden = sessions.len().saturating_sub(SESSIONS_SHOWN_MAX);
    // The current session is always shown, even past the limit.
    if hidden > 0
        && let Some(position) = sessions.iter().position(|session| session.current)
        && position >= SESSIONS_SHOWN_MAX
    {
        sessions.swap(position, SESSIONS_SHOWN_MAX - 1);
    }
    sessions.truncate(SESSIONS_SHOWN_MAX);
    let roles: Vec<&str> = who
        .user
        .roles
        .iter()
        .map(|role: &Role| match lang {
            Lang::Es => role.label_es(),
            Lang::En => role.label_en(),
        })
        .collect();
    let body = AccountPage {
        frame: Frame {
            signed_in: true,
            ..Frame::new(lang)
        },
        csrf: who.csrf_token().expose(),
        name: &who.user.display_name,
        phone: phone_for_owner(&who.user.phone),
        roles: roles.join(", "),
        sessions: sessions
            .into_iter()
            .map(|session| session_line(texts, session, now_s))
            .collect(),
        more: (hidden > 0).then(|| texts.sessions_more.replace("{n}", &hidden.to_string())),
    }
    .render();
    Ok(page(lang, body, None, chosen))
}

/// Closes one of the person's sessions (the `_csrf` of the form is checked by
/// [`Authenticated`]); closing this one is signing out.
pub async fn revoke_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = match signed_in(&state, &headers, who)? {
        Ok(who) => who,
        Err(redirect) => return Ok(redirect),
    };
    if !revoke_session_of(&state, &who.user.id, &id).await? {
        // Another person's session, or none: the same answer, so ids reveal nothing.
        return Err(ApiError::with_detail(
            ErrorCode::NotFound,
            "no hay tal sesión",
        ));
    }
    if id == who.session_id {
        return Ok(to_sign_in(&state, &headers, Some("salida")));
    }
    Ok(see_other(ACCOUNT_PATH, None))
}

/// Ends this session and forgets its cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = match signed_in(&state, &headers, who)? {
        Ok(who) => who,
        Err(redirect) => return Ok(redirect),
    };
    revoke_session_of(&state, &who.user.id, &who.session_id).await?;
    Ok(to_sign_in(&state, &headers, Some("salida")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_numbers_read_as_people_write_them() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(1_750_000_000), "2025-06-15T15:06:40Z");
        assert_eq!(phone_for_owner("+5351234567"), "+53 5123 4567");
        assert_eq!(phone_for_owner("+1234"), "+1234");
        let texts = Lang::Es.texts();
        assert_eq!(ago(texts, 1000, 1030), "hace un momento");
        assert_eq!(ago(texts, 1000, 1000 + 5 * 60 + 10), "hace 5 min");
        assert_eq!(ago(texts, 1000, 1000 + 3 * 3600), "hace 3 h");
        assert_eq!(ago(texts, 2000, 1000), "hace un momento");
        assert_eq!(
            as_sentence("el número no es cubano"),
            "El número no es cubano."
        );
        assert_eq!(
            FormProblem::Locked { retry_after_s: 61 }.sentence(Lang::Es),
            "Demasiados intentos fallidos: vuelva a intentarlo dentro de 2 minutos."
        );
    }
}
