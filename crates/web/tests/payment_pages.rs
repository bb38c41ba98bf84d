//! The Pagos pages over HTTP, on each engine, as a browser without JavaScript uses them:
//! balances and the last operations, sending money in three steps (form, confirmation with the
//! recipient's name, receipt), refusals that keep what was typed and move nothing, bills and
//! top-ups, the printable statement and receipts; a double submit or a reload moves money once;
//! forms without the session's anti-CSRF token are refused; every page stays small.

use std::sync::Arc;

use ceiba_identity::Role;
use ceiba_payments::{Currency, CurrencyLimits, Limits};
use ceiba_store::{Db, InsertBills, LedgerEngine, NewBill, OperationStatus};
use ceiba_testkit::each_engine;
use ceiba_testkit::http::{Response, send};
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use ceiba_web::ServerLimits;
use ceiba_web::bills::BuiltInConnector;
use ceiba_web::payments::PaymentSettings;
use serde_json::json;

mod support;
use support::{
    Browser, TestServer, active_user_named, assert_ledger_sound, assert_redirect, available_minor,
    cash_in_cup, csrf_of, error_of, field_of, ledger_state, post_json_as, second_factor_token,
    sign_in_by_form, unescape_html,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite:
        money_is_sent_in_three_steps_and_once_per_form,
        refused_transfers_keep_what_was_typed_and_move_nothing,
        forms_without_the_session_token_move_nothing,
        bills_are_looked_up_and_paid_once_through_the_pages,
        top_ups_through_the_pages,
        bank_accounts_are_linked_used_and_unlinked_through_the_pages,
        a_merchant_charges_with_a_qr_code_and_sees_it_paid,
        requests_to_pay_are_paid_or_declined_through_the_pages,
        the_statement_prints_a_period_and_links_its_csv,
        pagos_pages_are_small_script_free_and_never_stored,
    );
    suite.run()
}

const BANK_PHONE: &str = "+5352220000";
const ANA: (&str, &str) = ("+53 5200 1001", "Ana Pérez");
const BETO: (&str, &str) = ("+53 5200 1002", "Roberto Díaz");
const CARLA: (&str, &str) = ("+53 5200 1003", "Carla Gómez");

/// A served app with a running ledger, a bank operator to fund wallets, and people.
struct Pagos {
    server: TestServer,
    engine: LedgerEngine,
    db: Db,
    bank: String,
    /// The built-in billers, with their switch (offline, refusing).
    connector: Arc<BuiltInConnector>,
}

impl Pagos {
    async fn start(db: &Db) -> Result<Pagos, String> {
        Pagos::with_settings(db, |_| {}).await
    }

    async fn with_settings(
        db: &Db,
        configure: impl FnOnce(&mut PaymentSettings),
    ) -> Result<Pagos, String> {
        let mut state = ledger_state(db).await?;
        let mut settings = PaymentSettings::standard([7; 32]);
        configure(&mut settings);
        state.payments = Arc::new(settings);
        let connector = Arc::new(BuiltInConnector::new());
        state.biller_connector = connector.clone();
        let engine = state.ledger.clone().ok_or("the state has no ledger")?;
        let server = TestServer::with_state(state, ServerLimits::default())
            .await
            .map_err(|e| e.to_string())?;
        let bank = second_factor_token(&server, db, BANK_PHONE, &[Role::BankOperator]).await?;
        Ok(Pagos {
            server,
            engine,
            db: db.clone(),
            bank,
            connector,
        })
    }

    /// A citizen with `cup` pesos cashed in (none when empty); returns the account id.
    async fn person(&self, (phone, name): (&str, &str), cup: &str) -> Result<String, String> {
        let id = active_user_named(&self.db, phone, name, &[Role::Citizen]).await?;
        if !cup.is_empty() {
            let key = format!("cash-{}", rand::random::<u64>());
            cash_in_cup(&self.server, &self.bank, phone, cup, &key).await?;
        }
        Ok(id)
    }

    /// A browser signed in as `phone` through the sign-in form.
    async fn browser(&self, phone: &str) -> Result<Browser<'_>, String> {
        let mut browser = Browser::new(&self.server);
        assert_redirect(&sign_in_by_form(&mut browser, phone).await?, "/cuenta");
        Ok(browser)
    }

    fn cup(&self, user_id: &str) -> u64 {
        available_minor(&self.engine, user_id, Currency::Cup)
    }

    async fn operations_of(&self, user_id: &str) -> Result<Vec<ceiba_store::OperationRow>, String> {
        self.db
            .payment_operations_of(user_id, 0, i64::MAX, None, 500)
            .await
            .map_err(|e| e.to_string())
    }

    /// The operations `user_id` started (what they sent or paid).
    async fn sent_by(&self, user_id: &str) -> Result<Vec<ceiba_store::OperationRow>, String> {
        let mut rows = self.operations_of(user_id).await?;
        rows.retain(|row| row.user_id == user_id);
        Ok(rows)
    }

    async fn stop(mut self) {
        assert_ledger_sound(&self.engine);
        self.server.shut_down();
        self.engine.stop().await;
    }
}

/// Sends the form of `page` whose action is `action` with its own hidden fields (the session's
/// `_csrf`, the idempotency `clave` …) and nothing else, as pressing its button does.
async fn press(browser: &mut Browser<'_>, page: &str, action: &str) -> Result<Response, String> {
    let fields = hidden_fields(page, action).ok_or(format!("no form to {action}: {page}"))?;
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    browser.post(action, &fields).await
}

/// Loads `path` and sends its form to `action` with `fields` typed in, as a person does: the
/// form's own hidden fields (`_csrf`, the idempotency `clave`) go with them.
async fn submit(
    browser: &mut Browser<'_>,
    path: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> Result<Response, String> {
    let page = browser.get(path).await?.text();
    let mut all = hidden_fields(&page, action).ok_or(format!("no form to {action}: {page}"))?;
    all.extend(
        fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
    );
    let all: Vec<(&str, &str)> = all
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    browser.post(action, &all).await
}

/// The hidden fields of the form posting to `action`.
fn hidden_fields(page: &str, action: &str) -> Option<Vec<(String, String)>> {
    let start = page.find(&format!(r#"method="post" action="{action}""#))?;
    let end = page[start..].find("</form>")? + start;
    let form = &page[start..end];
    Some(
        form.match_indices(r#"<input type="hidden" name=""#)
            .filter_map(|(at, marker)| {
                let rest = &form[at + marker.len()..];
                let (name, rest) = rest.split_once('"')?;
                let value = rest.strip_prefix(r#" value=""#)?.split('"').next()?;
                Some((name.to_owned(), unescape_html(value)))
            })
            .collect(),
    )
}

/// A form body of `fields`, as a browser encodes it.
fn form_body(fields: &[(String, String)]) -> String {
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    support::form(&fields)
}

/// The text of the element with `id` (its first text, up to the next tag).
fn text_of<'a>(page: &'a str, id: &str) -> Option<&'a str> {
    let at = page.find(&format!(r#"id="{id}""#))?;
    let start = page[at..].find('>')? + at + 1;
    let end = page[start..].find('<')? + start;
    Some(&page[start..end])
}

/// The operation id a 303 to a receipt names.
fn receipt_id(response: &Response) -> Result<String, String> {
    assert_eq!(response.status, 303, "{}", response.text());
    response
        .header("location")
        .and_then(|location| location.strip_prefix("/pagos/recibos/"))
        .map(str::to_owned)
        .ok_or_else(|| format!("not a receipt: {response:?}"))
}

async fn money_is_sent_in_three_steps_and_once_per_form(database: TestDatabase) -> TestResult {
    let app = Pagos::start(&database.db).await?;
    let ana = app.person(ANA, "1000").await?;
    let beto = app.person(BETO, "").await?;
    app.person(CARLA, "").await?;
    let mut browser = app.browser(ANA.0).await?;

    // The Pagos page: balances, the deposit, and the way to each page.
    let home = browser.get("/pagos").await?;
    assert_eq!(home.status, 200, "{}", home.text());
    let page = home.text();
    for expected in [
        "<strong>1.000,00 CUP</strong>",
        "<strong>0,00 USD</strong>",
        "Depósito · BPA",
        "+1.000,00 CUP",
        r#"href="/pagos/enviar""#,
        r#"href="/pagos/facturas""#,
        r#"href="/pagos/recargas""#,
        r#"href="/pagos/extracto""#,
        r#"<a id="enlace-pagos" href="/pagos">Pagos</a>"#,
    ] {
        assert!(page.contains(expected), "{expected} missing: {page}");
    }

    // Step 1 → step 2: the recipient's name and the amount, and nothing moved yet.
    let form = browser.get("/pagos/enviar").await?.text();
    let csrf = csrf_of(&form).ok_or("no _csrf")?;
    let checked = browser
        .post(
            "/pagos/enviar",
            &[
                ("telefono", "5200 1002"),
                ("moneda", "CUP"),
                ("importe", "150,50"),
                ("nota", "Para el almuerzo"),
                ("_csrf", &csrf),
            ],
        )
        .await?;
    assert_eq!(checked.status, 200, "{}", checked.text());
    let confirm = checked.text();
    assert!(
        confirm.contains("<h1>Compruebe antes de enviar</h1>"),
        "{confirm}"
    );
    assert_eq!(text_of(&confirm, "destinatario"), Some("Roberto Díaz"));
    assert!(confirm.contains("(+53 5200 1002)"), "{confirm}");
    assert_eq!(text_of(&confirm, "importe"), Some("150,50 CUP"));
    assert_eq!(text_of(&confirm, "nota"), Some("Para el almuerzo"));
    let key = field_of(&confirm, "clave").ok_or("no idempotency key")?;
    assert!(key.starts_with("web-"), "{key}");
    assert_eq!(app.cup(&ana), 100_000, "nothing moves before confirming");
    assert_eq!(app.sent_by(&ana).await?.len(), 0);

    // A second look at the same form draws another key: two forms are two transfers.
    let again = browser
        .post(
            "/pagos/enviar",
            &[
                ("telefono", "5200 1002"),
                ("moneda", "CUP"),
                ("importe", "150,50"),
                ("nota", "Para el almuerzo"),
                ("_csrf", &csrf),
            ],
        )
        .await?
        .text();
    assert_ne!(field_of(&again, "clave"), Some(key.clone()));

    // Step 3: sent, and the answer is the receipt. Pressing twice (or reloading the answer)
    // sends the same form again: the same operation, money moved once.
    let sent = press(&mut browser, &confirm, "/pagos/enviar/confirmar").await?;
    let id = receipt_id(&sent)?;
    let resent = press(&mut browser, &confirm, "/pagos/enviar/confirmar").await?;
    assert_eq!(receipt_id(&resent)?, id, "a double submit is one operation");
    assert_eq!(app.cup(&ana), 100_000 - 15_050);
    assert_eq!(app.cup(&beto), 15_050);
    let sent_rows: Vec<_> = app
        .operations_of(&ana)
        .await?
        .into_iter()
        .filter(|row| row.kind == "person_to_person")
        .collect();
    assert_eq!(sent_rows.len(), 1, "{sent_rows:?}");
    let row = &sent_rows[0];
    assert_eq!(row.status, OperationStatus::Completed);
    assert_eq!(row.idempotency_key.as_deref(), Some(key.as_str()));

    // The receipt: amount, recipient, date, receipt code, the balance after; printable.
    let receipt = browser.get(&format!("/pagos/recibos/{id}")).await?;
    assert_eq!(receipt.status, 200, "{}", receipt.text());
    let page = receipt.text();
    assert!(page.contains("<h1>Recibo</h1>"), "{page}");
    assert_eq!(text_of(&page, "tipo"), Some("Transferencia"));
    assert_eq!(text_of(&page, "de"), Some("Ana Pérez"));
    assert_eq!(text_of(&page, "para"), Some("Roberto Díaz"));
    assert_eq!(text_of(&page, "importe"), Some("150,50 CUP"));
    assert_eq!(text_of(&page, "saldo"), Some("849,50 CUP"));
    assert_eq!(text_of(&page, "estado"), Some("Completada"));
    assert_eq!(text_of(&page, "operacion"), Some(id.as_str()));
    let code = row.receipt_code.clone().ok_or("no receipt code")?;
    assert_eq!(text_of(&page, "codigo"), Some(code.as_str()));
    assert!(
        text_of(&page, "fecha").is_some_and(|date| date.len() == 16),
        "{page}"
    );
    assert!(page.contains(r#"class="nota no-imprimir""#), "{page}");
    // The verification code checks out at the public address the receipt names.
    let verified = app
        .server
        .get(&format!(
            "/api/v1/payments/receipts?operation={id}&code={code}"
        ))
        .await?
        .json()?;
    assert_eq!(verified["genuine"], true, "{verified}");

    // Later sends with the balance moving on do not change what this receipt says.
    let later = browser
        .fill(
            "/pagos/enviar",
            "/pagos/enviar",
            &[("telefono", BETO.0), ("moneda", "CUP"), ("importe", "10")],
        )
        .await?
        .text();
    // Pressed many times at once (a shaky link, an impatient thumb): one operation.
    let fields = hidden_fields(&later, "/pagos/enviar/confirmar").ok_or("no form")?;
    let body = form_body(&fields);
    let cookie = browser.cookie_header();
    let url = app.server.url("/pagos/enviar/confirmar");
    let mut copies = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (url, cookie, body) = (url.clone(), cookie.clone(), body.clone());
        copies.spawn(async move {
            let headers = [
                ("cookie", cookie.as_str()),
                ("content-type", "application/x-www-form-urlencoded"),
            ];
            send("POST", &url, &headers, body.into_bytes()).await
        });
    }
    let mut ids = Vec::new();
    while let Some(answer) = copies.join_next().await {
        ids.push(receipt_id(&answer??)?);
    }
    ids.dedup();
    assert_eq!(
        ids.len(),
        1,
        "the copies made different operations: {ids:?}"
    );
    assert_eq!(app.cup(&ana), 100_000 - 15_050 - 1_000);
    assert_eq!(app.sent_by(&ana).await?.len(), 2);
    let page = browser.get(&format!("/pagos/recibos/{id}")).await?.text();
    assert_eq!(text_of(&page, "saldo"), Some("849,50 CUP"));

    // The recipient sees it too, from the payer, with their own balance after; nobody else does.
    let mut beto_browser = app.browser(BETO.0).await?;
    let theirs = beto_browser
        .get(&format!("/pagos/recibos/{id}"))
        .await?
        .text();
    assert_eq!(text_of(&theirs, "de"), Some("Ana Pérez"));
    assert_eq!(text_of(&theirs, "saldo"), Some("150,50 CUP"));
    let home = beto_browser.get("/pagos").await?.text();
    assert!(home.contains("Transferencia · Ana Pérez"), "{home}");
    assert!(home.contains("+150,50 CUP"), "{home}");
    let mut carla = app.browser(CARLA.0).await?;
    assert_eq!(
        carla.get(&format!("/pagos/recibos/{id}")).await?.status,
        404
    );
    assert_eq!(carla.get("/pagos/recibos/123").await?.status, 404);
    app.stop().await;
    Ok(())
}

async fn refused_transfers_keep_what_was_typed_and_move_nothing(
    database: TestDatabase,
) -> TestResult {
    // The Central Bank's daily limit, made small: 600 CUP a day.
    let app = Pagos::with_settings(&database.db, |settings| {
        settings.limits = Limits::central_bank().with(
            Currency::Cup,
            CurrencyLimits {
                daily_minor: 60_000,
                monthly_minor: 120_000,
            },
        );
    })
    .await?;
    let ana = app.person(ANA, "1000").await?;
    app.person(BETO, "").await?;
    let mut browser = app.browser(ANA.0).await?;

    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "+53 5999 0000",
            "CUP",
            "10",
            "No hay ninguna cuenta activa con ese número de teléfono (+5359990000).",
        ),
        (
            "5200 1001",
            "CUP",
            "10",
            "No puede enviarse dinero a sí mismo: ese número es el suyo.",
        ),
        ("+1 555 0100", "CUP", "10", "El número no es cubano"),
        (BETO.0, "CUP", "0", "El importe debe ser mayor que cero."),
        (BETO.0, "CUP", "-5", "El importe no puede ser negativo."),
        (
            BETO.0,
            "CUP",
            "12,345",
            "El importe admite como mucho dos decimales",
        ),
        (BETO.0, "EUR", "10", "La moneda"),
        (
            BETO.0,
            "CUP",
            "700",
            "Supera el límite diario del Banco Central (600,00 CUP); le quedan 600,00 CUP hoy.",
        ),
        (
            BETO.0,
            "USD",
            "5",
            "Saldo insuficiente: tiene 0,00 USD disponibles y hacen falta 5,00 USD.",
        ),
    ];
    for (phone, currency, amount, sentence) in cases {
        let response = browser
            .fill(
                "/pagos/enviar",
                "/pagos/enviar",
                &[
                    ("telefono", phone),
                    ("moneda", currency),
                    ("importe", amount),
                    ("nota", "<b>hola</b>"),
                ],
            )
            .await?;
        assert_eq!(response.status, 200, "{}", response.text());
        let page = response.text();
        let error = error_of(&page).ok_or(format!("no sentence for {amount}: {page}"))?;
        assert!(error.starts_with(sentence), "{error}");
        assert!(page.contains("<h1>Enviar dinero</h1>"), "{page}");
        assert!(page.contains(&format!(r#"value="{phone}""#)), "{page}");
        assert!(page.contains(&format!(r#"value="{amount}""#)), "{page}");
        assert!(
            page.contains(r#"value="&#60;b&#62;hola&#60;/b&#62;""#),
            "{page}"
        );
        assert!(!page.contains(r#"name="clave""#), "no money form: {page}");
    }

    // Refused at the last step: the balance went elsewhere between the check and the send.
    let confirm = browser
        .fill(
            "/pagos/enviar",
            "/pagos/enviar",
            &[("telefono", BETO.0), ("moneda", "CUP"), ("importe", "500")],
        )
        .await?
        .text();
    assert_eq!(text_of(&confirm, "destinatario"), Some("Roberto Díaz"));
    let drained = post_json_as(
        &app.server,
        "/api/v1/payments/cash-out",
        &app.bank,
        Some("en-la-ventanilla"),
        &json!({"phone": ANA.0, "bank": "BPA", "currency": "CUP", "amount": "600"}),
    )
    .await?;
    assert_eq!(drained.status, 201, "{}", drained.text());
    let refused = press(&mut browser, &confirm, "/pagos/enviar/confirmar").await?;
    assert_eq!(refused.status, 200, "{}", refused.text());
    let page = refused.text();
    assert_eq!(
        error_of(&page),
        Some("Saldo insuficiente: la billetera no tiene el importe más la comisión."),
        "{page}"
    );
    assert!(page.contains(r#"value="500""#), "{page}");
    assert_eq!(app.cup(&ana), 40_000, "only the cash-out moved money");

    // In English, the same refusals in general terms.
    browser.accept_language = "en";
    let page = browser
        .fill(
            "/pagos/enviar",
            "/pagos/enviar",
            &[
                ("telefono", "+53 5999 0000"),
                ("moneda", "CUP"),
                ("importe", "1"),
            ],
        )
        .await?
        .text();
    assert!(page.contains(r#"<html lang="en">"#), "{page}");
    assert_eq!(
        error_of(&page),
        Some("No active account has that phone number.")
    );
    // Which limit and what is left of it, in English too.
    let page = browser
        .fill(
            "/pagos/enviar",
            "/pagos/enviar",
            &[("telefono", BETO.0), ("moneda", "CUP"), ("importe", "700")],
        )
        .await?
        .text();
    assert_eq!(
        error_of(&page).map(unescape_html).as_deref(),
        Some("Over the Central Bank's daily limit (600.00 CUP); 600.00 CUP left today."),
        "{page}"
    );
    // And when the limit is reached between the confirmation and the send.
    let confirm = browser
        .fill(
            "/pagos/enviar",
            "/pagos/enviar",
            &[("telefono", BETO.0), ("moneda", "CUP"), ("importe", "300")],
        )
        .await?
        .text();
    let token = signed_in_user_token(&app, ANA.0).await?;
    let sent = post_json_as(
        &app.server,
        "/api/v1/payments/transfers",
        &token,
        Some("entretanto"),
        &json!({"to_phone": BETO.0, "currency": "CUP", "amount": "350"}),
    )
    .await?;
    assert_eq!(sent.status, 201, "{}", sent.text());
    let refused = press(&mut browser, &confirm, "/pagos/enviar/confirmar").await?;
    let page = refused.text();
    assert_eq!(
        error_of(&page).map(unescape_html).as_deref(),
        Some("Over the Central Bank's daily limit (600.00 CUP); 250.00 CUP left today."),
        "{page}"
    );
    app.stop().await;
    Ok(())
}

/// A bearer token of `phone`'s account, for a request the test makes over the API.
async fn signed_in_user_token(app: &Pagos, phone: &str) -> Result<String, String> {
    let response = support::sign_in(&app.server, phone, support::PASSWORD, None).await?;
    Ok(support::token_of(&response).await?.0)
}

/// Another site can make the browser post the forms with the session cookie, never with the
/// session's token: nothing moves. A page without a session sends to the sign-in form.
async fn forms_without_the_session_token_move_nothing(database: TestDatabase) -> TestResult {
    let app = Pagos::start(&database.db).await?;
    let ana = app.person(ANA, "1000").await?;
    let beto = app.person(BETO, "").await?;
    insert_bill(&app.db, "F-2026-0001", 24_530).await?;

    let anonymous = app.server.get("/pagos").await?;
    assert_redirect(&anonymous, "/cuenta/entrar");
    assert_eq!(anonymous.header("cache-control"), Some("no-store"));
    for path in [
        "/pagos/enviar",
        "/pagos/facturas",
        "/pagos/recargas",
        "/pagos/extracto",
        "/pagos/cuentas",
        "/pagos/qr",
        "/comercio",
        "/pagos/solicitudes",
        "/pagos/recibos/1",
    ] {
        assert_redirect(&app.server.get(path).await?, "/cuenta/entrar");
    }

    let mut browser = app.browser(ANA.0).await?;
    let confirm = browser
        .fill(
            "/pagos/enviar",
            "/pagos/enviar",
            &[("telefono", BETO.0), ("moneda", "CUP"), ("importe", "100")],
        )
        .await?
        .text();
    let key = field_of(&confirm, "clave").ok_or("no key")?;
    let csrf = csrf_of(&confirm).ok_or("no csrf")?;
    let send = [
        ("telefono", BETO.0),
        ("moneda", "CUP"),
        ("importe", "100"),
        ("clave", key.as_str()),
    ];
    let bill = [
        ("emisor", "une"),
        ("referencia", "F-2026-0001"),
        ("clave", "web-otra"),
    ];
    let top_up = [
        ("servicio", "movil"),
        ("cuenta", BETO.0),
        ("importe", "100"),
        ("clave", "web-otra-mas"),
    ];
    let link = [
        ("banco", "BPA"),
        ("moneda", "CUP"),
        ("alias", "Ahorros"),
        ("numero", "1234567890123456"),
    ];
    let deposit = [
        ("cuenta", "1"),
        ("sentido", "depositar"),
        ("importe", "100"),
        ("clave", "web-y-otra"),
    ];
    let unlink = [("cuenta", "1")];
    let charge = [("comercio", "1"), ("importe", "10")];
    let qr = [("codigo", "000201"), ("clave", "web-qr")];
    let forms: [(&str, &[(&str, &str)]); 10] = [
        ("/pagos/enviar/confirmar", &send),
        ("/pagos/facturas/pagar", &bill),
        ("/pagos/recargas", &top_up),
        ("/pagos/enviar", &send),
        ("/pagos/cuentas", &link),
        ("/pagos/cuentas/mover", &deposit),
        ("/pagos/cuentas/desvincular", &unlink),
        ("/comercio/cobrar", &charge),
        ("/pagos/qr", &qr),
        ("/pagos/qr/confirmar", &qr),
    ];
    for (action, fields) in forms {
        for token in [None, Some(""), Some("no-es-el-token"), Some(&csrf[..42])] {
            let mut all = fields.to_vec();
            all.extend(token.map(|token| ("_csrf", token)));
            let response = browser.post(action, &all).await?;
            assert_eq!(
                response.status,
                403,
                "{action} {token:?}: {}",
                response.text()
            );
            assert!(
                response
                    .text()
                    .contains("El formulario caducó o no se envió desde Ceiba"),
                "{}",
                response.text()
            );
        }
    }
    // A money form without its key was not made by these pages.
    let keyless = browser
        .post(
            "/pagos/enviar/confirmar",
            &[
                ("telefono", BETO.0),
                ("moneda", "CUP"),
                ("importe", "100"),
                ("_csrf", &csrf),
            ],
        )
        .await?;
    assert_eq!(keyless.status, 400, "{}", keyless.text());
    assert_eq!(app.cup(&ana), 100_000);
    assert_eq!(app.cup(&beto), 0);
    assert_eq!(app.sent_by(&ana).await?.len(), 0);
    assert!(
        app.db
            .bank_accounts_of(&ana)
            .await
            .map_err(|e| e.to_string())?
            .is_empty(),
        "no account was linked by a forged form"
    );
    app.stop().await;
    Ok(())
}

async fn insert_bill(db: &Db, reference: &str, amount_minor: u64) -> Result<(), String> {
    let inserted = db
        .insert_bills(
            "une",
            &[NewBill {
                reference,
                customer_name: "Ana Pérez Gómez",
                amount_minor,
                currency: "CUP",
                due_date: "2026-12-31",
                period: "noviembre de 2026",
            }],
            0,
        )
        .await
        .map_err(|e| e.to_string())?;
    if inserted != InsertBills::Inserted(1) {
        return Err(format!("{inserted:?}"));
    }
    Ok(())
}

async fn bills_are_looked_up_and_paid_once_through_the_pages(database: TestDatabase) -> TestResult {
    let app = Pagos::start(&database.db).await?;
    let ana = app.person(ANA, "1000").await?;
    insert_bill(&app.db, "F-2026-0001", 24_530).await?;
    insert_bill(&app.db, "F-2026-0002", 200_000).await?;
    let mut browser = app.browser(ANA.0).await?;

    // The billers people pay by reference; the telecom operator's top-ups have their own page.
    let form = browser.get("/pagos/facturas").await?.text();
    assert!(form.contains(r#"<option value="une""#), "{form}");
    assert!(!form.contains("etecsa-movil"), "{form}");
    assert!(
        !form.contains(r#"name="clave""#),
        "no bill, no money form: {form}"
    );

    // An unknown reference: a sentence, the reference kept.
    let unknown = browser
        .get("/pagos/facturas?emisor=une&referencia=F-2026-9999")
        .await?
        .text();
    assert!(
        error_of(&unknown).is_some_and(|error| error.contains("ninguna factura «F-2026-9999»")),
        "{unknown}"
    );
    assert!(unknown.contains(r#"value="F-2026-9999""#), "{unknown}");

    // The bill: amount, the name masked, the due date; a form to pay it with its own key.
    let found = browser
        .get("/pagos/facturas?emisor=une&referencia=f-2026-0001")
        .await?;
    assert_eq!(found.status, 200, "{}", found.text());
    let page = found.text();
    assert_eq!(text_of(&page, "factura-importe"), Some("245,30 CUP"));
    assert_eq!(text_of(&page, "factura-cliente"), Some("A** P**** G****"));
    assert_eq!(text_of(&page, "factura-vence"), Some("2026-12-31"));
    assert!(page.contains(r#"<option value="une" selected>"#), "{page}");
    assert!(field_of(&page, "clave").is_some(), "{page}");

    // Paid, twice pressed: one payment, one receipt.
    let paid = press(&mut browser, &page, "/pagos/facturas/pagar").await?;
    let id = receipt_id(&paid)?;
    assert_eq!(
        receipt_id(&press(&mut browser, &page, "/pagos/facturas/pagar").await?)?,
        id
    );
    assert_eq!(app.cup(&ana), 100_000 - 24_530);
    let receipt = browser.get(&format!("/pagos/recibos/{id}")).await?.text();
    assert_eq!(text_of(&receipt, "tipo"), Some("Factura"));
    assert_eq!(text_of(&receipt, "nota"), Some("Factura F-2026-0001"));
    assert_eq!(text_of(&receipt, "importe"), Some("245,30 CUP"));
    assert_eq!(text_of(&receipt, "saldo"), Some("754,70 CUP"));
    assert!(text_of(&receipt, "codigo").is_some(), "{receipt}");

    // Looked up again, the bill says it is paid, with no form; a stale form is refused.
    let again = browser
        .get("/pagos/facturas?emisor=une&referencia=F-2026-0001")
        .await?
        .text();
    assert_eq!(
        text_of(&again, "pagada"),
        Some("Esta factura ya está pagada.")
    );
    assert!(
        !again.contains(r#"action="/pagos/facturas/pagar""#),
        "{again}"
    );
    let csrf = csrf_of(&page).ok_or("no csrf")?;
    let stale = browser
        .post(
            "/pagos/facturas/pagar",
            &[
                ("emisor", "une"),
                ("referencia", "F-2026-0001"),
                ("clave", "web-otra-pestana"),
                ("_csrf", &csrf),
            ],
        )
        .await?;
    assert_eq!(stale.status, 200, "{}", stale.text());
    let page = stale.text();
    assert!(
        error_of(&page).is_some_and(|error| error.contains("ya está pagada")),
        "{page}"
    );
    assert_eq!(app.cup(&ana), 100_000 - 24_530);

    // More than the balance: refused with the reason, the bill still open to pay.
    let big = browser
        .get("/pagos/facturas?emisor=une&referencia=F-2026-0002")
        .await?
        .text();
    let refused = press(&mut browser, &big, "/pagos/facturas/pagar").await?;
    assert_eq!(refused.status, 200, "{}", refused.text());
    let page = refused.text();
    assert!(
        error_of(&page).is_some_and(|error| error.starts_with("Saldo insuficiente")),
        "{page}"
    );
    assert!(page.contains(r#"action="/pagos/facturas/pagar""#), "{page}");
    assert_eq!(app.cup(&ana), 100_000 - 24_530);

    // A biller that does not answer: the money is held, and the receipt says where it stands;
    // the same form sent again once the biller is back completes it.
    insert_bill(&app.db, "F-2026-0003", 10_000).await?;
    app.connector.set_offline("une", true);
    let third = browser
        .get("/pagos/facturas?emisor=une&referencia=F-2026-0003")
        .await?
        .text();
    let held = receipt_id(&press(&mut browser, &third, "/pagos/facturas/pagar").await?)?;
    let page = browser.get(&format!("/pagos/recibos/{held}")).await?.text();
    assert!(page.contains("<h1>Operación en curso</h1>"), "{page}");
    assert!(
        text_of(&page, "aviso").is_some_and(|notice| notice.contains("retenido")),
        "{page}"
    );
    assert_eq!(text_of(&page, "estado"), Some("En curso"));
    assert!(
        !page.contains(r#"id="codigo""#),
        "no receipt code yet: {page}"
    );
    assert_eq!(app.cup(&ana), 100_000 - 24_530 - 10_000, "held");
    app.connector.set_offline("une", false);
    let done = press(&mut browser, &third, "/pagos/facturas/pagar").await?;
    assert_eq!(receipt_id(&done)?, held);
    let page = browser.get(&format!("/pagos/recibos/{held}")).await?.text();
    assert!(page.contains("<h1>Recibo</h1>"), "{page}");
    assert_eq!(text_of(&page, "saldo"), Some("654,70 CUP"));
    assert_eq!(app.cup(&ana), 100_000 - 24_530 - 10_000);
    app.stop().await;
    Ok(())
}

async fn bank_accounts_are_linked_used_and_unlinked_through_the_pages(
    database: TestDatabase,
) -> TestResult {
    let app = Pagos::start(&database.db).await?;
    let ana = app.person(ANA, "1000").await?;
    let mut browser = app.browser(ANA.0).await?;
    let home = browser.get("/pagos").await?.text();
    assert!(home.contains(r#"href="/pagos/cuentas""#), "{home}");
    let empty = browser.get("/pagos/cuentas").await?.text();
    assert!(
        empty.contains("Aún no ha vinculado ninguna cuenta."),
        "{empty}"
    );

    // A malformed number: the form again with the reason and the alias typed; nothing linked.
    let bad = submit(
        &mut browser,
        "/pagos/cuentas",
        "/pagos/cuentas",
        &[
            ("banco", "BANDEC"),
            ("moneda", "CUP"),
            ("alias", "Ahorros"),
            ("numero", "1234 5678"),
        ],
    )
    .await?;
    assert_eq!(bad.status, 200);
    let bad = bad.text();
    assert!(
        error_of(&bad).is_some_and(|error| error.contains("16 dígitos")),
        "{bad}"
    );
    assert!(bad.contains(r#"value="Ahorros""#), "{bad}");
    assert!(bad.contains("Aún no ha vinculado ninguna cuenta."), "{bad}");

    // Linked: listed by alias, bank and the last four digits only.
    let linked = submit(
        &mut browser,
        "/pagos/cuentas",
        "/pagos/cuentas",
        &[
            ("banco", "BANDEC"),
            ("moneda", "CUP"),
            ("alias", "Ahorros"),
            ("numero", "1234 5678 9012 3456"),
        ],
    )
    .await?;
    assert_redirect(&linked, "/pagos/cuentas");
    let list = browser.get("/pagos/cuentas").await?.text();
    assert!(list.contains("Ahorros"), "{list}");
    assert!(list.contains("************3456"), "{list}");
    assert!(
        !list.contains("1234567890123456"),
        "the full number is never shown"
    );
    let account = field_of(&list, "cuenta").ok_or("no account field")?;

    // A deposit, pressed twice: one operation, 200 pesos more.
    let key = field_of(&list, "clave").ok_or("no key")?;
    let csrf = csrf_of(&list).ok_or("no csrf")?;
    let deposit = [
        ("cuenta", account.as_str()),
        ("sentido", "depositar"),
        ("importe", "200"),
        ("clave", key.as_str()),
        ("_csrf", csrf.as_str()),
    ];
    let id = receipt_id(&browser.post("/pagos/cuentas/mover", &deposit).await?)?;
    assert_eq!(
        receipt_id(&browser.post("/pagos/cuentas/mover", &deposit).await?)?,
        id
    );
    assert_eq!(app.cup(&ana), 120_000);
    let receipt = browser.get(&format!("/pagos/recibos/{id}")).await?.text();
    assert_eq!(text_of(&receipt, "tipo"), Some("Depósito"), "{receipt}");

    // More than the wallet holds: refused with the reason, nothing moved.
    let over = submit(
        &mut browser,
        "/pagos/cuentas",
        "/pagos/cuentas/mover",
        &[("sentido", "extraer"), ("importe", "5000")],
    )
    .await?;
    assert_eq!(over.status, 200, "{}", over.text());
    assert!(error_of(&over.text()).is_some(), "{}", over.text());
    assert_eq!(app.cup(&ana), 120_000);

    // A withdrawal within it.
    let out = submit(
        &mut browser,
        "/pagos/cuentas",
        "/pagos/cuentas/mover",
        &[("sentido", "extraer"), ("importe", "50")],
    )
    .await?;
    receipt_id(&out)?;
    assert_eq!(app.cup(&ana), 115_000);

    // Unlinked: gone from the list, and it moves nothing any more.
    let unlinked = submit(
        &mut browser,
        "/pagos/cuentas",
        "/pagos/cuentas/desvincular",
        &[],
    )
    .await?;
    assert_redirect(&unlinked, "/pagos/cuentas");
    let after = browser.get("/pagos/cuentas").await?.text();
    assert!(
        after.contains("Aún no ha vinculado ninguna cuenta."),
        "{after}"
    );
    let csrf = csrf_of(&after).ok_or("no csrf")?;
    let stale = browser
        .post(
            "/pagos/cuentas/mover",
            &[
                ("cuenta", account.as_str()),
                ("sentido", "depositar"),
                ("importe", "10"),
                ("clave", "web-00000000000000000000000000000001"),
                ("_csrf", csrf.as_str()),
            ],
        )
        .await?;
    assert_eq!(stale.status, 200);
    assert!(error_of(&stale.text()).is_some(), "{}", stale.text());
    assert_eq!(app.cup(&ana), 115_000);
    assert_ledger_sound(&app.engine);
    app.stop().await;
    Ok(())
}

async fn requests_to_pay_are_paid_or_declined_through_the_pages(
    database: TestDatabase,
) -> TestResult {
    let app = Pagos::start(&database.db).await?;
    let ana = app.person(ANA, "1000").await?;
    let beto = app.person(BETO, "").await?;
    let beto_token = signed_in_user_token(&app, BETO.0).await?;
    let ask = |amount: &'static str| {
        let server = &app.server;
        let token = beto_token.clone();
        async move {
            let asked = post_json_as(
                server,
                "/api/v1/payment-requests",
                &token,
                None,
                &json!({"to_phone": ANA.0, "currency": "CUP", "amount": amount, "note": "Pan"}),
            )
            .await?;
            if asked.status == 201 {
                Ok::<(), String>(())
            } else {
                Err(asked.text())
            }
        }
    };
    ask("30").await?;
    let mut browser = app.browser(ANA.0).await?;
    let home = browser.get("/pagos").await?.text();
    assert!(home.contains(r#"href="/pagos/solicitudes""#), "{home}");
    let list = browser.get("/pagos/solicitudes").await?.text();
    assert!(
        list.contains("<strong>Roberto Díaz</strong> le pide <strong>30,00 CUP</strong>"),
        "{list}"
    );
    let id = receipt_id(&press(&mut browser, &list, "/pagos/solicitudes/pagar").await?)?;
    assert_eq!(
        receipt_id(&press(&mut browser, &list, "/pagos/solicitudes/pagar").await?)?,
        id,
        "the same form again is the same payment"
    );
    assert_eq!(app.cup(&ana), 97_000);
    assert_eq!(app.cup(&beto), 3_000);
    // Another, declined: nothing moves and the list is empty.
    ask("40").await?;
    let list = browser.get("/pagos/solicitudes").await?.text();
    let declined = press(&mut browser, &list, "/pagos/solicitudes/rechazar").await?;
    assert_redirect(&declined, "/pagos/solicitudes");
    let after = browser.get("/pagos/solicitudes").await?.text();
    assert!(after.contains(r#"id="sin-solicitudes""#), "{after}");
    assert_eq!(app.cup(&ana), 97_000);
    app.stop().await;
    Ok(())
}

async fn a_merchant_charges_with_a_qr_code_and_sees_it_paid(database: TestDatabase) -> TestResult {
    let app = Pagos::start(&database.db).await?;
    let owner = app.person(CARLA, "").await?;
    app.person(ANA, "1000").await?;
    let ana_id = app
        .db
        .user_by_phone(&ceiba_identity::PhoneNumber::parse(ANA.0).map_err(|e| e.to_string())?)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("Ana")?
        .id;
    // Carla's shop, approved.
    let owner_token = signed_in_user_token(&app, CARLA.0).await?;
    let applied = post_json_as(
        &app.server,
        "/api/v1/merchants",
        &owner_token,
        None,
        &json!({"business_name": "Dulcería Carla", "nit": "01234567890", "category_code": "5462",
            "city": "Camagüey", "settlement": {"bank": "BPA", "currency": "CUP",
            "account_number": "9205129900012345"}}),
    )
    .await?;
    let merchant = applied.json()?["id"]
        .as_str()
        .ok_or("a merchant")?
        .to_owned();
    let admin =
        second_factor_token(&app.server, &app.db, "+5352229999", &[Role::Administrator]).await?;
    let approved = post_json_as(
        &app.server,
        &format!("/api/v1/admin/merchants/{merchant}/approve"),
        &admin,
        None,
        &json!({}),
    )
    .await?;
    assert_eq!(approved.status, 200, "{}", approved.text());
    let shop = app
        .db
        .merchant(&merchant)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the shop")?;
    assert_eq!(shop.owner_user_id, owner, "the shop is Carla's");

    // Carla charges 45 pesos: the page shows the code, its text, and waits (refreshing).
    let mut shop = app.browser(CARLA.0).await?;
    let made = submit(
        &mut shop,
        "/comercio",
        "/comercio/cobrar",
        &[("importe", "45"), ("referencia", "Cake 3 leches")],
    )
    .await?;
    assert_eq!(made.status, 303, "{}", made.text());
    let location = made.header("location").ok_or("a location")?.to_owned();
    let waiting = shop.get(&location).await?.text();
    let payload =
        unescape_html(text_of(&waiting, "codigo-qr").ok_or(format!("no code: {waiting}"))?);
    assert!(
        waiting.contains(r#"<meta http-equiv="refresh" content="5">"#),
        "{waiting}"
    );
    assert!(waiting.contains(r#"id="qr-imagen""#), "{waiting}");
    assert_eq!(text_of(&waiting, "qr-estado"), Some("Esperando el pago…"));
    let image = waiting
        .split(r#"id="qr-imagen" src=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("an image")?
        .to_owned();
    let svg = shop.get(&image).await?;
    assert_eq!(svg.status, 200);
    assert!(svg.text().contains("<svg"));

    // Ana pastes what her camera read, checks the shop and the amount, and pays once.
    let mut buyer = app.browser(ANA.0).await?;
    let confirm = submit(
        &mut buyer,
        "/pagos/qr",
        "/pagos/qr",
        &[("codigo", payload.as_str())],
    )
    .await?
    .text();
    assert_eq!(
        text_of(&confirm, "comercio"),
        Some("Dulcería Carla"),
        "{confirm}"
    );
    assert_eq!(text_of(&confirm, "importe"), Some("45,00 CUP"));
    let id = receipt_id(&press(&mut buyer, &confirm, "/pagos/qr/confirmar").await?)?;
    assert_eq!(
        receipt_id(&press(&mut buyer, &confirm, "/pagos/qr/confirmar").await?)?,
        id,
        "the same form again is the same payment"
    );
    assert_eq!(app.cup(&ana_id), 100_000 - 4_500);
    // Paid once: a second scan is refused with the reason.
    let again = submit(
        &mut buyer,
        "/pagos/qr",
        "/pagos/qr",
        &[("codigo", payload.as_str())],
    )
    .await?
    .text();
    let confirm_again = press(&mut buyer, &again, "/pagos/qr/confirmar")
        .await?
        .text();
    assert!(
        error_of(&confirm_again).is_some_and(|error| error.contains("ya se pagó")),
        "{confirm_again}"
    );

    // Carla's page shows it paid, stops refreshing, and lists the payment.
    let paid = shop.get(&location).await?.text();
    assert_eq!(text_of(&paid, "qr-estado"), Some("Pagado."), "{paid}");
    assert!(!paid.contains("http-equiv"), "{paid}");
    assert!(
        paid.contains("45,00 CUP") && paid.contains("Cake 3 leches"),
        "{paid}"
    );
    assert!(
        paid.contains("cobrado <strong>45,00 CUP</strong>"),
        "{paid}"
    );

    // A refund of part of it shows on the payment and in today's totals.
    let refund = post_json_as(
        &app.server,
        &format!("/api/v1/merchants/{merchant}/payments/{id}/refunds"),
        &owner_token,
        Some("devolver-5"),
        &json!({"amount": "5"}),
    )
    .await?;
    assert_eq!(refund.status, 201, "{}", refund.text());
    let after = shop.get("/comercio").await?.text();
    assert!(
        after.contains("devuelto 5,00 CUP") && after.contains("neto <strong>40,00 CUP</strong>"),
        "{after}"
    );
    // And from the page's own form: more than is left is refused, the rest goes back once.
    let csrf = csrf_of(&after).ok_or("a _csrf")?;
    let key = after
        .split(&format!(r#"id="cobro-{id}""#))
        .nth(1)
        .and_then(|row| row.split(r#"name="clave" value=""#).nth(1))
        .and_then(|rest| rest.split('"').next())
        .ok_or(format!("no refund form: {after}"))?
        .to_owned();
    let form = |amount: &'static str, key: String| {
        vec![
            ("_csrf", csrf.clone()),
            ("clave", key),
            ("comercio", merchant.clone()),
            ("pago", id.clone()),
            ("importe", amount.to_owned()),
        ]
    };
    let too_much = form("41", key.clone());
    let too_much: Vec<(&str, &str)> = too_much.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = shop.post("/comercio/devolver", &too_much).await?;
    assert!(error_of(&refused.text()).is_some(), "{}", refused.text());
    let rest = form("", "web-devolver-resto-0000000000000001".to_owned());
    let rest: Vec<(&str, &str)> = rest.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for _ in 0..2 {
        let done = shop.post("/comercio/devolver", &rest).await?;
        assert_eq!(done.status, 303, "{}", done.text());
    }
    assert_eq!(app.cup(&ana_id), 100_000, "all of it came back, once");
    let last = shop.get("/comercio").await?.text();
    assert!(last.contains("devuelto 45,00 CUP"), "{last}");
    assert!(
        !last.contains(&format!(r#"name="pago" value="{id}""#)),
        "nothing left to refund"
    );
    app.stop().await;
    Ok(())
}

async fn top_ups_through_the_pages(database: TestDatabase) -> TestResult {
    let app = Pagos::start(&database.db).await?;
    let ana = app.person(ANA, "1000").await?;
    let mut browser = app.browser(ANA.0).await?;
    let form = browser.get("/pagos/recargas").await?.text();
    assert!(
        form.contains("Móvil: 100,00 · 250,00 · 500,00 CUP. Nauta: de 25,00 CUP a 2.000,00 CUP."),
        "{form}"
    );

    // A mobile top-up, pressed twice: once.
    let csrf = csrf_of(&form).ok_or("no csrf")?;
    let key = field_of(&form, "clave").ok_or("no key")?;
    let fields = [
        ("servicio", "movil"),
        ("cuenta", "5200 1002"),
        ("importe", "250"),
        ("clave", key.as_str()),
        ("_csrf", csrf.as_str()),
    ];
    let id = receipt_id(&browser.post("/pagos/recargas", &fields).await?)?;
    assert_eq!(
        receipt_id(&browser.post("/pagos/recargas", &fields).await?)?,
        id
    );
    assert_eq!(app.cup(&ana), 75_000);
    let receipt = browser.get(&format!("/pagos/recibos/{id}")).await?.text();
    assert_eq!(text_of(&receipt, "tipo"), Some("Recarga"));
    assert_eq!(text_of(&receipt, "nota"), Some("Recarga móvil +5352001002"));

    // An amount not sold: the form again, with what was typed and a new key.
    let refused = submit(
        &mut browser,
        "/pagos/recargas",
        "/pagos/recargas",
        &[
            ("servicio", "movil"),
            ("cuenta", "5200 1002"),
            ("importe", "300"),
        ],
    )
    .await?;
    assert_eq!(refused.status, 200, "{}", refused.text());
    let page = refused.text();
    assert!(
        error_of(&page)
            .is_some_and(|error| error.starts_with("La recarga móvil admite solo estos importes")),
        "{page}"
    );
    assert!(page.contains(r#"value="300""#), "{page}");
    assert!(page.contains(r#"value="5200 1002""#), "{page}");
    assert!(
        field_of(&page, "clave").is_some_and(|fresh| fresh != key),
        "a fresh key: {page}"
    );

    // Nauta: any amount within its bounds; a malformed account is refused.
    let bad = submit(
        &mut browser,
        "/pagos/recargas",
        "/pagos/recargas",
        &[
            ("servicio", "nauta"),
            ("cuenta", "ana@gmail.com"),
            ("importe", "30"),
        ],
    )
    .await?
    .text();
    assert!(
        error_of(&bad).is_some_and(|error| error.contains("no es una cuenta Nauta")),
        "{bad}"
    );
    assert!(bad.contains(r#"<option value="nauta" selected>"#), "{bad}");
    let nauta = submit(
        &mut browser,
        "/pagos/recargas",
        "/pagos/recargas",
        &[
            ("servicio", "nauta"),
            ("cuenta", "ana.perez@nauta.com.cu"),
            ("importe", "30,50"),
        ],
    )
    .await?;
    receipt_id(&nauta)?;
    assert_eq!(app.cup(&ana), 75_000 - 3_050);
    app.stop().await;
    Ok(())
}

async fn the_statement_prints_a_period_and_links_its_csv(database: TestDatabase) -> TestResult {
    let app = Pagos::start(&database.db).await?;
    app.person(ANA, "1000").await?;
    app.person(BETO, "").await?;
    let mut browser = app.browser(ANA.0).await?;
    let confirm = browser
        .fill(
            "/pagos/enviar",
            "/pagos/enviar",
            &[("telefono", BETO.0), ("moneda", "CUP"), ("importe", "150")],
        )
        .await?
        .text();
    receipt_id(&press(&mut browser, &confirm, "/pagos/enviar/confirmar").await?)?;

    // This month by default: both operations, oldest first, and what came in and went out.
    let response = browser.get("/pagos/extracto").await?;
    assert_eq!(response.status, 200, "{}", response.text());
    let page = response.text();
    assert!(page.contains("<h1>Extracto</h1>"), "{page}");
    assert_eq!(text_of(&page, "titular"), Some("Ana Pérez (+53 5200 1001)"));
    let deposit = page.find("Depósito · BPA").ok_or("no deposit")?;
    let transfer = page
        .find("Transferencia · Roberto Díaz")
        .ok_or("no transfer")?;
    assert!(deposit < transfer, "oldest first: {page}");
    assert!(
        page.contains("<td class=\"n entra\">1.000,00 CUP</td><td class=\"n\">150,00 CUP</td>"),
        "{page}"
    );
    let csv_href = page
        .split(r#"<a id="csv" href=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(unescape_html)
        .ok_or("no CSV link")?;
    assert!(
        csv_href.starts_with("/api/v1/payments/statement.csv?from="),
        "{csv_href}"
    );
    // The CSV link works with the session cookie the page was read with.
    let csv = browser.get(&csv_href).await?;
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(csv.text().lines().count(), 3, "{}", csv.text());

    // Another period; a period that makes no sense says so, keeping what was typed.
    let empty = browser
        .get("/pagos/extracto?desde=2020-01-01&hasta=2020-01-31")
        .await?
        .text();
    assert!(
        empty.contains("No hay operaciones en este periodo."),
        "{empty}"
    );
    assert!(empty.contains(r#"value="2020-01-01""#), "{empty}");
    let wrong = browser
        .get("/pagos/extracto?desde=2020-02-01&hasta=2020-01-01")
        .await?
        .text();
    assert_eq!(
        error_of(&wrong),
        Some("La fecha final es anterior a la inicial."),
        "{wrong}"
    );
    assert!(!wrong.contains(r#"id="csv""#), "{wrong}");
    let typo = browser.get("/pagos/extracto?desde=ayer").await?.text();
    assert_eq!(
        error_of(&typo),
        Some("«ayer» no es una fecha AAAA-MM-DD."),
        "{typo}"
    );

    // Printed, only the statement: the stylesheet hides the site's header, footer and forms.
    let stylesheet_path = page
        .split(r#"<link rel="stylesheet" href=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("no stylesheet")?;
    let css = app.server.get(stylesheet_path).await?.text();
    assert!(
        css.contains("@media print { header.sitio, footer, form, .no-imprimir { display: none; }"),
        "{css}"
    );
    app.stop().await;
    Ok(())
}

async fn pagos_pages_are_small_script_free_and_never_stored(database: TestDatabase) -> TestResult {
    let app = Pagos::start(&database.db).await?;
    let ana = app.person(ANA, "80000").await?;
    app.person(BETO, "").await?;
    insert_bill(&app.db, "F-2026-0001", 24_530).await?;
    // As many operations as a statement page shows, with the longest names people have.
    active_user_named(
        &app.db,
        "+53 5200 1009",
        &"Nombre Muy Largo De Verdad ".repeat(3),
        &[Role::Citizen],
    )
    .await?;
    let token = signed_in_user_token(&app, ANA.0).await?;
    for index in 0..99 {
        let response = post_json_as(
            &app.server,
            "/api/v1/payments/transfers",
            &token,
            Some(&format!("muchas-{index}")),
            &json!({"to_phone": "+53 5200 1009", "currency": "CUP", "amount": "1.25",
                "note": "una nota de ciento cuarenta caracteres como mucho"}),
        )
        .await?;
        assert_eq!(response.status, 201, "{}", response.text());
    }
    assert_eq!(app.operations_of(&ana).await?.len(), 100);
    let receipt_of_one = app.operations_of(&ana).await?[0].id.clone();

    let mut browser = app.browser(ANA.0).await?;
    let confirm = browser
        .fill(
            "/pagos/enviar",
            "/pagos/enviar",
            &[("telefono", BETO.0), ("moneda", "CUP"), ("importe", "1")],
        )
        .await?;
    check_page(
        &confirm,
        "POST /pagos/enviar",
        "es",
        "Compruebe antes de enviar",
    )?;
    for (path, language, heading) in [
        ("/pagos", "es", "Pagos"),
        ("/pagos/enviar", "es", "Enviar dinero"),
        (
            "/pagos/facturas?emisor=une&referencia=F-2026-0001",
            "es",
            "Pagar una factura",
        ),
        (
            "/pagos/recargas",
            "es",
            "Recargar un móvil o una cuenta Nauta",
        ),
        ("/pagos/extracto", "es", "Extracto"),
        ("/pagos/cuentas", "es", "Cuentas bancarias vinculadas"),
        ("/pagos/qr", "es", "Pagar con código QR"),
        ("/comercio", "es", "Mi comercio"),
        (&format!("/pagos/recibos/{receipt_of_one}"), "es", "Recibo"),
        ("/pagos", "en", "Payments"),
        ("/pagos/enviar", "en", "Send money"),
        ("/pagos/facturas", "en", "Pay a bill"),
        ("/pagos/recargas", "en", "Top up a phone or a Nauta account"),
        ("/pagos/extracto", "en", "Statement"),
        ("/pagos/cuentas", "en", "Linked bank accounts"),
        ("/pagos/qr", "en", "Pay with a QR code"),
        ("/comercio", "en", "My shop"),
        (&format!("/pagos/recibos/{receipt_of_one}"), "en", "Receipt"),
    ] {
        browser.accept_language = if language == "es" { "es" } else { "en-US" };
        let response = browser.get(path).await?;
        check_page(&response, path, language, heading)?;
        if path == "/pagos/extracto" {
            assert_eq!(response.text().matches("<tr><td>").count(), 100);
        }
    }
    // One more operation and the statement page asks for a shorter period (the CSV has it all).
    browser.accept_language = "es";
    post_json_as(
        &app.server,
        "/api/v1/payments/transfers",
        &token,
        Some("una-mas"),
        &json!({"to_phone": BETO.0, "currency": "CUP", "amount": "1"}),
    )
    .await?;
    let page = browser.get("/pagos/extracto").await?.text();
    assert_eq!(
        error_of(&page),
        Some("El periodo tiene más de 100 operaciones; pídalo por partes."),
        "{page}"
    );
    assert!(page.contains(r#"id="csv""#), "{page}");
    app.stop().await;
    Ok(())
}

/// What every Pagos page must be: small, without script or inline style, in its language,
/// never stored, every form that posts carrying the session's token and every money form its
/// key.
fn check_page(response: &Response, path: &str, language: &str, heading: &str) -> TestResult {
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
    assert_eq!(
        page.matches(r#"method="post""#).count(),
        page.matches(r#"name="_csrf""#).count(),
        "{path}: a form without _csrf"
    );
    for action in [
        "/pagos/enviar/confirmar",
        "/pagos/facturas/pagar",
        "/pagos/recargas",
    ] {
        if let Some(fields) = hidden_fields(&page, action) {
            assert!(
                fields
                    .iter()
                    .any(|(name, value)| name == "clave" && !value.is_empty()),
                "{path}: the money form to {action} has no key"
            );
        }
    }
    Ok(())
}
