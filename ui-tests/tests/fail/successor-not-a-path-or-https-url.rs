use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none", sunset = "2026-12-31", successor = "api/v2/users")]
async fn relative() {}

#[secure_endpoint(
    auth = "none",
    sunset = "2026-12-31",
    successor = "//evil.example/api/v2"
)]
async fn protocol_relative() {}

#[secure_endpoint(
    auth = "none",
    sunset = "2026-12-31",
    successor = "http://api.example.com/v2"
)]
async fn plain_http() {}

#[secure_endpoint(auth = "none", sunset = "2026-12-31", successor = "https://")]
async fn no_host() {}

fn main() {}
