//! Salud's dashboards: the nation (`/salud`), a province (`/salud/provincia/{code}`) and a
//! municipality (`/salud/municipio/{code}`), each on any day (`?fecha=YYYY-MM-DD`, the last day
//! with data by default). Headline figures, the epidemic curve, cumulative and active curves,
//! a choropleth map of 14-day incidence, tables by area, age band, sex and source, and the
//! area's latest outbreak alerts.
//!
//! Everything on them is an aggregate, so they are open to all; below the province a count
//! from 1 to 4 is withheld (shown `<5`, greyed on the map), the curve is weekly, and there is
//! no cumulative curve (whose steps would give the counts away). An alert's numbers are shown
//! to health roles only.
//!
//! The figures come from [`SaludCache`]: every area's daily counts held in memory and built
//! again only when the records' revision moves, so a page costs one small query and the
//! drawing.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use ceiba_identity::Role;
use ceiba_store::{Area, CaseArea, CaseDimension, Db, GroupDayCount, StoreError};
use ceiba_surveillance::covid19cubadata::{Date, DayFigures};
use ceiba_surveillance::dashboard::{
    AGE_BAND_LABELS, AreaFigures, NATION, NationalDay, Overview, ProfileGroup, SEX_LABELS,
    SOURCE_LABELS, national_days, national_headline, per_100k,
};
use ceiba_surveillance::disclosure::{Weekly, table_publishable, week_end, weekly_sums};
use ceiba_surveillance::map::{Frame as MapFrame, outline_path};
use ceiba_surveillance::{MultiPolygon, UNKNOWN_MUNICIPALITY, UNKNOWN_PROVINCE};
use serde::Deserialize;

use crate::AppState;
use crate::account_pages::page;
use crate::auth::Authenticated;
use crate::i18n::Lang;
use crate::pages::{Frame, page_lang};
use crate::problem::{ApiError, ErrorCode};
use crate::salud_charts::{
    self, AVERAGE_COLOUR, CASES_COLOUR, Curve, INCIDENCE_CLASSES, MapArea, WITHHELD_FILL,
};

pub const NATION_PATH: &str = "/salud";
pub const PROVINCE_PATH: &str = "/salud/provincia/{code}";
pub const MUNICIPALITY_PATH: &str = "/salud/municipio/{code}";

/// The map's size, in pixels.
const MAP_WIDTH_PX: u32 = 720;
const MAP_HEIGHT_PX_MAX: u32 = 360;
/// How far the outlines may stray from the boundaries, in pixels.
const MAP_TOLERANCE_PX: f64 = 1.0;
/// Alerts shown on a dashboard, and how far back they are looked for.
const ALERTS_SHOWN: u64 = 20;
const ALERTS_DAYS_BACK: i64 = 28;
/// The days of a municipality's curve's bars.
const WEEK_DAYS: usize = 7;

/// Every area's figures, as of one revision of the records.
#[derive(Debug)]
pub struct SaludData {
    pub revision: u64,
    pub overview: Overview,
    pub provinces: Vec<Area>,
    pub municipalities: Vec<Area>,
    pub national: Vec<DayFigures>,
    boundaries: HashMap<String, MultiPolygon>,
    /// The outlines of each map drawn so far, by the code of the area it shows.
    maps: std::sync::Mutex<HashMap<String, Arc<MapOutlines>>>,
    /// Daily confirmed cases by group read so far, by area code and dimension (at most one
    /// entry per area and dimension: a few hundred).
    groups: std::sync::Mutex<GroupCounts>,
    /// The models computed so far, by area code.
    models: crate::salud_models::ModelsCache,
    /// Each municipality's cases and deaths by week, and which weeks may be published.
    weekly: HashMap<String, WeeklyCounts>,
}

/// A municipality's weekly counts and the weeks that may be published (see
/// `ceiba_surveillance::disclosure::table_publishable`).
#[derive(Debug, Default)]
struct WeeklyCounts {
    cases: (Vec<u64>, Vec<bool>),
    deaths: (Vec<u64>, Vec<bool>),
}

/// The weekly counts of every municipality, each province's table protected as a whole.
fn weekly_counts(overview: &Overview, municipalities: &[Area]) -> HashMap<String, WeeklyCounts> {
    let mut by_province: HashMap<&str, Vec<&Area>> = HashMap::new();
    for municipality in municipalities {
        by_province
            .entry(municipality.province_code.as_str())
            .or_default()
            .push(municipality);
    }
    let mut weekly = HashMap::new();
    for members in by_province.values() {
        let pick = |deaths: bool| -> Vec<Vec<u64>> {
            members
                .iter()
                .map(|area| {
                    overview.area(&area.code).map_or_else(Vec::new, |figures| {
                        weekly_sums(if deaths {
                            &figures.deaths
                        } else {
                            &figures.new_cases
                        })
                    })
                })
                .collect()
        };
        let (cases, deaths) = (pick(false), pick(true));
        let (cases_shown, deaths_shown) = (table_publishable(&cases), table_publishable(&deaths));
        for (index, area) in members.iter().enumerate() {
            weekly.insert(
                area.code.clone(),
                WeeklyCounts {
                    cases: (cases[index].clone(), cases_shown[index].clone()),
                    deaths: (deaths[index].clone(), deaths_shown[index].clone()),
                },
            );
        }
    }
    weekly
}

type GroupCounts = HashMap<(String, CaseDimension), Arc<Vec<GroupDayCount>>>;

/// A map's frame size and the outline of each of its areas.
#[derive(Debug)]
struct MapOutlines {
    width_px: u32,
    height_px: u32,
    paths: Vec<(String, String)>,
}

impl SaludData {
    pub fn area(&self, code: &str) -> Option<(&Area, bool)> {
        if let Some(province) = self.provinces.iter().find(|area| area.code == code) {
            return Some((province, true));
        }
        self.municipalities
            .iter()
            .find(|area| area.code == code)
            .map(|area| (area, false))
    }

    /// An area's confirmed cases by day and group of `dimension` (`code`: [`NATION`], or one
    /// that [`SaludData::area`] knows), read from the records once per revision.
    pub async fn group_counts(
        &self,
        db: &Db,
        code: &str,
        dimension: CaseDimension,
    ) -> Result<Arc<Vec<GroupDayCount>>, StoreError> {
        let key = (code.to_owned(), dimension);
        if let Ok(groups) = self.groups.lock()
            && let Some(counts) = groups.get(&key)
        {
            return Ok(Arc::clone(counts));
        }
        let area = match self.area(code) {
            None => CaseArea::Nation,
            Some((area, true)) => CaseArea::Province(&area.code),
            Some((area, false)) => CaseArea::Municipality(&area.code),
        };
        let counts = Arc::new(db.salud_confirmed_by_day_and_group(dimension, area).await?);
        if let Ok(mut groups) = self.groups.lock() {
            groups.insert(key, Arc::clone(&counts));
        }
        Ok(counts)
    }

    /// A municipality's cases (or deaths) by complete week to day `at`, as they may be
    /// published; an unknown one has none.
    pub fn weekly(&self, code: &str, at: usize, deaths: bool) -> Weekly {
        let empty = (Vec::new(), Vec::new());
        let (weeks, shown) = match self.weekly.get(code) {
            Some(counts) if deaths => &counts.deaths,
            Some(counts) => &counts.cases,
            None => &empty,
        };
        Weekly::to_day(weeks, shown, at)
    }

    /// The centre of an area's boundary, as longitude and latitude, when it has one.
    pub fn centroid(&self, code: &str) -> Option<[f64; 2]> {
        ceiba_surveillance::geography::centroid(self.boundaries.get(code)?)
    }

    /// The models of an area computed for this revision, if they were.
    pub fn models(&self, code: &str) -> Option<Arc<crate::salud_models::ModelsView>> {
        self.models.lock().ok()?.get(code).cloned()
    }

    /// Keeps the models of an area for this revision (the first computed, if two raced).
    pub fn keep_models(
        &self,
        code: &str,
        view: crate::salud_models::ModelsView,
    ) -> Arc<crate::salud_models::ModelsView> {
        let view = Arc::new(view);
        match self.models.lock() {
            Ok(mut models) => Arc::clone(models.entry(code.to_owned()).or_insert(view)),
            Err(_) => view,
        }
    }

    pub fn population(&self) -> u64 {
        self.provinces
            .iter()
            .map(|province| province.population)
            .sum()
    }

    /// The outlines of the provinces (`None`: the nation's map) or of one province's
    /// municipalities, made once per revision.
    fn outlines(&self, province: Option<&str>) -> Arc<MapOutlines> {
        let key = province.unwrap_or(NATION).to_owned();
        if let Ok(maps) = self.maps.lock()
            && let Some(outlines) = maps.get(&key)
        {
            return Arc::clone(outlines);
        }
        let codes: Vec<&str> = match province {
            None => self
                .provinces
                .iter()
                .map(|area| area.code.as_str())
                .collect(),
            Some(province) => self
                .municipalities
                .iter()
                .filter(|area| area.province_code == province)
                .map(|area| area.code.as_str())
                .collect(),
        };
        // The source's map draws a shape for cases without a place; it is no place to map.
        let shapes: Vec<(&str, &MultiPolygon)> = codes
            .iter()
            .filter(|code| ![UNKNOWN_PROVINCE, UNKNOWN_MUNICIPALITY].contains(*code))
            .filter_map(|code| Some((*code, self.boundaries.get(*code)?)))
            .filter(|(_, boundary)| !boundary.is_empty())
            .collect();
        let frame = MapFrame::fit(
            shapes.iter().map(|(_, boundary)| *boundary),
            MAP_WIDTH_PX,
            MAP_HEIGHT_PX_MAX,
            4,
        );
        let outlines = Arc::new(MapOutlines {
            width_px: frame.width_px(),
            height_px: frame.height_px(),
            paths: shapes
                .iter()
                .map(|(code, boundary)| {
                    (
                        (*code).to_owned(),
                        outline_path(boundary, &frame, MAP_TOLERANCE_PX),
                    )
                })
                .filter(|(_, path)| !path.is_empty())
                .collect(),
        });
        if let Ok(mut maps) = self.maps.lock() {
            maps.insert(key, Arc::clone(&outlines));
        }
        outlines
    }
}

/// The dashboards' figures held in memory (see the module's note).
#[derive(Default)]
pub struct SaludCache {
    built: tokio::sync::Mutex<Option<Arc<SaludData>>>,
}

impl std::fmt::Debug for SaludCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaludCache").finish_non_exhaustive()
    }
}

impl SaludCache {
    /// The figures of the records' current revision: those held, or built now (one request
    /// builds them; others wait for it).
    pub async fn current(&self, db: &Db) -> Result<Arc<SaludData>, StoreError> {
        let revision = db.salud_revision().await?;
        let mut built = self.built.lock().await;
        if let Some(data) = built.as_ref()
            && data.revision == revision
        {
            return Ok(Arc::clone(data));
        }
        let data = Arc::new(build(db, revision).await?);
        *built = Some(Arc::clone(&data));
        Ok(data)
    }
}

fn as_refs(rows: &[(Date, String, u64)]) -> Vec<(Date, &str, u64)> {
    rows.iter()
        .map(|(day, code, count)| (*day, code.as_str(), *count))
        .collect()
}

async fn build(db: &Db, revision: u64) -> Result<SaludData, StoreError> {
    let provinces = db.salud_provinces().await?;
    let municipalities = db.salud_municipalities().await?;
    let province_of: HashMap<&str, &str> = municipalities
        .iter()
        .map(|area| (area.code.as_str(), area.province_code.as_str()))
        .collect();
    let day_counts = |rows: &[ceiba_store::DayCount]| -> Vec<(Date, String, u64)> {
        rows.iter()
            .filter_map(|row| {
                Some((
                    Date::parse(&row.day)?,
                    row.municipality_code.clone(),
                    row.count,
                ))
            })
            .collect()
    };
    let confirmed = day_counts(&db.salud_confirmed_by_day().await?);
    let deaths = day_counts(&db.salud_deaths_by_day().await?);
    let profiles = db.salud_case_profiles().await?;
    let groups: Vec<ProfileGroup<'_>> = profiles
        .iter()
        .map(|row| ProfileGroup {
            municipality_code: &row.municipality_code,
            age_band: row.age_band,
            sex: row.sex.as_deref(),
            source: &row.source,
            count: row.count,
        })
        .collect();
    let overview = Overview::build(&as_refs(&confirmed), &as_refs(&deaths), &groups, &|code| {
        province_of.get(code).copied()
    });
    let national = db
        .salud_national_days()
        .await?
        .into_iter()
        .map(|day| DayFigures {
            date: Date::parse(&day.day),
            confirmed: day.confirmed,
            tests_total: day.tests_total,
            recovered: day.recovered,
            deaths: day.deaths,
            serious: day.serious,
            critical: day.critical,
            evacuated: day.evacuated,
            ..DayFigures::default()
        })
        .collect();
    let mut boundaries = HashMap::new();
    for provinces in [true, false] {
        for (code, text) in db.salud_boundaries(provinces).await? {
            let boundary: MultiPolygon = serde_json::from_str(&text).map_err(|error| {
                StoreError::Corrupt(format!("la frontera de {code} no es válida: {error}"))
            })?;
            boundaries.insert(code, boundary);
        }
    }
    let weekly = weekly_counts(&overview, &municipalities);
    Ok(SaludData {
        revision,
        overview,
        provinces,
        municipalities,
        national,
        boundaries,
        maps: std::sync::Mutex::new(HashMap::new()),
        groups: std::sync::Mutex::new(HashMap::new()),
        models: std::sync::Mutex::new(HashMap::new()),
        weekly,
    })
}

// ---------------------------------------------------------------------------------------------
// The pages
// ---------------------------------------------------------------------------------------------

/// The words of the dashboards in one language.
pub(crate) struct Words {
    nation_title: &'static str,
    province_word: &'static str,
    municipality_word: &'static str,
    as_of: &'static str,
    no_data: &'static str,
    confirmed: &'static str,
    new_today: &'static str,
    new_last_week: &'static str,
    complete_weeks: &'static str,
    profile_withheld: &'static str,
    incidence_14d: &'static str,
    deaths: &'static str,
    deaths_linked: &'static str,
    deaths_note: &'static str,
    active: &'static str,
    active_estimated: &'static str,
    tests: &'static str,
    positivity: &'static str,
    recovered: &'static str,
    serious: &'static str,
    critical: &'static str,
    curve_heading: &'static str,
    curve_caption: &'static str,
    weekly_caption: &'static str,
    cumulative_heading: &'static str,
    cumulative_caption: &'static str,
    cumulative_caption_nation: &'static str,
    tests_heading: &'static str,
    tests_caption: &'static str,
    positivity_heading: &'static str,
    positivity_caption: &'static str,
    deaths_heading: &'static str,
    deaths_caption: &'static str,
    care_heading: &'static str,
    care_caption: &'static str,
    map_heading: &'static str,
    map_caption: &'static str,
    withheld: &'static str,
    areas_heading: &'static str,
    name: &'static str,
    population: &'static str,
    cases_14d: &'static str,
    per_100k: &'static str,
    age_heading: &'static str,
    sex_heading: &'static str,
    source_heading: &'static str,
    group: &'static str,
    cases: &'static str,
    share: &'static str,
    alerts_heading: &'static str,
    no_alerts: &'static str,
    open_data: &'static str,
    geography_data: &'static str,
    day_label: &'static str,
    show: &'static str,
}

const SPANISH: Words = Words {
    nation_title: "Cuba: vigilancia de la COVID-19",
    province_word: "Provincia",
    municipality_word: "Municipio",
    as_of: "Datos hasta el",
    no_data: "Aún no hay casos cargados.",
    confirmed: "Confirmados",
    new_today: "Nuevos del día",
    new_last_week: "Nuevos en la última semana",
    complete_weeks: "(por semanas completas: por debajo de la provincia no se publican cifras \
                     diarias)",
    profile_withheld: "Por debajo de la provincia no se publica el perfil de los casos: sus \
                       grupos pequeños podrían deducirse.",
    incidence_14d: "Incidencia en 14 días por 100.000",
    deaths: "Fallecidos",
    deaths_linked: "Fallecidos vinculados a su caso",
    deaths_note: "La fuente no vincula la mayoría de los fallecidos a su caso ni a un lugar: \
                  por territorio solo cuentan los vinculados; el total nacional es el publicado.",
    active: "Activos",
    active_estimated: "Activos (estimado: confirmados de los últimos 14 días sin fallecer)",
    tests: "Pruebas realizadas",
    positivity: "Positividad en 7 días",
    recovered: "Altas",
    serious: "Graves",
    critical: "Críticos",
    curve_heading: "Curva epidémica",
    curve_caption: "Casos confirmados cada día (área) y media de 7 días (línea).",
    weekly_caption: "Casos confirmados por semana; en gris, semanas con 1 a 4 casos (no se \
                     publica la cifra).",
    cumulative_heading: "Acumulados y activos",
    cumulative_caption: "Casos acumulados (área) y activos (línea).",
    cumulative_caption_nation: "Casos acumulados (área), activos (línea naranja) y altas \
                                acumuladas (línea azul), según la serie publicada.",
    tests_heading: "Pruebas",
    tests_caption: "Pruebas realizadas cada día, según la serie publicada.",
    positivity_heading: "Positividad",
    positivity_caption: "Porcentaje de pruebas positivas en los 7 días anteriores a cada \
                         fecha (confirmados entre pruebas realizadas), según la serie publicada.",
    deaths_heading: "Fallecidos",
    deaths_caption: "Fallecidos cada día, según la serie publicada.",
    care_heading: "Graves y críticos",
    care_caption: "Pacientes graves (naranja) y críticos (azul) cada día, según la serie \
                   publicada.",
    map_heading: "Incidencia en 14 días",
    map_caption: "Casos de los últimos 14 días por 100.000 habitantes.",
    withheld: "1 a 4 casos",
    areas_heading: "Por territorio",
    name: "Nombre",
    population: "Población",
    cases_14d: "Casos en 14 días",
    per_100k: "por 100.000",
    age_heading: "Por grupo de edad",
    sex_heading: "Por sexo",
    source_heading: "Por fuente de infección",
    group: "Grupo",
    cases: "Casos",
    share: "%",
    alerts_heading: "Alertas de brote",
    no_alerts: "Sin alertas en los últimos 28 días.",
    open_data: "Datos abiertos de esta serie",
    geography_data: "Todos los datos abiertos",
    day_label: "Día",
    show: "Ver",
};

const ENGLISH: Words = Words {
    nation_title: "Cuba: COVID-19 surveillance",
    province_word: "Province",
    municipality_word: "Municipality",
    as_of: "Data up to",
    no_data: "No cases loaded yet.",
    confirmed: "Confirmed",
    new_today: "New that day",
    new_last_week: "New in the last week",
    complete_weeks: "(by complete weeks: below the province no daily figures are published)",
    profile_withheld: "Below the province the cases' profile is not published: its small \
                       groups could be worked out.",
    incidence_14d: "14-day incidence per 100,000",
    deaths: "Deaths",
    deaths_linked: "Deaths linked to their case",
    deaths_note: "The source links most deaths to neither their case nor a place: by area only \
                  linked deaths count; the national total is the published one.",
    active: "Active",
    active_estimated: "Active (estimate: confirmed in the last 14 days, not deceased)",
    tests: "Tests done",
    positivity: "7-day positivity",
    recovered: "Recovered",
    serious: "Serious",
    critical: "Critical",
    curve_heading: "Epidemic curve",
    curve_caption: "Cases confirmed each day (area) and 7-day mean (line).",
    weekly_caption: "Cases confirmed each week; in grey, weeks with 1 to 4 cases (the count \
                     is withheld).",
    cumulative_heading: "Cumulative and active",
    cumulative_caption: "Cumulative cases (area) and active cases (line).",
    cumulative_caption_nation: "Cumulative cases (area), active cases (orange line) and \
                                recoveries to date (blue line), from the published series.",
    tests_heading: "Tests",
    tests_caption: "Tests done each day, from the published series.",
    positivity_heading: "Positivity",
    positivity_caption: "Percentage of tests positive over the 7 days to each date (confirmed \
                         cases over tests done), from the published series.",
    deaths_heading: "Deaths",
    deaths_caption: "Deaths each day, from the published series.",
    care_heading: "Serious and critical",
    care_caption: "Patients in serious (orange) and critical (blue) condition each day, from \
                   the published series.",
    map_heading: "14-day incidence",
    map_caption: "Cases of the last 14 days per 100,000 people.",
    withheld: "1 to 4 cases",
    areas_heading: "By area",
    name: "Name",
    population: "Population",
    cases_14d: "Cases in 14 days",
    per_100k: "per 100,000",
    age_heading: "By age group",
    sex_heading: "By sex",
    source_heading: "By source of infection",
    group: "Group",
    cases: "Cases",
    share: "%",
    alerts_heading: "Outbreak alerts",
    no_alerts: "No alerts in the last 28 days.",
    open_data: "Open data of this series",
    geography_data: "All the open data",
    day_label: "Day",
    show: "Show",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Es => &SPANISH,
        Lang::En => &ENGLISH,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DashboardQuery {
    lang: Option<String>,
    fecha: Option<String>,
}

struct Figure {
    id: &'static str,
    label: &'static str,
    value: String,
}

struct AreaLine {
    href: String,
    name: String,
    population: String,
    cases: String,
    cases_14d: String,
    incidence: String,
    deaths: String,
}

struct GroupLine {
    label: &'static str,
    cases: String,
    share: String,
}

struct AlertLine {
    day: String,
    place: String,
    method: &'static str,
    /// The numbers, for health roles only.
    explanation: Option<String>,
}

#[derive(Template)]
#[template(path = "salud_panel.html")]
struct DashboardPage {
    frame: Frame,
    w: &'static Words,
    title: String,
    crumbs: Vec<(String, String)>,
    as_of: String,
    day_value: String,
    form_action: String,
    figures: Vec<Figure>,
    curve_svg: String,
    curve_caption: &'static str,
    cumulative_svg: String,
    cumulative_caption: &'static str,
    /// The nation's only: tests each day, the 7-day positivity, deaths each day, patients
    /// serious and critical.
    tests_svg: String,
    positivity_svg: String,
    deaths_svg: String,
    care_svg: String,
    map_svg: String,
    legend: Vec<(&'static str, String)>,
    areas: Vec<AreaLine>,
    /// By age band, sex and source: the table's id, heading and rows.
    profile: Vec<(&'static str, &'static str, Vec<GroupLine>)>,
    alerts: Vec<AlertLine>,
    data_href: String,
    /// Rt and the forecast (the nation's and provinces' only).
    models_href: Option<String>,
}

/// The nation's published series laid on the days of the case series (a day the series lacks
/// draws as 0).
struct PublishedCurves {
    tests: Vec<f64>,
    positivity: Vec<f64>,
    deaths: Vec<f64>,
    recovered_total: Vec<f64>,
    serious: Vec<f64>,
    critical: Vec<f64>,
}

impl PublishedCurves {
    fn on_days(first_day: Date, days: usize, published: &[NationalDay]) -> PublishedCurves {
        let mut curves = PublishedCurves {
            tests: vec![0.0; days],
            positivity: vec![0.0; days],
            deaths: vec![0.0; days],
            recovered_total: vec![0.0; days],
            serious: vec![0.0; days],
            critical: vec![0.0; days],
        };
        for day in published {
            let Some(date) = day.date else { continue };
            let offset = date.days_since_epoch() - first_day.days_since_epoch();
            let Some(index) = usize::try_from(offset).ok().filter(|index| *index < days) else {
                continue;
            };
            curves.tests[index] = day.tests_today.unwrap_or(0) as f64;
            curves.positivity[index] = day.positivity_7d.unwrap_or(0.0);
            curves.deaths[index] = day.deaths_today as f64;
            curves.recovered_total[index] = day.recovered_total as f64;
            curves.serious[index] = day.serious.unwrap_or(0) as f64;
            curves.critical[index] = day.critical.unwrap_or(0) as f64;
        }
        curves
    }
}

/// A group withheld although not small, so that a small one beside it cannot be found.
const WITHHELD: &str = "reservado";

/// `12,3`: one decimal, with a comma.
fn decimal_es(value: f64) -> String {
    format!("{value:.1}").replace('.', ",")
}

fn groups(labels: &[&'static str], counts: &[u64]) -> Vec<GroupLine> {
    let total: u64 = counts.iter().sum();
    labels
        .iter()
        .zip(counts)
        .map(|(label, count)| GroupLine {
            label,
            cases: ceiba_surveillance::count_es(*count),
            share: if total > 0 {
                decimal_es(*count as f64 * 100.0 / total as f64)
            } else {
                String::new()
            },
        })
        .collect()
}

pub async fn nation(
    State(state): State<AppState>,
    Query(query): Query<DashboardQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    dashboard(&state, None, &query, &headers, who.ok()).await
}

pub async fn province(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(query): Query<DashboardQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    dashboard(&state, Some((code, true)), &query, &headers, who.ok()).await
}

pub async fn municipality(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(query): Query<DashboardQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    dashboard(&state, Some((code, false)), &query, &headers, who.ok()).await
}

/// Whether a person may see case-level numbers: a health role, from a session that proved a
/// second factor.
pub(crate) fn is_health_role(who: &Authenticated) -> bool {
    who.acts_as(Role::HealthWorker) || who.acts_as(Role::Epidemiologist)
}

async fn dashboard(
    state: &AppState,
    area: Option<(String, bool)>,
    query: &DashboardQuery,
    headers: &HeaderMap,
    who: Option<Authenticated>,
) -> Result<Response, ApiError> {
    let lang = page_lang(query.lang.as_deref(), headers);
    let chosen = query.lang.as_deref().and_then(Lang::parse);
    let w = words(lang);
    let data = state.salud.current(&state.db).await?;
    let not_found = || {
        ApiError::with_detail(
            ErrorCode::NotFound,
            "no hay ninguna provincia ni municipio con ese código DPA",
        )
    };
    // The area, its kind and its province.
    let (code, name, population, province_code, is_municipality) = match &area {
        None => (
            NATION.to_owned(),
            "Cuba".to_owned(),
            data.population(),
            None,
            false,
        ),
        Some((code, wants_province)) => {
            let (found, is_province) = data.area(code).ok_or_else(not_found)?;
            if is_province != *wants_province {
                return Err(not_found());
            }
            (
                found.code.clone(),
                found.name.clone(),
                found.population,
                Some(found.province_code.clone()),
                !is_province,
            )
        }
    };
    let overview = &data.overview;
    let empty = AreaFigures::default();
    let figures = overview.area(&code).unwrap_or(&empty);
    let last = overview.last_index();
    let index = match query
        .fecha
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
    {
        None => last,
        Some(text) => {
            let day = Date::parse(text).ok_or_else(|| {
                ApiError::with_detail(ErrorCode::BadRequest, "la fecha debe ser AAAA-MM-DD")
            })?;
            let first = overview.first_day.map_or(0, Date::days_since_epoch);
            let offset = day.days_since_epoch() - first;
            last.map(|last| usize::try_from(offset.max(0)).unwrap_or(0).min(last))
        }
    };
    let day = index.and_then(|index| overview.day(index));
    let at = index.unwrap_or(0);
    let withhold = is_municipality;
    let until = |values: &[u64]| values.get(..=at).map(<[u64]>::to_vec).unwrap_or_default();

    // Below the province, figures by complete weeks (see `ceiba_surveillance::disclosure`):
    // every day of a week shows its last complete week, and a sum over weeks only where each
    // week inside may be published.
    let weekly = data.weekly(&code, at, false);
    let weekly_deaths = data.weekly(&code, at, true);
    let shown_day = if withhold {
        week_end(at).and_then(|end| overview.day(end))
    } else {
        day
    };
    let or_withheld = |count: Option<u64>| {
        count.map_or_else(|| WITHHELD.to_owned(), ceiba_surveillance::count_es)
    };

    // Headline figures.
    let cases_total: u64 = until(&figures.new_cases).iter().sum();
    let deaths_total: u64 = until(&figures.deaths).iter().sum();
    let cases_14d = figures.cases_in_window(at, 14);
    let mut headline = if withhold {
        vec![
            Figure {
                id: "cifra-confirmados",
                label: w.confirmed,
                value: or_withheld(weekly.total()),
            },
            Figure {
                id: "cifra-nuevos",
                label: w.new_last_week,
                value: or_withheld(
                    weekly
                        .weeks()
                        .checked_sub(1)
                        .and_then(|last| weekly.week(last)),
                ),
            },
            Figure {
                id: "cifra-incidencia",
                label: w.incidence_14d,
                value: weekly
                    .last(2)
                    .and_then(|cases| per_100k(cases, population))
                    .map_or_else(|| WITHHELD.to_owned(), decimal_es),
            },
        ]
    } else {
        vec![
            Figure {
                id: "cifra-confirmados",
                label: w.confirmed,
                value: ceiba_surveillance::count_es(cases_total),
            },
            Figure {
                id: "cifra-nuevos",
                label: w.new_today,
                value: ceiba_surveillance::count_es(
                    figures.new_cases.get(at).copied().unwrap_or(0),
                ),
            },
            Figure {
                id: "cifra-incidencia",
                label: w.incidence_14d,
                value: per_100k(cases_14d, population).map_or_else(|| "—".to_owned(), decimal_es),
            },
        ]
    };
    let national_until: Vec<DayFigures> = data
        .national
        .iter()
        .filter(|figures| figures.date.is_some() && figures.date <= day)
        .cloned()
        .collect();
    if area.is_none() {
        let national = national_headline(&national_until);
        let optional =
            |value: Option<u64>| value.map_or_else(|| "—".to_owned(), ceiba_surveillance::count_es);
        let count = ceiba_surveillance::count_es;
        headline.extend([
            Figure {
                id: "cifra-fallecidos",
                label: w.deaths,
                value: count(national.deaths_total),
            },
            Figure {
                id: "cifra-activos",
                label: w.active,
                value: count(national.active),
            },
            Figure {
                id: "cifra-pruebas",
                label: w.tests,
                value: optional(national.tests_total),
            },
            Figure {
                id: "cifra-positividad",
                label: w.positivity,
                value: national
                    .positivity_7d
                    .map_or_else(|| "—".to_owned(), |rate| format!("{} %", decimal_es(rate))),
            },
            Figure {
                id: "cifra-altas",
                label: w.recovered,
                value: count(national.recovered_total),
            },
            Figure {
                id: "cifra-graves",
                label: w.serious,
                value: optional(national.serious),
            },
            Figure {
                id: "cifra-criticos",
                label: w.critical,
                value: optional(national.critical),
            },
        ]);
    } else {
        headline.push(Figure {
            id: "cifra-fallecidos",
            label: w.deaths_linked,
            value: if withhold {
                or_withheld(weekly_deaths.total())
            } else {
                ceiba_surveillance::count_es(deaths_total)
            },
        });
    }
    if area.is_some() && !withhold {
        let active = figures.active_estimate().get(at).copied().unwrap_or(0);
        headline.push(Figure {
            id: "cifra-activos",
            label: w.active_estimated,
            value: ceiba_surveillance::count_es(active),
        });
    }

    // Curves.
    let first_day = overview.first_day.unwrap_or(Date {
        year: 2020,
        month: 3,
        day: 11,
    });
    let new_cases = until(&figures.new_cases);
    let (curve_svg, curve_caption) = if withhold {
        let bars: Vec<_> = (0..weekly.weeks())
            .map(|week| (week * WEEK_DAYS, weekly.week(week)))
            .collect();
        (
            salud_charts::period_chart(first_day, weekly.weeks() * WEEK_DAYS, WEEK_DAYS, &bars),
            w.weekly_caption,
        )
    } else {
        let daily: Vec<f64> = new_cases.iter().map(|count| *count as f64).collect();
        let mean = salud_charts::seven_day_mean(&new_cases);
        let svg = salud_charts::daily_chart(
            first_day,
            &[
                Curve {
                    values: &daily,
                    colour: CASES_COLOUR,
                    filled: true,
                },
                Curve {
                    values: &mean,
                    colour: AVERAGE_COLOUR,
                    filled: false,
                },
            ],
        );
        (svg, w.curve_caption)
    };
    // The nation's published series, on the days of the case series: tests each day, the
    // 7-day positivity, deaths each day, recoveries to date, patients serious and critical.
    let published = if area.is_none() && !national_until.is_empty() {
        Some(PublishedCurves::on_days(
            first_day,
            new_cases.len(),
            &national_days(&national_until),
        ))
    } else {
        None
    };
    let (tests_svg, positivity_svg, deaths_svg, care_svg) = match &published {
        Some(curves) => (
            salud_charts::daily_chart(
                first_day,
                &[Curve {
                    values: &curves.tests,
                    colour: CASES_COLOUR,
                    filled: true,
                }],
            ),
            salud_charts::daily_chart(
                first_day,
                &[Curve {
                    values: &curves.positivity,
                    colour: AVERAGE_COLOUR,
                    filled: false,
                }],
            ),
            salud_charts::daily_chart(
                first_day,
                &[Curve {
                    values: &curves.deaths,
                    colour: CASES_COLOUR,
                    filled: true,
                }],
            ),
            salud_charts::daily_chart(
                first_day,
                &[
                    Curve {
                        values: &curves.serious,
                        colour: salud_charts::ACTIVE_COLOUR,
                        filled: false,
                    },
                    Curve {
                        values: &curves.critical,
                        colour: AVERAGE_COLOUR,
                        filled: false,
                    },
                ],
            ),
        ),
        None => Default::default(),
    };
    let cumulative_svg = if withhold {
        String::new()
    } else {
        let cumulative: Vec<f64> = until(&figures.cumulative())
            .iter()
            .map(|n| *n as f64)
            .collect();
        let active: Vec<f64> = if area.is_none() {
            // The nation's active cases as published, on the days of the case series.
            let by_day: HashMap<Date, u64> = national_days(&national_until)
                .into_iter()
                .filter_map(|day| Some((day.date?, day.active)))
                .collect();
            (0..cumulative.len())
                .map(|index| {
                    let date = first_day.plus_days(i64::try_from(index).unwrap_or(0));
                    by_day.get(&date).copied().unwrap_or(0) as f64
                })
                .collect()
        } else {
            until(&figures.active_estimate())
                .iter()
                .map(|n| *n as f64)
                .collect()
        };
        let mut curves = vec![
            Curve {
                values: &cumulative,
                colour: CASES_COLOUR,
                filled: true,
            },
            Curve {
                values: &active,
                colour: salud_charts::ACTIVE_COLOUR,
                filled: false,
            },
        ];
        if let Some(published) = &published {
            curves.push(Curve {
                values: &published.recovered_total,
                colour: AVERAGE_COLOUR,
                filled: false,
            });
        }
        salud_charts::daily_chart(first_day, &curves)
    };

    // The map, and the table of the areas it shows.
    let map_province = province_code.as_deref();
    let outlines = data.outlines(map_province);
    let sub_withhold = area.is_some();
    let mut map_areas = Vec::with_capacity(outlines.paths.len());
    for (sub_code, path) in &outlines.paths {
        let Some((sub_area, is_province)) = data.area(sub_code) else {
            continue;
        };
        let sub_figures = overview.area(sub_code).unwrap_or(&empty);
        let sub_cases = if sub_withhold {
            data.weekly(sub_code, at, false).last(2)
        } else {
            Some(sub_figures.cases_in_window(at, 14))
        };
        let rate = sub_cases
            .and_then(|cases| per_100k(cases, sub_area.population))
            .unwrap_or(0.0);
        let withheld = sub_cases.is_none();
        let href = area_href(&sub_area.code, is_province);
        map_areas.push(MapArea {
            path: path.clone(),
            fill: if withheld {
                WITHHELD_FILL
            } else {
                salud_charts::incidence_fill(rate)
            },
            title: if withheld {
                format!("{}: {}", sub_area.name, w.withheld)
            } else {
                format!("{}: {} {}", sub_area.name, decimal_es(rate), w.per_100k)
            },
            highlighted: sub_area.code == code,
            href,
        });
    }
    let map_svg = salud_charts::choropleth(
        outlines.width_px,
        outlines.height_px,
        w.map_heading,
        &map_areas,
    );
    let mut legend: Vec<(&'static str, String)> = Vec::new();
    let mut lower = 0.0;
    for (bound, fill) in INCIDENCE_CLASSES {
        let label = if bound == 0.0 {
            "0".to_owned()
        } else if bound.is_infinite() {
            format!("> {lower}")
        } else {
            format!("{lower}–{bound}")
        };
        legend.push((fill, label));
        lower = bound;
    }
    if sub_withhold {
        legend.push((WITHHELD_FILL, w.withheld.to_owned()));
    }
    let table_areas: Vec<&Area> = match map_province {
        None => data.provinces.iter().collect(),
        Some(province) => data
            .municipalities
            .iter()
            .filter(|area| area.province_code == province)
            .collect(),
    };
    let areas = table_areas
        .into_iter()
        .map(|sub_area| {
            let sub_figures = overview.area(&sub_area.code).unwrap_or(&empty);
            let (cases, cases_14d, deaths) = if sub_withhold {
                let weekly = data.weekly(&sub_area.code, at, false);
                let deaths = data.weekly(&sub_area.code, at, true);
                (weekly.total(), weekly.last(2), deaths.total())
            } else {
                (
                    Some(until(&sub_figures.new_cases).iter().sum()),
                    Some(sub_figures.cases_in_window(at, 14)),
                    Some(until(&sub_figures.deaths).iter().sum()),
                )
            };
            AreaLine {
                href: area_href(&sub_area.code, area.is_none()),
                name: sub_area.name.clone(),
                population: ceiba_surveillance::count_es(sub_area.population),
                cases: or_withheld(cases),
                cases_14d: or_withheld(cases_14d),
                incidence: cases_14d
                    .and_then(|cases| per_100k(cases, sub_area.population))
                    .map_or_else(String::new, decimal_es),
                deaths: or_withheld(deaths),
            }
        })
        .collect();

    // Alerts.
    let health = who.as_ref().is_some_and(is_health_role);
    let alert_area = area
        .as_ref()
        .map(|(code, province)| (code.as_str(), *province));
    let since = day.map_or_else(String::new, |day| {
        day.plus_days(-ALERTS_DAYS_BACK).to_string()
    });
    let alerts = state
        .db
        .salud_alerts(alert_area, &since, ALERTS_SHOWN)
        .await?
        .into_iter()
        .filter(|alert| day.is_none_or(|day| alert.day <= day.to_string()))
        .map(|alert| AlertLine {
            place: data.area(&alert.municipality_code).map_or_else(
                || alert.municipality_code.clone(),
                |(area, _)| area.name.clone(),
            ),
            day: alert.day,
            method: ceiba_surveillance::alerts::Method::parse(&alert.method)
                .map_or("—", ceiba_surveillance::alerts::Method::name_es),
            explanation: health.then_some(alert.explanation),
        })
        .collect();

    let mut crumbs = vec![("/salud".to_owned(), "Cuba".to_owned())];
    if let Some(province) = &province_code
        && let Some((province_area, _)) = data.area(province)
    {
        crumbs.push((area_href(province, true), province_area.name.clone()));
    }
    let (title, crumbs) = match &area {
        None => (w.nation_title.to_owned(), Vec::new()),
        Some((_, true)) => (
            format!("{} {}", w.province_word, name),
            crumbs[..1].to_vec(),
        ),
        Some((_, false)) => (format!("{} {}", w.municipality_word, name), crumbs),
    };
    let body = DashboardPage {
        frame: Frame::for_request(lang, headers),
        w,
        title,
        crumbs,
        as_of: shown_day.map_or_else(
            || w.no_data.to_owned(),
            |day| {
                if withhold {
                    format!("{} {day} {}", w.as_of, w.complete_weeks)
                } else {
                    format!("{} {day}", w.as_of)
                }
            },
        ),
        day_value: day.map_or_else(String::new, |day| day.to_string()),
        form_action: match &area {
            None => NATION_PATH.to_owned(),
            Some((code, is_province)) => area_href(code, *is_province),
        },
        figures: headline,
        curve_svg,
        curve_caption,
        cumulative_svg,
        cumulative_caption: if published.is_some() {
            w.cumulative_caption_nation
        } else {
            w.cumulative_caption
        },
        tests_svg,
        positivity_svg,
        deaths_svg,
        care_svg,
        map_svg,
        legend,
        areas,
        profile: if withhold {
            Vec::new()
        } else {
            vec![
                (
                    "edad",
                    w.age_heading,
                    groups(&AGE_BAND_LABELS, &figures.profile.age),
                ),
                (
                    "sexo",
                    w.sex_heading,
                    groups(&SEX_LABELS, &figures.profile.sex),
                ),
                (
                    "fuente",
                    w.source_heading,
                    groups(&SOURCE_LABELS, &figures.profile.source),
                ),
            ]
        },
        alerts,
        data_href: format!("/api/salud/open/series.csv?area={code}"),
        models_href: match &area {
            None => Some(crate::salud_models::MODELS_PATH.to_owned()),
            Some((code, true)) => Some(format!("{}?area={code}", crate::salud_models::MODELS_PATH)),
            Some((_, false)) => None,
        },
    }
    .render();
    Ok(page(lang, body, None, chosen))
}

/// The dashboard of a province or municipality.
pub fn area_href(code: &str, is_province: bool) -> String {
    if is_province {
        format!("/salud/provincia/{code}")
    } else {
        format!("/salud/municipio/{code}")
    }
}
