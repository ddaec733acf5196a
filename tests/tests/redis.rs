//! Redis as the shared store (feature `redis`), against a real `redis-server` that each test
//! starts on a free loopback port: one quota across two app instances, a nonce replayed on
//! the other instance, a key revoked on one instance refused by the other, Redis killed
//! mid-test (503 problem+json, or the local fallback when configured) and recovery after its
//! restart, and the Redis GCRA compared with the in-memory one on the same schedules.
//!
//! `redis-server` must be installed (`apt-get install redis-server`; `cargo xtask test` does it). A
//! machine without it fails these tests, with that advice; they never pass without a server.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{alice, bob, expect_problem, security, TestApp};
use governor::clock::FakeRelativeClock;
use proptest::prelude::*;
use reqwest::StatusCode;
use secure_endpoint::api_key::NewApiKey;
use secure_endpoint::events::{EventKind, EventSink, SecurityEvent, SinkFull, RATE_FALLBACK};
use secure_endpoint::hmac::{HmacClient, HmacSigner, HmacVerifier, InMemoryHmacKeys};
use secure_endpoint::policy::RateSpec;
use secure_endpoint::rate::{Decision, Limit, MemoryRateStore};
use secure_endpoint::redis::{RedisApiKeys, RedisStore};
use secure_endpoint::routing::{get, post};
use secure_endpoint::store::{Outage, StoreErrorKind};
use secure_endpoint::{secure_endpoint, Principal, SecureRouter, Security};

// ---- the server ----------------------------------------------------------------------------

/// A `redis-server` on a free loopback port, without persistence; killed on drop.
struct RedisServer {
    port: u16,
    /// More arguments for `redis-server`.
    extra: Vec<String>,
    /// With TLS only: the directory holding its certificate and key.
    tls: Option<TempDir>,
    child: Option<Child>,
}

impl RedisServer {
    fn start() -> Self {
        Self::start_with(None)
    }

    fn start_with(tls: Option<TempDir>) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = RedisServer {
            port,
            extra: Vec::new(),
            tls,
            child: None,
        };
        server.restart();
        server
    }

    fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}/", self.port)
    }

    /// Starts the server (again) on the same port and waits until it accepts connections.
    fn restart(&mut self) {
        let port = self.port.to_string();
        let mut command = Command::new("redis-server");
        match &self.tls {
            None => command.args(["--port", &port]),
            Some(dir) => command
                .args([
                    "--port",
                    "0",
                    "--tls-port",
                    &port,
                    "--tls-auth-clients",
                    "no",
                ])
                .arg("--tls-cert-file")
                .arg(dir.path().join("server.pem"))
                .arg("--tls-key-file")
                .arg(dir.path().join("server.key")),
        };
        let child = command
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): these tests need a real Redis server. \
                     Install it with `apt-get install redis-server` (`cargo xtask setup` does)."
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (SIGKILL: no goodbye to the clients).
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A directory under the system's temporary one, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("se-redis-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&path).unwrap();
        TempDir(path)
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A CA, and a certificate for 127.0.0.1 signed by it written with its key into a new
/// directory: `(CA PEM, directory)`.
fn tls_material() -> (String, TempDir) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "secure-endpoint Redis test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let dir = TempDir::new();
    std::fs::write(dir.path().join("server.pem"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("server.key"), key.serialize_pem()).unwrap();
    (ca.pem(), dir)
}

fn store(server: &RedisServer) -> Arc<RedisStore> {
    Arc::new(RedisStore::open(&server.url()).unwrap())
}

/// One app instance on its own port, sharing `redis` for its rate limits.
async fn instance(redis: Arc<RedisStore>, outage: Outage) -> TestApp {
    TestApp::start_with(security().rate_store(redis, outage).build()).await
}

/// The security events an instance sends to its sink.
#[derive(Debug, Default)]
struct Events(Mutex<Vec<SecurityEvent>>);

impl EventSink for Events {
    fn record(&self, event: SecurityEvent) -> Result<(), SinkFull> {
        self.0.lock().unwrap().push(event);
        Ok(())
    }
}

impl Events {
    /// `(kind, status, reason)` of each event so far.
    fn seen(&self) -> Vec<(EventKind, u16, Option<String>)> {
        let events = self.0.lock().unwrap();
        events
            .iter()
            .map(|e| (e.kind, e.status, e.reason.clone()))
            .collect()
    }
}

/// [`instance`], recording its security events.
async fn observed_instance(redis: Arc<RedisStore>, outage: Outage) -> (TestApp, Arc<Events>) {
    let events = Arc::new(Events::default());
    let security = security()
        .rate_store(redis, outage)
        .events(events.clone())
        .build();
    (TestApp::start_with(security).await, events)
}

// ---- rate limits across instances ----------------------------------------------------------

#[tokio::test]
async fn one_quota_is_enforced_across_two_instances() {
    let server = RedisServer::start();
    // Two instances, each with its own connection, as two processes would have.
    let a = instance(store(&server), Outage::FailClosed).await;
    let b = instance(store(&server), Outage::FailClosed).await;
    let alice = alice();

    // `/limited` admits 3 a minute per principal: 3 in all, whichever instance serves them.
    let mut statuses = Vec::new();
    for i in 0..6 {
        let app = if i % 2 == 0 { &a } else { &b };
        statuses.push(app.get_as("/limited", &alice).await.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429, 429]);
    let refused = expect_problem(
        b.get_as("/limited", &alice).await,
        StatusCode::TOO_MANY_REQUESTS,
        &[],
    )
    .await;
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        refused.header("ratelimit-policy"),
        Some("\"endpoint\";q=3;w=60")
    );

    // Another principal has its own quota.
    assert_eq!(a.get_as("/limited", &bob()).await.status(), 200);

    // Without the shared store, each instance counts alone: 3 + 3.
    let a = TestApp::start().await;
    let b = TestApp::start().await;
    let mut admitted = 0;
    for i in 0..6 {
        let app = if i % 2 == 0 { &a } else { &b };
        admitted += u32::from(app.get_as("/limited", &alice).await.status() == 200);
    }
    assert_eq!(
        admitted, 6,
        "in memory, the limit multiplies by the instances"
    );
}

// ---- nonces and revocations ----------------------------------------------------------------

const HOOK_SECRET: &[u8] = b"webhook secret for the redis tests, >= 32 bytes";

#[secure_endpoint(auth = "hmac", allow = "authenticated")]
async fn webhook(principal: Principal) -> String {
    format!("hook from {}", principal.subject())
}

#[secure_endpoint(auth = "api_key", scopes = ["reports:read"])]
async fn reports(principal: Principal) -> String {
    format!("report for {}", principal.subject())
}

async fn serve(router: SecureRouter) -> String {
    format!("http://{}", common::serve(router.into_router()).await)
}

/// `POST {base}/hooks` with an empty body, signed with `signature`.
async fn post_hook(base: &str, signature: &str) -> reqwest::Response {
    common::client_from(None)
        .post(format!("{base}/hooks"))
        .header("authorization", signature)
        .send()
        .await
        .unwrap()
}

/// `GET {base}/report` with the API key `key`.
async fn get_report(base: &str, key: &str) -> reqwest::Response {
    common::client_from(None)
        .get(format!("{base}/report"))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap()
}

/// An instance with HMAC (nonces in `redis`) and API keys (revocations in `redis`).
async fn signed_instance(redis: Arc<RedisStore>, key: &NewApiKey) -> (String, Arc<RedisApiKeys>) {
    let clients = Arc::new(InMemoryHmacKeys::new());
    clients.insert("hooks", HmacClient::new("github", HOOK_SECRET).unwrap());
    let api_keys = Arc::new(RedisApiKeys::new(redis.clone()));
    api_keys.insert(key.record.clone());
    let security = Security::builder()
        .allow_plain_http()
        .hmac(HmacVerifier::new(clients).nonce_store(redis))
        .api_keys(api_keys.clone())
        .build();
    let base = serve(
        SecureRouter::new(security)
            .route("/hooks", post(webhook))
            .route("/report", get(reports)),
    )
    .await;
    (base, api_keys)
}

#[tokio::test]
async fn a_nonce_used_on_one_instance_is_refused_on_the_other() {
    let server = RedisServer::start();
    let key = NewApiKey::generate("sk_test", "svc-reports", &["reports:read"]);
    let (a, _) = signed_instance(store(&server), &key).await;
    let (b, _) = signed_instance(store(&server), &key).await;
    let signature = HmacSigner::new("hooks", HOOK_SECRET).sign("POST", "/hooks", b"");

    let first = post_hook(&a, &signature).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.text().await.unwrap(), "hook from github");

    // The very same signed request, replayed against the other instance.
    let replay = post_hook(&b, &signature).await;
    expect_problem(replay, StatusCode::UNAUTHORIZED, &[&signature]).await;

    // A fresh signature still works there.
    let fresh = HmacSigner::new("hooks", HOOK_SECRET).sign("POST", "/hooks", b"");
    let ok = post_hook(&b, &fresh).await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn a_key_revoked_on_one_instance_is_refused_by_the_other() {
    let server = RedisServer::start();
    let key = NewApiKey::generate("sk_test", "svc-reports", &["reports:read"]);
    let (a, keys_a) = signed_instance(store(&server), &key).await;
    let (b, _) = signed_instance(store(&server), &key).await;
    assert_eq!(get_report(&a, &key.key).await.status(), 200);
    assert_eq!(get_report(&b, &key.key).await.status(), 200);

    keys_a.revoke(&key.record.id).await.unwrap();
    for base in [&a, &b] {
        expect_problem(
            get_report(base, &key.key).await,
            StatusCode::UNAUTHORIZED,
            &[&key.key],
        )
        .await;
    }
}

#[tokio::test]
async fn rediss_verifies_the_server_certificate() {
    let (ca_pem, dir) = tls_material();
    let server = RedisServer::start_with(Some(dir));
    let limit = Limit::new("tls", RateSpec::new(1, Duration::from_secs(60)));

    let trusted = RedisStore::builder(&server.url())
        .root_certificate_pem(ca_pem.as_bytes())
        .open()
        .unwrap();
    trusted
        .ping()
        .await
        .expect("rediss:// with the server's CA");
    assert_eq!(trusted.decide_at(&limit, "k", 1).await, Ok(Decision::Admit));
    assert!(matches!(
        trusted.decide_at(&limit, "k", 2).await,
        Ok(Decision::Refuse { .. })
    ));

    // The web PKI's roots do not include the test CA: no connection, an outage.
    let untrusted = RedisStore::open(&server.url()).unwrap();
    assert_eq!(
        untrusted.ping().await.unwrap_err().kind(),
        StoreErrorKind::Unreachable
    );
    // A root certificate makes no sense without TLS.
    assert!(RedisStore::builder("redis://127.0.0.1:1/")
        .root_certificate_pem(ca_pem.as_bytes())
        .open()
        .is_err());
}

#[tokio::test]
async fn a_password_in_the_url_authenticates_and_is_never_shown() {
    const PASSWORD: &str = "s3cret-redis-password-for-the-test";
    let mut server = RedisServer::start();
    server.extra = vec!["--requirepass".into(), PASSWORD.into()];
    server.kill();
    server.restart();
    let url = |password: &str| format!("redis://:{password}@127.0.0.1:{}/", server.port);

    let store = RedisStore::open(&url(PASSWORD)).unwrap();
    store
        .ping()
        .await
        .expect("the password from the URL is used");
    assert!(!format!("{store:?}").contains(PASSWORD));

    // A wrong password is an outage, and nothing the caller can print carries the URL.
    let wrong = RedisStore::open(&url("wrong-password")).unwrap();
    let error = wrong.ping().await.unwrap_err();
    for shown in [
        format!("{error}"),
        format!("{error:?}"),
        format!("{wrong:?}"),
    ] {
        assert!(
            !shown.contains("wrong-password") && !shown.contains("127.0.0.1"),
            "{shown}"
        );
    }
    // Nor does a URL that does not parse.
    let refused = RedisStore::open("redis://:hunter2@[::1").unwrap_err();
    assert!(!refused.to_string().contains("hunter2"), "{refused}");
}

/// A three-node Redis Cluster (no replicas) on free loopback ports; killed on drop.
struct RedisCluster {
    nodes: Vec<RedisServer>,
    _dir: TempDir,
}

impl RedisCluster {
    fn start() -> Self {
        let dir = TempDir::new();
        let mut nodes = Vec::new();
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut node = RedisServer {
                port,
                extra: vec![
                    "--cluster-enabled".into(),
                    "yes".into(),
                    "--cluster-config-file".into(),
                    format!("nodes-{port}.conf"),
                    "--dir".into(),
                    dir.path().display().to_string(),
                ],
                tls: None,
                child: None,
            };
            node.restart();
            nodes.push(node);
        }
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli (package redis-tools, installed with redis-server)");
        assert!(created.success(), "redis-cli --cluster create failed");
        let cluster = RedisCluster { nodes, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(15);
        while !(0..3).all(|i| cluster.info(i).contains("cluster_state:ok")) {
            assert!(
                Instant::now() < deadline,
                "the cluster did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        cluster
    }

    fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    fn info(&self, node: usize) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.nodes[node].port.to_string(), "cluster", "info"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Keys held by each node.
    fn sizes(&self) -> Vec<u64> {
        self.nodes
            .iter()
            .map(|n| {
                let out = Command::new("redis-cli")
                    .args(["-p", &n.port.to_string(), "dbsize"])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
            })
            .collect()
    }
}

#[tokio::test]
async fn on_a_redis_cluster_one_quota_holds_and_keys_spread_over_the_nodes() {
    let cluster = RedisCluster::start();
    let store = || Arc::new(RedisStore::cluster(&cluster.urls()).open().unwrap());
    let a = instance(store(), Outage::FailClosed).await;
    let b = instance(store(), Outage::FailClosed).await;
    let alice = alice();
    let mut statuses = Vec::new();
    for i in 0..5 {
        let app = if i % 2 == 0 { &a } else { &b };
        statuses.push(app.get_as("/limited", &alice).await.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);

    // Many subjects: their keys land on every node, each script on its key's node.
    let redis = store();
    let limit = Limit::new("spread", RateSpec::new(1, Duration::from_secs(60)));
    for i in 0..60 {
        let key = format!("sub:{i}");
        assert_eq!(redis.decide_at(&limit, &key, 1).await, Ok(Decision::Admit));
        assert!(matches!(
            redis.decide_at(&limit, &key, 2).await,
            Ok(Decision::Refuse { .. })
        ));
    }
    let sizes = cluster.sizes();
    assert!(sizes.iter().all(|&n| n > 0), "keys per node: {sizes:?}");
}

// ---- outages -------------------------------------------------------------------------------

/// Retries `check` every 100 ms until it is true or 15 s have passed.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within 15 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn redis_down_fails_closed_then_recovers_on_its_own() {
    let mut server = RedisServer::start();
    let redis = store(&server);
    let key = NewApiKey::generate("sk_test", "svc-reports", &["reports:read"]);
    let (app, events) = observed_instance(redis.clone(), Outage::FailClosed).await;
    let (signed, _) = signed_instance(redis.clone(), &key).await;
    let token = alice();
    assert_eq!(app.get_as("/me", &token).await.status(), 200);

    server.kill();
    // Every request that needs Redis is refused with a 503 problem, quickly.
    let started = Instant::now();
    let refused = expect_problem(
        app.get_as("/me", &token).await,
        StatusCode::SERVICE_UNAVAILABLE,
        &[&token],
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(refused.body["code"], "store_unavailable");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(
        events.seen(),
        [(EventKind::StoreUnavailable, 503, None)],
        "the refusal is a security event"
    );
    // Unauthenticated requests too (the per-IP limit is shared as well).
    expect_problem(
        app.get("/health").send().await.unwrap(),
        StatusCode::SERVICE_UNAVAILABLE,
        &[],
    )
    .await;
    // Nonces and revocations fail closed as well.
    let signature = HmacSigner::new("hooks", HOOK_SECRET).sign("POST", "/hooks", b"");
    let hook = post_hook(&signed, &signature).await;
    expect_problem(hook, StatusCode::SERVICE_UNAVAILABLE, &[&signature]).await;
    let report = get_report(&signed, &key.key).await;
    expect_problem(report, StatusCode::SERVICE_UNAVAILABLE, &[&key.key]).await;

    // Back: the same store reconnects by itself.
    server.restart();
    eventually("the app answers again after Redis restarted", async || {
        app.get_as("/me", &token).await.status() == 200
    })
    .await;
    let report = get_report(&signed, &key.key).await;
    assert_eq!(report.status(), 200);
}

#[tokio::test]
async fn a_slow_redis_is_an_outage_too() {
    let server = RedisServer::start();
    let redis = Arc::new(
        RedisStore::builder(&server.url())
            .deadline(Duration::from_millis(200))
            .open()
            .unwrap(),
    );
    let app = instance(redis.clone(), Outage::FailClosed).await;
    let token = alice();
    assert_eq!(app.get_as("/me", &token).await.status(), 200);

    // Freeze the server for 2 s (CLIENT PAUSE holds every client's commands).
    let mut admin = redis_admin(&server);
    redis_command(&mut admin, &["CLIENT", "PAUSE", "2000", "ALL"]);
    let started = Instant::now();
    let refused = expect_problem(
        app.get_as("/me", &token).await,
        StatusCode::SERVICE_UNAVAILABLE,
        &[],
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(refused.body["code"], "store_unavailable");
    eventually("the app answers again after the pause", async || {
        app.get_as("/me", &token).await.status() == 200
    })
    .await;
}

/// A plain connection to the server, for administrative commands.
fn redis_admin(server: &RedisServer) -> TcpStream {
    TcpStream::connect(("127.0.0.1", server.port)).unwrap()
}

/// Sends one command in RESP and reads the first line of the reply.
fn redis_command(stream: &mut TcpStream, args: &[&str]) -> String {
    use std::io::{BufRead, BufReader, Write};
    let mut command = format!("*{}\r\n", args.len());
    for arg in args {
        command.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(command.as_bytes()).unwrap();
    let mut line = String::new();
    BufReader::new(stream.try_clone().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with('+'), "{args:?}: {line}");
    line
}

#[tokio::test]
async fn when_configured_an_outage_falls_back_to_the_local_limiter() {
    let mut server = RedisServer::start();
    let (app, events) = observed_instance(store(&server), Outage::FallBackToLocal).await;
    let token = alice();
    assert_eq!(app.get_as("/limited", &token).await.status(), 200);
    assert_eq!(
        events.seen(),
        [],
        "allowed requests are not recorded by default"
    );
    server.kill();
    // The instance's own limiter decides: its 3 a minute, counted from now.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(app.get_as("/limited", &token).await.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    // Each request decided without the store is a security event that says so, allowed ones
    // included.
    let fallback = Some(RATE_FALLBACK.to_owned());
    assert_eq!(
        events.seen(),
        [
            (EventKind::Allowed, 200, fallback.clone()),
            (EventKind::Allowed, 200, fallback.clone()),
            (EventKind::Allowed, 200, fallback.clone()),
            (EventKind::RateLimited, 429, fallback),
        ]
    );
}

// ---- the same answers as in memory ---------------------------------------------------------

/// Arrival schedules: gaps in microseconds between requests (many zero, to make bursts).
fn schedules() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(
        prop_oneof![Just(0u64), 0u64..50_000, 0u64..2_000_000],
        1..60,
    )
}

fn quotas() -> impl Strategy<Value = RateSpec> {
    (1u32..8, 1u64..4).prop_map(|(count, secs)| RateSpec::new(count, Duration::from_secs(secs)))
}

/// Runs `schedule` through both stores, returning their decisions.
fn both(
    runtime: &tokio::runtime::Runtime,
    redis: &RedisStore,
    case: u64,
    spec: RateSpec,
    schedule: &[u64],
) -> (Vec<Decision>, Vec<Decision>) {
    let limit = Limit::new(format!("prop-{case}"), spec);
    let clock = FakeRelativeClock::default();
    let memory = MemoryRateStore::with_clock(clock.clone());
    // Any origin works for Redis; the memory store's clock starts at zero.
    let origin = 1_700_000_000_000_000u64;
    let mut now = 0u64;
    let (mut in_memory, mut in_redis) = (Vec::new(), Vec::new());
    for gap in schedule {
        now += gap;
        clock.advance(Duration::from_micros(*gap));
        in_memory.push(memory.decide_now(&limit, "k"));
        in_redis.push(
            runtime
                .block_on(redis.decide_at(&limit, "k", origin + now))
                .unwrap(),
        );
    }
    (in_memory, in_redis)
}

/// The GCRA bound: within any stretch `d` of the schedule, at most
/// `burst + floor(d / interval)` admissions.
fn assert_within_quota(spec: RateSpec, schedule: &[u64], decisions: &[Decision]) {
    let limit = Limit::new("bound", spec);
    let interval = limit.interval().as_micros() as u64;
    let mut times = Vec::new();
    let mut now = 0;
    for (gap, decision) in schedule.iter().zip(decisions) {
        now += gap;
        if *decision == Decision::Admit {
            times.push(now);
        }
    }
    for (i, start) in times.iter().enumerate() {
        for (j, end) in times.iter().enumerate().skip(i) {
            let admitted = (j - i + 1) as u64;
            let bound = u64::from(limit.burst()) + (end - start) / interval;
            assert!(
                admitted <= bound,
                "{admitted} admitted within {} µs, bound {bound}",
                end - start
            );
        }
    }
}

#[test]
fn redis_and_memory_give_the_same_answers_on_the_same_schedule() {
    let server = RedisServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let redis = runtime.block_on(async { RedisStore::open(&server.url()).unwrap() });
    let case = std::cell::Cell::new(0u64);
    proptest!(ProptestConfig::with_cases(96), |(spec in quotas(), schedule in schedules())| {
        case.set(case.get() + 1);
        let (memory, redis) = both(&runtime, &redis, case.get(), spec, &schedule);
        prop_assert_eq!(&memory, &redis, "quota {:?}, schedule {:?}", spec, schedule);
        assert_within_quota(spec, &schedule, &memory);
        // A refusal's wait is positive and at most a whole burst's worth of intervals.
        for decision in &memory {
            if let Decision::Refuse { retry_after } = decision {
                prop_assert!(*retry_after > Duration::ZERO);
                prop_assert!(*retry_after <= Limit::new("x", spec).interval() * spec.count);
            }
        }
    });
}
