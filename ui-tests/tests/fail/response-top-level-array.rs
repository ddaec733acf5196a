use secure_endpoint::{secure_endpoint, Json, SafeResponse};
use serde::Serialize;

#[derive(Serialize, SafeResponse)]
struct User {
    id: String,
}

#[secure_endpoint(auth = "jwt", roles = ["admin"])]
async fn list_users() -> Json<Vec<User>> {
    Json(Vec::new())
}

fn main() {}
