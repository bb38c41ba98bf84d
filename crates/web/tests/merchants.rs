//! Merchants over HTTP, on each engine: a person applies for a business, every bad field is
//! refused with its reason and writes nothing, a NIT registers once, the owner (and only the
//! owner, or an administrator) sees it; an administrator approves (the merchant's ledger
//! account opens and the owner gets the `merchant` role) or rejects with a reason, once, and
//! both decisions are in the audit log. Nobody else can decide.

use ceiba_identity::Role;
use ceiba_payments::{Currency, accounts};
use ceiba_store::{Db, LedgerEngine};
use ceiba_testkit::each_engine;
use ceiba_testkit::http::Response;
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use ceiba_web::ServerLimits;
use serde_json::{Value, json};

mod support;
use support::{
    Browser, TestServer, assert_problem, csrf_of, error_of, ledger_state, post_json_as,
    second_factor_token, signed_in_user,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite:
        a_business_applies_and_an_administrator_approves_it,
        bad_applications_are_refused_and_write_nothing,
        a_rejection_says_why_and_nobody_else_decides,
        the_business_pages_apply_approve_and_set_up_the_online_shop,
    );
    suite.run()
}

const MERCHANTS: &str = "/api/v1/merchants";

fn application(nit: &str) -> Value {
    json!({
        "business_name": "  Cafetería   La Esquina ",
        "nit": nit,
        "category_code": "5814",
        "city": "Santiago de Cuba",
        "settlement": {"bank": "BANDEC", "currency": "CUP", "account_number": "9205 1299 0001 2345"}
    })
}

struct Comercios {
    server: TestServer,
    engine: LedgerEngine,
    db: Db,
    admin: String,
}

impl Comercios {
    async fn start(db: &Db) -> Result<Comercios, String> {
        let state = ledger_state(db).await?;
        let engine = state.ledger.clone().ok_or("the state has no ledger")?;
        let server = TestServer::with_state(state, ServerLimits::default())
            .await
            .map_err(|e| e.to_string())?;
        let admin = second_factor_token(&server, db, "+5352229999", &[Role::Administrator]).await?;
        Ok(Comercios {
            server,
            engine,
            db: db.clone(),
            admin,
        })
    }

    async fn get(&self, path: &str, token: &str) -> Result<Response, String> {
        let authorization = format!("Bearer {token}");
        self.server
            .get_with(path, &[("authorization", authorization.as_str())])
            .await
    }

    async fn audit_kinds(&self) -> Result<Vec<String>, String> {
        let rows = self
            .db
            .audit_entries(0, 1_000)
            .await
            .map_err(|e| e.to_string())?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let event: Value = serde_json::from_slice(&row.data).ok()?;
                Some(event["kind"].as_str()?.to_owned())
            })
            .collect())
    }

    async fn stop(mut self) {
        self.server.shut_down();
        self.engine.stop().await;
    }
}

async fn a_business_applies_and_an_administrator_approves_it(database: TestDatabase) -> TestResult {
    let app = Comercios::start(&database.db).await?;
    let (owner, token) = signed_in_user(
        &app.server,
        &app.db,
        "+5352001001",
        "Ana Pérez",
        &[Role::Citizen],
    )
    .await?;
    let applied = post_json_as(
        &app.server,
        MERCHANTS,
        &token,
        None,
        &application("0123 4567 890"),
    )
    .await?;
    assert_eq!(applied.status, 201, "{}", applied.text());
    let merchant = applied.json()?;
    let id = merchant["id"].as_str().ok_or("an id")?.to_owned();
    assert_eq!(merchant["business_name"], "Cafetería La Esquina");
    assert_eq!(merchant["nit"], "01234567890");
    assert_eq!(merchant["category_code"], "5814");
    assert_eq!(merchant["category_name"], "Comida rápida y cafeterías");
    assert_eq!(merchant["status"], "pending");
    assert_eq!(merchant["settlement"]["account_number"], "************2345");
    assert!(
        !applied.text().contains("9205129900012345"),
        "the number is never shown whole"
    );

    // The owner lists it; someone else cannot see it.
    let mine = app.get(MERCHANTS, &token).await?.json()?;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    let (_, other) = signed_in_user(
        &app.server,
        &app.db,
        "+5352001002",
        "Beto Díaz",
        &[Role::Citizen],
    )
    .await?;
    let hidden = app.get(&format!("{MERCHANTS}/{id}"), &other).await?;
    assert_problem(
        &hidden,
        404,
        "merchant_unknown",
        &format!("{MERCHANTS}/{id}"),
    );
    assert_eq!(app.get(MERCHANTS, &other).await?.json()?, json!([]));

    // The same NIT again, by anyone: refused.
    let again = post_json_as(
        &app.server,
        MERCHANTS,
        &other,
        None,
        &application("01234567890"),
    )
    .await?;
    assert_problem(&again, 409, "merchant_nit_taken", MERCHANTS);

    // Waiting in the administrators' queue; approved once; no merchant account before.
    let queue = app
        .get("/api/v1/admin/merchants", &app.admin)
        .await?
        .json()?;
    assert_eq!(queue[0]["id"], id.as_str(), "{queue}");
    let account = accounts::merchant(&id, Currency::Cup);
    assert!(app.engine.read().state.account(account).is_none());
    let approve = format!("/api/v1/admin/merchants/{id}/approve");
    let approved = post_json_as(&app.server, &approve, &app.admin, None, &json!({})).await?;
    assert_eq!(approved.status, 200, "{}", approved.text());
    assert_eq!(approved.json()?["status"], "approved");
    let twice = post_json_as(&app.server, &approve, &app.admin, None, &json!({})).await?;
    assert_problem(&twice, 409, "merchant_already_decided", &approve);
    let opened = app
        .engine
        .read()
        .state
        .account(account)
        .ok_or("the merchant's account opened")?;
    assert_eq!(opened.code, accounts::CODE_MERCHANT);

    // The owner is a merchant now (a session already open sees it at once).
    let roles = app.db.roles_of(&owner).await.map_err(|e| e.to_string())?;
    assert!(roles.contains(&Role::Merchant), "{roles:?}");
    let seen = app
        .get(&format!("{MERCHANTS}/{id}"), &token)
        .await?
        .json()?;
    assert_eq!(seen["status"], "approved");
    let me = app.get("/api/v1/me", &token).await?.json()?;
    assert!(
        me["roles"]
            .as_array()
            .is_some_and(|roles| roles.contains(&json!("merchant"))),
        "{me}"
    );
    assert!(
        app.audit_kinds()
            .await?
            .contains(&"merchant_decided".to_owned())
    );
    let pending = app
        .get("/api/v1/admin/merchants", &app.admin)
        .await?
        .json()?;
    assert_eq!(pending, json!([]));
    let approved_list = app
        .get("/api/v1/admin/merchants?status=approved", &app.admin)
        .await?
        .json()?;
    assert_eq!(approved_list[0]["id"], id.as_str());
    app.stop().await;
    Ok(())
}

async fn bad_applications_are_refused_and_write_nothing(database: TestDatabase) -> TestResult {
    let app = Comercios::start(&database.db).await?;
    let (owner, token) = signed_in_user(
        &app.server,
        &app.db,
        "+5352001001",
        "Ana Pérez",
        &[Role::Citizen],
    )
    .await?;
    let cases: [(&str, Value, &str, &str); 7] = [
        (
            "business_name",
            json!(""),
            "validation_failed",
            "nombre del negocio",
        ),
        ("nit", json!("1234"), "validation_failed", "11 dígitos"),
        (
            "category_code",
            json!("54"),
            "validation_failed",
            "4 dígitos",
        ),
        ("city", json!(" "), "validation_failed", "ciudad"),
        (
            "settlement",
            json!({"bank": "BNC", "currency": "CUP", "account_number": "9205129900012345"}),
            "payment_unknown_bank",
            "BNC",
        ),
        (
            "settlement",
            json!({"bank": "BPA", "currency": "EUR", "account_number": "9205129900012345"}),
            "payment_invalid_currency",
            "EUR",
        ),
        (
            "settlement",
            json!({"bank": "BPA", "currency": "CUP", "account_number": "1234"}),
            "payment_bank_account_number_invalid",
            "16 dígitos",
        ),
    ];
    for (field, value, code, words) in cases {
        let mut body = application("01234567890");
        body[field] = value;
        let refused = post_json_as(&app.server, MERCHANTS, &token, None, &body).await?;
        let problem = assert_problem(&refused, refused.status, code, MERCHANTS);
        assert!(
            (400..500).contains(&refused.status),
            "{field}: {}",
            refused.text()
        );
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|detail| detail.contains(words)),
            "{field}: {problem}"
        );
    }
    let unknown_field = post_json_as(
        &app.server,
        MERCHANTS,
        &token,
        None,
        &json!({"business_name": "x", "nit": "01234567890", "category_code": "5411", "city": "Bayamo",
            "settlement": {"bank": "BPA", "currency": "CUP", "account_number": "9205129900012345"},
            "approved": true}),
    )
    .await?;
    assert_eq!(unknown_field.status, 422, "{}", unknown_field.text());
    let anonymous = app
        .server
        .send_json("POST", MERCHANTS, &application("01234567890"), &[])
        .await?;
    assert_eq!(anonymous.status, 401);
    assert!(
        app.db
            .merchants_of(&owner)
            .await
            .map_err(|e| e.to_string())?
            .is_empty(),
        "nothing was written"
    );
    app.stop().await;
    Ok(())
}

async fn a_rejection_says_why_and_nobody_else_decides(database: TestDatabase) -> TestResult {
    let app = Comercios::start(&database.db).await?;
    let (owner, token) = signed_in_user(
        &app.server,
        &app.db,
        "+5352001001",
        "Ana Pérez",
        &[Role::Citizen],
    )
    .await?;
    let applied = post_json_as(
        &app.server,
        MERCHANTS,
        &token,
        None,
        &application("01234567890"),
    )
    .await?;
    let id = applied.json()?["id"].as_str().ok_or("an id")?.to_owned();
    let reject = format!("/api/v1/admin/merchants/{id}/reject");

    // The owner cannot approve their own business, nor can a bank operator without the role.
    let approve = format!("/api/v1/admin/merchants/{id}/approve");
    let forbidden = post_json_as(&app.server, &approve, &token, None, &json!({})).await?;
    assert_eq!(forbidden.status, 403, "{}", forbidden.text());
    let queue = app.get("/api/v1/admin/merchants", &token).await?;
    assert_eq!(queue.status, 403);

    let no_reason = post_json_as(
        &app.server,
        &reject,
        &app.admin,
        None,
        &json!({"reason": " "}),
    )
    .await?;
    assert_problem(&no_reason, 422, "validation_failed", &reject);
    let rejected = post_json_as(
        &app.server,
        &reject,
        &app.admin,
        None,
        &json!({"reason": "El NIT no corresponde al titular."}),
    )
    .await?;
    assert_eq!(rejected.status, 200, "{}", rejected.text());
    let seen = app
        .get(&format!("{MERCHANTS}/{id}"), &token)
        .await?
        .json()?;
    assert_eq!(seen["status"], "rejected");
    assert_eq!(seen["decision_reason"], "El NIT no corresponde al titular.");
    let late = post_json_as(&app.server, &approve, &app.admin, None, &json!({})).await?;
    assert_problem(&late, 409, "merchant_already_decided", &approve);
    let roles = app.db.roles_of(&owner).await.map_err(|e| e.to_string())?;
    assert!(!roles.contains(&Role::Merchant), "{roles:?}");
    assert!(
        app.engine
            .read()
            .state
            .account(accounts::merchant(&id, Currency::Cup))
            .is_none(),
        "a rejected merchant has no account"
    );
    let missing = post_json_as(
        &app.server,
        "/api/v1/admin/merchants/nope/approve",
        &app.admin,
        None,
        &json!({}),
    )
    .await?;
    assert_problem(
        &missing,
        404,
        "merchant_unknown",
        "/api/v1/admin/merchants/nope/approve",
    );
    app.stop().await;
    Ok(())
}

/// A form posted with a bearer token (no cookie, so no `_csrf` is asked for).
async fn post_form_as(
    server: &TestServer,
    path: &str,
    token: &str,
    fields: &[(&str, &str)],
) -> Result<Response, String> {
    let authorization = format!("Bearer {token}");
    ceiba_testkit::http::send(
        "POST",
        &server.url(path),
        &[
            ("authorization", authorization.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        support::form(fields).into_bytes(),
    )
    .await
}

async fn the_business_pages_apply_approve_and_set_up_the_online_shop(
    database: TestDatabase,
) -> TestResult {
    let db = &database.db;
    let state = ledger_state(db).await?;
    let engine = state.ledger.clone().ok_or("a ledger")?;
    let server = TestServer::with_state(state, ServerLimits::default()).await?;
    let admin = second_factor_token(&server, db, "+5352229999", &[Role::Administrator]).await?;
    signed_in_user(&server, db, "+5352001001", "Ana Pérez", &[Role::Citizen]).await?;
    let mut owner = Browser::new(&server);
    support::sign_in_by_form(&mut owner, "+5352001001").await?;

    // The application form: a bad NIT is said on the form, a good one goes to the admins.
    let mut fields = vec![
        ("nombre", "Dulcería La Colmena"),
        ("nit", "123"),
        ("mcc", "5441"),
        ("ciudad", "Camagüey"),
        ("banco", "BPA"),
        ("moneda", "CUP"),
        ("cuenta", "9205 1299 0001 7777"),
    ];
    let refused = owner
        .fill("/comercio/solicitud", "/comercio/solicitud", &fields)
        .await?;
    assert_eq!(refused.status, 200);
    assert!(
        error_of(&refused.text()).is_some_and(|e| e.contains("NIT")),
        "{}",
        refused.text()
    );
    assert!(
        refused.text().contains("Dulcería La Colmena"),
        "what was typed stays"
    );
    fields[1] = ("nit", "01234567899");
    let applied = owner
        .fill("/comercio/solicitud", "/comercio/solicitud", &fields)
        .await?;
    support::assert_redirect(&applied, "/comercio");
    let merchant = owner.get("/comercio").await?.text();
    assert!(merchant.contains("Dulcería La Colmena"), "{merchant}");
    assert!(
        !merchant.contains("/comercio/tienda?"),
        "not approved yet: {merchant}"
    );

    // The administrator's page lists it; a rejection needs a reason; approval opens it.
    let listed = server
        .get_with(
            "/admin/comercios",
            &[("authorization", &format!("Bearer {admin}"))],
        )
        .await?;
    assert_eq!(listed.status, 200, "{}", listed.text());
    let page = listed.text();
    assert!(
        page.contains("Dulcería La Colmena") && page.contains("01234567899"),
        "{page}"
    );
    let id = page
        .split(r#"name="comercio" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("an application")?
        .to_owned();
    let no_reason = post_form_as(
        &server,
        "/admin/comercios/decidir",
        &admin,
        &[("comercio", &id), ("decision", "rechazar"), ("motivo", " ")],
    )
    .await?;
    assert!(
        error_of(&no_reason.text()).is_some(),
        "{}",
        no_reason.text()
    );
    let not_admin = owner.get("/admin/comercios").await?;
    assert_eq!(not_admin.status, 403, "{}", not_admin.text());
    let approved = post_form_as(
        &server,
        "/admin/comercios/decidir",
        &admin,
        &[("comercio", &id), ("decision", "aprobar")],
    )
    .await?;
    support::assert_redirect(&approved, "/admin/comercios");
    assert!(
        engine
            .read()
            .state
            .account(accounts::merchant(&id, Currency::Cup))
            .is_some(),
        "approval opened the merchant's account"
    );

    // The online shop's page: a client (its secret shown once, and it works), a webhook, a link.
    let shop = format!("/comercio/tienda?comercio={id}");
    let registered = owner
        .fill(
            &shop,
            "/comercio/tienda",
            &[("comercio", &id), ("accion", "cliente"), ("nombre", "Web")],
        )
        .await?;
    assert_eq!(registered.status, 200, "{}", registered.text());
    let text = registered.text();
    let secret = text
        .split(r#"<code id="valor-secreto">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .ok_or(format!("no secret shown: {text}"))?
        .to_owned();
    let client = text
        .split("client_id ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .ok_or("a client id")?
        .to_owned();
    assert!(
        !owner.get(&shop).await?.text().contains(&secret),
        "shown once"
    );
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client}:{secret}"));
    let token = ceiba_testkit::http::send(
        "POST",
        &server.url("/api/v1/oauth/token"),
        &[
            ("authorization", format!("Basic {basic}").as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        b"grant_type=client_credentials".to_vec(),
    )
    .await?;
    assert_eq!(
        token.status,
        200,
        "the page's secret works: {}",
        token.text()
    );
    let hooked = owner
        .fill(
            &shop,
            "/comercio/tienda",
            &[
                ("comercio", &id),
                ("accion", "webhook"),
                ("url", "https://dulceria.example/ceiba"),
            ],
        )
        .await?;
    assert!(
        hooked
            .text()
            .contains("https://dulceria.example/ceiba · Ceiba-Signature")
    );
    let linked = owner
        .fill(
            &shop,
            "/comercio/tienda",
            &[
                ("comercio", &id),
                ("accion", "enlace"),
                ("concepto", "Cake de cumpleaños"),
                ("importe", "350"),
            ],
        )
        .await?;
    support::assert_redirect(&linked, &shop);
    let page = owner.get(&shop).await?.text();
    assert!(
        page.contains("/pagar/enlace/lnk_") && page.contains("350,00 CUP"),
        "{page}"
    );
    assert!(page.contains("https://dulceria.example/ceiba"), "{page}");
    let revoked = owner
        .fill(
            &shop,
            "/comercio/tienda",
            &[
                ("comercio", &id),
                ("accion", "revocar"),
                ("cliente", &client),
            ],
        )
        .await?;
    support::assert_redirect(&revoked, &shop);
    assert!(
        owner
            .get(&shop)
            .await?
            .text()
            .contains(r#"id="sin-clientes""#)
    );
    // Somebody else's merchant has no shop page for them.
    let stranger = server
        .get_with(&shop, &[("authorization", &format!("Bearer {admin}"))])
        .await?;
    assert_eq!(stranger.status, 404, "{}", stranger.text());
    assert!(csrf_of(&page).is_some());
    engine.stop().await;
    Ok(())
}
