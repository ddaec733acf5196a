use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "5000/1m")]
async fn search() -> &'static str {
    "results"
}

fn main() {}
