use secure_endpoint::secure_endpoint;

#[secure_endpoint]
async fn health() -> &'static str {
    "ok"
}

fn main() {}
