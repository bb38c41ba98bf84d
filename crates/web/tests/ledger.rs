//! The ledger over HTTP, on each engine: who may use it, accounts and transfers with a result
//! per event, idempotent resubmission, pending transfers, linked chains, refusals that change
//! nothing, the reads (accounts, transfers, history, pending, the change stream) and their
//! paging, a server without a ledger, a server that does not write, and the OpenAPI document.

use std::time::Duration;

use ceiba_identity::Role;
use ceiba_ledger::{AccountFlags, AccountId, LedgerId, NewAccount};
use ceiba_store::{Db, LeaseHolder, LedgerEngine};
use ceiba_testkit::each_engine;
use ceiba_testkit::http::{Response, send};
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use ceiba_web::ServerLimits;
use serde_json::{Value, json};

mod support;
use support::{
    PASSWORD, PHONE, TestServer, active_user, assert_bearer_route, assert_problem, ledger_state,
    openapi_document, second_factor_token, sign_in, start_ledger, test_state, token_of,
};

fn main() {
    let mut suite = Suite::new();
    each_engine!(suite:
        only_bank_operators_with_a_second_factor_reach_the_ledger,
        accounts_are_opened_with_a_result_each_and_idempotently,
        single_phase_transfers_move_money_idempotently,
        pending_transfers_are_posted_in_part_voided_and_expire,
        the_pending_list_pages_by_cursor,
        a_linked_chain_fails_as_a_whole,
        bad_input_is_refused_with_its_own_code_and_changes_nothing,
        batches_have_limits_and_the_body_has_its_own,
        reads_answer_404_for_unknown_ids_and_400_for_bad_ones,
        account_transfers_filter_and_page_by_keyset,
        balances_as_of_a_moment_need_history,
        the_change_stream_pages_in_order_and_resumes,
        a_server_without_a_ledger_answers_503,
        a_server_that_does_not_write_refuses_writes_but_reads,
        the_openapi_document_lists_the_ledger_routes,
    );
    suite.run()
}

const OPERATOR_PHONE: &str = "+5352220000";
const ACCOUNTS: &str = "/api/v1/ledger/accounts";
const TRANSFERS: &str = "/api/v1/ledger/transfers";
const CHANGES: &str = "/api/v1/ledger/changes";
/// 2^128 - 1, the id no event may use.
const INT_MAX: &str = "340282366920938463463374607431768211455";

/// A served app with a running ledger, and a bank operator signed in with a second factor.
struct Ledger {
    server: TestServer,
    engine: LedgerEngine,
    authorization: String,
}

/// Balances as the API gives them: debits pending, debits posted, credits pending, credits posted.
type Balances = [u128; 4];

/// What a refused request must leave as it was.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    accounts: usize,
    transfers: usize,
    balances: Vec<Balances>,
}

impl Ledger {
    async fn start(db: &Db) -> Result<Ledger, String> {
        let state = ledger_state(db).await?;
        let engine = state.ledger.clone().ok_or("the state has no ledger")?;
        let server = TestServer::with_state(state, ServerLimits::default())
            .await
            .map_err(|e| e.to_string())?;
        let token = second_factor_token(&server, db, OPERATOR_PHONE, &[Role::BankOperator]).await?;
        Ok(Ledger {
            server,
            engine,
            authorization: format!("Bearer {token}"),
        })
    }

    async fn stop(mut self) {
        self.server.shut_down();
        self.engine.stop().await;
    }

    async fn get(&self, path: &str) -> Result<Response, String> {
        self.server
            .get_with(path, &[("authorization", &self.authorization)])
            .await
    }

    /// A GET that must answer 200: its JSON.
    async fn get_ok(&self, path: &str) -> Result<Value, String> {
        let response = self.get(path).await?;
        if response.status != 200 {
            return Err(format!(
                "GET {path}: {} {}",
                response.status,
                response.text()
            ));
        }
        response.json()
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Response, String> {
        self.server
            .send_json(
                "POST",
                path,
                body,
                &[("authorization", &self.authorization)],
            )
            .await
    }

    /// A POST of raw bytes as JSON: bodies `serde_json` would never write.
    async fn post_raw(&self, path: &str, body: impl Into<Vec<u8>>) -> Result<Response, String> {
        send(
            "POST",
            &self.server.url(path),
            &[
                ("authorization", &self.authorization),
                ("content-type", "application/json"),
            ],
            body.into(),
        )
        .await
    }

    /// Posts a batch that must be taken (200), and checks the shape of its results.
    async fn batch(&self, path: &str, body: &Value) -> Result<Value, String> {
        let response = self.post(path, body).await?;
        if response.status != 200 {
            return Err(format!(
                "POST {path}: {} {}",
                response.status,
                response.text()
            ));
        }
        let batch = response.json()?;
        let results = batch["results"].as_array().ok_or("no results")?;
        let ok = results.iter().filter(|r| r["result"] == "ok").count();
        assert_eq!(batch["created"], ok, "{batch}");
        assert_eq!(batch["refused"], results.len() - ok, "{batch}");
        for (index, result) in results.iter().enumerate() {
            assert_eq!(result["index"], index, "{batch}");
            let message = result["message"].as_str().unwrap_or_default();
            assert!(!message.is_empty(), "a result without a message: {batch}");
        }
        Ok(batch)
    }

    async fn create_accounts(&self, accounts: Value) -> Result<Value, String> {
        self.batch(ACCOUNTS, &json!({ "accounts": accounts })).await
    }

    async fn create_transfers(&self, transfers: Value) -> Result<Value, String> {
        self.batch(TRANSFERS, &json!({ "transfers": transfers }))
            .await
    }

    async fn account(&self, id: u128) -> Result<Value, String> {
        self.get_ok(&format!("{ACCOUNTS}/{id}")).await
    }

    async fn transfer(&self, id: u128) -> Result<Value, String> {
        self.get_ok(&format!("{TRANSFERS}/{id}")).await
    }

    async fn balances(&self, id: u128) -> Result<Balances, String> {
        balances_of(&self.account(id).await?["balances"])
    }

    async fn snapshot(&self, accounts: &[u128]) -> Result<Snapshot, String> {
        let mut balances = Vec::with_capacity(accounts.len());
        for id in accounts {
            balances.push(self.balances(*id).await?);
        }
        let (accounts, transfers) = {
            let replica = self.engine.read();
            (
                replica.state.accounts_count(),
                replica.state.transfers_count(),
            )
        };
        Ok(Snapshot {
            accounts,
            transfers,
            balances,
        })
    }

    /// How many records the journal holds: a request refused before the ledger adds none.
    fn journal(&self) -> u64 {
        self.engine.read().sequence
    }
}

/// The four balances of a `BalancesView`, each a decimal string.
fn balances_of(view: &Value) -> Result<Balances, String> {
    let mut out = [0; 4];
    for (slot, name) in out.iter_mut().zip([
        "debits_pending",
        "debits_posted",
        "credits_pending",
        "credits_posted",
    ]) {
        *slot = decimal(&view[name])?;
    }
    Ok(out)
}

/// A 128-bit number on the wire: always a decimal string.
fn decimal(value: &Value) -> Result<u128, String> {
    value
        .as_str()
        .ok_or_else(|| format!("{value} is not a decimal string"))?
        .parse()
        .map_err(|e| format!("{value}: {e}"))
}

fn account(id: u128, currency: &str, flags: &[&str]) -> Value {
    json!({"id": id.to_string(), "ledger": currency, "code": 10, "owner": "7", "flags": flags})
}

fn transfer(id: u128, debit: u128, credit: u128, amount: u128) -> Value {
    json!({
        "id": id.to_string(),
        "debit_account_id": debit.to_string(),
        "credit_account_id": credit.to_string(),
        "amount": amount.to_string(),
        "ledger": "CUP",
        "code": 1,
    })
}

fn with(mut event: Value, field: &str, value: Value) -> Value {
    event[field] = value;
    event
}

fn results(batch: &Value) -> Vec<String> {
    batch["results"]
        .as_array()
        .map(|results| {
            results
                .iter()
                .map(|r| r["result"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn ids(page: &Value) -> Vec<u128> {
    page["transfers"]
        .as_array()
        .map(|transfers| {
            transfers
                .iter()
                .filter_map(|t| decimal(&t["id"]).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn timestamps(page: &Value) -> Result<Vec<u64>, String> {
    page["transfers"]
        .as_array()
        .ok_or("no transfers")?
        .iter()
        .map(|t| {
            let timestamp = decimal(&t["timestamp"])?;
            u64::try_from(timestamp).map_err(|e| e.to_string())
        })
        .collect()
}

/// A bank account without limits (it may go negative, as the bank's own books do), a CUP
/// wallet that cannot spend more than it holds, funded with `funds` from the bank.
const BANK: u128 = 1;
const WALLET_A: u128 = 2;
const WALLET_B: u128 = 3;

async fn bank_and_wallets(ledger: &Ledger, funds: u128) -> Result<(), String> {
    let opened = ledger
        .create_accounts(json!([
            account(BANK, "CUP", &[]),
            account(WALLET_A, "CUP", &["debits_must_not_exceed_credits"]),
            account(WALLET_B, "CUP", &["debits_must_not_exceed_credits"]),
        ]))
        .await?;
    assert_eq!(results(&opened), ["ok", "ok", "ok"], "{opened}");
    if funds > 0 {
        let funded = ledger
            .create_transfers(json!([transfer(100, BANK, WALLET_A, funds)]))
            .await?;
        assert_eq!(results(&funded), ["ok"], "{funded}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Who may use it
// ---------------------------------------------------------------------------------------------

async fn only_bank_operators_with_a_second_factor_reach_the_ledger(
    database: TestDatabase,
) -> TestResult {
    let db = &database.db;
    let ledger = Ledger::start(db).await?;
    let server = &ledger.server;
    active_user(db, PHONE, &[Role::Citizen]).await?;
    active_user(db, "+5352221111", &[Role::BankOperator]).await?;
    let (citizen, _) = token_of(&sign_in(server, PHONE, PASSWORD, None).await?).await?;
    let (operator_without, _) =
        token_of(&sign_in(server, "+5352221111", PASSWORD, None).await?).await?;
    // Another role with a second factor is still not a bank operator.
    let administrator =
        second_factor_token(server, db, "+5352223333", &[Role::Administrator]).await?;

    let body = json!({"accounts": [account(BANK, "CUP", &[])]});
    let transfers = json!({"transfers": [transfer(9, BANK, WALLET_A, 5)]});
    let gets = [
        format!("{ACCOUNTS}/{BANK}"),
        format!("{TRANSFERS}/9"),
        format!("{ACCOUNTS}/{BANK}/transfers"),
        format!("{ACCOUNTS}/{BANK}/balances"),
        format!("{ACCOUNTS}/{BANK}/pending"),
        CHANGES.to_owned(),
    ];
    for (label, token) in [
        ("nobody", None),
        ("citizen", Some(&citizen)),
        ("operator without second factor", Some(&operator_without)),
        ("administrator", Some(&administrator)),
    ] {
        let authorization = token.map(|token| format!("Bearer {token}"));
        let headers: Vec<(&str, &str)> = authorization
            .as_deref()
            .map(|value| ("authorization", value))
            .into_iter()
            .collect();
        let mut answers = Vec::new();
        for (path, body) in [(ACCOUNTS, &body), (TRANSFERS, &transfers)] {
            answers.push((
                path.to_owned(),
                server.send_json("POST", path, body, &headers).await?,
            ));
        }
        for path in &gets {
            answers.push((path.clone(), server.get_with(path, &headers).await?));
        }
        for (path, answer) in answers {
            let path = path.split('?').next().unwrap_or_default();
            if token.is_none() {
                assert_problem(&answer, 401, "unauthenticated", path);
                continue;
            }
            let problem = assert_problem(&answer, 403, "forbidden", path);
            let detail = problem["detail"].as_str().unwrap_or_default();
            if label == "operator without second factor" {
                assert!(detail.contains("segundo factor"), "{label}: {problem}");
            } else {
                assert!(detail.contains("Operador bancario"), "{label}: {problem}");
            }
        }
    }
    assert_eq!(ledger.journal(), 0, "a refused caller wrote nothing");
    assert_eq!(ledger.engine.read().state.accounts_count(), 0);

    // The same requests from a bank operator with a second factor go through.
    let opened = ledger.batch(ACCOUNTS, &body).await?;
    assert_eq!(results(&opened), ["ok"]);
    ledger.stop().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------

async fn accounts_are_opened_with_a_result_each_and_idempotently(
    database: TestDatabase,
) -> TestResult {
    let ledger = Ledger::start(&database.db).await?;
    let batch = json!([
        account(10, "CUP", &["debits_must_not_exceed_credits"]),
        account(11, "CUP", &["history"]),
        account(12, "USD", &[]),
        // A JSON integer below 2^64 is taken too.
        {"id": 13, "ledger": "MLC", "code": 3, "owner": 99},
    ]);
    let opened = ledger.create_accounts(batch.clone()).await?;
    assert_eq!(opened["created"], 4, "{opened}");
    assert_eq!(opened["refused"], 0, "{opened}");
    assert_eq!(results(&opened), ["ok"; 4], "{opened}");
    assert_eq!(opened["results"][0]["message"], "Cuenta creada.");

    let wallet = ledger.account(10).await?;
    assert_eq!(wallet["id"], "10");
    assert_eq!(wallet["ledger"], "CUP");
    assert_eq!(wallet["ledger_id"], 192);
    assert_eq!(wallet["code"], 10);
    assert_eq!(wallet["owner"], "7");
    assert_eq!(wallet["flags"], json!(["debits_must_not_exceed_credits"]));
    assert_eq!(
        wallet["balances"],
        json!({
            "debits_pending": "0",
            "debits_posted": "0",
            "credits_pending": "0",
            "credits_posted": "0",
        })
    );
    let opened_at = decimal(&wallet["timestamp"])?;
    assert!(
        opened_at > 1_600_000_000_000_000_000,
        "nanoseconds: {wallet}"
    );
    assert_eq!(ledger.account(11).await?["flags"], json!(["history"]));
    assert_eq!(ledger.account(12).await?["ledger"], "USD");
    let mlc = ledger.account(13).await?;
    assert_eq!(
        (&mlc["id"], &mlc["owner"], &mlc["ledger"]),
        (&json!("13"), &json!("99"), &json!("MLC"))
    );

    // The same batch again: each one exists, nothing new.
    let journal = ledger.journal();
    let again = ledger.create_accounts(batch).await?;
    assert_eq!(again["created"], 0, "{again}");
    assert_eq!(again["refused"], 4, "{again}");
    assert_eq!(results(&again), ["exists"; 4], "{again}");
    assert_eq!(
        again["results"][0]["message"],
        "La cuenta ya existía con esos mismos datos."
    );
    assert_eq!(ledger.journal(), journal + 1, "a batch is one record");
    assert_eq!(ledger.engine.read().state.accounts_count(), 4);

    // The same id with one field changed: the field is named.
    let different = ledger
        .create_accounts(json!([
            with(
                account(10, "CUP", &["debits_must_not_exceed_credits"]),
                "owner",
                json!("8")
            ),
            account(10, "CUP", &[]),
            account(10, "USD", &["debits_must_not_exceed_credits"]),
            with(
                account(10, "CUP", &["debits_must_not_exceed_credits"]),
                "code",
                json!(11)
            ),
        ]))
        .await?;
    assert_eq!(
        results(&different),
        [
            "exists_with_different_owner",
            "exists_with_different_flags",
            "exists_with_different_ledger",
            "exists_with_different_code",
        ],
        "{different}"
    );
    assert_eq!(
        different["results"][0]["message"],
        "Ya existe una cuenta con ese identificador y otro titular."
    );
    assert_eq!(
        ledger.account(10).await?,
        wallet,
        "the account is untouched"
    );

    // Ids 0 and 2^128-1, and refusals of the account itself.
    let refused = ledger
        .create_accounts(json!([
            account(0, "CUP", &[]),
            {"id": INT_MAX, "ledger": "CUP", "code": 1},
            account(
                20,
                "CUP",
                &["debits_must_not_exceed_credits", "credits_must_not_exceed_debits"]
            ),
            {"id": "21", "code": 1},
            {"id": "22", "ledger": "CUP"},
        ]))
        .await?;
    assert_eq!(
        results(&refused),
        [
            "id_must_not_be_zero",
            "id_must_not_be_int_max",
            "flags_are_mutually_exclusive",
            "ledger_must_not_be_zero",
            "code_must_not_be_zero",
        ],
        "{refused}"
    );
    assert_eq!(
        refused["results"][0]["message"],
        "El identificador no puede ser 0."
    );
    // A linked chain of accounts opens all or none.
    let chain = ledger
        .create_accounts(json!([
            account(30, "CUP", &["linked"]),
            account(10, "CUP", &["linked"]),
            account(31, "CUP", &[]),
        ]))
        .await?;
    assert_eq!(
        results(&chain),
        [
            "linked_event_failed",
            "exists_with_different_flags",
            "linked_event_failed"
        ],
        "{chain}"
    );
    assert_eq!(
        ledger.engine.read().state.accounts_count(),
        4,
        "none of them opened"
    );
    for id in [20, 21, 22, 30, 31] {
        assert_eq!(ledger.get(&format!("{ACCOUNTS}/{id}")).await?.status, 404);
    }
    ledger.stop().await;
    Ok(())
}

async fn single_phase_transfers_move_money_idempotently(database: TestDatabase) -> TestResult {
    let ledger = Ledger::start(&database.db).await?;
    bank_and_wallets(&ledger, 10_000).await?;
    let sent = ledger
        .create_transfers(json!([with(
            transfer(101, WALLET_A, WALLET_B, 2_500),
            "user_data",
            json!("424242")
        )]))
        .await?;
    assert_eq!(results(&sent), ["ok"], "{sent}");
    assert_eq!(sent["results"][0]["message"], "Transferencia creada.");
    assert_eq!(ledger.balances(BANK).await?, [0, 10_000, 0, 0]);
    assert_eq!(ledger.balances(WALLET_A).await?, [0, 2_500, 0, 10_000]);
    assert_eq!(ledger.balances(WALLET_B).await?, [0, 0, 0, 2_500]);

    let stored = ledger.transfer(101).await?;
    assert_eq!(stored["id"], "101");
    assert_eq!(stored["debit_account_id"], "2");
    assert_eq!(stored["credit_account_id"], "3");
    assert_eq!(stored["amount"], "2500");
    assert_eq!(stored["user_data"], "424242");
    assert_eq!(stored["pending_id"], "0");
    assert_eq!(stored["ledger"], "CUP");
    assert_eq!(stored["code"], 1);
    assert_eq!(stored["flags"], json!([]));
    assert!(stored["pending_status"].is_null(), "{stored}");

    // Resubmission: exists; with a field changed, that field's code; nothing moves.
    let accounts = [BANK, WALLET_A, WALLET_B];
    let before = ledger.snapshot(&accounts).await?;
    let again = ledger
        .create_transfers(json!([
            with(
                transfer(101, WALLET_A, WALLET_B, 2_500),
                "user_data",
                json!("424242")
            ),
            transfer(101, WALLET_A, WALLET_B, 2_600),
            transfer(101, WALLET_A, BANK, 2_500),
            with(
                transfer(101, WALLET_A, WALLET_B, 2_500),
                "user_data",
                json!("1")
            ),
            with(transfer(101, WALLET_A, WALLET_B, 2_500), "code", json!(2)),
        ]))
        .await?;
    assert_eq!(
        results(&again),
        [
            "exists",
            "exists_with_different_amount",
            "exists_with_different_credit_account_id",
            "exists_with_different_user_data",
            "exists_with_different_code",
        ],
        "{again}"
    );
    assert_eq!(
        again["results"][1]["message"],
        "Ya existe una transferencia con ese identificador y otro importe."
    );
    assert_eq!(ledger.snapshot(&accounts).await?, before);

    // More than the wallet holds.
    let overdrawn = ledger
        .create_transfers(json!([transfer(102, WALLET_A, WALLET_B, 7_501)]))
        .await?;
    assert_eq!(results(&overdrawn), ["exceeds_credits"], "{overdrawn}");
    assert_eq!(
        overdrawn["results"][0]["message"],
        "Saldo insuficiente en la cuenta de débito."
    );
    assert_eq!(ledger.snapshot(&accounts).await?, before);
    assert_eq!(ledger.get(&format!("{TRANSFERS}/102")).await?.status, 404);

    // Balancing: at most what the wallet holds, whatever the amount asked.
    let swept = ledger
        .create_transfers(json!([with(
            transfer(103, WALLET_A, WALLET_B, 1_000_000),
            "flags",
            json!(["balancing_debit"])
        )]))
        .await?;
    assert_eq!(results(&swept), ["ok"], "{swept}");
    let swept = ledger.transfer(103).await?;
    assert_eq!(swept["amount"], "7500", "{swept}");
    assert_eq!(swept["flags"], json!(["balancing_debit"]));
    assert_eq!(ledger.balances(WALLET_A).await?, [0, 10_000, 0, 10_000]);
    assert_eq!(ledger.balances(WALLET_B).await?, [0, 0, 0, 10_000]);
    let empty = ledger
        .create_transfers(json!([with(
            transfer(104, WALLET_A, WALLET_B, 1),
            "flags",
            json!(["balancing_debit"])
        )]))
        .await?;
    assert_eq!(results(&empty), ["exceeds_credits"], "{empty}");
    // Resubmitting the balancing transfer with the amount first asked is still `exists`.
    let again = ledger
        .create_transfers(json!([with(
            transfer(103, WALLET_A, WALLET_B, 1_000_000),
            "flags",
            json!(["balancing_debit"])
        )]))
        .await?;
    assert_eq!(results(&again), ["exists"], "{again}");
    ledger.stop().await;
    Ok(())
}

async fn the_pending_list_pages_by_cursor(database: TestDatabase) -> TestResult {
    let ledger = Ledger::start(&database.db).await?;
    bank_and_wallets(&ledger, 5_000).await?;
    let holds: Vec<Value> = (301..=303)
        .map(|id| {
            with(
                transfer(id, WALLET_A, WALLET_B, 100),
                "flags",
                json!(["pending"]),
            )
        })
        .collect();
    let held = ledger.create_transfers(Value::Array(holds)).await?;
    assert_eq!(results(&held), ["ok", "ok", "ok"], "{held}");
    let path = format!("{ACCOUNTS}/{WALLET_A}/pending");
    let first = ledger.get_ok(&format!("{path}?limit=2")).await?;
    assert_eq!(ids(&first), [301, 302], "{first}");
    let cursor = first["next_cursor"]
        .as_str()
        .ok_or("a full page has a cursor")?;
    let second = ledger
        .get_ok(&format!("{path}?limit=2&cursor={cursor}"))
        .await?;
    assert_eq!(ids(&second), [303], "{second}");
    assert!(second["next_cursor"].is_null(), "{second}");
    Ok(())
}

async fn pending_transfers_are_posted_in_part_voided_and_expire(
    database: TestDatabase,
) -> TestResult {
    let ledger = Ledger::start(&database.db).await?;
    bank_and_wallets(&ledger, 5_000).await?;
    let pending_path = format!("{ACCOUNTS}/{WALLET_A}/pending");

    // A hold with an hour to run, then posted in part.
    let held = ledger
        .create_transfers(json!([with(
            with(
                transfer(201, WALLET_A, WALLET_B, 3_000),
                "flags",
                json!(["pending"])
            ),
            "timeout_seconds",
            json!(3_600)
        )]))
        .await?;
    assert_eq!(results(&held), ["ok"], "{held}");
    assert_eq!(ledger.balances(WALLET_A).await?, [3_000, 0, 0, 5_000]);
    assert_eq!(ledger.balances(WALLET_B).await?, [0, 0, 3_000, 0]);
    let hold = ledger.transfer(201).await?;
    assert_eq!(hold["pending_status"], "pending", "{hold}");
    assert_eq!(hold["timeout_seconds"], 3_600);
    assert_eq!(hold["flags"], json!(["pending"]));
    assert_eq!(ids(&ledger.get_ok(&pending_path).await?), [201]);
    // A hold counts against what the wallet may spend.
    let too_much = ledger
        .create_transfers(json!([transfer(202, WALLET_A, WALLET_B, 2_001)]))
        .await?;
    assert_eq!(results(&too_much), ["exceeds_credits"], "{too_much}");

    let over = ledger
        .create_transfers(json!([{
            "id": "203", "pending_id": "201", "amount": "3001", "flags": ["post_pending"],
        }]))
        .await?;
    assert_eq!(
        results(&over),
        ["exceeds_pending_transfer_amount"],
        "{over}"
    );
    let posted = ledger
        .create_transfers(json!([{
            "id": "204", "pending_id": "201", "amount": "1000", "flags": ["post_pending"],
        }]))
        .await?;
    assert_eq!(results(&posted), ["ok"], "{posted}");
    assert_eq!(ledger.balances(WALLET_A).await?, [0, 1_000, 0, 5_000]);
    assert_eq!(ledger.balances(WALLET_B).await?, [0, 0, 0, 1_000]);
    assert_eq!(ledger.transfer(201).await?["pending_status"], "posted");
    let post = ledger.transfer(204).await?;
    assert_eq!(post["amount"], "1000");
    assert_eq!(post["pending_id"], "201");
    assert_eq!(post["debit_account_id"], "2", "taken from the hold: {post}");
    assert_eq!(post["credit_account_id"], "3");
    assert_eq!(post["ledger"], "CUP");
    assert_eq!(post["flags"], json!(["post_pending"]));
    assert!(ids(&ledger.get_ok(&pending_path).await?).is_empty());
    let twice = ledger
        .create_transfers(json!([{
            "id": "205", "pending_id": "201", "flags": ["post_pending"],
        }]))
        .await?;
    assert_eq!(
        results(&twice),
        ["pending_transfer_already_posted"],
        "{twice}"
    );

    // A hold voided: the money comes back whole.
    let voided = ledger
        .create_transfers(json!([
            with(transfer(206, WALLET_A, WALLET_B, 500), "flags", json!(["pending"])),
            {"id": "207", "pending_id": "206", "flags": ["void_pending"]},
        ]))
        .await?;
    assert_eq!(results(&voided), ["ok", "ok"], "{voided}");
    assert_eq!(ledger.transfer(206).await?["pending_status"], "voided");
    assert_eq!(ledger.transfer(207).await?["amount"], "500");
    assert_eq!(ledger.balances(WALLET_A).await?, [0, 1_000, 0, 5_000]);
    let again = ledger
        .create_transfers(json!([{"id": "208", "pending_id": "206", "flags": ["post_pending"]}]))
        .await?;
    assert_eq!(
        results(&again),
        ["pending_transfer_already_voided"],
        "{again}"
    );

    // Two holds: one stays, the other expires after two seconds and frees its money.
    let holds = ledger
        .create_transfers(json!([
            with(
                transfer(209, WALLET_A, WALLET_B, 200),
                "flags",
                json!(["pending"])
            ),
            with(
                with(
                    transfer(210, WALLET_A, WALLET_B, 100),
                    "flags",
                    json!(["pending"])
                ),
                "timeout_seconds",
                json!(2)
            ),
        ]))
        .await?;
    assert_eq!(results(&holds), ["ok", "ok"], "{holds}");
    assert_eq!(ids(&ledger.get_ok(&pending_path).await?), [209, 210]);
    let pending_list = ledger.get_ok(&pending_path).await?;
    assert_eq!(pending_list["transfers"][0]["pending_status"], "pending");
    assert!(pending_list["next_cursor"].is_null());
    assert_eq!(ledger.balances(WALLET_A).await?, [300, 1_000, 0, 5_000]);
    let mut status = Value::Null;
    for _ in 0..100 {
        status = ledger.transfer(210).await?["pending_status"].clone();
        if status == "expired" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "expired", "the hold of two seconds never expired");
    assert_eq!(ledger.balances(WALLET_A).await?, [200, 1_000, 0, 5_000]);
    assert_eq!(ids(&ledger.get_ok(&pending_path).await?), [209]);
    let late = ledger
        .create_transfers(json!([{"id": "211", "pending_id": "210", "flags": ["post_pending"]}]))
        .await?;
    assert_eq!(results(&late), ["pending_transfer_expired"], "{late}");
    ledger.stop().await;
    Ok(())
}

async fn a_linked_chain_fails_as_a_whole(database: TestDatabase) -> TestResult {
    let ledger = Ledger::start(&database.db).await?;
    bank_and_wallets(&ledger, 1_000).await?;
    let accounts = [BANK, WALLET_A, WALLET_B];
    let before = ledger.snapshot(&accounts).await?;
    let linked = |event: Value| with(event, "flags", json!(["linked"]));

    // The last of the chain fails: the first two are undone; the unlinked one after it stands.
    let batch = ledger
        .create_transfers(json!([
            linked(transfer(301, WALLET_A, WALLET_B, 300)),
            linked(transfer(302, WALLET_B, WALLET_A, 100)),
            transfer(303, WALLET_A, WALLET_B, 5_000),
            transfer(304, BANK, WALLET_B, 50),
        ]))
        .await?;
    assert_eq!(
        results(&batch),
        [
            "linked_event_failed",
            "linked_event_failed",
            "exceeds_credits",
            "ok"
        ],
        "{batch}"
    );
    assert_eq!(batch["created"], 1);
    assert_eq!(
        batch["results"][0]["message"],
        "Otra operación de su cadena falló."
    );
    for id in [301, 302, 303] {
        assert_eq!(ledger.get(&format!("{TRANSFERS}/{id}")).await?.status, 404);
    }
    assert_eq!(ledger.balances(WALLET_A).await?, before.balances[1]);
    assert_eq!(ledger.balances(WALLET_B).await?, [0, 0, 0, 50]);

    // The middle one fails: those around it in the chain fail with it; nothing moves.
    let before = ledger.snapshot(&accounts).await?;
    let middle = ledger
        .create_transfers(json!([
            linked(transfer(305, WALLET_A, WALLET_B, 10)),
            linked(transfer(306, 999, WALLET_B, 10)),
            transfer(307, WALLET_B, WALLET_A, 10),
        ]))
        .await?;
    assert_eq!(
        results(&middle),
        [
            "linked_event_failed",
            "debit_account_not_found",
            "linked_event_failed"
        ],
        "{middle}"
    );
    assert_eq!(ledger.snapshot(&accounts).await?, before);

    // A chain left open at the end of the batch is refused, and everything in it.
    let open = ledger
        .create_transfers(json!([
            linked(transfer(308, WALLET_A, WALLET_B, 10)),
            linked(transfer(309, WALLET_A, WALLET_B, 10)),
        ]))
        .await?;
    assert_eq!(
        results(&open),
        ["linked_event_failed", "linked_event_chain_open"],
        "{open}"
    );
    assert_eq!(ledger.snapshot(&accounts).await?, before);

    // A chain that holds goes through whole.
    let whole = ledger
        .create_transfers(json!([
            linked(transfer(310, WALLET_A, WALLET_B, 600)),
            transfer(311, WALLET_B, WALLET_A, 100),
        ]))
        .await?;
    assert_eq!(results(&whole), ["ok", "ok"], "{whole}");
    assert_eq!(ledger.balances(WALLET_A).await?, [0, 600, 0, 1_100]);
    ledger.stop().await;
    Ok(())
}

async fn bad_input_is_refused_with_its_own_code_and_changes_nothing(
    database: TestDatabase,
) -> TestResult {
    let ledger = Ledger::start(&database.db).await?;
    bank_and_wallets(&ledger, 1_000).await?;
    let dollars = 40;
    let opened = ledger
        .create_accounts(json!([account(dollars, "USD", &[])]))
        .await?;
    assert_eq!(results(&opened), ["ok"]);
    let accounts = [BANK, WALLET_A, WALLET_B, dollars];

    // Refused event by event: the batch is taken (200) and each says why.
    let before = ledger.snapshot(&accounts).await?;
    let cases = [
        (
            transfer(401, WALLET_A, WALLET_B, 0),
            "amount_must_not_be_zero",
        ),
        (
            with(transfer(0, WALLET_A, WALLET_B, 1), "id", json!("0")),
            "id_must_not_be_zero",
        ),
        (
            with(transfer(0, WALLET_A, WALLET_B, 1), "id", json!(INT_MAX)),
            "id_must_not_be_int_max",
        ),
        (transfer(402, 999, WALLET_B, 1), "debit_account_not_found"),
        (transfer(403, WALLET_A, 999, 1), "credit_account_not_found"),
        (
            transfer(404, WALLET_A, dollars, 1),
            "accounts_must_have_the_same_ledger",
        ),
        (
            with(transfer(405, WALLET_A, WALLET_B, 1), "ledger", json!("USD")),
            "transfer_must_have_the_same_ledger_as_accounts",
        ),
        (
            transfer(406, WALLET_A, WALLET_A, 1),
            "accounts_must_be_different",
        ),
        (
            with(
                transfer(407, WALLET_A, WALLET_B, 1),
                "timeout_seconds",
                json!(5),
            ),
            "timeout_reserved_for_pending_transfer",
        ),
        (
            with(
                transfer(408, WALLET_A, WALLET_B, 1),
                "flags",
                json!(["pending", "post_pending"]),
            ),
            "flags_are_mutually_exclusive",
        ),
    ];
    for (event, code) in &cases {
        let journal = ledger.journal();
        let batch = ledger.create_transfers(json!([event])).await?;
        assert_eq!(results(&batch), [*code], "{event}: {batch}");
        assert_eq!(batch["created"], 0);
        assert_eq!(batch["refused"], 1);
        let message = batch["results"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.ends_with('.') && !message.contains(code),
            "a sentence for people: {message}"
        );
        assert_eq!(ledger.snapshot(&accounts).await?, before, "{event}");
        assert_eq!(ledger.journal(), journal + 1);
    }
    assert_eq!(
        ledger
            .create_transfers(json!([transfer(401, WALLET_A, WALLET_B, 0)]))
            .await?["results"][0]["message"],
        "El importe debe ser mayor que cero."
    );

    // Refused whole, before the ledger: a problem with its own code, nothing written.
    let journal = ledger.journal();
    // One CUP transfer from wallet A to wallet B, with these fields besides.
    let one = |fields: &str| {
        format!(
            r#"{{"transfers":[{{"debit_account_id":"2","credit_account_id":"3","ledger":"CUP","code":1,{fields}}}]}}"#
        )
    };
    let invalid = "validation_failed";
    let refusals: Vec<(String, u16, &str, &str)> = vec![
        (one(r#""id":"409","amount":"-5""#), 422, invalid, "-5"),
        (one(r#""id":"409","amount":-5"#), 422, invalid, "-5"),
        (one(r#""id":"409","amount":1.5"#), 422, invalid, "1.5"),
        (one(r#""id":"409","amount":"1.5""#), 422, invalid, "1.5"),
        (one(r#""id":"409","amount":"1e3""#), 422, invalid, "1e3"),
        (one(r#""id":"409","amount":"""#), 422, invalid, "amount"),
        // 2^128 does not fit.
        (
            one(r#""id":"340282366920938463463374607431768211456","amount":"1""#),
            422,
            invalid,
            "128 bits",
        ),
        (one(r#""id":"409","amount":"1","fee":"1""#), 422, invalid, "fee"),
        (one(r#""id":"409","amount":"1","flags":["reversal"]"#), 422, invalid, "reversal"),
        (one(r#""id":"409","amount":"1","flags":"linked""#), 422, invalid, "flags"),
        (one(r#""id":"409","amount":"1","timeout_seconds":-1"#), 422, invalid, "timeout_seconds"),
        (one(r#""amount":"1""#), 422, invalid, "id"),
        (
            r#"{"transfers":[{"id":"409","debit_account_id":"2","credit_account_id":"3","amount":"1","ledger":"EUR","code":1}]}"#
                .to_owned(),
            422,
            invalid,
            "EUR",
        ),
        (
            r#"{"transfers":[{"id":"409","amount":"1"}],"dry_run":true}"#.to_owned(),
            422,
            invalid,
            "dry_run",
        ),
        (r#"{"transfers":{}}"#.to_owned(), 422, invalid, "transfers"),
        (r#"{"transfers":[]}"#.to_owned(), 422, "ledger_batch_empty", "vacío"),
        (r#"{"transfers":[{"id":"409","amount":"1""#.to_owned(), 400, "malformed_json", ""),
        ("no es json".to_owned(), 400, "malformed_json", ""),
    ];
    for (body, status, code, named) in &refusals {
        let response = ledger.post_raw(TRANSFERS, body.clone()).await?;
        let problem = assert_problem(&response, *status, code, TRANSFERS);
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(named),
            "{body}: the detail should name {named}: {detail}"
        );
        assert_eq!(ledger.journal(), journal, "{body} wrote to the journal");
        assert_eq!(ledger.snapshot(&accounts).await?, before, "{body}");
    }
    for (body, status, code) in [
        (r#"{"accounts":[]}"#, 422, "ledger_batch_empty"),
        (
            r#"{"accounts":[{"id":"-1","ledger":"CUP","code":1}]}"#,
            422,
            "validation_failed",
        ),
        (
            r#"{"accounts":[{"id":"50","ledger":"CUP","code":1,"flags":["frozen"]}]}"#,
            422,
            "validation_failed",
        ),
        (
            r#"{"accounts":[{"id":"50","ledger":"CUP","code":1,"balance":"100"}]}"#,
            422,
            "validation_failed",
        ),
        (
            r#"{"accounts":[{"id":"50","ledger":"CUP","code":70000}]}"#,
            422,
            "validation_failed",
        ),
        (r#"{"accounts":[{"id":"50""#, 400, "malformed_json"),
    ] {
        let response = ledger.post_raw(ACCOUNTS, body).await?;
        assert_problem(&response, status, code, ACCOUNTS);
        assert_eq!(ledger.journal(), journal, "{body} wrote to the journal");
    }
    // Without the JSON content type.
    let plain = send(
        "POST",
        &ledger.server.url(TRANSFERS),
        &[("authorization", &ledger.authorization)],
        json!({"transfers": [transfer(409, WALLET_A, WALLET_B, 1)]})
            .to_string()
            .into_bytes(),
    )
    .await?;
    assert_problem(&plain, 415, "unsupported_media_type", TRANSFERS);
    assert_eq!(ledger.journal(), journal);
    assert_eq!(ledger.snapshot(&accounts).await?, before);

    // Overflow: two accounts without limits, one transfer near 2^128, then one more centavo.
    let opened = ledger
        .create_accounts(json!([account(41, "CUP", &[]), account(42, "CUP", &[])]))
        .await?;
    assert_eq!(results(&opened), ["ok", "ok"]);
    let near = u128::MAX - 10;
    let huge = ledger
        .create_transfers(json!([transfer(410, 41, 42, near)]))
        .await?;
    assert_eq!(results(&huge), ["ok"], "{huge}");
    let big = ledger.account(41).await?;
    assert_eq!(
        big["balances"]["debits_posted"], "340282366920938463463374607431768211445",
        "full precision as a string: {big}"
    );
    let accounts = [41, 42];
    let before = ledger.snapshot(&accounts).await?;
    let overflow = ledger
        .create_transfers(json!(
            [transfer(411, 41, 42, 11), transfer(412, 42, 41, 1),]
        ))
        .await?;
    let codes = results(&overflow);
    assert!(codes[0].starts_with("overflows_"), "{overflow}");
    assert_eq!(codes[0], "overflows_debits_posted", "{overflow}");
    assert_eq!(codes[1], "ok", "the other way has room: {overflow}");
    let after_one_back = ledger.snapshot(&accounts).await?;
    assert_eq!(after_one_back.transfers, before.transfers + 1);
    assert_eq!(after_one_back.balances[0], [0, near, 0, 1]);
    let pending_overflow = ledger
        .create_transfers(json!([with(
            transfer(413, 41, 42, 11),
            "flags",
            json!(["pending"])
        )]))
        .await?;
    assert_eq!(
        results(&pending_overflow),
        ["overflows_debits"],
        "{pending_overflow}"
    );
    assert_eq!(ledger.snapshot(&accounts).await?, after_one_back);
    ledger.stop().await;
    Ok(())
}

async fn batches_have_limits_and_the_body_has_its_own(database: TestDatabase) -> TestResult {
    let ledger = Ledger::start(&database.db).await?;
    bank_and_wallets(&ledger, 0).await?;
    let accounts = [BANK, WALLET_A, WALLET_B];
    let before = ledger.snapshot(&accounts).await?;
    let journal = ledger.journal();
    let body_limit = ServerLimits::default().body_bytes_max;

    // 8,191 events, written compactly so the body stays under the 1 MiB limit: the ledger's
    // own limit answers, not the body's.
    let batch = |count: u128, first_id: u128| -> String {
        let events: Vec<String> = (first_id..first_id + count)
            .map(|id| {
                format!(
                    r#"{{"id":"{id}","debit_account_id":"1","credit_account_id":"3","amount":"1","ledger":"CUP","code":1}}"#
                )
            })
            .collect();
        format!(r#"{{"transfers":[{}]}}"#, events.join(","))
    };
    let too_many = batch(8_191, 1_000);
    assert!(too_many.len() < body_limit, "{} bytes", too_many.len());
    let refused = ledger.post_raw(TRANSFERS, too_many).await?;
    let problem = assert_problem(&refused, 422, "ledger_batch_too_large", TRANSFERS);
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("8191") && detail.contains("8190"),
        "{problem}"
    );
    let accounts_body = format!(
        r#"{{"accounts":[{}]}}"#,
        (1_000..9_191)
            .map(|id| format!(r#"{{"id":"{id}","ledger":"CUP","code":1}}"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    let refused = ledger.post_raw(ACCOUNTS, accounts_body).await?;
    assert_problem(&refused, 422, "ledger_batch_too_large", ACCOUNTS);
    assert_eq!(ledger.journal(), journal);
    assert_eq!(ledger.snapshot(&accounts).await?, before);

    // A body over the limit is refused before it is read as JSON.
    let padding = "0".repeat(body_limit);
    let oversized = format!(
        r#"{{"transfers":[{{"id":"1","debit_account_id":"1","credit_account_id":"3","amount":"1","user_data":"{padding}","ledger":"CUP","code":1}}]}}"#
    );
    let refused = ledger.post_raw(TRANSFERS, oversized).await?;
    assert_problem(&refused, 413, "payload_too_large", TRANSFERS);
    assert_eq!(ledger.journal(), journal);
    assert_eq!(ledger.snapshot(&accounts).await?, before);

    // 8,190 is the most, and it is taken as one record.
    let most = ledger.post_raw(TRANSFERS, batch(8_190, 1_000)).await?;
    assert_eq!(most.status, 200, "{}", most.text());
    let most = most.json()?;
    assert_eq!(most["created"], 8_190);
    assert_eq!(most["refused"], 0);
    assert_eq!(ledger.journal(), journal + 1);
    assert_eq!(ledger.balances(WALLET_B).await?, [0, 0, 0, 8_190]);
    assert_eq!(ledger.balances(BANK).await?, [0, 8_190, 0, 0]);
    ledger.stop().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

async fn reads_answer_404_for_unknown_ids_and_400_for_bad_ones(
    database: TestDatabase,
) -> TestResult {
    let ledger = Ledger::start(&database.db).await?;
    bank_and_wallets(&ledger, 100).await?;
    assert_eq!(ledger.transfer(100).await?["amount"], "100");
    for path in [
        format!("{ACCOUNTS}/77"),
        format!("{TRANSFERS}/77"),
        format!("{ACCOUNTS}/77/transfers"),
        format!("{ACCOUNTS}/77/balances"),
        format!("{ACCOUNTS}/77/pending"),
    ] {
        let problem = assert_problem(&ledger.get(&path).await?, 404, "not_found", &path);
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("no existe")),
            "{problem}"
        );
    }
    for id in [
        "abc",
        "-1",
        "1.5",
        "0x10",
        "340282366920938463463374607431768211456",
    ] {
        for path in [
            format!("{ACCOUNTS}/{id}"),
            format!("{TRANSFERS}/{id}"),
            format!("{ACCOUNTS}/{id}/transfers"),
            format!("{ACCOUNTS}/{id}/balances"),
            format!("{ACCOUNTS}/{id}/pending"),
        ] {
            assert_problem(&ledger.get(&path).await?, 400, "bad_request", &path);
        }
    }
    let transfers = format!("{ACCOUNTS}/{WALLET_A}/transfers");
    for query in [
        "limit=0",
        "limit=1001",
        "limit=diez",
        "direction=sideways",
        "order=random",
        "from=ayer",
        "to=-1",
        "cursor=x",
        "code=70000",
        "owner=7",
        // Past a u64 of nanoseconds.
        "from=18446744073709551616",
    ] {
        let response = ledger.get(&format!("{transfers}?{query}")).await?;
        assert_problem(&response, 400, "bad_request", &transfers);
    }
    for query in ["cursor=x", "limit=0", "limit=1001", "since=1"] {
        let response = ledger.get(&format!("{CHANGES}?{query}")).await?;
        assert_problem(&response, 400, "bad_request", CHANGES);
    }
    let balances = format!("{ACCOUNTS}/{WALLET_A}/balances");
    let response = ledger.get(&format!("{balances}?at=ahora")).await?;
    assert_problem(&response, 400, "bad_request", &balances);
    // A method the route does not have.
    let response = send(
        "DELETE",
        &ledger.server.url(&format!("{ACCOUNTS}/{WALLET_A}")),
        &[("authorization", &ledger.authorization)],
        Vec::new(),
    )
    .await?;
    assert_problem(
        &response,
        405,
        "method_not_allowed",
        &format!("{ACCOUNTS}/{WALLET_A}"),
    );
    ledger.stop().await;
    Ok(())
}

/// Follows `next_cursor` from `path` (which has its query but no cursor) to the last page.
async fn all_pages(ledger: &Ledger, path: &str, limit: usize) -> Result<Vec<u128>, String> {
    let mut collected = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1_000 {
        let paged = match &cursor {
            None => format!("{path}&limit={limit}"),
            Some(cursor) => format!("{path}&limit={limit}&cursor={cursor}"),
        };
        let page = ledger.get_ok(&paged).await?;
        let page_ids = ids(&page);
        assert!(page_ids.len() <= limit, "{page}");
        collected.extend(page_ids);
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(
                    Some(next.to_owned()),
                    timestamps(&page)?.last().map(u64::to_string),
                    "the cursor is the last timestamp of the page"
                );
                cursor = Some(next.to_owned());
            }
            None => return Ok(collected),
        }
    }
    Err(format!("{path}: the pages never ended"))
}

/// A transfer of the paging test: id, debit account, credit account, code.
type Planned = (u128, u128, u128, u16);

async fn account_transfers_filter_and_page_by_keyset(database: TestDatabase) -> TestResult {
    let ledger = Ledger::start(&database.db).await?;
    let (a, b, c) = (50, 51, 52);
    let opened = ledger
        .create_accounts(json!([
            account(a, "CUP", &[]),
            account(b, "CUP", &[]),
            account(c, "CUP", &[])
        ]))
        .await?;
    assert_eq!(results(&opened), ["ok", "ok", "ok"]);
    // In commit order, over three requests.
    let planned: Vec<Planned> = vec![
        (501, a, b, 1),
        (502, b, a, 2),
        (503, a, c, 1),
        (504, b, c, 1),
        (505, c, a, 2),
        (506, a, b, 2),
        (507, a, c, 1),
        (508, c, b, 2),
        (509, b, a, 1),
        (510, a, b, 1),
        (511, c, a, 1),
    ];
    for chunk in planned.chunks(4) {
        let events: Vec<Value> = chunk
            .iter()
            .map(|(id, debit, credit, code)| {
                with(transfer(*id, *debit, *credit, *id), "code", json!(code))
            })
            .collect();
        let batch = ledger.create_transfers(Value::Array(events)).await?;
        assert!(results(&batch).iter().all(|r| r == "ok"), "{batch}");
    }
    let of_a = |keep: &dyn Fn(&Planned) -> bool| -> Vec<u128> {
        planned
            .iter()
            .filter(|t| (t.1 == a || t.2 == a) && keep(t))
            .map(|t| t.0)
            .collect()
    };
    let path = format!("{ACCOUNTS}/{a}/transfers");

    // The whole list, oldest first, with strictly growing timestamps.
    let full = ledger.get_ok(&format!("{path}?limit=1000")).await?;
    let everything = of_a(&|_| true);
    assert_eq!(ids(&full), everything);
    assert!(full["next_cursor"].is_null(), "{full}");
    let stamps = timestamps(&full)?;
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
    assert_eq!(full["transfers"][0]["amount"], "501");
    // The default page holds them all too.
    assert_eq!(ids(&ledger.get_ok(&path).await?), everything);

    // Page by page, in both orders, for several page sizes.
    for limit in [1, 2, 3, everything.len()] {
        assert_eq!(
            all_pages(&ledger, &format!("{path}?order=asc"), limit).await?,
            everything
        );
        let mut newest_first = everything.clone();
        newest_first.reverse();
        assert_eq!(
            all_pages(&ledger, &format!("{path}?order=desc"), limit).await?,
            newest_first,
            "limit {limit}"
        );
    }

    // Filters: direction, code, both, and a time window.
    let debits = of_a(&|t| t.1 == a);
    let credits = of_a(&|t| t.2 == a);
    let code_two = of_a(&|t| t.3 == 2);
    let credits_code_one = of_a(&|t| t.2 == a && t.3 == 1);
    assert_eq!(
        ids(&ledger.get_ok(&format!("{path}?direction=debits")).await?),
        debits
    );
    assert_eq!(
        ids(&ledger.get_ok(&format!("{path}?direction=credits")).await?),
        credits
    );
    assert_eq!(
        ids(&ledger.get_ok(&format!("{path}?direction=both")).await?),
        everything
    );
    assert_eq!(
        ids(&ledger.get_ok(&format!("{path}?code=2")).await?),
        code_two
    );
    assert_eq!(
        all_pages(&ledger, &format!("{path}?direction=credits&code=1"), 1).await?,
        credits_code_one
    );
    assert!(ids(&ledger.get_ok(&format!("{path}?code=9")).await?).is_empty());

    // [from, to] is inclusive at both ends.
    let (from, to) = (stamps[2], stamps[5]);
    let window = &everything[2..=5];
    assert_eq!(
        ids(&ledger
            .get_ok(&format!("{path}?from={from}&to={to}"))
            .await?),
        window
    );
    assert_eq!(
        all_pages(&ledger, &format!("{path}?from={from}&to={to}&order=asc"), 3).await?,
        window
    );
    let mut window_desc = window.to_vec();
    window_desc.reverse();
    assert_eq!(
        all_pages(
            &ledger,
            &format!("{path}?from={from}&to={to}&order=desc"),
            3
        )
        .await?,
        window_desc
    );
    assert_eq!(
        ids(&ledger
            .get_ok(&format!("{path}?from={from}&to={to}&order=desc&limit=2"))
            .await?),
        &window_desc[..2]
    );
    let after = from + 1;
    let before = to - 1;
    assert_eq!(
        ids(&ledger
            .get_ok(&format!("{path}?from={after}&to={before}"))
            .await?),
        &everything[3..=4]
    );
    assert!(
        ids(&ledger
            .get_ok(&format!("{path}?from={to}&to={from}"))
            .await?)
        .is_empty()
    );
    // A page of exactly `limit` offers a cursor; the page after it is empty and ends there.
    let last_two = ledger
        .get_ok(&format!("{path}?from={}&limit=2", stamps[stamps.len() - 2]))
        .await?;
    let cursor = last_two["next_cursor"].as_str().ok_or("no cursor")?;
    let empty = ledger
        .get_ok(&format!(
            "{path}?from={}&limit=2&cursor={cursor}",
            stamps[stamps.len() - 2]
        ))
        .await?;
    assert!(ids(&empty).is_empty(), "{empty}");
    assert!(empty["next_cursor"].is_null(), "{empty}");
    ledger.stop().await;
    Ok(())
}

async fn balances_as_of_a_moment_need_history(database: TestDatabase) -> TestResult {
    let ledger = Ledger::start(&database.db).await?;
    let (kept, plain, other) = (60, 61, 62);
    let opened = ledger
        .create_accounts(json!([
            account(kept, "CUP", &["history"]),
            account(plain, "CUP", &[]),
            account(other, "CUP", &[]),
        ]))
        .await?;
    assert_eq!(results(&opened), ["ok", "ok", "ok"]);
    let opened_at = decimal(&ledger.account(kept).await?["timestamp"])?;
    for batch in [
        json!([transfer(601, other, kept, 1_000)]),
        json!([transfer(602, kept, plain, 300)]),
        json!([with(
            transfer(603, kept, other, 50),
            "flags",
            json!(["pending"])
        )]),
    ] {
        assert_eq!(results(&ledger.create_transfers(batch).await?), ["ok"]);
    }
    let mut at = Vec::new();
    for id in [601, 602, 603] {
        at.push(decimal(&ledger.transfer(id).await?["timestamp"])?);
    }
    let path = format!("{ACCOUNTS}/{kept}/balances");
    let as_of = |moment: u128| format!("{path}?at={moment}");
    let cases: [(u128, Balances); 7] = [
        (0, [0; 4]),
        (opened_at, [0; 4]),
        (at[0] - 1, [0; 4]),
        (at[0], [0, 0, 0, 1_000]),
        // Between the first two transfers.
        (at[1] - 1, [0, 0, 0, 1_000]),
        (at[1], [0, 300, 0, 1_000]),
        (at[2], [50, 300, 0, 1_000]),
    ];
    for (moment, expected) in cases {
        let view = ledger.get_ok(&as_of(moment)).await?;
        assert_eq!(balances_of(&view)?, expected, "at {moment}: {view}");
    }
    // Without `at`: now, the same as the account's own balances.
    let now = balances_of(&ledger.get_ok(&path).await?)?;
    assert_eq!(now, [50, 300, 0, 1_000]);
    assert_eq!(now, ledger.balances(kept).await?);

    // An account without history cannot answer, whatever the moment.
    for query in ["", "?at=1"] {
        let plain_path = format!("{ACCOUNTS}/{plain}/balances");
        let response = ledger.get(&format!("{plain_path}{query}")).await?;
        let problem = assert_problem(&response, 422, "ledger_history_not_enabled", &plain_path);
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("history")),
            "{problem}"
        );
    }
    ledger.stop().await;
    Ok(())
}

async fn the_change_stream_pages_in_order_and_resumes(database: TestDatabase) -> TestResult {
    let ledger = Ledger::start(&database.db).await?;
    let empty = ledger.get_ok(CHANGES).await?;
    assert!(ids(&empty).is_empty());
    assert_eq!(
        empty["next_cursor"], "0",
        "an empty stream resumes from the start"
    );
    bank_and_wallets(&ledger, 10_000).await?;
    let mut expected = vec![100];
    for batch in [
        json!([
            transfer(701, WALLET_A, WALLET_B, 10),
            transfer(702, WALLET_B, WALLET_A, 5)
        ]),
        json!([with(
            transfer(703, WALLET_A, WALLET_B, 7),
            "flags",
            json!(["pending"])
        )]),
        json!([
            {"id": "704", "pending_id": "703", "flags": ["post_pending"]},
            transfer(705, BANK, WALLET_B, 1),
            transfer(706, WALLET_A, WALLET_B, 1_000_000),
            transfer(707, WALLET_A, BANK, 2),
        ]),
    ] {
        ledger.create_transfers(batch).await?;
    }
    // 706 was refused: the stream holds only what was committed.
    expected.extend([701, 702, 703, 704, 705, 707]);

    // Page through with a cursor until a short page; every transfer once, in timestamp order.
    let mut seen = Vec::new();
    let mut stamps = Vec::new();
    let mut cursor = String::from("0");
    let limit = 3;
    for _ in 0..100 {
        let page = ledger
            .get_ok(&format!("{CHANGES}?cursor={cursor}&limit={limit}"))
            .await?;
        let page_ids = ids(&page);
        let page_stamps = timestamps(&page)?;
        seen.extend(page_ids.iter().copied());
        stamps.extend(page_stamps.iter().copied());
        let next = page["next_cursor"]
            .as_str()
            .ok_or("no next_cursor")?
            .to_owned();
        match page_stamps.last() {
            Some(last) => assert_eq!(next, last.to_string()),
            None => assert_eq!(next, cursor, "an empty page keeps the cursor"),
        }
        cursor = next;
        if page_ids.len() < limit {
            break;
        }
    }
    assert_eq!(seen, expected);
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
    let whole = ledger.get_ok(&format!("{CHANGES}?limit=1000")).await?;
    assert_eq!(ids(&whole), expected);
    let hold = &whole["transfers"][3];
    assert_eq!(hold["id"], "703");
    assert_eq!(hold["pending_status"], "posted", "{hold}");

    // Caught up: the next read from the stored cursor is empty; new commits follow, once.
    let caught_up = ledger.get_ok(&format!("{CHANGES}?cursor={cursor}")).await?;
    assert!(ids(&caught_up).is_empty(), "{caught_up}");
    assert_eq!(caught_up["next_cursor"], cursor.as_str());
    let more = ledger
        .create_transfers(json!([
            transfer(708, BANK, WALLET_A, 3),
            transfer(709, BANK, WALLET_B, 4)
        ]))
        .await?;
    assert_eq!(results(&more), ["ok", "ok"]);
    let resumed = ledger.get_ok(&format!("{CHANGES}?cursor={cursor}")).await?;
    assert_eq!(ids(&resumed), [708, 709]);
    let last = resumed["next_cursor"].as_str().ok_or("no cursor")?;
    assert!(ids(&ledger.get_ok(&format!("{CHANGES}?cursor={last}")).await?).is_empty());
    // Resuming from any timestamp gives exactly what came after it.
    let from_middle = ledger
        .get_ok(&format!("{CHANGES}?cursor={}&limit=1000", stamps[2]))
        .await?;
    assert_eq!(ids(&from_middle), [703, 704, 705, 707, 708, 709]);
    ledger.stop().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Servers without a ledger, or without the writer lease
// ---------------------------------------------------------------------------------------------

async fn a_server_without_a_ledger_answers_503(database: TestDatabase) -> TestResult {
    let db = &database.db;
    let state = test_state(db);
    assert!(state.ledger.is_none());
    let server = TestServer::with_state(state, ServerLimits::default()).await?;
    let token = second_factor_token(&server, db, OPERATOR_PHONE, &[Role::BankOperator]).await?;
    let authorization = format!("Bearer {token}");
    let headers = [("authorization", authorization.as_str())];
    for (path, body) in [
        (ACCOUNTS, json!({"accounts": [account(BANK, "CUP", &[])]})),
        (
            TRANSFERS,
            json!({"transfers": [transfer(1, BANK, WALLET_A, 1)]}),
        ),
    ] {
        let response = server.send_json("POST", path, &body, &headers).await?;
        let problem = assert_problem(&response, 503, "ledger_unavailable", path);
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("libro mayor")),
            "{problem}"
        );
    }
    for path in [
        format!("{ACCOUNTS}/1"),
        format!("{TRANSFERS}/1"),
        format!("{ACCOUNTS}/1/transfers"),
        format!("{ACCOUNTS}/1/balances"),
        format!("{ACCOUNTS}/1/pending"),
        CHANGES.to_owned(),
    ] {
        let response = server.get_with(&path, &headers).await?;
        assert_problem(&response, 503, "ledger_unavailable", &path);
    }
    Ok(())
}

async fn a_server_that_does_not_write_refuses_writes_but_reads(
    database: TestDatabase,
) -> TestResult {
    let db = &database.db;
    // Another process holds the writer lease.
    let writer = start_ledger(db, "otro-proceso").await?;
    let opened = writer
        .create_accounts(vec![NewAccount {
            id: AccountId(80),
            ledger: LedgerId::CUP,
            code: 1,
            owner: 0,
            flags: AccountFlags(0),
        }])
        .await?;
    assert_eq!(opened.len(), 1);
    let follower = LedgerEngine::start(
        db.clone(),
        LeaseHolder::new("web-test"),
        ceiba_store::system_clock(),
    )
    .await?;
    let mut state = test_state(db);
    state.ledger = Some(follower.clone());
    let server = TestServer::with_state(state, ServerLimits::default()).await?;
    let token = second_factor_token(&server, db, OPERATOR_PHONE, &[Role::BankOperator]).await?;
    let authorization = format!("Bearer {token}");
    let headers = [("authorization", authorization.as_str())];
    assert!(!follower.is_writer());

    let response = server
        .send_json(
            "POST",
            ACCOUNTS,
            &json!({"accounts": [account(81, "CUP", &[])]}),
            &headers,
        )
        .await?;
    let problem = assert_problem(&response, 503, "ledger_not_writer", ACCOUNTS);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("otro")),
        "{problem}"
    );
    // Reads are served from the journal the writer keeps.
    let path = format!("{ACCOUNTS}/80");
    let mut found = None;
    for _ in 0..50 {
        let response = server.get_with(&path, &headers).await?;
        if response.status == 200 {
            found = Some(response.json()?);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let found = found.ok_or("the follower never read the writer's account")?;
    assert_eq!(found["id"], "80");
    assert_eq!(
        writer.read().state.accounts_count(),
        1,
        "the refused account was not opened"
    );
    follower.stop().await;
    writer.stop().await;
    Ok(())
}

async fn the_openapi_document_lists_the_ledger_routes(database: TestDatabase) -> TestResult {
    let server = TestServer::start(&database.db).await?;
    let document = openapi_document(&server).await?;
    for (path, method) in [
        ("/api/v1/ledger/accounts", "post"),
        ("/api/v1/ledger/transfers", "post"),
        ("/api/v1/ledger/accounts/{id}", "get"),
        ("/api/v1/ledger/transfers/{id}", "get"),
        ("/api/v1/ledger/accounts/{id}/transfers", "get"),
        ("/api/v1/ledger/accounts/{id}/balances", "get"),
        ("/api/v1/ledger/accounts/{id}/pending", "get"),
        ("/api/v1/ledger/changes", "get"),
    ] {
        // Every ledger route needs a session: the document must say so.
        assert_bearer_route(&document, path, method, "pagos");
    }
    let schemas = &document["components"]["schemas"];
    for schema in [
        "CreateTransfersBody",
        "TransferInput",
        "BatchResults",
        "TransferPage",
    ] {
        assert!(schemas[schema].is_object(), "{schema} missing");
    }
    assert_eq!(
        schemas["TransferInput"]["properties"]["amount"]["type"], "string",
        "amounts are decimal strings: {}",
        schemas["TransferInput"]
    );
    Ok(())
}
