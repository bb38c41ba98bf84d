//! What Salud's dashboards, alerts and access rules read and write: aggregate counts (never
//! case rows), the revision that says when they changed, the provinces health staff work in,
//! and outbreak alerts with the messages that tell epidemiologists of them.

use sqlx::Row;

use crate::db::Db;
use crate::error::StoreError;
use crate::payments::{to_i64, to_u64};

/// How many cases (or deaths) one municipality had one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCount {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub municipality_code: String,
    pub count: u64,
}

/// How many confirmed cases of one municipality share an age band, a sex and a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileCount {
    pub municipality_code: String,
    /// Decades of age, `0` (0–9) … `8` (80 and over); `None` when the age is unknown.
    pub age_band: Option<u8>,
    /// `female`, `male`, or `None`.
    pub sex: Option<String>,
    /// `imported`, `introduced`, `autochthonous`, `unknown`.
    pub source: String,
    pub count: u64,
}

/// A way to split the confirmed cases into groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseDimension {
    /// Decades of age: `0` (0–9) … `8` (80 and over), `-1` unknown.
    AgeBand,
    /// `female`, `male`, `unknown`.
    Sex,
    /// `imported`, `introduced`, `autochthonous`, `unknown`.
    Source,
}

/// Where the cases counted were detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseArea<'a> {
    Nation,
    /// By DPA code: `23`.
    Province(&'a str),
    /// By DPA code: `23.04`.
    Municipality(&'a str),
}

/// How many confirmed cases of one group one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDayCount {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// The group as [`CaseDimension`] names it.
    pub group: String,
    pub count: u64,
}

/// The national figures of one day as the source published them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalDay {
    pub day: String,
    pub confirmed: u64,
    /// Tests to date (cumulative).
    pub tests_total: Option<u64>,
    /// That day's recoveries, deaths and evacuations; patients serious and critical that day.
    pub recovered: Option<u64>,
    pub deaths: Option<u64>,
    pub serious: Option<u64>,
    pub critical: Option<u64>,
    pub evacuated: Option<u64>,
}

/// An outbreak signal as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    pub municipality_code: String,
    pub province_code: String,
    pub day: String,
    /// `ears_c1`, `ears_c2`, `ears_c3`, `incidence_14d`.
    pub method: String,
    pub cases: u64,
    pub value: f64,
    pub threshold: f64,
    /// What crossed which threshold, in Spanish.
    pub explanation: String,
}

/// Most alerts one read returns.
pub const ALERTS_READ_MAX: u64 = 500;

fn day_counts(rows: &[sqlx::any::AnyRow]) -> Result<Vec<DayCount>, StoreError> {
    rows.iter()
        .map(|row| {
            Ok(DayCount {
                day: row.try_get("day")?,
                municipality_code: row.try_get("municipality_code")?,
                count: to_u64(row.try_get("n")?, "casos")?,
            })
        })
        .collect()
}

fn optional(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<u64>, StoreError> {
    row.try_get::<Option<i64>, _>(column)?
        .map(|value| to_u64(value, column))
        .transpose()
}

/// `column IN ($n, …)` over `items`, each a parameter numbered after those in `values`, where
/// it is added.
pub(crate) fn in_list<'a>(column: &str, items: &'a [String], values: &mut Vec<&'a str>) -> String {
    let marks: Vec<String> = items
        .iter()
        .map(|item| {
            values.push(item);
            format!("${}", values.len())
        })
        .collect();
    format!("{column} IN ({})", marks.join(", "))
}

/// Raises the revision of Salud's records, inside the transaction that changes them.
pub(crate) async fn bump_salud_revision(
    transaction: &mut sqlx::Transaction<'static, sqlx::Any>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE salud_revision SET revision = revision + 1 WHERE id = 1")
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

impl Db {
    /// The revision of cases and deaths: it moves with every write to them.
    pub async fn salud_revision(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT revision FROM salud_revision WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        to_u64(row.try_get("revision")?, "revisión")
    }

    /// Confirmed cases by day of confirmation and municipality of detection.
    pub async fn salud_confirmed_by_day(&self) -> Result<Vec<DayCount>, StoreError> {
        let rows = sqlx::query(
            "SELECT confirmed_on AS day, municipality_code, COUNT(*) AS n FROM salud_cases \
             WHERE status = 'confirmed' AND confirmed_on IS NOT NULL \
             GROUP BY confirmed_on, municipality_code",
        )
        .fetch_all(self.pool())
        .await?;
        day_counts(&rows)
    }

    /// Deaths of confirmed cases by day and municipality of detection.
    pub async fn salud_deaths_by_day(&self) -> Result<Vec<DayCount>, StoreError> {
        let rows = sqlx::query(
            "SELECT outcome_on AS day, municipality_code, COUNT(*) AS n FROM salud_cases \
             WHERE status = 'confirmed' AND outcome = 'deceased' AND outcome_on IS NOT NULL \
             GROUP BY outcome_on, municipality_code",
        )
        .fetch_all(self.pool())
        .await?;
        day_counts(&rows)
    }

    /// Confirmed cases by municipality, age band, sex and source.
    pub async fn salud_case_profiles(&self) -> Result<Vec<ProfileCount>, StoreError> {
        let rows = sqlx::query(
            "SELECT municipality_code, \
             CASE WHEN age IS NULL THEN -1 WHEN age >= 80 THEN 8 ELSE age / 10 END AS band, \
             sex, source, COUNT(*) AS n FROM salud_cases WHERE status = 'confirmed' \
             GROUP BY municipality_code, \
             CASE WHEN age IS NULL THEN -1 WHEN age >= 80 THEN 8 ELSE age / 10 END, sex, source",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let band: i64 = row.try_get("band")?;
                Ok(ProfileCount {
                    municipality_code: row.try_get("municipality_code")?,
                    age_band: u8::try_from(band).ok(),
                    sex: row.try_get("sex")?,
                    source: row.try_get("source")?,
                    count: to_u64(row.try_get("n")?, "casos")?,
                })
            })
            .collect()
    }

    /// Confirmed cases of an area by day of confirmation and group of `dimension`.
    pub async fn salud_confirmed_by_day_and_group(
        &self,
        dimension: CaseDimension,
        area: CaseArea<'_>,
    ) -> Result<Vec<GroupDayCount>, StoreError> {
        let group = match dimension {
            CaseDimension::AgeBand => {
                "CAST(CASE WHEN age IS NULL THEN -1 WHEN age >= 80 THEN 8 ELSE age / 10 END \
                 AS TEXT)"
            }
            CaseDimension::Sex => "COALESCE(sex, 'unknown')",
            CaseDimension::Source => "source",
        };
        let (filter, code) = match area {
            CaseArea::Nation => ("", None),
            CaseArea::Province(code) => (" AND province_code = $1", Some(code)),
            CaseArea::Municipality(code) => (" AND municipality_code = $1", Some(code)),
        };
        let sql = format!(
            "SELECT confirmed_on AS day, {group} AS grp, COUNT(*) AS n FROM salud_cases \
             WHERE status = 'confirmed' AND confirmed_on IS NOT NULL{filter} \
             GROUP BY confirmed_on, {group} ORDER BY confirmed_on"
        );
        let mut query = sqlx::query(&sql);
        if let Some(code) = code {
            query = query.bind(code);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(GroupDayCount {
                    day: row.try_get("day")?,
                    group: row.try_get("grp")?,
                    count: to_u64(row.try_get("n")?, "casos")?,
                })
            })
            .collect()
    }

    /// The national series as published, in day order.
    pub async fn salud_national_days(&self) -> Result<Vec<NationalDay>, StoreError> {
        let rows = sqlx::query(
            "SELECT day, confirmed, tests_total, recovered, deaths, serious, critical, evacuated \
             FROM salud_daily_national ORDER BY day",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(NationalDay {
                    day: row.try_get("day")?,
                    confirmed: to_u64(row.try_get("confirmed")?, "confirmados")?,
                    tests_total: optional(row, "tests_total")?,
                    recovered: optional(row, "recovered")?,
                    deaths: optional(row, "deaths")?,
                    serious: optional(row, "serious")?,
                    critical: optional(row, "critical")?,
                    evacuated: optional(row, "evacuated")?,
                })
            })
            .collect()
    }

    /// Every province's (`provinces`) or municipality's boundary: code and GeoJSON
    /// coordinates text, in code order.
    pub async fn salud_boundaries(
        &self,
        provinces: bool,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let table = if provinces {
            "salud_provinces"
        } else {
            "salud_municipalities"
        };
        let rows = sqlx::query(&format!("SELECT code, boundary FROM {table} ORDER BY code"))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("code")?, row.try_get("boundary")?)))
            .collect()
    }

    /// Replaces the provinces a person works in; false when there is no such person. Unknown
    /// province codes are refused by the database.
    pub async fn set_salud_staff_provinces(
        &self,
        user_id: &str,
        provinces: &[String],
    ) -> Result<bool, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let exists = sqlx::query("SELECT 1 AS one FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *transaction)
            .await?
            .is_some();
        if !exists {
            return Ok(false);
        }
        sqlx::query("DELETE FROM salud_staff_provinces WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *transaction)
            .await?;
        for province in provinces {
            sqlx::query(
                "INSERT INTO salud_staff_provinces (user_id, province_code) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(province)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(true)
    }

    /// The provinces a person works in, in code order.
    pub async fn salud_staff_provinces(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT province_code FROM salud_staff_provinces WHERE user_id = $1 \
             ORDER BY province_code",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok(row.try_get("province_code")?))
            .collect()
    }

    /// Stores the alerts not stored before and, in the same transaction, queues one SMS per
    /// new alert about a day from `notify_from_day` on to every epidemiologist working in its
    /// province. How many alerts were new.
    pub async fn record_salud_alerts(
        &self,
        alerts: &[AlertRow],
        notify_from_day: &str,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let mut added = 0;
        for alert in alerts {
            let new = sqlx::query(
                "INSERT INTO salud_alerts (municipality_code, province_code, day, method, cases, \
                 value, threshold, explanation, detected_at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (municipality_code, day, method) DO NOTHING",
            )
            .bind(&alert.municipality_code)
            .bind(&alert.province_code)
            .bind(&alert.day)
            .bind(&alert.method)
            .bind(to_i64(alert.cases, "casos")?)
            .bind(alert.value)
            .bind(alert.threshold)
            .bind(&alert.explanation)
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            added += new;
            if new == 0 || alert.day.as_str() < notify_from_day {
                continue;
            }
            let phones = sqlx::query(
                "SELECT u.phone FROM salud_staff_provinces s \
                 JOIN user_roles r ON r.user_id = s.user_id AND r.role = 'epidemiologist' \
                 JOIN users u ON u.id = s.user_id WHERE s.province_code = $1 ORDER BY u.phone",
            )
            .bind(&alert.province_code)
            .fetch_all(&mut *transaction)
            .await?;
            let text = format!("Ceiba Salud, alerta: {}", alert.explanation);
            for row in &phones {
                let phone: String = row.try_get("phone")?;
                crate::identity::queue_sms_in(&mut transaction, &phone, &text, now_ms).await?;
            }
        }
        transaction.commit().await?;
        Ok(added)
    }

    /// Alerts from `since_day` on, newest first, in one province (`Some((code, true))`), one
    /// municipality (`false`) or everywhere; at most `limit` (capped at [`ALERTS_READ_MAX`]).
    pub async fn salud_alerts(
        &self,
        area: Option<(&str, bool)>,
        since_day: &str,
        limit: u64,
    ) -> Result<Vec<AlertRow>, StoreError> {
        let filter = match area {
            None => "",
            Some((_, true)) => "AND province_code = $3",
            Some((_, false)) => "AND municipality_code = $3",
        };
        let query = format!(
            "SELECT municipality_code, province_code, day, method, cases, value, threshold, \
             explanation FROM salud_alerts WHERE day >= $1 {filter} \
             ORDER BY day DESC, municipality_code, method LIMIT $2"
        );
        let mut statement = sqlx::query(&query)
            .bind(since_day)
            .bind(to_i64(limit.min(ALERTS_READ_MAX), "límite")?);
        if let Some((code, _)) = area {
            statement = statement.bind(code);
        }
        let rows = statement.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(AlertRow {
                    municipality_code: row.try_get("municipality_code")?,
                    province_code: row.try_get("province_code")?,
                    day: row.try_get("day")?,
                    method: row.try_get("method")?,
                    cases: to_u64(row.try_get("cases")?, "casos")?,
                    value: row.try_get("value")?,
                    threshold: row.try_get("threshold")?,
                    explanation: row.try_get("explanation")?,
                })
            })
            .collect()
    }
}

/// A case record as health roles read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRecord {
    pub id: String,
    /// `suspected`, `probable`, `confirmed`, `discarded`.
    pub status: String,
    pub confirmed_on: Option<String>,
    pub country: Option<String>,
    pub age: Option<u64>,
    pub sex: Option<String>,
    pub municipality_code: String,
    pub province_code: String,
    pub source: String,
    pub consulted_on: Option<String>,
    pub arrived_on: Option<String>,
    pub isolation_centre: Option<String>,
    pub diagnostic_centre: Option<String>,
    pub contacts: Option<u64>,
    pub outcome: Option<String>,
    pub outcome_on: Option<String>,
    pub onset_on: Option<String>,
    pub sampled_on: Option<String>,
    pub admitted_on: Option<String>,
    pub residence_municipality_code: Option<String>,
    /// `stable`, `serious`, `critical`.
    pub severity: Option<String>,
    /// The person's record.
    pub person_id: Option<String>,
}

/// Which cases a list shows. Every field narrows it; `provinces` is the reader's scope (a
/// health worker's provinces), applied before anything else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    /// `None`: every province.
    pub provinces: Option<Vec<String>>,
    pub province: Option<String>,
    pub municipality: Option<String>,
    /// Confirmed from and to these days (`YYYY-MM-DD`), inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    pub source: Option<String>,
    pub sex: Option<String>,
    pub status: Option<String>,
}

/// Most cases one page lists.
pub const CASES_PAGE_MAX: u64 = 200;

const CASE_COLUMNS: &str = "id, status, confirmed_on, country, age, sex, municipality_code, \
     province_code, source, consulted_on, arrived_on, isolation_centre, diagnostic_centre, \
     contacts, outcome, outcome_on, onset_on, sampled_on, admitted_on, \
     residence_municipality_code, severity, person_id";

fn case_record(row: &sqlx::any::AnyRow) -> Result<CaseRecord, StoreError> {
    Ok(CaseRecord {
        id: row.try_get("id")?,
        status: row.try_get("status")?,
        confirmed_on: row.try_get("confirmed_on")?,
        country: row.try_get("country")?,
        age: optional(row, "age")?,
        sex: row.try_get("sex")?,
        municipality_code: row.try_get("municipality_code")?,
        province_code: row.try_get("province_code")?,
        source: row.try_get("source")?,
        consulted_on: row.try_get("consulted_on")?,
        arrived_on: row.try_get("arrived_on")?,
        isolation_centre: row.try_get("isolation_centre")?,
        diagnostic_centre: row.try_get("diagnostic_centre")?,
        contacts: optional(row, "contacts")?,
        outcome: row.try_get("outcome")?,
        outcome_on: row.try_get("outcome_on")?,
        onset_on: row.try_get("onset_on")?,
        sampled_on: row.try_get("sampled_on")?,
        admitted_on: row.try_get("admitted_on")?,
        residence_municipality_code: row.try_get("residence_municipality_code")?,
        severity: row.try_get("severity")?,
        person_id: row.try_get("person_id")?,
    })
}

impl Db {
    /// A page of cases, newest confirmation first: at most `limit` (capped at
    /// [`CASES_PAGE_MAX`]) after skipping `offset`.
    pub async fn salud_cases(
        &self,
        filter: &CaseFilter,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<CaseRecord>, StoreError> {
        let mut conditions: Vec<String> = Vec::new();
        let mut values: Vec<&str> = Vec::new();
        // Conditions in a fixed shape, each value a parameter.
        if let Some(provinces) = &filter.provinces {
            if provinces.is_empty() {
                return Ok(Vec::new());
            }
            conditions.push(in_list("province_code", provinces, &mut values));
        }
        for (column, operator, value) in [
            ("province_code", "=", &filter.province),
            ("municipality_code", "=", &filter.municipality),
            ("confirmed_on", ">=", &filter.from),
            ("confirmed_on", "<=", &filter.to),
            ("source", "=", &filter.source),
            ("sex", "=", &filter.sex),
            ("status", "=", &filter.status),
        ] {
            if let Some(value) = value {
                values.push(value);
                conditions.push(format!("{column} {operator} ${}", values.len()));
            }
        }
        let clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let query = format!(
            "SELECT {CASE_COLUMNS} FROM salud_cases {clause} \
             ORDER BY confirmed_on DESC, id LIMIT ${} OFFSET ${}",
            values.len() + 1,
            values.len() + 2
        );
        let mut statement = sqlx::query(&query);
        for value in values {
            statement = statement.bind(value);
        }
        let rows = statement
            .bind(to_i64(limit.min(CASES_PAGE_MAX), "límite")?)
            .bind(to_i64(offset, "desplazamiento")?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(case_record).collect()
    }

    /// One case by its id.
    pub async fn salud_case(&self, id: &str) -> Result<Option<CaseRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM salud_cases WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(case_record).transpose()
    }
}
