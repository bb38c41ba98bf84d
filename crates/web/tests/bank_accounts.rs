//! Linked bank accounts over HTTP, on each engine: linking (number validated, kept masked),
//! the list, deposits and withdrawals held until the (simulated) bank confirms, a bank that
//! refuses or does not answer, insufficient funds, the wallet's cap, an unlinked account, and
//! a retried key that moves money once. After each scenario the ledger is sound and what the
//! wallets hold is what the banks' settlement accounts gave.
// Amounts in centavos are written pesos_centavos: `125_50` is 125,50 CUP.
#![allow(clippy::inconsistent_digit_grouping)]

use std::sync::Arc;

use ceiba_identity::Role;
use ceiba_payments::{BANKS, Currency, HoldState, WalletCaps, accounts};
use ceiba_store::{Db, LedgerEngine, OperationStatus};
use ceiba_testkit::each_engine;
use ceiba_testkit::http::Response;
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use ceiba_web::bank_accounts::SimulatedBank;
use ceiba_web::payments::PaymentSettings;
use ceiba_web::{AppState, ServerLimits};
use serde_json::{Value, json};

mod support;
use support::{
    TestServer, assert_ledger_sound, assert_problem, available_minor, hold_ends, ledger_state,
    pagos_sms_to, post_json_as, signed_in_user,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite:
        a_person_links_deposits_withdraws_and_unlinks,
        a_bank_that_refuses_or_is_silent_moves_nothing,
        a_bank_that_never_answers_lets_the_hold_expire_and_reverse,
        a_key_moves_money_once_and_the_cap_holds,
    );
    suite.run()
}

const ACCOUNTS: &str = "/api/v1/payments/bank-accounts";
const NUMBER: &str = "9205 1299 0001 2345";
const ANA: (&str, &str) = ("+53 5200 1001", "Ana Pérez");
const BETO: (&str, &str) = ("+53 5200 1002", "Roberto Díaz");

struct Bancos {
    state: AppState,
    server: TestServer,
    engine: LedgerEngine,
    db: Db,
    bank: Arc<SimulatedBank>,
}

impl Bancos {
    async fn start(db: &Db, settings: PaymentSettings) -> Result<Bancos, String> {
        let mut state = ledger_state(db).await?;
        state.payments = Arc::new(settings);
        let bank = Arc::new(SimulatedBank::new());
        state.bank_connector = bank.clone();
        let engine = state.ledger.clone().ok_or("the state has no ledger")?;
        let server = TestServer::with_state(state.clone(), ServerLimits::default())
            .await
            .map_err(|e| e.to_string())?;
        Ok(Bancos {
            state,
            server,
            engine,
            db: db.clone(),
            bank,
        })
    }

    async fn stop(mut self) {
        self.server.shut_down();
        self.engine.stop().await;
    }

    /// A citizen signed in: id and token.
    async fn person(&self, (phone, name): (&str, &str)) -> Result<(String, String), String> {
        signed_in_user(&self.server, &self.db, phone, name, &[Role::Citizen]).await
    }

    /// Links `NUMBER` at BPA in CUP; must answer 201: the account's id.
    async fn link(&self, token: &str, key: &str) -> Result<String, String> {
        let body = json!({"bank": "bpa", "currency": "CUP", "alias": "Ahorros",
            "account_number": NUMBER});
        let response = post_json_as(&self.server, ACCOUNTS, token, Some(key), &body).await?;
        if response.status != 201 {
            return Err(format!("link: {} {}", response.status, response.text()));
        }
        let account = response.json()?;
        Ok(account["id"].as_str().ok_or("no id")?.to_owned())
    }

    async fn moved(
        &self,
        token: &str,
        account: &str,
        what: &str,
        amount: &str,
        key: Option<&str>,
    ) -> Result<Response, String> {
        let path = format!("{ACCOUNTS}/{account}/{what}");
        post_json_as(&self.server, &path, token, key, &json!({"amount": amount})).await
    }

    /// The CUP the wallets hold must be what the banks' settlement accounts gave.
    fn assert_conserved(&self, people: &[&str]) {
        assert_ledger_sound(&self.engine);
        let state = &self.engine.read().state;
        let given: i128 = BANKS
            .iter()
            .filter_map(|bank| state.account(accounts::bank_settlement(bank, Currency::Cup)))
            .map(|account| {
                let b = account.balances;
                signed(b.debits_posted) - signed(b.credits_posted)
            })
            .sum();
        let held: i128 = people
            .iter()
            .filter_map(|id| state.account(accounts::wallet(id, Currency::Cup)))
            .map(|account| {
                let b = account.balances;
                signed(b.credits_posted) - signed(b.debits_posted)
            })
            .sum();
        assert_eq!(given, held, "money is conserved");
    }
}

fn signed(amount: u128) -> i128 {
    i128::try_from(amount).expect("amounts fit")
}

fn created(response: &Response) -> Result<Value, String> {
    if response.status != 201 {
        return Err(format!("{} {}", response.status, response.text()));
    }
    response.json()
}

async fn a_person_links_deposits_withdraws_and_unlinks(database: TestDatabase) -> TestResult {
    let bancos = Bancos::start(&database.db, PaymentSettings::standard([7; 32])).await?;
    let (ana, token) = bancos.person(ANA).await?;
    let (beto, beto_token) = bancos.person(BETO).await?;

    // Bad input: the number, the bank, the currency.
    for (body, code) in [
        (
            json!({"bank": "BPA", "currency": "CUP", "alias": "x", "account_number": "1234"}),
            "payment_bank_account_number_invalid",
        ),
        (
            json!({"bank": "BPA", "currency": "CUP", "alias": "x",
                "account_number": "920512990001234a"}),
            "payment_bank_account_number_invalid",
        ),
        (
            json!({"bank": "NADA", "currency": "CUP", "alias": "x", "account_number": NUMBER}),
            "payment_unknown_bank",
        ),
        (
            json!({"bank": "BPA", "currency": "EUR", "alias": "x", "account_number": NUMBER}),
            "payment_invalid_currency",
        ),
    ] {
        let response = post_json_as(&bancos.server, ACCOUNTS, &token, None, &body).await?;
        assert_problem(&response, 422, code, ACCOUNTS);
    }

    let id = bancos.link(&token, "vincular-1").await?;
    // Linking again (a retry) is the same account.
    assert_eq!(bancos.link(&token, "vincular-2").await?, id);
    let list = bancos.server.with_token("GET", ACCOUNTS, &token).await?;
    assert_eq!(list.status, 200, "{}", list.text());
    assert!(!list.text().contains("92051299"), "{}", list.text());
    let list = list.json()?;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["account_number"], "************2345", "{list}");
    assert_eq!(list[0]["bank"], "BPA", "{list}");
    assert_eq!(list[0]["currency"], "CUP", "{list}");
    assert_eq!(list[0]["alias"], "Ahorros", "{list}");
    // Another person sees none of it and cannot use it.
    let theirs = bancos
        .server
        .with_token("GET", ACCOUNTS, &beto_token)
        .await?;
    assert_eq!(theirs.json()?, json!([]));
    let response = bancos
        .moved(&beto_token, &id, "deposits", "10", None)
        .await?;
    let path = format!("{ACCOUNTS}/{id}/deposits");
    assert_problem(&response, 404, "payment_bank_account_unknown", &path);

    // A deposit, then a withdrawal.
    let deposit = created(
        &bancos
            .moved(&token, &id, "deposits", "500", Some("dep-1"))
            .await?,
    )?;
    assert_eq!(deposit["kind"], "cash_in", "{deposit}");
    assert_eq!(deposit["direction"], "received", "{deposit}");
    assert_eq!(deposit["counterparty"], "BPA", "{deposit}");
    assert!(deposit["receipt_code"].is_string(), "{deposit}");
    assert_eq!(available_minor(&bancos.engine, &ana, Currency::Cup), 500_00);
    let withdrawal = created(
        &bancos
            .moved(&token, &id, "withdrawals", "200.50", Some("ext-1"))
            .await?,
    )?;
    assert_eq!(withdrawal["kind"], "cash_out", "{withdrawal}");
    assert_eq!(withdrawal["direction"], "sent", "{withdrawal}");
    assert_eq!(available_minor(&bancos.engine, &ana, Currency::Cup), 299_50);
    let sms = pagos_sms_to(&bancos.db, ANA.0).await?;
    assert_eq!(sms.len(), 2, "{sms:?}");
    assert!(sms[0].contains("deposito de 500.00 CUP en BPA"), "{sms:?}");
    assert!(
        sms[1].contains("extraccion de 200.50 CUP en BPA"),
        "{sms:?}"
    );
    assert!(sms[1].contains("Saldo 299.50 CUP"), "{sms:?}");

    // More than the balance: refused, nothing moved.
    let response = bancos
        .moved(&token, &id, "withdrawals", "300", Some("ext-2"))
        .await?;
    let path = format!("{ACCOUNTS}/{id}/withdrawals");
    assert_problem(&response, 422, "payment_insufficient_funds", &path);
    assert_eq!(available_minor(&bancos.engine, &ana, Currency::Cup), 299_50);
    let response = bancos.moved(&token, &id, "withdrawals", "0", None).await?;
    assert_problem(&response, 422, "payment_invalid_amount", &path);

    // Unlinked: gone from the list, refused for money, not unlinked twice.
    let path = format!("{ACCOUNTS}/{id}");
    let response = bancos
        .server
        .with_token("DELETE", &path, &beto_token)
        .await?;
    assert_problem(&response, 404, "payment_bank_account_unknown", &path);
    let response = bancos.server.with_token("DELETE", &path, &token).await?;
    assert_eq!(response.status, 204, "{}", response.text());
    let response = bancos.server.with_token("DELETE", &path, &token).await?;
    assert_problem(&response, 404, "payment_bank_account_unknown", &path);
    let list = bancos.server.with_token("GET", ACCOUNTS, &token).await?;
    assert_eq!(list.json()?, json!([]));
    let response = bancos
        .moved(&token, &id, "deposits", "10", Some("dep-2"))
        .await?;
    let deposits = format!("{ACCOUNTS}/{id}/deposits");
    assert_problem(&response, 404, "payment_bank_account_unknown", &deposits);
    assert_eq!(available_minor(&bancos.engine, &ana, Currency::Cup), 299_50);

    bancos.assert_conserved(&[&ana, &beto]);
    bancos.stop().await;
    Ok(())
}

async fn a_bank_that_refuses_or_is_silent_moves_nothing(database: TestDatabase) -> TestResult {
    let bancos = Bancos::start(&database.db, PaymentSettings::standard([7; 32])).await?;
    let (ana, token) = bancos.person(ANA).await?;
    let id = bancos.link(&token, "vincular").await?;
    created(
        &bancos
            .moved(&token, &id, "deposits", "100", Some("dep-1"))
            .await?,
    )?;
    let sms_before = pagos_sms_to(&bancos.db, ANA.0).await?.len();

    bancos.bank.set_refusing("BPA", true);
    for (what, key) in [("deposits", "dep-2"), ("withdrawals", "ext-1")] {
        let response = bancos.moved(&token, &id, what, "50", Some(key)).await?;
        let path = format!("{ACCOUNTS}/{id}/{what}");
        let problem = assert_problem(&response, 422, "payment_bank_refused", &path);
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|detail| detail.contains("BPA rechazó")),
            "{problem}"
        );
        assert_eq!(available_minor(&bancos.engine, &ana, Currency::Cup), 100_00);
    }
    // The person is told the operations did not go through.
    let sms = pagos_sms_to(&bancos.db, ANA.0).await?;
    assert_eq!(sms.len(), sms_before + 2, "{sms:?}");
    assert!(sms[sms_before].contains("no se completo"), "{sms:?}");
    bancos.bank.set_refusing("BPA", false);

    // A silent bank: the withdrawal is held (202), the money not spendable meanwhile; once the
    // bank answers, the same key finishes it.
    bancos.bank.set_offline("BPA", true);
    let response = bancos
        .moved(&token, &id, "withdrawals", "40", Some("ext-2"))
        .await?;
    assert_eq!(response.status, 202, "{}", response.text());
    let pending = response.json()?;
    assert_eq!(pending["status"], "pending", "{pending}");
    assert_eq!(available_minor(&bancos.engine, &ana, Currency::Cup), 60_00);
    let status_path = format!(
        "/api/v1/payments/operations/{}",
        pending["id"].as_str().ok_or("no id")?
    );
    let status = bancos
        .server
        .with_token("GET", &status_path, &token)
        .await?;
    assert_eq!(status.json()?["status"], "pending");
    bancos.bank.set_offline("BPA", false);
    let done = created(
        &bancos
            .moved(&token, &id, "withdrawals", "40", Some("ext-2"))
            .await?,
    )?;
    assert_eq!(done["id"], pending["id"], "{done}");
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(available_minor(&bancos.engine, &ana, Currency::Cup), 60_00);

    bancos.assert_conserved(&[&ana]);
    bancos.stop().await;
    Ok(())
}

async fn a_bank_that_never_answers_lets_the_hold_expire_and_reverse(
    database: TestDatabase,
) -> TestResult {
    // Two seconds: short, with room for the checks made while the money is held.
    let mut settings = PaymentSettings::standard([7; 32]);
    settings.hold_timeout_s = 2;
    let bancos = Bancos::start(&database.db, settings).await?;
    let (ana, token) = bancos.person(ANA).await?;
    let id = bancos.link(&token, "vincular").await?;
    created(
        &bancos
            .moved(&token, &id, "deposits", "100", Some("dep-1"))
            .await?,
    )?;
    bancos.bank.set_offline("BPA", true);
    let response = bancos
        .moved(&token, &id, "withdrawals", "40", Some("ext-1"))
        .await?;
    assert_eq!(response.status, 202, "{}", response.text());
    let operation = response.json()?["id"]
        .as_str()
        .ok_or("an operation id")?
        .to_owned();
    assert_eq!(available_minor(&bancos.engine, &ana, Currency::Cup), 60_00);
    let sweep = || async {
        ceiba_web::payments::settle_stale(&bancos.state, 0)
            .await
            .map_err(|error| format!("{error:?}"))
    };
    assert_eq!(sweep().await?, 0, "a hold still running is left alone");

    // The ledger expires the hold; the sweep records the reversal and tells the person.
    assert_eq!(
        hold_ends(&bancos.engine, &operation).await?,
        HoldState::Expired
    );
    assert_eq!(available_minor(&bancos.engine, &ana, Currency::Cup), 100_00);
    let sms_before = pagos_sms_to(&bancos.db, ANA.0).await?.len();
    assert_eq!(sweep().await?, 1);
    let row = bancos
        .db
        .payment_operation(&operation)
        .await?
        .ok_or("stored")?;
    assert_eq!(row.status, OperationStatus::Refused);
    assert_eq!(row.refusal_code.as_deref(), Some("payment_reversed"));
    let sms = pagos_sms_to(&bancos.db, ANA.0).await?;
    assert_eq!(sms.len(), sms_before + 1, "{sms:?}");
    assert!(sms[sms_before].contains("no se completo"), "{sms:?}");
    assert_eq!(sweep().await?, 0, "settled once");

    bancos.bank.set_offline("BPA", false);
    bancos.assert_conserved(&[&ana]);
    bancos.stop().await;
    Ok(())
}

async fn a_key_moves_money_once_and_the_cap_holds(database: TestDatabase) -> TestResult {
    let mut settings = PaymentSettings::standard([7; 32]);
    settings.caps = WalletCaps::default_caps().with(Currency::Cup, 300_00);
    let bancos = Bancos::start(&database.db, settings).await?;
    let (ana, token) = bancos.person(ANA).await?;
    let id = bancos.link(&token, "vincular").await?;

    let first = created(
        &bancos
            .moved(&token, &id, "deposits", "120", Some("dep-1"))
            .await?,
    )?;
    let again = created(
        &bancos
            .moved(&token, &id, "deposits", "120", Some("dep-1"))
            .await?,
    )?;
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["receipt_code"], again["receipt_code"]);
    assert_eq!(available_minor(&bancos.engine, &ana, Currency::Cup), 120_00);
    assert_eq!(pagos_sms_to(&bancos.db, ANA.0).await?.len(), 1);
    // The key used for another amount.
    let response = bancos
        .moved(&token, &id, "deposits", "121", Some("dep-1"))
        .await?;
    let path = format!("{ACCOUNTS}/{id}/deposits");
    assert_problem(&response, 422, "payment_idempotency_key_reused", &path);

    // Past the wallet's cap: refused, nothing moved; up to it exactly: fine.
    let response = bancos
        .moved(&token, &id, "deposits", "180.01", Some("dep-2"))
        .await?;
    assert_problem(&response, 422, "payment_recipient_wallet_full", &path);
    assert_eq!(available_minor(&bancos.engine, &ana, Currency::Cup), 120_00);
    created(
        &bancos
            .moved(&token, &id, "deposits", "180", Some("dep-3"))
            .await?,
    )?;
    assert_eq!(available_minor(&bancos.engine, &ana, Currency::Cup), 300_00);

    bancos.assert_conserved(&[&ana]);
    bancos.stop().await;
    Ok(())
}
