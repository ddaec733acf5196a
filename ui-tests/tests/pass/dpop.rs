//! `auth = "dpop"`: a DPoP-bound token with its proof (RFC 9449) required; `["jwt", "dpop"]`:
//! plain bearer tokens accepted too, on the same endpoint.

use secure_endpoint::policy::{AuthScheme, Authentication};
use secure_endpoint::{secure_endpoint, Principal, SecureEndpoint};

#[secure_endpoint(auth = "dpop", roles = ["payments"])]
async fn transfer(principal: Principal) -> String {
    principal.dpop_jkt().unwrap_or_default().to_owned()
}

#[secure_endpoint(auth = ["jwt", "dpop"], allow = "authenticated")]
async fn me(principal: Principal) -> String {
    principal.subject().to_owned()
}

fn main() {
    assert_eq!(
        <transfer as SecureEndpoint>::POLICY.auth,
        Authentication::Required(&[AuthScheme::Dpop])
    );
    assert_eq!(
        <me as SecureEndpoint>::POLICY.auth,
        Authentication::Required(&[AuthScheme::Jwt, AuthScheme::Dpop])
    );
    assert_eq!(AuthScheme::Dpop.as_str(), "dpop");
}
