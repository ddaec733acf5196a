//! `skip_serializing_if` still serializes the field whenever the condition is false.

use secure_endpoint::SafeResponse;
use serde::Serialize;

#[derive(Serialize, SafeResponse)]
struct Profile {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    mfa_secret: Option<String>,
}

fn main() {}
