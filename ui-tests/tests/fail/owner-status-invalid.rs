use axum::extract::Path;
use secure_endpoint::secure_endpoint;

#[secure_endpoint(auth = "jwt", owner = "user_id", owner_status = 401)]
async fn a(Path(user_id): Path<String>) -> String {
    user_id
}

#[secure_endpoint(auth = "jwt", owner = "user_id", owner_status = "403")]
async fn b(Path(user_id): Path<String>) -> String {
    user_id
}

#[secure_endpoint(auth = "jwt", roles = ["admin"], owner_status = 403)]
async fn c() {}

#[secure_endpoint(auth = "jwt", owner = "user_id", owner_status = 403u16)]
async fn d(Path(user_id): Path<String>) -> String {
    user_id
}

fn main() {}
