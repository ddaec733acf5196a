use secure_endpoint::{secure_endpoint, Json};

#[derive(serde::Deserialize, garde::Validate)]
struct Ping {
    #[garde(skip)]
    at: u64,
}

#[secure_endpoint(auth = "jwt", allow = "authenticated", fields = [])]
async fn ping(Json(ping): Json<Ping>) -> String {
    ping.at.to_string()
}

fn main() {}
