//! Credentials where real APIs put them, per verifier, over real HTTP on 127.0.0.1:
//! `Authorization: Token <jwt>` (RealWorld), a header of its own, a cookie (with the origin
//! check unsafe methods need), an API key under an `Authorization` scheme; and the
//! `WWW-Authenticate` challenge naming what was configured.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::*;
use reqwest::StatusCode;
use secure_endpoint::api_key::{InMemoryApiKeys, NewApiKey};
use secure_endpoint::credential::{CookieCredential, Credentials};
use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Principal, SecureRouter};

#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn me(principal: Principal) -> String {
    principal.subject().to_owned()
}

#[secure_endpoint(auth = optional("jwt"))]
async fn feed(principal: Option<Principal>) -> String {
    principal.map_or("anonymous".to_owned(), |p| p.subject().to_owned())
}

#[secure_endpoint(auth = "api_key", allow = "authenticated")]
async fn report(principal: Principal) -> String {
    principal.subject().to_owned()
}

fn jwt(credentials: Credentials) -> JwtVerifier {
    JwtVerifier::hs256(SECRET)
        .unwrap()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .credentials(credentials)
        .build()
        .unwrap()
}

async fn start(credentials: Credentials) -> SocketAddr {
    serve(
        SecureRouter::new(common::security().jwt(jwt(credentials)).build())
            .route("/me", get(me).post(me))
            .route("/feed", get(feed))
            .into(),
    )
    .await
}

/// The status, the body, and every `WWW-Authenticate` value.
async fn call(request: reqwest::RequestBuilder) -> (StatusCode, String, Vec<String>) {
    let res = request.send().await.unwrap();
    let challenges = res
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let status = res.status();
    if status.is_client_error() {
        // Every refusal is a problem with the security headers.
        expect_problem(res, status, &[]).await;
        return (status, String::new(), challenges);
    }
    (status, res.text().await.unwrap(), challenges)
}

#[tokio::test]
async fn the_token_scheme_of_realworld() {
    let addr = start(Credentials::authorization("Token")).await;
    let client = client_from(None);
    let url = format!("http://{addr}/me");
    let token = alice();
    let (status, body, _) = call(
        client
            .get(&url)
            .header("authorization", format!("Token {token}")),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ALICE));
    // The scheme is case-insensitive (RFC 9110 §11.1).
    let (status, _, _) = call(
        client
            .get(&url)
            .header("authorization", format!("token {token}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Bearer is not configured: a presented credential that is not accepted is a 401 naming
    // the scheme that is.
    let (status, _, challenges) = call(client.get(&url).bearer_auth(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenges, ["Token realm=\"api\", error=\"invalid_token\""]);
    let (status, _, challenges) = call(client.get(&url)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenges, ["Token realm=\"api\""]);
    // Optional authentication reads the same place: anonymous without, 401 for an invalid one.
    let feed_url = format!("http://{addr}/feed");
    assert_eq!(call(client.get(&feed_url)).await.1, "anonymous");
    let (status, body, _) = call(
        client
            .get(&feed_url)
            .header("authorization", format!("Token {token}")),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ALICE));
    let (status, _, challenges) = call(
        client
            .get(&feed_url)
            .header("authorization", "Token not.a.jwt"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenges, ["Token realm=\"api\", error=\"invalid_token\""]);
}

#[tokio::test]
async fn two_schemes_or_a_header_of_its_own() {
    let addr = start(
        Credentials::authorization("Token")
            .or_authorization("Bearer")
            .or_header("X-Auth-Token"),
    )
    .await;
    let client = client_from(None);
    let url = format!("http://{addr}/me");
    let token = bob();
    for request in [
        client
            .get(&url)
            .header("authorization", format!("Token {token}")),
        client.get(&url).bearer_auth(&token),
        client.get(&url).header("x-auth-token", &token),
    ] {
        let (status, body, _) = call(request).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, BOB));
    }
    // Two places at once: which one was checked would be a guess.
    let (status, _, _) = call(
        client
            .get(&url)
            .bearer_auth(&token)
            .header("x-auth-token", &token),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, challenges) = call(client.get(&url)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenges,
        [
            "Token realm=\"api\"",
            "Bearer realm=\"api\"",
            "Bearer realm=\"api\", header=\"X-Auth-Token\""
        ]
    );
}

#[tokio::test]
async fn a_cookie_with_the_origin_check_on_unsafe_methods() {
    let addr = start(Credentials::cookie(
        CookieCredential::new("__Host-session")
            .allow_origin("https://app.example")
            .csrf_header("X-Requested-With"),
    ))
    .await;
    let client = client_from(None);
    let url = format!("http://{addr}/me");
    let cookie = format!("theme=dark; __Host-session={}", carol_admin());
    let (status, body, _) = call(client.get(&url).header("cookie", &cookie)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, CAROL_ADMIN));
    // An unsafe method needs an allowed Origin or the custom header; a cross-site form post
    // has neither.
    let (status, _, challenges) = call(client.post(&url).header("cookie", &cookie)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenges,
        ["Bearer realm=\"api\", cookie=\"__Host-session\""]
    );
    for origin in [
        "https://evil.example",
        "null",
        "https://app.example.evil.example",
    ] {
        let (status, _, _) = call(
            client
                .post(&url)
                .header("cookie", &cookie)
                .header("origin", origin),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{origin}");
    }
    let (status, body, _) = call(
        client
            .post(&url)
            .header("cookie", &cookie)
            .header("origin", "https://app.example"),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, CAROL_ADMIN));
    let (status, _, _) = call(
        client
            .post(&url)
            .header("cookie", &cookie)
            .header("x-requested-with", "fetch"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A cookie named twice may have been planted by a sibling domain.
    let (status, _, _) = call(
        client
            .get(&url)
            .header("cookie", format!("{cookie}; __Host-session=other")),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_cookie_without_listed_origins_admits_this_servers_own() {
    let addr = start(Credentials::cookie(CookieCredential::new("sid"))).await;
    let client = client_from(None);
    let url = format!("http://{addr}/me");
    let cookie = format!("sid={}", alice());
    let (status, _, _) = call(
        client
            .post(&url)
            .header("cookie", &cookie)
            .header("origin", format!("https://{addr}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(
        client
            .post(&url)
            .header("cookie", &cookie)
            .header("origin", format!("http://{addr}")),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn api_keys_under_an_authorization_scheme() {
    let store = Arc::new(InMemoryApiKeys::new());
    let key = NewApiKey::generate("sk_live", "svc-reports", &[]);
    store.insert(key.record);
    let addr = serve(
        SecureRouter::new(
            common::security()
                .api_keys(store)
                .api_key_credentials(Credentials::authorization("ApiKey"))
                .build(),
        )
        .route("/report", get(report))
        .into(),
    )
    .await;
    let client = client_from(None);
    let url = format!("http://{addr}/report");
    let (status, body, _) = call(
        client
            .get(&url)
            .header("authorization", format!("ApiKey {}", key.key)),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "svc-reports"));
    // The default header is no longer read.
    let (status, _, challenges) = call(client.get(&url).header("x-api-key", &key.key)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenges, ["ApiKey realm=\"api\""]);
    // Still refused in the query string.
    let (status, _, _) = call(
        client
            .get(format!("{url}?api_key=x"))
            .header("authorization", format!("ApiKey {}", key.key)),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
