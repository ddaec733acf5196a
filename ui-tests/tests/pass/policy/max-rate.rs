use secure_endpoint::{secure_endpoint, SecureEndpoint};

#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "16/1s")]
async fn search() -> &'static str {
    "results"
}

#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    rate = "5000/1m",
    waive = ["max_rate"],
    reason = "autocomplete, one request per keystroke"
)]
async fn suggest() -> &'static str {
    "suggestions"
}

fn main() {
    assert!(<search as SecureEndpoint>::POLICY.waivers.is_empty());
    assert_eq!(<suggest as SecureEndpoint>::POLICY.waivers, ["max_rate"]);
}
