use axum::extract::{Path, State};
use axum::http::HeaderMap;
use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::routing::put;
use secure_endpoint::{secure_endpoint, Json, Principal, Query, SecureRouter, Security};

#[derive(Clone)]
struct AppState {
    name: &'static str,
}

#[derive(serde::Deserialize, garde::Validate)]
struct Options {
    #[garde(range(max = 100))]
    limit: u32,
}

#[derive(serde::Deserialize, garde::Validate)]
struct Rename {
    #[garde(length(min = 1, max = 100))]
    title: String,
}

#[secure_endpoint(auth = "jwt", owner = "user_id", fields = ["title"])]
async fn rename_doc(
    State(state): State<AppState>,
    Path((user_id, doc_id)): Path<(String, u64)>,
    Query(options): Query<Options>,
    headers: HeaderMap,
    principal: Principal,
    Json(rename): Json<Rename>,
) -> String {
    format!(
        "{} {user_id}/{doc_id} limit={} headers={} by {}: {}",
        state.name,
        options.limit,
        headers.len(),
        principal.subject(),
        rename.title,
    )
}

fn app() -> axum::Router {
    let verifier = JwtVerifier::hs256(b"a secret of at least thirty-two bytes!")
        .unwrap()
        .issuer("https://issuer.example")
        .audience("ui-tests")
        .build()
        .unwrap();
    SecureRouter::new(Security::builder().jwt(verifier).build())
        .route("/users/{user_id}/docs/{doc_id}", put(rename_doc))
        .with_state(AppState { name: "docs" })
}

fn main() {
    let _ = app();
}
