use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none", timeout = "5s")]
async fn health() -> &'static str {
    "ok"
}

fn main() {}
