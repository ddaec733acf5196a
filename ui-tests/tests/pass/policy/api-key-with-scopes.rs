use secure_endpoint::{secure_endpoint, SecureEndpoint};

#[secure_endpoint(auth = "api_key", scopes = ["reports:read"], rate = "100/1m")]
async fn reports() -> &'static str {
    "report"
}

#[secure_endpoint(
    auth = "api_key",
    allow = "authenticated",
    rate = "100/1m",
    waive = ["api_key_requires_scopes"],
    reason = "every key may read its own quota"
)]
async fn quota() -> &'static str {
    "quota"
}

fn main() {
    assert!(<reports as SecureEndpoint>::POLICY.waivers.is_empty());
    assert_eq!(<quota as SecureEndpoint>::POLICY.waivers, ["api_key_requires_scopes"]);
}
