use axum::extract::Path;
use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::policy::{AuthScheme, Authentication, EndpointPolicy};
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, SecureEndpoint, SecureRouter, Security};

#[secure_endpoint(auth = "jwt", owner = "user_id", roles = ["admin"], rate = "100/15m")]
async fn show_user(Path(user_id): Path<String>) -> String {
    user_id
}

/// The contract is a `const`: it can be inspected at compile time.
const POLICY: &EndpointPolicy = <show_user as SecureEndpoint>::POLICY;
const _: () = assert!(POLICY.authorization.roles.len() == 1);

fn main() {
    assert_eq!(POLICY.handler, "show_user");
    assert_eq!(POLICY.auth, Authentication::Required(&[AuthScheme::Jwt]));
    assert_eq!(POLICY.authorization.roles, ["admin"]);
    assert_eq!(POLICY.authorization.owner.map(|o| o.param), Some("user_id"));
    assert_eq!(
        POLICY.rate.map(|r| r.to_string()).as_deref(),
        Some("100/15m")
    );
    assert_eq!(POLICY.fields, None);

    let verifier = JwtVerifier::hs256(b"a secret of at least thirty-two bytes!")
        .unwrap()
        .issuer("https://issuer.example")
        .audience("ui-tests")
        .build()
        .unwrap();
    let router: SecureRouter = SecureRouter::new(Security::builder().jwt(verifier).build())
        .route("/users/{user_id}", get(show_user));
    assert_eq!(router.inventory().endpoints[0].handler, "show_user");
}
