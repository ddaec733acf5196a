//! `rate::FailureLimiter` behind a login over real HTTP, independent of the demo: a slow
//! verification (standing in for a password hash) cannot be raced, a success gives its
//! reservation back, a full table admits new keys, and spellings of one email share a bucket.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use reqwest::StatusCode;
use secure_endpoint::rate::FailureLimiter;
use secure_endpoint::routing::post;
use secure_endpoint::{secure_endpoint, ClientIp, Json, Problem, SecureRouter, Security};
use serde::Deserialize;
use serde_json::json;

const PASSWORD: &str = "the right password";

#[derive(Clone)]
struct Login {
    failures: Arc<FailureLimiter>,
}

#[derive(Deserialize, garde::Validate)]
struct Credentials {
    #[garde(length(max = 254))]
    email: String,
    #[garde(length(max = 1024))]
    password: String,
}

#[secure_endpoint(auth = "none", fields = ["email", "password"], reason = "a test login")]
async fn login(
    State(state): State<Login>,
    ClientIp(ip): ClientIp,
    Json(c): Json<Credentials>,
) -> Result<&'static str, Problem> {
    let attempt = state.failures.reserve(&ip, &c.email)?;
    // A password hash takes a while.
    tokio::time::sleep(Duration::from_millis(200)).await;
    if c.password == PASSWORD {
        attempt.succeeded();
        Ok("welcome")
    } else {
        attempt.failed();
        Err(Problem::new(StatusCode::UNAUTHORIZED).with_code("invalid_credentials"))
    }
}

/// A login allowing `max` failures per client and email, holding at most `capacity` keys.
async fn serve(max: u32, capacity: usize) -> String {
    let limiter =
        FailureLimiter::new("login", max, Duration::from_secs(600)).with_capacity(capacity);
    let app = SecureRouter::new(Security::builder().allow_plain_http().build())
        .route("/login", post(login))
        .with_state(Login {
            failures: Arc::new(limiter),
        });
    format!("http://{}/login", common::serve(app).await)
}

async fn attempt(client: &reqwest::Client, url: &str, email: &str, password: &str) -> u16 {
    client
        .post(url)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn concurrent_failures_cannot_outrun_a_slow_check() {
    let url = Arc::new(serve(3, 100).await);
    let client = common::client_from(None);
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move { attempt(&client, &url, "carol@example.com", "guess").await })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let count = |s| statuses.iter().filter(|x| **x == s).count();
    assert_eq!((count(401), count(429)), (3, 9), "{statuses:?}");
}

#[tokio::test]
async fn a_success_gives_its_reservation_back() {
    let url = serve(2, 100).await;
    let client = common::client_from(None);
    assert_eq!(
        attempt(&client, &url, "dan@example.com", "guess").await,
        401
    );
    for _ in 0..5 {
        assert_eq!(
            attempt(&client, &url, "dan@example.com", PASSWORD).await,
            200
        );
    }
    assert_eq!(
        attempt(&client, &url, "dan@example.com", "guess").await,
        401
    );
    assert_eq!(
        attempt(&client, &url, "dan@example.com", PASSWORD).await,
        429
    );
}

/// A table of three keys, sprayed with twenty: nobody is refused for the table being full
/// (before: every new key was 429 once it was full), and a key at its limit stays locked.
#[tokio::test]
async fn a_full_table_locks_nobody_out() {
    let url = serve(2, 3).await;
    let client = common::client_from(None);
    for _ in 0..2 {
        assert_eq!(
            attempt(&client, &url, "victim@example.com", "guess").await,
            401
        );
    }
    for i in 0..20 {
        let status = attempt(&client, &url, &format!("spray{i}@example.com"), "guess").await;
        assert_eq!(status, 401, "spray {i}");
    }
    assert_eq!(
        attempt(&client, &url, "erin@example.com", PASSWORD).await,
        200
    );
    assert_eq!(
        attempt(&client, &url, "victim@example.com", PASSWORD).await,
        429
    );
}

#[tokio::test]
async fn spellings_of_one_email_share_a_bucket() {
    let url = serve(3, 100).await;
    let client = common::client_from(None);
    for spelling in [
        " Frank@Example.COM ",
        "\u{ff26}\u{ff32}\u{ff21}\u{ff2e}\u{ff2b}@example.com",
        "frank@example.com\u{a0}",
    ] {
        assert_eq!(
            attempt(&client, &url, spelling, "guess").await,
            401,
            "{spelling}"
        );
    }
    assert_eq!(
        attempt(&client, &url, "frank@example.com", PASSWORD).await,
        429
    );
}
