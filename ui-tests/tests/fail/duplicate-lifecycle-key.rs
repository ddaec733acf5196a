use secure_endpoint::secure_endpoint;

#[secure_endpoint(
    auth = "none",
    deprecated = "2026-06-30",
    sunset = "2026-12-31",
    deprecated = "2026-07-01"
)]
async fn old_search() {}

fn main() {}
