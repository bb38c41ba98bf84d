//! Salud's open data: aggregates anybody may read, without an account (`/api/salud/open/…`).
//! Each document names its schema and version, so a reader can tell a change of shape.
//!
//! - `GET /api/salud/open/geography`: the provinces and municipalities by DPA code, with the
//!   population every rate is computed over (loaded by `ceiba salud geography`);
//! - `GET /api/salud/open/profile[.csv]?area=`: the cases by age group, sex and source, and the
//!   page `/salud/datos` linking every open data set;
//! - `GET /api/salud/open/series[.csv]?area=`: an area's daily series (new and cumulative
//!   confirmed cases, 7- and 14-day incidence per 100,000, doubling time). Below the province,
//!   counts from 1 to 4 — and rates over windows of 1 to 4 cases — are published empty.

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

/// The schema of [`SeriesView`] and of its CSV.
pub const SERIES_SCHEMA: &str = "ceiba-salud-serie/1";

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// A province (`23`) or a municipality (`23.04`) by DPA code; the whole country without.
    pub area: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesDayView {
    pub date: String,
    /// `null` where suppressed (1 to 4, below the province).
    pub new_cases: Option<u64>,
    pub cumulative: Option<u64>,
    /// Per 100,000 people, over the last 7 and 14 days.
    pub incidence_7d: Option<f64>,
    pub incidence_14d: Option<f64>,
    pub doubling_days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesView {
    /// `ceiba-salud-serie/1`.
    pub schema: &'static str,
    /// `cu`, a province's code or a municipality's.
    pub area: String,
    pub name: String,
    /// `nation`, `province` or `municipality`.
    pub level: &'static str,
    pub population: u64,
    /// Counts from 1 to this less one are published as `null` (below the province only).
    pub suppressed_below: Option<u64>,
    pub days: Vec<SeriesDayView>,
}

async fn series_of(state: &AppState, area: Option<&str>) -> Result<SeriesView, ApiError> {
    use ceiba_surveillance::analytics::{SMALL_COUNT, series};

    let unknown = || {
        ApiError::with_detail(
            crate::problem::ErrorCode::NotFound,
            "no hay ninguna provincia ni municipio con ese código DPA",
        )
    };
    // From the figures held in memory (see `salud_dashboard.rs`), not from the case rows.
    let data = state.salud.current(&state.db).await?;
    let (code, name, level, population) = match area.map(str::trim) {
        None | Some("" | "cu") => (
            "cu".to_owned(),
            "Cuba".to_owned(),
            "nation",
            data.population(),
        ),
        Some(code) => {
            let (area, province) = data.area(code).ok_or_else(unknown)?;
            let level = if province { "province" } else { "municipality" };
            (area.code.clone(), area.name.clone(), level, area.population)
        }
    };
    let mut by_day = std::collections::BTreeMap::new();
    if let (Some(first), Some(figures)) = (data.overview.first_day, data.overview.area(&code)) {
        for (index, count) in figures.new_cases.iter().enumerate() {
            if *count > 0 {
                by_day.insert(first.plus_days(i64::try_from(index).unwrap_or(0)), *count);
            }
        }
    }
    let suppress = level == "municipality";
    let hide = |count: u64| (!suppress || count == 0 || count >= SMALL_COUNT).then_some(count);
    // A rate over a window of 1 to 4 cases would give the count away, below the province.
    let keep_rate = |rate: &f64| {
        let cases = (rate * population as f64 / 100_000.0).round();
        !suppress || cases == 0.0 || cases >= SMALL_COUNT as f64
    };
    let days = series(&by_day, population)
        .into_iter()
        .map(|day| SeriesDayView {
            date: day.date,
            new_cases: hide(day.new_cases),
            cumulative: hide(day.cumulative),
            incidence_7d: day.incidence_7d.filter(keep_rate),
            incidence_14d: day.incidence_14d.filter(keep_rate),
            doubling_days: day.doubling_days,
        })
        .collect();
    Ok(SeriesView {
        schema: SERIES_SCHEMA,
        area: code,
        name,
        level,
        population,
        suppressed_below: suppress.then_some(SMALL_COUNT),
        days,
    })
}

/// An area's daily series: new and cumulative confirmed cases, 7- and 14-day incidence per
/// 100,000 and doubling time. Below the province, counts from 1 to 4 are `null`.
#[utoipa::path(get, path = "/api/salud/open/series", tag = "salud",
    params(SeriesQuery),
    responses(
        (status = 200, description = "La serie diaria", body = SeriesView),
        (status = 404, description = "Código DPA desconocido", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn area_series(
    State(state): State<AppState>,
    query: Result<axum::extract::Query<SeriesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SeriesView>, ApiError> {
    let axum::extract::Query(query) = query.map_err(|rejection| {
        ApiError::with_detail(crate::problem::ErrorCode::BadRequest, rejection.body_text())
    })?;
    Ok(Json(series_of(&state, query.area.as_deref()).await?))
}

/// The same series as CSV: `fecha,casos_nuevos,acumulados,incidencia_7d,incidencia_14d,
/// dias_duplicacion` (empty where suppressed); the schema in the header `Ceiba-Schema`.
#[utoipa::path(get, path = "/api/salud/open/series.csv", tag = "salud",
    params(SeriesQuery),
    responses(
        (status = 200, description = "La serie diaria en CSV", content_type = "text/csv"),
        (status = 404, description = "Código DPA desconocido", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn area_series_csv(
    State(state): State<AppState>,
    query: Result<axum::extract::Query<SeriesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let axum::extract::Query(query) = query.map_err(|rejection| {
        ApiError::with_detail(crate::problem::ErrorCode::BadRequest, rejection.body_text())
    })?;
    let view = series_of(&state, query.area.as_deref()).await?;
    let cell = |value: Option<String>| value.unwrap_or_default();
    let mut text = String::from(
        "fecha,casos_nuevos,acumulados,incidencia_7d,incidencia_14d,dias_duplicacion\n",
    );
    for day in &view.days {
        text.push_str(&format!(
            "{},{},{},{},{},{}\n",
            day.date,
            cell(day.new_cases.map(|n| n.to_string())),
            cell(day.cumulative.map(|n| n.to_string())),
            cell(day.incidence_7d.map(|r| format!("{r:.2}"))),
            cell(day.incidence_14d.map(|r| format!("{r:.2}"))),
            cell(day.doubling_days.map(|n| n.to_string())),
        ));
    }
    Ok(csv_document(
        &format!("serie-{}.csv", view.area),
        text,
        SERIES_SCHEMA,
    ))
}

/// The schema of [`ProfileView`] and of its CSV.
pub const PROFILE_SCHEMA: &str = "ceiba-salud-perfil/1";

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileGroupView {
    /// `edad`, `sexo` or `fuente`.
    pub dimension: &'static str,
    /// `0–9` … `80 y más`, `sin edad`; `Femenino`…; `Importado`….
    pub group: &'static str,
    /// `null` where suppressed (1 to 4, below the province).
    pub cases: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    /// `ceiba-salud-perfil/1`.
    pub schema: &'static str,
    pub area: String,
    pub name: String,
    pub groups: Vec<ProfileGroupView>,
}

async fn profile_of(state: &AppState, area: Option<&str>) -> Result<ProfileView, ApiError> {
    use ceiba_surveillance::analytics::SMALL_COUNT;
    use ceiba_surveillance::dashboard::{AGE_BAND_LABELS, NATION, SEX_LABELS, SOURCE_LABELS};

    let data = state.salud.current(&state.db).await?;
    let (code, name, suppress) = match area.map(str::trim) {
        None | Some("" | "cu") => (NATION.to_owned(), "Cuba".to_owned(), false),
        Some(code) => {
            let (area, province) = data.area(code).ok_or_else(|| {
                ApiError::with_detail(
                    crate::problem::ErrorCode::NotFound,
                    "no hay ninguna provincia ni municipio con ese código DPA",
                )
            })?;
            (area.code.clone(), area.name.clone(), !province)
        }
    };
    let profile = data
        .overview
        .area(&code)
        .map(|figures| figures.profile.clone())
        .unwrap_or_default();
    let hide = |count: u64| (!suppress || count == 0 || count >= SMALL_COUNT).then_some(count);
    let mut groups = Vec::new();
    for (dimension, labels, counts) in [
        ("edad", &AGE_BAND_LABELS[..], &profile.age[..]),
        ("sexo", &SEX_LABELS[..], &profile.sex[..]),
        ("fuente", &SOURCE_LABELS[..], &profile.source[..]),
    ] {
        for (group, count) in labels.iter().zip(counts) {
            groups.push(ProfileGroupView {
                dimension,
                group,
                cases: hide(*count),
            });
        }
    }
    Ok(ProfileView {
        schema: PROFILE_SCHEMA,
        area: code,
        name,
        groups,
    })
}

/// An area's confirmed cases by age group, sex and source of infection. Below the province,
/// counts from 1 to 4 are `null`.
#[utoipa::path(get, path = "/api/salud/open/profile", tag = "salud",
    params(SeriesQuery),
    responses(
        (status = 200, description = "Casos por edad, sexo y fuente", body = ProfileView),
        (status = 404, description = "Código DPA desconocido", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn area_profile(
    State(state): State<AppState>,
    query: Result<axum::extract::Query<SeriesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ProfileView>, ApiError> {
    let axum::extract::Query(query) = query.map_err(|rejection| {
        ApiError::with_detail(crate::problem::ErrorCode::BadRequest, rejection.body_text())
    })?;
    Ok(Json(profile_of(&state, query.area.as_deref()).await?))
}

/// The same as CSV: `dimension,grupo,casos` (empty where suppressed).
#[utoipa::path(get, path = "/api/salud/open/profile.csv", tag = "salud",
    params(SeriesQuery),
    responses(
        (status = 200, description = "Casos por edad, sexo y fuente, en CSV", content_type = "text/csv"),
        (status = 404, description = "Código DPA desconocido", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn area_profile_csv(
    State(state): State<AppState>,
    query: Result<axum::extract::Query<SeriesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let axum::extract::Query(query) = query.map_err(|rejection| {
        ApiError::with_detail(crate::problem::ErrorCode::BadRequest, rejection.body_text())
    })?;
    let view = profile_of(&state, query.area.as_deref()).await?;
    let mut text = String::from("dimension,grupo,casos\n");
    for group in &view.groups {
        text.push_str(&format!(
            "{},{},{}\n",
            group.dimension,
            group.group,
            group.cases.map(|n| n.to_string()).unwrap_or_default()
        ));
    }
    Ok(csv_document(
        &format!("perfil-{}.csv", view.area),
        text,
        PROFILE_SCHEMA,
    ))
}

// ---------------------------------------------------------------------------------------------
// The download page
// ---------------------------------------------------------------------------------------------

pub const DOWNLOADS_PATH: &str = "/salud/datos";

struct DownloadArea {
    name: String,
    code: String,
}

#[derive(askama::Template)]
#[template(path = "salud_datos.html")]
struct DownloadsPage {
    frame: crate::pages::Frame,
    provinces: Vec<DownloadArea>,
}

/// Every open data set, in JSON and CSV, for the country and each province (a municipality's
/// by its code in the same addresses).
pub async fn downloads(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use askama::Template;
    let lang = crate::pages::page_lang(None, &headers);
    let data = state.salud.current(&state.db).await?;
    let provinces = data
        .provinces
        .iter()
        .filter(|province| province.code != ceiba_surveillance::UNKNOWN_PROVINCE)
        .map(|province| DownloadArea {
            name: province.name.clone(),
            code: province.code.clone(),
        })
        .collect();
    let body = DownloadsPage {
        frame: crate::pages::Frame::for_request(lang, &headers),
        provinces,
    }
    .render();
    Ok(crate::account_pages::page(lang, body, None, None))
}

/// A CSV download that names its schema in the `Ceiba-Schema` header.
fn csv_document(file_name: &str, text: String, schema: &'static str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = crate::bills::csv_file(file_name, text.into_bytes());
    response.headers_mut().insert(
        axum::http::HeaderName::from_static("ceiba-schema"),
        axum::http::HeaderValue::from_static(schema),
    );
    response.into_response()
}
