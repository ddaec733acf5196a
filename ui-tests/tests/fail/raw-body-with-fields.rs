use axum::body::Bytes;
use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "github_webhook", allow = "authenticated", body = "raw", fields = ["action"])]
async fn github(body: Bytes) -> String {
    body.len().to_string()
}

fn main() {}
