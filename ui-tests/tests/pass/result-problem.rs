use axum::extract::Path;
use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Json, Problem, SafeResponse, SecureRouter, Security};

#[derive(serde::Serialize, SafeResponse)]
struct User {
    id: String,
}

#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn show_user(Path(user_id): Path<String>) -> Result<Json<User>, Problem> {
    if user_id.is_empty() {
        return Err(Problem::not_found());
    }
    Ok(Json(User { id: user_id }))
}

fn app() -> axum::Router {
    let verifier = JwtVerifier::hs256(b"a secret of at least thirty-two bytes!")
        .unwrap()
        .issuer("https://issuer.example")
        .audience("ui-tests")
        .build()
        .unwrap();
    SecureRouter::new(Security::builder().jwt(verifier).build())
        .route("/users/{user_id}", get(show_user))
        .into_router()
}

fn main() {
    let _ = app();
}
