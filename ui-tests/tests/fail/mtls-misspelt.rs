use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "mtsl", roles = ["metrics"])]
async fn metrics() -> &'static str {
    "up 1"
}

fn main() {}
