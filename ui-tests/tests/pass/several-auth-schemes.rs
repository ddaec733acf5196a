//! A list of schemes compiles. It is not routed: this router supports only `jwt` so far and
//! refuses, at start-up, an endpoint whose schemes it cannot verify.

use secure_endpoint::{secure_endpoint, SecureEndpoint};

#[secure_endpoint(auth = ["jwt", "api_key"], allow = "authenticated")]
async fn me() -> &'static str {
    "me"
}

#[secure_endpoint(auth = ["hmac"], roles = ["webhook"])]
async fn webhook() -> &'static str {
    "ok"
}

fn main() {
    assert_eq!(<me as SecureEndpoint>::POLICY.handler, "me");
    assert_eq!(<webhook as SecureEndpoint>::POLICY.handler, "webhook");
}
