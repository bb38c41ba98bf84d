//! The ledger survives its process being killed. `ceiba ledger load` runs against a real
//! database and is killed with SIGKILL at a random moment, several times; some restarts retry
//! the batch that was in flight, as a client without an answer would, and one resubmits batches
//! that were already acknowledged. Afterwards the journal, replayed the way a restart does,
//! must hold every acknowledged transfer with its fields, every batch whole or not at all, and
//! every invariant; `ceiba ledger check` must agree.

#[path = "../src/load_plan.rs"]
mod load_plan;

use std::collections::{HashMap, HashSet};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use ceiba_ledger::{
    CreateAccountResult, CreateTransferResult, LedgerState, NewTransfer, Operation,
    OperationResults, TransferFlags, TransferId,
};
use ceiba_store::{Db, LEDGER_WRITER_LEASE, Replica};
use ceiba_testkit::{Suite, TestDatabase, TestResult};
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

/// Seed of the load (accounts, amounts, kinds) and of the moments of the kills.
const SEED: u64 = 0xCE1BA;
const ACCOUNTS: u32 = 400;
const _: () = assert!(ACCOUNTS >= load_plan::ACCOUNTS_MIN);
const BATCH: u32 = 100;
/// Transfers a round asks for: far more than it sends before it is killed.
const ROUND_TRANSFERS: u64 = 1_000_000;
/// Kills happen this long after the load announces it is ready (accounts created and funded).
const KILL_AFTER_MS: std::ops::RangeInclusive<u64> = 100..=600;
/// Longest a round may take to get ready, or to finish when it is not killed.
const ROUND_TIMEOUT: Duration = Duration::from_secs(60);

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ceiba"))
}

/// `ceiba ARGS… <the database's flags>`, in its data folder.
fn ceiba(database: &TestDatabase, args: &[&str]) -> Command {
    database.ceiba(binary(), args)
}

fn main() {
    let mut suite = Suite::new();
    suite.each_engine(
        "ledger_load_survives_sigkill_at_random_moments",
        survives_sigkill,
    );
    suite.run()
}

/// Where a round starts.
#[derive(Debug, Clone, Copy)]
enum Start {
    /// A range of ids no round used before.
    Fresh(u64),
    /// The first batch the previous round did not see acknowledged: the retry of a client that
    /// lost its answer.
    Resume,
    /// Batches that an earlier round saw acknowledged, sent again and left to finish.
    Resubmit,
}

/// One run of `ceiba ledger load`, as the test saw it.
#[derive(Debug)]
struct Round {
    first_id: u64,
    transfers: u64,
    acks: Vec<Ack>,
    finished: bool,
    killed: bool,
    status: ExitStatus,
    stderr: String,
}

impl Round {
    /// The first id of the batch after the last acknowledged one: the one in flight at a kill.
    fn next_batch(&self) -> u64 {
        self.acks.last().map_or(self.first_id, |ack| ack.last + 1)
    }
}

/// One `ack` line: a batch made durable, and the result of each transfer in it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ack {
    first: u64,
    last: u64,
    results: Vec<CreateTransferResult>,
}

fn parse_ack(line: &str) -> Result<Ack, String> {
    let bad = || format!("línea «ack» mal formada: {line}");
    let mut words = line.split(' ');
    if words.next() != Some("ack") {
        return Err(bad());
    }
    let mut number =
        || -> Result<u64, String> { words.next().and_then(|w| w.parse().ok()).ok_or_else(bad) };
    let (first, last, ok) = (number()?, number()?, number()?);
    let size = usize::try_from(last + 1 - first).map_err(|_| bad())?;
    let mut results = vec![CreateTransferResult::Ok; size];
    for word in words {
        let (id, code) = word.split_once('=').ok_or_else(bad)?;
        let id: u64 = id.parse().map_err(|_| bad())?;
        let index = usize::try_from(id.checked_sub(first).ok_or_else(bad)?).map_err(|_| bad())?;
        *results.get_mut(index).ok_or_else(bad)? =
            CreateTransferResult::from_code(code).ok_or_else(bad)?;
    }
    let oks = results
        .iter()
        .filter(|r| **r == CreateTransferResult::Ok)
        .count();
    if u64::try_from(oks).ok() != Some(ok) {
        return Err(bad());
    }
    Ok(Ack {
        first,
        last,
        results,
    })
}

/// Runs `ceiba ledger load` over `transfers` ids from `first_id`; with `kill_after`, kills it
/// with SIGKILL that long after it announced it was ready, else lets it finish.
async fn run_round(
    database: &TestDatabase,
    first_id: u64,
    transfers: u64,
    kill_after: Option<Duration>,
) -> Result<Round, String> {
    let mut command = ceiba(database, &["ledger", "load"]);
    command
        .args(["--accounts", &ACCOUNTS.to_string()])
        .args(["--batch", &BATCH.to_string()])
        .args(["--transfers", &transfers.to_string()])
        .args(["--first-id", &first_id.to_string()])
        .args(["--seed", &SEED.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|error| format!("no se pudo lanzar ceiba: {error}"))?;
    let mut stderr_pipe = child.stderr.take().ok_or("sin salida de errores")?;
    let stderr_reader = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr_pipe.read_to_string(&mut text).await;
        text
    });
    let mut lines = BufReader::new(child.stdout.take().ok_or("sin salida estándar")?).lines();

    let started = Instant::now();
    let mut acks = Vec::new();
    let mut finished = false;
    let mut killed = false;
    let mut kill_at = None;
    let deadline = tokio::time::Instant::now() + ROUND_TIMEOUT;
    loop {
        let wake = match kill_at {
            Some(at) if !killed => at,
            _ => deadline,
        };
        tokio::select! {
            line = lines.next_line() => {
                let Some(line) = line.map_err(|error| error.to_string())? else { break };
                if line.starts_with("listo") {
                    kill_at = kill_after.map(|delay| tokio::time::Instant::now() + delay);
                } else if line.starts_with("ack ") {
                    acks.push(parse_ack(&line)?);
                } else if line.starts_with("fin") {
                    finished = true;
                }
            }
            () = tokio::time::sleep_until(wake) => {
                if killed || kill_at.is_none() {
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                    let stderr = stderr_reader.await.unwrap_or_default();
                    return Err(format!(
                        "ceiba ledger load no avanzó en {} s; stderr:\n{stderr}",
                        ROUND_TIMEOUT.as_secs()
                    ));
                }
                // SIGKILL on Unix. What it printed before dying is still in the pipe: read on.
                child.start_kill().map_err(|error| format!("kill: {error}"))?;
                killed = true;
            }
        }
    }
    let status = child.wait().await.map_err(|error| error.to_string())?;
    let stderr = stderr_reader.await.unwrap_or_default();
    eprintln!(
        "  {}: ronda desde {first_id}: {} lotes confirmados en {:.2} s{}",
        database.engine().as_str(),
        acks.len(),
        started.elapsed().as_secs_f64(),
        if killed && !finished {
            ", matada a mitad de carga"
        } else {
            ""
        }
    );
    Ok(Round {
        first_id,
        transfers,
        acks,
        finished,
        killed,
        status,
        stderr,
    })
}

/// Frees the writer lease a killed process left behind, so the next round need not wait for it
/// to expire (10 s); the process is dead, as `wait` proved.
async fn release_dead_writer(db: &Db) -> TestResult {
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis(),
    )?;
    if let Some(holder) = db.lease_holder(LEDGER_WRITER_LEASE, now_ms).await? {
        db.release_lease(LEDGER_WRITER_LEASE, &holder).await?;
    }
    Ok(())
}

async fn survives_sigkill(database: TestDatabase) -> TestResult {
    let db = database.db.clone();
    let mut kills = rand::rngs::StdRng::seed_from_u64(SEED);
    let plan = [
        Start::Fresh(1),
        Start::Resume,
        Start::Fresh(10_000_001),
        Start::Resume,
        Start::Resume,
        Start::Resubmit,
    ];
    let mut rounds: Vec<Round> = Vec::new();
    for start in plan {
        let (first_id, transfers, kill_after) = match start {
            Start::Fresh(first_id) => (first_id, ROUND_TRANSFERS, true),
            Start::Resume => {
                let previous = rounds.last().ok_or("no hay ronda anterior")?;
                (previous.next_batch(), ROUND_TRANSFERS, true)
            }
            Start::Resubmit => {
                let earlier = rounds
                    .iter()
                    .find(|round| !round.acks.is_empty())
                    .ok_or("ninguna ronda confirmó un lote")?;
                let batches = u64::try_from(earlier.acks.len().min(5))?;
                (earlier.first_id, batches * u64::from(BATCH), false)
            }
        };
        let kill_after =
            kill_after.then(|| Duration::from_millis(kills.random_range(KILL_AFTER_MS)));
        let round = run_round(&database, first_id, transfers, kill_after).await?;
        if round.killed && !round.finished {
            assert_eq!(
                round.status.signal(),
                Some(9),
                "the load dies of SIGKILL: {:?}\n{}",
                round.status,
                round.stderr
            );
        } else {
            assert!(
                round.status.success() && round.finished,
                "the load finishes: {:?}\n{}",
                round.status,
                round.stderr
            );
        }
        release_dead_writer(&db).await?;
        rounds.push(round);
    }

    let mid_load = rounds
        .iter()
        .filter(|round| round.killed && !round.finished && !round.acks.is_empty())
        .count();
    assert!(
        mid_load >= 1,
        "at least one kill lands after some batches were acknowledged and before the last"
    );
    // The resubmitted batches were all acknowledged before: each transfer created then is
    // answered `exists` now and nothing is created twice. As in TigerBeetle, `exists` is not
    // `ok`, so it fails a linked chain: the rest of a resent chain answers `linked_event_failed`.
    let resubmit = rounds.last().ok_or("sin rondas")?;
    let earlier_results: HashMap<u64, &Ack> = rounds[..rounds.len() - 1]
        .iter()
        .flat_map(|round| &round.acks)
        .map(|ack| (ack.first, ack))
        .collect();
    for ack in &resubmit.acks {
        let before = earlier_results
            .get(&ack.first)
            .ok_or("a resubmitted batch was acknowledged before")?;
        let sent = load_plan::batch(SEED, ack.first, ack.results.len().try_into()?, ACCOUNTS);
        let linked = |index: usize| sent[index].flags.has(TransferFlags::LINKED);
        for (index, (now, then)) in ack.results.iter().zip(&before.results).enumerate() {
            if *then != CreateTransferResult::Ok {
                continue;
            }
            let id = ack.first + u64::try_from(index)?;
            // This load's chains are pairs: the linked event and the one after it.
            let partner = if linked(index) {
                Some(index + 1)
            } else if index > 0 && linked(index - 1) {
                Some(index - 1)
            } else {
                None
            };
            let partner_exists =
                partner.is_some_and(|other| ack.results[other] == CreateTransferResult::Exists);
            assert!(
                *now == CreateTransferResult::Exists
                    || (*now == CreateTransferResult::LinkedEventFailed && partner_exists),
                "transfer {id}, created before, answers {now} when sent again"
            );
        }
    }

    verify(&database, &db, &rounds).await
}

/// Checks the journal and the state rebuilt from it against what the rounds were told.
async fn verify(database: &TestDatabase, db: &Db, rounds: &[Round]) -> TestResult {
    let mut replica = Replica::default();
    ceiba_store::replay_ledger(db, &mut replica).await?;
    let state = &replica.state;
    let report = ceiba_ledger::check(state);
    assert!(
        report.is_sound(),
        "invariants hold: {:?}",
        report.violations
    );

    // Every acknowledged transfer that was created (or already existed) is there, as sent.
    let mut acknowledged: HashSet<u64> = HashSet::new();
    for ack in rounds.iter().flat_map(|round| &round.acks) {
        let sent = load_plan::batch(SEED, ack.first, ack.results.len().try_into()?, ACCOUNTS);
        for (transfer, result) in sent.iter().zip(&ack.results) {
            if matches!(
                result,
                CreateTransferResult::Ok | CreateTransferResult::Exists
            ) {
                assert_stored_as_sent(state, transfer);
                acknowledged.insert(u64::try_from(transfer.id.0)?);
            }
        }
    }

    // The journal, record by record: each holds one whole batch that a round sent, in the order
    // the rounds sent them; a round's acknowledged batches are all there, and after them at most
    // the one batch that was in flight when it was killed. An independent state fed the same
    // batches gives each acknowledged batch the results the round printed.
    let mut records = Vec::new();
    let mut after = 0;
    loop {
        let page = db.ledger_records_after(after, 64).await?;
        let Some(&(last, _)) = page.last() else { break };
        after = last;
        records.extend(page);
    }
    let mut model = LedgerState::new();
    let mut created: HashMap<u64, NewTransfer> = HashMap::new();
    let mut segments: Vec<Vec<(u64, Vec<CreateTransferResult>)>> = Vec::new();
    let funding = load_plan::funding(ACCOUNTS);
    for (sequence, bytes) in &records {
        let record = ceiba_ledger::decode(bytes)?;
        assert_eq!(record.sequence, *sequence);
        let [operation] = record.operations.as_slice() else {
            panic!("record {sequence} holds one batch: {:?}", record.operations);
        };
        match operation {
            Operation::CreateAccounts(events) => {
                assert_eq!(*events, load_plan::accounts(ACCOUNTS), "record {sequence}");
                let results = model.apply(record.now, &record.operations);
                let [OperationResults::CreateAccounts(results)] = results.as_slice() else {
                    panic!("account results");
                };
                assert!(
                    results.iter().all(|r| matches!(
                        r,
                        CreateAccountResult::Ok | CreateAccountResult::Exists
                    ))
                );
                segments.push(Vec::new());
            }
            Operation::CreateTransfers(events)
                if events.first().map(|t| t.id.0) >= Some(load_plan::FUNDING_TRANSFER_BASE) =>
            {
                assert_eq!(*events, funding, "record {sequence}");
                model.apply(record.now, &record.operations);
            }
            Operation::CreateTransfers(events) => {
                let first = u64::try_from(events.first().ok_or("empty batch")?.id.0)?;
                let size = u32::try_from(events.len())?;
                let sent = load_plan::batch(SEED, first, size, ACCOUNTS);
                assert_eq!(
                    *events, sent,
                    "record {sequence} is the whole batch from {first}"
                );
                let results = model.apply(record.now, &record.operations);
                let [OperationResults::CreateTransfers(results)] = results.as_slice() else {
                    panic!("transfer results");
                };
                for (transfer, result) in sent.iter().zip(results) {
                    if *result == CreateTransferResult::Ok {
                        created.insert(u64::try_from(transfer.id.0)?, *transfer);
                    }
                }
                segments
                    .last_mut()
                    .ok_or("a batch before the accounts")?
                    .push((first, results.clone()));
            }
        }
    }
    assert_eq!(
        segments.len(),
        rounds.len(),
        "one segment of the journal per round"
    );
    let mut in_flight_landed = 0;
    for (round, segment) in rounds.iter().zip(&segments) {
        assert!(
            segment.len() == round.acks.len() || segment.len() == round.acks.len() + 1,
            "round from {}: {} batches acknowledged, {} in the journal",
            round.first_id,
            round.acks.len(),
            segment.len()
        );
        for (ack, (first, results)) in round.acks.iter().zip(segment) {
            assert_eq!(
                ack.first, *first,
                "acknowledged batches are journaled in order"
            );
            assert_eq!(
                ack.results, *results,
                "batch from {first}: the printed results"
            );
        }
        if let Some((first, _)) = segment.get(round.acks.len()) {
            assert!(
                round.killed && !round.finished,
                "only a killed round leaves one unanswered"
            );
            assert_eq!(
                *first,
                round.next_batch(),
                "the unanswered batch is the one in flight"
            );
            in_flight_landed += 1;
        }
    }

    // Nothing half-applied: over every id any round could have sent, what the state holds is
    // exactly what whole journaled batches created.
    for id in acknowledged.iter() {
        assert!(
            created.contains_key(id),
            "transfer {id} acknowledged and journaled"
        );
    }
    let mut looked_at = 0;
    for round in rounds {
        let end = round.next_batch() + u64::from(BATCH); // past the batch in flight
        let end = end.min(round.first_id + round.transfers);
        for id in round.first_id..end {
            looked_at += 1;
            match (state.transfer(TransferId(u128::from(id))), created.get(&id)) {
                (Some(_), Some(sent)) => assert_stored_as_sent(state, sent),
                (None, None) => {}
                (stored, sent) => panic!(
                    "transfer {id}: stored {stored:?}, created by a journaled batch {sent:?}"
                ),
            }
        }
    }
    assert_eq!(
        state.transfers_count(),
        funding.len() + created.len(),
        "no transfer outside the planned ones"
    );
    for account in load_plan::accounts(ACCOUNTS) {
        assert_eq!(state.account(account.id), model.account(account.id));
    }
    let refused = rounds
        .iter()
        .flat_map(|round| &round.acks)
        .flat_map(|ack| &ack.results)
        .filter(|r| **r == CreateTransferResult::ExceedsCredits)
        .count();
    assert!(refused > 0, "the load exercises refusals for lack of funds");
    eprintln!(
        "  {}: {} registros, {} transferencias, {} reconocidas, {} rechazos por saldo, {} rondas \
         matadas a mitad, {} lotes en vuelo guardados, {looked_at} ids revisados",
        database.engine().as_str(),
        replica.sequence,
        state.transfers_count(),
        acknowledged.len(),
        refused,
        rounds.iter().filter(|r| r.killed && !r.finished).count(),
        in_flight_landed
    );

    // The operator's view agrees.
    let output = ceiba(database, &["ledger", "check"]).output().await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "ceiba ledger check: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("Invariantes: se cumplen todas."),
        "ceiba ledger check: {stdout}"
    );
    Ok(())
}

/// The stored transfer carries what the client sent (`linked` is a per-batch flag and is not
/// kept).
fn assert_stored_as_sent(state: &LedgerState, sent: &NewTransfer) {
    let stored = state
        .transfer(sent.id)
        .unwrap_or_else(|| panic!("transfer {} is stored", sent.id));
    assert_eq!(
        (
            stored.debit_account_id,
            stored.credit_account_id,
            stored.amount,
            stored.pending_id,
            stored.user_data,
            stored.timeout_seconds,
            stored.ledger,
            stored.code,
            stored.flags,
        ),
        (
            sent.debit_account_id,
            sent.credit_account_id,
            sent.amount,
            sent.pending_id,
            sent.user_data,
            sent.timeout_seconds,
            sent.ledger,
            sent.code,
            sent.flags.without_linked(),
        ),
        "transfer {} as sent",
        sent.id
    );
}
