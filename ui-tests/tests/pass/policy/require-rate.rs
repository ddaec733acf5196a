use secure_endpoint::{secure_endpoint, SecureEndpoint};

#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "100/1m")]
async fn list_orders() -> &'static str {
    "orders"
}

/// Shares the router's default limit, on purpose.
#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    waive = ["require_rate"],
    reason = "internal dashboard, limited by the router default"
)]
async fn dashboard() -> &'static str {
    "dashboard"
}

fn main() {
    assert_eq!(<list_orders as SecureEndpoint>::POLICY.waivers, [] as [&str; 0]);
    let policy = <dashboard as SecureEndpoint>::POLICY;
    assert_eq!(policy.waivers, ["require_rate"]);
    assert_eq!(policy.reason, Some("internal dashboard, limited by the router default"));
}
