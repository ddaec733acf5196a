//! The validated extractors: `Json<T>` (also a response) and `Query<T>`, built on garde.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::request::Parts;
use http::{header, HeaderValue, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::limit::read_limited;
use super::{media, DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT};
use crate::problem::{FieldError, Problem};

/// The body an extractor (`Json<T>`, `Form<T>`) deserializes: 415 unless `media` accepts its
/// type, then the one limited read ([`read_limited`]), under the limit the pipeline read an
/// allowlisted body under (so the same applies here; else [`DEFAULT_BODY_LIMIT`]) and within
/// [`DEFAULT_BODY_TIMEOUT`]. Behind the secure pipeline the body was read already, and this
/// reads it from memory; the timeout is for a body nothing read before.
pub(super) async fn read_extracted(
    parts: &Parts,
    body: Body,
    media: fn(&Parts) -> Result<(), Problem>,
) -> Result<Bytes, Problem> {
    read_extracted_within(parts, body, media, DEFAULT_BODY_TIMEOUT).await
}

/// [`read_extracted`] within `timeout`.
pub(super) async fn read_extracted_within(
    parts: &Parts,
    body: Body,
    media: fn(&Parts) -> Result<(), Problem>,
    timeout: Duration,
) -> Result<Bytes, Problem> {
    media(parts)?;
    let limit = parts
        .extensions
        .get::<crate::extract::RequestContext>()
        .and_then(|c| c.body_limit)
        .unwrap_or(DEFAULT_BODY_LIMIT);
    read_limited(parts, body, limit, timeout).await
}

/// Turns a garde report into field errors (paths and messages, never values).
pub(super) fn garde_errors(report: garde::Report) -> Vec<FieldError> {
    report
        .iter()
        .map(|(path, error)| FieldError {
            field: {
                let p = path.to_string();
                if p.is_empty() {
                    "(body)".to_owned()
                } else {
                    p
                }
            },
            message: error.message().to_string().into(),
        })
        .collect()
}

/// `value` validated with garde, or the 422 problem naming each failing field under `detail`.
pub(super) fn validated<T>(value: T, detail: &'static str) -> Result<T, Problem>
where
    T: garde::Validate,
    T::Context: Default,
{
    value
        .validate_with(&T::Context::default())
        .map_err(|report| {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
                .with_code("validation_failed")
                .with_detail(detail)
                .with_errors(garde_errors(report))
        })?;
    Ok(value)
}

/// A JSON body, deserialized after the allowlist check and validated with garde.
///
/// Rejections are problem+json: 415 for a non-JSON media type, 400 for malformed JSON, 422 for
/// a body of the wrong shape (no serde message is echoed: it can quote values) or one that
/// fails validation (field paths and garde's messages). Also a response type: `Json(value)`
/// serializes `value` as `application/json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned + garde::Validate,
    T::Context: Default,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, _: &S) -> Result<Self, Problem> {
        let (parts, body) = req.into_parts();
        let bytes = read_extracted(&parts, body, media::require_json_type).await?;
        let value: T = serde_json::from_slice(&bytes).map_err(|err| {
            if err.is_data() {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
                    .with_code("invalid_body")
                    .with_detail("The request body does not have the expected shape.")
            } else {
                Problem::bad_request("The request body is not valid JSON.")
                    .with_code("malformed_json")
            }
        })?;
        let value = validated(value, "The request body failed validation.")?;
        Ok(Json(value))
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                bytes,
            )
                .into_response(),
            Err(_) => Problem::internal().into_response(),
        }
    }
}

/// A query string, deserialized and validated with garde: 400 when it does not parse into
/// `T`, 422 when it fails validation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned + garde::Validate,
    T::Context: Default,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or_default();
        let value: T = serde_urlencoded::from_str(query).map_err(|_| {
            Problem::bad_request("The query string is not valid for this endpoint.")
                .with_code("invalid_query")
        })?;
        let value = validated(value, "The query string failed validation.")?;
        Ok(Query(value))
    }
}
