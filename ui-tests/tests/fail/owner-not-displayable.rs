use axum::extract::Path;
use secure_endpoint::secure_endpoint;

#[derive(serde::Deserialize)]
struct UserId(String);

// The owner check compares the value the handler binds, as it displays, with the subject.
#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn show(Path(user_id): Path<UserId>) -> String {
    user_id.0
}

fn main() {}
