use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", allow = "authenticated", body_limit = "100kb")]
async fn me() -> &'static str {
    "me"
}

fn main() {}
