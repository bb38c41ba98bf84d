//! Paying merchants by QR code over HTTP, on each engine: an approved merchant makes dynamic
//! and static codes (EMVCo payloads that decode to its fields, drawn as SVG and PNG); a payer
//! scans one and sees the merchant and amount, pays it once per key, a dynamic code is paid
//! once and expires, a static one takes the amount typed; a tampered or foreign code is refused
//! with the reason; a refused payment gives the code back; the merchant sees its payments and
//! both sides get an SMS. The ledger is sound after every scenario.

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
    Browser, PASSWORD, TestServer, assert_ledger_sound, assert_problem, available_minor,
    cash_in_cup, csrf_of, error_of, field_of, ledger_state, pagos_sms_to, post_json_as,
    second_factor_token, signed_in_user,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite:
        a_dynamic_code_is_scanned_and_paid_once,
        a_static_code_takes_the_amount_typed_and_serves_many,
        bad_codes_move_nothing_and_refusals_give_the_code_back,
        refunds_never_give_back_more_than_was_paid,
        a_shops_server_charges_with_client_credentials,
        webhooks_are_signed_retried_logged_and_replayed,
        an_online_shop_checkout_runs_end_to_end_with_signed_webhooks,
        a_payment_link_opens_a_checkout_for_each_use,
    );
    suite.run()
}

const OWNER: &str = "+5352001001";
const PAYER: &str = "+5352001002";

struct Tienda {
    server: TestServer,
    engine: LedgerEngine,
    db: Db,
    owner: String,
    payer_id: String,
    payer: String,
    bank: String,
    merchant: String,
    /// The server's sealer, to dispatch webhooks as the maintenance loop does.
    sealer: std::sync::Arc<ceiba_identity::SecretSealer>,
}

impl Tienda {
    /// An approved merchant (its owner signed in) and a payer with 1,000 CUP.
    async fn start(db: &Db) -> Result<Tienda, String> {
        let state = ledger_state(db).await?;
        let engine = state.ledger.clone().ok_or("the state has no ledger")?;
        let sealer = state.sealer.clone();
        let server = TestServer::with_state(state, ServerLimits::default())
            .await
            .map_err(|e| e.to_string())?;
        let admin = second_factor_token(&server, db, "+5352229999", &[Role::Administrator]).await?;
        let bank = second_factor_token(&server, db, "+5352228888", &[Role::BankOperator]).await?;
        let (_, owner) = signed_in_user(&server, db, OWNER, "Ana Pérez", &[Role::Citizen]).await?;
        let (payer_id, payer) =
            signed_in_user(&server, db, PAYER, "Beto Díaz", &[Role::Citizen]).await?;
        let applied = post_json_as(
            &server,
            "/api/v1/merchants",
            &owner,
            None,
            &json!({"business_name": "Paladar La Bodeguita del Medio", "nit": "01234567890",
                "category_code": "5812", "city": "La Habana Vieja de Cuba",
                "settlement": {"bank": "BPA", "currency": "CUP", "account_number": "9205129900012345"}}),
        )
        .await?;
        let merchant = applied.json()?["id"]
            .as_str()
            .ok_or(format!("no merchant: {}", applied.text()))?
            .to_owned();
        let unapproved = post_json_as(
            &server,
            &format!("/api/v1/merchants/{merchant}/qr-codes"),
            &owner,
            None,
            &json!({}),
        )
        .await?;
        assert_eq!(unapproved.status, 409, "{}", unapproved.text());
        let approved = post_json_as(
            &server,
            &format!("/api/v1/admin/merchants/{merchant}/approve"),
            &admin,
            None,
            &json!({}),
        )
        .await?;
        assert_eq!(approved.status, 200, "{}", approved.text());
        cash_in_cup(&server, &bank, PAYER, "1000", "fondos-beto").await?;
        Ok(Tienda {
            server,
            engine,
            db: db.clone(),
            owner,
            payer_id,
            payer,
            bank,
            merchant,
            sealer,
        })
    }

    async fn code(&self, body: Value) -> Result<Value, String> {
        let made = post_json_as(
            &self.server,
            &format!("/api/v1/merchants/{}/qr-codes", self.merchant),
            &self.owner,
            None,
            &body,
        )
        .await?;
        if made.status != 201 {
            return Err(made.text());
        }
        made.json()
    }

    async fn pay(
        &self,
        payload: &str,
        amount: Option<&str>,
        key: &str,
    ) -> Result<Response, String> {
        let mut body = json!({"payload": payload});
        if let Some(amount) = amount {
            body["amount"] = json!(amount);
        }
        post_json_as(
            &self.server,
            "/api/v1/payments/qr",
            &self.payer,
            Some(key),
            &body,
        )
        .await
    }

    async fn get(&self, path: &str, token: &str) -> Result<Response, String> {
        let authorization = format!("Bearer {token}");
        self.server
            .get_with(path, &[("authorization", authorization.as_str())])
            .await
    }

    fn merchant_balance(&self) -> u128 {
        self.engine
            .read()
            .state
            .account(accounts::merchant(&self.merchant, Currency::Cup))
            .map_or(0, |account| {
                account.balances.credits_posted - account.balances.debits_posted
            })
    }

    fn payer_cup(&self) -> u64 {
        available_minor(&self.engine, &self.payer_id, Currency::Cup)
    }

    async fn stop(mut self) {
        assert_ledger_sound(&self.engine);
        self.server.shut_down();
        self.engine.stop().await;
    }
}

async fn a_dynamic_code_is_scanned_and_paid_once(database: TestDatabase) -> TestResult {
    let app = Tienda::start(&database.db).await?;
    let code = app
        .code(json!({"amount": "125,50", "reference": "Mesa 4"}))
        .await?;
    assert_eq!(code["kind"], "dynamic");
    let payload = code["payload"].as_str().ok_or("a payload")?.to_owned();
    let qr = code["id"].as_str().ok_or("an id")?.to_owned();

    // The payload is a valid EMVCo code with the merchant's fields, cut to the field sizes.
    let decoded = ceiba_emvqr::decode(&payload).map_err(|e| e.to_string())?;
    assert_eq!(decoded.merchant_name(), "Paladar La Bodeguita del ");
    assert_eq!(decoded.merchant_city(), "La Habana Vieja");
    assert_eq!(decoded.category_code(), "5812");
    assert_eq!(decoded.currency(), "192");
    assert_eq!(decoded.country(), "CU");
    assert_eq!(decoded.amount(), Some("125.50"));
    assert_eq!(decoded.reference_label(), Some(qr.as_str()));
    assert_eq!(decoded.bill_number(), Some("Mesa 4"));

    // Its image, for the owner only.
    let svg_url = code["svg_url"].as_str().ok_or("an svg url")?;
    let svg = app.get(svg_url, &app.owner).await?;
    assert_eq!(svg.status, 200);
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(svg.text().contains("<svg"), "{}", svg.text());
    let png = app
        .get(code["png_url"].as_str().ok_or("a png url")?, &app.owner)
        .await?;
    assert_eq!(png.header("content-type"), Some("image/png"));
    assert!(png.body.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(app.get(svg_url, &app.payer).await?.status, 404);

    // Scanned: who and how much, before paying.
    let scanned = post_json_as(
        &app.server,
        "/api/v1/payments/qr/scan",
        &app.payer,
        None,
        &json!({"payload": payload}),
    )
    .await?;
    assert_eq!(scanned.status, 200, "{}", scanned.text());
    let scanned = scanned.json()?;
    assert_eq!(scanned["merchant_name"], "Paladar La Bodeguita del Medio");
    assert_eq!(scanned["amount_minor"], 12_550);
    assert_eq!(scanned["reference"], "Mesa 4");

    // Paid, and paid once: the same key again is the same payment; another key is refused.
    let paid = app.pay(&payload, None, "qr-1").await?;
    assert_eq!(paid.status, 201, "{}", paid.text());
    let operation = paid.json()?["id"].as_str().ok_or("an id")?.to_owned();
    let again = app.pay(&payload, None, "qr-1").await?;
    assert_eq!(again.json()?["id"], operation.as_str());
    let twice = app.pay(&payload, None, "qr-2").await?;
    assert_problem(
        &twice,
        409,
        "payment_qr_already_paid",
        "/api/v1/payments/qr",
    );
    assert_eq!(app.payer_cup(), 100_000 - 12_550);
    assert_eq!(app.merchant_balance(), 12_550);

    // The merchant sees it at once, and both sides have their SMS.
    let list = app
        .get(
            &format!("/api/v1/merchants/{}/payments", app.merchant),
            &app.owner,
        )
        .await?
        .json()?;
    assert_eq!(list[0]["operation_id"], operation.as_str(), "{list}");
    assert_eq!(list[0]["status"], "completed");
    assert_eq!(list[0]["reference"], "Mesa 4");
    let payer_sms = pagos_sms_to(&app.db, PAYER).await?;
    assert!(
        payer_sms
            .iter()
            .any(|sms| sms.contains("pago de 125.50 CUP a Paladar La Bodeguita del Medio")),
        "{payer_sms:?}"
    );
    let owner_sms = pagos_sms_to(&app.db, OWNER).await?;
    assert!(
        owner_sms
            .iter()
            .any(|sms| sms.contains("cobro 125.50 CUP de Beto Díaz")),
        "{owner_sms:?}"
    );
    assert!(
        payer_sms
            .iter()
            .chain(&owner_sms)
            .all(|sms| !sms.contains("http")),
        "never a link"
    );
    app.stop().await;
    Ok(())
}

async fn a_static_code_takes_the_amount_typed_and_serves_many(
    database: TestDatabase,
) -> TestResult {
    let app = Tienda::start(&database.db).await?;
    let code = app.code(json!({})).await?;
    assert_eq!(code["kind"], "static");
    let payload = code["payload"].as_str().ok_or("a payload")?.to_owned();
    let decoded = ceiba_emvqr::decode(&payload).map_err(|e| e.to_string())?;
    assert_eq!(decoded.amount(), None);
    let without = app.pay(&payload, None, "s-0").await?;
    assert_problem(
        &without,
        422,
        "payment_invalid_amount",
        "/api/v1/payments/qr",
    );
    for (key, amount) in [("s-1", "10"), ("s-2", "2,50")] {
        let paid = app.pay(&payload, Some(amount), key).await?;
        assert_eq!(paid.status, 201, "{}", paid.text());
    }
    assert_eq!(app.merchant_balance(), 1_250);
    assert_eq!(app.payer_cup(), 100_000 - 1_250);
    // The owner cannot pay their own shop.
    let own = post_json_as(
        &app.server,
        "/api/v1/payments/qr",
        &app.owner,
        Some("propio"),
        &json!({"payload": payload, "amount": "1"}),
    )
    .await?;
    assert_problem(
        &own,
        422,
        "payment_recipient_is_self",
        "/api/v1/payments/qr",
    );
    app.stop().await;
    Ok(())
}

async fn bad_codes_move_nothing_and_refusals_give_the_code_back(
    database: TestDatabase,
) -> TestResult {
    let app = Tienda::start(&database.db).await?;
    let code = app.code(json!({"amount": "2000"})).await?;
    let payload = code["payload"].as_str().ok_or("a payload")?.to_owned();

    // A changed character breaks the CRC; a code of another system names no Ceiba merchant.
    let tampered = payload.replacen("2000.00", "2.00000", 1);
    let broken = app.pay(&tampered, None, "b-1").await?;
    let problem = assert_problem(&broken, 422, "payment_qr_invalid", "/api/v1/payments/qr");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("CRC")),
        "{problem}"
    );
    let pix = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D";
    let foreign = app.pay(pix, Some("1"), "b-2").await?;
    assert_problem(&foreign, 422, "payment_qr_invalid", "/api/v1/payments/qr");
    let garbage = app.pay("hola", None, "b-3").await?;
    assert_problem(&garbage, 422, "payment_qr_invalid", "/api/v1/payments/qr");

    // More than the wallet holds: refused by the ledger, and the code can still be paid.
    let short = app.pay(&payload, None, "b-4").await?;
    assert_problem(
        &short,
        422,
        "payment_insufficient_funds",
        "/api/v1/payments/qr",
    );
    assert_eq!(app.payer_cup(), 100_000);
    cash_in_cup(&app.server, &app.bank, PAYER, "1500", "mas-fondos").await?;
    let paid = app.pay(&payload, None, "b-5").await?;
    assert_eq!(paid.status, 201, "{}", paid.text());
    assert_eq!(app.merchant_balance(), 200_000);

    // An expired code is refused and nothing moves.
    let brief = app.code(json!({"amount": "1", "expires_in_s": 1})).await?;
    app.server.clock.advance(std::time::Duration::from_secs(2));
    let late = app
        .pay(brief["payload"].as_str().ok_or("a payload")?, None, "b-6")
        .await?;
    assert_problem(&late, 410, "payment_qr_expired", "/api/v1/payments/qr");
    assert_eq!(app.payer_cup(), 250_000 - 200_000);
    let bad_expiry = post_json_as(
        &app.server,
        &format!("/api/v1/merchants/{}/qr-codes", app.merchant),
        &app.owner,
        None,
        &json!({"amount": "1", "expires_in_s": 0}),
    )
    .await?;
    assert_eq!(bad_expiry.status, 422, "{}", bad_expiry.text());
    app.stop().await;
    Ok(())
}

async fn refunds_never_give_back_more_than_was_paid(database: TestDatabase) -> TestResult {
    let app = Tienda::start(&database.db).await?;
    let code = app.code(json!({"amount": "100"})).await?;
    let paid = app
        .pay(code["payload"].as_str().ok_or("a payload")?, None, "r-pago")
        .await?;
    assert_eq!(paid.status, 201, "{}", paid.text());
    let payment = paid.json()?["id"].as_str().ok_or("an id")?.to_owned();
    let refunds = format!(
        "/api/v1/merchants/{}/payments/{payment}/refunds",
        app.merchant
    );
    let refund = |amount: Option<&str>, key: &str| {
        let body = amount.map_or_else(|| json!({}), |amount| json!({"amount": amount}));
        let key = key.to_owned();
        let refunds = refunds.clone();
        let server = &app.server;
        let owner = app.owner.clone();
        async move { post_json_as(server, &refunds, &owner, Some(&key), &body).await }
    };

    let part = refund(Some("30"), "d-1").await?;
    assert_eq!(part.status, 201, "{}", part.text());
    let first = part.json()?["operation_id"].clone();
    // The same key again is the same refund.
    assert_eq!(
        refund(Some("30"), "d-1").await?.json()?["operation_id"],
        first
    );
    assert_eq!(app.payer_cup(), 100_000 - 10_000 + 3_000);
    assert_eq!(app.merchant_balance(), 7_000);

    // More than what is left: refused, saying how much is left.
    let too_much = refund(Some("80"), "d-2").await?;
    let problem = assert_problem(&too_much, 422, "payment_refund_too_large", &refunds);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("70,00 CUP")),
        "{problem}"
    );
    // Without an amount: all that is left; then nothing more.
    let rest = refund(None, "d-3").await?;
    assert_eq!(rest.status, 201, "{}", rest.text());
    assert_eq!(rest.json()?["amount_minor"], 7_000);
    let nothing = refund(Some("0,01"), "d-4").await?;
    assert_problem(&nothing, 422, "payment_refund_too_large", &refunds);
    assert_eq!(app.payer_cup(), 100_000);
    assert_eq!(app.merchant_balance(), 0);
    let list = app
        .get(
            &format!("/api/v1/merchants/{}/payments", app.merchant),
            &app.owner,
        )
        .await?
        .json()?;
    assert_eq!(list[0]["refunded_minor"], 10_000, "{list}");

    // The payer sees money coming back, with an SMS; nobody else can refund.
    let sms = pagos_sms_to(&app.db, PAYER).await?;
    assert!(
        sms.iter()
            .any(|text| text.contains("devolucion de 30.00 CUP de Paladar La Bodeguita del Medio")),
        "{sms:?}"
    );
    let operations = app
        .get("/api/v1/payments/operations", &app.payer)
        .await?
        .json()?;
    let refund_view = operations["operations"]
        .as_array()
        .and_then(|all| all.iter().find(|op| op["kind"] == "refund"))
        .ok_or(format!("no refund in {operations}"))?;
    assert_eq!(refund_view["direction"], "received", "{refund_view}");
    // The day's reconciliation: the payment, both refunds, and the totals, which net to zero.
    let today = jiff::Timestamp::from_millisecond(app.server.clock.now_ms())
        .map_err(|e| e.to_string())?
        .to_zoned(jiff::tz::TimeZone::get("America/Havana").map_err(|e| e.to_string())?)
        .date();
    let file = app
        .get(
            &format!(
                "/api/v1/merchants/{}/reconciliation?date={today}",
                app.merchant
            ),
            &app.owner,
        )
        .await?;
    assert_eq!(file.status, 200, "{}", file.text());
    assert_eq!(file.header("content-type"), Some("text/csv; charset=utf-8"));
    let csv = file.text();
    let lines: Vec<Vec<&str>> = csv.lines().map(|line| line.split(',').collect()).collect();
    assert_eq!(
        lines[0],
        [
            "fecha",
            "operacion",
            "tipo",
            "referencia",
            "importe",
            "moneda",
            "recibo"
        ]
    );
    let kinds: Vec<(&str, &str)> = lines[1..].iter().map(|line| (line[2], line[4])).collect();
    assert_eq!(
        kinds,
        [
            ("pago", "100.00"),
            ("devolucion", "30.00"),
            ("devolucion", "70.00"),
            ("total_cobrado", "100.00"),
            ("total_devuelto", "100.00"),
            ("neto", "0.00"),
        ],
        "{csv}"
    );
    let bad_date = app
        .get(
            &format!(
                "/api/v1/merchants/{}/reconciliation?date=ayer",
                app.merchant
            ),
            &app.owner,
        )
        .await?;
    assert_eq!(bad_date.status, 400, "{}", bad_date.text());
    let theirs = app
        .get(
            &format!(
                "/api/v1/merchants/{}/reconciliation?date={today}",
                app.merchant
            ),
            &app.payer,
        )
        .await?;
    assert_eq!(theirs.status, 404, "{}", theirs.text());
    let stranger = post_json_as(&app.server, &refunds, &app.payer, Some("x"), &json!({})).await?;
    assert_eq!(stranger.status, 404, "{}", stranger.text());
    let unknown = post_json_as(
        &app.server,
        &format!("/api/v1/merchants/{}/payments/123/refunds", app.merchant),
        &app.owner,
        Some("y"),
        &json!({}),
    )
    .await?;
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    app.stop().await;
    Ok(())
}

/// The token endpoint, as a shop's server calls it: a form, credentials in HTTP Basic.
async fn token(app: &Tienda, basic: Option<(&str, &str)>, form: &str) -> Result<Response, String> {
    use base64::Engine as _;
    let authorization = basic.map(|(id, secret)| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    });
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
    if let Some(authorization) = &authorization {
        headers.push(("authorization", authorization.as_str()));
    }
    ceiba_testkit::http::send(
        "POST",
        &app.server.url("/api/v1/oauth/token"),
        &headers,
        form.as_bytes().to_vec(),
    )
    .await
}

async fn a_shops_server_charges_with_client_credentials(database: TestDatabase) -> TestResult {
    let app = Tienda::start(&database.db).await?;
    let clients = format!("/api/v1/merchants/{}/clients", app.merchant);
    let made = post_json_as(
        &app.server,
        &clients,
        &app.owner,
        None,
        &json!({"name": "Tienda web"}),
    )
    .await?;
    assert_eq!(made.status, 201, "{}", made.text());
    let made = made.json()?;
    let id = made["client_id"].as_str().ok_or("a client id")?.to_owned();
    let secret = made["client_secret"].as_str().ok_or("a secret")?.to_owned();
    let listed = app.get(&clients, &app.owner).await?;
    assert_eq!(listed.json()?[0]["client_id"], id.as_str());
    assert!(!listed.text().contains(&secret), "the secret is shown once");

    // A token for reading and charging, not refunding.
    let granted = token(
        &app,
        Some((&id, &secret)),
        "grant_type=client_credentials&scope=payments%3Aread+payments%3Awrite",
    )
    .await?;
    assert_eq!(granted.status, 200, "{}", granted.text());
    assert_eq!(granted.header("cache-control"), Some("no-store"));
    let granted = granted.json()?;
    assert_eq!(granted["token_type"], "Bearer");
    assert_eq!(granted["expires_in"], 600);
    assert_eq!(granted["scope"], "payments:read payments:write");
    let shop = granted["access_token"]
        .as_str()
        .ok_or("a token")?
        .to_owned();

    // The shop's server makes a checkout code, the buyer pays it, the server sees it paid.
    let code = post_json_as(
        &app.server,
        &format!("/api/v1/merchants/{}/qr-codes", app.merchant),
        &shop,
        None,
        &json!({"amount": "99", "reference": "Pedido 1042"}),
    )
    .await?;
    assert_eq!(code.status, 201, "{}", code.text());
    let payload = code.json()?["payload"]
        .as_str()
        .ok_or("a payload")?
        .to_owned();
    assert_eq!(app.pay(&payload, None, "web-1042").await?.status, 201);
    let seen = app
        .get(
            &format!("/api/v1/merchants/{}/payments", app.merchant),
            &shop,
        )
        .await?
        .json()?;
    assert_eq!(seen[0]["reference"], "Pedido 1042", "{seen}");
    let payment = seen[0]["operation_id"].as_str().ok_or("an id")?.to_owned();
    let refund = post_json_as(
        &app.server,
        &format!(
            "/api/v1/merchants/{}/payments/{payment}/refunds",
            app.merchant
        ),
        &shop,
        Some("r-web"),
        &json!({}),
    )
    .await?;
    assert_problem(
        &refund,
        403,
        "insufficient_scope",
        &format!(
            "/api/v1/merchants/{}/payments/{payment}/refunds",
            app.merchant
        ),
    );
    // Another merchant's routes are not this token's.
    let elsewhere = app
        .get("/api/v1/merchants/com-otro/payments", &shop)
        .await?;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.text());

    // Refusals carry the OAuth code.
    let wrong = token(
        &app,
        Some((&id, "mcs_otra")),
        "grant_type=client_credentials",
    )
    .await?;
    let problem = assert_problem(&wrong, 401, "oauth_invalid_client", "/api/v1/oauth/token");
    assert_eq!(problem["error"], "invalid_client");
    assert_eq!(
        wrong.header("www-authenticate"),
        Some("Basic realm=\"ceiba\"")
    );
    let grant = token(&app, Some((&id, &secret)), "grant_type=password").await?;
    assert_eq!(
        assert_problem(
            &grant,
            400,
            "oauth_unsupported_grant_type",
            "/api/v1/oauth/token"
        )["error"],
        "unsupported_grant_type"
    );
    let scope = token(
        &app,
        Some((&id, &secret)),
        "grant_type=client_credentials&scope=todo",
    )
    .await?;
    assert_eq!(
        assert_problem(&scope, 400, "oauth_invalid_scope", "/api/v1/oauth/token")["error"],
        "invalid_scope"
    );
    // Credentials in the form work too; without any, the client is refused.
    let in_form = token(
        &app,
        None,
        &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"),
    )
    .await?;
    assert_eq!(in_form.status, 200, "{}", in_form.text());
    assert_eq!(
        in_form.json()?["scope"],
        "payments:read payments:write refunds:write"
    );
    let nobody = token(&app, None, "grant_type=client_credentials").await?;
    assert_eq!(nobody.status, 401);

    // Revoked: its tokens stop working at once.
    let revoked = app
        .server
        .send_json(
            "DELETE",
            &format!("{clients}/{id}"),
            &json!({}),
            &[("authorization", format!("Bearer {}", app.owner).as_str())],
        )
        .await?;
    assert_eq!(revoked.status, 204, "{}", revoked.text());
    let after = app
        .get(
            &format!("/api/v1/merchants/{}/payments", app.merchant),
            &shop,
        )
        .await?;
    assert_eq!(after.status, 401, "{}", after.text());
    app.stop().await;
    Ok(())
}

/// What the test's receiver saw: the headers that matter and the body.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, String, String)>>>;

/// A real HTTP server standing for the shop's: it refuses the first `failures` deliveries with
/// 500, then takes them.
async fn receiver(failures: usize) -> Result<(String, Seen), String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let seen: Seen = std::sync::Arc::default();
    let refused = std::sync::Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let kept = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let kept = kept.clone();
            let refused = refused.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                if refused.fetch_add(1, Ordering::SeqCst) < failures {
                    return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                }
                if let Ok(mut kept) = kept.lock() {
                    kept.push((header("ceiba-signature"), header("ceiba-delivery"), body));
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://{address}/hook"), seen))
}

async fn webhooks_are_signed_retried_logged_and_replayed(database: TestDatabase) -> TestResult {
    let app = Tienda::start(&database.db).await?;
    let (url, seen) = receiver(1).await?;
    let hook = app
        .server
        .send_json(
            "PUT",
            &format!("/api/v1/merchants/{}/webhook", app.merchant),
            &json!({"url": url}),
            &[("authorization", format!("Bearer {}", app.owner).as_str())],
        )
        .await?;
    assert_eq!(hook.status, 200, "{}", hook.text());
    let secret = hook.json()?["signing_secret"]
        .as_str()
        .ok_or("a secret")?
        .to_owned();
    let bad = app
        .server
        .send_json(
            "PUT",
            &format!("/api/v1/merchants/{}/webhook", app.merchant),
            &json!({"url": "ftp://tienda"}),
            &[("authorization", format!("Bearer {}", app.owner).as_str())],
        )
        .await?;
    assert_eq!(bad.status, 422, "{}", bad.text());

    let code = app.code(json!({"amount": "12"})).await?;
    let paid = app
        .pay(code["payload"].as_str().ok_or("a payload")?, None, "w-1")
        .await?;
    assert_eq!(paid.status, 201, "{}", paid.text());
    let operation = paid.json()?["id"].as_str().ok_or("an id")?.to_owned();

    // The shop's server is down at first: the delivery fails and waits to be retried.
    let now = app.server.clock.now_ms();
    let first = ceiba_web::webhooks::dispatch_due(&app.db, &app.sealer, now)
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(
        first,
        ceiba_web::webhooks::DispatchReport {
            delivered: 0,
            failed: 1
        }
    );
    let log_path = format!("/api/v1/merchants/{}/webhook/deliveries", app.merchant);
    let log = app.get(&log_path, &app.owner).await?.json()?;
    assert_eq!(log[0]["attempts"], 1, "{log}");
    assert_eq!(log[0]["last_status"], 500);
    assert_eq!(log[0]["event_type"], "payment.completed");
    let retry_at = log[0]["next_attempt_at_ms"].as_i64().ok_or("a retry")?;
    assert!(retry_at >= now + 30_000, "{log}");
    // Not before its time; then it arrives, signed.
    let early = ceiba_web::webhooks::dispatch_due(&app.db, &app.sealer, now + 1_000)
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(early.delivered + early.failed, 0);
    let later = ceiba_web::webhooks::dispatch_due(&app.db, &app.sealer, retry_at)
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(later.delivered, 1);
    let (signature, delivery, body) = seen
        .lock()
        .map_err(|e| e.to_string())?
        .first()
        .cloned()
        .ok_or("nothing arrived")?;
    let event: Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    assert_eq!(event["type"], "payment.completed");
    assert_eq!(event["data"]["operation_id"], operation.as_str());
    assert_eq!(event["data"]["amount_minor"], 1_200);
    let at = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split(',').next())
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or(format!("no time in {signature}"))?;
    assert_eq!(
        signature,
        ceiba_web::webhooks::signature(secret.as_bytes(), at, &body),
        "HMAC-SHA256 over «t.body» with the signing secret"
    );
    let log = app.get(&log_path, &app.owner).await?.json()?;
    assert!(log[0]["delivered_at_ms"].is_i64(), "{log}");
    assert_eq!(log[0]["id"], delivery.as_str());

    // Replayed on demand: the same delivery again.
    let replayed = post_json_as(
        &app.server,
        &format!("{log_path}/{delivery}/replay"),
        &app.owner,
        None,
        &json!({}),
    )
    .await?;
    assert_eq!(replayed.status, 202, "{}", replayed.text());
    ceiba_web::webhooks::dispatch_due(&app.db, &app.sealer, retry_at + 1)
        .await
        .map_err(|e| e.to_string())?;
    let arrived = seen.lock().map_err(|e| e.to_string())?.clone();
    assert_eq!(arrived.len(), 2);
    assert_eq!(arrived[1].1, delivery);
    app.stop().await;
    Ok(())
}

/// The shop's server: a client of the merchant with a token of every scope.
async fn shop_token(app: &Tienda, scope: &str) -> Result<String, String> {
    let made = post_json_as(
        &app.server,
        &format!("/api/v1/merchants/{}/clients", app.merchant),
        &app.owner,
        None,
        &json!({"name": "Tienda en línea"}),
    )
    .await?
    .json()?;
    let id = made["client_id"].as_str().ok_or("a client id")?;
    let secret = made["client_secret"].as_str().ok_or("a secret")?;
    let granted = token(
        app,
        Some((id, secret)),
        &format!(
            "grant_type=client_credentials&scope={}",
            support::encode(scope)
        ),
    )
    .await?;
    assert_eq!(granted.status, 200, "{}", granted.text());
    Ok(granted.json()?["access_token"]
        .as_str()
        .ok_or("a token")?
        .to_owned())
}

/// Checks an event's signature as a shop must: HMAC-SHA256 over «t.body».
fn verify(secret: &str, signature: &str, body: &str) -> Result<Value, String> {
    let at = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split(',').next())
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or(format!("no time in {signature}"))?;
    assert_eq!(
        signature,
        ceiba_web::webhooks::signature(secret.as_bytes(), at, body),
        "signed with the merchant's key"
    );
    serde_json::from_str(body).map_err(|e| e.to_string())
}

async fn an_online_shop_checkout_runs_end_to_end_with_signed_webhooks(
    database: TestDatabase,
) -> TestResult {
    let app = Tienda::start(&database.db).await?;
    // The shop's own server takes the webhooks; it fails the first delivery.
    let (url, seen) = receiver(1).await?;
    let hook = app
        .server
        .send_json(
            "PUT",
            &format!("/api/v1/merchants/{}/webhook", app.merchant),
            &json!({"url": url}),
            &[("authorization", format!("Bearer {}", app.owner).as_str())],
        )
        .await?;
    let secret = hook.json()?["signing_secret"]
        .as_str()
        .ok_or("a secret")?
        .to_owned();
    let shop = shop_token(&app, "payments:read payments:write refunds:write").await?;
    let reader = shop_token(&app, "payments:read").await?;
    let checkouts = format!("/api/v1/merchants/{}/checkouts", app.merchant);
    let order = json!({
        "amount": "250.00", "currency": "CUP", "description": "Pedido 1024 de la tienda",
        "items": [{"name": "Café Serrano 250 g", "quantity": 2, "unit_amount": "100"},
                  {"name": "Galletas", "quantity": 1, "unit_amount": "50.00"}],
        "merchant_reference": "pedido-1024",
        "return_url": "https://tienda.example/gracias",
        "cancel_url": "https://tienda.example/carrito",
    });

    // Bad orders are refused with the reason and open nothing.
    let mut wrong_sum = order.clone();
    wrong_sum["amount"] = json!("240");
    let refused = post_json_as(&app.server, &checkouts, &shop, None, &wrong_sum).await?;
    let problem = assert_problem(&refused, 422, "validation_failed", &checkouts);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("suman"),
        "{problem}"
    );
    let mut bad_url = order.clone();
    bad_url["return_url"] = json!("javascript:alert(1)");
    let refused = post_json_as(&app.server, &checkouts, &shop, None, &bad_url).await?;
    assert_problem(&refused, 422, "validation_failed", &checkouts);
    let refused = post_json_as(&app.server, &checkouts, &reader, None, &order).await?;
    assert_problem(&refused, 403, "insufficient_scope", &checkouts);
    let none = app.get(&checkouts, &shop).await?.json()?;
    assert_eq!(none, json!([]), "nothing was opened");

    // The shop opens the checkout and sends the buyer to its address.
    let created = post_json_as(&app.server, &checkouts, &shop, None, &order).await?;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json()?;
    assert_eq!(created["status"], "open");
    assert_eq!(created["amount_minor"], 25_000);
    assert_eq!(created["items"][0]["amount_minor"], 20_000);
    let id = created["id"].as_str().ok_or("an id")?.to_owned();
    let page_path = format!("/pagar/pedido/{id}");
    let checkout_url = created["checkout_url"].as_str().ok_or("a url")?;
    assert!(
        checkout_url.starts_with("http://127.0.0.1:"),
        "{checkout_url}"
    );
    assert!(checkout_url.ends_with(&page_path), "{checkout_url}");
    let decoded = ceiba_emvqr::decode(created["qr_payload"].as_str().ok_or("a payload")?)
        .map_err(|e| e.to_string())?;
    assert_eq!(decoded.amount(), Some("250.00"));
    assert_eq!(decoded.bill_number(), Some("pedido-1024"));

    // The buyer, not signed in, sees the order and is asked to sign in, then comes back.
    let mut buyer = Browser::new(&app.server);
    let shown = buyer.get(&page_path).await?;
    assert_eq!(shown.status, 200, "{}", shown.text());
    let text = shown.text();
    assert!(text.contains("Paladar La Bodeguita del Medio"), "{text}");
    assert!(text.contains("Café Serrano 250 g"), "{text}");
    assert!(text.contains(r#"data-estado="open""#), "{text}");
    assert!(
        !text.contains(r#"id="pagar""#),
        "no pay button without a session"
    );
    let sign_in = format!("/cuenta/entrar?siguiente={page_path}");
    assert!(text.contains(&sign_in), "{text}");
    let image = buyer.get(&format!("{page_path}/qr.svg")).await?;
    assert_eq!(image.header("content-type"), Some("image/svg+xml"));
    let signed_in = buyer
        .fill(
            &sign_in,
            "/cuenta/entrar",
            &[
                ("telefono", PAYER),
                ("contrasena", PASSWORD),
                ("siguiente", &page_path),
            ],
        )
        .await?;
    support::assert_redirect(&signed_in, &page_path);
    // A path of another site is never where signing in leads.
    let elsewhere = Browser::new(&app.server)
        .get("/cuenta/entrar?siguiente=//malo.example/x")
        .await?;
    assert!(
        !elsewhere.text().contains("malo.example"),
        "{}",
        elsewhere.text()
    );

    // The buyer confirms; a second press of the same form pays nothing more.
    let before = app.payer_cup();
    let shown = buyer.get(&page_path).await?.text();
    let csrf = csrf_of(&shown).ok_or("a _csrf")?;
    let key = field_of(&shown, "clave").ok_or("a key")?;
    let pay_path = format!("{page_path}/pagar");
    let paid = buyer
        .post(&pay_path, &[("_csrf", &csrf), ("clave", &key)])
        .await?;
    support::assert_redirect(&paid, &page_path);
    let again = buyer
        .post(&pay_path, &[("_csrf", &csrf), ("clave", &key)])
        .await?;
    support::assert_redirect(&again, &page_path);
    let other_key = buyer
        .post(
            &pay_path,
            &[
                ("_csrf", &csrf),
                ("clave", "web-00000000000000000000000000000001"),
            ],
        )
        .await?;
    assert_eq!(other_key.status, 200);
    assert!(
        error_of(&other_key.text()).is_some(),
        "{}",
        other_key.text()
    );
    assert_eq!(before - app.payer_cup(), 25_000, "paid once");
    let done = buyer.get(&page_path).await?.text();
    assert!(done.contains(r#"data-estado="completed""#), "{done}");
    let back = "https://tienda.example/gracias?checkout_id=";
    assert!(
        done.contains(&format!("{back}{id}&#38;status=completed")),
        "{done}"
    );
    assert!(done.contains(r#"http-equiv="refresh""#), "{done}");

    // The shop's server sees it completed, finds it by its reference and state.
    let one = app.get(&format!("{checkouts}/{id}"), &shop).await?.json()?;
    assert_eq!(one["status"], "completed", "{one}");
    let operation = one["operation_id"]
        .as_str()
        .ok_or("an operation")?
        .to_owned();
    assert!(one["receipt_code"].is_string(), "{one}");
    let found = app
        .get(
            &format!("{checkouts}?status=completed&merchant_reference=pedido-1024"),
            &reader,
        )
        .await?
        .json()?;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    let open = app
        .get(&format!("{checkouts}?status=open"), &reader)
        .await?
        .json()?;
    assert_eq!(open, json!([]));
    let bad_filter = app
        .get(&format!("{checkouts}?status=perdido"), &reader)
        .await?;
    assert_eq!(bad_filter.status, 400, "{}", bad_filter.text());
    let closed = post_json_as(
        &app.server,
        &format!("{checkouts}/{id}/cancel"),
        &shop,
        None,
        &json!({}),
    )
    .await?;
    assert_problem(
        &closed,
        409,
        "checkout_closed",
        &format!("{checkouts}/{id}/cancel"),
    );

    // A partial refund, never more than what was paid.
    let refunds = format!(
        "/api/v1/merchants/{}/payments/{operation}/refunds",
        app.merchant
    );
    let too_much = post_json_as(
        &app.server,
        &refunds,
        &shop,
        Some("r-1"),
        &json!({"amount": "250.01"}),
    )
    .await?;
    assert_eq!(too_much.status, 422, "{}", too_much.text());
    let refunded = post_json_as(
        &app.server,
        &refunds,
        &shop,
        Some("r-2"),
        &json!({"amount": "50"}),
    )
    .await?;
    assert_eq!(refunded.status, 201, "{}", refunded.text());
    let one = app.get(&format!("{checkouts}/{id}"), &shop).await?.json()?;
    assert_eq!(one["refunded_minor"], 5_000, "{one}");
    let listed = app
        .get(
            &format!(
                "/api/v1/merchants/{}/refunds?payment={operation}",
                app.merchant
            ),
            &shop,
        )
        .await?
        .json()?;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["amount_minor"], 5_000);
    assert_eq!(listed[0]["payment_operation_id"], operation.as_str());
    assert_eq!(listed[0]["status"], "completed");
    let none = app
        .get(
            &format!("/api/v1/merchants/{}/refunds?payment=otro", app.merchant),
            &shop,
        )
        .await?
        .json()?;
    assert_eq!(none, json!([]));

    // A second order the shop cancels: the buyer can no longer pay it.
    let second = post_json_as(
        &app.server,
        &checkouts,
        &shop,
        None,
        &json!({
        "amount": "10", "description": "Pedido 1025", "merchant_reference": "pedido-1025",
        "cancel_url": "https://tienda.example/carrito"}),
    )
    .await?
    .json()?;
    let second_id = second["id"].as_str().ok_or("an id")?.to_owned();
    let cancel_path = format!("{checkouts}/{second_id}/cancel");
    let cancelled = post_json_as(&app.server, &cancel_path, &shop, None, &json!({})).await?;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    assert_eq!(cancelled.json()?["status"], "cancelled");
    let twice = post_json_as(&app.server, &cancel_path, &shop, None, &json!({})).await?;
    assert_eq!(
        twice.json()?["status"],
        "cancelled",
        "cancelling twice is one cancellation"
    );
    let page = buyer
        .get(&format!("/pagar/pedido/{second_id}"))
        .await?
        .text();
    assert!(page.contains(r#"data-estado="cancelled""#), "{page}");
    assert!(
        page.contains("https://tienda.example/carrito?checkout_id="),
        "{page}"
    );
    let late = buyer
        .post(
            &format!("/pagar/pedido/{second_id}/pagar"),
            &[
                ("_csrf", &csrf),
                ("clave", "web-00000000000000000000000000000002"),
            ],
        )
        .await?;
    assert!(error_of(&late.text()).is_some(), "{}", late.text());
    // A third the buyer cancels from the page.
    let third = post_json_as(
        &app.server,
        &checkouts,
        &shop,
        None,
        &json!({
        "amount": "12", "description": "Pedido 1026"}),
    )
    .await?
    .json()?;
    let third_id = third["id"].as_str().ok_or("an id")?.to_owned();
    let gave_up = buyer
        .post(
            &format!("/pagar/pedido/{third_id}/cancelar"),
            &[("_csrf", &csrf)],
        )
        .await?;
    support::assert_redirect(&gave_up, &format!("/pagar/pedido/{third_id}"));
    // A fourth nobody pays: it expires, and the maintenance sweep announces it once.
    let fourth = post_json_as(
        &app.server,
        &checkouts,
        &shop,
        None,
        &json!({
        "amount": "15", "description": "Pedido 1027", "expires_in_s": 60}),
    )
    .await?
    .json()?;
    let fourth_id = fourth["id"].as_str().ok_or("an id")?.to_owned();
    app.server.clock.advance(std::time::Duration::from_secs(61));
    let now = app.server.clock.now_ms();
    assert_eq!(
        ceiba_web::checkouts::announce_expired(&app.db, now)
            .await
            .map_err(|e| e.to_string())?,
        1
    );
    assert_eq!(
        ceiba_web::checkouts::announce_expired(&app.db, now)
            .await
            .map_err(|e| e.to_string())?,
        0
    );
    let expired = app
        .get(&format!("{checkouts}?status=expired"), &reader)
        .await?
        .json()?;
    assert_eq!(expired[0]["id"], fourth_id.as_str(), "{expired}");
    assert_eq!(app.payer_cup(), before - 25_000 + 5_000);

    // Every change reaches the shop's server signed, the first after a retry.
    let first = ceiba_web::webhooks::dispatch_due(&app.db, &app.sealer, now)
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(first.failed, 1, "{first:?}");
    let retried = ceiba_web::webhooks::dispatch_due(&app.db, &app.sealer, now + 31_000)
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(retried.failed, 0, "{retried:?}");
    let arrived = seen.lock().map_err(|e| e.to_string())?.clone();
    let mut events = Vec::new();
    for (signature, _, body) in &arrived {
        events.push(verify(&secret, signature, body)?);
    }
    let of = |kind: &str| {
        events
            .iter()
            .filter(|e| e["type"] == kind)
            .cloned()
            .collect::<Vec<_>>()
    };
    let completed = of("checkout.completed");
    assert_eq!(completed.len(), 1, "{events:?}");
    assert_eq!(completed[0]["data"]["checkout_id"], id.as_str());
    assert_eq!(completed[0]["data"]["merchant_reference"], "pedido-1024");
    assert_eq!(completed[0]["data"]["operation_id"], operation.as_str());
    assert_eq!(completed[0]["data"]["amount_minor"], 25_000);
    assert_eq!(of("refund.completed").len(), 1, "{events:?}");
    let cancelled: Vec<_> = of("checkout.cancelled")
        .iter()
        .map(|e| e["data"]["checkout_id"].clone())
        .collect();
    assert_eq!(
        cancelled,
        vec![json!(second_id), json!(third_id)],
        "{events:?}"
    );
    let expired = of("checkout.expired");
    assert_eq!(expired.len(), 1, "{events:?}");
    assert_eq!(expired[0]["data"]["checkout_id"], fourth_id.as_str());
    assert_eq!(events.len(), 5, "{events:?}");
    app.stop().await;
    Ok(())
}

async fn a_payment_link_opens_a_checkout_for_each_use(database: TestDatabase) -> TestResult {
    let app = Tienda::start(&database.db).await?;
    let links = format!("/api/v1/merchants/{}/payment-links", app.merchant);
    let fixed = post_json_as(
        &app.server,
        &links,
        &app.owner,
        None,
        &json!({"description": "Entrada al concierto", "amount": "30"}),
    )
    .await?;
    assert_eq!(fixed.status, 201, "{}", fixed.text());
    let fixed = fixed.json()?;
    let open = post_json_as(
        &app.server,
        &links,
        &app.owner,
        None,
        &json!({"description": "Donación al club de ajedrez"}),
    )
    .await?
    .json()?;
    let mlc = post_json_as(
        &app.server,
        &links,
        &app.owner,
        None,
        &json!({"description": "x", "currency": "MLC"}),
    )
    .await?;
    assert_eq!(mlc.status, 422, "{}", mlc.text());
    let fixed_path = format!("/pagar/enlace/{}", fixed["id"].as_str().ok_or("an id")?);
    let open_path = format!("/pagar/enlace/{}", open["id"].as_str().ok_or("an id")?);
    assert!(
        fixed["url"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&fixed_path),
        "{fixed}"
    );

    let mut buyer = Browser::new(&app.server);
    support::sign_in_by_form(&mut buyer, PAYER).await?;
    // Two uses of the fixed link: two checkouts, each paid once.
    let before = app.payer_cup();
    for _ in 0..2 {
        let opened = buyer.fill(&fixed_path, &fixed_path, &[]).await?;
        assert_eq!(opened.status, 303, "{}", opened.text());
        let checkout = opened.header("location").ok_or("a location")?.to_owned();
        let shown = buyer.get(&checkout).await?.text();
        assert!(shown.contains("Entrada al concierto"), "{shown}");
        let paid = buyer
            .post(
                &format!("{checkout}/pagar"),
                &[
                    ("_csrf", &csrf_of(&shown).ok_or("a _csrf")?),
                    ("clave", &field_of(&shown, "clave").ok_or("a key")?),
                ],
            )
            .await?;
        support::assert_redirect(&paid, &checkout);
    }
    assert_eq!(before - app.payer_cup(), 6_000);
    // The open one asks for an amount; a bad one is said on the form.
    let bad = buyer
        .fill(&open_path, &open_path, &[("importe", "mucho")])
        .await?;
    assert_eq!(bad.status, 200);
    assert!(error_of(&bad.text()).is_some(), "{}", bad.text());
    let opened = buyer
        .fill(&open_path, &open_path, &[("importe", "7,50")])
        .await?;
    assert_eq!(opened.status, 303, "{}", opened.text());
    let listed = app
        .get(
            &format!("/api/v1/merchants/{}/checkouts", app.merchant),
            &app.owner,
        )
        .await?
        .json()?;
    assert_eq!(listed[0]["amount_minor"], 750, "{listed}");
    assert_eq!(listed[0]["payment_link_id"], open["id"]);
    assert_eq!(listed[0]["status"], "open");
    // Deactivated, the link opens nothing more.
    let gone = app
        .server
        .send_json(
            "DELETE",
            &format!("{links}/{}", fixed["id"].as_str().unwrap_or_default()),
            &json!({}),
            &[("authorization", format!("Bearer {}", app.owner).as_str())],
        )
        .await?;
    assert_eq!(gone.status, 204, "{}", gone.text());
    assert_eq!(buyer.get(&fixed_path).await?.status, 404);
    app.stop().await;
    Ok(())
}
