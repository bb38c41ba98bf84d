//! Payments to billers over HTTP, on each engine: bills uploaded (a file with a bad line is
//! refused whole), looked up, paid, paid at most once (also by concurrent requests) and
//! reconciled; taxes and fines; top-ups with fixed denominations and free amounts; a biller
//! that never answers, whose hold expires and reverses with an SMS; one that refuses; and
//! insufficient funds and limits. After each scenario the ledger is sound and nothing is left
//! held.

use std::sync::Arc;

use ceiba_identity::{PhoneNumber, Role};
use ceiba_payments::{Currency, CurrencyLimits, HoldState, Limits, accounts};
use ceiba_store::{Db, LedgerEngine, OperationStatus};
use ceiba_testkit::each_engine;
use ceiba_testkit::http::{Response, send};
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use ceiba_web::bills::BuiltInConnector;
use ceiba_web::payments::{PaymentSettings, settle_stale};
use ceiba_web::{AppState, ServerLimits};
use serde_json::{Value, json};

mod support;
use support::{
    TestServer, assert_bearer_route, assert_ledger_sound, assert_problem, available_minor,
    hold_ends, ledger_state, openapi_document, pagos_sms_to, post_json_as, second_factor_token,
    signed_in_user,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite:
        bills_are_uploaded_looked_up_paid_once_and_reconciled,
        concurrent_payments_of_one_bill_pay_it_once,
        taxes_and_fines_are_paid_like_bills,
        top_ups_sell_fixed_denominations_and_free_amounts,
        a_biller_that_never_answers_lets_the_hold_expire_and_reverse,
        a_biller_that_refuses_gets_nothing,
        insufficient_funds_and_limits,
        an_administrator_names_the_account_that_operates_a_biller,
        the_openapi_document_lists_the_biller_routes,
    );
    suite.run()
}

const BANK_PHONE: &str = "+5352220000";
const UNE_PHONE: &str = "+5352230001";
const BILLERS: &str = "/api/v1/payments/billers";
const PAY: &str = "/api/v1/payments/bills";
const TOP_UPS: &str = "/api/v1/payments/top-ups";
const HEADER: &str = "referencia,cliente,importe,vencimiento,periodo\n";

const ANA: (&str, &str) = ("+53 5200 1001", "Ana Pérez");
const BETO: (&str, &str) = ("+53 5200 1002", "Roberto Díaz");

#[derive(Debug, Clone)]
struct Person {
    id: String,
    phone: &'static str,
    token: String,
}

/// A served app with a running ledger, the built-in billers (with their switch) and a bank
/// operator to fund wallets.
struct Billing {
    server: TestServer,
    state: AppState,
    engine: LedgerEngine,
    db: Db,
    connector: Arc<BuiltInConnector>,
    bank: String,
}

impl Billing {
    async fn start(
        db: &Db,
        configure: impl FnOnce(&mut PaymentSettings),
    ) -> Result<Billing, String> {
        let mut state = ledger_state(db).await?;
        let mut settings = PaymentSettings::standard([7; 32]);
        configure(&mut settings);
        state.payments = Arc::new(settings);
        let connector = Arc::new(BuiltInConnector::new());
        state.biller_connector = connector.clone();
        let engine = state.ledger.clone().ok_or("the state has no ledger")?;
        let server = TestServer::with_state(state.clone(), ServerLimits::default())
            .await
            .map_err(|e| e.to_string())?;
        let bank = second_factor_token(&server, db, BANK_PHONE, &[Role::BankOperator]).await?;
        Ok(Billing {
            server,
            state,
            engine,
            db: db.clone(),
            connector,
            bank,
        })
    }

    async fn stop(mut self) {
        self.server.shut_down();
        self.engine.stop().await;
    }

    /// A citizen signed in, with `cup` pesos cashed in at the bank (none when empty).
    async fn person(
        &self,
        (phone, name): (&'static str, &str),
        cup: &str,
    ) -> Result<Person, String> {
        let (id, token) =
            signed_in_user(&self.server, &self.db, phone, name, &[Role::Citizen]).await?;
        let wallet = self
            .server
            .with_token("GET", "/api/v1/payments/wallet", &token)
            .await?;
        if wallet.status != 200 {
            return Err(wallet.text());
        }
        if !cup.is_empty() {
            self.cash_in(phone, cup).await?;
        }
        Ok(Person { id, phone, token })
    }

    async fn cash_in(&self, phone: &str, cup: &str) -> Result<(), String> {
        let body = json!({"phone": phone, "bank": "BPA", "currency": "CUP", "amount": cup});
        let key = format!("cash-{}", rand::random::<u64>());
        let response = post_json_as(
            &self.server,
            "/api/v1/payments/cash-in",
            &self.bank,
            Some(&key),
            &body,
        )
        .await?;
        if response.status == 201 {
            Ok(())
        } else {
            Err(response.text())
        }
    }

    /// The account that operates biller `code`, signed in with its second factor: its token.
    async fn operator_of(&self, phone: &str, code: &str) -> Result<String, String> {
        let token = second_factor_token(&self.server, &self.db, phone, &[Role::Biller]).await?;
        let phone = PhoneNumber::parse(phone).map_err(|e| e.to_string())?;
        let user = self
            .db
            .user_by_phone(&phone)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the operator exists")?;
        let named = self
            .db
            .set_biller_user(code, Some(&user.id))
            .await
            .map_err(|e| e.to_string())?;
        if !named {
            return Err(format!("no biller «{code}»"));
        }
        Ok(token)
    }

    async fn upload(
        &self,
        token: &str,
        code: &str,
        content_type: &str,
        body: &str,
    ) -> Result<Response, String> {
        let authorization = format!("Bearer {token}");
        send(
            "POST",
            &self.server.url(&format!("/api/v1/billers/{code}/bills")),
            &[
                ("authorization", authorization.as_str()),
                ("content-type", content_type),
            ],
            body.as_bytes().to_vec(),
        )
        .await
    }

    /// An upload of CSV lines (after the header) that must be saved whole.
    async fn uploaded(&self, token: &str, code: &str, lines: &str) -> Result<(), String> {
        let response = self
            .upload(token, code, "text/csv", &format!("{HEADER}{lines}"))
            .await?;
        if response.status != 201 {
            return Err(format!("upload: {} {}", response.status, response.text()));
        }
        Ok(())
    }

    async fn get(&self, path: &str, token: &str) -> Result<Response, String> {
        self.server.with_token("GET", path, token).await
    }

    async fn get_ok(&self, path: &str, token: &str) -> Result<Value, String> {
        let response = self.get(path, token).await?;
        if response.status != 200 {
            return Err(format!(
                "GET {path}: {} {}",
                response.status,
                response.text()
            ));
        }
        response.json()
    }

    async fn pay(
        &self,
        person: &Person,
        biller: &str,
        reference: &str,
        key: &str,
    ) -> Result<Response, String> {
        let body = json!({"biller": biller, "reference": reference});
        post_json_as(&self.server, PAY, &person.token, Some(key), &body).await
    }

    async fn top_up(
        &self,
        person: &Person,
        service: &str,
        account: &str,
        amount: &str,
        key: &str,
    ) -> Result<Response, String> {
        let body = json!({"service": service, "account": account, "amount": amount});
        post_json_as(&self.server, TOP_UPS, &person.token, Some(key), &body).await
    }

    /// The recovery sweep, as `ceiba serve` runs it, over every operation still pending.
    async fn sweep(&self) -> Result<usize, String> {
        settle_stale(&self.state, 0)
            .await
            .map_err(|error| format!("{error:?}"))
    }

    fn available(&self, person: &Person) -> u64 {
        available_minor(&self.engine, &person.id, Currency::Cup)
    }

    /// What a biller's account holds in CUP (posted), and what is held for it (pending).
    fn biller_holds(&self, code: &str) -> (u128, u128) {
        self.engine
            .read()
            .state
            .account(accounts::biller(code, Currency::Cup))
            .map_or((0, 0), |account| {
                (
                    account.balances.credits_posted,
                    account.balances.credits_pending,
                )
            })
    }

    async fn sms_to(&self, person: &Person) -> Result<Vec<String>, String> {
        pagos_sms_to(&self.db, person.phone).await
    }

    /// The ledger is sound and nothing is held for anyone any more.
    fn assert_settled(&self, people: &[&Person]) {
        assert_ledger_sound(&self.engine);
        let replica = self.engine.read();
        for person in people {
            if let Some(wallet) = replica
                .state
                .account(accounts::wallet(&person.id, Currency::Cup))
            {
                assert_eq!(wallet.balances.debits_pending, 0, "{}: held", person.phone);
            }
        }
    }
}

/// The operation of an answer that must be 201.
fn created(response: &Response) -> Result<Value, String> {
    if response.status != 201 {
        return Err(format!(
            "expected 201: {} {}",
            response.status,
            response.text()
        ));
    }
    response.json()
}

/// A refusal's problem whose detail (or title) contains `spanish`.
fn assert_refused(
    response: &Response,
    status: u16,
    code: &str,
    path: &str,
    spanish: &str,
) -> Value {
    let problem = assert_problem(response, status, code, path);
    let text = format!(
        "{} {}",
        problem["title"].as_str().unwrap_or_default(),
        problem["detail"].as_str().unwrap_or_default()
    );
    assert!(text.contains(spanish), "«{spanish}» missing: {problem}");
    problem
}

/// A Pagos SMS: every part in it, never a link, never the PIN.
fn assert_sms(body: &str, parts: &[&str]) {
    for part in parts {
        assert!(body.contains(part), "«{part}» missing from «{body}»");
    }
    assert!(!body.to_lowercase().contains("http"), "a link in «{body}»");
    assert!(!body.contains("PIN"), "the PIN in «{body}»");
}

/// The day (Havana time) of a moment, as the reconciliation asks for it.
fn havana_date(at_ms: i64) -> String {
    let zone = jiff::tz::TimeZone::get("America/Havana").expect("Havana is known");
    jiff::Timestamp::from_millisecond(at_ms)
        .expect("a valid moment")
        .to_zoned(zone)
        .date()
        .to_string()
}

async fn bills_are_uploaded_looked_up_paid_once_and_reconciled(
    database: TestDatabase,
) -> TestResult {
    let app = Billing::start(&database.db, |_| {}).await?;
    let une = app.operator_of(UNE_PHONE, "une").await?;
    let ana = app.person(ANA, "1000").await?;
    let beto = app.person(BETO, "500").await?;
    let upload_path = "/api/v1/billers/une/bills";

    // A file with one bad line is refused whole, naming the line; nothing is saved.
    let bad = format!(
        "{HEADER}100,Ana Pérez García,125.50,2026-12-15,2026-11\n\
         101,Luis Gómez,12.345,2026-12-15,2026-11\n\
         102,Rosa Ruiz,10,2026-02-30,2026-11\n"
    );
    let refused = app.upload(&une, "une", "text/csv", &bad).await?;
    let problem = assert_refused(
        &refused,
        422,
        "biller_bills_invalid",
        upload_path,
        "línea 3",
    );
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("línea 4")),
        "{problem}"
    );
    let lookup = app
        .get("/api/v1/payments/bills/une/100", &ana.token)
        .await?;
    assert_problem(
        &lookup,
        404,
        "payment_bill_unknown",
        "/api/v1/payments/bills/une/100",
    );

    // The corrected file, from a spreadsheet (CRLF, quoted names), and bills by JSON.
    let good = "referencia,cliente,importe,vencimiento,periodo\r\n\
                100,\"Ana Pérez García\",125.50,2026-12-15,2026-11\r\n\
                101,Luis Gómez,\"80,00\",2026-12-15,2026-11\r\n";
    let saved = app
        .upload(&une, "une", "text/csv; charset=utf-8", good)
        .await?;
    assert_eq!(saved.status, 201, "{}", saved.text());
    assert_eq!(saved.json()?["inserted"], 2);
    let json_bills = json!({"bills": [
        {"reference": "102", "customer": "Rosa Ruiz", "amount": "45.25",
         "due_date": "2026-12-20", "period": "2026-11"}
    ]});
    let saved = app
        .upload(&une, "une", "application/json", &json_bills.to_string())
        .await?;
    assert_eq!(saved.status, 201, "{}", saved.text());
    // A bill, once issued, is not replaced.
    let again = app
        .upload(
            &une,
            "une",
            "text/csv",
            &format!("{HEADER}103,Rosa,1,2026-12-15,x\n101,Luis,1,2026-12-15,x\n"),
        )
        .await?;
    assert_refused(
        &again,
        422,
        "biller_bills_invalid",
        upload_path,
        "línea 3: la referencia 101 ya se cargó",
    );
    // Nor uploaded by someone else: a citizen, or the operator of another biller.
    let citizen = app.upload(&ana.token, "une", "text/csv", good).await?;
    assert_problem(&citizen, 403, "forbidden", upload_path);
    let water = app.operator_of("+5352230002", "aguas-habana").await?;
    let foreign = app.upload(&water, "une", "text/csv", good).await?;
    assert_refused(
        &foreign,
        403,
        "forbidden",
        upload_path,
        "no opera el emisor «une»",
    );
    let unsupported = app.upload(&une, "une", "text/plain", good).await?;
    assert_problem(&unsupported, 415, "unsupported_media_type", upload_path);

    // Looking a bill up: amount, the name masked, open; the reference in any case.
    let bill = app
        .get_ok("/api/v1/payments/bills/une/100", &ana.token)
        .await?;
    assert_eq!(bill["amount_minor"], 12_550, "{bill}");
    assert_eq!(bill["amount"], "125,50 CUP");
    assert_eq!(bill["customer"], "A** P**** G*****");
    assert_eq!(bill["status"], "open");
    assert_eq!(bill["biller_name"], "UNE Empresa Eléctrica");
    assert_eq!(bill["due_date"], "2026-12-15");
    let rosa = app
        .get_ok("/api/v1/payments/bills/une/102", &ana.token)
        .await?;
    assert_eq!(rosa["amount_minor"], 4_525);
    let unknown = app
        .get("/api/v1/payments/bills/nadie/100", &ana.token)
        .await?;
    assert_problem(
        &unknown,
        404,
        "payment_biller_unknown",
        "/api/v1/payments/bills/nadie/100",
    );
    let anonymous = app.server.get("/api/v1/payments/bills/une/100").await?;
    assert_problem(
        &anonymous,
        401,
        "unauthenticated",
        "/api/v1/payments/bills/une/100",
    );

    // Ana pays it.
    let paid = created(&app.pay(&ana, "une", "100", "pago-1").await?)?;
    assert_eq!(paid["kind"], "bill_payment", "{paid}");
    assert_eq!(paid["status"], "completed");
    assert_eq!(paid["amount_minor"], 12_550);
    assert_eq!(paid["counterparty"], "UNE Empresa Eléctrica");
    assert_eq!(paid["note"], "Factura 100");
    let receipt = paid["receipt_code"].as_str().ok_or("a receipt")?.to_owned();
    assert_eq!(app.available(&ana), 100_000 - 12_550);
    assert_eq!(app.biller_holds("une"), (12_550, 0));
    let bill = app
        .get_ok("/api/v1/payments/bills/une/100", &ana.token)
        .await?;
    assert_eq!(bill["status"], "paid");
    let sms = app.sms_to(&ana).await?;
    let last = sms.last().ok_or("an SMS to Ana")?;
    assert_sms(
        last,
        &[
            "pago de 125.50 CUP",
            "UNE",
            "factura 100",
            "Saldo 874.50 CUP",
            &receipt,
        ],
    );
    let sms_count = sms.len();

    // The same request again (a lost answer) is the same payment; nothing moves twice.
    let retried = created(&app.pay(&ana, "une", "100", "pago-1").await?)?;
    assert_eq!(retried["id"], paid["id"]);
    assert_eq!(app.available(&ana), 100_000 - 12_550);
    assert_eq!(app.sms_to(&ana).await?.len(), sms_count);

    // Paying it again is refused, for Ana and for anyone; nothing moves.
    let twice = app.pay(&ana, "une", "100", "pago-2").await?;
    assert_refused(
        &twice,
        409,
        "payment_bill_already_paid",
        PAY,
        "ya está pagada",
    );
    let other = app.pay(&beto, "une", "100", "pago-beto").await?;
    assert_refused(
        &other,
        409,
        "payment_bill_already_paid",
        PAY,
        "ya está pagada",
    );
    assert_eq!(app.available(&ana), 100_000 - 12_550);
    assert_eq!(app.available(&beto), 50_000);
    assert_eq!(app.biller_holds("une"), (12_550, 0));
    let unknown = app.pay(&ana, "une", "999", "pago-3").await?;
    assert_refused(
        &unknown,
        404,
        "payment_bill_unknown",
        PAY,
        "ninguna factura «999»",
    );

    // Whoever asks about the operation learns it went through.
    let id = paid["id"].as_str().ok_or("an id")?;
    let status = app
        .get_ok(&format!("/api/v1/payments/operations/{id}"), &ana.token)
        .await?;
    assert_eq!(status["status"], "completed");

    // The biller sees the payment and reconciles it.
    let payments = app.get_ok("/api/v1/billers/une/payments", &une).await?;
    let listed = &payments["payments"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{payments}");
    assert_eq!(listed[0]["reference"], "100");
    assert_eq!(listed[0]["customer"], "Ana Pérez García");
    assert_eq!(listed[0]["amount_minor"], 12_550);
    assert_eq!(listed[0]["receipt_code"], receipt);
    let row = app
        .db
        .payment_operation(id)
        .await?
        .ok_or("the operation is stored")?;
    let date = havana_date(row.finished_at_ms.ok_or("finished")?);
    let file = app
        .get(
            &format!("/api/v1/billers/une/reconciliation?date={date}"),
            &une,
        )
        .await?;
    assert_eq!(file.status, 200, "{}", file.text());
    assert_eq!(file.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        file.header("content-disposition")
            .is_some_and(|value| value.contains(&format!("conciliacion-une-{date}.csv"))),
        "{:?}",
        file.header("content-disposition")
    );
    let text = file.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "fecha_pago,operacion,tipo,referencia,cliente,periodo,importe,moneda,recibo"
    );
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[1].ends_with(&format!(
            ",{id},bill_payment,100,Ana Pérez García,2026-11,125.50,CUP,{receipt}"
        )),
        "{text}"
    );
    let other_day = app
        .get("/api/v1/billers/une/reconciliation?date=2020-01-01", &une)
        .await?;
    assert_eq!(other_day.text().lines().count(), 1, "only the header");
    let bad_date = app
        .get("/api/v1/billers/une/reconciliation?date=ayer", &une)
        .await?;
    assert_problem(
        &bad_date,
        400,
        "bad_request",
        "/api/v1/billers/une/reconciliation",
    );
    let not_theirs = app
        .get(
            &format!("/api/v1/billers/une/reconciliation?date={date}"),
            &water,
        )
        .await?;
    assert_problem(
        &not_theirs,
        403,
        "forbidden",
        "/api/v1/billers/une/reconciliation",
    );

    app.assert_settled(&[&ana, &beto]);
    app.stop().await;
    Ok(())
}

async fn concurrent_payments_of_one_bill_pay_it_once(database: TestDatabase) -> TestResult {
    let app = Billing::start(&database.db, |_| {}).await?;
    let une = app.operator_of(UNE_PHONE, "une").await?;
    app.uploaded(&une, "une", "200,Ana Pérez García,300,2026-12-15,2026-11\n")
        .await?;
    let mut people = Vec::new();
    for n in 0..6 {
        let phone: &'static str = Box::leak(format!("+5352001{n:03}").into_boxed_str());
        people.push(app.person((phone, "Vecino"), "500").await?);
    }
    // Everyone at once, each with a key of their own, and the first person three times with
    // the same key.
    let mut tasks = tokio::task::JoinSet::new();
    let url = app.server.url(PAY);
    let body = json!({"biller": "une", "reference": "200"}).to_string();
    let attempts = people
        .iter()
        .enumerate()
        .map(|(n, person)| (person.clone(), format!("clave-{n}")))
        .chain((0..2).map(|_| (people[0].clone(), "clave-0".to_owned())));
    for (person, key) in attempts {
        let url = url.clone();
        let body = body.clone();
        tasks.spawn(async move {
            let authorization = format!("Bearer {}", person.token);
            let response = send(
                "POST",
                &url,
                &[
                    ("authorization", authorization.as_str()),
                    ("content-type", "application/json"),
                    ("idempotency-key", key.as_str()),
                ],
                body.into_bytes(),
            )
            .await?;
            Ok::<_, String>((person.id, response))
        });
    }
    let mut paid_by = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (payer, response) = joined.map_err(|e| e.to_string())??;
        match response.status {
            201 => paid_by.push((payer, response.json()?["id"].clone())),
            // The one who holds it while others ask: in progress, then paid; the first person's
            // own repeats may also find their first attempt still in progress.
            409 => {
                let code = response.json()?["code"].clone();
                assert!(
                    code == "payment_bill_already_paid"
                        || code == "payment_bill_in_progress"
                        || code == "payment_in_progress",
                    "{}",
                    response.text()
                );
            }
            other => return Err(format!("unexpected {other}: {}", response.text()).into()),
        }
    }
    let payers: std::collections::BTreeSet<&String> =
        paid_by.iter().map(|(payer, _)| payer).collect();
    assert_eq!(payers.len(), 1, "one person paid: {paid_by:?}");
    let operations: std::collections::BTreeSet<String> =
        paid_by.iter().map(|(_, id)| id.to_string()).collect();
    assert_eq!(operations.len(), 1, "one operation: {paid_by:?}");
    assert_eq!(app.biller_holds("une"), (30_000, 0));
    let total: u64 = people.iter().map(|person| app.available(person)).sum();
    assert_eq!(total, 6 * 50_000 - 30_000);
    let bill = app
        .db
        .bill("une", "200")
        .await?
        .ok_or("the bill is stored")?;
    assert_eq!(
        bill.paid_by_operation.map(|id| format!("\"{id}\"")),
        operations.into_iter().next()
    );
    let everyone: Vec<&Person> = people.iter().collect();
    app.assert_settled(&everyone);
    app.stop().await;
    Ok(())
}

async fn taxes_and_fines_are_paid_like_bills(database: TestDatabase) -> TestResult {
    let app = Billing::start(&database.db, |_| {}).await?;
    let onat = app.operator_of("+5352230010", "onat").await?;
    let fines = app.operator_of("+5352230011", "contravenciones").await?;
    app.uploaded(
        &onat,
        "onat",
        "ONAT-2026-0001,Ana Pérez García,1500.00,2026-04-30,\"Ingresos personales, 2025\"\n",
    )
    .await?;
    app.uploaded(
        &fines,
        "contravenciones",
        "MC-55321,Ana Pérez García,300,2026-12-31,Decreto 30/2021\n",
    )
    .await?;
    let ana = app.person(ANA, "2000").await?;

    let billers = app.get_ok(BILLERS, &ana.token).await?;
    let kind_of = |code: &str| {
        billers
            .as_array()
            .and_then(|all| all.iter().find(|biller| biller["code"] == code))
            .map(|biller| biller["kind"].clone())
    };
    assert_eq!(kind_of("onat"), Some(json!("impuestos")), "{billers}");
    assert_eq!(kind_of("contravenciones"), Some(json!("impuestos")));
    assert_eq!(kind_of("une"), Some(json!("servicios")));

    let tax = app
        .get_ok("/api/v1/payments/bills/onat/onat-2026-0001", &ana.token)
        .await?;
    assert_eq!(tax["reference"], "ONAT-2026-0001");
    assert_eq!(tax["period"], "Ingresos personales, 2025");
    let paid = created(&app.pay(&ana, "onat", "ONAT-2026-0001", "impuesto").await?)?;
    assert_eq!(paid["kind"], "tax_payment", "{paid}");
    assert_eq!(paid["note"], "Referencia ONAT-2026-0001");
    let fine = created(
        &app.pay(&ana, "contravenciones", "mc-55321", "multa")
            .await?,
    )?;
    assert_eq!(fine["kind"], "tax_payment");
    assert_eq!(fine["amount_minor"], 30_000);
    assert_eq!(app.available(&ana), 200_000 - 150_000 - 30_000);
    assert_eq!(app.biller_holds("onat"), (150_000, 0));
    assert_eq!(app.biller_holds("contravenciones"), (30_000, 0));
    let sms = app.sms_to(&ana).await?;
    assert_sms(
        &sms[sms.len() - 2],
        &["pago de 1500.00 CUP", "ONAT", "referencia ONAT-2026-0001"],
    );
    assert_sms(
        &sms[sms.len() - 1],
        &[
            "pago de 300.00 CUP",
            "referencia MC-55321",
            "Saldo 200.00 CUP",
        ],
    );
    let twice = app
        .pay(&ana, "onat", "ONAT-2026-0001", "impuesto-2")
        .await?;
    assert_problem(&twice, 409, "payment_bill_already_paid", PAY);
    let listed = app.get_ok("/api/v1/billers/onat/payments", &onat).await?;
    assert_eq!(listed["payments"][0]["kind"], "tax_payment");
    assert_eq!(listed["payments"][0]["period"], "Ingresos personales, 2025");

    app.assert_settled(&[&ana]);
    app.stop().await;
    Ok(())
}

async fn top_ups_sell_fixed_denominations_and_free_amounts(database: TestDatabase) -> TestResult {
    let app = Billing::start(&database.db, |_| {}).await?;
    let ana = app.person(ANA, "1000").await?;

    // What is sold is in the billers' list.
    let billers = app.get_ok(BILLERS, &ana.token).await?;
    let find = |code: &str| {
        billers
            .as_array()
            .and_then(|all| all.iter().find(|biller| biller["code"] == code))
            .cloned()
            .unwrap_or_default()
    };
    let mobile = find("etecsa-movil");
    assert_eq!(mobile["top_up_service"], "movil", "{billers}");
    assert_eq!(
        mobile["top_up_amounts_minor"],
        json!([10_000, 25_000, 50_000])
    );
    let nauta = find("etecsa-nauta");
    assert_eq!(nauta["top_up_service"], "nauta");
    assert_eq!(nauta["top_up_min_minor"], 2_500);
    assert_eq!(nauta["top_up_max_minor"], 200_000);
    assert_eq!(find("une")["top_up_service"], Value::Null);

    let line = created(
        &app.top_up(&ana, "movil", "+53 5200 2001", "250", "r1")
            .await?,
    )?;
    assert_eq!(line["kind"], "top_up", "{line}");
    assert_eq!(line["amount_minor"], 25_000);
    assert_eq!(line["note"], "Recarga móvil +5352002001");
    assert_eq!(line["counterparty"], "ETECSA Recargas móvil");
    let again = created(
        &app.top_up(&ana, "movil", "+53 5200 2001", "250", "r1")
            .await?,
    )?;
    assert_eq!(again["id"], line["id"], "a retry is the same top-up");
    let internet = created(
        &app.top_up(&ana, "nauta", "Ana.Perez@nauta.com.cu", "37,50", "r2")
            .await?,
    )?;
    assert_eq!(internet["amount_minor"], 3_750);
    assert_eq!(internet["note"], "Recarga Nauta ana.perez@nauta.com.cu");
    let sms = app.sms_to(&ana).await?;
    assert_sms(
        &sms[sms.len() - 2],
        &["recarga de 250.00 CUP a +5352002001"],
    );
    assert_sms(
        &sms[sms.len() - 1],
        &[
            "recarga de 37.50 CUP a ana.perez@nauta.com.cu",
            "Saldo 712.50 CUP",
        ],
    );

    // Refused before anything is recorded, each saying why.
    let cases = [
        (
            "movil",
            "+53 5200 2001",
            "150",
            422,
            "payment_top_up_amount",
            "100,00; 250,00 y 500,00 CUP",
        ),
        (
            "movil",
            "+53 5200 2001",
            "250.001",
            422,
            "payment_invalid_amount",
            "decimales",
        ),
        (
            "movil",
            "12345",
            "100",
            422,
            "payment_top_up_account",
            "8 cifras",
        ),
        (
            "nauta",
            "ana@nauta.com.cu",
            "10",
            422,
            "payment_top_up_amount",
            "entre 25,00 CUP y 2.000,00 CUP",
        ),
        (
            "nauta",
            "ana@nauta.com.cu",
            "2000.01",
            422,
            "payment_top_up_amount",
            "2.000,00 CUP",
        ),
        (
            "nauta",
            "ana@gmail.com",
            "100",
            422,
            "payment_top_up_account",
            "no es una cuenta Nauta",
        ),
        (
            "fijo",
            "+53 5200 2001",
            "100",
            422,
            "validation_failed",
            "«fijo» no existe",
        ),
    ];
    for (n, (service, account, amount, status, code, spanish)) in cases.into_iter().enumerate() {
        let response = app
            .top_up(&ana, service, account, amount, &format!("mal-{n}"))
            .await?;
        assert_refused(&response, status, code, TOP_UPS, spanish);
    }
    assert_eq!(app.available(&ana), 100_000 - 25_000 - 3_750);
    assert_eq!(app.biller_holds("etecsa-movil"), (25_000, 0));
    assert_eq!(app.biller_holds("etecsa-nauta"), (3_750, 0));
    let refused_rows = app
        .db
        .payment_operations_of(&ana.id, 0, i64::MAX, None, 100)
        .await?
        .iter()
        .filter(|row| row.kind == "top_up")
        .count();
    assert_eq!(refused_rows, 2, "refusals recorded nothing");

    // The operator reconciles the line topped up as it was written.
    let etecsa = app.operator_of("+5352230020", "etecsa-movil").await?;
    let id = line["id"].as_str().ok_or("an id")?;
    let row = app.db.payment_operation(id).await?.ok_or("stored")?;
    let date = havana_date(row.finished_at_ms.ok_or("finished")?);
    let file = app
        .get(
            &format!("/api/v1/billers/etecsa-movil/reconciliation?date={date}"),
            &etecsa,
        )
        .await?;
    assert_eq!(file.status, 200, "{}", file.text());
    assert!(
        file.text()
            .contains(&format!(",{id},top_up,+5352002001,,,250.00,CUP,")),
        "{}",
        file.text()
    );

    app.assert_settled(&[&ana]);
    app.stop().await;
    Ok(())
}

async fn a_biller_that_never_answers_lets_the_hold_expire_and_reverse(
    database: TestDatabase,
) -> TestResult {
    // Two seconds: short, with room for the checks made while the money is held.
    let app = Billing::start(&database.db, |settings| settings.hold_timeout_s = 2).await?;
    let une = app.operator_of(UNE_PHONE, "une").await?;
    app.uploaded(
        &une,
        "une",
        "300,Ana Pérez García,125.50,2026-12-15,2026-11\n",
    )
    .await?;
    let ana = app.person(ANA, "1000").await?;
    let beto = app.person(BETO, "500").await?;
    app.connector.set_offline("une", true);

    // The money is held while the biller is asked; the answer says so.
    let response = app.pay(&ana, "une", "300", "sin-respuesta").await?;
    assert_eq!(response.status, 202, "{}", response.text());
    let held = response.json()?;
    assert_eq!(held["status"], "pending", "{held}");
    let id = held["id"].as_str().ok_or("an id")?.to_owned();
    assert_eq!(app.available(&ana), 100_000 - 12_550);
    assert_eq!(app.biller_holds("une"), (0, 12_550));
    let wallet = app.get_ok("/api/v1/payments/wallet", &ana.token).await?;
    assert_eq!(wallet["balances"][0]["pending_minor"], 12_550, "{wallet}");
    // The bill is not paid, and nobody else can pay it while it is held.
    let bill = app
        .get_ok("/api/v1/payments/bills/une/300", &beto.token)
        .await?;
    assert_eq!(bill["status"], "open");
    let meanwhile = app.pay(&beto, "une", "300", "beto").await?;
    assert_refused(&meanwhile, 409, "payment_bill_in_progress", PAY, "en curso");
    // The sweep leaves a hold that has not expired alone.
    assert_eq!(app.sweep().await?, 0);

    // The ledger expires the hold at its timeout; the sweep records the reversal.
    assert_eq!(hold_ends(&app.engine, &id).await?, HoldState::Expired);
    assert_eq!(app.available(&ana), 100_000, "the money is Ana's again");
    assert_eq!(app.sweep().await?, 1);
    let row = app.db.payment_operation(&id).await?.ok_or("stored")?;
    assert_eq!(row.status, OperationStatus::Refused);
    assert_eq!(row.refusal_code.as_deref(), Some("payment_reversed"));
    let status = app
        .get_ok(&format!("/api/v1/payments/operations/{id}"), &ana.token)
        .await?;
    assert_eq!(status["status"], "refused");
    assert_eq!(status["refusal_code"], "payment_reversed");
    let retried = app.pay(&ana, "une", "300", "sin-respuesta").await?;
    assert_refused(
        &retried,
        422,
        "payment_reversed",
        PAY,
        "no confirmó el pago en 2 s",
    );
    let sms = app.sms_to(&ana).await?;
    assert_sms(
        sms.last().ok_or("an SMS to Ana")?,
        &[
            "pago de 125.50 CUP",
            "no se completo",
            "volvio a su saldo",
            "Saldo 1000.00 CUP",
        ],
    );
    let sms_count = sms.len();
    assert_eq!(app.sweep().await?, 0, "settled once");
    assert_eq!(app.sms_to(&ana).await?.len(), sms_count);

    // The bill is still open: once the biller is back, it can be paid.
    let bill = app
        .get_ok("/api/v1/payments/bills/une/300", &beto.token)
        .await?;
    assert_eq!(bill["status"], "open");
    app.connector.set_offline("une", false);
    let paid = created(&app.pay(&beto, "une", "300", "beto-2").await?)?;
    assert_eq!(paid["status"], "completed");
    assert_eq!(app.available(&beto), 50_000 - 12_550);
    assert_eq!(app.biller_holds("une"), (12_550, 0));

    app.assert_settled(&[&ana, &beto]);
    app.stop().await;
    Ok(())
}

async fn a_biller_that_refuses_gets_nothing(database: TestDatabase) -> TestResult {
    let app = Billing::start(&database.db, |_| {}).await?;
    let une = app.operator_of(UNE_PHONE, "une").await?;
    app.uploaded(&une, "une", "301,Ana Pérez García,60,2026-12-15,2026-11\n")
        .await?;
    let ana = app.person(ANA, "100").await?;
    app.connector.set_refusing("une", true);
    let refused = app.pay(&ana, "une", "301", "rechazo").await?;
    assert_refused(
        &refused,
        422,
        "payment_biller_refused",
        PAY,
        "no acepta pagos",
    );
    assert_eq!(app.available(&ana), 10_000);
    assert_eq!(app.biller_holds("une"), (0, 0));
    let sms = app.sms_to(&ana).await?;
    assert_sms(
        sms.last().ok_or("an SMS")?,
        &["no se completo", "Saldo 100.00 CUP"],
    );
    // The same key keeps the same answer; the bill stays open for a later payment.
    let again = app.pay(&ana, "une", "301", "rechazo").await?;
    assert_problem(&again, 422, "payment_biller_refused", PAY);
    app.connector.set_refusing("une", false);
    created(&app.pay(&ana, "une", "301", "otra-vez").await?)?;
    assert_eq!(app.available(&ana), 4_000);
    app.assert_settled(&[&ana]);
    app.stop().await;
    Ok(())
}

async fn insufficient_funds_and_limits(database: TestDatabase) -> TestResult {
    // The Central Bank's person-to-person limit, made small: 100 CUP a day.
    let app = Billing::start(&database.db, |settings| {
        settings.limits = Limits::central_bank().with(
            Currency::Cup,
            CurrencyLimits {
                daily_minor: 10_000,
                monthly_minor: 20_000,
            },
        );
    })
    .await?;
    let une = app.operator_of(UNE_PHONE, "une").await?;
    app.uploaded(
        &une,
        "une",
        "400,Ana Pérez García,125.50,2026-12-15,2026-11\n401,Ana Pérez García,50,2026-12-15,2026-11\n",
    )
    .await?;
    let ana = app.person(ANA, "100").await?;
    let beto = app.person(BETO, "").await?;

    // More than the wallet holds: refused, nothing held, the bill free for a later payment.
    let short = app.pay(&ana, "une", "400", "corto").await?;
    assert_refused(
        &short,
        422,
        "payment_insufficient_funds",
        PAY,
        "Saldo insuficiente",
    );
    assert_eq!(app.available(&ana), 10_000);
    assert_eq!(app.biller_holds("une"), (0, 0));
    let bill = app
        .get_ok("/api/v1/payments/bills/une/400", &ana.token)
        .await?;
    assert_eq!(bill["status"], "open");
    assert!(
        app.sms_to(&ana)
            .await?
            .iter()
            .all(|sms| !sms.contains("une"))
    );

    // Bills are payments to a business: above the person-to-person limit, and not counted in it.
    app.cash_in(ANA.0, "900").await?;
    created(&app.pay(&ana, "une", "400", "largo").await?)?;
    created(&app.pay(&ana, "une", "401", "otro").await?)?;
    let transfer = |amount: &str, key: &str| {
        let body = json!({"to_phone": BETO.0, "currency": "CUP", "amount": amount});
        let key = key.to_owned();
        let token = ana.token.clone();
        let server = &app.server;
        async move {
            post_json_as(
                server,
                "/api/v1/payments/transfers",
                &token,
                Some(&key),
                &body,
            )
            .await
        }
    };
    created(&transfer("100", "p2p-1").await?)?;
    let over = transfer("1", "p2p-2").await?;
    assert_problem(
        &over,
        422,
        "payment_limit_exceeded",
        "/api/v1/payments/transfers",
    );
    assert_eq!(app.available(&ana), 100_000 - 12_550 - 5_000 - 10_000);
    assert_eq!(app.available(&beto), 10_000);

    app.assert_settled(&[&ana, &beto]);
    app.stop().await;
    Ok(())
}

async fn an_administrator_names_the_account_that_operates_a_biller(
    database: TestDatabase,
) -> TestResult {
    let app = Billing::start(&database.db, |_| {}).await?;
    let admin =
        second_factor_token(&app.server, &app.db, "+5352240000", &[Role::Administrator]).await?;
    let gas = second_factor_token(&app.server, &app.db, "+5352240001", &[Role::Biller]).await?;
    let citizen = app.person(ANA, "").await?;
    let path = "/api/v1/billers/gas-manufacturado/operator";
    let put = |token: &str, body: Value| {
        let authorization = format!("Bearer {token}");
        let url = app.server.url(path);
        async move {
            send(
                "PUT",
                &url,
                &[
                    ("authorization", authorization.as_str()),
                    ("content-type", "application/json"),
                ],
                body.to_string().into_bytes(),
            )
            .await
        }
    };
    // Before, the biller's account cannot upload for it.
    let lines = format!("{HEADER}G-1,Ana Pérez García,35,2026-12-15,2026-11\n");
    let early = app
        .upload(&gas, "gas-manufacturado", "text/csv", &lines)
        .await?;
    assert_problem(
        &early,
        403,
        "forbidden",
        "/api/v1/billers/gas-manufacturado/bills",
    );
    // Only an account with the biller role can be named, and only by an administrator.
    let not_a_biller = put(&admin, json!({"phone": ANA.0})).await?;
    assert_refused(
        &not_a_biller,
        422,
        "validation_failed",
        path,
        "rol de emisor",
    );
    let by_citizen = put(&citizen.token, json!({"phone": "+5352240001"})).await?;
    assert_problem(&by_citizen, 403, "forbidden", path);
    let named = put(&admin, json!({"phone": "+53 5224 0001"})).await?;
    assert_eq!(named.status, 200, "{}", named.text());
    assert_eq!(named.json()?["code"], "gas-manufacturado");
    let saved = app
        .upload(&gas, "gas-manufacturado", "text/csv", &lines)
        .await?;
    assert_eq!(saved.status, 201, "{}", saved.text());
    let unknown = put(&admin, json!({"phone": null})).await?;
    assert_eq!(unknown.status, 200);
    let later = app
        .upload(&gas, "gas-manufacturado", "text/csv", &lines)
        .await?;
    assert_problem(
        &later,
        403,
        "forbidden",
        "/api/v1/billers/gas-manufacturado/bills",
    );
    app.stop().await;
    Ok(())
}

async fn the_openapi_document_lists_the_biller_routes(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let document = openapi_document(&server).await?;
    for (path, method) in [
        ("/api/v1/payments/billers", "get"),
        ("/api/v1/payments/bills/{biller}/{reference}", "get"),
        ("/api/v1/payments/bills", "post"),
        ("/api/v1/payments/top-ups", "post"),
        ("/api/v1/billers/{code}/bills", "post"),
        ("/api/v1/billers/{code}/payments", "get"),
        ("/api/v1/billers/{code}/reconciliation", "get"),
        ("/api/v1/billers/{code}/operator", "put"),
    ] {
        assert_bearer_route(&document, path, method, "pagos");
    }
    let upload =
        &document["paths"]["/api/v1/billers/{code}/bills"]["post"]["requestBody"]["content"];
    assert!(upload["text/csv"].is_object(), "{upload}");
    assert!(upload["application/json"].is_object(), "{upload}");
    for code in [
        "payment_biller_unknown",
        "payment_bill_unknown",
        "payment_bill_already_paid",
        "payment_bill_in_progress",
        "payment_biller_refused",
        "payment_reversed",
        "payment_top_up_amount",
        "payment_top_up_account",
        "biller_bills_invalid",
    ] {
        let table = server.get("/api/problems").await?.json()?;
        assert!(
            table
                .as_array()
                .is_some_and(|rows| rows.iter().any(|row| row["code"] == code)),
            "{code} is not in /api/problems"
        );
    }
    Ok(())
}
