//! Problems (RFC 9457) and their rendering: [`Problem`], [`ProblemRenderer`].

use std::borrow::Cow;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::header::{HeaderName, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;

/// `application/problem+json`.
pub(crate) const PROBLEM_JSON: HeaderValue = HeaderValue::from_static("application/problem+json");

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

/// What a [`ProblemRenderer`] sees of a rejection: what the default RFC 9457 body shows
/// (status, title, detail, code, field errors, error id, request id) and the headers the
/// response carries, nothing internal.
#[derive(Clone, Copy)]
pub struct ProblemView<'a> {
    problem: &'a Problem,
    error_id: &'a str,
    request_id: &'a str,
    headers: &'a HeaderMap,
}

impl<'a> ProblemView<'a> {
    /// The HTTP status the response has (a renderer cannot change it).
    pub fn status(&self) -> StatusCode {
        self.problem.status()
    }

    /// The machine-readable code (`unauthenticated`, `rate_limited`, `unknown_field`, ...).
    pub fn code(&self) -> &'a str {
        self.problem.code()
    }

    /// The short human-readable summary (the status's reason phrase unless set otherwise).
    pub fn title(&self) -> &'a str {
        &self.problem.0.title
    }

    /// The human-readable explanation, if any.
    pub fn detail(&self) -> Option<&'a str> {
        self.problem.0.detail.as_deref()
    }

    /// The field errors: each field's path (`title`, `user.email`, `tags[3]`) and what is
    /// wrong with it. Values are never included.
    pub fn errors(&self) -> &'a [FieldError] {
        self.problem.errors()
    }

    /// The error id (a UUID v4), which the server's log line carries too.
    pub fn error_id(&self) -> &'a str {
        self.error_id
    }

    /// The request id, also sent as `X-Request-ID`.
    pub fn request_id(&self) -> &'a str {
        self.request_id
    }

    /// `Retry-After` in seconds, when the response carries it (429, some 503s).
    pub fn retry_after(&self) -> Option<u64> {
        self.header(http::header::RETRY_AFTER)?
            .to_str()
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// A header the response carries besides the security headers (`WWW-Authenticate`,
    /// `Allow`, `Retry-After`, `RateLimit`, ...): sent whatever the renderer writes.
    pub fn header(&self, name: impl http::header::AsHeaderName) -> Option<&'a HeaderValue> {
        self.headers.get(name)
    }

    /// The default RFC 9457 body, for a renderer that wraps or extends it.
    pub fn problem_json(&self) -> Vec<u8> {
        self.problem.body(self.error_id, Some(self.request_id))
    }
}

/// Shows what the accessors show, and nothing else (not the refusal's internal reason).
impl std::fmt::Debug for ProblemView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProblemView")
            .field("status", &self.status())
            .field("code", &self.code())
            .field("title", &self.title())
            .field("detail", &self.detail())
            .field("errors", &self.errors())
            .field("error_id", &self.error_id())
            .field("request_id", &self.request_id())
            .finish()
    }
}

/// A body a [`ProblemRenderer`] wrote, with its content type.
#[derive(Debug, Clone)]
pub struct ProblemBody {
    content_type: HeaderValue,
    body: bytes::Bytes,
}

impl ProblemBody {
    /// `body` sent as `content_type`.
    pub fn new(content_type: HeaderValue, body: impl Into<bytes::Bytes>) -> Self {
        ProblemBody {
            content_type,
            body: body.into(),
        }
    }

    /// `value` as `application/json`; `None` (so the default problem is sent) when it fails
    /// to serialize.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Option<Self> {
        serde_json::to_vec(value).ok().map(|body| ProblemBody {
            content_type: HeaderValue::from_static("application/json"),
            body: body.into(),
        })
    }

    /// The content type.
    pub fn content_type(&self) -> &HeaderValue {
        &self.content_type
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// Turns rejections into the application's error format; see
/// [`SecurityBuilder::problem_renderer`](crate::SecurityBuilder::problem_renderer).
///
/// RFC 9457 problem details: the one shape of every rejection.
///
/// A [`Problem`] renders as `application/problem+json` with `type`, `title`, `status`, an
/// optional `detail`, a machine-readable `code`, an `error_id` and, when served through the
/// secure router, the `request_id`. It never carries anything internal: no source error, type
/// name, query or stack trace. Build one from a status and a fixed message; log details yourself
/// under the `error_id` if you need them.
///
/// # The application's own error format
///
/// Many APIs publish an error shape of their own.
/// [`SecurityBuilder::problem_renderer`](crate::SecurityBuilder::problem_renderer) installs a
/// [`ProblemRenderer`] that turns every rejection into that shape: the library's own (401, 403, 404, 405, 408, 413, 414, 415, 422,
/// 429, 503, a panic's or a timeout's 500/503, the router's 404 and 405 fallbacks), the
/// [`Json`](crate::Json)/[`Query`](crate::Query) extractors' validation failures, a handler's
/// own [`Problem`] and a handler's own error status. It is applied where the secure router
/// finishes every response, so one renderer covers them all, and what the guarantees say stays
/// true whatever it writes: the status is the problem's, the security headers and
/// `X-Request-ID` are set, and the headers the rejection needs (`WWW-Authenticate`,
/// `Retry-After`, `RateLimit*`, `Allow`) are kept. The renderer sees a [`ProblemView`]: what the
/// default body would show and nothing more (never the internal reason of a refusal, such as
/// "not the owner" behind a 404). It chooses the body and its content type; returning `None`
/// keeps the RFC 9457 default for that problem, and a renderer that panics or fails to
/// serialize gets the default too (and a log line).
///
/// ```
/// use secure_endpoint::{ProblemBody, ProblemView};
/// use secure_endpoint::Security;
/// use std::collections::BTreeMap;
///
/// /// RealWorld's shape: `{"errors": {"body": ["can't be empty"]}}`.
/// fn realworld(problem: &ProblemView<'_>) -> Option<ProblemBody> {
///     let mut errors: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
///     for error in problem.errors() {
///         errors.entry(&error.field).or_default().push(&error.message);
///     }
///     if errors.is_empty() {
///         errors.insert("body", vec![problem.detail().unwrap_or(problem.title())]);
///     }
///     ProblemBody::json(&serde_json::json!({ "errors": errors }))
/// }
///
/// let security = Security::builder().problem_renderer(realworld).build();
/// ```
///
/// Implemented for every `Fn(&ProblemView<'_>) -> Option<ProblemBody>` (a `fn` item, or a
/// closure whose parameter is annotated: `|problem: &ProblemView<'_>| ...`). `None` keeps the
/// default RFC 9457 body for that problem.
pub trait ProblemRenderer: Send + Sync + 'static {
    /// The body for `problem`, or `None` for the default.
    fn render(&self, problem: &ProblemView<'_>) -> Option<ProblemBody>;
}

impl<F> ProblemRenderer for F
where
    F: Fn(&ProblemView<'_>) -> Option<ProblemBody> + Send + Sync + 'static,
{
    fn render(&self, problem: &ProblemView<'_>) -> Option<ProblemBody> {
        self(problem)
    }
}

/// The configured renderer, shared by every route of a router.
#[derive(Clone)]
pub(crate) struct Renderer(pub(crate) Arc<dyn ProblemRenderer>);

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProblemRenderer")
    }
}

impl Renderer {
    /// Replaces `response`'s body (rendered by default from `problem`) by the renderer's, if
    /// it writes one. A renderer that panics leaves the default, and is logged.
    pub(crate) fn apply(
        &self,
        problem: &Problem,
        error_id: &str,
        request_id: &str,
        response: &mut Response,
    ) {
        let view = ProblemView {
            problem,
            error_id,
            request_id,
            headers: response.headers(),
        };
        let rendered =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.0.render(&view)));
        match rendered {
            Ok(Some(body)) => {
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, body.content_type);
                *response.body_mut() = axum::body::Body::from(body.body);
            }
            Ok(None) => {}
            Err(_) => {
                tracing::error!(target: "secure_endpoint::problem", status = problem.status().as_u16(), error_id, request_id, "problem renderer panicked; the default problem was sent");
            }
        }
    }
}

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
#[path = "problem_tests.rs"]
mod tests;
