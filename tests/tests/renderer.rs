//! The application's error format (`Security::builder().problem_renderer(..)`), over real HTTP:
//! every class of rejection, the library's and the handler's, comes out in the renderer's shape
//! (here RealWorld's `{"errors": {"field": ["message"]}}`, plus what the view exposes under
//! `meta`), with the right status, the security headers, `X-Request-ID` and the headers the
//! rejection needs; a renderer that panics or declines leaves the RFC 9457 default; and without
//! a renderer nothing changes.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use secure_endpoint::routing::{get, post};
use secure_endpoint::{secure_endpoint, FieldError, Problem, Security, SecurityBuilder};
use secure_endpoint::{ProblemBody, ProblemView};
use serde_json::{json, Value};

/// RealWorld's error shape, and under `meta` what else the view gives a renderer.
fn realworld(problem: &ProblemView<'_>) -> Option<ProblemBody> {
    let mut errors: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for error in problem.errors() {
        errors.entry(&error.field).or_default().push(&error.message);
    }
    if errors.is_empty() {
        errors.insert("body", vec![problem.detail().unwrap_or(problem.title())]);
    }
    ProblemBody::json(&json!({
        "errors": errors,
        "meta": {
            "status": problem.status().as_u16(),
            "code": problem.code(),
            "request_id": problem.request_id(),
            "error_id": problem.error_id(),
            "retry_after": problem.retry_after(),
            "www_authenticate": problem
                .header("www-authenticate")
                .and_then(|v| v.to_str().ok()),
        },
    }))
}

#[secure_endpoint(auth = "none")]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "late"
}

/// A handler's own problem, with a field error of its own.
#[secure_endpoint(auth = "none")]
async fn taken() -> Result<&'static str, Problem> {
    Err(Problem::new(StatusCode::CONFLICT)
        .with_code("taken")
        .with_errors(vec![FieldError {
            field: "username".into(),
            message: "has already been taken".into(),
        }]))
}

/// A handler's own error status with a body of its own: replaced, never sent.
#[secure_endpoint(auth = "none")]
async fn own_status() -> (StatusCode, &'static str) {
    (
        StatusCode::CONFLICT,
        "UNIQUE constraint failed: users.email at /work/secret/db.rs",
    )
}

async fn start(security: Security) -> TestApp {
    let addr = serve(
        router(security)
            .route("/slow", get(slow))
            .route("/taken", post(taken))
            .route("/own-status", get(own_status))
            .with_state::<()>(seeded_state()),
    )
    .await;
    TestApp {
        addr,
        client: client_from(None),
    }
}

fn with_renderer() -> SecurityBuilder {
    security()
        .problem_renderer(realworld)
        .body_timeout(Duration::from_millis(300))
        .request_timeout(Some(Duration::from_millis(600)))
}

/// Checks a response in the renderer's shape: status, content type, security headers, request
/// id (header and body agree), an error id, nothing internal; returns the body.
fn check_rendered(
    status: StatusCode,
    headers: &HeaderMap,
    raw: &str,
    expected: StatusCode,
) -> Value {
    assert_eq!(status, expected, "status; body: {raw}");
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "content type; body: {raw}"
    );
    assert_security_headers(headers);
    let body: Value = serde_json::from_str(raw).unwrap_or_else(|e| panic!("not JSON ({e}): {raw}"));
    let errors = body["errors"]
        .as_object()
        .unwrap_or_else(|| panic!("no `errors` object: {raw}"));
    assert!(!errors.is_empty(), "{raw}");
    for messages in errors.values() {
        let messages = messages.as_array().unwrap();
        assert!(
            !messages.is_empty() && messages.iter().all(Value::is_string),
            "{raw}"
        );
    }
    assert!(
        body.get("type").is_none() && body.get("title").is_none(),
        "{raw}"
    );
    assert_eq!(body["meta"]["status"], expected.as_u16(), "{raw}");
    assert_eq!(
        body["meta"]["request_id"].as_str(),
        headers.get("x-request-id").and_then(|v| v.to_str().ok()),
        "{raw}"
    );
    assert!(
        uuid::Uuid::parse_str(body["meta"]["error_id"].as_str().unwrap()).is_ok(),
        "{raw}"
    );
    for needle in INTERNALS {
        assert!(!raw.contains(needle), "body leaks {needle:?}: {raw}");
    }
    body
}

async fn expect_rendered(res: reqwest::Response, expected: StatusCode) -> (HeaderMap, Value) {
    let status = res.status();
    let headers = res.headers().clone();
    let raw = res.text().await.unwrap();
    let body = check_rendered(status, &headers, &raw, expected);
    (headers, body)
}

#[tokio::test]
async fn authentication_authorization_and_ownership() {
    let app = start(with_renderer().build()).await;

    // 401 keeps its WWW-Authenticate, which the renderer sees too.
    let (headers, body) = expect_rendered(
        app.get("/me").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert_eq!(body["meta"]["www_authenticate"], challenge);
    assert_eq!(body["meta"]["code"], "unauthenticated");

    // 403: a role the caller lacks.
    let (_, body) = expect_rendered(
        app.get_as("/admin/users", &alice()).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(body["meta"]["code"], "forbidden");

    // 404 for another's resource reads exactly like 404 for a missing one: the renderer is
    // never told why (no existence oracle through the application's format either).
    let (_, other) = expect_rendered(
        app.get_as(&format!("/users/{BOB}"), &alice()).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let (_, missing) = expect_rendered(
        app.get_as(&format!("/orders/{MISSING_ORDER}"), &alice())
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let (_, bobs_order) = expect_rendered(
        app.get_as(&format!("/orders/{BOB_ORDER}"), &alice()).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(other["errors"], missing["errors"]);
    assert_eq!(bobs_order["errors"], missing["errors"]);
    assert_eq!(bobs_order["meta"]["code"], missing["meta"]["code"]);
    for body in [&other, &bobs_order] {
        assert!(!body.to_string().contains("owner"), "{body}");
    }
}

#[tokio::test]
async fn router_fallbacks_and_limits() {
    let app = start(with_renderer().build()).await;

    // The router's 404 and 405 fallbacks; the 405 keeps `Allow`.
    let (_, body) = expect_rendered(
        app.get("/no/such/route").send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(body["errors"]["body"][0], "No such route.");
    let (headers, _) = expect_rendered(
        app.client.delete(app.url("/health")).send().await.unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    assert!(
        headers["allow"].to_str().unwrap().contains("GET"),
        "{headers:?}"
    );

    // 429 keeps Retry-After and the RateLimit headers; the renderer reads the same delay.
    let mut last = None;
    for _ in 0..3 {
        last = Some(app.get("/public/limited").send().await.unwrap());
    }
    let (headers, body) = expect_rendered(last.unwrap(), StatusCode::TOO_MANY_REQUESTS).await;
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after > 0);
    assert_eq!(body["meta"]["retry_after"], retry_after);
    assert!(headers.contains_key("ratelimit-policy"), "{headers:?}");
    assert_eq!(body["meta"]["code"], "rate_limited");
}

#[tokio::test]
async fn bodies_uris_and_validation() {
    let app = start(with_renderer().max_uri_len(256).build()).await;
    let note = |body: String, content_type: &str| {
        app.post("/notes")
            .bearer_auth(alice())
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    // 413, 415, 400 (malformed JSON).
    expect_rendered(
        note(
            format!(r#"{{"text":"{}"}}"#, "a".repeat(BODY_LIMIT)),
            "application/json",
        )
        .await
        .unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    expect_rendered(
        note(r#"{"text":"x"}"#.into(), "text/plain").await.unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    expect_rendered(
        note("{".into(), "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;

    // 414.
    let long = format!("/health?q={}", "a".repeat(400));
    expect_rendered(
        app.get(&long).send().await.unwrap(),
        StatusCode::URI_TOO_LONG,
    )
    .await;

    // 422 from the field allowlist: the field's path, never its value.
    let (_, body) = expect_rendered(
        note(
            r#"{"text":"x","role":"admin-value"}"#.into(),
            "application/json",
        )
        .await
        .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"], json!({ "role": ["field not allowed"] }));
    assert!(!body.to_string().contains("admin-value"));

    // 422 from garde, through `Json`: RealWorld's `{"errors": {"name": [...]}}`.
    let (_, body) = expect_rendered(
        app.put(&format!("/users/{ALICE}"))
            .bearer_auth(alice())
            .json(&json!({ "name": "" }))
            .send()
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let errors = body["errors"].as_object().unwrap();
    assert_eq!(errors.keys().collect::<Vec<_>>(), ["name"], "{body}");

    // 422 from garde, through `Query`.
    let (_, body) = expect_rendered(
        app.get("/search?page=0").send().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["errors"]["page"].is_array(), "{body}");
}

#[tokio::test]
async fn slow_bodies_timeouts_and_panics() {
    let app = start(with_renderer().build()).await;

    // 408: a body that stops arriving (raw HTTP: Content-Length larger than what is sent).
    let mut request = format!(
        "POST /notes HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n",
        alice()
    )
    .into_bytes();
    request.extend_from_slice(br#"{"text":"x"}"#);
    let res = raw_exchange(app.addr, request, 1).await.remove(0);
    check_rendered(
        res.status,
        &res.headers,
        &res.body,
        StatusCode::REQUEST_TIMEOUT,
    );

    // 503: the request timeout.
    let (_, body) = expect_rendered(
        app.get("/slow").send().await.unwrap(),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert_eq!(body["meta"]["code"], "timeout");

    // 500: a panic, and nothing of it in the body.
    let (_, body) = expect_rendered(
        app.get("/panic").send().await.unwrap(),
        StatusCode::INTERNAL_SERVER_ERROR,
    )
    .await;
    assert_eq!(body["meta"]["code"], "internal_error");
}

#[tokio::test]
async fn handler_problems_and_plain_http_refusal() {
    let app = start(with_renderer().build()).await;

    // A handler's own Problem, with its field errors.
    let (_, body) = expect_rendered(
        app.post("/taken").send().await.unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        body["errors"],
        json!({ "username": ["has already been taken"] })
    );
    assert_eq!(body["meta"]["code"], "taken");

    // A handler's own error status: its body is replaced, in the renderer's shape.
    let (_, body) = expect_rendered(
        app.get("/own-status").send().await.unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(body["errors"], json!({ "body": ["Conflict"] }));

    // A request over plain HTTP where HTTPS is required: 403 in the renderer's shape, no HSTS.
    let strict = start(
        Security::builder()
            .jwt(verifier())
            .problem_renderer(realworld)
            .build(),
    )
    .await;
    let res = strict.get("/health").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers().get("strict-transport-security").is_none());
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["meta"]["code"], "https_required");
}

#[tokio::test]
async fn a_panicking_or_declining_renderer_leaves_the_default() {
    fn picky(problem: &ProblemView<'_>) -> Option<ProblemBody> {
        match problem.status().as_u16() {
            404 => panic!("renderer bug"),
            500..=599 => None,
            _ => realworld(problem),
        }
    }
    let app = start(security().problem_renderer(picky).build()).await;
    // Panics: the default problem, and the server goes on answering.
    for _ in 0..2 {
        expect_problem(
            app.get("/nowhere").send().await.unwrap(),
            StatusCode::NOT_FOUND,
            &[],
        )
        .await;
    }
    // Declines: the default problem.
    expect_problem(
        app.get("/panic").send().await.unwrap(),
        StatusCode::INTERNAL_SERVER_ERROR,
        &[],
    )
    .await;
    // Renders: the application's shape.
    expect_rendered(
        app.get("/me").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn without_a_renderer_every_rejection_stays_rfc9457() {
    let app = start(security().build()).await;
    let res = expect_problem(
        app.get("/me").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        &[],
    )
    .await;
    assert!(res.header("www-authenticate").is_some());
    expect_problem(
        app.get("/nowhere").send().await.unwrap(),
        StatusCode::NOT_FOUND,
        &[],
    )
    .await;
    expect_problem(
        app.post("/taken").send().await.unwrap(),
        StatusCode::CONFLICT,
        &[],
    )
    .await;
    expect_problem(
        app.get("/own-status").send().await.unwrap(),
        StatusCode::CONFLICT,
        &["db.rs"],
    )
    .await;
    let res = expect_problem(
        app.get("/search?page=0").send().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        &[],
    )
    .await;
    assert_eq!(res.error_fields(), ["page"]);
}

/// Records security events; refuses them all when `full`.
#[derive(Debug, Default)]
struct Sink {
    events: std::sync::Mutex<Vec<secure_endpoint::events::SecurityEvent>>,
    full: bool,
}

impl secure_endpoint::events::EventSink for Sink {
    fn record(
        &self,
        event: secure_endpoint::events::SecurityEvent,
    ) -> Result<(), secure_endpoint::events::SinkFull> {
        if self.full {
            return Err(secure_endpoint::events::SinkFull);
        }
        self.events.lock().unwrap().push(event);
        Ok(())
    }
}

#[tokio::test]
async fn with_an_audit_trail_the_event_reads_the_problem_and_its_refusal_is_rendered() {
    let sink = std::sync::Arc::new(Sink::default());
    let app = start(with_renderer().events(sink.clone()).build()).await;
    let (headers, body) = expect_rendered(
        app.get("/me").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let (_, fallback) = expect_rendered(
        app.get("/nowhere").send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    {
        let events = sink.events.lock().unwrap();
        assert_eq!(events.len(), 2, "{events:?}");
        // The event names the code and error id the renderer was shown.
        assert_eq!(events[0].code.as_deref(), Some("unauthenticated"));
        assert_eq!(
            events[0].error_id.as_deref(),
            body["meta"]["error_id"].as_str()
        );
        assert_eq!(
            Some(events[0].request_id.as_str()),
            headers.get("x-request-id").and_then(|v| v.to_str().ok())
        );
        assert_eq!(
            events[1].error_id.as_deref(),
            fallback["meta"]["error_id"].as_str()
        );
    }

    // An audit trail that cannot take the event: its 503 is in the application's format too.
    let full = std::sync::Arc::new(Sink {
        full: true,
        ..Sink::default()
    });
    let app = start(with_renderer().events(full).build()).await;
    expect_rendered(
        app.get("/me").send().await.unwrap(),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
}

/// A plain axum route, not a secured endpoint.
async fn plain_conflict() -> Problem {
    Problem::new(StatusCode::CONFLICT).with_detail("Already there.")
}

#[tokio::test]
async fn plain_routes_behind_the_configured_layer_are_rendered_too() {
    let security = with_renderer().build();
    let plain = axum::Router::new()
        .route("/plain", axum::routing::get(plain_conflict))
        .layer(security.layer());
    let bare = axum::Router::new()
        .route("/bare", axum::routing::get(plain_conflict))
        .layer(secure_endpoint::layer::SecurityLayer);
    let addr = serve(
        router(security)
            .with_state::<()>(seeded_state())
            .merge(plain)
            .merge(bare),
    )
    .await;
    let app = TestApp {
        addr,
        client: client_from(None),
    };
    let (_, body) = expect_rendered(
        app.get("/plain").send().await.unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(body["errors"], json!({ "body": ["Already there."] }));
    // `SecurityLayer` knows no configuration: the RFC 9457 default.
    expect_problem(
        app.get("/bare").send().await.unwrap(),
        StatusCode::CONFLICT,
        &[],
    )
    .await;
}
