use axum::extract::Path;
use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = optional("jwt"), roles = ["admin"], scopes = ["a"], owner = "user_id")]
async fn profile(Path(user_id): Path<String>) -> String {
    user_id
}

#[secure_endpoint(auth = optional("jwt"), allow = "authenticated")]
async fn feed() -> &'static str {
    "feed"
}

fn main() {}
