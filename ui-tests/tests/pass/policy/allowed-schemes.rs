use secure_endpoint::{secure_endpoint, SecureEndpoint};

#[secure_endpoint(auth = ["jwt", "api_key"], scopes = ["events:read"], rate = "100/1m")]
async fn list_events() -> &'static str {
    "events"
}

#[secure_endpoint(
    auth = "hmac",
    allow = "authenticated",
    rate = "100/1m",
    waive = ["allowed_schemes"],
    reason = "the payment provider signs its webhooks with HMAC"
)]
async fn receive_event() -> &'static str {
    "ok"
}

fn main() {
    assert!(<list_events as SecureEndpoint>::POLICY.waivers.is_empty());
    assert_eq!(<receive_event as SecureEndpoint>::POLICY.waivers, ["allowed_schemes"]);
}
