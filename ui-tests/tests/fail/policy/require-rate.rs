use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn list_orders() -> &'static str {
    "orders"
}

fn main() {}
