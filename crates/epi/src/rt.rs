//! The time-varying (instantaneous) reproduction number Rt by the method of Cori et al. (2013),
//! as the R package EpiEstim computes it (`estimate_R` with `method = "parametric_si"` or
//! `"non_parametric_si"` and its default weekly sliding windows).
//!
//! Model: local incidence on day t is Poisson with mean Rt·Λt, where the total infectiousness
//! Λt = Σ_{k≥1} w_k (local + imported)_{t-k} weighs past cases by the serial interval w. With a
//! gamma prior (shape a, scale b) on R, constant over a window of τ days ending on day t, the
//! posterior is gamma with shape a + Σ local and scale 1 / (1/b + Σ Λ), sums over the window.
//! Imported cases infect but were not infected here, so they enter Λ and not the numerator.
//!
//! Conventions, all as EpiEstim: days are 0-based indexes into the series; the first day is
//! never inside a window (EpiEstim treats its cases as imported), so windows start on day 1 and
//! slide by one day, `t_end = t_start + window_days - 1`; a window is only reported once its
//! last day, counted from 1, exceeds the mean serial interval (earlier estimates have seen
//! almost no infectors).
//!
//! Departures from EpiEstim, each documented where it happens: a supplied serial interval is
//! renormalised to sum to one (EpiEstim accepts a sum within 0.01 of one and uses it as is);
//! the parametric serial interval is cut where its tail mass falls below
//! [`SERIAL_INTERVAL_TAIL_MASS`] (EpiEstim cuts it at the length of the series); and
//! reliability is a per-window flag (EpiEstim warns once, about the first window).
//!
//! Cost: O(n·L) for the total infectiousness (n days, L serial interval days, about 40 with the
//! defaults), O(n·τ) for the window sums, and three gamma quantiles per window.

mod gamma;

use serde::{Deserialize, Serialize};

use crate::EpiError;

/// Longest incidence series accepted, in days (27 years of daily data).
pub const MAX_SERIES_DAYS: usize = 10_000;
/// Longest sliding window accepted, in days.
pub const MAX_WINDOW_DAYS: usize = 365;
/// Most cases accepted on one day in one series (local or imported): about nine times Cuba's
/// population, so only a data error reaches it; it also keeps every sum exact in `f64`.
pub const MAX_DAILY_CASES: u64 = 100_000_000;
/// Longest serial interval support, in days: a parametric serial interval whose tail beyond
/// this still holds more than [`SERIAL_INTERVAL_TAIL_MASS`] is refused, and so is a supplied
/// distribution with more entries than this plus one.
pub const MAX_SERIAL_INTERVAL_DAYS: usize = 365;
/// The parametric serial interval is cut after the first day k where the mass beyond k is at
/// most this; the mass left out changes Λ by at most this fraction.
pub const SERIAL_INTERVAL_TAIL_MASS: f64 = 1e-9;
/// Largest mean serial interval accepted by the parametric form, in days.
pub const MAX_SERIAL_INTERVAL_MEAN_DAYS: f64 = 60.0;
/// Smallest serial interval standard deviation accepted by the parametric form, in days: below
/// it the gamma shape explodes (shape = ((mean - 1)/sd)²) and the serial interval is a point.
pub const MIN_SERIAL_INTERVAL_SD_DAYS: f64 = 0.1;
/// Largest serial interval standard deviation accepted by the parametric form, in days.
pub const MAX_SERIAL_INTERVAL_SD_DAYS: f64 = 60.0;
/// How far from one the sum of a supplied serial interval may be before it is refused
/// (EpiEstim's tolerance); within it, the distribution is renormalised.
pub const SERIAL_INTERVAL_SUM_TOLERANCE: f64 = 0.01;
/// Largest prior mean and prior standard deviation of R accepted.
pub const MAX_PRIOR: f64 = 100.0;
/// The prior standard deviation may be at most this many times the prior mean (so the prior
/// shape is at least 0.01; smaller shapes put quantiles below the smallest `f64`).
pub const MAX_PRIOR_SD_TO_MEAN: f64 = 10.0;
/// Largest `max_posterior_cv` accepted.
pub const MAX_POSTERIOR_CV_LIMIT: f64 = 10.0;

/// The serial interval: the distribution, in days, of the time between symptom onset in an
/// infector and in the person infected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SerialInterval {
    /// EpiEstim's `"parametric_si"`: one plus a gamma variable of mean `mean_days - 1` and
    /// standard deviation `sd_days`, discretised as EpiEstim's `discr_si` (Cori et al. 2013,
    /// Web Appendix 11). The mean must exceed one day.
    Parametric {
        /// Mean serial interval, in days; in (1, [`MAX_SERIAL_INTERVAL_MEAN_DAYS`]].
        mean_days: f64,
        /// Standard deviation, in days; in
        /// [[`MIN_SERIAL_INTERVAL_SD_DAYS`], [`MAX_SERIAL_INTERVAL_SD_DAYS`]].
        sd_days: f64,
    },
    /// EpiEstim's `"non_parametric_si"`: `probabilities[k]` is the probability of a serial
    /// interval of k days. The first entry must be 0, none negative, and the sum within
    /// [`SERIAL_INTERVAL_SUM_TOLERANCE`] of one; it is renormalised to sum to one.
    NonParametric {
        /// Probability of each serial interval from 0 days up.
        probabilities: Vec<f64>,
    },
}

/// Default mean serial interval, in days.
pub const DEFAULT_SERIAL_INTERVAL_MEAN_DAYS: f64 = 4.8;
/// Default serial interval standard deviation, in days.
pub const DEFAULT_SERIAL_INTERVAL_SD_DAYS: f64 = 2.3;

impl Default for SerialInterval {
    fn default() -> Self {
        SerialInterval::Parametric {
            mean_days: DEFAULT_SERIAL_INTERVAL_MEAN_DAYS,
            sd_days: DEFAULT_SERIAL_INTERVAL_SD_DAYS,
        }
    }
}

impl SerialInterval {
    /// The daily weights used in Λ, validated; see [`DiscreteSerialInterval`].
    ///
    /// # Errors
    /// [`EpiError::InvalidParameter`] naming the field out of its domain.
    pub fn discretise(&self) -> Result<DiscreteSerialInterval, EpiError> {
        match self {
            SerialInterval::Parametric { mean_days, sd_days } => {
                discretise_offset_gamma(*mean_days, *sd_days)
            }
            SerialInterval::NonParametric { probabilities } => normalise_supplied(probabilities),
        }
    }
}

/// A serial interval as daily weights: `weights()[k]` is the probability of k days, with
/// `weights()[0] == 0` (nobody infects on the day they fall ill), summing to one (to
/// [`SERIAL_INTERVAL_TAIL_MASS`] for the parametric form), without trailing zeros.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscreteSerialInterval {
    weights: Vec<f64>,
}

impl DiscreteSerialInterval {
    /// The weights, from 0 days up.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Mean of the discrete distribution, in days.
    pub fn mean_days(&self) -> f64 {
        self.weights
            .iter()
            .enumerate()
            .map(|(k, w)| k as f64 * w)
            .sum()
    }

    /// Standard deviation of the discrete distribution, in days.
    pub fn sd_days(&self) -> f64 {
        let mean = self.mean_days();
        let variance: f64 = self
            .weights
            .iter()
            .enumerate()
            .map(|(k, w)| (k as f64 - mean).powi(2) * w)
            .sum();
        variance.sqrt()
    }

    /// Λ_t = Σ_{k≥1} w_k · infectors_{t-k} for every day t (Λ_0 = 0: nothing came before).
    fn total_infectiousness(&self, infectors: &[f64]) -> Vec<f64> {
        (0..infectors.len())
            .map(|t| {
                let longest_lag = (self.weights.len() - 1).min(t);
                (1..=longest_lag)
                    .map(|lag| self.weights[lag] * infectors[t - lag])
                    .sum()
            })
            .collect()
    }
}

/// EpiEstim's `discr_si`: w_k = ∫ (1 - |u - k|)₊ g(u - 1) du with g the gamma density of shape
/// a = ((mean - 1)/sd)² and scale θ = sd²/(mean - 1); in closed form
/// w_k = kF(k) + (k-2)F(k-2) - 2(k-1)F(k-1) + aθ(2F₁(k-1) - F₁(k-2) - F₁(k)),
/// F the gamma CDF and F₁ the one with shape a + 1. Before the cut the discrete mean is exactly
/// `mean_days` and the variance sd² + E[f(1 - f)] ≈ sd² + 1/6, f the fractional part of the
/// gamma variable (the kernel interpolates k² linearly between integers).
fn discretise_offset_gamma(
    mean_days: f64,
    sd_days: f64,
) -> Result<DiscreteSerialInterval, EpiError> {
    if !mean_days.is_finite() || mean_days <= 1.0 || mean_days > MAX_SERIAL_INTERVAL_MEAN_DAYS {
        return Err(EpiError::invalid(
            "serial_interval.mean_days",
            format!(
                "se dio {mean_days}; la media del intervalo serial debe ser un número mayor que 1 \
                 y como mucho {MAX_SERIAL_INTERVAL_MEAN_DAYS} días"
            ),
        ));
    }
    if !sd_days.is_finite()
        || !(MIN_SERIAL_INTERVAL_SD_DAYS..=MAX_SERIAL_INTERVAL_SD_DAYS).contains(&sd_days)
    {
        return Err(EpiError::invalid(
            "serial_interval.sd_days",
            format!(
                "se dio {sd_days}; la desviación típica del intervalo serial debe estar entre \
                 {MIN_SERIAL_INTERVAL_SD_DAYS} y {MAX_SERIAL_INTERVAL_SD_DAYS} días"
            ),
        ));
    }
    let shape = ((mean_days - 1.0) / sd_days).powi(2);
    let scale_days = sd_days * sd_days / (mean_days - 1.0);
    let cdf = |days: f64| gamma::lower_regularized(shape, days / scale_days);
    let cdf_next_shape = |days: f64| gamma::lower_regularized(shape + 1.0, days / scale_days);

    let mut weights = vec![0.0];
    for k in 1..=MAX_SERIAL_INTERVAL_DAYS {
        let k_days = k as f64;
        let weight = k_days * cdf(k_days) + (k_days - 2.0) * cdf(k_days - 2.0)
            - 2.0 * (k_days - 1.0) * cdf(k_days - 1.0)
            + shape
                * scale_days
                * (2.0 * cdf_next_shape(k_days - 1.0)
                    - cdf_next_shape(k_days - 2.0)
                    - cdf_next_shape(k_days));
        // Rounding can leave -1e-17 where the true weight is +1e-17; EpiEstim clamps too.
        weights.push(weight.max(0.0));
        // The mass beyond day k is ∫_{k-1}^{k} (1 - F(u)) du ≤ 1 - F(k - 1), computed directly
        // in the upper tail so that it has no cancellation.
        let tail_bound = gamma::upper_regularized(shape, (k_days - 1.0) / scale_days);
        if tail_bound <= SERIAL_INTERVAL_TAIL_MASS {
            return Ok(DiscreteSerialInterval { weights });
        }
    }
    Err(EpiError::invalid(
        "serial_interval",
        format!(
            "con media {mean_days} y desviación típica {sd_days} días el intervalo serial tiene \
             más de {SERIAL_INTERVAL_TAIL_MASS} de probabilidad más allá de \
             {MAX_SERIAL_INTERVAL_DAYS} días, el máximo admitido"
        ),
    ))
}

/// Validates and renormalises a supplied serial interval.
fn normalise_supplied(probabilities: &[f64]) -> Result<DiscreteSerialInterval, EpiError> {
    const NAME: &str = "serial_interval.probabilities";
    if probabilities.len() > MAX_SERIAL_INTERVAL_DAYS + 1 {
        return Err(EpiError::invalid(
            NAME,
            format!(
                "tiene {} valores; como mucho {} (de 0 a {MAX_SERIAL_INTERVAL_DAYS} días)",
                probabilities.len(),
                MAX_SERIAL_INTERVAL_DAYS + 1
            ),
        ));
    }
    if let Some((day, value)) = probabilities
        .iter()
        .enumerate()
        .find(|(_, p)| !p.is_finite() || **p < 0.0)
    {
        return Err(EpiError::invalid(
            NAME,
            format!(
                "el valor del día {day} es {value}; cada probabilidad debe ser un número no \
                 negativo"
            ),
        ));
    }
    match probabilities.first() {
        None => {
            return Err(EpiError::invalid(
                NAME,
                "está vacía; debe dar la probabilidad de cada intervalo desde 0 días",
            ));
        }
        Some(&first) if first != 0.0 => {
            return Err(EpiError::invalid(
                NAME,
                format!(
                    "la probabilidad de 0 días es {first}; debe ser 0 (nadie contagia el mismo \
                     día en que enferma)"
                ),
            ));
        }
        Some(_) => {}
    }
    let total: f64 = probabilities.iter().sum();
    if total == 0.0 {
        return Err(EpiError::invalid(
            NAME,
            "todas las probabilidades son 0; debe sumar 1",
        ));
    }
    if (total - 1.0).abs() > SERIAL_INTERVAL_SUM_TOLERANCE {
        return Err(EpiError::invalid(
            NAME,
            format!(
                "suma {total}; debe sumar 1 (con una tolerancia de \
                 {SERIAL_INTERVAL_SUM_TOLERANCE})"
            ),
        ));
    }
    let last_nonzero = probabilities.iter().rposition(|p| *p > 0.0).unwrap_or(0);
    let weights = probabilities[..=last_nonzero]
        .iter()
        .map(|p| p / total)
        .collect();
    Ok(DiscreteSerialInterval { weights })
}

/// Default sliding window, in days.
pub const DEFAULT_WINDOW_DAYS: usize = 7;
/// Default prior mean of R (EpiEstim's).
pub const DEFAULT_PRIOR_MEAN: f64 = 5.0;
/// Default prior standard deviation of R (EpiEstim's): wide, so an Rt below one comes from the
/// data and not from the prior.
pub const DEFAULT_PRIOR_SD: f64 = 5.0;
/// Default largest posterior coefficient of variation of a reliable estimate (EpiEstim's
/// `cv_posterior`).
pub const DEFAULT_MAX_POSTERIOR_CV: f64 = 0.3;

/// How to estimate Rt. Missing fields take their defaults when deserialised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RtParams {
    /// Days in each sliding window, in [1, [`MAX_WINDOW_DAYS`]]; default 7.
    pub window_days: usize,
    /// The serial interval; default parametric with mean 4.8 and SD 2.3 days.
    pub serial_interval: SerialInterval,
    /// Prior mean of R, in (0, [`MAX_PRIOR`]]; default 5.
    pub prior_mean: f64,
    /// Prior standard deviation of R, in (0, [`MAX_PRIOR`]] and at most
    /// [`MAX_PRIOR_SD_TO_MEAN`] times the prior mean; default 5.
    pub prior_sd: f64,
    /// An estimate is flagged reliable only if its posterior coefficient of variation is at
    /// most this; in (0, [`MAX_POSTERIOR_CV_LIMIT`]]; default 0.3 (EpiEstim's `cv_posterior`).
    pub max_posterior_cv: f64,
}

impl Default for RtParams {
    fn default() -> Self {
        RtParams {
            window_days: DEFAULT_WINDOW_DAYS,
            serial_interval: SerialInterval::default(),
            prior_mean: DEFAULT_PRIOR_MEAN,
            prior_sd: DEFAULT_PRIOR_SD,
            max_posterior_cv: DEFAULT_MAX_POSTERIOR_CV,
        }
    }
}

/// The posterior of R over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RtEstimate {
    /// First day of the window (0-based index into the series).
    pub t_start: usize,
    /// Last day of the window, inclusive; the estimate is usually shown on this day.
    pub t_end: usize,
    /// Local cases in the window (the likelihood's numerator).
    pub local_cases: f64,
    /// Σ Λ over the window: the expected cases in it if R were one.
    pub total_infectiousness: f64,
    /// Shape of the gamma posterior.
    pub posterior_shape: f64,
    /// Scale of the gamma posterior.
    pub posterior_scale: f64,
    /// Posterior mean of R.
    pub mean: f64,
    /// Posterior standard deviation of R.
    pub sd: f64,
    /// 2.5 % posterior quantile: lower end of the 95 % credible interval.
    pub quantile_025: f64,
    /// Posterior median.
    pub median: f64,
    /// 97.5 % posterior quantile: upper end of the 95 % credible interval.
    pub quantile_975: f64,
    /// True when the window had infectors (`total_infectiousness > 0`; with none, the
    /// posterior is the prior updated by cases nobody here could have infected, which is what
    /// EpiEstim reports but says nothing about transmission) and the posterior coefficient of
    /// variation 1/√shape is at most `max_posterior_cv`. With the default prior (shape 1) and
    /// CV 0.3 that means at least 11 local cases in the window: EpiEstim's warning threshold,
    /// which it checks on the first window only and with imported cases counted too.
    pub reliable: bool,
}

/// Rt for many series with the same parameters: validates them and discretises the serial
/// interval once.
#[derive(Debug, Clone)]
pub struct RtEstimator {
    window_days: usize,
    serial_interval: DiscreteSerialInterval,
    serial_interval_mean_days: f64,
    prior_shape: f64,
    prior_scale: f64,
    max_posterior_cv: f64,
}

impl RtEstimator {
    /// Validates `params` and prepares the serial interval.
    ///
    /// # Errors
    /// [`EpiError::InvalidParameter`] naming the first parameter out of its domain.
    pub fn new(params: &RtParams) -> Result<RtEstimator, EpiError> {
        if !(1..=MAX_WINDOW_DAYS).contains(&params.window_days) {
            return Err(EpiError::invalid(
                "window_days",
                format!(
                    "se dio {}; la ventana debe tener entre 1 y {MAX_WINDOW_DAYS} días",
                    params.window_days
                ),
            ));
        }
        let prior_mean = params.prior_mean;
        if !prior_mean.is_finite() || prior_mean <= 0.0 || prior_mean > MAX_PRIOR {
            return Err(EpiError::invalid(
                "prior_mean",
                format!(
                    "se dio {prior_mean}; la media a priori de R debe ser mayor que 0 y como \
                     mucho {MAX_PRIOR}"
                ),
            ));
        }
        let prior_sd = params.prior_sd;
        if !prior_sd.is_finite() || prior_sd <= 0.0 || prior_sd > MAX_PRIOR {
            return Err(EpiError::invalid(
                "prior_sd",
                format!(
                    "se dio {prior_sd}; la desviación típica a priori de R debe ser mayor que 0 \
                     y como mucho {MAX_PRIOR}"
                ),
            ));
        }
        if prior_sd > MAX_PRIOR_SD_TO_MEAN * prior_mean {
            return Err(EpiError::invalid(
                "prior_sd",
                format!(
                    "se dio {prior_sd} con media {prior_mean}; la desviación típica a priori \
                     puede ser como mucho {MAX_PRIOR_SD_TO_MEAN} veces la media"
                ),
            ));
        }
        let max_posterior_cv = params.max_posterior_cv;
        if !max_posterior_cv.is_finite()
            || max_posterior_cv <= 0.0
            || max_posterior_cv > MAX_POSTERIOR_CV_LIMIT
        {
            return Err(EpiError::invalid(
                "max_posterior_cv",
                format!(
                    "se dio {max_posterior_cv}; debe ser mayor que 0 y como mucho \
                     {MAX_POSTERIOR_CV_LIMIT}"
                ),
            ));
        }
        let serial_interval = params.serial_interval.discretise()?;
        Ok(RtEstimator {
            window_days: params.window_days,
            serial_interval_mean_days: serial_interval.mean_days(),
            serial_interval,
            prior_shape: (prior_mean / prior_sd).powi(2),
            prior_scale: prior_sd * prior_sd / prior_mean,
            max_posterior_cv,
        })
    }

    /// The serial interval in use.
    pub fn serial_interval(&self) -> &DiscreteSerialInterval {
        &self.serial_interval
    }

    /// Rt over every window of daily case counts, `local` and `imported` aligned day by day.
    ///
    /// # Errors
    /// See [`RtEstimator::estimate_expected`]; also a count above [`MAX_DAILY_CASES`].
    pub fn estimate(&self, local: &[u64], imported: &[u64]) -> Result<Vec<RtEstimate>, EpiError> {
        // Lengths first, so that an oversized series is refused before it is copied.
        check_lengths(local.len(), imported.len())?;
        let local = counts_as_f64("local", local)?;
        let imported = counts_as_f64("imported", imported)?;
        self.estimate_expected(&local, &imported)
    }

    /// As [`RtEstimator::estimate`] for non-integer daily incidence (modelled, smoothed or
    /// corrected for reporting delays): the gamma posterior accepts real counts.
    ///
    /// # Errors
    /// [`EpiError::InsufficientData`] for an empty series, a series with no case at all, or one
    /// too short for a window ending after the mean serial interval;
    /// [`EpiError::InvalidParameter`] (`local` or `imported`) for series of different lengths,
    /// longer than [`MAX_SERIES_DAYS`], or with a value negative, not finite or above
    /// [`MAX_DAILY_CASES`].
    pub fn estimate_expected(
        &self,
        local: &[f64],
        imported: &[f64],
    ) -> Result<Vec<RtEstimate>, EpiError> {
        self.check_series(local, imported)?;
        let days = local.len();
        let infectors: Vec<f64> = local.iter().zip(imported).map(|(l, i)| l + i).collect();
        let infectiousness = self.serial_interval.total_infectiousness(&infectors);

        let mut estimates = Vec::with_capacity(days.saturating_sub(self.window_days));
        // The first day is left out of every window (EpiEstim's t_start >= 2, 1-based).
        for t_start in 1..=days.saturating_sub(self.window_days) {
            let t_end = t_start + self.window_days - 1;
            // EpiEstim reports only windows whose end, counted from 1, exceeds the mean SI.
            if (t_end + 1) as f64 <= self.serial_interval_mean_days {
                continue;
            }
            let local_cases: f64 = local[t_start..=t_end].iter().sum();
            let total_infectiousness: f64 = infectiousness[t_start..=t_end].iter().sum();
            estimates.push(self.posterior(t_start, t_end, local_cases, total_infectiousness));
        }
        if estimates.is_empty() {
            return Err(EpiError::InsufficientData(format!(
                "la serie tiene {days} días; con una ventana de {} días y un intervalo serial \
                 medio de {:.1} días no cabe ninguna estimación",
                self.window_days, self.serial_interval_mean_days
            )));
        }
        Ok(estimates)
    }

    fn check_series(&self, local: &[f64], imported: &[f64]) -> Result<(), EpiError> {
        check_lengths(local.len(), imported.len())?;
        for (name, series) in [("local", local), ("imported", imported)] {
            let max_daily = MAX_DAILY_CASES as f64;
            if let Some((day, value)) = series
                .iter()
                .enumerate()
                .find(|(_, v)| !v.is_finite() || **v < 0.0 || **v > max_daily)
            {
                return Err(EpiError::invalid(
                    name,
                    format!(
                        "el día {day} tiene {value} casos; deben ser un número entre 0 y \
                         {MAX_DAILY_CASES}"
                    ),
                ));
            }
        }
        if local.iter().chain(imported).all(|v| *v == 0.0) {
            return Err(EpiError::InsufficientData(format!(
                "territorio sin casos en los {} días de la serie",
                local.len()
            )));
        }
        Ok(())
    }

    fn posterior(
        &self,
        t_start: usize,
        t_end: usize,
        local_cases: f64,
        total_infectiousness: f64,
    ) -> RtEstimate {
        let shape = self.prior_shape + local_cases;
        let scale = 1.0 / (1.0 / self.prior_scale + total_infectiousness);
        let quantile = |p: f64| scale * gamma::standard_gamma_quantile(shape, p);
        RtEstimate {
            t_start,
            t_end,
            local_cases,
            total_infectiousness,
            posterior_shape: shape,
            posterior_scale: scale,
            mean: shape * scale,
            sd: shape.sqrt() * scale,
            quantile_025: quantile(0.025),
            median: quantile(0.5),
            quantile_975: quantile(0.975),
            reliable: total_infectiousness > 0.0 && 1.0 / shape.sqrt() <= self.max_posterior_cv,
        }
    }
}

/// Refuses empty, misaligned or oversized series.
fn check_lengths(local_days: usize, imported_days: usize) -> Result<(), EpiError> {
    if local_days == 0 && imported_days == 0 {
        return Err(EpiError::InsufficientData(
            "la serie de incidencia está vacía".to_owned(),
        ));
    }
    if local_days != imported_days {
        return Err(EpiError::invalid(
            "imported",
            format!(
                "tiene {imported_days} días y la serie de casos locales {local_days}; deben \
                 cubrir los mismos días"
            ),
        ));
    }
    if local_days > MAX_SERIES_DAYS {
        return Err(EpiError::invalid(
            "local",
            format!("tiene {local_days} días; como mucho {MAX_SERIES_DAYS}"),
        ));
    }
    Ok(())
}

/// Converts counts to `f64`, refusing any above [`MAX_DAILY_CASES`] (below it the conversion is
/// exact).
fn counts_as_f64(name: &'static str, counts: &[u64]) -> Result<Vec<f64>, EpiError> {
    counts
        .iter()
        .enumerate()
        .map(|(day, &count)| {
            if count > MAX_DAILY_CASES {
                Err(EpiError::invalid(
                    name,
                    format!(
                        "el día {day} tiene {count} casos; como mucho {MAX_DAILY_CASES} por día"
                    ),
                ))
            } else {
                Ok(count as f64)
            }
        })
        .collect()
}

/// Rt by Cori et al. for one territory's daily local and imported cases; see
/// [`RtEstimator::estimate`]. For many territories with the same parameters, build one
/// [`RtEstimator`] and reuse it.
///
/// # Errors
/// As [`RtEstimator::new`] and [`RtEstimator::estimate`].
pub fn estimate_rt(
    local: &[u64],
    imported: &[u64],
    params: &RtParams,
) -> Result<Vec<RtEstimate>, EpiError> {
    RtEstimator::new(params)?.estimate(local, imported)
}
