use axum::extract::Path;
use secure_endpoint::{secure_endpoint, SecureEndpoint};

#[secure_endpoint(auth = "jwt", owner = "user_id", rate = "100/1m")]
async fn show_user(Path(user_id): Path<String>) -> String {
    user_id
}

/// A path parameter whose name is not id-like is not concerned.
#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "100/1m")]
async fn show_tag(Path(tag): Path<String>) -> String {
    tag
}

#[secure_endpoint(
    auth = "jwt",
    roles = ["support"],
    rate = "100/1m",
    waive = ["require_owner_for_ids"],
    reason = "support staff read every organisation's documents"
)]
async fn show_document(Path((org_id, doc_id)): Path<(String, String)>) -> String {
    format!("{org_id}/{doc_id}")
}

fn main() {
    assert!(<show_user as SecureEndpoint>::POLICY.waivers.is_empty());
    assert!(<show_tag as SecureEndpoint>::POLICY.waivers.is_empty());
    assert_eq!(<show_document as SecureEndpoint>::POLICY.waivers, ["require_owner_for_ids"]);
}
