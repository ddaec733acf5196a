//! The serialized name is checked too: a harmless Rust name renamed to a secret one.

use secure_endpoint::SafeResponse;
use serde::Serialize;

#[derive(Serialize, SafeResponse)]
struct Account {
    id: String,
    #[serde(rename = "resetToken")]
    code: String,
}

fn main() {}
