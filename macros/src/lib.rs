//! Procedural macro behind [`secure-endpoint`](https://docs.rs/secure-endpoint).
//!
//! Depend on the `secure-endpoint` crate, which re-exports [`macro@secure_endpoint`] and holds
//! the runtime the generated code calls. The macro is a three-stage pipeline, after garde:
//! [`syntax`] parses the attribute (keeping spans), [`check`] applies the default-deny contract
//! and cross-checks it with the function signature (collecting every error), and [`emit`]
//! generates the policy constant and the thin wrapper.

#![forbid(unsafe_code)]

mod check;
mod ctxt;
mod emit;
mod model;
mod symbol;
mod syntax;

use proc_macro::TokenStream;

/// Declares the security contract of an axum handler and generates the wrapper that enforces it.
///
/// The annotated `async fn` becomes an *endpoint*: a unit value of the same name that only the
/// secure router (`secure_endpoint::SecureRouter`) accepts. Its policy is a `const` known at
/// compile time; the runtime enforces it on every request before the handler's extractors run.
/// Full reference with examples: the `secure_endpoint` attribute in the `secure-endpoint` crate.
///
/// # Keys
/// | key | value | meaning |
/// |---|---|---|
/// | `auth` | `"jwt"`, `"api_key"`, `"hmac"`, a list of them, or `"none"` | who may call; required |
/// | `allow` | `"authenticated"` | any authenticated principal (explicit) |
/// | `roles` | `["admin", ...]` | the principal needs at least one of these roles (else 403) |
/// | `scopes` | `["reports:read", ...]` | the principal needs every one of these scopes (else 403) |
/// | `owner` | `"user_id"` | path parameter that must equal the principal's subject (else 404) |
/// | `loader` | a type implementing `OwnedResource` | with `owner`: load the resource, check its owner (else 404) |
/// | `rate` | `"100/15m"` (`s`, `m`, `h`, `d`) | per-principal (or per-IP when public) limit (429) |
/// | `fields` | `["name", "email"]` | top-level JSON fields the body may carry (others: 422) |
/// | `body_limit` | `"100kb"` (`b`, `kb`, `mb`; at most 1 GiB) | with `fields`: this endpoint's body limit instead of the router's (else 413) |
/// | `deprecated` | `"2026-06-30"` (`YYYY-MM-DD`) | deprecated from that date: responses carry `Deprecation` (RFC 9745) |
/// | `sunset` | `"2026-12-31"` (`YYYY-MM-DD`) | removed on that date: `Sunset` header (RFC 8594), then 410; not before `deprecated` |
/// | `successor` | `"/api/v2/users/{user_id}"` or an `https://` URL | with `deprecated` or `sunset`: `Link: <...>; rel="successor-version"` |
///
/// Rate limits use GCRA (governor): `"100/15m"` admits a burst of 100, refilled evenly (one
/// request every 9 s). Authenticated endpoints count per principal, public ones per client IP;
/// an endpoint without `rate` shares the router's default limit.
///
/// Sizes are binary: `kb` is 1024 bytes, `mb` is 1024 `kb`; the unit may be in any case. Dates
/// are days (00:00:00 UTC), checked against the calendar at compile time: `"2026-02-30"` does
/// not compile. A `successor` is sent in a header, so it may not contain spaces, `"`, `<`, `>`
/// or control characters (percent-encode them), and a path may not start with `//`.
///
/// # Examples
///
/// ```
/// use axum::extract::{Path, State};
/// use secure_endpoint::routing::{get, post};
/// use secure_endpoint::{secure_endpoint, Json, Principal, Problem, SecureRouter, Security};
///
/// #[derive(Clone)]
/// struct AppState;
///
/// #[derive(serde::Deserialize, garde::Validate)]
/// struct NewNote {
///     #[garde(length(min = 1, max = 200))]
///     title: String,
/// }
///
/// /// Public on purpose, limited per client IP.
/// #[secure_endpoint(auth = "none", rate = "60/1m")]
/// async fn health() -> &'static str {
///     "ok"
/// }
///
/// /// Only the owner of `{user_id}`; only `title` may be sent; 100 requests per 15 minutes.
/// #[secure_endpoint(auth = "jwt", owner = "user_id", rate = "100/15m", fields = ["title"])]
/// async fn add_note(
///     State(_state): State<AppState>,
///     Path(user_id): Path<String>,
///     Json(note): Json<NewNote>,
/// ) -> Result<Json<String>, Problem> {
///     Ok(Json(format!("{user_id}: {}", note.title)))
/// }
///
/// /// Administrators only.
/// #[secure_endpoint(auth = "jwt", roles = ["admin"])]
/// async fn stats(principal: Principal) -> String {
///     format!("hello {}", principal.subject())
/// }
///
/// /// The first version, being retired: bodies up to 16 KiB; `Deprecation` from 30 June 2026,
/// /// `Sunset` and a link to the successor; 410 from 31 December 2026.
/// #[secure_endpoint(
///     auth = "jwt",
///     owner = "user_id",
///     fields = ["title"],
///     body_limit = "16kb",
///     deprecated = "2026-06-30",
///     sunset = "2026-12-31",
///     successor = "/v2/users/{user_id}/notes"
/// )]
/// async fn add_note_v1(
///     Path(user_id): Path<String>,
///     Json(note): Json<NewNote>,
/// ) -> Result<Json<String>, Problem> {
///     Ok(Json(format!("{user_id}: {}", note.title)))
/// }
///
/// fn app(security: Security) -> axum::Router {
///     SecureRouter::new(security)
///         .route("/health", get(health))
///         .route("/users/{user_id}/notes", post(add_note))
///         .route("/admin/stats", get(stats))
///         .route("/v1/users/{user_id}/notes", post(add_note_v1))
///         .with_state(AppState)
/// }
/// ```
///
/// An endpoint without a complete contract does not compile:
///
/// ```compile_fail
/// # use secure_endpoint::secure_endpoint;
/// // error: endpoint `delete_user` authenticates callers but declares no authorization; ...
/// #[secure_endpoint(auth = "jwt")]
/// async fn delete_user() {}
/// ```
///
/// # Errors
/// Compilation fails, with every error of the attribute reported at once, when: `auth` is
/// missing; an authenticated endpoint declares no authorization (`owner`, `roles`, `scopes` or
/// `allow = "authenticated"`); the handler reads a body without `fields`; a key is unknown or
/// repeated; a rate is malformed; `owner` names a path parameter the handler does not bind;
/// `owner`, `roles`, `scopes` or `allow` are combined with `auth = "none"`; the fn is not `async`;
/// `body_limit` is malformed, zero, above 1 GiB, or given without `fields`; `deprecated` or
/// `sunset` is not a real `YYYY-MM-DD` date (year 1970 to 9999), or `sunset` is before
/// `deprecated`; `successor` is given without either date, or is not a `/` path or `https://`
/// URL fit for a `Link` header.
#[proc_macro_attribute]
pub fn secure_endpoint(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let parsed = match syntax::parse(args.into(), item.clone()) {
        Ok(parsed) => parsed,
        Err(err) => return emit::unroutable(&item, err).into(),
    };
    let endpoint = match check::check(parsed) {
        Ok(endpoint) => endpoint,
        Err(err) => return emit::unroutable(&item, err).into(),
    };
    emit::emit(endpoint).into()
}
