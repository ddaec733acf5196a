//! `auth = optional(...)`: the handler takes `Option<Principal>`; one scheme or several.
use std::sync::Arc;

use secure_endpoint::api_key::InMemoryApiKeys;
use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::policy::{AuthScheme, Authentication};
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Principal, SecureEndpoint, SecureRouter, Security};

#[secure_endpoint(auth = optional("jwt"), rate = "60/1m")]
async fn feed(principal: Option<Principal>) -> String {
    principal.map_or_else(|| "anonymous".to_owned(), |p| p.subject().to_owned())
}

#[secure_endpoint(auth = optional("jwt", "api_key"))]
async fn either(_principal: Option<Principal>) -> &'static str {
    "ok"
}

/// The principal need not be taken at all.
#[secure_endpoint(auth = optional("jwt"))]
async fn tags() -> &'static str {
    "tags"
}

fn main() {
    assert_eq!(
        feed::POLICY.auth,
        Authentication::Optional(&[AuthScheme::Jwt])
    );
    assert_eq!(
        either::POLICY.auth.schemes(),
        &[AuthScheme::Jwt, AuthScheme::ApiKey]
    );
    assert!(tags::POLICY.auth.is_optional());
    let verifier = JwtVerifier::hs256(b"a secret of at least thirty-two bytes!")
        .unwrap()
        .issuer("https://issuer.example")
        .audience("ui-tests")
        .build()
        .unwrap();
    let security = Security::builder()
        .jwt(verifier)
        .api_keys(Arc::new(InMemoryApiKeys::new()))
        .build();
    let _app: axum::Router = SecureRouter::new(security)
        .route("/feed", get(feed))
        .route("/either", get(either))
        .route("/tags", get(tags))
        .into();
}
