//! Salud's open data: aggregates anybody may read, without an account (`/api/salud/open/…`).
//! Each document names its schema and version, so a reader can tell a change of shape.
//!
//! - `GET /api/salud/open/geography`: the provinces and municipalities by DPA code, with the
//!   population every rate is computed over (loaded by `ceiba salud geography`);
//! - `GET /api/salud/open/profile[.csv]?area=`: the cases by age group, sex and source, and the
//!   page `/salud/datos` linking every open data set;
//! - `GET /api/salud/open/national[.csv]`: the nation's published series day by day
//!   (confirmed, recovered, deaths, active, tests, positivity, serious, critical);
//! - `GET /api/salud/open/groups[.csv]?area=&dimension=edad|sexo|fuente`: an area's confirmed
//!   cases each day and to date by age group, sex or source (read from the records once per
//!   revision);
//! - `GET /api/salud/open/series[.csv]?area=`: an area's daily series (new and cumulative
//!   confirmed cases, 7- and 14-day incidence per 100,000, doubling time). Below the province,
//!   by complete weeks, with what `ceiba_surveillance::disclosure` withholds published empty:
//!   a week of 1 to 4 cases, a week withheld beside one so it cannot be worked out from the
//!   province's total or the municipality's, and every sum over weeks holding one of them.
//!   The profile and the daily cases by group are published for the nation and provinces
//!   only.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::problem::{ApiError, Problem};
use crate::salud_dashboard::SaludData;

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
pub const SERIES_SCHEMA: &str = "ceiba-salud-serie/2";

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// A province (`23`) or a municipality (`23.04`) by DPA code; the whole country without.
    pub area: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesDayView {
    /// The last day of the entry's period.
    pub date: String,
    /// Cases in the period (the day, or the week below the province); `null` where withheld.
    pub new_cases: Option<u64>,
    pub cumulative: Option<u64>,
    /// Per 100,000 people, over the last 7 and 14 days (the last one and two weeks below the
    /// province).
    pub incidence_7d: Option<f64>,
    pub incidence_14d: Option<f64>,
    pub doubling_days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesView {
    /// `ceiba-salud-serie/2` (version 2: a municipality's series is by weeks).
    pub schema: &'static str,
    /// Days each entry covers: 1 for the nation and provinces; 7 for a municipality, whose
    /// entries are its complete weeks, dated on their last day.
    pub period_days: u64,
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

/// The area an open data request names.
pub(crate) struct OpenArea {
    /// `cu`, a province's code or a municipality's.
    pub(crate) code: String,
    pub(crate) name: String,
    /// `nation`, `province` or `municipality`.
    pub(crate) level: &'static str,
    pub(crate) population: u64,
}

impl OpenArea {
    /// The area of `?area=` (the nation without), or 404 for a code no area has.
    pub(crate) fn of(data: &SaludData, area: Option<&str>) -> Result<OpenArea, ApiError> {
        match area.map(str::trim) {
            None | Some("" | "cu") => Ok(OpenArea {
                code: ceiba_surveillance::dashboard::NATION.to_owned(),
                name: "Cuba".to_owned(),
                level: "nation",
                population: data.population(),
            }),
            Some(code) => {
                let (area, province) = data.area(code).ok_or_else(|| {
                    ApiError::with_detail(
                        crate::problem::ErrorCode::NotFound,
                        "no hay ninguna provincia ni municipio con ese código DPA",
                    )
                })?;
                Ok(OpenArea {
                    code: area.code.clone(),
                    name: area.name.clone(),
                    level: if province { "province" } else { "municipality" },
                    population: area.population,
                })
            }
        }
    }

    /// Small counts are withheld below the province.
    pub(crate) fn suppresses(&self) -> bool {
        self.level == "municipality"
    }
}

async fn series_of(state: &AppState, area: Option<&str>) -> Result<SeriesView, ApiError> {
    use ceiba_surveillance::analytics::{SMALL_COUNT, series};
    use ceiba_surveillance::disclosure::WEEK_DAYS;

    // From the figures held in memory (see `salud_dashboard.rs`), not from the case rows.
    let data = state.salud.current(&state.db).await?;
    let open = OpenArea::of(&data, area)?;
    let population = open.population;
    let rate = |cases: u64| {
        ceiba_surveillance::dashboard::per_100k(cases, population)
            .map(|rate| (rate * 100.0).round() / 100.0)
    };
    let days = if open.suppresses() {
        // Below the province, by complete weeks as the dashboards show them (see
        // `ceiba_surveillance::disclosure`): a week withheld, or withheld with a small one
        // beside it, is null, and so is every sum over weeks that holds one.
        let (Some(first), Some(last)) = (data.overview.first_day, data.overview.last_index())
        else {
            return Ok(SeriesView::empty(open, SMALL_COUNT));
        };
        let weekly = data.weekly(&open.code, last, false);
        (0..weekly.weeks())
            .map(|week| {
                let upto = data.weekly(&open.code, week * WEEK_DAYS + WEEK_DAYS - 1, false);
                SeriesDayView {
                    date: first
                        .plus_days(i64::try_from(week * WEEK_DAYS + WEEK_DAYS - 1).unwrap_or(0))
                        .to_string(),
                    new_cases: weekly.week(week),
                    cumulative: upto.total(),
                    incidence_7d: upto.last(1).and_then(rate),
                    incidence_14d: upto.last(2).and_then(rate),
                    doubling_days: None,
                }
            })
            .collect()
    } else {
        let mut by_day = std::collections::BTreeMap::new();
        if let (Some(first), Some(figures)) =
            (data.overview.first_day, data.overview.area(&open.code))
        {
            for (index, count) in figures.new_cases.iter().enumerate() {
                if *count > 0 {
                    by_day.insert(first.plus_days(i64::try_from(index).unwrap_or(0)), *count);
                }
            }
        }
        series(&by_day, population)
            .into_iter()
            .map(|day| SeriesDayView {
                date: day.date,
                new_cases: Some(day.new_cases),
                cumulative: Some(day.cumulative),
                incidence_7d: day.incidence_7d,
                incidence_14d: day.incidence_14d,
                doubling_days: day.doubling_days,
            })
            .collect()
    };
    let suppress = open.suppresses();
    Ok(SeriesView {
        schema: SERIES_SCHEMA,
        period_days: if suppress { WEEK_DAYS as u64 } else { 1 },
        area: open.code,
        name: open.name,
        level: open.level,
        population,
        suppressed_below: suppress.then_some(SMALL_COUNT),
        days,
    })
}

impl SeriesView {
    fn empty(open: OpenArea, small: u64) -> SeriesView {
        SeriesView {
            schema: SERIES_SCHEMA,
            period_days: ceiba_surveillance::disclosure::WEEK_DAYS as u64,
            area: open.code,
            name: open.name,
            level: open.level,
            population: open.population,
            suppressed_below: Some(small),
            days: Vec::new(),
        }
    }
}

/// An area's daily series: new and cumulative confirmed cases, 7- and 14-day incidence per
/// 100,000 and doubling time. A municipality's is by complete weeks, `null` where a count
/// could reveal 1 to 4 cases.
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
    let query = open_query(query)?;
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
    let query = open_query(query)?;
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
    /// Never `null` now: the profile is published for the nation and provinces only.
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
    use ceiba_surveillance::dashboard::{AGE_BAND_LABELS, SEX_LABELS, SOURCE_LABELS};

    let data = state.salud.current(&state.db).await?;
    let open = OpenArea::of(&data, area)?;
    if open.suppresses() {
        // Its total is public (by weeks) and its groups are small: they could be worked out.
        return Err(ApiError::with_detail(
            crate::problem::ErrorCode::NotFound,
            "el perfil de los casos se publica solo para el país y las provincias",
        ));
    }
    let profile = data
        .overview
        .area(&open.code)
        .map(|figures| figures.profile.clone())
        .unwrap_or_default();
    let mut groups = Vec::new();
    for (dimension, labels, counts) in [
        ("edad", &AGE_BAND_LABELS[..], &profile.age[..]),
        ("sexo", &SEX_LABELS[..], &profile.sex[..]),
        ("fuente", &SOURCE_LABELS[..], &profile.source[..]),
    ] {
        for (group, cases) in labels.iter().zip(counts) {
            groups.push(ProfileGroupView {
                dimension,
                group,
                cases: Some(*cases),
            });
        }
    }
    Ok(ProfileView {
        schema: PROFILE_SCHEMA,
        area: open.code,
        name: open.name,
        groups,
    })
}

/// The nation's or a province's confirmed cases by age group, sex and source of infection (a
/// municipality's are not published).
#[utoipa::path(get, path = "/api/salud/open/profile", tag = "salud",
    params(SeriesQuery),
    responses(
        (status = 200, description = "Casos por edad, sexo y fuente", body = ProfileView),
        (status = 404, description = "Código DPA desconocido, o un municipio", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn area_profile(
    State(state): State<AppState>,
    query: Result<axum::extract::Query<SeriesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ProfileView>, ApiError> {
    let query = open_query(query)?;
    Ok(Json(profile_of(&state, query.area.as_deref()).await?))
}

/// The same as CSV: `dimension,grupo,casos`.
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
    let query = open_query(query)?;
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

/// The schema of [`NationalView`] and of its CSV.
pub const NATIONAL_SCHEMA: &str = "ceiba-salud-nacional/1";

#[derive(Debug, Serialize, ToSchema)]
pub struct NationalDayView {
    pub date: String,
    /// That day's confirmed cases, recoveries and deaths.
    pub confirmed: u64,
    pub recovered: u64,
    pub deaths: u64,
    /// To date.
    pub confirmed_total: u64,
    pub recovered_total: u64,
    pub deaths_total: u64,
    pub evacuated_total: u64,
    /// Confirmed − recovered − deaths − evacuated, to date.
    pub active: u64,
    /// Tests since the last day with a count (`null` where the day has none), and to date.
    pub tests: Option<u64>,
    pub tests_total: Option<u64>,
    /// Confirmed per 100 tests over the 7 days to this one (days with a test count only).
    pub positivity_7d: Option<f64>,
    /// Patients in serious and critical condition that day.
    pub serious: Option<u64>,
    pub critical: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NationalView {
    /// `ceiba-salud-nacional/1`.
    pub schema: &'static str,
    pub days: Vec<NationalDayView>,
}

async fn national_of(state: &AppState) -> Result<NationalView, ApiError> {
    let data = state.salud.current(&state.db).await?;
    let days = ceiba_surveillance::dashboard::national_days(&data.national)
        .into_iter()
        .filter_map(|day| {
            Some(NationalDayView {
                date: day.date?.to_string(),
                confirmed: day.confirmed_today,
                recovered: day.recovered_today,
                deaths: day.deaths_today,
                confirmed_total: day.confirmed_total,
                recovered_total: day.recovered_total,
                deaths_total: day.deaths_total,
                evacuated_total: day.evacuated_total,
                active: day.active,
                tests: day.tests_today,
                tests_total: day.tests_total,
                positivity_7d: day.positivity_7d.map(|rate| (rate * 100.0).round() / 100.0),
                serious: day.serious,
                critical: day.critical,
            })
        })
        .collect();
    Ok(NationalView {
        schema: NATIONAL_SCHEMA,
        days,
    })
}

/// The nation's series as the health authority published it, day by day: confirmed cases,
/// recoveries, deaths (each day and to date), active cases, tests and 7-day positivity,
/// patients serious and critical. Nothing is withheld: these are national totals.
#[utoipa::path(get, path = "/api/salud/open/national", tag = "salud",
    responses(
        (status = 200, description = "La serie nacional publicada", body = NationalView),
    ))]
pub async fn national_series(
    State(state): State<AppState>,
) -> Result<Json<NationalView>, ApiError> {
    Ok(Json(national_of(&state).await?))
}

/// The same as CSV: `fecha,confirmados,altas,fallecidos,confirmados_acumulados,
/// altas_acumuladas,fallecidos_acumulados,evacuados_acumulados,activos,pruebas,
/// pruebas_acumuladas,positividad_7d,graves,criticos`.
#[utoipa::path(get, path = "/api/salud/open/national.csv", tag = "salud",
    responses(
        (status = 200, description = "La serie nacional en CSV", content_type = "text/csv"),
    ))]
pub async fn national_series_csv(
    State(state): State<AppState>,
) -> Result<axum::response::Response, ApiError> {
    let view = national_of(&state).await?;
    let cell = |value: Option<u64>| value.map(|n| n.to_string()).unwrap_or_default();
    let mut text = String::from(
        "fecha,confirmados,altas,fallecidos,confirmados_acumulados,altas_acumuladas,\
         fallecidos_acumulados,evacuados_acumulados,activos,pruebas,pruebas_acumuladas,\
         positividad_7d,graves,criticos\n",
    );
    for day in &view.days {
        text.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            day.date,
            day.confirmed,
            day.recovered,
            day.deaths,
            day.confirmed_total,
            day.recovered_total,
            day.deaths_total,
            day.evacuated_total,
            day.active,
            cell(day.tests),
            cell(day.tests_total),
            day.positivity_7d
                .map(|rate| format!("{rate:.2}"))
                .unwrap_or_default(),
            cell(day.serious),
            cell(day.critical),
        ));
    }
    Ok(csv_document("serie-nacional.csv", text, NATIONAL_SCHEMA))
}

/// The schema of [`GroupSeriesView`] and of its CSV.
pub const GROUPS_SCHEMA: &str = "ceiba-salud-grupos/1";

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GroupsQuery {
    /// A province (`23`) by DPA code; the whole country without.
    pub area: Option<String>,
    /// `edad` (age group), `sexo` or `fuente` (source of infection). Required: without it the
    /// answer is 400.
    #[param(required = true, value_type = GroupDimension, inline)]
    pub dimension: Option<String>,
}

/// The values `dimension` takes, for the OpenAPI document only: the handler reads the text and
/// answers 400 with the list when it is none of them.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
enum GroupDimension {
    #[schema(rename = "edad")]
    Edad,
    #[schema(rename = "sexo")]
    Sexo,
    #[schema(rename = "fuente")]
    Fuente,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupDayView {
    pub date: String,
    /// Confirmed that day in each group, in the order of `groups`.
    pub new_cases: Vec<u64>,
    /// Confirmed to date in each group.
    pub cumulative: Vec<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupSeriesView {
    /// `ceiba-salud-grupos/1`.
    pub schema: &'static str,
    pub area: String,
    pub name: String,
    pub level: &'static str,
    /// `edad`, `sexo` or `fuente`.
    pub dimension: &'static str,
    /// The groups' labels: `0–9` … `80 y más`, `sin edad`; `Femenino`…; `Importado`….
    pub groups: Vec<&'static str>,
    /// Every day from the area's first confirmed case to its last.
    pub days: Vec<GroupDayView>,
}

async fn groups_of(state: &AppState, query: &GroupsQuery) -> Result<GroupSeriesView, ApiError> {
    use ceiba_store::CaseDimension;
    use ceiba_surveillance::covid19cubadata::Date;
    use ceiba_surveillance::dashboard::{AGE_BAND_LABELS, SEX_LABELS, SOURCE_LABELS};

    let (dimension, name, labels, keys): (_, _, &[&'static str], &[&str]) =
        match query.dimension.as_deref().map(str::trim) {
            Some("edad") => (
                CaseDimension::AgeBand,
                "edad",
                &AGE_BAND_LABELS,
                &["0", "1", "2", "3", "4", "5", "6", "7", "8", "-1"],
            ),
            Some("sexo") => (
                CaseDimension::Sex,
                "sexo",
                &SEX_LABELS,
                &["female", "male", "unknown"],
            ),
            Some("fuente") => (
                CaseDimension::Source,
                "fuente",
                &SOURCE_LABELS,
                &["imported", "introduced", "autochthonous", "unknown"],
            ),
            other => {
                return Err(ApiError::with_detail(
                    crate::problem::ErrorCode::BadRequest,
                    format!(
                        "dimension debe ser «edad», «sexo» o «fuente», no «{}»",
                        other.unwrap_or("")
                    ),
                ));
            }
        };
    let data = state.salud.current(&state.db).await?;
    let open = OpenArea::of(&data, query.area.as_deref())?;
    if open.suppresses() {
        // A municipality's groups each day are mostly 1 to 4 cases, and the ones published
        // would give the rest away against the day's total: only the nation and provinces.
        return Err(ApiError::with_detail(
            crate::problem::ErrorCode::NotFound,
            "los casos de cada día por grupos se publican solo para el país y las provincias; \
             para un municipio, vea su perfil (/api/salud/open/profile)",
        ));
    }
    let counts = data.group_counts(&state.db, &open.code, dimension).await?;
    let parsed: Vec<(Date, usize, u64)> = counts
        .iter()
        .filter_map(|row| {
            let group = keys.iter().position(|key| *key == row.group)?;
            Some((Date::parse(&row.day)?, group, row.count))
        })
        .collect();
    let mut days = Vec::new();
    let first = parsed.iter().map(|(day, _, _)| *day).min();
    let last = parsed.iter().map(|(day, _, _)| *day).max();
    if let (Some(first), Some(last)) = (first, last) {
        let span = usize::try_from(last.days_since_epoch() - first.days_since_epoch() + 1)
            .unwrap_or(0)
            .min(ceiba_surveillance::dashboard::DAYS_MAX);
        let mut daily = vec![vec![0_u64; labels.len()]; span];
        for (day, group, count) in &parsed {
            if let Some(slot) = usize::try_from(day.days_since_epoch() - first.days_since_epoch())
                .ok()
                .and_then(|index| daily.get_mut(index))
            {
                slot[*group] += count;
            }
        }
        let mut totals = vec![0_u64; labels.len()];
        for (index, counts) in daily.iter().enumerate() {
            for (total, count) in totals.iter_mut().zip(counts) {
                *total += count;
            }
            days.push(GroupDayView {
                date: first
                    .plus_days(i64::try_from(index).unwrap_or(0))
                    .to_string(),
                new_cases: counts.clone(),
                cumulative: totals.clone(),
            });
        }
    }
    Ok(GroupSeriesView {
        schema: GROUPS_SCHEMA,
        area: open.code,
        name: open.name,
        level: open.level,
        dimension: name,
        groups: labels.to_vec(),
        days,
    })
}

/// The query of an open data request, or 400 saying what is wrong with it.
pub(crate) fn open_query<T>(
    query: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    query
        .map(|axum::extract::Query(query)| query)
        .map_err(|rejection| {
            ApiError::with_detail(crate::problem::ErrorCode::BadRequest, rejection.body_text())
        })
}

/// An area's confirmed cases each day and to date, by age group, sex or source of infection
/// (`dimension`): the nation's or a province's only.
#[utoipa::path(get, path = "/api/salud/open/groups", tag = "salud",
    params(GroupsQuery),
    responses(
        (status = 200, description = "La serie diaria por grupos", body = GroupSeriesView),
        (status = 400, description = "Dimensión desconocida", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Código DPA desconocido, o un municipio", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn group_series(
    State(state): State<AppState>,
    query: Result<axum::extract::Query<GroupsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<GroupSeriesView>, ApiError> {
    Ok(Json(groups_of(&state, &open_query(query)?).await?))
}

/// The same as CSV, one line per day and group: `fecha,grupo,casos_nuevos,acumulados`.
#[utoipa::path(get, path = "/api/salud/open/groups.csv", tag = "salud",
    params(GroupsQuery),
    responses(
        (status = 200, description = "La serie diaria por grupos en CSV", content_type = "text/csv"),
        (status = 400, description = "Dimensión desconocida", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Código DPA desconocido", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn group_series_csv(
    State(state): State<AppState>,
    query: Result<axum::extract::Query<GroupsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let view = groups_of(&state, &open_query(query)?).await?;
    let mut text = String::from("fecha,grupo,casos_nuevos,acumulados\n");
    for day in &view.days {
        for ((group, new), total) in view.groups.iter().zip(&day.new_cases).zip(&day.cumulative) {
            text.push_str(&format!("{},{},{},{}\n", day.date, group, new, total));
        }
    }
    Ok(csv_document(
        &format!("grupos-{}-{}.csv", view.dimension, view.area),
        text,
        GROUPS_SCHEMA,
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
pub(crate) fn csv_document(
    file_name: &str,
    text: String,
    schema: &'static str,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = crate::bills::csv_file(file_name, text.into_bytes());
    response.headers_mut().insert(
        axum::http::HeaderName::from_static("ceiba-schema"),
        axum::http::HeaderValue::from_static(schema),
    );
    response.into_response()
}
