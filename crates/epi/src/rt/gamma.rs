//! The gamma distribution pieces the Cori et al. posterior needs: the CDF of the offset gamma
//! serial interval and the quantiles of the gamma posterior.
//!
//! The special functions (regularised incomplete gamma, log-gamma, inverse error function) come
//! from `statrs`; the quantile is our own safeguarded Halley iteration because `statrs`'s
//! `Gamma::inverse_cdf` stops on an absolute tolerance of 1e-9 (too coarse for the tiny quantiles
//! of a small shape) and brackets by repeated doubling (slow for the large shapes of a national
//! series, where it runs once per window and quantile).

use statrs::function::erf::erf_inv;
use statrs::function::gamma::{checked_gamma_lr, checked_gamma_ur, ln_gamma};

/// P(X ≤ x) for X ~ Gamma(`shape`, scale 1). `shape` must be finite and positive.
pub(crate) fn lower_regularized(shape: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x == f64::INFINITY {
        return 1.0;
    }
    // The arguments are in the domain here, so an error cannot happen; NaN makes a misuse visible.
    checked_gamma_lr(shape, x).unwrap_or(f64::NAN)
}

/// P(X > x) for X ~ Gamma(`shape`, scale 1), accurate in the far tail (no `1 - P`).
pub(crate) fn upper_regularized(shape: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x == f64::INFINITY {
        return 0.0;
    }
    checked_gamma_ur(shape, x).unwrap_or(f64::NAN)
}

/// Relative step below which the iteration stops. Halley's method converges cubically (Newton's,
/// the fallback, quadratically), so the error left after such a step is far below 1e-10.
const RELATIVE_STEP_TOLERANCE: f64 = 1e-12;
/// More than enough: the bisection fallback alone halves the log-bracket each time.
const MAX_ITERATIONS: usize = 300;
/// From this shape up (and for 0.001 ≤ p ≤ 0.999) Wilson–Hilferty alone is the answer: its
/// relative error, measured against the iteration, falls as shape^-1.5 and is below 6e-9
/// here, while each CDF evaluation costs ~√shape terms (a national series over a long window).
const WILSON_HILFERTY_SHAPE: f64 = 1e5;

/// The `p` quantile of Gamma(`shape`, scale 1), for finite `shape > 0` and `0 < p < 1`.
///
/// Safeguarded Halley iteration: every evaluation narrows a bracket `[low, high]` around the
/// root, and a step that leaves it (or is not finite) is replaced by bisection in log scale, so
/// the iteration cannot diverge whatever the starting point. Above the median it solves
/// Q(x) = 1 - p with the upper tail, whose absolute error is relative to 1 - p, not to 1.
pub(crate) fn standard_gamma_quantile(shape: f64, p: f64) -> f64 {
    debug_assert!(shape.is_finite() && shape > 0.0);
    debug_assert!(p > 0.0 && p < 1.0);
    if shape >= WILSON_HILFERTY_SHAPE && (0.001..=0.999).contains(&p) {
        return initial_guess(shape, p);
    }
    let ln_gamma_shape = ln_gamma(shape);
    let density = |x: f64| ((shape - 1.0) * x.ln() - x - ln_gamma_shape).exp();
    let upper_tail = p > 0.5;
    let tail_probability = if upper_tail { 1.0 - p } else { p };
    // Increasing in x, zero at the quantile, derivative the density.
    let excess = |x: f64| {
        if upper_tail {
            tail_probability - upper_regularized(shape, x)
        } else {
            lower_regularized(shape, x) - tail_probability
        }
    };

    let mut x = initial_guess(shape, p);
    let mut low = 0.0_f64;
    let mut high = f64::INFINITY;
    for _ in 0..MAX_ITERATIONS {
        let excess_here = excess(x);
        if excess_here == 0.0 {
            return x;
        }
        if excess_here < 0.0 {
            low = x;
        } else {
            high = x;
        }
        let newton_step = excess_here / density(x);
        // Halley's correction uses f'/f = (shape - 1)/x - 1; when it would more than double or
        // shrink by a third the Newton step we keep the plain Newton step.
        let curvature = 0.5 * newton_step * ((shape - 1.0) / x - 1.0);
        let step = if curvature.abs() < 0.5 {
            newton_step / (1.0 - curvature)
        } else {
            newton_step
        };
        let mut next = x - step;
        if !next.is_finite() || next <= low || next >= high {
            next = if high.is_infinite() {
                x * 2.0
            } else if low == 0.0 {
                x * 0.5
            } else {
                // Square roots first: low * high underflows for quantiles near 1e-160.
                low.sqrt() * high.sqrt()
            };
        }
        let converged = (next - x).abs() <= RELATIVE_STEP_TOLERANCE * next;
        x = next;
        // A bracket as narrow as the tolerance also ends it (a CDF flat to machine precision).
        let bracket_closed = high.is_finite() && (high - low) <= RELATIVE_STEP_TOLERANCE * high;
        if converged || bracket_closed || x < f64::MIN_POSITIVE {
            break;
        }
    }
    x
}

/// A starting point close to the root: Wilson–Hilferty's cube-root normal approximation for
/// shapes from 1 up (relative error ~2e-5 at shape 100, shrinking as shape^-1.5), and the
/// small-x expansion P(x) ≈ x^shape / Γ(shape + 1) for smaller shapes or when Wilson–Hilferty
/// falls below zero.
fn initial_guess(shape: f64, p: f64) -> f64 {
    let z = std::f64::consts::SQRT_2 * erf_inv(2.0 * p - 1.0);
    if shape >= 1.0 {
        let c = 1.0 / (9.0 * shape);
        let cube_root = 1.0 - c + z * c.sqrt();
        if cube_root > 0.0 {
            return shape * cube_root.powi(3);
        }
    }
    let small_x = ((p.ln() + ln_gamma(shape + 1.0)) / shape).exp();
    if small_x.is_finite() && small_x > 0.0 {
        small_x
    } else {
        shape
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exact CDF for integer shapes: P(X ≤ x) = 1 - e^{-x} Σ_{k<n} x^k / k!.
    fn erlang_cdf(n: u32, x: f64) -> f64 {
        let mut term = 1.0;
        let mut sum = 1.0;
        for k in 1..n {
            term *= x / f64::from(k);
            sum += term;
        }
        1.0 - (-x).exp() * sum
    }

    #[test]
    fn exponential_quantiles_are_closed_form() {
        // Gamma(1) is Exp(1): q = -ln(1 - p). Tolerance 1e-12 relative.
        for p in [1e-6, 0.025, 0.5, 0.975, 1.0 - 1e-9] {
            let q = standard_gamma_quantile(1.0, p);
            let expected = -(-p).ln_1p();
            assert!(
                (q - expected).abs() <= 1e-12 * expected,
                "p={p}: {q} vs {expected}"
            );
        }
    }

    #[test]
    fn erlang_quantiles_invert_the_closed_form_cdf() {
        // The CDF at the returned quantile equals p to 1e-12 (absolute).
        for n in [2_u32, 5, 12, 40, 150] {
            for p in [0.025, 0.5, 0.975] {
                let q = standard_gamma_quantile(f64::from(n), p);
                assert!((erlang_cdf(n, q) - p).abs() < 1e-12, "n={n} p={p} q={q}");
            }
        }
    }

    #[test]
    fn large_shape_shortcut_inverts_the_cdf() {
        // Above WILSON_HILFERTY_SHAPE the CDF at the returned quantile is p to 1e-6 absolute
        // (a relative error of 6e-9 in x moves the CDF by ~√shape·φ(z)·6e-9).
        for shape in [1e5, 3.7e6] {
            for p in [0.025, 0.5, 0.975] {
                let q = standard_gamma_quantile(shape, p);
                let cdf = lower_regularized(shape, q);
                assert!((cdf - p).abs() < 1e-6, "shape {shape} p {p}: cdf {cdf}");
            }
        }
    }

    #[test]
    fn small_shape_quantile_matches_the_power_law_of_the_lower_tail() {
        // For shape 0.01 the 2.5 % quantile is ~1e-160: P(x) = x^a/Γ(a+1)·(1 - a x/(a+1) + …),
        // and the correction is negligible there, so q = (pΓ(a+1))^(1/a). Tolerance 1e-9 rel.
        let shape = 0.01;
        let q = standard_gamma_quantile(shape, 0.025);
        let expected = ((0.025_f64.ln() + ln_gamma(1.0 + shape)) / shape).exp();
        assert!(q > 0.0);
        assert!((q - expected).abs() <= 1e-9 * expected, "{q} vs {expected}");
    }
}
