use secure_endpoint::secure_endpoint;

struct Api;

impl Api {
    #[secure_endpoint(auth = "none")]
    async fn health(&self) -> &'static str {
        "ok"
    }
}

fn main() {}
