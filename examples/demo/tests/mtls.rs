//! `GET /api/internal/metrics` over mutual TLS on the demo's one HTTPS listener (issue 20),
//! served as `cargo run -p demo` serves it: the client CA, certificate and key generated into
//! a directory by `demo::mtls::generate` (what `main` does without `DEMO_CLIENT_CA`), the
//! listener asking for but not requiring a certificate.

use std::time::Duration;

use demo::{app, DemoConfig};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const PASSWORD: &str = "mtls test password";

fn config() -> DemoConfig {
    DemoConfig {
        jwt_secret: b"mtls demo test secret, at least 32 bytes".to_vec(),
        password: PASSWORD.into(),
        reports_api_key: "demo_mtls0123456789abcdef0123456789abcd".into(),
        webhook_secret: "mtls demo test webhook secret, 32+ bytes".into(),
        cors_origins: Vec::new(),
        trusted_proxies: Vec::new(),
        audit_file: None,
        redis_url: None,
        signed: demo::hooks::SignedSenders::generate(),
    }
}

struct Demo {
    base: String,
    server_ca: reqwest::Certificate,
    files: demo::mtls::Generated,
}

impl Demo {
    fn client(&self, identity: Option<reqwest::Identity>) -> Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = Client::builder()
            .tls_backend_rustls()
            .tls_certs_only([self.server_ca.clone()])
            .no_proxy()
            .timeout(Duration::from_secs(30));
        if let Some(identity) = identity {
            builder = builder.identity(identity);
        }
        builder.build().unwrap()
    }

    /// The generated client certificate and key, read from their files.
    fn identity(&self) -> reqwest::Identity {
        let mut pem = std::fs::read(&self.files.cert).unwrap();
        pem.extend(std::fs::read(&self.files.key).unwrap());
        reqwest::Identity::from_pem(&pem).unwrap()
    }
}

async fn start(dir: &std::path::Path) -> Demo {
    let (client_ca, files) = demo::mtls::generate(dir).unwrap();
    let (router, state) = app(&config());
    let (tls, ca) = demo::server::tls_config_with_client_ca(None, &client_ca).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(demo::server::serve_https(listener, tls, router, state));
    Demo {
        base,
        server_ca: reqwest::Certificate::from_pem(ca.unwrap().as_bytes()).unwrap(),
        files,
    }
}

fn temp_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("demo-mtls-test-{}", uuid::Uuid::new_v4()))
}

#[tokio::test]
async fn metrics_over_mtls_and_every_other_route_without_a_certificate() {
    let dir = temp_dir();
    let demo = start(&dir).await;
    let metrics = format!("{}/api/internal/metrics", demo.base);

    // The generated files are named as the README says, the key private to its owner.
    for name in ["client-ca.pem", "client.pem", "client-key.pem"] {
        assert!(dir.join(name).is_file(), "{name}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&demo.files.key)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // With the generated client certificate: the scraper, granted `metrics`.
    let with_cert = demo.client(Some(demo.identity()));
    let res = with_cert.get(&metrics).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["client"], demo::mtls::METRICS_CLIENT);
    assert_eq!(body["users"], 3);
    assert_eq!(body["orders"], 3);

    // Without one: 401, a problem with the security headers; a user's token does not open it.
    let without = demo.client(None);
    let res = without.get(&metrics).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.headers().contains_key("strict-transport-security"));
    let res = without
        .post(format!("{}/api/login", demo.base))
        .json(&json!({ "email": "admin@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "login works without a certificate"
    );
    let token: Value = res.json().await.unwrap();
    let token = token["token"].as_str().unwrap();
    let res = without
        .get(&metrics)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = without
        .get(format!("{}/api/users/me", demo.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "other routes need no certificate"
    );

    // A certificate from another CA is refused in the handshake, on any route.
    let other = temp_dir();
    let _ = demo::mtls::generate(&other).unwrap();
    let mut pem = std::fs::read(other.join("client.pem")).unwrap();
    pem.extend(std::fs::read(other.join("client-key.pem")).unwrap());
    let stranger = demo.client(Some(reqwest::Identity::from_pem(&pem).unwrap()));
    let res = stranger
        .get(format!("{}/api/health", demo.base))
        .send()
        .await;
    assert!(res.is_err(), "{res:?}");

    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(other);
}
