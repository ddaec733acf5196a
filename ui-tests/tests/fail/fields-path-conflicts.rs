use secure_endpoint::{secure_endpoint, Json};

#[derive(serde::Deserialize, garde::Validate)]
struct Body {
    #[garde(skip)]
    user: Option<String>,
}

// `user` cannot be both a leaf (any value) and the parent of `user.email`; `items` cannot be
// an object in one path and an array in another.
#[secure_endpoint(auth = "none", fields = ["user", "user.email", "items.sku", "items[].qty"])]
async fn conflicting(Json(_body): Json<Body>) {}

fn main() {}
