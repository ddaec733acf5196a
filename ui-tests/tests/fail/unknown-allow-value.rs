use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", allow = "authenticatd")]
async fn me() -> &'static str {
    "me"
}

fn main() {}
