//! Consuming an upstream safely (OWASP API10) through the outbound client, on loopback only:
//! the size cap while streaming, timeouts, typed and validated JSON, and an upstream failure
//! answered as a 502/504 problem that carries nothing from upstream.

mod common;
mod outbound_fixture;

use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use common::*;
use outbound_fixture::*;
use reqwest::StatusCode;
use secure_endpoint::outbound::{OutboundClient, OutboundError};
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Json, Problem, SafeResponse, SecureRouter, Security};
use serde::{Deserialize, Serialize};

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

#[tokio::test]
async fn a_connection_that_is_never_accepted_times_out() {
    // A listener whose accept queue is full and never drained: the kernel drops further SYNs,
    // so a new connection hangs in the handshake.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    for _ in 0..8 {
        match tokio::time::timeout(
            Duration::from_millis(100),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(stream)) => held.push(stream),
            _ => break, // the queue is full
        }
    }
    let client = fixture_client(addr.port())
        .connect_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client
        .get(&format!("http://{addr}/json"))
        .await
        .unwrap_err();
    assert_eq!(error, OutboundError::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the connect timeout, not the total one: {:?}",
        started.elapsed()
    );
    drop((held, listener));
}
