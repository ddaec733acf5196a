use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", allow = "authenticated", successor = "/api/v2/users/me")]
async fn me() -> &'static str {
    "me"
}

fn main() {}
