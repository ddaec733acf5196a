//! In-process benchmarks: whole requests through each router with `tower::ServiceExt::oneshot`,
//! and one micro-benchmark per primitive of the policy path. Run: `cargo bench -p secure-endpoint-bench`.
#![allow(missing_docs)] // criterion_group! generates undocumented fns

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use http_body_util::BodyExt;
use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::layer::SecurityLayer;
use secure_endpoint::policy::RateSpec;
use secure_endpoint::rate::{RateKey, RateLimiter};
use secure_endpoint::Problem;
use secure_endpoint_bench::{
    bare, secured, token, tower_stack, AUDIENCE, ISSUER, NOTE_BODY, SECRET,
};
use tower::{Layer, ServiceExt};

/// Each router as served in-process: every one gets the peer address the way a server with
/// connect info would give it (the secure router refuses requests without one).
fn apps() -> [(&'static str, Router); 3] {
    let peer = MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000)));
    [
        ("a_bare", bare().layer(peer)),
        ("b_secured", secured().layer(peer)),
        ("c_tower", tower_stack().layer(peer)),
    ]
}

fn requests(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let bearer = format!("Bearer {}", token());
    let mut group = c.benchmark_group("request");
    group.measurement_time(Duration::from_secs(4));
    for (name, app) in apps() {
        group.bench_function(BenchmarkId::new("GET", name), |b| {
            b.to_async(&rt).iter(|| {
                let req = Request::get("/users/alice")
                    .header(header::AUTHORIZATION, &bearer)
                    .body(Body::empty())
                    .unwrap();
                let app = app.clone();
                async move {
                    let res = app.oneshot(req).await.unwrap();
                    assert_eq!(res.status(), StatusCode::OK);
                    black_box(res.into_body().collect().await.unwrap().to_bytes())
                }
            })
        });
        group.bench_function(BenchmarkId::new("POST", name), |b| {
            b.to_async(&rt).iter(|| {
                let req = Request::post("/users/alice/notes")
                    .header(header::AUTHORIZATION, &bearer)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(NOTE_BODY))
                    .unwrap();
                let app = app.clone();
                async move {
                    let res = app.oneshot(req).await.unwrap();
                    assert_eq!(res.status(), StatusCode::CREATED);
                    black_box(res.into_body().collect().await.unwrap().to_bytes())
                }
            })
        });
    }
    group.finish();
}

fn primitives(c: &mut Criterion) {
    let mut group = c.benchmark_group("primitive");
    group.measurement_time(Duration::from_secs(3));

    let verifier = secure_endpoint_bench::verifier();
    let tok = token();
    group.bench_function("jwt_verify_hs256_cached", |b| {
        b.iter(|| verifier.verify(black_box(&tok)).unwrap())
    });
    let cold = JwtVerifier::hs256(SECRET)
        .unwrap()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .token_cache(0)
        .build()
        .unwrap();
    group.bench_function("jwt_verify_hs256_cold", |b| {
        b.iter(|| cold.verify(black_box(&tok)).unwrap())
    });

    let limiter = RateLimiter::new(
        "bench",
        RateSpec::new(1_000_000_000, Duration::from_secs(1)),
    );
    group.bench_function("rate_decision_hot_key", |b| {
        b.iter(|| {
            limiter
                .check_local(black_box(&RateKey::Principal(1)))
                .unwrap()
        })
    });
    let mut i = 0u64;
    group.bench_function("rate_decision_100k_keys", |b| {
        b.iter(|| {
            i = (i + 1) % 100_000;
            limiter
                .check_local(black_box(&RateKey::Principal(i)))
                .unwrap()
        })
    });

    group.bench_function("allowlist_check", |b| {
        b.iter(|| {
            secure_endpoint::request_body::check_fields(
                black_box(NOTE_BODY.as_bytes()),
                &["title", "body"],
            )
            .unwrap()
        })
    });

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let svc = SecurityLayer.layer(tower::service_fn(|_req: Request<Body>| async {
        Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
    }));
    group.bench_function("security_layer_headers_and_request_id", |b| {
        b.to_async(&rt).iter(|| {
            let svc = svc.clone();
            async move { black_box(svc.oneshot(Request::new(Body::empty())).await.unwrap()) }
        })
    });

    group.bench_function("problem_render", |b| {
        b.iter(|| black_box(Problem::new(StatusCode::TOO_MANY_REQUESTS).into_response()))
    });
    group.finish();
}

criterion_group!(benches, requests, primitives);
criterion_main!(benches);
