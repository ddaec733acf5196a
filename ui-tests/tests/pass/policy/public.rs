use secure_endpoint::{secure_endpoint, SecureEndpoint};

#[secure_endpoint(auth = "none", rate = "60/1m", reason = "liveness probe of the load balancer")]
async fn health() -> &'static str {
    "ok"
}

#[secure_endpoint(auth = "none", rate = "10/1m", reason = "credentials are checked by the handler")]
async fn login() -> &'static str {
    "token"
}

/// Not on the allow list: waived.
#[secure_endpoint(
    auth = "none",
    rate = "10/1m",
    waive = ["public"],
    reason = "sign-up form, reviewed by security in SEC-42"
)]
async fn signup() -> &'static str {
    "welcome"
}

fn main() {
    assert_eq!(<health as SecureEndpoint>::POLICY.reason, Some("liveness probe of the load balancer"));
    assert!(<login as SecureEndpoint>::POLICY.waivers.is_empty());
    assert_eq!(<signup as SecureEndpoint>::POLICY.waivers, ["public"]);
}
