//! Dynamic JSON cannot be checked: it can carry any field.

use secure_endpoint::{secure_endpoint, Json};

#[secure_endpoint(auth = "none")]
async fn status() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

fn main() {}
