//! A `reason` explains why anyone may call an endpoint: optional authentication admits
//! anonymous callers, so it may have one without a waiver, as a public endpoint may.
use secure_endpoint::{secure_endpoint, Principal, SecureEndpoint};

#[secure_endpoint(auth = optional("jwt"), reason = "the catalogue is public; a signed-in buyer sees their prices")]
async fn catalogue(_principal: Option<Principal>) -> &'static str {
    "catalogue"
}

fn main() {
    assert_eq!(
        <catalogue as SecureEndpoint>::POLICY.reason,
        Some("the catalogue is public; a signed-in buyer sees their prices")
    );
}
