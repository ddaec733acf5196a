use secure_endpoint::{secure_endpoint, Json};

#[derive(serde::Deserialize, garde::Validate)]
struct Upload {
    #[garde(length(max = 100))]
    name: String,
}

#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "10/1m", fields = ["name"], body_limit = "10mb")]
async fn upload(Json(body): Json<Upload>) -> String {
    body.name
}

fn main() {}
