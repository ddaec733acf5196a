//! The abuse detectors across two instances sharing one Redis (feature `redis`), against a real
//! `redis-server` each test starts on a free loopback port: the enumeration walk, 30 emails
//! from one client and one email from 30 clients, alternating between the instances, are cut
//! off at the shared thresholds, with one event per trip across both.
//!
//! `redis-server` must be installed (`apt-get install redis-server`; `cargo xtask test` does
//! it). A machine without it fails these tests, with that advice; they never pass without a
//! server.

mod abuse_app;
mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use abuse_app::{Events, ENUMERATION_THRESHOLD, STUFFING_THRESHOLD};
use common::{alice, bob, client_from, expect_problem, BOB};
use reqwest::StatusCode;
use secure_endpoint::events::EventKind;
use secure_endpoint::rate::RateStore;
use secure_endpoint::redis::RedisStore;
use secure_endpoint::store::Outage;
use serde_json::json;

/// A `redis-server` on a free loopback port, without persistence; killed on drop.
struct RedisServer {
    port: u16,
    child: Child,
}

impl RedisServer {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): these tests need a real Redis server. \
                     Install it with `apt-get install redis-server` (`cargo xtask setup` does)."
                )
            });
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        RedisServer { port, child }
    }

    fn store(&self) -> Arc<RedisStore> {
        Arc::new(RedisStore::open(&format!("redis://127.0.0.1:{}/", self.port)).unwrap())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two instances sharing `redis`, each with its own event sink.
async fn two_instances(redis: &RedisServer) -> ([String; 2], [Arc<Events>; 2]) {
    let events = [Arc::new(Events::default()), Arc::new(Events::default())];
    let mut bases = Vec::new();
    for sink in &events {
        let security = abuse_app::security(sink.clone())
            .rate_store(redis.store(), Outage::FailClosed)
            .build();
        bases.push(abuse_app::start(security).await);
    }
    (bases.try_into().unwrap(), events)
}

fn alerts(
    events: &[Arc<Events>; 2],
    kind: EventKind,
) -> Vec<secure_endpoint::events::SecurityEvent> {
    events.iter().flat_map(|e| e.of(kind)).collect()
}

#[tokio::test]
async fn a_walk_spread_over_two_instances_is_refused_by_both() {
    let redis = RedisServer::start();
    let (bases, events) = two_instances(&redis).await;
    let client = client_from(None);
    let (alice, bob) = (alice(), bob());
    let mut refused_at = None;
    for i in 1..=100usize {
        let base = &bases[i % 2];
        // The owner, on both instances, between the walker's requests: never refused.
        let own = client
            .get(format!("{base}/orders/alice-order-{}", i % 5 + 1))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        assert_eq!(own.status(), StatusCode::OK);
        let id = uuid::Uuid::new_v4();
        let res = client
            .get(format!("{base}/orders/{id}"))
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            let problem = expect_problem(res, StatusCode::TOO_MANY_REQUESTS, &[]).await;
            assert_eq!(problem.body["code"], "enumeration_suspected");
            refused_at = Some(i);
            break;
        }
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "request {i}");
    }
    // One count across both instances: each saw only half of the walk.
    assert_eq!(refused_at, Some(ENUMERATION_THRESHOLD as usize));
    // The other instance learns of the cool-down at Bob's next not-found answer there.
    for base in [&bases[1], &bases[0], &bases[1]] {
        let res = client
            .get(format!("{base}/orders/{}", uuid::Uuid::new_v4()))
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let found = alerts(&events, EventKind::EnumerationSuspected);
    assert_eq!(found.len(), 1, "one event across both instances: {found:?}");
    assert_eq!(found[0].principal.as_deref(), Some(BOB));
    assert_eq!(found[0].distinct, Some(u64::from(ENUMERATION_THRESHOLD)));
}

async fn login(client: &reqwest::Client, base: &str, ip: &str, email: &str) -> StatusCode {
    client
        .post(format!("{base}/login"))
        .header("x-forwarded-for", ip)
        .json(&json!({ "email": email, "password": "guess" }))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn thirty_emails_from_one_client_across_two_instances_are_cut_off() {
    let redis = RedisServer::start();
    let (bases, events) = two_instances(&redis).await;
    let client = client_from(None);
    let mut statuses = Vec::new();
    for i in 0..30usize {
        let email = format!("victim{i}@example.com");
        statuses.push(
            login(&client, &bases[i % 2], "203.0.113.7", &email)
                .await
                .as_u16(),
        );
    }
    let n = STUFFING_THRESHOLD as usize;
    assert!(statuses[..n - 1].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[n - 1..].iter().all(|s| *s == 429), "{statuses:?}");
    let found = alerts(&events, EventKind::CredentialAbuseSuspected);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].reason.as_deref(),
        Some("many_identifiers_one_client")
    );
}

#[tokio::test]
async fn one_email_from_thirty_clients_across_two_instances_is_cut_off() {
    let redis = RedisServer::start();
    let (bases, events) = two_instances(&redis).await;
    let client = client_from(None);
    let mut statuses = Vec::new();
    for i in 0..30usize {
        let ip = format!("198.51.100.{}", i + 1);
        statuses.push(
            login(&client, &bases[i % 2], &ip, "bob@example.com")
                .await
                .as_u16(),
        );
    }
    let n = STUFFING_THRESHOLD as usize;
    assert!(statuses[..n - 1].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[n - 1..].iter().all(|s| *s == 429), "{statuses:?}");
    let found = alerts(&events, EventKind::CredentialAbuseSuspected);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].reason.as_deref(),
        Some("one_identifier_many_clients")
    );
}

/// The Redis script's semantics, directly: distinct members, the window set once, the set
/// bounded by the threshold (deleted when it trips), one trip, then the cool-down.
#[tokio::test]
async fn the_distinct_script_counts_trips_once_and_cools_down() {
    let redis = RedisServer::start();
    let store = redis.store();
    let (window, cool) = (Duration::from_secs(60), Duration::from_secs(120));
    for member in [1, 2, 2, 3] {
        let d = store.distinct("k", member, window, 4, cool).await.unwrap();
        assert!(!d.tripped && d.cooling.is_none());
    }
    let d = store.distinct("k", 3, window, 4, cool).await.unwrap();
    assert_eq!(d.count, 3);
    store.forget("k", 3).await.unwrap();
    assert_eq!(
        store.distinct("k", 4, window, 4, cool).await.unwrap().count,
        3
    );
    let d = store.distinct("k", 5, window, 4, cool).await.unwrap();
    assert_eq!((d.count, d.tripped), (4, true));
    assert_eq!(d.cooling, Some(cool));
    let d = store.distinct("k", 6, window, 4, cool).await.unwrap();
    assert!(!d.tripped && d.count == 0);
    let left = d.cooling.unwrap();
    assert!(
        left <= cool && left > cool - Duration::from_secs(5),
        "{left:?}"
    );
    let left = store.cooling("k").await.unwrap().unwrap();
    assert!(left > cool - Duration::from_secs(5), "{left:?}");
    assert_eq!(store.cooling("other").await.unwrap(), None);
}
