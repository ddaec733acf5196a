//! The outermost layer of the secure router: request id in, and on every response (success,
//! rejection, 404, 405, panic) the security headers, `Cache-Control: no-store`, the request id,
//! and, for any error, an RFC 9457 problem body with nothing internal.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue};
use tower::{Layer, Service};

use crate::problem::{new_error_id, Problem, RenderedProblem, Renderer, PROBLEM_JSON};

use crate::extract::RequestId;
pub use crate::extract::X_REQUEST_ID;

/// The headers set on every response. Built once; inserting them copies no bytes.
const SECURITY_HEADERS: [(HeaderName, HeaderValue); 6] = [
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=63072000; includeSubDomains"),
    ),
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    ),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
];

const X_POWERED_BY: HeaderName = HeaderName::from_static("x-powered-by");

/// The headers of every response: the security headers, then places for the request id and
/// the content type, which `finish` sets (or, for a response without a body type, removes).
/// Cloned per response: a cloned `HeaderMap` has room for exactly what it holds, so these
/// places let the usual response (a body with its content type) be finished without the map
/// growing (a reallocation and a copy of every entry), and the security headers are copied,
/// not hashed and inserted one by one (about 180 instructions each).
static TEMPLATE: std::sync::LazyLock<HeaderMap> = std::sync::LazyLock::new(|| {
    let mut map = HeaderMap::with_capacity(SECURITY_HEADERS.len() + 2);
    for (name, value) in SECURITY_HEADERS {
        map.insert(name, value);
    }
    map.insert(X_REQUEST_ID, HeaderValue::from_static("-"));
    map.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    map
});

/// Headers the secure router sets or removes itself.
fn is_managed(name: &HeaderName) -> bool {
    SECURITY_HEADERS.iter().any(|(n, _)| n == name)
        || name == header::SERVER
        || name == X_POWERED_BY
        || name == X_REQUEST_ID
}

/// Finishes a response: problem body for errors (in the application's format when a
/// [`ProblemRenderer`](crate::problem::ProblemRenderer) is configured), security headers,
/// request id.
pub(crate) fn finish(
    mut response: Response,
    request_id: &RequestId,
    renderer: Option<&Renderer>,
) -> Response {
    let status = response.status();
    let mut plain_http = false;
    if status.is_client_error() || status.is_server_error() {
        plain_http = response
            .extensions()
            .get::<RenderedProblem>()
            .is_some_and(|r| r.problem.code() == "https_required");
        response = normalize_error(response, request_id, renderer);
    }
    // Start from a copy of the template (security headers, then the request id's and the
    // content type's places), set those two, and move the response's other headers in; the
    // handler cannot override a security header nor send `Server`/`X-Powered-By`.
    let own = std::mem::replace(response.headers_mut(), TEMPLATE.clone());
    let headers = response.headers_mut();
    // The template holds both places: a lookup and a store, cheaper than an insert.
    if let Some(place) = headers.get_mut(X_REQUEST_ID) {
        *place = request_id.header_value();
    }
    let mut content_type = false;
    let mut last = None;
    for (name, value) in own {
        if let Some(name) = name {
            last = Some(name);
        }
        let Some(name) = &last else { continue };
        if !content_type && name == header::CONTENT_TYPE {
            if let Some(place) = headers.get_mut(header::CONTENT_TYPE) {
                *place = value;
            }
            content_type = true;
        } else if !is_managed(name) {
            headers.append(name.clone(), value);
        }
    }
    if !content_type {
        headers.remove(header::CONTENT_TYPE);
    }
    if plain_http {
        // HSTS only means something over HTTPS (RFC 6797 §7.2): not on a plain-HTTP refusal.
        headers.remove(header::STRICT_TRANSPORT_SECURITY);
    }
    response
}

/// Re-renders a [`Problem`] with the request id; replaces any other error body (an axum
/// rejection's text, a handler's own error body) by a generic problem for its status, keeping
/// only headers that carry protocol meaning. The renderer, if any, writes the body last, from
/// the problem and the headers that will be sent. Re-finishing a finished response renders it
/// again from its problem, the same way.
fn normalize_error(
    response: Response,
    request_id: &RequestId,
    renderer: Option<&Renderer>,
) -> Response {
    let rid = Some(request_id.as_str());
    if let Some(rendered) = response.extensions().get::<RenderedProblem>() {
        let mut out = rendered.problem.render(&rendered.error_id, rid);
        copy_protocol_headers(response.headers(), out.headers_mut());
        if let Some(renderer) = renderer {
            renderer.apply(
                &rendered.problem,
                &rendered.error_id,
                request_id.as_str(),
                &mut out,
            );
        }
        log_problem(&rendered.problem, &rendered.error_id, request_id);
        // Kept for the security event, which reads the problem that was sent.
        out.extensions_mut().insert(rendered.clone());
        return out;
    }
    let problem = Problem::new(response.status());
    let error_id = new_error_id();
    let mut out = problem.render(&error_id, rid);
    copy_protocol_headers(response.headers(), out.headers_mut());
    if let Some(renderer) = renderer {
        renderer.apply(&problem, &error_id, request_id.as_str(), &mut out);
    }
    log_problem(&problem, &error_id, request_id);
    out.extensions_mut().insert(RenderedProblem {
        problem: std::sync::Arc::new(problem),
        error_id: error_id.into(),
    });
    out
}

/// Headers of an error response worth keeping when its body is replaced.
fn copy_protocol_headers(from: &HeaderMap, to: &mut HeaderMap) {
    const KEEP: [HeaderName; 9] = [
        header::ALLOW,
        HeaderName::from_static("deprecation"),
        HeaderName::from_static("sunset"),
        header::LINK,
        header::RETRY_AFTER,
        header::WWW_AUTHENTICATE,
        HeaderName::from_static("ratelimit"),
        HeaderName::from_static("ratelimit-policy"),
        header::VARY,
    ];
    for name in KEEP {
        if !to.contains_key(&name) {
            for v in from.get_all(&name) {
                to.append(name.clone(), v.clone());
            }
        }
    }
    to.insert(header::CONTENT_TYPE, PROBLEM_JSON);
}

fn log_problem(problem: &Problem, error_id: &str, request_id: &RequestId) {
    if problem.status().is_server_error() {
        tracing::error!(target: "secure_endpoint::problem", status = problem.status().as_u16(), code = problem.code(), error_id, request_id = request_id.as_str(), "request failed");
    } else {
        tracing::debug!(target: "secure_endpoint::problem", status = problem.status().as_u16(), code = problem.code(), error_id, request_id = request_id.as_str(), "request rejected");
    }
}

/// The layer the secure router wraps every route and the fallback in.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecurityLayer;

impl<S> Layer<S> for SecurityLayer {
    type Service = SecurityService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        SecurityService {
            inner,
            renderer: None,
        }
    }
}

/// [`SecurityLayer`] with a configuration's
/// [`problem_renderer`](crate::SecurityBuilder::problem_renderer), so that plain axum routes
/// merged beside a secure router answer errors in the same format:
/// [`Security::layer`](crate::Security::layer).
#[derive(Debug, Clone)]
pub struct RenderingSecurityLayer {
    pub(crate) renderer: Option<Renderer>,
}

impl<S> Layer<S> for RenderingSecurityLayer {
    type Service = SecurityService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        SecurityService {
            inner,
            renderer: self.renderer.clone(),
        }
    }
}

/// See [`SecurityLayer`].
#[derive(Debug, Clone)]
pub struct SecurityService<S> {
    inner: S,
    renderer: Option<Renderer>,
}

impl<S> Service<Request> for SecurityService<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let request_id = RequestId::from_request(req.headers());
        req.extensions_mut().insert(request_id.clone());
        ResponseFuture {
            inner: self.inner.call(req),
            request_id: Some(request_id),
            renderer: self.renderer.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    /// Future of [`SecurityService`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        request_id: Option<RequestId>,
        renderer: Option<Renderer>,
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match this.inner.poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(r) => r?,
        };
        let request_id = this.request_id.take().expect("polled after completion");
        Poll::Ready(Ok(finish(response, &request_id, this.renderer.as_ref())))
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
