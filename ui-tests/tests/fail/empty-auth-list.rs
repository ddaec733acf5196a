use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = [], allow = "authenticated")]
async fn me() -> &'static str {
    "me"
}

fn main() {}
