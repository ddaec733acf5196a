//! `bench-profile <bare|headers|secured|watched|tower> <get|post|nested> [n]`: sends `n` requests
//! in-process, for profiling one path under `valgrind --tool=callgrind` or `perf record`.
//! `nested` (secured router only) posts the note in an envelope under a nested allowlist.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use tower::ServiceExt;

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "secured".into());
    let method = args.next().unwrap_or_else(|| "get".into());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let app = match kind.as_str() {
        "bare" => secure_endpoint_bench::bare(),
        "headers" => secure_endpoint_bench::bare_with_headers(),
        "tower" => secure_endpoint_bench::tower_stack(),
        "watched" => secure_endpoint_bench::secured_watched(),
        _ => secure_endpoint_bench::secured(),
    }
    // The peer address, as a server with connect info gives it (required by the secure router).
    .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let bearer = format!("Bearer {}", secure_endpoint_bench::token());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        for _ in 0..n {
            let req = if method == "nested" {
                Request::post("/users/alice/envelopes")
                    .header(header::AUTHORIZATION, &bearer)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(secure_endpoint_bench::NESTED_NOTE_BODY))
            } else if method == "post" {
                Request::post("/users/alice/notes")
                    .header(header::AUTHORIZATION, &bearer)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(secure_endpoint_bench::NOTE_BODY))
            } else {
                Request::get("/users/alice")
                    .header(header::AUTHORIZATION, &bearer)
                    .body(Body::empty())
            }
            .unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            assert!(res.status().is_success(), "{}", res.status());
            std::hint::black_box(res.into_body().collect().await.unwrap());
        }
    });
}
