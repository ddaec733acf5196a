use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "none")]
async fn health() -> &'static str
where
    u8: Copy,
{
    "ok"
}

fn main() {}
