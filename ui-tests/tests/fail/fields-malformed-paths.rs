use secure_endpoint::{secure_endpoint, Json};

#[derive(serde::Deserialize, garde::Validate)]
struct Body {
    #[garde(skip)]
    user: Option<String>,
}

// Each malformed path is named with what to write instead.
#[secure_endpoint(
    auth = "none",
    fields = ["user..email", ".name", "items[0].sku", "tags[]", "[].id", "notes]"]
)]
async fn malformed(Json(_body): Json<Body>) {}

fn main() {}
