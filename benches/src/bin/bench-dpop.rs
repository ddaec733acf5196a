//! `bench-dpop <es256|eddsa|bearer> <verify|prepare> [n]`: `n` GET requests in-process through
//! the secured router (`tower::ServiceExt::oneshot`, as `bench-profile` sends them), each with
//! a DPoP-bound token and a fresh proof (`auth = "dpop"`, ES256 or EdDSA), or with a plain
//! bearer token (`auth = "jwt"`). `prepare` builds (and for DPoP signs) the same requests
//! without sending them, so that under `valgrind --tool=callgrind` the difference of the two
//! is the cost of serving them; DPoP's minus bearer's is the per-request cost of DPoP
//! verification (BENCHMARKS.md). The token is the same on every request (verified once, then
//! served from the verifier's cache, as for a client that reuses its token).

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::Path;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use secure_endpoint::dpop::{DpopKey, DpopVerifier, ProofRequest};
use secure_endpoint::jwt::JwtIssuer;
use secure_endpoint::policy::RateSpec;
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, SecureRouter, Security};
use secure_endpoint_bench::{AUDIENCE, ISSUER, SECRET, SUBJECT};
use tower::ServiceExt;

/// A P-256 key generated for this benchmark (not a secret of anything).
const BENCH_ES256_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgJvtnDt8EdKI/bmcl\npMxCN+r2z4sw9Y07t3GF+FXAQ2ehRANCAATqi/kfyqk8/t3pbar9kjInPleDb/Hx\nGyTzkbLUATw+2TCTD30kKBTtMkJ/o4GFLrmeUTxqeb/QQVK02ECgnYHd\n-----END PRIVATE KEY-----\n";

#[secure_endpoint(auth = "dpop", owner = "user_id", rate = "1000000000/1s")]
async fn dpop_show(Path(user_id): Path<String>) -> String {
    user_id
}

#[secure_endpoint(auth = "jwt", owner = "user_id", rate = "1000000000/1s")]
async fn bearer_show(Path(user_id): Path<String>) -> String {
    user_id
}

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "es256".into());
    let send = args.next().as_deref() != Some("prepare");
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(4_000);
    let security = Security::builder()
        .allow_plain_http()
        .jwt(secure_endpoint_bench::verifier())
        .dpop(DpopVerifier::new())
        .ip_rate(Some(RateSpec::new(1_000_000_000, Duration::from_secs(1))))
        .build();
    let app = SecureRouter::new(security)
        .route("/dpop/users/{user_id}", get(dpop_show))
        .route("/bearer/users/{user_id}", get(bearer_show))
        .into_router()
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let key = match kind.as_str() {
        "eddsa" => Some(DpopKey::ed25519_seed(&[7; 32])),
        "bearer" => None,
        _ => Some(DpopKey::es256_pkcs8_pem(BENCH_ES256_PEM).unwrap()),
    };
    let issuer = JwtIssuer::hs256(SECRET, ISSUER, AUDIENCE, Duration::from_secs(86_400)).unwrap();
    let roles = ["user".to_owned()];
    let token = match &key {
        Some(key) => issuer.issue_bound(SUBJECT, &roles, &[], key.thumbprint()),
        None => issuer.issue(SUBJECT, &roles, &[]),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        for _ in 0..n {
            let req = match &key {
                Some(key) => {
                    let proof = key.proof(ProofRequest {
                        method: "GET",
                        uri: "http://bench.example/dpop/users/alice",
                        access_token: Some(&token),
                        nonce: None,
                    });
                    Request::get("/dpop/users/alice")
                        .header(header::HOST, "bench.example")
                        .header(header::AUTHORIZATION, format!("DPoP {token}"))
                        .header("dpop", proof)
                }
                None => Request::get("/bearer/users/alice")
                    .header(header::HOST, "bench.example")
                    .header(header::AUTHORIZATION, format!("Bearer {token}")),
            }
            .body(Body::empty())
            .unwrap();
            if !send {
                std::hint::black_box(req);
                continue;
            }
            let res = app.clone().oneshot(req).await.unwrap();
            assert!(res.status().is_success(), "{}", res.status());
            std::hint::black_box(res.into_body().collect().await.unwrap());
        }
    });
}
