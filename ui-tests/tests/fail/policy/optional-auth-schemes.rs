//! The policy's scheme rules hold inside `optional(...)` too: an optional scheme is still a
//! way in.
use secure_endpoint::{secure_endpoint, Principal};

#[secure_endpoint(auth = optional("jwt", "hmac"), rate = "10/1m")]
async fn feed(_principal: Option<Principal>) {}

#[secure_endpoint(auth = optional("api_key"), rate = "10/1m")]
async fn reports(_principal: Option<Principal>) {}

fn main() {}
