//! `ceiba`: the one binary. Glue only: it reads the command line and the configuration, sets
//! up logging, opens storage and hands everything to the library crates.

mod cli;
mod config;
mod serve;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use crate::cli::{Cli, Command};
use crate::config::{Config, LogFormat, Storage};

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
        Command::Serve(args) => {
            let config = config::load(cli.config.as_deref(), &args)?;
            init_logging(&config);
            runtime()?.block_on(serve::serve(config))
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
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
