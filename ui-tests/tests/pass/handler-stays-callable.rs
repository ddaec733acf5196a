//! The annotated function stays a function: `name::handler(...)` calls it as written, from
//! another handler and from a test, while `name` is the endpoint the router takes.
#![deny(missing_docs, unused)]

use axum::extract::Path;
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Json, Principal, Problem, SafeResponse, SecureRouter, Security};

/// A user's public view.
#[derive(serde::Serialize, SafeResponse)]
pub struct Profile {
    /// The user's id.
    pub id: String,
}

/// One profile.
#[secure_endpoint(auth = "jwt", owner = "user_id")]
pub async fn profile(Path(user_id): Path<String>) -> Result<Json<Profile>, Problem> {
    Ok(Json(Profile { id: user_id }))
}

/// The caller's own profile: reuses `profile` as a function.
#[secure_endpoint(auth = "jwt", allow = "authenticated")]
pub async fn me(principal: Principal) -> Result<Json<Profile>, Problem> {
    profile::handler(Path(principal.subject().to_owned())).await
}

/// A private handler with no arguments.
#[secure_endpoint(auth = "none", rate = "1/s")]
async fn ping() -> &'static str {
    "pong"
}

fn app() -> axum::Router {
    SecureRouter::new(Security::builder().build())
        .route("/ping", get(ping))
        .into_router()
}

fn main() {
    let _ = app;
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        assert_eq!(ping::handler().await, "pong");
        let Ok(Json(view)) = profile::handler(Path("alice".to_owned())).await else {
            panic!("a profile");
        };
        assert_eq!(view.id, "alice");
        // The endpoint is still a value the router takes, and still `Copy`.
        let endpoint = me;
        let _ = (endpoint, endpoint);
    });
}
