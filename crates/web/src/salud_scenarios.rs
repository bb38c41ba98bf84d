//! Scenarios of the metapopulation SEIR model (`ceiba_epi::seir`) over Cuba's provinces or
//! municipalities, started from the records: each territory's population, its centre for the
//! gravity model of mobility, and its recent confirmed cases for the people infected now.
//!
//! The start is an assumption, stated: the infectious are the cases confirmed in the last
//! infectious period, the exposed those of the last latent period (a flat curve ahead), the
//! immune every earlier case, each times `infections_per_confirmed_case` (how many infections
//! one confirmed case stands for; 1 counts only what surveillance saw). A territory with no
//! recent case starts clean; with none anywhere, `seed_infectious` people start infectious in
//! the most populous territory.

use ceiba_epi::EpiError;
use ceiba_epi::seir::{
    Centroid, Disease, GravityModel, Intervention, Mobility, Patch, Scenario, SeirModel,
    Transmission, run_scenarios,
};
use serde::{Deserialize, Serialize};

use crate::salud_dashboard::SaludData;

/// Which territories are the model's patches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeirLevel {
    /// The 16 provinces (Isla de la Juventud counted as one).
    #[default]
    Provinces,
    /// The 168 municipalities.
    Municipalities,
}

fn default_r0() -> f64 {
    2.0
}
fn default_latent() -> f64 {
    5.2
}
fn default_infectious() -> f64 {
    7.0
}
fn default_mobile() -> f64 {
    0.1
}
fn default_infections_per_case() -> f64 {
    1.0
}
fn default_seed() -> u64 {
    10
}

/// A request for scenarios: the disease and mobility shared by all, and the scenarios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeirRequest {
    #[serde(default)]
    pub level: SeirLevel,
    /// Days ahead, from the last day of the records.
    pub days: u32,
    /// The basic reproduction number each scenario starts from (a scenario may replace it).
    #[serde(default = "default_r0")]
    pub r0: f64,
    #[serde(default = "default_latent")]
    pub latent_period_days: f64,
    #[serde(default = "default_infectious")]
    pub infectious_period_days: f64,
    /// Share of contact time spent outside one's own territory (gravity model).
    #[serde(default = "default_mobile")]
    pub mobile_fraction: f64,
    /// Mobility other than the default gravity model: `"none"`, `{"gravity": {…}}` or
    /// `{"matrix": [[…], …]}`, a row-stochastic matrix in the order of the territories' DPA
    /// codes (provinces or municipalities with people, the unknown place left out).
    #[serde(default)]
    pub mobility: Option<Mobility>,
    /// Infections one confirmed case stands for, at least 1.
    #[serde(default = "default_infections_per_case")]
    pub infections_per_confirmed_case: f64,
    /// People infectious at the start when the records have no recent case.
    #[serde(default = "default_seed")]
    pub seed_infectious: u64,
    /// The scenarios, compared on one chart; none: favourable (contacts down 40 %), medium
    /// (down 20 %) and critical (as they are).
    #[serde(default)]
    pub scenarios: Vec<Scenario>,
    /// Fit R0 to the country's confirmed cases of these last days (7 to 120) instead of
    /// taking `r0`: the model starts that many days back from the records of then, and R0 is
    /// the one whose new cases, times one over `infections_per_confirmed_case`, best match
    /// the cases confirmed since (Poisson deviance).
    #[serde(default)]
    pub calibrate_days: Option<u32>,
}

/// How the fitted R0 matched the records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CalibrationSummary {
    pub days: u32,
    pub r0: f64,
    pub poisson_deviance: f64,
    pub root_mean_square_error: f64,
}

/// The scenarios a request without any gets.
pub fn default_scenarios(days: u32) -> Vec<Scenario> {
    let reduced = |name: &str, reduction: f64| Scenario {
        name: name.to_owned(),
        r0: None,
        interventions: if reduction > 0.0 {
            vec![Intervention {
                start_day: 0,
                end_day: days.max(1),
                contact_reduction: reduction,
                patch_codes: None,
            }]
        } else {
            Vec::new()
        },
        vaccination: None,
    };
    vec![
        reduced("Favorable", 0.4),
        reduced("Medio", 0.2),
        reduced("Crítico", 0.0),
    ]
}

/// One scenario's course over the whole country.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioOutcome {
    pub name: String,
    pub r0: f64,
    /// New cases (onsets) each day, from day 0 (always 0) to `days`.
    pub new_cases: Vec<f64>,
    /// People infectious each day.
    pub infectious: Vec<f64>,
    /// The day with most new cases, and how many.
    pub peak_day: usize,
    pub peak_new_cases: f64,
    /// Cases over the horizon, and as a share of the population.
    pub total_cases: f64,
    pub attack_rate: f64,
}

/// What a scenario run found, with the start it assumed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeirOutcome {
    pub level: SeirLevel,
    pub patches: usize,
    pub population: u64,
    /// The last day of the records: day 0 of the scenarios.
    pub start_day: Option<String>,
    pub initial_infectious: u64,
    pub initial_exposed: u64,
    pub initial_immune: u64,
    /// The fit of R0, when asked for.
    pub calibration: Option<CalibrationSummary>,
    pub scenarios: Vec<ScenarioOutcome>,
}

/// Cases of the `days` days ending on `last` (inclusive).
fn recent(new_cases: &[u64], last: usize, days: usize) -> u64 {
    if new_cases.is_empty() || days == 0 {
        return 0;
    }
    let end = last.min(new_cases.len() - 1);
    new_cases[(end + 1).saturating_sub(days)..=end].iter().sum()
}

/// Whole people from a non-negative count of cases times a factor, at most `cap`.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn people(cases: u64, factor: f64, cap: u64) -> u64 {
    let value = (cases as f64 * factor).round();
    if value.is_finite() && value > 0.0 {
        (value.min(cap as f64)) as u64
    } else {
        0
    }
}

/// The model of `request` over the records of `data`, from their last day.
pub fn model(data: &SaludData, request: &SeirRequest) -> Result<SeirModel, EpiError> {
    model_from(data, request, data.overview.last_index())
}

/// The model of `request` started from the records as they stood on day `last`.
fn model_from(
    data: &SaludData,
    request: &SeirRequest,
    last: Option<usize>,
) -> Result<SeirModel, EpiError> {
    let factor = request.infections_per_confirmed_case;
    if !factor.is_finite() || !(1.0..=100.0).contains(&factor) {
        return Err(EpiError::invalid(
            "infections_per_confirmed_case",
            format!("debe estar entre 1 y 100; se recibió {factor}"),
        ));
    }
    let areas = match request.level {
        SeirLevel::Provinces => &data.provinces,
        SeirLevel::Municipalities => &data.municipalities,
    };
    let period = |days: f64| {
        // Whole days, at least one: checked positive and finite by the model itself.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let whole = if days.is_finite() && days > 0.0 {
            days.round().clamp(1.0, 365.0) as usize
        } else {
            1
        };
        whole
    };
    let (infectious_days, latent_days) = (
        period(request.infectious_period_days),
        period(request.latent_period_days),
    );
    let mut patches: Vec<Patch> = areas
        .iter()
        .filter(|area| area.population > 0)
        .filter(|area| {
            ![
                ceiba_surveillance::UNKNOWN_PROVINCE,
                ceiba_surveillance::UNKNOWN_MUNICIPALITY,
            ]
            .contains(&area.code.as_str())
        })
        .map(|area| {
            let figures = data.overview.area(&area.code);
            let (infectious, exposed, before) = match (figures, last) {
                (Some(figures), Some(last)) => {
                    let infectious = recent(&figures.new_cases, last, infectious_days);
                    let exposed = recent(&figures.new_cases, last, latent_days);
                    let before = figures
                        .new_cases
                        .iter()
                        .take(last + 1)
                        .sum::<u64>()
                        .saturating_sub(infectious);
                    (infectious, exposed, before)
                }
                _ => (0, 0, 0),
            };
            let population = area.population;
            let infectious = people(infectious, factor, population);
            let exposed = people(exposed, factor, population - infectious);
            let immune = people(before, factor, population - infectious - exposed);
            Patch {
                code: area.code.clone(),
                name: area.name.clone(),
                population,
                centroid: data
                    .centroid(&area.code)
                    .map(|[longitude, latitude]| Centroid {
                        latitude_deg: latitude,
                        longitude_deg: longitude,
                    }),
                initial_exposed: exposed,
                initial_infectious: infectious,
                initial_immune: immune,
            }
        })
        .collect();
    if patches.is_empty() {
        return Err(EpiError::InsufficientData(
            "no hay territorios con población: cargue la geografía (ceiba salud geography)"
                .to_owned(),
        ));
    }
    if patches
        .iter()
        .all(|patch| patch.initial_infectious + patch.initial_exposed == 0)
        && let Some(largest) = patches.iter_mut().max_by_key(|patch| patch.population)
    {
        largest.initial_infectious = request.seed_infectious.min(largest.population);
    }
    // Territories without a boundary (none in the real data) mix only at home.
    let mobility = if let Some(mobility) = &request.mobility {
        mobility.clone()
    } else if patches.iter().all(|patch| patch.centroid.is_some()) {
        Mobility::Gravity(GravityModel {
            mobile_fraction: request.mobile_fraction,
            ..GravityModel::default()
        })
    } else {
        Mobility::None
    };
    Ok(SeirModel {
        patches,
        mobility,
        disease: Disease {
            transmission: Transmission::BasicReproductionNumber(request.r0),
            latent_period_days: request.latent_period_days,
            infectious_period_days: request.infectious_period_days,
        },
        interventions: Vec::new(),
        vaccination: None,
        days: request.days,
        steps_per_day: 10,
    })
}

/// Fits R0 to the country's cases of the last `days` days (see [`SeirRequest::calibrate_days`]).
fn calibrate_r0(
    data: &SaludData,
    request: &SeirRequest,
    days: u32,
) -> Result<CalibrationSummary, EpiError> {
    if !(7..=120).contains(&days) {
        return Err(EpiError::invalid(
            "calibrate_days",
            format!("debe estar entre 7 y 120 días; se recibió {days}"),
        ));
    }
    let span = usize::try_from(days).unwrap_or(usize::MAX);
    let nation = data.overview.area(ceiba_surveillance::dashboard::NATION);
    let (Some(last), Some(nation)) = (data.overview.last_index(), nation) else {
        return Err(EpiError::InsufficientData(
            "no hay casos con los que ajustar R0".to_owned(),
        ));
    };
    let Some(start) = last.checked_sub(span) else {
        return Err(EpiError::InsufficientData(format!(
            "los registros tienen {} días; para ajustar R0 a los últimos {days} hacen falta más",
            last + 1
        )));
    };
    let observed: Vec<f64> = nation.new_cases[start + 1..=last]
        .iter()
        .map(|count| *count as f64)
        .collect();
    let mut back = model_from(data, request, Some(start))?;
    back.days = days;
    let fit = ceiba_epi::seir::calibrate(
        &back,
        &ceiba_epi::seir::ObservedIncidence {
            daily_cases: observed,
            patch_codes: None,
        },
        &ceiba_epi::seir::CalibrationSettings {
            r0_min: 0.3,
            r0_max: 10.0,
            reporting: ceiba_epi::seir::ReportingFraction::Known(
                1.0 / request.infections_per_confirmed_case,
            ),
        },
    )?;
    Ok(CalibrationSummary {
        days,
        r0: fit.r0,
        poisson_deviance: fit.poisson_deviance,
        root_mean_square_error: fit.root_mean_square_error,
    })
}

/// Runs every scenario of `request` (or the default three) and sums each over the country.
pub fn run(data: &SaludData, request: &SeirRequest) -> Result<SeirOutcome, EpiError> {
    let calibration = match request.calibrate_days {
        Some(days) => Some(calibrate_r0(data, request, days)?),
        None => None,
    };
    let mut request = request.clone();
    if let Some(fit) = &calibration {
        request.r0 = fit.r0;
    }
    let request = &request;
    let model = model(data, request)?;
    let scenarios = if request.scenarios.is_empty() {
        default_scenarios(request.days)
    } else {
        request.scenarios.clone()
    };
    let runs = run_scenarios(&model, &scenarios)?;
    let population: u64 = model.patches.iter().map(|patch| patch.population).sum();
    let outcomes =
        runs.into_iter()
            .map(|scenario| {
                let total = scenario.run.total;
                let (peak_day, peak_new_cases) = total.new_cases.iter().copied().enumerate().fold(
                    (0, 0.0),
                    |best, (day, cases)| {
                        if cases > best.1 { (day, cases) } else { best }
                    },
                );
                let total_cases = total.cumulative_cases.last().copied().unwrap_or(0.0);
                ScenarioOutcome {
                    name: scenario.name,
                    r0: scenario.run.r0,
                    new_cases: total.new_cases,
                    infectious: total.infectious,
                    peak_day,
                    peak_new_cases,
                    total_cases,
                    attack_rate: if population > 0 {
                        total_cases / population as f64
                    } else {
                        0.0
                    },
                }
            })
            .collect();
    Ok(SeirOutcome {
        level: request.level,
        patches: model.patches.len(),
        population,
        start_day: data
            .overview
            .last_index()
            .and_then(|last| data.overview.day(last))
            .map(|day| day.to_string()),
        initial_infectious: model.patches.iter().map(|p| p.initial_infectious).sum(),
        initial_exposed: model.patches.iter().map(|p| p.initial_exposed).sum(),
        initial_immune: model.patches.iter().map(|p| p.initial_immune).sum(),
        calibration,
        scenarios: outcomes,
    })
}
