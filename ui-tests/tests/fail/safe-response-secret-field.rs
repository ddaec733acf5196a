//! The "done when": a response type with a password hash does not compile, and the
//! message names the field and the fix.

use secure_endpoint::SafeResponse;
use serde::Serialize;

#[derive(Serialize, SafeResponse)]
struct User {
    id: String,
    email: String,
    password_hash: String,
}

fn main() {}
