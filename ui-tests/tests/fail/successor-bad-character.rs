use secure_endpoint::secure_endpoint;

#[secure_endpoint(
    auth = "none",
    deprecated = "2026-06-30",
    successor = "/api/v2/user list"
)]
async fn space() {}

#[secure_endpoint(
    auth = "none",
    deprecated = "2026-06-30",
    successor = "/api/v2>; rel=\"next\""
)]
async fn closes_the_link() {}

#[secure_endpoint(
    auth = "none",
    deprecated = "2026-06-30",
    successor = "/api/v2\r\nSet-Cookie: a=b"
)]
async fn header_injection() {}

#[secure_endpoint(auth = "none", deprecated = "2026-06-30", successor = "/api/v2/café")]
async fn non_ascii() {}

fn main() {}
