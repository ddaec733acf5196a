use std::time::Duration;

use secure_endpoint::abuse::{FlowBudget, Stuffing};
use secure_endpoint::policy::RateSpec;
use secure_endpoint::routing::{get, post};
use secure_endpoint::{secure_endpoint, SecureEndpoint, SecureRouter, Security};

#[secure_endpoint(auth = "none", flow = "login", rate = "10/1m")]
async fn login() -> &'static str {
    "ok"
}

#[secure_endpoint(auth = "none", flow = "password_reset")]
async fn reset() -> &'static str {
    "sent"
}

fn app() -> axum::Router {
    let security = Security::builder()
        .flow(
            "login",
            FlowBudget::new()
                .per_ip(RateSpec::new(20, Duration::from_secs(60)))
                .stuffing(Stuffing::new()),
        )
        .flow(
            "password_reset",
            FlowBudget::new().total(RateSpec::new(100, Duration::from_secs(3600))),
        )
        .build();
    SecureRouter::new(security)
        .route("/login", post(login))
        .route("/reset", get(reset))
        .into_router()
}

fn main() {
    assert_eq!(<login as SecureEndpoint>::POLICY.flow, Some("login"));
    assert_eq!(<reset as SecureEndpoint>::POLICY.flow, Some("password_reset"));
    let _ = app();
}
