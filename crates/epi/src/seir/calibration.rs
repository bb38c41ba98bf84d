//! Calibration of `β` (and optionally the reporting fraction) to observed daily incidence.
//!
//! The expected reported cases of day `d` are `ρ × new_cases(d)` of the deterministic model,
//! summed over the chosen patches. `β` minimises the Poisson deviance
//! `D = 2 Σ [y ln(y/μ) − (y − μ)]`; for a given `β` the deviance is minimised in `ρ` exactly by
//! `ρ = Σy / Σμ₁` (clamped to 1), so the search is one-dimensional: a 25-point scan of `ln β`
//! over the allowed `R0` range, then golden-section search around the best point.

use serde::{Deserialize, Serialize};

use super::{MAX_DAYS, MAX_R0, Prepared, SeirModel, Transmission, ode, patch_indices};
use crate::EpiError;

/// Fewest observed days accepted.
pub const MIN_OBSERVED_DAYS: usize = 7;
const SCAN_POINTS: usize = 25;
/// Width of the final bracket of `ln β` (a relative precision of about 1e-7 in `β`).
const LOG_BETA_TOLERANCE: f64 = 1e-7;
/// Smallest expected count, so that a day with cases but no modelled cases costs a large but
/// finite deviance.
const MIN_EXPECTED: f64 = 1e-12;

/// Observed incidence to fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservedIncidence {
    /// Cases reported on days 1, 2, …: element `k` is compared with the model's `new_cases` of
    /// day `k + 1` (the first day of the run); non-negative, at least [`MIN_OBSERVED_DAYS`]
    /// and at most [`MAX_DAYS`] days.
    pub daily_cases: Vec<f64>,
    /// Patches whose cases are summed to compare; `None` means all of them.
    #[serde(default)]
    pub patch_codes: Option<Vec<String>>,
}

/// The share of cases that are reported.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportingFraction {
    /// A known share, in (0, 1].
    Known(f64),
    /// Estimated with `β`, in (0, 1].
    Estimate,
}

/// How to search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationSettings {
    /// Smallest `R0` considered, greater than 0.
    pub r0_min: f64,
    /// Largest `R0` considered, above `r0_min` and at most [`MAX_R0`].
    pub r0_max: f64,
    /// Reporting fraction, known or estimated.
    pub reporting: ReportingFraction,
}

impl Default for CalibrationSettings {
    fn default() -> Self {
        CalibrationSettings {
            r0_min: 0.5,
            r0_max: 10.0,
            reporting: ReportingFraction::Estimate,
        }
    }
}

/// The fitted values and how well they fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// Fitted transmission rate, per day.
    pub beta_per_day: f64,
    /// The matching `R0`.
    pub r0: f64,
    /// Reporting fraction (fitted or as given).
    pub reporting_fraction: f64,
    /// Poisson deviance of the fit.
    pub poisson_deviance: f64,
    /// Root mean square error of the fitted daily reported cases.
    pub root_mean_square_error: f64,
    /// Expected reported cases per observed day, aligned with the observations.
    pub fitted_daily_cases: Vec<f64>,
    /// Deterministic runs spent.
    pub model_runs: usize,
}

/// Fits `β` of `base` (whose transmission and horizon are ignored: the run lasts as many days
/// as observed) to the observed incidence.
pub fn calibrate(
    base: &SeirModel,
    observed: &ObservedIncidence,
    settings: &CalibrationSettings,
) -> Result<Calibration, EpiError> {
    let cases = &observed.daily_cases;
    if cases.len() < MIN_OBSERVED_DAYS {
        return Err(EpiError::InsufficientData(format!(
            "se observaron {} días; se necesitan al menos {MIN_OBSERVED_DAYS}",
            cases.len()
        )));
    }
    if cases.len() > MAX_DAYS as usize {
        return Err(EpiError::invalid(
            "daily_cases",
            format!("se dieron {} días; el máximo es {MAX_DAYS}", cases.len()),
        ));
    }
    if let Some((day, value)) = cases
        .iter()
        .enumerate()
        .find(|(_, y)| !y.is_finite() || **y < 0.0)
    {
        return Err(EpiError::invalid(
            "daily_cases",
            format!(
                "el día {} tiene {value} casos; deben ser un número no negativo",
                day + 1
            ),
        ));
    }
    if cases.iter().all(|&y| y == 0.0) {
        return Err(EpiError::InsufficientData(
            "no se observó ningún caso; no hay nada que ajustar".into(),
        ));
    }
    let (r0_min, r0_max) = (settings.r0_min, settings.r0_max);
    if !r0_min.is_finite() || r0_min <= 0.0 || !r0_max.is_finite() || r0_max > MAX_R0 {
        return Err(EpiError::invalid(
            "r0_min",
            format!(
                "se dio el intervalo de R0 [{r0_min}, {r0_max}]; debe estar dentro de (0, {MAX_R0}]"
            ),
        ));
    }
    if r0_min >= r0_max {
        return Err(EpiError::invalid(
            "r0_max",
            format!("el R0 máximo ({r0_max}) debe ser mayor que el mínimo ({r0_min})"),
        ));
    }
    if let ReportingFraction::Known(rho) = settings.reporting
        && !(rho > 0.0 && rho <= 1.0)
    {
        return Err(EpiError::invalid(
            "reporting_fraction",
            format!("se dio {rho}; debe ser mayor que 0 y como mucho 1"),
        ));
    }

    // Validate with the fastest transmission searched, so every run is allowed.
    let mut model = base.clone();
    model.days = u32::try_from(cases.len()).unwrap_or(MAX_DAYS);
    model.disease.transmission = Transmission::BasicReproductionNumber(r0_max);
    let mut prepared = Prepared::new(&model)?;
    let selected = observed
        .patch_codes
        .as_ref()
        .map(|codes| patch_indices(codes, &model.patches))
        .transpose()?;

    let gamma = prepared.gamma_per_day;
    let mut runs = 0;
    let mut fit_at = |log_beta: f64| -> Fit {
        prepared.beta_per_day = log_beta.exp();
        runs += 1;
        let run = ode::integrate(&prepared, &model);
        let modelled: Vec<f64> = (1..=cases.len())
            .map(|day| match &selected {
                None => run.total.new_cases[day],
                Some(patches) => patches
                    .iter()
                    .map(|&p| run.patches[p].series.new_cases[day])
                    .sum(),
            })
            .collect();
        Fit::new(cases, &modelled, settings.reporting)
    };

    let (low, high) = ((r0_min * gamma).ln(), (r0_max * gamma).ln());
    let grid_step = (high - low) / (SCAN_POINTS - 1) as f64;
    let mut best = (0, f64::INFINITY);
    for k in 0..SCAN_POINTS {
        let deviance = fit_at(low + grid_step * k as f64).deviance;
        if deviance < best.1 {
            best = (k, deviance);
        }
    }
    let mut a = low + grid_step * best.0.saturating_sub(1) as f64;
    let mut b = low + grid_step * (best.0 + 1).min(SCAN_POINTS - 1) as f64;
    let inverse_golden = (5.0_f64.sqrt() - 1.0) / 2.0;
    let mut c = b - inverse_golden * (b - a);
    let mut d = a + inverse_golden * (b - a);
    let (mut fc, mut fd) = (fit_at(c).deviance, fit_at(d).deviance);
    while b - a > LOG_BETA_TOLERANCE {
        if fc <= fd {
            (b, d, fd) = (d, c, fc);
            c = b - inverse_golden * (b - a);
            fc = fit_at(c).deviance;
        } else {
            (a, c, fc) = (c, d, fd);
            d = a + inverse_golden * (b - a);
            fd = fit_at(d).deviance;
        }
    }
    let log_beta = (a + b) / 2.0;
    let fit = fit_at(log_beta);
    let beta_per_day = log_beta.exp();
    Ok(Calibration {
        beta_per_day,
        r0: beta_per_day / gamma,
        reporting_fraction: fit.reporting_fraction,
        poisson_deviance: fit.deviance,
        root_mean_square_error: fit.root_mean_square_error,
        fitted_daily_cases: fit.expected,
        model_runs: runs,
    })
}

#[derive(Debug)]
struct Fit {
    reporting_fraction: f64,
    expected: Vec<f64>,
    deviance: f64,
    root_mean_square_error: f64,
}

impl Fit {
    fn new(observed: &[f64], modelled: &[f64], reporting: ReportingFraction) -> Fit {
        let reporting_fraction = match reporting {
            ReportingFraction::Known(rho) => rho,
            ReportingFraction::Estimate => {
                let modelled_total: f64 = modelled.iter().sum();
                if modelled_total > 0.0 {
                    (observed.iter().sum::<f64>() / modelled_total).min(1.0)
                } else {
                    1.0
                }
            }
        };
        let expected: Vec<f64> = modelled
            .iter()
            .map(|m| (reporting_fraction * m).max(0.0))
            .collect();
        let deviance = 2.0
            * observed
                .iter()
                .zip(&expected)
                .map(|(&y, &mu)| {
                    let mu = mu.max(MIN_EXPECTED);
                    if y > 0.0 {
                        y * (y / mu).ln() - (y - mu)
                    } else {
                        mu
                    }
                })
                .sum::<f64>();
        let squares: f64 = observed
            .iter()
            .zip(&expected)
            .map(|(y, mu)| (y - mu).powi(2))
            .sum();
        Fit {
            reporting_fraction,
            expected,
            deviance,
            root_mean_square_error: (squares / observed.len() as f64).sqrt(),
        }
    }
}
