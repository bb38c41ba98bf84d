//! Linked bank accounts on SQLite and PostgreSQL: linking (once per account), the list without
//! removed accounts, unlinking only one's own, and deposits or withdrawals recorded with the
//! account they use and their idempotency key.

use ceiba_store::testing::active_citizen as user;
use ceiba_store::{BeginPayment, LinkBankAccount, NewBankAccount, NewOperation};
use ceiba_testkit::{Suite, TestDatabase, TestResult};

fn main() {
    let mut suite = Suite::new();
    suite.each_engine("bank_accounts_link_list_and_unlink", link_list_unlink);
    suite.each_engine("bank_accounts_operations_keep_their_account", operations);
    suite.run()
}

const NOW_MS: i64 = 1_795_996_800_000;

fn account<'a>(id: &'a str, user_id: &'a str, hash: &'a [u8]) -> NewBankAccount<'a> {
    NewBankAccount {
        id,
        user_id,
        bank_code: "BPA",
        currency: "CUP",
        alias: "Ahorros",
        masked_number: "************3456",
        number_hash: hash,
        created_at_ms: NOW_MS,
    }
}

async fn link_list_unlink(database: TestDatabase) -> TestResult {
    let db = database.db;
    let ana = user(&db, "+5351000001").await?;
    let beto = user(&db, "+5351000002").await?;
    let LinkBankAccount::Linked(first) = db.link_bank_account(&account("1", &ana, b"h1")).await?
    else {
        return Err("the first link is new".into());
    };
    assert_eq!(first.user_id, ana);
    assert_eq!(first.masked_number, "************3456");
    assert_eq!(first.number_hash, b"h1");
    assert_eq!(first.removed_at_ms, None);
    // The same account again is the one linked; another currency is another account.
    assert_eq!(
        db.link_bank_account(&account("2", &ana, b"h1")).await?,
        LinkBankAccount::Existing(first.clone())
    );
    let usd = NewBankAccount {
        currency: "USD",
        ..account("3", &ana, b"h1")
    };
    assert!(matches!(
        db.link_bank_account(&usd).await?,
        LinkBankAccount::Linked(_)
    ));
    // Another person may link the same number.
    assert!(matches!(
        db.link_bank_account(&account("4", &beto, b"h1")).await?,
        LinkBankAccount::Linked(_)
    ));
    let ids = |rows: Vec<ceiba_store::BankAccountRow>| {
        rows.into_iter().map(|row| row.id).collect::<Vec<_>>()
    };
    assert_eq!(ids(db.bank_accounts_of(&ana).await?), ["1", "3"]);
    // Only its owner unlinks it, once.
    assert!(!db.remove_bank_account(&beto, "1", NOW_MS + 1).await?);
    assert!(db.remove_bank_account(&ana, "1", NOW_MS + 1).await?);
    assert!(!db.remove_bank_account(&ana, "1", NOW_MS + 2).await?);
    assert_eq!(ids(db.bank_accounts_of(&ana).await?), ["3"]);
    let removed = db.bank_account("1").await?.ok_or("kept after unlinking")?;
    assert_eq!(removed.removed_at_ms, Some(NOW_MS + 1));
    assert!(db.bank_account("nada").await?.is_none());
    // Linked again after removal: a new account.
    assert!(matches!(
        db.link_bank_account(&account("5", &ana, b"h1")).await?,
        LinkBankAccount::Linked(_)
    ));
    Ok(())
}

async fn operations(database: TestDatabase) -> TestResult {
    let db = database.db;
    let ana = user(&db, "+5351000001").await?;
    db.link_bank_account(&account("1", &ana, b"h1")).await?;
    let operation = |id: &'static str| NewOperation {
        id,
        user_id: &ana,
        idempotency_key: Some("clave-1"),
        request_hash: b"deposit 100",
        kind: "cash_in",
        currency: "CUP",
        amount_minor: 10_000,
        fee_minor: 0,
        counterparty_user_id: Some(&ana),
        counterparty_label: "BPA",
        note: "Ahorros ****3456",
        counts_toward_limits: false,
        created_at_ms: NOW_MS,
    };
    let BeginPayment::Started(row) = db
        .begin_bank_account_operation(&operation("10"), "1", 300)
        .await?
    else {
        return Err("a new operation starts".into());
    };
    let side = db
        .bank_account_operation(&row.id)
        .await?
        .ok_or("the operation keeps its account")?;
    assert_eq!(side.bank_account_id, "1");
    assert_eq!(side.hold_timeout_s, 300);
    // The same key: the first operation, nothing written.
    let BeginPayment::Existing(again) = db
        .begin_bank_account_operation(&operation("11"), "1", 300)
        .await?
    else {
        return Err("the key finds the first operation".into());
    };
    assert_eq!(again.id, "10");
    assert!(db.bank_account_operation("11").await?.is_none());
    assert!(db.payment_operation("11").await?.is_none());
    Ok(())
}
