//! Salud's models in the product, for the nation and each province, from the records of the
//! revision `SaludCache` holds: the reproduction number Rt by the method of Cori et al. with
//! its 95 % credible interval, the short-term forecast of the growth-model ensemble with its
//! prediction intervals, and the scores of the forecasts the same method made one to four
//! weeks earlier beside those of the naive baseline (`ceiba_epi`).
//!
//! - `GET /api/salud/open/models?area=`: all of it as JSON (schema `ceiba-salud-modelos/1`),
//!   with the parameters and the records' revision, so any figure can be made again;
//! - `/salud/modelos?area=`: the page, its charts drawn on the server.
//!
//! Below the province the models are not published: Rt and a forecast over a municipality's
//! small counts say little, and their inputs could be read back from them. `ceiba epi rt` and
//! `ceiba epi forecast` run them for any area.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use ceiba_epi::EpiError;
use ceiba_epi::forecast::{ForecastDay, ForecastOptions, Scores, forecast, score_days};
use ceiba_epi::rt::{RtParams, SerialInterval, estimate_rt};
use ceiba_store::{CaseDimension, Db, GroupDayCount, StoreError};
use ceiba_surveillance::covid19cubadata::Date;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::salud::OpenArea;
use crate::salud_charts::{self, Band, Segment};
use crate::salud_dashboard::SaludData;

pub const MODELS_PATH: &str = "/salud/modelos";
/// The schema of [`ModelsView`]; a change of its shape changes the version.
pub const MODELS_SCHEMA: &str = "ceiba-salud-modelos/1";
/// How many earlier forecasts are scored, a week apart, each over the week after it.
const PAST_FORECASTS: usize = 4;
const PAST_HORIZON_DAYS: usize = 7;
/// Bootstrap samples of each forecast: enough for 95 % intervals, cheap enough for a page.
const BOOTSTRAP_SAMPLES: usize = 100;
/// Days of observations the forecast chart shows before its forecast.
const OBSERVED_DAYS_SHOWN: usize = 56;

/// An area's confirmed cases each day, from its first to its last: those infected here and
/// those who arrived infected (imported), since Rt counts the second as infectors only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaIncidence {
    pub first_day: Date,
    pub local: Vec<u64>,
    pub imported: Vec<u64>,
}

impl AreaIncidence {
    /// From confirmed cases by day and source; `None` without any.
    pub fn from_source_counts(counts: &[GroupDayCount]) -> Option<AreaIncidence> {
        let days: Vec<(Date, bool, u64)> = counts
            .iter()
            .filter_map(|row| Some((Date::parse(&row.day)?, row.group == "imported", row.count)))
            .collect();
        let first = days.iter().map(|(day, _, _)| *day).min()?;
        let last = days.iter().map(|(day, _, _)| *day).max()?;
        let span = usize::try_from(last.days_since_epoch() - first.days_since_epoch() + 1)
            .ok()?
            .min(ceiba_epi::rt::MAX_SERIES_DAYS);
        let mut incidence = AreaIncidence {
            first_day: first,
            local: vec![0; span],
            imported: vec![0; span],
        };
        for (day, imported, count) in days {
            let Some(index) = usize::try_from(day.days_since_epoch() - first.days_since_epoch())
                .ok()
                .filter(|index| *index < span)
            else {
                continue;
            };
            if imported {
                incidence.imported[index] += count;
            } else {
                incidence.local[index] += count;
            }
        }
        Some(incidence)
    }

    /// All confirmed cases each day.
    pub fn total(&self) -> Vec<f64> {
        self.local
            .iter()
            .zip(&self.imported)
            .map(|(local, imported)| (local + imported) as f64)
            .collect()
    }

    fn day(&self, index: usize) -> String {
        self.first_day
            .plus_days(i64::try_from(index).unwrap_or(0))
            .to_string()
    }
}

/// An area's confirmed cases by day and source, as the records of `data`'s revision hold them.
pub async fn area_incidence(
    db: &Db,
    data: &SaludData,
    code: &str,
) -> Result<Option<AreaIncidence>, StoreError> {
    let counts = data.group_counts(db, code, CaseDimension::Source).await?;
    Ok(AreaIncidence::from_source_counts(&counts))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RtDayView {
    /// The last day of the window the estimate is about.
    pub date: String,
    pub mean: f64,
    pub lower_95: f64,
    pub upper_95: f64,
    /// Enough cases in the window for the estimate to mean something (posterior coefficient
    /// of variation at most 0.3: about 11 local cases a week).
    pub reliable: bool,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct ForecastDayView {
    pub date: String,
    pub median: f64,
    pub lower_50: f64,
    pub upper_50: f64,
    pub lower_95: f64,
    pub upper_95: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScoresView {
    pub days_scored: usize,
    /// Cases per day.
    pub mean_absolute_error: f64,
    /// `|error| / max(observed, 1)`, averaged.
    pub mean_relative_error: f64,
    /// Share of observed days inside the 50 % and 95 % intervals.
    pub coverage_50: f64,
    pub coverage_95: f64,
    pub weighted_interval_score: f64,
}

impl From<Scores> for ScoresView {
    fn from(scores: Scores) -> ScoresView {
        ScoresView {
            days_scored: scores.days_scored,
            mean_absolute_error: scores.mean_absolute_error,
            mean_relative_error: scores.mean_relative_error,
            coverage_50: scores.coverage_50,
            coverage_95: scores.coverage_95,
            weighted_interval_score: scores.weighted_interval_score,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PastForecastView {
    /// The last day the forecast knew.
    pub origin: String,
    /// `fitted`, `too_few_cases` (the naive baseline) or `no_cases_in_window`.
    pub status: String,
    pub ensemble: ScoresView,
    pub baseline: ScoresView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelsView {
    /// `ceiba-salud-modelos/1`.
    pub schema: &'static str,
    pub area: String,
    pub name: String,
    /// The revision of the records the models read: the same revision and parameters give
    /// the same figures.
    pub data_revision: u64,
    /// The last day with cases; `null` for an area without any.
    pub last_day: Option<String>,
    pub rt_window_days: usize,
    pub serial_interval_mean_days: f64,
    pub serial_interval_sd_days: f64,
    pub rt: Vec<RtDayView>,
    /// `fitted`, `too_few_cases` or `no_cases_in_window`; `null` when there are too few days.
    pub forecast_status: Option<String>,
    pub calibration_days: usize,
    pub bootstrap_samples: usize,
    pub seed: u64,
    /// The ensemble's forecast of the days after `last_day`, and the naive baseline's.
    pub forecast: Vec<ForecastDayView>,
    pub baseline: Vec<ForecastDayView>,
    /// The forecasts made one to four weeks before `last_day`, scored over their first week.
    pub past_forecasts: Vec<PastForecastView>,
    /// The forecasts this server published from earlier days of data (with earlier records),
    /// scored over their days that have passed, latest first.
    pub published_forecasts: Vec<PublishedForecastView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublishedForecastView {
    /// The last day of data it knew.
    pub origin: String,
    /// The revision of the records it read, and when it was made.
    pub data_revision: u64,
    pub made_at_ms: i64,
    pub ensemble: ScoresView,
    pub baseline: ScoresView,
}

/// A published forecast as kept (`salud_forecasts`), to be scored later.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
struct KeptForecast {
    forecast: Vec<ForecastDayView>,
    baseline: Vec<ForecastDayView>,
    calibration_days: usize,
    bootstrap_samples: usize,
    seed: u64,
}

fn as_forecast_days(days: &[ForecastDayView]) -> Vec<ForecastDay> {
    days.iter()
        .enumerate()
        .map(|(index, day)| ForecastDay {
            days_ahead: index + 1,
            median: day.median,
            lower_95: day.lower_95,
            upper_95: day.upper_95,
            lower_50: day.lower_50,
            upper_50: day.upper_50,
        })
        .collect()
}

/// Scores the forecasts kept from days before the view's last one against what happened,
/// then keeps the view's own.
async fn score_and_keep(
    db: &Db,
    view: &mut ModelsView,
    incidence: Option<&AreaIncidence>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let (Some(last_day), Some(incidence)) = (view.last_day.clone(), incidence) else {
        return Ok(());
    };
    let total = incidence.total();
    let observed_on = |date: &str| -> Option<f64> {
        let day = Date::parse(date)?;
        let index =
            usize::try_from(day.days_since_epoch() - incidence.first_day.days_since_epoch())
                .ok()?;
        total.get(index).copied()
    };
    for row in db.forecasts_before(&view.area, &last_day).await? {
        let Ok(kept) = serde_json::from_str::<KeptForecast>(&row.forecast) else {
            tracing::warn!(area = %row.area, origin = %row.origin_day, "a kept forecast does not read back");
            continue;
        };
        // The days that have passed, in order; a forecast is scored on its first ones.
        let observed: Vec<f64> = kept
            .forecast
            .iter()
            .map_while(|day| observed_on(&day.date))
            .collect();
        let (Ok(ensemble), Ok(baseline)) = (
            score_days(&as_forecast_days(&kept.forecast), &observed),
            score_days(&as_forecast_days(&kept.baseline), &observed),
        ) else {
            continue;
        };
        view.published_forecasts.push(PublishedForecastView {
            origin: row.origin_day,
            data_revision: row.data_revision,
            made_at_ms: row.made_at_ms,
            ensemble: ensemble.into(),
            baseline: baseline.into(),
        });
    }
    if !view.forecast.is_empty() {
        let kept = KeptForecast {
            forecast: view.forecast.clone(),
            baseline: view.baseline.clone(),
            calibration_days: view.calibration_days,
            bootstrap_samples: view.bootstrap_samples,
            seed: view.seed,
        };
        let forecast = serde_json::to_string(&kept).map_err(|error| {
            StoreError::Corrupt(format!("un pronóstico no se pudo escribir: {error}"))
        })?;
        db.keep_forecast(&ceiba_store::ForecastRow {
            area: view.area.clone(),
            origin_day: last_day,
            data_revision: view.data_revision,
            made_at_ms: now_ms,
            forecast,
        })
        .await?;
    }
    Ok(())
}

fn status_name(status: ceiba_epi::forecast::ForecastStatus) -> String {
    use ceiba_epi::forecast::ForecastStatus;
    match status {
        ForecastStatus::Fitted => "fitted",
        ForecastStatus::TooFewCases => "too_few_cases",
        ForecastStatus::NoCasesInWindow => "no_cases_in_window",
    }
    .to_owned()
}

/// The options of every forecast the product makes (documented in the view).
pub fn forecast_options(horizon_days: usize) -> ForecastOptions {
    ForecastOptions {
        horizon_days,
        bootstrap_samples: BOOTSTRAP_SAMPLES,
        ..ForecastOptions::default()
    }
}

/// Rt, the forecast and the past forecasts' scores of an area. Pure: the same incidence and
/// parameters give the same view.
pub fn compute(
    code: &str,
    name: &str,
    data_revision: u64,
    incidence: Option<&AreaIncidence>,
    rt_params: &RtParams,
) -> Result<ModelsView, EpiError> {
    let (si_mean, si_sd) = match &rt_params.serial_interval {
        SerialInterval::Parametric { mean_days, sd_days } => (*mean_days, *sd_days),
        other => {
            let discrete = other.discretise()?;
            (discrete.mean_days(), discrete.sd_days())
        }
    };
    let options = forecast_options(ceiba_epi::forecast::MAX_HORIZON_DAYS);
    let mut view = ModelsView {
        schema: MODELS_SCHEMA,
        area: code.to_owned(),
        name: name.to_owned(),
        data_revision,
        last_day: None,
        rt_window_days: rt_params.window_days,
        serial_interval_mean_days: si_mean,
        serial_interval_sd_days: si_sd,
        rt: Vec::new(),
        forecast_status: None,
        calibration_days: options.calibration_days,
        bootstrap_samples: options.bootstrap_samples,
        seed: options.seed,
        forecast: Vec::new(),
        baseline: Vec::new(),
        past_forecasts: Vec::new(),
        published_forecasts: Vec::new(),
    };
    let Some(incidence) = incidence else {
        return Ok(view);
    };
    let days = incidence.local.len();
    view.last_day = Some(incidence.day(days.saturating_sub(1)));
    match estimate_rt(&incidence.local, &incidence.imported, rt_params) {
        Ok(estimates) => {
            view.rt = estimates
                .iter()
                .map(|estimate| RtDayView {
                    date: incidence.day(estimate.t_end),
                    mean: estimate.mean,
                    lower_95: estimate.quantile_025,
                    upper_95: estimate.quantile_975,
                    reliable: estimate.reliable,
                })
                .collect();
        }
        Err(EpiError::InsufficientData(_)) => {}
        Err(error) => return Err(error),
    }
    let total = incidence.total();
    if days < options.calibration_days {
        return Ok(view);
    }
    let made = forecast(&total, &options)?;
    let forecast_days = |forecast_days: &[ForecastDay]| -> Vec<ForecastDayView> {
        forecast_days
            .iter()
            .map(|day| ForecastDayView {
                date: incidence.day(days - 1 + day.days_ahead),
                median: day.median,
                lower_50: day.lower_50,
                upper_50: day.upper_50,
                lower_95: day.lower_95,
                upper_95: day.upper_95,
            })
            .collect()
    };
    view.forecast_status = Some(status_name(made.status));
    view.forecast = forecast_days(&made.ensemble);
    view.baseline = forecast_days(&made.baseline);
    let past_options = forecast_options(PAST_HORIZON_DAYS);
    for weeks in 1..=PAST_FORECASTS {
        let Some(origin) = days.checked_sub(weeks * PAST_HORIZON_DAYS) else {
            break;
        };
        if origin < past_options.calibration_days {
            break;
        }
        let past = forecast(&total[..origin], &past_options)?;
        let observed = &total[origin..(origin + PAST_HORIZON_DAYS).min(days)];
        view.past_forecasts.push(PastForecastView {
            origin: incidence.day(origin - 1),
            status: status_name(past.status),
            ensemble: score_days(&past.ensemble, observed)?.into(),
            baseline: score_days(&past.baseline, observed)?.into(),
        });
    }
    Ok(view)
}

/// The views computed so far, per area, for one revision of the records.
pub type ModelsCache = std::sync::Mutex<HashMap<String, Arc<ModelsView>>>;

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ModelsQuery {
    /// A province by DPA code (`23`); the whole country without.
    pub area: Option<String>,
}

async fn models_of(state: &AppState, area: Option<&str>) -> Result<Arc<ModelsView>, ApiError> {
    let data = state.salud.current(&state.db).await?;
    let open = OpenArea::of(&data, area)?;
    if open.suppresses() {
        return Err(ApiError::with_detail(
            ErrorCode::NotFound,
            "los modelos se publican para el país y las provincias; para un municipio, use \
             `ceiba epi rt` o `ceiba epi forecast`",
        ));
    }
    if let Some(view) = data.models(&open.code) {
        return Ok(view);
    }
    let incidence = area_incidence(&state.db, &data, &open.code).await?;
    let revision = data.revision;
    let (code, name) = (open.code.clone(), open.name.clone());
    let kept = incidence.clone();
    // Fitting and bootstrapping take a CPU for a while: off the request threads.
    let mut view = tokio::task::spawn_blocking(move || {
        compute(
            &code,
            &name,
            revision,
            incidence.as_ref(),
            &RtParams::default(),
        )
    })
    .await
    .map_err(|error| {
        tracing::error!(%error, "the models' computation did not finish");
        ApiError::new(ErrorCode::Internal)
    })?
    .map_err(|error| {
        tracing::error!(%error, "the models refused the records");
        ApiError::new(ErrorCode::Internal)
    })?;
    score_and_keep(&state.db, &mut view, kept.as_ref(), state.clock.now_ms()).await?;
    Ok(data.keep_models(&open.code, view))
}

/// An area's Rt (Cori et al., serial interval 4.8 ± 2.3 days, weekly windows, prior 5 ± 5)
/// and the growth-model ensemble's forecast of the next 28 days, with the scores of the same
/// forecasts made one to four weeks earlier and of the naive baseline.
#[utoipa::path(get, path = "/api/salud/open/models", tag = "salud",
    params(ModelsQuery),
    responses(
        (status = 200, description = "Rt, pronóstico y sus puntuaciones", body = ModelsView),
        (status = 404, description = "Código DPA desconocido, o un municipio", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn models(
    State(state): State<AppState>,
    query: Result<Query<ModelsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ModelsView>, ApiError> {
    let query = crate::salud::open_query(query)?;
    let view = models_of(&state, query.area.as_deref()).await?;
    Ok(Json(view.as_ref().clone()))
}

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------

struct ScoreLine {
    origin: String,
    /// Published then, or made again now with the data up to its day.
    kind: &'static str,
    ensemble_mae: String,
    baseline_mae: String,
    ensemble_coverage: String,
    baseline_coverage: String,
    better: bool,
}

#[derive(Template)]
#[template(path = "salud_modelos.html")]
struct ModelsPage {
    frame: crate::pages::Frame,
    title: String,
    areas: Vec<(String, String, bool)>,
    rt_now: String,
    rt_svg: String,
    rt_caption: String,
    forecast_svg: String,
    forecast_note: String,
    scores: Vec<ScoreLine>,
    json_href: String,
}

/// `1,23`: two decimals with a comma.
fn decimal2_es(value: f64) -> String {
    format!("{value:.2}").replace('.', ",")
}

pub async fn page(
    State(state): State<AppState>,
    query: Result<Query<ModelsQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let query = crate::salud::open_query(query)?;
    let lang = crate::pages::page_lang(None, &headers);
    let view = models_of(&state, query.area.as_deref()).await?;
    let data = state.salud.current(&state.db).await?;
    let mut areas = vec![(
        MODELS_PATH.to_owned(),
        "Cuba".to_owned(),
        view.area == ceiba_surveillance::dashboard::NATION,
    )];
    areas.extend(
        data.provinces
            .iter()
            .filter(|province| province.code != ceiba_surveillance::UNKNOWN_PROVINCE)
            .map(|province| {
                (
                    format!("{MODELS_PATH}?area={}", province.code),
                    province.name.clone(),
                    province.code == view.area,
                )
            }),
    );
    let first_day = view
        .rt
        .first()
        .and_then(|day| Date::parse(&day.date))
        .or_else(|| view.last_day.as_deref().and_then(Date::parse));
    // Rt from its first window; the band is the 95 % credible interval, the dashed line 1.
    let rt_svg = match first_day {
        Some(first) if !view.rt.is_empty() => {
            let mean: Vec<f64> = view.rt.iter().map(|day| day.mean).collect();
            let lower: Vec<f64> = view.rt.iter().map(|day| day.lower_95).collect();
            // Early windows with a handful of cases have intervals up to 20 or more: the
            // chart is cut at 4, where every decision lies.
            let upper: Vec<f64> = view.rt.iter().map(|day| day.upper_95.min(4.0)).collect();
            let mean: Vec<f64> = mean.iter().map(|value| value.min(4.0)).collect();
            salud_charts::band_chart(
                first,
                mean.len(),
                &[Band {
                    start: 0,
                    lower: &lower,
                    upper: &upper,
                    colour: salud_charts::CASES_COLOUR,
                    opacity: 0.8,
                }],
                &[Segment {
                    start: 0,
                    values: &mean,
                    colour: salud_charts::AVERAGE_COLOUR,
                }],
                Some(1.0),
            )
        }
        _ => String::new(),
    };
    let rt_now = view.rt.last().map_or_else(String::new, |day| {
        format!(
            "Rt al {}: {} (intervalo de credibilidad del 95 %: {} a {}){}",
            day.date,
            decimal2_es(day.mean),
            decimal2_es(day.lower_95),
            decimal2_es(day.upper_95),
            if day.reliable {
                ""
            } else {
                "; pocos casos en la ventana: la estimación es poco fiable"
            }
        )
    });
    // The forecast: the last weeks observed, then the median and its 50 % and 95 % bands.
    let incidence = match view.last_day.as_deref() {
        Some(_) => area_incidence(&state.db, &data, &view.area).await?,
        None => None,
    };
    let forecast_svg = match (&incidence, view.forecast.is_empty()) {
        (Some(incidence), false) => {
            let total = incidence.total();
            let shown = total.len().min(OBSERVED_DAYS_SHOWN);
            let observed = &total[total.len() - shown..];
            let first = incidence
                .first_day
                .plus_days(i64::try_from(total.len() - shown).unwrap_or(0));
            let pick = |get: fn(&ForecastDayView) -> f64| -> Vec<f64> {
                view.forecast.iter().map(get).collect()
            };
            let (low95, high95) = (pick(|d| d.lower_95), pick(|d| d.upper_95));
            let (low50, high50) = (pick(|d| d.lower_50), pick(|d| d.upper_50));
            let median = pick(|d| d.median);
            salud_charts::band_chart(
                first,
                shown + view.forecast.len(),
                &[
                    Band {
                        start: shown,
                        lower: &low95,
                        upper: &high95,
                        colour: salud_charts::CASES_COLOUR,
                        opacity: 0.5,
                    },
                    Band {
                        start: shown,
                        lower: &low50,
                        upper: &high50,
                        colour: salud_charts::CASES_COLOUR,
                        opacity: 1.0,
                    },
                ],
                &[
                    Segment {
                        start: 0,
                        values: observed,
                        colour: salud_charts::AVERAGE_COLOUR,
                    },
                    Segment {
                        start: shown,
                        values: &median,
                        colour: salud_charts::ACTIVE_COLOUR,
                    },
                ],
                None,
            )
        }
        _ => String::new(),
    };
    let forecast_note = match view.forecast_status.as_deref() {
        Some("fitted") => "Conjunto de modelos de crecimiento (logístico generalizado, Richards y \
                           Gompertz generalizado) ajustados a los últimos 42 días, pesados por \
                           su AIC."
            .to_owned(),
        Some("too_few_cases") => "Menos de 20 casos en los últimos 42 días: el pronóstico es la \
                                  línea de base (la media de la última semana)."
            .to_owned(),
        Some(_) => "Sin casos en los últimos 42 días: el pronóstico es cero.".to_owned(),
        None => "La serie es demasiado corta para pronosticar.".to_owned(),
    };
    let percent = |share: f64| format!("{} %", (share * 100.0).round());
    let line = |origin: &str, kind, ensemble: &ScoresView, baseline: &ScoresView| ScoreLine {
        origin: origin.to_owned(),
        kind,
        ensemble_mae: decimal2_es(ensemble.mean_absolute_error),
        baseline_mae: decimal2_es(baseline.mean_absolute_error),
        ensemble_coverage: percent(ensemble.coverage_95),
        baseline_coverage: percent(baseline.coverage_95),
        better: ensemble.mean_absolute_error <= baseline.mean_absolute_error,
    };
    let scores = view
        .published_forecasts
        .iter()
        .map(|past| line(&past.origin, "Publicado", &past.ensemble, &past.baseline))
        .chain(
            view.past_forecasts
                .iter()
                .map(|past| line(&past.origin, "Rehecho", &past.ensemble, &past.baseline)),
        )
        .collect();
    let body = ModelsPage {
        frame: crate::pages::Frame::for_request(lang, &headers),
        title: format!("Modelos: {}", view.name),
        areas,
        rt_now,
        rt_svg,
        rt_caption: format!(
            "Número reproductivo efectivo (Cori et al.): media (línea) e intervalo de \
             credibilidad del 95 % (banda) en ventanas de {} días, intervalo serial de {} ± {} \
             días; los casos importados cuentan como fuente de contagio, no como contagiados \
             aquí. La línea discontinua marca 1; el gráfico se corta en 4.",
            view.rt_window_days,
            decimal2_es(view.serial_interval_mean_days),
            decimal2_es(view.serial_interval_sd_days)
        ),
        forecast_svg,
        forecast_note,
        scores,
        json_href: if view.area == ceiba_surveillance::dashboard::NATION {
            "/api/salud/open/models".to_owned()
        } else {
            format!("/api/salud/open/models?area={}", view.area)
        },
    }
    .render();
    Ok(crate::account_pages::page(lang, body, None, None))
}
