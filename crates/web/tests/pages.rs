//! The account pages over HTTP, on each engine, as a browser without JavaScript uses them:
//! sign-up, confirmation by SMS code, sign-in (with the second factor), the account page and
//! its sessions, revocation and sign-out; the cookies' attributes; and the anti-CSRF checks
//! that keep another site from using the session cookie.

use std::time::Duration;

use ceiba_identity::{PhoneNumber, Role, SessionToken};
use ceiba_store::SessionRow;
use ceiba_testkit::each_engine;
use ceiba_testkit::http::send;
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use ceiba_web::ServerLimits;
use serde_json::json;

mod support;
use support::{
    Browser, PASSWORD, PHONE, TestServer, active_user, assert_problem, assert_redirect,
    code_sent_to, csrf_of, enrol_second_factor, error_of, set_cookie_named, sign_in_by_form,
    test_state,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite:
        sign_up_confirm_sign_in_and_manage_sessions_through_the_pages,
        sign_up_form_keeps_what_was_typed_except_the_password,
        changes_by_cookie_without_the_csrf_token_are_refused_and_change_nothing,
        forms_before_sign_in_need_the_double_submitted_token,
        bearer_requests_need_no_csrf_token,
        cookies_are_http_only_same_site_strict_and_secure_with_tls,
        sign_in_form_asks_for_the_second_factor_once_enrolled,
        wrong_password_and_unknown_number_read_alike_on_the_form,
        account_pages_are_small_script_free_and_never_stored,
    );
    suite.run()
}

/// A session opened over the API: its bearer token and id.
async fn api_session(
    server: &TestServer,
    phone: &str,
    code: Option<&str>,
) -> Result<(String, String), String> {
    let mut body = json!({"phone": phone, "password": PASSWORD});
    if let Some(code) = code {
        body["second_factor_code"] = json!(code);
    }
    let response = server
        .send_json("POST", "/api/v1/sessions", &body, &[])
        .await?;
    assert_eq!(response.status, 201, "{}", response.text());
    let session = response.json()?;
    Ok((
        session["token"].as_str().ok_or("no token")?.to_owned(),
        session["session_id"].as_str().ok_or("no id")?.to_owned(),
    ))
}

/// The ids of the sessions the account page lists.
fn listed_sessions(page: &str) -> Vec<String> {
    page.match_indices(r#"<tr id="sesion-"#)
        .filter_map(|(at, found)| {
            let start = at + found.len();
            let end = page[start..].find('"')? + start;
            Some(page[start..end].to_owned())
        })
        .collect()
}

async fn sign_up_confirm_sign_in_and_manage_sessions_through_the_pages(
    database: TestDatabase,
) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let mut browser = Browser::new(&server);

    // Sign-up, then the confirmation form with a notice.
    let signed_up = browser
        .fill(
            "/cuenta/registro",
            "/cuenta/registro",
            &[
                ("telefono", PHONE),
                ("nombre", "Ana Pérez"),
                ("contrasena", PASSWORD),
            ],
        )
        .await?;
    assert_redirect(&signed_up, "/cuenta/confirmar?aviso=enviado");
    let confirm_page = browser.get("/cuenta/confirmar?aviso=enviado").await?;
    assert!(
        confirm_page
            .text()
            .contains("Si el número puede registrarse, le enviamos un SMS con un código."),
        "{}",
        confirm_page.text()
    );

    // A wrong code is refused in a sentence; the number stays typed.
    let code = code_sent_to(&database.db, PHONE).await?;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = browser
        .fill(
            "/cuenta/confirmar",
            "/cuenta/confirmar",
            &[("telefono", PHONE), ("codigo", wrong)],
        )
        .await?;
    assert_eq!(refused.status, 200, "{}", refused.text());
    let page = refused.text();
    assert_eq!(
        error_of(&page),
        Some("El código no es válido o venció. Si venció, regístrese de nuevo para recibir otro."),
        "{page}"
    );
    assert!(page.contains(r#"value="+53 5123 4567""#), "{page}");
    let confirmed = browser
        .fill(
            "/cuenta/confirmar",
            "/cuenta/confirmar",
            &[("telefono", PHONE), ("codigo", &code)],
        )
        .await?;
    assert_redirect(&confirmed, "/cuenta/entrar?aviso=confirmada");

    // Sign-in through the form: a session cookie and a device cookie, then the account page.
    let notice = browser.get("/cuenta/entrar?aviso=confirmada").await?;
    assert!(notice.text().contains("Su número quedó confirmado."));
    let signed_in = sign_in_by_form(&mut browser, PHONE).await?;
    assert_redirect(&signed_in, "/cuenta");
    assert!(browser.session_cookie().is_some(), "{signed_in:?}");
    assert!(browser.cookies.contains_key("ceiba_dispositivo"));
    let home = browser.get("/").await?.text();
    assert!(
        home.contains(r#"<a id="enlace-cuenta" href="/cuenta">Mi cuenta</a>"#),
        "{home}"
    );

    // The same person on a phone app: a second session, listed on the page.
    let (app_token, app_session) = api_session(&server, PHONE, None).await?;
    let account = browser.get("/cuenta").await?;
    assert_eq!(account.status, 200, "{}", account.text());
    let page = account.text();
    for expected in [
        "Mi cuenta",
        "Ana Pérez",
        "+53 5123 4567",
        "Ciudadano",
        "Sesiones abiertas",
        "Navegador",
        "Aplicación",
        "(esta sesión)",
        "hace un momento",
    ] {
        assert!(page.contains(expected), "{expected} missing: {page}");
    }
    let listed = listed_sessions(&page);
    assert_eq!(listed.len(), 2, "{page}");
    assert!(listed.contains(&app_session), "{page}");
    assert_eq!(page.matches(r#"class="actual""#).count(), 1, "{page}");

    // Closing the app's session from the page ends it at once.
    let csrf = csrf_of(&page).ok_or("no _csrf on the account page")?;
    let revoked = browser
        .post(
            &format!("/cuenta/sesiones/{app_session}/cerrar"),
            &[("_csrf", &csrf)],
        )
        .await?;
    assert_redirect(&revoked, "/cuenta");
    let after = server.with_token("GET", "/api/v1/me", &app_token).await?;
    assert_problem(&after, 401, "unauthenticated", "/api/v1/me");
    let page = browser.get("/cuenta").await?.text();
    assert_eq!(listed_sessions(&page).len(), 1, "{page}");

    // Another person's session id: 404, and that session lives on.
    active_user(&database.db, "+5352220000", &[Role::Citizen]).await?;
    let (other_token, other_session) = api_session(&server, "+5352220000", None).await?;
    let foreign = browser
        .post(
            &format!("/cuenta/sesiones/{other_session}/cerrar"),
            &[("_csrf", &csrf)],
        )
        .await?;
    assert_eq!(foreign.status, 404, "{}", foreign.text());
    assert_eq!(
        server
            .with_token("GET", "/api/v1/me", &other_token)
            .await?
            .status,
        200
    );

    // Sign-out: the cookie is forgotten and the session is over, even for a copy of it.
    let old_cookie = browser.session_cookie().ok_or("no session")?.to_owned();
    let signed_out = browser.post("/cuenta/salir", &[("_csrf", &csrf)]).await?;
    assert_redirect(&signed_out, "/cuenta/entrar?aviso=salida");
    assert!(
        set_cookie_named(&signed_out, "ceiba_sesion").is_some_and(|c| c.contains("Max-Age=0")),
        "{signed_out:?}"
    );
    assert!(browser.session_cookie().is_none());
    assert!(
        browser
            .get("/cuenta/entrar?aviso=salida")
            .await?
            .text()
            .contains("Cerró la sesión.")
    );
    let replayed = send(
        "GET",
        &server.url("/cuenta"),
        &[("cookie", &format!("ceiba_sesion={old_cookie}"))],
        Vec::new(),
    )
    .await?;
    assert_redirect(&replayed, "/cuenta/entrar");
    Ok(())
}

async fn sign_up_form_keeps_what_was_typed_except_the_password(
    database: TestDatabase,
) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let mut browser = Browser::new(&server);
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "+1 555 0100",
            "Ana",
            PASSWORD,
            "El número no es cubano: el prefijo internacional de Cuba es +53.",
        ),
        (
            PHONE,
            "",
            PASSWORD,
            "Escriba su nombre: entre 1 y 100 caracteres.",
        ),
        (
            PHONE,
            "Ana <b>Pérez</b>",
            "corta",
            "La contraseña es demasiado corta: tiene 5 caracteres y hacen falta al menos 8.",
        ),
        (
            PHONE,
            "Ana",
            "12345678",
            "Esa contraseña está entre las más usadas",
        ),
    ];
    for (phone, name, password, sentence) in cases {
        let response = browser
            .fill(
                "/cuenta/registro",
                "/cuenta/registro",
                &[
                    ("telefono", phone),
                    ("nombre", name),
                    ("contrasena", password),
                ],
            )
            .await?;
        assert_eq!(response.status, 200, "{}", response.text());
        let page = response.text();
        let error = error_of(&page).ok_or("no error sentence")?;
        assert!(error.starts_with(sentence), "{error}");
        assert!(
            page.contains(&format!(r#"name="telefono" type="tel" autocomplete="tel" required maxlength="32" value="{phone}""#)),
            "{page}"
        );
        assert!(!page.contains(&format!(r#"value="{password}""#)), "{page}");
        assert!(!page.contains("<b>"), "what was typed is escaped: {page}");
    }
    // What was refused wrote nothing.
    assert!(
        database
            .db
            .user_by_phone(&PhoneNumber::parse(PHONE)?)
            .await?
            .is_none()
    );
    assert!(database.db.due_sms(i64::MAX, 100).await?.is_empty());

    // In English, the same refusal in English.
    browser.accept_language = "en";
    let response = browser
        .fill(
            "/cuenta/registro",
            "/cuenta/registro",
            &[
                ("telefono", PHONE),
                ("nombre", "Ana"),
                ("contrasena", "corta"),
            ],
        )
        .await?;
    let page = response.text();
    assert!(page.contains(r#"<html lang="en">"#), "{page}");
    assert_eq!(
        error_of(&page),
        Some(
            "That password cannot be used: it needs 8 to 128 characters and must not be a common one."
        )
    );
    Ok(())
}

/// A page on another site can make the browser send the session cookie, never the token.
async fn changes_by_cookie_without_the_csrf_token_are_refused_and_change_nothing(
    database: TestDatabase,
) -> TestResult {
    active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    let mut browser = Browser::new(&server);
    assert_redirect(&sign_in_by_form(&mut browser, PHONE).await?, "/cuenta");
    let (app_token, app_session) = api_session(&server, PHONE, None).await?;
    let mut other_browser = Browser::new(&server);
    assert_redirect(
        &sign_in_by_form(&mut other_browser, PHONE).await?,
        "/cuenta",
    );
    let others_csrf =
        csrf_of(&other_browser.get("/cuenta").await?.text()).ok_or("no _csrf on the page")?;
    let own_csrf = csrf_of(&browser.get("/cuenta").await?.text()).ok_or("no _csrf on the page")?;
    assert_ne!(own_csrf, others_csrf, "each session has its own token");
    let audit_before = database.db.audit_entries(0, 10_000).await?.len();

    let revoke = format!("/cuenta/sesiones/{app_session}/cerrar");
    let attempts: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/cuenta/salir", vec![]),
        ("/cuenta/salir", vec![("_csrf", "")]),
        ("/cuenta/salir", vec![("_csrf", "no-es-el-token")]),
        ("/cuenta/salir", vec![("_csrf", &others_csrf)]),
        (&revoke, vec![]),
        (&revoke, vec![("_csrf", &others_csrf)]),
        (&revoke, vec![("_csrf", &own_csrf[..42])]),
    ];
    for (path, fields) in &attempts {
        let response = browser.post(path, fields).await?;
        assert_eq!(
            response.status,
            403,
            "{path} {fields:?}: {}",
            response.text()
        );
        let page = response.text();
        assert!(page.contains(r#"<html lang="es">"#), "{page}");
        assert!(
            page.contains("El formulario caducó o no se envió desde Ceiba, y no se hizo nada"),
            "{page}"
        );
        assert_eq!(response.header("cache-control"), Some("no-store"));
    }
    // The same through the API's route, with the cookie and no header: a problem, 403.
    let cookie = format!(
        "ceiba_sesion={}",
        browser.session_cookie().ok_or("no cookie")?
    );
    let api_path = format!("/api/v1/me/sessions/{app_session}");
    let by_api = send(
        "DELETE",
        &server.url(&api_path),
        &[("cookie", &cookie)],
        Vec::new(),
    )
    .await?;
    assert_problem(&by_api, 403, "csrf_rejected", &api_path);
    let wrong_header = send(
        "DELETE",
        &server.url(&api_path),
        &[("cookie", &cookie), ("x-ceiba-csrf", &others_csrf)],
        Vec::new(),
    )
    .await?;
    assert_problem(&wrong_header, 403, "csrf_rejected", &api_path);

    // Nothing changed: every session lives, nothing was audited.
    assert_eq!(browser.get("/cuenta").await?.status, 200);
    assert_eq!(
        listed_sessions(&browser.get("/cuenta").await?.text()).len(),
        3
    );
    assert_eq!(
        server
            .with_token("GET", "/api/v1/me", &app_token)
            .await?
            .status,
        200
    );
    assert_eq!(
        database.db.audit_entries(0, 10_000).await?.len(),
        audit_before
    );

    // With its own token, the same requests work.
    assert_redirect(
        &browser.post(&revoke, &[("_csrf", &own_csrf)]).await?,
        "/cuenta",
    );
    assert_redirect(
        &browser
            .post("/cuenta/salir", &[("_csrf", &own_csrf)])
            .await?,
        "/cuenta/entrar?aviso=salida",
    );
    Ok(())
}

async fn forms_before_sign_in_need_the_double_submitted_token(
    database: TestDatabase,
) -> TestResult {
    active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    let mut browser = Browser::new(&server);
    let page = browser.get("/cuenta/entrar").await?;
    let cookie = set_cookie_named(&page, "ceiba_csrf").ok_or("no ceiba_csrf cookie")?;
    let csrf = csrf_of(&page.text()).ok_or("no _csrf")?;
    assert!(
        cookie.starts_with(&format!("ceiba_csrf={csrf};")),
        "{cookie}"
    );
    // The cookie is kept: a second tab shows the same token and sets nothing new.
    let again = browser.get("/cuenta/entrar").await?;
    assert_eq!(csrf_of(&again.text()), Some(csrf.clone()));
    assert_eq!(set_cookie_named(&again, "ceiba_csrf"), None);

    let fields = [("telefono", PHONE), ("contrasena", PASSWORD)];
    for (path, extra) in [
        ("/cuenta/entrar", None),
        ("/cuenta/entrar", Some("otro-valor")),
        ("/cuenta/registro", None),
        ("/cuenta/confirmar", Some("")),
    ] {
        let mut all = fields.to_vec();
        if let Some(value) = extra {
            all.push(("_csrf", value));
        }
        let response = browser.post(path, &all).await?;
        assert_eq!(response.status, 403, "{path}: {}", response.text());
    }
    // The right token without its cookie (a page elsewhere that learnt one): refused too.
    let mut stranger = Browser::new(&server);
    let response = stranger
        .post(
            "/cuenta/entrar",
            &[
                ("telefono", PHONE),
                ("contrasena", PASSWORD),
                ("_csrf", &csrf),
            ],
        )
        .await?;
    assert_eq!(response.status, 403, "{}", response.text());
    assert!(stranger.session_cookie().is_none());
    assert!(browser.session_cookie().is_none());
    assert!(
        database
            .db
            .audit_entries(0, 10_000)
            .await?
            .iter()
            .all(|entry| !String::from_utf8_lossy(&entry.data).contains("login_")),
        "a refused form tried to sign in"
    );
    Ok(())
}

/// A bearer token is not ambient: API clients send no CSRF token, and a cookie client may send
/// the token in a header instead of a form.
async fn bearer_requests_need_no_csrf_token(database: TestDatabase) -> TestResult {
    active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    let (token, _) = api_session(&server, PHONE, None).await?;
    let (_, second) = api_session(&server, PHONE, None).await?;
    let revoked = server
        .with_token("DELETE", &format!("/api/v1/me/sessions/{second}"), &token)
        .await?;
    assert_eq!(revoked.status, 204, "{}", revoked.text());

    // A bearer request that also carries a cookie is judged by its bearer token.
    let mut browser = Browser::new(&server);
    assert_redirect(&sign_in_by_form(&mut browser, PHONE).await?, "/cuenta");
    let cookie = format!(
        "ceiba_sesion={}",
        browser.session_cookie().ok_or("no cookie")?
    );
    let authorization = format!("Bearer {token}");
    let (_, third) = api_session(&server, PHONE, None).await?;
    let both = send(
        "DELETE",
        &server.url(&format!("/api/v1/me/sessions/{third}")),
        &[("authorization", &authorization), ("cookie", &cookie)],
        Vec::new(),
    )
    .await?;
    assert_eq!(both.status, 204, "{}", both.text());

    // Reading with the cookie needs no token; changing with it, the header does.
    let me = send(
        "GET",
        &server.url("/api/v1/me"),
        &[("cookie", &cookie)],
        Vec::new(),
    )
    .await?;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()?["display_name"], "Ana Pérez");
    let csrf = csrf_of(&browser.get("/cuenta").await?.text()).ok_or("no _csrf")?;
    let signed_out = send(
        "DELETE",
        &server.url("/api/v1/sessions/current"),
        &[("cookie", &cookie), ("x-ceiba-csrf", &csrf)],
        Vec::new(),
    )
    .await?;
    assert_eq!(signed_out.status, 204, "{}", signed_out.text());
    assert_redirect(&browser.get("/cuenta").await?, "/cuenta/entrar");
    // The bearer session was not touched by any of this.
    assert_eq!(
        server.with_token("GET", "/api/v1/me", &token).await?.status,
        200
    );
    Ok(())
}

fn attributes(cookie: &str) -> Vec<&str> {
    cookie.split(';').map(str::trim).collect()
}

async fn cookies_are_http_only_same_site_strict_and_secure_with_tls(
    database: TestDatabase,
) -> TestResult {
    active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    for tls in [false, true] {
        let mut state = test_state(&database.db);
        state.tls = tls;
        let server = TestServer::with_state(state, ServerLimits::default()).await?;
        let mut browser = Browser::new(&server);
        let form_page = browser.get("/cuenta/entrar").await?;
        let csrf_cookie = set_cookie_named(&form_page, "ceiba_csrf").ok_or("no ceiba_csrf")?;
        let csrf = csrf_of(&form_page.text()).ok_or("no _csrf")?;
        let signed_in = browser
            .post(
                "/cuenta/entrar",
                &[
                    ("telefono", PHONE),
                    ("contrasena", PASSWORD),
                    ("_csrf", &csrf),
                ],
            )
            .await?;
        assert_redirect(&signed_in, "/cuenta");
        let session = set_cookie_named(&signed_in, "ceiba_sesion").ok_or("no ceiba_sesion")?;
        let device =
            set_cookie_named(&signed_in, "ceiba_dispositivo").ok_or("no ceiba_dispositivo")?;
        for cookie in [&csrf_cookie, &session, &device] {
            let attributes = attributes(cookie);
            for expected in ["HttpOnly", "SameSite=Strict", "Path=/"] {
                assert!(attributes.contains(&expected), "{expected}: {cookie}");
            }
            assert_eq!(attributes.contains(&"Secure"), tls, "tls={tls}: {cookie}");
        }
        // The session cookie ends with the browser; the device cookie lasts a year.
        assert!(!session.contains("Max-Age"), "{session}");
        assert!(
            attributes(&device).contains(&"Max-Age=31536000"),
            "{device}"
        );
        // The session token is a real one.
        let token = session
            .split(';')
            .next()
            .and_then(|pair| pair.strip_prefix("ceiba_sesion="))
            .ok_or("no value")?;
        assert!(SessionToken::parse(token).is_ok(), "{session}");

        // A browser that signed in before is a known device: the cookie comes back, no new one.
        let csrf = csrf_of(&browser.get("/cuenta").await?.text()).ok_or("no _csrf")?;
        let signed_out = browser.post("/cuenta/salir", &[("_csrf", &csrf)]).await?;
        let cleared = set_cookie_named(&signed_out, "ceiba_sesion").ok_or("not cleared")?;
        assert!(attributes(&cleared).contains(&"Max-Age=0"), "{cleared}");
        assert_eq!(attributes(&cleared).contains(&"Secure"), tls, "{cleared}");
        let again = sign_in_by_form(&mut browser, PHONE).await?;
        assert_redirect(&again, "/cuenta");
        assert_eq!(set_cookie_named(&again, "ceiba_dispositivo"), None);
    }
    Ok(())
}

async fn sign_in_form_asks_for_the_second_factor_once_enrolled(
    database: TestDatabase,
) -> TestResult {
    active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    let (token, _) = api_session(&server, PHONE, None).await?;
    let secret = enrol_second_factor(&server, &token).await?;

    // The field is always there, with its hint.
    let mut browser = Browser::new(&server);
    let form_page = browser.get("/cuenta/entrar").await?.text();
    assert!(
        form_page.contains(r#"name="segundo_factor""#),
        "{form_page}"
    );
    assert!(
        form_page
            .to_lowercase()
            .contains("solo si activó el segundo factor"),
        "{form_page}"
    );

    // The password alone: the form comes back asking for the code, and no session.
    let without = sign_in_by_form(&mut browser, PHONE).await?;
    assert_eq!(without.status, 200, "{}", without.text());
    let page = without.text();
    assert_eq!(
        error_of(&page),
        Some(
            "Su cuenta tiene segundo factor: escriba también el código de su aplicación o un \
             código de recuperación."
        ),
        "{page}"
    );
    assert!(page.contains(r#"value="+53 5123 4567""#), "{page}");
    assert!(!page.contains(PASSWORD), "{page}");
    assert!(browser.session_cookie().is_none());

    // A wrong code says so.
    server.clock.advance(Duration::from_secs(30));
    let code = secret.code_at(server.clock.now_s());
    let wrong_code = if code == "000000" { "111111" } else { "000000" };
    let wrong = browser
        .fill(
            "/cuenta/entrar",
            "/cuenta/entrar",
            &[
                ("telefono", PHONE),
                ("contrasena", PASSWORD),
                ("segundo_factor", wrong_code),
            ],
        )
        .await?;
    let page = wrong.text();
    assert!(
        error_of(&page).is_some_and(|error| error.starts_with("El segundo factor no es correcto")),
        "{page}"
    );
    assert!(browser.session_cookie().is_none());

    // With the code: signed in, and the session proved the second factor.
    let with_code = browser
        .fill(
            "/cuenta/entrar",
            "/cuenta/entrar",
            &[
                ("telefono", PHONE),
                ("contrasena", PASSWORD),
                ("segundo_factor", &code),
            ],
        )
        .await?;
    assert_redirect(&with_code, "/cuenta");
    let token = browser.session_cookie().ok_or("no session")?;
    let session = database
        .db
        .session_by_token_hash(&SessionToken::parse(token)?.hash())
        .await?
        .ok_or("no such session")?;
    assert!(session.second_factor_at_s.is_some());
    assert_eq!(session.client, "web");
    Ok(())
}

async fn wrong_password_and_unknown_number_read_alike_on_the_form(
    database: TestDatabase,
) -> TestResult {
    active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;
    let mut browser = Browser::new(&server);
    let mut answers = Vec::new();
    for (phone, password) in [
        (PHONE, "adivinanza-equivocada"),
        ("+53 5999 8888", "adivinanza-equivocada"),
        ("+53 5999 8888", PASSWORD),
    ] {
        let response = browser
            .fill(
                "/cuenta/entrar",
                "/cuenta/entrar",
                &[("telefono", phone), ("contrasena", password)],
            )
            .await?;
        assert_eq!(response.status, 200, "{}", response.text());
        let page = response.text();
        assert!(!page.contains(password), "the password came back: {page}");
        let typed = format!(r#"value="{phone}""#);
        assert!(page.contains(&typed), "{page}");
        assert_eq!(set_cookie_named(&response, "ceiba_sesion"), None);
        let sentence = error_of(&page).ok_or("no sentence")?.to_owned();
        // The page differs in nothing else but the number typed.
        answers.push((sentence, page.replace(&typed, r#"value="…""#)));
    }
    assert_eq!(
        answers[0].0,
        "El número de teléfono o la contraseña no son correctos."
    );
    for answer in &answers[1..] {
        assert_eq!(answer, &answers[0], "the answers differ");
    }
    Ok(())
}

async fn account_pages_are_small_script_free_and_never_stored(
    database: TestDatabase,
) -> TestResult {
    let user_id = active_user(&database.db, PHONE, &[Role::Citizen]).await?;
    let server = TestServer::start(&database.db).await?;

    // Without a session, the account page sends to the sign-in form, and says so to no cache.
    let anonymous = server.get("/cuenta").await?;
    assert_redirect(&anonymous, "/cuenta/entrar");
    assert_eq!(anonymous.header("cache-control"), Some("no-store"));
    let home = server.get("/").await?.text();
    assert!(
        home.contains(r#"<a id="enlace-cuenta" href="/cuenta/entrar">Entrar</a>"#),
        "{home}"
    );

    // A person with many open sessions: the page still stays small.
    let now_s = server.clock.now_s();
    for index in 0..40 {
        let token_hash = SessionToken::generate(&mut rand::rng()).hash();
        database
            .db
            .create_session(&SessionRow {
                id: uuid::Uuid::new_v4().to_string(),
                token_hash,
                user_id: user_id.clone(),
                created_at_s: now_s - 3600 + index,
                last_seen_at_s: now_s - 600,
                revoked_at_s: None,
                client: "api".to_owned(),
                second_factor_at_s: None,
            })
            .await?;
    }
    let mut browser = Browser::new(&server);
    assert_redirect(&sign_in_by_form(&mut browser, PHONE).await?, "/cuenta");

    for (path, language, heading) in [
        ("/cuenta/registro", "es", "Crear una cuenta"),
        ("/cuenta/confirmar", "es", "Confirmar el número"),
        ("/cuenta/entrar", "es", "Entrar"),
        ("/cuenta", "es", "Mi cuenta"),
        ("/cuenta/registro", "en", "Create an account"),
        ("/cuenta/entrar", "en", "Sign in"),
        ("/cuenta", "en", "My account"),
    ] {
        browser.accept_language = if language == "es" { "es" } else { "en-US" };
        let response = browser.get(path).await?;
        assert_eq!(response.status, 200, "{path}: {}", response.text());
        let page = response.text();
        assert!(
            response.body.len() < 30_000,
            "{path}: {} bytes",
            response.body.len()
        );
        assert!(!page.to_ascii_lowercase().contains("<script"), "{path}");
        assert!(!page.contains("style="), "{path}: inline style");
        assert!(
            page.contains(&format!(r#"<html lang="{language}">"#)),
            "{path}"
        );
        assert!(
            page.contains(&format!("<h1>{heading}</h1>")),
            "{path}: {page}"
        );
        assert_eq!(response.header("cache-control"), Some("no-store"), "{path}");
        assert_eq!(
            response.header("content-language"),
            Some(language),
            "{path}"
        );
        assert!(
            page.matches("<form").count() == page.matches(r#"name="_csrf""#).count(),
            "{path}: a form without _csrf"
        );
        if path == "/cuenta" {
            assert_eq!(listed_sessions(&page).len(), 25, "{page}");
            assert!(
                page.contains(r#"class="actual""#),
                "this session is shown: {page}"
            );
            assert!(
                page.contains("Hay 16 sesiones más") || page.contains("There are 16 more"),
                "{page}"
            );
        }
    }
    Ok(())
}
