//! `ceiba ledger …`: operations on the ledger from the command line.

use ceiba_store::{Db, Replica};

use crate::print_line;

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
