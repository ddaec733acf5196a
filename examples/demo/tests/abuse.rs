//! The demo's abuse detectors (issue 22), over real HTTPS on 127.0.0.1, with the thresholds
//! the README states: a principal walking random order ids is refused at the 20th distinct
//! miss while the owner reading her own orders never is; 30 emails failing from one client,
//! and one email failing from 30 clients, are cut off at the 10th. The demo trusts a proxy on
//! loopback here, so `X-Forwarded-For` chooses the client address.

use std::time::Duration;

use demo::{app, DemoConfig, ENUMERATION_THRESHOLD, STUFFING_THRESHOLD};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const PASSWORD: &str = "correct-horse-battery";

fn config() -> DemoConfig {
    DemoConfig {
        jwt_secret: b"abuse test secret, at least 32 bytes long".to_vec(),
        password: PASSWORD.into(),
        reports_api_key: "demo_abuse0123456789abcdef0123456789ab".into(),
        webhook_secret: "abuse test webhook secret, 32+ bytes!!".into(),
        cors_origins: Vec::new(),
        trusted_proxies: vec!["127.0.0.1/32".into()],
        audit_file: None,
        redis_url: None,
        signed: demo::hooks::SignedSenders::generate(),
    }
}

struct Demo {
    base: String,
    client: Client,
}

async fn start() -> Demo {
    let (router, state) = app(&config());
    let (tls, ca) = demo::server::tls_config(None).unwrap();
    let ca_pem = ca.unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(demo::server::serve_https(listener, tls, router, state));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    Demo {
        base: format!("https://{addr}"),
        client,
    }
}

impl Demo {
    async fn login_from(&self, ip: &str, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/api/login", self.base))
            .header("x-forwarded-for", ip)
            .header("x-forwarded-proto", "https")
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    async fn token(&self, ip: &str, email: &str) -> String {
        let res = self.login_from(ip, email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

async fn code(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or("").to_owned())
}

#[tokio::test]
async fn walking_order_ids_is_refused_at_the_threshold_and_the_owner_never_is() {
    let demo = start().await;
    let alice = demo.token("192.0.2.1", "alice@example.com").await;
    let bob = demo.token("192.0.2.2", "bob@example.com").await;
    let res = demo.get("/api/orders", &alice).await;
    assert_eq!(res.status(), StatusCode::OK);
    let orders: Value = res.json().await.unwrap();
    let mine: Vec<String> = orders["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!mine.is_empty());
    let mut refused_at = None;
    for i in 1..=100usize {
        // Alice reads her own orders throughout: never refused.
        for id in &mine {
            let res = demo.get(&format!("/api/orders/{id}"), &alice).await;
            assert_eq!(res.status(), StatusCode::OK, "alice, round {i}");
        }
        // Bob walks random ids, and Alice's (not his: 404 as well).
        let id = if i % 7 == 0 {
            mine[i % mine.len()].clone()
        } else {
            uuid::Uuid::new_v4().to_string()
        };
        let (status, code) = code(demo.get(&format!("/api/orders/{id}"), &bob).await).await;
        if status == 429 {
            assert_eq!(code, "enumeration_suspected");
            refused_at = Some(i);
            break;
        }
        assert_eq!(status, 404, "bob, request {i}");
    }
    let refused_at = refused_at.expect("the walk was never refused");
    // Alice's orders repeat in the walk (every 7th request): the distinct count reaches the
    // threshold a little later than the request count, but long before the 100th.
    assert!(
        (ENUMERATION_THRESHOLD as usize..=ENUMERATION_THRESHOLD as usize + 5).contains(&refused_at),
        "{refused_at}"
    );
    let (status, code) = code(demo.get("/api/orders", &bob).await).await;
    assert_eq!((status, code.as_str()), (429, "enumeration_suspected"));
    assert_eq!(
        demo.get("/api/orders", &alice).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn thirty_emails_failing_from_one_client_are_cut_off() {
    let demo = start().await;
    let mut answers = Vec::new();
    for i in 0..30 {
        let email = format!("user{i}@example.org");
        answers.push(code(demo.login_from("203.0.113.7", &email, "Winter2026!").await).await);
    }
    let n = STUFFING_THRESHOLD as usize;
    assert!(
        answers[..n - 1].iter().all(|(s, _)| *s == 401),
        "{answers:?}"
    );
    assert_eq!(
        answers[n - 1],
        (429, "credential_abuse_suspected".to_owned())
    );
    // Then refused: by the guard, and past 20 a minute by the endpoint's own rate as well.
    assert!(answers[n..].iter().all(|(s, _)| *s == 429), "{answers:?}");
    // Another client signs in.
    demo.token("203.0.113.8", "alice@example.com").await;
}

#[tokio::test]
async fn one_email_failing_from_thirty_clients_is_cut_off() {
    let demo = start().await;
    let mut answers = Vec::new();
    for i in 0..30 {
        let ip = format!("198.51.100.{}", i + 1);
        answers.push(code(demo.login_from(&ip, "bob@example.com", "123456").await).await);
    }
    let n = STUFFING_THRESHOLD as usize;
    assert!(
        answers[..n - 1].iter().all(|(s, _)| *s == 401),
        "{answers:?}"
    );
    assert!(
        answers[n - 1..]
            .iter()
            .all(|a| *a == (429, "credential_abuse_suspected".to_owned())),
        "{answers:?}"
    );
    // Bob's email cools down for every client, his own included; Alice's does not.
    let (status, _) = code(
        demo.login_from("192.0.2.9", "bob@example.com", PASSWORD)
            .await,
    )
    .await;
    assert_eq!(status, 429);
    demo.token("192.0.2.9", "alice@example.com").await;
}
