use axum::extract::Path;
use secure_endpoint::{secure_endpoint, Owned};

struct Order;

// `Owned<Order>` is only ever handed over by `loader = Order`: without it, every request
// would fail at run time, so it does not compile.
#[secure_endpoint(auth = "jwt", owner = "order_id")]
async fn show_order(Path(order_id): Path<String>, Owned(_order): Owned<Order>) -> String {
    order_id
}

fn main() {}
