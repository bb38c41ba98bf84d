//! Billers, bills and payments to billers on SQLite and PostgreSQL: the seeded billers, uploads
//! that are all or nothing, a bill claimed by one operation at a time and paid at most once
//! (also by concurrent requests), released when its payment is refused, and the biller's list.

use ceiba_store::testing::active_citizen as user;
use ceiba_store::{
    BeginPayment, BillRefusal, BillStatus, BillerTarget, Finish, InsertBills, NewBill,
    NewOperation, OperationStatus,
};
use ceiba_testkit::{Suite, TestDatabase, TestResult};

fn main() {
    let mut suite = Suite::new();
    suite.each_engine("bills_billers_are_seeded", billers_seeded);
    suite.each_engine("bills_upload_is_all_or_nothing", upload_all_or_nothing);
    suite.each_engine("bills_paid_once_and_released_on_refusal", paid_once);
    suite.each_engine("bills_concurrent_payments_claim_once", concurrent_claims);
    suite.each_engine("bills_idempotency_key_returns_the_first", idempotency);
    suite.each_engine("bills_top_ups_and_the_billers_list", top_ups_and_list);
    suite.run()
}

const NOW_MS: i64 = 1_795_996_800_000;

fn bill<'a>(reference: &'a str, amount_minor: u64) -> NewBill<'a> {
    NewBill {
        reference,
        customer_name: "Ana Pérez García",
        amount_minor,
        currency: "CUP",
        due_date: "2026-12-15",
        period: "2026-11",
    }
}

fn operation<'a>(id: &'a str, user: &'a str, key: Option<&'a str>) -> NewOperation<'a> {
    NewOperation {
        id,
        user_id: user,
        idempotency_key: key,
        request_hash: b"hash-of-the-request",
        kind: "bill_payment",
        currency: "CUP",
        amount_minor: 12_550,
        fee_minor: 0,
        counterparty_user_id: None,
        counterparty_label: "UNE Empresa Eléctrica",
        note: "Factura 100",
        counts_toward_limits: false,
        created_at_ms: NOW_MS,
    }
}

const COMPLETED: Finish<'static> = Finish::Completed {
    receipt_code: "ABCDE-FGHJK",
};
const REVERSED: Finish<'static> = Finish::Refused {
    code: "payment_reversed",
    detail: "el emisor no respondió",
};

async fn billers_seeded(database: TestDatabase) -> TestResult {
    let db = database.db;
    let billers = db.billers().await?;
    let codes: Vec<&str> = billers.iter().map(|biller| biller.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "aguas-habana",
            "contravenciones",
            "etecsa-fija",
            "etecsa-movil",
            "etecsa-nauta",
            "gas-manufacturado",
            "onat",
            "une"
        ]
    );
    let onat = db.biller("onat").await?.ok_or("ONAT is seeded")?;
    assert_eq!(onat.kind, "impuestos");
    assert_eq!(onat.user_id, None);
    assert!(db.biller("nadie").await?.is_none());
    // A biller gets its operator.
    let operator = user(&db, "+5351000009").await?;
    assert!(db.set_biller_user("une", Some(&operator)).await?);
    assert_eq!(
        db.biller("une").await?.ok_or("une")?.user_id.as_deref(),
        Some(operator.as_str())
    );
    assert!(!db.set_biller_user("nadie", Some(&operator)).await?);
    Ok(())
}

async fn upload_all_or_nothing(database: TestDatabase) -> TestResult {
    let db = database.db;
    assert_eq!(
        db.insert_bills("une", &[bill("100", 12_550), bill("101", 3_000)], NOW_MS)
            .await?,
        InsertBills::Inserted(2)
    );
    let stored = db.bill("une", "100").await?.ok_or("bill 100 is stored")?;
    assert_eq!(stored.amount_minor, 12_550);
    assert_eq!(stored.customer_name, "Ana Pérez García");
    assert_eq!(stored.due_date, "2026-12-15");
    assert_eq!(stored.period, "2026-11");
    assert_eq!(stored.status, BillStatus::Open);
    assert_eq!(stored.uploaded_at_ms, NOW_MS);
    // References are per biller: another biller may use the same one.
    assert_eq!(
        db.insert_bills("aguas-habana", &[bill("100", 900)], NOW_MS)
            .await?,
        InsertBills::Inserted(1)
    );
    // A reference used before refuses the whole upload, new bills included.
    assert_eq!(
        db.insert_bills("une", &[bill("102", 100), bill("101", 100)], NOW_MS)
            .await?,
        InsertBills::Duplicate(1)
    );
    assert!(
        db.bill("une", "102").await?.is_none(),
        "nothing was written"
    );
    // And so does a reference repeated within one upload.
    assert_eq!(
        db.insert_bills("une", &[bill("103", 100), bill("103", 200)], NOW_MS)
            .await?,
        InsertBills::Duplicate(1)
    );
    assert!(db.bill("une", "103").await?.is_none());
    assert_eq!(
        db.bill("une", "101").await?.ok_or("101")?.amount_minor,
        3_000
    );
    Ok(())
}

async fn paid_once(database: TestDatabase) -> TestResult {
    let db = database.db;
    let ana = user(&db, "+5351000001").await?;
    let luis = user(&db, "+5351000002").await?;
    db.insert_bills("une", &[bill("100", 12_550)], NOW_MS)
        .await?;

    // Ana's first attempt is reversed: the bill opens again, with its SMS.
    let first = db
        .begin_biller_payment(
            &operation("1", &ana, None),
            "une",
            BillerTarget::Bill("100"),
            300,
        )
        .await?;
    assert!(matches!(first, BeginPayment::Started(_)), "{first:?}");
    let held = db.bill("une", "100").await?.ok_or("100")?;
    assert_eq!(held.held_by_operation.as_deref(), Some("1"));
    assert_eq!(held.status, BillStatus::Open);
    let side = db.biller_payment("1").await?.ok_or("the biller side")?;
    assert_eq!(side.biller_code, "une");
    assert_eq!(side.bill_reference.as_deref(), Some("100"));
    assert_eq!(side.top_up_account, None);
    assert_eq!(side.hold_timeout_s, 300);
    // While Ana's operation holds it, Luis cannot start paying it.
    let meanwhile = db
        .begin_biller_payment(
            &operation("2", &luis, None),
            "une",
            BillerTarget::Bill("100"),
            300,
        )
        .await?;
    assert!(matches!(
        meanwhile,
        BeginPayment::Refused(BillRefusal::InProgress)
    ));
    assert!(db.payment_operation("2").await?.is_none());
    let before = db.due_sms(i64::MAX, 100).await?.len();
    let reversed = db
        .finish_biller_payment("1", REVERSED, &[("+5351000001", "devuelto")], NOW_MS + 1)
        .await?;
    assert_eq!(reversed.status, OperationStatus::Refused);
    assert_eq!(reversed.refusal_code.as_deref(), Some("payment_reversed"));
    assert_eq!(db.due_sms(i64::MAX, 100).await?.len(), before + 1);
    let open = db.bill("une", "100").await?.ok_or("100")?;
    assert_eq!(open.status, BillStatus::Open);
    assert_eq!(open.held_by_operation, None);

    // Luis pays it.
    assert!(matches!(
        db.begin_biller_payment(
            &operation("3", &luis, None),
            "une",
            BillerTarget::Bill("100"),
            300
        )
        .await?,
        BeginPayment::Started(_)
    ));
    let paid = db
        .finish_biller_payment("3", COMPLETED, &[("+5351000002", "pagado")], NOW_MS + 2)
        .await?;
    assert_eq!(paid.status, OperationStatus::Completed);
    let bill = db.bill("une", "100").await?.ok_or("100")?;
    assert_eq!(bill.status, BillStatus::Paid);
    assert_eq!(bill.paid_by_operation.as_deref(), Some("3"));
    assert_eq!(bill.paid_at_ms, Some(NOW_MS + 2));
    assert_eq!(bill.held_by_operation, None);
    // Finishing again (a retry) changes nothing and queues nothing.
    let sms = db.due_sms(i64::MAX, 100).await?.len();
    let again = db
        .finish_biller_payment("3", REVERSED, &[("+5351000002", "otra vez")], NOW_MS + 3)
        .await?;
    assert_eq!(again.status, OperationStatus::Completed);
    assert_eq!(db.due_sms(i64::MAX, 100).await?.len(), sms);
    assert_eq!(
        db.bill("une", "100").await?.ok_or("100")?.status,
        BillStatus::Paid
    );

    // Paid is paid, for anyone; unknown is unknown.
    assert!(matches!(
        db.begin_biller_payment(
            &operation("4", &ana, None),
            "une",
            BillerTarget::Bill("100"),
            300
        )
        .await?,
        BeginPayment::Refused(BillRefusal::AlreadyPaid)
    ));
    assert!(matches!(
        db.begin_biller_payment(
            &operation("5", &ana, None),
            "une",
            BillerTarget::Bill("999"),
            300
        )
        .await?,
        BeginPayment::Refused(BillRefusal::Unknown)
    ));
    assert!(db.payment_operation("4").await?.is_none());
    assert!(db.payment_operation("5").await?.is_none());
    Ok(())
}

async fn concurrent_claims(database: TestDatabase) -> TestResult {
    let db = database.db;
    db.insert_bills("une", &[bill("100", 12_550)], NOW_MS)
        .await?;
    let mut people = Vec::new();
    for n in 0..8 {
        people.push(user(&db, &format!("+535100001{n}")).await?);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (n, person) in people.into_iter().enumerate() {
        let db = db.clone();
        tasks.spawn(async move {
            let id = format!("op-{n}");
            let outcome = db
                .begin_biller_payment(
                    &operation(&id, &person, None),
                    "une",
                    BillerTarget::Bill("100"),
                    300,
                )
                .await?;
            Ok::<_, ceiba_store::StoreError>(match outcome {
                BeginPayment::Started(row) => Some(row.id),
                BeginPayment::Refused(BillRefusal::InProgress) => None,
                other => panic!("unexpected {other:?}"),
            })
        });
    }
    let mut started = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Some(id) = joined?? {
            started.push(id);
        }
    }
    assert_eq!(started.len(), 1, "exactly one operation claimed the bill");
    let bill = db.bill("une", "100").await?.ok_or("100")?;
    assert_eq!(bill.held_by_operation.as_ref(), started.first());
    Ok(())
}

async fn idempotency(database: TestDatabase) -> TestResult {
    let db = database.db;
    let ana = user(&db, "+5351000001").await?;
    db.insert_bills("une", &[bill("100", 12_550)], NOW_MS)
        .await?;
    assert!(matches!(
        db.begin_biller_payment(
            &operation("1", &ana, Some("clave")),
            "une",
            BillerTarget::Bill("100"),
            300
        )
        .await?,
        BeginPayment::Started(_)
    ));
    db.finish_biller_payment("1", COMPLETED, &[], NOW_MS + 1)
        .await?;
    // The same key after the bill was paid answers with the operation that paid it, not with
    // "already paid".
    match db
        .begin_biller_payment(
            &operation("2", &ana, Some("clave")),
            "une",
            BillerTarget::Bill("100"),
            300,
        )
        .await?
    {
        BeginPayment::Existing(row) => assert_eq!(row.id, "1"),
        other => panic!("expected the first operation, got {other:?}"),
    }
    let mut other = operation("3", &ana, Some("clave"));
    other.request_hash = b"another-request";
    assert!(matches!(
        db.begin_biller_payment(&other, "une", BillerTarget::Bill("100"), 300)
            .await?,
        BeginPayment::KeyReused(_)
    ));
    assert!(db.biller_payment("2").await?.is_none());
    assert!(db.biller_payment("3").await?.is_none());
    Ok(())
}

async fn top_ups_and_list(database: TestDatabase) -> TestResult {
    let db = database.db;
    let ana = user(&db, "+5351000001").await?;
    db.insert_bills("une", &[bill("100", 12_550), bill("101", 3_000)], NOW_MS)
        .await?;
    let mut top_up = operation("t1", &ana, None);
    top_up.kind = "top_up";
    top_up.amount_minor = 25_000;
    let started = db
        .begin_biller_payment(
            &top_up,
            "etecsa-movil",
            BillerTarget::TopUp("+5351000001"),
            300,
        )
        .await?;
    assert!(matches!(started, BeginPayment::Started(_)));
    let side = db.biller_payment("t1").await?.ok_or("top-up side")?;
    assert_eq!(side.top_up_account.as_deref(), Some("+5351000001"));
    assert_eq!(side.bill_reference, None);
    db.finish_biller_payment("t1", COMPLETED, &[], NOW_MS + 10)
        .await?;

    for (id, reference, at) in [("b1", "100", NOW_MS + 20), ("b2", "101", NOW_MS + 30)] {
        db.begin_biller_payment(
            &operation(id, &ana, None),
            "une",
            BillerTarget::Bill(reference),
            300,
        )
        .await?;
        db.finish_biller_payment(id, COMPLETED, &[], at).await?;
    }
    // A refused payment is not a payment to list.
    db.insert_bills("une", &[bill("102", 500)], NOW_MS).await?;
    db.begin_biller_payment(
        &operation("b3", &ana, None),
        "une",
        BillerTarget::Bill("102"),
        300,
    )
    .await?;
    db.finish_biller_payment("b3", REVERSED, &[], NOW_MS + 40)
        .await?;

    let all = db
        .payments_to_biller("une", NOW_MS, NOW_MS + 100, None, 100)
        .await?;
    let ids: Vec<&str> = all.iter().map(|paid| paid.operation_id.as_str()).collect();
    assert_eq!(ids, ["b1", "b2"]);
    assert_eq!(all[0].reference, "100");
    assert_eq!(all[0].customer_name, "Ana Pérez García");
    assert_eq!(all[0].period, "2026-11");
    assert_eq!(all[0].amount_minor, 12_550);
    assert_eq!(all[0].receipt_code, "ABCDE-FGHJK");
    assert_eq!(all[0].paid_at_ms, NOW_MS + 20);
    // Pages continue after the last row seen; the window is half open.
    let next = db
        .payments_to_biller("une", NOW_MS, NOW_MS + 100, Some((NOW_MS + 20, "b1")), 1)
        .await?;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].operation_id, "b2");
    assert!(
        db.payments_to_biller("une", NOW_MS, NOW_MS + 20, None, 100)
            .await?
            .is_empty()
    );
    let top_ups = db
        .payments_to_biller("etecsa-movil", NOW_MS, NOW_MS + 100, None, 100)
        .await?;
    assert_eq!(top_ups.len(), 1);
    assert_eq!(top_ups[0].reference, "+5351000001");
    assert_eq!(top_ups[0].customer_name, "");
    assert_eq!(top_ups[0].kind, "top_up");
    Ok(())
}
