//! The HTTP API under `/api`: every route a `#[secure_endpoint]` with its contract.
//!
//! Only the routes the library can express as the spec asks are here so far; the others
//! (optional and `Token`-scheme authentication, nested allowlists, the spec's error shape,
//! 403 ownership) wait for those capabilities in the library (issue 16). A missing route is a
//! 404, never a stand-in answer.

mod tags;

use secure_endpoint::{FieldError, Problem, SecureRouter, Security};

use crate::Db;

/// The secured routes, before the state is given.
pub fn routes(security: Security) -> SecureRouter<Db> {
    SecureRouter::new(security).route("/api/tags", secure_endpoint::routing::get(tags::list_tags))
}

/// The whole application on `db`, with the default security configuration.
pub fn app(db: Db) -> axum::Router {
    routes(Security::builder().build()).with_state(db)
}

/// A data-layer failure as the client sees it. A taken username or email, or a request the
/// data rules refuse, is a 422 naming the field (`username`, `email`) with the spec's message
/// ("has already been taken"), which an error renderer can put in the spec's shape
/// `{"errors": {"username": ["has already been taken"]}}`. Anything else is a 500 with nothing
/// internal; the cause is logged (SQL errors carry no bound values).
pub(crate) fn problem(err: crate::Error) -> Problem {
    use crate::Error;
    let (field, message) = match err {
        Error::Taken(field) => (field, "has already been taken"),
        Error::Invalid { field, message } => (field, message),
        other => {
            tracing::error!(target: "conduit::db", "{other}");
            return Problem::internal();
        }
    };
    Problem::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY)
        .with_code("validation_failed")
        .with_detail("The request conflicts with the data.")
        .with_errors(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::problem;
    use crate::Error;

    #[test]
    fn data_errors_as_problems() {
        let taken = problem(Error::Taken("email"));
        assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(taken.errors()[0].field, "email");
        assert_eq!(taken.errors()[0].message, "has already been taken");
        let internal = problem(Error::Hash);
        assert_eq!(internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(internal.errors().is_empty());
    }
}
