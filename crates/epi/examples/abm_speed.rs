//! Times the agent-based model: builds a population, runs it, prints one line of JSON with
//! the build and simulation seconds, person-days per second and the peak resident memory.
//!
//! ```text
//! cargo run --release --example abm_speed -p ceiba-epi -- AGENTS|cuba DAYS SEED THREADS [standard]
//! ```
//!
//! `cuba` reads `../shared/data/cuba/municipality-population.json` (run from the workspace
//! root); the list gives names and populations in DPA order, so the codes here are made up
//! from the position in each province. `standard` turns on testing, isolation, tracing and
//! quarantine ([`InterventionParams::standard`]); `standard:P` with a daily test probability
//! `P` for symptomatic people.

use std::io::Write;
use std::time::Instant;

use ceiba_epi::abm::{AbmParams, InterventionParams, MunicipalityPopulation, Population, simulate};

/// Municipalities per province in DPA order (Pinar del Río … Guantánamo, Isla de la Juventud).
const PROVINCES: [(&str, usize); 16] = [
    ("21", 11),
    ("22", 11),
    ("23", 15),
    ("24", 11),
    ("25", 13),
    ("26", 8),
    ("27", 13),
    ("28", 8),
    ("29", 10),
    ("30", 13),
    ("31", 8),
    ("32", 14),
    ("33", 13),
    ("34", 9),
    ("35", 10),
    ("40", 1),
];

fn cuba() -> Result<Vec<MunicipalityPopulation>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string("../shared/data/cuba/municipality-population.json")?;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text)?;
    let codes: Vec<String> = PROVINCES
        .iter()
        .flat_map(|(p, n)| (1..=*n).map(move |k| format!("{p}.{k:02}")))
        .collect();
    if codes.len() != rows.len() {
        return Err(format!(
            "{} municipios en la lista, {} esperados",
            rows.len(),
            codes.len()
        )
        .into());
    }
    rows.iter()
        .zip(codes)
        .map(|(row, code)| {
            let population = match &row["population"] {
                serde_json::Value::String(s) => s.parse()?,
                v => v.as_u64().ok_or("población no numérica")?,
            };
            Ok(MunicipalityPopulation {
                code,
                name: row["municipality"].as_str().unwrap_or_default().to_owned(),
                population,
            })
        })
        .collect()
}

/// Peak resident set size of this process, in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_owned());
    let population_arg = arg(0, "100000");
    let days: u32 = arg(1, "180").parse()?;
    let seed: u64 = arg(2, "1").parse()?;
    let threads: usize = arg(3, "1").parse()?;
    let mut params = AbmParams::default();
    // `standard` or `standard:P`, P the daily test probability of a symptomatic person.
    let interventions = arg(4, "");
    if let Some(rest) = interventions.strip_prefix("standard") {
        params.interventions = InterventionParams::standard();
        if let (Some(p), Some(testing)) =
            (rest.strip_prefix(':'), &mut params.interventions.testing)
        {
            testing.symptomatic_test_prob_per_day = p.parse()?;
        }
    }

    let started = Instant::now();
    let population = if population_arg == "cuba" {
        Population::cuba(&cuba()?, seed, threads)?
    } else {
        Population::synthetic(population_arg.parse()?, seed, threads)?
    };
    let build_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let result = simulate(&population, &params, days, seed, threads, &mut |_| true)?;
    let simulate_seconds = started.elapsed().as_secs_f64();

    let national = &result.national;
    let peak_day = (0..national.days()).max_by_key(|&d| national.infectious[d]);
    #[allow(clippy::cast_precision_loss)]
    let person_days = result.person_days as f64;
    let line = serde_json::json!({
        "agents": result.agents,
        "days": result.days,
        "threads": threads,
        "build_seconds": build_seconds,
        "simulate_seconds": simulate_seconds,
        "seconds": build_seconds + simulate_seconds,
        "person_days_per_second": person_days / (build_seconds + simulate_seconds),
        "simulate_person_days_per_second": person_days / simulate_seconds,
        "peak_rss_mib": peak_rss_mib(),
        "infections": national.total_infections(),
        "deaths": national.total_deaths(),
        "peak_infectious_day": peak_day,
        "peak_infectious": peak_day.map(|d| national.infectious[d]),
        "beta": result.beta_per_contact_day,
        "r0_by_layer": result.r0_by_layer,
        "infections_by_layer": result.infections_by_layer,
    });
    writeln!(std::io::stdout().lock(), "{line}")?;
    Ok(())
}
