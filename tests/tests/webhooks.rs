//! Webhook deliveries in the GitHub, Stripe and Standard Webhooks formats over real HTTP, to
//! `body = "raw"` endpoints: a good delivery is 200 and its exact bytes reach the handler; an
//! altered body, an altered signed header, a stale timestamp, a replay, another secret and a
//! missing header are each one 401 problem whose security event names the failed check.

mod common;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common::{expect_problem, now};
use reqwest::StatusCode;
use secure_endpoint::events::{EventSink, SecurityEvent, SinkFull};
use secure_endpoint::routing::post;
use secure_endpoint::webhook::{sign, GithubWebhook, StandardWebhook, StripeWebhook};
use secure_endpoint::{secure_endpoint, Principal, SecureRouter, Security};

const GITHUB_SECRET: &[u8] = b"github webhook secret for the tests";
const STRIPE_SECRET: &str = "whsec_stripe_secret_for_the_tests";
/// `whsec_` and the base64 of 32 bytes.
const STANDARD_SECRET: &str = "whsec_c3RhbmRhcmQgd2ViaG9va3Mgc2VjcmV0ITEyMzQ=";
const PAYLOAD: &str =
    r#"{"action":"opened","number":7,"repository":{"full_name":"o/r"},"sender":{"login":"x"}}"#;

/// `<subject> <scheme> <bytes received>`: the handler sees the exact body.
#[secure_endpoint(auth = "github_webhook", allow = "authenticated", body = "raw")]
async fn github(principal: Principal, body: Bytes) -> String {
    format!(
        "{} {} {}",
        principal.subject(),
        principal.scheme().as_str(),
        body.len()
    )
}

#[secure_endpoint(
    auth = "stripe_webhook",
    allow = "authenticated",
    body = "raw",
    body_limit = "4kb"
)]
async fn stripe(principal: Principal, body: String) -> String {
    format!(
        "{} {} {}",
        principal.subject(),
        principal.scheme().as_str(),
        body.len()
    )
}

#[secure_endpoint(auth = "standard_webhook", allow = "authenticated", body = "raw")]
async fn standard(principal: Principal, body: Bytes) -> String {
    format!(
        "{} {} {}",
        principal.subject(),
        principal.scheme().as_str(),
        body.len()
    )
}

#[derive(Debug, Default)]
struct Events(Mutex<Vec<SecurityEvent>>);

impl EventSink for Events {
    fn record(&self, event: SecurityEvent) -> Result<(), SinkFull> {
        self.0.lock().unwrap().push(event);
        Ok(())
    }
}

struct App {
    base: String,
    client: reqwest::Client,
    events: Arc<Events>,
}

async fn start() -> App {
    let events = Arc::new(Events::default());
    let security = Security::builder()
        .allow_plain_http()
        .github_webhook(GithubWebhook::new("github", GITHUB_SECRET).unwrap())
        .stripe_webhook(StripeWebhook::new("stripe", STRIPE_SECRET).unwrap())
        .standard_webhook(StandardWebhook::new("billing", STANDARD_SECRET).unwrap())
        .events(events.clone())
        .build();
    let app = SecureRouter::new(security)
        .route("/hooks/github", post(github))
        .route("/hooks/stripe", post(stripe))
        .route("/hooks/standard", post(standard))
        .into_router();
    let addr = common::serve(app).await;
    App {
        base: format!("http://{addr}"),
        client: common::client_from(None),
        events,
    }
}

impl App {
    async fn send(&self, path: &str, headers: &[(&str, String)], body: &str) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        req.send().await.unwrap()
    }

    async fn ok(&self, path: &str, headers: &[(&str, String)], body: &str) -> String {
        let res = self.send(path, headers, body).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.text().await.unwrap()
    }

    /// One 401 problem; returns the reason its security event recorded.
    async fn refused(&self, path: &str, headers: &[(&str, String)], body: &str) -> String {
        expect_problem(
            self.send(path, headers, body).await,
            StatusCode::UNAUTHORIZED,
            &[],
        )
        .await;
        let events = self.events.0.lock().unwrap();
        let last = events.last().unwrap();
        let debug = format!("{last:?}");
        for (_, value) in headers {
            assert!(
                !debug.contains(value.as_str()) || value.len() < 20,
                "{debug}"
            );
        }
        last.reason.clone().unwrap()
    }
}

fn github_headers(secret: &[u8], delivery: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("x-github-event", "pull_request".to_owned()),
        ("x-github-delivery", delivery.to_owned()),
        ("x-hub-signature-256", sign::github(secret, body.as_bytes())),
    ]
}

#[tokio::test]
async fn github_deliveries() {
    let app = start().await;
    let path = "/hooks/github";
    let good = github_headers(GITHUB_SECRET, "d-1", PAYLOAD);
    assert_eq!(
        app.ok(path, &good, PAYLOAD).await,
        format!("github github_webhook {}", PAYLOAD.len())
    );
    assert_eq!(app.refused(path, &good, PAYLOAD).await, "replayed");
    let fresh = github_headers(GITHUB_SECRET, "d-2", PAYLOAD);
    assert_eq!(
        app.refused(path, &fresh, &PAYLOAD.replace('7', "8")).await,
        "signature_mismatch"
    );
    let wrong = github_headers(b"another secret", "d-3", PAYLOAD);
    assert_eq!(
        app.refused(path, &wrong, PAYLOAD).await,
        "signature_mismatch"
    );
    let no_delivery = vec![fresh[2].clone()];
    assert_eq!(
        app.refused(path, &no_delivery, PAYLOAD).await,
        "signature_nonce_missing"
    );
    assert_eq!(app.refused(path, &[], PAYLOAD).await, "credential_missing");
    // GitHub signs no timestamp: a delivery id is remembered instead (see the unit tests for
    // its window). The altered header: a signature of another body.
    let mut altered = github_headers(GITHUB_SECRET, "d-4", PAYLOAD);
    altered[2].1 = sign::github(GITHUB_SECRET, b"{}");
    assert_eq!(
        app.refused(path, &altered, PAYLOAD).await,
        "signature_mismatch"
    );
    // None of the refusals used up d-2.
    assert!(app.ok(path, &fresh, PAYLOAD).await.starts_with("github"));
}

#[tokio::test]
async fn stripe_deliveries() {
    let app = start().await;
    let path = "/hooks/stripe";
    let header = |secret: &str, t: u64| {
        vec![(
            "stripe-signature",
            sign::stripe(secret, t, PAYLOAD.as_bytes()),
        )]
    };
    let good = header(STRIPE_SECRET, now());
    assert_eq!(
        app.ok(path, &good, PAYLOAD).await,
        format!("stripe stripe_webhook {}", PAYLOAD.len())
    );
    assert_eq!(app.refused(path, &good, PAYLOAD).await, "replayed");
    let t = now() - 1;
    assert_eq!(
        app.refused(path, &header(STRIPE_SECRET, t), &format!("{PAYLOAD} "))
            .await,
        "signature_mismatch"
    );
    // The timestamp altered in the header: the signature is over the original one.
    let altered = vec![(
        "stripe-signature",
        header(STRIPE_SECRET, t)[0]
            .1
            .replace(&format!("t={t}"), &format!("t={}", t - 1)),
    )];
    assert_eq!(
        app.refused(path, &altered, PAYLOAD).await,
        "signature_mismatch"
    );
    assert_eq!(
        app.refused(path, &header(STRIPE_SECRET, now() - 301), PAYLOAD)
            .await,
        "signature_stale"
    );
    assert_eq!(
        app.refused(path, &header("whsec_other", now()), PAYLOAD)
            .await,
        "signature_mismatch"
    );
    let no_v1 = vec![("stripe-signature", format!("t={}", now()))];
    assert_eq!(
        app.refused(path, &no_v1, PAYLOAD).await,
        "signature_malformed"
    );
    // A rotation: the old secret's signature beside the current one (at another second than
    // the first delivery, whose identical signature would be a replay).
    let t = now() - 2;
    let current = sign::stripe(STRIPE_SECRET, t, PAYLOAD.as_bytes());
    let old = sign::stripe("whsec_old", t, PAYLOAD.as_bytes());
    let both = vec![(
        "stripe-signature",
        format!("{old},{}", current.split(',').nth(1).unwrap()),
    )];
    assert!(app.ok(path, &both, PAYLOAD).await.starts_with("stripe"));
    // Over the endpoint's 4 KiB body limit: 413, before any signature work on the body.
    let big = "x".repeat(5000);
    let res = app.send(path, &header(STRIPE_SECRET, now()), &big).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn standard_webhooks_deliveries() {
    let app = start().await;
    let path = "/hooks/standard";
    let headers = |secret: &str, id: &str, ts: u64, body: &str| {
        vec![
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", ts.to_string()),
            (
                "webhook-signature",
                sign::standard(secret, id, ts, body.as_bytes()).unwrap(),
            ),
        ]
    };
    let good = headers(STANDARD_SECRET, "msg_1", now(), PAYLOAD);
    assert_eq!(
        app.ok(path, &good, PAYLOAD).await,
        format!("billing standard_webhook {}", PAYLOAD.len())
    );
    assert_eq!(app.refused(path, &good, PAYLOAD).await, "replayed");
    let fresh = headers(STANDARD_SECRET, "msg_2", now(), PAYLOAD);
    assert_eq!(app.refused(path, &fresh, "{}").await, "signature_mismatch");
    let mut altered_id = fresh.clone();
    altered_id[0].1 = "msg_3".to_owned();
    assert_eq!(
        app.refused(path, &altered_id, PAYLOAD).await,
        "signature_mismatch"
    );
    let stale = headers(STANDARD_SECRET, "msg_4", now() - 400, PAYLOAD);
    assert_eq!(app.refused(path, &stale, PAYLOAD).await, "signature_stale");
    let other = "whsec_b3RoZXIgc3RhbmRhcmQgd2ViaG9va3Mgc2VjcmV0IQ==";
    assert_eq!(
        app.refused(path, &headers(other, "msg_5", now(), PAYLOAD), PAYLOAD)
            .await,
        "signature_mismatch"
    );
    let no_id = fresh[1..].to_vec();
    assert_eq!(
        app.refused(path, &no_id, PAYLOAD).await,
        "signature_nonce_missing"
    );
    // Rotation: two signatures, one by the current secret.
    let ts = now();
    let list = format!(
        "{} {}",
        sign::standard(other, "msg_6", ts, PAYLOAD.as_bytes()).unwrap(),
        sign::standard(STANDARD_SECRET, "msg_6", ts, PAYLOAD.as_bytes()).unwrap()
    );
    let rotated = vec![
        ("webhook-id", "msg_6".to_owned()),
        ("webhook-timestamp", ts.to_string()),
        ("webhook-signature", list),
    ];
    assert!(app.ok(path, &rotated, PAYLOAD).await.starts_with("billing"));
    assert!(app.ok(path, &fresh, PAYLOAD).await.starts_with("billing"));
}
