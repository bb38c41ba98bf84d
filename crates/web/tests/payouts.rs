//! Bulk payouts over HTTP, on each engine: a file with bad rows is kept with every row's error
//! and never paid; a good file from a bank is paid row by row while its runner is killed again
//! and again, and in the end every row is paid exactly once; a merchant pays from its own
//! account, never more than it holds. The ledger is sound after every scenario.

use ceiba_identity::Role;
use ceiba_payments::{Currency, accounts};
use ceiba_testkit::each_engine;
use ceiba_testkit::http::Response;
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use ceiba_web::{AppState, ServerLimits};
use serde_json::{Value, json};

mod support;
use support::{
    Browser, TestServer, active_user_named, assert_ledger_sound, assert_problem, available_minor,
    cash_in_cup, csrf_of, field_of, ledger_state, pagos_sms_to, post_json_as, second_factor_token,
    signed_in_user,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite:
        a_file_with_bad_rows_is_kept_with_its_errors_and_never_paid,
        every_row_is_paid_once_however_often_the_runner_dies,
        a_merchant_pays_from_its_own_account_never_more_than_it_holds,
        the_page_uploads_checks_pays_and_shows_progress,
    );
    suite.run()
}

const OPERATOR: &str = "+5352228888";

async fn upload(
    server: &TestServer,
    token: &str,
    query: &str,
    file: &str,
) -> Result<Response, String> {
    let authorization = format!("Bearer {token}");
    ceiba_testkit::http::send(
        "POST",
        &server.url(&format!("/api/v1/payouts?{query}")),
        &[
            ("authorization", authorization.as_str()),
            ("content-type", "text/csv; charset=utf-8"),
        ],
        file.as_bytes().to_vec(),
    )
    .await
}

async fn get(server: &TestServer, path: &str, token: &str) -> Result<Response, String> {
    let authorization = format!("Bearer {token}");
    server
        .get_with(path, &[("authorization", authorization.as_str())])
        .await
}

async fn start(server: &TestServer, token: &str, id: &str) -> Result<Response, String> {
    post_json_as(
        server,
        &format!("/api/v1/payouts/{id}/start"),
        token,
        None,
        &json!({}),
    )
    .await
}

/// The result file's lines after its header, as columns.
async fn result_rows(
    server: &TestServer,
    token: &str,
    id: &str,
) -> Result<Vec<Vec<String>>, String> {
    let answer = get(server, &format!("/api/v1/payouts/{id}/result.csv"), token).await?;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let text = answer.text();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "linea",
            "destino",
            "importe",
            "referencia",
            "estado",
            "operacion",
            "motivo"
        ]
    );
    reader
        .records()
        .map(|record| {
            record
                .map(|r| r.iter().map(str::to_owned).collect())
                .map_err(|e| e.to_string())
        })
        .collect()
}

async fn a_file_with_bad_rows_is_kept_with_its_errors_and_never_paid(
    database: TestDatabase,
) -> TestResult {
    let db = &database.db;
    let state = ledger_state(db).await?;
    let engine = state.ledger.clone().ok_or("a ledger")?;
    let server = TestServer::with_state(state, ServerLimits::default()).await?;
    let operator = second_factor_token(&server, db, OPERATOR, &[Role::BankOperator]).await?;
    let (ana_id, ana) =
        signed_in_user(&server, db, "+5352001001", "Ana Pérez", &[Role::Citizen]).await?;
    let linked = post_json_as(
        &server,
        "/api/v1/payments/bank-accounts",
        &ana,
        None,
        &json!({"bank": "BPA", "currency": "CUP", "alias": "Nómina",
            "account_number": "9205 1299 0001 2345"}),
    )
    .await?;
    assert_eq!(linked.status, 201, "{}", linked.text());

    // Refusals of the whole file or the caller: nothing is kept.
    let bad_header = upload(&server, &operator, "source=BPA", "telefono,importe\n").await?;
    assert_problem(&bad_header, 422, "payout_invalid", "/api/v1/payouts");
    let empty = upload(
        &server,
        &operator,
        "source=BPA",
        "destino,importe,referencia\n",
    )
    .await?;
    assert_problem(&empty, 422, "payout_invalid", "/api/v1/payouts");
    let citizen = upload(&server, &ana, "source=BPA", "destino,importe,referencia\n").await?;
    assert_eq!(citizen.status, 403, "{}", citizen.text());
    let json_body = post_json_as(
        &server,
        "/api/v1/payouts?source=BPA",
        &operator,
        None,
        &json!({}),
    )
    .await?;
    assert_eq!(json_body.status, 415, "{}", json_body.text());
    assert_eq!(
        get(&server, "/api/v1/payouts", &operator).await?.json()?,
        json!([])
    );

    let file = "destino,importe,referencia\n\
        +53 5200 1001,100.00,nomina-noviembre\n\
        +5352009999,50,nadie\n\
        +5352001001,cien,mal-importe\n\
        no-es-un-telefono,10,mal-destino\n\
        +5352001001,10,a,de-mas\n\
        +53 5200 1001,100.00,nomina-noviembre\n\
        9205-1299-0001-2345,25,por-cuenta\n\
        9205129900019999,25,cuenta-ajena\n\
        +5352001001,1,=HYPERLINK(\"x\")\n";
    let answer = upload(
        &server,
        &operator,
        "source=BPA&currency=CUP&file_name=nomina.csv",
        file,
    )
    .await?;
    assert_eq!(answer.status, 201, "{}", answer.text());
    let batch = answer.json()?;
    assert_eq!(batch["status"], "invalid", "{batch}");
    assert_eq!(batch["rows"], 9);
    assert_eq!(batch["invalid_rows"], 6, "{batch}");
    let lines: Vec<u64> = batch["errors"]
        .as_array()
        .ok_or("errors")?
        .iter()
        .filter_map(|e| e["line"].as_u64())
        .collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7, 9], "{batch}");
    let text = batch["errors"].to_string();
    for said in [
        "+5352009999",
        "importe",
        "teléfono",
        "4 columnas",
        "repite la línea 2",
        "vinculó",
    ] {
        assert!(text.contains(said), "«{said}» in {text}");
    }
    let id = batch["id"].as_str().ok_or("an id")?.to_owned();

    // Never paid; the result file says why for each row, safe to open in a spreadsheet.
    let refused = start(&server, &operator, &id).await?;
    assert_problem(
        &refused,
        422,
        "payout_invalid",
        &format!("/api/v1/payouts/{id}/start"),
    );
    let rows = result_rows(&server, &operator, &id).await?;
    assert_eq!(rows.len(), 9);
    assert_eq!(rows[0][4], "pendiente");
    assert_eq!(rows[1][4], "invalida");
    assert!(
        rows[1][6].contains("no hay ninguna cuenta activa"),
        "{rows:?}"
    );
    assert_eq!(
        rows[6][4], "pendiente",
        "a linked account's number reaches its owner"
    );
    assert_eq!(rows[8][3], "'=HYPERLINK(\"x\")", "{rows:?}");
    assert_eq!(
        available_minor(&engine, &ana_id, Currency::Cup),
        0,
        "nothing moved"
    );
    let other = get(&server, &format!("/api/v1/payouts/{id}"), &ana).await?;
    assert_eq!(other.status, 404, "another person's batch is not found");
    assert_ledger_sound(&engine);
    engine.stop().await;
    Ok(())
}

async fn every_row_is_paid_once_however_often_the_runner_dies(
    database: TestDatabase,
) -> TestResult {
    const PEOPLE: usize = 40;
    const ROWS_EACH: usize = 25;
    let db = &database.db;
    let state = ledger_state(db).await?;
    let engine = state.ledger.clone().ok_or("a ledger")?;
    let server = TestServer::with_state(state.clone(), ServerLimits::default()).await?;
    let operator = second_factor_token(&server, db, OPERATOR, &[Role::BankOperator]).await?;
    let mut people = Vec::new();
    let mut file = String::from("destino,importe,referencia\n");
    for person in 0..PEOPLE {
        let phone = format!("+53530{person:05}");
        let id =
            active_user_named(db, &phone, &format!("Persona {person}"), &[Role::Citizen]).await?;
        for row in 0..ROWS_EACH {
            file.push_str(&format!(
                "{phone},{}.{:02},ayuda-{person}-{row}\n",
                person + 1,
                row
            ));
        }
        // What each person is owed: (person + 1) pesos and `row` cents per row.
        let owed =
            ((person as u64 + 1) * 100) * ROWS_EACH as u64 + (0..ROWS_EACH as u64).sum::<u64>();
        people.push((id, phone, owed));
    }
    let answer = upload(
        &server,
        &operator,
        "source=BANDEC&file_name=asistencia.csv",
        &file,
    )
    .await?;
    assert_eq!(answer.status, 201, "{}", answer.text());
    let batch = answer.json()?;
    assert_eq!(batch["status"], "ready", "{batch}");
    let id = batch["id"].as_str().ok_or("an id")?.to_owned();
    let total: u64 = people.iter().map(|(_, _, owed)| owed).sum();
    assert_eq!(batch["total_minor"], total);
    let started = start(&server, &operator, &id).await?;
    assert_eq!(started.status, 202, "{}", started.text());
    assert_eq!(started.json()?["status"], "running");
    let again = start(&server, &operator, &id).await?;
    assert_eq!(again.status, 409, "{}", again.text());

    // The runner is killed at random moments, mid-row included, and started again.
    let mut kills = 0;
    for _ in 0..40 {
        let runner_state: AppState = state.clone();
        let stored = db
            .payout_batch(&id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the batch")?;
        let runner = tokio::spawn(async move {
            ceiba_web::payouts::run_batch(&runner_state, &stored, usize::MAX).await
        });
        tokio::time::sleep(std::time::Duration::from_millis(rand::random_range(1..15))).await;
        if runner.is_finished() {
            runner
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("{e:?}"))?;
            break;
        }
        runner.abort();
        let _ = runner.await;
        kills += 1;
        let progress = get(&server, &format!("/api/v1/payouts/{id}"), &operator)
            .await?
            .json()?;
        if progress["waiting_rows"] == 0 {
            break;
        }
    }
    assert!(kills > 0, "the runner was never interrupted");
    // A last, uninterrupted turn finishes what is left.
    let stored = db
        .payout_batch(&id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the batch")?;
    ceiba_web::payouts::run_batch(&state, &stored, usize::MAX)
        .await
        .map_err(|e| format!("{e:?}"))?;

    let refused: Vec<Vec<String>> = result_rows(&server, &operator, &id)
        .await?
        .into_iter()
        .filter(|row| row[4] != "pagada")
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
    let done = get(&server, &format!("/api/v1/payouts/{id}"), &operator)
        .await?
        .json()?;
    assert_eq!(done["status"], "finished", "{done}");
    assert_eq!(done["paid_rows"], (PEOPLE * ROWS_EACH) as u64, "{done}");
    assert_eq!(done["paid_minor"], total);
    for (person, phone, owed) in &people {
        assert_eq!(
            available_minor(&engine, person, Currency::Cup),
            *owed,
            "{phone} got each of its rows once"
        );
    }
    let rows = result_rows(&server, &operator, &id).await?;
    assert!(
        rows.iter()
            .all(|row| row[4] == "pagada" && !row[5].is_empty()),
        "{rows:?}"
    );
    let mut operations: Vec<&String> = rows.iter().map(|row| &row[5]).collect();
    operations.sort();
    operations.dedup();
    assert_eq!(
        operations.len(),
        PEOPLE * ROWS_EACH,
        "one operation per row"
    );
    // The bank paid exactly the file's total.
    let bank = engine
        .read()
        .state
        .account(accounts::bank_settlement(
            ceiba_payments::bank("BANDEC").ok_or("BANDEC")?,
            Currency::Cup,
        ))
        .map(|account| account.balances.debits_posted)
        .ok_or("the bank's account")?;
    assert_eq!(bank, u128::from(total));
    let sms = pagos_sms_to(db, &people[0].1).await?;
    assert!(
        sms.iter()
            .any(|text| text.contains("de BANDEC (ayuda-0-0)")),
        "{sms:?}"
    );
    assert_ledger_sound(&engine);
    engine.stop().await;
    Ok(())
}

async fn a_merchant_pays_from_its_own_account_never_more_than_it_holds(
    database: TestDatabase,
) -> TestResult {
    let db = &database.db;
    let state = ledger_state(db).await?;
    let engine = state.ledger.clone().ok_or("a ledger")?;
    let server = TestServer::with_state(state.clone(), ServerLimits::default()).await?;
    let operator = second_factor_token(&server, db, OPERATOR, &[Role::BankOperator]).await?;
    let admin = second_factor_token(&server, db, "+5352229999", &[Role::Administrator]).await?;
    let (_, owner) =
        signed_in_user(&server, db, "+5352001001", "Ana Pérez", &[Role::Citizen]).await?;
    let (_, buyer) =
        signed_in_user(&server, db, "+5352001002", "Beto Díaz", &[Role::Citizen]).await?;
    let worker = active_user_named(db, "+5352001003", "Carla Ruiz", &[Role::Citizen]).await?;
    let merchant =
        apply_for_merchant(&server, &owner, "Cafetería Las Tres Jotas", "01234567890").await?;
    let unapproved = upload(
        &server,
        &owner,
        &format!("source={merchant}"),
        "destino,importe,referencia\n+5352001003,1,x\n",
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
    // The cafeteria earns 100 pesos.
    customer_pays(
        &server,
        db,
        &operator,
        &owner,
        &merchant,
        "+5352001004",
        "100",
    )
    .await?;

    // Someone else's merchant is no source; a payroll over what it holds is not started.
    let foreign = upload(
        &server,
        &buyer,
        &format!("source={merchant}"),
        "destino,importe,referencia\n+5352001003,1,x\n",
    )
    .await?;
    assert_eq!(foreign.status, 422, "{}", foreign.text());
    let too_much = upload(
        &server,
        &owner,
        &format!("source={merchant}"),
        "destino,importe,referencia\n+5352001003,150,nomina\n",
    )
    .await?
    .json()?;
    assert_eq!(too_much["status"], "ready", "{too_much}");
    let refused = start(&server, &owner, too_much["id"].as_str().ok_or("an id")?).await?;
    assert_eq!(refused.status, 422, "{}", refused.text());
    let payroll = upload(
        &server,
        &owner,
        &format!("source={merchant}"),
        "destino,importe,referencia\n+5352001003,60,nomina-noviembre\n",
    )
    .await?
    .json()?;
    let id = payroll["id"].as_str().ok_or("an id")?.to_owned();
    assert_eq!(start(&server, &owner, &id).await?.status, 202);
    let report = ceiba_web::payouts::run_due(&state, 100)
        .await
        .map_err(|e| format!("{e:?}"))?;
    assert_eq!((report.paid, report.finished), (1, 1), "{report:?}");
    assert_eq!(available_minor(&engine, &worker, Currency::Cup), 6_000);
    let left = engine
        .read()
        .state
        .account(accounts::merchant(&merchant, Currency::Cup))
        .map(|account| account.balances.credits_posted - account.balances.debits_posted)
        .ok_or("the merchant's account")?;
    assert_eq!(
        left, 4_000,
        "the payroll came out of the merchant's account"
    );
    let sms = pagos_sms_to(db, "+5352001003").await?;
    assert!(
        sms.iter()
            .any(|text| text.contains("recibio 60.00 CUP de Cafetería Las Tres Jotas")),
        "{sms:?}"
    );
    let listed: Value = get(&server, "/api/v1/payouts", &owner).await?.json()?;
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    assert_ledger_sound(&engine);
    engine.stop().await;
    Ok(())
}

/// A `multipart/form-data` body of text fields and one file, in this order.
fn multipart(fields: &[(&str, &str)], file: &str) -> (String, Vec<u8>) {
    let boundary = "----ceiba-prueba-7MA4YWxkTrZu0gW";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"archivo\"; \
         filename=\"nomina.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
    ));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

async fn post_multipart(
    browser: &mut Browser<'_>,
    fields: &[(&str, &str)],
    file: &str,
) -> Result<Response, String> {
    let (content_type, body) = multipart(fields, file);
    let cookie = browser.cookie_header();
    let response = ceiba_testkit::http::send(
        "POST",
        &browser.server.url("/pagos/masivos"),
        &[
            ("cookie", cookie.as_str()),
            ("content-type", content_type.as_str()),
        ],
        body,
    )
    .await?;
    browser.remember(&response);
    Ok(response)
}

async fn the_page_uploads_checks_pays_and_shows_progress(database: TestDatabase) -> TestResult {
    let db = &database.db;
    let state = ledger_state(db).await?;
    let engine = state.ledger.clone().ok_or("a ledger")?;
    let server = TestServer::with_state(state.clone(), ServerLimits::default()).await?;
    let operator = second_factor_token(&server, db, OPERATOR, &[Role::BankOperator]).await?;
    let admin = second_factor_token(&server, db, "+5352229999", &[Role::Administrator]).await?;
    let (_, owner) =
        signed_in_user(&server, db, "+5352001001", "Ana Pérez", &[Role::Citizen]).await?;
    let worker = active_user_named(db, "+5352001003", "Carla Ruiz", &[Role::Citizen]).await?;
    let merchant = apply_for_merchant(&server, &owner, "Taller El Tornillo", "01234567891").await?;
    post_json_as(
        &server,
        &format!("/api/v1/admin/merchants/{merchant}/approve"),
        &admin,
        None,
        &json!({}),
    )
    .await?;
    // The workshop's account gets money from a customer's payment.
    customer_pays(
        &server,
        db,
        &operator,
        &owner,
        &merchant,
        "+5352001004",
        "200",
    )
    .await?;

    let mut browser = Browser::new(&server);
    support::sign_in_by_form(&mut browser, "+5352001001").await?;
    let shown = browser.get("/pagos/masivos").await?;
    assert_eq!(shown.status, 200, "{}", shown.text());
    let page = shown.text();
    assert!(
        page.contains("Taller El Tornillo"),
        "the merchant is a source: {page}"
    );
    assert!(
        !page.contains(r#"value="BPA""#),
        "a merchant owner pays from no bank"
    );
    let csrf = csrf_of(&page).ok_or("a _csrf")?;

    // Without the session's _csrf first, nothing is read.
    let forged = post_multipart(
        &mut browser,
        &[("origen", &merchant)],
        "destino,importe,referencia\n+5352001003,1,x\n",
    )
    .await?;
    assert_eq!(forged.status, 403, "{}", forged.text());
    // A file with a bad row: its errors are listed, and it has no pay button.
    let bad = post_multipart(
        &mut browser,
        &[("_csrf", &csrf), ("origen", &merchant), ("moneda", "CUP")],
        "destino,importe,referencia\n+5352001003,50,nomina\n+5352007777,10,nadie\n",
    )
    .await?;
    assert_eq!(bad.status, 303, "{}", bad.text());
    let location = bad.header("location").ok_or("a location")?.to_owned();
    let page = browser.get(&location).await?.text();
    assert!(page.contains(r#"id="errores""#), "{page}");
    assert!(page.contains("+5352007777"), "{page}");
    assert!(page.contains(r#"data-estado="invalid""#), "{page}");
    assert!(
        !page.contains("pagar-pm_"),
        "an invalid batch cannot be paid: {page}"
    );
    // A good one: checked, paid by the button, its progress shown.
    let good = post_multipart(
        &mut browser,
        &[("_csrf", &csrf), ("origen", &merchant), ("moneda", "CUP")],
        "destino,importe,referencia\n+5352001003,120,nomina-noviembre\n",
    )
    .await?;
    assert_eq!(good.status, 303, "{}", good.text());
    let page = browser.get("/pagos/masivos").await?.text();
    let batch = page
        .split(r#"name="lote" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or(format!("no pay button: {page}"))?
        .to_owned();
    let started = browser
        .post(
            "/pagos/masivos/pagar",
            &[("_csrf", &csrf), ("lote", &batch)],
        )
        .await?;
    support::assert_redirect(&started, "/pagos/masivos");
    let running = browser.get("/pagos/masivos").await?.text();
    assert!(running.contains(r#"http-equiv="refresh""#), "{running}");
    ceiba_web::payouts::run_due(&state, 100)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let done = browser.get("/pagos/masivos").await?.text();
    assert!(
        done.contains(&format!(r#"id="lote-{batch}" data-estado="finished""#)),
        "{done}"
    );
    assert!(done.contains(r#"<progress max="1" value="1">"#), "{done}");
    assert!(!done.contains(r#"http-equiv="refresh""#), "{done}");
    assert_eq!(available_minor(&engine, &worker, Currency::Cup), 12_000);
    let result = browser
        .get(&format!("/api/v1/payouts/{batch}/result.csv"))
        .await?;
    assert!(result.text().contains(",pagada,"), "{}", result.text());
    assert!(field_of(&done, "_csrf").is_some());
    assert_ledger_sound(&engine);
    engine.stop().await;
    Ok(())
}

/// `owner`'s application for a merchant (pending); its id.
async fn apply_for_merchant(
    server: &TestServer,
    owner: &str,
    name: &str,
    nit: &str,
) -> Result<String, String> {
    let applied = post_json_as(
        server,
        "/api/v1/merchants",
        owner,
        None,
        &json!({"business_name": name, "nit": nit, "category_code": "5814", "city": "Santa Clara",
            "settlement": {"bank": "BPA", "currency": "CUP", "account_number": "9205129900012345"}}),
    )
    .await?
    .json()?;
    Ok(applied["id"].as_str().ok_or("a merchant")?.to_owned())
}

/// A new customer (`phone`, given money by the bank) pays `amount` to `merchant` by QR.
async fn customer_pays(
    server: &TestServer,
    db: &ceiba_store::Db,
    operator: &str,
    owner: &str,
    merchant: &str,
    phone: &str,
    amount: &str,
) -> Result<(), String> {
    let (_, customer) = signed_in_user(server, db, phone, "Dora Gil", &[Role::Citizen]).await?;
    cash_in_cup(server, operator, phone, "500", &format!("fondos-{phone}")).await?;
    let code = post_json_as(
        server,
        &format!("/api/v1/merchants/{merchant}/qr-codes"),
        owner,
        None,
        &json!({"amount": amount}),
    )
    .await?
    .json()?;
    let paid = post_json_as(
        server,
        "/api/v1/payments/qr",
        &customer,
        Some(&format!("pago-{phone}")),
        &json!({"payload": code["payload"]}),
    )
    .await?;
    assert_eq!(paid.status, 201, "{}", paid.text());
    Ok(())
}
