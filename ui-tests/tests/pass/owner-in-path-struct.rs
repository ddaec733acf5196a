use axum::extract::Path;
use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, SecureRouter, Security};

#[derive(serde::Deserialize)]
struct DocPath {
    user_id: String,
    doc_id: u64,
}

#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn show_doc(Path(DocPath { user_id, doc_id }): Path<DocPath>) -> String {
    format!("{user_id}/{doc_id}")
}

fn app() -> axum::Router {
    let verifier = JwtVerifier::hs256(b"a secret of at least thirty-two bytes!")
        .unwrap()
        .issuer("https://issuer.example")
        .audience("ui-tests")
        .build()
        .unwrap();
    SecureRouter::new(Security::builder().jwt(verifier).build())
        .route("/users/{user_id}/docs/{doc_id}", get(show_doc))
        .into_router()
}

fn main() {
    let _ = app();
}
