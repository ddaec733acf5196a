use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none", deprecated = "2026-06-30", sunset = "2026-01-31")]
async fn old_search() {}

fn main() {}
