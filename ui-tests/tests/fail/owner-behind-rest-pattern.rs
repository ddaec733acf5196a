use axum::extract::Path;
use secure_endpoint::secure_endpoint;

// axum fills a tuple by position: `..` hides which route parameter `user_id` is.
#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn member(Path((org_id, .., user_id)): Path<(String, String, String)>) -> String {
    format!("{org_id}/{user_id}")
}

fn main() {}
