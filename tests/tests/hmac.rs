//! HMAC-signed requests (`auth = "hmac"`, docs/hmac.md) over real HTTP, signed with the
//! shipped client helper: every alteration of a signed request, a stale or future timestamp,
//! a replayed nonce and a truncated signature get the same 401; the signed body reaches the
//! allowlist and the handler unchanged.

mod common;

use std::sync::Arc;

use common::{expect_json, expect_problem, now};
use reqwest::{Method, StatusCode};
use secure_endpoint::hmac::{HmacClient, HmacSigner, HmacVerifier, InMemoryHmacKeys};
use secure_endpoint::routing::{get, post};
use secure_endpoint::{secure_endpoint, Json, Principal, SafeResponse, SecureRouter, Security};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const SECRET: &[u8] = b"webhook secret for the tests, >= 32 bytes";
const KEY_ID: &str = "github-hooks";

#[derive(Deserialize, garde::Validate)]
struct Event {
    #[garde(length(min = 1, max = 64))]
    event: String,
    #[allow(dead_code)]
    #[garde(skip)]
    data: Value,
}

/// `{"from": "github", "scheme": "hmac", "event": "push"}`
#[derive(Serialize, SafeResponse)]
struct Receipt {
    from: String,
    scheme: &'static str,
    event: String,
}

#[secure_endpoint(auth = "hmac", allow = "authenticated", fields = ["event", "data"])]
async fn webhook(principal: Principal, Json(event): Json<Event>) -> axum::Json<Receipt> {
    axum::Json(Receipt {
        from: principal.subject().to_owned(),
        scheme: principal.scheme().as_str(),
        event: event.event,
    })
}

#[secure_endpoint(auth = "hmac", scopes = ["deliveries:read"])]
async fn deliveries(principal: Principal) -> String {
    format!("deliveries for {}", principal.subject())
}

struct App {
    base: String,
    client: reqwest::Client,
    signer: HmacSigner,
}

async fn start() -> App {
    let keys = Arc::new(InMemoryHmacKeys::new());
    keys.insert(
        KEY_ID,
        HmacClient::new("github", SECRET)
            .unwrap()
            .scopes(["deliveries:read"]),
    );
    let security = Security::builder()
        .allow_plain_http()
        .hmac(HmacVerifier::new(keys))
        .body_limit(1024)
        .build();
    let app = SecureRouter::new(security)
        .route("/webhooks/{source}", post(webhook).put(webhook))
        .route("/deliveries", get(deliveries))
        .into_router();
    let addr = common::serve(app).await;
    App {
        base: format!("http://{addr}"),
        client: common::client_from(None),
        signer: HmacSigner::new(KEY_ID, SECRET),
    }
}

const BODY: &str = r#"{"event":"push","data":{"ref":"main"}}"#;

impl App {
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: &str,
        authorization: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method, format!("{}{path_and_query}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        req.send().await.unwrap()
    }
}

#[tokio::test]
async fn a_signed_request_is_accepted_and_its_body_reaches_the_handler() {
    let app = start().await;
    let path = "/webhooks/github?delivery=42";
    let auth = app.signer.sign("POST", path, BODY.as_bytes());
    let body = expect_json(
        app.send(Method::POST, path, BODY, Some(&auth)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        body,
        json!({"from": "github", "scheme": "hmac", "event": "push"})
    );

    // Scopes come from the client's record; a GET with no body signs the empty body.
    let auth = app.signer.sign("GET", "/deliveries", b"");
    let res = app
        .client
        .get(format!("{}/deliveries", app.base))
        .header("authorization", auth)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "deliveries for github");
}

#[tokio::test]
async fn every_altered_or_replayed_request_gets_the_same_401() {
    let app = start().await;
    let missing = expect_problem(
        app.send(Method::POST, "/webhooks/github", BODY, None).await,
        StatusCode::UNAUTHORIZED,
        &[],
    )
    .await;
    assert_eq!(
        missing.header("www-authenticate"),
        Some("HMAC-SHA256 realm=\"api\"")
    );
    let reference = missing.without_ids();

    let path = "/webhooks/github?delivery=42";
    let signed =
        |method: &str, path: &str, body: &str| app.signer.sign(method, path, body.as_bytes());
    let one_byte_changed = BODY.replace("main", "maim");
    let t = now();
    let truncated = {
        let s = signed("POST", path, BODY);
        s[..s.len() - 3].to_owned() + "\""
    };
    let uppercase = {
        let s = signed("POST", path, BODY);
        let at = s.find("signature=\"").unwrap() + 11;
        format!("{}{}", &s[..at], s[at..].to_ascii_uppercase())
    };
    let cases: Vec<(&str, Method, String, String, String)> = vec![
        (
            "one body byte changed",
            Method::POST,
            path.into(),
            one_byte_changed,
            signed("POST", path, BODY),
        ),
        (
            "method changed",
            Method::PUT,
            path.into(),
            BODY.into(),
            signed("POST", path, BODY),
        ),
        (
            "path changed",
            Method::POST,
            "/webhooks/gitlab?delivery=42".into(),
            BODY.into(),
            signed("POST", path, BODY),
        ),
        (
            "query changed",
            Method::POST,
            "/webhooks/github?delivery=43".into(),
            BODY.into(),
            signed("POST", path, BODY),
        ),
        (
            "query added",
            Method::POST,
            format!("{path}&admin=1"),
            BODY.into(),
            signed("POST", path, BODY),
        ),
        (
            "query removed",
            Method::POST,
            "/webhooks/github".into(),
            BODY.into(),
            signed("POST", path, BODY),
        ),
        (
            "timestamp 10 minutes old",
            Method::POST,
            path.into(),
            BODY.into(),
            app.signer.sign_at(
                "POST",
                path,
                BODY.as_bytes(),
                t - 600,
                "0123456789abcdef0123456789abcdef",
            ),
        ),
        (
            "timestamp 10 minutes ahead",
            Method::POST,
            path.into(),
            BODY.into(),
            app.signer.sign_at(
                "POST",
                path,
                BODY.as_bytes(),
                t + 600,
                "1123456789abcdef0123456789abcdef",
            ),
        ),
        (
            "truncated signature",
            Method::POST,
            path.into(),
            BODY.into(),
            truncated,
        ),
        (
            "uppercase signature",
            Method::POST,
            path.into(),
            BODY.into(),
            uppercase,
        ),
        (
            "other secret",
            Method::POST,
            path.into(),
            BODY.into(),
            HmacSigner::new(KEY_ID, b"another secret, also >= 32 bytes long!").sign(
                "POST",
                path,
                BODY.as_bytes(),
            ),
        ),
        (
            "unknown key id",
            Method::POST,
            path.into(),
            BODY.into(),
            HmacSigner::new("someone-else", SECRET).sign("POST", path, BODY.as_bytes()),
        ),
        (
            "a bearer token instead",
            Method::POST,
            path.into(),
            BODY.into(),
            "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl".into(),
        ),
    ];
    for (name, method, path, body, authorization) in cases {
        let res = app.send(method, &path, &body, Some(&authorization)).await;
        let signature = authorization
            .split("signature=\"")
            .nth(1)
            .map(|s| s.trim_end_matches('"').to_owned())
            .unwrap_or_else(|| "no signature in this case".to_owned());
        let p = expect_problem(
            res,
            StatusCode::UNAUTHORIZED,
            &[&signature, "signature", "nonce", "timestamp"],
        )
        .await;
        assert_eq!(
            p.without_ids().get("detail"),
            reference.get("detail"),
            "{name}"
        );
        assert_eq!(
            p.without_ids(),
            reference,
            "{name}: the same 401 as no signature at all"
        );
    }

    // A replayed request: accepted once, refused after.
    let auth = signed("POST", path, BODY);
    expect_json(
        app.send(Method::POST, path, BODY, Some(&auth)).await,
        StatusCode::OK,
    )
    .await;
    let replay = expect_problem(
        app.send(Method::POST, path, BODY, Some(&auth)).await,
        StatusCode::UNAUTHORIZED,
        &[],
    )
    .await;
    assert_eq!(replay.without_ids(), reference, "replayed nonce");
}

#[tokio::test]
async fn the_signed_body_still_meets_the_allowlist_and_the_size_limit() {
    let app = start().await;
    let path = "/webhooks/github";
    let extra = r#"{"event":"push","data":{},"is_admin":true}"#;
    let auth = app.signer.sign("POST", path, extra.as_bytes());
    let p = expect_problem(
        app.send(Method::POST, path, extra, Some(&auth)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        &[],
    )
    .await;
    assert_eq!(p.body["code"], "unknown_fields");

    let big = format!(r#"{{"event":"push","data":"{}"}}"#, "x".repeat(2048));
    let auth = app.signer.sign("POST", path, big.as_bytes());
    expect_problem(
        app.send(Method::POST, path, &big, Some(&auth)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        &[],
    )
    .await;
}

/// Issue 14 §7: under `axum::Router::nest` the inner router sees the path without its
/// prefix. The signature covers the request target as the client sent it (axum's
/// `OriginalUri`); a signature over the stripped path is refused.
#[tokio::test]
async fn a_nested_route_verifies_the_original_target() {
    let keys = Arc::new(InMemoryHmacKeys::new());
    keys.insert(KEY_ID, HmacClient::new("github", SECRET).unwrap());
    let security = Security::builder()
        .allow_plain_http()
        .hmac(HmacVerifier::new(keys))
        .build();
    let inner = SecureRouter::new(security)
        .route("/webhooks/{source}", post(webhook))
        .into_router();
    let app = axum::Router::new().nest("/hooks/v1", inner);
    let addr = common::serve(app).await;
    let client = common::client_from(None);
    let signer = HmacSigner::new(KEY_ID, SECRET);
    let send = |path: &'static str, auth: String| {
        client
            .post(format!("http://{addr}{path}"))
            .header("content-type", "application/json")
            .header("authorization", auth)
            .body(BODY)
            .send()
    };
    let target = "/hooks/v1/webhooks/github?delivery=7";
    let res = send(target, signer.sign("POST", target, BODY.as_bytes()))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let stripped = signer.sign("POST", "/webhooks/github?delivery=7", BODY.as_bytes());
    expect_problem(
        send(target, stripped).await.unwrap(),
        StatusCode::UNAUTHORIZED,
        &[],
    )
    .await;
}
