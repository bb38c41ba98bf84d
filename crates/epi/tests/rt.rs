//! Rt by Cori et al. through the public API, against references computed here by other means:
//! the serial interval by Simpson integration of the triangular kernel (not the CDF formula),
//! the posterior by plain loops, and its quantiles by bisection of a CDF evaluated in closed
//! form (integer shapes) or by Simpson quadrature of the density (other shapes).

use ceiba_epi::EpiError;
use ceiba_epi::rt::{
    MAX_DAILY_CASES, MAX_SERIES_DAYS, RtEstimate, RtEstimator, RtParams, SerialInterval,
    estimate_rt,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Independent numerics.

/// ln Γ(x) for x > 0: recurrence up to 15, then Stirling's series (error < 1e-14 there).
fn ln_gamma_reference(x: f64) -> f64 {
    let mut z = x;
    let mut shift = 0.0;
    while z < 15.0 {
        shift -= z.ln();
        z += 1.0;
    }
    let z2 = z * z;
    let series = 1.0 / (12.0 * z) - 1.0 / (360.0 * z * z2) + 1.0 / (1260.0 * z * z2 * z2)
        - 1.0 / (1680.0 * z * z2 * z2 * z2);
    shift + (z - 0.5) * z.ln() - z + 0.5 * (2.0 * std::f64::consts::PI).ln() + series
}

fn gamma_density(x: f64, shape: f64, scale: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    ((shape - 1.0) * (x / scale).ln() - x / scale - ln_gamma_reference(shape)).exp() / scale
}

/// Composite Simpson's rule with `panels` (even) panels.
fn simpson(f: impl Fn(f64) -> f64, from: f64, to: f64, panels: usize) -> f64 {
    assert!(panels.is_multiple_of(2));
    let h = (to - from) / panels as f64;
    let mut sum = f(from) + f(to);
    for i in 1..panels {
        let weight = if i % 2 == 1 { 4.0 } else { 2.0 };
        sum += weight * f(from + i as f64 * h);
    }
    sum * h / 3.0
}

/// ∫ h(y) g(y) dy over [from, to] ⊂ [0, ∞) for a gamma density g of shape `shape`. From 0,
/// the density behaves like y^(shape-1), which Simpson's rule integrates poorly; there we
/// substitute y = from + (to - from)·s^q with q·shape = 5, making the integrand ~s⁴.
fn integrate_against_gamma(
    h: impl Fn(f64) -> f64,
    shape: f64,
    scale: f64,
    from: f64,
    to: f64,
) -> f64 {
    let panels = 4000;
    if from > 0.0 {
        return simpson(|y| h(y) * gamma_density(y, shape, scale), from, to, panels);
    }
    let q = 5.0 / shape;
    let width = to - from;
    simpson(
        |s: f64| {
            let y = from + width * s.powf(q);
            let jacobian = width * q * s.powf(q - 1.0);
            h(y) * gamma_density(y, shape, scale) * jacobian
        },
        0.0,
        1.0,
        panels,
    )
}

/// Cori et al. Web Appendix 11: w_k = ∫ (1 - |u - k|)₊ g(u - 1) du, g the gamma density with
/// mean `mean - 1` and SD `sd`; with y = u - 1 the kernel peaks at y = k - 1. Each unit interval
/// is integrated separately (the kernel has a kink at its peak), from y = 0 up.
fn reference_discr_si(k: usize, mean: f64, sd: f64) -> f64 {
    let shape = ((mean - 1.0) / sd).powi(2);
    let scale = sd * sd / (mean - 1.0);
    let peak = k as f64 - 1.0;
    let kernel = |y: f64| (1.0 - (y - peak).abs()).max(0.0);
    let mut total = 0.0;
    for (from, to) in [(peak - 1.0, peak), (peak, peak + 1.0)] {
        let from = from.max(0.0);
        if to > from {
            total += integrate_against_gamma(kernel, shape, scale, from, to);
        }
    }
    total
}

/// Gamma(shape, 1) CDF for an integer shape n: 1 - Σ_{k<n} e^{-x} x^k / k!, terms in log space.
fn erlang_cdf(n: u64, x: f64) -> f64 {
    let ln_x = x.ln();
    let mut ln_factorial = 0.0;
    let mut upper_tail = 0.0;
    for k in 0..n {
        if k > 0 {
            ln_factorial += (k as f64).ln();
        }
        upper_tail += (-x + k as f64 * ln_x - ln_factorial).exp();
    }
    1.0 - upper_tail
}

/// Gamma(shape, 1) CDF by Simpson quadrature of the density (for shape ≥ 5, where the density
/// is smooth enough for Simpson's h⁴ error), from where the mass below is negligible.
fn quadrature_cdf(shape: f64, x: f64) -> f64 {
    let from = (shape - 40.0 * shape.sqrt()).max(0.0);
    if x <= from {
        return 0.0;
    }
    simpson(|t| gamma_density(t, shape, 1.0), from, x, 4000)
}

/// The p quantile of a CDF by bisection (geometric, for a positive variable).
fn bisect_quantile(cdf: impl Fn(f64) -> f64, p: f64, mut low: f64, mut high: f64) -> f64 {
    for _ in 0..200 {
        let middle = (low * high).sqrt();
        if cdf(middle) < p {
            low = middle;
        } else {
            high = middle;
        }
        if high - low <= 1e-13 * high {
            break;
        }
    }
    0.5 * (low + high)
}

fn relative_error(got: f64, expected: f64) -> f64 {
    (got - expected).abs() / expected.abs()
}

fn assert_close(got: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        relative_error(got, expected) <= tolerance,
        "{what}: got {got}, expected {expected} (relative error {:e} > {tolerance:e})",
        relative_error(got, expected)
    );
}

fn non_parametric(probabilities: &[f64]) -> SerialInterval {
    SerialInterval::NonParametric {
        probabilities: probabilities.to_vec(),
    }
}

fn invalid_name(result: Result<impl std::fmt::Debug, EpiError>) -> &'static str {
    match result {
        Err(EpiError::InvalidParameter { name, .. }) => name,
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. The discretised serial interval.

#[test]
fn parametric_serial_interval_matches_the_integral_of_cori_web_appendix_11() {
    // Tolerance 1e-8 absolute per weight: Simpson with 4000 panels per day (error ~1e-10 even
    // where the density behaves like y^(shape-1) at 0) against the closed form.
    for (mean, sd) in [(4.8, 2.3), (2.6, 1.5), (8.4, 3.8), (3.0, 6.0)] {
        let si = SerialInterval::Parametric {
            mean_days: mean,
            sd_days: sd,
        }
        .discretise()
        .expect("valid serial interval");
        let weights = si.weights();
        assert_eq!(weights[0], 0.0, "nobody infects on day 0");
        for k in 0..=80 {
            let expected = reference_discr_si(k, mean, sd);
            // Past the cut the weights are zero, and the mass left there is below 1e-9.
            let got = weights.get(k).copied().unwrap_or(0.0);
            assert!(
                (got - expected).abs() < 1e-8,
                "discr_si({k}, {mean}, {sd}): got {got}, expected {expected}"
            );
        }
    }
}

#[test]
fn parametric_serial_interval_keeps_the_mean_and_adds_the_kernel_variance() {
    // Analytic: the triangular kernel interpolates k and k² linearly between integers, so the
    // discrete mean is the continuous one, 1 + (mean - 1), and the variance is sd² plus
    // E[f(1 - f)], f the fractional part of the gamma variable (≈ 1/6), computed here by
    // quadrature. Tolerances, absolute: mean 1e-7 (the cut tail's mass, ≤ 1e-9, times its
    // ~40 days); variance 2e-6 (that mass times ~40²).
    let si = SerialInterval::default().discretise().unwrap();
    let total: f64 = si.weights().iter().sum();
    assert!((total - 1.0).abs() < 1e-9, "sum {total}");
    assert!(
        (si.mean_days() - 4.8).abs() < 1e-7,
        "mean {}",
        si.mean_days()
    );
    let (shape, scale) = ((3.8_f64 / 2.3).powi(2), 2.3 * 2.3 / 3.8);
    let fractional_spread: f64 = (0..80)
        .map(|n| {
            let from = f64::from(n);
            let spread = |y: f64| (y - from) * (1.0 - (y - from));
            integrate_against_gamma(spread, shape, scale, from, from + 1.0)
        })
        .sum();
    assert!(
        (fractional_spread - 1.0 / 6.0).abs() < 1e-3,
        "{fractional_spread}"
    );
    let expected_variance = 2.3_f64.powi(2) + fractional_spread;
    assert!(
        (si.sd_days().powi(2) - expected_variance).abs() < 2e-6,
        "variance {} vs {expected_variance}",
        si.sd_days().powi(2)
    );
    // The cut is short: the product computes Λ with it for every territory.
    assert!(si.weights().len() <= 60, "{} days", si.weights().len());
}

#[test]
fn supplied_serial_interval_is_renormalised_and_trimmed() {
    // Exact arithmetic on a hand-made distribution summing to 1.005; tolerance 1e-15.
    let si = non_parametric(&[0.0, 0.2, 0.5, 0.305, 0.0, 0.0])
        .discretise()
        .unwrap();
    let expected = [0.0, 0.2 / 1.005, 0.5 / 1.005, 0.305 / 1.005];
    assert_eq!(si.weights().len(), expected.len());
    for (got, want) in si.weights().iter().zip(expected) {
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
    }
}

// ---------------------------------------------------------------------------------------------
// 2. The posterior against a brute-force computation.

const HAND_SI: [f64; 7] = [0.0, 0.1, 0.25, 0.3, 0.2, 0.1, 0.05];

/// 45 days of a small outbreak with some imported cases.
fn outbreak() -> (Vec<u64>, Vec<u64>) {
    let local = vec![
        0, 0, 1, 0, 2, 1, 3, 2, 4, 3, 5, 6, 4, 8, 7, 9, 11, 10, 12, 9, 14, 13, 12, 15, 11, 10, 12,
        9, 8, 10, 7, 6, 8, 5, 6, 4, 5, 3, 4, 2, 3, 1, 2, 1, 0,
    ];
    let mut imported = vec![0; local.len()];
    imported[0] = 2;
    imported[3] = 1;
    imported[9] = 2;
    imported[20] = 3;
    (local, imported)
}

/// Λ_t = Σ_{s=1}^{t} w_s (local + imported)_{t-s}, written as the plain double loop.
fn brute_force_infectiousness(local: &[u64], imported: &[u64], si: &[f64]) -> Vec<f64> {
    let mut lambda = vec![0.0; local.len()];
    for t in 0..local.len() {
        for s in 1..=t {
            if s < si.len() {
                lambda[t] += si[s] * (local[t - s] + imported[t - s]) as f64;
            }
        }
    }
    lambda
}

#[test]
fn posterior_matches_brute_force_with_closed_form_quantiles() {
    // Default prior (shape 1, scale 5) and integer counts make every posterior shape an
    // integer, whose CDF is a finite Poisson sum. Tolerances: mean and SD 1e-12 relative
    // (same formula, different summation order); quantiles 1e-9 relative.
    let (local, imported) = outbreak();
    let params = RtParams {
        serial_interval: non_parametric(&HAND_SI),
        ..RtParams::default()
    };
    let estimates = estimate_rt(&local, &imported, &params).unwrap();
    let lambda = brute_force_infectiousness(&local, &imported, &HAND_SI);
    // Mean SI of HAND_SI is 3.1 days, below every window end, so all windows are reported.
    assert_eq!(estimates.len(), local.len() - 7);
    for (index, estimate) in estimates.iter().enumerate() {
        let t_start = index + 1;
        let t_end = t_start + 6;
        assert_eq!((estimate.t_start, estimate.t_end), (t_start, t_end));
        let cases: u64 = local[t_start..=t_end].iter().sum();
        let window_lambda: f64 = lambda[t_start..=t_end].iter().sum();
        let shape = 1 + cases;
        let scale = 1.0 / (1.0 / 5.0 + window_lambda);
        assert_eq!(estimate.local_cases, cases as f64);
        assert_close(estimate.total_infectiousness, window_lambda, 1e-12, "ΣΛ");
        assert_close(estimate.mean, shape as f64 * scale, 1e-12, "mean");
        assert_close(estimate.sd, (shape as f64).sqrt() * scale, 1e-12, "sd");
        for (p, got) in [
            (0.025, estimate.quantile_025),
            (0.5, estimate.median),
            (0.975, estimate.quantile_975),
        ] {
            let standard = bisect_quantile(|x| erlang_cdf(shape, x), p, 1e-6, 1e4);
            assert_close(
                got,
                standard * scale,
                1e-9,
                &format!("quantile {p} at {t_end}"),
            );
        }
        // Reliability rule: infectors present and CV = 1/√shape ≤ 0.3, i.e. ≥ 11 local cases.
        assert_eq!(estimate.reliable, window_lambda > 0.0 && cases >= 11);
    }
}

#[test]
fn posterior_quantiles_match_quadrature_for_a_non_integer_shape() {
    // Prior mean 2, SD 1.3: shape (2/1.3)² ≈ 2.37, so posterior shapes are not integers.
    // Reference CDF by Simpson quadrature (4000 panels); tolerance 1e-7 relative.
    let (local, imported) = outbreak();
    let params = RtParams {
        serial_interval: non_parametric(&HAND_SI),
        prior_mean: 2.0,
        prior_sd: 1.3,
        ..RtParams::default()
    };
    let estimates = estimate_rt(&local, &imported, &params).unwrap();
    let prior_shape = (2.0_f64 / 1.3).powi(2);
    let prior_scale = 1.3 * 1.3 / 2.0;
    let lambda = brute_force_infectiousness(&local, &imported, &HAND_SI);
    // A few windows with shapes from ~8 to ~80.
    for estimate in estimates.iter().step_by(9) {
        let cases: u64 = local[estimate.t_start..=estimate.t_end].iter().sum();
        let window_lambda: f64 = lambda[estimate.t_start..=estimate.t_end].iter().sum();
        let shape = prior_shape + cases as f64;
        let scale = 1.0 / (1.0 / prior_scale + window_lambda);
        assert!(
            shape >= 5.0,
            "the quadrature reference needs shape ≥ 5, got {shape}"
        );
        assert_close(estimate.mean, shape * scale, 1e-12, "mean");
        for (p, got) in [
            (0.025, estimate.quantile_025),
            (0.5, estimate.median),
            (0.975, estimate.quantile_975),
        ] {
            let standard = bisect_quantile(|x| quadrature_cdf(shape, x), p, 1e-3, 1e3);
            assert_close(got, standard * scale, 1e-7, &format!("quantile {p}"));
        }
    }
}

#[test]
fn posterior_quantiles_hold_for_national_sized_counts() {
    // ~5000 cases a day: posterior shape ~35 000. Closed-form Erlang CDF; tolerance 1e-9.
    let local: Vec<u64> = (0..40_u64).map(|day| 5000 + 37 * day).collect();
    let imported = vec![0; local.len()];
    let estimates = estimate_rt(&local, &imported, &RtParams::default()).unwrap();
    let last = estimates.last().unwrap();
    let shape: u64 = 1 + local[last.t_start..=last.t_end].iter().sum::<u64>();
    assert_eq!(last.posterior_shape, shape as f64);
    for (p, got) in [(0.025, last.quantile_025), (0.975, last.quantile_975)] {
        let standard = bisect_quantile(|x| erlang_cdf(shape, x), p, 1.0, 1e6);
        assert_close(got, standard * last.posterior_scale, 1e-9, &format!("q{p}"));
    }
    assert!(last.reliable);
}

#[test]
fn posterior_quantiles_hold_for_very_large_shapes() {
    // 20 000 cases a day over a week: shape 140 001, where the quantile comes from
    // Wilson–Hilferty alone. Closed-form Erlang CDF; tolerance 1e-8 relative.
    let local = vec![20_000; 12];
    let estimates = estimate_rt(&local, &[0; 12], &RtParams::default()).unwrap();
    let last = estimates.last().unwrap();
    let shape = 140_001_u64;
    assert_eq!(last.posterior_shape, shape as f64);
    for (p, got) in [
        (0.025, last.quantile_025),
        (0.5, last.median),
        (0.975, last.quantile_975),
    ] {
        let standard = bisect_quantile(|x| erlang_cdf(shape, x), p, 1e5, 2e5);
        assert_close(got, standard * last.posterior_scale, 1e-8, &format!("q{p}"));
    }
}

// ---------------------------------------------------------------------------------------------
// Analytic cases.

#[test]
fn constant_incidence_gives_the_exact_steady_state_posterior() {
    // Once the serial interval has passed, Λ_t = c·Σw = c, so over a window of τ days the
    // posterior mean is exactly (a + τc)/(1/b + τc) with a = 1, b = 5. Tolerance 1e-8
    // relative (Σw = 1 to 1e-9).
    let c = 10;
    let local = vec![c; 150];
    let imported = vec![0; 150];
    let estimates = estimate_rt(&local, &imported, &RtParams::default()).unwrap();
    let tau_c = 7.0 * c as f64;
    let expected_mean = (1.0 + tau_c) / (0.2 + tau_c);
    let steady: Vec<&RtEstimate> = estimates.iter().filter(|e| e.t_start > 70).collect();
    assert!(!steady.is_empty());
    for estimate in steady {
        assert_close(estimate.mean, expected_mean, 1e-8, "mean");
        assert!(estimate.quantile_025 < 1.0 && 1.0 < estimate.quantile_975);
        assert!(estimate.reliable);
    }
}

/// M(-r) = Σ_k w_k e^{-rk} from the independent (Simpson) serial interval.
fn reference_laplace_transform(rate_per_day: f64, mean: f64, sd: f64) -> f64 {
    (1..=80)
        .map(|k| reference_discr_si(k, mean, sd) * (-rate_per_day * k as f64).exp())
        .sum()
}

#[test]
fn exponential_growth_gives_the_euler_lotka_reproduction_number() {
    // I_t = I_0 e^{rt} makes Λ_t = I_t·M(-r) once the serial interval has passed, so the
    // posterior mean is (a + S)/(1/b + M·S), S the window's cases, and tends to 1/M(-r) (the
    // discrete Euler–Lotka equation). Tolerances: exact formula 1e-8 relative; 1/M(-r) 1e-5
    // relative with I_0 = 1e6 (prior pull ~1e-6).
    let estimator = RtEstimator::new(&RtParams::default()).unwrap();
    for rate_per_day in [0.1, 0.02, -0.05] {
        let incidence: Vec<f64> = (0..100)
            .map(|day| 1e6 * (rate_per_day * (day as f64 - 85.0)).exp())
            .collect();
        let imported = vec![0.0; incidence.len()];
        let estimates = estimator.estimate_expected(&incidence, &imported).unwrap();
        let m = reference_laplace_transform(rate_per_day, 4.8, 2.3);
        for estimate in estimates.iter().filter(|e| e.t_start > 70) {
            let cases: f64 = incidence[estimate.t_start..=estimate.t_end].iter().sum();
            assert_close(
                estimate.mean,
                (1.0 + cases) / (0.2 + m * cases),
                1e-8,
                "exact",
            );
            assert_close(estimate.mean, 1.0 / m, 1e-5, "Euler–Lotka");
        }
        // Sanity on the direction: growth means R > 1, decline R < 1.
        let last = estimates.last().unwrap();
        assert_eq!(last.mean > 1.0, rate_per_day > 0.0);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Imported cases.

#[test]
fn only_imported_cases_give_an_rt_near_zero() {
    // No local case: shape stays the prior's 1, so the posterior is exponential with scale
    // 1/(1/5 + ΣΛ) and quantiles -scale·ln(1 - p). With 5 imported a day, ΣΛ = 35 in steady
    // state. Tolerance 1e-8 relative.
    let imported = vec![5; 100];
    let local = vec![0; 100];
    let estimates = estimate_rt(&local, &imported, &RtParams::default()).unwrap();
    for estimate in estimates.iter().filter(|e| e.t_start > 60) {
        let scale = 1.0 / (0.2 + 35.0);
        assert_close(estimate.mean, scale, 1e-8, "mean");
        assert_close(estimate.quantile_975, -scale * 0.025_f64.ln(), 1e-8, "q975");
        assert_close(estimate.median, scale * 2.0_f64.ln(), 1e-8, "median");
        assert!(estimate.mean < 0.03);
        assert!(
            !estimate.reliable,
            "one prior case's worth of information is not reliable"
        );
    }
}

#[test]
fn imported_infectors_add_to_infectiousness_but_not_to_local_cases() {
    // Λ is linear in the infectors: Λ(local + imported) = Λ(local) + Λ(imported), while the
    // numerator counts local cases only. Tolerance 1e-12 relative.
    let (local, _) = outbreak();
    let mut imported = vec![0; local.len()];
    imported[5] = 4;
    imported[15] = 6;
    let zeros = vec![0; local.len()];
    let params = RtParams::default();
    let without = estimate_rt(&local, &zeros, &params).unwrap();
    let with = estimate_rt(&local, &imported, &params).unwrap();
    // Imported cases alone, seen as local infectors on an otherwise empty series.
    let only_imported = estimate_rt(&zeros, &imported, &params).unwrap();
    assert_eq!(without.len(), with.len());
    let mut raised = 0;
    for ((w, wo), io) in with.iter().zip(&without).zip(&only_imported) {
        assert_eq!(w.local_cases, wo.local_cases);
        assert_close(
            w.total_infectiousness,
            wo.total_infectiousness + io.total_infectiousness,
            1e-12,
            "linearity of Λ",
        );
        if io.total_infectiousness > 0.0 {
            assert!(w.mean < wo.mean, "more infectors, same cases: lower R");
            raised += 1;
        }
    }
    assert!(raised > 10);
}

// ---------------------------------------------------------------------------------------------
// Windows.

#[test]
fn windows_start_on_day_one_and_wait_for_the_mean_serial_interval() {
    // EpiEstim: t_start from 2 (1-based), and a window is reported once its end (1-based)
    // exceeds the mean serial interval (4.8 days by default).
    let local: Vec<u64> = (0..30).map(|day| 1 + day % 4).collect();
    let imported = vec![0; 30];
    let weekly = estimate_rt(&local, &imported, &RtParams::default()).unwrap();
    assert_eq!((weekly[0].t_start, weekly[0].t_end), (1, 7));
    assert_eq!(weekly.len(), 30 - 7);
    assert_eq!(weekly.last().unwrap().t_end, 29);
    let daily_params = RtParams {
        window_days: 1,
        ..RtParams::default()
    };
    let daily = estimate_rt(&local, &imported, &daily_params).unwrap();
    // 1-based ends 2, 3, 4 are ≤ 4.8 and dropped; 5 is the first.
    assert_eq!((daily[0].t_start, daily[0].t_end), (4, 4));
    assert_eq!(daily.len(), 26);
}

#[test]
fn windows_without_infectors_report_the_prior_and_are_unreliable() {
    // Three imported cases on day 0, then nothing for 80 days, then local cases nobody here
    // could have infected. With Σ Λ = 0 the posterior shape is 1 + cases and the scale the
    // prior's 5 (EpiEstim's behaviour), flagged unreliable. Exact equalities. The window
    // 74..=80 holds day 80's cases but none of their infectees.
    let mut local = vec![0; 100];
    let mut imported = vec![0; 100];
    imported[0] = 3;
    for day in local.iter_mut().skip(80).take(5) {
        *day = 4;
    }
    let estimates = estimate_rt(&local, &imported, &RtParams::default()).unwrap();
    let quiet = estimates.iter().find(|e| e.t_start == 60).unwrap();
    assert_eq!(quiet.total_infectiousness, 0.0);
    assert_eq!((quiet.mean, quiet.sd), (5.0, 5.0));
    assert!(!quiet.reliable);
    let unexplained = estimates.iter().find(|e| e.t_start == 74).unwrap();
    assert_eq!(unexplained.total_infectiousness, 0.0);
    assert_eq!(unexplained.local_cases, 4.0);
    assert_eq!(unexplained.mean, 5.0 * 5.0);
    assert!(!unexplained.reliable, "cases but no infectors");
    // With a confident prior the CV rule alone would pass; the missing infectors still fail.
    let confident_prior = RtParams {
        prior_mean: 5.0,
        prior_sd: 1.0,
        ..RtParams::default()
    };
    let estimates = estimate_rt(&local, &imported, &confident_prior).unwrap();
    let unexplained = estimates.iter().find(|e| e.t_start == 74).unwrap();
    assert!(1.0 / unexplained.posterior_shape.sqrt() <= 0.3);
    assert!(!unexplained.reliable);
}

// ---------------------------------------------------------------------------------------------
// 4. Refusals.

#[test]
fn bad_parameters_are_refused_naming_them() {
    let with = |change: fn(&mut RtParams)| {
        let mut params = RtParams::default();
        change(&mut params);
        RtEstimator::new(&params)
    };
    let parametric = |mean_days, sd_days| SerialInterval::Parametric { mean_days, sd_days };
    assert_eq!(invalid_name(with(|p| p.window_days = 0)), "window_days");
    assert_eq!(invalid_name(with(|p| p.window_days = 366)), "window_days");
    for mean in [1.0, 0.5, f64::NAN, f64::INFINITY, 61.0] {
        let params = RtParams {
            serial_interval: parametric(mean, 2.0),
            ..RtParams::default()
        };
        assert_eq!(
            invalid_name(RtEstimator::new(&params)),
            "serial_interval.mean_days",
            "mean {mean}"
        );
    }
    for sd in [0.0, -1.0, 0.05, f64::NAN, f64::INFINITY, 61.0] {
        let params = RtParams {
            serial_interval: parametric(4.8, sd),
            ..RtParams::default()
        };
        assert_eq!(
            invalid_name(RtEstimator::new(&params)),
            "serial_interval.sd_days",
            "sd {sd}"
        );
    }
    // A serial interval whose tail reaches past a year.
    let long_tail = RtParams {
        serial_interval: parametric(60.0, 60.0),
        ..RtParams::default()
    };
    assert_eq!(
        invalid_name(RtEstimator::new(&long_tail)),
        "serial_interval"
    );
    for probabilities in [
        vec![],
        vec![0.1, 0.5, 0.4],
        vec![0.0, -0.1, 1.1],
        vec![0.0, 0.0, 0.0],
        vec![0.0, 0.5],
        vec![0.0, f64::NAN, 1.0],
        {
            let mut too_long = vec![0.0; 400];
            too_long[1] = 1.0;
            too_long
        },
    ] {
        let params = RtParams {
            serial_interval: non_parametric(&probabilities),
            ..RtParams::default()
        };
        assert_eq!(
            invalid_name(RtEstimator::new(&params)),
            "serial_interval.probabilities",
            "{probabilities:?}"
        );
    }
    assert_eq!(invalid_name(with(|p| p.prior_mean = 0.0)), "prior_mean");
    assert_eq!(invalid_name(with(|p| p.prior_mean = -5.0)), "prior_mean");
    assert_eq!(
        invalid_name(with(|p| p.prior_mean = f64::NAN)),
        "prior_mean"
    );
    assert_eq!(invalid_name(with(|p| p.prior_mean = 101.0)), "prior_mean");
    assert_eq!(invalid_name(with(|p| p.prior_sd = 0.0)), "prior_sd");
    assert_eq!(
        invalid_name(with(|p| p.prior_sd = f64::INFINITY)),
        "prior_sd"
    );
    assert_eq!(
        invalid_name(with(|p| {
            p.prior_mean = 1.0;
            p.prior_sd = 11.0;
        })),
        "prior_sd"
    );
    assert_eq!(
        invalid_name(with(|p| p.max_posterior_cv = 0.0)),
        "max_posterior_cv"
    );
    assert_eq!(
        invalid_name(with(|p| p.max_posterior_cv = f64::NAN)),
        "max_posterior_cv"
    );
}

#[test]
fn refusal_messages_are_in_spanish_and_name_the_parameter() {
    let params = RtParams {
        window_days: 0,
        ..RtParams::default()
    };
    let message = RtEstimator::new(&params).unwrap_err().to_string();
    assert!(message.contains("«window_days»"), "{message}");
    assert!(message.contains("se dio 0"), "{message}");
}

#[test]
fn bad_series_are_refused() {
    let estimator = RtEstimator::new(&RtParams::default()).unwrap();
    assert!(matches!(
        estimator.estimate(&[], &[]),
        Err(EpiError::InsufficientData(_))
    ));
    // A territory with no case at all.
    match estimator.estimate(&[0; 30], &[0; 30]) {
        Err(EpiError::InsufficientData(message)) => {
            assert!(message.contains("sin casos"), "{message}");
        }
        other => panic!("expected InsufficientData, got {other:?}"),
    }
    // Too short for one window.
    assert!(matches!(
        estimator.estimate(&[1; 7], &[0; 7]),
        Err(EpiError::InsufficientData(_))
    ));
    assert_eq!(
        invalid_name(estimator.estimate(&[1; 30], &[0; 29])),
        "imported"
    );
    let too_long = vec![1; MAX_SERIES_DAYS + 1];
    assert_eq!(
        invalid_name(estimator.estimate(&too_long, &too_long)),
        "local"
    );
    let mut huge = vec![1; 30];
    huge[3] = MAX_DAILY_CASES + 1;
    assert_eq!(invalid_name(estimator.estimate(&huge, &[0; 30])), "local");
    assert_eq!(
        invalid_name(estimator.estimate(&[1; 30], &huge)),
        "imported"
    );
    for bad in [f64::NAN, -1.0, f64::INFINITY] {
        let mut series = vec![1.0; 30];
        series[10] = bad;
        assert_eq!(
            invalid_name(estimator.estimate_expected(&series, &[0.0; 30])),
            "local"
        );
        assert_eq!(
            invalid_name(estimator.estimate_expected(&[1.0; 30], &series)),
            "imported"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Serialisation: what the product stores and sends.

#[test]
fn parameters_deserialise_with_defaults_and_refuse_unknown_fields() {
    let empty: RtParams = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, RtParams::default());
    let custom: RtParams = serde_json::from_str(
        r#"{"window_days": 14,
            "serial_interval": {"kind": "non_parametric", "probabilities": [0, 0.4, 0.6]}}"#,
    )
    .unwrap();
    assert_eq!(custom.window_days, 14);
    assert_eq!(custom.serial_interval, non_parametric(&[0.0, 0.4, 0.6]));
    assert_eq!(custom.prior_mean, 5.0);
    let parametric: RtParams = serde_json::from_str(
        r#"{"serial_interval": {"kind": "parametric", "mean_days": 6.5, "sd_days": 4.0}}"#,
    )
    .unwrap();
    assert_eq!(
        parametric.serial_interval,
        SerialInterval::Parametric {
            mean_days: 6.5,
            sd_days: 4.0
        }
    );
    assert!(serde_json::from_str::<RtParams>(r#"{"window": 7}"#).is_err());
    let round_trip: RtParams =
        serde_json::from_str(&serde_json::to_string(&custom).unwrap()).unwrap();
    assert_eq!(round_trip, custom);
}

#[test]
fn estimates_serialise_with_their_field_names() {
    let (local, imported) = outbreak();
    let estimates = estimate_rt(&local, &imported, &RtParams::default()).unwrap();
    let json = serde_json::to_value(&estimates[0]).unwrap();
    for field in [
        "t_start",
        "t_end",
        "local_cases",
        "mean",
        "sd",
        "quantile_025",
        "median",
        "quantile_975",
        "reliable",
    ] {
        assert!(json.get(field).is_some(), "{field} missing from {json}");
    }
    assert_eq!(json["t_end"], 7);
}

// ---------------------------------------------------------------------------------------------
// 5. Properties on random series.

fn series_strategy() -> impl Strategy<Value = (Vec<u64>, Vec<u64>)> {
    (0_usize..90).prop_flat_map(|days| {
        let daily = prop_oneof![3 => Just(0_u64), 5 => 0_u64..30, 1 => 0_u64..5000];
        (
            proptest::collection::vec(daily.clone(), days),
            proptest::collection::vec(prop_oneof![4 => Just(0_u64), 1 => 0_u64..10], days),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_estimate_is_ordered_finite_and_non_negative(
        (local, imported) in series_strategy(),
        window_days in 1_usize..15,
        mean_days in 1.2_f64..12.0,
        // Coefficient of variation of the gamma part up to 1 (shape ≥ 1): realistic serial
        // intervals, whose tail always ends within the year allowed.
        sd_per_gamma_mean in 0.1_f64..1.0,
        prior_mean in 0.5_f64..10.0,
        prior_sd in 0.5_f64..5.0,
    ) {
        let params = RtParams {
            window_days,
            serial_interval: SerialInterval::Parametric {
                mean_days,
                sd_days: (sd_per_gamma_mean * (mean_days - 1.0)).max(0.1),
            },
            prior_mean,
            prior_sd,
            ..RtParams::default()
        };
        match estimate_rt(&local, &imported, &params) {
            Ok(estimates) => {
                prop_assert!(!estimates.is_empty());
                for e in &estimates {
                    prop_assert_eq!(e.t_end + 1 - e.t_start, window_days);
                    prop_assert!(e.t_start >= 1 && e.t_end < local.len());
                    for value in [e.mean, e.sd, e.quantile_025, e.median, e.quantile_975] {
                        prop_assert!(value.is_finite() && value >= 0.0, "{:?}", e);
                    }
                    prop_assert!(e.quantile_025 <= e.median && e.median <= e.quantile_975, "{:?}", e);
                    prop_assert!(e.quantile_025 < e.mean && e.mean < e.quantile_975, "{:?}", e);
                }
            }
            // Valid parameters and aligned series: only the data can be insufficient.
            Err(error) => prop_assert!(matches!(error, EpiError::InsufficientData(_)), "{error:?}"),
        }
    }
}
