//! `ceiba epi rt|forecast|seir|abm`: Salud's models from the command line. `rt`, `forecast`
//! and `seir` read the records of a database (the same code the API runs, so a figure from
//! one is the figure from the other); `abm` needs only the population files.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use ceiba_epi::abm::{AbmParams, MunicipalityPopulation, Population, simulate};
use ceiba_epi::rt::{RtParams, SerialInterval, estimate_rt};
use ceiba_web::salud_dashboard::{SaludCache, SaludData};
use ceiba_web::salud_models::{AreaIncidence, area_incidence};
use ceiba_web::salud_scenarios::SeirRequest;

use crate::cli::EpiCommand;
use crate::config::{self, Config};
use crate::print_line;
use crate::serve::open_database;

pub fn run(config_file: Option<&Path>, command: EpiCommand) -> anyhow::Result<()> {
    match command {
        EpiCommand::Rt {
            area,
            window,
            si_mean,
            si_sd,
            out,
            storage,
        } => {
            let config = config::load_storage(config_file, &storage)?;
            let params = RtParams {
                window_days: window,
                serial_interval: SerialInterval::Parametric {
                    mean_days: si_mean,
                    sd_days: si_sd,
                },
                ..RtParams::default()
            };
            // Refused before the database is opened: a typo costs nothing.
            ceiba_epi::rt::RtEstimator::new(&params)?;
            crate::runtime()?.block_on(rt(&config, &area, &params, out.as_deref()))
        }
        EpiCommand::Forecast { area, out, storage } => {
            let config = config::load_storage(config_file, &storage)?;
            crate::runtime()?.block_on(forecast(&config, &area, out.as_deref()))
        }
        EpiCommand::Seir {
            parameters,
            days,
            stochastic,
            out,
            storage,
        } => {
            let mut request: SeirRequest = match &parameters {
                Some(path) => serde_json::from_str(&read(path)?).with_context(|| {
                    format!("{}: los parámetros no son válidos", path.display())
                })?,
                None => serde_json::from_value(serde_json::json!({"days": 180}))
                    .context("parámetros por defecto")?,
            };
            if let Some(days) = days {
                request.days = days;
            }
            let config = config::load_storage(config_file, &storage)?;
            crate::runtime()?.block_on(seir(&config, &request, stochastic, out.as_deref()))
        }
        EpiCommand::Abm {
            population,
            days,
            seed,
            threads,
            params,
            dir,
            out,
        } => abm(
            &population,
            days,
            seed,
            threads,
            params.as_deref(),
            &dir,
            &out,
        ),
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("no se pudo leer {}", path.display()))
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("no se pudo escribir {}", path.display()))
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("csv"))
}

/// The records of the database, and the area `code` names (with its name), or why not.
async fn records(
    config: &Config,
    code: &str,
) -> anyhow::Result<(std::sync::Arc<SaludData>, String, ceiba_store::Db)> {
    let db = open_database(config).await?;
    db.migrate()
        .await
        .context("no se pudo migrar la base de datos")?;
    let data = SaludCache::default()
        .current(&db)
        .await
        .context("no se pudieron leer los registros de Salud")?;
    let name = if code == ceiba_surveillance::dashboard::NATION {
        "Cuba".to_owned()
    } else {
        match data.area(code) {
            Some((area, _)) => area.name.clone(),
            None => bail!(
                "no hay ninguna provincia ni municipio con el código DPA «{code}» (cargue la \
                 geografía con `ceiba salud geography`)"
            ),
        }
    };
    Ok((data, name, db))
}

async fn incidence_of(
    config: &Config,
    code: &str,
) -> anyhow::Result<(std::sync::Arc<SaludData>, String, Option<AreaIncidence>)> {
    let (data, name, db) = records(config, code).await?;
    let incidence = area_incidence(&db, &data, code).await;
    db.close().await;
    Ok((
        data,
        name,
        incidence.context("no se pudieron leer los casos")?,
    ))
}

async fn rt(
    config: &Config,
    code: &str,
    params: &RtParams,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let (_, name, incidence) = incidence_of(config, code).await?;
    let Some(incidence) = incidence else {
        bail!("{name} ({code}) no tiene casos confirmados: no hay Rt que estimar");
    };
    let estimates = estimate_rt(&incidence.local, &incidence.imported, params)?;
    let day = |index: usize| {
        incidence
            .first_day
            .plus_days(i64::try_from(index).unwrap_or(0))
            .to_string()
    };
    if let Some(out) = out {
        if is_csv(out) {
            let mut text =
                String::from("fecha,rt_media,rt_inferior_95,rt_mediana,rt_superior_95,fiable\n");
            for estimate in &estimates {
                text.push_str(&format!(
                    "{},{:.4},{:.4},{:.4},{:.4},{}\n",
                    day(estimate.t_end),
                    estimate.mean,
                    estimate.quantile_025,
                    estimate.median,
                    estimate.quantile_975,
                    if estimate.reliable { "sí" } else { "no" }
                ));
            }
            write(out, &text)?;
        } else {
            let days: Vec<serde_json::Value> = estimates
                .iter()
                .map(|estimate| {
                    serde_json::json!({
                        "date": day(estimate.t_end),
                        "estimate": estimate,
                    })
                })
                .collect();
            write(
                out,
                &serde_json::to_string_pretty(&serde_json::json!({
                    "area": code, "name": name, "parameters": params, "days": days,
                }))?,
            )?;
        }
    }
    match estimates.last() {
        Some(last) => print_line(&format!(
            "Rt de {name} al {}: {:.2} (IC 95 %: {:.2} a {:.2}){}; {} ventanas.",
            day(last.t_end),
            last.mean,
            last.quantile_025,
            last.quantile_975,
            if last.reliable { "" } else { ", poco fiable" },
            estimates.len()
        )),
        None => bail!("la serie de {name} es demasiado corta para estimar Rt"),
    }
}

async fn forecast(config: &Config, code: &str, out: Option<&Path>) -> anyhow::Result<()> {
    let (data, name, incidence) = incidence_of(config, code).await?;
    let view = ceiba_web::salud_models::compute(
        code,
        &name,
        data.revision,
        incidence.as_ref(),
        &RtParams::default(),
    )?;
    if let Some(out) = out {
        write(out, &serde_json::to_string_pretty(&view)?)?;
    }
    let Some(first) = view.forecast.first() else {
        bail!(
            "{name} ({code}) no tiene los {} días de casos que el pronóstico necesita",
            view.calibration_days
        );
    };
    let week: f64 = view.forecast.iter().take(7).map(|day| day.median).sum();
    print_line(&format!(
        "Pronóstico de {name} desde el {}: {:.0} casos la primera semana (mediana; el {}: {:.0}, \
         IP 95 % {:.0} a {:.0}); {} pronósticos anteriores puntuados.",
        first.date,
        week,
        first.date,
        first.median,
        first.lower_95,
        first.upper_95,
        view.past_forecasts.len()
    ))
}

async fn seir(
    config: &Config,
    request: &SeirRequest,
    stochastic: Option<u64>,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let (data, _, db) = records(config, ceiba_surveillance::dashboard::NATION).await?;
    db.close().await;
    let started = Instant::now();
    let text = match stochastic {
        Some(seed) => {
            let model = ceiba_web::salud_scenarios::model(&data, request)?;
            let run = ceiba_epi::seir::run_stochastic(&model, seed)?;
            let total = run.total.cumulative_cases.last().copied().unwrap_or(0);
            print_line(&format!(
                "SEIR estocástico (semilla {seed}), {} territorios, {} días: {} casos.",
                model.patches.len(),
                request.days,
                ceiba_surveillance::count_es(total)
            ))?;
            serde_json::to_string_pretty(&serde_json::json!({
                "parameters": request, "seed": seed, "total": run.total,
            }))?
        }
        None => {
            let outcome = ceiba_web::salud_scenarios::run(&data, request)?;
            for scenario in &outcome.scenarios {
                print_line(&format!(
                    "{}: R0 {:.2}, pico el día {} con {:.0} casos, {:.0} casos en total ({:.1} %).",
                    scenario.name,
                    scenario.r0,
                    scenario.peak_day,
                    scenario.peak_new_cases,
                    scenario.total_cases,
                    scenario.attack_rate * 100.0
                ))?;
            }
            serde_json::to_string_pretty(&serde_json::json!({
                "parameters": request, "data_revision": data.revision, "outcome": outcome,
            }))?
        }
    };
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "SEIR run");
    if let Some(out) = out {
        write(out, &text)?;
    }
    Ok(())
}

/// The most memory this process has held, in bytes (Linux's `VmHWM`); `None` elsewhere.
fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn abm(
    population: &str,
    days: u32,
    seed: u64,
    threads: usize,
    params: Option<&Path>,
    dir: &Path,
    out: &Path,
) -> anyhow::Result<()> {
    let params: AbmParams = match params {
        Some(path) => serde_json::from_str(&read(path)?)
            .with_context(|| format!("{}: los parámetros no son válidos", path.display()))?,
        None => AbmParams::default(),
    };
    params.validate()?;
    let started = Instant::now();
    let population = match population.trim() {
        "cuba" => {
            let geography = crate::salud::read_geography(dir)?;
            let municipalities: Vec<MunicipalityPopulation> = geography
                .municipalities
                .iter()
                .filter(|municipality| municipality.population > 0)
                .map(|municipality| MunicipalityPopulation {
                    code: municipality.code.clone(),
                    name: municipality.name.clone(),
                    population: municipality.population,
                })
                .collect();
            Population::cuba(&municipalities, seed, threads)?
        }
        number => {
            let agents: u64 = number.parse().with_context(|| {
                format!("--population debe ser «cuba» o un número de personas, no «{number}»")
            })?;
            Population::synthetic(agents, seed, threads)?
        }
    };
    let built_s = started.elapsed().as_secs_f64();
    let simulated = Instant::now();
    let result = simulate(&population, &params, days, seed, threads, &mut |_| true)?;
    let simulate_s = simulated.elapsed().as_secs_f64();
    let seconds = started.elapsed().as_secs_f64();
    drop(population);
    let text = if is_csv(out) {
        let mut text = String::from(
            "dia,infecciones,sintomaticos,diagnosticados,graves_nuevos,criticos_nuevos,\
             fallecidos,recuperados,infecciosos,graves,criticos,aislados,en_cuarentena,\
             infecciones_acumuladas,fallecidos_acumulados\n",
        );
        for row in result.national.rows() {
            text.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                row.day,
                row.new_infections,
                row.new_symptomatic,
                row.new_diagnosed,
                row.new_severe,
                row.new_critical,
                row.new_deaths,
                row.new_recoveries,
                row.infectious,
                row.severe,
                row.critical,
                row.in_isolation,
                row.in_quarantine,
                row.cumulative_infections,
                row.cumulative_deaths
            ));
        }
        text
    } else {
        serde_json::to_string(&serde_json::json!({
            "parameters": params, "seed": seed, "result": result,
        }))?
    };
    write(out, &text)?;
    let person_days = result.person_days as f64;
    print_line(&serde_json::to_string(&serde_json::json!({
        "agents": result.agents,
        "days": result.days,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "build_seconds": (built_s * 1000.0).round() / 1000.0,
        "simulate_seconds": (simulate_s * 1000.0).round() / 1000.0,
        "person_days_per_second": (person_days / seconds.max(1e-9)).round(),
        "peak_memory_bytes": peak_memory_bytes(),
        "threads": threads,
        "infections": result.national.total_infections(),
        "deaths": result.national.total_deaths(),
    }))?)
}
