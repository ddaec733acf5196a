//! Doc comments, lints and `cfg` on a handler survive the macro.
#![deny(missing_docs, unused)]

use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, SecureRouter, Security};

/// Liveness probe.
///
/// Public on purpose: load balancers call it without credentials.
#[secure_endpoint(auth = "none", rate = "10/s")]
#[doc(alias = "liveness")]
#[allow(clippy::unused_async)]
#[cfg(not(any()))]
#[inline]
pub async fn health() -> &'static str {
    #[allow(unused_variables)]
    let unused = ();
    "ok"
}

/// A handler compiled out by `cfg` leaves nothing behind.
#[secure_endpoint(auth = "none")]
#[cfg(any())]
pub async fn compiled_out() -> &'static str {
    "never"
}

fn app() -> axum::Router {
    SecureRouter::new(Security::builder().build())
        .route("/health", get(health))
        .into_router()
}

fn main() {
    let _ = app();
}
