//! Keys by `kid` from a JWKS document over HTTPS (a real TLS server on 127.0.0.1 with its own
//! CA) and from a file: rotation without restarting, refresh rate-limited against floods of
//! unknown `kid`s, and the last good key set kept when a refresh fails.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode as AxumStatus;
use common::*;
use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use secure_endpoint::jwt::{JwksSource, JwtVerifier};
use secure_endpoint::Security;
use serde_json::{json, Value};

const PUBLIC_JWKS: &str = include_str!("../keys/public.jwks.json");

/// The test key of `kid` in tests/keys/public.jwks.json, published under `as_kid`.
fn published(kid: &str, as_kid: &str) -> Value {
    let doc: Value = serde_json::from_str(PUBLIC_JWKS).unwrap();
    let mut key = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap()
        .clone();
    key["kid"] = json!(as_kid);
    key
}

#[derive(Clone)]
struct Published {
    document: Arc<Mutex<Value>>,
    failing: Arc<AtomicBool>,
    hits: Arc<AtomicUsize>,
}

/// An identity provider's JWKS endpoint over HTTPS.
struct Provider {
    url: String,
    ca_pem: String,
    state: Published,
}

impl Provider {
    async fn start(keys: Vec<Value>) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "secure-endpoint test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &ca, &ca_key)
            .unwrap();
        let tls = axum_server::tls_rustls::RustlsConfig::from_pem(
            leaf.pem().into_bytes(),
            leaf_key.serialize_pem().into_bytes(),
        )
        .await
        .unwrap();

        let state = Published {
            document: Arc::new(Mutex::new(json!({ "keys": keys }))),
            failing: Arc::new(AtomicBool::new(false)),
            hits: Arc::new(AtomicUsize::new(0)),
        };
        async fn jwks(State(s): State<Published>) -> (AxumStatus, String) {
            s.hits.fetch_add(1, Ordering::SeqCst);
            if s.failing.load(Ordering::SeqCst) {
                return (AxumStatus::INTERNAL_SERVER_ERROR, "down".into());
            }
            (AxumStatus::OK, s.document.lock().unwrap().to_string())
        }
        let app = axum::Router::new()
            .route("/.well-known/jwks.json", axum::routing::get(jwks))
            .with_state(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum_server::from_tcp_rustls(listener, tls)
                .serve(app.into_make_service())
                .await
                .unwrap()
        });
        Provider {
            url: format!("https://{addr}/.well-known/jwks.json"),
            ca_pem: ca.pem(),
            state,
        }
    }

    fn publish(&self, keys: Vec<Value>) {
        *self.state.document.lock().unwrap() = json!({ "keys": keys });
    }

    fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    /// The provider's JWKS URL, with the test CA trusted and its loopback address explicitly
    /// allowed (internal addresses are refused otherwise).
    fn source(&self, min_refresh: Duration) -> JwksSource {
        self.source_without_allowance(min_refresh)
            .allow_internal([std::net::IpAddr::from([127, 0, 0, 1])])
    }

    fn source_without_allowance(&self, min_refresh: Duration) -> JwksSource {
        JwksSource::https(&self.url)
            .unwrap()
            .root_certificate_pem(self.ca_pem.as_bytes())
            .unwrap()
            .min_refresh_interval(min_refresh)
    }
}

fn jwks_verifier(source: JwksSource) -> JwtVerifier {
    JwtVerifier::builder()
        .jwks(source)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap()
}

fn token_for(sub: &str, alg: Algorithm, kid: &str) -> String {
    sign_asym(&claims(sub, &["user"], ""), alg, Some(kid))
}

#[tokio::test]
async fn key_rotation_over_https_without_restarting() {
    let provider = Provider::start(vec![published("rsa-1", "2026-a")]).await;
    let interval = Duration::from_millis(400);
    let app = TestApp::start_with(
        Security::builder()
            .allow_plain_http()
            .jwt(jwks_verifier(provider.source(interval)))
            .build(),
    )
    .await;

    let old = token_for(ALICE, Algorithm::RS256, "2026-a");
    let body = expect_json(app.get_as("/me", &old).await, StatusCode::OK).await;
    assert_eq!(body["sub"], ALICE);
    assert_eq!(provider.hits(), 1, "keys fetched on first use");
    // Served from the token cache: no fetch.
    expect_json(app.get_as("/me", &old).await, StatusCode::OK).await;
    assert_eq!(provider.hits(), 1);

    // The provider rotates: a new key (another algorithm, too) is published, the old removed.
    provider.publish(vec![published("ec-1", "2026-b")]);
    tokio::time::sleep(interval).await;
    let new = token_for(BOB, Algorithm::ES256, "2026-b");
    let body = expect_json(app.get_as("/me", &new).await, StatusCode::OK).await;
    assert_eq!(body["sub"], BOB, "the new kid is fetched and accepted");
    assert_eq!(provider.hits(), 2);

    // The removed key no longer verifies, though its token was cached and has not expired.
    expect_problem(app.get_as("/me", &old).await, StatusCode::UNAUTHORIZED, &[]).await;
    let fresh_old = token_for(CAROL_ADMIN, Algorithm::RS256, "2026-a");
    expect_problem(
        app.get_as("/me", &fresh_old).await,
        StatusCode::UNAUTHORIZED,
        &[],
    )
    .await;
    // Both unknown-kid misses fell within the refresh interval: no further fetch.
    assert_eq!(provider.hits(), 2);
}

#[tokio::test]
async fn a_flood_of_unknown_kids_is_one_fetch() {
    let provider = Provider::start(vec![published("rsa-1", "live")]).await;
    let app = TestApp::start_with(
        Security::builder()
            .allow_plain_http()
            .jwt(jwks_verifier(provider.source(Duration::from_secs(60))))
            .build(),
    )
    .await;
    let mut kids: Vec<String> = (0..150)
        .map(|i| format!("random-{i}-{}", uuid::Uuid::new_v4()))
        .collect();
    kids.push("../../../../../../etc/passwd".into());
    kids.push("x' OR '1'='1".into());
    kids.push("http://127.0.0.1:1/keys".into());
    // Signed once (RSA signing is slow in debug builds); only the kid differs, and no key is
    // ever found for it, so the signature is never reached.
    let signed = token_for(ALICE, Algorithm::RS256, "live");
    let signed: Vec<&str> = signed.split('.').collect();
    let requests = kids.iter().map(|kid| {
        let header = b64url(json!({"alg": "RS256", "kid": kid}).to_string().as_bytes());
        let token = format!("{header}.{}.{}", signed[1], signed[2]);
        let app = &app;
        async move { app.get_as("/me", &token).await.status() }
    });
    let statuses = futures_join_all(requests).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(provider.hits(), 1, "{} unknown kids, one fetch", kids.len());

    // The key that is there still works, without a fetch.
    let live = token_for(ALICE, Algorithm::RS256, "live");
    expect_json(app.get_as("/me", &live).await, StatusCode::OK).await;
    assert_eq!(provider.hits(), 1);
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_last_good_keys() {
    let provider = Provider::start(vec![published("ed-1", "ed-live")]).await;
    let interval = Duration::from_millis(300);
    let verifier = jwks_verifier(provider.source(interval));
    assert_eq!(
        verifier.refresh_keys().await.unwrap(),
        1,
        "fetched at start-up"
    );
    let app = TestApp::start_with(
        Security::builder()
            .allow_plain_http()
            .jwt(verifier.clone())
            .build(),
    )
    .await;

    provider.state.failing.store(true, Ordering::SeqCst);
    tokio::time::sleep(interval).await;
    let unknown = token_for(BOB, Algorithm::EdDSA, "not-published");
    expect_problem(
        app.get_as("/me", &unknown).await,
        StatusCode::UNAUTHORIZED,
        &[],
    )
    .await;
    assert_eq!(provider.hits(), 2, "the refresh was attempted");
    assert!(verifier.refresh_keys().await.is_err());

    // Garbage and an empty set are failures too, not a new (empty) key set.
    provider.state.failing.store(false, Ordering::SeqCst);
    provider.publish(vec![]);
    assert!(verifier.refresh_keys().await.is_err());

    let known = token_for(BOB, Algorithm::EdDSA, "ed-live");
    let body = expect_json(app.get_as("/me", &known).await, StatusCode::OK).await;
    assert_eq!(body["sub"], BOB, "the last good key set is still in use");
}

#[tokio::test]
async fn jwks_from_a_file_and_its_rotation() {
    let dir = std::env::temp_dir().join(format!("se-jwks-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("jwks.json");
    std::fs::write(&path, PUBLIC_JWKS).unwrap();
    let interval = Duration::from_millis(300);
    let verifier = jwks_verifier(JwksSource::file(&path).min_refresh_interval(interval));
    let app = TestApp::start_with(
        Security::builder()
            .allow_plain_http()
            .jwt(verifier.clone())
            .build(),
    )
    .await;
    for (alg, kid) in [
        (Algorithm::RS256, "rsa-1"),
        (Algorithm::ES256, "ec-1"),
        (Algorithm::EdDSA, "ed-1"),
    ] {
        let body = expect_json(
            app.get_as("/me", &token_for(ALICE, alg, kid)).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(body["sub"], ALICE, "{alg:?}");
    }
    assert_eq!(
        verifier.jwks_fetches(),
        0,
        "read when built, not fetched again"
    );

    std::fs::write(
        &path,
        json!({ "keys": [published("ec-1", "ec-2")] }).to_string(),
    )
    .unwrap();
    tokio::time::sleep(interval).await;
    let rotated = token_for(BOB, Algorithm::ES256, "ec-2");
    expect_json(app.get_as("/me", &rotated).await, StatusCode::OK).await;
    let removed = token_for(BOB, Algorithm::RS256, "rsa-1");
    expect_problem(
        app.get_as("/me", &removed).await,
        StatusCode::UNAUTHORIZED,
        &[],
    )
    .await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_jwks_url_at_an_internal_address_is_refused_without_connecting() {
    // The real provider on 127.0.0.1, but the source does not allow loopback.
    let provider = Provider::start(vec![published("rsa-1", "live")]).await;
    let error = JwtVerifier::builder()
        .jwks(provider.source_without_allowance(Duration::from_secs(60)))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("internal address"), "{error}");

    // Another loopback address than the one allowed: a listener there counts connections.
    let tripwire = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let trip = tripwire.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = tripwire.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    for url in [
        format!("https://{trip}/.well-known/jwks.json"),
        // 127.0.0.2 spelt as one number: the same address once parsed.
        format!("https://2130706434:{}/.well-known/jwks.json", trip.port()),
        "https://169.254.169.254/.well-known/jwks.json".to_owned(),
        "https://[::ffff:10.0.0.1]/.well-known/jwks.json".to_owned(),
    ] {
        let source = JwksSource::https(&url)
            .unwrap()
            .allow_internal([std::net::IpAddr::from([127, 0, 0, 1])]);
        let result = JwtVerifier::builder()
            .jwks(source)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .build();
        assert!(result.is_err(), "{url}");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 0);

    // A name is vetted when the fetch resolves it: `localhost` is loopback, refused.
    let by_name = format!("https://localhost:{}/.well-known/jwks.json", trip.port());
    let verifier = JwtVerifier::builder()
        .jwks(JwksSource::https(&by_name).unwrap())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let error = verifier.refresh_keys().await.unwrap_err();
    assert!(error.to_string().contains("loopback"), "{error}");
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
    assert_eq!(provider.hits(), 0);
}

/// `join_all` without another dependency: spawn-free, polls every future to completion.
async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *output = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}
