//! Consistent copies of the whole database taken while it serves, and putting one back.
//!
//! - SQLite: SQLite's online backup API copies the file's pages as of one read transaction
//!   (in WAL mode the writers go on meanwhile); the copy is itself a database file, checked
//!   with `PRAGMA integrity_check` before anyone relies on it.
//! - PostgreSQL: every table's rows as JSON lines, all read in one `REPEATABLE READ, READ ONLY`
//!   transaction (one snapshot, the way pg_dump reads), and loaded back in one transaction that
//!   first empties the tables, so a restore is whole or not at all.
//!
//! The container around the copy (manifest, checksum, signature) is the binary's business; this
//! module only writes and reads the payload and says what it holds.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::Row;

use crate::db::{Db, Engine};
use crate::error::StoreError;

/// Tables a copy leaves out: the migrations' own bookkeeping (the target is migrated by the
/// binary that restores) and leases (who runs singleton work belongs to the processes running
/// now, not to the moment of the copy).
const TABLES_NOT_COPIED: [&str; 2] = ["_sqlx_migrations", "leases"];

/// Tables whose rows the migrations themselves create (counters, the audit head, the billers
/// known from the start); a database whose only rows are in these holds nothing of its own.
const TABLES_SEEDED_BY_MIGRATIONS: [&str; 4] =
    ["audit_head", "billers", "payment_turn", "salud_revision"];

/// Rows sent to PostgreSQL in one `INSERT` while loading a copy.
const LOAD_BATCH_ROWS_MAX: usize = 500;
/// Bytes of JSON sent in one `INSERT` while loading a copy.
const LOAD_BATCH_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Longest line a PostgreSQL copy may hold (one row as JSON); a longer one is damage.
const LINE_BYTES_MAX: usize = 256 * 1024 * 1024;

/// One table of a copy and how many rows it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRows {
    pub table: String,
    pub rows: u64,
}

/// What a copy holds: the engine that wrote it, the schema it was taken at, and each table's
/// row count (checked again after a restore).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotSummary {
    pub engine: Engine,
    pub schema_version: i64,
    pub tables: Vec<TableRows>,
}

impl SnapshotSummary {
    pub fn rows_total(&self) -> u64 {
        self.tables.iter().map(|table| table.rows).sum()
    }
}

fn file_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::File {
        path: path.to_path_buf(),
        source,
    }
}

/// A table name as the catalogue gave it, checked before it is put into SQL text.
fn checked_table(name: String) -> Result<String, StoreError> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
    if plain {
        Ok(name)
    } else {
        Err(StoreError::Corrupt(format!(
            "la tabla «{}» no tiene un nombre que una copia admita",
            name.chars().take(70).collect::<String>()
        )))
    }
}

impl Db {
    /// Every table of the database (of the current schema on PostgreSQL), sorted by name.
    async fn tables(&self) -> Result<Vec<String>, StoreError> {
        let sql = match self.engine() {
            Engine::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Engine::Postgres => {
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                 ORDER BY table_name"
            }
        };
        let rows = sqlx::query(sql).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| checked_table(row.try_get(0)?))
            .collect()
    }

    /// Whether the database holds anything beyond what its migrations create: a restore
    /// replaces such a database only when told to.
    pub async fn holds_data(&self) -> Result<bool, StoreError> {
        for table in self.tables().await? {
            if TABLES_NOT_COPIED.contains(&table.as_str())
                || TABLES_SEEDED_BY_MIGRATIONS.contains(&table.as_str())
            {
                continue;
            }
            let found = sqlx::query(&format!("SELECT 1 FROM \"{table}\" LIMIT 1"))
                .fetch_optional(self.pool())
                .await?;
            if found.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Writes a consistent copy of the whole database to `out` (which must not exist) while
    /// the database keeps serving, and says what it holds.
    pub async fn snapshot_to(&self, out: &Path) -> Result<SnapshotSummary, StoreError> {
        match self.engine() {
            Engine::Sqlite => {
                let source = self.url().sqlite_path().ok_or_else(|| {
                    StoreError::Copy("la base de datos SQLite no está en un archivo".to_owned())
                })?;
                let out = out.to_path_buf();
                tokio::task::spawn_blocking(move || sqlite_snapshot(&source, &out))
                    .await
                    .map_err(|error| StoreError::Copy(error.to_string()))?
            }
            Engine::Postgres => self.postgres_snapshot(out).await,
        }
    }

    async fn postgres_snapshot(&self, out: &Path) -> Result<SnapshotSummary, StoreError> {
        use futures_util::TryStreamExt;

        let file = std::fs::File::create_new(out).map_err(|error| file_error(out, error))?;
        let mut writer = std::io::BufWriter::new(file);
        let mut transaction = self.pool().begin().await?;
        // One snapshot for every table; READ ONLY so the copy cannot change anything.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *transaction)
            .await?;
        let schema_version: i64 =
            sqlx::query("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
                .fetch_one(&mut *transaction)
                .await?
                .try_get(0)?;
        let order = postgres_load_order(&mut transaction).await?;
        let mut tables = Vec::with_capacity(order.len());
        for table in order {
            let keys = postgres_primary_key(&mut transaction, &table).await?;
            let order_by = if keys.is_empty() {
                String::new()
            } else {
                let quoted: Vec<String> = keys.iter().map(|key| format!("t.\"{key}\"")).collect();
                format!(" ORDER BY {}", quoted.join(", "))
            };
            let sql = format!("SELECT row_to_json(t)::text FROM \"{table}\" AS t{order_by}");
            let mut rows = sqlx::query(&sql).fetch(&mut *transaction);
            let mut count = 0_u64;
            while let Some(row) = rows.try_next().await? {
                let json: String = row.try_get(0)?;
                writeln!(writer, "{{\"t\":\"{table}\",\"r\":{json}}}")
                    .map_err(|error| file_error(out, error))?;
                count += 1;
            }
            drop(rows);
            tables.push(TableRows { table, rows: count });
        }
        transaction.commit().await?;
        let file = writer
            .into_inner()
            .map_err(|error| file_error(out, error.into_error()))?;
        file.sync_all().map_err(|error| file_error(out, error))?;
        Ok(SnapshotSummary {
            engine: Engine::Postgres,
            schema_version,
            tables,
        })
    }

    /// PostgreSQL: replaces the rows of every copied table with the copy's, in one transaction,
    /// and checks each table's count against `expected` before committing.
    pub async fn load_postgres_snapshot(
        &self,
        payload: &Path,
        expected: &SnapshotSummary,
    ) -> Result<(), StoreError> {
        if self.engine() != Engine::Postgres || expected.engine != Engine::Postgres {
            return Err(StoreError::Copy(
                "solo una copia de PostgreSQL se carga en PostgreSQL".to_owned(),
            ));
        }
        let present: BTreeSet<String> = self.tables().await?.into_iter().collect();
        for table in &expected.tables {
            if !present.contains(&table.table) {
                return Err(StoreError::Corrupt(format!(
                    "la copia tiene la tabla «{}», que esta base de datos no tiene",
                    table.table
                )));
            }
        }
        let mut transaction = self.write_pool().begin().await?;
        let targets: Vec<&String> = present
            .iter()
            .filter(|table| !TABLES_NOT_COPIED.contains(&table.as_str()))
            .collect();
        if !targets.is_empty() {
            let list: Vec<String> = targets.iter().map(|table| format!("\"{table}\"")).collect();
            sqlx::query(&format!("TRUNCATE {}", list.join(", ")))
                .execute(&mut *transaction)
                .await?;
        }

        let file = std::fs::File::open(payload).map_err(|error| file_error(payload, error))?;
        let mut reader = std::io::BufReader::new(file);
        let mut counts: HashMap<String, u64> = HashMap::new();
        let mut batch_table = String::new();
        let mut batch = String::new();
        let mut batch_rows = 0_usize;
        let mut line = String::new();
        loop {
            line.clear();
            let read = Read::take(&mut reader, LINE_BYTES_MAX as u64 + 1)
                .read_line(&mut line)
                .map_err(|error| file_error(payload, error))?;
            if read == 0 {
                break;
            }
            if line.len() > LINE_BYTES_MAX || !line.ends_with('\n') {
                return Err(StoreError::Corrupt(
                    "una línea de la copia está cortada o es demasiado larga".to_owned(),
                ));
            }
            let (table, row) = split_line(line.trim_end_matches('\n'))?;
            if !present.contains(table) || TABLES_NOT_COPIED.contains(&table) {
                return Err(StoreError::Corrupt(format!(
                    "la copia trae filas de «{table}», una tabla que no se restaura"
                )));
            }
            let full = batch_rows >= LOAD_BATCH_ROWS_MAX || batch.len() >= LOAD_BATCH_BYTES_MAX;
            if batch_rows > 0 && (table != batch_table || full) {
                insert_batch(&mut transaction, &batch_table, &mut batch).await?;
                batch_rows = 0;
            }
            if batch_rows == 0 {
                batch_table.clear();
                batch_table.push_str(table);
                batch.clear();
                batch.push('[');
            } else {
                batch.push(',');
            }
            batch.push_str(row);
            batch_rows += 1;
            *counts.entry(table.to_owned()).or_default() += 1;
        }
        if batch_rows > 0 {
            insert_batch(&mut transaction, &batch_table, &mut batch).await?;
        }

        for table in &expected.tables {
            let loaded = counts.remove(&table.table).unwrap_or(0);
            if loaded != table.rows {
                return Err(StoreError::Corrupt(format!(
                    "la tabla «{}» debía traer {} filas y trajo {loaded}",
                    table.table, table.rows
                )));
            }
        }
        if let Some(table) = counts.keys().next() {
            return Err(StoreError::Corrupt(format!(
                "la copia trae filas de «{table}», que su manifiesto no cuenta"
            )));
        }
        // Identity columns continue after the highest value restored, not from where the
        // emptied database's sequence stood.
        let serials = sqlx::query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'",
        )
        .fetch_all(&mut *transaction)
        .await?;
        for row in serials {
            let table = checked_table(row.try_get(0)?)?;
            let column = checked_table(row.try_get(1)?)?;
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), \
                 COALESCE(MAX(\"{column}\"), 0) + 1, false) FROM \"{table}\""
            ))
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }
}

/// `{"t":"TABLE","r":ROW}` → (TABLE, ROW), as `postgres_snapshot` writes each line.
fn split_line(line: &str) -> Result<(&str, &str), StoreError> {
    let damaged = || StoreError::Corrupt("una línea de la copia no tiene la forma esperada".into());
    let rest = line.strip_prefix("{\"t\":\"").ok_or_else(damaged)?;
    let (table, rest) = rest.split_once("\",\"r\":").ok_or_else(damaged)?;
    let row = rest.strip_suffix('}').ok_or_else(damaged)?;
    let plain = !table.is_empty()
        && table
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
    if !plain || !row.starts_with('{') {
        return Err(damaged());
    }
    Ok((table, row))
}

async fn insert_batch(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    table: &str,
    batch: &mut String,
) -> Result<(), StoreError> {
    batch.push(']');
    // The table's own row type turns each JSON value back into its column's type (bytea from
    // its hex text, numbers exactly as row_to_json printed them).
    sqlx::query(&format!(
        "INSERT INTO \"{table}\" SELECT * FROM json_populate_recordset(NULL::\"{table}\", $1::json)"
    ))
    .bind(batch.as_str())
    .execute(&mut **transaction)
    .await?;
    batch.clear();
    Ok(())
}

/// The copied tables of the current schema, parents before the tables that refer to them, so
/// that loading them in this order satisfies every foreign key.
async fn postgres_load_order(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(&mut **transaction)
    .await?;
    let mut tables = Vec::with_capacity(rows.len());
    for row in rows {
        let table = checked_table(row.try_get(0)?)?;
        if !TABLES_NOT_COPIED.contains(&table.as_str()) {
            tables.push(table);
        }
    }
    let edges = sqlx::query(
        "SELECT child.relname::text, parent.relname::text FROM pg_constraint c \
         JOIN pg_class child ON child.oid = c.conrelid \
         JOIN pg_class parent ON parent.oid = c.confrelid \
         JOIN pg_namespace n ON n.oid = child.relnamespace \
         WHERE c.contype = 'f' AND n.nspname = current_schema()",
    )
    .fetch_all(&mut **transaction)
    .await?;
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for edge in edges {
        let child: String = edge.try_get(0)?;
        let parent: String = edge.try_get(1)?;
        if child != parent {
            parents.entry(child).or_default().insert(parent);
        }
    }
    topological(tables, &parents)
}

/// Kahn's order over `tables`, alphabetical among equals so that copies are reproducible.
fn topological(
    tables: Vec<String>,
    parents: &BTreeMap<String, BTreeSet<String>>,
) -> Result<Vec<String>, StoreError> {
    let mut remaining: BTreeSet<String> = tables.into_iter().collect();
    let mut order = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let ready: Vec<String> = remaining
            .iter()
            .filter(|table| {
                parents
                    .get(*table)
                    .is_none_or(|set| set.iter().all(|parent| !remaining.contains(parent)))
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            return Err(StoreError::Corrupt(format!(
                "las claves foráneas entre {remaining:?} forman un ciclo"
            )));
        }
        for table in ready {
            remaining.remove(&table);
            order.push(table);
        }
    }
    Ok(order)
}

async fn postgres_primary_key(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    table: &str,
) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT a.attname::text FROM pg_index i \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
         WHERE i.indrelid = to_regclass(quote_ident($1)) AND i.indisprimary \
         ORDER BY array_position(i.indkey::int2[], a.attnum)",
    )
    .bind(table)
    .fetch_all(&mut **transaction)
    .await?;
    rows.iter()
        .map(|row| checked_table(row.try_get(0)?))
        .collect()
}

/// SQLite's online backup of `source` into the new file `out`, made self-contained (no WAL) and
/// checked.
fn sqlite_snapshot(source: &Path, out: &Path) -> Result<SnapshotSummary, StoreError> {
    if out.exists() {
        return Err(file_error(
            out,
            std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        ));
    }
    let from = rusqlite::Connection::open_with_flags(
        source,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    from.busy_timeout(Duration::from_secs(5))?;
    let mut to = rusqlite::Connection::open(out)?;
    {
        let backup = rusqlite::backup::Backup::new(&from, &mut to)?;
        // Every page in one step: one read transaction, so one moment of the database; a
        // busy source is waited for and retried.
        backup.run_to_completion(i32::MAX, Duration::from_millis(20), None)?;
    }
    drop(from);
    let summary = check_sqlite_copy(&to)?;
    // One file, nothing beside it: the copy does not need a WAL.
    to.pragma_update(None, "journal_mode", "DELETE")?;
    to.close().map_err(|(_, error)| StoreError::from(error))?;
    std::fs::File::open(out)
        .and_then(|file| file.sync_all())
        .map_err(|error| file_error(out, error))?;
    Ok(summary)
}

/// Integrity, schema version and row counts of an SQLite copy.
fn check_sqlite_copy(connection: &rusqlite::Connection) -> Result<SnapshotSummary, StoreError> {
    let verdict: String = connection.query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
    if verdict != "ok" {
        return Err(StoreError::Corrupt(format!(
            "la copia de SQLite no supera integrity_check: {verdict}"
        )));
    }
    let schema_version: i64 = connection.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
        [],
        |row| row.get(0),
    )?;
    let mut statement = connection.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )?;
    let names = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let table = checked_table(name)?;
        if TABLES_NOT_COPIED.contains(&table.as_str()) {
            continue;
        }
        let rows: i64 =
            connection.query_row(&format!("SELECT COUNT(*) FROM \"{table}\""), [], |row| {
                row.get(0)
            })?;
        tables.push(TableRows {
            table,
            rows: u64::try_from(rows).unwrap_or(0),
        });
    }
    Ok(SnapshotSummary {
        engine: Engine::Sqlite,
        schema_version,
        tables,
    })
}

/// SQLite: checks the copy at `payload` against `expected` and puts it in place of `database`
/// (no process may have it open). The copy is checked where it lies first, so a bad copy
/// leaves the database untouched.
pub fn install_sqlite_snapshot(
    payload: &Path,
    database: &Path,
    expected: &SnapshotSummary,
) -> Result<(), StoreError> {
    {
        let connection = rusqlite::Connection::open(payload)?;
        let found = check_sqlite_copy(&connection)?;
        if found != *expected {
            return Err(StoreError::Corrupt(format!(
                "la copia de SQLite no tiene lo que dice su manifiesto (esquema {} y {} filas; \
                 se esperaban esquema {} y {} filas)",
                found.schema_version,
                found.rows_total(),
                expected.schema_version,
                expected.rows_total()
            )));
        }
        // The leases of the moment of the copy name processes that are gone.
        connection.execute("DELETE FROM leases", [])?;
        connection
            .close()
            .map_err(|(_, error)| StoreError::from(error))?;
    }
    std::fs::File::open(payload)
        .and_then(|file| file.sync_all())
        .map_err(|error| file_error(payload, error))?;
    // The old write-ahead log goes first: left beside the new file, SQLite would replay its
    // frames onto pages they do not belong to.
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = database.as_os_str().to_owned();
        side.push(suffix);
        let side = PathBuf::from(side);
        match std::fs::remove_file(&side) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(file_error(&side, error)),
        }
    }
    std::fs::rename(payload, database).map_err(|error| file_error(database, error))?;
    if let Some(folder) = database.parent() {
        std::fs::File::open(folder)
            .and_then(|file| file.sync_all())
            .map_err(|error| file_error(folder, error))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_load_before_the_tables_that_refer_to_them() {
        let tables = vec!["b".to_owned(), "a".to_owned(), "c".to_owned()];
        let mut parents = BTreeMap::new();
        parents.insert("a".to_owned(), BTreeSet::from(["c".to_owned()]));
        parents.insert("c".to_owned(), BTreeSet::from(["b".to_owned()]));
        assert_eq!(topological(tables, &parents).unwrap(), ["b", "c", "a"]);
    }

    #[test]
    fn a_cycle_of_foreign_keys_is_an_error_not_a_loop() {
        let tables = vec!["a".to_owned(), "b".to_owned()];
        let mut parents = BTreeMap::new();
        parents.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
        parents.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
        assert!(topological(tables, &parents).is_err());
    }

    #[test]
    fn lines_split_into_table_and_row_and_damage_is_refused() {
        assert_eq!(
            split_line(r#"{"t":"users","r":{"id":1}}"#).unwrap(),
            ("users", r#"{"id":1}"#)
        );
        for bad in [
            r#"{"t":"Users","r":{"id":1}}"#,
            r#"{"t":"users","r":[1]}"#,
            r#"{"t":"users" "r":{}}"#,
            "",
        ] {
            assert!(split_line(bad).is_err(), "{bad}");
        }
    }
}
