use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn show_user() -> &'static str {
    "user"
}

fn main() {}
