use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", rate = "10/s")]
async fn me() -> &'static str {
    "me"
}

fn main() {}
