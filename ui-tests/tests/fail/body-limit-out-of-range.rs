use secure_endpoint::{secure_endpoint, Json};

#[derive(serde::Deserialize, garde::Validate)]
struct Upload {
    #[garde(length(max = 100))]
    name: String,
}

#[secure_endpoint(auth = "none", fields = ["name"], body_limit = "0kb")]
async fn zero(Json(upload): Json<Upload>) -> String {
    upload.name
}

#[secure_endpoint(auth = "none", fields = ["name"], body_limit = "1025mb")]
async fn above_one_gib(Json(upload): Json<Upload>) -> String {
    upload.name
}

#[secure_endpoint(auth = "none", fields = ["name"], body_limit = "99999999999999999999kb")]
async fn overflowing(Json(upload): Json<Upload>) -> String {
    upload.name
}

fn main() {}
