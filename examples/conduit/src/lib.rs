//! Conduit, the [RealWorld](https://github.com/gothinkster/realworld) API (a Medium clone), on
//! SQLite, secured with secure-endpoint.
//!
//! - [`db`]: the data layer, one module per resource, every query parameterised; it returns
//!   the spec's shapes, so the HTTP handlers only authenticate, call one method and wrap.
//! - [`model`]: the request bodies (serde + garde, as the spec requires them) and the
//!   response bodies (serde + [`SafeResponse`](secure_endpoint::SafeResponse)), in the spec's
//!   envelopes (`{"user": ...}`, `{"articles": [...], "articlesCount": n}`, ...).
//! - [`server`]: TLS and serving.
//!
//! The specification and the official Postman collection it is tested against live beside the
//! project, in `../shared/realworld/` (see `run-api-tests.sh`).

pub mod api;
pub mod config;
pub mod db;
pub mod model;
pub mod server;

pub use db::{Db, Error};
