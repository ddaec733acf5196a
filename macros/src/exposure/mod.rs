//! Response safety (OWASP API3, excessive data exposure): `#[derive(SafeResponse)]`, the
//! heuristic that decides which field names look secret, and the syntactic walk of a handler's
//! return type that `#[secure_endpoint]` uses to find its `Json<T>` payloads.

mod derive;
mod payload;
mod secret;
#[cfg(test)]
mod tests;

pub(crate) use self::derive::derive;
pub(crate) use self::payload::{
    contains_impl_trait, json_payloads, top_level_array, type_text, TopLevelArray,
};
