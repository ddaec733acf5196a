use secure_endpoint::{secure_endpoint, Json, SecureEndpoint};

#[derive(serde::Deserialize, garde::Validate)]
struct Upload {
    #[garde(length(max = 100))]
    name: String,
}

#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "10/1m", fields = ["name"], body_limit = "1mb")]
async fn rename(Json(upload): Json<Upload>) -> String {
    upload.name
}

#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    rate = "10/1m",
    fields = ["name"],
    body_limit = "10mb",
    waive = ["max_body_limit"],
    reason = "document import, reviewed in SEC-7"
)]
async fn import(Json(upload): Json<Upload>) -> String {
    upload.name
}

fn main() {
    assert_eq!(<rename as SecureEndpoint>::POLICY.body_limit, Some(1024 * 1024));
    assert_eq!(<import as SecureEndpoint>::POLICY.waivers, ["max_body_limit"]);
}
