//! `ceiba backup` and `ceiba restore`: the container around a database copy.
//!
//! A backup is one file:
//!
//! ```text
//! CEIBA-COPIA/1            magic line
//! {…manifest…}             one line of JSON: engine, schema, tables and rows, payload size
//!                          and SHA-256, the public key that signs
//! <128 hex digits>         Ed25519 signature of "ceiba-backup/1\n" + the manifest line
//! <payload>                the engine's copy (see ceiba_store's backup module)
//! ```
//!
//! The key is the installation's audit signing key (the one its audit checkpoints carry), used
//! under its own prefix so a backup signature can never pass for a checkpoint's. Restore checks,
//! before it touches anything: the magic, the manifest, whose key signed it (a foreign backup is
//! refused), the signature, the payload's size and checksum, the engine, the schema, that no
//! server holds the database, and that the database holds nothing of its own (unless
//! `--force`). The load itself is one transaction (PostgreSQL) or a checked file put in place
//! with one rename (SQLite).

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use ceiba_store::{Db, Engine, LeaseName, SnapshotSummary, TableRows};
use ed25519_dalek::{Signer, Verifier};
use sha2::Digest;

use crate::config::{Config, Storage};
use crate::print_line;
use crate::serve::{WIKI_INDEX_DIR, now_ms, open_database};

const MAGIC_LINE: &str = "CEIBA-COPIA/1";
const FORMAT: &str = "ceiba-backup/1";
/// What the signature covers besides the manifest: keeps it apart from any other use of the key.
const SIGNATURE_CONTEXT: &[u8] = b"ceiba-backup/1\n";
/// Longest manifest line read; a longer one is not a manifest.
const MANIFEST_BYTES_MAX: u64 = 4 * 1024 * 1024;

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Manifest {
    format: String,
    engine: String,
    ceiba_version: String,
    created_ms: i64,
    schema_version: i64,
    /// Hexadecimal Ed25519 public key of the installation that made the copy.
    public_key: String,
    payload_bytes: u64,
    payload_sha256: String,
    tables: Vec<ManifestTable>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ManifestTable {
    table: String,
    rows: u64,
}

impl Manifest {
    fn summary(&self) -> anyhow::Result<SnapshotSummary> {
        let engine = match self.engine.as_str() {
            "sqlite" => Engine::Sqlite,
            "postgresql" => Engine::Postgres,
            other => bail!("la copia dice ser de un motor desconocido, «{other}»"),
        };
        Ok(SnapshotSummary {
            engine,
            schema_version: self.schema_version,
            tables: self
                .tables
                .iter()
                .map(|table| TableRows {
                    table: table.table.clone(),
                    rows: table.rows,
                })
                .collect(),
        })
    }
}

/// What `ceiba restore` was told besides the file.
#[derive(Debug, Default)]
pub struct RestoreOptions {
    pub force: bool,
    /// The signer's public key in hexadecimal, when it is not this installation's.
    pub public_key: Option<String>,
}

fn data_dir(config: &Config) -> &Path {
    match &config.storage {
        Storage::Embedded { data_dir } | Storage::Postgres { data_dir, .. } => data_dir,
    }
}

/// `PATH` + `suffix`, beside it.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes a working file, saying nothing when it is already gone.
fn remove_quietly(path: &Path) {
    if let Err(error) = std::fs::remove_file(path)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(%error, path = %path.display(), "could not remove a working file");
    }
}

fn hex(bytes: &[u8]) -> String {
    crate::audit::hex(bytes)
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != N * 2 || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    let mut bytes = [0_u8; N];
    for (index, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[index * 2..index * 2 + 2], 16).ok()?;
    }
    Some(bytes)
}

/// Size and SHA-256 of a file, read once.
fn digest_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)
        .with_context(|| format!("no se pudo leer «{}»", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let bytes = std::io::copy(&mut file, &mut hasher)
        .with_context(|| format!("no se pudo leer «{}»", path.display()))?;
    Ok((bytes, hex(&hasher.finalize())))
}

/// `ceiba backup OUT`.
pub async fn backup(config: &Config, out: &Path) -> anyhow::Result<()> {
    ensure!(
        !out.exists(),
        "«{}» ya existe: una copia nunca escribe encima de otro archivo",
        out.display()
    );
    let seed = crate::audit::load_or_create_key(&config.audit_signing_key_file, "clave de firma")?;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let db = open_database(config).await?;
    let payload = sibling(out, ".carga");
    remove_quietly(&payload);
    let snapshot = db.snapshot_to(&payload).await;
    db.close().await;
    let outcome = match snapshot {
        Ok(summary) => write_container(out, &payload, &summary, &key),
        Err(error) => Err(anyhow::Error::new(error).context("no se pudo copiar la base de datos")),
    };
    remove_quietly(&payload);
    let (manifest, total_bytes) = outcome?;
    print_line(&format!(
        "Copia de {} escrita en «{}»: {} tablas, {} filas, {} bytes; SHA-256 de la carga {}; \
         firmada con la clave {}.",
        manifest.engine,
        out.display(),
        manifest.tables.len(),
        manifest.tables.iter().map(|table| table.rows).sum::<u64>(),
        total_bytes,
        manifest.payload_sha256,
        manifest.public_key
    ))
}

/// Writes magic, manifest, signature and payload to `OUT.tmp`, syncs it and renames it to `out`,
/// so a copy interrupted halfway never stands where a whole one should.
fn write_container(
    out: &Path,
    payload: &Path,
    summary: &SnapshotSummary,
    key: &ed25519_dalek::SigningKey,
) -> anyhow::Result<(Manifest, u64)> {
    let (payload_bytes, payload_sha256) = digest_file(payload)?;
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        engine: summary.engine.as_str().to_owned(),
        ceiba_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_ms: now_ms(),
        schema_version: summary.schema_version,
        public_key: hex(key.verifying_key().as_bytes()),
        payload_bytes,
        payload_sha256,
        tables: summary
            .tables
            .iter()
            .map(|table| ManifestTable {
                table: table.table.clone(),
                rows: table.rows,
            })
            .collect(),
    };
    let manifest_line = serde_json::to_string(&manifest).context("el manifiesto")?;
    let mut signed = SIGNATURE_CONTEXT.to_vec();
    signed.extend_from_slice(manifest_line.as_bytes());
    let signature = key.sign(&signed);

    let partial = sibling(out, ".tmp");
    let written = (|| -> std::io::Result<u64> {
        let file = std::fs::File::create_new(&partial)?;
        let mut writer = std::io::BufWriter::new(file);
        writeln!(writer, "{MAGIC_LINE}")?;
        writeln!(writer, "{manifest_line}")?;
        writeln!(writer, "{}", hex(&signature.to_bytes()))?;
        let mut source = std::fs::File::open(payload)?;
        std::io::copy(&mut source, &mut writer)?;
        let file = writer.into_inner().map_err(|error| error.into_error())?;
        file.sync_all()?;
        let total = file.metadata()?.len();
        std::fs::rename(&partial, out)?;
        if let Some(folder) = out.parent().filter(|folder| !folder.as_os_str().is_empty()) {
            std::fs::File::open(folder)?.sync_all()?;
        }
        Ok(total)
    })();
    match written {
        Ok(total) => Ok((manifest, total)),
        Err(error) => {
            remove_quietly(&partial);
            Err(error).with_context(|| format!("no se pudo escribir la copia «{}»", out.display()))
        }
    }
}

/// A backup file opened and checked up to its payload.
struct Opened {
    manifest: Manifest,
    reader: std::io::BufReader<std::fs::File>,
}

/// Reads one line of at most `max` bytes, without its newline.
fn read_line(
    reader: &mut std::io::BufReader<std::fs::File>,
    max: u64,
) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    reader.by_ref().take(max + 1).read_until(b'\n', &mut line)?;
    if line.last() != Some(&b'\n') || line.len() as u64 > max + 1 {
        return Ok(None);
    }
    line.pop();
    Ok(String::from_utf8(line).ok())
}

/// Checks magic, manifest, signer and signature; the payload is checked while it is copied.
fn open_backup(input: &Path, trusted_key: &[u8; 32]) -> anyhow::Result<Opened> {
    let file = std::fs::File::open(input)
        .with_context(|| format!("no se pudo abrir la copia «{}»", input.display()))?;
    let mut reader = std::io::BufReader::new(file);
    let unreadable = || format!("no se pudo leer la copia «{}»", input.display());
    let magic = read_line(&mut reader, 64).with_context(unreadable)?;
    ensure!(
        magic.as_deref() == Some(MAGIC_LINE),
        "«{}» no es una copia de Ceiba (no empieza por {MAGIC_LINE})",
        input.display()
    );
    let Some(manifest_line) =
        read_line(&mut reader, MANIFEST_BYTES_MAX).with_context(unreadable)?
    else {
        bail!("la copia está dañada: su manifiesto está cortado");
    };
    let manifest: Manifest = serde_json::from_str(&manifest_line)
        .context("la copia está dañada: su manifiesto no se puede leer")?;
    ensure!(
        manifest.format == FORMAT,
        "la copia tiene el formato «{}», y esta versión de Ceiba lee «{FORMAT}»",
        manifest.format
    );
    let Some(signer) = unhex::<32>(&manifest.public_key) else {
        bail!("la copia está dañada: la clave pública de su manifiesto no es válida");
    };
    ensure!(
        signer == *trusted_key,
        "la copia es de otra instalación: la firmó la clave {}, y aquí se confía en la clave {} \
         (para restaurar la copia de otra instalación, indique su clave con --public-key)",
        manifest.public_key,
        hex(trusted_key)
    );
    let signature_line = read_line(&mut reader, 200).with_context(unreadable)?;
    let Some(signature) = signature_line.as_deref().and_then(unhex::<64>) else {
        bail!("la copia está dañada: falta su firma o no es válida");
    };
    let verifying = ed25519_dalek::VerifyingKey::from_bytes(trusted_key)
        .context("la clave pública de confianza no es una clave Ed25519 válida")?;
    let mut signed = SIGNATURE_CONTEXT.to_vec();
    signed.extend_from_slice(manifest_line.as_bytes());
    verifying
        .verify(&signed, &ed25519_dalek::Signature::from_bytes(&signature))
        .map_err(|_| {
            anyhow::anyhow!("la firma de la copia no corresponde a su manifiesto: fue alterada")
        })?;
    Ok(Opened { manifest, reader })
}

/// Copies the payload to `to`, checking its size and SHA-256 against the signed manifest.
fn extract_payload(opened: &mut Opened, to: &Path) -> anyhow::Result<()> {
    let expected_bytes = opened.manifest.payload_bytes;
    let written = (|| -> std::io::Result<(u64, String, bool)> {
        let file = std::fs::File::create_new(to)?;
        let mut writer = HashingWriter {
            inner: std::io::BufWriter::new(file),
            hasher: sha2::Sha256::new(),
        };
        let copied = std::io::copy(
            &mut opened.reader.by_ref().take(expected_bytes),
            &mut writer,
        )?;
        let mut extra = [0_u8; 1];
        let trailing = opened.reader.read(&mut extra)? > 0;
        let file = writer
            .inner
            .into_inner()
            .map_err(|error| error.into_error())?;
        file.sync_all()?;
        Ok((copied, hex(&writer.hasher.finalize()), trailing))
    })();
    let (copied, sha256, trailing) =
        written.with_context(|| format!("no se pudo escribir «{}»", to.display()))?;
    ensure!(
        copied == expected_bytes && !trailing,
        "la copia está dañada: su carga debía tener {expected_bytes} bytes{}",
        if trailing {
            " y tiene más"
        } else {
            " y está cortada"
        }
    );
    ensure!(
        sha256 == opened.manifest.payload_sha256,
        "la copia está dañada: la suma SHA-256 de su carga es {sha256}, y el manifiesto firmado \
         dice {}",
        opened.manifest.payload_sha256
    );
    Ok(())
}

struct HashingWriter<W> {
    inner: W,
    hasher: sha2::Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(bytes)?;
        self.hasher.update(&bytes[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The key a backup must be signed with: `--public-key`, or this installation's own.
fn trusted_key(config: &Config, given: Option<&str>) -> anyhow::Result<[u8; 32]> {
    if let Some(text) = given {
        return unhex::<32>(text.trim())
            .context("--public-key espera 64 dígitos hexadecimales (una clave Ed25519)");
    }
    let signer = crate::audit::load_signing_key(&config.audit_signing_key_file).context(
        "esta instalación no tiene clave con que comprobar la copia; indique la clave de la \
         instalación que la hizo con --public-key",
    )?;
    Ok(signer.public_key_bytes())
}

/// Refuses a database a running server holds, or one with data of its own (unless `force`).
async fn check_target(db: &Db, force: bool) -> anyhow::Result<()> {
    if let Some(holder) = db.lease_holder(LeaseName::MAINTENANCE, now_ms()).await? {
        bail!(
            "un «ceiba serve» está usando esta base de datos (tiene la concesión de \
             mantenimiento: {holder}); deténgalo antes de restaurar, o espere a que su \
             concesión caduque si ya se detuvo"
        );
    }
    if !force && db.holds_data().await? {
        bail!(
            "la base de datos de destino ya tiene datos; restaurar los reemplazaría todos. \
             Use --force si eso es lo que quiere"
        );
    }
    Ok(())
}

/// `ceiba restore IN`.
pub async fn restore(config: &Config, input: &Path, options: RestoreOptions) -> anyhow::Result<()> {
    let trusted = trusted_key(config, options.public_key.as_deref())?;
    let mut opened = open_backup(input, &trusted)?;
    let expected = opened.manifest.summary()?;
    let folder = data_dir(config);
    std::fs::create_dir_all(folder).with_context(|| {
        format!(
            "no se pudo crear la carpeta de datos «{}»",
            folder.display()
        )
    })?;
    let payload = folder.join("restaurando.carga");
    remove_quietly(&payload);
    let outcome = restore_payload(config, &mut opened, &expected, &payload, options.force).await;
    remove_quietly(&payload);
    outcome?;
    // The search index describes the articles of before; the server rebuilds it when it is empty.
    let index = folder.join(WIKI_INDEX_DIR);
    match std::fs::remove_dir_all(&index) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error).with_context(|| {
                format!(
                    "restaurado, pero no se pudo borrar el índice de búsqueda «{}»; bórrelo a \
                     mano antes de iniciar el servidor",
                    index.display()
                )
            });
        }
    }
    print_line(&format!(
        "Copia de «{}» restaurada: {} tablas, {} filas, esquema {}. Compruebe con «ceiba audit \
         verify» y «ceiba ledger check».",
        input.display(),
        expected.tables.len(),
        expected.rows_total(),
        expected.schema_version
    ))
}

async fn restore_payload(
    config: &Config,
    opened: &mut Opened,
    expected: &SnapshotSummary,
    payload: &Path,
    force: bool,
) -> anyhow::Result<()> {
    extract_payload(opened, payload)?;
    // A copy goes back onto the schema it was taken at; migrating it forward is a later step.
    let known = ceiba_store::latest_migration_version(expected.engine);
    ensure!(
        expected.schema_version == known,
        "la copia es del esquema {}, y esta versión de Ceiba usa el {known}",
        expected.schema_version
    );
    match &config.storage {
        Storage::Embedded { data_dir } => {
            ensure!(
                expected.engine == Engine::Sqlite,
                "la copia es de {}, y el destino es SQLite: restaure en el mismo motor",
                expected.engine
            );
            let database = data_dir.join(ceiba_store::EMBEDDED_DATABASE_FILE);
            if database.exists() {
                let db = open_database(config).await?;
                let checked = check_target(&db, force).await;
                db.close().await;
                checked?;
            }
            let payload = payload.to_path_buf();
            let expected = expected.clone();
            tokio::task::spawn_blocking(move || {
                ceiba_store::install_sqlite_snapshot(&payload, &database, &expected)
            })
            .await
            .context("la restauración se interrumpió")?
            .context("no se pudo restaurar la copia")?;
        }
        Storage::Postgres { .. } => {
            ensure!(
                expected.engine == Engine::Postgres,
                "la copia es de {}, y el destino es PostgreSQL: restaure en el mismo motor",
                expected.engine
            );
            let db = open_database(config).await?;
            let outcome = async {
                db.migrate()
                    .await
                    .context("no se pudo migrar la base de datos de destino")?;
                check_target(&db, force).await?;
                db.load_postgres_snapshot(payload, expected)
                    .await
                    .context("no se pudo restaurar la copia; la base de datos quedó como estaba")
            }
            .await;
            db.close().await;
            outcome?;
        }
    }
    Ok(())
}
