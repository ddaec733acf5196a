use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = ["jwt", "hmac"], allow = "authenticated", rate = "100/1m")]
async fn receive_event() -> &'static str {
    "ok"
}

fn main() {}
