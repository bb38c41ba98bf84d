//! Salud's places: isolation and diagnostic centres with the beds their staff report, and
//! transmission events (clusters) with the cases linked to them.

use sqlx::Row;

use crate::db::Db;
use crate::error::StoreError;
use crate::payments::{to_i64, to_u64};

/// A centre as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentreRow {
    /// `isolation` or `diagnosis`.
    pub kind: String,
    pub id: String,
    pub name: String,
    pub province_code: Option<String>,
    /// Beds, and beds taken, as last reported.
    pub capacity: Option<u64>,
    pub occupied: Option<u64>,
    pub reported_at_ms: Option<i64>,
}

/// A transmission event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: String,
    pub place: String,
    pub municipality_code: Option<String>,
    pub province_code: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub open: bool,
}

fn optional_count(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<u64>, StoreError> {
    row.try_get::<Option<i64>, _>(column)?
        .map(|value| to_u64(value, column))
        .transpose()
}

impl Db {
    /// Every centre (of one province, or all), by kind and name.
    pub async fn salud_centres(
        &self,
        province: Option<&str>,
    ) -> Result<Vec<CentreRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, id, name, province_code, capacity, occupied, reported_at_ms \
             FROM salud_centres WHERE ($1 IS NULL OR province_code = $1) ORDER BY kind, name, id",
        )
        .bind(province)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CentreRow {
                    kind: row.try_get("kind")?,
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    province_code: row.try_get("province_code")?,
                    capacity: optional_count(row, "capacity")?,
                    occupied: optional_count(row, "occupied")?,
                    reported_at_ms: row.try_get("reported_at_ms")?,
                })
            })
            .collect()
    }

    /// Records a centre's beds and beds taken; false when there is no such centre.
    pub async fn report_salud_centre(
        &self,
        kind: &str,
        id: &str,
        capacity: u64,
        occupied: u64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let set = sqlx::query(
            "UPDATE salud_centres SET capacity = $1, occupied = $2, reported_at_ms = $3 \
             WHERE kind = $4 AND id = $5",
        )
        .bind(to_i64(capacity, "camas")?)
        .bind(to_i64(occupied, "camas")?)
        .bind(now_ms)
        .bind(kind)
        .bind(id)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        transaction.commit().await?;
        Ok(set == 1)
    }

    pub async fn add_salud_event(&self, event: &EventRow) -> Result<(), StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO salud_events (id, place, municipality_code, province_code, longitude, \
             latitude, open) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&event.id)
        .bind(&event.place)
        .bind(event.municipality_code.as_deref())
        .bind(event.province_code.as_deref())
        .bind(event.longitude)
        .bind(event.latitude)
        .bind(i64::from(event.open))
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    pub async fn salud_event(&self, id: &str) -> Result<Option<EventRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, place, municipality_code, province_code, longitude, latitude, open \
             FROM salud_events WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(EventRow {
                id: row.try_get("id")?,
                place: row.try_get("place")?,
                municipality_code: row.try_get("municipality_code")?,
                province_code: row.try_get("province_code")?,
                longitude: row.try_get("longitude")?,
                latitude: row.try_get("latitude")?,
                open: row.try_get::<i64, _>("open")? != 0,
            })
        })
        .transpose()
    }

    /// Links cases to an event, in one transaction; how many links are new.
    pub async fn link_salud_event_cases(
        &self,
        event_id: &str,
        case_ids: &[String],
        linked_by: &str,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let mut added = 0;
        for case_id in case_ids {
            added += sqlx::query(
                "INSERT INTO salud_event_cases (event_id, case_id, linked_by, linked_at_ms) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(event_id)
            .bind(case_id)
            .bind(linked_by)
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        }
        transaction.commit().await?;
        Ok(added)
    }

    /// The ids of an event's cases.
    pub async fn salud_event_cases(&self, event_id: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT case_id FROM salud_event_cases WHERE event_id = $1 ORDER BY case_id",
        )
        .bind(event_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| Ok(row.try_get("case_id")?)).collect()
    }
}
