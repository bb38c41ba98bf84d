//! Runs of Salud's models as jobs: recorded when asked for, moved by their runner (progress,
//! end), cancelled by anyone allowed; every move of a run that is no longer queued or running
//! changes nothing, so a cancellation cannot be overwritten by a late result.

use sqlx::Row;

use crate::db::Db;
use crate::error::StoreError;
use crate::payments::{to_i64, to_u64};

/// Most runs one listing returns.
pub const MODEL_RUNS_LIST_MAX: u64 = 100;
/// Most stored forecasts of an area one read returns (the latest).
pub const FORECASTS_READ_MAX: u64 = 12;

/// A forecast as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForecastRow {
    pub area: String,
    /// `YYYY-MM-DD`.
    pub origin_day: String,
    pub data_revision: u64,
    pub made_at_ms: i64,
    /// JSON.
    pub forecast: String,
}

/// A model run as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRunRow {
    pub id: String,
    /// `seir` or `abm`.
    pub model: String,
    /// JSON.
    pub parameters: String,
    pub data_revision: u64,
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    pub status: String,
    /// Per mille.
    pub progress: u64,
    /// JSON, once done.
    pub result: Option<String>,
    pub error: Option<String>,
    pub created_by: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub finished_at_ms: Option<i64>,
}

const COLUMNS: &str = "id, model, parameters, data_revision, status, progress, result, error, \
                       created_by, created_at_ms, updated_at_ms, finished_at_ms";

fn run_row(row: &sqlx::any::AnyRow) -> Result<ModelRunRow, StoreError> {
    Ok(ModelRunRow {
        id: row.try_get("id")?,
        model: row.try_get("model")?,
        parameters: row.try_get("parameters")?,
        data_revision: to_u64(row.try_get("data_revision")?, "revisión")?,
        status: row.try_get("status")?,
        progress: to_u64(row.try_get("progress")?, "progreso")?,
        result: row.try_get("result")?,
        error: row.try_get("error")?,
        created_by: row.try_get("created_by")?,
        created_at_ms: row.try_get("created_at_ms")?,
        updated_at_ms: row.try_get("updated_at_ms")?,
        finished_at_ms: row.try_get("finished_at_ms")?,
    })
}

impl Db {
    /// Records a run, queued.
    pub async fn add_model_run(
        &self,
        id: &str,
        model: &str,
        parameters: &str,
        data_revision: u64,
        created_by: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO salud_model_runs (id, model, parameters, data_revision, status, progress, \
             created_by, created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $6)",
        )
        .bind(id)
        .bind(model)
        .bind(parameters)
        .bind(to_i64(data_revision, "revisión")?)
        .bind(created_by)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn model_run(&self, id: &str) -> Result<Option<ModelRunRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM salud_model_runs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(run_row).transpose()
    }

    /// The latest runs, newest first, up to [`MODEL_RUNS_LIST_MAX`].
    pub async fn model_runs(&self, limit: u64) -> Result<Vec<ModelRunRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM salud_model_runs ORDER BY created_at_ms DESC, id LIMIT $1"
        ))
        .bind(to_i64(limit.min(MODEL_RUNS_LIST_MAX), "límite")?)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(run_row).collect()
    }

    /// The runner's news: running at `progress` per mille. False when the run is no longer
    /// queued or running (it was cancelled): the runner stops.
    pub async fn model_run_progress(
        &self,
        id: &str,
        progress: u64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE salud_model_runs SET status = 'running', progress = $1, updated_at_ms = $2 \
             WHERE id = $3 AND status IN ('queued', 'running')",
        )
        .bind(to_i64(progress.min(1000), "progreso")?)
        .bind(now_ms)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The end of a run: `done` with its result, or `failed` with the reason. False when it
    /// had already ended (cancelled): nothing changes.
    pub async fn finish_model_run(
        &self,
        id: &str,
        outcome: Result<&str, &str>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (status, result, error) = match outcome {
            Ok(result) => ("done", Some(result), None),
            Err(error) => ("failed", None, Some(error)),
        };
        let done = sqlx::query(
            "UPDATE salud_model_runs SET status = $1, result = $2, error = $3, \
             progress = CASE WHEN $1 = 'done' THEN 1000 ELSE progress END, \
             updated_at_ms = $4, finished_at_ms = $4 \
             WHERE id = $5 AND status IN ('queued', 'running')",
        )
        .bind(status)
        .bind(result)
        .bind(error)
        .bind(now_ms)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Cancels a queued or running run, with `reason`; false when it had ended.
    pub async fn cancel_model_run(
        &self,
        id: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE salud_model_runs SET status = 'cancelled', error = $1, updated_at_ms = $2, \
             finished_at_ms = $2 WHERE id = $3 AND status IN ('queued', 'running')",
        )
        .bind(reason)
        .bind(now_ms)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Keeps the first forecast of an area from its last day of data; false when one was kept
    /// already (a later revision with the same last day does not replace it: the first is the
    /// one that was published).
    pub async fn keep_forecast(&self, row: &ForecastRow) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO salud_forecasts (area, origin_day, data_revision, made_at_ms, forecast) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (area, origin_day) DO NOTHING",
        )
        .bind(&row.area)
        .bind(&row.origin_day)
        .bind(to_i64(row.data_revision, "revisión")?)
        .bind(row.made_at_ms)
        .bind(&row.forecast)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// An area's forecasts made from days before `before`, latest first, up to
    /// [`FORECASTS_READ_MAX`].
    pub async fn forecasts_before(
        &self,
        area: &str,
        before: &str,
    ) -> Result<Vec<ForecastRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT area, origin_day, data_revision, made_at_ms, forecast FROM salud_forecasts \
             WHERE area = $1 AND origin_day < $2 ORDER BY origin_day DESC LIMIT $3",
        )
        .bind(area)
        .bind(before)
        .bind(to_i64(FORECASTS_READ_MAX, "límite")?)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ForecastRow {
                    area: row.try_get("area")?,
                    origin_day: row.try_get("origin_day")?,
                    data_revision: to_u64(row.try_get("data_revision")?, "revisión")?,
                    made_at_ms: row.try_get("made_at_ms")?,
                    forecast: row.try_get("forecast")?,
                })
            })
            .collect()
    }
}
