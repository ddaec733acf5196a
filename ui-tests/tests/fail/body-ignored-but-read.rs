use secure_endpoint::{secure_endpoint, Json};

#[derive(serde::Deserialize, garde::Validate)]
struct Follow {
    #[garde(length(max = 100))]
    note: String,
}

// `body = "ignored"` drops the body: a handler that reads it is a contradiction.
#[secure_endpoint(auth = "none", body = "ignored")]
async fn follow(Json(_follow): Json<Follow>) {}

// Nor does it go with an allowlist.
#[secure_endpoint(auth = "none", body = "ignored", fields = ["note"])]
async fn follow_listed(Json(_follow): Json<Follow>) {}

fn main() {}
