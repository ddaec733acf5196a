//! Holes an outside review found (issue 14), each over real HTTP on 127.0.0.1:
//! - CORS preflights go through the same perimeter as every other request (HTTPS, request
//!   target size, per-IP limit), carry the security headers and the request id, are security
//!   events, and an `OPTIONS` to a path that is not routed is a 404;
//! - a credential in the query string is refused however its name is spelled
//!   (`api%5Fkey`, `API_KEY`, `access_token`), whichever accepted scheme authenticates;
//! - a JWT whose `kid` names no configured key is refused when the keys carry ids.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use secure_endpoint::api_key::{InMemoryApiKeys, NewApiKey};
use secure_endpoint::cors::Cors;
use secure_endpoint::events::{EventKind, EventSink, SecurityEvent, SinkFull};
use secure_endpoint::jwt::{JwtKey, JwtVerifier};
use secure_endpoint::policy::RateSpec;
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Principal, SecureRouter, Security, SecurityBuilder};

const ORIGIN: &str = "https://app.example.com";

#[secure_endpoint(auth = "none")]
async fn health() -> &'static str {
    "ok"
}

#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn me(principal: Principal) -> String {
    principal.subject().to_owned()
}

#[secure_endpoint(auth = "api_key", allow = "authenticated")]
async fn reports(principal: Principal) -> String {
    principal.subject().to_owned()
}

#[secure_endpoint(auth = ["jwt", "api_key"], allow = "authenticated")]
async fn either(principal: Principal) -> String {
    principal.subject().to_owned()
}

/// The security events an app sends to its sink.
#[derive(Debug, Default)]
struct Events(Mutex<Vec<SecurityEvent>>);

impl EventSink for Events {
    fn record(&self, event: SecurityEvent) -> Result<(), SinkFull> {
        self.0.lock().unwrap().push(event);
        Ok(())
    }
}

impl Events {
    fn take(&self) -> Vec<SecurityEvent> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// A CORS-enabled app (HTTPS required unless `builder` allows plain HTTP) with its API key
/// and the events it records (allowed requests included).
struct App {
    addr: SocketAddr,
    client: reqwest::Client,
    scheme: &'static str,
    api_key: String,
    events: Arc<Events>,
}

impl App {
    fn router(builder: SecurityBuilder) -> (axum::Router, String, Arc<Events>) {
        let keys = InMemoryApiKeys::new();
        let key = NewApiKey::generate("sk_test", "svc-reports", &[]);
        keys.insert(key.record);
        let events = Arc::new(Events::default());
        let security = builder
            .jwt(verifier())
            .api_keys(Arc::new(keys))
            .cors(Cors::allow_origins([ORIGIN]))
            .events(events.clone())
            .record_allowed(true)
            .build();
        let router = SecureRouter::new(security)
            .route("/health", get(health))
            .route("/me", get(me))
            .route("/reports", get(reports))
            .route("/either", get(either))
            .into_router();
        (router, key.key, events)
    }

    /// Served over plain HTTP.
    async fn plain(builder: SecurityBuilder) -> Self {
        let (router, api_key, events) = Self::router(builder);
        App {
            addr: serve(router).await,
            client: client_from(None),
            scheme: "http",
            api_key,
            events,
        }
    }

    /// Served over TLS (a fresh CA and a certificate for 127.0.0.1), requests marked HTTPS.
    async fn tls(builder: SecurityBuilder) -> Self {
        let (router, api_key, events) = Self::router(builder);
        let (addr, client) = serve_tls(router).await;
        App {
            addr,
            client,
            scheme: "https",
            api_key,
            events,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    /// A CORS preflight from `origin` for a `GET` of `path`.
    async fn preflight(&self, path: &str, origin: &str) -> reqwest::Response {
        self.client
            .request(Method::OPTIONS, self.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
            .await
            .unwrap()
    }
}

fn cors_headers(headers: &reqwest::header::HeaderMap) -> Vec<String> {
    headers
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

// ---- CORS preflights and the perimeter ---------------------------------------------------------

#[tokio::test]
async fn a_plain_http_preflight_is_refused_like_any_request() {
    let app = App::plain(Security::builder()).await;
    let res = app.preflight("/health", ORIGIN).await;
    let problem = expect_problem(res, StatusCode::FORBIDDEN, &[]).await;
    assert_eq!(problem.body["code"], "https_required", "{}", problem.raw);
    assert_eq!(cors_headers(&problem.headers), Vec::<String>::new());
    let events = app.events.take();
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(
        (e.kind, e.method.as_str(), e.route.as_str(), e.status),
        (EventKind::HttpsRequired, "OPTIONS", "/health", 403)
    );
}

#[tokio::test]
async fn preflights_count_toward_the_per_ip_limit() {
    let builder = Security::builder()
        .allow_plain_http()
        .ip_rate(Some(RateSpec::new(5, Duration::from_secs(600))));
    let app = App::plain(builder).await;
    for i in 0..5 {
        let res = app.preflight("/health", ORIGIN).await;
        assert_eq!(res.status(), StatusCode::OK, "preflight {i}");
    }
    let res = app.preflight("/health", ORIGIN).await;
    let problem = expect_problem(res, StatusCode::TOO_MANY_REQUESTS, &[]).await;
    assert!(
        problem.header("retry-after").is_some(),
        "{:?}",
        problem.headers
    );
    assert_eq!(cors_headers(&problem.headers), Vec::<String>::new());
    // The same bucket as every other request of the client.
    let res = app.client.get(app.url("/health")).send().await.unwrap();
    expect_problem(res, StatusCode::TOO_MANY_REQUESTS, &[]).await;
    let kinds: Vec<EventKind> = app.events.take().iter().map(|e| e.kind).collect();
    assert_eq!(kinds.len(), 7, "{kinds:?}");
    assert_eq!(kinds[5], EventKind::RateLimited, "{kinds:?}");
}

#[tokio::test]
async fn a_preflight_with_a_long_target_is_414() {
    let app = App::plain(Security::builder().allow_plain_http()).await;
    let path = format!("/health?q={}", "a".repeat(20 * 1024));
    let res = app.preflight(&path, ORIGIN).await;
    let problem = expect_problem(res, StatusCode::URI_TOO_LONG, &[]).await;
    assert_eq!(cors_headers(&problem.headers), Vec::<String>::new());
}

#[tokio::test]
async fn a_preflight_over_https_is_answered_with_security_headers_and_request_id() {
    let app = App::tls(Security::builder()).await;
    let res = app
        .client
        .request(Method::OPTIONS, app.url("/me"))
        .header("origin", ORIGIN)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .header("x-request-id", "preflight-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let headers = res.headers().clone();
    assert_security_headers(&headers);
    assert_eq!(headers["x-request-id"], "preflight-42");
    assert_eq!(headers["access-control-allow-origin"], ORIGIN);
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(methods.contains("GET"), "{methods}");
    let allowed = headers["access-control-allow-headers"].to_str().unwrap();
    assert!(allowed.contains("authorization"), "{allowed}");
    assert!(
        headers.contains_key("access-control-max-age"),
        "{headers:?}"
    );
    let events = app.events.take();
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(
        (
            e.kind,
            e.method.as_str(),
            e.route.as_str(),
            e.request_id.as_str()
        ),
        (EventKind::Allowed, "OPTIONS", "/me", "preflight-42")
    );

    // A request of the routed method still gets its CORS headers, and the perimeter's.
    let res = app
        .client
        .get(app.url("/health"))
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_security_headers(res.headers());
    assert_eq!(res.headers()["access-control-allow-origin"], ORIGIN);
}

#[tokio::test]
async fn a_preflight_from_another_origin_gets_no_cors_header_and_is_recorded() {
    let app = App::tls(Security::builder()).await;
    let res = app.preflight("/me", "https://evil.example").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_security_headers(res.headers());
    assert_eq!(cors_headers(res.headers()), Vec::<String>::new());
    let events = app.events.take();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0].kind, events[0].reason.as_deref()),
        (EventKind::CorsRejected, Some("origin_not_allowed"))
    );
}

#[tokio::test]
async fn options_to_an_unrouted_path_is_404_and_without_preflight_headers_405() {
    let app = App::tls(Security::builder()).await;
    let res = app.preflight("/no-such-route", ORIGIN).await;
    let problem = expect_problem(res, StatusCode::NOT_FOUND, &[]).await;
    assert_eq!(cors_headers(&problem.headers), Vec::<String>::new());

    // Not a preflight (no Access-Control-Request-Method): the method is not routed.
    let res = app
        .client
        .request(Method::OPTIONS, app.url("/health"))
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap();
    let problem = expect_problem(res, StatusCode::METHOD_NOT_ALLOWED, &[]).await;
    let allow = problem.header("allow").unwrap_or_default();
    assert!(allow.contains("GET"), "{allow}");
    assert_eq!(cors_headers(&problem.headers), Vec::<String>::new());
    let kinds: Vec<EventKind> = app.events.take().iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::NotRouted, EventKind::NotRouted]);
}

// ---- credentials in the query string -----------------------------------------------------------

#[tokio::test]
async fn an_api_key_in_the_query_is_refused_however_it_is_spelled() {
    let app = App::plain(Security::builder().allow_plain_http()).await;
    let get = |query: &str| {
        app.client
            .get(app.url(&format!("/reports{query}")))
            .header("x-api-key", &app.api_key)
            .send()
    };
    assert_eq!(get("").await.unwrap().status(), StatusCode::OK);
    assert_eq!(get("?page=2").await.unwrap().status(), StatusCode::OK);
    for query in [
        "?api_key=sk_test_1",
        "?api%5Fkey=sk_test_1",
        "?api%5fkey=sk_test_1",
        "?API_KEY=sk_test_1",
        "?Api%5FKey=sk_test_1",
        "?%61pi_key=sk_test_1",
        "?page=2&api%5Fkey=sk_test_1",
        "?page=2;api_key=sk_test_1",
        "?api_key[]=sk_test_1",
        "?api-key=sk_test_1",
        "?x-api-key=sk_test_1",
        "?apikey",
    ] {
        let res = get(query).await.unwrap();
        let problem = expect_problem(res, StatusCode::UNAUTHORIZED, &["sk_test_1"]).await;
        assert_eq!(problem.body["code"], "unauthenticated", "{query}");
    }
}

#[tokio::test]
async fn an_access_token_in_the_query_is_refused_on_jwt_routes() {
    let app = App::plain(Security::builder().allow_plain_http()).await;
    let token = alice();
    let get = |query: String| {
        app.client
            .get(app.url(&format!("/me{query}")))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(get(String::new()).await.unwrap().status(), StatusCode::OK);
    for name in [
        "access_token",
        "access%5Ftoken",
        "ACCESS_TOKEN",
        "Access%5fToken",
    ] {
        let res = get(format!("?{name}={token}")).await.unwrap();
        let problem = expect_problem(res, StatusCode::UNAUTHORIZED, &[&token]).await;
        assert_eq!(
            problem.header("www-authenticate"),
            Some("Bearer realm=\"api\", error=\"invalid_token\""),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_credential_in_the_query_is_refused_whichever_scheme_authenticates() {
    let app = App::plain(Security::builder().allow_plain_http()).await;
    let token = alice();
    let with_token = |query: &str| {
        app.client
            .get(app.url(&format!("/either{query}")))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(with_token("").await.unwrap().status(), StatusCode::OK);
    let res = with_token("?api%5Fkey=sk_test_1").await.unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, &["sk_test_1"]).await;

    let with_key = |query: String| {
        app.client
            .get(app.url(&format!("/either{query}")))
            .header("x-api-key", &app.api_key)
            .send()
    };
    assert_eq!(
        with_key(String::new()).await.unwrap().status(),
        StatusCode::OK
    );
    let res = with_key(format!("?access_token={token}")).await.unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, &[&token]).await;
}

// ---- JWT key ids ---------------------------------------------------------------------------------

/// HS256 over `claims` with the test app's secret, the header naming `kid`.
fn hs256_with_kid(kid: &str) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        &claims(ALICE, &["user"], ""),
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

#[tokio::test]
async fn a_kid_that_names_no_key_is_refused_when_keys_carry_ids() {
    // The test app's keys: the HS256 secret without a kid, and RS256/ES256/EdDSA keys with one.
    let app = App::plain(Security::builder().allow_plain_http()).await;
    let get_me = |token: String| app.client.get(app.url("/me")).bearer_auth(token).send();
    assert_eq!(get_me(alice()).await.unwrap().status(), StatusCode::OK);
    for kid in ["no-such-key", "rsa-2", "../rsa-1"] {
        let res = get_me(hs256_with_kid(kid)).await.unwrap();
        expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
    }

    // A single static key with a kid: only tokens naming it.
    let single = JwtVerifier::builder()
        .key(JwtKey::hs256(SECRET).unwrap().kid("hs-1"))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let app = TestApp::start_with(Security::builder().allow_plain_http().jwt(single).build()).await;
    assert_eq!(
        app.get_as("/me", &hs256_with_kid("hs-1")).await.status(),
        StatusCode::OK
    );
    for token in [hs256_with_kid("hs-2"), hs256_with_kid("HS-1"), alice()] {
        expect_problem(
            app.get_as("/me", &token).await,
            StatusCode::UNAUTHORIZED,
            &[],
        )
        .await;
    }

    // No key carries an id: a token's kid is only a hint, and the one key verifies it.
    let unnamed = JwtVerifier::hs256(SECRET)
        .unwrap()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let app =
        TestApp::start_with(Security::builder().allow_plain_http().jwt(unnamed).build()).await;
    assert_eq!(
        app.get_as("/me", &hs256_with_kid("anything"))
            .await
            .status(),
        StatusCode::OK
    );
}
