//! The access-control matrix, on each engine: every operation of the served OpenAPI document
//! (so a new route is covered, and must be placed in [`ACCESS`] before this test passes), called
//! without credentials and as a person holding each role alone (signed in with a second factor
//! where the role asks for one), must answer exactly what [`ACCESS`] documents:
//!
//! - without credentials: 401 on every route that declares the bearer token, and neither 401
//!   nor 403 on the open ones;
//! - a role the route is not for: 403;
//! - a role the route is for, or any signed-in person on the routes of one's own things: neither
//!   401 nor 403 (an object that is not the caller's answers 404, as one that does not exist).
//!
//! Objects are named by ids that exist for nobody (`1`), so a route of one's own things answers
//! 404 whoever asks. With real objects, every route (taken from the document too) of a linked
//! bank account, a merchant and all under it, a payout batch, a payment request and a session
//! answers another person 404, as if it did not exist, and its owner not. (Case records are
//! scoped by province rather than owned: `tests/salud.rs` checks that another province's case
//! answers 404.)
//!
//! The table is the documentation of who may call what; README's Tests section points here.

use std::collections::BTreeMap;

use ceiba_identity::Role;
use ceiba_testkit::each_engine;
use ceiba_testkit::http::send;
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use ceiba_web::ServerLimits;
use serde_json::Value;

mod support;
use support::{
    PASSWORD, TestServer, ledger_state, openapi_document, post_json_as, second_factor_token,
    sign_in, signed_in_user, token_of,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite:
        every_route_answers_each_role_as_documented,
        every_object_answers_its_owner_and_nobody_else,
    );
    suite.run()
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy)]
enum Access {
    /// Anyone, signed in or not.
    Open,
    /// Only the USSD gateway, by its key (none is configured here): 403 to everyone.
    UssdGateway,
    /// A shop's server with its client credentials (HTTP Basic): 401 to anything else.
    ClientCredentials,
    /// Any signed-in person; what it reaches is the caller's own.
    SignedIn,
    /// Only these roles, refused before the request's body is read (a wrong caller learns
    /// nothing of what a good body looks like).
    Roles(&'static [Role]),
}

use Access::{ClientCredentials, Open, Roles, SignedIn, UssdGateway};

const ADMIN: &[Role] = &[Role::Administrator];
const BANK: &[Role] = &[Role::BankOperator];
const BILLER: &[Role] = &[Role::Biller];
const HEALTH: &[Role] = &[Role::HealthWorker, Role::Epidemiologist];
const EPIDEMIOLOGIST: &[Role] = &[Role::Epidemiologist];

/// Every operation of `/api/openapi.json` and who may call it.
const ACCESS: &[(&str, &str, Access)] = &[
    ("GET", "/healthz", Open),
    ("GET", "/readyz", Open),
    ("GET", "/metrics", Open),
    ("GET", "/api/problems", Open),
    ("GET", "/api/openapi.json", Open),
    ("POST", "/api/v1/csp-reports", Open),
    ("GET", "/api/v1/audit/checkpoint", Open),
    ("GET", "/api/v1/audit/proofs/inclusion", Open),
    ("GET", "/api/v1/audit/proofs/consistency", Open),
    // Accounts.
    ("POST", "/api/v1/accounts", Open),
    ("POST", "/api/v1/accounts/confirmation", Open),
    ("POST", "/api/v1/sessions", Open),
    ("DELETE", "/api/v1/sessions/current", SignedIn),
    ("GET", "/api/v1/me", SignedIn),
    ("GET", "/api/v1/me/sessions", SignedIn),
    ("DELETE", "/api/v1/me/sessions/{id}", SignedIn),
    ("POST", "/api/v1/me/second-factor", SignedIn),
    ("POST", "/api/v1/me/second-factor/confirmation", SignedIn),
    ("POST", "/api/v1/me/password", SignedIn),
    ("PUT", "/api/v1/me/national-id", SignedIn),
    ("PUT", "/api/v1/me/pin", SignedIn),
    ("POST", "/api/v1/me/phone", SignedIn),
    ("POST", "/api/v1/me/phone/confirmation", SignedIn),
    ("GET", "/api/v1/admin/users/{id}", Roles(ADMIN)),
    ("PUT", "/api/v1/admin/users/{id}/roles", Roles(ADMIN)),
    ("POST", "/api/v1/admin/users/{id}/disable", Roles(ADMIN)),
    (
        "PUT",
        "/api/v1/admin/users/{id}/salud-provinces",
        Roles(ADMIN),
    ),
    // Ledger.
    ("POST", "/api/v1/ledger/accounts", Roles(BANK)),
    ("POST", "/api/v1/ledger/transfers", Roles(BANK)),
    ("GET", "/api/v1/ledger/accounts/{id}", Roles(BANK)),
    ("GET", "/api/v1/ledger/transfers/{id}", Roles(BANK)),
    ("GET", "/api/v1/ledger/accounts/{id}/transfers", Roles(BANK)),
    ("GET", "/api/v1/ledger/accounts/{id}/balances", Roles(BANK)),
    ("GET", "/api/v1/ledger/accounts/{id}/pending", Roles(BANK)),
    ("GET", "/api/v1/ledger/changes", Roles(BANK)),
    // Pagos for people.
    ("GET", "/api/v1/payments/wallet", SignedIn),
    ("GET", "/api/v1/payments/recipients", SignedIn),
    ("POST", "/api/v1/payments/transfers", SignedIn),
    ("POST", "/api/v1/payments/cash-in", Roles(BANK)),
    ("POST", "/api/v1/payments/cash-out", Roles(BANK)),
    ("GET", "/api/v1/payments/operations", SignedIn),
    ("GET", "/api/v1/payments/operations/{id}", SignedIn),
    ("GET", "/api/v1/payments/limits", SignedIn),
    ("PUT", "/api/v1/payments/limits", SignedIn),
    ("GET", "/api/v1/payments/statement.csv", SignedIn),
    ("GET", "/api/v1/payments/receipts", Open),
    ("GET", "/api/v1/payments/billers", SignedIn),
    (
        "GET",
        "/api/v1/payments/bills/{biller}/{reference}",
        SignedIn,
    ),
    ("POST", "/api/v1/payments/bills", SignedIn),
    ("POST", "/api/v1/payments/top-ups", SignedIn),
    ("GET", "/api/v1/payments/bank-accounts", SignedIn),
    ("POST", "/api/v1/payments/bank-accounts", SignedIn),
    ("DELETE", "/api/v1/payments/bank-accounts/{id}", SignedIn),
    (
        "POST",
        "/api/v1/payments/bank-accounts/{id}/deposits",
        SignedIn,
    ),
    (
        "POST",
        "/api/v1/payments/bank-accounts/{id}/withdrawals",
        SignedIn,
    ),
    ("POST", "/api/v1/payments/qr/scan", SignedIn),
    ("POST", "/api/v1/payments/qr", SignedIn),
    ("POST", "/api/v1/payment-requests", SignedIn),
    ("GET", "/api/v1/payment-requests", SignedIn),
    ("POST", "/api/v1/payment-requests/{id}/accept", SignedIn),
    ("POST", "/api/v1/payment-requests/{id}/decline", SignedIn),
    // Billers.
    ("POST", "/api/v1/billers/{code}/bills", Roles(BILLER)),
    ("GET", "/api/v1/billers/{code}/payments", Roles(BILLER)),
    (
        "GET",
        "/api/v1/billers/{code}/reconciliation",
        Roles(BILLER),
    ),
    ("PUT", "/api/v1/billers/{code}/operator", Roles(ADMIN)),
    // Merchants: the owner's (or an administrator's), by the merchant's id.
    ("POST", "/api/v1/merchants", SignedIn),
    ("GET", "/api/v1/merchants", SignedIn),
    ("GET", "/api/v1/merchants/{id}", SignedIn),
    ("GET", "/api/v1/admin/merchants", Roles(ADMIN)),
    ("POST", "/api/v1/admin/merchants/{id}/approve", Roles(ADMIN)),
    ("POST", "/api/v1/admin/merchants/{id}/reject", Roles(ADMIN)),
    ("POST", "/api/v1/merchants/{id}/clients", SignedIn),
    ("GET", "/api/v1/merchants/{id}/clients", SignedIn),
    (
        "DELETE",
        "/api/v1/merchants/{id}/clients/{client_id}",
        SignedIn,
    ),
    ("POST", "/api/v1/oauth/token", ClientCredentials),
    ("POST", "/api/v1/merchants/{id}/qr-codes", SignedIn),
    ("GET", "/api/v1/merchants/{id}/qr-codes/{qr}/svg", SignedIn),
    ("GET", "/api/v1/merchants/{id}/qr-codes/{qr}/png", SignedIn),
    ("GET", "/api/v1/merchants/{id}/payments", SignedIn),
    ("GET", "/api/v1/merchants/{id}/reconciliation", SignedIn),
    ("GET", "/api/v1/merchants/{id}/refunds", SignedIn),
    (
        "POST",
        "/api/v1/merchants/{id}/payments/{payment}/refunds",
        SignedIn,
    ),
    ("PUT", "/api/v1/merchants/{id}/webhook", SignedIn),
    ("GET", "/api/v1/merchants/{id}/webhook/deliveries", SignedIn),
    (
        "POST",
        "/api/v1/merchants/{id}/webhook/deliveries/{delivery}/replay",
        SignedIn,
    ),
    ("POST", "/api/v1/merchants/{id}/checkouts", SignedIn),
    ("GET", "/api/v1/merchants/{id}/checkouts", SignedIn),
    (
        "GET",
        "/api/v1/merchants/{id}/checkouts/{checkout}",
        SignedIn,
    ),
    (
        "POST",
        "/api/v1/merchants/{id}/checkouts/{checkout}/cancel",
        SignedIn,
    ),
    ("POST", "/api/v1/merchants/{id}/payment-links", SignedIn),
    ("GET", "/api/v1/merchants/{id}/payment-links", SignedIn),
    (
        "DELETE",
        "/api/v1/merchants/{id}/payment-links/{link}",
        SignedIn,
    ),
    // Bulk payouts: a bank's operator or a merchant's owner, decided by `source`.
    ("POST", "/api/v1/payouts", SignedIn),
    ("GET", "/api/v1/payouts", SignedIn),
    ("GET", "/api/v1/payouts/{id}", SignedIn),
    ("POST", "/api/v1/payouts/{id}/start", SignedIn),
    ("GET", "/api/v1/payouts/{id}/result.csv", SignedIn),
    ("GET", "/api/v1/settlement", Roles(BANK)),
    ("GET", "/api/v1/settlement.csv", Roles(BANK)),
    ("POST", "/ussd", UssdGateway),
    // Salud: open data, and case records for health roles.
    ("GET", "/api/salud/open/geography", Open),
    ("GET", "/api/salud/open/series", Open),
    ("GET", "/api/salud/open/series.csv", Open),
    ("GET", "/api/salud/open/profile", Open),
    ("GET", "/api/salud/open/profile.csv", Open),
    ("GET", "/api/salud/open/national", Open),
    ("GET", "/api/salud/open/national.csv", Open),
    ("GET", "/api/salud/open/groups", Open),
    ("GET", "/api/salud/open/groups.csv", Open),
    ("GET", "/api/salud/open/models", Open),
    ("GET", "/api/salud/open/centres", Open),
    ("GET", "/api/v1/salud/cases", Roles(HEALTH)),
    ("GET", "/api/v1/salud/cases/{id}", Roles(HEALTH)),
    ("POST", "/api/v1/salud/cases/{id}/lab-tests", Roles(HEALTH)),
    ("GET", "/api/v1/salud/cases/{id}/lab-tests", Roles(HEALTH)),
    ("POST", "/api/v1/salud/cases/{id}/contacts", Roles(HEALTH)),
    ("GET", "/api/v1/salud/cases/{id}/contacts", Roles(HEALTH)),
    ("PUT", "/api/v1/salud/contacts/{id}", Roles(HEALTH)),
    ("POST", "/api/v1/salud/imports", Roles(HEALTH)),
    ("POST", "/api/v1/salud/persons", Roles(HEALTH)),
    ("GET", "/api/v1/salud/persons/{id}", Roles(HEALTH)),
    ("GET", "/api/v1/salud/persons/duplicates", Roles(HEALTH)),
    ("POST", "/api/v1/salud/persons/{id}/merge", Roles(HEALTH)),
    ("PUT", "/api/v1/salud/centres/{kind}/{id}", Roles(HEALTH)),
    ("POST", "/api/v1/salud/events", Roles(HEALTH)),
    ("POST", "/api/v1/salud/events/{id}/cases", Roles(HEALTH)),
    ("GET", "/api/v1/salud/events/{id}", Roles(HEALTH)),
    ("POST", "/api/v1/salud/models/runs", Roles(EPIDEMIOLOGIST)),
    ("GET", "/api/v1/salud/models/runs", Roles(EPIDEMIOLOGIST)),
    (
        "GET",
        "/api/v1/salud/models/runs/{id}",
        Roles(EPIDEMIOLOGIST),
    ),
    (
        "DELETE",
        "/api/v1/salud/models/runs/{id}",
        Roles(EPIDEMIOLOGIST),
    ),
    // Enciclopedia: reading is open; editing needs an account; filters are administrators'.
    ("GET", "/api/v1/wiki/pages/{title}", Open),
    ("PUT", "/api/v1/wiki/pages/{title}", SignedIn),
    ("GET", "/api/v1/wiki/pages/{title}/history", Open),
    ("GET", "/api/v1/wiki/search", Open),
    ("GET", "/api/v1/wiki/suggest", Open),
    ("GET", "/api/v1/wiki/filters", Roles(ADMIN)),
    ("PUT", "/api/v1/wiki/filters/{id}", Roles(ADMIN)),
];

/// Ends the caller's own session: called last, so every other row still has its token.
const SIGN_OUT: (&str, &str) = ("DELETE", "/api/v1/sessions/current");

/// The operations of the served document, as (method, path, body's content type).
fn operations(document: &Value) -> Result<Vec<(String, String, Option<String>)>, String> {
    let paths = document["paths"].as_object().ok_or("no paths")?;
    let mut found = Vec::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().ok_or("a path is not an object")? {
            let content_type = operation["requestBody"]["content"]
                .as_object()
                .and_then(|content| content.keys().next().cloned());
            found.push((method.to_ascii_uppercase(), path.clone(), content_type));
        }
    }
    // The caller's own sign-out last.
    found.sort_by_key(|(method, path, _)| method == SIGN_OUT.0 && path == SIGN_OUT.1);
    Ok(found)
}

/// `path` with every `{placeholder}` replaced by `1`, an id that names nobody's object.
fn nobody_s(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A body the route can take the shape of without doing anything: nothing the handler acts on.
fn empty_body(content_type: Option<&str>) -> (Option<&str>, &'static str) {
    match content_type {
        Some(kind) if kind.contains("json") => (Some("application/json"), "{}"),
        Some(kind) => (Some(kind), ""),
        None => (None, ""),
    }
}

/// The answer a caller must get; `None` for "anything but 401 and 403".
fn expected(access: Access, caller: Option<Role>) -> Expected {
    match (access, caller) {
        (Open, _) => Expected::Reached,
        (UssdGateway, _) => Expected::Status(&[403]),
        (ClientCredentials, _) => Expected::Status(&[401]),
        (_, None) => Expected::Status(&[401]),
        (SignedIn, Some(_)) => Expected::Reached,
        (Roles(roles), Some(role)) => {
            if roles.contains(&role) {
                Expected::Reached
            } else {
                Expected::Status(&[403])
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Expected {
    /// The request reached the route: neither 401 nor 403.
    Reached,
    Status(&'static [u16]),
}

impl Expected {
    fn admits(self, status: u16) -> bool {
        match self {
            Expected::Reached => status != 401 && status != 403,
            Expected::Status(statuses) => statuses.contains(&status),
        }
    }
}

async fn every_route_answers_each_role_as_documented(database: TestDatabase) -> TestResult {
    let db = &database.db;
    let state = ledger_state(db).await?;
    let engine = state.ledger.clone();
    let server = TestServer::with_state(state, ServerLimits::default()).await?;
    let document = openapi_document(&server).await?;

    let table: BTreeMap<(&str, &str), Access> = ACCESS
        .iter()
        .map(|&(method, path, access)| ((method, path), access))
        .collect();
    let operations = operations(&document)?;
    let unlisted: Vec<String> = operations
        .iter()
        .filter(|(method, path, _)| !table.contains_key(&(method.as_str(), path.as_str())))
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    assert!(
        unlisted.is_empty(),
        "operations missing from ACCESS (say who may call them): {unlisted:?}"
    );
    let listed_but_gone: Vec<String> = ACCESS
        .iter()
        .filter(|(method, path, _)| !operations.iter().any(|(m, p, _)| m == method && p == path))
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    assert!(
        listed_but_gone.is_empty(),
        "ACCESS lists operations the document does not: {listed_but_gone:?}"
    );

    // One person per role, holding that role alone.
    let mut callers: Vec<(Option<Role>, Option<String>)> = vec![(None, None)];
    for (index, role) in Role::ALL.into_iter().enumerate() {
        let phone = format!("+535290{index:04}");
        let token = if role.requires_second_factor() {
            second_factor_token(&server, db, &phone, &[role]).await?
        } else {
            signed_in_user(&server, db, &phone, role.label_es(), &[role])
                .await?
                .1
        };
        callers.push((Some(role), Some(token)));
    }

    let mut wrong = Vec::new();
    for (method, path, content_type) in &operations {
        let access = table[&(method.as_str(), path.as_str())];
        let concrete = nobody_s(path);
        let (body_type, mut body) = empty_body(content_type.as_deref());
        if matches!(access, ClientCredentials) {
            // A well-formed grant, so the answer is about the credentials.
            body = "grant_type=client_credentials";
        }
        for (role, token) in &callers {
            let authorization = token.as_ref().map(|token| format!("Bearer {token}"));
            let mut headers: Vec<(&str, &str)> = Vec::new();
            if let Some(authorization) = &authorization {
                headers.push(("authorization", authorization));
            }
            if let Some(body_type) = body_type {
                headers.push(("content-type", body_type));
            }
            let response = send(method, &server.url(&concrete), &headers, body).await?;
            let expected = expected(access, *role);
            if !expected.admits(response.status) {
                wrong.push(format!(
                    "{method} {path} as {}: {} (expected {expected:?}) {}",
                    role.map_or("anonymous", Role::as_str),
                    response.status,
                    response.text().chars().take(200).collect::<String>()
                ));
            }
        }
    }
    if let Some(engine) = engine {
        engine.stop().await;
    }
    assert!(
        wrong.is_empty(),
        "{} answers differ from ACCESS:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    Ok(())
}

/// A body each route can read, so that the answer is about the object, never the body: a
/// caller who is not the owner must get 404 whatever the route would do with it.
fn body_of(method: &str, path: &str) -> &'static str {
    match (method, path.rsplit('/').next().unwrap_or_default()) {
        ("POST", "deposits" | "withdrawals") => r#"{"amount": "1"}"#,
        ("POST", "clients") => r#"{"name": "Caja 1"}"#,
        ("POST", "qr-codes" | "refunds") => "{}",
        ("PUT", "webhook") => r#"{"url": "https://tienda.example.cu/avisos"}"#,
        ("POST", "checkouts") => {
            r#"{"amount": "10", "description": "Pedido 7", "items": [{"name": "Pan", "quantity": 1, "unit_amount": "10"}]}"#
        }
        ("POST", "payment-links") => r#"{"description": "Donativo"}"#,
        _ => "",
    }
}

/// Every route under each kind of object a person holds — linked bank accounts, merchants
/// (with their clients, QR codes, payments, refunds, webhook, checkouts and payment links),
/// payout batches, payment requests, sessions — called on a real object: another citizen gets
/// 404 (as if it did not exist) and nothing changes; the owner reaches it. Routes that end the
/// object (DELETE, decline) go last.
async fn every_object_answers_its_owner_and_nobody_else(database: TestDatabase) -> TestResult {
    let db = &database.db;
    let state = ledger_state(db).await?;
    let engine = state.ledger.clone();
    let server = TestServer::with_state(state, ServerLimits::default()).await?;
    let document = openapi_document(&server).await?;
    let (_, owner) = signed_in_user(&server, db, "+5352910001", "Dueña", &[Role::Citizen]).await?;
    let (_, other) = signed_in_user(&server, db, "+5352910002", "Otro", &[Role::Citizen]).await?;
    let (_, asker) = signed_in_user(&server, db, "+5352910003", "Pide", &[Role::Citizen]).await?;
    let admin = second_factor_token(&server, db, "+5352910004", &[Role::Administrator]).await?;
    let id_of = |answer: &ceiba_testkit::http::Response, field: &str| -> Result<String, String> {
        if answer.status != 201 && answer.status != 200 {
            return Err(format!("{}: {}", answer.status, answer.text()));
        }
        Ok(answer.json()?[field]
            .as_str()
            .ok_or_else(|| format!("no {field}: {}", answer.text()))?
            .to_owned())
    };

    let bank_account = id_of(
        &post_json_as(
            &server,
            "/api/v1/payments/bank-accounts",
            &owner,
            Some("vincular-1"),
            &serde_json::json!({"bank": "BPA", "currency": "CUP", "alias": "Ahorros",
                "account_number": "9205 1299 0001 2345"}),
        )
        .await?,
        "id",
    )?;
    let merchant = id_of(
        &post_json_as(
            &server,
            "/api/v1/merchants",
            &owner,
            None,
            &serde_json::json!({"business_name": "Cafetería La Ceiba", "nit": "10000000001",
                "category_code": "5814", "city": "Santa Clara", "settlement": {"bank": "BPA",
                "currency": "CUP", "account_number": "9205129900012345"}}),
        )
        .await?,
        "id",
    )?;
    let approved = post_json_as(
        &server,
        &format!("/api/v1/admin/merchants/{merchant}/approve"),
        &admin,
        None,
        &serde_json::json!({}),
    )
    .await?;
    assert_eq!(approved.status, 200, "{}", approved.text());
    let payout = id_of(
        &send(
            "POST",
            &server.url(&format!("/api/v1/payouts?source={merchant}")),
            &[
                ("authorization", &format!("Bearer {owner}")),
                ("content-type", "text/csv"),
            ],
            "destino,importe,referencia\n+5352910002,1.00,prueba\n",
        )
        .await?,
        "id",
    )?;
    let request = id_of(
        &post_json_as(
            &server,
            "/api/v1/payment-requests",
            &asker,
            None,
            &serde_json::json!({"to_phone": "+5352910001", "currency": "CUP", "amount": "5"}),
        )
        .await?,
        "id",
    )?;
    // A second session of the owner's, to end from the first.
    let second = sign_in(&server, "+5352910001", PASSWORD, Some("otro teléfono")).await?;
    let (_, session) = token_of(&second).await?;

    // (The routes under this path, with `{id}` the object; the payment request is the owner's
    // to pay.)
    let objects = [
        ("/api/v1/payments/bank-accounts/{id}", bank_account),
        ("/api/v1/merchants/{id}", merchant),
        ("/api/v1/payouts/{id}", payout),
        ("/api/v1/payment-requests/{id}", request),
        ("/api/v1/me/sessions/{id}", session),
    ];
    let operations = operations(&document)?;
    let mut wrong = Vec::new();
    for (prefix, id) in &objects {
        let mut routes: Vec<(&str, &str)> = operations
            .iter()
            .filter(|(_, path, _)| path == prefix || path.starts_with(&format!("{prefix}/")))
            .map(|(method, path, _)| (method.as_str(), path.as_str()))
            .collect();
        assert!(!routes.is_empty(), "no routes under {prefix}");
        routes.sort_by_key(|(method, path)| *method == "DELETE" || path.ends_with("/decline"));
        for (caller, token) in [("another", &other), ("its owner", &owner)] {
            for (index, (method, path)) in routes.iter().enumerate() {
                let concrete = path.replace("{id}", id);
                // Inner objects (a QR code, a checkout…) that exist for nobody.
                let unnamed_inner = concrete.contains('{');
                let concrete = nobody_s(&concrete);
                // The one required query parameter under these objects.
                let concrete = if concrete.ends_with("/reconciliation") {
                    format!("{concrete}?date=2026-11-30")
                } else {
                    concrete
                };
                let authorization = format!("Bearer {token}");
                let key = format!("{id}-{caller}-{index}");
                let headers = [
                    ("authorization", authorization.as_str()),
                    ("content-type", "application/json"),
                    ("idempotency-key", key.as_str()),
                ];
                let body = body_of(method, path);
                let response = send(method, &server.url(&concrete), &headers, body).await?;
                let right = if caller == "another" {
                    response.status == 404
                } else if unnamed_inner {
                    ![401, 403].contains(&response.status)
                } else {
                    ![401, 403, 404].contains(&response.status)
                };
                if !right {
                    wrong.push(format!(
                        "{method} {path} as {caller}: {} {}",
                        response.status,
                        response.text().chars().take(200).collect::<String>()
                    ));
                }
            }
        }
    }
    if let Some(engine) = engine {
        engine.stop().await;
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    Ok(())
}
