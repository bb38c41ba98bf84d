//! `POST /api/v1/salud/imports`: a line list (CSV or JSON, see `ceiba_surveillance::line_list`)
//! sent by a health role creates or updates cases by id. Every row is checked first; refused
//! rows come back with their line and reason, the rest are written 500 to a transaction.
//!
//! - Within the sender's provinces only (the same [`case_scope`] as reads): a row about another
//!   province, or one that would change a case of another province, is refused.
//! - Resumable: the import's id is the hash of the sender and the file, so sending the same
//!   file again goes on after the rows already written (each batch moves the import's progress
//!   in its own transaction) or, once finished, answers the same report and writes nothing.
//! - One audit entry per import (`salud_cases_imported`) with its counts.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use ceiba_audit::{AuditEvent, EventKind};
use ceiba_surveillance::line_list::{self, Context, LineList, RowError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Authenticated;
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::salud_cases::{CaseScope, HealthStaff};

pub const IMPORTS_PATH: &str = "/api/v1/salud/imports";
/// The largest line list taken (100,000 rows fit).
pub const FILE_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Good rows written per transaction.
const ROWS_PER_TRANSACTION: usize = 500;

/// A refused row.
#[derive(Debug, Serialize, ToSchema, serde::Deserialize)]
pub struct RejectedRow {
    /// The CSV line (the header is 1) or the object's position in the JSON array (from 1).
    pub line: u64,
    pub id: Option<String>,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    /// The same file sent again by the same person has the same id.
    pub import_id: String,
    /// Good rows; all of them are written when the answer comes.
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    /// Good rows an earlier, interrupted send of this file had written already.
    pub resumed_from: u64,
    pub rejected: Vec<RejectedRow>,
}

/// The id of the import of `body` by `user_id`.
pub fn import_id(user_id: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(user_id.as_bytes());
    hash.update([0]);
    hash.update(body);
    crate::audit_api::hex(&hash.finalize())
}

fn unprocessable(detail: impl Into<String>) -> ApiError {
    ApiError::with_detail(ErrorCode::ValidationFailed, detail)
}

/// Reads the file and refuses the rows outside the sender's provinces (as they are, and as
/// the cases they would change are).
async fn checked_list(
    state: &AppState,
    scope: &CaseScope,
    json: bool,
    text: &str,
) -> Result<LineList, ApiError> {
    let data = state.salud.current(&state.db).await?;
    let mut list = {
        let provinces: std::collections::HashMap<&str, &str> = data
            .municipalities
            .iter()
            .map(|municipality| {
                (
                    municipality.code.as_str(),
                    municipality.province_code.as_str(),
                )
            })
            .collect();
        let province_of =
            |code: &str| -> Option<String> { provinces.get(code).map(|code| (*code).to_owned()) };
        let context = Context {
            province_of: &province_of,
            today: crate::salud_alerts::cuba_day(state.clock.now_ms()),
        };
        let read = if json {
            line_list::read_json(text, &context)
        } else {
            line_list::read_csv(text, &context)
        };
        read.map_err(|error| unprocessable(error.to_string()))?
    };
    let ids: Vec<&str> = list
        .entries
        .iter()
        .map(|(_, entry)| entry.id.as_str())
        .collect();
    let now_in = state.db.salud_case_provinces(&ids).await?;
    // The persons rows name: each must be a record the sender may read, not merged away.
    let mut persons: std::collections::HashMap<String, Option<String>> =
        std::collections::HashMap::new();
    for (_, entry) in &list.entries {
        if let Some(person) = &entry.person_id
            && !persons.contains_key(person)
        {
            let problem = match state.db.salud_person(person).await? {
                None => Some(format!("persona: no hay ningún registro «{person}»")),
                Some(found) if !scope.allows(&found.province_code) => {
                    Some(format!("persona: no hay ningún registro «{person}»"))
                }
                Some(found) => found.merged_into.map(|survivor| {
                    format!("persona: «{person}» se fusionó con «{survivor}»; use ese")
                }),
            };
            persons.insert(person.clone(), problem);
        }
    }
    let mut kept = Vec::with_capacity(list.entries.len());
    for (line, entry) in std::mem::take(&mut list.entries) {
        let person_problem = entry
            .person_id
            .as_ref()
            .and_then(|person| persons.get(person).cloned().flatten());
        let outside = if let Some(problem) = person_problem {
            Some(problem)
        } else if !scope.allows(&entry.province_code) {
            Some(format!(
                "municipio: {} no es de sus provincias",
                entry.municipality_code
            ))
        } else {
            now_in
                .get(&entry.id)
                .filter(|province| !scope.allows(province))
                .map(|_| "el caso ya existe en otra provincia, que no es de las suyas".to_owned())
        };
        match outside {
            Some(reason) => list.errors.push(RowError {
                line,
                id: Some(entry.id),
                reason,
            }),
            None => kept.push((line, entry)),
        }
    }
    list.entries = kept;
    list.errors.sort_by_key(|error| error.line);
    Ok(list)
}

/// Creates or updates cases from a line list; refused rows come back with line and reason.
#[utoipa::path(post, path = "/api/v1/salud/imports", tag = "salud",
    security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv", description = "id,estado,fecha_confirmacion,… (o una lista JSON de objetos con las mismas claves)"),
    responses(
        (status = 200, description = "Filas buenas escritas; las rechazadas, con su línea y motivo", body = ImportReport),
        (status = 403, description = "No es personal de salud", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "El mismo archivo se está importando ahora", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Archivo demasiado grande", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Ni text/csv ni application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Archivo ilegible: vacío, sin las columnas, JSON mal formado", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import(
    HealthStaff { who, scope }: HealthStaff,
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<ImportReport>, ApiError> {
    let media = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    let json = match media.as_deref() {
        Some("text/csv") => false,
        Some("application/json") => true,
        _ => {
            return Err(ApiError::with_detail(
                ErrorCode::UnsupportedMediaType,
                "se espera Content-Type: text/csv o application/json",
            ));
        }
    };
    let body = Bytes::from_request(request, &state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::PayloadTooLarge)
            } else {
                ApiError::with_detail(ErrorCode::BadRequest, rejection.body_text())
            }
        })?;
    let text =
        std::str::from_utf8(&body).map_err(|_| unprocessable("el archivo no está en UTF-8"))?;
    Ok(Json(import_text(&state, &who, &scope, json, text).await?))
}

/// Checks and writes a line list of `who` (the API's body, or a page's one-row form): the
/// same text again resumes, or answers the same report.
pub(crate) async fn import_text(
    state: &AppState,
    who: &Authenticated,
    scope: &CaseScope,
    json: bool,
    text: &str,
) -> Result<ImportReport, ApiError> {
    let list = checked_list(state, scope, json, text).await?;
    let rejected: Vec<RejectedRow> = list
        .errors
        .into_iter()
        .map(|error| RejectedRow {
            line: error.line,
            id: error.id,
            reason: error.reason,
        })
        .collect();
    let id = import_id(&who.user.id, text.as_bytes());
    let now_ms = state.clock.now_ms();
    let rejected_json = serde_json::to_string(&rejected)
        .map_err(|error| ApiError::with_detail(ErrorCode::Internal, error.to_string()))?;
    let begun = state
        .db
        .begin_salud_import(
            &id,
            &who.user.id,
            list.entries.len() as u64,
            &rejected_json,
            now_ms,
        )
        .await?;
    let resumed_from = begun.rows_done;
    if !begun.finished {
        let entries: Vec<_> = list.entries.into_iter().map(|(_, entry)| entry).collect();
        let mut done = begun.rows_done;
        let start = usize::try_from(done)
            .unwrap_or(usize::MAX)
            .min(entries.len());
        for chunk in entries[start..].chunks(ROWS_PER_TRANSACTION) {
            if !state.db.write_salud_entries(&id, done, chunk).await? {
                return Err(ApiError::with_detail(
                    ErrorCode::Conflict,
                    "este mismo archivo se está importando ahora; espere a que termine",
                ));
            }
            done += chunk.len() as u64;
        }
        state
            .db
            .finish_salud_import(&id, state.clock.now_ms())
            .await?;
    }
    let finished = state
        .db
        .salud_import(&id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Internal))?;
    if !begun.finished {
        crate::accounts::audit(
            state,
            AuditEvent::new(EventKind::CasesImported, state.clock.now_ms())
                .actor(&who.user.id)
                .subject(&id)
                .detail("created", finished.created.to_string())
                .detail("updated", finished.updated.to_string())
                .detail("rejected", rejected.len().to_string()),
        )
        .await;
    }
    Ok(ImportReport {
        import_id: id,
        rows: finished.rows_total,
        created: finished.created,
        updated: finished.updated,
        resumed_from,
        // The refusals as the first send found them: the same file, the same answer.
        rejected: serde_json::from_str(&finished.rejected).unwrap_or(rejected),
    })
}
