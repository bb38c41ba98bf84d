//! The command line. Every flag is defined here once, and its help text comes from its doc.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Ceiba: servicios digitales públicos (pagos, salud, enciclopedia) en un solo programa.
#[derive(Debug, Parser)]
#[command(name = "ceiba", version, propagate_version = true)]
pub struct Cli {
    /// Archivo de configuración TOML (se aplica sobre los valores por defecto; las variables
    /// CEIBA_* y las opciones de la línea de órdenes se aplican encima).
    #[arg(long, global = true, env = "CEIBA_CONFIG", value_name = "ARCHIVO")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sirve la web y la API (aplica antes las migraciones pendientes).
    Serve(ServeArgs),
    /// Aplica las migraciones pendientes de la base de datos y termina.
    Migrate(StorageArgs),
    /// Muestra la configuración efectiva, con las contraseñas ocultas.
    Config(ServeArgs),
    /// Muestra la versión.
    Version,
}

#[derive(Debug, Args, Default)]
pub struct StorageArgs {
    /// Carpeta de datos (con SQLite, contiene la base de datos).
    #[arg(long, value_name = "CARPETA")]
    pub data_dir: Option<PathBuf>,

    /// Base de datos PostgreSQL (postgres://…); sin ella se usa SQLite en la carpeta de datos.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Dirección y puerto donde escuchar (puerto 0: uno libre cualquiera).
    #[arg(long, value_name = "DIRECCIÓN:PUERTO")]
    pub listen: Option<String>,

    #[command(flatten)]
    pub storage: StorageArgs,
}
