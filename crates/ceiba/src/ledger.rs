//! `ceiba ledger …`: operations on the ledger from the command line: checking it, and a
//! deterministic load for crash tests.

use std::time::Duration;

use anyhow::Context;
use ceiba_ledger::{BATCH_EVENTS_MAX, CreateAccountResult, CreateTransferResult};
use ceiba_store::{Db, LeaseHolder, LedgerEngine, Replica};

use crate::{load_plan, print_line};

/// Most accounts `ceiba ledger load` creates.
const LOAD_ACCOUNTS_MAX: u32 = 1_000_000;

/// Rebuilds the ledger from its journal (checking every record's checksum and sequence) and
/// checks every invariant. Fails, listing what is wrong, when one does not hold.
pub async fn check(db: &Db) -> anyhow::Result<()> {
    let mut replica = Replica::default();
    ceiba_store::replay_ledger(db, &mut replica).await?;
    let report = ceiba_ledger::check(&replica.state);
    print_line(&format!(
        "Libro mayor: {} registros en el diario, {} cuentas, {} transferencias.",
        replica.sequence, report.accounts, report.transfers
    ))?;
    for totals in &report.ledgers {
        let name = totals
            .ledger
            .currency()
            .map_or_else(|| format!("libro {}", totals.ledger.0), str::to_owned);
        print_line(&format!(
            "  {name}: {} cuentas; asentado: débitos {} y créditos {}; pendiente: débitos {} y créditos {}.",
            totals.accounts,
            totals.debits_posted,
            totals.credits_posted,
            totals.debits_pending,
            totals.credits_pending
        ))?;
    }
    if report.is_sound() {
        print_line("Invariantes: se cumplen todas.")?;
        return Ok(());
    }
    for violation in &report.violations {
        print_line(&format!("  incumplida: {violation}"))?;
    }
    anyhow::bail!(
        "el libro mayor incumple {} invariantes",
        report.violations.len()
    )
}

/// What `ceiba ledger load` was asked to do.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub accounts: u32,
    pub transfers: u64,
    pub batch: u32,
    pub first_id: u64,
    pub seed: u64,
}

/// Creates the accounts of [`load_plan`], funds the limited ones, then submits the planned
/// batches one after another through the ledger engine, printing a line after each one is
/// durable. Everything is idempotent: a rerun over the same ids answers `exists`.
pub async fn load(db: &Db, load: Load) -> anyhow::Result<()> {
    anyhow::ensure!(
        load.accounts >= load_plan::ACCOUNTS_MIN,
        "--accounts debe ser al menos {}",
        load_plan::ACCOUNTS_MIN
    );
    anyhow::ensure!(
        load.accounts <= LOAD_ACCOUNTS_MAX,
        "--accounts no puede pasar de {LOAD_ACCOUNTS_MAX}"
    );
    anyhow::ensure!(
        usize::try_from(load.batch).is_ok_and(|batch| (1..=BATCH_EVENTS_MAX).contains(&batch)),
        "--batch debe estar entre 1 y {BATCH_EVENTS_MAX}"
    );
    anyhow::ensure!(load.first_id >= 1, "--first-id debe ser al menos 1");
    anyhow::ensure!(
        load.first_id
            .checked_add(load.transfers)
            .is_some_and(|end| u128::from(end) <= load_plan::FUNDING_TRANSFER_BASE),
        "los identificadores de las transferencias deben quedar por debajo de 2^64"
    );
    let engine = LedgerEngine::start(
        db.clone(),
        LeaseHolder::new(format!("load-{}", uuid::Uuid::new_v4())),
        ceiba_store::system_clock(),
    )
    .await
    .context("no se pudo abrir el libro mayor")?;
    let outcome = submit(&engine, load).await;
    engine.stop().await;
    outcome
}

async fn submit(engine: &LedgerEngine, load: Load) -> anyhow::Result<()> {
    anyhow::ensure!(
        engine.wait_until_writer(Duration::from_secs(30)).await,
        "otro proceso escribe en el libro mayor y no cedió el turno en 30 s"
    );
    for chunk in load_plan::accounts(load.accounts).chunks(BATCH_EVENTS_MAX) {
        let results = engine.create_accounts(chunk.to_vec()).await?;
        if let Some((account, result)) = chunk.iter().zip(&results).find(|(_, result)| {
            !matches!(
                result,
                CreateAccountResult::Ok | CreateAccountResult::Exists
            )
        }) {
            anyhow::bail!("no se pudo crear la cuenta {}: {result}", account.id);
        }
    }
    let funding = load_plan::funding(load.accounts);
    for chunk in funding.chunks(BATCH_EVENTS_MAX) {
        let results = engine.create_transfers(chunk.to_vec()).await?;
        if let Some((transfer, result)) = chunk.iter().zip(&results).find(|(_, result)| {
            !matches!(
                result,
                CreateTransferResult::Ok | CreateTransferResult::Exists
            )
        }) {
            anyhow::bail!(
                "no se pudo dar fondos con la transferencia {}: {result}",
                transfer.id
            );
        }
    }
    print_line(&format!(
        "listo: {} cuentas, {} con límite y fondos; diario en el registro {}.",
        load.accounts,
        funding.len(),
        engine.read().sequence
    ))?;

    let end = load.first_id + load.transfers;
    let (mut batches, mut created, mut refused) = (0_u64, 0_u64, 0_u64);
    let mut first_id = load.first_id;
    while first_id < end {
        let size = u32::try_from(end - first_id).map_or(load.batch, |left| left.min(load.batch));
        let results = engine
            .create_transfers(load_plan::batch(load.seed, first_id, size, load.accounts))
            .await?;
        let last_id = first_id + u64::from(size) - 1;
        let mut line = String::new();
        let mut ok = 0_u64;
        for (id, result) in (first_id..=last_id).zip(&results) {
            if *result == CreateTransferResult::Ok {
                ok += 1;
            } else {
                line.push_str(&format!(" {id}={result}"));
            }
        }
        print_line(&format!("ack {first_id} {last_id} {ok}{line}"))?;
        batches += 1;
        created += ok;
        refused += u64::from(size) - ok;
        first_id = last_id + 1;
    }
    print_line(&format!(
        "fin: {batches} lotes, {created} transferencias creadas, {refused} no creadas (rechazadas o ya existentes)."
    ))
}
