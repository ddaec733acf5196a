use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Owned, SecureRouter, Security};

struct Order;

#[secure_endpoint(auth = "jwt", owner = "order_id", loader = Order)]
async fn show_order(Owned(_order): Owned<Order>) -> &'static str {
    "order"
}

fn main() {
    let _app: SecureRouter =
        SecureRouter::new(Security::builder().build()).route("/orders/{order_id}", get(show_order));
}
