use secure_endpoint::{secure_endpoint, Principal};

#[secure_endpoint(auth = "none")]
async fn whoami(principal: Principal) -> String {
    principal.subject().to_owned()
}

fn main() {}
