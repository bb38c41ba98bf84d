//! Requests to pay over HTTP, on each engine: a person asks another, who sees it, accepts once
//! (a transfer, limits and all) or declines; a merchant asks, and accepting pays the merchant;
//! bad requests and answers to what is not yours, already answered or expired are refused.

use ceiba_identity::Role;
use ceiba_payments::{Currency, accounts};
use ceiba_testkit::each_engine;
use ceiba_testkit::http::Response;
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use ceiba_web::ServerLimits;
use serde_json::json;

mod support;
use support::{
    TestServer, assert_ledger_sound, available_minor, cash_in_cup, ledger_state, pagos_sms_to,
    post_json_as, second_factor_token, signed_in_user,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite: people_and_merchants_ask_and_payers_answer);
    suite.run()
}

async fn get(server: &TestServer, path: &str, token: &str) -> Result<Response, String> {
    let authorization = format!("Bearer {token}");
    server
        .get_with(path, &[("authorization", authorization.as_str())])
        .await
}

async fn people_and_merchants_ask_and_payers_answer(database: TestDatabase) -> TestResult {
    let db = &database.db;
    let state = ledger_state(db).await?;
    let engine = state.ledger.clone().ok_or("a ledger")?;
    let server = TestServer::with_state(state, ServerLimits::default()).await?;
    let bank = second_factor_token(&server, db, "+5352228888", &[Role::BankOperator]).await?;
    let admin = second_factor_token(&server, db, "+5352229999", &[Role::Administrator]).await?;
    let (ana_id, ana) =
        signed_in_user(&server, db, "+5352001001", "Ana Pérez", &[Role::Citizen]).await?;
    let (beto_id, beto) =
        signed_in_user(&server, db, "+5352001002", "Beto Díaz", &[Role::Citizen]).await?;
    cash_in_cup(&server, &bank, "+5352001002", "500", "fondos").await?;

    // Ana asks Beto for 80 pesos; Beto hears of it by SMS and sees it.
    let asked = post_json_as(
        &server,
        "/api/v1/payment-requests",
        &ana,
        None,
        &json!({"to_phone": "+53 5200 1002", "currency": "CUP", "amount": "80", "note": "Almuerzo"}),
    )
    .await?;
    assert_eq!(asked.status, 201, "{}", asked.text());
    let request = asked.json()?["id"].as_str().ok_or("an id")?.to_owned();
    let sms = pagos_sms_to(db, "+5352001002").await?;
    assert!(
        sms.iter()
            .any(|text| text.contains("Ana Pérez le pide 80.00 CUP")),
        "{sms:?}"
    );
    let listed = get(&server, "/api/v1/payment-requests", &beto)
        .await?
        .json()?;
    assert_eq!(listed["incoming"][0]["id"], request.as_str());
    assert_eq!(listed["incoming"][0]["from"], "Ana Pérez");
    assert_eq!(listed["incoming"][0]["status"], "pending");
    let mine = get(&server, "/api/v1/payment-requests", &ana)
        .await?
        .json()?;
    assert_eq!(mine["outgoing"][0]["id"], request.as_str());

    // Only Beto can answer; he accepts once, with a key.
    let accept = format!("/api/v1/payment-requests/{request}/accept");
    let not_hers = post_json_as(&server, &accept, &ana, Some("a-0"), &json!({})).await?;
    assert_eq!(not_hers.status, 404, "{}", not_hers.text());
    let paid = post_json_as(&server, &accept, &beto, Some("a-1"), &json!({})).await?;
    assert_eq!(paid.status, 201, "{}", paid.text());
    let operation = paid.json()?["id"].clone();
    let again = post_json_as(&server, &accept, &beto, Some("a-1"), &json!({})).await?;
    assert_eq!(
        again.json()?["id"],
        operation,
        "a retry is the same payment"
    );
    assert_eq!(available_minor(&engine, &ana_id, Currency::Cup), 8_000);
    assert_eq!(available_minor(&engine, &beto_id, Currency::Cup), 42_000);
    let declined_late = post_json_as(
        &server,
        &format!("/api/v1/payment-requests/{request}/decline"),
        &beto,
        None,
        &json!({}),
    )
    .await?;
    assert_eq!(declined_late.status, 409, "{}", declined_late.text());

    // Another request, declined: nothing moves.
    let second = post_json_as(
        &server,
        "/api/v1/payment-requests",
        &ana,
        None,
        &json!({"to_phone": "+5352001002", "currency": "CUP", "amount": "10"}),
    )
    .await?
    .json()?;
    let second = second["id"].as_str().ok_or("an id")?.to_owned();
    let declined = post_json_as(
        &server,
        &format!("/api/v1/payment-requests/{second}/decline"),
        &beto,
        None,
        &json!({}),
    )
    .await?;
    assert_eq!(declined.status, 200, "{}", declined.text());
    assert_eq!(declined.json()?["status"], "declined");
    assert_eq!(available_minor(&engine, &beto_id, Currency::Cup), 42_000);

    // A merchant asks: accepting pays the merchant's account.
    let shop = post_json_as(
        &server,
        "/api/v1/merchants",
        &ana,
        None,
        &json!({"business_name": "Taller Ana", "nit": "01234567890", "category_code": "7538",
            "city": "Holguín", "settlement": {"bank": "BPA", "currency": "CUP",
            "account_number": "9205129900012345"}}),
    )
    .await?
    .json()?;
    let shop = shop["id"].as_str().ok_or("a merchant")?.to_owned();
    let approved = post_json_as(
        &server,
        &format!("/api/v1/admin/merchants/{shop}/approve"),
        &admin,
        None,
        &json!({}),
    )
    .await?;
    assert_eq!(approved.status, 200, "{}", approved.text());
    let invoice = post_json_as(
        &server,
        "/api/v1/payment-requests",
        &ana,
        None,
        &json!({"to_phone": "+5352001002", "currency": "CUP", "amount": "120",
            "note": "Cambio de aceite", "merchant_id": shop}),
    )
    .await?
    .json()?;
    assert_eq!(invoice["from"], "Taller Ana");
    let invoice = invoice["id"].as_str().ok_or("an id")?.to_owned();
    let paid = post_json_as(
        &server,
        &format!("/api/v1/payment-requests/{invoice}/accept"),
        &beto,
        Some("a-2"),
        &json!({}),
    )
    .await?;
    assert_eq!(paid.status, 201, "{}", paid.text());
    let merchant_balance = engine
        .read()
        .state
        .account(accounts::merchant(&shop, Currency::Cup))
        .map_or(0, |a| a.balances.credits_posted - a.balances.debits_posted);
    assert_eq!(merchant_balance, 12_000);
    assert_eq!(available_minor(&engine, &beto_id, Currency::Cup), 30_000);

    // Refused: one's own number, a bad amount, somebody else's merchant; an expired request.
    for (body, status) in [
        (
            json!({"to_phone": "+5352001001", "currency": "CUP", "amount": "1"}),
            422,
        ),
        (
            json!({"to_phone": "+5352001002", "currency": "CUP", "amount": "-1"}),
            422,
        ),
        (
            json!({"to_phone": "+5352001001", "currency": "CUP", "amount": "1", "merchant_id": shop}),
            404,
        ),
    ] {
        let token = if status == 404 { &beto } else { &ana };
        let refused = post_json_as(&server, "/api/v1/payment-requests", token, None, &body).await?;
        assert_eq!(refused.status, status, "{body}: {}", refused.text());
    }
    let late = post_json_as(
        &server,
        "/api/v1/payment-requests",
        &ana,
        None,
        &json!({"to_phone": "+5352001002", "currency": "CUP", "amount": "5"}),
    )
    .await?
    .json()?;
    let late = late["id"].as_str().ok_or("an id")?.to_owned();
    server
        .clock
        .advance(std::time::Duration::from_secs(25 * 3_600));
    let beto_again = support::sign_in(&server, "+5352001002", support::PASSWORD, None).await?;
    let beto_again = support::token_of(&beto_again).await?.0;
    let expired = post_json_as(
        &server,
        &format!("/api/v1/payment-requests/{late}/accept"),
        &beto_again,
        Some("a-3"),
        &json!({}),
    )
    .await?;
    assert_eq!(expired.status, 409, "{}", expired.text());
    let listed = get(&server, "/api/v1/payment-requests", &beto_again)
        .await?
        .json()?;
    assert_eq!(listed["incoming"][0]["status"], "expired", "{listed}");
    assert_eq!(available_minor(&engine, &beto_id, Currency::Cup), 30_000);
    assert_ledger_sound(&engine);
    let mut server = server;
    server.shut_down();
    engine.stop().await;
    Ok(())
}
