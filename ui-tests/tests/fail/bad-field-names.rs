use secure_endpoint::{secure_endpoint, Json};

#[derive(serde::Deserialize, garde::Validate)]
struct Profile {
    #[garde(length(max = 100))]
    name: String,
}

#[secure_endpoint(auth = "jwt", allow = "authenticated", fields = ["name", "", "name"])]
async fn update_profile(Json(profile): Json<Profile>) -> String {
    profile.name
}

fn main() {}
