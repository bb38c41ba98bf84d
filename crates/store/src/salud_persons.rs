//! People of Salud's records: found again by the match rule (`ceiba-surveillance`'s
//! `persons`), listed when they may be one person twice, and merged with their history.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::db::Db;
use crate::error::StoreError;

/// A person as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub id: String,
    pub national_id: Option<String>,
    pub given_names: String,
    pub surnames: String,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub municipality_code: String,
    pub province_code: String,
    pub match_key: Option<String>,
    /// The record this one was merged into.
    pub merged_into: Option<String>,
    pub created_at_ms: i64,
}

/// One merge, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonMerge {
    pub id: String,
    pub survivor_id: String,
    pub merged_id: String,
    pub merged_by: String,
    pub merged_at_ms: i64,
    /// JSON: the merged record as it was and the cases moved.
    pub snapshot: String,
}

/// Why a merge could not be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeRefusal {
    /// One of the two does not exist.
    Missing,
    /// One of the two was merged already (merge into what it carries on as).
    AlreadyMerged,
    /// A record cannot be merged into itself.
    Same,
}

/// Most possible-duplicate groups one read returns.
pub const DUPLICATE_GROUPS_MAX: u64 = 200;

const PERSON_COLUMNS: &str = "id, national_id, given_names, surnames, birth_date, sex, \
     municipality_code, province_code, match_key, merged_into, created_at_ms";

fn person(row: &sqlx::any::AnyRow) -> Result<PersonRow, StoreError> {
    Ok(PersonRow {
        id: row.try_get("id")?,
        national_id: row.try_get("national_id")?,
        given_names: row.try_get("given_names")?,
        surnames: row.try_get("surnames")?,
        birth_date: row.try_get("birth_date")?,
        sex: row.try_get("sex")?,
        municipality_code: row.try_get("municipality_code")?,
        province_code: row.try_get("province_code")?,
        match_key: row.try_get("match_key")?,
        merged_into: row.try_get("merged_into")?,
        created_at_ms: row.try_get("created_at_ms")?,
    })
}

impl Db {
    /// The live records (not merged) with this national id or this match key.
    pub async fn salud_person_candidates(
        &self,
        national_id: Option<&str>,
        match_key: Option<&str>,
    ) -> Result<Vec<PersonRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PERSON_COLUMNS} FROM salud_persons WHERE merged_into IS NULL \
             AND (national_id = $1 OR match_key = $2) ORDER BY created_at_ms, id"
        ))
        .bind(national_id)
        .bind(match_key)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(person).collect()
    }

    /// Stores a new person; false when its national id is taken (another request made it
    /// first: look again).
    pub async fn create_salud_person(&self, person: &PersonRow) -> Result<bool, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let added = sqlx::query(
            "INSERT INTO salud_persons (id, national_id, given_names, surnames, birth_date, \
             sex, municipality_code, province_code, match_key, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        )
        .bind(&person.id)
        .bind(person.national_id.as_deref())
        .bind(&person.given_names)
        .bind(&person.surnames)
        .bind(person.birth_date.as_deref())
        .bind(person.sex.as_deref())
        .bind(&person.municipality_code)
        .bind(&person.province_code)
        .bind(person.match_key.as_deref())
        .bind(person.created_at_ms)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        transaction.commit().await?;
        Ok(added == 1)
    }

    /// Gives a record found by name its national id, when it had none and nobody has it.
    pub async fn set_salud_person_national_id(
        &self,
        id: &str,
        national_id: &str,
    ) -> Result<bool, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let taken = sqlx::query("SELECT 1 AS one FROM salud_persons WHERE national_id = $1")
            .bind(national_id)
            .fetch_optional(&mut *transaction)
            .await?
            .is_some();
        if taken {
            return Ok(false);
        }
        let set = sqlx::query(
            "UPDATE salud_persons SET national_id = $1 WHERE id = $2 AND national_id IS NULL",
        )
        .bind(national_id)
        .bind(id)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        transaction.commit().await?;
        Ok(set == 1)
    }

    pub async fn salud_person(&self, id: &str) -> Result<Option<PersonRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {PERSON_COLUMNS} FROM salud_persons WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(person).transpose()
    }

    /// The ids of a person's cases.
    pub async fn salud_person_cases(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT id FROM salud_cases WHERE person_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|row| Ok(row.try_get("id")?)).collect()
    }

    /// The merges into (or of) a person, oldest first.
    pub async fn salud_person_merges(&self, id: &str) -> Result<Vec<PersonMerge>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, survivor_id, merged_id, merged_by, merged_at_ms, snapshot \
             FROM salud_person_merges WHERE survivor_id = $1 OR merged_id = $1 \
             ORDER BY merged_at_ms, id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PersonMerge {
                    id: row.try_get("id")?,
                    survivor_id: row.try_get("survivor_id")?,
                    merged_id: row.try_get("merged_id")?,
                    merged_by: row.try_get("merged_by")?,
                    merged_at_ms: row.try_get("merged_at_ms")?,
                    snapshot: row.try_get("snapshot")?,
                })
            })
            .collect()
    }

    /// Live records that share a match key with another (possible duplicates), grouped by
    /// key, in the given provinces (`None`: all); at most [`DUPLICATE_GROUPS_MAX`] groups.
    pub async fn salud_person_duplicates(
        &self,
        provinces: Option<&[String]>,
    ) -> Result<Vec<Vec<PersonRow>>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PERSON_COLUMNS} FROM salud_persons p WHERE merged_into IS NULL \
             AND match_key IN (SELECT match_key FROM salud_persons WHERE merged_into IS NULL \
             AND match_key IS NOT NULL GROUP BY match_key HAVING COUNT(*) > 1) \
             ORDER BY match_key, created_at_ms, id"
        ))
        .fetch_all(self.pool())
        .await?;
        let mut groups: BTreeMap<String, Vec<PersonRow>> = BTreeMap::new();
        for row in &rows {
            let row = person(row)?;
            if provinces.is_some_and(|provinces| !provinces.contains(&row.province_code)) {
                continue;
            }
            groups
                .entry(row.match_key.clone().unwrap_or_default())
                .or_default()
                .push(row);
        }
        Ok(groups
            .into_values()
            .filter(|group| group.len() > 1)
            .take(usize::try_from(DUPLICATE_GROUPS_MAX).unwrap_or(usize::MAX))
            .collect())
    }

    /// Merges `merged_id` into `survivor_id` in one transaction: the merged record's cases
    /// move to the survivor, which takes its national id if it had none; the merged record is
    /// kept, pointing at the survivor; the merge is kept with the merged record as it was.
    pub async fn merge_salud_persons(
        &self,
        merge_id: &str,
        survivor_id: &str,
        merged_id: &str,
        merged_by: &str,
        now_ms: i64,
    ) -> Result<Result<PersonMerge, MergeRefusal>, StoreError> {
        if survivor_id == merged_id {
            return Ok(Err(MergeRefusal::Same));
        }
        let (_turn, mut transaction) = self.begin_write().await?;
        let read = format!("SELECT {PERSON_COLUMNS} FROM salud_persons WHERE id = $1");
        let survivor = sqlx::query(&read)
            .bind(survivor_id)
            .fetch_optional(&mut *transaction)
            .await?;
        let merged = sqlx::query(&read)
            .bind(merged_id)
            .fetch_optional(&mut *transaction)
            .await?;
        let (Some(survivor), Some(merged)) = (survivor, merged) else {
            return Ok(Err(MergeRefusal::Missing));
        };
        let (survivor, merged) = (person(&survivor)?, person(&merged)?);
        if survivor.merged_into.is_some() || merged.merged_into.is_some() {
            return Ok(Err(MergeRefusal::AlreadyMerged));
        }
        let cases = sqlx::query("SELECT id FROM salud_cases WHERE person_id = $1 ORDER BY id")
            .bind(merged_id)
            .fetch_all(&mut *transaction)
            .await?
            .iter()
            .map(|row| row.try_get::<String, _>("id"))
            .collect::<Result<Vec<_>, _>>()?;
        sqlx::query("UPDATE salud_cases SET person_id = $1 WHERE person_id = $2")
            .bind(survivor_id)
            .bind(merged_id)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("UPDATE salud_persons SET merged_into = $1, national_id = NULL WHERE id = $2")
            .bind(survivor_id)
            .bind(merged_id)
            .execute(&mut *transaction)
            .await?;
        if survivor.national_id.is_none() && merged.national_id.is_some() {
            sqlx::query("UPDATE salud_persons SET national_id = $1 WHERE id = $2")
                .bind(merged.national_id.as_deref())
                .bind(survivor_id)
                .execute(&mut *transaction)
                .await?;
        }
        let snapshot = serde_json::json!({
            "person": {
                "id": merged.id,
                "national_id": merged.national_id,
                "given_names": merged.given_names,
                "surnames": merged.surnames,
                "birth_date": merged.birth_date,
                "sex": merged.sex,
                "municipality_code": merged.municipality_code,
                "created_at_ms": merged.created_at_ms,
            },
            "cases_moved": cases,
        })
        .to_string();
        sqlx::query(
            "INSERT INTO salud_person_merges (id, survivor_id, merged_id, merged_by, \
             merged_at_ms, snapshot) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(merge_id)
        .bind(survivor_id)
        .bind(merged_id)
        .bind(merged_by)
        .bind(now_ms)
        .bind(&snapshot)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(Ok(PersonMerge {
            id: merge_id.to_owned(),
            survivor_id: survivor_id.to_owned(),
            merged_id: merged_id.to_owned(),
            merged_by: merged_by.to_owned(),
            merged_at_ms: now_ms,
            snapshot,
        }))
    }
}
