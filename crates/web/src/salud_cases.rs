//! Case-level data, for health roles only, and every record read written to the audit log.
//!
//! - Who reads what: an epidemiologist reads every province's cases; a health worker only
//!   those of the provinces an administrator assigned them (none assigned, none read);
//!   anyone else, none. [`case_scope`] is the one place that decides it.
//! - `GET /api/v1/salud/cases` (filters: province, municipality, from, to, source, sex,
//!   status; limit, offset) and `GET /api/v1/salud/cases/{id}` (a case outside the reader's
//!   provinces is answered 404, as one that does not exist, so its existence is not given
//!   away); the page `/salud/casos` lists them with the same filters.
//! - `PUT /api/v1/admin/users/{id}/salud-provinces`: an administrator assigns the provinces.
//! - One audit event (`salud_case_read`) per record returned, with the reader and the case.

use askama::Template;
use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use ceiba_audit::{AuditEvent, EventKind};
use ceiba_identity::Role;
use ceiba_store::{CASES_PAGE_MAX, CaseFilter, CaseRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::account_pages::{page, signed_in};
use crate::auth::{Administrator, Authenticated, Authorized};
use crate::i18n::Lang;
use crate::json::ApiJson;
use crate::pages::{Frame, page_lang};
use crate::problem::{ApiError, ErrorCode, Problem};

pub const CASES_PAGE_PATH: &str = "/salud/casos";
/// Cases a page shows.
const CASES_PER_PAGE: u64 = 50;

/// The provinces whose cases a person may read: all of them, or these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseScope {
    Everywhere,
    Provinces(Vec<String>),
}

/// What the person may read of case-level data; refused outright without a health role.
pub async fn case_scope(state: &AppState, who: &Authenticated) -> Result<CaseScope, ApiError> {
    if who.acts_as(Role::Epidemiologist) {
        return Ok(CaseScope::Everywhere);
    }
    if who.acts_as(Role::HealthWorker) {
        return Ok(CaseScope::Provinces(
            state.db.salud_staff_provinces(&who.user.id).await?,
        ));
    }
    // Case records are health records: a health role signed in with the password alone is
    // refused like Authorized refuses it (the access-matrix drill found this path let it in).
    if who.has_role(Role::Epidemiologist) || who.has_role(Role::HealthWorker) {
        return Err(crate::auth::second_factor_refusal());
    }
    Err(ApiError::with_detail(
        ErrorCode::Forbidden,
        "los datos de casos son solo para el personal de salud",
    ))
}

/// A health worker or an epidemiologist acting as one (with a second factor), and the provinces
/// whose cases they may read. As an extractor it refuses anyone else before the request's body
/// is read, so a wrong caller learns nothing about what a good body looks like.
#[derive(Debug)]
pub struct HealthStaff {
    pub who: Authenticated,
    pub scope: CaseScope,
}

impl FromRequestParts<AppState> for HealthStaff {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<HealthStaff, ApiError> {
        let who = Authenticated::from_request_parts(parts, state).await?;
        let scope = case_scope(state, &who).await?;
        Ok(HealthStaff { who, scope })
    }
}

impl CaseScope {
    pub(crate) fn allows(&self, province: &str) -> bool {
        match self {
            CaseScope::Everywhere => true,
            CaseScope::Provinces(provinces) => provinces.iter().any(|code| code == province),
        }
    }

    fn provinces(&self) -> Option<Vec<String>> {
        match self {
            CaseScope::Everywhere => None,
            CaseScope::Provinces(provinces) => Some(provinces.clone()),
        }
    }
}

/// Writes one `salud_case_read` event per case read, in one append.
async fn audit_reads(state: &AppState, reader: &str, cases: &[CaseRecord]) -> Result<(), ApiError> {
    if cases.is_empty() {
        return Ok(());
    }
    let now_ms = state.clock.now_ms();
    let events: Vec<Vec<u8>> = cases
        .iter()
        .map(|case| {
            AuditEvent::new(EventKind::CaseRead, now_ms)
                .actor(reader)
                .subject(&case.id)
                .detail("province", &case.province_code)
                .to_bytes()
        })
        .collect();
    // Unlike other audit events, a read that cannot be logged is not shown.
    state.db.append_audit(&events, now_ms).await?;
    Ok(())
}

/// A case as the API gives it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    pub id: String,
    /// `suspected`, `probable`, `confirmed`, `discarded`.
    pub status: String,
    pub confirmed_on: Option<String>,
    /// ISO 3166 alpha-2 of the nationality.
    pub country: Option<String>,
    pub age: Option<u64>,
    /// `female`, `male`.
    pub sex: Option<String>,
    pub municipality_code: String,
    pub province_code: String,
    /// `imported`, `introduced`, `autochthonous`, `unknown`.
    pub source: String,
    pub consulted_on: Option<String>,
    pub arrived_on: Option<String>,
    pub isolation_centre: Option<String>,
    pub diagnostic_centre: Option<String>,
    pub contacts: Option<u64>,
    /// `recovered`, `deceased`, `evacuated`.
    pub outcome: Option<String>,
    pub outcome_on: Option<String>,
    pub onset_on: Option<String>,
    pub sampled_on: Option<String>,
    pub admitted_on: Option<String>,
    pub residence_municipality_code: Option<String>,
    /// `stable`, `serious`, `critical`.
    pub severity: Option<String>,
    /// The person's record (`/api/v1/salud/persons/{id}`).
    pub person_id: Option<String>,
}

impl From<CaseRecord> for CaseView {
    fn from(case: CaseRecord) -> CaseView {
        CaseView {
            id: case.id,
            status: case.status,
            confirmed_on: case.confirmed_on,
            country: case.country,
            age: case.age,
            sex: case.sex,
            municipality_code: case.municipality_code,
            province_code: case.province_code,
            source: case.source,
            consulted_on: case.consulted_on,
            arrived_on: case.arrived_on,
            isolation_centre: case.isolation_centre,
            diagnostic_centre: case.diagnostic_centre,
            contacts: case.contacts,
            outcome: case.outcome,
            outcome_on: case.outcome_on,
            onset_on: case.onset_on,
            sampled_on: case.sampled_on,
            admitted_on: case.admitted_on,
            residence_municipality_code: case.residence_municipality_code,
            severity: case.severity,
            person_id: case.person_id,
        }
    }
}

/// The filters of a case list (API and page share them).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// A province's DPA code: `23`.
    pub province: Option<String>,
    /// A municipality's DPA code: `23.04`.
    pub municipality: Option<String>,
    /// Confirmed from this day (`YYYY-MM-DD`), inclusive.
    pub from: Option<String>,
    /// Confirmed up to this day, inclusive.
    pub to: Option<String>,
    pub source: Option<String>,
    pub sex: Option<String>,
    pub status: Option<String>,
    /// At most 200; 50 when not given.
    #[param(format = Int64, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
    /// Cases skipped (a page is at most 200, so four billion is far past any list).
    #[param(format = Int64, maximum = 4294967295_u64)]
    pub offset: Option<u32>,
}

fn bad(detail: impl Into<String>) -> ApiError {
    ApiError::with_detail(ErrorCode::ValidationFailed, detail)
}

/// The filter the query asks for, checked: known words and real days only.
fn filter_of(query: &CaseQuery, scope: &CaseScope) -> Result<CaseFilter, ApiError> {
    use ceiba_surveillance::covid19cubadata::Date;
    let text = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let one_of = |value: &Option<String>, words: &[&str], name: &str| {
        let value = text(value);
        match &value {
            Some(word) if !words.contains(&word.as_str()) => {
                Err(bad(format!("{name}: debe ser uno de {}", words.join(", "))))
            }
            _ => Ok(value),
        }
    };
    let day = |value: &Option<String>, name: &str| {
        let value = text(value);
        match &value {
            Some(day) if Date::parse(day).is_none() || day.len() != 10 => {
                Err(bad(format!("{name}: debe ser un día AAAA-MM-DD")))
            }
            _ => Ok(value),
        }
    };
    Ok(CaseFilter {
        provinces: scope.provinces(),
        province: text(&query.province),
        municipality: text(&query.municipality),
        from: day(&query.from, "from")?,
        to: day(&query.to, "to")?,
        source: one_of(
            &query.source,
            &["imported", "introduced", "autochthonous", "unknown"],
            "source",
        )?,
        sex: one_of(&query.sex, &["female", "male"], "sex")?,
        status: one_of(
            &query.status,
            &["suspected", "probable", "confirmed", "discarded"],
            "status",
        )?,
    })
}

/// Up to `shown` cases the person may read, and whether more follow; only those returned are
/// read, so only those are logged.
async fn read_cases(
    state: &AppState,
    who: &Authenticated,
    scope: &CaseScope,
    query: &CaseQuery,
    shown: u64,
) -> Result<(Vec<CaseRecord>, bool), ApiError> {
    let filter = filter_of(query, scope)?;
    let mut cases = state
        .db
        .salud_cases(&filter, shown + 1, query.offset.map_or(0, u64::from))
        .await?;
    let more = cases.len() as u64 > shown;
    cases.truncate(usize::try_from(shown).unwrap_or(usize::MAX));
    audit_reads(state, &who.user.id, &cases).await?;
    Ok((cases, more))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    pub cases: Vec<CaseView>,
}

/// Cases, newest first, within the reader's provinces; each one read is logged.
#[utoipa::path(get, path = "/api/v1/salud/cases", tag = "salud",
    security(("bearer" = [])), params(CaseQuery),
    responses(
        (status = 200, description = "Casos", body = CaseList),
        (status = 401, description = "Sin sesión", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No es personal de salud", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Filtro no válido", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_cases(
    State(state): State<AppState>,
    HealthStaff { who, scope }: HealthStaff,
    query: Result<Query<CaseQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<CaseList>, ApiError> {
    let Query(query) = query.map_err(|rejection| bad(rejection.body_text()))?;
    let limit = query
        .limit
        .map_or(CASES_PER_PAGE, u64::from)
        .min(CASES_PAGE_MAX);
    let (cases, _) = read_cases(&state, &who, &scope, &query, limit).await?;
    Ok(Json(CaseList {
        cases: cases.into_iter().map(CaseView::from).collect(),
    }))
}

/// One case; 404 for one outside the reader's provinces as for one that does not exist.
#[utoipa::path(get, path = "/api/v1/salud/cases/{id}", tag = "salud",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del caso")),
    responses(
        (status = 200, description = "El caso", body = CaseView),
        (status = 403, description = "No es personal de salud", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No existe o no es de sus provincias", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_case(
    State(state): State<AppState>,
    HealthStaff { who, scope }: HealthStaff,
    Path(id): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    let case = state
        .db
        .salud_case(&id)
        .await?
        .filter(|case| scope.allows(&case.province_code))
        .ok_or_else(|| ApiError::with_detail(ErrorCode::NotFound, "no existe tal caso"))?;
    audit_reads(&state, &who.user.id, std::slice::from_ref(&case)).await?;
    Ok(Json(CaseView::from(case)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffProvinces {
    /// DPA codes of provinces: `["23", "24"]`; empty for none.
    pub provinces: Vec<String>,
}

/// Most provinces one person may be assigned (every province, with room to spare).
const STAFF_PROVINCES_MAX: usize = 20;

/// Sets the provinces a health worker or epidemiologist works in (the whole list); logged.
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/salud-provinces", tag = "administración",
    security(("bearer" = [])), request_body = StaffProvinces,
    params(("id" = String, Path, description = "El id del usuario")),
    responses(
        (status = 204, description = "Provincias asignadas"),
        (status = 403, description = "No es administrador", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No existe", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Una provincia no existe", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn admin_set_staff_provinces(
    State(state): State<AppState>,
    admin: Authorized<Administrator>,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<StaffProvinces>,
) -> Result<StatusCode, ApiError> {
    if change.provinces.len() > STAFF_PROVINCES_MAX {
        return Err(bad("provinces: demasiadas"));
    }
    let mut provinces: Vec<String> = Vec::with_capacity(change.provinces.len());
    for code in &change.provinces {
        match state.db.salud_area(code).await? {
            Some((_, true)) => {
                if !provinces.contains(code) {
                    provinces.push(code.clone());
                }
            }
            _ => {
                return Err(bad(format!(
                    "provinces: «{}» no es el código DPA de una provincia",
                    code.chars().take(12).collect::<String>()
                )));
            }
        }
    }
    provinces.sort();
    if !state.db.set_salud_staff_provinces(&id, &provinces).await? {
        return Err(ApiError::with_detail(
            ErrorCode::NotFound,
            "no existe tal usuario",
        ));
    }
    crate::accounts::audit(
        &state,
        AuditEvent::new(EventKind::StaffProvincesChanged, state.clock.now_ms())
            .actor(&admin.who.user.id)
            .subject(&id)
            .detail("provinces", provinces.join(",")),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------

struct CaseLine {
    id: String,
    confirmed_on: String,
    age: String,
    sex: &'static str,
    place: String,
    source: &'static str,
    outcome: &'static str,
}

#[derive(Template)]
#[template(path = "salud_casos.html")]
struct CasesPage {
    frame: Frame,
    spanish: bool,
    scope: String,
    query: CaseQuery,
    cases: Vec<CaseLine>,
    error: Option<String>,
    previous: Option<String>,
    next: Option<String>,
}

fn sex_es(sex: Option<&str>) -> &'static str {
    match sex {
        Some("female") => "F",
        Some("male") => "M",
        _ => "—",
    }
}

fn source_es(source: &str) -> &'static str {
    match source {
        "imported" => "Importado",
        "introduced" => "Introducido",
        "autochthonous" => "Autóctono",
        _ => "Desconocida",
    }
}

fn outcome_es(outcome: Option<&str>) -> &'static str {
    match outcome {
        Some("recovered") => "Alta",
        Some("deceased") => "Fallecido",
        Some("evacuated") => "Evacuado",
        _ => "",
    }
}

/// The address of another page of the same list.
fn page_href(query: &CaseQuery, offset: u64) -> String {
    let mut pairs = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("province", &query.province),
        ("municipality", &query.municipality),
        ("from", &query.from),
        ("to", &query.to),
        ("source", &query.source),
        ("sex", &query.sex),
        ("status", &query.status),
    ] {
        if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
            pairs.append_pair(name, value);
        }
    }
    pairs.append_pair("offset", &offset.to_string());
    format!("{CASES_PAGE_PATH}?{}", pairs.finish())
}

/// The case list for health roles, with the API's filters; every case shown is logged.
pub async fn cases_page(
    State(state): State<AppState>,
    Query(query): Query<CaseQuery>,
    headers: HeaderMap,
    who: Result<Authenticated, ApiError>,
) -> Result<Response, ApiError> {
    let who = match signed_in(&state, &headers, who)? {
        Ok(who) => who,
        Err(redirect) => return Ok(redirect),
    };
    let lang = page_lang(None, &headers);
    let scope = case_scope(&state, &who).await?;
    let scope_text = match &scope {
        CaseScope::Everywhere => "todas las provincias".to_owned(),
        CaseScope::Provinces(provinces) if provinces.is_empty() => {
            "ninguna provincia (pida a un administrador que le asigne la suya)".to_owned()
        }
        CaseScope::Provinces(provinces) => format!("provincias {}", provinces.join(", ")),
    };
    let offset = query.offset.map_or(0, u64::from);
    let (cases, more, error) = match read_cases(&state, &who, &scope, &query, CASES_PER_PAGE).await
    {
        Ok((cases, more)) => (cases, more, None),
        Err(error) if error.code == ErrorCode::ValidationFailed => (
            Vec::new(),
            false,
            Some(error.detail.clone().unwrap_or_default()),
        ),
        Err(error) => return Err(error),
    };
    let lines = cases
        .into_iter()
        .map(|case| CaseLine {
            confirmed_on: case.confirmed_on.clone().unwrap_or_default(),
            age: case.age.map_or_else(String::new, |age| age.to_string()),
            sex: sex_es(case.sex.as_deref()),
            place: case.municipality_code.clone(),
            source: source_es(&case.source),
            outcome: outcome_es(case.outcome.as_deref()),
            id: case.id,
        })
        .collect();
    let body = CasesPage {
        frame: Frame::for_request(lang, &headers),
        spanish: lang == Lang::Es,
        scope: scope_text,
        previous: (offset > 0).then(|| page_href(&query, offset.saturating_sub(CASES_PER_PAGE))),
        next: more.then(|| page_href(&query, offset + CASES_PER_PAGE)),
        query,
        cases: lines,
        error,
    }
    .render();
    let mut response = page(lang, body, None, None);
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}
