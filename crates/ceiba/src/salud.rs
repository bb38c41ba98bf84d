//! `ceiba salud …`: loading Salud's reference data into the database.

use std::io::{IsTerminal, Read};
use std::path::Path;

use anyhow::{Context, bail};
use ceiba_store::{AreaRow, Db, ImportCounts};
use ceiba_surveillance::covid19cubadata::{Archive, Date};
use ceiba_surveillance::{Geography, MultiPolygon, count_es};

use crate::config::Config;
use crate::print_line;
use crate::serve::open_database;

fn read(dir: &Path, file: &str) -> anyhow::Result<String> {
    let path = dir.join(file);
    std::fs::read_to_string(&path).with_context(|| format!("no se pudo leer {}", path.display()))
}

/// A boundary as the GeoJSON `coordinates` of a MultiPolygon.
fn boundary_json(boundary: &MultiPolygon) -> anyhow::Result<String> {
    serde_json::to_string(boundary).context("una frontera no se pudo escribir como JSON")
}

/// Reads the geography files of `dir` and checks and joins them.
pub(crate) fn read_geography(dir: &Path) -> anyhow::Result<Geography> {
    Ok(Geography::from_sources(
        &read(dir, "provincias.geojson")?,
        &read(dir, "municipios.geojson")?,
        &read(dir, "municipality-population.json")?,
    )?)
}

/// Writes `geography` to the database; what changed.
pub(crate) async fn store_geography(
    db: &Db,
    geography: &Geography,
) -> anyhow::Result<ceiba_store::GeographyLoad> {
    let provinces = geography
        .provinces
        .iter()
        .map(|province| {
            Ok(AreaRow {
                code: province.code.clone(),
                province_code: province.code.clone(),
                name: province.name.clone(),
                population: province.population,
                boundary: boundary_json(&province.boundary)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let municipalities = geography
        .municipalities
        .iter()
        .map(|municipality| {
            Ok(AreaRow {
                code: municipality.code.clone(),
                province_code: municipality.province_code.clone(),
                name: municipality.name.clone(),
                population: municipality.population,
                boundary: boundary_json(&municipality.boundary)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(db.load_geography(&provinces, &municipalities).await?)
}

/// Reads the geography files of `dir`, checks and joins them, and loads them.
pub async fn load_geography(config: &Config, dir: &Path) -> anyhow::Result<()> {
    let geography = read_geography(dir)?;
    let db = open_database(config).await?;
    db.migrate()
        .await
        .context("no se pudo migrar la base de datos")?;
    let load = store_geography(&db, &geography).await;
    db.close().await;
    let load = load?;
    let mut lines = vec![format!(
        "Geografía: {} provincias y {} municipios, {} habitantes; cambiaron {} provincias y {} \
         municipios.",
        geography.provinces.len(),
        geography.municipalities.len(),
        count_es(geography.population()),
        load.provinces_changed,
        load.municipalities_changed
    )];
    lines.extend(geography.notes.iter().map(|note| format!("  {note}")));
    print_line(&lines.join("\n"))
}

/// Cases written per transaction, and how often progress is told.
const CASES_PER_TRANSACTION: usize = 10_000;

fn zip_entry(zip: &mut zip::ZipArchive<std::fs::File>, name: &str) -> anyhow::Result<Vec<u8>> {
    let index = (0..zip.len())
        .find(|index| {
            zip.name_for_index(*index)
                .is_some_and(|entry| entry.rsplit('/').next() == Some(name))
        })
        .with_context(|| format!("el archivo no contiene {name}"))?;
    let mut file = zip.by_index(index)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .with_context(|| format!("no se pudo leer {name} del archivo"))?;
    Ok(bytes)
}

/// What an import of the covid19cubadata archive did.
pub(crate) struct Imported {
    pub counts: ImportCounts,
    /// What the database holds after it.
    pub stored: ImportCounts,
    pub report: String,
}

/// Imports the covid19cubadata archive at `archive_path` (up to `until`, inclusive) into `db`,
/// with the geography of the archive's folder; `progress` tells it on stderr.
pub(crate) async fn import_into(
    db: &Db,
    archive_path: &Path,
    until: Option<Date>,
    progress: bool,
) -> anyhow::Result<Imported> {
    const SOURCE: &str = "covid19cubadata";
    let started = std::time::Instant::now();
    let folder = archive_path.parent().unwrap_or(Path::new("."));
    let geography = read_geography(folder)?;
    let file = std::fs::File::open(archive_path)
        .with_context(|| format!("no se pudo abrir {}", archive_path.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .with_context(|| format!("{} no es un archivo zip", archive_path.display()))?;
    let mut archive = Archive::read(
        &zip_entry(&mut zip, "covid19-cuba.json")?,
        &zip_entry(&mut zip, "covid19-cuba-1.json")?,
        &zip_entry(&mut zip, "covid19-fallecidos.json")?,
        Some(&geography),
    )?;
    if let Some(until) = until {
        archive.cases.retain(|case| case.confirmed_on <= until);
        archive.deaths.retain(|death| death.died_on <= until);
        archive
            .days
            .retain(|_, day| day.date.is_some_and(|date| date <= until));
    }
    if progress {
        eprintln!(
            "Leído en {:.1} s: {} casos, {} fallecidos, {} días.",
            started.elapsed().as_secs_f64(),
            count_es(archive.cases.len() as u64),
            count_es(archive.deaths.len() as u64),
            count_es(archive.days.len() as u64)
        );
    }
    db.migrate()
        .await
        .context("no se pudo migrar la base de datos")?;
    store_geography(db, &geography).await?;
    let mut counts = ImportCounts::default();
    let total = archive.cases.len();
    // On a terminal the count is rewritten in place; in a log, a line every 100,000.
    let terminal = std::io::stderr().is_terminal();
    for (index, chunk) in archive.cases.chunks(CASES_PER_TRANSACTION).enumerate() {
        counts.cases_added += db.import_salud_cases(chunk, SOURCE).await?;
        let done = (index * CASES_PER_TRANSACTION + chunk.len()).min(total);
        if !progress {
            continue;
        }
        let said = format!(
            "Casos: {} de {}",
            count_es(done as u64),
            count_es(total as u64)
        );
        if terminal {
            eprint!("\r{said}");
        } else if done % 100_000 < CASES_PER_TRANSACTION || done == total {
            eprintln!("{said}");
        }
    }
    if progress && terminal {
        eprintln!();
    }
    counts.deaths_added = db.import_salud_deaths(&archive.deaths).await?;
    let days: Vec<_> = archive.days.values().cloned().collect();
    counts.days_added = db
        .import_salud_series(&days, &archive.centres, &archive.events)
        .await?;
    let report = archive.report.text();
    db.record_salud_import(
        &format!("imp_{:032x}", rand::random::<u128>()),
        SOURCE,
        counts,
        &report,
        crate::serve::now_ms(),
    )
    .await?;
    let stored = db.salud_counts().await?;
    Ok(Imported {
        counts,
        stored,
        report,
    })
}

/// `ceiba salud import covid19cubadata ARCHIVE [--until DAY]`.
pub async fn import(
    config: &Config,
    source: &str,
    archive_path: &Path,
    until: Option<&str>,
) -> anyhow::Result<()> {
    if source != "covid19cubadata" {
        bail!("la fuente «{source}» no se conoce; las que hay: covid19cubadata");
    }
    let until = until
        .map(|text| Date::parse(text).with_context(|| format!("«{text}» no es un día AAAA-MM-DD")))
        .transpose()?;
    let started = std::time::Instant::now();
    let db = open_database(config).await?;
    let imported = import_into(&db, archive_path, until, true).await;
    db.close().await;
    let Imported {
        counts,
        stored,
        report,
    } = imported?;
    print_line(&format!(
        "Importado de {source} en {:.1} s: {} casos nuevos, {} fallecidos nuevos, {} días nuevos \
         (en la base de datos: {} casos, {} fallecidos, {} días).\nInforme de calidad de los \
         datos:\n{}",
        started.elapsed().as_secs_f64(),
        count_es(counts.cases_added),
        count_es(counts.deaths_added),
        count_es(counts.days_added),
        count_es(stored.cases_added),
        count_es(stored.deaths_added),
        count_es(stored.days_added),
        report.trim_end()
    ))
}

/// Looks for outbreaks once (see `ceiba_web::salud_alerts`) and says what it found.
pub async fn alerts(config: &Config, notify_days: Option<u32>) -> anyhow::Result<()> {
    let notify_days = notify_days.unwrap_or(config.salud.notify_days);
    let db = open_database(config).await?;
    db.migrate()
        .await
        .context("no se pudo migrar la base de datos")?;
    let now_ms = ceiba_web::clock::Clock::system().now_ms();
    let today = ceiba_web::salud_alerts::cuba_day(now_ms);
    let run = ceiba_web::salud_alerts::run(
        &db,
        &ceiba_web::salud_dashboard::SaludCache::default(),
        &config.salud.alerts,
        today.plus_days(-i64::from(notify_days)),
        now_ms,
    )
    .await;
    db.close().await;
    let run = run.context("no se pudieron buscar brotes")?;
    print_line(&format!(
        "Alertas: {} señales en toda la serie, {} nuevas (se avisa de las de los últimos {} días).",
        count_es(run.signals),
        count_es(run.new),
        notify_days
    ))
}
