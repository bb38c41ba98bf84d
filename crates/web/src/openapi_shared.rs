//! The answers every JSON route may give because of what runs before its handler, written into
//! `/api/openapi.json` once here rather than in each `#[utoipa::path]`: the rate limiter (429),
//! the session extractor (401), the anti-CSRF check of a cookie session (403), and the
//! refusals of a request's parameters and body (400, 413, 415, 422). A route's own annotation
//! wins where it already documents the same status with a more precise description. The
//! `Idempotency-Key` header's form, checked by one function for every route that takes it
//! (`payments::idempotency_key`), is also written here once.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

use crate::problem::ErrorCode;

/// Adds the shared answers to every operation of `document`.
pub fn document_shared_answers(document: &mut OpenApi) {
    for item in document.paths.paths.values_mut() {
        let operations = [
            (false, item.post.as_mut()),
            (false, item.put.as_mut()),
            (false, item.delete.as_mut()),
            (false, item.patch.as_mut()),
            (true, item.get.as_mut()),
            (true, item.head.as_mut()),
        ];
        for (safe, operation) in operations {
            if let Some(operation) = operation {
                add_answers(operation, safe);
            }
        }
    }
}

/// Visible ASCII but the double quote, which the header may wrap the key in
/// (`payments::parse_idempotency_key`).
const IDEMPOTENCY_KEY_PATTERN: &str = "^[!#-~]+$";

fn describe_idempotency_key(operation: &mut Operation) {
    let parameters = operation.parameters.iter_mut().flatten();
    for parameter in parameters.filter(|parameter| {
        parameter.parameter_in == ParameterIn::Header
            && parameter.name.eq_ignore_ascii_case("idempotency-key")
    }) {
        parameter.schema = Some(RefOr::T(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(crate::payments::IDEMPOTENCY_KEY_CHARS_MAX))
                .pattern(Some(IDEMPOTENCY_KEY_PATTERN))
                .into(),
        ));
    }
}

fn add_answers(operation: &mut Operation, safe_method: bool) {
    describe_idempotency_key(operation);
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let has_parameters = operation
        .parameters
        .as_ref()
        .is_some_and(|parameters| !parameters.is_empty());
    let body_types: Vec<String> = operation
        .request_body
        .as_ref()
        .map(|body| body.content.keys().cloned().collect())
        .unwrap_or_default();
    let json_body = body_types.iter().any(|kind| kind.contains("json"));

    let mut answers: Vec<(ErrorCode, &str)> = vec![(
        ErrorCode::RateLimited,
        "Demasiadas peticiones desde esta dirección (Retry-After dice cuándo volver)",
    )];
    if has_parameters || !body_types.is_empty() {
        answers.push((
            ErrorCode::BadRequest,
            "La petición no es válida: un parámetro que no se puede leer o un cuerpo mal formado",
        ));
    }
    if !body_types.is_empty() {
        answers.push((
            ErrorCode::PayloadTooLarge,
            "El cuerpo pasa del tamaño máximo",
        ));
        answers.push((
            ErrorCode::UnsupportedMediaType,
            "El cuerpo no viene con el tipo de contenido esperado",
        ));
    }
    if json_body {
        answers.push((
            ErrorCode::ValidationFailed,
            "Un campo falta, sobra o no tiene el tipo esperado",
        ));
    }
    if secured {
        answers.push((
            ErrorCode::Unauthenticated,
            "Sin sesión, o la sesión no es válida o venció",
        ));
        if !safe_method {
            answers.push((
                ErrorCode::CsrfRejected,
                "Con la cookie de sesión, falta el token anti-CSRF de la sesión",
            ));
        }
    }
    for (code, description) in answers {
        let status = code.entry().status.as_u16().to_string();
        operation
            .responses
            .responses
            .entry(status)
            .or_insert_with(|| RefOr::T(problem_response(description)));
    }
}

fn problem_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}
