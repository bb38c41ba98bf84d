//! Short-term forecasts of daily incidence, 1 to 28 days ahead, from an ensemble of the growth
//! models of [`crate::growth`], beside a naive baseline; and the scores of a past forecast once
//! its days have been observed.
//!
//! Per model (Chowell et al. 2017): fit the last `calibration_days` of incidence, then a
//! parametric bootstrap: draw `bootstrap_samples` series of counts around the fitted curve
//! (Poisson, or negative binomial with the fit's robust dispersion when the data are noisier
//! than Poisson), refit each, project each refit `horizon_days` ahead and draw one count per day
//! around the projection, so the intervals hold both parameter and observation noise. The
//! summaries are quantiles of those draws: the median, and the 25–75 % and 2.5–97.5 % ranges.
//!
//! Ensemble: Akaike weights, `w ∝ exp(−ΔAIC/2)` (Burnham & Anderson; the relative likelihoods
//! of Chowell et al.'s 2022 ensembles), with `AIC = n·ln(RSS/n) + 2k` from the Gaussian
//! quasi-likelihood of the Anscombe residuals the models are fitted on. Every model has `k = 4`,
//! so `ΔAIC = n·ln(RSS/RSS_best)`: models that fit alike share the weight, and a model that fits
//! clearly worse drops out instead of widening every interval. The ensemble's quantiles are those
//! of the weighted mixture of the models' draws.
//!
//! Territories with too few cases are not fitted: with no case in the window the forecast is
//! zero (status [`ForecastStatus::NoCasesInWindow`]), which is what epidemiologists expect of a
//! quiet territory; with fewer than [`MIN_CASES_TO_FIT`] the ensemble is the naive baseline
//! (status [`ForecastStatus::TooFewCases`]), because a growth curve through a handful of sporadic
//! cases is noise.
//!
//! Every random draw comes from `seed`: the same data and options give the same forecast.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Poisson};
use serde::{Deserialize, Serialize};
use statrs::distribution::{DiscreteCDF, Poisson as PoissonLaw};

use crate::EpiError;
use crate::growth::{self, GrowthModel, GrowthParams};

/// Longest forecast, in days (four weeks).
pub const MAX_HORIZON_DAYS: usize = 28;
/// Shortest calibration window, in days.
pub const MIN_CALIBRATION_DAYS: usize = growth::MIN_FIT_DAYS;
/// Longest calibration window, in days (half a year: a short-term forecast follows the current
/// wave).
pub const MAX_CALIBRATION_DAYS: usize = 182;
/// Fewest bootstrap samples: fewer cannot place a 2.5 % quantile.
pub const MIN_BOOTSTRAP_SAMPLES: usize = 20;
/// Most bootstrap samples (the cost grows linearly).
pub const MAX_BOOTSTRAP_SAMPLES: usize = 2_000;
/// Longest incidence series accepted, in days (a century).
pub const MAX_SERIES_DAYS: usize = 36_600;
/// Days the naive baseline averages.
pub const BASELINE_DAYS: usize = 7;
/// Fewest cases in the calibration window for the growth models to be fitted.
pub const MIN_CASES_TO_FIT: f64 = 20.0;
/// Largest daily count a projection may reach; a curve that overflows is held here.
pub const MAX_FORECAST_CASES: f64 = 1e9;

/// How to forecast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForecastOptions {
    /// Days of recent incidence the models are fitted to.
    pub calibration_days: usize,
    /// Days ahead to forecast, 1 to [`MAX_HORIZON_DAYS`].
    pub horizon_days: usize,
    /// Bootstrap samples per model.
    pub bootstrap_samples: usize,
    /// Seed of every random draw.
    pub seed: u64,
    /// The models of the ensemble, each at most once.
    pub models: Vec<GrowthModel>,
}

impl Default for ForecastOptions {
    fn default() -> ForecastOptions {
        ForecastOptions {
            calibration_days: 42,
            horizon_days: MAX_HORIZON_DAYS,
            bootstrap_samples: 200,
            seed: 0,
            models: GrowthModel::ALL.to_vec(),
        }
    }
}

impl ForecastOptions {
    /// Refuses options outside their limits.
    pub fn validate(&self) -> Result<(), EpiError> {
        if !(MIN_CALIBRATION_DAYS..=MAX_CALIBRATION_DAYS).contains(&self.calibration_days) {
            return Err(EpiError::invalid(
                "calibration_days",
                format!(
                    "la ventana de calibración es de {} días; debe tener entre \
                     {MIN_CALIBRATION_DAYS} y {MAX_CALIBRATION_DAYS}",
                    self.calibration_days
                ),
            ));
        }
        check_horizon(self.horizon_days)?;
        if !(MIN_BOOTSTRAP_SAMPLES..=MAX_BOOTSTRAP_SAMPLES).contains(&self.bootstrap_samples) {
            return Err(EpiError::invalid(
                "bootstrap_samples",
                format!(
                    "se pidieron {} muestras bootstrap; deben ser entre {MIN_BOOTSTRAP_SAMPLES} \
                     y {MAX_BOOTSTRAP_SAMPLES}",
                    self.bootstrap_samples
                ),
            ));
        }
        if self.models.is_empty() {
            return Err(EpiError::invalid(
                "models",
                "la lista de modelos está vacía; hace falta al menos uno",
            ));
        }
        for (i, model) in self.models.iter().enumerate() {
            if self.models[..i].contains(model) {
                return Err(EpiError::invalid(
                    "models",
                    format!("el modelo {} aparece más de una vez", model.label()),
                ));
            }
        }
        Ok(())
    }
}

fn check_horizon(horizon_days: usize) -> Result<(), EpiError> {
    if (1..=MAX_HORIZON_DAYS).contains(&horizon_days) {
        Ok(())
    } else {
        Err(EpiError::invalid(
            "horizon_days",
            format!(
                "el horizonte es de {horizon_days} días; debe estar entre 1 y {MAX_HORIZON_DAYS}"
            ),
        ))
    }
}

/// The forecast of one day: the median and two central prediction intervals of its count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastDay {
    /// 1 for the day after the last observed day, and so on.
    pub days_ahead: usize,
    /// The median, the point forecast.
    pub median: f64,
    /// 2.5 % quantile: lower end of the 95 % interval.
    pub lower_95: f64,
    /// 97.5 % quantile: upper end of the 95 % interval.
    pub upper_95: f64,
    /// 25 % quantile: lower end of the 50 % interval.
    pub lower_50: f64,
    /// 75 % quantile: upper end of the 50 % interval.
    pub upper_50: f64,
}

/// Whether the growth models were fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForecastStatus {
    /// The models were fitted; the ensemble is their weighted mixture.
    Fitted,
    /// Fewer than [`MIN_CASES_TO_FIT`] cases in the window: the ensemble is the naive baseline.
    TooFewCases,
    /// No case in the window: everything is zero.
    NoCasesInWindow,
}

/// One model's fit and forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelForecast {
    /// The model.
    pub model: GrowthModel,
    /// Its parameters fitted to the calibration window (day 0 is the window's first day).
    pub params: GrowthParams,
    /// Its weight in the ensemble; the weights add up to 1.
    pub weight: f64,
    /// Mean squared error of the fit over the calibration window, in cases² per day².
    pub calibration_mse: f64,
    /// Akaike information criterion of the fit (see the module's documentation); lower is
    /// better, and only differences between models mean anything.
    pub aic: f64,
    /// Variance over mean of the data around the fit (1 is Poisson), used by the bootstrap.
    pub dispersion: f64,
    /// The fitted daily incidence over the calibration window.
    pub fitted_incidence: Vec<f64>,
    /// The forecast, one entry per day ahead.
    pub days: Vec<ForecastDay>,
}

/// A territory's forecast, kept so that it can be scored once its days have passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// The options it was made with.
    pub options: ForecastOptions,
    /// Whether the models were fitted.
    pub status: ForecastStatus,
    /// Cases in the calibration window.
    pub cases_in_window: f64,
    /// The ensemble forecast, one entry per day ahead.
    pub ensemble: Vec<ForecastDay>,
    /// Each fitted model, in the order of `options.models`; empty unless `status` is
    /// [`ForecastStatus::Fitted`].
    pub models: Vec<ModelForecast>,
    /// The naive baseline, one entry per day ahead.
    pub baseline: Vec<ForecastDay>,
}

/// Forecasts the days after the last of `incidence` (daily counts, oldest first).
pub fn forecast(incidence: &[f64], options: &ForecastOptions) -> Result<Forecast, EpiError> {
    options.validate()?;
    check_series(
        incidence,
        options.calibration_days,
        &format!(
            "la ventana de calibración pide {}",
            options.calibration_days
        ),
    )?;
    let window = &incidence[incidence.len() - options.calibration_days..];
    let baseline = naive_baseline(incidence, options.horizon_days)?;
    let cases_in_window: f64 = window.iter().sum();
    let unfitted = |status| Forecast {
        options: options.clone(),
        status,
        cases_in_window,
        ensemble: baseline.clone(),
        models: Vec::new(),
        baseline: baseline.clone(),
    };
    if cases_in_window == 0.0 {
        return Ok(unfitted(ForecastStatus::NoCasesInWindow));
    }
    if cases_in_window < MIN_CASES_TO_FIT {
        return Ok(unfitted(ForecastStatus::TooFewCases));
    }

    let mut models = Vec::with_capacity(options.models.len());
    let mut draws_per_model = Vec::with_capacity(options.models.len());
    for &model in &options.models {
        let (forecast, draws) = bootstrap_model(model, window, options)?;
        models.push(forecast);
        draws_per_model.push(draws);
    }

    let best_aic = models.iter().map(|m| m.aic).fold(f64::INFINITY, f64::min);
    let likelihoods: Vec<f64> = models
        .iter()
        .map(|m| (-(m.aic - best_aic) / 2.0).exp())
        .collect();
    let total: f64 = likelihoods.iter().sum();
    for (model, likelihood) in models.iter_mut().zip(&likelihoods) {
        model.weight = likelihood / total;
    }

    let ensemble = (0..options.horizon_days)
        .map(|h| {
            let mut mixture: Vec<(f64, f64)> = models
                .iter()
                .zip(&draws_per_model)
                .flat_map(|(model, draws)| {
                    let each = model.weight / draws[h].len() as f64;
                    draws[h].iter().map(move |&value| (value, each))
                })
                .collect();
            summarise(h + 1, &mut mixture)
        })
        .collect();

    Ok(Forecast {
        options: options.clone(),
        status: ForecastStatus::Fitted,
        cases_in_window,
        ensemble,
        models,
        baseline,
    })
}

/// Refuses a series too long, with a bad count, or shorter than `min_days`, which `needs`
/// explains ("la ventana de calibración pide 42").
fn check_series(incidence: &[f64], min_days: usize, needs: &str) -> Result<(), EpiError> {
    if incidence.len() > MAX_SERIES_DAYS {
        return Err(EpiError::invalid(
            "incidence",
            format!(
                "la serie tiene {} días; el máximo es {MAX_SERIES_DAYS}",
                incidence.len()
            ),
        ));
    }
    growth::check_counts("incidence", incidence)?;
    if incidence.len() < min_days {
        return Err(EpiError::InsufficientData(format!(
            "la serie tiene {} días y {needs}",
            incidence.len()
        )));
    }
    Ok(())
}

/// Fits one model and runs its bootstrap; returns its forecast (weight still 0) and its draws,
/// `draws[h][j]` for day `h + 1` ahead and sample `j`.
fn bootstrap_model(
    model: GrowthModel,
    window: &[f64],
    options: &ForecastOptions,
) -> Result<(ModelForecast, Vec<Vec<f64>>), EpiError> {
    let detailed = growth::fit_detailed(model, window)?;
    let fit = detailed.fit;
    let days = window.len();
    // The floor (a residual of 1e-6 a day) keeps a curve through noiseless data finite.
    let rss = fit.anscombe_sum_of_squares.max(days as f64 * 1e-12);
    let aic = days as f64 * (rss / days as f64).ln() + 2.0 * growth::N_THETA as f64;
    let horizon = options.horizon_days;
    // One stream per model, fixed by the model and not by its place in the list, so adding or
    // removing a model leaves the others' draws as they were.
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    rng.set_stream(model_stream(model));

    let mut resampled = vec![0.0; days];
    let mut curve = vec![0.0; days + horizon + 1];
    let mut draws = vec![Vec::with_capacity(options.bootstrap_samples); horizon];
    for _ in 0..options.bootstrap_samples {
        for (count, &mean) in resampled.iter_mut().zip(&fit.fitted_incidence) {
            *count = draw_count(mean, fit.dispersion, &mut rng);
        }
        let theta = growth::refit(model, &resampled, &detailed.theta, detailed.huber_delta);
        growth::params_from_theta(model, &theta).fill_cumulative(&mut curve);
        for (h, day_draws) in draws.iter_mut().enumerate() {
            let mean = projected_mean(curve[days + h + 1] - curve[days + h]);
            day_draws.push(draw_count(mean, fit.dispersion, &mut rng));
        }
    }
    let summaries = draws
        .iter()
        .enumerate()
        .map(|(h, day_draws)| {
            let each = 1.0 / day_draws.len() as f64;
            let mut weighted: Vec<(f64, f64)> = day_draws.iter().map(|&v| (v, each)).collect();
            summarise(h + 1, &mut weighted)
        })
        .collect();
    Ok((
        ModelForecast {
            model,
            params: fit.params,
            weight: 0.0,
            calibration_mse: fit.mean_squared_error,
            aic,
            dispersion: fit.dispersion,
            fitted_incidence: fit.fitted_incidence,
            days: summaries,
        },
        draws,
    ))
}

fn model_stream(model: GrowthModel) -> u64 {
    match model {
        GrowthModel::GeneralizedLogistic => 1,
        GrowthModel::Richards => 2,
        GrowthModel::GeneralizedGompertz => 3,
    }
}

/// A projected daily incidence held in `[0, MAX_FORECAST_CASES]`; a curve that overflowed
/// (infinite or NaN from ∞ − ∞) is taken as the cap.
fn projected_mean(mean: f64) -> f64 {
    if mean.is_nan() {
        MAX_FORECAST_CASES
    } else {
        mean.clamp(0.0, MAX_FORECAST_CASES)
    }
}

/// A count of mean `mean` and variance `dispersion·mean`: Poisson when `dispersion` is 1, else
/// negative binomial as a Gamma–Poisson mixture.
fn draw_count(mean: f64, dispersion: f64, rng: &mut ChaCha8Rng) -> f64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0.0;
    }
    let rate = if dispersion > 1.0 {
        let excess = dispersion - 1.0;
        match Gamma::new(mean / excess, excess) {
            Ok(gamma) => gamma.sample(rng),
            Err(_) => mean,
        }
    } else {
        mean
    };
    if rate.is_nan() || rate <= 0.0 {
        return 0.0;
    }
    match Poisson::new(rate) {
        Ok(poisson) => poisson.sample(rng),
        // Only a rate beyond Poisson's range (≈1.8e19) lands here, far above the caps.
        Err(_) => rate.round(),
    }
}

/// The quantiles of a weighted sample (`(value, weight)`, weights positive): for level `q`, the
/// smallest value whose cumulative weight reaches `q` of the total (the inverse of the
/// empirical distribution function).
fn summarise(days_ahead: usize, sample: &mut [(f64, f64)]) -> ForecastDay {
    sample.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = sample.iter().map(|&(_, weight)| weight).sum();
    let quantile = |level: f64| {
        // The tolerance absorbs rounding in the running sum, e.g. 0.1 + 0.2 ≠ 0.3.
        let target = level * total * (1.0 - 1e-12);
        let mut cumulative = 0.0;
        for &(value, weight) in sample.iter() {
            cumulative += weight;
            if cumulative >= target {
                return value;
            }
        }
        sample.last().map_or(0.0, |&(value, _)| value)
    };
    ForecastDay {
        days_ahead,
        median: quantile(0.5),
        lower_95: quantile(0.025),
        upper_95: quantile(0.975),
        lower_50: quantile(0.25),
        upper_50: quantile(0.75),
    }
}

/// The naive baseline: the mean of the last [`BASELINE_DAYS`] days carried forward, with the
/// quantiles of a Poisson count of that mean (the noise a count would have if the rate stayed
/// flat; it ignores trend and overdispersion, which is what a baseline is for).
pub fn naive_baseline(
    incidence: &[f64],
    horizon_days: usize,
) -> Result<Vec<ForecastDay>, EpiError> {
    check_horizon(horizon_days)?;
    check_series(
        incidence,
        BASELINE_DAYS,
        &format!("la línea de base promedia los últimos {BASELINE_DAYS}"),
    )?;
    let last_week = &incidence[incidence.len() - BASELINE_DAYS..];
    let mean = last_week.iter().sum::<f64>() / BASELINE_DAYS as f64;
    let quantile = |level: f64| match PoissonLaw::new(mean) {
        Ok(law) => law.inverse_cdf(level) as f64,
        // Only a zero mean is refused by the law, and a zero rate gives zero cases.
        Err(_) => 0.0,
    };
    let day = ForecastDay {
        days_ahead: 0,
        median: quantile(0.5),
        lower_95: quantile(0.025),
        upper_95: quantile(0.975),
        lower_50: quantile(0.25),
        upper_50: quantile(0.75),
    };
    Ok((1..=horizon_days)
        .map(|days_ahead| ForecastDay { days_ahead, ..day })
        .collect())
}

/// How well a forecast did over the days that have been observed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Days scored: those both forecast and observed.
    pub days_scored: usize,
    /// Mean of `|median − observed|`, in cases per day.
    pub mean_absolute_error: f64,
    /// Mean of `|median − observed| / max(observed, 1)`: relative to the observation, and to one
    /// case on a day with none (so a day with no cases does not divide by zero).
    pub mean_relative_error: f64,
    /// Fraction of observations inside the 50 % interval, ends included.
    pub coverage_50: f64,
    /// Fraction of observations inside the 95 % interval, ends included.
    pub coverage_95: f64,
    /// Mean weighted interval score (Bracher et al. 2021) from the median and the two
    /// intervals: `(½|y − m| + Σ_α (α/2)·IS_α) / 2.5` for α = 0.5 and 0.05, with
    /// `IS_α = (u − l) + (2/α)·(l − y)⁺ + (2/α)·(y − u)⁺`. Lower is better.
    pub weighted_interval_score: f64,
}

/// Scores of one model of a stored forecast.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelScores {
    /// The model.
    pub model: GrowthModel,
    /// Its scores.
    pub scores: Scores,
}

/// Scores of a stored forecast: the ensemble, the naive baseline beside it, and each model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastScores {
    /// Days scored.
    pub days_scored: usize,
    /// The ensemble's scores.
    pub ensemble: Scores,
    /// The naive baseline's scores, for comparison.
    pub baseline: Scores,
    /// Each model's scores (none unless the models were fitted).
    pub models: Vec<ModelScores>,
}

/// Scores forecast `days` against `observed`, where `observed[i]` is the count of day `i + 1`
/// ahead. Only days both forecast and observed are scored (the first
/// `min(days.len(), observed.len())`), so a forecast can be scored while its later days are
/// still to come.
pub fn score_days(days: &[ForecastDay], observed: &[f64]) -> Result<Scores, EpiError> {
    check_forecast_days(days)?;
    growth::check_counts("observed", observed)?;
    let scored = days.len().min(observed.len());
    if scored == 0 {
        return Err(EpiError::InsufficientData(
            "ningún día del pronóstico ha sido observado todavía".into(),
        ));
    }
    let (mut absolute, mut relative, mut inside_50, mut inside_95, mut interval_score) =
        (0.0, 0.0, 0.0, 0.0, 0.0);
    for (day, &y) in days.iter().zip(observed) {
        let error = (day.median - y).abs();
        absolute += error;
        relative += error / y.max(1.0);
        if (day.lower_50..=day.upper_50).contains(&y) {
            inside_50 += 1.0;
        }
        if (day.lower_95..=day.upper_95).contains(&y) {
            inside_95 += 1.0;
        }
        interval_score += (0.5 * error
            + 0.25 * interval_width_score(day.lower_50, day.upper_50, 0.5, y)
            + 0.025 * interval_width_score(day.lower_95, day.upper_95, 0.05, y))
            / 2.5;
    }
    let n = scored as f64;
    Ok(Scores {
        days_scored: scored,
        mean_absolute_error: absolute / n,
        mean_relative_error: relative / n,
        coverage_50: inside_50 / n,
        coverage_95: inside_95 / n,
        weighted_interval_score: interval_score / n,
    })
}

/// The interval score `IS_α` of `[lower, upper]` for observation `y`.
fn interval_width_score(lower: f64, upper: f64, alpha: f64, y: f64) -> f64 {
    (upper - lower) + 2.0 / alpha * (lower - y).max(0.0) + 2.0 / alpha * (y - upper).max(0.0)
}

/// Refuses forecast days that could not have come from [`forecast`]: out of order, not finite,
/// negative or with intervals not nested around the median (a corrupted stored forecast).
fn check_forecast_days(days: &[ForecastDay]) -> Result<(), EpiError> {
    if days.len() > MAX_HORIZON_DAYS {
        return Err(EpiError::invalid(
            "days",
            format!(
                "el pronóstico tiene {} días; el máximo es {MAX_HORIZON_DAYS}",
                days.len()
            ),
        ));
    }
    for (i, day) in days.iter().enumerate() {
        if day.days_ahead != i + 1 {
            return Err(EpiError::invalid(
                "days",
                format!(
                    "la entrada {i} es del día {} adelante; se esperaba el día {}",
                    day.days_ahead,
                    i + 1
                ),
            ));
        }
        let ordered = [
            day.lower_95,
            day.lower_50,
            day.median,
            day.upper_50,
            day.upper_95,
        ];
        let valid = ordered.iter().all(|v| v.is_finite() && *v >= 0.0)
            && ordered.windows(2).all(|pair| pair[0] <= pair[1]);
        if !valid {
            return Err(EpiError::invalid(
                "days",
                format!(
                    "el día {} adelante no es válido: los valores deben ser finitos, no \
                     negativos y cumplir inferior 95 % ≤ inferior 50 % ≤ mediana ≤ superior \
                     50 % ≤ superior 95 % (se recibió {ordered:?})",
                    day.days_ahead
                ),
            ));
        }
    }
    Ok(())
}

/// Scores a stored forecast against the counts observed since it was made (`observed[i]` is
/// the count of day `i + 1` ahead); see [`score_days`].
pub fn score_forecast(forecast: &Forecast, observed: &[f64]) -> Result<ForecastScores, EpiError> {
    let ensemble = score_days(&forecast.ensemble, observed)?;
    let baseline = score_days(&forecast.baseline, observed)?;
    let models = forecast
        .models
        .iter()
        .map(|model| {
            Ok(ModelScores {
                model: model.model,
                scores: score_days(&model.days, observed)?,
            })
        })
        .collect::<Result<Vec<_>, EpiError>>()?;
    Ok(ForecastScores {
        days_scored: ensemble.days_scored,
        ensemble,
        baseline,
        models,
    })
}
