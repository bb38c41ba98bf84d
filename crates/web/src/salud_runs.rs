//! Long model runs as jobs (epidemiologists only): `POST /api/v1/salud/models/runs` asks for a
//! run of the metapopulation SEIR scenarios or of the agent-based model and answers at once
//! with its id; `GET …/runs/{id}` follows its progress and, once done, gives its result;
//! `DELETE …/runs/{id}` cancels it; `GET …/runs` lists the latest. Every run is recorded with
//! its parameters (defaults filled in) and the revision of the records it read, so any chart
//! drawn from it can be made again; `/salud/modelos/escenarios/{id}` draws a SEIR run's
//! scenarios on one chart.
//!
//! One run at a time per process (a model takes the CPU), up to [`RUNS_WAITING_MAX`] waiting;
//! beyond, a request is refused. The runner writes its progress to the run's row every few
//! seconds and reads back whether it was cancelled, from this process or another; a run not
//! heard of for [`RUN_SILENCE_MS`] was interrupted (its process ended) and reads as failed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use ceiba_epi::abm::{AbmParams, MunicipalityPopulation, Population, simulate};
use ceiba_store::ModelRunRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Authorized, Epidemiologist};
use crate::json::ApiJson;
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::salud_charts::{self, Segment};
use crate::salud_scenarios::{SeirOutcome, SeirRequest};

/// Runs waiting for the one running, per process.
pub const RUNS_WAITING_MAX: usize = 4;
/// A running run whose row has not moved for this long was interrupted.
pub const RUN_SILENCE_MS: i64 = 120_000;
/// How often a runner writes its progress, at most.
const PROGRESS_EVERY_MS: i64 = 2_000;

/// The runs of this process: one at a time.
#[derive(Debug)]
pub struct ModelRunner {
    slot: tokio::sync::Semaphore,
    waiting: AtomicUsize,
    /// Threads a run may use: the machine's cores.
    pub threads: usize,
}

impl Default for ModelRunner {
    fn default() -> Self {
        ModelRunner {
            slot: tokio::sync::Semaphore::new(1),
            waiting: AtomicUsize::new(0),
            threads: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        }
    }
}

/// The agent-based model's population: the country's municipalities as the records hold
/// them, or this many agents in synthetic municipalities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AbmPopulation {
    /// `"cuba"`.
    Named(String),
    Agents(u64),
}

fn default_threads() -> usize {
    1
}

/// A request for the agent-based model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbmRequest {
    pub population: AbmPopulation,
    pub days: u32,
    #[serde(default)]
    pub seed: u64,
    /// At most the server's cores (the result is the same with any number).
    #[serde(default = "default_threads")]
    pub threads: usize,
    /// The disease, contacts and interventions; the defaults without.
    #[serde(default)]
    pub params: AbmParams,
}

/// What an agent-based run keeps: the country's daily series and the run's figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AbmOutcome {
    pub agents: u64,
    pub days: u32,
    pub new_infections: Vec<u32>,
    pub infectious: Vec<u32>,
    pub severe: Vec<u32>,
    pub critical: Vec<u32>,
    pub cumulative_infections: Vec<u32>,
    pub cumulative_deaths: Vec<u32>,
    pub seconds: f64,
    pub person_days_per_second: f64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRun {
    /// `seir` (scenarios of the metapopulation SEIR model over provinces or municipalities)
    /// or `abm` (the agent-based model).
    pub model: String,
    /// For `seir`: `{"days", "level": "provinces"|"municipalities", "r0", "latent_period_days",
    /// "infectious_period_days", "mobile_fraction", "mobility", "infections_per_confirmed_case",
    /// "seed_infectious", "calibrate_days", "scenarios": [{"name", "r0", "interventions":
    /// [{"start_day", "end_day", "contact_reduction", "patch_codes"}], "vaccination"}]}`; for
    /// `abm`:
    /// `{"population": "cuba" | N, "days", "seed", "threads", "params"}`.
    #[schema(value_type = Object)]
    pub parameters: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    pub id: String,
    pub model: String,
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    pub status: String,
    /// From 0 to 1.
    pub progress: f64,
    #[schema(value_type = Object)]
    pub parameters: serde_json::Value,
    /// The revision of the records the run read.
    pub data_revision: u64,
    pub created_by: String,
    pub created_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    /// Once done: a SEIR run's scenarios summed over the country, or an agent-based run's
    /// daily series; `null` in lists.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// The chart of a SEIR run's scenarios.
    pub chart: Option<String>,
}

fn view(row: ModelRunRow, now_ms: i64, with_result: bool) -> RunView {
    let silent = matches!(row.status.as_str(), "queued" | "running")
        && now_ms - row.updated_at_ms > RUN_SILENCE_MS;
    let (status, error) = if silent {
        (
            "failed".to_owned(),
            Some("interrumpida: el proceso que la ejecutaba terminó".to_owned()),
        )
    } else {
        (row.status, row.error)
    };
    let chart =
        (row.model == "seir" && status == "done").then(|| format!("{SCENARIOS_PATH}/{}", row.id));
    RunView {
        parameters: serde_json::from_str(&row.parameters).unwrap_or(serde_json::Value::Null),
        result: if with_result {
            row.result
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok())
        } else {
            None
        },
        id: row.id,
        model: row.model,
        progress: row.progress as f64 / 1000.0,
        status,
        data_revision: row.data_revision,
        created_by: row.created_by,
        created_at_ms: row.created_at_ms,
        finished_at_ms: row.finished_at_ms,
        error,
        chart,
    }
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::with_detail(ErrorCode::ValidationFailed, detail)
}

/// A model's parameters as the run will read them, checked as far as possible before it is
/// queued (the model itself checks the rest, and a refusal there fails the run).
enum Job {
    Seir(SeirRequest),
    Abm(Box<AbmRequest>),
}

fn job_of(body: &NewRun, threads_max: usize) -> Result<Job, ApiError> {
    let parse_error = |error: serde_json::Error| invalid(format!("parameters: {error}"));
    match body.model.as_str() {
        "seir" => {
            let request: SeirRequest =
                serde_json::from_value(body.parameters.clone()).map_err(parse_error)?;
            if request.days == 0 || request.days > ceiba_epi::seir::MAX_DAYS {
                return Err(invalid(format!(
                    "parameters.days: entre 1 y {} días",
                    ceiba_epi::seir::MAX_DAYS
                )));
            }
            if request
                .calibrate_days
                .is_some_and(|days| !(7..=120).contains(&days))
            {
                return Err(invalid("parameters.calibrate_days: entre 7 y 120 días"));
            }
            Ok(Job::Seir(request))
        }
        "abm" => {
            let request: AbmRequest =
                serde_json::from_value(body.parameters.clone()).map_err(parse_error)?;
            request
                .params
                .validate()
                .map_err(|error| invalid(format!("parameters.params: {error}")))?;
            if request.days == 0 || request.days > ceiba_epi::abm::MAX_DAYS {
                return Err(invalid(format!(
                    "parameters.days: entre 1 y {} días",
                    ceiba_epi::abm::MAX_DAYS
                )));
            }
            if request.threads == 0 || request.threads > threads_max {
                return Err(invalid(format!(
                    "parameters.threads: entre 1 y {threads_max} (los núcleos de este servidor)"
                )));
            }
            match &request.population {
                AbmPopulation::Named(name) if name == "cuba" => {}
                AbmPopulation::Agents(agents)
                    if (1..=ceiba_epi::abm::MAX_AGENTS).contains(agents) => {}
                _ => {
                    return Err(invalid(format!(
                        "parameters.population: «cuba» o un número de 1 a {} personas",
                        ceiba_epi::abm::MAX_AGENTS
                    )));
                }
            }
            Ok(Job::Abm(Box::new(request)))
        }
        other => Err(invalid(format!("model: «seir» o «abm», no «{other}»"))),
    }
}

/// Starts a model run; it goes on after the answer.
#[utoipa::path(post, path = "/api/v1/salud/models/runs", tag = "salud",
    security(("bearer" = [])), request_body = NewRun,
    responses(
        (status = 202, description = "Corrida en cola", body = RunView),
        (status = 403, description = "No es epidemiólogo", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Demasiadas corridas esperando", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Parámetros no válidos", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn start(
    State(state): State<AppState>,
    Authorized { who, .. }: Authorized<Epidemiologist>,
    ApiJson(body): ApiJson<NewRun>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    let runner = Arc::clone(&state.model_runs);
    let job = job_of(&body, runner.threads)?;
    let parameters = match &job {
        Job::Seir(request) => serde_json::to_string(request),
        Job::Abm(request) => serde_json::to_string(request),
    }
    .map_err(|_| ApiError::new(ErrorCode::Internal))?;
    if runner
        .waiting
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |waiting| {
            (waiting <= RUNS_WAITING_MAX).then_some(waiting + 1)
        })
        .is_err()
    {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            format!(
                "ya hay {} corridas esperando: vuelva a intentarlo cuando terminen",
                RUNS_WAITING_MAX + 1
            ),
        ));
    }
    let revision = match state.db.salud_revision().await {
        Ok(revision) => revision,
        Err(error) => {
            runner.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(error.into());
        }
    };
    let id = uuid::Uuid::new_v4().to_string();
    let now_ms = state.clock.now_ms();
    if let Err(error) = state
        .db
        .add_model_run(
            &id,
            &body.model,
            &parameters,
            revision,
            &who.user.id,
            now_ms,
        )
        .await
    {
        runner.waiting.fetch_sub(1, Ordering::SeqCst);
        return Err(error.into());
    }
    tracing::info!(run = %id, model = %body.model, "model run queued");
    let task_state = state.clone();
    let task_id = id.clone();
    tokio::spawn(async move {
        let permit = runner.slot.acquire().await;
        runner.waiting.fetch_sub(1, Ordering::SeqCst);
        if permit.is_ok() {
            execute(&task_state, &task_id, job).await;
        }
    });
    let row = state
        .db
        .model_run(&id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
    Ok((StatusCode::ACCEPTED, Json(view(row, now_ms, false))))
}

/// Runs a job to its end, writing its progress and its result.
async fn execute(state: &AppState, id: &str, job: Job) {
    let clock = state.clock.clone();
    if !matches!(
        state.db.model_run_progress(id, 0, clock.now_ms()).await,
        Ok(true)
    ) {
        return; // cancelled while it waited
    }
    let outcome = match job {
        Job::Seir(request) => match state.salud.current(&state.db).await {
            Ok(data) => tokio::task::spawn_blocking(move || {
                crate::salud_scenarios::run(&data, &request)
                    .map_err(|error| error.to_string())
                    .and_then(|outcome| {
                        serde_json::to_string(&outcome).map_err(|error| error.to_string())
                    })
            })
            .await
            .unwrap_or_else(|error| Err(format!("la corrida no terminó: {error}"))),
            Err(error) => Err(format!("no se pudieron leer los registros: {error}")),
        },
        Job::Abm(request) => run_abm(state, id, *request).await,
    };
    let now_ms = clock.now_ms();
    let finished = match &outcome {
        Ok(result) => state.db.finish_model_run(id, Ok(result), now_ms).await,
        Err(reason) => state.db.finish_model_run(id, Err(reason), now_ms).await,
    };
    match finished {
        Ok(true) => tracing::info!(run = %id, ok = outcome.is_ok(), "model run finished"),
        Ok(false) => tracing::info!(run = %id, "model run was cancelled"),
        Err(error) => tracing::warn!(run = %id, %error, "could not record a model run's end"),
    }
}

/// The agent-based model on a blocking thread; its progress goes to the run's row from here,
/// and a cancellation read there stops it at the next day.
async fn run_abm(state: &AppState, id: &str, request: AbmRequest) -> Result<String, String> {
    let municipalities: Vec<MunicipalityPopulation> = match &request.population {
        AbmPopulation::Named(_) => {
            let data = state
                .salud
                .current(&state.db)
                .await
                .map_err(|error| format!("no se pudieron leer los registros: {error}"))?;
            data.municipalities
                .iter()
                .filter(|area| area.population > 0)
                .map(|area| MunicipalityPopulation {
                    code: area.code.clone(),
                    name: area.name.clone(),
                    population: area.population,
                })
                .collect()
        }
        AbmPopulation::Agents(_) => Vec::new(),
    };
    let (progress_tx, mut progress_rx) = tokio::sync::watch::channel(0_u32);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let days = request.days;
    let worker = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let population = match request.population {
            AbmPopulation::Agents(agents) => {
                Population::synthetic(agents, request.seed, request.threads)
            }
            AbmPopulation::Named(_) => {
                Population::cuba(&municipalities, request.seed, request.threads)
            }
        }
        .map_err(|error| error.to_string())?;
        // Stops when asked, and when the runner is gone (the server is stopping).
        let mut report = |day: u32| {
            progress_tx.send_replace(day);
            !*stop_rx.borrow() && stop_rx.has_changed().is_ok()
        };
        let result = simulate(
            &population,
            &request.params,
            request.days,
            request.seed,
            request.threads,
            &mut report,
        )
        .map_err(|error| error.to_string())?;
        if result.cancelled {
            return Err("cancelada".to_owned());
        }
        let seconds = started.elapsed().as_secs_f64();
        let national = result.national;
        let outcome = AbmOutcome {
            agents: result.agents,
            days: result.days,
            new_infections: national.new_infections,
            infectious: national.infectious,
            severe: national.severe,
            critical: national.critical,
            cumulative_infections: national.cumulative_infections,
            cumulative_deaths: national.cumulative_deaths,
            seconds,
            person_days_per_second: result.person_days as f64 / seconds.max(1e-9),
        };
        serde_json::to_string(&outcome).map_err(|error| error.to_string())
    });
    let mut worker = std::pin::pin!(worker);
    let mut last_written_ms = 0;
    loop {
        tokio::select! {
            finished = &mut worker => {
                return finished.unwrap_or_else(|error| Err(format!("la corrida no terminó: {error}")));
            }
            changed = progress_rx.changed() => {
                if changed.is_err() {
                    continue;
                }
                let now_ms = state.clock.now_ms();
                if now_ms - last_written_ms < PROGRESS_EVERY_MS {
                    continue;
                }
                last_written_ms = now_ms;
                let day = *progress_rx.borrow_and_update();
                let per_mille = u64::from(day) * 1000 / u64::from(days.max(1));
                if let Ok(false) = state.db.model_run_progress(id, per_mille, now_ms).await {
                    stop_tx.send_replace(true);
                }
            }
        }
    }
}

/// A model run: its progress, or its result once done.
#[utoipa::path(get, path = "/api/v1/salud/models/runs/{id}", tag = "salud",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id de la corrida")),
    responses(
        (status = 200, description = "La corrida", body = RunView),
        (status = 403, description = "No es epidemiólogo", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No existe", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn show(
    State(state): State<AppState>,
    _: Authorized<Epidemiologist>,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    let row = state.db.model_run(&id).await?.ok_or_else(|| {
        ApiError::with_detail(ErrorCode::NotFound, "no hay ninguna corrida con ese id")
    })?;
    Ok(Json(view(row, state.clock.now_ms(), true)))
}

/// The latest model runs, newest first, without their results.
#[utoipa::path(get, path = "/api/v1/salud/models/runs", tag = "salud",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Las últimas corridas", body = [RunView]),
        (status = 403, description = "No es epidemiólogo", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _: Authorized<Epidemiologist>,
) -> Result<Json<Vec<RunView>>, ApiError> {
    let now_ms = state.clock.now_ms();
    let rows = state
        .db
        .model_runs(ceiba_store::MODEL_RUNS_LIST_MAX)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| view(row, now_ms, false))
            .collect(),
    ))
}

/// Cancels a queued or running model run.
#[utoipa::path(delete, path = "/api/v1/salud/models/runs/{id}", tag = "salud",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id de la corrida")),
    responses(
        (status = 200, description = "La corrida, cancelada", body = RunView),
        (status = 403, description = "No es epidemiólogo", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No existe", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Ya había terminado", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    Authorized { who, .. }: Authorized<Epidemiologist>,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    let now_ms = state.clock.now_ms();
    if state.db.model_run(&id).await?.is_none() {
        return Err(ApiError::with_detail(
            ErrorCode::NotFound,
            "no hay ninguna corrida con ese id",
        ));
    }
    let reason = format!("cancelada por {}", who.user.id);
    if !state.db.cancel_model_run(&id, &reason, now_ms).await? {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "la corrida ya había terminado",
        ));
    }
    let row = state
        .db
        .model_run(&id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
    Ok(Json(view(row, now_ms, false)))
}

// ---------------------------------------------------------------------------------------------
// The scenarios' chart
// ---------------------------------------------------------------------------------------------

pub const SCENARIOS_PATH: &str = "/salud/modelos/escenarios";

/// The colours of up to six scenarios, then again.
const SCENARIO_COLOURS: [plotters::style::RGBColor; 6] = [
    plotters::style::RGBColor(0x1a, 0x98, 0x50),
    plotters::style::RGBColor(0xf4, 0xa5, 0x82),
    plotters::style::RGBColor(0xb2, 0x18, 0x2b),
    plotters::style::RGBColor(0x21, 0x66, 0xac),
    plotters::style::RGBColor(0x76, 0x2a, 0x83),
    plotters::style::RGBColor(0x55, 0x55, 0x55),
];

struct ScenarioLine {
    name: String,
    colour: String,
    r0: String,
    peak_day: usize,
    peak: String,
    total: String,
    attack_rate: String,
}

#[derive(Template)]
#[template(path = "salud_escenarios.html")]
struct ScenariosPage {
    frame: crate::pages::Frame,
    id: String,
    start_day: String,
    level: &'static str,
    chart: String,
    lines: Vec<ScenarioLine>,
    data_revision: u64,
}

/// `12.345`: a whole count with thousands.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn whole_es(value: f64) -> String {
    ceiba_surveillance::count_es(value.max(0.0).round() as u64)
}

/// A done SEIR run's scenarios on one chart, with a table (epidemiologists only).
pub async fn scenarios_page(
    State(state): State<AppState>,
    _: Authorized<Epidemiologist>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = crate::pages::page_lang(None, &headers);
    let not_found = || {
        ApiError::with_detail(
            ErrorCode::NotFound,
            "no hay ninguna corrida SEIR terminada con ese id",
        )
    };
    let row = state.db.model_run(&id).await?.ok_or_else(not_found)?;
    if row.model != "seir" || row.status != "done" {
        return Err(not_found());
    }
    let outcome: SeirOutcome = row
        .result
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .ok_or_else(not_found)?;
    let first_day = outcome
        .start_day
        .as_deref()
        .and_then(ceiba_surveillance::covid19cubadata::Date::parse)
        .unwrap_or(ceiba_surveillance::covid19cubadata::Date::from_days_since_epoch(0));
    let segments: Vec<Segment<'_>> = outcome
        .scenarios
        .iter()
        .enumerate()
        .map(|(index, scenario)| Segment {
            start: 0,
            values: &scenario.new_cases,
            colour: SCENARIO_COLOURS[index % SCENARIO_COLOURS.len()],
        })
        .collect();
    let days = outcome
        .scenarios
        .iter()
        .map(|scenario| scenario.new_cases.len())
        .max()
        .unwrap_or(0);
    let chart = salud_charts::band_chart(first_day, days, &[], &segments, None);
    let lines = outcome
        .scenarios
        .iter()
        .enumerate()
        .map(|(index, scenario)| {
            let plotters::style::RGBColor(r, g, b) =
                SCENARIO_COLOURS[index % SCENARIO_COLOURS.len()];
            ScenarioLine {
                name: scenario.name.clone(),
                colour: format!("#{r:02x}{g:02x}{b:02x}"),
                r0: format!("{:.2}", scenario.r0).replace('.', ","),
                peak_day: scenario.peak_day,
                peak: whole_es(scenario.peak_new_cases),
                total: whole_es(scenario.total_cases),
                attack_rate: format!("{:.1} %", scenario.attack_rate * 100.0).replace('.', ","),
            }
        })
        .collect();
    let body = ScenariosPage {
        frame: crate::pages::Frame::for_request(lang, &headers),
        id: row.id,
        start_day: outcome.start_day.clone().unwrap_or_default(),
        level: match outcome.level {
            crate::salud_scenarios::SeirLevel::Provinces => "provincias",
            crate::salud_scenarios::SeirLevel::Municipalities => "municipios",
        },
        chart,
        lines,
        data_revision: row.data_revision,
    }
    .render();
    Ok(crate::account_pages::page(lang, body, None, None))
}
