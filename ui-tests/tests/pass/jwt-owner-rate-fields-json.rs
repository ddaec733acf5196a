use axum::extract::Path;
use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::routing::put;
use secure_endpoint::{secure_endpoint, Json, SecureRouter, Security};

#[derive(serde::Deserialize, garde::Validate)]
struct UpdateUser {
    #[garde(length(min = 1, max = 100))]
    name: String,
    #[garde(length(min = 3, max = 254))]
    email: String,
}

#[secure_endpoint(auth = "jwt", owner = "user_id", rate = "100/15m", fields = ["name", "email"])]
async fn update_user(Path(user_id): Path<String>, Json(body): Json<UpdateUser>) -> String {
    format!("{user_id}: {} <{}>", body.name, body.email)
}

fn app() -> axum::Router {
    let verifier = JwtVerifier::hs256(b"a secret of at least thirty-two bytes!")
        .unwrap()
        .issuer("https://issuer.example")
        .audience("ui-tests")
        .build()
        .unwrap();
    SecureRouter::new(Security::builder().jwt(verifier).build())
        .route("/users/{user_id}", put(update_user))
        .into_router()
}

fn main() {
    let _ = app();
}
