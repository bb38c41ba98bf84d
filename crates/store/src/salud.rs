//! Salud's tables: the geography every count and rate stands on.

use ceiba_surveillance::covid19cubadata::{Case, Centre, Date, DayFigures, Death, Event, Sex};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;
use crate::error::StoreError;
use crate::payments::{to_i64, to_u64};

/// A province or municipality as stored (the boundary as GeoJSON coordinates text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaRow {
    pub code: String,
    /// For a municipality, its province; for a province, itself.
    pub province_code: String,
    pub name: String,
    pub population: u64,
    pub boundary: String,
}

/// A province or municipality as read back: everything but its boundary, which only the maps
/// need (a province's is hundreds of kilobytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Area {
    pub code: String,
    /// For a municipality, its province; for a province, itself.
    pub province_code: String,
    pub name: String,
    pub population: u64,
}

/// What loading the geography changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GeographyLoad {
    pub provinces_changed: u64,
    pub municipalities_changed: u64,
}

fn area(row: &AnyRow) -> Result<Area, StoreError> {
    Ok(Area {
        code: row.try_get("code")?,
        province_code: row.try_get("province_code")?,
        name: row.try_get("name")?,
        population: to_u64(row.try_get("population")?, "población")?,
    })
}

impl Db {
    /// Writes provinces and municipalities in one transaction: new ones are added, changed ones
    /// updated, the same ones left alone (loading twice changes nothing).
    pub async fn load_geography(
        &self,
        provinces: &[AreaRow],
        municipalities: &[AreaRow],
    ) -> Result<GeographyLoad, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let mut load = GeographyLoad::default();
        for province in provinces {
            load.provinces_changed += sqlx::query(
                "INSERT INTO salud_provinces (code, name, population, boundary) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO UPDATE \
                 SET name = excluded.name, population = excluded.population, \
                 boundary = excluded.boundary \
                 WHERE salud_provinces.name <> excluded.name \
                 OR salud_provinces.population <> excluded.population \
                 OR salud_provinces.boundary <> excluded.boundary",
            )
            .bind(&province.code)
            .bind(&province.name)
            .bind(to_i64(province.population, "población")?)
            .bind(&province.boundary)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        }
        for municipality in municipalities {
            load.municipalities_changed += sqlx::query(
                "INSERT INTO salud_municipalities (code, province_code, name, population, \
                 boundary) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE \
                 SET province_code = excluded.province_code, name = excluded.name, \
                 population = excluded.population, boundary = excluded.boundary \
                 WHERE salud_municipalities.province_code <> excluded.province_code \
                 OR salud_municipalities.name <> excluded.name \
                 OR salud_municipalities.population <> excluded.population \
                 OR salud_municipalities.boundary <> excluded.boundary",
            )
            .bind(&municipality.code)
            .bind(&municipality.province_code)
            .bind(&municipality.name)
            .bind(to_i64(municipality.population, "población")?)
            .bind(&municipality.boundary)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        }
        if load.provinces_changed + load.municipalities_changed > 0 {
            crate::salud_views::bump_salud_revision(&mut transaction).await?;
        }
        transaction.commit().await?;
        Ok(load)
    }

    /// The provinces, in code order.
    pub async fn salud_provinces(&self) -> Result<Vec<Area>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, code AS province_code, name, population \
             FROM salud_provinces ORDER BY code",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(area).collect()
    }

    /// The municipalities, in code order.
    pub async fn salud_municipalities(&self) -> Result<Vec<Area>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, province_code, name, population \
             FROM salud_municipalities ORDER BY code",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(area).collect()
    }

    /// The province with `code` (`true`), or else the municipality (`false`).
    pub async fn salud_area(&self, code: &str) -> Result<Option<(Area, bool)>, StoreError> {
        let province = sqlx::query(
            "SELECT code, code AS province_code, name, population \
             FROM salud_provinces WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(self.pool())
        .await?;
        if let Some(row) = province {
            return Ok(Some((area(&row)?, true)));
        }
        let municipality = sqlx::query(
            "SELECT code, province_code, name, population \
             FROM salud_municipalities WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(self.pool())
        .await?;
        municipality.map(|row| Ok((area(&row)?, false))).transpose()
    }
}

/// Rows written per statement by the importers.
const IMPORT_ROWS_PER_STATEMENT: usize = 200;

pub(crate) fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| {
            let cells = (1..=columns)
                .map(|column| format!("${}", row * columns + column))
                .collect::<Vec<_>>()
                .join(", ");
            format!("({cells})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn day_text(date: Option<Date>) -> Option<String> {
    date.map(|date| date.to_string())
}

fn count(value: Option<u64>, what: &str) -> Result<Option<i64>, StoreError> {
    value.map(|value| to_i64(value, what)).transpose()
}

/// What an import added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub cases_added: u64,
    pub deaths_added: u64,
    pub days_added: u64,
}

impl Db {
    /// Adds the cases whose id is new, in one transaction; a case already there is left as it
    /// is (the same id is the same record). How many were added.
    pub async fn import_salud_cases(
        &self,
        cases: &[Case],
        origin: &str,
    ) -> Result<u64, StoreError> {
        const COLUMNS: usize = 16;
        let (_turn, mut transaction) = self.begin_write().await?;
        let mut added = 0;
        for chunk in cases.chunks(IMPORT_ROWS_PER_STATEMENT) {
            let query = format!(
                "INSERT INTO salud_cases (id, status, confirmed_on, country, age, sex, \
                 municipality_code, province_code, source, consulted_on, arrived_on, \
                 isolation_centre, diagnostic_centre, contacts, outcome, origin) VALUES {} \
                 ON CONFLICT (id) DO NOTHING",
                placeholders(chunk.len(), COLUMNS)
            );
            let mut statement = sqlx::query(&query);
            for case in chunk {
                statement = statement
                    .bind(&case.id)
                    .bind("confirmed")
                    .bind(case.confirmed_on.to_string())
                    .bind(case.country.as_deref())
                    .bind(case.age.map(i64::from))
                    .bind(case.sex.map(Sex::as_str))
                    .bind(&case.municipality_code)
                    .bind(&case.province_code)
                    .bind(case.source.as_str())
                    .bind(day_text(case.consulted_on))
                    .bind(day_text(case.arrived_on))
                    .bind(case.isolation_centre.as_deref())
                    .bind(case.diagnostic_centre.as_deref())
                    .bind(case.contacts.map(i64::from))
                    .bind(None::<String>)
                    .bind(origin);
            }
            added += statement.execute(&mut *transaction).await?.rows_affected();
        }
        if added > 0 {
            crate::salud_views::bump_salud_revision(&mut transaction).await?;
        }
        transaction.commit().await?;
        Ok(added)
    }

    /// Adds the deaths whose id is new and marks their cases deceased, in one transaction.
    pub async fn import_salud_deaths(&self, deaths: &[Death]) -> Result<u64, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let mut added = 0;
        for chunk in deaths.chunks(IMPORT_ROWS_PER_STATEMENT) {
            let query = format!(
                "INSERT INTO salud_deaths (id, case_id, died_on, comorbidities) VALUES {} \
                 ON CONFLICT (id) DO NOTHING",
                placeholders(chunk.len(), 4)
            );
            let mut statement = sqlx::query(&query);
            for death in chunk {
                let comorbidities = serde_json::to_string(&death.comorbidities)
                    .map_err(|error| StoreError::Corrupt(error.to_string()))?;
                statement = statement
                    .bind(&death.id)
                    .bind(death.case_id.as_deref())
                    .bind(death.died_on.to_string())
                    .bind(comorbidities);
            }
            added += statement.execute(&mut *transaction).await?.rows_affected();
        }
        let marked = sqlx::query(
            "UPDATE salud_cases SET outcome = 'deceased', outcome_on = \
             (SELECT MIN(d.died_on) FROM salud_deaths d WHERE d.case_id = salud_cases.id) \
             WHERE outcome IS NULL AND id IN (SELECT case_id FROM salud_deaths \
             WHERE case_id IS NOT NULL)",
        )
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if added > 0 || marked > 0 {
            crate::salud_views::bump_salud_revision(&mut transaction).await?;
        }
        transaction.commit().await?;
        Ok(added)
    }

    /// Adds the days of the national series not yet there, with the centres and events.
    pub async fn import_salud_series(
        &self,
        days: &[DayFigures],
        centres: &[Centre],
        events: &[Event],
    ) -> Result<u64, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let mut added = 0;
        for day in days {
            let Some(date) = day.date else { continue };
            added += sqlx::query(
                "INSERT INTO salud_daily_national (day, confirmed, tests_total, recovered, \
                 deaths, serious, critical, evacuated, asymptomatic, at_risk) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (day) DO NOTHING",
            )
            .bind(date.to_string())
            .bind(to_i64(day.confirmed, "confirmados")?)
            .bind(count(day.tests_total, "pruebas")?)
            .bind(count(day.recovered, "altas")?)
            .bind(count(day.deaths, "fallecidos")?)
            .bind(count(day.serious, "graves")?)
            .bind(count(day.critical, "críticos")?)
            .bind(count(day.evacuated, "evacuados")?)
            .bind(count(day.asymptomatic, "asintomáticos")?)
            .bind(count(day.at_risk, "en vigilancia")?)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        }
        for centre in centres {
            sqlx::query(
                "INSERT INTO salud_centres (kind, id, name, province_code) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (kind, id) DO NOTHING",
            )
            .bind(centre.kind)
            .bind(&centre.id)
            .bind(&centre.name)
            .bind(centre.province_code.as_deref())
            .execute(&mut *transaction)
            .await?;
        }
        for event in events {
            sqlx::query(
                "INSERT INTO salud_events (id, place, municipality_code, province_code, \
                 longitude, latitude, open) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (id) DO NOTHING",
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
        }
        if added > 0 {
            crate::salud_views::bump_salud_revision(&mut transaction).await?;
        }
        transaction.commit().await?;
        Ok(added)
    }

    /// Keeps the report of an import.
    pub async fn record_salud_import(
        &self,
        id: &str,
        source: &str,
        counts: ImportCounts,
        report: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO salud_import_reports (id, source, imported_at_ms, cases_added, \
             deaths_added, days_added, report) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(source)
        .bind(now_ms)
        .bind(to_i64(counts.cases_added, "casos")?)
        .bind(to_i64(counts.deaths_added, "fallecidos")?)
        .bind(to_i64(counts.days_added, "días")?)
        .bind(report)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Each day of the national series: the cases it says were confirmed, and the cases stored
    /// as confirmed that day.
    pub async fn salud_series_against_cases(&self) -> Result<Vec<(String, u64, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.day, d.confirmed, (SELECT COUNT(*) FROM salud_cases c \
             WHERE c.confirmed_on = d.day) AS stored FROM salud_daily_national d ORDER BY d.day",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("day")?,
                    to_u64(row.try_get("confirmed")?, "confirmados")?,
                    to_u64(row.try_get("stored")?, "casos")?,
                ))
            })
            .collect()
    }

    /// How many cases, deaths and days of the national series are stored.
    pub async fn salud_counts(&self) -> Result<ImportCounts, StoreError> {
        let count = |table: &'static str| async move {
            let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
                .fetch_one(self.pool())
                .await?;
            to_u64(row.try_get("n")?, "filas")
        };
        Ok(ImportCounts {
            cases_added: count("salud_cases").await?,
            deaths_added: count("salud_deaths").await?,
            days_added: count("salud_daily_national").await?,
        })
    }
}
