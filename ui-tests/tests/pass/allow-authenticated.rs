use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Principal, SecureRouter, Security};

#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn me(principal: Principal) -> String {
    principal.subject().to_owned()
}

fn app() -> axum::Router {
    let verifier = JwtVerifier::hs256(b"a secret of at least thirty-two bytes!")
        .unwrap()
        .issuer("https://issuer.example")
        .audience("ui-tests")
        .build()
        .unwrap();
    SecureRouter::new(Security::builder().jwt(verifier).build())
        .route("/me", get(me))
        .into_router()
}

fn main() {
    let _ = app();
}
