use axum::extract::Path;
use secure_endpoint::secure_endpoint;

#[derive(serde::Deserialize)]
struct Ids {
    pair: (String, String),
}

// A tuple inside a struct field: no one route parameter fills `user_id`.
#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn member(Path(Ids { pair: (org_id, user_id) }): Path<Ids>) -> String {
    format!("{org_id}/{user_id}")
}

fn main() {}
