//! The `public` rule covers optional authentication: without a credential, an
//! `auth = optional(...)` endpoint answers anyone, as a public one does, so it must be on
//! `public.allow` and say why.
use secure_endpoint::{secure_endpoint, Principal};

#[secure_endpoint(auth = optional("jwt"), rate = "10/1m")]
async fn feed(_principal: Option<Principal>) {}

fn main() {}
