//! The demo's handlers, by area; [`app`](crate::app) routes them.

pub(crate) mod account;
pub(crate) mod articles;
pub(crate) mod orders;
pub(crate) mod reports;
pub(crate) mod users;
pub(crate) mod webhooks;
