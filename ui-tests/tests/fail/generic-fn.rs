use axum::extract::State;
use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none")]
async fn health<S: Clone>(State(_state): State<S>) -> &'static str {
    "ok"
}

fn main() {}
