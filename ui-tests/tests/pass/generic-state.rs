use std::sync::Arc;

use axum::extract::{FromRef, Path, State};
use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, SecureRouter, Security};

#[derive(Clone)]
struct AppState {
    greeting: Arc<str>,
    db: Db,
}

#[derive(Clone)]
struct Db {
    users: Arc<[&'static str]>,
}

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Db {
        state.db.clone()
    }
}

#[secure_endpoint(auth = "none")]
async fn greet(State(state): State<AppState>) -> String {
    state.greeting.to_string()
}

/// Takes a substate through `FromRef`.
#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn show_user(State(db): State<Db>, Path(user_id): Path<String>) -> String {
    format!("{user_id} of {}", db.users.len())
}

fn app() -> axum::Router {
    let verifier = JwtVerifier::hs256(b"a secret of at least thirty-two bytes!")
        .unwrap()
        .issuer("https://issuer.example")
        .audience("ui-tests")
        .build()
        .unwrap();
    let state = AppState {
        greeting: "hello".into(),
        db: Db {
            users: Arc::new(["ada"]),
        },
    };
    SecureRouter::<AppState>::new(Security::builder().jwt(verifier).build())
        .route("/", get(greet))
        .route("/users/{user_id}", get(show_user))
        .with_state(state)
}

fn main() {
    let _ = app();
}
