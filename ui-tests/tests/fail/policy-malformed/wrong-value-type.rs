use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "10/1m")]
async fn list_orders() -> &'static str {
    "orders"
}

fn main() {}
