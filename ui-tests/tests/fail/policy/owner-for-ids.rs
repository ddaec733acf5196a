use axum::extract::Path;
use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", roles = ["support"], rate = "100/1m")]
async fn show_document(Path((org_id, doc_id)): Path<(String, String)>) -> String {
    format!("{org_id}/{doc_id}")
}

fn main() {}
