//! A handler answering with a struct that does not derive `SafeResponse`.

use secure_endpoint::{secure_endpoint, Json, Problem};
use serde::Serialize;

#[derive(Serialize)]
struct User {
    id: String,
    password_hash: String,
}

#[secure_endpoint(auth = "none")]
async fn show_user() -> Result<Json<User>, Problem> {
    Err(Problem::not_found())
}

fn main() {}
