use secure_endpoint::secure_endpoint;

#[secure_endpoint(rate = "10/s")]
async fn health() -> &'static str {
    "ok"
}

fn main() {}
