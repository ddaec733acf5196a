//! Every demo route of a signed sender, over real HTTPS, against every way a delivery can be
//! wrong: `POST /api/hooks/github`, `/api/hooks/stripe`, `/api/hooks/standard` and
//! `/api/partner/orders` each get a good request (200), then an altered body, an altered
//! header, a stale one, a replay, another key and a missing component, each one 401 problem
//! whose audit record names the failed check. (GitHub signs no timestamp: a delivery cannot
//! be stale, only replayed, which its delivery id prevents.) Then two demo instances share a
//! real Redis (`redis_url`, as `DEMO_REDIS_URL` sets it): a delivery accepted by one is a
//! replay at the other, on every route.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use demo::hooks::{SignedSenders, PARTNER_KEY_ID};
use demo::{app, DemoConfig};
use reqwest::{Client, StatusCode};
use secure_endpoint::signature::SignatureSigner;
use secure_endpoint::webhook::sign;
use serde_json::Value;

const BODY: &str = r#"{"action":"opened","number":7,"repository":{"full_name":"o/r"}}"#;
const ORDER: &str = r#"{"item":"widget","quantity":3}"#;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

type Headers = Vec<(String, String)>;

/// A demo instance over HTTPS.
struct Demo {
    base: String,
    client: Client,
    audit_file: std::path::PathBuf,
    state: demo::AppState,
}

async fn start(senders: &SignedSenders, redis_url: Option<String>) -> Demo {
    let dir = std::env::temp_dir().join(format!("se-hooks-matrix-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let audit_file = dir.join("audit.jsonl");
    let config = DemoConfig {
        jwt_secret: b"hooks matrix secret, at least 32 bytes".to_vec(),
        password: "hooks-matrix password".into(),
        reports_api_key: "demo_matrix0123456789abcdef0123456789a".into(),
        webhook_secret: "hooks matrix webhook secret, 32+ bytes".into(),
        cors_origins: Vec::new(),
        trusted_proxies: Vec::new(),
        audit_file: Some(audit_file.clone()),
        redis_url,
        signed: senders.clone(),
    };
    let (router, state) = app(&config);
    let (tls, ca) = demo::server::tls_config(None).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(demo::server::serve_https(
        listener,
        tls,
        router,
        state.clone(),
    ));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.unwrap().as_bytes()).unwrap()])
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    Demo {
        base,
        client,
        audit_file,
        state,
    }
}

impl Demo {
    async fn send(&self, path: &str, headers: &Headers, body: &str) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            req = req.header(name.as_str(), value.as_str());
        }
        req.send().await.unwrap()
    }

    async fn ok(&self, path: &str, headers: &Headers, body: &str) -> Value {
        let res = self.send(path, headers, body).await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// One 401 problem; returns its request id.
    async fn refused(&self, path: &str, headers: &Headers, body: &str) -> String {
        let res = self.send(path, headers, body).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        assert!(res.headers().contains_key("www-authenticate"), "{path}");
        let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["status"], 401, "{problem}");
        assert_eq!(problem["request_id"], id.as_str(), "{problem}");
        for member in ["type", "title", "code", "error_id"] {
            assert!(problem[member].is_string(), "{member}: {problem}");
        }
        id
    }

    /// Checks the audit trail against the refusals made, `(request id, reason)`: repeated
    /// refusals of one kind from one client are aggregated into one record with an exact
    /// `count` (the audit trail's flood guard), so the reasons weighted by their counts are
    /// exactly the expected ones, and every record names a request that was refused.
    async fn assert_audited(&self, refusals: &[(String, &str)]) {
        tokio::time::timeout(Duration::from_secs(10), self.state.flush_audit())
            .await
            .unwrap();
        let text = std::fs::read_to_string(&self.audit_file).unwrap();
        assert!(!text.contains("sig1=:") && !text.contains("sha256=") && !text.contains("v1,"));
        let mut recorded: Vec<String> = Vec::new();
        for line in text.lines() {
            let record: Value = serde_json::from_str(line).unwrap();
            let id = record["request_id"].as_str().expect("a request id");
            assert!(
                refusals.iter().any(|(r, _)| r == id),
                "a record for a request that was not refused: {record}"
            );
            let reason = record["reason"].as_str().expect("a reason").to_owned();
            let count = record["count"].as_u64().unwrap_or(1) as usize;
            recorded.extend(std::iter::repeat_n(reason, count));
        }
        let mut expected: Vec<String> = refusals.iter().map(|(_, r)| (*r).to_owned()).collect();
        recorded.sort();
        expected.sort();
        assert_eq!(recorded, expected);
    }
}

fn h(pairs: &[(&str, String)]) -> Headers {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), v.clone()))
        .collect()
}

fn github(secret: &[u8], delivery: &str, body: &str) -> Headers {
    h(&[
        ("x-github-event", "pull_request".into()),
        ("x-github-delivery", delivery.into()),
        ("x-hub-signature-256", sign::github(secret, body.as_bytes())),
    ])
}

fn stripe(secret: &str, t: u64, body: &str) -> Headers {
    h(&[("stripe-signature", sign::stripe(secret, t, body.as_bytes()))])
}

fn standard(secret: &str, id: &str, ts: u64, body: &str) -> Headers {
    h(&[
        ("webhook-id", id.into()),
        ("webhook-timestamp", ts.to_string()),
        (
            "webhook-signature",
            sign::standard(secret, id, ts, body.as_bytes()).unwrap(),
        ),
    ])
}

fn partner_signer(senders: &SignedSenders) -> SignatureSigner {
    let key = base64::engine::general_purpose::STANDARD
        .decode(&senders.partner_key)
        .unwrap();
    SignatureSigner::hmac_sha256(PARTNER_KEY_ID, &key)
}

fn partner(signer: &SignatureSigner, created: u64, body: &str) -> Headers {
    let mut parts = axum::http::Request::post("/api/partner/orders")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    signer
        .sign_at(&mut parts, body.as_bytes(), created, Some(&nonce))
        .unwrap();
    parts
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect()
}

fn with(headers: &Headers, name: &str, value: String) -> Headers {
    let mut out: Headers = headers.iter().filter(|(n, _)| n != name).cloned().collect();
    out.push((name.to_owned(), value));
    out
}

fn without(headers: &Headers, name: &str) -> Headers {
    headers.iter().filter(|(n, _)| n != name).cloned().collect()
}

#[tokio::test]
async fn every_route_refuses_every_kind_of_bad_delivery() {
    let senders = SignedSenders::generate();
    let other = SignedSenders::generate();
    let demo = start(&senders, None).await;
    // (request id, expected reason) of every refusal.
    let mut expected: Vec<(String, &str)> = Vec::new();
    let altered = BODY.replace('7', "8");

    // GitHub.
    let path = "/api/hooks/github";
    let gh = senders.github.as_bytes();
    let good = github(gh, "d-1", BODY);
    assert_eq!(demo.ok(path, &good, BODY).await["sender"], "github");
    let cases: Vec<(Headers, &str, &str)> = vec![
        (good.clone(), BODY, "replayed"),
        (github(gh, "d-2", BODY), &altered, "signature_mismatch"),
        (
            with(
                &github(gh, "d-3", BODY),
                "x-hub-signature-256",
                sign::github(gh, b"{}"),
            ),
            BODY,
            "signature_mismatch",
        ),
        (
            github(other.github.as_bytes(), "d-4", BODY),
            BODY,
            "signature_mismatch",
        ),
        (
            without(&github(gh, "d-5", BODY), "x-github-delivery"),
            BODY,
            "signature_nonce_missing",
        ),
        (
            without(&github(gh, "d-6", BODY), "x-hub-signature-256"),
            BODY,
            "credential_missing",
        ),
    ];
    for (headers, body, reason) in cases {
        expected.push((demo.refused(path, &headers, body).await, reason));
    }

    // Stripe.
    let path = "/api/hooks/stripe";
    let t = now();
    let good = stripe(&senders.stripe, t, BODY);
    assert_eq!(demo.ok(path, &good, BODY).await["sender"], "stripe");
    let header = stripe(&senders.stripe, t - 1, BODY);
    let cases: Vec<(Headers, &str, &str)> = vec![
        (good.clone(), BODY, "replayed"),
        (header.clone(), &altered, "signature_mismatch"),
        (
            with(
                &header,
                "stripe-signature",
                header[0]
                    .1
                    .replace(&format!("t={}", t - 1), &format!("t={}", t - 2)),
            ),
            BODY,
            "signature_mismatch",
        ),
        (
            stripe(&senders.stripe, now() - 600, BODY),
            BODY,
            "signature_stale",
        ),
        (
            stripe(&other.stripe, now(), BODY),
            BODY,
            "signature_mismatch",
        ),
        (
            h(&[("stripe-signature", format!("t={}", now()))]),
            BODY,
            "signature_malformed",
        ),
    ];
    for (headers, body, reason) in cases {
        expected.push((demo.refused(path, &headers, body).await, reason));
    }

    // Standard Webhooks.
    let path = "/api/hooks/standard";
    let good = standard(&senders.standard, "msg_1", now(), BODY);
    assert_eq!(
        demo.ok(path, &good, BODY).await["sender"],
        "standard-sender"
    );
    let fresh = standard(&senders.standard, "msg_2", now(), BODY);
    let cases: Vec<(Headers, &str, &str)> = vec![
        (good.clone(), BODY, "replayed"),
        (fresh.clone(), &altered, "signature_mismatch"),
        (
            with(&fresh, "webhook-id", "msg_3".into()),
            BODY,
            "signature_mismatch",
        ),
        (
            standard(&senders.standard, "msg_4", now() - 600, BODY),
            BODY,
            "signature_stale",
        ),
        (
            standard(&other.standard, "msg_5", now(), BODY),
            BODY,
            "signature_mismatch",
        ),
        (
            without(&fresh, "webhook-id"),
            BODY,
            "signature_nonce_missing",
        ),
    ];
    for (headers, body, reason) in cases {
        expected.push((demo.refused(path, &headers, body).await, reason));
    }
    // None of those refusals spent msg_2.
    demo.ok(path, &fresh, BODY).await;

    // Partner orders, RFC 9421 hmac-sha256.
    let path = "/api/partner/orders";
    let signer = partner_signer(&senders);
    let good = partner(&signer, now(), ORDER);
    assert_eq!(demo.ok(path, &good, ORDER).await["partner"], "partner-demo");
    let fresh = partner(&signer, now(), ORDER);
    let other_order = r#"{"item":"widget","quantity":9}"#;
    let cases: Vec<(Headers, &str, &str)> = vec![
        (good.clone(), ORDER, "replayed"),
        (fresh.clone(), other_order, "digest_mismatch"),
        (
            // The digest replaced to match the body sent: the signature covers it.
            with(
                &fresh,
                "content-digest",
                secure_endpoint::signature_base::content_digest_sha256(other_order.as_bytes()),
            ),
            other_order,
            "signature_mismatch",
        ),
        (
            partner(&signer, now() - 400, ORDER),
            ORDER,
            "signature_stale",
        ),
        (
            partner(&partner_signer(&other), now(), ORDER),
            ORDER,
            "signature_mismatch",
        ),
        (
            partner(
                &signer.clone().components(["@method", "@path", "@query"]),
                now(),
                ORDER,
            ),
            ORDER,
            "signature_components",
        ),
        (
            partner(
                &signer
                    .clone()
                    .components(["@path", "@query", "content-digest"]),
                now(),
                ORDER,
            ),
            ORDER,
            "signature_components",
        ),
    ];
    for (headers, body, reason) in cases {
        expected.push((demo.refused(path, &headers, body).await, reason));
    }
    demo.ok(path, &fresh, ORDER).await;

    // The audit trail names the failed check of each refusal, and nothing else was refused.
    demo.assert_audited(&expected).await;
}

// ---- a real Redis shared by two instances --------------------------------------------------

/// A `redis-server` on a free loopback port, without persistence; killed on drop.
struct RedisServer(Child, u16);

impl RedisServer {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("this test needs redis-server (apt-get install redis-server)");
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        RedisServer(child, port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn with_redis_a_delivery_accepted_by_one_instance_is_a_replay_at_another() {
    let server = RedisServer::start();
    let url = format!("redis://127.0.0.1:{}/", server.1);
    let senders = SignedSenders::generate();
    let a = start(&senders, Some(url.clone())).await;
    let b = start(&senders, Some(url)).await;
    let signer = partner_signer(&senders);
    let deliveries: Vec<(&str, Headers, &str)> = vec![
        (
            "/api/hooks/github",
            github(senders.github.as_bytes(), "d-1", BODY),
            BODY,
        ),
        (
            "/api/hooks/stripe",
            stripe(&senders.stripe, now(), BODY),
            BODY,
        ),
        (
            "/api/hooks/standard",
            standard(&senders.standard, "msg_1", now(), BODY),
            BODY,
        ),
        ("/api/partner/orders", partner(&signer, now(), ORDER), ORDER),
    ];
    let mut replays = Vec::new();
    for (path, headers, body) in &deliveries {
        a.ok(path, headers, body).await;
        replays.push((b.refused(path, headers, body).await, "replayed"));
    }
    b.assert_audited(&replays).await;
    // Fresh deliveries are accepted by the other instance.
    b.ok(
        "/api/hooks/github",
        &github(senders.github.as_bytes(), "d-2", BODY),
        BODY,
    )
    .await;
    b.ok(
        "/api/partner/orders",
        &partner(&signer, now(), ORDER),
        ORDER,
    )
    .await;
}
