//! The growth models against independent references: closed forms written here from the
//! textbook formulas, and a plain RK4 on `C` itself with a step 200 times finer than the
//! library's (which integrates a different variable).

use ceiba_epi::EpiError;
use ceiba_epi::growth::{
    GrowthModel, GrowthParams, MAX_CURVE_DAYS, MAX_FIT_DAYS, MIN_FIT_DAYS, fit,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};

/// Logistic curve `C(t) = K / (1 + (K/C₀ − 1)·e^{−r t})`.
fn logistic_cumulative(r: f64, k: f64, c0: f64, t: f64) -> f64 {
    k / (1.0 + (k / c0 - 1.0) * (-r * t).exp())
}

/// Richards curve `C(t) = K·(1 + ((K/C₀)^a − 1)·e^{−r a t})^{−1/a}`.
fn richards_cumulative(r: f64, a: f64, k: f64, c0: f64, t: f64) -> f64 {
    k * (1.0 + ((k / c0).powf(a) - 1.0) * (-r * a * t).exp()).powf(-1.0 / a)
}

/// Gompertz curve (p = 1) `C(t) = C₀·exp((r/b)(1 − e^{−b t}))`.
fn gompertz_cumulative(r: f64, b: f64, c0: f64, t: f64) -> f64 {
    c0 * ((r / b) * (1.0 - (-b * t).exp())).exp()
}

/// Classical RK4 on `dC/dt = f(t, C)` with `steps_per_day` steps, sampled at whole days.
fn rk4_cumulative(
    f: impl Fn(f64, f64) -> f64,
    c0: f64,
    days: usize,
    steps_per_day: usize,
) -> Vec<f64> {
    let h = 1.0 / steps_per_day as f64;
    let mut out = vec![c0];
    let mut c = c0;
    for day in 0..days {
        for step in 0..steps_per_day {
            let t = day as f64 + step as f64 * h;
            let k1 = f(t, c);
            let k2 = f(t + h / 2.0, c + h / 2.0 * k1);
            let k3 = f(t + h / 2.0, c + h / 2.0 * k2);
            let k4 = f(t + h, c + h * k3);
            c += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
        }
        out.push(c);
    }
    out
}

fn differences(cumulative: &[f64]) -> Vec<f64> {
    cumulative.windows(2).map(|w| w[1] - w[0]).collect()
}

fn poisson_noise(mean: &[f64], seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    mean.iter()
        .map(|&m| Poisson::new(m).expect("positive mean").sample(&mut rng))
        .collect()
}

fn relative_error(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs()
}

fn assert_curves_close(got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len());
    for (t, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            relative_error(*g, *w) <= tolerance,
            "day {t}: got {g}, want {w} (relative tolerance {tolerance})"
        );
    }
}

const GLM_LOGISTIC: GrowthParams = GrowthParams::GeneralizedLogistic {
    growth_rate: 0.25,
    deceleration: 1.0,
    final_size: 20_000.0,
    initial_cumulative: 20.0,
};
const GLM_SUB_EXPONENTIAL: GrowthParams = GrowthParams::GeneralizedLogistic {
    growth_rate: 0.5,
    deceleration: 0.8,
    final_size: 8_000.0,
    initial_cumulative: 10.0,
};
const RICHARDS: GrowthParams = GrowthParams::Richards {
    growth_rate: 0.2,
    exponent: 2.0,
    final_size: 10_000.0,
    initial_cumulative: 20.0,
};
const GOMPERTZ: GrowthParams = GrowthParams::GeneralizedGompertz {
    growth_rate: 0.6,
    deceleration: 1.0,
    decay_rate_per_day: 0.1,
    initial_cumulative: 5.0,
};
const GOMPERTZ_SUB_EXPONENTIAL: GrowthParams = GrowthParams::GeneralizedGompertz {
    growth_rate: 1.0,
    deceleration: 0.85,
    decay_rate_per_day: 0.08,
    initial_cumulative: 5.0,
};

#[test]
fn curves_match_closed_forms_and_a_fine_integrator() {
    let days = 80;
    let times = || (0..=days).map(|t| t as f64);

    let logistic: Vec<f64> = times()
        .map(|t| logistic_cumulative(0.25, 20_000.0, 20.0, t))
        .collect();
    assert_curves_close(&GLM_LOGISTIC.cumulative(days).unwrap(), &logistic, 1e-6);

    let glm = rk4_cumulative(
        |_, c| 0.5 * c.powf(0.8) * (1.0 - c / 8_000.0),
        10.0,
        days,
        400,
    );
    assert_curves_close(&GLM_SUB_EXPONENTIAL.cumulative(days).unwrap(), &glm, 1e-6);

    let richards: Vec<f64> = times()
        .map(|t| richards_cumulative(0.2, 2.0, 10_000.0, 20.0, t))
        .collect();
    assert_curves_close(&RICHARDS.cumulative(days).unwrap(), &richards, 1e-12);
    // Richards with a = 1 is the logistic.
    let richards_logistic = GrowthParams::Richards {
        growth_rate: 0.25,
        exponent: 1.0,
        final_size: 20_000.0,
        initial_cumulative: 20.0,
    };
    assert_curves_close(
        &richards_logistic.cumulative(days).unwrap(),
        &logistic,
        1e-12,
    );

    let gompertz: Vec<f64> = times()
        .map(|t| gompertz_cumulative(0.6, 0.1, 5.0, t))
        .collect();
    assert_curves_close(&GOMPERTZ.cumulative(days).unwrap(), &gompertz, 1e-12);

    let generalized_gompertz = rk4_cumulative(
        |t, c| 1.0 * c.powf(0.85) * (-0.08 * t).exp(),
        5.0,
        days,
        400,
    );
    assert_curves_close(
        &GOMPERTZ_SUB_EXPONENTIAL.cumulative(days).unwrap(),
        &generalized_gompertz,
        1e-9,
    );

    // Incidence is the daily difference of the cumulative curve (compared in cases: the tail's
    // differences of nearly equal numbers have no relative precision to speak of).
    let incidence = RICHARDS.incidence(days).unwrap();
    for (got, want) in incidence.iter().zip(differences(&richards)) {
        assert!((got - want).abs() < 1e-8, "{got} vs {want}");
    }
}

/// Checks every parameter of `got` within its relative tolerance of `want`.
fn assert_params_close(
    got: &GrowthParams,
    want: &GrowthParams,
    tolerances: [f64; 4],
    context: &str,
) {
    let values = |p: &GrowthParams| match *p {
        GrowthParams::GeneralizedLogistic {
            growth_rate,
            deceleration,
            final_size,
            initial_cumulative,
        } => [growth_rate, deceleration, final_size, initial_cumulative],
        GrowthParams::Richards {
            growth_rate,
            exponent,
            final_size,
            initial_cumulative,
        } => [growth_rate, exponent, final_size, initial_cumulative],
        GrowthParams::GeneralizedGompertz {
            growth_rate,
            deceleration,
            decay_rate_per_day,
            initial_cumulative,
        } => [
            growth_rate,
            deceleration,
            decay_rate_per_day,
            initial_cumulative,
        ],
    };
    assert_eq!(got.model(), want.model());
    for (i, ((g, w), tolerance)) in values(got)
        .iter()
        .zip(values(want))
        .zip(tolerances)
        .enumerate()
    {
        assert!(
            relative_error(*g, w) <= tolerance,
            "{context}: parameter {i} is {g}, want {w} within {tolerance} (fit {got:?})"
        );
    }
}

fn all_cases() -> [GrowthParams; 5] {
    [
        GLM_LOGISTIC,
        GLM_SUB_EXPONENTIAL,
        RICHARDS,
        GOMPERTZ,
        GOMPERTZ_SUB_EXPONENTIAL,
    ]
}

fn growth_rate(params: &GrowthParams) -> f64 {
    match *params {
        GrowthParams::GeneralizedLogistic { growth_rate, .. }
        | GrowthParams::Richards { growth_rate, .. }
        | GrowthParams::GeneralizedGompertz { growth_rate, .. } => growth_rate,
    }
}

/// Noiseless data from the closed forms and the fine integrator written above: every parameter
/// within 0.5 %.
#[test]
fn fits_recover_parameters_from_noiseless_data() {
    let days = 60;
    let closed_form =
        |f: &dyn Fn(f64) -> f64| differences(&(0..=days).map(|t| f(t as f64)).collect::<Vec<_>>());
    let data = [
        closed_form(&|t| logistic_cumulative(0.25, 20_000.0, 20.0, t)),
        differences(&rk4_cumulative(
            |_, c| 0.5 * c.powf(0.8) * (1.0 - c / 8_000.0),
            10.0,
            days,
            400,
        )),
        closed_form(&|t| richards_cumulative(0.2, 2.0, 10_000.0, 20.0, t)),
        closed_form(&|t| gompertz_cumulative(0.6, 0.1, 5.0, t)),
        differences(&rk4_cumulative(
            |t, c| c.powf(0.85) * (-0.08 * t).exp(),
            5.0,
            days,
            400,
        )),
    ];
    for (truth, incidence) in all_cases().iter().zip(&data) {
        let fitted = fit(truth.model(), incidence).unwrap();
        assert_params_close(&fitted.params, truth, [0.005; 4], "sin ruido");
        assert!(fitted.mean_squared_error < 1e-3, "{fitted:?}");
        assert_eq!(fitted.dispersion, 1.0);
    }
}

/// Epidemics large enough that Poisson noise leaves the shape identifiable (peaks of 550 to
/// 3,100 cases a day).
const NOISY_CASES: [GrowthParams; 5] = [
    GrowthParams::GeneralizedLogistic {
        growth_rate: 0.25,
        deceleration: 1.0,
        final_size: 50_000.0,
        initial_cumulative: 50.0,
    },
    GrowthParams::GeneralizedLogistic {
        growth_rate: 0.5,
        deceleration: 0.8,
        final_size: 30_000.0,
        initial_cumulative: 50.0,
    },
    GrowthParams::Richards {
        growth_rate: 0.2,
        exponent: 2.0,
        final_size: 30_000.0,
        initial_cumulative: 50.0,
    },
    GrowthParams::GeneralizedGompertz {
        growth_rate: 0.6,
        deceleration: 1.0,
        decay_rate_per_day: 0.1,
        initial_cumulative: 50.0,
    },
    GrowthParams::GeneralizedGompertz {
        growth_rate: 1.5,
        deceleration: 0.85,
        decay_rate_per_day: 0.06,
        initial_cumulative: 50.0,
    },
];

/// Poisson noise, five seeds per model. On every seed: `p` (or Richards' `a`) within 6 %, the
/// final size or decay rate within 10 %, and the fitted curve within 5 % of the true mean on
/// every day with at least 100 expected cases. The growth rate trades off against `p` and `C₀`
/// (a known ridge of these models: Chowell et al. 2017 report wide intervals for it), so each
/// seed's `r` is only held within 45 % and the median over seeds within 10 %. `C₀` (the
/// cumulative count before a few noisy early days) is not checked.
#[test]
fn fits_recover_parameters_from_poisson_noise() {
    let days = 60;
    for truth in NOISY_CASES {
        let mean = truth.incidence(days).unwrap();
        let mut rates = Vec::new();
        for seed in 1..=5 {
            let fitted = fit(truth.model(), &poisson_noise(&mean, seed)).unwrap();
            let context = format!("semilla {seed}");
            assert_params_close(
                &fitted.params,
                &truth,
                [0.45, 0.06, 0.1, f64::INFINITY],
                &context,
            );
            for (day, (got, want)) in fitted.fitted_incidence.iter().zip(&mean).enumerate() {
                if *want >= 100.0 {
                    assert!(
                        relative_error(*got, *want) <= 0.05,
                        "{context}, {truth:?}: day {day} fitted {got}, true mean {want}"
                    );
                }
            }
            // Poisson data: the robust dispersion stays near 1.
            assert!(fitted.dispersion < 2.0, "dispersion {}", fitted.dispersion);
            rates.push(growth_rate(&fitted.params));
        }
        rates.sort_by(f64::total_cmp);
        assert!(
            relative_error(rates[2], growth_rate(&truth)) <= 0.1,
            "{truth:?}: rates {rates:?}"
        );
    }
}

/// A reporting dump (a day with five times its cases, as when a backlog is cleared) barely moves
/// the Huber fit: the final size stays within 3 % of the truth.
#[test]
fn a_reporting_dump_barely_moves_the_fit() {
    let truth = NOISY_CASES[0];
    let mut incidence = poisson_noise(&truth.incidence(60).unwrap(), 11);
    incidence[35] *= 5.0;
    let fitted = fit(truth.model(), &incidence).unwrap();
    assert_params_close(
        &fitted.params,
        &truth,
        [0.45, 0.06, 0.03, f64::INFINITY],
        "volcado",
    );
    assert!(
        fitted.fitted_incidence[35] < 0.4 * incidence[35],
        "the dump pulled the curve: fitted {} against {}",
        fitted.fitted_incidence[35],
        incidence[35]
    );
}

fn assert_invalid(result: Result<impl std::fmt::Debug, EpiError>, parameter: &str, mentions: &str) {
    match result {
        Err(error @ EpiError::InvalidParameter { name, .. }) => {
            assert_eq!(name, parameter, "{error}");
            let message = error.to_string();
            assert!(
                message.contains(mentions) && message.contains("no es válido"),
                "the message should mention {mentions:?}: {message}"
            );
        }
        other => panic!("expected «{parameter}» refused, got {other:?}"),
    }
}

fn assert_insufficient(result: Result<impl std::fmt::Debug, EpiError>, mentions: &str) {
    match result {
        Err(error @ EpiError::InsufficientData(_)) => {
            let message = error.to_string();
            assert!(
                message.contains(mentions),
                "the message should mention {mentions:?}: {message}"
            );
        }
        other => panic!("expected insufficient data, got {other:?}"),
    }
}

#[test]
fn bad_data_is_refused() {
    let good = GLM_LOGISTIC.incidence(30).unwrap();
    assert_insufficient(
        fit(GrowthModel::Richards, &good[..MIN_FIT_DAYS - 1]),
        "13 días",
    );
    assert!(fit(GrowthModel::Richards, &good[..MIN_FIT_DAYS]).is_ok());
    assert_invalid(
        fit(GrowthModel::Richards, &vec![5.0; MAX_FIT_DAYS + 1]),
        "incidence",
        "366",
    );
    for (bad, shown) in [
        (f64::NAN, "NaN"),
        (-1.0, "-1"),
        (f64::INFINITY, "inf"),
        (2e8, "200000000"),
    ] {
        let mut incidence = good.clone();
        incidence[7] = bad;
        assert_invalid(
            fit(GrowthModel::GeneralizedGompertz, &incidence),
            "incidence",
            shown,
        );
        assert_invalid(
            fit(GrowthModel::GeneralizedGompertz, &incidence),
            "incidence",
            "día 7",
        );
    }
    assert_insufficient(
        fit(GrowthModel::GeneralizedLogistic, &[0.0; 30]),
        "ningún caso",
    );
}

#[test]
fn bad_parameters_are_refused() {
    let glm = |growth_rate, deceleration, final_size, initial_cumulative| {
        GrowthParams::GeneralizedLogistic {
            growth_rate,
            deceleration,
            final_size,
            initial_cumulative,
        }
        .validate()
    };
    assert!(glm(0.3, 1.0, 100.0, 1.0).is_ok());
    assert_invalid(glm(0.0, 1.0, 100.0, 1.0), "growth_rate", "0");
    assert_invalid(glm(-0.3, 1.0, 100.0, 1.0), "growth_rate", "-0.3");
    assert_invalid(glm(f64::NAN, 1.0, 100.0, 1.0), "growth_rate", "NaN");
    assert_invalid(glm(2e6, 1.0, 100.0, 1.0), "growth_rate", "2000000");
    assert_invalid(glm(0.3, 0.0, 100.0, 1.0), "deceleration", "(0, 1]");
    assert_invalid(glm(0.3, 1.5, 100.0, 1.0), "deceleration", "1.5");
    assert_invalid(glm(0.3, 1.0, 1.0, 1.0), "final_size", "superar");
    assert_invalid(glm(0.3, 1.0, f64::INFINITY, 1.0), "final_size", "inf");
    assert_invalid(glm(0.3, 1.0, 100.0, 0.0), "initial_cumulative", "0");
    assert_invalid(
        glm(0.3, 1.0, 1e14, 2e12),
        "initial_cumulative",
        "2000000000000",
    );

    let richards = |exponent| GrowthParams::Richards {
        growth_rate: 0.3,
        exponent,
        final_size: 100.0,
        initial_cumulative: 1.0,
    };
    assert!(richards(1.0).validate().is_ok());
    assert_invalid(richards(0.0).validate(), "exponent", "0");
    assert_invalid(richards(101.0).validate(), "exponent", "101");
    assert_invalid(richards(f64::NAN).cumulative(10), "exponent", "NaN");

    let gompertz = |decay_rate_per_day| GrowthParams::GeneralizedGompertz {
        growth_rate: 0.3,
        deceleration: 0.9,
        decay_rate_per_day,
        initial_cumulative: 1.0,
    };
    assert!(gompertz(0.1).validate().is_ok());
    assert_invalid(gompertz(0.0).incidence(10), "decay_rate_per_day", "0");
    assert_invalid(gompertz(11.0).validate(), "decay_rate_per_day", "11");

    assert_invalid(GOMPERTZ.cumulative(MAX_CURVE_DAYS + 1), "days", "3651");
    assert!(GOMPERTZ.cumulative(MAX_CURVE_DAYS).is_ok());
}

#[test]
fn parameters_round_trip_through_json() {
    for params in all_cases() {
        let json = serde_json::to_string(&params).unwrap();
        assert_eq!(
            serde_json::from_str::<GrowthParams>(&json).unwrap(),
            params,
            "{json}"
        );
    }
    let json = serde_json::to_string(&RICHARDS).unwrap();
    assert!(json.contains(r#""model":"richards""#), "{json}");
}
