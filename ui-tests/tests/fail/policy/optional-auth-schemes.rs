//! The policy's scheme rules hold inside `optional(...)` too: an optional scheme is still a
//! way in. (Anyone may call these endpoints: the `public` rule is waived, with its reason.)
use secure_endpoint::{secure_endpoint, Principal};

#[secure_endpoint(auth = optional("jwt", "hmac"), rate = "10/1m", waive = ["public"], reason = "feed")]
async fn feed(_principal: Option<Principal>) {}

#[secure_endpoint(auth = optional("api_key"), rate = "10/1m", waive = ["public"], reason = "open data")]
async fn reports(_principal: Option<Principal>) {}

fn main() {}
