use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none")]
fn health() -> &'static str {
    "ok"
}

fn main() {}
