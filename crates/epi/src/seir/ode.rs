//! Deterministic model: classical RK4 with a fixed step that divides the day, so the daily
//! contact factors and vaccination windows never change inside a step.

use super::{DailySeries, Prepared, SeirModel, SeirRun};

const S: usize = 0;
const E: usize = 1;
const I: usize = 2;
const R: usize = 3;
const V: usize = 4;
/// Cumulative S → E flow, integrated with the rest so daily infections are as accurate.
const INFECTIONS: usize = 5;
/// Cumulative E → I flow.
const CASES: usize = 6;
const WIDTH: usize = 7;

type State = Vec<[f64; WIDTH]>;

/// Scratch space for the derivative.
struct Work {
    contact_factors: Vec<f64>,
    present: Vec<f64>,
    forces: Vec<f64>,
}

pub(super) fn integrate(prepared: &Prepared, model: &SeirModel) -> SeirRun<f64> {
    let patch_count = prepared.populations.len();
    let mut state: State = model
        .patches
        .iter()
        .map(|patch| {
            let exposed = patch.initial_exposed as f64;
            let infectious = patch.initial_infectious as f64;
            let immune = patch.initial_immune as f64;
            let susceptible = patch.population as f64 - exposed - infectious - immune;
            [susceptible, exposed, infectious, 0.0, immune, 0.0, 0.0]
        })
        .collect();
    let mut work = Work {
        contact_factors: vec![1.0; patch_count],
        present: vec![0.0; patch_count],
        forces: vec![0.0; patch_count],
    };
    let zero = vec![[0.0; WIDTH]; patch_count];
    let (mut k1, mut k2, mut k3, mut k4, mut trial) =
        (zero.clone(), zero.clone(), zero.clone(), zero.clone(), zero);
    let dt = 1.0 / prepared.steps_per_day as f64;

    let mut series: Vec<DailySeries<f64>> = (0..patch_count)
        .map(|_| DailySeries::with_capacity(prepared.days + 1))
        .collect();
    record(&mut series, &state, &state);
    for day in 0..prepared.days {
        prepared.contact_factors(day, &mut work.contact_factors);
        let start_of_day = state.clone();
        for _ in 0..prepared.steps_per_day {
            derivative(prepared, day, &state, &mut work, &mut k1);
            advance(&state, &k1, dt / 2.0, &mut trial);
            derivative(prepared, day, &trial, &mut work, &mut k2);
            advance(&state, &k2, dt / 2.0, &mut trial);
            derivative(prepared, day, &trial, &mut work, &mut k3);
            advance(&state, &k3, dt, &mut trial);
            derivative(prepared, day, &trial, &mut work, &mut k4);
            for (patch, y) in state.iter_mut().enumerate() {
                for (c, value) in y.iter_mut().enumerate() {
                    *value += dt / 6.0
                        * (k1[patch][c] + 2.0 * k2[patch][c] + 2.0 * k3[patch][c] + k4[patch][c]);
                }
            }
        }
        record(&mut series, &start_of_day, &state);
    }

    SeirRun::assemble(prepared, model, series)
}

fn advance(state: &State, slope: &State, h: f64, out: &mut State) {
    for ((y, k), o) in state.iter().zip(slope).zip(out.iter_mut()) {
        for c in 0..WIDTH {
            o[c] = y[c] + h * k[c];
        }
    }
}

fn derivative(prepared: &Prepared, day: usize, state: &State, work: &mut Work, out: &mut State) {
    prepared.forces_of_infection(
        &work.contact_factors,
        state.iter().map(|y| y[I]),
        &mut work.present,
        &mut work.forces,
    );
    for (patch, (y, d)) in state.iter().zip(out.iter_mut()).enumerate() {
        let infections = work.forces[patch] * y[S];
        let vaccinations = prepared.vaccination_rate(day, patch, y[V]) * y[S];
        let cases = prepared.sigma_per_day * y[E];
        let recoveries = prepared.gamma_per_day * y[I];
        d[S] = -infections - vaccinations;
        d[E] = infections - cases;
        d[I] = cases - recoveries;
        d[R] = recoveries;
        d[V] = vaccinations;
        d[INFECTIONS] = infections;
        d[CASES] = cases;
    }
}

/// Appends the state at the end of a day, with that day's flows.
fn record(series: &mut [DailySeries<f64>], start_of_day: &State, end_of_day: &State) {
    for ((s, before), after) in series.iter_mut().zip(start_of_day).zip(end_of_day) {
        s.susceptible.push(after[S]);
        s.exposed.push(after[E]);
        s.infectious.push(after[I]);
        s.recovered.push(after[R]);
        s.vaccinated.push(after[V]);
        s.new_infections
            .push(after[INFECTIONS] - before[INFECTIONS]);
        s.new_cases.push(after[CASES] - before[CASES]);
        s.cumulative_cases.push(after[CASES]);
    }
}
