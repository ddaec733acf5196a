use secure_endpoint::{secure_endpoint, Owned};

struct Order;

#[secure_endpoint(auth = "jwt", allow = "authenticated", loader = Order)]
async fn show_order(Owned(_order): Owned<Order>) -> &'static str {
    "order"
}

fn main() {}
