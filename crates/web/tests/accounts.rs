//! Accounts over the API, on each engine: registration with an SMS code, sign-in, sessions,
//! lockout, no enumeration, role checks, and what reaches the audit log.

use std::time::Duration;

use ceiba_identity::{PhoneNumber, Role, TotpSecret};
use ceiba_store::UserStatus;
use ceiba_testkit::each_engine;
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use serde_json::{Value, json};

mod support;
use support::{
    PASSWORD, PHONE, TestServer, active_user, assert_problem, code_sent_to, enrol_second_factor,
    second_factor_token, sign_in, sign_in_with_code, token_of,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite:
        registration_confirms_by_sms_code,
        registration_of_a_taken_number_answers_the_same,
        registration_refuses_bad_input_and_writes_nothing,
        pending_accounts_cannot_sign_in,
        sign_in_opens_a_session_with_a_strong_token,
        wrong_password_and_unknown_number_answer_alike,
        ten_failures_lock_unknown_devices_but_not_known_ones,
        sessions_are_listed_and_revoked,
        sessions_end_after_idle_timeout,
        administrator_routes_need_the_role,
        security_events_reach_the_audit_log_without_secrets,
        second_factor_enrols_and_then_guards_sign_in,
        password_change_needs_the_current_one_and_ends_every_session,
        every_other_role_is_refused_on_administrator_routes,
        administrators_set_roles_and_disable_accounts,
        a_number_gets_few_registration_sms_an_hour,
        profile_changes_ask_for_the_password_again,
        a_confirmation_code_allows_five_guesses_and_expires,
    );
    suite.run()
}

async fn registration_confirms_by_sms_code(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let body = json!({"phone": PHONE, "display_name": "Ana Pérez", "password": PASSWORD});
    let response = server
        .send_json("POST", "/api/v1/accounts", &body, &[])
        .await?;
    assert_eq!(response.status, 202, "{}", response.text());
    assert_eq!(response.json()?["status"], "confirmation_sent");

    let code = code_sent_to(&database.db, PHONE).await?;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = server
        .send_json(
            "POST",
            "/api/v1/accounts/confirmation",
            &json!({"phone": PHONE, "code": wrong}),
            &[],
        )
        .await?;
    assert_problem(
        &refused,
        422,
        "validation_failed",
        "/api/v1/accounts/confirmation",
    );
    let confirmed = server
        .send_json(
            "POST",
            "/api/v1/accounts/confirmation",
            &json!({"phone": PHONE, "code": code}),
            &[],
        )
        .await?;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text());
    // A code works once.
    let again = server
        .send_json(
            "POST",
            "/api/v1/accounts/confirmation",
            &json!({"phone": PHONE, "code": code}),
            &[],
        )
        .await?;
    assert_eq!(again.status, 422);
    let signed_in = sign_in(&server, PHONE, PASSWORD, None).await?;
    assert_eq!(signed_in.status, 201, "{}", signed_in.text());
    Ok(())
}

async fn registration_of_a_taken_number_answers_the_same(database: TestDatabase) -> TestResult {
    active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    let fresh = server
        .send_json(
            "POST",
            "/api/v1/accounts",
            &json!({"phone": "+5352223333", "display_name": "Luis", "password": PASSWORD}),
            &[],
        )
        .await?;
    let taken = server
        .send_json(
            "POST",
            "/api/v1/accounts",
            &json!({"phone": PHONE, "display_name": "Otro", "password": PASSWORD}),
            &[],
        )
        .await?;
    assert_eq!(fresh.status, taken.status);
    assert_eq!(
        fresh.body, taken.body,
        "the answer must not tell who has an account"
    );
    // The owner of the taken number is told by SMS instead.
    let phone = PhoneNumber::parse(PHONE)?;
    let due = database.db.due_sms(i64::MAX, 100).await?;
    let warning = due
        .iter()
        .find(|sms| sms.phone == phone.as_e164())
        .ok_or("no SMS to the owner")?;
    assert!(warning.body.contains("ya tiene una"), "{}", warning.body);
    let owner = database
        .db
        .user_by_phone(&phone)
        .await?
        .ok_or("owner gone")?;
    assert_eq!(
        owner.display_name, "Ana Pérez",
        "the existing account was not touched"
    );
    Ok(())
}

async fn registration_refuses_bad_input_and_writes_nothing(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let cases: &[(Value, u16, &str, &str)] = &[
        (
            json!({"phone": "7 123 4567", "display_name": "A", "password": PASSWORD}),
            422,
            "validation_failed",
            "phone",
        ),
        (
            json!({"phone": PHONE, "display_name": "A", "password": "12345678"}),
            422,
            "validation_failed",
            "password",
        ),
        (
            json!({"phone": PHONE, "display_name": "A", "password": "corta"}),
            422,
            "validation_failed",
            "password",
        ),
        (
            json!({"phone": PHONE, "display_name": "", "password": PASSWORD}),
            422,
            "validation_failed",
            "display_name",
        ),
        (
            json!({"phone": PHONE, "display_name": "A", "password": PASSWORD, "roles": ["administrator"]}),
            422,
            "validation_failed",
            "roles",
        ),
        (
            json!({"phone": PHONE, "display_name": "A", "password": PASSWORD, "balance": 1000000}),
            422,
            "validation_failed",
            "balance",
        ),
        (
            json!({"phone": PHONE}),
            422,
            "validation_failed",
            "display_name",
        ),
    ];
    for (body, status, code, named) in cases {
        let response = server
            .send_json("POST", "/api/v1/accounts", body, &[])
            .await?;
        let problem = assert_problem(&response, *status, code, "/api/v1/accounts");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(named),
            "{body}: detail should name {named}: {detail}"
        );
    }
    let malformed = ceiba_testkit::http::send(
        "POST",
        &server.url("/api/v1/accounts"),
        &[("content-type", "application/json")],
        b"{\"phone\":".to_vec(),
    )
    .await?;
    assert_problem(&malformed, 400, "malformed_json", "/api/v1/accounts");
    assert!(
        database
            .db
            .user_by_phone(&PhoneNumber::parse(PHONE)?)
            .await?
            .is_none()
    );
    assert!(
        database.db.due_sms(i64::MAX, 100).await?.is_empty(),
        "no SMS for refused input"
    );
    Ok(())
}

async fn pending_accounts_cannot_sign_in(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    server
        .send_json(
            "POST",
            "/api/v1/accounts",
            &json!({"phone": PHONE, "display_name": "Ana", "password": PASSWORD}),
            &[],
        )
        .await?;
    let response = sign_in(&server, PHONE, PASSWORD, None).await?;
    assert_problem(&response, 403, "account_not_active", "/api/v1/sessions");
    Ok(())
}

async fn sign_in_opens_a_session_with_a_strong_token(database: TestDatabase) -> TestResult {
    active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    let mut tokens = std::collections::HashSet::new();
    for _ in 0..3 {
        let response = sign_in(&server, PHONE, PASSWORD, None).await?;
        assert_eq!(response.status, 201, "{}", response.text());
        let session = response.json()?;
        let token = session["token"].as_str().ok_or("no token")?.to_owned();
        assert_eq!(token.len(), 43, "256 bits in base64url");
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert!(
            session["device_token"].is_string(),
            "a new device gets a device token"
        );
        assert!(tokens.insert(token), "a token repeated");
    }
    let token = tokens.iter().next().ok_or("no token")?;
    let me = server.with_token("GET", "/api/v1/me", token).await?;
    assert_eq!(me.status, 200, "{}", me.text());
    let me = me.json()?;
    assert_eq!(me["phone"], "+5351234567");
    assert_eq!(me["roles"], json!(["citizen"]));
    let anonymous = server.get("/api/v1/me").await?;
    assert_problem(&anonymous, 401, "unauthenticated", "/api/v1/me");
    let forged = server
        .with_token("GET", "/api/v1/me", &"A".repeat(43))
        .await?;
    assert_problem(&forged, 401, "unauthenticated", "/api/v1/me");
    Ok(())
}

/// Everything of a problem but what differs per request.
fn comparable(response: &ceiba_testkit::http::Response) -> Result<Value, String> {
    let mut problem = response.json()?;
    if let Some(object) = problem.as_object_mut() {
        object.remove("request_id");
    }
    Ok(json!({"status": response.status, "problem": problem}))
}

async fn wrong_password_and_unknown_number_answer_alike(database: TestDatabase) -> TestResult {
    active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    let wrong_password = sign_in(&server, PHONE, "otra-contraseña-larga", None).await?;
    let unknown_number = sign_in(&server, "+5359998888", "otra-contraseña-larga", None).await?;
    assert_problem(
        &wrong_password,
        401,
        "invalid_credentials",
        "/api/v1/sessions",
    );
    assert_eq!(comparable(&wrong_password)?, comparable(&unknown_number)?);
    Ok(())
}

async fn ten_failures_lock_unknown_devices_but_not_known_ones(
    database: TestDatabase,
) -> TestResult {
    active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    // The person's own phone signed in once and keeps its device token.
    let first = sign_in(&server, PHONE, PASSWORD, None).await?;
    let device = first.json()?["device_token"]
        .as_str()
        .ok_or("no device token")?
        .to_owned();

    for attempt in 0..10 {
        let response = sign_in(&server, PHONE, "adivinanza-equivocada", None).await?;
        assert_eq!(
            response.status,
            401,
            "attempt {attempt}: {}",
            response.text()
        );
    }
    // Now even the right password is refused from an unknown device, with a time to wait.
    let locked = sign_in(&server, PHONE, PASSWORD, None).await?;
    assert_problem(&locked, 429, "too_many_attempts", "/api/v1/sessions");
    let retry_after: u64 = locked
        .header("retry-after")
        .ok_or("no Retry-After")?
        .parse()?;
    assert!((1..=1800).contains(&retry_after), "{retry_after}");
    // The person's phone still gets in: the attacker cannot lock them out.
    let own = sign_in(&server, PHONE, PASSWORD, Some(&device)).await?;
    assert_eq!(own.status, 201, "{}", own.text());
    // An unknown number locks the same way, so the lock tells nothing about accounts.
    for _ in 0..10 {
        sign_in(&server, "+5359998888", "adivinanza-equivocada", None).await?;
    }
    let unknown_locked = sign_in(&server, "+5359998888", "adivinanza-equivocada", None).await?;
    assert_eq!(unknown_locked.status, 429);
    // After 30 minutes the lock lifts.
    server.clock.advance(Duration::from_secs(31 * 60));
    let later = sign_in(&server, PHONE, PASSWORD, None).await?;
    assert_eq!(later.status, 201, "{}", later.text());
    Ok(())
}

async fn sessions_are_listed_and_revoked(database: TestDatabase) -> TestResult {
    active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    active_user(&database.db, "+5352220000", &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    let (laptop, laptop_id) = token_of(&sign_in(&server, PHONE, PASSWORD, None).await?).await?;
    let (phone_token, phone_id) = token_of(&sign_in(&server, PHONE, PASSWORD, None).await?).await?;
    let (other, other_id) =
        token_of(&sign_in(&server, "+5352220000", PASSWORD, None).await?).await?;

    let listed = server
        .with_token("GET", "/api/v1/me/sessions", &laptop)
        .await?
        .json()?;
    let listed = listed.as_array().ok_or("not a list")?;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(
        listed
            .iter()
            .any(|s| s["id"] == laptop_id.as_str() && s["current"] == true)
    );
    assert!(
        !listed.iter().any(|s| s["id"] == other_id.as_str()),
        "another person's session listed"
    );

    // Another person's session id: 404, and that session lives on.
    let foreign = server
        .with_token(
            "DELETE",
            &format!("/api/v1/me/sessions/{other_id}"),
            &laptop,
        )
        .await?;
    assert_problem(
        &foreign,
        404,
        "not_found",
        &format!("/api/v1/me/sessions/{other_id}"),
    );
    assert_eq!(
        server.with_token("GET", "/api/v1/me", &other).await?.status,
        200
    );

    // Closing the phone's session from the laptop ends it at once.
    let revoked = server
        .with_token(
            "DELETE",
            &format!("/api/v1/me/sessions/{phone_id}"),
            &laptop,
        )
        .await?;
    assert_eq!(revoked.status, 204, "{}", revoked.text());
    let after = server.with_token("GET", "/api/v1/me", &phone_token).await?;
    assert_problem(&after, 401, "unauthenticated", "/api/v1/me");

    let signed_out = server
        .with_token("DELETE", "/api/v1/sessions/current", &laptop)
        .await?;
    assert_eq!(signed_out.status, 204);
    assert_eq!(
        server
            .with_token("GET", "/api/v1/me", &laptop)
            .await?
            .status,
        401
    );
    Ok(())
}

async fn sessions_end_after_idle_timeout(database: TestDatabase) -> TestResult {
    active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    let (token, _) = token_of(&sign_in(&server, PHONE, PASSWORD, None).await?).await?;
    server.clock.advance(Duration::from_secs(20 * 60));
    assert_eq!(
        server.with_token("GET", "/api/v1/me", &token).await?.status,
        200,
        "still active"
    );
    server.clock.advance(Duration::from_secs(20 * 60));
    assert_eq!(
        server.with_token("GET", "/api/v1/me", &token).await?.status,
        200,
        "use keeps it alive"
    );
    server.clock.advance(Duration::from_secs(31 * 60));
    assert_eq!(
        server.with_token("GET", "/api/v1/me", &token).await?.status,
        401,
        "idle too long"
    );
    Ok(())
}

async fn administrator_routes_need_the_role(database: TestDatabase) -> TestResult {
    let citizen_id = active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    active_user(&database.db, "+5352220000", &[Role::Administrator]).await?;
    active_user(
        &database.db,
        "+5352221111",
        &[Role::Auditor, Role::Merchant],
    )
    .await?;
    let server = TestServer::start(&database.db).await?;
    let path = format!("/api/v1/admin/users/{citizen_id}");

    assert_problem(&server.get(&path).await?, 401, "unauthenticated", &path);
    for phone in [PHONE, "+5352221111"] {
        let (token, _) = token_of(&sign_in(&server, phone, PASSWORD, None).await?).await?;
        assert_problem(
            &server.with_token("GET", &path, &token).await?,
            403,
            "forbidden",
            &path,
        );
    }
    // The role is not enough: an administrator acts only from a session with a second factor.
    let (without, _) = token_of(&sign_in(&server, "+5352220000", PASSWORD, None).await?).await?;
    let refused = server.with_token("GET", &path, &without).await?;
    let problem = assert_problem(&refused, 403, "forbidden", &path);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("segundo factor"),
        "{problem}"
    );
    let secret = enrol_second_factor(&server, &without).await?;
    server.clock.advance(Duration::from_secs(30));
    let code = secret.code_at(server.clock.now_s());
    let admin_session = sign_in_with_code(&server, "+5352220000", &code).await?;
    assert_eq!(admin_session.status, 201, "{}", admin_session.text());
    let (admin, _) = token_of(&admin_session).await?;
    let user = server.with_token("GET", &path, &admin).await?;
    assert_eq!(user.status, 200, "{}", user.text());
    let user = user.json()?;
    assert_eq!(user["id"], citizen_id.as_str());
    assert!(
        !user["phone"]
            .as_str()
            .unwrap_or_default()
            .contains("1234567"),
        "phone must be masked: {user}"
    );
    let missing = server
        .with_token("GET", "/api/v1/admin/users/no-existe", &admin)
        .await?;
    assert_problem(&missing, 404, "not_found", "/api/v1/admin/users/no-existe");
    Ok(())
}

async fn security_events_reach_the_audit_log_without_secrets(database: TestDatabase) -> TestResult {
    let id = active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    sign_in(&server, PHONE, "adivinanza-equivocada", None).await?;
    let (token, _) = token_of(&sign_in(&server, PHONE, PASSWORD, None).await?).await?;
    server
        .with_token("DELETE", "/api/v1/sessions/current", &token)
        .await?;

    let entries = database.db.audit_entries(0, 1000).await?;
    let texts: Vec<String> = entries
        .iter()
        .map(|e| String::from_utf8_lossy(&e.data).into_owned())
        .collect();
    for kind in ["login_failed", "login_succeeded", "session_revoked"] {
        assert!(
            texts
                .iter()
                .any(|text| text.contains(&format!("\"kind\":\"{kind}\"")) && text.contains(&id)),
            "no {kind} event for the user: {texts:?}"
        );
    }
    for text in &texts {
        assert!(
            !text.contains(PASSWORD) && !text.contains("adivinanza") && !text.contains(&token),
            "a secret reached the audit log: {text}"
        );
    }
    Ok(())
}

async fn second_factor_enrols_and_then_guards_sign_in(database: TestDatabase) -> TestResult {
    active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    let (token, _) = token_of(&sign_in(&server, PHONE, PASSWORD, None).await?).await?;
    let authorization = format!("Bearer {token}");
    let headers = [("authorization", authorization.as_str())];

    // Enrolling is a sensitive change: the current password is asked again.
    let wrong = server
        .send_json(
            "POST",
            "/api/v1/me/second-factor",
            &json!({"password": "no-es-la-mia"}),
            &headers,
        )
        .await?;
    assert_problem(
        &wrong,
        401,
        "invalid_credentials",
        "/api/v1/me/second-factor",
    );
    let started = server
        .send_json(
            "POST",
            "/api/v1/me/second-factor",
            &json!({"password": PASSWORD}),
            &headers,
        )
        .await?;
    assert_eq!(started.status, 201, "{}", started.text());
    let started = started.json()?;
    assert!(
        started["otpauth_uri"]
            .as_str()
            .unwrap_or_default()
            .starts_with("otpauth://totp/")
    );
    let secret = TotpSecret::from_base32(started["secret"].as_str().ok_or("no secret")?)?;
    // Stored sealed: the database alone does not give the codes away.
    let me = server
        .with_token("GET", "/api/v1/me", &token)
        .await?
        .json()?;
    let stored = database
        .db
        .second_factor(me["id"].as_str().ok_or("no id")?)
        .await?
        .ok_or("nothing stored")?;
    assert!(
        stored.totp_secret.starts_with("v1:"),
        "{}",
        stored.totp_secret
    );
    assert!(
        !stored.totp_secret.contains(&secret.to_base32()),
        "the secret is stored in clear"
    );
    let bad = server
        .send_json(
            "POST",
            "/api/v1/me/second-factor/confirmation",
            &json!({"code": "000000"}),
            &headers,
        )
        .await?;
    if secret.code_at(server.clock.now_s()) != "000000" {
        assert_problem(
            &bad,
            422,
            "validation_failed",
            "/api/v1/me/second-factor/confirmation",
        );
    }
    let code = secret.code_at(server.clock.now_s());
    let confirmed = server
        .send_json(
            "POST",
            "/api/v1/me/second-factor/confirmation",
            &json!({"code": code}),
            &headers,
        )
        .await?;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text());
    let recovery: Vec<String> = confirmed.json()?["recovery_codes"]
        .as_array()
        .ok_or("no recovery codes")?
        .iter()
        .map(|code| code.as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);

    // From now on the password alone is not enough.
    let without = sign_in(&server, PHONE, PASSWORD, None).await?;
    assert_problem(&without, 401, "second_factor_required", "/api/v1/sessions");
    server.clock.advance(Duration::from_secs(30));
    let code = secret.code_at(server.clock.now_s());
    let with_code = sign_in_with_code(&server, PHONE, &code).await?;
    assert_eq!(with_code.status, 201, "{}", with_code.text());
    // The same code a second time is a replay.
    let replayed = sign_in_with_code(&server, PHONE, &code).await?;
    let problem = assert_problem(&replayed, 401, "second_factor_required", "/api/v1/sessions");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("ya se usó"),
        "{problem}"
    );
    // A recovery code works once.
    let first = sign_in_with_code(&server, PHONE, &recovery[3]).await?;
    assert_eq!(first.status, 201, "{}", first.text());
    let second = sign_in_with_code(&server, PHONE, &recovery[3]).await?;
    assert_eq!(second.status, 401);
    Ok(())
}

async fn password_change_needs_the_current_one_and_ends_every_session(
    database: TestDatabase,
) -> TestResult {
    active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    let (one, _) = token_of(&sign_in(&server, PHONE, PASSWORD, None).await?).await?;
    let (two, _) = token_of(&sign_in(&server, PHONE, PASSWORD, None).await?).await?;
    let authorization = format!("Bearer {one}");
    let headers = [("authorization", authorization.as_str())];
    let path = "/api/v1/me/password";
    let new_password = "otra-frase-nueva-y-larga";

    let wrong = server
        .send_json(
            "POST",
            path,
            &json!({"current_password": "no-es", "new_password": new_password}),
            &headers,
        )
        .await?;
    assert_problem(&wrong, 401, "invalid_credentials", path);
    let weak = server
        .send_json(
            "POST",
            path,
            &json!({"current_password": PASSWORD, "new_password": "qwerty123"}),
            &headers,
        )
        .await?;
    assert_problem(&weak, 422, "validation_failed", path);
    assert_eq!(
        server.with_token("GET", "/api/v1/me", &two).await?.status,
        200,
        "refusals change nothing"
    );

    let changed = server
        .send_json(
            "POST",
            path,
            &json!({"current_password": PASSWORD, "new_password": new_password}),
            &headers,
        )
        .await?;
    assert_eq!(changed.status, 204, "{}", changed.text());
    for token in [&one, &two] {
        assert_eq!(
            server.with_token("GET", "/api/v1/me", token).await?.status,
            401,
            "a session outlived the change"
        );
    }
    assert_eq!(sign_in(&server, PHONE, PASSWORD, None).await?.status, 401);
    assert_eq!(
        sign_in(&server, PHONE, new_password, None).await?.status,
        201
    );
    Ok(())
}

async fn every_other_role_is_refused_on_administrator_routes(database: TestDatabase) -> TestResult {
    let target = active_user(&database.db, "+5351110000", &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    let routes = [
        ("GET", format!("/api/v1/admin/users/{target}")),
        ("POST", format!("/api/v1/admin/users/{target}/disable")),
    ];
    for (number, role) in Role::ALL
        .iter()
        .filter(|role| **role != Role::Administrator)
        .enumerate()
    {
        let phone = format!("+535200{number:04}");
        active_user(&database.db, &phone, &[*role]).await?;
        let (token, _) = token_of(&sign_in(&server, &phone, PASSWORD, None).await?).await?;
        for (method, path) in &routes {
            let response = server.with_token(method, path, &token).await?;
            assert_problem(&response, 403, "forbidden", path);
        }
        let authorization = format!("Bearer {token}");
        let roles_path = format!("/api/v1/admin/users/{target}/roles");
        let response = server
            .send_json(
                "PUT",
                &roles_path,
                &json!({"roles": ["administrator"]}),
                &[("authorization", &authorization)],
            )
            .await?;
        assert_problem(&response, 403, "forbidden", &roles_path);
    }
    let user = database
        .db
        .user_by_id(&target)
        .await?
        .ok_or("target gone")?;
    assert_eq!(user.roles, vec![Role::Citizen], "nothing changed");
    assert_eq!(user.status, UserStatus::Active);
    Ok(())
}

async fn administrators_set_roles_and_disable_accounts(database: TestDatabase) -> TestResult {
    let target = active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    let admin =
        second_factor_token(&server, &database.db, "+5352220000", &[Role::Administrator]).await?;
    let authorization = format!("Bearer {admin}");
    let headers = [("authorization", authorization.as_str())];
    let roles_path = format!("/api/v1/admin/users/{target}/roles");

    let bad = server
        .send_json("PUT", &roles_path, &json!({"roles": ["rey"]}), &headers)
        .await?;
    assert_problem(&bad, 422, "validation_failed", &roles_path);
    let set = server
        .send_json(
            "PUT",
            &roles_path,
            &json!({"roles": ["merchant", "citizen"]}),
            &headers,
        )
        .await?;
    assert_eq!(set.status, 204, "{}", set.text());
    let user = database.db.user_by_id(&target).await?.ok_or("gone")?;
    assert_eq!(user.roles, vec![Role::Citizen, Role::Merchant]);
    let missing = server
        .send_json(
            "PUT",
            "/api/v1/admin/users/no-existe/roles",
            &json!({"roles": []}),
            &headers,
        )
        .await?;
    assert_eq!(missing.status, 404);
    let me = server
        .with_token("GET", "/api/v1/me", &admin)
        .await?
        .json()?;
    let own = format!(
        "/api/v1/admin/users/{}/roles",
        me["id"].as_str().unwrap_or_default()
    );
    let demote_self = server
        .send_json("PUT", &own, &json!({"roles": ["citizen"]}), &headers)
        .await?;
    assert_problem(&demote_self, 409, "conflict", &own);

    let (target_token, _) = token_of(&sign_in(&server, PHONE, PASSWORD, None).await?).await?;
    let disable_path = format!("/api/v1/admin/users/{target}/disable");
    let disabled = server.with_token("POST", &disable_path, &admin).await?;
    assert_eq!(disabled.status, 204, "{}", disabled.text());
    assert_eq!(
        server
            .with_token("GET", "/api/v1/me", &target_token)
            .await?
            .status,
        401,
        "sessions end"
    );
    let again = sign_in(&server, PHONE, PASSWORD, None).await?;
    assert_problem(&again, 403, "account_not_active", "/api/v1/sessions");

    let texts: Vec<String> = database
        .db
        .audit_entries(0, 1000)
        .await?
        .iter()
        .map(|entry| String::from_utf8_lossy(&entry.data).into_owned())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("role_changed")
            && t.contains(&target)
            && t.contains("citizen,merchant")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("account_disabled") && t.contains(&target)),
        "{texts:?}"
    );
    Ok(())
}

async fn a_number_gets_few_registration_sms_an_hour(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let body = json!({"phone": PHONE, "display_name": "Ana", "password": PASSWORD});
    for attempt in 0..3 {
        let response = server
            .send_json("POST", "/api/v1/accounts", &body, &[])
            .await?;
        assert_eq!(
            response.status,
            202,
            "attempt {attempt}: {}",
            response.text()
        );
    }
    let limited = server
        .send_json("POST", "/api/v1/accounts", &body, &[])
        .await?;
    assert_problem(&limited, 429, "rate_limited", "/api/v1/accounts");
    assert_eq!(
        database.db.due_sms(i64::MAX, 100).await?.len(),
        3,
        "no fourth SMS"
    );
    server.clock.advance(Duration::from_secs(61 * 60));
    let later = server
        .send_json("POST", "/api/v1/accounts", &body, &[])
        .await?;
    assert_eq!(later.status, 202, "{}", later.text());
    Ok(())
}

async fn profile_changes_ask_for_the_password_again(database: TestDatabase) -> TestResult {
    active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let other = active_user(&database.db, "+5352220000", &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    let (token, _) = token_of(&sign_in(&server, PHONE, PASSWORD, None).await?).await?;
    let authorization = format!("Bearer {token}");
    let headers = [("authorization", authorization.as_str())];

    // Carné de identidad: re-authentication, validation, one account per carné.
    let path = "/api/v1/me/national-id";
    let wrong = server
        .send_json(
            "PUT",
            path,
            &json!({"national_id": "85010112345", "password": "no-es"}),
            &headers,
        )
        .await?;
    assert_problem(&wrong, 401, "invalid_credentials", path);
    let bad_date = server
        .send_json(
            "PUT",
            path,
            &json!({"national_id": "85023012345", "password": PASSWORD}),
            &headers,
        )
        .await?;
    assert_problem(&bad_date, 422, "validation_failed", path);
    let set = server
        .send_json(
            "PUT",
            path,
            &json!({"national_id": "85010112345", "password": PASSWORD}),
            &headers,
        )
        .await?;
    assert_eq!(set.status, 204, "{}", set.text());
    let me = server
        .with_token("GET", "/api/v1/me", &token)
        .await?
        .json()?;
    assert_eq!(
        me["national_id"], "85010112345",
        "its owner sees it in full"
    );
    let national_id = ceiba_identity::NationalId::parse(
        "85010112345",
        ceiba_identity::CalendarDate::new(2026, 1, 1)?,
    )?;
    assert!(
        !database.db.set_national_id(&other, &national_id).await?,
        "one account per carné"
    );

    // PIN for USSD: guessable ones refused, never shown.
    let path = "/api/v1/me/pin";
    let weak = server
        .send_json(
            "PUT",
            path,
            &json!({"pin": "1234", "password": PASSWORD}),
            &headers,
        )
        .await?;
    assert_problem(&weak, 422, "validation_failed", path);
    let pin = server
        .send_json(
            "PUT",
            path,
            &json!({"pin": "4817", "password": PASSWORD}),
            &headers,
        )
        .await?;
    assert_eq!(pin.status, 204, "{}", pin.text());
    let me = server.with_token("GET", "/api/v1/me", &token).await?;
    assert_eq!(me.json()?["has_pin"], true);
    assert!(!me.text().contains("4817"));

    // Phone number: a code to the new number, a warning to the old one.
    let new_phone = "+5353334444";
    let started = server
        .send_json(
            "POST",
            "/api/v1/me/phone",
            &json!({"phone": new_phone, "password": PASSWORD}),
            &headers,
        )
        .await?;
    assert_eq!(started.status, 202, "{}", started.text());
    let code = code_sent_to(&database.db, new_phone).await?;
    let wrong_code = if code == "000000" { "111111" } else { "000000" };
    let refused = server
        .send_json(
            "POST",
            "/api/v1/me/phone/confirmation",
            &json!({"code": wrong_code}),
            &headers,
        )
        .await?;
    assert_problem(
        &refused,
        422,
        "validation_failed",
        "/api/v1/me/phone/confirmation",
    );
    let done = server
        .send_json(
            "POST",
            "/api/v1/me/phone/confirmation",
            &json!({"code": code}),
            &headers,
        )
        .await?;
    assert_eq!(done.status, 204, "{}", done.text());
    let me = server
        .with_token("GET", "/api/v1/me", &token)
        .await?
        .json()?;
    assert_eq!(me["phone"], "+5353334444");
    let old = PhoneNumber::parse(PHONE)?;
    let due = database.db.due_sms(i64::MAX, 100).await?;
    assert!(
        due.iter()
            .any(|sms| sms.phone == old.as_e164() && sms.body.contains("acaba de cambiar")),
        "the old number is warned"
    );
    assert_eq!(
        sign_in(&server, new_phone, PASSWORD, None).await?.status,
        201
    );
    assert_eq!(sign_in(&server, PHONE, PASSWORD, None).await?.status, 401);
    Ok(())
}

async fn a_confirmation_code_allows_five_guesses_and_expires(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let path = "/api/v1/accounts/confirmation";
    for (phone, guesses) in [("+5351110001", 5), ("+5351110002", 0)] {
        server
            .send_json(
                "POST",
                "/api/v1/accounts",
                &json!({"phone": phone, "display_name": "A", "password": PASSWORD}),
                &[],
            )
            .await?;
        let code = code_sent_to(&database.db, phone).await?;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..guesses {
            let response = server
                .send_json("POST", path, &json!({"phone": phone, "code": wrong}), &[])
                .await?;
            assert_eq!(response.status, 422);
        }
        if guesses == 0 {
            // No guesses, but the code is older than its ten minutes.
            server.clock.advance(Duration::from_secs(11 * 60));
        }
        let right = server
            .send_json("POST", path, &json!({"phone": phone, "code": code}), &[])
            .await?;
        assert_problem(&right, 422, "validation_failed", path);
        let user = database
            .db
            .user_by_phone(&PhoneNumber::parse(phone)?)
            .await?
            .ok_or("no user")?;
        assert_eq!(
            user.status,
            UserStatus::Pending,
            "{phone} must stay pending"
        );
    }
    Ok(())
}
