//! Salud's open data: aggregates anybody may read, without an account (`/api/salud/open/…`).
//! Each document names its schema and version, so a reader can tell a change of shape.
//!
//! - `GET /api/salud/open/geography`: the provinces and municipalities by DPA code, with the
//!   population every rate is computed over (loaded by `ceiba salud geography`).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::problem::{ApiError, Problem};

/// The schema of [`GeographyView`]; a change of its shape changes the version.
pub const GEOGRAPHY_SCHEMA: &str = "ceiba-salud-geografia/1";

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaView {
    /// The DPA code: `23.04`.
    pub code: String,
    pub name: String,
    pub population: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProvinceView {
    /// The DPA code: `23`; `40.01` for Isla de la Juventud; `00` for cases without a place.
    pub code: String,
    pub name: String,
    pub population: u64,
    pub municipalities: Vec<AreaView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GeographyView {
    /// `ceiba-salud-geografia/1`.
    pub schema: &'static str,
    /// The whole country's.
    pub population: u64,
    pub provinces: Vec<ProvinceView>,
}

/// The country's provinces and municipalities with their population, in DPA order.
#[utoipa::path(get, path = "/api/salud/open/geography", tag = "salud",
    responses(
        (status = 200, description = "Provincias y municipios", body = GeographyView),
        (status = 500, description = "Error interno", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn geography(State(state): State<AppState>) -> Result<Json<GeographyView>, ApiError> {
    let municipalities = state.db.salud_municipalities().await?;
    let provinces = state
        .db
        .salud_provinces()
        .await?
        .into_iter()
        .map(|province| ProvinceView {
            municipalities: municipalities
                .iter()
                .filter(|municipality| municipality.province_code == province.code)
                .map(|municipality| AreaView {
                    code: municipality.code.clone(),
                    name: municipality.name.clone(),
                    population: municipality.population,
                })
                .collect(),
            code: province.code,
            name: province.name,
            population: province.population,
        })
        .collect::<Vec<_>>();
    Ok(Json(GeographyView {
        schema: GEOGRAPHY_SCHEMA,
        population: provinces.iter().map(|province| province.population).sum(),
        provinces,
    }))
}
