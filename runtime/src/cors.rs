//! CORS on tower-http's `CorsLayer`, configured the safe way: an allowlist of exact origins
//! (never `*`, so credentials can be allowed), the request's origin echoed only when it is on
//! the list, `Vary: Origin` always, preflights answered. An origin that is not on the list
//! (including `null`, look-alikes such as `https://app.example.com.evil.example`, and the
//! right host with the wrong scheme or port) gets no `Access-Control-Allow-*` header at all.
//!
//! Preflights go through the perimeter like every other request. tower-http's layer would
//! answer every `OPTIONS` before the route is even looked up, so the secure router hands it
//! only the other methods: an `OPTIONS` request is routed, and reaches the router's fallback
//! for its path, which runs the perimeter checks (HTTPS, request target and header sizes, the
//! per-IP limit) and only then lets tower-http answer a CORS preflight (`Origin` and
//! `Access-Control-Request-Method` present) to a routed path. The answer carries the security
//! headers and the request id, and is a security event (`cors_rejected` when the origin is
//! not on the list). An `OPTIONS` that is not a preflight is a 405 (with `Allow`); one to a
//! path that is not routed, a 404.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use tower::{Layer, Service, ServiceExt};
use tower_http::cors::AllowOrigin;

use crate::events::{EventContext, EventKind, Observer};
use crate::perimeter::Perimeter;

/// The CORS policy of a [`SecureRouter`](crate::SecureRouter), set with
/// [`SecurityBuilder::cors`](crate::SecurityBuilder::cors).
#[derive(Debug, Clone)]
#[must_use]
pub struct Cors {
    origins: Vec<HeaderValue>,
    methods: Vec<Method>,
    headers: Vec<HeaderName>,
    expose: Vec<HeaderName>,
    credentials: bool,
    max_age: Duration,
}

impl Cors {
    /// Allows exactly these origins (`https://app.example.com`, `http://localhost:5173`):
    /// scheme, host and optional port, nothing else. Methods GET, POST, PUT, PATCH and DELETE;
    /// request headers `authorization`, `content-type` and `x-api-key`; the request id and rate
    /// limit headers exposed; no credentials; preflights cached for 10 minutes.
    ///
    /// # Panics
    /// At start-up, on `*`, `null`, or anything that is not a plain origin.
    pub fn allow_origins<I>(origins: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let origins: Vec<HeaderValue> = origins
            .into_iter()
            .map(|o| {
                let o = o.as_ref();
                assert!(
                    is_origin(o),
                    "`Cors::allow_origins`: {o:?} is not an origin (`https://host[:port]`, lowercase, no path; never `*` or `null`)"
                );
                HeaderValue::from_str(o).expect("checked to be ASCII")
            })
            .collect();
        assert!(
            !origins.is_empty(),
            "`Cors::allow_origins` needs at least one origin"
        );
        Cors {
            origins,
            methods: vec![
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ],
            headers: vec![
                http::header::AUTHORIZATION,
                http::header::CONTENT_TYPE,
                HeaderName::from_static("x-api-key"),
            ],
            expose: vec![
                HeaderName::from_static("x-request-id"),
                http::header::RETRY_AFTER,
                HeaderName::from_static("ratelimit"),
                HeaderName::from_static("ratelimit-policy"),
            ],
            credentials: false,
            max_age: Duration::from_secs(600),
        }
    }

    /// The methods a cross-origin request may use.
    pub fn allow_methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        self.methods = methods.into_iter().collect();
        self
    }

    /// The request headers a cross-origin request may send.
    pub fn allow_headers(mut self, headers: impl IntoIterator<Item = HeaderName>) -> Self {
        self.headers = headers.into_iter().collect();
        self
    }

    /// Lets the browser send cookies and HTTP authentication (`Access-Control-Allow-
    /// Credentials: true`). Safe here because origins are always an explicit list.
    pub fn allow_credentials(mut self, allow: bool) -> Self {
        self.credentials = allow;
        self
    }

    /// How long a browser may cache a preflight answer.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    fn tower_layer(&self) -> tower_http::cors::CorsLayer {
        tower_http::cors::CorsLayer::new()
            .allow_origin(AllowOrigin::list(self.origins.iter().cloned()))
            .allow_methods(self.methods.clone())
            .allow_headers(self.headers.clone())
            .expose_headers(self.expose.clone())
            .allow_credentials(self.credentials)
            .max_age(self.max_age)
    }

    /// The layer for every route and fallback of the secure router: tower-http's CORS for
    /// every method but `OPTIONS`, which is left to the route (see the module documentation).
    pub(crate) fn layer(&self) -> CorsLayer {
        CorsLayer(self.tower_layer())
    }

    /// tower-http's answer to the CORS preflight `parts` (a request [`is_preflight`] accepts,
    /// to a routed path, past the perimeter), and whether its origin is allowed. Without
    /// `Access-Control-Allow-Origin` it carries no `Access-Control-*` header at all.
    pub(crate) async fn preflight(&self, parts: &Parts) -> (Response, bool) {
        let mut request = Request::new(Body::empty());
        *request.method_mut() = parts.method.clone();
        *request.uri_mut() = parts.uri.clone();
        *request.headers_mut() = parts.headers.clone();
        // tower-http answers an `OPTIONS` itself; the inner service is never called.
        let never_called = tower::service_fn(|_: Request<Body>| async {
            Ok::<_, std::convert::Infallible>(
                crate::problem::Problem::new(StatusCode::METHOD_NOT_ALLOWED).into_response(),
            )
        });
        let Ok(mut response) = self
            .tower_layer()
            .layer(never_called)
            .oneshot(request)
            .await;
        let allowed = !strip_unless_allowed(response.headers_mut());
        (response, allowed)
    }
}

/// `true` for a CORS preflight (Fetch): `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`.
pub(crate) fn is_preflight(parts: &Parts) -> bool {
    parts.method == Method::OPTIONS
        && parts.headers.contains_key(http::header::ORIGIN)
        && parts
            .headers
            .contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// Without `Access-Control-Allow-Origin` the response was not for an allowed origin: removes
/// the other `Access-Control-*` headers tower-http sends whatever the origin, and returns
/// `true`.
fn strip_unless_allowed(headers: &mut HeaderMap) -> bool {
    if headers.contains_key(http::header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        return false;
    }
    for name in [
        http::header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        http::header::ACCESS_CONTROL_ALLOW_HEADERS,
        http::header::ACCESS_CONTROL_ALLOW_METHODS,
        http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
        http::header::ACCESS_CONTROL_MAX_AGE,
    ] {
        headers.remove(name);
    }
    true
}

/// tower-http's CORS layer for every method but `OPTIONS` (see the module documentation).
#[derive(Debug, Clone)]
pub(crate) struct CorsLayer(tower_http::cors::CorsLayer);

impl<S> Layer<S> for CorsLayer {
    type Service = CorsService<S>;

    fn layer(&self, inner: S) -> CorsService<S> {
        CorsService(self.0.layer(inner))
    }
}

/// See [`CorsLayer`].
#[derive(Debug, Clone)]
pub(crate) struct CorsService<S>(tower_http::cors::Cors<S>);

impl<S> Service<Request<Body>> for CorsService<S>
where
    S: Service<Request<Body>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = CorsFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if request.method() == Method::OPTIONS {
            // Routed like any request: the fallback answers it after the perimeter.
            CorsFuture::Routed {
                future: self.0.get_mut().call(request),
            }
        } else {
            CorsFuture::Cors {
                future: self.0.call(request),
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// Future of [`CorsService`].
    #[project = CorsFutureProjection]
    pub(crate) enum CorsFuture<F> {
        Cors { #[pin] future: tower_http::cors::ResponseFuture<F> },
        Routed { #[pin] future: F },
    }
}

impl<F, E> Future for CorsFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CorsFutureProjection::Cors { future } => future.poll(cx),
            CorsFutureProjection::Routed { future } => future.poll(cx),
        }
    }
}

/// What the CORS [`guard`] needs of the router's configuration: where its events go, and the
/// perimeter that names the client in them.
#[derive(Debug)]
pub(crate) struct CorsGuard {
    observer: Observer,
    perimeter: Perimeter,
}

impl CorsGuard {
    pub(crate) fn new(observer: Observer, perimeter: Perimeter) -> Self {
        CorsGuard {
            observer,
            perimeter,
        }
    }
}

/// tower-http sends some `Access-Control-*` headers (credentials, preflight methods and
/// headers) whatever the origin; without `Access-Control-Allow-Origin` the response was not
/// for an allowed origin, and all of them go. A request that carried an `Origin` and got no
/// `Access-Control-Allow-Origin` is a refused cross-origin request: a `cors_rejected` security
/// event (for an `OPTIONS`, the fallback that answered it records the event).
pub(crate) async fn guard(
    axum::extract::State(guard): axum::extract::State<std::sync::Arc<CorsGuard>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let origin =
        request.headers().contains_key(http::header::ORIGIN) && request.method() != Method::OPTIONS;
    let context = (origin && guard.observer.observing()).then(|| {
        let mut ctx = EventContext::of(request.method(), request.headers(), request.uri().path());
        ctx.client_ip = guard.perimeter.client_of(&request).ok().map(|c| c.ip);
        ctx
    });
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if strip_unless_allowed(headers) {
        if let Some(ctx) = context {
            let request_id = headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let mut event = ctx.event(&response, &request_id);
            event.kind = EventKind::CorsRejected;
            event.outcome = "denied".to_owned();
            event.reason = Some("origin_not_allowed".to_owned());
            // The answer itself stands (the browser enforces CORS); the event is recorded.
            let _ = guard.observer.dispatch(event);
        }
    }
    response
}

/// `scheme://host[:port]` with scheme http or https, lowercase, and nothing after.
fn is_origin(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    if !(scheme == "https" || scheme == "http") || rest.is_empty() {
        return false;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => (host, Some(port)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.[]:".contains(&b));
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::is_origin;

    #[test]
    fn only_plain_origins() {
        for ok in [
            "https://app.example.com",
            "http://localhost:5173",
            "https://[::1]:8443",
        ] {
            assert!(is_origin(ok), "{ok}");
        }
        for bad in [
            "*",
            "null",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://App.example.com",
            "ftp://app.example.com",
            "app.example.com",
            "https://",
            "https://a.example.com:",
            "https://a.example.com?x",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }
}
