use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "standard_webhook", allow = "authenticated", body = "raw")]
async fn hook() -> &'static str {
    "ok"
}

fn main() {}
