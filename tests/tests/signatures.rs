//! HTTP Message Signatures (RFC 9421, `auth = "signature"`) over real HTTP, signed with the
//! shipped `SignatureSigner`: a good request is 200; an altered body, an altered signed
//! header, a stale or replayed signature, another key and a signature that omits a required
//! component are each one 401 problem, and the security event names the check that failed.
//! The route is served under `axum::Router::nest`: the signature covers the target as sent.
//! Replays are refused across two instances sharing a real Redis nonce store.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{expect_json, expect_problem, now};
use reqwest::StatusCode;
use secure_endpoint::events::{EventKind, EventSink, SecurityEvent, SinkFull};
use secure_endpoint::hmac::NonceStore;
use secure_endpoint::routing::post;
use secure_endpoint::signature::{SignatureKey, SignatureSigner, SignatureVerifier};
use secure_endpoint::{secure_endpoint, Json, Principal, SafeResponse, SecureRouter, Security};
use serde::{Deserialize, Serialize};
use serde_json::json;

const KEY: &[u8] = b"partner key for the tests, 32 bytes or more";
const KEY_ID: &str = "partner-demo";
const BODY: &str = r#"{"item":"widget","quantity":3}"#;

#[derive(Deserialize, garde::Validate)]
struct NewOrder {
    #[garde(length(min = 1, max = 32))]
    item: String,
    #[garde(range(min = 1, max = 100))]
    quantity: u32,
}

#[derive(Serialize, SafeResponse)]
struct Accepted {
    partner: String,
    scheme: &'static str,
    item: String,
    quantity: u32,
}

#[secure_endpoint(auth = "signature", roles = ["partner"], fields = ["item", "quantity"])]
async fn create_order(principal: Principal, Json(order): Json<NewOrder>) -> axum::Json<Accepted> {
    axum::Json(Accepted {
        partner: principal.subject().to_owned(),
        scheme: principal.scheme().as_str(),
        item: order.item,
        quantity: order.quantity,
    })
}

/// The security events of an instance.
#[derive(Debug, Default)]
struct Events(Mutex<Vec<SecurityEvent>>);

impl EventSink for Events {
    fn record(&self, event: SecurityEvent) -> Result<(), SinkFull> {
        self.0.lock().unwrap().push(event);
        Ok(())
    }
}

impl Events {
    fn last_reason(&self) -> Option<String> {
        let events = self.0.lock().unwrap();
        let last = events.last()?;
        assert_eq!(last.kind, EventKind::AuthenticationFailed, "{last:?}");
        let debug = format!("{last:?}");
        assert!(
            !debug.contains("sig1=:"),
            "the event holds no signature: {debug}"
        );
        last.reason.clone()
    }
}

struct App {
    base: String,
    client: reqwest::Client,
    events: Arc<Events>,
}

async fn start(nonces: Option<Arc<dyn NonceStore>>) -> App {
    let mut verifier = SignatureVerifier::new().key(
        KEY_ID,
        SignatureKey::hmac_sha256("partner-co", KEY)
            .unwrap()
            .roles(["partner"]),
    );
    if let Some(store) = nonces {
        verifier = verifier.nonce_store(store);
    }
    let events = Arc::new(Events::default());
    let security = Security::builder()
        .allow_plain_http()
        .signatures(verifier)
        .events(events.clone())
        .build();
    let api = SecureRouter::new(security)
        .route("/partner/orders", post(create_order))
        .into_router();
    // Nested: the handler's router sees `/partner/orders`, the client signed
    // `/api/partner/orders?ref=7`.
    let app = axum::Router::new().nest("/api", api);
    let addr = common::serve(app).await;
    App {
        base: format!("http://{addr}"),
        client: common::client_from(None),
        events,
    }
}

/// The signed headers of `POST {target}` with `body`.
fn sign(signer: &SignatureSigner, target: &str, body: &str, created: u64) -> http::HeaderMap {
    let mut parts = http::Request::post(target).body(()).unwrap().into_parts().0;
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    signer
        .sign_at(&mut parts, body.as_bytes(), created, Some(&nonce))
        .unwrap();
    parts.headers
}

fn signer() -> SignatureSigner {
    SignatureSigner::hmac_sha256(KEY_ID, KEY)
}

const TARGET: &str = "/api/partner/orders?ref=7";

impl App {
    async fn send(&self, target: &str, headers: &http::HeaderMap, body: &str) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}{target}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            req = req.header(name.as_str(), value.to_str().unwrap());
        }
        req.send().await.unwrap()
    }

    async fn refused(&self, target: &str, headers: &http::HeaderMap, body: &str) -> String {
        expect_problem(
            self.send(target, headers, body).await,
            StatusCode::UNAUTHORIZED,
            &[],
        )
        .await;
        self.events.last_reason().expect("a reason")
    }
}

#[tokio::test]
async fn a_signed_request_under_a_nested_router_is_accepted() {
    let app = start(None).await;
    let headers = sign(&signer(), TARGET, BODY, now());
    let body = expect_json(app.send(TARGET, &headers, BODY).await, StatusCode::OK).await;
    assert_eq!(
        body,
        json!({"partner": "partner-co", "scheme": "signature", "item": "widget", "quantity": 3})
    );
    // Signed over the stripped path, as the inner router sees it: refused.
    let stripped = sign(&signer(), "/partner/orders?ref=7", BODY, now());
    assert_eq!(
        app.refused(TARGET, &stripped, BODY).await,
        "signature_mismatch"
    );
}

#[tokio::test]
async fn every_alteration_is_one_401_naming_the_failed_check() {
    let app = start(None).await;
    let good = sign(&signer(), TARGET, BODY, now());

    let altered_body = BODY.replace('3', "30");
    assert_eq!(
        app.refused(TARGET, &good, &altered_body).await,
        "digest_mismatch"
    );

    let altered_query = "/api/partner/orders?ref=8";
    assert_eq!(
        app.refused(altered_query, &good, BODY).await,
        "signature_mismatch"
    );

    // The Content-Digest header replaced to match another body: the signature covers it.
    let other_body = r#"{"item":"gadget","quantity":3}"#;
    let mut altered_header = good.clone();
    altered_header.insert(
        "content-digest",
        secure_endpoint::signature_base::content_digest_sha256(other_body.as_bytes())
            .parse()
            .unwrap(),
    );
    assert_eq!(
        app.refused(TARGET, &altered_header, other_body).await,
        "signature_mismatch"
    );

    let stale = sign(&signer(), TARGET, BODY, now() - 400);
    assert_eq!(app.refused(TARGET, &stale, BODY).await, "signature_stale");

    let wrong_key = sign(
        &SignatureSigner::hmac_sha256(KEY_ID, b"another key of 32 bytes or more..."),
        TARGET,
        BODY,
        now(),
    );
    assert_eq!(
        app.refused(TARGET, &wrong_key, BODY).await,
        "signature_mismatch"
    );

    let without_digest = sign(
        &signer().components(["@method", "@path", "@query"]),
        TARGET,
        BODY,
        now(),
    );
    assert_eq!(
        app.refused(TARGET, &without_digest, BODY).await,
        "signature_components"
    );
    let without_method = sign(
        &signer().components(["@path", "@query", "content-digest"]),
        TARGET,
        BODY,
        now(),
    );
    assert_eq!(
        app.refused(TARGET, &without_method, BODY).await,
        "signature_components"
    );

    // None of the refusals used up the nonce: the good request passes once, then is a replay.
    expect_json(app.send(TARGET, &good, BODY).await, StatusCode::OK).await;
    assert_eq!(app.refused(TARGET, &good, BODY).await, "replayed");

    // No signature at all: missing, with the scheme's challenge.
    let res = app.send(TARGET, &http::HeaderMap::new(), BODY).await;
    let problem = expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
    assert_eq!(
        problem.header("www-authenticate"),
        Some("Signature realm=\"api\"")
    );
}

// ---- a real Redis as the shared nonce store ------------------------------------------------

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
            .expect("these tests need redis-server (apt-get install redis-server)");
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
async fn a_replay_to_another_instance_is_refused_through_redis() {
    let server = RedisServer::start();
    let url = format!("redis://127.0.0.1:{}/", server.1);
    let store = || -> Arc<dyn NonceStore> {
        Arc::new(secure_endpoint::redis::RedisStore::open(&url).unwrap())
    };
    let a = start(Some(store())).await;
    let b = start(Some(store())).await;
    let headers = sign(&signer(), TARGET, BODY, now());
    expect_json(a.send(TARGET, &headers, BODY).await, StatusCode::OK).await;
    assert_eq!(b.refused(TARGET, &headers, BODY).await, "replayed");
    let fresh = sign(&signer(), TARGET, BODY, now());
    expect_json(b.send(TARGET, &fresh, BODY).await, StatusCode::OK).await;
}
