//! Behind a trusted proxy, over real loopback connections: the test client plays the proxy
//! (its address, 127.0.0.1, is trusted) and sends the forwarding headers a real proxy would,
//! plus the ones a client would slip through it. Only the configured header is read, hop by
//! hop from the right; a malformed hop where the client is read is a 400; per-IP limits count
//! IPv6 clients by network; a router served without the peer's address refuses, loudly.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::connect_info::MockConnectInfo;
use common::*;
use reqwest::header::HeaderValue;
use reqwest::StatusCode;
use secure_endpoint::perimeter::{ProxyHeaders, SchemeSource};
use secure_endpoint::policy::RateSpec;
use secure_endpoint::rate::{Decision, Limit, MemoryRateStore, RateStore};
use secure_endpoint::routing::get;
use secure_endpoint::store::{Outage, StoreError, StoreFuture};
use secure_endpoint::{secure_endpoint, ClientIp, SecureRouter, Security, SecurityBuilder};
use tower::ServiceExt;

#[secure_endpoint(auth = "none")]
async fn whoami(ClientIp(ip): ClientIp) -> String {
    ip.to_string()
}

#[secure_endpoint(auth = "none", rate = "2/1m")]
async fn limited(ClientIp(ip): ClientIp) -> String {
    ip.to_string()
}

fn router(security: SecurityBuilder) -> axum::Router {
    SecureRouter::new(security.build())
        .route("/whoami", get(whoami))
        .route("/limited", get(limited))
        .into_router()
}

/// 127.0.0.1 (the test client) is the trusted proxy; 3 requests a minute per client.
fn behind_proxy() -> SecurityBuilder {
    Security::builder()
        .trusted_proxies(["127.0.0.1"])
        .ip_rate(Some(RateSpec::new(3, Duration::from_secs(60))))
}

async fn serve(security: SecurityBuilder) -> String {
    let addr = common::serve(router(security)).await;
    format!("http://{addr}")
}

/// `GET /whoami` with `headers`: the status, and the body when 200.
async fn whoami_with(base: &str, headers: &[(&str, &[u8])]) -> (StatusCode, String) {
    let mut req = client_from(None).get(format!("{base}/whoami"));
    for (name, value) in headers {
        req = req.header(*name, HeaderValue::from_bytes(value).unwrap());
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.text().await.unwrap())
}

async fn statuses(base: &str, path: &str, headers: &[Vec<(&str, String)>]) -> Vec<u16> {
    let client = client_from(None);
    let mut out = Vec::new();
    for request in headers {
        let mut req = client.get(format!("{base}{path}"));
        for (name, value) in request {
            req = req.header(*name, value);
        }
        out.push(req.send().await.unwrap().status().as_u16());
    }
    out
}

#[tokio::test]
async fn a_clients_own_forwarded_header_does_not_pick_its_address() {
    // The proxy appends the real client (198.51.100.7) to X-Forwarded-For and passes the
    // client's `Forwarded` through, as nginx, ALB and Cloudflare do.
    let base = serve(behind_proxy().allow_plain_http()).await;
    let requests: Vec<_> = (1..=6)
        .map(|n| {
            vec![
                ("forwarded", format!("for=203.0.113.{n}")),
                ("x-forwarded-for", "198.51.100.7".to_owned()),
            ]
        })
        .collect();
    assert_eq!(
        statuses(&base, "/whoami", &requests).await,
        [200, 200, 200, 429, 429, 429],
        "six addresses of the client's choosing share the client's one bucket"
    );
    let (status, ip) = whoami_with(&base, &[("x-forwarded-for", b"198.51.100.8")]).await;
    assert_eq!((status, ip.as_str()), (StatusCode::OK, "198.51.100.8"));
    // A proxy that appends nothing: the client's `Forwarded` still means nothing.
    let requests: Vec<_> = (1..=4)
        .map(|n| vec![("forwarded", format!("for=203.0.113.{n}"))])
        .collect();
    assert_eq!(
        statuses(&base, "/whoami", &requests).await,
        [200, 200, 200, 429],
        "the request is the proxy's own"
    );
}

#[tokio::test]
async fn a_clients_forwarded_proto_does_not_make_plain_http_https() {
    let base = serve(behind_proxy()).await;
    for headers in [
        // nginx with `proxy_set_header X-Forwarded-Proto $scheme` on its plain listener.
        vec![
            ("forwarded", &b"for=203.0.113.5;proto=https"[..]),
            ("x-forwarded-for", b"198.51.100.7"),
            ("x-forwarded-proto", b"http"),
        ],
        // A proxy that does not say the scheme: the connection's (plain) counts.
        vec![
            ("forwarded", &b"for=203.0.113.5;proto=https"[..]),
            ("x-forwarded-for", b"198.51.100.7"),
        ],
    ] {
        let mut req = client_from(None).get(format!("{base}/whoami"));
        for (name, value) in &headers {
            req = req.header(*name, HeaderValue::from_bytes(value).unwrap());
        }
        let res = req.send().await.unwrap();
        let p = expect_problem(res, StatusCode::FORBIDDEN, &[]).await;
        assert_eq!(p.body["code"], "https_required");
    }
    // The proxy's own X-Forwarded-Proto: https is believed.
    let (status, ip) = whoami_with(
        &base,
        &[
            ("x-forwarded-for", b"198.51.100.7"),
            ("x-forwarded-proto", b"https"),
        ],
    )
    .await;
    assert_eq!((status, ip.as_str()), (StatusCode::OK, "198.51.100.7"));
}

#[tokio::test]
async fn a_malformed_hop_right_of_the_client_is_a_400_left_of_it_ignored() {
    let base = serve(behind_proxy().allow_plain_http()).await;
    for value in [
        &b"203.0.113.9, 198.51.100.\xff"[..],
        b"203.0.113.9, garbage",
        b"203.0.113.9,",
        b"",
    ] {
        let res = client_from(None)
            .get(format!("{base}/whoami"))
            .header("x-forwarded-for", HeaderValue::from_bytes(value).unwrap())
            .send()
            .await
            .unwrap();
        let p = expect_problem(res, StatusCode::BAD_REQUEST, &[]).await;
        assert_eq!(p.body["code"], "malformed_forwarding_header", "{value:?}");
    }
    // Unrouted requests are read the same way.
    let res = client_from(None)
        .get(format!("{base}/nowhere"))
        .header("x-forwarded-for", "203.0.113.9, garbage")
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, StatusCode::BAD_REQUEST, &[]).await;
    assert_eq!(p.body["code"], "malformed_forwarding_header");
    // Whatever the client wrote left of itself, the non-ASCII byte included, is not read.
    let (status, ip) = whoami_with(
        &base,
        &[(
            "x-forwarded-for",
            b"\xff\xfe, garbage, , 203.0.113.9, 127.0.0.1",
        )],
    )
    .await;
    assert_eq!((status, ip.as_str()), (StatusCode::OK, "203.0.113.9"));
    // Several header lines are one list, in order.
    let (status, ip) = whoami_with(
        &base,
        &[
            ("x-forwarded-for", b"garbage"),
            ("x-forwarded-for", b"203.0.113.10"),
        ],
    )
    .await;
    assert_eq!((status, ip.as_str()), (StatusCode::OK, "203.0.113.10"));
}

#[tokio::test]
async fn a_single_address_header_when_configured_and_nothing_else() {
    let base =
        serve(behind_proxy().proxy_headers(ProxyHeaders::client_header("CF-Connecting-IP"))).await;
    let (status, ip) = whoami_with(
        &base,
        &[
            ("cf-connecting-ip", b"203.0.113.20"),
            ("x-forwarded-proto", b"https"),
            ("x-forwarded-for", b"198.51.100.1"),
            ("forwarded", b"for=198.51.100.2;proto=https"),
        ],
    )
    .await;
    assert_eq!((status, ip.as_str()), (StatusCode::OK, "203.0.113.20"));
    // Without it, X-Forwarded-For and Forwarded are not read in its place: the request is
    // the proxy's own (and the proxy's plain connection is not HTTPS).
    let (status, _) = whoami_with(
        &base,
        &[
            ("x-forwarded-for", b"198.51.100.1"),
            ("forwarded", b"for=198.51.100.2;proto=https"),
            ("x-forwarded-proto", b"https"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Two addresses, or two lines: malformed.
    for headers in [
        vec![("cf-connecting-ip", &b"203.0.113.20, 203.0.113.21"[..])],
        vec![
            ("cf-connecting-ip", b"203.0.113.20"),
            ("cf-connecting-ip", b"203.0.113.21"),
        ],
    ] {
        let mut req = client_from(None)
            .get(format!("{base}/whoami"))
            .header("x-forwarded-proto", "https");
        for (name, value) in &headers {
            req = req.header(*name, HeaderValue::from_bytes(value).unwrap());
        }
        let p = expect_problem(req.send().await.unwrap(), StatusCode::BAD_REQUEST, &[]).await;
        assert_eq!(p.body["code"], "malformed_forwarding_header");
    }
    // The scheme from the connection: the proxy's X-Forwarded-Proto means nothing then.
    let base = serve(behind_proxy().proxy_headers(ProxyHeaders::ClientHeader {
        address: "x-real-ip".parse().unwrap(),
        scheme: SchemeSource::Connection,
    }))
    .await;
    let res = client_from(None)
        .get(format!("{base}/whoami"))
        .header("x-real-ip", "203.0.113.22")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, StatusCode::FORBIDDEN, &[]).await;
    assert_eq!(p.body["code"], "https_required");
}

#[tokio::test]
async fn forwarded_when_configured_and_nothing_else() {
    let base = serve(behind_proxy().proxy_headers(ProxyHeaders::Forwarded)).await;
    // The client's element (the rightmost untrusted one) names the client and its scheme;
    // X-Forwarded-* are not read.
    let (status, ip) = whoami_with(
        &base,
        &[
            (
                "forwarded",
                b"for=6.6.6.6;proto=http, for=\"[2001:db8::9]:4711\";proto=https",
            ),
            ("x-forwarded-for", b"198.51.100.1"),
            ("x-forwarded-proto", b"http"),
        ],
    )
    .await;
    assert_eq!((status, ip.as_str()), (StatusCode::OK, "2001:db8::9"));
    let res = client_from(None)
        .get(format!("{base}/whoami"))
        .header("forwarded", "for=203.0.113.30;proto=http")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, StatusCode::FORBIDDEN, &[]).await;
    assert_eq!(p.body["code"], "https_required");
    // A malformed `Forwarded` is a 400, even with a well-formed X-Forwarded-For beside it.
    let res = client_from(None)
        .get(format!("{base}/whoami"))
        .header("forwarded", "for=203.0.113.30;proto=https, for=unknown")
        .header("x-forwarded-for", "198.51.100.1")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, StatusCode::BAD_REQUEST, &[]).await;
    assert_eq!(p.body["code"], "malformed_forwarding_header");
    // Left of the client, an unreadable element is the client's business.
    let (status, ip) = whoami_with(
        &base,
        &[(
            "forwarded",
            b"for=\"_hidden\";x, for=203.0.113.31;proto=https",
        )],
    )
    .await;
    assert_eq!((status, ip.as_str()), (StatusCode::OK, "203.0.113.31"));
}

#[tokio::test]
async fn no_fallback_from_the_configured_header_to_another() {
    // X-Forwarded-For configured, only `Forwarded` sent: the client is the proxy, and every
    // such request shares its bucket.
    let base = serve(behind_proxy().allow_plain_http()).await;
    let (_, ip) = whoami_with(&base, &[("forwarded", b"for=203.0.113.40")]).await;
    assert_eq!(ip, "127.0.0.1");
    // `Forwarded` configured, only X-Forwarded-For sent: the same.
    let base = serve(
        behind_proxy()
            .allow_plain_http()
            .proxy_headers(ProxyHeaders::Forwarded),
    )
    .await;
    let requests: Vec<_> = (1..=4)
        .map(|n| vec![("x-forwarded-for", format!("203.0.113.{n}"))])
        .collect();
    assert_eq!(
        statuses(&base, "/whoami", &requests).await,
        [200, 200, 200, 429]
    );
}

#[tokio::test]
async fn ipv6_clients_of_one_64_share_a_limit() {
    let base = serve(behind_proxy().allow_plain_http()).await;
    // Four addresses of one /64: one client, three a minute.
    let requests: Vec<_> = [
        "2001:db8:1:2::1",
        "2001:db8:1:2::2",
        "2001:db8:1:2:ffff::3",
        "2001:db8:1:2:abcd:1:2:3",
    ]
    .into_iter()
    .map(|ip| vec![("x-forwarded-for", ip.to_owned())])
    .collect();
    assert_eq!(
        statuses(&base, "/whoami", &requests).await,
        [200, 200, 200, 429]
    );
    // The next /64 is another client; the handler still sees the whole address.
    let (status, ip) = whoami_with(&base, &[("x-forwarded-for", b"2001:db8:1:3::77")]).await;
    assert_eq!((status, ip.as_str()), (StatusCode::OK, "2001:db8:1:3::77"));
    // IPv4-mapped addresses are their IPv4 address.
    let requests: Vec<_> = [
        "203.0.113.50",
        "::ffff:203.0.113.50",
        "[::ffff:203.0.113.50]:80",
        "203.0.113.50",
    ]
    .into_iter()
    .map(|ip| vec![("x-forwarded-for", ip.to_owned())])
    .collect();
    assert_eq!(
        statuses(&base, "/whoami", &requests).await,
        [200, 200, 200, 429]
    );

    // A public endpoint's own limit (2 a minute) counts by the same network.
    let base = serve(
        Security::builder()
            .trusted_proxies(["127.0.0.1"])
            .ip_rate(None)
            .allow_plain_http(),
    )
    .await;
    let requests: Vec<_> = ["2001:db8:5:6::1", "2001:db8:5:6::2", "2001:db8:5:6::3"]
        .into_iter()
        .map(|ip| vec![("x-forwarded-for", ip.to_owned())])
        .collect();
    assert_eq!(
        statuses(&base, "/limited", &requests).await,
        [200, 200, 429]
    );

    // The prefix is the router's to choose: /56 here.
    let base = serve(behind_proxy().allow_plain_http().ipv6_prefix(56)).await;
    let requests: Vec<_> = [
        "2001:db8:7:100::1",
        "2001:db8:7:1ff::1",
        "2001:db8:7:180::1",
        "2001:db8:7:1aa::1",
    ]
    .into_iter()
    .map(|ip| vec![("x-forwarded-for", ip.to_owned())])
    .collect();
    assert_eq!(
        statuses(&base, "/whoami", &requests).await,
        [200, 200, 200, 429]
    );
    let (status, _) = whoami_with(&base, &[("x-forwarded-for", b"2001:db8:7:200::1")]).await;
    assert_eq!(status, StatusCode::OK);
}

/// A shared rate store that records the key of every decision (in memory underneath).
#[derive(Debug, Default)]
struct RecordingStore {
    inner: MemoryRateStore,
    keys: Mutex<Vec<String>>,
}

impl RateStore for RecordingStore {
    fn decide<'a>(
        &'a self,
        limit: &'a Limit,
        key: &'a str,
    ) -> StoreFuture<'a, Result<Decision, StoreError>> {
        self.keys.lock().unwrap().push(key.to_owned());
        StoreFuture::ready(Ok(self.inner.decide_now(limit, key)))
    }
}

#[tokio::test]
async fn a_shared_store_counts_an_ipv6_client_by_its_network_too() {
    // The key every instance sends to Redis is the network's, not the address's.
    let store = Arc::new(RecordingStore::default());
    let base = serve(
        behind_proxy()
            .allow_plain_http()
            .rate_store(store.clone(), Outage::FailClosed),
    )
    .await;
    let requests: Vec<_> = [
        "2001:db8:9:1::1",
        "2001:db8:9:1::2",
        "2001:db8:9:1::3",
        "2001:db8:9:1::4",
        "203.0.113.60",
    ]
    .into_iter()
    .map(|ip| vec![("x-forwarded-for", ip.to_owned())])
    .collect();
    assert_eq!(
        statuses(&base, "/whoami", &requests).await,
        [200, 200, 200, 429, 200]
    );
    let keys = store.keys.lock().unwrap().clone();
    let ip_keys: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|k| k.starts_with("ip:"))
        .collect();
    assert_eq!(ip_keys[..4], ["ip:2001:db8:9:1::/64"; 4]);
    assert!(ip_keys.contains(&"ip:203.0.113.60"), "{ip_keys:?}");
    assert!(
        !keys.iter().any(|k| k.contains("::1") || k.contains("::4")),
        "{keys:?}"
    );
}

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

/// A current-thread runtime: the server runs on this thread, under this thread's subscriber.
#[tokio::test(flavor = "current_thread")]
async fn served_without_the_peer_address_every_request_is_a_500_and_the_fix_is_logged() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // `axum::serve(listener, router)`: no connect info.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(Security::builder().allow_plain_http());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    for path in ["/whoami", "/limited", "/nowhere"] {
        let res = client_from(None)
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
        expect_problem(res, StatusCode::INTERNAL_SERVER_ERROR, &[]).await;
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let errors: Vec<&str> = logs
        .lines()
        .filter(|l| {
            l.contains("ERROR") && l.contains("into_make_service_with_connect_info::<SocketAddr>()")
        })
        .collect();
    assert_eq!(errors.len(), 1, "one line naming the fix: {logs}");
}

#[tokio::test]
async fn in_process_callers_give_the_peer_with_mock_connect_info() {
    let request = || {
        axum::http::Request::get("/whoami")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let app = router(Security::builder().allow_plain_http());
    let res = app.clone().oneshot(request()).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let app = app.layer(MockConnectInfo(SocketAddr::from(([192, 0, 2, 9], 1))));
    let res = app.oneshot(request()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
    assert_eq!(&body[..], b"192.0.2.9");
}
