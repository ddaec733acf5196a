//! Hostile HTTP input over raw TCP: each request gets a 4xx answer (a problem+json body when
//! it reaches the router), never a 500, never a hang, and the server keeps answering.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;

async fn app() -> TestApp {
    TestApp::start_with(
        security()
            .body_limit(64 * 1024)
            .body_timeout(Duration::from_millis(300))
            .build(),
    )
    .await
}

/// Sends `request` raw and returns the first response.
async fn raw(app: &TestApp, request: Vec<u8>) -> RawResponse {
    raw_exchange(app.addr, request, 1).await.remove(0)
}

fn get(path: &[u8]) -> Vec<u8> {
    let mut r = b"GET ".to_vec();
    r.extend_from_slice(path);
    r.extend_from_slice(b" HTTP/1.1\r\nHost: t\r\n\r\n");
    r
}

fn post_note(body: &[u8], content_length: usize) -> Vec<u8> {
    let mut r = format!(
        "POST /notes HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n",
        alice()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// A 4xx problem from the router, not a 500.
fn assert_problem(res: &RawResponse, status: StatusCode, what: &str) {
    assert_eq!(res.status, status, "{what}: {}", res.body);
    check_problem(res.headers.clone(), &res.body, status, &[]);
}

#[tokio::test]
async fn invalid_utf8_in_path_query_and_body() {
    let app = app().await;
    let res = raw(&app, get(b"/items/%FF%FE")).await;
    assert_problem(
        &res,
        StatusCode::BAD_REQUEST,
        "percent-encoded invalid UTF-8 in a path parameter",
    );
    let res = raw(&app, get(b"/search?page=%FF")).await;
    assert_problem(&res, StatusCode::BAD_REQUEST, "invalid UTF-8 in the query");
    let body = b"{\"text\":\"\xff\xfe\"}";
    let res = raw(&app, post_note(body, body.len())).await;
    assert_problem(
        &res,
        StatusCode::BAD_REQUEST,
        "invalid UTF-8 in a JSON string",
    );
}

#[tokio::test]
async fn duplicate_keys_huge_numbers_and_deep_nesting() {
    let app = app().await;
    let body = br#"{"text":"a","text":"b"}"#;
    let res = raw(&app, post_note(body, body.len())).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY, "duplicate key");
    assert!(res.body.contains("duplicate_field"), "{}", res.body);

    let res = raw(&app, get(b"/items/99999999999999999999999999999")).await;
    assert_problem(&res, StatusCode::BAD_REQUEST, "a path number over u32");
    let res = raw(&app, get(b"/search?page=1e999999")).await;
    assert_problem(&res, StatusCode::BAD_REQUEST, "a huge number in the query");
    for body in [
        br#"{"text":1e999999}"#.to_vec(),
        format!(r#"{{"text":{}}}"#, "9".repeat(10_000)).into_bytes(),
    ] {
        let res = raw(&app, post_note(&body, body.len())).await;
        assert!(
            res.status == StatusCode::BAD_REQUEST || res.status == StatusCode::UNPROCESSABLE_ENTITY,
            "huge number in JSON: {} {}",
            res.status,
            res.body
        );
        check_problem(res.headers.clone(), &res.body, res.status, &["99999999"]);
    }
    let deep = format!(r#"{{"text":{}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    let res = raw(&app, post_note(deep.as_bytes(), deep.len())).await;
    assert_problem(&res, StatusCode::BAD_REQUEST, "10 000-deep nesting");
}

#[tokio::test]
async fn traversal_and_nul_in_path_parameters() {
    let app = app().await;
    for path in [
        "/users/..%2F..%2Fadmin",
        "/users/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/users/%00",
        "/users/alice%00.json",
        "/users/..",
    ] {
        let res = app.get_as(path, &alice()).await;
        let status = res.status();
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
            "{path}: {status}"
        );
        expect_problem(res, status, &["passwd", "admin"]).await;
    }
}

#[tokio::test]
async fn huge_header_lying_content_length_and_slow_body() {
    let app = app().await;
    // A 1 MB header: refused (hyper's own limit answers before the router, without a body).
    let mut r = b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: ".to_vec();
    r.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    r.extend_from_slice(b"\r\n\r\n");
    let res = raw(&app, r).await;
    assert!(res.status.is_client_error(), "1 MB header: {}", res.status);

    // Content-Length larger than the body, and the client stops sending: 408 once the body
    // timeout passes, not a hang.
    let started = std::time::Instant::now();
    let res = raw(&app, post_note(br#"{"text":"x"}"#, 100)).await;
    assert_problem(
        &res,
        StatusCode::REQUEST_TIMEOUT,
        "Content-Length larger than the body",
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    // Content-Length smaller than the body: the body is cut there (and is not valid JSON), and
    // the rest is read as the next request, which is malformed.
    let body = br#"{"text":"hello world"}"#;
    let responses = raw_exchange(app.addr, post_note(body, 10), 1).await;
    assert_problem(
        &responses[0],
        StatusCode::BAD_REQUEST,
        "Content-Length smaller than the body",
    );

    // The server is still there.
    let res = app.get("/health").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
