//! Every log line the library writes, at every level, while it serves good and bad JWTs, API
//! keys and HMAC-signed requests, a failing JWKS refresh and a panic, is captured; no token,
//! key, secret, signature or nonce appears in it, nor in any response.
//!
//! One test in its own binary, because it installs the process-wide tracing subscriber.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use secure_endpoint::api_key::{InMemoryApiKeys, NewApiKey};
use secure_endpoint::hmac::{HmacClient, HmacSigner, HmacVerifier, InMemoryHmacKeys};
use secure_endpoint::jwt::{JwksSource, JwtKey, JwtVerifier};
use secure_endpoint::routing::{get, post};
use secure_endpoint::{secure_endpoint, Json, Principal, SecureRouter, Security};
use serde_json::json;

const HMAC_SECRET: &[u8] = b"hmac secret that must never be logged!!";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[secure_endpoint(auth = ["jwt", "api_key", "hmac"], allow = "authenticated")]
async fn whoami(principal: Principal) -> String {
    format!(
        "{} via {}",
        principal.subject(),
        principal.scheme().as_str()
    )
}

#[derive(serde::Deserialize, garde::Validate)]
struct Hook {
    #[garde(length(max = 32))]
    event: String,
}

#[secure_endpoint(auth = "hmac", allow = "authenticated", fields = ["event"])]
async fn hook(principal: Principal, Json(hook): Json<Hook>) -> String {
    format!("{} sent {}", principal.subject(), hook.event)
}

#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn explode() -> String {
    panic!("boom")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credential_reaches_a_log_line_or_a_response() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    // Every scheme at once, plus a JWKS source that cannot be reached (its failure is logged).
    let api_keys = Arc::new(InMemoryApiKeys::new());
    let key = NewApiKey::generate("sk_live", "svc", &["reports:read"]);
    let revoked = NewApiKey::generate("sk_live", "svc-old", &[]);
    api_keys.insert(key.record.clone());
    api_keys.insert(revoked.record.clone());
    api_keys.revoke(&revoked.record.id);
    let hmac_keys = Arc::new(InMemoryHmacKeys::new());
    hmac_keys.insert(
        "hooks",
        HmacClient::new("hook-sender", HMAC_SECRET).unwrap(),
    );
    let verifier = JwtVerifier::hs256(SECRET)
        .unwrap()
        .key(JwtKey::rs256_pem(RSA_PUBLIC_PEM).unwrap().kid("rsa-1"))
        .jwks(
            JwksSource::https("https://127.0.0.1:9/jwks.json")
                .unwrap()
                .allow_internal([std::net::IpAddr::from([127, 0, 0, 1])]),
        )
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let security = Security::builder()
        .allow_plain_http()
        .jwt(verifier)
        .api_keys(api_keys)
        .hmac(HmacVerifier::new(hmac_keys))
        .build();
    let app = SecureRouter::new(security)
        .route("/whoami", get(whoami))
        .route("/hook", post(hook))
        .route("/explode", get(explode))
        .into_router();
    let base = format!("http://{}", serve(app).await);
    let client = client_from(None);

    let good_jwt = alice();
    let rsa_jwt = sign_asym(&claims(BOB, &[], ""), Algorithm::RS256, Some("rsa-1"));
    let unknown_kid = sign_asym(
        &claims(BOB, &[], ""),
        Algorithm::RS256,
        Some("rotated-away"),
    );
    let forged = sign_with(
        &claims(ALICE, &["admin"], ""),
        Algorithm::HS256,
        OTHER_SECRET,
    );
    let expired = sign(&json!({"sub": ALICE, "iss": ISSUER, "aud": AUDIENCE, "exp": 1}));
    let signer = HmacSigner::new("hooks", HMAC_SECRET);
    let body = r#"{"event":"push"}"#;
    let signed = signer.sign("POST", "/hook", body.as_bytes());
    let wrong_secret = HmacSigner::new("hooks", b"some other secret, 32 bytes or more").sign(
        "POST",
        "/hook",
        body.as_bytes(),
    );

    let mut responses = Vec::new();
    let send = |req: reqwest::RequestBuilder| {
        let req = req.build().unwrap();
        let client = client.clone();
        async move {
            let res = client.execute(req).await.unwrap();
            let status = res.status();
            let mut text = format!("{status}\n");
            for (name, value) in res.headers() {
                text.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("")));
            }
            text.push_str(&res.text().await.unwrap());
            (status, text)
        }
    };
    let get = |auth: Option<(&str, String)>| {
        let mut req = client.get(format!("{base}/whoami"));
        if let Some((name, value)) = auth {
            req = req.header(name, value);
        }
        req
    };
    for (expected, req) in [
        (
            StatusCode::OK,
            get(Some(("authorization", format!("Bearer {good_jwt}")))),
        ),
        (
            StatusCode::OK,
            get(Some(("authorization", format!("Bearer {rsa_jwt}")))),
        ),
        (
            StatusCode::UNAUTHORIZED,
            get(Some(("authorization", format!("Bearer {unknown_kid}")))),
        ),
        (
            StatusCode::UNAUTHORIZED,
            get(Some(("authorization", format!("Bearer {forged}")))),
        ),
        (
            StatusCode::UNAUTHORIZED,
            get(Some(("authorization", format!("Bearer {expired}")))),
        ),
        (StatusCode::OK, get(Some(("x-api-key", key.key.clone())))),
        (
            StatusCode::UNAUTHORIZED,
            get(Some(("x-api-key", revoked.key.clone()))),
        ),
        (
            StatusCode::UNAUTHORIZED,
            client
                .get(format!("{base}/whoami?api_key={}", key.key))
                .header("x-api-key", key.key.clone()),
        ),
        (
            StatusCode::OK,
            client
                .post(format!("{base}/hook"))
                .header("authorization", signed.clone())
                .header("content-type", "application/json")
                .body(body),
        ),
        (
            StatusCode::UNAUTHORIZED,
            client
                .post(format!("{base}/hook"))
                .header("authorization", signed.clone())
                .header("content-type", "application/json")
                .body(body),
        ),
        (
            StatusCode::UNAUTHORIZED,
            client
                .post(format!("{base}/hook"))
                .header("authorization", wrong_secret.clone())
                .header("content-type", "application/json")
                .body(body),
        ),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            client.get(format!("{base}/explode")).bearer_auth(&good_jwt),
        ),
    ] {
        let (status, text) = send(req).await;
        assert_eq!(status, expected, "{text}");
        responses.push(text);
    }
    // Let the spawned JWKS refresh finish and log its failure.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    if std::env::var_os("SHOW_LOGS").is_some() {
        eprintln!("{logs}");
    }
    // The capture is not empty: rejections, the JWKS failure and the panic were logged.
    for expected in [
        "request rejected",
        "JWKS refresh failed",
        "handler panicked",
        "request failed",
        // The typed security events (target secure_endpoint::security), refusals and successes.
        "secure_endpoint::security: security event kind=AuthenticationFailed",
        "reason=\"credential_invalid\"",
        "kind=InternalError",
        "kind=Allowed",
        "principal=\"hook-sender\" scheme=\"hmac\"",
        "route=/whoami",
    ] {
        assert!(
            logs.contains(expected),
            "no {expected:?} in the logs:\n{logs}"
        );
    }

    let mut secrets: Vec<(String, String)> = vec![
        (
            "JWT secret".into(),
            String::from_utf8_lossy(SECRET).into_owned(),
        ),
        (
            "other JWT secret".into(),
            String::from_utf8_lossy(OTHER_SECRET).into_owned(),
        ),
        (
            "HMAC secret".into(),
            String::from_utf8_lossy(HMAC_SECRET).into_owned(),
        ),
        ("API key".into(), key.key.clone()),
        (
            "API key body".into(),
            key.key["sk_live_".len()..].to_owned(),
        ),
        ("revoked API key".into(), revoked.key.clone()),
        ("HMAC header".into(), signed.clone()),
        ("wrong HMAC header".into(), wrong_secret.clone()),
    ];
    for header in [&signed, &wrong_secret] {
        for param in ["signature", "nonce"] {
            let value = header.split(&format!("{param}=\"")).nth(1).unwrap();
            let value = &value[..value.find('"').unwrap()];
            secrets.push((format!("HMAC {param}"), value.to_owned()));
        }
    }
    for (name, token) in [
        ("JWT", &good_jwt),
        ("RS256 JWT", &rsa_jwt),
        ("unknown-kid JWT", &unknown_kid),
        ("forged JWT", &forged),
        ("expired JWT", &expired),
    ] {
        secrets.push((name.to_owned(), token.clone()));
        let parts: Vec<&str> = token.split('.').collect();
        secrets.push((format!("{name} payload"), parts[1].to_owned()));
        secrets.push((format!("{name} signature"), parts[2].to_owned()));
    }
    for (name, secret) in &secrets {
        assert!(
            secret.len() >= 16,
            "{name} is too short to be a meaningful needle"
        );
        assert!(
            !logs.contains(secret.as_str()),
            "the logs contain the {name}:\n{logs}"
        );
        for response in &responses {
            assert!(
                !response.contains(secret.as_str()),
                "a response contains the {name}:\n{response}"
            );
        }
    }
}
