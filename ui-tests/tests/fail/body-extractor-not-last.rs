use axum::extract::Path;
use secure_endpoint::{secure_endpoint, Json};

#[derive(serde::Deserialize, garde::Validate)]
struct Profile {
    #[garde(length(max = 100))]
    name: String,
}

#[secure_endpoint(auth = "jwt", owner = "user_id", fields = ["name"])]
async fn update_user(Json(profile): Json<Profile>, Path(user_id): Path<String>) -> String {
    format!("{user_id}: {}", profile.name)
}

fn main() {}
