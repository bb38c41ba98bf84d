//! Limits and what is left of them, personal limits, the CSV statement and receipt checks,
//! over HTTP on each engine.

mod support;

use ceiba_identity::Role;
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use ceiba_web::ServerLimits;
use serde_json::{Value, json};
use support::{
    PASSWORD, TestServer, active_user, assert_problem, code_sent_to, ledger_state,
    second_factor_token, sign_in, token_of,
};

fn main() {
    let mut suite = Suite::new();
    suite.each_engine("limits_show_what_is_left_and_take_personal_ones", limits);
    suite.each_engine("statement_csv_lists_the_period", statement);
    suite.each_engine("receipts_verify_only_with_their_code", receipts);
    suite.each_engine("sign_up_then_transfer_then_statement", sign_up_to_statement);
    suite.run()
}

const ANA: &str = "+5351110001";
const LUIS: &str = "+5351110002";
const OPERATOR: &str = "+5351110009";

/// A server with a ledger, Ana with 1,000.00 CUP and Luis, and their tokens.
struct World {
    server: TestServer,
    ana: String,
    luis: String,
}

impl World {
    async fn start(database: &TestDatabase) -> Result<World, String> {
        let db = &database.db;
        let state = ledger_state(db).await?;
        let server = TestServer::with_state(state, ServerLimits::default())
            .await
            .map_err(|e| e.to_string())?;
        let operator = second_factor_token(&server, db, OPERATOR, &[Role::BankOperator]).await?;
        active_user(db, ANA, &[Role::Citizen]).await?;
        active_user(db, LUIS, &[Role::Citizen]).await?;
        let ana = token_of(&sign_in(&server, ANA, PASSWORD, None).await?)
            .await?
            .0;
        let luis = token_of(&sign_in(&server, LUIS, PASSWORD, None).await?)
            .await?
            .0;
        let world = World { server, ana, luis };
        let cash = world
            .post(
                &operator,
                "/api/v1/payments/cash-in",
                &json!({"phone": ANA, "bank": "BPA", "currency": "CUP", "amount": "1000"}),
            )
            .await?;
        if cash.0 != 201 {
            return Err(format!("cash-in: {}", cash.1));
        }
        Ok(world)
    }

    async fn post(&self, token: &str, path: &str, body: &Value) -> Result<(u16, Value), String> {
        self.send("POST", token, path, body).await
    }

    async fn send(
        &self,
        method: &str,
        token: &str,
        path: &str,
        body: &Value,
    ) -> Result<(u16, Value), String> {
        let authorization = format!("Bearer {token}");
        let response = self
            .server
            .send_json(method, path, body, &[("authorization", &authorization)])
            .await?;
        let json = response.json().unwrap_or(Value::Null);
        Ok((response.status, json))
    }

    async fn get(&self, token: &str, path: &str) -> Result<ceiba_testkit::http::Response, String> {
        self.server
            .get_with(path, &[("authorization", &format!("Bearer {token}"))])
            .await
    }

    async fn send_to_luis(&self, amount: &str, note: &str) -> Result<(u16, Value), String> {
        self.post(
            &self.ana,
            "/api/v1/payments/transfers",
            &json!({"to_phone": LUIS, "currency": "CUP", "amount": amount, "note": note}),
        )
        .await
    }
}

fn cup(limits: &Value) -> Result<&Value, String> {
    limits
        .as_array()
        .and_then(|all| all.iter().find(|l| l["currency"] == "CUP"))
        .ok_or_else(|| format!("no CUP limits in {limits}"))
}

async fn limits(database: TestDatabase) -> TestResult {
    let world = World::start(&database).await?;
    let before = world
        .get(&world.ana, "/api/v1/payments/limits")
        .await?
        .json()?;
    let daily = &cup(&before)?["daily"];
    assert_eq!(daily["limit_minor"], 8_000_000, "{before}");
    assert_eq!(daily["used_minor"], 0);
    assert_eq!(daily["source"], "banco_central");
    assert_eq!(cup(&before)?["monthly"]["limit_minor"], 12_000_000);

    assert_eq!(world.send_to_luis("100", "").await?.0, 201);
    let after = world
        .get(&world.ana, "/api/v1/payments/limits")
        .await?
        .json()?;
    assert_eq!(cup(&after)?["daily"]["used_minor"], 10_000, "{after}");
    assert_eq!(cup(&after)?["daily"]["remaining_minor"], 7_990_000);

    // A lower limit of her own: it binds, and a transfer over it is refused naming it.
    let (status, set) = world
        .send(
            "PUT",
            &world.ana,
            "/api/v1/payments/limits",
            &json!({"currency": "CUP", "daily": "150", "monthly": null}),
        )
        .await?;
    assert_eq!(status, 200, "{set}");
    assert_eq!(cup(&set)?["daily"]["limit_minor"], 15_000, "{set}");
    assert_eq!(cup(&set)?["daily"]["source"], "personal");
    assert_eq!(cup(&set)?["daily"]["remaining_minor"], 5_000);
    let (status, refused) = world.send_to_luis("60", "").await?;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["code"], "payment_limit_exceeded");
    let detail = refused["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("usted fijó") && detail.contains("50,00 CUP"),
        "{detail}"
    );
    assert_eq!(
        world.send_to_luis("50", "").await?.0,
        201,
        "exactly what is left"
    );

    for (body, code) in [
        (
            json!({"currency": "CUP", "daily": "80001"}),
            "validation_failed",
        ),
        (
            json!({"currency": "EUR", "daily": "10"}),
            "payment_invalid_currency",
        ),
        (
            json!({"currency": "CUP", "daily": "-5"}),
            "payment_invalid_amount",
        ),
        (
            json!({"currency": "CUP", "daily": "1.234"}),
            "payment_invalid_amount",
        ),
    ] {
        let (status, problem) = world
            .send("PUT", &world.ana, "/api/v1/payments/limits", &body)
            .await?;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some(code)),
            "{body}: {problem}"
        );
    }
    let unchanged = world
        .get(&world.ana, "/api/v1/payments/limits")
        .await?
        .json()?;
    assert_eq!(
        cup(&unchanged)?["daily"]["limit_minor"],
        15_000,
        "refusals changed nothing"
    );
    Ok(())
}

async fn statement(database: TestDatabase) -> TestResult {
    let world = World::start(&database).await?;
    let (status, sent) = world.send_to_luis("12.50", "=SUMA(A1)").await?;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(world.send_to_luis("3", "almuerzo, gracias").await?.0, 201);
    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("America/Havana")?)
        .date()
        .to_string();
    let path = format!("/api/v1/payments/statement.csv?from={today}&to={today}");
    let response = world.get(&world.ana, &path).await?;
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/csv")),
        "{:?}",
        response.header("content-type")
    );
    let csv = response.text();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("fecha,operacion,tipo"), "{csv}");
    // Cash-in, then the two transfers, oldest first.
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[2].contains("12.50 CUP") && lines[2].contains("enviada"),
        "{csv}"
    );
    assert!(
        lines[2].contains(sent["receipt_code"].as_str().unwrap_or("?")),
        "{csv}"
    );
    assert!(
        lines[2].ends_with(",'=SUMA(A1)"),
        "a formula is defused: {csv}"
    );
    assert!(lines[3].ends_with(",\"almuerzo, gracias\""), "{csv}");
    // Luis sees the two as received.
    let his = world.get(&world.luis, &path).await?.text();
    assert_eq!(
        his.lines().filter(|l| l.contains("recibida")).count(),
        2,
        "{his}"
    );

    for bad in [
        "/api/v1/payments/statement.csv?from=ayer&to=hoy",
        "/api/v1/payments/statement.csv?from=2026-11-30&to=2026-11-01",
        "/api/v1/payments/statement.csv?from=2026-02-30&to=2026-03-01",
        "/api/v1/payments/statement.csv",
    ] {
        let response = world.get(&world.ana, bad).await?;
        assert_problem(
            &response,
            400,
            "bad_request",
            "/api/v1/payments/statement.csv",
        );
    }
    Ok(())
}

async fn receipts(database: TestDatabase) -> TestResult {
    let world = World::start(&database).await?;
    let (_, sent) = world.send_to_luis("20", "").await?;
    let id = sent["id"].as_str().ok_or("an id")?;
    let code = sent["receipt_code"].as_str().ok_or("a receipt code")?;
    let check = |operation: &str, code: &str| {
        format!("/api/v1/payments/receipts?operation={operation}&code={code}")
    };
    // Anyone holding the receipt may check it; no sign-in needed.
    let genuine = world.server.get(&check(id, code)).await?.json()?;
    assert_eq!(genuine["genuine"], true, "{genuine}");
    assert_eq!(genuine["amount"], "20,00 CUP");
    let lower = world
        .server
        .get(&check(id, &code.to_lowercase()))
        .await?
        .json()?;
    assert_eq!(lower["genuine"], true, "case does not matter");
    let mut altered: Vec<char> = code.chars().collect();
    altered[0] = if altered[0] == 'A' { 'B' } else { 'A' };
    let altered: String = altered.into_iter().collect();
    for (operation, code) in [(id, altered.as_str()), ("12345", code), (id, "")] {
        let forged = world.server.get(&check(operation, code)).await?.json()?;
        assert_eq!(forged["genuine"], false, "{operation} {code}: {forged}");
        assert!(forged["amount"].is_null(), "nothing revealed: {forged}");
    }
    Ok(())
}

/// A newcomer registers with a phone number, confirms it with the SMS code, signs in, receives
/// money from Ana, sends part of it on, and finds both in the statement.
async fn sign_up_to_statement(database: TestDatabase) -> TestResult {
    let world = World::start(&database).await?;
    const NEW: &str = "+5351110003";
    let registered = world
        .server
        .send_json(
            "POST",
            "/api/v1/accounts",
            &json!({"phone": NEW, "display_name": "Marta Gómez", "password": PASSWORD}),
            &[],
        )
        .await?;
    assert_eq!(registered.status, 202, "{}", registered.text());
    let code = code_sent_to(&database.db, NEW).await?;
    let confirmed = world
        .server
        .send_json(
            "POST",
            "/api/v1/accounts/confirmation",
            &json!({"phone": NEW, "code": code}),
            &[],
        )
        .await?;
    assert!(confirmed.status < 300, "{}", confirmed.text());
    let marta = token_of(&sign_in(&world.server, NEW, PASSWORD, None).await?)
        .await?
        .0;

    let (status, lookup) = world
        .send(
            "GET",
            &world.ana,
            &format!("/api/v1/payments/recipients?phone={NEW}"),
            &Value::Null,
        )
        .await?;
    assert_eq!(
        (status, lookup["name"].as_str()),
        (200, Some("Marta Gómez")),
        "{lookup}"
    );
    let (status, received) = world
        .post(
            &world.ana,
            "/api/v1/payments/transfers",
            &json!({"to_phone": NEW, "currency": "CUP", "amount": "200"}),
        )
        .await?;
    assert_eq!(status, 201, "{received}");
    let (status, sent) = world
        .post(
            &marta,
            "/api/v1/payments/transfers",
            &json!({"to_phone": LUIS, "currency": "CUP", "amount": "75,25", "note": "la mitad"}),
        )
        .await?;
    assert_eq!(status, 201, "{sent}");
    let wallet = world.get(&marta, "/api/v1/payments/wallet").await?.json()?;
    assert_eq!(wallet["balances"][0]["available_minor"], 12_475, "{wallet}");

    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("America/Havana")?)
        .date()
        .to_string();
    let csv = world
        .get(
            &marta,
            &format!("/api/v1/payments/statement.csv?from={today}&to={today}"),
        )
        .await?
        .text();
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[0].contains("recibida") && lines[0].contains("200.00 CUP"),
        "{csv}"
    );
    assert!(
        lines[1].contains("enviada") && lines[1].contains("75.25 CUP"),
        "{csv}"
    );
    Ok(())
}
