//! `body = "raw"`: a webhook endpoint takes its payload unparsed, as `Bytes` or `String`,
//! with the signed schemes of issue 18.

use axum::body::Bytes;
use secure_endpoint::policy::{AuthScheme, Authentication};
use secure_endpoint::{secure_endpoint, Principal, SecureEndpoint};

#[secure_endpoint(auth = "github_webhook", allow = "authenticated", body = "raw")]
async fn github(body: Bytes) -> String {
    body.len().to_string()
}

#[secure_endpoint(
    auth = ["stripe_webhook", "standard_webhook"],
    allow = "authenticated",
    body = "raw",
    body_limit = "256kb"
)]
async fn billing(principal: Principal, body: String) -> String {
    format!("{} {}", principal.subject(), body.len())
}

#[secure_endpoint(auth = "signature", roles = ["partner"])]
async fn partner() -> &'static str {
    "ok"
}

fn main() {
    let hook = <github as SecureEndpoint>::POLICY;
    assert!(hook.raw_body && hook.fields.is_none() && hook.body_limit.is_none());
    let hook = <billing as SecureEndpoint>::POLICY;
    assert!(hook.raw_body);
    assert_eq!(hook.body_limit, Some(256 * 1024));
    assert_eq!(
        hook.auth,
        Authentication::Required(&[AuthScheme::StripeWebhook, AuthScheme::StandardWebhook])
    );
    let signed = <partner as SecureEndpoint>::POLICY;
    assert!(!signed.raw_body);
    assert_eq!(signed.auth, Authentication::Required(&[AuthScheme::Signature]));
}
