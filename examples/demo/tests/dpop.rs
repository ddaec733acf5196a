//! The demo's DPoP login over real HTTPS on 127.0.0.1: a login with a DPoP proof gets a token
//! bound to the proof's key, accepted on `GET /api/users/me` with a proof of that key and
//! refused without one or as a bearer token; a login without a proof works as before.

use std::net::SocketAddr;
use std::time::Duration;

use demo::{app, DemoConfig};
use reqwest::{Client, StatusCode};
use secure_endpoint::dpop::{DpopKey, ProofRequest};
use serde_json::{json, Value};

const PASSWORD: &str = "dpop-demo-password";

fn config() -> DemoConfig {
    DemoConfig {
        jwt_secret: b"dpop demo test secret, at least 32 bytes".to_vec(),
        password: PASSWORD.into(),
        reports_api_key: "demo_dpop0123456789abcdef0123456789ab".into(),
        webhook_secret: "dpop demo test webhook secret, 32+ bytes".into(),
        cors_origins: Vec::new(),
        trusted_proxies: Vec::new(),
        audit_file: None,
        redis_url: None,
        signed: demo::hooks::SignedSenders::generate(),
    }
}

struct Demo {
    addr: SocketAddr,
    client: Client,
}

/// The demo over HTTPS on 127.0.0.1:0, as `cargo run -p demo` serves it.
async fn start() -> Demo {
    let (router, state) = app(&config());
    let (tls, ca) = demo::server::tls_config(None).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(demo::server::serve_https(listener, tls, router, state));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.unwrap().as_bytes()).unwrap()])
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    Demo { addr, client }
}

impl Demo {
    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    fn proof(&self, key: &DpopKey, method: &str, path: &str, token: Option<&str>) -> String {
        key.proof(ProofRequest {
            method,
            uri: &self.url(path),
            access_token: token,
            nonce: None,
        })
    }

    async fn login(&self, proof: Option<String>) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url("/api/login"))
            .json(&json!({ "email": "alice@example.com", "password": PASSWORD }));
        if let Some(proof) = proof {
            request = request.header("dpop", proof);
        }
        request.send().await.unwrap()
    }

    async fn me(&self, authorization: &str, proof: Option<String>) -> reqwest::Response {
        let mut request = self
            .client
            .get(self.url("/api/users/me"))
            .header("authorization", authorization);
        if let Some(proof) = proof {
            request = request.header("dpop", proof);
        }
        request.send().await.unwrap()
    }
}

fn es256() -> DpopKey {
    DpopKey::es256_pkcs8_pem(&rcgen::KeyPair::generate().unwrap().serialize_pem()).unwrap()
}

/// The payload of a JWT, decoded (the test reads what the demo issued).
fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

async fn challenge_of(res: reqwest::Response, status: StatusCode) -> (Vec<String>, Value) {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let challenges = res
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    (challenges, res.json().await.unwrap())
}

#[tokio::test]
async fn a_login_with_a_proof_issues_a_token_bound_to_its_key() {
    let demo = start().await;
    let key = es256();
    let res = demo
        .login(Some(demo.proof(&key, "POST", "/api/login", None)))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&token)["cnf"]["jkt"], key.thumbprint());

    // Accepted with a proof of the key, once per proof.
    let proof = demo.proof(&key, "GET", "/api/users/me", Some(&token));
    let res = demo.me(&format!("DPoP {token}"), Some(proof.clone())).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["email"], "alice@example.com");
    let (challenges, problem) = challenge_of(
        demo.me(&format!("DPoP {token}"), Some(proof)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(problem["code"], "invalid_dpop_proof");
    assert_eq!(
        challenges,
        [
            "Bearer realm=\"api\"",
            "DPoP realm=\"api\", error=\"invalid_dpop_proof\", algs=\"ES256 EdDSA\""
        ]
    );

    // Refused without a proof, and as a bearer token (with or without one).
    let (challenges, _) = challenge_of(
        demo.me(&format!("DPoP {token}"), None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(
        challenges[1].contains("invalid_dpop_proof"),
        "{challenges:?}"
    );
    for proof in [
        None,
        Some(demo.proof(&key, "GET", "/api/users/me", Some(&token))),
    ] {
        let (challenges, problem) = challenge_of(
            demo.me(&format!("Bearer {token}"), proof).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        assert_eq!(problem["code"], "unauthenticated");
        assert_eq!(
            challenges,
            [
                "Bearer realm=\"api\", error=\"invalid_token\"",
                "DPoP realm=\"api\", algs=\"ES256 EdDSA\""
            ]
        );
    }

    // A proof signed by another key than the one the token is bound to.
    let thief = es256();
    let (challenges, _) = challenge_of(
        demo.me(
            &format!("DPoP {token}"),
            Some(demo.proof(&thief, "GET", "/api/users/me", Some(&token))),
        )
        .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(challenges[1].contains("invalid_token"), "{challenges:?}");
}

#[tokio::test]
async fn a_login_without_a_proof_still_issues_a_bearer_token_and_a_bad_proof_is_a_400() {
    let demo = start().await;
    let res = demo.login(None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(claims(&token).get("cnf").is_none());
    let res = demo.me(&format!("Bearer {token}"), None).await;
    assert_eq!(res.status(), StatusCode::OK);

    // A proof for another URI, or replayed: 400 `invalid_dpop_proof`, no token.
    let key = es256();
    let wrong = demo.proof(&key, "POST", "/api/users/me", None);
    let (_, problem) = challenge_of(demo.login(Some(wrong)).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["code"], "invalid_dpop_proof");
    let good = demo.proof(&key, "POST", "/api/login", None);
    assert_eq!(
        demo.login(Some(good.clone())).await.status(),
        StatusCode::OK
    );
    let (_, problem) = challenge_of(demo.login(Some(good)).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["code"], "invalid_dpop_proof");
}
