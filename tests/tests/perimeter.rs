//! The perimeter over real HTTP: whose forwarding headers are believed (and that spoofed ones
//! change nothing), HTTPS as reported by a trusted proxy, per-endpoint body limits (with
//! chunked bodies and `Expect: 100-continue`), timeouts, and versions declared on the router.
//! The demo's tests run the rest (plain HTTP, CORS, 414/431, methods) against it over TLS.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use secure_endpoint::lifecycle::Version;
use secure_endpoint::policy::RateSpec;
use secure_endpoint::routing::{get, post};
use secure_endpoint::{
    secure_endpoint, ClientIp, Json, RequestId, SecureRouter, Security, SecurityBuilder,
};
use serde::Deserialize;
use serde_json::{json, Value};

#[secure_endpoint(auth = "none")]
async fn whoami(ClientIp(ip): ClientIp) -> String {
    ip.to_string()
}

#[secure_endpoint(auth = "none")]
async fn request_id(id: RequestId) -> String {
    id.as_str().to_owned()
}

#[derive(Deserialize, garde::Validate)]
struct Upload {
    #[garde(length(max = 100_000))]
    data: String,
}

#[secure_endpoint(auth = "none", fields = ["data"], body_limit = "1kb")]
async fn small_upload(Json(u): Json<Upload>) -> String {
    u.data.len().to_string()
}

#[secure_endpoint(auth = "none", fields = ["data"])]
async fn default_upload(Json(u): Json<Upload>) -> String {
    u.data.len().to_string()
}

#[secure_endpoint(auth = "none")]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "done"
}

#[secure_endpoint(auth = "none")]
async fn v1_thing() -> &'static str {
    "v1"
}

#[secure_endpoint(auth = "none", deprecated = "2025-01-01", sunset = "2025-06-30")]
async fn v1_gone() -> &'static str {
    "never"
}

#[secure_endpoint(auth = "none")]
async fn v0_thing() -> &'static str {
    "v0"
}

fn routes(security: Security) -> axum::Router {
    secure_routes(security).into_router()
}

fn secure_routes(security: Security) -> SecureRouter {
    SecureRouter::new(security)
        .version(
            "/v1",
            Version::deprecated("2026-03-01")
                .sunset("2030-01-01")
                .successor("/v2"),
        )
        .version(
            "/v0",
            Version::deprecated("2024-01-01").sunset("2025-01-01"),
        )
        .route("/whoami", get(whoami))
        .route("/request-id", get(request_id))
        .route("/upload/small", post(small_upload))
        .route("/upload/default", post(default_upload))
        .route("/slow", get(slow))
        .route("/v1/things/{id}", get(v1_thing))
        .route("/v1/gone", get(v1_gone))
        .route("/v0/things", get(v0_thing))
}

async fn serve(security: SecurityBuilder) -> SocketAddr {
    let app = routes(security.build());
    let addr = common::serve(app).await;
    addr
}

fn tight_ip_limit() -> SecurityBuilder {
    Security::builder().ip_rate(Some(RateSpec::new(3, Duration::from_secs(60))))
}

#[tokio::test]
async fn handlers_see_the_request_id_the_response_carries() {
    let addr = serve(Security::builder().allow_plain_http()).await;
    let client = client_from(None);
    let url = format!("http://{addr}/request-id");
    // The caller's well-formed id, a malformed one (replaced), none at all (generated).
    for given in [Some("trace-7:abc"), Some("not well formed"), None] {
        let mut req = client.get(&url);
        if let Some(given) = given {
            req = req.header("x-request-id", given);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let header = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        let seen = res.text().await.unwrap();
        assert_eq!(seen, header, "given {given:?}");
        match given {
            Some("trace-7:abc") => assert_eq!(seen, "trace-7:abc"),
            _ => assert_eq!(seen.len(), 33, "a generated id: {seen}"),
        }
    }
}

#[tokio::test]
async fn spoofed_forwarding_headers_change_nothing_without_a_trusted_proxy() {
    let addr = serve(tight_ip_limit().allow_plain_http()).await;
    let client = client_from(None);
    let mut statuses = Vec::new();
    for i in 0..5 {
        let res = client
            .get(format!("http://{addr}/whoami"))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .header("forwarded", format!("for=198.51.100.{i};proto=https"))
            .header("x-real-ip", format!("192.0.2.{i}"))
            .send()
            .await
            .unwrap();
        statuses.push(res.status());
        if res.status() == StatusCode::OK {
            assert_eq!(
                res.text().await.unwrap(),
                "127.0.0.1",
                "the peer, not a header"
            );
        }
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 429, 429].map(|s| StatusCode::from_u16(s).unwrap()),
        "five spoofed addresses share the real peer's bucket"
    );

    // Without a trusted proxy, a forwarded `https` does not make a plain request acceptable.
    let addr = serve(Security::builder()).await;
    let res = client
        .get(format!("http://{addr}/whoami"))
        .header("x-forwarded-proto", "https")
        .header("forwarded", "proto=https")
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, StatusCode::FORBIDDEN, &[]).await;
    assert_eq!(p.body["code"], "https_required");
    assert!(p.header("location").is_none() && p.header("strict-transport-security").is_none());
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_rightmost_untrusted_address_is_the_client() {
    // The test client is the "proxy": 127.0.0.1 is trusted.
    let addr = serve(tight_ip_limit().trusted_proxies(["127.0.0.1/32", "10.0.0.0/8"])).await;
    let client = client_from(None);
    let get = |xff: &str, proto: &str| {
        client
            .get(format!("http://{addr}/whoami"))
            .header("x-forwarded-for", xff.to_owned())
            .header("x-forwarded-proto", proto.to_owned())
            .send()
    };
    // The proxy says the client used HTTPS: accepted; the client's own address is used.
    let res = get("203.0.113.7", "https").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "203.0.113.7");
    // A client-supplied entry on the left cannot pick the address: the rightmost untrusted
    // one (appended by the proxy) is used; trusted hops on the right are skipped.
    let res = get("6.6.6.6, 203.0.113.7, 10.1.2.3", "https")
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "203.0.113.7");
    // Only the configured header is read (X-Forwarded-For by default): a `Forwarded` beside
    // it is the client's and ignored (tests/tests/proxy.rs covers choosing `Forwarded`).
    let res = client
        .get(format!("http://{addr}/whoami"))
        .header("forwarded", "for=\"[2001:db8::9]:1234\";proto=https")
        .header("x-forwarded-for", "203.0.113.99")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "203.0.113.99");
    // Each client has its own bucket: 203.0.113.7 has used 2 of 3.
    assert_eq!(
        get("203.0.113.7", "https").await.unwrap().status(),
        StatusCode::OK
    );
    let limited = get("203.0.113.7", "https").await.unwrap();
    expect_problem(limited, StatusCode::TOO_MANY_REQUESTS, &[]).await;
    assert_eq!(
        get("203.0.113.8", "https").await.unwrap().status(),
        StatusCode::OK
    );
    // The proxy says the client came over plain HTTP: 403.
    let res = get("203.0.113.9", "http").await.unwrap();
    let p = expect_problem(res, StatusCode::FORBIDDEN, &[]).await;
    assert_eq!(p.body["code"], "https_required");
}

fn raw_request(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.windows(4).any(|w| w == b"\r\n\r\n") && out.ends_with(b"}") {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn the_endpoints_own_body_limit_with_content_length_chunked_and_expect() {
    let addr = serve(Security::builder().allow_plain_http()).await;
    let client = client_from(None);
    let post = |path: &str, body: String| {
        client
            .post(format!("http://{addr}{path}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let body = json!({ "data": "x".repeat(2000) }).to_string();
    // 2 KB: over the endpoint's 1 KiB, under the router's 64 KiB default.
    expect_problem(
        post("/upload/small", body.clone()).await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        &[],
    )
    .await;
    let res = post("/upload/default", body.clone()).await.unwrap();
    assert_eq!(res.text().await.unwrap(), "2000");
    let fits = json!({ "data": "x".repeat(900) }).to_string();
    assert_eq!(
        post("/upload/small", fits).await.unwrap().status(),
        StatusCode::OK
    );

    // Chunked, no Content-Length: the limit counts the bytes read.
    let mut request = b"POST /upload/small HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    request.extend(chunked(body.as_bytes(), 300));
    let res = raw_exchange(addr, request, 1).await.remove(0);
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.body);

    // `Expect: 100-continue` with a Content-Length over the limit: refused at once, without
    // asking for the body (no `100 Continue`), and without the body ever being sent.
    let response = tokio::task::spawn_blocking(move || {
        raw_request(
            addr,
            b"POST /upload/small HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n\r\n",
        )
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(!response.contains("100 Continue"), "{response}");
    assert!(response.contains("application/problem+json"), "{response}");
}

#[tokio::test]
async fn slow_bodies_get_408_and_slow_handlers_503() {
    let addr = serve(
        Security::builder()
            .allow_plain_http()
            .body_timeout(Duration::from_millis(300))
            .request_timeout(Some(Duration::from_millis(600))),
    )
    .await;
    // A body announced but never sent.
    let response = tokio::task::spawn_blocking(move || {
        raw_request(
            addr,
            b"POST /upload/default HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"data\":",
        )
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("\"code\":\"body_timeout\""), "{response}");

    let started = std::time::Instant::now();
    let res = client_from(None)
        .get(format!("http://{addr}/slow"))
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, StatusCode::SERVICE_UNAVAILABLE, &[]).await;
    assert_eq!(p.body["code"], "timeout");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn versions_declared_on_the_router() {
    let addr = serve(Security::builder().allow_plain_http()).await;
    let client = client_from(None);
    let res = client
        .get(format!("http://{addr}/v1/things/42?x=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["deprecation"], "@1772323200");
    assert_eq!(res.headers()["sunset"], "Tue, 01 Jan 2030 00:00:00 GMT");
    assert_eq!(
        res.headers()["link"],
        "</v2/things/42>; rel=\"successor-version\""
    );
    // The endpoint's own sunset beats the version's: gone.
    let res = client
        .get(format!("http://{addr}/v1/gone"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["sunset"], "Mon, 30 Jun 2025 00:00:00 GMT");
    let p = expect_problem(res, StatusCode::GONE, &[]).await;
    assert_eq!(p.body["code"], "sunset");
    // A whole retired version.
    let res = client
        .get(format!("http://{addr}/v0/things"))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::GONE, &[]).await;
    // Not versioned: no headers.
    let res = client
        .get(format!("http://{addr}/whoami"))
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("deprecation").is_none());

    // The inventory shows what the router enforces, the version's dates included.
    let inventory = secure_routes(Security::builder().build()).inventory();
    let entry = |path: &str| {
        inventory
            .endpoints
            .iter()
            .find(|e| e.path == path)
            .unwrap()
            .clone()
    };
    let v1 = entry("/v1/things/{id}");
    assert_eq!(v1.deprecated.as_deref(), Some("2026-03-01"));
    assert_eq!(v1.sunset.as_deref(), Some("2030-01-01"));
    assert_eq!(v1.successor.as_deref(), Some("/v2/things/{id}"));
    let gone = entry("/v1/gone");
    assert_eq!(gone.sunset.as_deref(), Some("2025-06-30"));
    assert_eq!(entry("/v0/things").sunset.as_deref(), Some("2025-01-01"));
    assert_eq!(entry("/whoami").deprecated, None);
    let json: Value = serde_json::from_str(&inventory.to_json()).unwrap();
    assert!(json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["successor"] == "/v2/things/{id}"));
}
