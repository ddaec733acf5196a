use secure_endpoint::{secure_endpoint, Principal};

#[secure_endpoint(auth = optional("jwt"))]
async fn feed(principal: Principal) -> String {
    principal.subject().to_owned()
}

fn main() {}
