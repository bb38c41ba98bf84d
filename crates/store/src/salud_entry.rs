//! Line lists written in bulk (`ceiba-surveillance`'s `line_list`): each case created or
//! updated by its id, a few hundred to a transaction, with the import's progress moved in the
//! same transaction, so an import cut short goes on from the last rows written and a row is
//! never half-written.

use std::collections::{HashMap, HashSet};

use ceiba_surveillance::covid19cubadata::Sex;
use ceiba_surveillance::line_list::CaseEntry;
use sqlx::Row;

use crate::db::Db;
use crate::error::StoreError;
use crate::payments::{to_i64, to_u64};
use crate::salud::{day_text, placeholders};

/// Where a bulk import stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaludImport {
    pub id: String,
    pub user_id: String,
    pub rows_total: u64,
    /// Good rows written so far, in file order.
    pub rows_done: u64,
    pub created: u64,
    pub updated: u64,
    /// The refused rows, as a JSON array of `{line, id, reason}`.
    pub rejected: String,
    pub finished: bool,
}

/// Rows written per statement.
const ROWS_PER_STATEMENT: usize = 100;

/// `$1, $2, …, $count`, for an `IN (…)` list.
fn parameters(count: usize) -> String {
    (1..=count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Db {
    /// The import `id`, made now (with `rows_total` good rows and its refused ones) unless it
    /// exists; as it stands.
    pub async fn begin_salud_import(
        &self,
        id: &str,
        user_id: &str,
        rows_total: u64,
        rejected: &str,
        now_ms: i64,
    ) -> Result<SaludImport, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO salud_imports (id, user_id, rows_total, rows_done, created, updated, \
             rejected, started_at_ms) VALUES ($1, $2, $3, 0, 0, 0, $4, $5) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(user_id)
        .bind(to_i64(rows_total, "filas")?)
        .bind(rejected)
        .bind(now_ms)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        self.salud_import(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("la importación {id} no quedó guardada")))
    }

    pub async fn salud_import(&self, id: &str) -> Result<Option<SaludImport>, StoreError> {
        let row = sqlx::query(
            "SELECT id, user_id, rows_total, rows_done, created, updated, rejected, \
             finished_at_ms FROM salud_imports WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(SaludImport {
                id: row.try_get("id")?,
                user_id: row.try_get("user_id")?,
                rows_total: to_u64(row.try_get("rows_total")?, "filas")?,
                rows_done: to_u64(row.try_get("rows_done")?, "filas")?,
                created: to_u64(row.try_get("created")?, "filas")?,
                updated: to_u64(row.try_get("updated")?, "filas")?,
                rejected: row.try_get("rejected")?,
                finished: row.try_get::<Option<i64>, _>("finished_at_ms")?.is_some(),
            })
        })
        .transpose()
    }

    /// Writes the next good rows of import `id` (those after `rows_done`, which must be where
    /// the import stands: two runs of one import cannot both write), creating or updating
    /// each case, in one transaction. False when another run moved the import first.
    pub async fn write_salud_entries(
        &self,
        id: &str,
        rows_done: u64,
        entries: &[CaseEntry],
    ) -> Result<bool, StoreError> {
        const COLUMNS: usize = 20;
        let (_turn, mut transaction) = self.begin_write().await?;
        let mut existing: HashSet<String> = HashSet::new();
        for chunk in entries.chunks(ROWS_PER_STATEMENT) {
            let marks = parameters(chunk.len());
            let query = format!("SELECT id FROM salud_cases WHERE id IN ({marks})");
            let mut statement = sqlx::query_scalar::<_, String>(&query);
            for entry in chunk {
                statement = statement.bind(&entry.id);
            }
            existing.extend(statement.fetch_all(&mut *transaction).await?);
        }
        for chunk in entries.chunks(ROWS_PER_STATEMENT) {
            let query = format!(
                "INSERT INTO salud_cases (id, status, confirmed_on, onset_on, sampled_on, \
                 admitted_on, age, sex, municipality_code, province_code, \
                 residence_municipality_code, source, country, isolation_centre, severity, \
                 outcome, outcome_on, contacts, origin, person_id) VALUES {} \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
                 confirmed_on = excluded.confirmed_on, onset_on = excluded.onset_on, \
                 sampled_on = excluded.sampled_on, admitted_on = excluded.admitted_on, \
                 age = excluded.age, sex = excluded.sex, \
                 municipality_code = excluded.municipality_code, \
                 province_code = excluded.province_code, \
                 residence_municipality_code = excluded.residence_municipality_code, \
                 source = excluded.source, country = excluded.country, \
                 isolation_centre = excluded.isolation_centre, severity = excluded.severity, \
                 outcome = excluded.outcome, outcome_on = excluded.outcome_on, \
                 person_id = COALESCE(excluded.person_id, salud_cases.person_id)",
                placeholders(chunk.len(), COLUMNS)
            );
            let mut statement = sqlx::query(&query);
            for entry in chunk {
                statement = statement
                    .bind(&entry.id)
                    .bind(entry.status)
                    .bind(day_text(entry.confirmed_on))
                    .bind(day_text(entry.onset_on))
                    .bind(day_text(entry.sampled_on))
                    .bind(day_text(entry.admitted_on))
                    .bind(entry.age.map(i64::from))
                    .bind(entry.sex.map(Sex::as_str))
                    .bind(&entry.municipality_code)
                    .bind(&entry.province_code)
                    .bind(entry.residence_municipality_code.as_deref())
                    .bind(entry.source.as_str())
                    .bind(entry.country.as_deref())
                    .bind(entry.isolation_centre.as_deref())
                    .bind(entry.severity)
                    .bind(entry.outcome)
                    .bind(day_text(entry.outcome_on))
                    .bind(None::<i64>)
                    .bind("ceiba")
                    .bind(entry.person_id.as_deref());
            }
            statement.execute(&mut *transaction).await?;
        }
        // A death recorded in a line list is a death of the records, with its comorbidities;
        // a case that is no longer deceased no longer has one.
        let mut not_dead: Vec<String> = Vec::new();
        for entry in entries {
            let death_id = format!("ceiba-{}", entry.id);
            match (entry.outcome, entry.outcome_on) {
                (Some("deceased"), Some(died_on)) => {
                    let comorbidities = serde_json::to_string(&entry.comorbidities)
                        .map_err(|error| StoreError::Corrupt(error.to_string()))?;
                    sqlx::query(
                        "INSERT INTO salud_deaths (id, case_id, died_on, comorbidities) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE \
                         SET died_on = excluded.died_on, comorbidities = excluded.comorbidities",
                    )
                    .bind(&death_id)
                    .bind(&entry.id)
                    .bind(died_on.to_string())
                    .bind(comorbidities)
                    .execute(&mut *transaction)
                    .await?;
                }
                _ => not_dead.push(death_id),
            }
        }
        for chunk in not_dead.chunks(ROWS_PER_STATEMENT) {
            let marks = parameters(chunk.len());
            let query = format!("DELETE FROM salud_deaths WHERE id IN ({marks})");
            let mut statement = sqlx::query(&query);
            for id in chunk {
                statement = statement.bind(id);
            }
            statement.execute(&mut *transaction).await?;
        }
        let updated = entries
            .iter()
            .filter(|entry| existing.contains(&entry.id))
            .count() as u64;
        let created = entries.len() as u64 - updated;
        let moved = sqlx::query(
            "UPDATE salud_imports SET rows_done = rows_done + $1, created = created + $2, \
             updated = updated + $3 WHERE id = $4 AND rows_done = $5 AND finished_at_ms IS NULL",
        )
        .bind(to_i64(entries.len() as u64, "filas")?)
        .bind(to_i64(created, "filas")?)
        .bind(to_i64(updated, "filas")?)
        .bind(id)
        .bind(to_i64(rows_done, "filas")?)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if moved == 0 {
            return Ok(false);
        }
        crate::salud_views::bump_salud_revision(&mut transaction).await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Marks import `id` finished.
    pub async fn finish_salud_import(&self, id: &str, now_ms: i64) -> Result<(), StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        sqlx::query(
            "UPDATE salud_imports SET finished_at_ms = $1 WHERE id = $2 AND finished_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(id)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// The province each of these cases is in now, for those that exist.
    pub async fn salud_case_provinces(
        &self,
        ids: &[&str],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut found = HashMap::new();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let marks = parameters(chunk.len());
            let query = format!("SELECT id, province_code FROM salud_cases WHERE id IN ({marks})");
            let mut statement = sqlx::query(&query);
            for id in chunk {
                statement = statement.bind(*id);
            }
            for row in statement.fetch_all(self.pool()).await? {
                found.insert(row.try_get("id")?, row.try_get("province_code")?);
            }
        }
        Ok(found)
    }
}
