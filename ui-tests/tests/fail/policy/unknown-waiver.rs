use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", allow = "authenticated", waive = ["require_rates"], reason = "batch export")]
async fn export() -> &'static str {
    "export"
}

fn main() {}
