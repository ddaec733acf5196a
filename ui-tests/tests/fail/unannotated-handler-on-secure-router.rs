use secure_endpoint::routing::get;
use secure_endpoint::{SecureRouter, Security};

async fn plain() -> &'static str {
    "unguarded"
}

fn main() {
    let _app: SecureRouter = SecureRouter::new(Security::builder().build()).route("/", get(plain));
}
