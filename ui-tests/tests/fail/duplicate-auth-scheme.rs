use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = ["jwt", "jwt"], allow = "authenticated")]
async fn me() -> &'static str {
    "me"
}

fn main() {}
