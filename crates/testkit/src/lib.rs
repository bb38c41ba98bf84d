//! The test harness every Ceiba integration-test binary uses (`harness = false`).
//!
//! - [`Suite::each_engine`] turns one test into two trials, `name::sqlite` and `name::postgres`;
//!   the second runs when `CEIBA_TEST_POSTGRES_URL` is set, each in a fresh schema.
//! - [`Suite::with_programs`] marks a test that needs an outside program (Chromium, …).
//!
//! A test whose engine or program is missing is reported as ignored, by name, with the reason,
//! so a fresh machine still passes. Under `CEIBA_TEST_REQUIRE_ALL=1` it fails instead. A
//! PostgreSQL that is configured but unreachable always fails, with the reason.

pub mod demo;
pub mod http;
pub mod process;

use std::future::Future;
use std::path::{Path, PathBuf};

use ceiba_store::testing::PostgresSchema;
use ceiba_store::{DatabaseUrl, Db, Engine, PoolSettings};
use libtest_mimic::{Arguments, Completion, Failed, Trial};

/// What a test body returns: `?` works on any error, and a panic fails the test too.
pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

pub const POSTGRES_URL_VARIABLE: &str = "CEIBA_TEST_POSTGRES_URL";
pub const REQUIRE_ALL_VARIABLE: &str = "CEIBA_TEST_REQUIRE_ALL";

/// Whether a missing engine or program must fail the run rather than skip a test.
pub fn require_all() -> bool {
    std::env::var(REQUIRE_ALL_VARIABLE).is_ok_and(|value| value == "1" || value == "true")
}

/// A fresh database for one test, with the data folder the binary would use beside it.
#[derive(Debug)]
pub struct TestDatabase {
    pub db: Db,
    data_dir: tempfile::TempDir,
    /// The schema's URL with its password, as `--database-url` needs it (Display hides it).
    postgres_url: Option<String>,
}

impl TestDatabase {
    pub fn engine(&self) -> Engine {
        self.db.engine()
    }

    /// A data folder of the test's own (it holds the SQLite file on the embedded engine).
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// `binary ARGS… <this database's flags>` in the data folder, through [`demo::ceiba_command`]
    /// (none of the test's `CEIBA_*` variables, killed if dropped).
    pub fn ceiba(&self, binary: &Path, args: &[&str]) -> tokio::process::Command {
        let mut command = demo::ceiba_command(binary);
        command
            .current_dir(self.data_dir())
            .args(args)
            .args(self.cli_args());
        command
    }

    /// The flags that point `ceiba serve` or `ceiba migrate` at this database.
    pub fn cli_args(&self) -> Vec<String> {
        let mut args = vec![
            "--data-dir".to_owned(),
            self.data_dir().display().to_string(),
        ];
        if let Some(url) = &self.postgres_url {
            args.push("--database-url".to_owned());
            args.push(url.clone());
        }
        args
    }

    /// Opens a fresh database; on PostgreSQL also returns the schema to drop afterwards.
    async fn open(engine: Engine) -> Result<(TestDatabase, Option<PostgresSchema>), String> {
        let data_dir =
            tempfile::tempdir().map_err(|error| format!("sin carpeta temporal: {error}"))?;
        match engine {
            Engine::Sqlite => {
                let db = ceiba_store::testing::fresh_sqlite(data_dir.path())
                    .await
                    .map_err(|error| format!("SQLite de prueba: {error}"))?;
                let database = TestDatabase {
                    db,
                    data_dir,
                    postgres_url: None,
                };
                Ok((database, None))
            }
            Engine::Postgres => {
                let admin_url = postgres_admin_url()?.ok_or("PostgreSQL no configurado")?;
                let schema = PostgresSchema::create(&admin_url).await.map_err(|error| {
                    format!(
                        "{POSTGRES_URL_VARIABLE} está definida ({admin_url}) pero PostgreSQL no \
                         es accesible: {error}"
                    )
                })?;
                let db = Db::connect(schema.url(), PoolSettings::default())
                    .await
                    .map_err(|error| error.to_string())?;
                db.migrate().await.map_err(|error| error.to_string())?;
                let admin_text = std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_default();
                let separator = if admin_text.contains('?') { '&' } else { '?' };
                let postgres_url = format!(
                    "{}{separator}options=-c%20search_path%3D{}",
                    admin_text.trim(),
                    schema.name()
                );
                let database = TestDatabase {
                    db,
                    data_dir,
                    postgres_url: Some(postgres_url),
                };
                Ok((database, Some(schema)))
            }
        }
    }
}

/// `Ok(None)` when PostgreSQL is not configured; an error when the variable does not parse.
pub fn postgres_admin_url() -> Result<Option<DatabaseUrl>, String> {
    match std::env::var(POSTGRES_URL_VARIABLE) {
        Ok(text) if !text.trim().is_empty() => DatabaseUrl::parse(text.trim())
            .map(Some)
            .map_err(|error| format!("{POSTGRES_URL_VARIABLE}: {error}")),
        _ => Ok(None),
    }
}

/// Finds an outside program on `PATH`.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A list of trials, run by libtest-mimic with the usual `cargo test` filters and flags.
#[derive(Default)]
pub struct Suite {
    trials: Vec<Trial>,
}

impl std::fmt::Debug for Suite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suite")
            .field("trials", &self.trials.len())
            .finish()
    }
}

impl Suite {
    pub fn new() -> Suite {
        Suite::default()
    }

    /// A test that needs nothing from outside.
    pub fn test<F, Fut>(&mut self, name: &str, test: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = TestResult>,
    {
        self.trials.push(Trial::test(name, move || {
            block_on(test()).map_err(|error| Failed::from(error.to_string()))
        }));
    }

    /// A test that runs once on each engine, each time on a fresh database.
    pub fn each_engine<F, Fut>(&mut self, name: &str, test: F)
    where
        F: Fn(TestDatabase) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = TestResult> + Send + 'static,
    {
        self.each_engine_with(name, 1, move |mut databases| {
            let database = databases.pop().expect("one database");
            test(database)
        });
    }

    /// Like [`Suite::each_engine`], with two fresh databases of the same engine (a copy is
    /// taken from the first and put into the second, say).
    pub fn each_engine_pair<F, Fut>(&mut self, name: &str, test: F)
    where
        F: Fn(TestDatabase, TestDatabase) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = TestResult> + Send + 'static,
    {
        self.each_engine_with(name, 2, move |mut databases| {
            let second = databases.pop().expect("two databases");
            let first = databases.pop().expect("two databases");
            test(first, second)
        });
    }

    fn each_engine_with<F, Fut>(&mut self, name: &str, count: usize, test: F)
    where
        F: Fn(Vec<TestDatabase>) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = TestResult> + Send + 'static,
    {
        for engine in [Engine::Sqlite, Engine::Postgres] {
            let test = test.clone();
            let trial_name = format!("{name}::{}", engine_suffix(engine));
            self.trials.push(Trial::ignorable_test(trial_name, move || {
                if engine == Engine::Postgres {
                    match postgres_admin_url() {
                        Err(message) => return Err(message.into()),
                        Ok(None) if require_all() => {
                            return Err(format!(
                                "{REQUIRE_ALL_VARIABLE}=1 pero {POSTGRES_URL_VARIABLE} no está \
                                 definida: esta prueba debe correr también en PostgreSQL"
                            )
                            .into());
                        }
                        Ok(None) => {
                            return Ok(Completion::ignored_with(format!(
                                "{POSTGRES_URL_VARIABLE} no está definida"
                            )));
                        }
                        Ok(Some(_)) => {}
                    }
                }
                block_on(async move {
                    let mut databases = Vec::with_capacity(count);
                    let mut schemas = Vec::with_capacity(count);
                    for _ in 0..count {
                        let (database, schema) = TestDatabase::open(engine).await?;
                        databases.push(database);
                        schemas.extend(schema);
                    }
                    // On a task of its own, so a failed assertion (a panic) still reaches the
                    // clean-up below instead of leaving the schema behind.
                    let outcome = match tokio::spawn(test(databases)).await {
                        Ok(outcome) => outcome,
                        Err(error) => Err(panic_message(error).into()),
                    };
                    for schema in schemas {
                        if let Err(error) = schema.drop_schema().await {
                            eprintln!("aviso: no se pudo borrar el esquema de prueba: {error}");
                        }
                    }
                    outcome.map_err(|error| error.to_string())
                })
                .map(|()| Completion::Completed)
                .map_err(Failed::from)
            }));
        }
    }

    /// A test that needs outside programs on `PATH` (found paths are passed in, same order).
    pub fn with_programs<F, Fut>(&mut self, name: &str, programs: &'static [&'static str], test: F)
    where
        F: FnOnce(Vec<PathBuf>) -> Fut + Send + 'static,
        Fut: Future<Output = TestResult>,
    {
        self.trials.push(Trial::ignorable_test(name, move || {
            let mut found = Vec::with_capacity(programs.len());
            for program in programs {
                match find_program(program) {
                    Some(path) => found.push(path),
                    None if require_all() => {
                        return Err(format!(
                            "{REQUIRE_ALL_VARIABLE}=1 pero falta el programa «{program}» en PATH"
                        )
                        .into());
                    }
                    None => {
                        return Ok(Completion::ignored_with(format!(
                            "falta el programa «{program}»"
                        )));
                    }
                }
            }
            block_on(test(found))
                .map(|()| Completion::Completed)
                .map_err(|error| Failed::from(error.to_string()))
        }));
    }

    /// Runs the trials and exits with libtest's status.
    pub fn run(self) -> ! {
        let arguments = Arguments::from_args();
        libtest_mimic::run(&arguments, self.trials).exit()
    }
}

/// The message of a test body that panicked (an assertion that failed).
fn panic_message(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| {
                payload
                    .downcast_ref::<&str>()
                    .map(|text| (*text).to_owned())
            })
            .map_or_else(
                || "test panicked".to_owned(),
                |text| format!("test panicked: {text}"),
            ),
        Err(error) => format!("test task failed: {error}"),
    }
}

fn engine_suffix(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    }
}

/// Runs a test body on a runtime of its own, as `#[tokio::test(flavor = "multi_thread")]` would.
fn block_on<Fut: Future>(future: Fut) -> Fut::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime for the test")
        .block_on(future)
}

/// Registers each test function under its own name on every engine:
/// `each_engine!(suite: first_test, second_test)`.
#[macro_export]
macro_rules! each_engine {
    ($suite:ident: $($test:ident),+ $(,)?) => {
        $($suite.each_engine(stringify!($test), $test);)+
    };
}
