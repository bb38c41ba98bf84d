//! Phenomenological growth models of cumulative incidence `C(t)` and their robust fit to daily
//! incidence, after Chowell et al. ("Fitting dynamic models to epidemic outbreaks with quantified
//! uncertainty", 2017; the GrowthPredict toolbox).
//!
//! The three models, with `t` in days from the first day of the data:
//!
//! - **Generalized logistic** (GLM): `dC/dt = r·C^p·(1 − C/K)`. `p = 1` is the logistic curve.
//!   No closed form for `p < 1`: solved by RK4 (see below).
//! - **Richards**: `dC/dt = r·C·(1 − (C/K)^a)`, with the closed form
//!   `C(t) = K·(1 + ((K/C₀)^a − 1)·e^{−r·a·t})^{−1/a}`. `a = 1` is the logistic curve.
//! - **Generalized Gompertz**: `dC/dt = r·C^p·e^{−b·t}`, the Gompertz model of the toolbox
//!   (`p = 1`) with the deceleration exponent `p` of the generalized growth model. Closed form:
//!   `C(t)^{1−p} = C₀^{1−p} + (1−p)·(r/b)·(1 − e^{−b·t})` (and `C(t) = C₀·e^{(r/b)(1 − e^{−b·t})}`
//!   at `p = 1`).
//!
//! `C₀ = C(0)` is a fitted parameter, not the first observation as in the toolbox, because the
//! product fits a rolling window that usually starts in the middle of a wave. The model's
//! incidence on day `i` is `C(i + 1) − C(i)`.
//!
//! The generalized logistic is integrated in the Box–Cox variable `u = (C^{1−p} − 1)/(1 − p)`,
//! where it reads `du/dt = r·(1 − C(u)/K)`: the fast early growth of `C` becomes a straight line
//! and RK4 with [`GLM_SUBSTEPS_PER_DAY`] steps a day is accurate to about 1e-6 relative for
//! growth up to 0.6 a day (1e-4 at 0.9 a day), far below the noise of any count.
//!
//! Fitting: least squares on Anscombe-transformed counts (`√(y + 3/8)` against `√(μ + 3/8)`: of
//! variance about ¼ for Poisson counts, so days with many and few cases weigh alike; a curve
//! through noiseless data fits exactly, at the price of a bias of about −¼ case a day under
//! Poisson noise), then a Huber M-estimate from that optimum with `δ = 1.345·σ̂` (`σ̂` the MAD
//! scale of the residuals, never below the Poisson ½) so that a reporting dump does not drag the
//! curve.
//! Minimised by Levenberg–Marquardt with a numerical Jacobian, on logarithms of the positive
//! parameters and `p` itself, inside box bounds (projected steps, bounds held when active), from
//! a small fixed grid of starts raced for a few iterations: deterministic, and a 4-parameter
//! problem converges in tens of evaluations, which matters because the bootstrap refits every
//! model hundreds of times per territory. (A general crate such as `argmin` would add weight
//! without the bounds handling this needs.)

use serde::{Deserialize, Serialize};

use crate::EpiError;

/// Fewest days of incidence a fit accepts: four parameters need several times as many points.
pub const MIN_FIT_DAYS: usize = 14;
/// Most days of incidence a fit accepts (a phenomenological curve describes one wave, not years).
pub const MAX_FIT_DAYS: usize = 365;
/// Most days a curve can be evaluated for.
pub const MAX_CURVE_DAYS: usize = 3_650;
/// Largest daily count accepted as data (far above any population the product serves).
pub const MAX_DAILY_CASES: f64 = 1e8;
/// Largest initial cumulative incidence or final size accepted.
pub const MAX_SIZE: f64 = 1e12;
/// Largest growth rate `r` accepted.
pub const MAX_GROWTH_RATE: f64 = 1e6;
/// Largest Richards exponent `a` accepted.
pub const MAX_RICHARDS_EXPONENT: f64 = 100.0;
/// Largest Gompertz decay rate `b` accepted, per day.
pub const MAX_DECAY_RATE_PER_DAY: f64 = 10.0;
/// Largest overdispersion (variance over mean) a fit reports.
pub const MAX_DISPERSION: f64 = 1e4;
/// RK4 steps per day for the generalized logistic (a fixed step keeps the curve a smooth
/// function of the parameters, which the optimiser's finite differences need).
pub const GLM_SUBSTEPS_PER_DAY: usize = 2;

/// One of the growth models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrowthModel {
    /// `dC/dt = r·C^p·(1 − C/K)`.
    GeneralizedLogistic,
    /// `dC/dt = r·C·(1 − (C/K)^a)`.
    Richards,
    /// `dC/dt = r·C^p·e^{−b·t}`.
    GeneralizedGompertz,
}

impl GrowthModel {
    /// Every model, in a fixed order.
    pub const ALL: [GrowthModel; 3] = [
        GrowthModel::GeneralizedLogistic,
        GrowthModel::Richards,
        GrowthModel::GeneralizedGompertz,
    ];

    /// The model's name as a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            GrowthModel::GeneralizedLogistic => "logístico generalizado",
            GrowthModel::Richards => "Richards",
            GrowthModel::GeneralizedGompertz => "Gompertz generalizado",
        }
    }
}

/// A model with its parameters. `growth_rate` is `r`; its unit is cases^(1−p) per day (per day
/// when `p = 1` and for Richards).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum GrowthParams {
    /// `dC/dt = r·C^p·(1 − C/K)`, `C(0) = C₀`.
    GeneralizedLogistic {
        /// `r > 0`.
        growth_rate: f64,
        /// `p` in (0, 1]: 1 is exponential early growth, below 1 sub-exponential.
        deceleration: f64,
        /// `K > C₀`: cumulative cases when the wave ends.
        final_size: f64,
        /// `C₀ > 0`: cumulative cases at day 0.
        initial_cumulative: f64,
    },
    /// `dC/dt = r·C·(1 − (C/K)^a)`, `C(0) = C₀`.
    Richards {
        /// `r > 0`, per day.
        growth_rate: f64,
        /// `a > 0`: the shape of the approach to `K` (1 is logistic).
        exponent: f64,
        /// `K > C₀`.
        final_size: f64,
        /// `C₀ > 0`.
        initial_cumulative: f64,
    },
    /// `dC/dt = r·C^p·e^{−b·t}`, `C(0) = C₀`.
    GeneralizedGompertz {
        /// `r > 0`.
        growth_rate: f64,
        /// `p` in (0, 1].
        deceleration: f64,
        /// `b > 0`, per day: how fast growth fades.
        decay_rate_per_day: f64,
        /// `C₀ > 0`.
        initial_cumulative: f64,
    },
}

impl GrowthParams {
    /// Which model these parameters belong to.
    pub fn model(&self) -> GrowthModel {
        match self {
            GrowthParams::GeneralizedLogistic { .. } => GrowthModel::GeneralizedLogistic,
            GrowthParams::Richards { .. } => GrowthModel::Richards,
            GrowthParams::GeneralizedGompertz { .. } => GrowthModel::GeneralizedGompertz,
        }
    }

    /// Refuses parameters outside their domain (see each field) or above the module's limits.
    pub fn validate(&self) -> Result<(), EpiError> {
        match *self {
            GrowthParams::GeneralizedLogistic {
                growth_rate,
                deceleration,
                final_size,
                initial_cumulative,
            } => {
                check_growth_rate(growth_rate)?;
                check_deceleration(deceleration)?;
                check_initial_cumulative(initial_cumulative)?;
                check_final_size(final_size, initial_cumulative)
            }
            GrowthParams::Richards {
                growth_rate,
                exponent,
                final_size,
                initial_cumulative,
            } => {
                check_growth_rate(growth_rate)?;
                if !(exponent.is_finite() && exponent > 0.0 && exponent <= MAX_RICHARDS_EXPONENT) {
                    return Err(EpiError::invalid(
                        "exponent",
                        format!(
                            "el exponente de Richards es {exponent}; debe ser mayor que 0 y \
                             como mucho {MAX_RICHARDS_EXPONENT}"
                        ),
                    ));
                }
                check_initial_cumulative(initial_cumulative)?;
                check_final_size(final_size, initial_cumulative)
            }
            GrowthParams::GeneralizedGompertz {
                growth_rate,
                deceleration,
                decay_rate_per_day,
                initial_cumulative,
            } => {
                check_growth_rate(growth_rate)?;
                check_deceleration(deceleration)?;
                if !(decay_rate_per_day.is_finite()
                    && decay_rate_per_day > 0.0
                    && decay_rate_per_day <= MAX_DECAY_RATE_PER_DAY)
                {
                    return Err(EpiError::invalid(
                        "decay_rate_per_day",
                        format!(
                            "la tasa de declive es {decay_rate_per_day} por día; debe ser mayor \
                             que 0 y como mucho {MAX_DECAY_RATE_PER_DAY}"
                        ),
                    ));
                }
                check_initial_cumulative(initial_cumulative)
            }
        }
    }

    /// Cumulative incidence `C(0), C(1), …, C(days)` (`days + 1` values), at most
    /// [`MAX_CURVE_DAYS`] days.
    pub fn cumulative(&self, days: usize) -> Result<Vec<f64>, EpiError> {
        self.validate()?;
        check_curve_days(days)?;
        let mut out = vec![0.0; days + 1];
        self.fill_cumulative(&mut out);
        Ok(out)
    }

    /// Daily incidence `C(i + 1) − C(i)` for `i` in `0..days`, at most [`MAX_CURVE_DAYS`] days.
    pub fn incidence(&self, days: usize) -> Result<Vec<f64>, EpiError> {
        let cumulative = self.cumulative(days)?;
        Ok(daily_differences(&cumulative))
    }

    /// Writes `C(t)` for `t = 0, 1, …` into `out`. No validation: callers check the parameters.
    pub(crate) fn fill_cumulative(&self, out: &mut [f64]) {
        match *self {
            GrowthParams::GeneralizedLogistic {
                growth_rate,
                deceleration,
                final_size,
                initial_cumulative,
            } => fill_glm(
                growth_rate,
                deceleration,
                final_size,
                initial_cumulative,
                out,
            ),
            GrowthParams::Richards {
                growth_rate,
                exponent,
                final_size,
                initial_cumulative,
            } => {
                // log((K/C₀)^a − 1), kept finite when (K/C₀)^a overflows.
                let log_a_term = log_expm1(exponent * (final_size / initial_cumulative).ln());
                for (t, c) in out.iter_mut().enumerate() {
                    let exponent_t = log_a_term - growth_rate * exponent * t as f64;
                    *c = final_size * (-softplus(exponent_t) / exponent).exp();
                }
            }
            GrowthParams::GeneralizedGompertz {
                growth_rate,
                deceleration,
                decay_rate_per_day,
                initial_cumulative,
            } => {
                let q = 1.0 - deceleration;
                let u0 = box_cox(initial_cumulative, q);
                for (t, c) in out.iter_mut().enumerate() {
                    let grown = -(growth_rate / decay_rate_per_day)
                        * (-decay_rate_per_day * t as f64).exp_m1();
                    *c = inverse_box_cox(u0 + grown, q);
                }
            }
        }
    }
}

fn check_growth_rate(growth_rate: f64) -> Result<(), EpiError> {
    if growth_rate.is_finite() && growth_rate > 0.0 && growth_rate <= MAX_GROWTH_RATE {
        Ok(())
    } else {
        Err(EpiError::invalid(
            "growth_rate",
            format!(
                "la tasa de crecimiento es {growth_rate}; debe ser mayor que 0 y como mucho \
                 {MAX_GROWTH_RATE}"
            ),
        ))
    }
}

fn check_deceleration(deceleration: f64) -> Result<(), EpiError> {
    if deceleration.is_finite() && deceleration > 0.0 && deceleration <= 1.0 {
        Ok(())
    } else {
        Err(EpiError::invalid(
            "deceleration",
            format!(
                "el exponente de desaceleración p es {deceleration}; debe estar en (0, 1] \
                 (1 es crecimiento exponencial)"
            ),
        ))
    }
}

fn check_initial_cumulative(initial_cumulative: f64) -> Result<(), EpiError> {
    if initial_cumulative.is_finite() && initial_cumulative > 0.0 && initial_cumulative <= MAX_SIZE
    {
        Ok(())
    } else {
        Err(EpiError::invalid(
            "initial_cumulative",
            format!(
                "la incidencia acumulada inicial es {initial_cumulative}; debe ser mayor que 0 y \
                 como mucho {MAX_SIZE}"
            ),
        ))
    }
}

fn check_final_size(final_size: f64, initial_cumulative: f64) -> Result<(), EpiError> {
    if final_size.is_finite() && final_size > initial_cumulative && final_size <= MAX_SIZE {
        Ok(())
    } else {
        Err(EpiError::invalid(
            "final_size",
            format!(
                "el tamaño final es {final_size}; debe superar la incidencia acumulada inicial \
                 ({initial_cumulative}) y ser como mucho {MAX_SIZE}"
            ),
        ))
    }
}

fn check_curve_days(days: usize) -> Result<(), EpiError> {
    if days <= MAX_CURVE_DAYS {
        Ok(())
    } else {
        Err(EpiError::invalid(
            "days",
            format!("se pidieron {days} días; el máximo es {MAX_CURVE_DAYS}"),
        ))
    }
}

/// Refuses a daily incidence series that is not a list of finite counts in
/// `0..=MAX_DAILY_CASES`; `name` is the parameter as the caller knows it.
pub(crate) fn check_counts(name: &'static str, counts: &[f64]) -> Result<(), EpiError> {
    for (day, &count) in counts.iter().enumerate() {
        if !(count.is_finite() && (0.0..=MAX_DAILY_CASES).contains(&count)) {
            return Err(EpiError::invalid(
                name,
                format!(
                    "el día {day} tiene {count} casos; cada día debe tener un número finito de \
                     casos entre 0 y {MAX_DAILY_CASES}"
                ),
            ));
        }
    }
    Ok(())
}

/// `C(i + 1) − C(i)`, never negative (rounding can make a flat curve dip by an ulp).
pub(crate) fn daily_differences(cumulative: &[f64]) -> Vec<f64> {
    cumulative
        .windows(2)
        .map(|pair| (pair[1] - pair[0]).max(0.0))
        .collect()
}

/// `(c^q − 1)/q`, and `ln c` at `q = 0`; stable for small `q`.
fn box_cox(c: f64, q: f64) -> f64 {
    if q == 0.0 {
        c.ln()
    } else {
        (q * c.ln()).exp_m1() / q
    }
}

/// The inverse of [`box_cox`]: `(1 + q·u)^{1/q}`, and `e^u` at `q = 0`.
fn inverse_box_cox(u: f64, q: f64) -> f64 {
    if q == 0.0 {
        u.exp()
    } else {
        // Below the pole the curve has collapsed to zero cases (only reached by wild trial steps).
        let base = q * u;
        if base <= -1.0 {
            0.0
        } else {
            (base.ln_1p() / q).exp()
        }
    }
}

/// `ln(1 + eˣ)` without overflow.
fn softplus(x: f64) -> f64 {
    if x > 35.0 { x } else { x.exp().ln_1p() }
}

/// `ln(eˣ − 1)` for `x > 0`, without overflow.
fn log_expm1(x: f64) -> f64 {
    if x > 35.0 { x } else { x.exp_m1().ln() }
}

/// RK4 in the Box–Cox variable, where the ODE is `du/dt = r·(1 − C(u)/K)`.
fn fill_glm(growth_rate: f64, deceleration: f64, final_size: f64, c0: f64, out: &mut [f64]) {
    let q = 1.0 - deceleration;
    let slope = |u: f64| growth_rate * (1.0 - inverse_box_cox(u, q) / final_size);
    let step = 1.0 / GLM_SUBSTEPS_PER_DAY as f64;
    let mut u = box_cox(c0, q);
    for (t, c) in out.iter_mut().enumerate() {
        if t > 0 {
            for _ in 0..GLM_SUBSTEPS_PER_DAY {
                let k1 = slope(u);
                let k2 = slope(u + 0.5 * step * k1);
                let k3 = slope(u + 0.5 * step * k2);
                let k4 = slope(u + step * k3);
                u += step / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
            }
        }
        *c = inverse_box_cox(u, q);
    }
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowthFit {
    /// The best parameters found.
    pub params: GrowthParams,
    /// The model's daily incidence over the fitted days.
    pub fitted_incidence: Vec<f64>,
    /// Mean squared error of `fitted_incidence` against the data, in cases² per day².
    pub mean_squared_error: f64,
    /// Sum of squared Anscombe residuals `(√(y + 3/8) − √(μ + 3/8))²`: the fit's error on the
    /// scale it was fitted on, which model comparison uses.
    pub anscombe_sum_of_squares: f64,
    /// Robust (MAD) scale of the Anscombe residuals; about ½ for Poisson noise.
    pub residual_scale: f64,
    /// Variance over mean of the data around the fit, from the winsorized variance of the
    /// Anscombe residuals; at least 1 (Poisson), at most [`MAX_DISPERSION`].
    pub dispersion: f64,
}

/// Fits `model` to daily incidence (`incidence[i]` is the count of day `i`), between
/// [`MIN_FIT_DAYS`] and [`MAX_FIT_DAYS`] days of finite, non-negative counts with at least one
/// case.
pub fn fit(model: GrowthModel, incidence: &[f64]) -> Result<GrowthFit, EpiError> {
    Ok(fit_detailed(model, incidence)?.fit)
}

/// A fit with what the bootstrap needs to refit quickly from it.
#[derive(Debug, Clone)]
pub(crate) struct DetailedFit {
    pub(crate) fit: GrowthFit,
    pub(crate) theta: Theta,
    pub(crate) huber_delta: f64,
}

/// Validates `incidence` and fits `model` to it from the grid of starts.
pub(crate) fn fit_detailed(model: GrowthModel, incidence: &[f64]) -> Result<DetailedFit, EpiError> {
    check_fit_data(incidence)?;
    let mut objective = Objective::new(model, incidence, f64::INFINITY);
    // A short race from every start, then only the leaders run to convergence: most starts
    // reach the same optimum, and the full runs are what cost.
    let mut raced: Vec<(Theta, f64)> = starting_points(model, incidence)
        .into_iter()
        .map(|start| levenberg_marquardt(&mut objective, start, RACE))
        .collect();
    raced.sort_by(|a, b| a.1.total_cmp(&b.1));
    let Some((least_squares_theta, _)) = raced
        .into_iter()
        .take(RACE_FINALISTS)
        .map(|(theta, _)| levenberg_marquardt(&mut objective, theta, FULL_FIT))
        .min_by(|a, b| a.1.total_cmp(&b.1))
    else {
        return Err(EpiError::InsufficientData(
            "no se encontró un punto de partida para el ajuste".into(),
        ));
    };
    let scale = objective.residual_scale(&least_squares_theta);
    let huber_delta = HUBER_TUNING * scale.max(POISSON_ANSCOMBE_SD);
    objective.huber_delta = huber_delta;
    let (theta, loss) = levenberg_marquardt(&mut objective, least_squares_theta, FULL_FIT);
    if !loss.is_finite() {
        return Err(EpiError::InsufficientData(format!(
            "el modelo {} no pudo ajustarse a los datos",
            model.label()
        )));
    }
    let residual_scale = objective.residual_scale(&theta);
    let anscombe_sum_of_squares = objective.sum_of_squares(&theta);
    let params = params_from_theta(model, &theta);
    let mut cumulative = vec![0.0; incidence.len() + 1];
    params.fill_cumulative(&mut cumulative);
    let fitted_incidence = daily_differences(&cumulative);
    let mean_squared_error = fitted_incidence
        .iter()
        .zip(incidence)
        .map(|(fitted, observed)| (fitted - observed).powi(2))
        .sum::<f64>()
        / incidence.len() as f64;
    // Var(√(y + 3/8)) ≈ φ/4 for counts of variance φ·mean. The variance is taken of residuals
    // winsorized at 2.5 MAD scales: nearly as efficient as the plain variance, and a reporting
    // dump weighs as a residual of 2.5 scales, not by its full size.
    let limit = WINSORIZE_AT * residual_scale.max(POISSON_ANSCOMBE_SD);
    let winsorized_sum_of_squares = objective.winsorized_sum_of_squares(&theta, limit);
    let degrees_of_freedom = (incidence.len() - N_THETA) as f64;
    let dispersion = (4.0 * winsorized_sum_of_squares / degrees_of_freedom / WINSORIZED_VARIANCE)
        .clamp(1.0, MAX_DISPERSION);
    Ok(DetailedFit {
        fit: GrowthFit {
            params,
            fitted_incidence,
            mean_squared_error,
            anscombe_sum_of_squares,
            residual_scale,
            dispersion,
        },
        theta,
        huber_delta,
    })
}

/// Refits `model` to `incidence` (already validated) from `start` with the Huber loss of width
/// `huber_delta`: the bootstrap's refit, one start because the data are the fit's own noise.
pub(crate) fn refit(
    model: GrowthModel,
    incidence: &[f64],
    start: &Theta,
    huber_delta: f64,
) -> Theta {
    let mut objective = Objective::new(model, incidence, huber_delta);
    levenberg_marquardt(&mut objective, *start, REFIT).0
}

fn check_fit_data(incidence: &[f64]) -> Result<(), EpiError> {
    if incidence.len() < MIN_FIT_DAYS {
        return Err(EpiError::InsufficientData(format!(
            "hay {} días de incidencia y el ajuste necesita al menos {MIN_FIT_DAYS}",
            incidence.len()
        )));
    }
    if incidence.len() > MAX_FIT_DAYS {
        return Err(EpiError::invalid(
            "incidence",
            format!(
                "hay {} días de incidencia; el ajuste acepta como mucho {MAX_FIT_DAYS}",
                incidence.len()
            ),
        ));
    }
    check_counts("incidence", incidence)?;
    if incidence.iter().all(|&count| count == 0.0) {
        return Err(EpiError::InsufficientData(
            "no hay ningún caso en los días dados".into(),
        ));
    }
    Ok(())
}

/// Number of unconstrained parameters of every model.
pub(crate) const N_THETA: usize = 4;
/// Unconstrained parameters; see [`params_from_theta`].
pub(crate) type Theta = [f64; N_THETA];

/// When the optimiser stops: after `max_iterations` Jacobians, or when an accepted step lowers
/// the loss by less than `relative_tolerance` of it.
#[derive(Debug, Clone, Copy)]
struct Stopping {
    max_iterations: usize,
    relative_tolerance: f64,
}

const RACE: Stopping = Stopping {
    max_iterations: 8,
    relative_tolerance: 1e-10,
};
const FULL_FIT: Stopping = Stopping {
    max_iterations: 200,
    relative_tolerance: 1e-10,
};
/// Bootstrap refits start at the optimum of nearby data; their sampling noise dwarfs 1e-6.
const REFIT: Stopping = Stopping {
    max_iterations: 50,
    relative_tolerance: 1e-6,
};
/// Starts that run to convergence after the race.
const RACE_FINALISTS: usize = 2;
/// Below this loss the curve goes through the data (noiseless data): nothing left to gain.
const NEGLIGIBLE_LOSS: f64 = 1e-20;
/// Anscombe's shift: `√(y + 3/8)` has variance close to ¼ for Poisson counts above 1 or 2.
const ANSCOMBE_SHIFT: f64 = 0.375;
/// Huber's constant: 95 % efficiency under normal errors.
const HUBER_TUNING: f64 = 1.345;
/// Standard deviation of `√(y + 3/8)` for Poisson `y`.
const POISSON_ANSCOMBE_SD: f64 = 0.5;
/// Residuals beyond this many scales are winsorized when estimating the dispersion.
const WINSORIZE_AT: f64 = 2.5;
/// `E[min(Z², 2.5²)]` for standard normal `Z`: makes the winsorized variance consistent.
const WINSORIZED_VARIANCE: f64 = 0.977_56;
/// 1/Φ⁻¹(¾): makes the median absolute residual a standard deviation under normal errors.
const MAD_TO_SD: f64 = 1.482_602_218_505_602;

/// Maps unconstrained parameters to a model's parameters:
/// GLM `[ln r, p, ln C₀, ln(K − C₀)]`, Richards `[ln r, ln a, ln C₀, ln(K − C₀)]`,
/// Gompertz `[ln r, p, ln C₀, ln b]`.
pub(crate) fn params_from_theta(model: GrowthModel, theta: &Theta) -> GrowthParams {
    let initial_cumulative = theta[2].exp();
    match model {
        GrowthModel::GeneralizedLogistic => GrowthParams::GeneralizedLogistic {
            growth_rate: theta[0].exp(),
            deceleration: theta[1],
            final_size: initial_cumulative + theta[3].exp(),
            initial_cumulative,
        },
        GrowthModel::Richards => GrowthParams::Richards {
            growth_rate: theta[0].exp(),
            exponent: theta[1].exp(),
            final_size: initial_cumulative + theta[3].exp(),
            initial_cumulative,
        },
        GrowthModel::GeneralizedGompertz => GrowthParams::GeneralizedGompertz {
            growth_rate: theta[0].exp(),
            deceleration: theta[1],
            decay_rate_per_day: theta[3].exp(),
            initial_cumulative,
        },
    }
}

fn theta_from_params(params: &GrowthParams) -> Theta {
    match *params {
        GrowthParams::GeneralizedLogistic {
            growth_rate,
            deceleration,
            final_size,
            initial_cumulative,
        } => [
            growth_rate.ln(),
            deceleration,
            initial_cumulative.ln(),
            (final_size - initial_cumulative).ln(),
        ],
        GrowthParams::Richards {
            growth_rate,
            exponent,
            final_size,
            initial_cumulative,
        } => [
            growth_rate.ln(),
            exponent.ln(),
            initial_cumulative.ln(),
            (final_size - initial_cumulative).ln(),
        ],
        GrowthParams::GeneralizedGompertz {
            growth_rate,
            deceleration,
            decay_rate_per_day,
            initial_cumulative,
        } => [
            growth_rate.ln(),
            deceleration,
            initial_cumulative.ln(),
            decay_rate_per_day.ln(),
        ],
    }
}

/// Box bounds on the unconstrained parameters, inside the domains [`GrowthParams::validate`]
/// accepts, so that every fit is a valid set of parameters.
fn theta_bounds(model: GrowthModel) -> [(f64, f64); N_THETA] {
    // p itself, not its logit: at p = 1 (the logistic, common in data) a logit would flatten
    // the Jacobian and stall the optimiser on the boundary.
    const DECELERATION: (f64, f64) = (1e-3, 1.0);
    let ln = f64::ln;
    let rate = (ln(1e-6), ln(1e5));
    let initial = (ln(1e-2), ln(1e11));
    let remaining = (ln(1e-1), ln(1e11));
    match model {
        GrowthModel::GeneralizedLogistic => [rate, DECELERATION, initial, remaining],
        GrowthModel::Richards => [rate, (ln(1e-3), ln(50.0)), initial, remaining],
        GrowthModel::GeneralizedGompertz => [rate, DECELERATION, initial, (ln(1e-4), ln(5.0))],
    }
}

fn clamp_theta(model: GrowthModel, theta: &mut Theta) {
    for (value, (low, high)) in theta.iter_mut().zip(theta_bounds(model)) {
        *value = value.clamp(low, high);
    }
}

/// A small grid of starts per model. Each start sets `r` so that the model's incidence at day 0
/// matches the first week's mean, which puts every start near the data whatever its shape.
fn starting_points(model: GrowthModel, incidence: &[f64]) -> Vec<Theta> {
    let first_week = &incidence[..7.min(incidence.len())];
    let early = (first_week.iter().sum::<f64>() / first_week.len() as f64).max(0.5);
    let total = incidence.iter().sum::<f64>().max(1.0);
    let initials = [2.0 * early, 10.0 * early, 2.0 * total];
    let mut starts = Vec::new();
    for &c0 in &initials {
        match model {
            GrowthModel::GeneralizedLogistic => {
                for p in [0.6, 0.95] {
                    for remaining in [1.5 * total, 5.0 * total] {
                        let k = c0 + remaining;
                        starts.push(GrowthParams::GeneralizedLogistic {
                            growth_rate: early / (c0.powf(p) * (1.0 - c0 / k)),
                            deceleration: p,
                            final_size: k,
                            initial_cumulative: c0,
                        });
                    }
                }
            }
            GrowthModel::Richards => {
                for a in [0.3, 1.0, 3.0] {
                    for remaining in [1.5 * total, 5.0 * total] {
                        let k = c0 + remaining;
                        starts.push(GrowthParams::Richards {
                            growth_rate: early / (c0 * (1.0 - (c0 / k).powf(a))),
                            exponent: a,
                            final_size: k,
                            initial_cumulative: c0,
                        });
                    }
                }
            }
            GrowthModel::GeneralizedGompertz => {
                for p in [0.6, 0.95] {
                    for b in [0.02, 0.1] {
                        starts.push(GrowthParams::GeneralizedGompertz {
                            growth_rate: early / c0.powf(p),
                            deceleration: p,
                            decay_rate_per_day: b,
                            initial_cumulative: c0,
                        });
                    }
                }
            }
        }
    }
    starts
        .iter()
        .map(|params| {
            let mut theta = theta_from_params(params);
            clamp_theta(model, &mut theta);
            theta
        })
        .collect()
}

/// The Huber loss of Anscombe residuals `√(y + 3/8) − √(μ + 3/8)` (least squares when
/// `huber_delta` is infinite).
struct Objective {
    model: GrowthModel,
    transformed: Vec<f64>,
    huber_delta: f64,
    cumulative: Vec<f64>,
}

impl Objective {
    fn new(model: GrowthModel, incidence: &[f64], huber_delta: f64) -> Objective {
        Objective {
            model,
            transformed: incidence
                .iter()
                .map(|&y| (y + ANSCOMBE_SHIFT).sqrt())
                .collect(),
            huber_delta,
            cumulative: vec![0.0; incidence.len() + 1],
        }
    }

    /// Fills `residuals`; false when the curve is not finite.
    fn residuals(&mut self, theta: &Theta, residuals: &mut [f64]) -> bool {
        params_from_theta(self.model, theta).fill_cumulative(&mut self.cumulative);
        let mut finite = true;
        for (i, residual) in residuals.iter_mut().enumerate() {
            let mu = (self.cumulative[i + 1] - self.cumulative[i]).max(0.0);
            *residual = self.transformed[i] - (mu + ANSCOMBE_SHIFT).sqrt();
            finite &= residual.is_finite();
        }
        finite
    }

    fn loss(&self, residuals: &[f64]) -> f64 {
        residuals
            .iter()
            .map(|&e| {
                if e.abs() <= self.huber_delta {
                    0.5 * e * e
                } else {
                    self.huber_delta * (e.abs() - 0.5 * self.huber_delta)
                }
            })
            .sum()
    }

    /// IRLS weight of a residual under the Huber loss.
    fn weight(&self, e: f64) -> f64 {
        if e.abs() <= self.huber_delta {
            1.0
        } else {
            self.huber_delta / e.abs()
        }
    }

    /// Sum of squared residuals at `theta`.
    fn sum_of_squares(&mut self, theta: &Theta) -> f64 {
        let mut residuals = vec![0.0; self.transformed.len()];
        if !self.residuals(theta, &mut residuals) {
            return f64::INFINITY;
        }
        residuals.iter().map(|e| e * e).sum()
    }

    /// Sum of squared residuals at `theta`, each held within `±limit`.
    fn winsorized_sum_of_squares(&mut self, theta: &Theta, limit: f64) -> f64 {
        let mut residuals = vec![0.0; self.transformed.len()];
        if !self.residuals(theta, &mut residuals) {
            return f64::INFINITY;
        }
        residuals
            .iter()
            .map(|e| e.clamp(-limit, limit).powi(2))
            .sum()
    }

    /// MAD scale of the residuals at `theta` (they are centred on the curve, so about zero).
    fn residual_scale(&mut self, theta: &Theta) -> f64 {
        let mut residuals = vec![0.0; self.transformed.len()];
        if !self.residuals(theta, &mut residuals) {
            return f64::INFINITY;
        }
        let mut absolute: Vec<f64> = residuals.iter().map(|e| e.abs()).collect();
        absolute.sort_by(f64::total_cmp);
        let middle = absolute.len() / 2;
        let median = if absolute.len().is_multiple_of(2) {
            0.5 * (absolute[middle - 1] + absolute[middle])
        } else {
            absolute[middle]
        };
        MAD_TO_SD * median
    }
}

/// Projected Levenberg–Marquardt with Marquardt's diagonal scaling and IRLS weights for the
/// Huber loss. A parameter at a bound that the gradient pushes outward is held there for the
/// step (an active set), so the others still move freely. Returns the best point and its loss
/// (infinite if no finite point was found).
fn levenberg_marquardt(
    objective: &mut Objective,
    start: Theta,
    stopping: Stopping,
) -> (Theta, f64) {
    let model = objective.model;
    let bounds = theta_bounds(model);
    let days = objective.transformed.len();
    let mut theta = start;
    clamp_theta(model, &mut theta);
    let mut residuals = vec![0.0; days];
    if !objective.residuals(&theta, &mut residuals) {
        return (theta, f64::INFINITY);
    }
    let mut loss = objective.loss(&residuals);
    let mut trial_residuals = vec![0.0; days];
    let mut jacobian = vec![[0.0; N_THETA]; days];
    let mut damping = 1e-3;
    for _ in 0..stopping.max_iterations {
        if loss <= NEGLIGIBLE_LOSS {
            break;
        }
        // Forward differences: the curve is smooth in θ and each evaluation is costly.
        for j in 0..N_THETA {
            let step = 1e-7 * theta[j].abs().max(1.0);
            let mut shifted = theta;
            shifted[j] += step;
            if !objective.residuals(&shifted, &mut trial_residuals) {
                return (theta, loss);
            }
            for (row, (shifted_e, e)) in jacobian
                .iter_mut()
                .zip(trial_residuals.iter().zip(&residuals))
            {
                row[j] = (shifted_e - e) / step;
            }
        }
        let mut normal = [[0.0; N_THETA]; N_THETA];
        let mut gradient = [0.0; N_THETA];
        for (row, &e) in jacobian.iter().zip(&residuals) {
            let w = objective.weight(e);
            for j in 0..N_THETA {
                gradient[j] += w * row[j] * e;
                for k in 0..=j {
                    normal[j][k] += w * row[j] * row[k];
                }
            }
        }
        let largest_diagonal = (0..N_THETA).map(|j| normal[j][j]).fold(0.0, f64::max);
        if largest_diagonal == 0.0 {
            break;
        }
        // The step is −gradient-ish: a parameter at its lower bound with a negative descent
        // direction (positive gradient) stays put, and likewise at the upper bound.
        let held: [bool; N_THETA] = std::array::from_fn(|j| {
            (theta[j] <= bounds[j].0 && gradient[j] > 0.0)
                || (theta[j] >= bounds[j].1 && gradient[j] < 0.0)
        });
        let mut accepted = None;
        while damping < 1e12 {
            let mut system = normal;
            let mut right_side = gradient.map(|g| -g);
            for j in 0..N_THETA {
                system[j][j] += damping * normal[j][j].max(1e-9 * largest_diagonal);
                if held[j] {
                    system[j] = [0.0; N_THETA];
                    for row in system.iter_mut() {
                        row[j] = 0.0;
                    }
                    system[j][j] = 1.0;
                    right_side[j] = 0.0;
                }
            }
            let Some(step) = solve_symmetric(system, right_side) else {
                damping *= 4.0;
                continue;
            };
            let mut trial = theta;
            for (value, delta) in trial.iter_mut().zip(step) {
                *value += delta;
            }
            clamp_theta(model, &mut trial);
            let trial_loss = if objective.residuals(&trial, &mut trial_residuals) {
                objective.loss(&trial_residuals)
            } else {
                f64::INFINITY
            };
            if trial_loss < loss {
                accepted = Some((trial, trial_loss));
                break;
            }
            damping *= 4.0;
        }
        let Some((trial, trial_loss)) = accepted else {
            break;
        };
        let decrease = loss - trial_loss;
        theta = trial;
        loss = trial_loss;
        std::mem::swap(&mut residuals, &mut trial_residuals);
        damping = (damping / 3.0).max(1e-12);
        if decrease <= stopping.relative_tolerance * loss {
            break;
        }
    }
    (theta, loss)
}

/// Solves `A·x = b` for symmetric positive definite `A` (lower triangle used) by Cholesky;
/// `None` if `A` is not positive definite.
fn solve_symmetric(a: [[f64; N_THETA]; N_THETA], b: [f64; N_THETA]) -> Option<[f64; N_THETA]> {
    let mut lower = [[0.0; N_THETA]; N_THETA];
    for i in 0..N_THETA {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| lower[i][k] * lower[j][k]).sum();
            if i == j {
                let pivot = a[i][i] - sum;
                if !(pivot > 0.0 && pivot.is_finite()) {
                    return None;
                }
                lower[i][i] = pivot.sqrt();
            } else {
                lower[i][j] = (a[i][j] - sum) / lower[j][j];
            }
        }
    }
    let mut y = [0.0; N_THETA];
    for i in 0..N_THETA {
        let sum: f64 = (0..i).map(|k| lower[i][k] * y[k]).sum();
        y[i] = (b[i] - sum) / lower[i][i];
    }
    let mut x = [0.0; N_THETA];
    for i in (0..N_THETA).rev() {
        let sum: f64 = (i + 1..N_THETA).map(|k| lower[k][i] * x[k]).sum();
        x[i] = (y[i] - sum) / lower[i][i];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theta_round_trips_through_params() {
        for params in [
            GrowthParams::GeneralizedLogistic {
                growth_rate: 0.7,
                deceleration: 0.8,
                final_size: 900.0,
                initial_cumulative: 3.0,
            },
            GrowthParams::Richards {
                growth_rate: 0.3,
                exponent: 2.0,
                final_size: 900.0,
                initial_cumulative: 3.0,
            },
            GrowthParams::GeneralizedGompertz {
                growth_rate: 0.3,
                deceleration: 0.9,
                decay_rate_per_day: 0.05,
                initial_cumulative: 3.0,
            },
        ] {
            let back = params_from_theta(params.model(), &theta_from_params(&params));
            let (mut a, mut b) = (vec![0.0; 30], vec![0.0; 30]);
            params.fill_cumulative(&mut a);
            back.fill_cumulative(&mut b);
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() <= 1e-9 * x.abs(), "{params:?}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn cholesky_solves_a_known_system() {
        let a = [
            [4.0, 0.0, 0.0, 0.0],
            [2.0, 5.0, 0.0, 0.0],
            [0.0, 1.0, 3.0, 0.0],
            [1.0, 0.0, 0.0, 2.0],
        ];
        // Full symmetric matrix times x = [1, −1, 2, 0.5].
        let b = [4.0 - 2.0 + 0.5, 2.0 - 5.0 + 2.0, -1.0 + 6.0, 1.0 + 1.0];
        let x = solve_symmetric(a, b).expect("positive definite");
        for (got, want) in x.iter().zip([1.0, -1.0, 2.0, 0.5]) {
            assert!((got - want).abs() < 1e-12, "{x:?}");
        }
        assert!(solve_symmetric([[0.0; 4]; 4], b).is_none());
    }
}
