use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, SecureRouter, Security};

#[secure_endpoint(auth = "jwt")]
async fn me() -> &'static str {
    "me"
}

fn main() {
    let _app: SecureRouter = SecureRouter::new(Security::builder().build()).route("/me", get(me));
}
