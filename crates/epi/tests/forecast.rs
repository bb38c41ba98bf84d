//! The ensemble forecast, the naive baseline and the scores, through the public API, against
//! known curves, Poisson quantiles summed here by hand, and scores worked out by hand.

use ceiba_epi::EpiError;
use ceiba_epi::forecast::{
    Forecast, ForecastDay, ForecastOptions, ForecastStatus, MAX_HORIZON_DAYS, MAX_SERIES_DAYS,
    forecast, naive_baseline, score_days, score_forecast,
};
use ceiba_epi::growth::{GrowthModel, GrowthParams};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Poisson};

/// A logistic wave (`C(t) = K/(1 + (K/C₀ − 1)e^{−rt})`, written here) peaking on day 40 at
/// 750 cases a day.
fn logistic_wave_mean(days: usize) -> Vec<f64> {
    let (r, k, c0) = (0.15, 20_000.0, 50.0);
    let cumulative: Vec<f64> = (0..=days)
        .map(|t| k / (1.0 + (k / c0 - 1.0) * (-r * t as f64).exp()))
        .collect();
    cumulative.windows(2).map(|w| w[1] - w[0]).collect()
}

/// Counts of mean `mean` and variance `dispersion × mean` (Poisson at 1).
fn noisy(mean: &[f64], dispersion: f64, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    mean.iter()
        .map(|&m| {
            let rate = if dispersion > 1.0 {
                Gamma::new(m / (dispersion - 1.0), dispersion - 1.0)
                    .unwrap()
                    .sample(&mut rng)
            } else {
                m
            };
            Poisson::new(rate).unwrap().sample(&mut rng)
        })
        .collect()
}

fn quick_options(seed: u64) -> ForecastOptions {
    ForecastOptions {
        bootstrap_samples: 100,
        seed,
        ..ForecastOptions::default()
    }
}

/// Forecasts 28 days ahead from two origins after the peak (day 40) of a noisy logistic wave,
/// three noise seeds each. The median is within 20 % of the true mean for the first week; the
/// true mean lies inside the 95 % interval on at least 90 % of the 168 days; the 95 % intervals
/// hold at least 88 % of the noisy values that followed, and the 50 % intervals between 30 % and
/// 80 %; and the ensemble's mean absolute error beats the naive baseline's every time.
#[test]
fn ensemble_forecasts_a_logistic_wave() {
    let mean = logistic_wave_mean(110);
    let (mut inside_95, mut inside_50, mut mean_inside, mut total) = (0.0, 0.0, 0.0, 0.0);
    for seed in 1..=3 {
        let observed = noisy(&mean, 1.0, seed);
        for origin in [45, 60] {
            let result = forecast(&observed[..origin], &quick_options(1)).unwrap();
            assert_eq!(result.status, ForecastStatus::Fitted);
            assert_eq!(result.ensemble.len(), 28);
            let weights: f64 = result.models.iter().map(|m| m.weight).sum();
            assert!((weights - 1.0).abs() < 1e-12, "weights add to {weights}");
            for day in &result.ensemble {
                let truth = mean[origin + day.days_ahead - 1];
                if day.days_ahead <= 7 {
                    assert!(
                        (day.median - truth).abs() <= 0.2 * truth,
                        "seed {seed}, origin {origin}, {} days ahead: median {} against a true \
                         mean of {truth:.1}",
                        day.days_ahead,
                        day.median
                    );
                }
                if (day.lower_95..=day.upper_95).contains(&truth) {
                    mean_inside += 1.0;
                }
            }
            let scores = score_forecast(&result, &observed[origin..origin + 28]).unwrap();
            inside_95 += scores.ensemble.coverage_95 * 28.0;
            inside_50 += scores.ensemble.coverage_50 * 28.0;
            total += 28.0;
            assert!(
                scores.ensemble.mean_absolute_error < scores.baseline.mean_absolute_error,
                "seed {seed}, origin {origin}: {scores:?}"
            );
        }
    }
    assert!(
        mean_inside / total >= 0.9,
        "the true mean was inside {mean_inside} of {total}"
    );
    assert!(
        inside_95 / total >= 0.88,
        "95 % intervals held {inside_95} of {total}"
    );
    let share_50 = inside_50 / total;
    assert!(
        (0.3..=0.8).contains(&share_50),
        "50 % intervals held {share_50}"
    );
}

/// Before the peak the turn is not in the data yet, so only the first week is held to
/// account: its 95 % intervals contain the true mean.
#[test]
fn before_the_peak_the_first_week_is_covered() {
    let mean = logistic_wave_mean(80);
    let observed = noisy(&mean, 1.0, 2);
    let options = ForecastOptions {
        calibration_days: 30,
        ..quick_options(3)
    };
    let result = forecast(&observed[..32], &options).unwrap();
    for day in &result.ensemble[..7] {
        let truth = mean[32 + day.days_ahead - 1];
        assert!(
            (day.lower_95..=day.upper_95).contains(&truth),
            "{day:?} against a true mean of {truth:.1}"
        );
    }
}

/// Overdispersed data (negative binomial, variance four times the mean): the fits see the
/// dispersion (between 2 and 8 for every model that carries weight), the 95 % intervals are on
/// average at least 1.4 times as wide as on Poisson data from the same curve (√4 = 2 in
/// theory), and they still hold at least 85 % of the values that followed.
#[test]
fn overdispersed_data_widen_the_intervals() {
    let mean = logistic_wave_mean(110);
    let width = |days: &[ForecastDay]| days.iter().map(|d| d.upper_95 - d.lower_95).sum::<f64>();
    let (mut inside_95, mut total, mut wide, mut narrow) = (0.0, 0.0, 0.0, 0.0);
    for seed in 1..=3 {
        let overdispersed = noisy(&mean, 4.0, seed);
        let poisson = noisy(&mean, 1.0, seed);
        for origin in [45, 60] {
            let result = forecast(&overdispersed[..origin], &quick_options(2)).unwrap();
            for model in result.models.iter().filter(|m| m.weight > 0.1) {
                assert!(
                    (2.0..=8.0).contains(&model.dispersion),
                    "seed {seed}, origin {origin}, {:?}: dispersion {}",
                    model.model,
                    model.dispersion
                );
            }
            let scores = score_forecast(&result, &overdispersed[origin..origin + 28]).unwrap();
            inside_95 += scores.ensemble.coverage_95 * 28.0;
            total += 28.0;
            wide += width(&result.ensemble);
            let calm = forecast(&poisson[..origin], &quick_options(2)).unwrap();
            narrow += width(&calm.ensemble);
        }
    }
    assert!(wide >= 1.4 * narrow, "widths {wide} against {narrow}");
    assert!(
        inside_95 / total >= 0.85,
        "95 % intervals held {inside_95} of {total}"
    );
}

/// Poisson quantiles by summing the probability mass, independently of the library.
fn poisson_quantile(mean: f64, level: f64) -> f64 {
    let mut mass = (-mean).exp();
    let mut cumulative = mass;
    let mut k = 0.0;
    while cumulative < level {
        k += 1.0;
        mass *= mean / k;
        cumulative += mass;
    }
    k
}

#[test]
fn naive_baseline_carries_last_weeks_mean_forward_with_poisson_intervals() {
    // Last seven days add to 28 (mean 4); the earlier days must not count.
    let series = [100.0, 100.0, 3.0, 4.0, 5.0, 2.0, 6.0, 4.0, 4.0];
    let baseline = naive_baseline(&series, 5).unwrap();
    assert_eq!(baseline.len(), 5);
    // Hand values for Poisson(4): P(X ≤ 1) = 0.092, P(X ≤ 3) = 0.433, P(X ≤ 4) = 0.629,
    // P(X ≤ 5) = 0.785, P(X ≤ 8) = 0.979.
    for (i, day) in baseline.iter().enumerate() {
        assert_eq!(
            *day,
            ForecastDay {
                days_ahead: i + 1,
                median: 4.0,
                lower_95: 1.0,
                upper_95: 8.0,
                lower_50: 3.0,
                upper_50: 5.0,
            }
        );
    }
    // A mean that is not a whole number, against the summed mass.
    let series = [7.0, 0.0, 12.0, 3.0, 9.0, 1.0, 5.0];
    let mean = 37.0 / 7.0;
    let day = naive_baseline(&series, 1).unwrap()[0];
    assert_eq!(day.median, poisson_quantile(mean, 0.5));
    assert_eq!(day.lower_95, poisson_quantile(mean, 0.025));
    assert_eq!(day.upper_95, poisson_quantile(mean, 0.975));
    assert_eq!(day.lower_50, poisson_quantile(mean, 0.25));
    assert_eq!(day.upper_50, poisson_quantile(mean, 0.75));
    // A forecast carries the same baseline, computed on its whole series.
    let mean_curve = logistic_wave_mean(60);
    let observed = noisy(&mean_curve, 1.0, 5);
    let result = forecast(&observed, &quick_options(0)).unwrap();
    assert_eq!(result.baseline, naive_baseline(&observed, 28).unwrap());
    // No case last week: zero, with no width.
    let quiet = naive_baseline(&[5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], 3).unwrap();
    assert!(quiet.iter().all(|d| d.median == 0.0 && d.upper_95 == 0.0));
}

#[test]
fn scores_match_a_hand_worked_example() {
    let day = |days_ahead, median, lower_95, upper_95, lower_50, upper_50| ForecastDay {
        days_ahead,
        median,
        lower_95,
        upper_95,
        lower_50,
        upper_50,
    };
    let days = [
        day(1, 10.0, 4.0, 20.0, 8.0, 12.0),
        day(2, 10.0, 4.0, 20.0, 8.0, 12.0),
        day(3, 6.0, 1.0, 12.0, 4.0, 8.0),
        day(4, 5.0, 0.0, 9.0, 3.0, 7.0),
    ];
    // Day 4 has not happened yet: three days are scored.
    let observed = [12.0, 25.0, 0.0];
    let scores = score_days(&days, &observed).unwrap();
    assert_eq!(scores.days_scored, 3);
    // Errors 2, 15, 6.
    assert!((scores.mean_absolute_error - 23.0 / 3.0).abs() < 1e-12);
    // 2/12, 15/25, and 6/max(0, 1).
    assert!((scores.mean_relative_error - (2.0 / 12.0 + 0.6 + 6.0) / 3.0).abs() < 1e-12);
    // 95 %: 12 in [4, 20], 25 not in, 0 not in [1, 12]. 50 %: 12 in [8, 12] (ends count).
    assert!((scores.coverage_95 - 1.0 / 3.0).abs() < 1e-12);
    assert!((scores.coverage_50 - 1.0 / 3.0).abs() < 1e-12);
    // WIS by hand, (½|y − m| + ¼·IS₀.₅ + 0.025·IS₀.₀₅) / 2.5:
    //   day 1: (1 + ¼·4 + 0.025·16) / 2.5 = 2.4 / 2.5 = 0.96
    //   day 2: (7.5 + ¼·(4 + 4·13) + 0.025·(16 + 40·5)) / 2.5 = (7.5 + 14 + 5.4) / 2.5 = 10.76
    //   day 3: (3 + ¼·(4 + 4·4) + 0.025·(11 + 40·1)) / 2.5 = (3 + 5 + 1.275) / 2.5 = 3.71
    let wis = (0.96 + 10.76 + 3.71) / 3.0;
    assert!(
        (scores.weighted_interval_score - wis).abs() < 1e-12,
        "{scores:?}"
    );
    // Observations beyond the forecast are ignored.
    let all = score_days(&days, &[12.0, 25.0, 0.0, 5.0, 99.0]).unwrap();
    assert_eq!(all.days_scored, 4);
    assert!((all.mean_absolute_error - 23.0 / 4.0).abs() < 1e-12);
}

#[test]
fn a_stored_forecast_is_scored_after_reading_it_back() {
    let mean = logistic_wave_mean(80);
    let observed = noisy(&mean, 1.0, 9);
    let made = forecast(&observed[..50], &quick_options(4)).unwrap();
    let json = serde_json::to_string(&made).unwrap();
    let stored: Forecast = serde_json::from_str(&json).unwrap();
    // The forecast days are whole counts and come back exactly; fitted parameters may differ in
    // their last bit, as JSON does not promise exact float round trips.
    assert_eq!(stored.ensemble, made.ensemble);
    assert_eq!(stored.baseline, made.baseline);
    assert_eq!(stored.options, made.options);
    for (back, model) in stored.models.iter().zip(&made.models) {
        assert_eq!(back.days, model.days);
        assert!((back.weight - model.weight).abs() <= 1e-12);
    }
    // Ten days later.
    let scores = score_forecast(&stored, &observed[50..60]).unwrap();
    assert_eq!(scores.days_scored, 10);
    assert_eq!(scores.models.len(), 3);
    assert_eq!(
        scores.baseline,
        score_days(
            &naive_baseline(&observed[..50], 28).unwrap(),
            &observed[50..60]
        )
        .unwrap()
    );
    for (model_scores, model) in scores.models.iter().zip(&made.models) {
        assert_eq!(model_scores.model, model.model);
        assert_eq!(
            model_scores.scores,
            score_days(&model.days, &observed[50..60]).unwrap()
        );
    }
}

#[test]
fn same_seed_same_forecast() {
    let mean = logistic_wave_mean(60);
    let observed = noisy(&mean, 2.0, 1);
    let first = forecast(&observed, &quick_options(42)).unwrap();
    let again = forecast(&observed, &quick_options(42)).unwrap();
    assert_eq!(first, again);
    let other_seed = forecast(&observed, &quick_options(43)).unwrap();
    assert_ne!(first.ensemble, other_seed.ensemble);
    // Each model draws from its own stream: dropping the first leaves the others as they were.
    let without_logistic = forecast(
        &observed,
        &ForecastOptions {
            models: vec![GrowthModel::Richards, GrowthModel::GeneralizedGompertz],
            ..quick_options(42)
        },
    )
    .unwrap();
    assert_eq!(without_logistic.models.len(), 2);
    for (kept, full) in without_logistic.models.iter().zip(&first.models[1..]) {
        assert_eq!(kept.model, full.model);
        assert_eq!(kept.days, full.days);
    }
}

#[test]
fn quiet_territories_are_not_fitted() {
    // Cases long ago, none in the 42-day window: a flagged zero forecast.
    let mut series = vec![0.0; 60];
    series[3] = 40.0;
    let result = forecast(&series, &quick_options(0)).unwrap();
    assert_eq!(result.status, ForecastStatus::NoCasesInWindow);
    assert_eq!(result.cases_in_window, 0.0);
    assert!(result.models.is_empty());
    assert!(
        result
            .ensemble
            .iter()
            .all(|d| d.median == 0.0 && d.upper_95 == 0.0)
    );
    assert_eq!(result.ensemble.len(), 28);

    // A handful of sporadic cases: no curve, the baseline stands in.
    let mut series = vec![0.0; 60];
    for day in [20, 31, 44, 52, 57, 59] {
        series[day] = 2.0;
    }
    let result = forecast(&series, &quick_options(0)).unwrap();
    assert_eq!(result.status, ForecastStatus::TooFewCases);
    assert_eq!(result.cases_in_window, 12.0);
    assert!(result.models.is_empty());
    assert_eq!(result.ensemble, result.baseline);
}

fn assert_invalid<T: std::fmt::Debug>(
    result: Result<T, EpiError>,
    parameter: &str,
    mentions: &str,
) {
    match result {
        Err(error @ EpiError::InvalidParameter { name, .. }) => {
            assert_eq!(name, parameter, "{error}");
            let message = error.to_string();
            assert!(
                message.contains(mentions),
                "should mention {mentions:?}: {message}"
            );
        }
        other => panic!("expected «{parameter}» refused, got {other:?}"),
    }
}

fn assert_insufficient<T: std::fmt::Debug>(result: Result<T, EpiError>, mentions: &str) {
    match result {
        Err(error @ EpiError::InsufficientData(_)) => {
            let message = error.to_string();
            assert!(
                message.contains(mentions),
                "should mention {mentions:?}: {message}"
            );
        }
        other => panic!("expected insufficient data, got {other:?}"),
    }
}

#[test]
fn bad_options_are_refused() {
    let series = noisy(&logistic_wave_mean(60), 1.0, 1);
    let with = |change: &dyn Fn(&mut ForecastOptions)| {
        let mut options = ForecastOptions::default();
        change(&mut options);
        forecast(&series, &options)
    };
    assert_invalid(with(&|o| o.horizon_days = 0), "horizon_days", "0 días");
    assert_invalid(with(&|o| o.horizon_days = 29), "horizon_days", "29");
    assert_invalid(with(&|o| o.calibration_days = 13), "calibration_days", "13");
    assert_invalid(
        with(&|o| o.calibration_days = 183),
        "calibration_days",
        "183",
    );
    assert_invalid(
        with(&|o| o.bootstrap_samples = 0),
        "bootstrap_samples",
        "0 muestras",
    );
    assert_invalid(
        with(&|o| o.bootstrap_samples = 2_001),
        "bootstrap_samples",
        "2001",
    );
    assert_invalid(with(&|o| o.models.clear()), "models", "vacía");
    assert_invalid(
        with(&|o| o.models = vec![GrowthModel::Richards, GrowthModel::Richards]),
        "models",
        "Richards",
    );
    assert_invalid(naive_baseline(&series, 0), "horizon_days", "0");
    assert_invalid(
        naive_baseline(&series, MAX_HORIZON_DAYS + 1),
        "horizon_days",
        "29",
    );
}

#[test]
fn bad_incidence_is_refused() {
    let good = noisy(&logistic_wave_mean(60), 1.0, 1);
    let options = ForecastOptions::default();
    for (bad, shown) in [(f64::NAN, "NaN"), (-3.0, "-3"), (f64::INFINITY, "inf")] {
        let mut series = good.clone();
        series[2] = bad; // Outside the window too: a broken series is refused whole.
        assert_invalid(forecast(&series, &options), "incidence", shown);
        assert_invalid(naive_baseline(&series, 7), "incidence", shown);
    }
    assert_insufficient(forecast(&good[..41], &options), "41 días");
    assert_invalid(
        forecast(&vec![1.0; MAX_SERIES_DAYS + 1], &options),
        "incidence",
        "36601",
    );
    assert_insufficient(naive_baseline(&good[..6], 7), "6 días");
}

#[test]
fn bad_scoring_input_is_refused() {
    let day = |days_ahead, lower_95, lower_50, median, upper_50, upper_95| ForecastDay {
        days_ahead,
        median,
        lower_95,
        upper_95,
        lower_50,
        upper_50,
    };
    let good = [
        day(1, 1.0, 2.0, 3.0, 4.0, 5.0),
        day(2, 1.0, 2.0, 3.0, 4.0, 5.0),
    ];
    assert!(score_days(&good, &[3.0]).is_ok());
    assert_insufficient(score_days(&good, &[]), "ningún día");
    assert_invalid(score_days(&good, &[f64::NAN]), "observed", "NaN");
    assert_invalid(score_days(&good, &[-1.0]), "observed", "-1");
    let out_of_order = [good[1], good[0]];
    assert_invalid(
        score_days(&out_of_order, &[3.0]),
        "days",
        "se esperaba el día 1",
    );
    let not_nested = [day(1, 1.0, 2.0, 6.0, 4.0, 5.0)];
    assert_invalid(score_days(&not_nested, &[3.0]), "days", "mediana");
    let not_finite = [day(1, 1.0, 2.0, f64::NAN, 4.0, 5.0)];
    assert_invalid(score_days(&not_finite, &[3.0]), "days", "finitos");
    let too_long: Vec<ForecastDay> = (1..=29).map(|d| day(d, 1.0, 2.0, 3.0, 4.0, 5.0)).collect();
    assert_invalid(score_days(&too_long, &[3.0]), "days", "29");
}

/// The models' parameters come back in the forecast, fitted to the window (day 0 is its first
/// day): on noiseless logistic data the logistic-capable models find the truth.
#[test]
fn forecast_reports_the_fitted_models() {
    let mean = logistic_wave_mean(60);
    let result = forecast(&mean, &quick_options(0)).unwrap();
    let window_start: f64 = 60.0 - 42.0;
    let truth_c0 = 20_000.0 / (1.0 + (20_000.0 / 50.0 - 1.0) * (-0.15 * window_start).exp());
    let richards = result
        .models
        .iter()
        .find(|m| m.model == GrowthModel::Richards)
        .unwrap();
    match richards.params {
        GrowthParams::Richards {
            growth_rate,
            exponent,
            final_size,
            initial_cumulative,
        } => {
            assert!((growth_rate - 0.15).abs() < 1e-3 * 0.15, "r {growth_rate}");
            assert!((exponent - 1.0).abs() < 1e-2, "a {exponent}");
            assert!(
                (final_size - 20_000.0).abs() < 1e-3 * 20_000.0,
                "K {final_size}"
            );
            assert!(
                (initial_cumulative - truth_c0).abs() < 1e-3 * truth_c0,
                "C₀ {initial_cumulative} against {truth_c0}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(richards.fitted_incidence.len(), 42);
    // The Gompertz curve cannot follow a logistic wave: its Akaike weight vanishes.
    let gompertz = result
        .models
        .iter()
        .find(|m| m.model == GrowthModel::GeneralizedGompertz)
        .unwrap();
    assert!(gompertz.weight < 1e-6, "{}", gompertz.weight);
}
