use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Principal, SecureRouter, Security};

#[secure_endpoint(auth = "none")]
async fn greet(principal: Option<Principal>) -> String {
    match principal {
        Some(principal) => format!("hello, {}", principal.subject()),
        None => "hello, stranger".to_owned(),
    }
}

fn app() -> axum::Router {
    SecureRouter::new(Security::builder().build())
        .route("/", get(greet))
        .into_router()
}

fn main() {
    let _ = app();
}
