use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none", roles = ["admin"])]
async fn stats() -> &'static str {
    "stats"
}

fn main() {}
