//! The JSON routes. Each is declared with `#[utoipa::path]` and registered through
//! `utoipa_axum::routes!`, so a route cannot exist without its place in `/api/openapi.json`.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::problem::{ApiError, ErrorCode, Problem, ProblemKind, problem_kinds};

const READY_TIMEOUT: Duration = Duration::from_secs(2);
/// Browsers send small reports; anything larger is not one.
pub const CSP_REPORT_BYTES_MAX: usize = 16 * 1024;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the process answers.
    pub status: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` when the database answers.
    pub status: &'static str,
    /// `sqlite` or `postgresql`.
    pub database: &'static str,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "operación",
    responses((status = 200, description = "El proceso responde", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// The process can serve: its database answers.
#[utoipa::path(get, path = "/readyz", tag = "operación",
    responses(
        (status = 200, description = "Listo para atender", body = Readiness),
        (status = 503, description = "La base de datos no responde", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Readiness>, ApiError> {
    match tokio::time::timeout(READY_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => Ok(Json(Readiness {
            status: "ready",
            database: state.db.engine().as_str(),
        })),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check: the database did not answer");
            Err(ApiError::with_detail(
                ErrorCode::DatabaseUnavailable,
                error.to_string(),
            ))
        }
        Err(_elapsed) => Err(ApiError::with_detail(
            ErrorCode::DatabaseUnavailable,
            format!("sin respuesta en {} s", READY_TIMEOUT.as_secs()),
        )),
    }
}

/// Prometheus metrics in the OpenMetrics text format.
#[utoipa::path(get, path = "/metrics", tag = "operación",
    responses((status = 200, description = "Métricas", body = String,
        content_type = "application/openmetrics-text")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Every error code the API can answer with, its HTTP status and its message.
#[utoipa::path(get, path = "/api/problems", tag = "errores",
    responses((status = 200, description = "La tabla de errores", body = Vec<ProblemKind>)))]
pub async fn problems() -> Json<Vec<ProblemKind>> {
    Json(problem_kinds())
}

/// A Content-Security-Policy violation report, in the legacy (`report-uri`) shape.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CspReportEnvelope {
    #[serde(rename = "csp-report")]
    pub csp_report: CspViolation,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct CspViolation {
    pub document_uri: Option<String>,
    pub violated_directive: Option<String>,
    pub effective_directive: Option<String>,
    pub blocked_uri: Option<String>,
}

/// Receives a browser's report that the Content-Security-Policy blocked something: a sign of
/// an injection attempt or of a page bug. Counted in `/metrics` and logged.
#[utoipa::path(post, path = "/api/v1/csp-reports", tag = "seguridad",
    // Browsers send `application/csp-report`; the handler takes `application/json` as well.
    request_body(content(
        (CspReportEnvelope = "application/csp-report"),
        (CspReportEnvelope = "application/json"),
    )),
    responses(
        (status = 204, description = "Informe recibido"),
        (status = 400, description = "No es JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Demasiado grande", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Tipo de contenido no admitido", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No es un informe CSP", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn csp_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    match content_type.as_deref() {
        Some("application/csp-report" | "application/json") => {}
        other => {
            return Err(ApiError::with_detail(
                ErrorCode::UnsupportedMediaType,
                format!(
                    "se esperaba application/csp-report, llegó {}",
                    other.unwrap_or("ninguno")
                ),
            ));
        }
    }
    // The route's body limit is CSP_REPORT_BYTES_MAX (see `api_routes`).
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::with_detail(
                ErrorCode::PayloadTooLarge,
                format!("un informe CSP no pasa de {CSP_REPORT_BYTES_MAX} bytes"),
            )
        } else {
            ApiError::with_detail(ErrorCode::BadRequest, rejection.body_text())
        }
    })?;
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|error| ApiError::with_detail(ErrorCode::MalformedJson, error.to_string()))?;
    let envelope: CspReportEnvelope = serde_json::from_value(value)
        .map_err(|error| ApiError::with_detail(ErrorCode::ValidationFailed, error.to_string()))?;
    let violation = envelope.csp_report;
    let directive_text = violation
        .effective_directive
        .as_deref()
        .or(violation.violated_directive.as_deref())
        .ok_or_else(|| {
            ApiError::with_detail(
                ErrorCode::ValidationFailed,
                "falta effective-directive o violated-directive",
            )
        })?;
    let directive = known_directive(directive_text);
    state.metrics.count_csp_violation(directive);
    tracing::warn!(
        directive,
        // Debug formatting escapes control characters: a report cannot forge a log line.
        blocked = ?truncate(violation.blocked_uri.as_deref().unwrap_or(""), 200),
        document = ?truncate(violation.document_uri.as_deref().unwrap_or(""), 200),
        "a browser reported a Content-Security-Policy violation"
    );
    Ok(StatusCode::NO_CONTENT)
}

/// The directive's name when it is one CSP defines; `other` keeps the metric's labels bounded.
fn known_directive(text: &str) -> &'static str {
    const DIRECTIVES: &[&str] = &[
        "default-src",
        "script-src",
        "script-src-elem",
        "script-src-attr",
        "style-src",
        "style-src-elem",
        "style-src-attr",
        "img-src",
        "font-src",
        "connect-src",
        "media-src",
        "object-src",
        "frame-src",
        "child-src",
        "worker-src",
        "manifest-src",
        "form-action",
        "frame-ancestors",
        "base-uri",
    ];
    let name = text.split_whitespace().next().unwrap_or("");
    DIRECTIVES
        .iter()
        .find(|directive| directive.eq_ignore_ascii_case(name))
        .copied()
        .unwrap_or("other")
}

fn truncate(text: &str, chars_max: usize) -> String {
    text.chars().take(chars_max).collect()
}
