//! Laboratory tests and contacts of cases (`ceiba-surveillance`'s `followup` checks them
//! before they get here).

use sqlx::Row;

use crate::db::Db;
use crate::error::StoreError;
use crate::payments::to_i64;

/// A laboratory test as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabTestRow {
    pub id: String,
    pub case_id: String,
    pub province_code: String,
    /// `pcr`, `antigen`, `serology`.
    pub kind: String,
    pub sampled_on: String,
    /// `pending`, `positive`, `negative`, `inconclusive`.
    pub result: String,
    pub result_on: Option<String>,
    pub laboratory: String,
    pub recorded_by: String,
    pub recorded_at_ms: i64,
}

/// A contact as stored, with the contact person's name for the follow-up list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRow {
    pub id: String,
    pub index_case_id: String,
    pub province_code: String,
    pub person_id: String,
    pub first_contact_on: Option<String>,
    pub last_contact_on: String,
    pub quarantine_end_on: String,
    /// `pending`, `in_quarantine`, `became_case`, `completed`, `lost`.
    pub status: String,
    pub became_case_id: Option<String>,
    pub note: String,
    pub updated_at_ms: i64,
    /// Given names and surnames of the person (read with the contact).
    pub person_name: String,
}

/// Most contacts one follow-up list shows.
pub const CONTACTS_LIST_MAX: u64 = 500;

const CONTACT_SELECT: &str = "SELECT c.id, c.index_case_id, c.province_code, c.person_id, \
     c.first_contact_on, c.last_contact_on, c.quarantine_end_on, c.status, c.became_case_id, \
     c.note, c.updated_at_ms, p.given_names || ' ' || p.surnames AS person_name \
     FROM salud_contacts c JOIN salud_persons p ON p.id = c.person_id";

fn contact(row: &sqlx::any::AnyRow) -> Result<ContactRow, StoreError> {
    Ok(ContactRow {
        id: row.try_get("id")?,
        index_case_id: row.try_get("index_case_id")?,
        province_code: row.try_get("province_code")?,
        person_id: row.try_get("person_id")?,
        first_contact_on: row.try_get("first_contact_on")?,
        last_contact_on: row.try_get("last_contact_on")?,
        quarantine_end_on: row.try_get("quarantine_end_on")?,
        status: row.try_get("status")?,
        became_case_id: row.try_get("became_case_id")?,
        note: row.try_get("note")?,
        updated_at_ms: row.try_get("updated_at_ms")?,
        person_name: row.try_get("person_name")?,
    })
}

impl Db {
    pub async fn add_salud_lab_test(&self, test: &LabTestRow) -> Result<(), StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO salud_lab_tests (id, case_id, province_code, kind, sampled_on, result, \
             result_on, laboratory, recorded_by, recorded_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&test.id)
        .bind(&test.case_id)
        .bind(&test.province_code)
        .bind(&test.kind)
        .bind(&test.sampled_on)
        .bind(&test.result)
        .bind(test.result_on.as_deref())
        .bind(&test.laboratory)
        .bind(&test.recorded_by)
        .bind(test.recorded_at_ms)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// A case's tests, by day of sampling.
    pub async fn salud_lab_tests(&self, case_id: &str) -> Result<Vec<LabTestRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, case_id, province_code, kind, sampled_on, result, result_on, laboratory, \
             recorded_by, recorded_at_ms FROM salud_lab_tests WHERE case_id = $1 \
             ORDER BY sampled_on, recorded_at_ms, id",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(LabTestRow {
                    id: row.try_get("id")?,
                    case_id: row.try_get("case_id")?,
                    province_code: row.try_get("province_code")?,
                    kind: row.try_get("kind")?,
                    sampled_on: row.try_get("sampled_on")?,
                    result: row.try_get("result")?,
                    result_on: row.try_get("result_on")?,
                    laboratory: row.try_get("laboratory")?,
                    recorded_by: row.try_get("recorded_by")?,
                    recorded_at_ms: row.try_get("recorded_at_ms")?,
                })
            })
            .collect()
    }

    /// Adds a contact of a case; false when that person is already its contact.
    pub async fn add_salud_contact(&self, contact: &ContactRow) -> Result<bool, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let added = sqlx::query(
            "INSERT INTO salud_contacts (id, index_case_id, province_code, person_id, \
             first_contact_on, last_contact_on, quarantine_end_on, status, became_case_id, note, \
             updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (index_case_id, person_id) DO NOTHING",
        )
        .bind(&contact.id)
        .bind(&contact.index_case_id)
        .bind(&contact.province_code)
        .bind(&contact.person_id)
        .bind(contact.first_contact_on.as_deref())
        .bind(&contact.last_contact_on)
        .bind(&contact.quarantine_end_on)
        .bind(&contact.status)
        .bind(contact.became_case_id.as_deref())
        .bind(&contact.note)
        .bind(contact.updated_at_ms)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        transaction.commit().await?;
        Ok(added == 1)
    }

    pub async fn salud_contact(&self, id: &str) -> Result<Option<ContactRow>, StoreError> {
        let row = sqlx::query(&format!("{CONTACT_SELECT} WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(contact).transpose()
    }

    /// Moves a contact's follow-up, if it still stands at `from_status` (so two people
    /// updating at once cannot both move it); false otherwise.
    pub async fn update_salud_contact(
        &self,
        id: &str,
        from_status: &str,
        status: &str,
        became_case_id: Option<&str>,
        note: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let moved = sqlx::query(
            "UPDATE salud_contacts SET status = $1, became_case_id = $2, note = $3, \
             updated_at_ms = $4 WHERE id = $5 AND status = $6",
        )
        .bind(status)
        .bind(became_case_id)
        .bind(note)
        .bind(now_ms)
        .bind(id)
        .bind(from_status)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        transaction.commit().await?;
        Ok(moved == 1)
    }

    /// The follow-up list: contacts still followed (pending or in quarantine) in the given
    /// provinces (`None`: all), the quarantine ending soonest first; at most `limit` (capped
    /// at [`CONTACTS_LIST_MAX`]). With `index_case`, that case's contacts in any state.
    pub async fn salud_contacts(
        &self,
        provinces: Option<&[String]>,
        index_case: Option<&str>,
        limit: u64,
    ) -> Result<Vec<ContactRow>, StoreError> {
        let mut conditions = Vec::new();
        let mut values: Vec<&str> = Vec::new();
        match index_case {
            Some(case) => {
                values.push(case);
                conditions.push("c.index_case_id = $1".to_owned());
            }
            None => conditions.push("c.status IN ('pending', 'in_quarantine')".to_owned()),
        }
        if let Some(provinces) = provinces {
            if provinces.is_empty() {
                return Ok(Vec::new());
            }
            conditions.push(crate::salud_views::in_list(
                "c.province_code",
                provinces,
                &mut values,
            ));
        }
        let query = format!(
            "{CONTACT_SELECT} WHERE {} ORDER BY c.quarantine_end_on, c.id LIMIT ${}",
            conditions.join(" AND "),
            values.len() + 1
        );
        let mut statement = sqlx::query(&query);
        for value in values {
            statement = statement.bind(value);
        }
        let rows = statement
            .bind(to_i64(limit.min(CONTACTS_LIST_MAX), "límite")?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(contact).collect()
    }
}
