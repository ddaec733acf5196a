//! The SSRF-guarded outbound client over real HTTP, never leaving the machine: fixtures on
//! 127.0.0.1 allowed explicitly by each test's configuration, "tripwire" listeners on loopback
//! addresses or ports that are NOT allowed (they count every TCP connection they accept, and
//! must count none), and a test DNS lookup that maps names to addresses. Addresses that are not
//! loopback (metadata, private) are only ever checked by pure functions or handed to the
//! resolver alongside an allowed loopback fixture that would record a connection.

mod common;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Redirect, Response};
use common::*;
use reqwest::StatusCode;
use secure_endpoint::outbound::{
    Blocked, Embedding, Lookup, LookupFuture, OutboundClient, OutboundClientBuilder, OutboundError,
    Range, Refusal,
};
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Json, Problem, SafeResponse, SecureRouter, Security};
use serde::{Deserialize, Serialize};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

// ---- the upstream fixture --------------------------------------------------------------------

#[derive(Clone, Default)]
struct Hits(Arc<AtomicUsize>);

impl Hits {
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Deserialize)]
struct To {
    to: String,
}

#[derive(Deserialize)]
struct Hops {
    n: u32,
}

/// An upstream on 127.0.0.1:0 (plain HTTP) counting the requests it answers.
async fn upstream() -> (SocketAddr, Hits) {
    let hits = Hits::default();
    async fn json() -> Response {
        (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"name":"widget","count":3}"#,
        )
            .into_response()
    }
    async fn invalid() -> Response {
        (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"name":"","count":3}"#,
        )
            .into_response()
    }
    async fn wrong_shape() -> Response {
        (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"name":"widget","count":"three"}"#,
        )
            .into_response()
    }
    async fn html() -> Response {
        (
            [(header::CONTENT_TYPE, "text/html")],
            r#"{"name":"widget","count":3}"#,
        )
            .into_response()
    }
    async fn failing() -> Response {
        (
            AxumStatus::INTERNAL_SERVER_ERROR,
            [
                (header::CONTENT_TYPE, "text/plain"),
                (
                    header::HeaderName::from_static("x-upstream-secret"),
                    "db=10.0.0.5",
                ),
            ],
            "panic at db.rs:42: password=hunter2",
        )
            .into_response()
    }
    /// 2 MiB in 64 KiB chunks, without a Content-Length.
    async fn big() -> Response {
        let chunks = (0..32).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 64 * 1024]));
        let stream = futures_util::stream::iter(chunks);
        Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from_stream(stream))
            .unwrap()
    }
    /// 2 MiB with its Content-Length.
    async fn big_declared() -> Response {
        (
            [(header::CONTENT_TYPE, "application/json")],
            vec![b'x'; 2 * 1024 * 1024],
        )
            .into_response()
    }
    async fn slow() -> Response {
        tokio::time::sleep(Duration::from_secs(5)).await;
        json().await
    }
    /// Headers at once, then a body that never finishes.
    async fn stalled_body() -> Response {
        use futures_util::StreamExt;
        let first = futures_util::stream::iter([Ok::<_, std::io::Error>(b"{\"name\":".to_vec())]);
        let never = futures_util::stream::pending();
        Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from_stream(first.chain(never)))
            .unwrap()
    }
    async fn redirect(Query(q): Query<To>) -> Redirect {
        Redirect::temporary(&q.to)
    }
    async fn hops(Query(q): Query<Hops>) -> Response {
        if q.n == 0 {
            json().await
        } else {
            Redirect::to(&format!("/hops?n={}", q.n - 1)).into_response()
        }
    }
    let app = axum::Router::new()
        .route("/json", axum::routing::get(json))
        .route("/invalid", axum::routing::get(invalid))
        .route("/wrong-shape", axum::routing::get(wrong_shape))
        .route("/html", axum::routing::get(html))
        .route("/failing", axum::routing::get(failing))
        .route("/big", axum::routing::get(big))
        .route("/big-declared", axum::routing::get(big_declared))
        .route("/slow", axum::routing::get(slow))
        .route("/stalled-body", axum::routing::get(stalled_body))
        .route("/redirect", axum::routing::get(redirect))
        .route("/hops", axum::routing::get(hops))
        .layer(axum::middleware::from_fn_with_state(
            hits.clone(),
            |State(hits): State<Hits>,
             req: axum::extract::Request,
             next: axum::middleware::Next| async move {
                hits.0.fetch_add(1, Ordering::SeqCst);
                next.run(req).await
            },
        ));
    (serve(app).await, hits)
}

/// A listener that must never be connected to: it counts the TCP connections it accepts.
async fn tripwire(ip: &str) -> (SocketAddr, Hits) {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Hits::default();
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.0.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (addr, accepted)
}

// ---- a DNS lookup under the test's control ---------------------------------------------------

/// Maps names to fixed addresses; counts lookups. A name it does not know fails to resolve.
#[derive(Default)]
struct TestDns {
    names: HashMap<&'static str, Vec<IpAddr>>,
    /// Answers for `rebind.test`, one per lookup (the last one repeats).
    rebind: Vec<IpAddr>,
    lookups: AtomicUsize,
}

impl Lookup for TestDns {
    fn lookup<'a>(&'a self, host: &'a str) -> LookupFuture<'a> {
        let n = self.lookups.fetch_add(1, Ordering::SeqCst);
        let answer = if host == "rebind.test" {
            Ok(vec![self.rebind[n.min(self.rebind.len() - 1)]])
        } else {
            self.names.get(host).cloned().ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such test name")
            })
        };
        Box::pin(async move { answer })
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A client allowed to reach exactly 127.0.0.1 on `port`, over plain HTTP.
fn fixture_client(port: u16) -> OutboundClientBuilder {
    OutboundClient::builder()
        .allow_http()
        .allow_ports([port])
        .allow_internal([LOCALHOST])
}

fn refused_address(error: &OutboundError) -> (IpAddr, Blocked) {
    match error {
        OutboundError::Refused(Refusal::Address(ip, blocked)) => (*ip, *blocked),
        other => panic!("expected an address refusal, got {other:?}"),
    }
}

fn loopback() -> Blocked {
    Blocked {
        range: Range::Loopback,
        embedded: None,
    }
}

#[derive(Debug, Deserialize, garde::Validate)]
struct Widget {
    #[garde(length(min = 1, max = 50))]
    name: String,
    #[garde(range(max = 100))]
    count: u32,
}

// ---- tests -----------------------------------------------------------------------------------

#[tokio::test]
async fn an_explicitly_allowed_fixture_is_fetched_and_validated() {
    let (addr, hits) = upstream().await;
    let client = fixture_client(addr.port()).build().unwrap();
    let widget: Widget = client
        .get_json(&format!("http://{addr}/json"))
        .await
        .unwrap();
    assert_eq!((widget.name.as_str(), widget.count), ("widget", 3));
    let fetched = client.get(&format!("http://{addr}/html")).await.unwrap();
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.content_type.as_deref(), Some("text/html"));
    assert_eq!(hits.get(), 2);
}

#[tokio::test]
async fn loopback_is_refused_unless_allowed_without_connecting() {
    let (addr, hits) = upstream().await;
    let url = format!("http://{addr}/json");
    // Defaults: https only.
    let default = OutboundClient::builder().build().unwrap();
    assert_eq!(
        default.get(&url).await.unwrap_err(),
        OutboundError::Refused(Refusal::Scheme)
    );
    // http and the port allowed, but not the address.
    let no_internal = OutboundClient::builder()
        .allow_http()
        .allow_ports([addr.port()])
        .build()
        .unwrap();
    let error = no_internal.get(&url).await.unwrap_err();
    assert_eq!(refused_address(&error), (LOCALHOST, loopback()));
    // [::1] and the numeric spellings of 127.0.0.1 are the same refusal.
    for trick in [
        format!("http://2130706433:{}/json", addr.port()),
        format!("http://0x7f000001:{}/json", addr.port()),
        format!("http://127.1:{}/json", addr.port()),
        format!("http://0177.0.0.1:{}/json", addr.port()),
        format!("http://[::ffff:127.0.0.1]:{}/json", addr.port()),
    ] {
        let error = no_internal.get(&trick).await.unwrap_err();
        let (_, blocked) = refused_address(&error);
        assert_eq!(blocked.range, Range::Loopback, "{trick}");
    }
    // The allowance is for 127.0.0.1 only: its IPv4-mapped form stays refused.
    let allowed = fixture_client(addr.port()).build().unwrap();
    let error = allowed
        .get(&format!("http://[::ffff:127.0.0.1]:{}/json", addr.port()))
        .await
        .unwrap_err();
    assert_eq!(
        refused_address(&error).1,
        Blocked {
            range: Range::Loopback,
            embedded: Some(Embedding::Ipv4Mapped)
        }
    );
    assert_eq!(hits.get(), 0, "nothing reached the fixture");
}

#[tokio::test]
async fn metadata_and_private_addresses_are_refused_before_connecting() {
    let (addr, hits) = upstream().await;
    let dns = Arc::new(TestDns {
        names: HashMap::from([
            ("metadata.test", vec![ip("169.254.169.254")]),
            ("private.test", vec![ip("10.0.0.5")]),
            ("ula.test", vec![ip("fd00::1")]),
            ("nat64.test", vec![ip("64:ff9b::a9fe:a9fe")]),
            // An allowed fixture first, the metadata address second: refused as a whole. Were
            // the guard to let it through, the connector would reach the fixture (counted).
            ("mixed.test", vec![LOCALHOST, ip("169.254.169.254")]),
            ("public.test", vec![ip("8.8.8.8")]),
        ]),
        ..TestDns::default()
    });
    let client = fixture_client(addr.port())
        .lookup(dns.clone())
        .build()
        .unwrap();

    // The resolver the connector uses, asked directly: no request at all.
    let refused = |host: &'static str| {
        let client = client.clone();
        async move { client.resolver().vetted(host).await.unwrap_err() }
    };
    assert_eq!(
        refused_address(&refused("metadata.test").await).1.range,
        Range::LinkLocal
    );
    assert_eq!(
        refused_address(&refused("private.test").await).1.range,
        Range::Private
    );
    assert_eq!(
        refused_address(&refused("ula.test").await).1.range,
        Range::UniqueLocal
    );
    assert_eq!(
        refused_address(&refused("nat64.test").await).1,
        Blocked {
            range: Range::LinkLocal,
            embedded: Some(Embedding::Nat64)
        }
    );
    assert_eq!(refused("unknown.test").await, OutboundError::Dns);
    assert_eq!(
        client.resolver().vetted("public.test").await.unwrap(),
        vec![ip("8.8.8.8")],
        "public answers pass (only vetted, never connected here)"
    );

    // Through the client: the mixed answer is refused, and the fixture saw nothing.
    let error = client
        .get(&format!("http://mixed.test:{}/json", addr.port()))
        .await
        .unwrap_err();
    assert_eq!(refused_address(&error).1.range, Range::LinkLocal);
    assert_eq!(hits.get(), 0);

    // IP literals of metadata and private addresses: refused by the URL check, which needs
    // no lookup and no connection (the same check `get` runs first).
    for (url, range) in [
        ("http://169.254.169.254/latest/meta-data/", Range::LinkLocal),
        ("http://0xa9fea9fe/latest/meta-data/", Range::LinkLocal),
        (
            "http://[fd00:ec2::254]/latest/meta-data/",
            Range::UniqueLocal,
        ),
        ("http://[fe80::1]/", Range::LinkLocal),
        ("http://192.168.0.1/", Range::Private),
        ("http://100.100.100.200/", Range::SharedAddressSpace),
        ("http://[::ffff:a9fe:a9fe]/", Range::LinkLocal),
        ("http://[2002:a9fe:a9fe::1]/", Range::LinkLocal),
    ] {
        let client = OutboundClient::builder()
            .allow_http()
            .allow_ports([80])
            .build()
            .unwrap();
        let error = client.check_url(url).unwrap_err();
        assert_eq!(refused_address(&error).1.range, range, "{url}");
    }
}

#[tokio::test]
async fn a_redirect_to_a_loopback_address_that_is_not_allowed_is_refused() {
    let (addr, hits) = upstream().await;
    // 127.0.0.2 on a port the client allows: the address is what refuses it.
    let (trip, accepted) = tripwire("127.0.0.2").await;
    let client = OutboundClient::builder()
        .allow_http()
        .allow_ports([addr.port(), trip.port()])
        .allow_internal([LOCALHOST])
        .build()
        .unwrap();
    let error = client
        .get(&format!("http://{addr}/redirect?to=http://{trip}/json"))
        .await
        .unwrap_err();
    assert_eq!(refused_address(&error), (trip.ip(), loopback()));
    assert_eq!(hits.get(), 1, "the allowed hop was made");
    assert_eq!(accepted.get(), 0, "the refused hop was never connected");
}

#[tokio::test]
async fn a_redirect_to_another_port_of_the_allowed_address_is_refused() {
    let (addr, hits) = upstream().await;
    let (trip, accepted) = tripwire("127.0.0.1").await;
    let client = fixture_client(addr.port()).build().unwrap();
    let error = client
        .get(&format!("http://{addr}/redirect?to=http://{trip}/json"))
        .await
        .unwrap_err();
    assert_eq!(error, OutboundError::Refused(Refusal::Port(trip.port())));
    assert_eq!((hits.get(), accepted.get()), (1, 0));
}

#[tokio::test]
async fn a_redirect_to_a_name_resolving_inside_is_refused_at_resolution() {
    let (addr, hits) = upstream().await;
    let (trip, accepted) = tripwire("127.0.0.2").await;
    let dns = Arc::new(TestDns {
        names: HashMap::from([("internal.test", vec![trip.ip()])]),
        ..TestDns::default()
    });
    let client = OutboundClient::builder()
        .allow_http()
        .allow_ports([addr.port(), trip.port()])
        .allow_internal([LOCALHOST])
        .lookup(dns.clone())
        .build()
        .unwrap();
    let error = client
        .get(&format!(
            "http://{addr}/redirect?to=http://internal.test:{}/json",
            trip.port()
        ))
        .await
        .unwrap_err();
    assert_eq!(refused_address(&error), (trip.ip(), loopback()));
    assert_eq!(dns.lookups.load(Ordering::SeqCst), 1);
    assert_eq!((hits.get(), accepted.get()), (1, 0));
}

/// The upstream's routes over HTTPS, with a certificate for 127.0.0.1 from a fresh test CA.
async fn tls_upstream() -> (SocketAddr, String, Hits) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
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
    let hits = Hits::default();
    let counter = hits.clone();
    let app = axum::Router::new()
        .route(
            "/json",
            axum::routing::get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    r#"{"name":"secure","count":1}"#,
                )
            }),
        )
        .route(
            "/redirect",
            axum::routing::get(|Query(q): Query<To>| async move { Redirect::temporary(&q.to) }),
        )
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                counter.0.fetch_add(1, Ordering::SeqCst);
                next.run(req)
            },
        ));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum_server::from_tcp_rustls(listener, tls)
            .serve(app.into_make_service())
            .await
            .unwrap()
    });
    (addr, ca.pem(), hits)
}

#[tokio::test]
async fn https_by_default_and_no_downgrade_on_redirect() {
    let (addr, ca_pem, hits) = tls_upstream().await;
    let (plain, plain_hits) = upstream().await;
    let client = OutboundClient::builder()
        .allow_ports([addr.port(), plain.port()])
        .allow_internal([LOCALHOST])
        .root_certificate_pem(ca_pem.as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let widget: Widget = client
        .get_json(&format!("https://{addr}/json"))
        .await
        .unwrap();
    assert_eq!(widget.name, "secure");
    // https -> http: refused before the plain fixture is reached.
    let error = client
        .get(&format!("https://{addr}/redirect?to=http://{plain}/json"))
        .await
        .unwrap_err();
    assert_eq!(error, OutboundError::Refused(Refusal::Scheme));
    assert_eq!((hits.get(), plain_hits.get()), (2, 0));
}

#[tokio::test]
async fn redirects_with_userinfo_or_to_other_schemes_are_not_followed() {
    let (addr, hits) = upstream().await;
    let client = fixture_client(addr.port()).build().unwrap();
    let error = client
        .get(&format!(
            "http://{addr}/redirect?to=http://user:pw@{addr}/json"
        ))
        .await
        .unwrap_err();
    assert_eq!(error, OutboundError::Refused(Refusal::Userinfo));
    assert_eq!(hits.get(), 1, "only the first hop");
    // Other schemes: refused by the guard's redirect check.
    for to in [
        "gopher://127.0.0.1:70/_x",
        "ftp://127.0.0.1/x",
        "dict://127.0.0.1:11211/x",
    ] {
        let error = client
            .get(&format!("http://{addr}/redirect?to={to}"))
            .await
            .unwrap_err();
        assert_eq!(error, OutboundError::Refused(Refusal::Scheme), "{to}");
    }
    // A `file:` location (no authority) is never attempted by reqwest's redirect layer: the
    // 3xx itself is the answer, an error to the caller, its body unread.
    let error = client
        .get(&format!("http://{addr}/redirect?to=file:///etc/passwd"))
        .await
        .unwrap_err();
    assert_eq!(error, OutboundError::Status(StatusCode::TEMPORARY_REDIRECT));
    assert_eq!(hits.get(), 5);
    // And a plain-http URL from an https-only client is refused outright.
    let https_only = OutboundClient::builder()
        .allow_ports([addr.port()])
        .allow_internal([LOCALHOST])
        .build()
        .unwrap();
    assert_eq!(
        https_only
            .get(&format!("http://{addr}/json"))
            .await
            .unwrap_err(),
        OutboundError::Refused(Refusal::Scheme)
    );
    assert_eq!(hits.get(), 5);
}

#[tokio::test]
async fn redirects_are_limited_in_number() {
    let (addr, hits) = upstream().await;
    let client = fixture_client(addr.port())
        .max_redirects(3)
        .build()
        .unwrap();
    let widget: Widget = client
        .get_json(&format!("http://{addr}/hops?n=3"))
        .await
        .unwrap();
    assert_eq!(widget.name, "widget");
    assert_eq!(hits.get(), 4);
    assert_eq!(
        client
            .get(&format!("http://{addr}/hops?n=4"))
            .await
            .unwrap_err(),
        OutboundError::Refused(Refusal::TooManyRedirects(3))
    );
    assert_eq!(hits.get(), 8, "the fourth redirect was not followed");
    let none = fixture_client(addr.port())
        .max_redirects(0)
        .build()
        .unwrap();
    assert_eq!(
        none.get(&format!("http://{addr}/hops?n=1"))
            .await
            .unwrap_err(),
        OutboundError::Refused(Refusal::TooManyRedirects(0))
    );
}

#[tokio::test]
async fn userinfo_is_refused() {
    let (addr, hits) = upstream().await;
    let client = fixture_client(addr.port()).build().unwrap();
    for url in [
        format!("http://user:secret@{addr}/json"),
        format!("http://user@{addr}/json"),
        format!("http://:secret@{addr}/json"),
    ] {
        assert_eq!(
            client.get(&url).await.unwrap_err(),
            OutboundError::Refused(Refusal::Userinfo),
            "{url}"
        );
    }
    assert_eq!(hits.get(), 0);
}

#[tokio::test]
async fn one_lookup_per_connection_so_a_rebinding_name_cannot_slip_through() {
    let (addr, hits) = upstream().await;
    let (trip, accepted) = tripwire("127.0.0.2").await;
    // First answer: the allowed fixture. Every later answer: a loopback address that is not
    // allowed (its tripwire counts connections).
    let dns = Arc::new(TestDns {
        rebind: vec![LOCALHOST, trip.ip()],
        ..TestDns::default()
    });
    let client = fixture_client(addr.port())
        .lookup(dns.clone())
        .build()
        .unwrap();
    let widget: Widget = client
        .get_json(&format!("http://rebind.test:{}/json", addr.port()))
        .await
        .unwrap();
    assert_eq!(widget.count, 3);
    assert_eq!(
        dns.lookups.load(Ordering::SeqCst),
        1,
        "the name was looked up once, and the connection went to that answer"
    );
    // A fresh client (no pooled connection): its lookup now answers 127.0.0.2, refused.
    let fresh = fixture_client(addr.port())
        .lookup(dns.clone())
        .build()
        .unwrap();
    let error = fresh
        .get(&format!("http://rebind.test:{}/json", addr.port()))
        .await
        .unwrap_err();
    assert_eq!(refused_address(&error), (trip.ip(), loopback()));
    assert_eq!((hits.get(), accepted.get()), (1, 0));
}

#[tokio::test]
async fn the_size_cap_is_enforced_while_streaming() {
    let (addr, _) = upstream().await;
    let client = fixture_client(addr.port())
        .max_response_bytes(64 * 1024)
        .build()
        .unwrap();
    for path in ["/big", "/big-declared"] {
        assert_eq!(
            client
                .get(&format!("http://{addr}{path}"))
                .await
                .unwrap_err(),
            OutboundError::TooLarge(64 * 1024),
            "{path}"
        );
    }
    let roomy = fixture_client(addr.port())
        .max_response_bytes(4 * 1024 * 1024)
        .build()
        .unwrap();
    let fetched = roomy.get(&format!("http://{addr}/big")).await.unwrap();
    assert_eq!(fetched.body.len(), 2 * 1024 * 1024);
}

#[tokio::test]
async fn slow_upstreams_time_out() {
    let (addr, _) = upstream().await;
    let client = fixture_client(addr.port())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    for path in ["/slow", "/stalled-body"] {
        let started = Instant::now();
        assert_eq!(
            client
                .get(&format!("http://{addr}{path}"))
                .await
                .unwrap_err(),
            OutboundError::Timeout,
            "{path}"
        );
        assert!(started.elapsed() < Duration::from_secs(3), "{path}");
    }
}

#[tokio::test]
async fn upstream_json_is_typed_validated_and_never_echoed() {
    let (addr, _) = upstream().await;
    let client = fixture_client(addr.port()).build().unwrap();
    let get = |path: &str| {
        let (client, url) = (client.clone(), format!("http://{addr}{path}"));
        async move { client.get_json::<Widget>(&url).await }
    };
    assert_eq!(
        get("/invalid").await.unwrap_err(),
        OutboundError::Invalid(vec!["name".into()])
    );
    assert_eq!(
        get("/wrong-shape").await.unwrap_err(),
        OutboundError::Decode
    );
    assert_eq!(get("/html").await.unwrap_err(), OutboundError::ContentType);
    let error = get("/failing").await.unwrap_err();
    assert_eq!(
        error,
        OutboundError::Status(StatusCode::INTERNAL_SERVER_ERROR)
    );
    let shown = format!("{error} {error:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("10.0.0.5"),
        "{shown}"
    );
}

// ---- an endpoint that consumes an upstream ----------------------------------------------------

#[derive(Clone)]
struct Upstream {
    client: OutboundClient,
    base: String,
}

#[derive(Deserialize)]
struct Which {
    path: String,
}

#[derive(Serialize, SafeResponse)]
struct WidgetView {
    name: String,
}

#[secure_endpoint(auth = "none")]
async fn show_widget(
    State(up): State<Upstream>,
    Query(which): Query<Which>,
) -> Result<Json<WidgetView>, Problem> {
    let widget: Widget = up
        .client
        .get_json(&format!("{}{}", up.base, which.path))
        .await?;
    Ok(Json(WidgetView { name: widget.name }))
}

#[tokio::test]
async fn an_upstream_failure_is_a_502_or_504_problem_with_nothing_from_upstream() {
    let (addr, _) = upstream().await;
    let (trip, accepted) = tripwire("127.0.0.2").await;
    let client = fixture_client(addr.port())
        .allow_ports([addr.port(), trip.port()])
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let state = Upstream {
        client,
        base: format!("http://{addr}"),
    };
    let app = SecureRouter::new(Security::builder().allow_plain_http().build())
        .route("/widget", get(show_widget))
        .with_state(state);
    let served = serve(app).await;
    let http = client_from(None);
    let ok = http
        .get(format!("http://{served}/widget?path=/json"))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(ok, StatusCode::OK).await["name"], "widget");

    let refused = format!("/redirect?to=http://{trip}/");
    for (path, status, code) in [
        ("/failing", StatusCode::BAD_GATEWAY, "upstream_error"),
        ("/invalid", StatusCode::BAD_GATEWAY, "upstream_error"),
        ("/big-declared", StatusCode::BAD_GATEWAY, "upstream_error"),
        ("/slow", StatusCode::GATEWAY_TIMEOUT, "upstream_timeout"),
        (&refused, StatusCode::BAD_GATEWAY, "upstream_error"),
    ] {
        let res = http
            .get(format!("http://{served}/widget"))
            .query(&[("path", path)])
            .send()
            .await
            .unwrap();
        assert!(res.headers().get("x-upstream-secret").is_none());
        let problem = expect_problem(res, status, &["hunter2", "10.0.0.5", "127.0.0.2"]).await;
        assert_eq!(problem.body["code"], code, "{path}");
    }
    assert_eq!(accepted.get(), 0);
}

#[tokio::test]
async fn json_media_type_with_parameters_and_suffix_is_json() {
    async fn jwk_set() -> Response {
        let mut res = r#"{"name":"k","count":1}"#.into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/jwk-set+json; charset=utf-8"),
        );
        res
    }
    let addr = serve(axum::Router::new().route("/", axum::routing::get(jwk_set))).await;
    let client = fixture_client(addr.port()).build().unwrap();
    let w: Widget = client.get_json(&format!("http://{addr}/")).await.unwrap();
    assert_eq!(w.name, "k");
}
