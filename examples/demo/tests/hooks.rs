//! The demo's signed senders over real HTTPS: GitHub, Stripe and Standard Webhooks deliveries
//! and RFC 9421-signed partner orders. A good request is 200; a replayed, stale, altered or
//! re-signed-with-another-key one is a 401 problem, and the audit trail records which check
//! failed without the signature or the secret.

use std::time::Duration;

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

#[tokio::test]
async fn signed_senders_are_verified_and_refusals_are_audited_without_secrets() {
    let dir = std::env::temp_dir().join(format!("se-hooks-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let audit_file = dir.join("audit.jsonl");
    let senders = SignedSenders::generate();
    let config = DemoConfig {
        jwt_secret: b"hooks test secret, at least 32 bytes long".to_vec(),
        password: "hooks-test password".into(),
        reports_api_key: "demo_hooks0123456789abcdef0123456789ab".into(),
        webhook_secret: "hooks test webhook secret, 32+ bytes!".into(),
        cors_origins: Vec::new(),
        trusted_proxies: Vec::new(),
        audit_file: Some(audit_file.clone()),
        redis_url: None,
        signed: senders.clone(),
    };
    let (router, state) = app(&config);
    let audit = state.clone();
    let (tls, ca) = demo::server::tls_config(None).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(demo::server::serve_https(listener, tls, router, state));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.unwrap().as_bytes()).unwrap()])
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let mut refused_ids = Vec::new();
    let mut send =
        async |path: &str, headers: Vec<(String, String)>, body: &str| -> (StatusCode, Value) {
            let mut req = client
                .post(format!("{base}{path}"))
                .header("content-type", "application/json")
                .body(body.to_owned());
            for (name, value) in &headers {
                req = req.header(name.as_str(), value.as_str());
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            if status == StatusCode::UNAUTHORIZED {
                assert_eq!(
                    res.headers()["content-type"],
                    "application/problem+json",
                    "{path}"
                );
                refused_ids.push(res.headers()["x-request-id"].to_str().unwrap().to_owned());
            }
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        };
    let h = |pairs: &[(&str, String)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect()
    };

    // GitHub: good, replayed, altered body, another secret.
    let github = |delivery: &str, secret: &[u8]| {
        h(&[
            ("x-github-event", "pull_request".into()),
            ("x-github-delivery", delivery.into()),
            ("x-hub-signature-256", sign::github(secret, BODY.as_bytes())),
        ])
    };
    let gh = senders.github.as_bytes();
    let (status, body) = send("/api/hooks/github", github("d-1", gh), BODY).await;
    assert_eq!(
        (status, &body["sender"]),
        (StatusCode::OK, &Value::from("github"))
    );
    assert_eq!(body["bytes"], BODY.len());
    let mut expected = Vec::new();
    assert_eq!(
        send("/api/hooks/github", github("d-1", gh), BODY).await.0,
        StatusCode::UNAUTHORIZED
    );
    expected.push("replayed");
    assert_eq!(
        send(
            "/api/hooks/github",
            github("d-2", gh),
            &BODY.replace('7', "8")
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    expected.push("signature_mismatch");
    assert_eq!(
        send("/api/hooks/github", github("d-3", b"not the secret"), BODY)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    expected.push("signature_mismatch");

    // Stripe: good, stale, replayed.
    let stripe = |t: u64| {
        h(&[(
            "stripe-signature",
            sign::stripe(&senders.stripe, t, BODY.as_bytes()),
        )])
    };
    let t = now();
    assert_eq!(
        send("/api/hooks/stripe", stripe(t), BODY).await.0,
        StatusCode::OK
    );
    assert_eq!(
        send("/api/hooks/stripe", stripe(t), BODY).await.0,
        StatusCode::UNAUTHORIZED
    );
    expected.push("replayed");
    assert_eq!(
        send("/api/hooks/stripe", stripe(now() - 600), BODY).await.0,
        StatusCode::UNAUTHORIZED
    );
    expected.push("signature_stale");

    // Standard Webhooks: good, altered header (id), another secret.
    let standard = |id: &str, signed_id: &str, secret: &str| {
        let ts = now();
        h(&[
            ("webhook-id", id.into()),
            ("webhook-timestamp", ts.to_string()),
            (
                "webhook-signature",
                sign::standard(secret, signed_id, ts, BODY.as_bytes()).unwrap(),
            ),
        ])
    };
    assert_eq!(
        send(
            "/api/hooks/standard",
            standard("msg_1", "msg_1", &senders.standard),
            BODY
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        send(
            "/api/hooks/standard",
            standard("msg_2", "msg_1", &senders.standard),
            BODY
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    expected.push("signature_mismatch");
    let other = SignedSenders::generate().standard;
    assert_eq!(
        send(
            "/api/hooks/standard",
            standard("msg_3", "msg_3", &other),
            BODY
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    expected.push("signature_mismatch");

    // Partner orders, RFC 9421 hmac-sha256: good, replayed, body altered, digest not covered.
    let key = base64::engine::general_purpose::STANDARD
        .decode(&senders.partner_key)
        .unwrap();
    let partner = |signer: &SignatureSigner, body: &str| {
        let mut parts = axum::http::Request::post("/api/partner/orders")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        signer.sign(&mut parts, body.as_bytes()).unwrap();
        parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect::<Vec<_>>()
    };
    let signer = SignatureSigner::hmac_sha256(PARTNER_KEY_ID, &key);
    let good = partner(&signer, ORDER);
    let (status, body) = send("/api/partner/orders", good.clone(), ORDER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["partner"], "partner-demo");
    assert_eq!(
        send("/api/partner/orders", good, ORDER).await.0,
        StatusCode::UNAUTHORIZED
    );
    expected.push("replayed");
    let fresh = partner(&signer, ORDER);
    assert_eq!(
        send(
            "/api/partner/orders",
            fresh,
            r#"{"item":"widget","quantity":9}"#
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    expected.push("digest_mismatch");
    let no_digest = partner(
        &signer.clone().components(["@method", "@path", "@query"]),
        ORDER,
    );
    assert_eq!(
        send("/api/partner/orders", no_digest, ORDER).await.0,
        StatusCode::UNAUTHORIZED
    );
    expected.push("signature_components");
    let wrong_key = partner(
        &SignatureSigner::hmac_sha256(PARTNER_KEY_ID, &[9u8; 32]),
        ORDER,
    );
    assert_eq!(
        send("/api/partner/orders", wrong_key, ORDER).await.0,
        StatusCode::UNAUTHORIZED
    );
    expected.push("signature_mismatch");

    // The audit trail: every refusal counted, with its reason, and no secret or signature.
    tokio::time::timeout(Duration::from_secs(10), audit.flush_audit())
        .await
        .unwrap();
    let text = std::fs::read_to_string(&audit_file).unwrap();
    for secret in [
        &senders.github,
        &senders.stripe,
        &senders.standard,
        &senders.partner_key,
    ] {
        assert!(
            !text.contains(secret.as_str()),
            "a secret in the audit trail"
        );
    }
    assert!(!text.contains("sig1=:") && !text.contains("sha256=") && !text.contains("v1,"));
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Repeated refusals of one kind from one client are aggregated (the audit trail's flood
    // guard): one record with an exact `count`. So the reasons, weighted by their counts, are
    // exactly the refusals made, and every record names a request this test was refused.
    let mut recorded: Vec<&str> = Vec::new();
    for record in &records {
        let id = record["request_id"].as_str().expect("a request id");
        assert!(
            refused_ids.iter().any(|r| r == id),
            "a record for a request that was not refused: {record}"
        );
        let reason = record["reason"]
            .as_str()
            .unwrap_or_else(|| panic!("no reason: {record}"));
        let count = record["count"].as_u64().unwrap_or(1);
        recorded.extend(std::iter::repeat_n(reason, count as usize));
    }
    recorded.sort_unstable();
    expected.sort_unstable();
    assert_eq!(recorded, expected);
    let _ = std::fs::remove_dir_all(&dir);
}
