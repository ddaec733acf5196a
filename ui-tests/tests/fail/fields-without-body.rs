use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", allow = "authenticated", fields = ["name"])]
async fn me() -> &'static str {
    "me"
}

fn main() {}
