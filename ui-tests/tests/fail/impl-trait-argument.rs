use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none")]
async fn health(_probe: impl Sized) -> &'static str {
    "ok"
}

fn main() {}
