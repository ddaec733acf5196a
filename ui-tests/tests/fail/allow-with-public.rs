use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none", allow = "authenticated")]
async fn me() -> &'static str {
    "me"
}

fn main() {}
