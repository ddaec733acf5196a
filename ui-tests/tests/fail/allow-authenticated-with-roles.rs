use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", allow = "authenticated", roles = ["admin"])]
async fn stats() -> &'static str {
    "stats"
}

fn main() {}
