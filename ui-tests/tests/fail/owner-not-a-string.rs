use axum::extract::Path;
use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", owner = user_id)]
async fn show_user(Path(user_id): Path<String>) -> String {
    user_id
}

fn main() {}
