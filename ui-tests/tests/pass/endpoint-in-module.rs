//! An endpoint keeps its visibility: a `pub` handler in a module is routable from outside it.

mod api {
    use secure_endpoint::secure_endpoint;

    /// Public on purpose.
    #[secure_endpoint(auth = "none")]
    pub async fn health() -> &'static str {
        "ok"
    }

    #[secure_endpoint(auth = "none")]
    pub(crate) async fn version() -> &'static str {
        "1"
    }
}

use secure_endpoint::routing::get;
use secure_endpoint::{SecureRouter, Security};

fn app() -> axum::Router {
    SecureRouter::new(Security::builder().build())
        .route("/health", get(api::health))
        .route("/version", get(api::version))
        .into_router()
}

fn main() {
    let _ = app();
}
