//! Settlement between the banks and Ceiba over HTTP, on each engine: a closed window's net
//! positions per bank and currency come from what the ledger posted, sum to zero, and read the
//! same as CSV; an open window is refused, and only bank operators may read them.

use ceiba_identity::Role;
use ceiba_testkit::each_engine;
use ceiba_testkit::http::Response;
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use ceiba_web::ServerLimits;
use serde_json::{Value, json};

mod support;
use support::{
    TestServer, assert_ledger_sound, assert_problem, ledger_state, post_json_as,
    second_factor_token, signed_in_user,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite: positions_of_a_closed_window_sum_to_zero);
    suite.run()
}

fn wall_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

async fn get(server: &TestServer, path: &str, token: &str) -> Result<Response, String> {
    let authorization = format!("Bearer {token}");
    server
        .get_with(path, &[("authorization", authorization.as_str())])
        .await
}

/// `participant`'s CUP net position in `report`.
fn net(report: &Value, participant: &str) -> i64 {
    report["positions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["participant"] == participant && p["currency"] == "CUP")
        .filter_map(|p| p["net_minor"].as_i64())
        .sum()
}

async fn positions_of_a_closed_window_sum_to_zero(database: TestDatabase) -> TestResult {
    let state = ledger_state(&database.db).await?;
    let engine = state.ledger.clone().ok_or("a ledger")?;
    let server = TestServer::with_state(state, ServerLimits::default()).await?;
    let bank =
        second_factor_token(&server, &database.db, "+5352228888", &[Role::BankOperator]).await?;
    let (_, ana) = signed_in_user(
        &server,
        &database.db,
        "+5352001001",
        "Ana Pérez",
        &[Role::Citizen],
    )
    .await?;
    signed_in_user(
        &server,
        &database.db,
        "+5352001002",
        "Beto Díaz",
        &[Role::Citizen],
    )
    .await?;

    let before = wall_ms();
    for (path, bank_code, amount, key) in [
        ("/api/v1/payments/cash-in", "BPA", "1000", "l-1"),
        ("/api/v1/payments/cash-out", "BANDEC", "200", "l-2"),
    ] {
        let body = json!({"phone": "+5352001001", "bank": bank_code, "currency": "CUP",
            "amount": amount});
        let moved = post_json_as(&server, path, &bank, Some(key), &body).await?;
        assert_eq!(moved.status, 201, "{}", moved.text());
    }
    let sent = post_json_as(
        &server,
        "/api/v1/payments/transfers",
        &ana,
        Some("l-3"),
        &json!({"to_phone": "+5352001002", "currency": "CUP", "amount": "50"}),
    )
    .await?;
    assert_eq!(sent.status, 201, "{}", sent.text());
    let after = wall_ms();

    // The window is still open.
    let open = get(&server, &format!("/api/v1/settlement?at_ms={after}"), &bank).await?;
    assert_problem(&open, 409, "settlement_window_open", "/api/v1/settlement");
    server
        .clock
        .advance(std::time::Duration::from_secs(2 * 3_600));
    // Sessions idle for two hours have ended: a bank operator of the next shift reads it, and
    // Ana signs in again.
    let bank =
        second_factor_token(&server, &database.db, "+5352227777", &[Role::BankOperator]).await?;
    let signed = support::sign_in(&server, "+5352001001", support::PASSWORD, None).await?;
    let ana = support::token_of(&signed).await?.0;

    // Closed: BPA paid 1,000 in, BANDEC received 200 out, Ceiba holds the difference. The
    // operations may straddle two windows; together they hold all of it.
    let mut reports = vec![
        get(
            &server,
            &format!("/api/v1/settlement?at_ms={before}"),
            &bank,
        )
        .await?
        .json()?,
    ];
    if reports[0]["window_end_ms"]
        .as_i64()
        .is_some_and(|end| end <= after)
    {
        reports.push(
            get(&server, &format!("/api/v1/settlement?at_ms={after}"), &bank)
                .await?
                .json()?,
        );
    }
    let sum = |participant: &str| reports.iter().map(|r| net(r, participant)).sum::<i64>();
    assert_eq!(sum("BPA"), -100_000, "{reports:?}");
    assert_eq!(sum("BANDEC"), 20_000);
    assert_eq!(sum("BANMET"), 0);
    assert_eq!(sum("CEIBA"), 80_000);
    for report in &reports {
        for total in report["totals"].as_array().ok_or("totals")? {
            assert_eq!(total["net_minor"], 0, "{report}");
        }
        let (start, end) = (
            report["window_start_ms"].as_i64().ok_or("a start")?,
            report["window_end_ms"].as_i64().ok_or("an end")?,
        );
        assert_eq!(end - start, 3_600_000, "an hour's window");
    }

    // The same as CSV, ending with a zero total.
    let csv = get(
        &server,
        &format!("/api/v1/settlement.csv?at_ms={before}"),
        &bank,
    )
    .await?;
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let text = csv.text();
    assert!(
        text.starts_with("moneda,participante,nombre,entradas,salidas,neto"),
        "{text}"
    );
    assert!(
        text.lines().any(|line| line == "CUP,total,,,,0.00"),
        "{text}"
    );

    // The same window as a page, with its CSV linked; an open one says so.
    let page = get(&server, &format!("/liquidacion?en={before}"), &bank).await?;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(html.contains("<h1>Liquidación entre bancos</h1>"), "{html}");
    assert!(
        html.contains(r#"id="posiciones""#) && html.contains(r#"id="csv""#),
        "{html}"
    );
    assert!(html.contains("0,00 CUP"), "the zero total: {html}");
    let now = server.clock.now_ms();
    let open_page = get(&server, &format!("/liquidacion?en={now}"), &bank).await?;
    assert!(
        open_page.text().contains("Esa ventana aún no cerró."),
        "{}",
        open_page.text()
    );
    assert_eq!(get(&server, "/liquidacion", &ana).await?.status, 403);

    // Only bank operators.
    let citizen = get(&server, "/api/v1/settlement", &ana).await?;
    assert_eq!(citizen.status, 403, "{}", citizen.text());
    let bad = get(&server, "/api/v1/settlement?at_ms=ayer", &bank).await?;
    assert_eq!(bad.status, 400, "{}", bad.text());
    assert_ledger_sound(&engine);
    let mut server = server;
    server.shut_down();
    engine.stop().await;
    Ok(())
}
