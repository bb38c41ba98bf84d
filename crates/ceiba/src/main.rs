//! `ceiba`: the one binary. Glue only: it reads the command line and the configuration, sets
//! up logging, opens storage and hands everything to the library crates.

mod admin;
mod audit;
mod backup;
mod bench;
mod bench_ledger;
mod bench_payments;
mod bench_payouts;
mod bench_salud;
mod bench_soak;
mod cli;
mod config;
mod demo;
mod drill_load;
mod epi;
mod ledger;
mod load_plan;
mod qr;
mod salud;
mod serve;
mod sms;
mod ussd;
mod wiki;
mod wiki_offline;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use crate::cli::{
    AdminCommand, AuditCommand, BenchCommand, Cli, Command, DemoCommand, LedgerCommand,
    ProofCommand, QrCommand, SaludCommand,
};
use crate::config::{Config, LogFormat, Storage};

/// jemalloc rather than the system's malloc: a server that runs for months must give back what
/// it no longer uses, and glibc's malloc keeps the space that grown vectors (the ledger's lists)
/// leave behind; jemalloc returns unused pages after a few seconds, and its statistics
/// (`stats.allocated`) tell the live heap apart from the resident memory (`ceiba bench soak`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", sentence(&error));
            ExitCode::FAILURE
        }
    }
}

/// One sentence a person can act on: the error and each cause that adds something new (many
/// errors already repeat their cause in their own text).
fn sentence(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Version => {
            print_line(&format!("ceiba {}", env!("CARGO_PKG_VERSION")))?;
            Ok(())
        }
        Command::Config(args) => {
            let config = config::load(cli.config.as_deref(), &args)?;
            print_line(config.to_toml().trim_end())
        }
        Command::Migrate(args) => {
            let config = config::load_storage(cli.config.as_deref(), &args)?;
            init_logging(&config);
            runtime()?.block_on(async {
                let db = serve::open_database(&config).await?;
                let report = db
                    .migrate()
                    .await
                    .context("no se pudo migrar la base de datos")?;
                print_line(&format!(
                    "Migraciones aplicadas: {} nuevas, {} de {} en la base de datos {}.",
                    report.applied_now,
                    report.applied_total,
                    report.known,
                    db.url()
                ))?;
                db.close().await;
                Ok(())
            })
        }
        Command::Audit { command } => run_audit(cli.config.as_deref(), command),
        Command::Backup { out, storage } => {
            let config = config::load_storage(cli.config.as_deref(), &storage)?;
            init_logging(&config);
            runtime()?.block_on(backup::backup(&config, &out))
        }
        Command::Restore {
            input,
            force,
            public_key,
            storage,
        } => {
            let config = config::load_storage(cli.config.as_deref(), &storage)?;
            init_logging(&config);
            runtime()?.block_on(backup::restore(
                &config,
                &input,
                backup::RestoreOptions { force, public_key },
            ))
        }
        Command::Admin {
            command:
                AdminCommand::CreateUser {
                    phone,
                    name,
                    roles,
                    storage,
                },
        } => {
            let config = config::load_storage(cli.config.as_deref(), &storage)?;
            init_logging(&config);
            runtime()?.block_on(admin::create_user(&config, &phone, &name, &roles))
        }
        Command::Salud {
            command: SaludCommand::Geography { dir, storage },
        } => {
            let config = config::load_storage(cli.config.as_deref(), &storage)?;
            init_logging(&config);
            runtime()?.block_on(salud::load_geography(&config, &dir))
        }
        Command::Salud {
            command:
                SaludCommand::Import {
                    source,
                    archive,
                    until,
                    storage,
                },
        } => {
            let config = config::load_storage(cli.config.as_deref(), &storage)?;
            init_logging(&config);
            runtime()?.block_on(salud::import(&config, &source, &archive, until.as_deref()))
        }
        Command::Salud {
            command:
                SaludCommand::Alerts {
                    notify_days,
                    storage,
                },
        } => {
            let config = config::load_storage(cli.config.as_deref(), &storage)?;
            init_logging(&config);
            runtime()?.block_on(salud::alerts(&config, notify_days))
        }
        Command::Epi { command } => epi::run(cli.config.as_deref(), command),
        Command::Wiki { command } => wiki::run(cli.config.as_deref(), command),
        Command::Demo {
            command: DemoCommand::Seed { storage, force },
        } => {
            let config = config::load_storage(cli.config.as_deref(), &storage)?;
            init_logging(&config);
            runtime()?.block_on(demo::seed(&config, force))
        }
        Command::Bench {
            command:
                BenchCommand::Audit {
                    entries,
                    batch,
                    database_url,
                },
        } => runtime()?.block_on(bench::audit(entries, batch, database_url.as_deref())),
        Command::Bench {
            command:
                BenchCommand::Ledger {
                    accounts,
                    transfers,
                    batch,
                    hot_accounts,
                    clients,
                    database_url,
                    compare_pgbench,
                },
        } => runtime()?.block_on(bench_ledger::run(bench_ledger::LedgerBench {
            accounts,
            transfers,
            batch,
            hot_accounts,
            clients,
            database_url,
            compare_pgbench,
        })),
        Command::Ledger { command } => run_ledger(cli.config.as_deref(), &command),
        Command::Bench {
            command:
                BenchCommand::Payments {
                    users,
                    transfers,
                    concurrency,
                    database_url,
                },
        } => runtime()?.block_on(bench_payments::run(bench_payments::PaymentsBench {
            users,
            transfers,
            concurrency,
            database_url,
        })),
        Command::Bench {
            command:
                BenchCommand::Salud {
                    archive,
                    requests,
                    database_url,
                },
        } => runtime()?.block_on(bench_salud::run(bench_salud::SaludBench {
            archive,
            requests,
            database_url,
        })),
        Command::Bench {
            command:
                BenchCommand::Payouts {
                    rows,
                    people,
                    database_url,
                },
        } => runtime()?.block_on(bench_payouts::run(bench_payouts::PayoutsBench {
            rows,
            people,
            database_url,
        })),
        Command::Bench {
            command:
                BenchCommand::Soak {
                    minutes,
                    concurrency,
                    people,
                    database_url,
                },
        } => runtime()?.block_on(bench_soak::run(bench_soak::SoakBench {
            minutes,
            concurrency,
            people,
            database_url,
        })),
        Command::Bench {
            command: BenchCommand::Login { sign_ins },
        } => runtime()?.block_on(bench::login(sign_ins)),
        Command::Bench {
            command: BenchCommand::Wiki { articles, queries },
        } => bench::wiki(articles, queries),
        Command::Ussd(args) => runtime()?.block_on(ussd::run(ussd::Dial {
            phone: args.phone,
            server: args.server,
            service_code: args.service_code,
            key: args.key,
            ascii: args.ascii,
        })),
        Command::Qr {
            command: QrCommand::Decode { payload },
        } => qr::decode(&payload),
        Command::Qr {
            command: QrCommand::Encode(args),
        } => qr::encode(&args),
        Command::Serve(args) => {
            let config = config::load(cli.config.as_deref(), &args)?;
            init_logging(&config);
            runtime()?.block_on(serve::serve(config))
        }
    }
}

fn run_ledger(
    config_file: Option<&std::path::Path>,
    command: &LedgerCommand,
) -> anyhow::Result<()> {
    let storage = match &command {
        LedgerCommand::Check(storage) | LedgerCommand::Load { storage, .. } => storage,
    };
    let config = config::load_storage(config_file, storage)?;
    init_logging(&config);
    runtime()?.block_on(async {
        let db = serve::open_database(&config).await?;
        db.migrate()
            .await
            .context("no se pudo migrar la base de datos")?;
        let outcome = match *command {
            LedgerCommand::Check(_) => ledger::check(&db).await,
            LedgerCommand::Load {
                accounts,
                transfers,
                batch,
                first_id,
                seed,
                ..
            } => {
                ledger::load(
                    &db,
                    ledger::Load {
                        accounts,
                        transfers,
                        batch,
                        first_id,
                        seed,
                    },
                )
                .await
            }
        };
        db.close().await;
        outcome
    })
}

fn run_audit(config_file: Option<&std::path::Path>, command: AuditCommand) -> anyhow::Result<()> {
    let storage = match &command {
        AuditCommand::Verify(storage) | AuditCommand::Checkpoint(storage) => storage,
        AuditCommand::Proof {
            proof:
                ProofCommand::Inclusion { storage, .. } | ProofCommand::Consistency { storage, .. },
        } => storage,
    };
    let config = config::load_storage(config_file, storage)?;
    init_logging(&config);
    runtime()?.block_on(async {
        let db = serve::open_database(&config).await?;
        let outcome = audit_command(&db, &config, command).await;
        db.close().await;
        outcome
    })
}

async fn audit_command(
    db: &ceiba_store::Db,
    config: &Config,
    command: AuditCommand,
) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify(_) => {
            let signer = audit::load_signing_key(&config.audit_signing_key_file)?;
            let summary = audit::verify(db, signer.public_key_bytes())
                .await
                .context("el registro de auditoría no supera la verificación")?;
            print_line(&format!(
                "Registro de auditoría íntegro: {} entradas y {} puntos de control comprobados; raíz {}.",
                summary.entries, summary.checkpoints, summary.root
            ))
        }
        AuditCommand::Checkpoint(_) => {
            let signer = audit::load_or_create_signing_key(&config.audit_signing_key_file)?;
            match audit::checkpoint_if_grown(db, &signer, serve::now_ms()).await? {
                Some(size) => {
                    print_line(&format!("Punto de control firmado para {size} entradas."))
                }
                None => print_line("El registro no creció desde el último punto de control."),
            }
        }
        AuditCommand::Proof {
            proof: ProofCommand::Inclusion {
                index, tree_size, ..
            },
        } => {
            let proof = db.audit_inclusion_proof(index, tree_size).await?;
            print_json(&serde_json::json!({
                "index": proof.index,
                "tree_size": proof.tree_size,
                "leaf_hash": proof.leaf_hash.to_string(),
                "root": proof.root.to_string(),
                "audit_path": proof.audit_path.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }))
        }
        AuditCommand::Proof {
            proof: ProofCommand::Consistency { first, second, .. },
        } => {
            let proof = db.audit_consistency_proof(first, second).await?;
            print_json(&serde_json::json!({
                "first": proof.first,
                "second": proof.second,
                "first_root": proof.first_root.to_string(),
                "second_root": proof.second_root.to_string(),
                "proof": proof.proof.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }))
        }
    }
}

fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    print_line(&serde_json::to_string_pretty(value).context("JSON")?)
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("no se pudo iniciar el motor asíncrono")
}

/// Writes a line for the person at the terminal (standard output is for results; logs go to
/// standard error).
pub(crate) fn print_line(line: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").context("no se pudo escribir en la salida estándar")?;
    stdout
        .flush()
        .context("no se pudo escribir en la salida estándar")
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

impl Config {
    pub(crate) fn data_dir(&self) -> &std::path::Path {
        match &self.storage {
            Storage::Embedded { data_dir } | Storage::Postgres { data_dir, .. } => data_dir,
        }
    }
}
