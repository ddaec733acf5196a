//! An endpoint with optional authentication passes the `public` rule as a public one does:
//! listed in `public.allow` with its `reason`, or waived.
use secure_endpoint::{secure_endpoint, Principal, SecureEndpoint};

#[secure_endpoint(
    auth = optional("jwt"),
    rate = "60/1m",
    reason = "status page for the load balancer; signed-in operators see details"
)]
async fn health(_principal: Option<Principal>) -> &'static str {
    "ok"
}

#[secure_endpoint(
    auth = optional("jwt"),
    rate = "10/1m",
    waive = ["public"],
    reason = "the public feed, personalised for a signed-in reader"
)]
async fn feed(_principal: Option<Principal>) -> &'static str {
    "feed"
}

fn main() {
    assert_eq!(
        <health as SecureEndpoint>::POLICY.reason,
        Some("status page for the load balancer; signed-in operators see details")
    );
    assert_eq!(<feed as SecureEndpoint>::POLICY.waivers, ["public"]);
}
