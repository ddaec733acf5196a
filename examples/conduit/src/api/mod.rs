//! The HTTP API under `/api`: every route a `#[secure_endpoint]` with its contract.
//!
//! Only the routes the library can express as the spec asks are here so far; the others
//! (optional and `Token`-scheme authentication, nested allowlists, the spec's error shape,
//! 403 ownership) wait for those capabilities in the library (issue 16). A missing route is a
//! 404, never a stand-in answer.

mod tags;

use secure_endpoint::{Problem, SecureRouter, Security};

use crate::Db;

/// The secured routes, before the state is given.
pub fn routes(security: Security) -> SecureRouter<Db> {
    SecureRouter::new(security).route("/api/tags", secure_endpoint::routing::get(tags::list_tags))
}

/// The whole application on `db`, with the default security configuration.
pub fn app(db: Db) -> axum::Router {
    routes(Security::builder().build()).with_state(db)
}

/// A data-layer failure as the client sees it: a 500 problem with nothing internal; the cause
/// is logged (SQL errors carry no bound values).
pub(crate) fn internal(err: crate::Error) -> Problem {
    tracing::error!(target: "conduit::db", "{err}");
    Problem::internal()
}
