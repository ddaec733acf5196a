use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none", rate = "10/1m", reason = "sign-up form")]
async fn signup() -> &'static str {
    "welcome"
}

fn main() {}
