use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::routing::{delete, get};
use secure_endpoint::{secure_endpoint, SecureRouter, Security};

#[secure_endpoint(auth = "jwt", roles = ["admin", "ops"])]
async fn stats() -> &'static str {
    "stats"
}

#[secure_endpoint(auth = "jwt", scopes = ["reports:read", "reports:export"])]
async fn export() -> &'static str {
    "export"
}

#[secure_endpoint(auth = "jwt", roles = ["admin"], scopes = ["cache:purge"], rate = "1/1m")]
async fn purge() -> &'static str {
    "purged"
}

fn app() -> axum::Router {
    let verifier = JwtVerifier::hs256(b"a secret of at least thirty-two bytes!")
        .unwrap()
        .issuer("https://issuer.example")
        .audience("ui-tests")
        .build()
        .unwrap();
    SecureRouter::new(Security::builder().jwt(verifier).build())
        .route("/stats", get(stats))
        .route("/export", get(export))
        .route("/cache", delete(purge))
        .into_router()
}

fn main() {
    let _ = app();
}
