use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none", scopes = ["reports:read"])]
async fn report() -> &'static str {
    "report"
}

fn main() {}
