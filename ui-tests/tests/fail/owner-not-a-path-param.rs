use axum::extract::Path;
use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn show_user(Path(id): Path<String>) -> String {
    id
}

fn main() {}
