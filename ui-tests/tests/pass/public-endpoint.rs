use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, SecureRouter, Security};

#[secure_endpoint(auth = "none")]
async fn health() -> &'static str {
    "ok"
}

fn app() -> axum::Router {
    SecureRouter::new(Security::builder().build())
        .route("/health", get(health))
        .into_router()
}

fn main() {
    let _ = app();
}
