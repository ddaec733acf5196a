//! The owner bound by position in a tuple (in the route's order) and as a struct field renamed
//! by serde: both compile, and the router accepts them at registration (this runs `main`).
use axum::extract::Path;
use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, SecureRouter, Security};

#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn member(Path((org_id, user_id)): Path<(String, String)>) -> String {
    format!("{org_id}/{user_id}")
}

#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn member_first(Path((user_id, _, page)): Path<(String, String, u32)>) -> String {
    format!("{user_id}/{page}")
}

#[derive(serde::Deserialize)]
struct Person {
    #[serde(rename = "uid")]
    user_id: String,
    team: u64,
}

#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn person(Path(Person { user_id, .. }): Path<Person>) -> String {
    user_id
}

fn app() -> (axum::Router, secure_endpoint::inventory::Inventory) {
    let verifier = JwtVerifier::hs256(b"a secret of at least thirty-two bytes!")
        .unwrap()
        .issuer("https://issuer.example")
        .audience("ui-tests")
        .build()
        .unwrap();
    let router = SecureRouter::new(Security::builder().jwt(verifier).build())
        .route("/orgs/{org_id}/users/{user_id}", get(member))
        .route("/users/{user_id}/orgs/{org_id}/{page}", get(member_first))
        .route("/teams/{team}/people/{uid}", get(person));
    let inventory = router.inventory();
    (router.into_router(), inventory)
}

fn main() {
    let (_, inventory) = app();
    let owners: Vec<_> = inventory.endpoints.iter().map(|e| e.owner).collect();
    assert_eq!(owners, [Some("user_id"), Some("user_id"), Some("uid")]);
}
