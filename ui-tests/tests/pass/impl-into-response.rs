use axum::http::StatusCode;
use axum::response::IntoResponse;
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, SecureRouter, Security};

#[secure_endpoint(auth = "none")]
async fn teapot() -> impl IntoResponse {
    (StatusCode::IM_A_TEAPOT, "short and stout")
}

fn app() -> axum::Router {
    SecureRouter::new(Security::builder().build())
        .route("/teapot", get(teapot))
        .into_router()
}

fn main() {
    let _ = app();
}
