//! RFC 9421 signatures over single query parameters (`@query-param`, §2.2.8) over real HTTP:
//! a partner signs the method, the path, the body's digest and the `amount` and `currency`
//! parameters of `POST /api/transfers?amount=…&currency=…&trace=…`. The request verifies, also
//! when an uncovered parameter changes or a covered one is sent in another but equivalent
//! encoding; a covered parameter altered, removed or repeated with another value is one 401
//! problem whose security event names the failed check, as is a signature that does not cover
//! a parameter the verifier requires.

mod common;

use std::sync::{Arc, Mutex};

use common::{expect_json, expect_problem, now};
use reqwest::StatusCode;
use secure_endpoint::events::{EventKind, EventSink, SecurityEvent, SinkFull};
use secure_endpoint::routing::post;
use secure_endpoint::signature::{SignatureKey, SignatureSigner, SignatureVerifier};
use secure_endpoint::{secure_endpoint, Json, Principal, SafeResponse, SecureRouter, Security};
use serde::{Deserialize, Serialize};
use serde_json::json;

const KEY: &[u8] = b"transfer partner key for the tests, 32+ bytes";
const KEY_ID: &str = "partner-transfers";
const BODY: &str = r#"{"to":"acct-42"}"#;
/// What the partner signs, and what the verifier requires: the query parameters by their
/// serialized component identifiers.
const COMPONENTS: [&str; 5] = [
    "@method",
    "@path",
    r#""@query-param";name="amount""#,
    r#""@query-param";name="currency""#,
    "content-digest",
];
const TARGET: &str = "/api/transfers?amount=100&currency=EUR&trace=t-1";

#[derive(Deserialize, garde::Validate)]
struct Transfer {
    #[garde(length(min = 1, max = 32))]
    to: String,
}

#[derive(Serialize, SafeResponse)]
struct Accepted {
    partner: String,
    to: String,
}

#[secure_endpoint(auth = "signature", roles = ["partner"], fields = ["to"])]
async fn create_transfer(principal: Principal, Json(t): Json<Transfer>) -> axum::Json<Accepted> {
    axum::Json(Accepted {
        partner: principal.subject().to_owned(),
        to: t.to,
    })
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
    let verifier = SignatureVerifier::new()
        .key(
            KEY_ID,
            SignatureKey::hmac_sha256("transfer-partner", KEY)
                .unwrap()
                .roles(["partner"]),
        )
        .required_components(COMPONENTS);
    let events = Arc::new(Events::default());
    let security = Security::builder()
        .allow_plain_http()
        .signatures(verifier)
        .events(events.clone())
        .build();
    let api = SecureRouter::new(security)
        .route("/transfers", post(create_transfer))
        .into_router();
    let addr = common::serve(axum::Router::new().nest("/api", api)).await;
    App {
        base: format!("http://{addr}"),
        client: common::client_from(None),
        events,
    }
}

/// The signed headers of `POST {target}` covering `components`, with a fresh nonce.
fn sign(components: &[&str], target: &str) -> http::HeaderMap {
    let mut parts = http::Request::post(target).body(()).unwrap().into_parts().0;
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    SignatureSigner::hmac_sha256(KEY_ID, KEY)
        .components(components.iter().copied())
        .sign_at(&mut parts, BODY.as_bytes(), now(), Some(&nonce))
        .unwrap();
    parts.headers
}

impl App {
    async fn send(&self, target: &str, headers: &http::HeaderMap) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}{target}", self.base))
            .header("content-type", "application/json")
            .body(BODY);
        for (name, value) in headers {
            req = req.header(name.as_str(), value.to_str().unwrap());
        }
        req.send().await.unwrap()
    }

    async fn accepted(&self, target: &str, headers: &http::HeaderMap) {
        let body = expect_json(self.send(target, headers).await, StatusCode::OK).await;
        assert_eq!(
            body,
            json!({"partner": "transfer-partner", "to": "acct-42"})
        );
    }

    /// One 401 problem; the reason its security event recorded.
    async fn refused(&self, target: &str, headers: &http::HeaderMap) -> String {
        expect_problem(
            self.send(target, headers).await,
            StatusCode::UNAUTHORIZED,
            &[],
        )
        .await;
        let events = self.events.0.lock().unwrap();
        let last = events.last().expect("a security event");
        assert_eq!(last.kind, EventKind::AuthenticationFailed, "{last:?}");
        assert!(!format!("{last:?}").contains("sig1=:"), "{last:?}");
        last.reason.clone().expect("a reason")
    }
}

#[tokio::test]
async fn a_request_signed_over_query_params_verifies() {
    let app = start().await;
    let headers = sign(&COMPONENTS, TARGET);
    assert!(headers["signature-input"]
        .to_str()
        .unwrap()
        .starts_with(r#"sig1=("@method" "@path" "@query-param";name="amount" "@query-param";name="currency" "content-digest")"#));
    // `trace` is not covered: another value is the same signed request.
    app.accepted("/api/transfers?amount=100&currency=EUR&trace=t-2", &headers)
        .await;
    // The same values in another encoding (`+` and `%20` are both a space, `%45` is `E`),
    // another order, the uncovered parameter gone: still the values that were signed.
    let spaced = sign(&COMPONENTS, "/api/transfers?amount=100&currency=EUR+X");
    app.accepted("/api/transfers?currency=%45UR%20X&amount=100", &spaced)
        .await;
    // Once verified, the nonce is spent.
    assert_eq!(
        app.refused("/api/transfers?amount=100&currency=EUR&trace=t-2", &headers)
            .await,
        "replayed"
    );
}

#[tokio::test]
async fn an_altered_covered_query_param_is_a_401_problem() {
    let app = start().await;
    let headers = sign(&COMPONENTS, TARGET);
    assert_eq!(
        app.refused(
            "/api/transfers?amount=1000&currency=EUR&trace=t-1",
            &headers
        )
        .await,
        "signature_mismatch"
    );
    // Parameter pollution: the signed value and a second one.
    assert_eq!(
        app.refused(
            "/api/transfers?amount=100&currency=EUR&trace=t-1&amount=1000",
            &headers
        )
        .await,
        "signature_mismatch"
    );
    // A covered parameter removed: the signature base cannot be built.
    assert_eq!(
        app.refused("/api/transfers?currency=EUR&trace=t-1", &headers)
            .await,
        "signature_components"
    );
    // A signature that leaves out a parameter the verifier requires.
    let without_currency = sign(
        &[
            "@method",
            "@path",
            r#""@query-param";name="amount""#,
            "content-digest",
        ],
        TARGET,
    );
    assert_eq!(
        app.refused(TARGET, &without_currency).await,
        "signature_components"
    );
    // None of the refusals spent the nonce: the request as signed is accepted.
    app.accepted(TARGET, &headers).await;
}
