//! An optional list is still a top-level JSON array (or `null`): wrap the items in `List`.

use secure_endpoint::{secure_endpoint, Json};

#[secure_endpoint(auth = "none")]
async fn tags() -> Json<Option<Vec<String>>> {
    Json(Some(Vec::new()))
}

fn main() {}
