//! `auth = "mtls"`: a client certificate, alone or as one of several schemes, with roles or any
//! authenticated principal (issue 20).

use secure_endpoint::policy::{AuthScheme, Authentication};
use secure_endpoint::{secure_endpoint, Principal, SecureEndpoint};

#[secure_endpoint(auth = "mtls", roles = ["metrics"], rate = "60/1m")]
async fn metrics(principal: Principal) -> String {
    principal.subject().to_owned()
}

#[secure_endpoint(auth = ["mtls", "jwt"], allow = "authenticated")]
async fn either() -> &'static str {
    "ok"
}

fn main() {
    let policy = <metrics as SecureEndpoint>::POLICY;
    assert_eq!(policy.auth, Authentication::Required(&[AuthScheme::Mtls]));
    assert_eq!(policy.authorization.roles, ["metrics"]);
    let policy = <either as SecureEndpoint>::POLICY;
    assert_eq!(
        policy.auth,
        Authentication::Required(&[AuthScheme::Mtls, AuthScheme::Jwt])
    );
    assert_eq!(AuthScheme::Mtls.as_str(), "mtls");
}
