use secure_endpoint::{secure_endpoint, Owned};

struct Order;
struct Invoice;

#[secure_endpoint(auth = "jwt", owner = "order_id", loader = Order)]
async fn show_invoice(Owned(_invoice): Owned<Invoice>) -> &'static str {
    "invoice"
}

fn main() {}
