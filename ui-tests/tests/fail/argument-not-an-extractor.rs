use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, SecureRouter, Security};

#[secure_endpoint(auth = "none")]
async fn health(count: u32) -> String {
    count.to_string()
}

fn main() {
    let _app: SecureRouter = SecureRouter::new(Security::builder().build()).route("/", get(health));
}
