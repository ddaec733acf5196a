use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none", rate = 100)]
async fn health() {}

fn main() {}
