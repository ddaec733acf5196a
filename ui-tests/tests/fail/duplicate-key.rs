use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", rate = "10/s", allow = "authenticated", rate = "100/m")]
async fn me() -> &'static str {
    "me"
}

fn main() {}
