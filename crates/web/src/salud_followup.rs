//! What follows a case, for health roles within their provinces (the same scope as cases):
//!
//! - `POST /api/v1/salud/cases/{id}/lab-tests`, `GET …/lab-tests`: laboratory tests of the
//!   case's samples (kind, sample day, result and its day, laboratory);
//! - `POST /api/v1/salud/cases/{id}/contacts`, `GET …/contacts`: the people the case exposed,
//!   each a person's record, in quarantine until 14 days after the last contact;
//! - `PUT /api/v1/salud/contacts/{id}`: the follow-up moves (`pending` → `in_quarantine` →
//!   `completed`, or `became_case` with the new case, or `lost`); an ended one stays ended;
//! - the page `/salud/contactos`: the contacts still followed, the quarantine ending soonest
//!   first, those due today marked.
//!
//! Reads of cases' tests and contacts are logged like case reads; the rules are
//! `ceiba_surveillance::followup`'s.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use ceiba_audit::{AuditEvent, EventKind};
use ceiba_store::{CaseRecord, ContactRow, LabTestRow};
use ceiba_surveillance::covid19cubadata::Date;
use ceiba_surveillance::followup::{
    ContactStatus, TestKind, TestResult, check_contact_days, check_test_days, check_transition,
    quarantine_end,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::account_pages::{page, signed_in};
use crate::auth::Authenticated;
use crate::json::ApiJson;
use crate::pages::{Frame, page_lang};
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::salud_cases::{CaseScope, HealthStaff, case_scope};

pub const CONTACTS_PAGE_PATH: &str = "/salud/contactos";
/// Longest laboratory name or note kept.
const TEXT_CHARS_MAX: usize = 200;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::with_detail(ErrorCode::ValidationFailed, detail)
}

fn day(text: &str, field: &str) -> Result<Date, ApiError> {
    Date::parse(text)
        .filter(|_| text.len() == 10)
        .ok_or_else(|| invalid(format!("{field}: debe ser un día AAAA-MM-DD")))
}

fn today(state: &AppState) -> Date {
    crate::salud_alerts::cuba_day(state.clock.now_ms())
}

fn short_text(text: &str, field: &str) -> Result<String, ApiError> {
    let text = text.trim();
    if text.chars().count() > TEXT_CHARS_MAX {
        return Err(invalid(format!(
            "{field}: más de {TEXT_CHARS_MAX} caracteres"
        )));
    }
    Ok(text.to_owned())
}

/// The case, if the reader may see it (404 otherwise, as for one that does not exist); its
/// read is logged.
async fn readable_case(
    state: &AppState,
    who: &Authenticated,
    scope: &CaseScope,
    id: &str,
) -> Result<CaseRecord, ApiError> {
    let case = state
        .db
        .salud_case(id)
        .await?
        .filter(|case| scope.allows(&case.province_code))
        .ok_or_else(|| ApiError::with_detail(ErrorCode::NotFound, "no existe tal caso"))?;
    let now_ms = state.clock.now_ms();
    let event = AuditEvent::new(EventKind::CaseRead, now_ms)
        .actor(&who.user.id)
        .subject(&case.id)
        .detail("province", &case.province_code)
        .to_bytes();
    state.db.append_audit(&[event], now_ms).await?;
    Ok(case)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLabTest {
    /// `pcr`, `antigen`, `serology`.
    pub kind: String,
    pub sampled_on: String,
    /// `pending`, `positive`, `negative`, `inconclusive`.
    pub result: String,
    /// The result's day; none while pending.
    pub result_on: Option<String>,
    pub laboratory: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabTestView {
    pub id: String,
    pub case_id: String,
    pub kind: String,
    pub sampled_on: String,
    pub result: String,
    pub result_on: Option<String>,
    pub laboratory: String,
}

impl From<LabTestRow> for LabTestView {
    fn from(row: LabTestRow) -> LabTestView {
        LabTestView {
            id: row.id,
            case_id: row.case_id,
            kind: row.kind,
            sampled_on: row.sampled_on,
            result: row.result,
            result_on: row.result_on,
            laboratory: row.laboratory,
        }
    }
}

/// Records a laboratory test of a case's sample.
#[utoipa::path(post, path = "/api/v1/salud/cases/{id}/lab-tests", tag = "salud",
    security(("bearer" = [])), request_body = NewLabTest,
    params(("id" = String, Path, description = "El id del caso")),
    responses(
        (status = 201, description = "Prueba registrada", body = LabTestView),
        (status = 404, description = "No existe o no es de sus provincias", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Tipo, resultado o días imposibles", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_lab_test(
    State(state): State<AppState>,
    HealthStaff { who, scope }: HealthStaff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewLabTest>,
) -> Result<(StatusCode, Json<LabTestView>), ApiError> {
    let kind = TestKind::parse(&body.kind)
        .ok_or_else(|| invalid(format!("kind: uno de {}", TestKind::names())))?;
    let result = TestResult::parse(&body.result)
        .ok_or_else(|| invalid(format!("result: uno de {}", TestResult::names())))?;
    let sampled_on = day(&body.sampled_on, "sampled_on")?;
    let result_on = body
        .result_on
        .as_deref()
        .map(|text| day(text, "result_on"))
        .transpose()?;
    check_test_days(sampled_on, result, result_on, today(&state)).map_err(invalid)?;
    let laboratory = short_text(&body.laboratory, "laboratory")?;
    if laboratory.is_empty() {
        return Err(invalid("laboratory: falta"));
    }
    let case = readable_case(&state, &who, &scope, &id).await?;
    let row = LabTestRow {
        id: uuid::Uuid::new_v4().to_string(),
        case_id: case.id,
        province_code: case.province_code,
        kind: kind.as_str().to_owned(),
        sampled_on: sampled_on.to_string(),
        result: result.as_str().to_owned(),
        result_on: result_on.map(|day| day.to_string()),
        laboratory,
        recorded_by: who.user.id.clone(),
        recorded_at_ms: state.clock.now_ms(),
    };
    state.db.add_salud_lab_test(&row).await?;
    Ok((StatusCode::CREATED, Json(LabTestView::from(row))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabTests {
    pub tests: Vec<LabTestView>,
}

/// A case's laboratory tests, by day of sampling.
#[utoipa::path(get, path = "/api/v1/salud/cases/{id}/lab-tests", tag = "salud",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del caso")),
    responses(
        (status = 200, description = "Pruebas", body = LabTests),
        (status = 404, description = "No existe o no es de sus provincias", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn lab_tests(
    State(state): State<AppState>,
    HealthStaff { who, scope }: HealthStaff,
    Path(id): Path<String>,
) -> Result<Json<LabTests>, ApiError> {
    let case = readable_case(&state, &who, &scope, &id).await?;
    let tests = state.db.salud_lab_tests(&case.id).await?;
    Ok(Json(LabTests {
        tests: tests.into_iter().map(LabTestView::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    /// The contact's person record (`POST /api/v1/salud/persons`).
    pub person_id: String,
    pub first_contact_on: Option<String>,
    pub last_contact_on: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub id: String,
    pub index_case_id: String,
    pub person_id: String,
    pub person_name: String,
    pub first_contact_on: Option<String>,
    pub last_contact_on: String,
    /// 14 days after the last contact.
    pub quarantine_end_on: String,
    /// `pending`, `in_quarantine`, `became_case`, `completed`, `lost`.
    pub status: String,
    pub became_case_id: Option<String>,
    pub note: String,
}

impl From<ContactRow> for ContactView {
    fn from(row: ContactRow) -> ContactView {
        ContactView {
            id: row.id,
            index_case_id: row.index_case_id,
            person_id: row.person_id,
            person_name: row.person_name,
            first_contact_on: row.first_contact_on,
            last_contact_on: row.last_contact_on,
            quarantine_end_on: row.quarantine_end_on,
            status: row.status,
            became_case_id: row.became_case_id,
            note: row.note,
        }
    }
}

/// Lists a person as a contact of a case, in quarantine until 14 days after the last contact.
#[utoipa::path(post, path = "/api/v1/salud/cases/{id}/contacts", tag = "salud",
    security(("bearer" = [])), request_body = NewContact,
    params(("id" = String, Path, description = "El id del caso índice")),
    responses(
        (status = 201, description = "Contacto registrado", body = ContactView),
        (status = 404, description = "El caso o la persona no existen o no son de sus provincias", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Ya es contacto de ese caso", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Días imposibles", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_contact(
    State(state): State<AppState>,
    HealthStaff { who, scope }: HealthStaff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewContact>,
) -> Result<(StatusCode, Json<ContactView>), ApiError> {
    let last = day(&body.last_contact_on, "last_contact_on")?;
    let first = body
        .first_contact_on
        .as_deref()
        .map(|text| day(text, "first_contact_on"))
        .transpose()?;
    check_contact_days(first, last, today(&state)).map_err(invalid)?;
    let case = readable_case(&state, &who, &scope, &id).await?;
    let person = state
        .db
        .salud_person(&body.person_id)
        .await?
        .filter(|person| scope.allows(&person.province_code))
        .ok_or_else(|| {
            ApiError::with_detail(ErrorCode::NotFound, "no hay ninguna persona con ese id")
        })?;
    if let Some(survivor) = person.merged_into {
        return Err(invalid(format!(
            "person_id: ese registro se fusionó con «{survivor}»; use ese"
        )));
    }
    let row = ContactRow {
        id: uuid::Uuid::new_v4().to_string(),
        index_case_id: case.id,
        province_code: case.province_code,
        person_id: person.id,
        first_contact_on: first.map(|day| day.to_string()),
        last_contact_on: last.to_string(),
        quarantine_end_on: quarantine_end(last).to_string(),
        status: ContactStatus::Pending.as_str().to_owned(),
        became_case_id: None,
        note: String::new(),
        updated_at_ms: state.clock.now_ms(),
        person_name: format!("{} {}", person.given_names, person.surnames),
    };
    if !state.db.add_salud_contact(&row).await? {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "esa persona ya es contacto de ese caso",
        ));
    }
    Ok((StatusCode::CREATED, Json(ContactView::from(row))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Contacts {
    pub contacts: Vec<ContactView>,
}

/// A case's contacts, in every state.
#[utoipa::path(get, path = "/api/v1/salud/cases/{id}/contacts", tag = "salud",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del caso índice")),
    responses(
        (status = 200, description = "Contactos", body = Contacts),
        (status = 404, description = "No existe o no es de sus provincias", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn case_contacts(
    State(state): State<AppState>,
    HealthStaff { who, scope }: HealthStaff,
    Path(id): Path<String>,
) -> Result<Json<Contacts>, ApiError> {
    let case = readable_case(&state, &who, &scope, &id).await?;
    let contacts = state
        .db
        .salud_contacts(None, Some(&case.id), ceiba_store::CONTACTS_LIST_MAX)
        .await?;
    Ok(Json(Contacts {
        contacts: contacts.into_iter().map(ContactView::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactUpdate {
    /// `pending`, `in_quarantine`, `became_case`, `completed`, `lost`.
    pub status: String,
    /// The contact's own case, for `became_case`.
    pub became_case_id: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// Moves a contact's follow-up.
#[utoipa::path(put, path = "/api/v1/salud/contacts/{id}", tag = "salud",
    security(("bearer" = [])), request_body = ContactUpdate,
    params(("id" = String, Path, description = "El id del contacto")),
    responses(
        (status = 200, description = "Seguimiento actualizado", body = ContactView),
        (status = 404, description = "No existe o no es de sus provincias", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Alguien lo cambió a la vez", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Un paso que no se puede dar", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_contact(
    State(state): State<AppState>,
    HealthStaff { who, scope }: HealthStaff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ContactUpdate>,
) -> Result<Json<ContactView>, ApiError> {
    let not_found =
        || ApiError::with_detail(ErrorCode::NotFound, "no hay ningún contacto con ese id");
    let contact = state
        .db
        .salud_contact(&id)
        .await?
        .filter(|contact| scope.allows(&contact.province_code))
        .ok_or_else(not_found)?;
    let to = ContactStatus::parse(&body.status)
        .ok_or_else(|| invalid(format!("status: uno de {}", ContactStatus::names())))?;
    let from = ContactStatus::parse(&contact.status)
        .ok_or_else(|| ApiError::with_detail(ErrorCode::Internal, "estado guardado desconocido"))?;
    let end = Date::parse(&contact.quarantine_end_on)
        .ok_or_else(|| ApiError::with_detail(ErrorCode::Internal, "fin de cuarentena ilegible"))?;
    check_transition(from, to, end, today(&state)).map_err(invalid)?;
    let became = match (to, body.became_case_id.as_deref()) {
        (ContactStatus::BecameCase, Some(case)) => {
            Some(readable_case(&state, &who, &scope, case).await?.id)
        }
        (ContactStatus::BecameCase, None) => {
            return Err(invalid("became_case_id: falta el caso en que se convirtió"));
        }
        (_, Some(_)) => return Err(invalid("became_case_id: solo con became_case")),
        (_, None) => None,
    };
    let note = short_text(&body.note, "note")?;
    let moved = state
        .db
        .update_salud_contact(
            &contact.id,
            from.as_str(),
            to.as_str(),
            became.as_deref(),
            &note,
            state.clock.now_ms(),
        )
        .await?;
    if !moved {
        return Err(ApiError::with_detail(
            ErrorCode::Conflict,
            "otra persona cambió este seguimiento a la vez; vuelva a leerlo",
        ));
    }
    let contact = state.db.salud_contact(&id).await?.ok_or_else(not_found)?;
    Ok(Json(ContactView::from(contact)))
}

// ---------------------------------------------------------------------------------------------
// The follow-up list
// ---------------------------------------------------------------------------------------------

struct FollowUpLine {
    person: String,
    index_case: String,
    last_contact: String,
    quarantine_end: String,
    status: &'static str,
    /// Days left of quarantine; 0 or less: due to close today.
    days_left: i64,
}

#[derive(Template)]
#[template(path = "salud_contactos.html")]
struct FollowUpPage {
    frame: Frame,
    today: String,
    contacts: Vec<FollowUpLine>,
}

/// The contacts still followed in the reader's provinces; each one shown is logged as a read
/// of its person.
pub async fn follow_up_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = match signed_in(&state, &headers, who)? {
        Ok(who) => who,
        Err(redirect) => return Ok(redirect),
    };
    let lang = page_lang(None, &headers);
    let scope = case_scope(&state, &who).await?;
    let provinces = match &scope {
        CaseScope::Everywhere => None,
        CaseScope::Provinces(provinces) => Some(provinces.as_slice()),
    };
    let contacts = state
        .db
        .salud_contacts(provinces, None, ceiba_store::CONTACTS_LIST_MAX)
        .await?;
    let now_ms = state.clock.now_ms();
    let events: Vec<Vec<u8>> = contacts
        .iter()
        .map(|contact| {
            AuditEvent::new(EventKind::PersonRead, now_ms)
                .actor(&who.user.id)
                .subject(&contact.person_id)
                .to_bytes()
        })
        .collect();
    if !events.is_empty() {
        state.db.append_audit(&events, now_ms).await?;
    }
    let today = today(&state);
    let lines = contacts
        .into_iter()
        .map(|contact| {
            let end = Date::parse(&contact.quarantine_end_on);
            FollowUpLine {
                days_left: end.map_or(0, |end| end.days_since_epoch() - today.days_since_epoch()),
                status: ContactStatus::parse(&contact.status).map_or("—", ContactStatus::name_es),
                person: contact.person_name,
                index_case: contact.index_case_id,
                last_contact: contact.last_contact_on,
                quarantine_end: contact.quarantine_end_on,
            }
        })
        .collect();
    let body = FollowUpPage {
        frame: Frame::for_request(lang, &headers),
        today: today.to_string(),
        contacts: lines,
    }
    .render();
    let mut response = page(lang, body, None, None);
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}
