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
//! never with a top-level JSON array (use [`List`]); see [`exposure`].
//!
//! See the [`secure_endpoint`](macro@secure_endpoint) attribute for the contract's keys and the
//! compile errors it gives.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod abuse;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod body;
pub mod config;
pub mod cors;
mod endpoint;
pub mod events;
pub mod exposure;
pub mod inventory;
pub mod lifecycle;
pub mod loader;
pub mod multipart;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod outbound;
pub mod perimeter;
mod pipeline;
pub mod policy;
pub mod problem;
pub mod rate;
#[cfg(feature = "redis")]
pub mod redis;
pub mod response;
pub mod router;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use auth::Principal;
pub use auth::{api_key, dpop, hmac, jwt, mtls};
pub use auth::{signature, signature_base, webhook};
pub use authz::{Owned, OwnedResource};
pub use body::Form;
pub use body::{Json, Query};
pub use config::{Security, SecurityBuilder};
#[doc(hidden)]
pub use endpoint::EndpointHandler;
pub use endpoint::SecureEndpoint;
pub use exposure::{List, SafeResponse};
pub use inventory::{Inventory, InventoryEntry};
pub use loader::{LoadContext, LoadOwned};
pub use multipart::MultipartForm;
pub use perimeter::{mark_https, Https};
pub use pipeline::ClientIp;
pub use problem::{FieldError, Problem};
pub use response::RequestId;
pub use router::{SecureMethodRouter, SecureRouter};

/// Routing functions that accept only `#[secure_endpoint]` endpoints.
pub mod routing {
    pub use crate::router::{
        any, delete, get, head, on, options, patch, post, put, SecureMethodRouter,
    };
    pub use axum::routing::MethodFilter;
}

#[doc(inline)]
pub use secure_endpoint_macros::secure_endpoint;
/// Derives [`SafeResponse`](trait@SafeResponse); see the [`exposure`] module.
pub use secure_endpoint_macros::SafeResponse;

/// Not public API: what the macro's generated code names.
#[doc(hidden)]
pub mod __private {
    pub use crate::authz::{owner_field_param, OwnedResource};
    pub use crate::endpoint::{EndpointHandler, SecureEndpoint};
    pub use crate::exposure::SafeResponse;
    pub use crate::loader::{load_owned, LoadOwned};
    pub use crate::multipart::PartSpec;
    pub use crate::pipeline::Stage;
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

#[cfg(feature = "graphql")]
pub mod graphql;

mod in_process;
pub use in_process::{in_process, in_process_from, IN_PROCESS_CLIENT};
