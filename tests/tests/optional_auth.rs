//! Optional authentication (`auth = optional(...)`) over real HTTP on 127.0.0.1: no
//! credential is anonymous, a valid one is the principal, and a credential presented but
//! invalid is a 401 problem, never a silent downgrade to anonymous. Rate limited per principal
//! when known, per client IP otherwise.

mod common;

use std::sync::Arc;

use common::*;
use reqwest::StatusCode;
use secure_endpoint::api_key::{InMemoryApiKeys, NewApiKey};
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Principal, SecureRouter};
use serde_json::json;

#[secure_endpoint(auth = optional("jwt"), rate = "3/1m")]
async fn feed(principal: Option<Principal>) -> String {
    match principal {
        Some(p) => format!("hello {}", p.subject()),
        None => "hello anonymous".to_owned(),
    }
}

#[secure_endpoint(auth = optional("jwt", "api_key"))]
async fn either(principal: Option<Principal>) -> String {
    match principal {
        Some(p) => format!("{} via {}", p.subject(), p.scheme().as_str()),
        None => "anonymous".to_owned(),
    }
}

fn app(key_store: Arc<InMemoryApiKeys>) -> axum::Router {
    SecureRouter::new(security().api_keys(key_store).build())
        .route("/feed", get(feed))
        .route("/either", get(either))
        .into()
}

async fn start() -> (std::net::SocketAddr, String) {
    let store = Arc::new(InMemoryApiKeys::new());
    let key = NewApiKey::generate("sk_test", "svc-reader", &[]);
    store.insert(key.record);
    (serve(app(store)).await, key.key)
}

async fn body(res: reqwest::Response) -> (StatusCode, String) {
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn no_credential_is_anonymous_and_a_valid_one_the_principal() {
    let (addr, _) = start().await;
    let client = client_from(None);
    let url = format!("http://{addr}/feed");
    assert_eq!(
        body(client.get(&url).send().await.unwrap()).await,
        (StatusCode::OK, "hello anonymous".to_owned())
    );
    assert_eq!(
        body(client.get(&url).bearer_auth(alice()).send().await.unwrap()).await,
        (StatusCode::OK, format!("hello {ALICE}"))
    );
}

#[tokio::test]
async fn a_credential_presented_and_refused_is_401_never_anonymous() {
    let (addr, _) = start().await;
    let client = client_from(None);
    let url = format!("http://{addr}/feed");
    let expired = sign(&json!({
        "sub": ALICE, "iss": ISSUER, "aud": AUDIENCE, "exp": now() - 3600,
    }));
    let forged = sign_with(
        &claims(ALICE, &[], ""),
        jsonwebtoken::Algorithm::HS256,
        OTHER_SECRET,
    );
    for (what, authorization) in [
        ("forged", format!("Bearer {forged}")),
        ("expired", format!("Bearer {expired}")),
        ("garbage", "Bearer not-a-token".to_owned()),
        ("empty", "Bearer ".to_owned()),
        ("another scheme", format!("Basic {}", "YWxpY2U6cHc=")),
    ] {
        let res = client
            .get(&url)
            .header("authorization", authorization)
            .send()
            .await
            .unwrap();
        let challenge = res
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
        assert_eq!(
            challenge.as_deref(),
            Some("Bearer realm=\"api\", error=\"invalid_token\""),
            "{what}"
        );
    }
    // A token in the URL is refused, beside a valid header too.
    let res = client
        .get(format!("{url}?access_token=x"))
        .bearer_auth(alice())
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
    let res = client
        .get(format!("{url}?access_token=x"))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
}

#[tokio::test]
async fn several_schemes_any_one_of_them_or_none() {
    let (addr, key) = start().await;
    let client = client_from(None);
    let url = format!("http://{addr}/either");
    assert_eq!(
        body(client.get(&url).send().await.unwrap()).await,
        (StatusCode::OK, "anonymous".to_owned())
    );
    assert_eq!(
        body(
            client
                .get(&url)
                .header("x-api-key", &key)
                .send()
                .await
                .unwrap()
        )
        .await,
        (StatusCode::OK, "svc-reader via api_key".to_owned())
    );
    assert_eq!(
        body(client.get(&url).bearer_auth(bob()).send().await.unwrap()).await,
        (StatusCode::OK, format!("{BOB} via jwt"))
    );
    // A wrong key is not a reason to go on as anonymous, whatever the other scheme says.
    let res = client
        .get(&url)
        .header(
            "x-api-key",
            "sk_test_0000000000000000000000000000000000000000",
        )
        .send()
        .await
        .unwrap();
    let challenges: Vec<String> = res
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
    assert_eq!(
        challenges,
        [
            "Bearer realm=\"api\", error=\"invalid_token\"",
            "ApiKey realm=\"api\", header=\"X-API-Key\""
        ]
    );
    let res = client.get(format!("{url}?api_key=x")).send().await.unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
}

#[tokio::test]
async fn limited_per_principal_when_known_per_client_ip_otherwise() {
    let (addr, _) = start().await;
    let client = client_from(None);
    let url = format!("http://{addr}/feed");
    let as_alice = alice();
    for _ in 0..3 {
        let res = client
            .get(&url)
            .bearer_auth(&as_alice)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = client
        .get(&url)
        .bearer_auth(&as_alice)
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::TOO_MANY_REQUESTS, &[]).await;
    // Alice's quota is hers: anonymous callers from the same address and Bob still get in.
    for _ in 0..3 {
        let res = client.get(&url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = client.get(&url).send().await.unwrap();
    expect_problem(res, StatusCode::TOO_MANY_REQUESTS, &[]).await;
    // The address's quota is the anonymous callers': a principal from it still gets in.
    let res = client.get(&url).bearer_auth(bob()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_inventory_says_optional() {
    let inventory = SecureRouter::<()>::new(
        security()
            .api_keys(Arc::new(InMemoryApiKeys::new()))
            .build(),
    )
    .route("/feed", get(feed))
    .inventory();
    let entry = &inventory.endpoints[0];
    assert!(entry.optional_auth && !entry.public);
    assert_eq!(entry.auth, ["jwt"]);
    assert_eq!(entry.rate_key, "principal_or_client_ip");
    let json: serde_json::Value = serde_json::from_str(&inventory.to_json()).unwrap();
    assert_eq!(json["endpoints"][0]["optional_auth"], true);
    let markdown = inventory.to_markdown();
    assert!(
        markdown.contains("| optional: jwt | anyone; the principal when a credential is presented | 3/1m per principal or client ip |"),
        "{markdown}"
    );
}
