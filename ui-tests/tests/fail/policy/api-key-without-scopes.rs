use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "api_key", allow = "authenticated", rate = "100/1m")]
async fn reports() -> &'static str {
    "report"
}

fn main() {}
