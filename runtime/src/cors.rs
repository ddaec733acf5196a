//! CORS on tower-http's `CorsLayer`, configured the safe way: an allowlist of exact origins
//! (never `*`, so credentials can be allowed), the request's origin echoed only when it is on
//! the list, `Vary: Origin` always, preflights answered. An origin that is not on the list
//! (including `null`, look-alikes such as `https://app.example.com.evil.example`, and the
//! right host with the wrong scheme or port) gets no `Access-Control-Allow-*` header at all.

use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

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

    pub(crate) fn layer(&self) -> CorsLayer {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(self.origins.iter().cloned()))
            .allow_methods(self.methods.clone())
            .allow_headers(self.headers.clone())
            .expose_headers(self.expose.clone())
            .allow_credentials(self.credentials)
            .max_age(self.max_age)
    }
}

/// tower-http sends some `Access-Control-*` headers (credentials, preflight methods and
/// headers) whatever the origin; without `Access-Control-Allow-Origin` the response was not
/// for an allowed origin, and all of them go. A request that carried an `Origin` and got no
/// `Access-Control-Allow-Origin` is a refused cross-origin request: a `cors_rejected` security
/// event.
pub(crate) async fn guard(
    axum::extract::State(engine): axum::extract::State<std::sync::Arc<crate::config::Engine>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let origin = request.headers().contains_key(http::header::ORIGIN);
    let context = (origin && engine.observing()).then(|| {
        let mut ctx = crate::events::EventContext::of(
            request.method(),
            request.headers(),
            request.uri().path(),
        );
        ctx.client_ip = engine.perimeter.client_of(&request).ok().map(|c| c.ip);
        ctx
    });
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(http::header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        for name in [
            http::header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            http::header::ACCESS_CONTROL_ALLOW_HEADERS,
            http::header::ACCESS_CONTROL_ALLOW_METHODS,
            http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
            http::header::ACCESS_CONTROL_MAX_AGE,
        ] {
            headers.remove(name);
        }
        if let Some(ctx) = context {
            let request_id = headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let mut event = ctx.event(&response, &request_id);
            event.kind = crate::events::EventKind::CorsRejected;
            event.outcome = "denied".to_owned();
            event.reason = Some("origin_not_allowed".to_owned());
            // The answer itself stands (the browser enforces CORS); the event is recorded.
            let _ = crate::events::dispatch(&engine, event);
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
