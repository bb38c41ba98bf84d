//! Stochastic model: a discrete-time binomial chain (Reed–Frost style) on whole people.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};

use super::{DailySeries, Prepared, SeirModel, SeirRun};

#[derive(Debug, Clone, Copy)]
struct Counts {
    susceptible: u64,
    exposed: u64,
    infectious: u64,
    recovered: u64,
    vaccinated: u64,
}

pub(super) fn simulate(prepared: &Prepared, model: &SeirModel, seed: u64) -> SeirRun<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let patch_count = prepared.populations.len();
    // Validation guarantees exposed + infectious + immune ≤ population.
    let mut counts: Vec<Counts> = model
        .patches
        .iter()
        .map(|p| Counts {
            susceptible: p.population - p.initial_exposed - p.initial_infectious - p.initial_immune,
            exposed: p.initial_exposed,
            infectious: p.initial_infectious,
            recovered: 0,
            vaccinated: p.initial_immune,
        })
        .collect();
    let dt = 1.0 / prepared.steps_per_day as f64;
    let leave_latency = -(-prepared.sigma_per_day * dt).exp_m1();
    let recover = -(-prepared.gamma_per_day * dt).exp_m1();
    let mut contact_factors = vec![1.0; patch_count];
    let mut present = vec![0.0; patch_count];
    let mut forces = vec![0.0; patch_count];

    let mut series: Vec<DailySeries<u64>> = (0..patch_count)
        .map(|_| DailySeries::with_capacity(prepared.days + 1))
        .collect();
    let mut cumulative_cases = vec![0_u64; patch_count];
    let mut day_infections = vec![0_u64; patch_count];
    let mut day_cases = vec![0_u64; patch_count];
    record(
        &mut series,
        &counts,
        &day_infections,
        &day_cases,
        &cumulative_cases,
    );
    for day in 0..prepared.days {
        prepared.contact_factors(day, &mut contact_factors);
        day_infections.fill(0);
        day_cases.fill(0);
        for _ in 0..prepared.steps_per_day {
            prepared.forces_of_infection(
                &contact_factors,
                counts.iter().map(|c| c.infectious as f64),
                &mut present,
                &mut forces,
            );
            for (patch, c) in counts.iter_mut().enumerate() {
                let force = forces[patch];
                let vaccination = prepared.vaccination_rate(day, patch, c.vaccinated as f64);
                // Competing risks: who leaves S, then why.
                let hazard = force + vaccination;
                let leaving = draw(&mut rng, c.susceptible, -(-hazard * dt).exp_m1());
                let infected = if hazard > 0.0 {
                    draw(&mut rng, leaving, force / hazard)
                } else {
                    0
                };
                let onsets = draw(&mut rng, c.exposed, leave_latency);
                let recoveries = draw(&mut rng, c.infectious, recover);
                c.susceptible -= leaving;
                c.vaccinated += leaving - infected;
                c.exposed = c.exposed + infected - onsets;
                c.infectious = c.infectious + onsets - recoveries;
                c.recovered += recoveries;
                day_infections[patch] += infected;
                day_cases[patch] += onsets;
                cumulative_cases[patch] += onsets;
            }
        }
        record(
            &mut series,
            &counts,
            &day_infections,
            &day_cases,
            &cumulative_cases,
        );
    }

    SeirRun::assemble(prepared, model, series)
}

/// A `Binomial(trials, probability)` draw; `probability` is in [0, 1] by construction.
fn draw(rng: &mut ChaCha8Rng, trials: u64, probability: f64) -> u64 {
    if trials == 0 || probability <= 0.0 {
        0
    } else if probability >= 1.0 {
        trials
    } else {
        Binomial::new(trials, probability)
            .expect("a probability strictly between 0 and 1 is valid")
            .sample(rng)
    }
}

/// Appends the counts at the end of a day, with that day's flows.
fn record(
    series: &mut [DailySeries<u64>],
    counts: &[Counts],
    infections: &[u64],
    cases: &[u64],
    cumulative_cases: &[u64],
) {
    for (patch, (s, c)) in series.iter_mut().zip(counts).enumerate() {
        s.susceptible.push(c.susceptible);
        s.exposed.push(c.exposed);
        s.infectious.push(c.infectious);
        s.recovered.push(c.recovered);
        s.vaccinated.push(c.vaccinated);
        s.new_infections.push(infections[patch]);
        s.new_cases.push(cases[patch]);
        s.cumulative_cases.push(cumulative_cases[patch]);
    }
}
