//! `ceiba salud …`: loading Salud's reference data into the database.

use std::path::Path;

use anyhow::Context;
use ceiba_store::AreaRow;
use ceiba_surveillance::{Geography, MultiPolygon};

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

/// Reads the geography files of `dir`, checks and joins them, and loads them.
pub async fn load_geography(config: &Config, dir: &Path) -> anyhow::Result<()> {
    let geography = Geography::from_sources(
        &read(dir, "provincias.geojson")?,
        &read(dir, "municipios.geojson")?,
        &read(dir, "municipality-population.json")?,
    )?;
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
    let db = open_database(config).await?;
    db.migrate()
        .await
        .context("no se pudo migrar la base de datos")?;
    let load = db.load_geography(&provinces, &municipalities).await?;
    db.close().await;
    let mut lines = vec![format!(
        "Geografía: {} provincias y {} municipios, {} habitantes; cambiaron {} provincias y {} \
         municipios.",
        provinces.len(),
        municipalities.len(),
        ceiba_surveillance::count_es(geography.population()),
        load.provinces_changed,
        load.municipalities_changed
    )];
    lines.extend(geography.notes.iter().map(|note| format!("  {note}")));
    print_line(&lines.join("\n"))
}
