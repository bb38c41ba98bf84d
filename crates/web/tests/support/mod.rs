//! What the HTTP test binaries share: the app served on a loopback port, the check of a
//! problem document, accounts signed in (with a second factor where a role needs one), and a
//! running ledger.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use ceiba_identity::{Argon2Config, CredentialHasher, Password, PhoneNumber, Role, TotpSecret};
use ceiba_store::{Db, LeaseHolder, LedgerEngine, NewUser, UserStatus};
use ceiba_testkit::http::{Response, get, send};
use ceiba_web::clock::Clock;
use ceiba_web::{AppState, Metrics, ServerLimits};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PHONE: &str = "+53 5123 4567";
pub const PASSWORD: &str = "caballo-correcto-bateria";

pub const CSP_PATH: &str = "/api/v1/csp-reports";

pub static AUDIT_SIGNER: std::sync::LazyLock<ceiba_audit::CheckpointSigner> =
    std::sync::LazyLock::new(|| ceiba_audit::CheckpointSigner::from_seed([42; 32]));

/// The app's state as `ceiba serve` builds it, but with cheap Argon2 parameters: the real ones
/// take seconds per hash in a debug build, and the parameters are tested in ceiba-identity.
pub fn test_state(db: &Db) -> AppState {
    let hasher = CredentialHasher::new(Argon2Config::INSECURE_FOR_TESTS)
        .expect("the test parameters are valid");
    let mut state = AppState::new(
        db.clone(),
        Metrics::new(),
        AUDIT_SIGNER.public_key_bytes(),
        hasher,
        ceiba_identity::SecretSealer::from_key(&[9; 32]),
    );
    // Tests send many requests from 127.0.0.1; the limits have a test of their own.
    state.rate_limits = std::sync::Arc::new(ceiba_web::ratelimit::RateLimits::new(
        &ceiba_web::ratelimit::RateLimitSettings {
            requests_per_minute: 1_000_000,
            sensitive_requests_per_minute: 1_000_000,
            trusted_proxies: Vec::new(),
        },
    ));
    state
}

/// The router served on a loopback port, as `ceiba serve` runs it, until `shut_down`.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<std::io::Result<()>>,
    /// The server's clock, to move time forward.
    pub clock: Clock,
}

impl TestServer {
    pub async fn start(db: &Db) -> Result<TestServer, std::io::Error> {
        TestServer::with_limits(db, ServerLimits::default()).await
    }

    pub async fn with_limits(db: &Db, limits: ServerLimits) -> Result<TestServer, std::io::Error> {
        TestServer::with_state(test_state(db), limits).await
    }

    pub async fn with_state(
        state: AppState,
        limits: ServerLimits,
    ) -> Result<TestServer, std::io::Error> {
        let clock = state.clock.clone();
        let app = ceiba_web::router(state, limits);
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        // A dropped sender also stops the server, so a failed test leaves nothing serving.
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(ceiba_web::serve(listener, app, limits, shutdown));
        Ok(TestServer {
            addr,
            stop: Some(stop),
            task,
            clock,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> Result<Response, String> {
        get(&self.url(path)).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Result<Response, String> {
        send("GET", &self.url(path), headers, Vec::new()).await
    }

    pub async fn post_csp(
        &self,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Result<Response, String> {
        let headers = [("content-type", content_type)];
        send("POST", &self.url(CSP_PATH), &headers, body.into()).await
    }

    /// Sends a JSON body with extra headers.
    pub async fn send_json(
        &self,
        method: &str,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Result<Response, String> {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        send(method, &self.url(path), &all, body.to_string().into_bytes()).await
    }

    /// A request carrying a bearer token.
    pub async fn with_token(
        &self,
        method: &str,
        path: &str,
        token: &str,
    ) -> Result<Response, String> {
        let authorization = format!("Bearer {token}");
        send(
            method,
            &self.url(path),
            &[("authorization", &authorization)],
            Vec::new(),
        )
        .await
    }

    /// Begins the graceful shutdown: no new connections, requests in flight finish.
    pub fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Checks the RFC 9457 document every error answers with, and returns it for further checks.
pub fn assert_problem(response: &Response, status: u16, code: &str, instance: &str) -> Value {
    assert_eq!(response.status, status, "{}", response.text());
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json"),
        "{}",
        response.text()
    );
    let problem = response.json().expect("a problem is JSON");
    assert_eq!(
        problem["type"],
        format!("/api/problems#{code}"),
        "{problem}"
    );
    assert_eq!(problem["status"], status, "{problem}");
    assert_eq!(problem["code"], code, "{problem}");
    assert_eq!(problem["instance"], instance, "{problem}");
    let title = problem["title"].as_str().unwrap_or("");
    assert!(!title.is_empty(), "a problem has a title: {problem}");
    let request_id = response.header("x-request-id");
    assert!(request_id.is_some(), "no x-request-id header");
    assert_eq!(problem["request_id"].as_str(), request_id, "{problem}");
    problem
}

/// An active account made directly in storage, as `ceiba admin create-user` would.
pub async fn active_user(db: &Db, phone: &str, roles: &[Role]) -> Result<String, String> {
    active_user_named(db, phone, "Ana Pérez", roles).await
}

/// [`active_user`] with a name of its own, for tests where people must tell each other apart.
pub async fn active_user_named(
    db: &Db,
    phone: &str,
    display_name: &str,
    roles: &[Role],
) -> Result<String, String> {
    let hasher =
        CredentialHasher::new(Argon2Config::INSECURE_FOR_TESTS).map_err(|e| e.to_string())?;
    let password = Password::parse(PASSWORD).map_err(|e| e.to_string())?;
    let hash = hasher.hash(&password, &mut rand::rng());
    let id = uuid::Uuid::new_v4().to_string();
    let phone = PhoneNumber::parse(phone).map_err(|e| e.to_string())?;
    db.register_user(
        &NewUser {
            id: &id,
            phone: &phone,
            display_name,
            password_hash: &hash,
            status: UserStatus::Active,
            roles,
        },
        None,
        None,
        0,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(id)
}

/// The six digits of the newest SMS queued for `phone`.
pub async fn code_sent_to(db: &Db, phone: &str) -> Result<String, String> {
    let phone = PhoneNumber::parse(phone).map_err(|e| e.to_string())?;
    let due = db.due_sms(i64::MAX, 100).await.map_err(|e| e.to_string())?;
    let body = due
        .iter()
        .rev()
        .find(|sms| sms.phone == phone.as_e164())
        .map(|sms| sms.body.clone())
        .ok_or("no SMS was queued")?;
    body.split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() == 6)
        .map(str::to_owned)
        .ok_or_else(|| format!("no code in «{body}»"))
}

/// Signs in over the API with the password alone, from a known device when `device` is given.
pub async fn sign_in(
    server: &TestServer,
    phone: &str,
    password: &str,
    device: Option<&str>,
) -> Result<Response, String> {
    let headers: Vec<(&str, &str)> = device.map(|d| ("x-ceiba-device", d)).into_iter().collect();
    server
        .send_json(
            "POST",
            "/api/v1/sessions",
            &json!({"phone": phone, "password": password}),
            &headers,
        )
        .await
}

/// Signs in over the API with [`PASSWORD`] and a second-factor code (or a recovery code).
pub async fn sign_in_with_code(
    server: &TestServer,
    phone: &str,
    code: &str,
) -> Result<Response, String> {
    server
        .send_json(
            "POST",
            "/api/v1/sessions",
            &json!({"phone": phone, "password": PASSWORD, "second_factor_code": code}),
            &[],
        )
        .await
}

/// An active account named `display_name`, signed in with [`PASSWORD`] alone (enough for a
/// role that needs no second factor): its id and its bearer token.
pub async fn signed_in_user(
    server: &TestServer,
    db: &Db,
    phone: &str,
    display_name: &str,
    roles: &[Role],
) -> Result<(String, String), String> {
    let id = active_user_named(db, phone, display_name, roles).await?;
    let response = sign_in(server, phone, PASSWORD, None).await?;
    if response.status != 201 {
        return Err(response.text());
    }
    Ok((id, token_of(&response).await?.0))
}

/// Like [`signed_in_user`], from a session that proved a second factor (an authenticator app
/// enrolled first), as the roles that reach money or health records demand.
pub async fn signed_in_with_second_factor(
    server: &TestServer,
    db: &Db,
    phone: &str,
    display_name: &str,
    roles: &[Role],
) -> Result<(String, String), String> {
    let (id, first) = signed_in_user(server, db, phone, display_name, roles).await?;
    let secret = enrol_second_factor(server, &first).await?;
    // The enrolment used this step's code; a code is good once.
    server.clock.advance(Duration::from_secs(30));
    let response = sign_in_with_code(server, phone, &secret.code_at(server.clock.now_s())).await?;
    if response.status != 201 {
        return Err(response.text());
    }
    Ok((id, token_of(&response).await?.0))
}

/// The token and the session id of a sign-in's answer.
pub async fn token_of(response: &Response) -> Result<(String, String), String> {
    let session = response.json()?;
    Ok((
        session["token"].as_str().ok_or("no token")?.to_owned(),
        session["session_id"].as_str().ok_or("no id")?.to_owned(),
    ))
}

/// Enrols an authenticator app for the session's account; returns its secret.
pub async fn enrol_second_factor(server: &TestServer, token: &str) -> Result<TotpSecret, String> {
    let authorization = format!("Bearer {token}");
    let headers = [("authorization", authorization.as_str())];
    let started = server
        .send_json(
            "POST",
            "/api/v1/me/second-factor",
            &json!({"password": PASSWORD}),
            &headers,
        )
        .await?;
    if started.status != 201 {
        return Err(started.text());
    }
    let secret = TotpSecret::from_base32(started.json()?["secret"].as_str().ok_or("no secret")?)
        .map_err(|e| e.to_string())?;
    let code = secret.code_at(server.clock.now_s());
    let confirmed = server
        .send_json(
            "POST",
            "/api/v1/me/second-factor/confirmation",
            &json!({"code": code}),
            &headers,
        )
        .await?;
    if confirmed.status != 200 {
        return Err(confirmed.text());
    }
    Ok(secret)
}

/// An active account with `roles` and a second factor, signed in with it: the bearer token.
/// Moves the server's clock 30 seconds on, so the sign-in code is not the enrolment's.
pub async fn second_factor_token(
    server: &TestServer,
    db: &Db,
    phone: &str,
    roles: &[Role],
) -> Result<String, String> {
    Ok(
        signed_in_with_second_factor(server, db, phone, "Ana Pérez", roles)
            .await?
            .1,
    )
}

/// The ledger as `ceiba serve` starts it (rebuilt from its journal, on the wall clock), once
/// it holds the writer lease. Stop it with [`LedgerEngine::stop`] at the end of the test.
pub async fn start_ledger(db: &Db, holder: &str) -> Result<LedgerEngine, String> {
    let ledger = LedgerEngine::start(
        db.clone(),
        LeaseHolder::new(holder),
        ceiba_store::system_clock(),
    )
    .await
    .map_err(|e| e.to_string())?;
    if ledger.wait_until_writer(Duration::from_secs(10)).await {
        Ok(ledger)
    } else {
        ledger.stop().await;
        Err(format!("the ledger of «{holder}» never became the writer"))
    }
}

/// [`test_state`] with a running ledger that writes.
pub async fn ledger_state(db: &Db) -> Result<AppState, String> {
    let mut state = test_state(db);
    state.ledger = Some(start_ledger(db, "web-test").await?);
    Ok(state)
}

/// The OpenAPI document the server serves.
pub async fn openapi_document(server: &TestServer) -> Result<Value, String> {
    let response = server.get("/api/openapi.json").await?;
    if response.status != 200 {
        return Err(format!(
            "GET /api/openapi.json: {} {}",
            response.status,
            response.text()
        ));
    }
    response.json()
}

/// Checks that the document lists `method path` under `tag` and says it needs the bearer
/// token; returns the operation for further checks.
pub fn assert_bearer_route<'a>(
    document: &'a Value,
    path: &str,
    method: &str,
    tag: &str,
) -> &'a Value {
    let operation = &document["paths"][path][method];
    assert!(
        operation.is_object(),
        "{method} {path} missing: {}",
        document["paths"][path]
    );
    assert_eq!(operation["tags"], json!([tag]), "{method} {path}");
    assert_eq!(
        operation["security"],
        json!([{"bearer": []}]),
        "{method} {path} does not declare the bearer token"
    );
    operation
}

/// A POST of a JSON body with a bearer token and, when given, an `Idempotency-Key`.
pub async fn post_json_as(
    server: &TestServer,
    path: &str,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> Result<Response, String> {
    let authorization = format!("Bearer {token}");
    let mut headers = vec![("authorization", authorization.as_str())];
    headers.extend(key.map(|key| ("idempotency-key", key)));
    server.send_json("POST", path, body, &headers).await
}

/// What `user_id` may spend in `currency` now, as the ledger holds it: posted credits less
/// posted and pending debits (money held for a biller is not available).
pub fn available_minor(
    engine: &LedgerEngine,
    user_id: &str,
    currency: ceiba_payments::Currency,
) -> u64 {
    engine
        .read()
        .state
        .account(ceiba_payments::accounts::wallet(user_id, currency))
        .map_or(0, |account| {
            let b = account.balances;
            let available = b.credits_posted - b.debits_posted - b.debits_pending;
            u64::try_from(available).unwrap_or(u64::MAX)
        })
}

/// The Pagos SMS queued for `phone` (as typed), oldest first.
pub async fn pagos_sms_to(db: &Db, phone: &str) -> Result<Vec<String>, String> {
    let phone = PhoneNumber::parse(phone).map_err(|e| e.to_string())?;
    let due = db
        .due_sms(i64::MAX, ceiba_store::SMS_BATCH_MAX)
        .await
        .map_err(|e| e.to_string())?;
    Ok(due
        .into_iter()
        .filter(|sms| sms.phone == phone.as_e164() && sms.body.starts_with("Ceiba Pagos:"))
        .map(|sms| sms.body)
        .collect())
}

/// The ledger checked from scratch: every ledger balances, no account breaks its flags.
pub fn assert_ledger_sound(engine: &LedgerEngine) {
    let report = ceiba_ledger::check(&engine.read().state);
    assert!(report.is_sound(), "{:?}", report.violations);
}

/// Sets the USSD PIN of the signed-in account (`PUT /api/v1/me/pin` with [`PASSWORD`]).
pub async fn set_pin(server: &TestServer, token: &str, pin: &str) -> Result<(), String> {
    let authorization = format!("Bearer {token}");
    let response = server
        .send_json(
            "PUT",
            "/api/v1/me/pin",
            &json!({"pin": pin, "password": PASSWORD}),
            &[("authorization", authorization.as_str())],
        )
        .await?;
    if response.status != 204 {
        return Err(format!(
            "PUT /api/v1/me/pin: {} {}",
            response.status,
            response.text()
        ));
    }
    Ok(())
}

/// A bank operator pays `amount` CUP in at BPA to the wallet of `phone`; must answer 201.
pub async fn cash_in_cup(
    server: &TestServer,
    operator_token: &str,
    phone: &str,
    amount: &str,
    key: &str,
) -> Result<(), String> {
    let body = json!({"phone": phone, "bank": "BPA", "currency": "CUP", "amount": amount});
    let response = post_json_as(
        server,
        "/api/v1/payments/cash-in",
        operator_token,
        Some(key),
        &body,
    )
    .await?;
    if response.status != 201 {
        return Err(format!("cash-in: {} {}", response.status, response.text()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The pages, as a browser without JavaScript uses them
// ---------------------------------------------------------------------------------------------

/// What a browser without JavaScript does: keeps cookies, sends forms, and lets the test read
/// what came back.
pub struct Browser<'a> {
    pub server: &'a TestServer,
    pub cookies: BTreeMap<String, String>,
    pub accept_language: &'static str,
}

impl<'a> Browser<'a> {
    pub fn new(server: &'a TestServer) -> Browser<'a> {
        Browser {
            server,
            cookies: BTreeMap::new(),
            accept_language: "es",
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn remember(&mut self, response: &Response) {
        for cookie in set_cookies(response) {
            let pair = cookie.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if cookie.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> Result<Response, String> {
        let cookie = self.cookie_header();
        let response = send(
            "GET",
            &self.server.url(path),
            &[
                ("cookie", cookie.as_str()),
                ("accept-language", self.accept_language),
            ],
            Vec::new(),
        )
        .await?;
        self.remember(&response);
        Ok(response)
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Result<Response, String> {
        let cookie = self.cookie_header();
        let response = send(
            "POST",
            &self.server.url(path),
            &[
                ("cookie", cookie.as_str()),
                ("accept-language", self.accept_language),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            form(fields).into_bytes(),
        )
        .await?;
        self.remember(&response);
        Ok(response)
    }

    /// Loads a page and sends its form back with `fields` and the page's own `_csrf`.
    pub async fn fill(
        &mut self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Result<Response, String> {
        let shown = self.get(page).await?;
        assert_eq!(shown.status, 200, "{page}: {}", shown.text());
        let csrf = csrf_of(&shown.text()).ok_or(format!("{page} has no _csrf"))?;
        let mut all = fields.to_vec();
        all.push(("_csrf", &csrf));
        self.post(action, &all).await
    }

    pub fn session_cookie(&self) -> Option<&str> {
        self.cookies.get("ceiba_sesion").map(String::as_str)
    }
}

/// Every `Set-Cookie` of a response (the test client joins repeated headers with ", "; our
/// cookies have no `Expires`, so no comma of their own).
pub fn set_cookies(response: &Response) -> Vec<String> {
    response
        .header("set-cookie")
        .map(|joined| joined.split(", ").map(str::to_owned).collect())
        .unwrap_or_default()
}

pub fn set_cookie_named(response: &Response, name: &str) -> Option<String> {
    set_cookies(response)
        .into_iter()
        .find(|cookie| cookie.starts_with(&format!("{name}=")))
}

pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// The value of the first `_csrf` hidden field of a page.
pub fn csrf_of(page: &str) -> Option<String> {
    field_of(page, "_csrf")
}

/// The value of the first field called `name` of a page (as written: the pages write `value`
/// right after `name`), HTML entities decoded.
pub fn field_of(page: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(unescape_html(&page[start..end]))
}

/// Text as a page shows it, for the entities askama writes.
pub fn unescape_html(text: &str) -> String {
    text.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
}

/// The sentence of a re-rendered form's error paragraph.
pub fn error_of(page: &str) -> Option<&str> {
    let start = page.find(r#"<p class="error" id="error" role="alert">"#)?
        + r#"<p class="error" id="error" role="alert">"#.len();
    let end = page[start..].find("</p>")? + start;
    Some(&page[start..end])
}

pub fn assert_redirect(response: &Response, location: &str) {
    assert_eq!(response.status, 303, "{}", response.text());
    assert_eq!(response.header("location"), Some(location), "{response:?}");
}

/// Signs in through the form with a second-factor code; returns the response to the form.
pub async fn sign_in_by_form_with_code(
    browser: &mut Browser<'_>,
    phone: &str,
    code: &str,
) -> Result<Response, String> {
    browser
        .fill(
            "/cuenta/entrar",
            "/cuenta/entrar",
            &[
                ("telefono", phone),
                ("contrasena", PASSWORD),
                ("segundo_factor", code),
            ],
        )
        .await
}

/// Signs in through the form; returns the response to the form.
pub async fn sign_in_by_form(browser: &mut Browser<'_>, phone: &str) -> Result<Response, String> {
    browser
        .fill(
            "/cuenta/entrar",
            "/cuenta/entrar",
            &[("telefono", phone), ("contrasena", PASSWORD)],
        )
        .await
}

/// Waits (up to 15 s) until the hold of operation `id` is posted, voided or expired in the
/// ledger, and says which.
pub async fn hold_ends(
    engine: &LedgerEngine,
    id: &str,
) -> Result<ceiba_payments::HoldState, String> {
    let id: u128 = id.parse().map_err(|_| "a numeric id")?;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let state = ceiba_payments::plan::hold_state(&engine.read().state, id);
        if state != ceiba_payments::HoldState::Held {
            return Ok(state);
        }
        if std::time::Instant::now() > deadline {
            return Err("the hold never ended".to_owned());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
