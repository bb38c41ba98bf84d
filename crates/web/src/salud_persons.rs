//! Salud's people, one record each (health roles only, within their provinces, every read
//! audited, as cases — see `salud_cases.rs`):
//!
//! - `POST /api/v1/salud/persons`: records a person, or finds the record they already have by
//!   the match rule (`ceiba_surveillance::persons`: national id, else names and date of birth)
//!   and answers it, saying by which rule (200), instead of making a second (201 when new);
//! - `GET /api/v1/salud/persons/{id}`: the record, its cases and its merges;
//! - `GET /api/v1/salud/persons/duplicates`: records that share names and date of birth;
//! - `POST /api/v1/salud/persons/{id}/merge` `{"duplicate_id": …}`: joins the duplicate into
//!   this record (its cases move here; it is kept, pointing here, with the merge's history).
//!
//! Cases name their person with the line list's `persona` column.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use ceiba_audit::{AuditEvent, EventKind};
use ceiba_identity::{CalendarDate, NationalId};
use ceiba_store::{MergeRefusal, PersonRow};
use ceiba_surveillance::covid19cubadata::Date;
use ceiba_surveillance::persons::{Candidate, find_match, match_key};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Authenticated;
use crate::json::ApiJson;
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::salud_cases::{CaseScope, HealthStaff};

/// Longest name kept, in characters.
const NAME_CHARS_MAX: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// The carné de identidad, 11 digits, when known.
    pub national_id: Option<String>,
    pub given_names: String,
    pub surnames: String,
    /// `YYYY-MM-DD`; taken from the national id when not given.
    pub birth_date: Option<String>,
    /// `female` or `male`.
    pub sex: Option<String>,
    /// Where they live: a municipality's DPA code.
    pub municipality_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonView {
    pub id: String,
    pub national_id: Option<String>,
    pub given_names: String,
    pub surnames: String,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub municipality_code: String,
    pub province_code: String,
    /// The record this one was merged into, which carries on.
    pub merged_into: Option<String>,
}

impl From<PersonRow> for PersonView {
    fn from(row: PersonRow) -> PersonView {
        PersonView {
            id: row.id,
            national_id: row.national_id,
            given_names: row.given_names,
            surnames: row.surnames,
            birth_date: row.birth_date,
            sex: row.sex,
            municipality_code: row.municipality_code,
            province_code: row.province_code,
            merged_into: row.merged_into,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonFound {
    pub person: PersonView,
    /// `national_id` or `name_and_birth_date` when the person was recorded already; `null`
    /// for a new record.
    pub matched_by: Option<&'static str>,
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::with_detail(ErrorCode::ValidationFailed, detail)
}

fn not_found() -> ApiError {
    ApiError::with_detail(ErrorCode::NotFound, "no hay ninguna persona con ese id")
}

fn name(text: &str, field: &str) -> Result<String, ApiError> {
    let name = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > NAME_CHARS_MAX {
        return Err(invalid(format!(
            "{field}: de 1 a {NAME_CHARS_MAX} caracteres"
        )));
    }
    Ok(name)
}

/// Records a person, or finds the record they have.
#[utoipa::path(post, path = "/api/v1/salud/persons", tag = "salud",
    security(("bearer" = [])), request_body = NewPerson,
    responses(
        (status = 201, description = "Persona nueva", body = PersonFound),
        (status = 200, description = "Ya estaba: su registro, y por qué regla", body = PersonFound),
        (status = 403, description = "No es personal de salud, o no de esa provincia", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Datos no válidos", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn record_person(
    State(state): State<AppState>,
    HealthStaff { who, scope }: HealthStaff,
    ApiJson(body): ApiJson<NewPerson>,
) -> Result<(StatusCode, Json<PersonFound>), ApiError> {
    let now_ms = state.clock.now_ms();
    let given_names = name(&body.given_names, "given_names")?;
    let surnames = name(&body.surnames, "surnames")?;
    let today = crate::salud_alerts::cuba_day(now_ms);
    let national_id = match body.national_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            let today = CalendarDate::new(
                u16::try_from(today.year).unwrap_or(u16::MAX),
                u8::try_from(today.month).unwrap_or(1),
                u8::try_from(today.day).unwrap_or(1),
            )
            .map_err(|error| invalid(error.to_string()))?;
            Some(
                NationalId::parse(text, today)
                    .map_err(|error| invalid(format!("national_id: {error}")))?,
            )
        }
    };
    let from_id = national_id.as_ref().map(|id| {
        let birth = id.birth_date();
        Date {
            year: i32::from(birth.year()),
            month: u32::from(birth.month()),
            day: u32::from(birth.day()),
        }
    });
    let birth_date = match body.birth_date.as_deref().map(str::trim) {
        None | Some("") => from_id,
        Some(text) => {
            let date = Date::parse(text)
                .filter(|_| text.len() == 10)
                .ok_or_else(|| invalid("birth_date: debe ser un día AAAA-MM-DD"))?;
            if date > today {
                return Err(invalid("birth_date: es posterior a hoy"));
            }
            if from_id.is_some_and(|from_id| from_id != date) {
                return Err(invalid(
                    "birth_date: no es la fecha de nacimiento que dice el carné de identidad",
                ));
            }
            Some(date)
        }
    };
    let sex = match body.sex.as_deref() {
        None => None,
        Some(sex @ ("female" | "male")) => Some(sex.to_owned()),
        Some(_) => return Err(invalid("sex: female o male")),
    };
    let (area, is_province) = state
        .db
        .salud_area(body.municipality_code.trim())
        .await?
        .ok_or_else(|| invalid("municipality_code: no es un código DPA conocido"))?;
    if is_province {
        return Err(invalid(
            "municipality_code: es una provincia; dé el municipio",
        ));
    }
    if !scope.allows(&area.province_code) {
        return Err(ApiError::with_detail(
            ErrorCode::Forbidden,
            "esa persona vive en una provincia que no es de las suyas",
        ));
    }
    let digits = national_id.as_ref().map(|id| id.reveal().to_owned());
    let key = match_key(&given_names, &surnames, birth_date);
    // Twice at most: a record made meanwhile by another request is found the second time.
    for _ in 0..2 {
        let candidates = state
            .db
            .salud_person_candidates(digits.as_deref(), key.as_deref())
            .await?;
        let refs: Vec<Candidate> = candidates
            .iter()
            .map(|row| Candidate {
                id: row.id.clone(),
                national_id: row.national_id.clone(),
                match_key: row.match_key.clone(),
            })
            .collect();
        if let Some((found, rule)) = find_match(digits.as_deref(), key.as_deref(), &refs) {
            if let (Some(digits), None) = (&digits, &found.national_id) {
                state
                    .db
                    .set_salud_person_national_id(&found.id, digits)
                    .await?;
            }
            let row = state
                .db
                .salud_person(&found.id)
                .await?
                .ok_or_else(not_found)?;
            if !scope.allows(&row.province_code) {
                return Err(ApiError::with_detail(
                    ErrorCode::Conflict,
                    "esa persona ya está registrada en otra provincia",
                ));
            }
            audit_person(&state, &who, &row.id, EventKind::PersonRead).await?;
            return Ok((
                StatusCode::OK,
                Json(PersonFound {
                    person: PersonView::from(row),
                    matched_by: Some(rule.as_str()),
                }),
            ));
        }
        let row = PersonRow {
            id: uuid::Uuid::new_v4().to_string(),
            national_id: digits.clone(),
            given_names: given_names.clone(),
            surnames: surnames.clone(),
            birth_date: birth_date.map(|date| date.to_string()),
            sex: sex.clone(),
            municipality_code: area.code.clone(),
            province_code: area.province_code.clone(),
            match_key: key.clone(),
            merged_into: None,
            created_at_ms: now_ms,
        };
        if state.db.create_salud_person(&row).await? {
            return Ok((
                StatusCode::CREATED,
                Json(PersonFound {
                    person: PersonView::from(row),
                    matched_by: None,
                }),
            ));
        }
    }
    Err(ApiError::with_detail(
        ErrorCode::Conflict,
        "otra solicitud registra a esta persona ahora; vuelva a intentarlo",
    ))
}

async fn audit_person(
    state: &AppState,
    who: &Authenticated,
    person: &str,
    kind: EventKind,
) -> Result<(), ApiError> {
    let now_ms = state.clock.now_ms();
    let event = AuditEvent::new(kind, now_ms)
        .actor(&who.user.id)
        .subject(person)
        .to_bytes();
    state.db.append_audit(&[event], now_ms).await?;
    Ok(())
}

/// A person the reader may see (404 otherwise, as for one that does not exist).
async fn readable(state: &AppState, scope: &CaseScope, id: &str) -> Result<PersonRow, ApiError> {
    state
        .db
        .salud_person(id)
        .await?
        .filter(|row| scope.allows(&row.province_code))
        .ok_or_else(not_found)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MergeView {
    pub survivor_id: String,
    pub merged_id: String,
    pub merged_by: String,
    pub merged_at_ms: i64,
    /// The merged record as it was, and the cases moved.
    #[schema(value_type = Object)]
    pub snapshot: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonDetail {
    pub person: PersonView,
    pub case_ids: Vec<String>,
    pub merges: Vec<MergeView>,
}

/// A person's record, cases and merges; read logged.
#[utoipa::path(get, path = "/api/v1/salud/persons/{id}", tag = "salud",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id de la persona")),
    responses(
        (status = 200, description = "La persona", body = PersonDetail),
        (status = 403, description = "No es personal de salud", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No existe o no es de sus provincias", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_person(
    State(state): State<AppState>,
    HealthStaff { who, scope }: HealthStaff,
    Path(id): Path<String>,
) -> Result<Json<PersonDetail>, ApiError> {
    let row = readable(&state, &scope, &id).await?;
    audit_person(&state, &who, &row.id, EventKind::PersonRead).await?;
    let case_ids = state.db.salud_person_cases(&row.id).await?;
    let merges = state
        .db
        .salud_person_merges(&row.id)
        .await?
        .into_iter()
        .map(|merge| MergeView {
            survivor_id: merge.survivor_id,
            merged_id: merge.merged_id,
            merged_by: merge.merged_by,
            merged_at_ms: merge.merged_at_ms,
            snapshot: serde_json::from_str(&merge.snapshot).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(Json(PersonDetail {
        person: PersonView::from(row),
        case_ids,
        merges,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateGroups {
    /// Records sharing names and date of birth, oldest first in each group.
    pub groups: Vec<Vec<PersonView>>,
}

/// Possible duplicates within the reader's provinces; each record listed is logged as read.
#[utoipa::path(get, path = "/api/v1/salud/persons/duplicates", tag = "salud",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Grupos de posibles duplicados", body = DuplicateGroups),
        (status = 403, description = "No es personal de salud", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn duplicates(
    State(state): State<AppState>,
    HealthStaff { who, scope }: HealthStaff,
) -> Result<Json<DuplicateGroups>, ApiError> {
    let provinces = match &scope {
        CaseScope::Everywhere => None,
        CaseScope::Provinces(provinces) => Some(provinces.as_slice()),
    };
    let groups = state.db.salud_person_duplicates(provinces).await?;
    let now_ms = state.clock.now_ms();
    let events: Vec<Vec<u8>> = groups
        .iter()
        .flatten()
        .map(|row| {
            AuditEvent::new(EventKind::PersonRead, now_ms)
                .actor(&who.user.id)
                .subject(&row.id)
                .to_bytes()
        })
        .collect();
    if !events.is_empty() {
        state.db.append_audit(&events, now_ms).await?;
    }
    Ok(Json(DuplicateGroups {
        groups: groups
            .into_iter()
            .map(|group| group.into_iter().map(PersonView::from).collect())
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The record that turns out to be this same person.
    pub duplicate_id: String,
}

/// Joins a duplicate record into this one; logged.
#[utoipa::path(post, path = "/api/v1/salud/persons/{id}/merge", tag = "salud",
    security(("bearer" = [])), request_body = MergeRequest,
    params(("id" = String, Path, description = "El registro que sigue")),
    responses(
        (status = 200, description = "Fusionados: el registro que sigue, con sus casos y fusiones", body = PersonDetail),
        (status = 404, description = "Alguno no existe o no es de sus provincias", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Alguno ya se fusionó", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Un registro consigo mismo", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn merge(
    State(state): State<AppState>,
    HealthStaff { who, scope }: HealthStaff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MergeRequest>,
) -> Result<Json<PersonDetail>, ApiError> {
    readable(&state, &scope, &id).await?;
    readable(&state, &scope, &body.duplicate_id).await?;
    let merge_id = uuid::Uuid::new_v4().to_string();
    let outcome = state
        .db
        .merge_salud_persons(
            &merge_id,
            &id,
            &body.duplicate_id,
            &who.user.id,
            state.clock.now_ms(),
        )
        .await?;
    match outcome {
        Ok(_) => {}
        Err(MergeRefusal::Same) => {
            return Err(invalid("duplicate_id: es el mismo registro"));
        }
        Err(MergeRefusal::Missing) => return Err(not_found()),
        Err(MergeRefusal::AlreadyMerged) => {
            return Err(ApiError::with_detail(
                ErrorCode::Conflict,
                "uno de los dos registros ya se fusionó en otro",
            ));
        }
    }
    let now_ms = state.clock.now_ms();
    crate::accounts::audit(
        &state,
        AuditEvent::new(EventKind::PersonsMerged, now_ms)
            .actor(&who.user.id)
            .subject(&id)
            .detail("merged", &body.duplicate_id),
    )
    .await;
    get_person(State(state), HealthStaff { who, scope }, Path(id)).await
}
