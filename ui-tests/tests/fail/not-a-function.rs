use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none")]
struct Health;

fn main() {}
