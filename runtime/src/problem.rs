//! RFC 9457 problem details: the one shape of every rejection.
//!
//! A [`Problem`] renders as `application/problem+json` with `type`, `title`, `status`, an
//! optional `detail`, a machine-readable `code`, an `error_id` and, when served through the
//! secure router, the `request_id`. It never carries anything internal: no source error, type
//! name, query or stack trace. Build one from a status and a fixed message; log details yourself
//! under the `error_id` if you need them.

use std::borrow::Cow;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::header::{HeaderName, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;

/// `application/problem+json`.
pub const PROBLEM_JSON: HeaderValue = HeaderValue::from_static("application/problem+json");

/// One invalid or unexpected field, named by its path (values are never echoed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's path, e.g. `title` or `tags[3]`.
    pub field: String,
    /// What is wrong with it.
    pub message: Cow<'static, str>,
}

/// An RFC 9457 problem: status, a fixed title and detail, optional field errors and headers.
///
/// One pointer wide, so `Result<T, Problem>` costs nothing extra on the success path.
#[derive(Debug, Clone)]
pub struct Problem(Box<ProblemInner>);

#[derive(Debug, Clone)]
struct ProblemInner {
    status: StatusCode,
    code: &'static str,
    title: Cow<'static, str>,
    detail: Option<Cow<'static, str>>,
    errors: Vec<FieldError>,
    headers: HeaderMap,
    /// Why, for security events only (never rendered): `credential_invalid`, `not_owner`, ...
    reason: Option<&'static str>,
}

impl Problem {
    /// A problem with `status`, its canonical reason as title and a generic code.
    pub fn new(status: StatusCode) -> Self {
        Problem(Box::new(ProblemInner {
            status,
            code: default_code(status),
            title: Cow::Borrowed(status.canonical_reason().unwrap_or("Error")),
            detail: None,
            errors: Vec::new(),
            headers: HeaderMap::new(),
            reason: None,
        }))
    }

    /// Records why the request was refused, for the security event (not sent to the client).
    pub(crate) fn with_reason(mut self, reason: &'static str) -> Self {
        self.0.reason = Some(reason);
        self
    }

    /// The reason recorded with [`with_reason`](Self::with_reason).
    pub(crate) fn reason(&self) -> Option<&'static str> {
        self.0.reason
    }

    /// Sets a human-readable explanation. Keep it free of anything internal.
    pub fn with_detail(mut self, detail: impl Into<Cow<'static, str>>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    /// Sets the machine-readable `code` (snake_case).
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.0.code = code;
        self
    }

    /// Adds field errors (names and messages only).
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.0.errors = errors;
        self
    }

    /// Adds a response header (e.g. `Retry-After`).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.0.headers.append(name, value);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        self.0.code
    }

    /// The field errors.
    pub fn errors(&self) -> &[FieldError] {
        &self.0.errors
    }

    /// The extra headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.0.headers
    }

    /// 400: the request is malformed.
    pub fn bad_request(detail: &'static str) -> Self {
        Problem::new(StatusCode::BAD_REQUEST).with_detail(detail)
    }

    /// 404, the same for a missing resource and for another principal's (no existence oracle).
    pub fn not_found() -> Self {
        Problem::new(StatusCode::NOT_FOUND).with_detail("The requested resource was not found.")
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden() -> Self {
        Problem::new(StatusCode::FORBIDDEN)
            .with_detail("You are not allowed to perform this action.")
    }

    /// 500 with nothing internal.
    pub fn internal() -> Self {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR)
            .with_detail("An unexpected error occurred. Quote the error id when reporting it.")
    }

    /// Renders the JSON body with the given ids.
    pub(crate) fn body(&self, error_id: &str, request_id: Option<&str>) -> Vec<u8> {
        #[derive(Serialize)]
        struct Body<'a> {
            #[serde(rename = "type")]
            type_: &'static str,
            title: &'a str,
            status: u16,
            #[serde(skip_serializing_if = "Option::is_none")]
            detail: Option<&'a str>,
            code: &'a str,
            error_id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            request_id: Option<&'a str>,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            errors: &'a [FieldError],
        }
        serde_json::to_vec(&Body {
            type_: "about:blank",
            title: &self.0.title,
            status: self.0.status.as_u16(),
            detail: self.0.detail.as_deref(),
            code: self.0.code,
            error_id,
            request_id,
            errors: &self.0.errors,
        })
        .unwrap_or_else(|_| b"{}".to_vec())
    }

    /// Renders the full response.
    pub(crate) fn render(&self, error_id: &str, request_id: Option<&str>) -> Response {
        let mut response = (self.0.status, self.body(error_id, request_id)).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, PROBLEM_JSON);
        for (name, value) in &self.0.headers {
            headers.append(name.clone(), value.clone());
        }
        response
    }
}

/// Marks a response rendered from a [`Problem`], so the secure router can re-render it with
/// the request id.
#[derive(Clone)]
pub(crate) struct RenderedProblem {
    pub(crate) problem: Arc<Problem>,
    pub(crate) error_id: Arc<str>,
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let error_id: Arc<str> = new_error_id().into();
        let mut response = self.render(&error_id, None);
        response.extensions_mut().insert(RenderedProblem {
            problem: Arc::new(self),
            error_id,
        });
        response
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.0.status.as_u16(), self.0.title)
    }
}

impl std::error::Error for Problem {}

/// A fresh error id (a UUID v4).
pub(crate) fn new_error_id() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

fn default_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        408 => "request_timeout",
        409 => "conflict",
        410 => "gone",
        411 => "length_required",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "unprocessable_content",
        429 => "rate_limited",
        431 => "request_header_fields_too_large",
        500 => "internal_error",
        501 => "not_implemented",
        503 => "service_unavailable",
        s if s >= 500 => "server_error",
        _ => "client_error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_rfc9457_members_and_ids() {
        let p = Problem::new(StatusCode::UNPROCESSABLE_ENTITY).with_errors(vec![FieldError {
            field: "role".into(),
            message: "unknown field".into(),
        }]);
        let v: serde_json::Value = serde_json::from_slice(&p.body("e1", Some("r1"))).unwrap();
        assert_eq!(v["type"], "about:blank");
        assert_eq!(v["title"], "Unprocessable Entity");
        assert_eq!(v["status"], 422);
        assert_eq!(v["code"], "unprocessable_content");
        assert_eq!(v["error_id"], "e1");
        assert_eq!(v["request_id"], "r1");
        assert_eq!(v["errors"][0]["field"], "role");
    }
}
