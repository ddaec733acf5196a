//! Procedural macro behind [`secure-endpoint`](https://docs.rs/secure-endpoint).
//!
//! Depend on the `secure-endpoint` crate, which re-exports [`macro@secure_endpoint`] and holds
//! the runtime the generated code calls. The macro is a three-stage pipeline, after garde:
//! [`syntax`] parses the attribute (keeping spans), [`check`] applies the default-deny contract
//! and cross-checks it with the function signature (collecting every error), and [`emit`]
//! generates the policy constant and the thin wrapper.
//!
//! [`macro@SafeResponse`] (the `exposure` module) derives the marker trait of response safety:
//! a response type whose serialized field names look secret does not compile, and
//! `#[secure_endpoint]` asserts that every `Json<T>` a handler returns carries such a type.

#![forbid(unsafe_code)]

mod check;
mod ctxt;
mod doc;
mod emit;
mod expand;
mod exposure;
mod fields;
mod model;
mod multipart;
mod notation;
mod policy_file;
mod symbol;
mod syntax;

use proc_macro::TokenStream;

/// Declares the security contract of an axum handler and generates the wrapper that enforces it.
///
/// The annotated `async fn` becomes an *endpoint*: a unit value of the same name that only the
/// secure router (`secure_endpoint::SecureRouter`) accepts. Its policy is a `const` known at
/// compile time; the runtime enforces it on every request before the handler runs (ownership
/// by path parameter right after the handler's `Path` is extracted, see below; everything else
/// before the handler's extractors).
/// Full reference with examples: the `secure_endpoint` attribute in the `secure-endpoint` crate.
///
/// # Keys
/// | key | value | meaning |
/// |---|---|---|
/// | `auth` | `"jwt"`, `"api_key"`, `"hmac"`, `"signature"` (RFC 9421), `"github_webhook"`, `"stripe_webhook"`, `"standard_webhook"`, `"dpop"` (RFC 9449: a DPoP-bound JWT with its proof), `"mtls"` (a client certificate), a list of them, `optional("jwt", ...)`, or `"none"` | who may call; required; see *Optional authentication*; else 401 with `WWW-Authenticate` (also for an invalid credential on an optional endpoint) |
/// | `allow` | `"authenticated"` | any authenticated principal (explicit) |
/// | `roles` | `["admin", ...]` | the principal needs at least one of these roles (else 403) |
/// | `scopes` | `["reports:read", ...]` | the principal needs every one of these scopes (else 403) |
/// | `owner` | `"user_id"` | the path parameter the handler binds as `user_id` must equal the principal's subject (else 404); see *Ownership* |
/// | `loader` | a type implementing `OwnedResource` or `LoadOwned` | with `owner`: load the resource, check its owner (else 404), hand it over as `Owned<T>` |
/// | `owner_status` | `403` or `404` | with `owner`: the status for a resource that is another principal's (default 404, or the router's `SecureRouter::owner_status`; 403 where a published API specifies it) |
/// | `rate` | `"100/15m"` (`s`, `m`, `h`, `d`) | GCRA: a burst of 100 refilled evenly over 15 minutes, per principal (or per client IP when public); endpoints without `rate` share the router's default; else 429 with `Retry-After`, `RateLimit` and `RateLimit-Policy` |
/// | `fields` | `["name", "email"]`, or paths `["user.email", "items[].sku"]` | the JSON fields the body may carry, checked before deserialization at every level a path names (others: 422 naming the full path, e.g. `user.role`, `items[2].price`); with a `Form<T>` body, the form's (flat) names |
/// | `graphql` | a `GraphQlLimits` constant: `graphql = LIMITS` | the body is a GraphQL request or batch (its last argument `GraphQlRequest`), under those limits (depth, complexity, aliases, root fields, batch size, introspection role, persisted queries); each operation of a batch costs one request of `rate`; not with `fields` |
/// | `body_limit` | `"100kb"` (`b`, `kb`, `mb`; at most 1 GiB) | with `fields`, `body` or `graphql`: this endpoint's body limit instead of the router's (else 413) |
/// | `body` | `"raw"` | the handler takes the body unparsed as its last argument, `Bytes` or `String`, under the body limit; not with `fields` (webhook payloads) |
/// | `body` | `"ignored"` | a body may be sent; it is read and discarded under the body limit (413 past it) and the handler takes none; not with `fields` or `graphql` |
/// | `multipart` | `[part("file", types = ["image/png", "image/jpeg"], max = "1mb"), part("caption", max = "1kb", optional)]` | the body is a `multipart/form-data` upload of exactly these parts, handed over validated as `MultipartForm` (the last argument): unknown, repeated or missing parts 422, a part over its `max` or the body over `body_limit` (default: the parts' `max` plus 4 KiB each) 413, a file part whose bytes are not one of its `types` (image/png, image/jpeg, image/gif, image/webp, image/avif, image/bmp, image/tiff, application/pdf) or not the type it declares 415; a part without `types` is UTF-8 text; file names are never paths; not with `fields`, `body` or `graphql` |
/// | `deprecated` | `"2026-06-30"` (`YYYY-MM-DD`) | deprecated from that date: responses carry `Deprecation` (RFC 9745) |
/// | `sunset` | `"2026-12-31"` (`YYYY-MM-DD`) | removed on that date: `Sunset` header (RFC 8594), then 410; not before `deprecated` |
/// | `successor` | `"/api/v2/users/{user_id}"` or an `https://` URL | with `deprecated` or `sunset`: `Link: <...>; rel="successor-version"` |
/// | `waive` | `["require_rate", ...]` | rules of the organisation's policy file this endpoint is a reviewed exception to; needs `reason` |
/// | `reason` | `"internal dashboard"` | why: for a waiver, or a public endpoint; shown in the inventory |
/// | `flow` | `"login"` (an identifier) | the business flow the endpoint belongs to: the flow's budgets (`Security::builder().flow(...)`, required) hold across its endpoints and principals (else 429 `flow_limited`) |
///
/// # Paths in `fields`
/// `"user.email"` allows the key `email` in the object under `user`; `"items[].sku"` the key
/// `sku` in every object of the array under `items`. A path with an empty segment, an index
/// (`[0]`: write `[]`), a trailing `[]`, a key listed both as a field and as the parent of
/// another, or a key that is an object in one path and an array in another, does not compile.
/// A value a path goes into must be an object (an array for `[]`) or `null` (else 422). A
/// `Form<T>` body takes flat names only.
///
/// # Ownership
/// `owner = "user_id"` names the variable a `Path` pattern of the handler binds, and the check
/// compares exactly what the handler receives: the wrapper extracts that `Path` first (after
/// authentication, roles and scopes, before the body is read and before the other
/// extractors), and admits the request only if the bound value, as it displays
/// (`std::fmt::Display`: percent-decoded by axum, then parsed into the handler's type),
/// equals the principal's subject. The value's type must implement `Display` (`String`,
/// integers, `Uuid`, ...). axum fills a `Path` the way it is written, and so does the check:
///
/// | pattern | binds `user_id` | checked when the route is registered |
/// |---|---|---|
/// | `Path(user_id): Path<String>` | the route's only parameter | the route has exactly one parameter, `{user_id}` |
/// | `Path((org_id, user_id)): Path<(String, String)>` | by **position**: the tuple's second element | the route's parameter at that position is `{user_id}` |
/// | `Path(Params { user_id, .. }): Path<Params>` | by **name**: the parameter of the field's serde name (`#[serde(rename = "uid")]` → `{uid}`) | the route has that parameter (the inventory shows it) |
///
/// What the macro cannot see (the route string arrives at `SecureRouter::route`) is checked
/// there: a binding that would read another parameter than the one it names panics at start-up,
/// like axum's route conflicts, naming the endpoint, the route and the position. A tuple's last
/// elements are the route's own parameters; when the router is nested under a prefix with
/// parameters (`axum::Router::new().nest("/orgs/{org_id}", router)`), the prefix's come
/// first. `..` in a tuple, and an owner bound inside a nested pattern, do not compile: write
/// every element (`_` for those ignored) and bind the owner directly.
///
/// With a `loader`, the resource is loaded by the parameter named `owner`, percent-decoded, and
/// its `owner_id` must equal the subject. If the handler binds that parameter too, its binding
/// is checked at registration the same way; a request whose path holds the name twice (a
/// nesting prefix repeating it) is answered 404 rather than loading one value while the
/// handler reads the other.
///
/// A `LoadOwned` loader sees more: every path parameter (typed, `request.path::<(String,
/// u64)>()`, or by name, `request.param("slug")`), the state, the request's extensions (state
/// added with `axum::Extension`) and its head; `Ok(None)` (no such resource, or not the one
/// the path names, such as a comment of another article) is always a 404, a resource of
/// another principal the endpoint's ownership status. Implement it for the router's state type
/// (`()` for a router without state).
///
/// # Optional authentication
/// `auth = optional("jwt")` (or `optional("jwt", "api_key")`) admits anyone and tells the
/// handler who is calling when they say: no credential of those schemes is anonymous, a valid
/// one is that principal, and a credential presented but invalid (expired, forged, another
/// `Authorization` scheme, in the query string) is a 401, never a silent downgrade to
/// anonymous. The handler takes `Option<Principal>` (a bare `Principal` does not compile); the
/// rate limit counts per principal when there is one, per client IP otherwise. `owner`,
/// `roles`, `scopes` and `allow` do not compile with it: an anonymous caller has none to
/// check; require a credential for those. It is a call, not a string such as `"jwt?"`, so
/// that it reads as what it is and a reviewer cannot miss one character.
///
/// # The function stays a function
/// The endpoint is a unit struct of the handler's name, so that only the secure router can
/// route it; the function itself, unchanged, is kept as the struct's associated function
/// `handler`, with the function's visibility and attributes. Other handlers and unit tests call
/// it directly, and a direct call runs **none** of the contract (no authentication, no limit,
/// no allowlist): route the endpoint to have it enforced. It is called and awaited as the
/// function was. (Where the signature names no lifetime, reference, `impl` argument or generic,
/// `handler` is emitted as a plain `fn` returning the function's own future, `impl Future`
/// with the function's output and `Send` when the future is: one state machine per endpoint
/// instead of two, for compile time. A caller cannot tell the difference.)
///
/// ```
/// use axum::extract::Path;
/// use secure_endpoint::secure_endpoint;
///
/// #[secure_endpoint(auth = "jwt", owner = "user_id")]
/// async fn greeting(Path(user_id): Path<String>) -> String {
///     format!("hello {user_id}")
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(greeting::handler(Path("alice".to_owned())).await, "hello alice");
/// # });
/// ```
///
/// # The organisation's policy file
/// The nearest `secure-endpoint.toml` from the attribute's source file up to the crate root adds
/// rules (`require_rate`, `public`, `max_rate`, `require_owner_for_ids`, `allowed_schemes`,
/// `api_key_requires_scopes`, `max_body_limit`) that every endpoint is checked against; a
/// violation is a compile error naming the rule and the file. See `docs/policy.md`.
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
/// # Response safety
/// Every `Json<T>` in the handler's return type (`Json<T>`, `Result<Json<T>, Problem>`,
/// `(StatusCode, Json<T>)`, `Result<(StatusCode, Json<T>), Problem>`, ...) is checked:
///
/// - `T` must implement `SafeResponse`, usually with `#[derive(Serialize, SafeResponse)]`
///   ([`macro@SafeResponse`]), so no field whose name looks secret is sent by accident. The
///   error points at `T` in the signature. `serde_json::Value` is never `SafeResponse`: dynamic
///   JSON cannot be checked.
/// - `T` may not serialize as a top-level JSON array (`Vec<..>`, `[T; N]`, `[T]`, `&[T]`, a set,
///   a tuple): return `Json<secure_endpoint::List<T>>`, built with `Json(List::new(items))`,
///   which serializes as `{"data": [...], "count": n}`.
///
/// The check is syntactic: it sees `Json` as written in the signature. A type alias (`type
/// Users = Vec<User>`) is not seen through, and `impl IntoResponse` and other return types are
/// not inspected at all.
///
/// # Errors
/// Compilation fails, with every error of the attribute reported at once, when: `auth` is
/// missing; an authenticated endpoint declares no authorization (`owner`, `roles`, `scopes` or
/// `allow = "authenticated"`); the handler reads a body without `fields`; a key is unknown or
/// repeated; a rate is malformed; `owner` names a path parameter the handler does not bind;
/// `owner`, `roles`, `scopes` or `allow` are combined with `auth = "none"` or
/// `auth = optional(...)`; `owner_status` is not 403 or 404, or has no `owner`; the fn is not `async`;
/// a path in `fields` is malformed or contradicts another, or a `Form<T>` body lists paths;
/// `body = "ignored"` is given with a body argument, `fields` or `graphql`;
/// `body_limit` is malformed, zero, above 1 GiB, or given without a body; `deprecated` or
/// `sunset` is not a real `YYYY-MM-DD` date (year 1970 to 9999), or `sunset` is before
/// `deprecated`; `successor` is given without either date, or is not a `/` path or `https://`
/// URL fit for a `Link` header; a `Json<T>` in the return type serializes as a top-level JSON
/// array or names an `impl Trait`. A `Json<T>` whose `T` is not `SafeResponse` fails in type
/// checking, at `T`.
#[proc_macro_attribute]
pub fn secure_endpoint(args: TokenStream, item: TokenStream) -> TokenStream {
    let lookup = policy_file::load();
    expand::secure_endpoint(args.into(), item.into(), &lookup).into()
}

/// Derives `SafeResponse`: the type may be sent to clients as `Json<T>` from a
/// `#[secure_endpoint]` handler. Use it next to serde's: `#[derive(Serialize, SafeResponse)]`.
///
/// For a struct (named, tuple or unit) or every variant of an enum, each *serialized* field
/// (one without `#[serde(skip)]` or `#[serde(skip_serializing)]`) is checked:
///
/// - **Its name must not look secret.** The name, and its `#[serde(rename = "...")]` if any, is
///   split into lowercase words on `_` and camelCase; it looks secret when a word is one of
///   `password`, `passwd`, `pwd`, `passphrase`, `passcode`, `hash`, `hashed`, `secret`, `token`,
///   `ssn`, `mfa`, `otp`, `totp`, `salt`, `credential(s)`, `cvv`, `pin`, `privatekey`, `apikey`,
///   or two consecutive words are `api key`, `private key`, `access key`, `signing key`,
///   `encryption key`, `refresh token`, `recovery code(s)`, `backup code(s)`, `card number`.
///   Whole words only: `hashtag`, `spinner` and `tokens_used` are fine. A name whose last word
///   is `type`, `kind`, `id`, `at`, `enabled`, `expires`, `expiry`, `count` or `length`
///   describes a secret rather than holding it (`token_type`, `api_key_id`,
///   `password_changed_at`, `mfa_enabled`) and is fine too. A field that looks secret needs
///   `#[serde(skip_serializing)]` (keep it out of responses; `skip_serializing_if` is not
///   enough, it still serializes sometimes) or `#[safe(expose)]` (reviewed: sending it is the
///   point, like the token a login endpoint returns). A `#[serde(flatten)]` field's own name
///   is not serialized and is not checked.
/// - **Its type must be `SafeResponse` too**, so a nested struct that was never checked does not
///   compile; the error points at the field's type. Type parameters get a `T: SafeResponse`
///   bound.
///
/// `#[safe(expose)]` is the only `#[safe]` argument, and it goes on fields.
///
/// ```
/// use secure_endpoint::SafeResponse;
/// use serde::Serialize;
///
/// #[derive(Serialize, SafeResponse)]
/// struct UserView {
///     id: String,
///     #[serde(skip_serializing)]
///     password_hash: String,
/// }
///
/// #[derive(Serialize, SafeResponse)]
/// struct Login {
///     #[safe(expose)]
///     token: String,
///     token_type: &'static str,
///     user: UserView,
/// }
/// ```
///
/// ```compile_fail
/// # use secure_endpoint::SafeResponse;
/// #[derive(serde::Serialize, SafeResponse)]
/// struct User {
///     // error: field `apiKey` of `User` looks secret and would be sent to clients; add
///     // `#[serde(skip_serializing)]` to keep it out of responses, or `#[safe(expose)]` if
///     // exposing it is intended
///     #[allow(non_snake_case)]
///     apiKey: String,
/// }
/// ```
#[proc_macro_derive(SafeResponse, attributes(safe))]
pub fn derive_safe_response(item: TokenStream) -> TokenStream {
    exposure::derive(item.into()).into()
}
