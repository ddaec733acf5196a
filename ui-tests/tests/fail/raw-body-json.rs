use secure_endpoint::{secure_endpoint, Json};

#[derive(serde::Deserialize, garde::Validate)]
struct Event {
    #[garde(length(max = 100))]
    action: String,
}

// A raw body is handed over unparsed: a `Json<T>` would deserialize it without the allowlist.
#[secure_endpoint(auth = "stripe_webhook", allow = "authenticated", body = "raw")]
async fn stripe(Json(event): Json<Event>) -> String {
    event.action
}

fn main() {}
