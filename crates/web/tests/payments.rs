//! Pagos over HTTP, on each engine: a person paid at the bank, sending to another and cashing
//! out; idempotency keys (repeats, reuse for another request, a retry that finishes what a
//! failed attempt began, concurrent repeats); refusals that say why in Spanish and move
//! nothing; the Central Bank's limits and a person's own; wallet caps; the recovery sweep; and
//! the OpenAPI document. After each scenario the ledger is sound and money is conserved.
// Amounts in centavos are written pesos_centavos: `125_50` is 125,50 CUP.
#![allow(clippy::inconsistent_digit_grouping)]

use std::sync::Arc;
use std::time::Duration;

use ceiba_identity::{PhoneNumber, Role};
use ceiba_payments::{
    BANKS, Currency, CurrencyLimits, Limits, Money, OperationKind, ReceiptCode, WalletCaps,
    accounts, plan,
};
use ceiba_store::{
    BeginPayment, Db, LeaseHolder, LedgerEngine, NewOperation, OperationRow, OperationStatus,
};
use ceiba_testkit::each_engine;
use ceiba_testkit::http::{Response, send};
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use ceiba_web::payments::{PaymentSettings, settle_stale};
use ceiba_web::{AppState, ServerLimits};
use serde_json::{Value, json};

mod support;
use support::{
    TestServer, assert_bearer_route, assert_ledger_sound, assert_problem, available_minor,
    ledger_state, openapi_document, pagos_sms_to, post_json_as, second_factor_token,
    signed_in_user, test_state,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite:
        a_person_is_paid_sends_to_another_and_cashes_out,
        a_key_moves_money_once_however_often_it_is_sent,
        a_retry_finishes_what_an_unavailable_ledger_left_pending,
        refusals_say_why_in_spanish_and_move_nothing,
        the_central_bank_limits_and_a_persons_own_are_enforced,
        a_wallet_never_passes_its_cap,
        the_recovery_sweep_settles_pending_operations_once,
        the_openapi_document_lists_the_payment_routes,
    );
    suite.run()
}

const OPERATOR_PHONE: &str = "+5352220000";
const WALLET: &str = "/api/v1/payments/wallet";
const RECIPIENTS: &str = "/api/v1/payments/recipients";
const TRANSFERS: &str = "/api/v1/payments/transfers";
const CASH_IN: &str = "/api/v1/payments/cash-in";
const CASH_OUT: &str = "/api/v1/payments/cash-out";
const OPERATIONS: &str = "/api/v1/payments/operations";

/// People of the tests: phone as typed, and name.
const ANA: (&str, &str) = ("+53 5200 1001", "Ana Pérez");
const BETO: (&str, &str) = ("+53 5200 1002", "Roberto Díaz");
const CARLA: (&str, &str) = ("+53 5200 1003", "Carla Fernández");
const DANI: (&str, &str) = ("+53 5200 1004", "Daniel Soto");

/// The key receipt codes are made with where a test checks them.
const RECEIPT_KEY: [u8; 32] = [7; 32];

/// A citizen signed in over the API.
#[derive(Debug, Clone)]
struct Person {
    id: String,
    /// As typed.
    phone: &'static str,
    e164: String,
    name: &'static str,
    token: String,
}

/// A served app with a running ledger and a bank operator signed in with a second factor.
struct Pagos {
    server: TestServer,
    /// The state the server runs with, for what has no route (the recovery sweep).
    state: AppState,
    engine: LedgerEngine,
    db: Db,
    operator: String,
    operator_id: String,
}

/// What a refused request must leave as it was.
#[derive(Debug, PartialEq, Eq)]
struct Books {
    /// Available CUP and USD of each person.
    balances: Vec<(u64, u64)>,
    transfers: usize,
    completed: usize,
    sms: usize,
}

impl Pagos {
    async fn start(db: &Db) -> Result<Pagos, String> {
        Pagos::with_settings(db, PaymentSettings::standard(RECEIPT_KEY)).await
    }

    async fn with_settings(db: &Db, settings: PaymentSettings) -> Result<Pagos, String> {
        let mut state = ledger_state(db).await?;
        state.payments = Arc::new(settings);
        let engine = state.ledger.clone().ok_or("the state has no ledger")?;
        let server = TestServer::with_state(state.clone(), ServerLimits::default())
            .await
            .map_err(|e| e.to_string())?;
        let operator =
            second_factor_token(&server, db, OPERATOR_PHONE, &[Role::BankOperator]).await?;
        let operator_id = user_id(db, OPERATOR_PHONE).await?;
        Ok(Pagos {
            server,
            state,
            engine,
            db: db.clone(),
            operator,
            operator_id,
        })
    }

    async fn stop(mut self) {
        self.server.shut_down();
        self.engine.stop().await;
    }

    /// A citizen signed in, whose wallet is open (and empty).
    async fn person(&self, (phone, name): (&'static str, &'static str)) -> Result<Person, String> {
        let (id, token) =
            signed_in_user(&self.server, &self.db, phone, name, &[Role::Citizen]).await?;
        let e164 = PhoneNumber::parse(phone)
            .map_err(|e| e.to_string())?
            .as_e164()
            .to_owned();
        let person = Person {
            id,
            phone,
            e164,
            name,
            token,
        };
        let wallet = self.get_ok(WALLET, &person.token).await?;
        assert_eq!(wallet["name"], name, "{wallet}");
        assert_eq!(wallet["phone"], person.e164, "{wallet}");
        Ok(person)
    }

    async fn get(&self, path: &str, token: &str) -> Result<Response, String> {
        self.server.with_token("GET", path, token).await
    }

    /// A GET that must answer 200: its JSON.
    async fn get_ok(&self, path: &str, token: &str) -> Result<Value, String> {
        let response = self.get(path, token).await?;
        if response.status != 200 {
            let text = response.text();
            return Err(format!("GET {path}: {} {text}", response.status));
        }
        response.json()
    }

    async fn post(
        &self,
        path: &str,
        token: &str,
        key: Option<&str>,
        body: &Value,
    ) -> Result<Response, String> {
        post_json_as(&self.server, path, token, key, body).await
    }

    /// A transfer in CUP, with whatever `amount` the test wants on the wire.
    async fn transfer(
        &self,
        from: &Person,
        to_phone: &str,
        amount: Value,
        key: Option<&str>,
    ) -> Result<Response, String> {
        let body = json!({"to_phone": to_phone, "currency": "CUP", "amount": amount});
        self.post(TRANSFERS, &from.token, key, &body).await
    }

    /// A transfer that must go through (201): the operation.
    async fn sent(
        &self,
        from: &Person,
        to: &Person,
        amount: &str,
        key: &str,
    ) -> Result<Value, String> {
        created(
            &self
                .transfer(from, to.phone, json!(amount), Some(key))
                .await?,
        )
    }

    /// Cash in or out (`path`) at `bank` by the operator, in CUP.
    async fn cash(
        &self,
        path: &str,
        person: &Person,
        bank: &str,
        amount: &str,
        key: &str,
    ) -> Result<Response, String> {
        let body =
            json!({"phone": person.phone, "bank": bank, "currency": "CUP", "amount": amount});
        self.post(path, &self.operator, Some(key), &body).await
    }

    async fn cashed(
        &self,
        path: &str,
        person: &Person,
        bank: &str,
        amount: &str,
        key: &str,
    ) -> Result<Value, String> {
        created(&self.cash(path, person, bank, amount, key).await?)
    }

    /// What `person` may spend in `currency`, as the ledger holds it.
    fn available(&self, person: &Person, currency: Currency) -> u64 {
        available_minor(&self.engine, &person.id, currency)
    }

    /// What `person` may spend in CUP, as the wallet route says.
    async fn wallet_cup(&self, person: &Person) -> Result<u64, String> {
        let wallet = self.get_ok(WALLET, &person.token).await?;
        let cup = &wallet["balances"][0];
        assert_eq!(cup["currency"], "CUP", "{wallet}");
        cup["available_minor"]
            .as_u64()
            .ok_or_else(|| format!("no balance: {wallet}"))
    }

    /// How many Pagos messages are queued, to anyone.
    async fn sms_count(&self) -> Result<usize, String> {
        let due = self
            .db
            .due_sms(i64::MAX, ceiba_store::SMS_BATCH_MAX)
            .await
            .map_err(|e| e.to_string())?;
        Ok(due
            .iter()
            .filter(|sms| sms.body.starts_with("Ceiba Pagos:"))
            .count())
    }

    async fn sms_to(&self, person: &Person) -> Result<Vec<String>, String> {
        pagos_sms_to(&self.db, person.phone).await
    }

    /// Every operation `user_id` took part in, as stored, newest first.
    async fn rows_of(&self, user_id: &str) -> Result<Vec<OperationRow>, String> {
        self.db
            .payment_operations_of(user_id, 0, i64::MAX, None, 500)
            .await
            .map_err(|e| e.to_string())
    }

    async fn books(&self, people: &[&Person]) -> Result<Books, String> {
        let mut completed = 0;
        for user_id in people
            .iter()
            .map(|person| person.id.as_str())
            .chain([self.operator_id.as_str()])
        {
            completed += self
                .rows_of(user_id)
                .await?
                .iter()
                .filter(|row| row.status == OperationStatus::Completed)
                .count();
        }
        let transfers = self.engine.read().state.transfers_count();
        let sms = self.sms_count().await?;
        Ok(Books {
            balances: people
                .iter()
                .map(|person| {
                    (
                        self.available(person, Currency::Cup),
                        self.available(person, Currency::Usd),
                    )
                })
                .collect(),
            transfers,
            completed,
            sms,
        })
    }

    /// The ledger is sound, and in every currency the wallets hold what was cashed in less what
    /// was cashed out (the banks' side is its mirror), with each wallet's headroom the rest of
    /// its cap.
    async fn assert_books(&self, people: &[&Person]) -> Result<(), String> {
        assert_ledger_sound(&self.engine);
        let cash = self.rows_of(&self.operator_id).await?;
        for currency in [Currency::Cup, Currency::Usd] {
            let mut expected: i128 = 0;
            for row in cash
                .iter()
                .filter(|row| row.status == OperationStatus::Completed)
                .filter(|row| row.currency == currency.code())
            {
                match row.kind.as_str() {
                    "cash_in" => expected += i128::from(row.amount_minor),
                    "cash_out" => expected -= i128::from(row.amount_minor),
                    other => return Err(format!("the operator made a «{other}»")),
                }
            }
            let replica = self.engine.read();
            let net = |id| {
                replica.state.account(id).map_or(0, |account| {
                    let b = account.balances;
                    assert_eq!(b.debits_pending, 0, "{id}: pending debits");
                    assert_eq!(b.credits_pending, 0, "{id}: pending credits");
                    i128::try_from(b.credits_posted).unwrap_or(i128::MAX)
                        - i128::try_from(b.debits_posted).unwrap_or(i128::MAX)
                })
            };
            let wallets: i128 = people
                .iter()
                .map(|person| net(accounts::wallet(&person.id, currency)))
                .sum();
            let banks: i128 = BANKS
                .iter()
                .map(|bank| net(accounts::bank_settlement(bank, currency)))
                .sum();
            assert_eq!(
                wallets, expected,
                "{currency}: wallets against cash in and out"
            );
            assert_eq!(banks, -expected, "{currency}: banks against wallets");
            let cap = i128::from(self.state.payments.caps.cap(currency));
            for person in people {
                let wallet = accounts::wallet(&person.id, currency);
                if replica.state.account(wallet).is_some() {
                    let headroom = net(accounts::headroom(&person.id, currency));
                    assert_eq!(
                        net(wallet) + headroom,
                        cap,
                        "{}: wallet and headroom",
                        person.name
                    );
                }
            }
        }
        Ok(())
    }
}

async fn user_id(db: &Db, phone: &str) -> Result<String, String> {
    let phone = PhoneNumber::parse(phone).map_err(|e| e.to_string())?;
    let user = db.user_by_phone(&phone).await.map_err(|e| e.to_string())?;
    Ok(user.ok_or("no such user")?.id)
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

/// A phone number in a query string.
fn query_phone(phone: &str) -> String {
    phone.replace('+', "%2B").replace(' ', "%20")
}

/// `XXXXX-XXXXX` in Crockford's base32.
fn assert_receipt_code(code: &Value) -> String {
    let code = code.as_str().unwrap_or_default();
    let (left, right) = code.split_once('-').unwrap_or_default();
    let crockford = |part: &str| {
        part.len() == 5
            && part
                .chars()
                .all(|c| "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c))
    };
    assert!(crockford(left) && crockford(right), "receipt code «{code}»");
    code.to_owned()
}

/// An SMS of Pagos: every part in it, never a link, never a request for the PIN.
fn assert_sms(body: &str, parts: &[&str]) {
    for part in parts {
        assert!(body.contains(part), "«{part}» missing from «{body}»");
    }
    assert!(!body.to_lowercase().contains("http"), "a link in «{body}»");
    assert!(!body.contains("www."), "a link in «{body}»");
    assert!(!body.contains("PIN"), "the PIN in «{body}»");
}

/// Checks a refusal's problem and that its detail (or, without one, its title) is the Spanish
/// sentence that contains `spanish`.
fn assert_refused(response: &Response, status: u16, code: &str, path: &str, spanish: &str) {
    let problem = assert_problem(response, status, code, path);
    let text = problem["detail"]
        .as_str()
        .or_else(|| problem["title"].as_str())
        .unwrap_or_default();
    assert!(text.contains(spanish), "«{spanish}» missing: {problem}");
}

// ---------------------------------------------------------------------------------------------
// A person's journey
// ---------------------------------------------------------------------------------------------

async fn a_person_is_paid_sends_to_another_and_cashes_out(database: TestDatabase) -> TestResult {
    let pagos = Pagos::start(&database.db).await?;
    let ana = pagos.person(ANA).await?;
    let beto = pagos.person(BETO).await?;
    let carla = pagos.person(CARLA).await?;

    // The bank operator pays 500 CUP in at BPA.
    let deposit = pagos
        .cashed(CASH_IN, &ana, "bpa", "500.00", "deposito-ana-1")
        .await?;
    assert_eq!(deposit["kind"], "cash_in", "{deposit}");
    assert_eq!(deposit["status"], "completed", "{deposit}");
    assert_eq!(deposit["amount"], "500,00 CUP", "{deposit}");
    assert_eq!(deposit["amount_minor"], 500_00, "{deposit}");
    assert_eq!(deposit["counterparty"], "BPA", "{deposit}");
    let deposit_receipt = assert_receipt_code(&deposit["receipt_code"]);
    assert_eq!(pagos.wallet_cup(&ana).await?, 500_00);

    // Ana checks who the number belongs to before sending.
    let path = format!("{RECIPIENTS}?phone={}", query_phone(beto.phone));
    let found = pagos.get_ok(&path, &ana.token).await?;
    assert_eq!(found, json!({"phone": beto.e164, "name": beto.name}));

    let response = pagos
        .post(
            TRANSFERS,
            &ana.token,
            Some("envio-ana-beto-1"),
            &json!({
                "to_phone": beto.phone,
                "currency": "CUP",
                "amount": "125.50",
                "note": "Para el almuerzo",
            }),
        )
        .await?;
    assert_eq!(response.status, 201, "{}", response.text());
    let sent = response.json()?;
    assert_eq!(sent["kind"], "person_to_person", "{sent}");
    assert_eq!(sent["status"], "completed", "{sent}");
    assert_eq!(sent["direction"], "sent", "{sent}");
    assert_eq!(sent["amount"], "125,50 CUP", "{sent}");
    assert_eq!(sent["amount_minor"], 125_50, "{sent}");
    assert_eq!(sent["fee_minor"], 0, "{sent}");
    assert_eq!(sent["currency"], "CUP", "{sent}");
    assert_eq!(sent["counterparty"], beto.name, "{sent}");
    assert_eq!(sent["note"], "Para el almuerzo", "{sent}");
    assert!(sent["refusal_code"].is_null(), "{sent}");
    let receipt = assert_receipt_code(&sent["receipt_code"]);
    let id = sent["id"].as_str().ok_or("no id")?.to_owned();
    let created_at_ms = sent["created_at_ms"].as_i64().ok_or("no time")?;
    assert!(ReceiptCode::verify(
        &RECEIPT_KEY,
        id.parse()?,
        OperationKind::PersonToPerson,
        Money::from_minor(125_50, Currency::Cup),
        created_at_ms,
        &receipt.to_lowercase(),
    ));

    // Both wallets, as their owners see them.
    let wallet = pagos.get_ok(WALLET, &ana.token).await?;
    let cup = &wallet["balances"][0];
    assert_eq!(cup["available_minor"], 374_50, "{wallet}");
    assert_eq!(cup["available"], "374,50 CUP", "{wallet}");
    assert_eq!(cup["pending_minor"], 0, "{wallet}");
    assert_eq!(cup["cap_minor"], 80_000_00, "{wallet}");
    assert_eq!(wallet["balances"][1]["currency"], "USD", "{wallet}");
    assert_eq!(wallet["balances"][1]["available_minor"], 0, "{wallet}");
    assert_eq!(pagos.wallet_cup(&beto).await?, 125_50);
    assert_eq!(pagos.wallet_cup(&carla).await?, 0);

    // The operations lists: Ana's two, newest first; Beto's one, received.
    let page = pagos.get_ok(OPERATIONS, &ana.token).await?;
    let listed = page["operations"].as_array().ok_or("no list")?;
    assert_eq!(listed.len(), 2, "{page}");
    assert_eq!(listed[0], sent, "the list shows what the answer showed");
    assert_eq!(listed[1]["id"], deposit["id"], "{page}");
    assert_eq!(listed[1]["direction"], "received", "{page}");
    assert_eq!(listed[1]["counterparty"], "BPA", "{page}");
    assert!(page["next_cursor"].is_null(), "{page}");
    let page = pagos.get_ok(OPERATIONS, &beto.token).await?;
    let listed = page["operations"].as_array().ok_or("no list")?;
    assert_eq!(listed.len(), 1, "{page}");
    assert_eq!(listed[0]["id"], id.as_str(), "{page}");
    assert_eq!(listed[0]["direction"], "received", "{page}");
    // The payee reads who paid him, not his own name.
    assert_eq!(listed[0]["counterparty"], ana.name, "{page}");
    assert_eq!(listed[0]["receipt_code"], receipt.as_str(), "{page}");
    let page = pagos.get_ok(OPERATIONS, &carla.token).await?;
    assert_eq!(page["operations"], json!([]), "{page}");

    // Paging one at a time.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let path = match &cursor {
            None => format!("{OPERATIONS}?limit=1"),
            Some(cursor) => format!("{OPERATIONS}?limit=1&cursor={cursor}"),
        };
        let page = pagos.get_ok(&path, &ana.token).await?;
        let listed = page["operations"].as_array().ok_or("no list")?;
        assert!(listed.len() <= 1, "{page}");
        seen.extend(listed.iter().map(|op| op["id"].clone()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, [json!(id), deposit["id"].clone()]);
    for bad in [
        "limit=0",
        "limit=501",
        "cursor=nada",
        "limit=uno",
        "desde=1",
    ] {
        let response = pagos
            .get(&format!("{OPERATIONS}?{bad}"), &ana.token)
            .await?;
        assert_problem(&response, 400, "bad_request", OPERATIONS);
    }

    // One operation: its payer and its payee see it; nobody else does.
    let one = format!("{OPERATIONS}/{id}");
    assert_eq!(pagos.get_ok(&one, &ana.token).await?, sent);
    let seen_by_beto = pagos.get_ok(&one, &beto.token).await?;
    assert_eq!(seen_by_beto["direction"], "received", "{seen_by_beto}");
    assert_eq!(seen_by_beto["amount"], "125,50 CUP", "{seen_by_beto}");
    assert_problem(
        &pagos.get(&one, &carla.token).await?,
        404,
        "not_found",
        &one,
    );
    let unknown = format!("{OPERATIONS}/12345");
    assert_problem(
        &pagos.get(&unknown, &ana.token).await?,
        404,
        "not_found",
        &unknown,
    );
    let response = pagos.server.get(&one).await?;
    assert_problem(&response, 401, "unauthenticated", &one);

    // The messages: to each, the amount, the other party, the balance after and the receipt.
    let to_ana = pagos.sms_to(&ana).await?;
    assert_eq!(to_ana.len(), 2, "{to_ana:?}");
    assert_sms(
        &to_ana[0],
        &["500.00 CUP", "BPA", "Saldo 500.00 CUP", &deposit_receipt],
    );
    assert_sms(
        &to_ana[1],
        &["125.50 CUP", beto.name, "Saldo 374.50 CUP", &receipt],
    );
    let to_beto = pagos.sms_to(&beto).await?;
    assert_eq!(to_beto.len(), 1, "{to_beto:?}");
    assert_sms(
        &to_beto[0],
        &["125.50 CUP", ana.name, "Saldo 125.50 CUP", &receipt],
    );
    assert!(pagos.sms_to(&carla).await?.is_empty());

    // Cash out at BANDEC: the balance drops, and Ana reads it as money that left her wallet.
    let withdrawal = pagos
        .cashed(CASH_OUT, &ana, "BANDEC", "100", "extraccion-ana-1")
        .await?;
    assert_eq!(withdrawal["kind"], "cash_out", "{withdrawal}");
    assert_eq!(withdrawal["amount"], "100,00 CUP", "{withdrawal}");
    assert_eq!(pagos.wallet_cup(&ana).await?, 274_50);
    let path = format!(
        "{OPERATIONS}/{}",
        withdrawal["id"].as_str().unwrap_or_default()
    );
    let seen_by_ana = pagos.get_ok(&path, &ana.token).await?;
    assert_eq!(seen_by_ana["direction"], "sent", "{seen_by_ana}");
    assert_eq!(seen_by_ana["counterparty"], "BANDEC", "{seen_by_ana}");
    let to_ana = pagos.sms_to(&ana).await?;
    assert_eq!(to_ana.len(), 3, "{to_ana:?}");
    let withdrawal_receipt = assert_receipt_code(&withdrawal["receipt_code"]);
    assert_sms(
        &to_ana[2],
        &[
            "100.00 CUP",
            "BANDEC",
            "Saldo 274.50 CUP",
            &withdrawal_receipt,
        ],
    );

    // The CSV statement reads the same way: Beto was paid by Ana, Ana's cash-out left her.
    let today = jiff::Timestamp::from_millisecond(pagos.state.clock.now_ms())?
        .to_zoned(pagos.state.payments.time_zone.clone())
        .date();
    let path = format!(
        "/api/v1/payments/statement.csv?from={}&to={}",
        today.yesterday()?,
        today.tomorrow()?
    );
    for (person, kind, expected) in [
        (
            &beto,
            "Transferencia entre personas",
            format!("recibida,{}", ana.name),
        ),
        (
            &ana,
            "Transferencia entre personas",
            format!("enviada,{}", beto.name),
        ),
        (&ana, "Extracción al banco", "enviada,BANDEC".to_owned()),
        (&ana, "Depósito desde el banco", "recibida,BPA".to_owned()),
    ] {
        let response = pagos.get(&path, &person.token).await?;
        assert_eq!(response.status, 200, "{}", response.text());
        let csv = response.text();
        let line = csv
            .lines()
            .find(|line| line.contains(kind))
            .ok_or_else(|| format!("no «{kind}» in {csv}"))?;
        assert!(
            line.contains(&expected),
            "«{expected}» missing from «{line}»"
        );
    }

    pagos.assert_books(&[&ana, &beto, &carla]).await?;
    pagos.stop().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Idempotency
// ---------------------------------------------------------------------------------------------

async fn a_key_moves_money_once_however_often_it_is_sent(database: TestDatabase) -> TestResult {
    let pagos = Pagos::start(&database.db).await?;
    let ana = pagos.person(ANA).await?;
    let beto = pagos.person(BETO).await?;
    let deposit = pagos
        .cashed(CASH_IN, &ana, "BPA", "500", "deposito-1")
        .await?;
    // The operator's retry of the deposit finds it: the money comes in once.
    let again = pagos
        .cashed(CASH_IN, &ana, "BPA", "500", "deposito-1")
        .await?;
    assert_eq!(again, deposit);
    assert_eq!(pagos.available(&ana, Currency::Cup), 500_00);
    // The same key on another route, or for another person, is another request.
    let response = pagos
        .cash(CASH_OUT, &ana, "BPA", "500", "deposito-1")
        .await?;
    assert_refused(
        &response,
        422,
        "payment_idempotency_key_reused",
        CASH_OUT,
        "Idempotency-Key",
    );

    // Sent twice with one key: one operation, the same answer, money and messages once.
    let first = pagos.sent(&ana, &beto, "10", "clave-1").await?;
    let second = pagos.sent(&ana, &beto, "10.00", "clave-1").await?;
    assert_eq!(second, first, "a retry gets the same answer");
    assert_eq!(pagos.available(&ana, Currency::Cup), 490_00);
    assert_eq!(pagos.available(&beto, Currency::Cup), 10_00);
    assert_eq!(pagos.sms_to(&beto).await?.len(), 1);
    assert_eq!(
        pagos.sms_to(&ana).await?.len(),
        2,
        "the deposit's and the transfer's"
    );

    // The same key for another request is refused, whatever differs.
    let books = pagos.books(&[&ana, &beto]).await?;
    for body in [
        json!({"to_phone": beto.phone, "currency": "CUP", "amount": "11"}),
        json!({"to_phone": beto.phone, "currency": "CUP", "amount": "10", "note": "otra"}),
        json!({"to_phone": CARLA.0, "currency": "CUP", "amount": "10"}),
        json!({"to_phone": beto.phone, "currency": "USD", "amount": "10"}),
    ] {
        let response = pagos
            .post(TRANSFERS, &ana.token, Some("clave-1"), &body)
            .await?;
        if body["to_phone"] == CARLA.0 {
            // Nobody has that number yet: the recipient is checked first.
            assert_refused(
                &response,
                422,
                "payment_recipient_unknown",
                TRANSFERS,
                "teléfono",
            );
            continue;
        }
        assert_refused(
            &response,
            422,
            "payment_idempotency_key_reused",
            TRANSFERS,
            "otra",
        );
    }
    // Keys are per person: Beto's "clave-1" is his own.
    let back = pagos.sent(&beto, &ana, "1", "clave-1").await?;
    assert_ne!(back["id"], first["id"]);
    assert_eq!(pagos.available(&ana, Currency::Cup), 491_00);
    let after = pagos.books(&[&ana, &beto]).await?;
    assert_eq!(
        after.completed,
        books.completed + 2,
        "one operation, seen by both"
    );
    assert_eq!(after.sms, books.sms + 2);

    // An answer lost on the way: the client sends the same request again, and again later.
    let lost = pagos.sent(&ana, &beto, "20", "clave-perdida").await?;
    for _ in 0..2 {
        assert_eq!(pagos.sent(&ana, &beto, "20", "clave-perdida").await?, lost);
    }
    assert_eq!(pagos.available(&ana, Currency::Cup), 471_00);
    assert_eq!(pagos.available(&beto, Currency::Cup), 29_00);

    // Several copies at once: the money moves once; each copy is answered with the operation
    // or told it is still in progress.
    let books = pagos.books(&[&ana, &beto]).await?;
    let url = pagos.server.url(TRANSFERS);
    let authorization = format!("Bearer {}", ana.token);
    let body = json!({"to_phone": beto.phone, "currency": "CUP", "amount": "7"}).to_string();
    let mut copies = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (url, authorization, body) = (url.clone(), authorization.clone(), body.clone());
        copies.spawn(async move {
            let headers = [
                ("authorization", authorization.as_str()),
                ("content-type", "application/json"),
                ("idempotency-key", "clave-concurrente"),
            ];
            send("POST", &url, &headers, body.into_bytes()).await
        });
    }
    let mut ids = Vec::new();
    while let Some(answer) = copies.join_next().await {
        let response = answer??;
        match response.status {
            201 => ids.push(response.json()?["id"].clone()),
            409 => {
                assert_problem(&response, 409, "payment_in_progress", TRANSFERS);
            }
            other => return Err(format!("a copy answered {other}: {}", response.text()).into()),
        }
    }
    assert!(!ids.is_empty(), "no copy was answered with the operation");
    ids.dedup();
    assert_eq!(
        ids.len(),
        1,
        "the copies made different operations: {ids:?}"
    );
    let settled = pagos.sent(&ana, &beto, "7", "clave-concurrente").await?;
    assert_eq!(settled["id"], ids[0]);
    let after = pagos.books(&[&ana, &beto]).await?;
    assert_eq!(after.balances, [(464_00, 0), (36_00, 0)]);
    assert_eq!(
        after.completed,
        books.completed + 2,
        "one operation, seen by both"
    );
    assert_eq!(after.sms, books.sms + 2, "one message to each");

    pagos.assert_books(&[&ana, &beto]).await?;
    pagos.stop().await;
    Ok(())
}

/// A server that records an operation but cannot reach the ledger answers 503 and leaves it
/// pending; the retry with the same key, to a server that writes, finishes it once.
async fn a_retry_finishes_what_an_unavailable_ledger_left_pending(
    database: TestDatabase,
) -> TestResult {
    let db = &database.db;
    let pagos = Pagos::start(db).await?;
    let ana = pagos.person(ANA).await?;
    let beto = pagos.person(BETO).await?;
    pagos
        .cashed(CASH_IN, &ana, "BPA", "100", "deposito-1")
        .await?;

    // A second server whose ledger follows the first's and does not write.
    let follower = LedgerEngine::start(
        db.clone(),
        LeaseHolder::new("seguidor"),
        ceiba_store::system_clock(),
    )
    .await?;
    let mut state = test_state(db);
    state.ledger = Some(follower.clone());
    state.payments = pagos.state.payments.clone();
    state.clock = pagos.state.clock.clone();
    let other = TestServer::with_state(state, ServerLimits::default()).await?;
    let deposit_seen = || {
        follower
            .read()
            .state
            .account(accounts::wallet(&ana.id, Currency::Cup))
            .is_some_and(|account| account.balances.credits_posted == 100_00)
    };
    for _ in 0..100 {
        if deposit_seen() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(deposit_seen(), "the follower never caught up");
    assert!(!follower.is_writer());

    let body = json!({"to_phone": beto.phone, "currency": "CUP", "amount": "40"});
    let authorization = format!("Bearer {}", ana.token);
    let headers = [
        ("authorization", authorization.as_str()),
        ("idempotency-key", "clave-cortada"),
    ];
    let response = other.send_json("POST", TRANSFERS, &body, &headers).await?;
    assert_refused(&response, 503, "ledger_not_writer", TRANSFERS, "libro");
    let rows = pagos.rows_of(&ana.id).await?;
    assert_eq!(rows[0].status, OperationStatus::Pending, "{rows:?}");
    assert_eq!(rows[0].idempotency_key.as_deref(), Some("clave-cortada"));
    assert_eq!(pagos.available(&ana, Currency::Cup), 100_00);
    assert!(pagos.sms_to(&beto).await?.is_empty());
    // The payer sees it pending; the payee does not see it yet.
    let path = format!("{OPERATIONS}/{}", rows[0].id);
    let pending = pagos.get_ok(&path, &ana.token).await?;
    assert_eq!(pending["status"], "pending", "{pending}");
    assert!(pending["receipt_code"].is_null(), "{pending}");
    assert_problem(
        &pagos.get(&path, &beto.token).await?,
        404,
        "not_found",
        &path,
    );

    let finished = pagos.sent(&ana, &beto, "40", "clave-cortada").await?;
    assert_eq!(finished["id"], rows[0].id.as_str());
    assert_eq!(finished["status"], "completed", "{finished}");
    assert_eq!(
        pagos.sent(&ana, &beto, "40", "clave-cortada").await?,
        finished
    );
    assert_eq!(pagos.available(&ana, Currency::Cup), 60_00);
    assert_eq!(pagos.available(&beto, Currency::Cup), 40_00);
    assert_eq!(pagos.sms_to(&beto).await?.len(), 1);
    assert_eq!(
        settle_stale(&pagos.state, 0)
            .await
            .map_err(|e| format!("{e:?}"))?,
        0
    );

    pagos.assert_books(&[&ana, &beto]).await?;
    follower.stop().await;
    pagos.stop().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

async fn refusals_say_why_in_spanish_and_move_nothing(database: TestDatabase) -> TestResult {
    let pagos = Pagos::start(&database.db).await?;
    let ana = pagos.person(ANA).await?;
    let beto = pagos.person(BETO).await?;
    pagos
        .cashed(CASH_IN, &ana, "BPA", "100", "deposito-1")
        .await?;
    let people = [&ana, &beto];
    let books = pagos.books(&people).await?;

    let to = |phone: &str, amount: Value| json!({"to_phone": phone, "currency": "CUP", "amount": amount});
    let cases = [
        (
            to("+53 5999 9999", json!("5")),
            "payment_recipient_unknown",
            "teléfono",
        ),
        (
            to(ana.phone, json!("5")),
            "payment_recipient_is_self",
            "sí mismo",
        ),
        (to("12345", json!("5")), "validation_failed", "número"),
        (
            to("+34 600 000 000", json!("5")),
            "validation_failed",
            "no es cubano",
        ),
        (
            to(beto.phone, json!("0")),
            "payment_invalid_amount",
            "mayor que cero",
        ),
        (
            to(beto.phone, json!("-5")),
            "payment_invalid_amount",
            "negativo",
        ),
        (
            to(beto.phone, json!(-5)),
            "payment_invalid_amount",
            "negativo",
        ),
        (
            to(beto.phone, json!("12.345")),
            "payment_invalid_amount",
            "dos decimales",
        ),
        (
            to(beto.phone, json!(12.345)),
            "payment_invalid_amount",
            "dos decimales",
        ),
        (
            to(beto.phone, json!("abc")),
            "payment_invalid_amount",
            "no es un número",
        ),
        (
            to(beto.phone, json!("1e3")),
            "payment_invalid_amount",
            "no es un número",
        ),
        (
            to(beto.phone, json!("1.234,50")),
            "payment_invalid_amount",
            "no es un número",
        ),
        (to(beto.phone, json!("")), "payment_invalid_amount", "falta"),
        (
            json!({"to_phone": beto.phone, "currency": "EUR", "amount": "5"}),
            "payment_invalid_currency",
            "EUR",
        ),
        (
            json!({"to_phone": beto.phone, "currency": "CUP", "amount": "5", "note": "x".repeat(141)}),
            "validation_failed",
            "nota",
        ),
        (
            json!({"to_phone": beto.phone, "currency": "CUP", "amount": "5", "note": "a\nb"}),
            "validation_failed",
            "nota",
        ),
        (
            json!({"to_phone": beto.phone, "currency": "CUP", "amount": "5", "balance": 1}),
            "validation_failed",
            "balance",
        ),
    ];
    for (body, code, spanish) in &cases {
        let response = pagos
            .post(TRANSFERS, &ana.token, Some("clave-rechazo"), body)
            .await?;
        assert_refused(&response, 422, code, TRANSFERS, spanish);
        assert_eq!(pagos.books(&people).await?, books, "{body}");
    }
    // None of them used the key.
    let ok = pagos.sent(&ana, &beto, "1", "clave-rechazo").await?;
    assert_eq!(ok["status"], "completed", "{ok}");
    let books = pagos.books(&people).await?;

    // The recipient lookup refuses the same way.
    for (phone, status, code, spanish) in [
        (
            "+53 5999 9999",
            422,
            "payment_recipient_unknown",
            "teléfono",
        ),
        (ana.phone, 422, "payment_recipient_is_self", "sí mismo"),
        ("12345", 422, "validation_failed", "número"),
    ] {
        let path = format!("{RECIPIENTS}?phone={}", query_phone(phone));
        let response = pagos.get(&path, &ana.token).await?;
        assert_refused(&response, status, code, RECIPIENTS, spanish);
    }
    let response = pagos.get(RECIPIENTS, &ana.token).await?;
    assert_problem(&response, 400, "bad_request", RECIPIENTS);

    // More than the balance: refused by the ledger, recorded as refused, answered the same
    // way on every retry with its key, even once the money is there.
    let response = pagos
        .transfer(&ana, beto.phone, json!("150"), Some("sin-saldo"))
        .await?;
    assert_refused(
        &response,
        422,
        "payment_insufficient_funds",
        TRANSFERS,
        "Saldo insuficiente",
    );
    let detail = response.json()?["detail"].clone();
    let rows = pagos.rows_of(&ana.id).await?;
    let refused = &rows[0];
    assert_eq!(refused.status, OperationStatus::Refused, "{rows:?}");
    assert_eq!(
        refused.refusal_code.as_deref(),
        Some("payment_insufficient_funds")
    );
    assert_eq!(refused.receipt_code, None);
    let path = format!("{OPERATIONS}/{}", refused.id);
    let seen = pagos.get_ok(&path, &ana.token).await?;
    assert_eq!(seen["status"], "refused", "{seen}");
    assert_eq!(seen["refusal_code"], "payment_insufficient_funds", "{seen}");
    assert_problem(
        &pagos.get(&path, &beto.token).await?,
        404,
        "not_found",
        &path,
    );
    let listed = pagos.get_ok(OPERATIONS, &beto.token).await?;
    assert_eq!(
        listed["operations"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    let retry = pagos
        .transfer(&ana, beto.phone, json!("150"), Some("sin-saldo"))
        .await?;
    assert_refused(
        &retry,
        422,
        "payment_insufficient_funds",
        TRANSFERS,
        "Saldo insuficiente",
    );
    assert_eq!(retry.json()?["detail"], detail);
    assert_eq!(
        pagos.rows_of(&ana.id).await?.len(),
        rows.len(),
        "no second row"
    );
    assert_eq!(pagos.books(&people).await?, books);
    // Cash out of more than the wallet holds.
    let response = pagos
        .cash(CASH_OUT, &ana, "BPA", "1000", "extraccion-1")
        .await?;
    assert_refused(
        &response,
        422,
        "payment_insufficient_funds",
        CASH_OUT,
        "Saldo insuficiente",
    );
    assert_eq!(pagos.books(&people).await?, books);

    // A key that is not one.
    let long = "x".repeat(256);
    for key in ["", "   ", "con espacio", "\"\"", long.as_str()] {
        let response = pagos
            .transfer(&ana, beto.phone, json!("1"), Some(key))
            .await?;
        assert_refused(&response, 400, "bad_request", TRANSFERS, "Idempotency-Key");
    }
    let key = "y".repeat(255);
    let response = pagos.cash(CASH_IN, &ana, "BPA", "1", &key).await?;
    assert_eq!(
        response.status,
        201,
        "a key of 255 characters is fine: {}",
        response.text()
    );
    let books = pagos.books(&people).await?;
    let response = pagos.cash(CASH_IN, &ana, "BPA", "1", &long).await?;
    assert_refused(&response, 400, "bad_request", CASH_IN, "Idempotency-Key");

    // Cash in at a bank that does not take part, or for nobody.
    let response = pagos
        .cash(CASH_IN, &ana, "BBVA", "10", "deposito-2")
        .await?;
    assert_refused(
        &response,
        422,
        "payment_unknown_bank",
        CASH_IN,
        "«BBVA» no es un banco",
    );
    let nobody = Person {
        phone: "+53 5999 9999",
        ..ana.clone()
    };
    let response = pagos
        .cash(CASH_IN, &nobody, "BPA", "10", "deposito-3")
        .await?;
    assert_refused(
        &response,
        422,
        "payment_recipient_unknown",
        CASH_IN,
        "teléfono",
    );

    // A citizen is no bank operator; nobody signed in is nobody.
    for path in [CASH_IN, CASH_OUT] {
        let body = json!({"phone": ana.phone, "bank": "BPA", "currency": "CUP", "amount": "10"});
        let response = pagos.post(path, &ana.token, Some("propio"), &body).await?;
        assert_problem(&response, 403, "forbidden", path);
        let response = pagos.server.send_json("POST", path, &body, &[]).await?;
        assert_problem(&response, 401, "unauthenticated", path);
    }
    let response = pagos
        .server
        .send_json("POST", TRANSFERS, &to(beto.phone, json!("1")), &[])
        .await?;
    assert_problem(&response, 401, "unauthenticated", TRANSFERS);
    for path in [WALLET, OPERATIONS, RECIPIENTS] {
        assert_problem(&pagos.server.get(path).await?, 401, "unauthenticated", path);
    }
    assert_eq!(pagos.books(&people).await?, books);

    pagos.assert_books(&people).await?;
    pagos.stop().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Limits and caps
// ---------------------------------------------------------------------------------------------

async fn the_central_bank_limits_and_a_persons_own_are_enforced(
    database: TestDatabase,
) -> TestResult {
    let db = &database.db;
    let limits = Limits::central_bank()
        .with(
            Currency::Cup,
            CurrencyLimits {
                daily_minor: 100_00,
                monthly_minor: 150_00,
            },
        )
        .with(
            Currency::Usd,
            CurrencyLimits {
                daily_minor: 100_00,
                monthly_minor: 50_00,
            },
        );
    let settings = PaymentSettings {
        limits,
        ..PaymentSettings::standard(RECEIPT_KEY)
    };
    let pagos = Pagos::with_settings(db, settings).await?;
    let ana = pagos.person(ANA).await?;
    let beto = pagos.person(BETO).await?;
    let carla = pagos.person(CARLA).await?;
    let dani = pagos.person(DANI).await?;
    let people = [&ana, &beto, &carla, &dani];
    for person in [&ana, &carla, &dani] {
        // Cash in does not count toward the limits.
        pagos
            .cashed(CASH_IN, person, "BPA", "500", &person.id)
            .await?;
    }

    pagos.sent(&ana, &beto, "60", "envio-1").await?;
    pagos.sent(&ana, &beto, "30", "envio-2").await?;
    let books = pagos.books(&people).await?;
    let response = pagos
        .transfer(&ana, beto.phone, json!("20"), Some("envio-3"))
        .await?;
    assert_refused(
        &response,
        422,
        "payment_limit_exceeded",
        TRANSFERS,
        "Supera el límite diario del Banco Central (100,00 CUP); le quedan 10,00 CUP hoy.",
    );
    assert_eq!(pagos.books(&people).await?, books);
    assert_eq!(
        pagos.rows_of(&ana.id).await?.len(),
        3,
        "a refusal by a limit records nothing"
    );
    // Exactly up to the limit is fine; the refused key was not used.
    pagos.sent(&ana, &beto, "10", "envio-3").await?;
    assert_eq!(pagos.available(&ana, Currency::Cup), 400_00);
    // Money received does not count either: Beto sends on.
    pagos.sent(&beto, &carla, "100", "reenvio").await?;

    // The monthly limit, in dollars (50 a month, 100 a day).
    let body = json!({"phone": ana.phone, "bank": "BPA", "currency": "USD", "amount": "80"});
    created(
        &pagos
            .post(CASH_IN, &pagos.operator, Some("usd-1"), &body)
            .await?,
    )?;
    let usd = |amount: &str| json!({"to_phone": beto.phone, "currency": "USD", "amount": amount});
    let response = pagos.post(TRANSFERS, &ana.token, None, &usd("60")).await?;
    assert_refused(
        &response,
        422,
        "payment_limit_exceeded",
        TRANSFERS,
        "Supera el límite mensual del Banco Central (50,00 USD); le quedan 50,00 USD este mes.",
    );
    created(&pagos.post(TRANSFERS, &ana.token, None, &usd("50")).await?)?;
    assert_eq!(pagos.available(&beto, Currency::Usd), 50_00);

    // Limits of one's own, lower than the Central Bank's.
    db.set_personal_limits(&carla.id, "CUP", Some(40_00), None)
        .await?;
    db.set_personal_limits(&dani.id, "CUP", None, Some(25_00))
        .await?;
    pagos.sent(&carla, &beto, "30", "propio-1").await?;
    let response = pagos
        .transfer(&carla, beto.phone, json!("20"), Some("propio-2"))
        .await?;
    assert_refused(
        &response,
        422,
        "payment_limit_exceeded",
        TRANSFERS,
        "Supera el límite diario que usted fijó (40,00 CUP); le quedan 10,00 CUP hoy.",
    );
    let response = pagos
        .transfer(&dani, beto.phone, json!("30"), Some("propio-3"))
        .await?;
    assert_refused(
        &response,
        422,
        "payment_limit_exceeded",
        TRANSFERS,
        "Supera el límite mensual que usted fijó (25,00 CUP); le quedan 25,00 CUP este mes.",
    );
    // The Central Bank's limit still applies under a personal one above it.
    db.set_personal_limits(&dani.id, "CUP", Some(200_00), Some(200_00))
        .await?;
    let response = pagos
        .transfer(&dani, beto.phone, json!("120"), Some("propio-4"))
        .await?;
    assert_refused(
        &response,
        422,
        "payment_limit_exceeded",
        TRANSFERS,
        "Banco Central",
    );

    // A refusal by the ledger does not use up the limit: Dani tries more than he holds.
    pagos
        .cashed(CASH_OUT, &dani, "BPA", "450", "vaciar")
        .await?;
    let response = pagos
        .transfer(&dani, beto.phone, json!("60"), Some("propio-5"))
        .await?;
    assert_refused(
        &response,
        422,
        "payment_insufficient_funds",
        TRANSFERS,
        "Saldo",
    );
    pagos
        .cashed(CASH_IN, &dani, "BPA", "450", "rellenar")
        .await?;

    // Many requests at once cannot slip past the limit together: 100 a day, 8 × 20 at once.
    let url = pagos.server.url(TRANSFERS);
    let authorization = format!("Bearer {}", dani.token);
    let body = json!({"to_phone": beto.phone, "currency": "CUP", "amount": "20"}).to_string();
    let mut requests = tokio::task::JoinSet::new();
    for index in 0..8 {
        let (url, authorization, body) = (url.clone(), authorization.clone(), body.clone());
        requests.spawn(async move {
            let key = format!("a-la-vez-{index}");
            let headers = [
                ("authorization", authorization.as_str()),
                ("content-type", "application/json"),
                ("idempotency-key", key.as_str()),
            ];
            send("POST", &url, &headers, body.into_bytes()).await
        });
    }
    let (mut accepted, mut refused) = (0, 0);
    while let Some(answer) = requests.join_next().await {
        let response = answer??;
        match response.status {
            201 => accepted += 1,
            _ => {
                assert_problem(&response, 422, "payment_limit_exceeded", TRANSFERS);
                refused += 1;
            }
        }
    }
    assert_eq!((accepted, refused), (5, 3));
    assert_eq!(pagos.available(&dani, Currency::Cup), 400_00);

    pagos.assert_books(&people).await?;
    pagos.stop().await;
    Ok(())
}

async fn a_wallet_never_passes_its_cap(database: TestDatabase) -> TestResult {
    let settings = PaymentSettings {
        caps: WalletCaps::default_caps().with(Currency::Cup, 300_00),
        ..PaymentSettings::standard(RECEIPT_KEY)
    };
    let pagos = Pagos::with_settings(&database.db, settings).await?;
    let ana = pagos.person(ANA).await?;
    let beto = pagos.person(BETO).await?;
    let people = [&ana, &beto];
    let wallet = pagos.get_ok(WALLET, &beto.token).await?;
    assert_eq!(wallet["balances"][0]["cap_minor"], 300_00, "{wallet}");
    pagos
        .cashed(CASH_IN, &beto, "BPA", "250", "deposito-beto")
        .await?;
    pagos
        .cashed(CASH_IN, &ana, "BPA", "200", "deposito-ana")
        .await?;
    let books = pagos.books(&people).await?;

    let response = pagos
        .transfer(&ana, beto.phone, json!("100"), Some("lleno"))
        .await?;
    assert_refused(
        &response,
        422,
        "payment_recipient_wallet_full",
        TRANSFERS,
        "superaría su tope",
    );
    assert_eq!(pagos.books(&people).await?, books);
    let rows = pagos.rows_of(&ana.id).await?;
    assert_eq!(
        rows[0].refusal_code.as_deref(),
        Some("payment_recipient_wallet_full")
    );
    // A deposit past the cap is refused the same way.
    let response = pagos
        .cash(CASH_IN, &beto, "BPA", "50.01", "deposito-2")
        .await?;
    assert_refused(
        &response,
        422,
        "payment_recipient_wallet_full",
        CASH_IN,
        "tope",
    );
    assert_eq!(pagos.books(&people).await?, books);

    // Up to the cap exactly.
    pagos.sent(&ana, &beto, "50", "justo").await?;
    assert_eq!(pagos.wallet_cup(&beto).await?, 300_00);
    assert_eq!(pagos.wallet_cup(&ana).await?, 150_00);
    let response = pagos
        .transfer(&ana, beto.phone, json!("0.01"), None)
        .await?;
    assert_refused(
        &response,
        422,
        "payment_recipient_wallet_full",
        TRANSFERS,
        "tope",
    );
    // Spending makes room again.
    pagos.sent(&beto, &ana, "100", "devolucion").await?;
    pagos.sent(&ana, &beto, "100", "otra-vez").await?;
    assert_eq!(pagos.wallet_cup(&beto).await?, 300_00);

    pagos.assert_books(&people).await?;
    pagos.stop().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Recovery
// ---------------------------------------------------------------------------------------------

/// Records a pending transfer from `from` to `to` as the API would, without going on.
async fn begin_pending(
    pagos: &Pagos,
    id: u128,
    from: &Person,
    to: &Person,
    amount_minor: u64,
) -> Result<OperationRow, String> {
    let id = id.to_string();
    let created_at_ms = pagos.state.clock.now_ms() - 60_000;
    let new = NewOperation {
        id: &id,
        user_id: &from.id,
        idempotency_key: None,
        request_hash: b"recuperacion",
        kind: OperationKind::PersonToPerson.as_str(),
        currency: "CUP",
        amount_minor,
        fee_minor: 0,
        counterparty_user_id: Some(&to.id),
        counterparty_label: to.name,
        note: "",
        counts_toward_limits: true,
        created_at_ms,
    };
    let windows = pagos.state.payments.windows(created_at_ms);
    match pagos
        .db
        .begin_payment(&new, windows, |_| Ok::<(), String>(()))
        .await
        .map_err(|e| e.to_string())?
    {
        BeginPayment::Started(row) => Ok(row),
        other => Err(format!("not started: {other:?}")),
    }
}

async fn the_recovery_sweep_settles_pending_operations_once(database: TestDatabase) -> TestResult {
    let pagos = Pagos::start(&database.db).await?;
    let ana = pagos.person(ANA).await?;
    let beto = pagos.person(BETO).await?;
    let people = [&ana, &beto];
    pagos
        .cashed(CASH_IN, &ana, "BPA", "200", "deposito-1")
        .await?;
    let sweep = || async {
        settle_stale(&pagos.state, 0)
            .await
            .map_err(|e| format!("{e:?}"))
    };
    assert_eq!(sweep().await?, 0, "nothing pending yet");

    // A crash after recording: nothing moved yet.
    let stalled = begin_pending(&pagos, 1_000_001, &ana, &beto, 40_00).await?;
    // A crash after the ledger moved the money, before the outcome was recorded.
    let moved = begin_pending(&pagos, 1_000_002, &ana, &beto, 25_00).await?;
    let legs = plan::person_to_person(
        1_000_002,
        &ana.id,
        &beto.id,
        Money::from_minor(25_00, Currency::Cup),
        Money::zero(Currency::Cup),
    );
    pagos.engine.create_transfers(legs).await?;
    // One that cannot be done: more than is left.
    let hopeless = begin_pending(&pagos, 1_000_003, &ana, &beto, 500_00).await?;
    assert_eq!(pagos.available(&ana, Currency::Cup), 175_00);
    // Pending operations count toward the limits, and the payee does not see them.
    let listed = pagos.get_ok(OPERATIONS, &beto.token).await?;
    assert_eq!(listed["operations"], json!([]), "{listed}");

    assert_eq!(sweep().await?, 3);
    for (row, status) in [
        (&stalled, OperationStatus::Completed),
        (&moved, OperationStatus::Completed),
        (&hopeless, OperationStatus::Refused),
    ] {
        let now = pagos
            .db
            .payment_operation(&row.id)
            .await?
            .ok_or("the operation is gone")?;
        assert_eq!(now.status, status, "{now:?}");
        if status == OperationStatus::Completed {
            let code = now.receipt_code.as_deref().unwrap_or_default();
            assert!(ReceiptCode::verify(
                &RECEIPT_KEY,
                now.id.parse()?,
                OperationKind::PersonToPerson,
                Money::from_minor(now.amount_minor, Currency::Cup),
                now.created_at_ms,
                code,
            ));
        }
    }
    assert_eq!(pagos.available(&ana, Currency::Cup), 135_00);
    assert_eq!(pagos.available(&beto, Currency::Cup), 65_00);
    let to_beto = pagos.sms_to(&beto).await?;
    assert_eq!(to_beto.len(), 2, "{to_beto:?}");
    assert_sms(&to_beto[0], &["40.00 CUP", ana.name]);
    assert_sms(&to_beto[1], &["25.00 CUP", ana.name, "Saldo 65.00 CUP"]);
    assert_eq!(
        pagos.sms_to(&ana).await?.len(),
        3,
        "the deposit's and two transfers'"
    );
    let listed = pagos.get_ok(OPERATIONS, &beto.token).await?;
    assert_eq!(
        listed["operations"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );

    // Again: nothing left to do, nothing moves, nothing is sent.
    let books = pagos.books(&people).await?;
    assert_eq!(sweep().await?, 0);
    assert_eq!(pagos.books(&people).await?, books);

    pagos.assert_books(&people).await?;
    pagos.stop().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------------

async fn the_openapi_document_lists_the_payment_routes(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let document = openapi_document(&server).await?;
    for (path, method) in [
        (WALLET, "get"),
        (RECIPIENTS, "get"),
        (TRANSFERS, "post"),
        (CASH_IN, "post"),
        (CASH_OUT, "post"),
        (OPERATIONS, "get"),
        ("/api/v1/payments/operations/{id}", "get"),
        ("/api/v1/payments/bank-accounts", "get"),
        ("/api/v1/payments/bank-accounts/{id}", "delete"),
        ("/api/v1/payments/bank-accounts/{id}/deposits", "post"),
        ("/api/v1/payments/bank-accounts/{id}/withdrawals", "post"),
    ] {
        let operation = assert_bearer_route(&document, path, method, "pagos");
        if method == "post" {
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert!(
                parameters
                    .iter()
                    .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"),
                "{path} does not document its Idempotency-Key: {operation}"
            );
        }
    }
    let schemas = &document["components"]["schemas"];
    for schema in [
        "SendBody",
        "CashBody",
        "OperationView",
        "OperationsPage",
        "WalletView",
    ] {
        assert!(schemas[schema].is_object(), "{schema} missing");
    }
    assert_eq!(
        schemas["SendBody"]["properties"]["amount"]["type"], "string",
        "amounts are decimal strings: {}",
        schemas["SendBody"]
    );
    Ok(())
}
