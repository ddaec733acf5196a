//! # secure-endpoint
//!
//! API security as a compile-time contract for axum. Each handler declares who may call it,
//! what they may do, how often, and what they may send; the compiler refuses an endpoint whose
//! contract is incomplete, and the runtime enforces the contract on every request.
//!
//! ```
//! use axum::extract::Path;
//! use secure_endpoint::{routing::get, secure_endpoint, Json, Principal, SecureRouter, Security};
//! use secure_endpoint::jwt::JwtVerifier;
//!
//! #[derive(serde::Deserialize, garde::Validate)]
//! struct UpdateUser {
//!     #[garde(length(min = 1, max = 100))]
//!     name: String,
//! }
//!
//! /// Only the user themself may read their profile.
//! #[secure_endpoint(auth = "jwt", owner = "user_id", rate = "100/15m")]
//! async fn show_user(Path(user_id): Path<String>) -> String {
//!     user_id
//! }
//!
//! /// Only `name` may be sent; anything else is a 422 before deserialization.
//! #[secure_endpoint(auth = "jwt", owner = "user_id", fields = ["name"])]
//! async fn update_user(Path(user_id): Path<String>, Json(body): Json<UpdateUser>) -> String {
//!     format!("{user_id} is now {}", body.name)
//! }
//!
//! let verifier = JwtVerifier::hs256(b"a secret of at least thirty-two bytes!").unwrap()
//!     .issuer("https://issuer.example")
//!     .audience("my-api")
//!     .build()
//!     .unwrap();
//! let app: axum::Router = SecureRouter::new(Security::builder().jwt(verifier).build())
//!     .route("/users/{user_id}", get(show_user).put(update_user))
//!     .into_router();
//! ```
//!
//! What runs on each request, in order: request id → per-IP limit (before any crypto) →
//! authentication → per-principal rate limit → roles/scopes (403) → ownership (404) → body
//! size, media type and field allowlist (413/415/422) → the handler's extractors, where
//! [`Json`] and [`Query`] validate with garde (422) → the handler, with panics turned into a
//! 500 problem → security headers and `Cache-Control: no-store` on every response. Every
//! rejection is an RFC 9457 problem with an error id and nothing internal.
//!
//! What goes out is checked at compile time too: a handler answers with `Json<T>` only when
//! `T` derives [`SafeResponse`](trait@SafeResponse), which refuses fields that look secret, and
//! never with a top-level JSON array (use [`List`]).
//!
//! See the [`secure_endpoint`](macro@secure_endpoint) attribute for the contract's keys and the
//! compile errors it gives.
//!
//! # Where things are
//!
//! Every public item has one path, as in axum: the few items an application touches in every
//! handler or at start-up are at the root, and each concern is a module that is the only
//! path to its items.
//!
//! | path | holds |
//! |---|---|
//! | root | the [`secure_endpoint`](macro@secure_endpoint) attribute and the [`SafeResponse`](derive@SafeResponse) derive; [`SecureRouter`], [`Security`], [`SecurityBuilder`]; the extractors [`Json`], [`Query`], [`Form`], [`Principal`], [`ClientIp`], [`RequestId`], [`Owned`]; ownership ([`OwnedResource`], [`LoadOwned`], [`LoadContext`]); responses and errors ([`Problem`], [`FieldError`], [`ProblemRenderer`], [`ProblemView`], [`ProblemBody`], [`List`], [`SafeResponse`](trait@SafeResponse), [`AuthFailure`], [`ConfigError`]); [`SecureEndpoint`]; in-process tests ([`in_process`], [`in_process_from`], [`IN_PROCESS_CLIENT`]) |
//! | [`routing`] | `get`, `post`, `put`, `patch`, `delete`, `head`, `options`, `any`, `on`, [`SecureMethodRouter`](routing::SecureMethodRouter), `MethodFilter` |
//! | [`jwt`], [`api_key`], [`hmac`], [`signature`], [`signature_base`], [`webhook`], [`dpop`], [`mtls`], [`credential`] | one authentication scheme each (verifiers, keys, stores); where credentials are read |
//! | [`rate`], [`abuse`] | rate limits and stores; flow budgets, stuffing and enumeration detectors |
//! | [`perimeter`], [`cors`] | client address, trusted proxies, HTTPS ([`mark_https`](perimeter::mark_https)), size limits; CORS |
//! | [`request_body`], [`multipart`] | field allowlist checks and body limits; uploads ([`MultipartForm`](multipart::MultipartForm)) |
//! | [`layer`] | the security layer every route is wrapped in, for plain axum routes beside the secure router |
//! | [`policy`], [`lifecycle`], [`inventory`] | the contract as data; deprecation and sunset; the security inventory |
//! | [`events`], [`audit`] | security events and their sinks; the audit trail |
//! | [`store`], [`outbound`] | shared-store errors and outage behaviour; outbound requests that cannot reach internal addresses |
//! | `openapi`, `redis`, `graphql`, `testing` | behind the features of the same names |

#![forbid(unsafe_code)]
// docs.rs (`--cfg docsrs`): each feature-gated item is labelled with the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

// Every public item has one path (as in axum): the few items every application touches are
// re-exported at the root from private modules; each concern is a public module that holds
// its items and is their only path. The table is in the crate documentation above.

mod auth;
mod authz;
mod body;
mod config;
mod endpoint;
mod exposure;
mod in_process;
mod loader;
mod pipeline;
mod problem;
mod response;
mod router;

pub mod abuse;
pub mod audit;
pub mod cors;
mod error;
pub mod events;
mod extract;
#[cfg(feature = "graphql")]
pub mod graphql;
pub mod inventory;
pub mod lifecycle;
pub mod multipart;
#[cfg(feature = "openapi")]
pub mod openapi;
#[cfg(feature = "outbound")]
pub mod outbound;
pub mod perimeter;
pub mod policy;
pub mod rate;
#[cfg(feature = "redis")]
pub mod redis;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use auth::{api_key, credential, dpop, hmac, jwt, mtls, signature, signature_base, webhook};

pub use auth::AuthFailure;
pub use authz::{Owned, OwnedResource};
pub use body::{Form, Json, Query};
pub use config::{Security, SecurityBuilder};
pub use error::ConfigError;
pub use extract::{ClientIp, Principal, RequestId};

pub use endpoint::SecureEndpoint;
pub use exposure::{List, SafeResponse};
pub use in_process::{in_process, in_process_from, IN_PROCESS_CLIENT};
pub use loader::{LoadContext, LoadOwned};
pub use problem::{FieldError, Problem, ProblemBody, ProblemRenderer, ProblemView};
pub use router::SecureRouter;

/// Routing functions that accept only `#[secure_endpoint]` endpoints, and the method router
/// they build, named as axum names them.
pub mod routing {
    pub use crate::router::{
        any, delete, get, head, on, options, patch, post, put, SecureMethodRouter,
    };
    pub use axum::routing::MethodFilter;
}

pub mod request_body {
    //! Request bodies: the field allowlist, checked before deserialization, and the size limits.
    //! The extractors that apply them are [`Json`](crate::Json), [`Query`](crate::Query) and
    //! [`Form`](crate::Form).
    //!
    //! A body over the limit is refused with 413 as soon as it is known to be too large. On
    //! HTTP/1 the 413 is sent with `Connection: close` at once, and the rest of the body is then
    //! read and discarded, as nginx's lingering close does: at most [`LINGER_MAX_BYTES`] bytes
    //! and for at most [`LINGER_MAX_TIME`], so that a client that writes its whole body before it
    //! reads still reads the 413.

    pub use crate::body::{
        check_fields, check_form_fields, check_paths, graphql_operations, DEFAULT_BODY_LIMIT,
        GRAPHQL_FIELDS, LINGER_MAX_BYTES, LINGER_MAX_TIME, MAX_JSON_DEPTH,
    };
}

/// The layer the secure router wraps every route and its fallback in: the request id in, and
/// on every response the security headers, `Cache-Control: no-store`, the request id and, for
/// any error, a problem body with nothing internal. [`Security::layer`](crate::Security::layer)
/// gives it for plain axum routes merged beside a secure router.
pub mod layer {
    pub use crate::response::{
        RenderingSecurityLayer, ResponseFuture, SecurityLayer, SecurityService, X_REQUEST_ID,
    };
}

#[doc(inline)]
pub use secure_endpoint_macros::secure_endpoint;
/// Derives [`SafeResponse`](trait@SafeResponse), which says what the derive checks.
pub use secure_endpoint_macros::SafeResponse;

/// Not public API: what the macro's generated code names.
#[doc(hidden)]
pub mod __private {
    /// `Option<SchemaFn>` for a type: `Some` when it implements `utoipa::ToSchema` and the
    /// `openapi` feature is on.
    pub use crate::__schema_of as schema_of;
    pub use crate::authz::{owner_field_param, OwnedResource};
    pub use crate::endpoint::{
        extract_parts, extract_request, EndpointHandler, SecureEndpoint, Stage,
    };
    pub use crate::exposure::SafeResponse;
    pub use crate::loader::{load_owned, LoadOwned};
    #[cfg(feature = "openapi")]
    pub use crate::policy::body::probe;
    pub use crate::policy::build::{AuthorizationBuilder, OwnerBuilder, PolicyBuilder};
    pub use crate::policy::part::PartSpec;
    pub use crate::policy::{
        AuthScheme, Authentication, Authorization, EndpointPolicy, Lifecycle, LifecycleDate, Owner,
        OwnerBinding, OwnerDenial, RateSpec,
    };
    pub use crate::policy::{BodySpec, Schemas, TypeSchemas};
    pub use crate::Principal;
    pub use axum::body::Body;
    pub use axum::extract::{FromRequest, FromRequestParts, Request};
    pub use axum::response::{IntoResponse, Response};
    pub use http::request::Parts;

    /// The owner value a handler binds, for the ownership check: it is compared as it
    /// displays. The macro calls it spanned at the `Path` type, so a type without `Display`
    /// is reported there.
    #[doc(hidden)]
    pub fn owner_value<T: std::fmt::Display>(value: &T) -> &dyn std::fmt::Display {
        value
    }

    /// Compiles only when `T` is [`SafeResponse`]: the macros call it, spanned at the checked
    /// type, so the error points at the response or field type.
    #[doc(hidden)]
    pub fn assert_safe_response<T: SafeResponse + ?Sized>() {}
}

/// The guides of the repository's `docs/`, included here so that their Rust examples are
/// compiled (and run) as doc tests, and read next to the API they describe.
pub mod guides {
    #[doc = include_str!("../docs/hmac.md")]
    pub mod signed_requests {}

    #[doc = include_str!("../docs/policy.md")]
    pub mod policy_file {}
}
