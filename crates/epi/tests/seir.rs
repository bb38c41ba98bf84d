//! Metapopulation SEIR through the public API, against analytic results (final size, growth
//! rate, branching totals, exponential decay, hand-computed gravity matrices).

use ceiba_epi::EpiError;
use ceiba_epi::seir::{
    CalibrationSettings, Centroid, DailySeries, Disease, GravityModel, GravityScaling,
    Intervention, Mobility, ObservedIncidence, Patch, ReportingFraction, Scenario, SeirModel,
    Transmission, Vaccination, VaccinationRate, calibrate, mobility_matrix, run_deterministic,
    run_scenarios, run_stochastic,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};

// ---------------------------------------------------------------- helpers

fn patch(code: &str, population: u64, infectious: u64) -> Patch {
    Patch {
        code: code.into(),
        name: format!("Municipio {code}"),
        population,
        centroid: None,
        initial_exposed: 0,
        initial_infectious: infectious,
        initial_immune: 0,
    }
}

fn at(mut p: Patch, latitude_deg: f64, longitude_deg: f64) -> Patch {
    p.centroid = Some(Centroid {
        latitude_deg,
        longitude_deg,
    });
    p
}

fn disease(r0: f64, latent_period_days: f64, infectious_period_days: f64) -> Disease {
    Disease {
        transmission: Transmission::BasicReproductionNumber(r0),
        latent_period_days,
        infectious_period_days,
    }
}

fn model(patches: Vec<Patch>, mobility: Mobility, disease: Disease, days: u32) -> SeirModel {
    SeirModel {
        patches,
        mobility,
        disease,
        interventions: Vec::new(),
        vaccination: None,
        days,
        steps_per_day: 10,
    }
}

fn one_patch(population: u64, infectious: u64, r0: f64, days: u32) -> SeirModel {
    model(
        vec![patch("A", population, infectious)],
        Mobility::None,
        disease(r0, 3.0, 5.0),
        days,
    )
}

/// Root of `z = (1 − v)(1 − exp(−R0 z))` in (0, 1 − v], by bisection; needs `R0 (1 − v) > 1`.
fn final_size(r0: f64, immune_fraction: f64) -> f64 {
    let susceptible = 1.0 - immune_fraction;
    assert!(r0 * susceptible > 1.0, "no epidemic: no positive root");
    let g = |z: f64| z - susceptible * (1.0 - (-r0 * z).exp());
    let (mut low, mut high) = (1e-9, susceptible);
    assert!(g(low) < 0.0 && g(high) > 0.0);
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if g(mid) < 0.0 {
            low = mid;
        } else {
            high = mid;
        }
    }
    0.5 * (low + high)
}

/// Share of the population infected during the run (`1 − S∞/N` less the initially immune).
fn attack_rate(series: &DailySeries<f64>, population: f64) -> f64 {
    series.new_infections.iter().sum::<f64>() / population
}

fn last(values: &[f64]) -> f64 {
    *values.last().expect("series are never empty")
}

fn invalid_name(error: &EpiError) -> &'static str {
    match error {
        EpiError::InvalidParameter { name, .. } => name,
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
}

/// Four Cuban cities with real-ish populations and centroids.
fn cuban_cities() -> Vec<Patch> {
    vec![
        at(patch("2301", 2_100_000, 50), 23.13, -82.38),
        at(patch("1301", 1_050_000, 0), 20.02, -75.82),
        at(patch("0901", 770_000, 0), 21.38, -77.92),
        at(patch("2101", 590_000, 0), 22.42, -83.70),
    ]
}

// ---------------------------------------------------------------- 1. conservation

fn busy_model() -> SeirModel {
    let mut patches = cuban_cities();
    patches[1].initial_exposed = 30;
    patches[2].initial_immune = 100_000;
    let mut m = model(
        patches,
        Mobility::Gravity(GravityModel::default()),
        disease(2.5, 3.0, 5.0),
        200,
    );
    m.interventions = vec![
        Intervention {
            start_day: 30,
            end_day: 90,
            contact_reduction: 0.4,
            patch_codes: Some(vec!["2301".into()]),
        },
        Intervention {
            start_day: 60,
            end_day: 120,
            contact_reduction: 0.2,
            patch_codes: None,
        },
    ];
    m.vaccination = Some(Vaccination {
        start_day: 20,
        end_day: Some(150),
        efficacy: 0.9,
        rate: VaccinationRate::DosesPerDay(vec![10_000.0, 5_000.0, 2_000.0, 1_000.0]),
    });
    m
}

#[test]
fn deterministic_run_conserves_every_patch_every_day() {
    let m = busy_model();
    let run = run_deterministic(&m).unwrap();
    assert_eq!(run.patches.len(), 4);
    for (p, patch_run) in m.patches.iter().zip(&run.patches) {
        let n = p.population as f64;
        let s = &patch_run.series;
        assert_eq!(s.susceptible.len(), 201);
        for d in 0..=200 {
            let sum = s.susceptible[d]
                + s.exposed[d]
                + s.infectious[d]
                + s.recovered[d]
                + s.vaccinated[d];
            assert!(
                (sum - n).abs() <= 1e-6 * n,
                "patch {} day {d}: {sum} vs {n}",
                p.code
            );
            for value in [
                s.susceptible[d],
                s.exposed[d],
                s.infectious[d],
                s.recovered[d],
            ] {
                assert!(value >= -1e-9 * n, "negative compartment {value}");
            }
        }
        // The epidemic reached every patch through mobility.
        assert!(last(&s.cumulative_cases) > 0.01 * n);
    }
    // The totals are the sums of the patches.
    for d in [0, 57, 200] {
        let sum: f64 = run.patches.iter().map(|p| p.series.infectious[d]).sum();
        assert!((run.total.infectious[d] - sum).abs() <= 1e-9 * sum.max(1.0));
    }
}

#[test]
fn stochastic_run_conserves_every_patch_every_day_exactly() {
    let mut m = busy_model();
    m.steps_per_day = 2;
    let run = run_stochastic(&m, 7).unwrap();
    for (p, patch_run) in m.patches.iter().zip(&run.patches) {
        let s = &patch_run.series;
        for d in 0..=200 {
            let sum = s.susceptible[d]
                + s.exposed[d]
                + s.infectious[d]
                + s.recovered[d]
                + s.vaccinated[d];
            assert_eq!(sum, p.population, "patch {} day {d}", p.code);
        }
        // Flows add up to the stocks: every case is an infection that was once exposed.
        let infections: u64 = s.new_infections.iter().sum();
        assert_eq!(
            infections + p.initial_exposed,
            s.exposed[200] + last_u64(&s.cumulative_cases)
        );
    }
}

fn last_u64(values: &[u64]) -> u64 {
    *values.last().expect("series are never empty")
}

// ---------------------------------------------------------------- 2. final size

#[test]
fn one_patch_final_size_matches_the_final_size_relation() {
    for r0 in [1.5, 2.5, 4.0] {
        let run = run_deterministic(&one_patch(1_000_000, 1, r0, 1_000)).unwrap();
        let z = final_size(r0, 0.0);
        let attack = attack_rate(&run.total, 1e6);
        assert!((attack - z).abs() < 1e-4, "R0 {r0}: {attack} vs {z}");
        assert!(
            last(&run.total.infectious) < 1e-3,
            "epidemic over by the end"
        );
    }
}

#[test]
fn identical_patches_keep_the_final_size_relation_under_any_mobility() {
    let identical = || {
        vec![
            at(patch("A", 400_000, 4), 22.0, -80.0),
            at(patch("B", 400_000, 4), 22.5, -79.0),
            at(patch("C", 400_000, 4), 21.0, -77.5),
        ]
    };
    let uneven_matrix = vec![
        vec![0.7, 0.2, 0.1],
        vec![0.05, 0.9, 0.05],
        vec![0.3, 0.0, 0.7],
    ];
    let z = final_size(2.0, 0.0);
    for mobility in [
        Mobility::Gravity(GravityModel {
            mobile_fraction: 0.3,
            ..GravityModel::default()
        }),
        Mobility::Matrix(uneven_matrix),
    ] {
        let run =
            run_deterministic(&model(identical(), mobility, disease(2.0, 2.0, 4.0), 800)).unwrap();
        for p in &run.patches {
            let attack = attack_rate(&p.series, 400_000.0);
            assert!((attack - z).abs() < 1e-4, "{}: {attack} vs {z}", p.code);
        }
    }
}

#[test]
fn stochastic_major_outbreaks_average_the_final_size() {
    let m = model(
        vec![patch("A", 20_000, 20)],
        Mobility::None,
        disease(2.0, 2.0, 4.0),
        250,
    );
    // Counted per step, an infectious person exerts βΔt/(1 − e^{−γΔt}) pressure, not β/γ.
    let gamma_dt: f64 = 0.25 / 10.0;
    let chain_r0 = 2.0 * gamma_dt / (1.0 - (-gamma_dt).exp());
    let z = final_size(chain_r0, 0.0);
    let attacks: Vec<f64> = (0..40)
        .map(|seed| {
            let run = run_stochastic(&m, seed).unwrap();
            assert_eq!(
                last_u64(&run.total.infectious) + last_u64(&run.total.exposed),
                0
            );
            run.total.new_infections.iter().sum::<u64>() as f64 / 20_000.0
        })
        .filter(|&attack| attack > 0.2)
        .collect();
    assert!(
        attacks.len() >= 38,
        "almost all outbreaks seeded by 20 are major"
    );
    let mean = attacks.iter().sum::<f64>() / attacks.len() as f64;
    // Standard error of the mean ≈ 0.001; the Δt correction itself moves z by 0.007.
    assert!((mean - z).abs() < 0.003, "mean attack {mean} vs {z}");
}

// ---------------------------------------------------------------- 3. early growth

#[test]
fn early_growth_rate_matches_the_linearised_seir() {
    for (r0, latent, infectious, from, to) in [(2.5, 3.0, 5.0, 30, 50), (1.5, 5.0, 7.0, 60, 120)] {
        let m = model(
            vec![patch("A", 2_000_000_000, 1)],
            Mobility::None,
            disease(r0, latent, infectious),
            to,
        );
        let run = run_deterministic(&m).unwrap();
        let cases = &run.total.new_cases;
        let measured = (cases[to as usize].ln() - cases[from as usize].ln()) / f64::from(to - from);
        let (sigma, gamma) = (1.0 / latent, 1.0 / infectious);
        let beta = r0 * gamma;
        let expected =
            (-(sigma + gamma) + ((sigma - gamma).powi(2) + 4.0 * sigma * beta).sqrt()) / 2.0;
        assert!(
            (measured - expected).abs() < 1e-5 * expected,
            "R0 {r0}: r {measured} vs {expected}"
        );
    }
}

// ---------------------------------------------------------------- 4. interventions, vaccination

fn whole_run(reduction: f64) -> Intervention {
    Intervention {
        start_day: 0,
        end_day: 10_000,
        contact_reduction: reduction,
        patch_codes: None,
    }
}

#[test]
fn a_contact_reduction_below_threshold_stops_the_epidemic_as_a_subcritical_branching() {
    // R0 = 2 cut by 60 % is R = 0.8: each of the 1000 seeds causes R + R² + … = R/(1 − R) = 4
    // infections in all, in a population so large that depletion is negligible.
    let mut m = one_patch(1_000_000_000, 1_000, 2.0, 700);
    m.interventions = vec![whole_run(0.6)];
    let run = run_deterministic(&m).unwrap();
    let infections: f64 = run.total.new_infections.iter().sum();
    assert!(
        (infections - 4_000.0).abs() < 1e-3 * 4_000.0,
        "{infections}"
    );
    assert!(last(&run.total.new_cases) < 1e-3);
}

#[test]
fn a_reduction_in_one_patch_only_acts_there() {
    let mut m = model(
        vec![patch("A", 1_000_000, 100), patch("B", 1_000_000, 100)],
        Mobility::None,
        disease(2.0, 3.0, 5.0),
        700,
    );
    m.interventions = vec![Intervention {
        patch_codes: Some(vec!["A".into()]),
        ..whole_run(0.6)
    }];
    let run = run_deterministic(&m).unwrap();
    let attack_a: f64 = run.patches[0].series.new_infections.iter().sum();
    assert!((attack_a - 400.0).abs() < 0.01 * 400.0, "{attack_a}");
    let attack_b = attack_rate(&run.patches[1].series, 1e6);
    assert!((attack_b - final_size(2.0, 0.0)).abs() < 2e-3, "{attack_b}");
}

#[test]
fn an_intervention_changes_nothing_before_it_starts_and_slows_growth_after() {
    let base = one_patch(1_000_000, 10, 2.5, 60);
    let mut with = base.clone();
    with.interventions = vec![Intervention {
        start_day: 30,
        end_day: 45,
        contact_reduction: 0.5,
        patch_codes: None,
    }];
    let (a, b) = (
        run_deterministic(&base).unwrap(),
        run_deterministic(&with).unwrap(),
    );
    assert_eq!(a.total.new_infections[..=30], b.total.new_infections[..=30]);
    // R0 2.5 halved is 1.25 during the window: infections keep growing, but slower.
    assert!(b.total.new_infections[44] < 0.7 * a.total.new_infections[44]);
}

#[test]
fn vaccinating_a_share_of_susceptibles_decays_them_exponentially() {
    let mut m = one_patch(1_000_000, 0, 2.0, 60);
    m.vaccination = Some(Vaccination {
        start_day: 10,
        end_day: None,
        efficacy: 0.9,
        rate: VaccinationRate::FractionOfSusceptiblesPerDay(0.02),
    });
    let run = run_deterministic(&m).unwrap();
    for d in 0..=60 {
        let t = (d as f64 - 10.0).max(0.0);
        let expected = 1e6 * (-0.9 * 0.02 * t).exp();
        let s = run.total.susceptible[d];
        assert!(
            (s - expected).abs() < 1e-8 * 1e6,
            "day {d}: {s} vs {expected}"
        );
    }
}

#[test]
fn doses_per_day_immunise_efficacy_times_doses_each_day() {
    let mut m = model(
        vec![patch("A", 100_000, 0), patch("B", 50_000, 0)],
        Mobility::None,
        disease(2.0, 3.0, 5.0),
        60,
    );
    m.vaccination = Some(Vaccination {
        start_day: 5,
        end_day: Some(45),
        efficacy: 0.8,
        rate: VaccinationRate::DosesPerDay(vec![500.0, 100.0]),
    });
    let run = run_deterministic(&m).unwrap();
    for (p, doses) in run.patches.iter().zip([500.0, 100.0]) {
        for d in 0..=60 {
            let days_vaccinating = (d as f64).clamp(5.0, 45.0) - 5.0;
            let expected = 0.8 * doses * days_vaccinating;
            let v = p.series.vaccinated[d];
            assert!(
                (v - expected).abs() < 1e-6 * expected.max(1.0),
                "day {d}: {v} vs {expected}"
            );
        }
    }
}

#[test]
fn initially_immune_share_shrinks_the_final_size_as_the_relation_predicts() {
    let mut m = one_patch(1_000_000, 1, 2.5, 1_000);
    m.patches[0].initial_immune = 300_000;
    let run = run_deterministic(&m).unwrap();
    let z = final_size(2.5, 0.3);
    let attack = attack_rate(&run.total, 1e6);
    assert!((attack - z).abs() < 1e-3, "{attack} vs {z}");
}

#[test]
fn more_vaccination_means_a_smaller_epidemic() {
    let attack = |rate: f64| {
        let mut m = one_patch(1_000_000, 10, 2.5, 500);
        m.vaccination = Some(Vaccination {
            start_day: 0,
            end_day: None,
            efficacy: 0.9,
            rate: VaccinationRate::FractionOfSusceptiblesPerDay(rate),
        });
        attack_rate(&run_deterministic(&m).unwrap().total, 1e6)
    };
    let attacks: Vec<f64> = [0.0, 0.002, 0.005, 0.01].into_iter().map(attack).collect();
    assert!((attacks[0] - final_size(2.5, 0.0)).abs() < 1e-3);
    assert!(
        attacks.windows(2).all(|w| w[1] < w[0] - 0.01),
        "{attacks:?}"
    );
}

#[test]
fn stochastic_vaccination_follows_the_expected_decay() {
    let mut m = one_patch(1_000_000, 0, 2.0, 30);
    m.steps_per_day = 2;
    m.vaccination = Some(Vaccination {
        start_day: 0,
        end_day: None,
        efficacy: 0.5,
        rate: VaccinationRate::FractionOfSusceptiblesPerDay(0.04),
    });
    let run = run_stochastic(&m, 3).unwrap();
    let expected = 1e6 * (-0.5 * 0.04 * 30.0_f64).exp();
    // Binomial standard deviation ≈ 480 people.
    let s = run.total.susceptible[30] as f64;
    assert!((s - expected).abs() < 2_500.0, "{s} vs {expected}");
}

// ---------------------------------------------------------------- 5. mobility

#[test]
fn without_mobility_an_unseeded_patch_stays_free_with_mobility_it_is_infected() {
    let patches = || {
        vec![
            at(patch("A", 500_000, 50), 23.1, -82.4),
            at(patch("B", 500_000, 0), 22.4, -83.7),
        ]
    };
    let isolated = model(patches(), Mobility::None, disease(2.0, 3.0, 5.0), 300);
    let det = run_deterministic(&isolated).unwrap();
    assert!(
        det.patches[1]
            .series
            .new_infections
            .iter()
            .all(|&x| x == 0.0)
    );
    assert!(attack_rate(&det.patches[0].series, 5e5) > 0.5);
    let sto = run_stochastic(&isolated, 1).unwrap();
    assert!(sto.patches[1].series.exposed.iter().all(|&x| x == 0));

    let mut coupled = isolated.clone();
    coupled.mobility = Mobility::Gravity(GravityModel {
        mobile_fraction: 0.01,
        ..GravityModel::default()
    });
    let det = run_deterministic(&coupled).unwrap();
    assert!(attack_rate(&det.patches[1].series, 5e5) > 0.5);
    let sto = run_stochastic(&coupled, 1).unwrap();
    assert!(sto.patches[1].series.new_infections.iter().sum::<u64>() > 100_000);
}

#[test]
fn gravity_matrix_on_a_line_matches_the_hand_computation() {
    // Three equal patches 1° apart on the equator: from an end, the near patch weighs
    // 1/d² and the far one 1/(2d)², so shares 0.8 and 0.2; the middle splits evenly.
    let patches: Vec<Patch> = (0..3)
        .map(|k| at(patch(&k.to_string(), 10_000, 0), 0.0, f64::from(k)))
        .collect();
    let m = mobility_matrix(&patches, &Mobility::Gravity(GravityModel::default())).unwrap();
    let expected = [[0.9, 0.08, 0.02], [0.05, 0.9, 0.05], [0.02, 0.08, 0.9]];
    for (row, want) in m.iter().zip(expected) {
        for (value, want) in row.iter().zip(want) {
            assert!((value - want).abs() < 1e-12, "{m:?}");
        }
    }
}

/// Central angle by the spherical law of cosines, a different formula from the crate's.
fn distance_km(a: Centroid, b: Centroid) -> f64 {
    let (p1, p2) = (a.latitude_deg.to_radians(), b.latitude_deg.to_radians());
    let dl = (b.longitude_deg - a.longitude_deg).to_radians();
    let cos = p1.sin() * p2.sin() + p1.cos() * p2.cos() * dl.cos();
    6_371.008_8 * cos.clamp(-1.0, 1.0).acos()
}

#[test]
fn gravity_matrix_on_real_cities_matches_an_independent_computation() {
    let patches = cuban_cities();
    let gravity = GravityModel {
        mobile_fraction: 0.15,
        origin_exponent: 0.7,
        destination_exponent: 1.3,
        distance_exponent: 1.5,
        max_destinations: None,
        scaling: GravityScaling::SameFractionPerPatch,
    };
    let m = mobility_matrix(&patches, &Mobility::Gravity(gravity.clone())).unwrap();
    for (i, row) in m.iter().enumerate() {
        let weight = |j: usize| {
            (patches[j].population as f64).powf(1.3)
                / distance_km(patches[i].centroid.unwrap(), patches[j].centroid.unwrap()).powf(1.5)
        };
        let total: f64 = (0..4).filter(|&j| j != i).map(weight).sum();
        for (j, value) in row.iter().enumerate() {
            let want = if i == j {
                0.85
            } else {
                0.15 * weight(j) / total
            };
            assert!((value - want).abs() < 1e-9, "({i},{j}): {value} vs {want}");
        }
    }

    // With the territory-wide scale, person flows N_i M_ij are κ N_i^α N_j^β / d^γ.
    let total_scaled = GravityModel {
        scaling: GravityScaling::SameTotal,
        ..gravity
    };
    let m = mobility_matrix(&patches, &Mobility::Gravity(total_scaled)).unwrap();
    let raw = |i: usize, j: usize| {
        (patches[i].population as f64).powf(0.7) * (patches[j].population as f64).powf(1.3)
            / distance_km(patches[i].centroid.unwrap(), patches[j].centroid.unwrap()).powf(1.5)
    };
    let population: f64 = patches.iter().map(|p| p.population as f64).sum();
    let all_raw: f64 = (0..4)
        .flat_map(|i| (0..4).filter(move |&j| j != i).map(move |j| (i, j)))
        .map(|(i, j)| raw(i, j))
        .sum();
    let kappa = 0.15 * population / all_raw;
    for i in 0..4 {
        let row_sum: f64 = m[i].iter().sum();
        assert!((row_sum - 1.0).abs() < 1e-12);
        for j in (0..4).filter(|&j| j != i) {
            let flow = patches[i].population as f64 * m[i][j];
            let want = kappa * raw(i, j);
            assert!((flow - want).abs() < 1e-9 * want, "({i},{j})");
        }
    }
}

#[test]
fn gravity_matrices_are_row_stochastic_and_flows_symmetric_for_equal_populations() {
    // Ten patches scattered over Cuba, unequal populations.
    let scattered: Vec<Patch> = (0..10_u32)
        .map(|k| {
            let k_f = f64::from(k);
            at(
                patch(&format!("P{k}"), 20_000 + 37_000 * u64::from(k), 0),
                20.0 + 0.31 * k_f,
                -84.0 + 0.87 * k_f + 0.1 * (k_f * k_f).sin(),
            )
        })
        .collect();
    for scaling in [
        GravityScaling::SameFractionPerPatch,
        GravityScaling::SameTotal,
    ] {
        for max_destinations in [None, Some(3)] {
            let gravity = GravityModel {
                mobile_fraction: 0.05,
                max_destinations,
                scaling,
                ..GravityModel::default()
            };
            let m = mobility_matrix(&scattered, &Mobility::Gravity(gravity)).unwrap();
            for row in &m {
                assert!(row.iter().all(|&x| x >= 0.0));
                assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
                if let Some(k) = max_destinations {
                    assert_eq!(row.iter().filter(|&&x| x > 0.0).count(), k + 1);
                }
            }
        }
    }

    // Equal populations: the territory-wide scale gives symmetric flows whatever the layout.
    let equal: Vec<Patch> = scattered
        .into_iter()
        .map(|mut p| {
            p.population = 100_000;
            p
        })
        .collect();
    let m = mobility_matrix(
        &equal,
        &Mobility::Gravity(GravityModel {
            scaling: GravityScaling::SameTotal,
            mobile_fraction: 0.05,
            ..GravityModel::default()
        }),
    )
    .unwrap();
    for (i, row) in m.iter().enumerate() {
        for (j, value) in row.iter().enumerate() {
            assert!((value - m[j][i]).abs() <= 1e-12 * value, "({i},{j})");
        }
    }
    let away: f64 = (0..10).map(|i| 1.0 - m[i][i]).sum::<f64>() / 10.0;
    assert!((away - 0.05).abs() < 1e-12, "{away}");
}

// ---------------------------------------------------------------- 6. calibration

fn reported(run: &[f64], reporting: f64, seed: u64, days: usize) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (1..=days)
        .map(|d| {
            let mean = reporting * run[d];
            if mean > 0.0 {
                Poisson::new(mean).unwrap().sample(&mut rng)
            } else {
                0.0
            }
        })
        .collect()
}

#[test]
fn calibration_recovers_beta_and_reporting_from_noisy_data() {
    let truth = one_patch(1_000_000, 10, 1.8, 120);
    let true_beta = 1.8 / 5.0;
    let run = run_deterministic(&truth).unwrap();
    let observed = ObservedIncidence {
        daily_cases: reported(&run.total.new_cases, 0.4, 11, 120),
        patch_codes: None,
    };
    let mut base = truth.clone();
    base.disease.transmission = Transmission::BasicReproductionNumber(3.0);
    let fit = calibrate(&base, &observed, &CalibrationSettings::default()).unwrap();
    assert!(
        (fit.beta_per_day - true_beta).abs() < 0.02 * true_beta,
        "{fit:?}"
    );
    assert!((fit.r0 - 1.8).abs() < 0.02 * 1.8);
    assert!(
        (fit.reporting_fraction - 0.4).abs() < 0.05 * 0.4,
        "{}",
        fit.reporting_fraction
    );
    assert_eq!(fit.fitted_daily_cases.len(), 120);
    // A Poisson fit of the right model: deviance about one per day.
    assert!(
        fit.poisson_deviance < 2.0 * 120.0,
        "{}",
        fit.poisson_deviance
    );

    let known = CalibrationSettings {
        reporting: ReportingFraction::Known(0.4),
        ..CalibrationSettings::default()
    };
    let fit = calibrate(&base, &observed, &known).unwrap();
    assert!((fit.beta_per_day - true_beta).abs() < 0.02 * true_beta);
    assert_eq!(fit.reporting_fraction, 0.4);
}

#[test]
fn calibration_on_exact_aggregated_data_is_exact() {
    let patches = vec![
        at(patch("A", 300_000, 20), 23.1, -82.4),
        at(patch("B", 200_000, 0), 22.4, -83.7),
        at(patch("C", 100_000, 0), 22.0, -80.0),
    ];
    let mut truth = model(
        patches,
        Mobility::Gravity(GravityModel::default()),
        disease(2.2, 3.0, 5.0),
        90,
    );
    truth.disease.transmission = Transmission::RatePerDay(0.44);
    let run = run_deterministic(&truth).unwrap();
    let observed = ObservedIncidence {
        daily_cases: (1..=90)
            .map(|d| run.patches[1].series.new_cases[d] + run.patches[2].series.new_cases[d])
            .collect(),
        patch_codes: Some(vec!["B".into(), "C".into()]),
    };
    let settings = CalibrationSettings {
        reporting: ReportingFraction::Known(1.0),
        ..CalibrationSettings::default()
    };
    let fit = calibrate(&truth, &observed, &settings).unwrap();
    assert!(
        (fit.beta_per_day - 0.44).abs() < 1e-5 * 0.44,
        "{}",
        fit.beta_per_day
    );
    assert!(fit.poisson_deviance < 1e-6);
}

// ---------------------------------------------------------------- 7. reproducibility

#[test]
fn stochastic_runs_are_reproducible_by_seed() {
    let mut m = busy_model();
    m.days = 60;
    m.steps_per_day = 2;
    let a = run_stochastic(&m, 42).unwrap();
    let b = run_stochastic(&m, 42).unwrap();
    let c = run_stochastic(&m, 43).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.total.new_infections, c.total.new_infections);
}

// ---------------------------------------------------------------- scenarios

#[test]
fn scenarios_run_in_order_with_their_own_measures() {
    let base = one_patch(1_000_000, 100, 2.5, 1_500);
    let scenarios = vec![
        Scenario {
            name: "favorable".into(),
            r0: None,
            interventions: vec![whole_run(0.5)],
            vaccination: None,
        },
        Scenario {
            name: "medio".into(),
            r0: None,
            interventions: vec![whole_run(0.2)],
            vaccination: None,
        },
        Scenario {
            name: "crítico".into(),
            r0: Some(3.0),
            interventions: Vec::new(),
            vaccination: None,
        },
    ];
    let runs = run_scenarios(&base, &scenarios).unwrap();
    let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["favorable", "medio", "crítico"]);
    // Initial infectious are 1e-4 of the population: the relation holds to about that.
    for (run, effective_r0) in runs.iter().zip([1.25, 2.0, 3.0]) {
        let attack = attack_rate(&run.run.total, 1e6);
        let z = final_size(effective_r0, 0.0);
        assert!((attack - z).abs() < 2e-3, "{}: {attack} vs {z}", run.name);
    }
    assert!((runs[2].run.r0 - 3.0).abs() < 1e-12);
}

// ---------------------------------------------------------------- 8. refusals

fn refused(m: &SeirModel) -> &'static str {
    let name = invalid_name(&run_deterministic(m).unwrap_err());
    assert_eq!(name, invalid_name(&run_stochastic(m, 1).unwrap_err()));
    name
}

#[test]
fn bad_territories_and_horizons_are_refused() {
    let mut m = one_patch(1_000, 1, 2.0, 10);
    m.patches.clear();
    let error = run_deterministic(&m).unwrap_err();
    assert!(matches!(error, EpiError::InsufficientData(_)), "{error:?}");
    assert!(error.to_string().contains("vacío"));

    let mut m = one_patch(1_000, 1, 2.0, 10);
    m.patches[0].population = 0;
    assert_eq!(refused(&m), "population");

    let mut m = one_patch(1_000, 1_001, 2.0, 10);
    assert_eq!(refused(&m), "initial_infectious");
    m.patches[0].initial_infectious = 600;
    m.patches[0].initial_exposed = 500;
    assert_eq!(refused(&m), "initial_infectious");

    let mut m = one_patch(1_000, 1, 2.0, 10);
    m.patches.push(patch("A", 500, 0));
    assert_eq!(refused(&m), "code");

    let mut m = one_patch(1_000, 1, 2.0, 0);
    assert_eq!(refused(&m), "days");
    let message = run_deterministic(&m).unwrap_err().to_string();
    assert!(
        message.contains("«days»") && message.contains("0 días"),
        "{message}"
    );
    m.days = 3_651;
    assert_eq!(refused(&m), "days");

    let many = model(
        (0..300).map(|k| patch(&k.to_string(), 1_000, 0)).collect(),
        Mobility::None,
        disease(2.0, 3.0, 5.0),
        3_650,
    );
    assert_eq!(refused(&many), "days");
}

#[test]
fn bad_disease_parameters_are_refused() {
    for r0 in [-0.5, f64::NAN, 51.0] {
        assert_eq!(refused(&one_patch(1_000, 1, r0, 10)), "r0");
    }
    let mut m = one_patch(1_000, 1, 2.0, 10);
    m.disease.transmission = Transmission::RatePerDay(-0.1);
    assert_eq!(refused(&m), "beta_per_day");
    let message = run_deterministic(&m).unwrap_err().to_string();
    assert!(message.contains("-0.1"), "{message}");

    for period in [0.0, -3.0, f64::INFINITY, 400.0] {
        let mut m = one_patch(1_000, 1, 2.0, 10);
        m.disease.latent_period_days = period;
        assert_eq!(refused(&m), "latent_period_days");
        let mut m = one_patch(1_000, 1, 2.0, 10);
        m.disease.infectious_period_days = period;
        assert_eq!(refused(&m), "infectious_period_days");
    }

    let mut m = one_patch(1_000, 1, 2.0, 10);
    m.steps_per_day = 0;
    assert_eq!(refused(&m), "steps_per_day");
    m.steps_per_day = 1_001;
    assert_eq!(refused(&m), "steps_per_day");
    // A 0.1-day infectious period recovers at 10 per day: one step a day is far too coarse.
    m.disease.infectious_period_days = 0.1;
    m.steps_per_day = 1;
    assert_eq!(refused(&m), "steps_per_day");
    m.steps_per_day = 20;
    assert!(run_deterministic(&m).is_ok());
}

#[test]
fn bad_mobility_is_refused() {
    let two = || vec![patch("A", 1_000, 1), patch("B", 1_000, 0)];
    let with = |mobility: Mobility| model(two(), mobility, disease(2.0, 3.0, 5.0), 10);
    for matrix in [
        vec![vec![1.0, 0.0]],                      // too few rows
        vec![vec![1.0, 0.0], vec![1.0]],           // not square
        vec![vec![1.2, -0.2], vec![0.0, 1.0]],     // negative
        vec![vec![0.9, 0.0], vec![0.0, 1.0]],      // row sums to 0.9
        vec![vec![f64::NAN, 1.0], vec![0.0, 1.0]], // not a number
    ] {
        assert_eq!(refused(&with(Mobility::Matrix(matrix))), "mobility_matrix");
    }
    assert_eq!(
        refused(&with(Mobility::Gravity(GravityModel::default()))),
        "centroid"
    );
    let placed = || {
        vec![
            at(patch("A", 1_000, 1), 23.0, -82.0),
            at(patch("B", 1_000, 0), 22.0, -80.0),
        ]
    };
    for (gravity, name) in [
        (
            GravityModel {
                mobile_fraction: 1.0,
                ..GravityModel::default()
            },
            "mobile_fraction",
        ),
        (
            GravityModel {
                mobile_fraction: -0.1,
                ..GravityModel::default()
            },
            "mobile_fraction",
        ),
        (
            GravityModel {
                distance_exponent: -1.0,
                ..GravityModel::default()
            },
            "distance_exponent",
        ),
        (
            GravityModel {
                destination_exponent: 4.0,
                ..GravityModel::default()
            },
            "destination_exponent",
        ),
        (
            GravityModel {
                max_destinations: Some(0),
                ..GravityModel::default()
            },
            "max_destinations",
        ),
    ] {
        let m = model(
            placed(),
            Mobility::Gravity(gravity),
            disease(2.0, 3.0, 5.0),
            10,
        );
        assert_eq!(refused(&m), name);
    }
    let mut far = placed();
    far[0].centroid = Some(Centroid {
        latitude_deg: 91.0,
        longitude_deg: 0.0,
    });
    let m = model(
        far,
        Mobility::Gravity(GravityModel::default()),
        disease(2.0, 3.0, 5.0),
        10,
    );
    assert_eq!(refused(&m), "latitude_deg");
    let error = mobility_matrix(&[], &Mobility::None).unwrap_err();
    assert!(matches!(error, EpiError::InsufficientData(_)));
    // A territory-wide scale that would send a small town away more than all its time.
    let lopsided = vec![
        at(patch("big", 2_000_000, 0), 23.0, -82.0),
        at(patch("small", 1_000, 0), 23.0, -82.01),
    ];
    let error = mobility_matrix(
        &lopsided,
        &Mobility::Gravity(GravityModel {
            scaling: GravityScaling::SameTotal,
            mobile_fraction: 0.5,
            ..GravityModel::default()
        }),
    )
    .unwrap_err();
    assert_eq!(invalid_name(&error), "mobile_fraction");
}

#[test]
fn bad_interventions_and_vaccination_are_refused() {
    for reduction in [-0.1, 1.5, f64::NAN] {
        let mut m = one_patch(1_000, 1, 2.0, 10);
        m.interventions = vec![whole_run(reduction)];
        assert_eq!(refused(&m), "contact_reduction");
    }
    let mut m = one_patch(1_000, 1, 2.0, 10);
    m.interventions = vec![Intervention {
        start_day: 5,
        end_day: 5,
        ..whole_run(0.3)
    }];
    assert_eq!(refused(&m), "end_day");
    m.interventions = vec![Intervention {
        patch_codes: Some(vec!["Z".into()]),
        ..whole_run(0.3)
    }];
    assert_eq!(refused(&m), "patch_codes");
    assert!(
        run_deterministic(&m)
            .unwrap_err()
            .to_string()
            .contains("«Z»")
    );

    let campaign = |efficacy: f64, rate: VaccinationRate| Vaccination {
        start_day: 0,
        end_day: None,
        efficacy,
        rate,
    };
    for (vaccination, name) in [
        (
            campaign(1.2, VaccinationRate::FractionOfSusceptiblesPerDay(0.01)),
            "efficacy",
        ),
        (
            campaign(-0.1, VaccinationRate::FractionOfSusceptiblesPerDay(0.01)),
            "efficacy",
        ),
        (
            campaign(0.9, VaccinationRate::FractionOfSusceptiblesPerDay(0.9)),
            "rate_per_day",
        ),
        (
            campaign(0.9, VaccinationRate::FractionOfSusceptiblesPerDay(-0.01)),
            "rate_per_day",
        ),
        (
            campaign(0.9, VaccinationRate::DosesPerDay(vec![10.0, 10.0])),
            "doses_per_day",
        ),
        (
            campaign(0.9, VaccinationRate::DosesPerDay(vec![-10.0])),
            "doses_per_day",
        ),
        (
            Vaccination {
                start_day: 5,
                end_day: Some(3),
                ..campaign(0.9, VaccinationRate::DosesPerDay(vec![10.0]))
            },
            "end_day",
        ),
    ] {
        let mut m = one_patch(1_000, 1, 2.0, 10);
        m.vaccination = Some(vaccination);
        assert_eq!(refused(&m), name);
    }
}

#[test]
fn bad_scenarios_and_calibrations_are_refused() {
    let base = one_patch(1_000, 1, 2.0, 10);
    let named = |name: &str| Scenario {
        name: name.into(),
        r0: None,
        interventions: Vec::new(),
        vaccination: None,
    };
    let error = run_scenarios(&base, &[]).unwrap_err();
    assert_eq!(invalid_name(&error), "scenarios");
    let error = run_scenarios(&base, &[named("  ")]).unwrap_err();
    assert_eq!(invalid_name(&error), "name");
    let error = run_scenarios(&base, &[named("medio"), named("medio")]).unwrap_err();
    assert_eq!(invalid_name(&error), "name");
    let too_many: Vec<Scenario> = (0..21).map(|k| named(&k.to_string())).collect();
    assert_eq!(
        invalid_name(&run_scenarios(&base, &too_many).unwrap_err()),
        "scenarios"
    );
    let error = run_scenarios(
        &base,
        &[Scenario {
            r0: Some(-1.0),
            ..named("x")
        }],
    )
    .unwrap_err();
    assert_eq!(invalid_name(&error), "r0");
    assert!(error.to_string().contains("escenario «x»"), "{error}");
    let long_name = "x".repeat(81);
    let error = run_scenarios(&base, &[named(&long_name)]).unwrap_err();
    assert_eq!(invalid_name(&error), "name");

    let settings = CalibrationSettings::default();
    let observe = |daily_cases: Vec<f64>| ObservedIncidence {
        daily_cases,
        patch_codes: None,
    };
    let error = calibrate(&base, &observe(vec![1.0; 6]), &settings).unwrap_err();
    assert!(matches!(error, EpiError::InsufficientData(_)), "{error:?}");
    let error = calibrate(&base, &observe(vec![0.0; 20]), &settings).unwrap_err();
    assert!(matches!(error, EpiError::InsufficientData(_)), "{error:?}");
    let mut negative = vec![1.0; 20];
    negative[3] = -2.0;
    let error = calibrate(&base, &observe(negative), &settings).unwrap_err();
    assert_eq!(invalid_name(&error), "daily_cases");
    for (r0_min, r0_max, name) in [
        (0.0, 5.0, "r0_min"),
        (1.0, 60.0, "r0_min"),
        (3.0, 2.0, "r0_max"),
    ] {
        let bounds = CalibrationSettings {
            r0_min,
            r0_max,
            ..settings
        };
        let error = calibrate(&base, &observe(vec![1.0; 20]), &bounds).unwrap_err();
        assert_eq!(invalid_name(&error), name);
    }
    for rho in [0.0, 1.5, f64::NAN] {
        let known = CalibrationSettings {
            reporting: ReportingFraction::Known(rho),
            ..settings
        };
        let error = calibrate(&base, &observe(vec![1.0; 20]), &known).unwrap_err();
        assert_eq!(invalid_name(&error), "reporting_fraction");
    }
    let elsewhere = ObservedIncidence {
        daily_cases: vec![1.0; 20],
        patch_codes: Some(vec!["Z".into()]),
    };
    assert_eq!(
        invalid_name(&calibrate(&base, &elsewhere, &settings).unwrap_err()),
        "patch_codes"
    );
}

// ---------------------------------------------------------------- scale

#[test]
fn a_country_sized_model_runs_and_conserves() {
    // 168 municipalities on a grid over Cuba with a dense gravity matrix, one year.
    let patches: Vec<Patch> = (0..168)
        .map(|k: u32| {
            let (row, col) = (f64::from(k / 28), f64::from(k % 28));
            let mut p = at(
                patch(&format!("M{k:03}"), 20_000 + 3_000 * u64::from(k % 50), 0),
                20.0 + 0.5 * row,
                -84.5 + 0.3 * col,
            );
            if k == 0 {
                p.initial_infectious = 10;
            }
            p
        })
        .collect();
    let mut m = model(
        patches,
        Mobility::Gravity(GravityModel::default()),
        disease(2.0, 3.0, 5.0),
        365,
    );
    // Few steps keep the test fast in debug builds; the rates allow them.
    m.steps_per_day = 2;
    let run = run_deterministic(&m).unwrap();
    let population: f64 = m.patches.iter().map(|p| p.population as f64).sum();
    let total = &run.total;
    let sum = total.susceptible[365]
        + total.exposed[365]
        + total.infectious[365]
        + total.recovered[365]
        + total.vaccinated[365];
    assert!((sum - population).abs() < 1e-6 * population);
    assert!(
        run.patches
            .iter()
            .all(|p| last(&p.series.cumulative_cases) > 0.0)
    );
}
