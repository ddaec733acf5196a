use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", roles = [])]
async fn stats() -> &'static str {
    "stats"
}

fn main() {}
