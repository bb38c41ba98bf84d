//! Salud's places:
//!
//! - centres: `GET /api/salud/open/centres[?province=]` (open data: a centre's beds and beds
//!   taken are no one's personal data) and `PUT /api/v1/salud/centres/{kind}/{id}`
//!   `{"capacity": …, "occupied": …}`, reported by health roles of the centre's province;
//! - transmission events (clusters): `POST /api/v1/salud/events` (a place in a municipality,
//!   with its coordinates when known), `POST /api/v1/salud/events/{id}/cases`
//!   `{"case_ids": […]}` links cases the sender may read (all or none), and
//!   `GET /api/v1/salud/events/{id}` gives the event with its cases' ids.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use ceiba_store::{CentreRow, EventRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::json::ApiJson;
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::salud_cases::HealthStaff;

/// The schema of [`CentresView`].
pub const CENTRES_SCHEMA: &str = "ceiba-salud-centros/1";
/// Most beds one centre may report.
const BEDS_MAX: u64 = 100_000;
/// Most cases linked in one request.
const LINKS_MAX: usize = 1_000;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::with_detail(ErrorCode::ValidationFailed, detail)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CentreView {
    /// `isolation` or `diagnosis`.
    pub kind: String,
    pub id: String,
    pub name: String,
    pub province_code: Option<String>,
    pub capacity: Option<u64>,
    pub occupied: Option<u64>,
    /// Beds taken per 100 beds.
    pub occupancy_percent: Option<f64>,
    pub reported_at_ms: Option<i64>,
}

impl From<CentreRow> for CentreView {
    fn from(row: CentreRow) -> CentreView {
        let occupancy_percent = match (row.capacity, row.occupied) {
            (Some(capacity), Some(occupied)) if capacity > 0 => {
                Some((occupied as f64 * 1_000.0 / capacity as f64).round() / 10.0)
            }
            _ => None,
        };
        CentreView {
            kind: row.kind,
            id: row.id,
            name: row.name,
            province_code: row.province_code,
            capacity: row.capacity,
            occupied: row.occupied,
            occupancy_percent,
            reported_at_ms: row.reported_at_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CentresView {
    /// `ceiba-salud-centros/1`.
    pub schema: &'static str,
    pub centres: Vec<CentreView>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CentresQuery {
    /// A province's DPA code.
    pub province: Option<String>,
}

/// Isolation and diagnostic centres with their beds and beds taken, as last reported.
#[utoipa::path(get, path = "/api/salud/open/centres", tag = "salud",
    params(CentresQuery),
    responses((status = 200, description = "Centros", body = CentresView)))]
pub async fn open_centres(
    State(state): State<AppState>,
    query: Result<Query<CentresQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<CentresView>, ApiError> {
    let Query(query) = query
        .map_err(|rejection| ApiError::with_detail(ErrorCode::BadRequest, rejection.body_text()))?;
    let centres = state.db.salud_centres(query.province.as_deref()).await?;
    Ok(Json(CentresView {
        schema: CENTRES_SCHEMA,
        centres: centres.into_iter().map(CentreView::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CentreReport {
    pub capacity: u64,
    pub occupied: u64,
}

/// Reports a centre's beds and beds taken (health roles of its province).
#[utoipa::path(put, path = "/api/v1/salud/centres/{kind}/{id}", tag = "salud",
    security(("bearer" = [])), request_body = CentreReport,
    params(("kind" = String, Path, description = "isolation o diagnosis"),
           ("id" = String, Path, description = "El id del centro")),
    responses(
        (status = 200, description = "Centro actualizado", body = CentreView),
        (status = 404, description = "No existe o no es de sus provincias", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Camas no válidas", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn report_centre(
    State(state): State<AppState>,
    HealthStaff { scope, .. }: HealthStaff,
    Path((kind, id)): Path<(String, String)>,
    ApiJson(report): ApiJson<CentreReport>,
) -> Result<Json<CentreView>, ApiError> {
    if report.capacity > BEDS_MAX {
        return Err(invalid(format!("capacity: a lo sumo {BEDS_MAX}")));
    }
    if report.occupied > report.capacity {
        return Err(invalid(
            "occupied: no puede pasar de capacity (si hay más camas, súbalas primero)",
        ));
    }
    let not_found = || ApiError::with_detail(ErrorCode::NotFound, "no existe tal centro");
    let centre = state
        .db
        .salud_centres(None)
        .await?
        .into_iter()
        .find(|centre| centre.kind == kind && centre.id == id)
        .filter(|centre| {
            centre.province_code.as_deref().map_or(
                scope == crate::salud_cases::CaseScope::Everywhere,
                |province| scope.allows(province),
            )
        })
        .ok_or_else(not_found)?;
    let now_ms = state.clock.now_ms();
    if !state
        .db
        .report_salud_centre(&kind, &id, report.capacity, report.occupied, now_ms)
        .await?
    {
        return Err(not_found());
    }
    Ok(Json(CentreView::from(CentreRow {
        capacity: Some(report.capacity),
        occupied: Some(report.occupied),
        reported_at_ms: Some(now_ms),
        ..centre
    })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// Where: a school, a workplace, a neighbourhood.
    pub place: String,
    pub municipality_code: String,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    pub place: String,
    pub municipality_code: Option<String>,
    pub province_code: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub open: bool,
    pub case_ids: Vec<String>,
}

fn event_view(row: EventRow, case_ids: Vec<String>) -> EventView {
    EventView {
        id: row.id,
        place: row.place,
        municipality_code: row.municipality_code,
        province_code: row.province_code,
        longitude: row.longitude,
        latitude: row.latitude,
        open: row.open,
        case_ids,
    }
}

/// Opens a transmission event (a cluster) at a place.
#[utoipa::path(post, path = "/api/v1/salud/events", tag = "salud",
    security(("bearer" = [])), request_body = NewEvent,
    responses(
        (status = 201, description = "Evento abierto", body = EventView),
        (status = 403, description = "No es personal de salud de esa provincia", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Lugar, municipio o coordenadas no válidos", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn open_event(
    State(state): State<AppState>,
    HealthStaff { scope, .. }: HealthStaff,
    ApiJson(body): ApiJson<NewEvent>,
) -> Result<(StatusCode, Json<EventView>), ApiError> {
    let place = body.place.trim().to_owned();
    if place.is_empty() || place.chars().count() > 200 {
        return Err(invalid("place: de 1 a 200 caracteres"));
    }
    // Cuba lies between 19.8° and 23.3° N, 74.1° and 85° W; a point far off is a typing error.
    let inside = |longitude: f64, latitude: f64| {
        (-85.5..=-73.5).contains(&longitude) && (19.5..=23.5).contains(&latitude)
    };
    match (body.longitude, body.latitude) {
        (None, None) => {}
        (Some(longitude), Some(latitude)) if inside(longitude, latitude) => {}
        _ => return Err(invalid("longitude, latitude: ambas, y dentro de Cuba")),
    }
    let (area, _) = state
        .db
        .salud_area(body.municipality_code.trim())
        .await?
        .filter(|(_, is_province)| !is_province)
        .ok_or_else(|| invalid("municipality_code: no es el código DPA de un municipio"))?;
    if !scope.allows(&area.province_code) {
        return Err(ApiError::with_detail(
            ErrorCode::Forbidden,
            "ese municipio es de una provincia que no es de las suyas",
        ));
    }
    let row = EventRow {
        id: format!("ev-{}", uuid::Uuid::new_v4()),
        place,
        municipality_code: Some(area.code),
        province_code: Some(area.province_code),
        longitude: body.longitude,
        latitude: body.latitude,
        open: true,
    };
    state.db.add_salud_event(&row).await?;
    Ok((StatusCode::CREATED, Json(event_view(row, Vec::new()))))
}

/// The event, if the reader may see it (its province's health roles).
async fn readable_event(
    state: &AppState,
    scope: &crate::salud_cases::CaseScope,
    id: &str,
) -> Result<EventRow, ApiError> {
    state
        .db
        .salud_event(id)
        .await?
        .filter(|event| {
            event
                .province_code
                .as_deref()
                .is_none_or(|province| scope.allows(province))
        })
        .ok_or_else(|| ApiError::with_detail(ErrorCode::NotFound, "no existe tal evento"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventLinks {
    pub case_ids: Vec<String>,
}

/// Links cases to an event: all of them, or none when one is not the sender's to read.
#[utoipa::path(post, path = "/api/v1/salud/events/{id}/cases", tag = "salud",
    security(("bearer" = [])), request_body = EventLinks,
    params(("id" = String, Path, description = "El id del evento")),
    responses(
        (status = 200, description = "El evento con sus casos", body = EventView),
        (status = 404, description = "No existe o no es de sus provincias", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Algún caso no existe o no es de sus provincias", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn link_cases(
    State(state): State<AppState>,
    HealthStaff { who, scope }: HealthStaff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EventLinks>,
) -> Result<Json<EventView>, ApiError> {
    let event = readable_event(&state, &scope, &id).await?;
    if body.case_ids.is_empty() || body.case_ids.len() > LINKS_MAX {
        return Err(invalid(format!("case_ids: de 1 a {LINKS_MAX}")));
    }
    let ids: Vec<&str> = body.case_ids.iter().map(String::as_str).collect();
    let found = state.db.salud_case_provinces(&ids).await?;
    let missing: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|case| {
            !found
                .get(*case)
                .is_some_and(|province| scope.allows(province))
        })
        .take(10)
        .collect();
    if !missing.is_empty() {
        return Err(invalid(format!(
            "case_ids: no existen o no son de sus provincias: {}",
            missing.join(", ")
        )));
    }
    state
        .db
        .link_salud_event_cases(
            &event.id,
            &body.case_ids,
            &who.user.id,
            state.clock.now_ms(),
        )
        .await?;
    let case_ids = state.db.salud_event_cases(&event.id).await?;
    Ok(Json(event_view(event, case_ids)))
}

/// An event with its cases' ids.
#[utoipa::path(get, path = "/api/v1/salud/events/{id}", tag = "salud",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "El id del evento")),
    responses(
        (status = 200, description = "El evento", body = EventView),
        (status = 404, description = "No existe o no es de sus provincias", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_event(
    State(state): State<AppState>,
    HealthStaff { scope, .. }: HealthStaff,
    Path(id): Path<String>,
) -> Result<Json<EventView>, ApiError> {
    let event = readable_event(&state, &scope, &id).await?;
    let case_ids = state.db.salud_event_cases(&event.id).await?;
    Ok(Json(event_view(event, case_ids)))
}
