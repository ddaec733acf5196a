//! In-process tests (issue 16 §12): `tower::ServiceExt::oneshot` on a secured router, through
//! `secure_endpoint::in_process`, and the annotated function called as a function (§2).

mod common;

use axum::body::Body;
use axum::extract::Path;
use common::*;
use http::{Request, StatusCode};
use secure_endpoint::routing::get;
use secure_endpoint::{
    in_process, in_process_from, secure_endpoint, Principal, SecureRouter, Security,
};
use tower::ServiceExt;

#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn profile(Path(user_id): Path<String>) -> String {
    format!("profile {user_id}")
}

/// Reuses `profile` as a function.
#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn me(principal: Principal) -> String {
    profile::handler(Path(principal.subject().to_owned())).await
}

#[secure_endpoint(auth = "none", rate = "2/m")]
async fn health() -> &'static str {
    "ok"
}

/// HTTPS required (the default), unlike the common test app.
fn app() -> axum::Router {
    SecureRouter::new(Security::builder().jwt(verifier()).build())
        .route("/users/{user_id}", get(profile))
        .route("/me", get(me))
        .route("/health", get(health))
        .into_router()
}

fn request(path: &str, token: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.body(Body::empty()).unwrap()
}

async fn text(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn oneshot_without_the_helper_has_no_peer_and_no_tls() {
    // What a test got before: no peer address (500), then, with one, no TLS (403).
    let response = app().oneshot(request("/health", None)).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let with_peer = app().layer(axum::extract::connect_info::MockConnectInfo(
        std::net::SocketAddr::from(([127, 0, 0, 1], 1)),
    ));
    let response = with_peer.oneshot(request("/health", None)).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn oneshot_through_in_process_is_enforced_like_a_served_request() {
    let app = in_process(app());
    let response = app.clone().oneshot(request("/health", None)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(text(response).await, "ok");
    // Still under contract: no token 401, another's profile 404, one's own 200.
    let path = format!("/users/{ALICE}");
    let response = app.clone().oneshot(request(&path, None)).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = app
        .clone()
        .oneshot(request(&path, Some(&bob())))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app
        .clone()
        .oneshot(request(&path, Some(&alice())))
        .await
        .unwrap();
    assert_eq!(text(response).await, format!("profile {ALICE}"));
    let response = app.oneshot(request("/me", Some(&bob()))).await.unwrap();
    assert_eq!(text(response).await, format!("profile {BOB}"));
}

#[tokio::test]
async fn the_supplied_client_address_keys_the_per_ip_limits() {
    // `health` allows 2 a minute per client IP: a third from one address is refused, the
    // first from another is not.
    let base = app();
    let one = in_process_from(base.clone(), "127.0.0.2:5000".parse().unwrap());
    let other = in_process_from(base, "127.0.0.3:5000".parse().unwrap());
    for _ in 0..2 {
        let response = one.clone().oneshot(request("/health", None)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let response = one.oneshot(request("/health", None)).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let response = other.oneshot(request("/health", None)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_annotated_function_is_awaited_directly() {
    // No router, no request: the function as written.
    assert_eq!(health::handler().await, "ok");
    assert_eq!(profile::handler(Path("x".to_owned())).await, "profile x");
}
