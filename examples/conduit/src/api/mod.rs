//! The HTTP API under `/api`: the 19 endpoints of the RealWorld spec, every one a
//! `#[secure_endpoint]` with its contract, one module per resource.

mod articles;
mod comments;
mod errors;
mod profiles;
mod tags;
mod tokens;
mod users;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use axum::http::StatusCode;
use secure_endpoint::rate::FailureLimiter;
use secure_endpoint::{FieldError, Problem, SecureRouter, Security, SecurityBuilder};

pub use errors::realworld_errors;
pub use tokens::{Tokens, AUDIENCE, ISSUER, TOKEN_TTL};

use crate::Db;

/// What the handlers share: the database and the token issuer.
#[derive(Clone)]
pub struct AppState {
    /// The data layer.
    pub db: Db,
    /// Issues the tokens that login and registration return.
    pub tokens: Arc<Tokens>,
    /// Failed logins per client and email.
    pub login_failures: Arc<FailureLimiter>,
}

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Db {
        state.db.clone()
    }
}

/// The secured routes, before the state is given: each module's router (made without a
/// `Security`, as [`SecureRouter::module`]), merged and nested under `/api`; they enforce with
/// `security`.
pub fn routes(security: Security) -> SecureRouter<AppState> {
    let api = users::routes()
        .merge(profiles::routes())
        .merge(articles::routes())
        .merge(comments::routes())
        .merge(tags::routes());
    SecureRouter::new(security).nest("/api", api)
}

/// The security configuration: `Authorization: Token <jwt>` verified with `secret`, the spec's
/// error shape, and CORS for a browser front end at `cors_origins`.
pub fn security(secret: &[u8], cors_origins: &[String]) -> Security {
    security_builder(secret, cors_origins).build()
}

/// [`security`] before it is built, for a caller that changes more (limits, events).
pub fn security_builder(secret: &[u8], cors_origins: &[String]) -> SecurityBuilder {
    let builder = Security::builder()
        .jwt(tokens::verifier(secret))
        .problem_renderer(realworld_errors);
    if cors_origins.is_empty() {
        builder
    } else {
        builder.cors(tokens::cors(cors_origins))
    }
}

/// The handlers' state on `db`, tokens signed with `secret` (at least 32 bytes).
pub fn state(db: Db, secret: &[u8]) -> AppState {
    AppState {
        db,
        tokens: Arc::new(Tokens::new(secret)),
        login_failures: Arc::new(FailureLimiter::new(
            "login",
            5,
            Duration::from_secs(15 * 60),
        )),
    }
}

/// The whole application on `db`, tokens signed with `secret` (at least 32 bytes).
pub fn app(db: Db, secret: &[u8]) -> axum::Router {
    app_with(db, secret, &[])
}

/// [`app`] with CORS for the browser front ends at `cors_origins`.
pub fn app_with(db: Db, secret: &[u8], cors_origins: &[String]) -> axum::Router {
    routes(security(secret, cors_origins)).with_state(state(db, secret))
}

/// A data-layer failure as the client sees it. A taken username or email, or a request the
/// data rules refuse, is a 422 naming the field (`username`, `email`) with the spec's message
/// ("has already been taken"), which the error renderer puts in the spec's shape
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
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
        .with_code("validation_failed")
        .with_detail("The request conflicts with the data.")
        .with_errors(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
}

/// What the data layer found: the record, a 404 when there is none (no such article, profile,
/// user), or the failure as [`problem`] answers it.
pub(crate) fn found<T>(record: Result<Option<T>, crate::Error>) -> Result<T, Problem> {
    record.map_err(problem)?.ok_or_else(Problem::not_found)
}

/// A deletion: 204 when the record was there, 404 when it was not.
pub(crate) fn deleted(deleted: Result<bool, crate::Error>) -> Result<StatusCode, Problem> {
    match deleted.map_err(problem)? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(Problem::not_found()),
    }
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
