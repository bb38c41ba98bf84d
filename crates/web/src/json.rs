//! JSON bodies: axum's extractor, with its refusals turned into the error table's codes.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, ErrorCode};

/// `Json<T>` whose refusals are problems: 400 malformed JSON, 422 wrong or unknown fields
/// (bodies are `deny_unknown_fields`, so a field that tries to set a role or a balance is
/// refused, not ignored), 415 without `Content-Type: application/json`, 413 too large.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(match &rejection {
                JsonRejection::JsonSyntaxError(_) => {
                    ApiError::with_detail(ErrorCode::MalformedJson, rejection.body_text())
                }
                JsonRejection::JsonDataError(_) => {
                    ApiError::with_detail(ErrorCode::ValidationFailed, rejection.body_text())
                }
                JsonRejection::MissingJsonContentType(_) => ApiError::with_detail(
                    ErrorCode::UnsupportedMediaType,
                    "se espera Content-Type: application/json",
                ),
                _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::new(ErrorCode::PayloadTooLarge)
                }
                _ => ApiError::with_detail(ErrorCode::BadRequest, rejection.body_text()),
            }),
        }
    }
}
