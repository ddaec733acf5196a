//! Dynamic JSON inside a response struct is refused too, with every feature on: a `Value` or a
//! `Map` field can carry any key.

use secure_endpoint::SafeResponse;
use serde::Serialize;

#[derive(Serialize, SafeResponse)]
struct Profile {
    username: String,
    created_at: chrono::DateTime<chrono::Utc>,
    extra: serde_json::Map<String, serde_json::Value>,
    settings: Option<serde_json::Value>,
}

fn main() {}
