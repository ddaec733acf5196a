use axum::http::HeaderMap;
use secure_endpoint::routing::post;
use secure_endpoint::{secure_endpoint, SecureRouter, Security};

#[secure_endpoint(auth = "none", fields = ["text"])]
async fn create_note(headers: HeaderMap) -> String {
    headers.len().to_string()
}

fn main() {
    let _app: SecureRouter =
        SecureRouter::new(Security::builder().build()).route("/notes", post(create_note));
}
