//! The upstream fixtures of the outbound tests (`outbound.rs`, `outbound_consume.rs`): an HTTP
//! upstream on 127.0.0.1:0, the same over TLS, "tripwire" listeners that count every TCP
//! connection they accept (they must count none), and a DNS lookup under the test's control.

// Each test binary uses a different subset.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Redirect, Response};
use secure_endpoint::outbound::{
    Blocked, Lookup, LookupFuture, OutboundClient, OutboundClientBuilder, OutboundError, Range,
    Refusal,
};
use serde::Deserialize;

use crate::common::serve;

pub(crate) const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

// ---- the upstream fixture --------------------------------------------------------------------

#[derive(Clone, Default)]
pub(crate) struct Hits(pub(crate) Arc<AtomicUsize>);

impl Hits {
    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Deserialize)]
pub(crate) struct To {
    pub(crate) to: String,
}

#[derive(Deserialize)]
pub(crate) struct Hops {
    pub(crate) n: u32,
}

/// An upstream on 127.0.0.1:0 (plain HTTP) counting the requests it answers.
pub(crate) async fn upstream() -> (SocketAddr, Hits) {
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
pub(crate) async fn tripwire(ip: &str) -> (SocketAddr, Hits) {
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
pub(crate) struct TestDns {
    pub(crate) names: HashMap<&'static str, Vec<IpAddr>>,
    /// Answers for `rebind.test`, one per lookup (the last one repeats).
    pub(crate) rebind: Vec<IpAddr>,
    pub(crate) lookups: AtomicUsize,
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

pub(crate) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A client allowed to reach exactly 127.0.0.1 on `port`, over plain HTTP.
pub(crate) fn fixture_client(port: u16) -> OutboundClientBuilder {
    OutboundClient::builder()
        .allow_http()
        .allow_ports([port])
        .allow_internal([LOCALHOST])
}

pub(crate) fn refused_address(error: &OutboundError) -> (IpAddr, Blocked) {
    match error {
        OutboundError::Refused(Refusal::Address(ip, blocked)) => (*ip, *blocked),
        other => panic!("expected an address refusal, got {other:?}"),
    }
}

pub(crate) fn loopback() -> Blocked {
    Blocked {
        range: Range::Loopback,
        embedded: None,
    }
}

#[derive(Debug, Deserialize, garde::Validate)]
pub(crate) struct Widget {
    #[garde(length(min = 1, max = 50))]
    pub(crate) name: String,
    #[garde(range(max = 100))]
    pub(crate) count: u32,
}

/// The upstream's routes over HTTPS, with a certificate for 127.0.0.1 from a fresh test CA.
pub(crate) async fn tls_upstream() -> (SocketAddr, String, Hits) {
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
