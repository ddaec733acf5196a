use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", allow = true)]
async fn me() -> &'static str {
    "me"
}

fn main() {}
