use secure_endpoint::{secure_endpoint, Form};

#[derive(serde::Deserialize, garde::Validate)]
struct Login {
    #[garde(length(max = 100))]
    email: String,
}

// A URL-encoded form has flat names.
#[secure_endpoint(auth = "none", fields = ["user.email"])]
async fn login(Form(_login): Form<Login>) {}

fn main() {}
