use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none", rate = "60/1m")]
async fn health() -> &'static str {
    "ok"
}

fn main() {}
