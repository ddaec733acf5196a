//! The two models: [`Raw`] straight from the tokens (spans kept, each value read in its key's
//! notation, nothing checked against the contract) and [`Endpoint`], which only `check` can
//! build, so `emit` never sees an unchecked policy.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{Ident, ItemFn, LitStr};

/// One `key = value` of the attribute, as written, and read in the notation its key fixes.
pub(crate) struct RawArg {
    pub(crate) key: Ident,
    pub(crate) value: RawValue,
    /// For a known key: its value read at parse time, as far as it could be read (`None` when
    /// nothing could be); `None` for an unknown key.
    pub(crate) typed: Option<Typed>,
    /// Every error reading the value, combined in the order found. `check` reports it in its
    /// turn, so errors keep the contract's order.
    pub(crate) error: Option<syn::Error>,
}

/// A value read in the notation its key fixes.
pub(crate) enum Typed {
    /// `auth = "jwt"`, `["jwt", "api_key"]` or `optional("jwt")`.
    Auth(AuthRead),
    /// `allow = "authenticated"`.
    Authenticated,
    /// `roles`, `scopes` or `waive`: the string literals listed (a malformed element left out).
    Strings(Vec<LitStr>),
    /// `fields = ["name", "user.email", "items[].sku"]`: the names listed, each read as a path.
    Fields(Vec<FieldPath>),
    /// `owner = "user_id"` or `flow = "login"`: an identifier, as a string.
    Ident(LitStr),
    /// `loader = Order` or `graphql = LIMITS`.
    Path(syn::Path),
    /// `rate = "100/15m"`.
    Rate(Rate),
    /// `body_limit = "100kb"`.
    BodyLimit(BodyLimit),
    /// `deprecated` or `sunset = "2026-06-30"`, with the literal (for an error about the order).
    Date(Date, LitStr),
    /// `successor = "/api/v2/..."`, a link the `Link` header can carry.
    Successor(LitStr),
    /// `owner_status = 403` or `404`.
    OwnerStatus(u16),
    /// `body = "raw"` or `"ignored"`.
    Body(BodyForm),
    /// `multipart = [part(...), ...]`: the parts read (a malformed one left out).
    Parts(Vec<Part>),
    /// `reason = "..."`: text that is not blank.
    Text(LitStr),
}

/// `auth = ...` as read.
pub(crate) struct AuthRead {
    /// `None` when the value is malformed or names an unknown scheme.
    pub(crate) auth: Option<Auth>,
    /// Every scheme name written as a string (`"none"` and unknown names too), for the policy
    /// file's `allowed_schemes`.
    pub(crate) names: Vec<LitStr>,
}

/// The values of `body`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyForm {
    /// `body = "raw"`: handed over unparsed.
    Raw,
    /// `body = "ignored"`: drained unread.
    Ignored,
}

/// One name of `fields`, and its path (`user.email`, `items[].sku`) read into steps, or why it
/// cannot be.
pub(crate) struct FieldPath {
    pub(crate) name: LitStr,
    pub(crate) steps: Result<Vec<Step>, String>,
}

/// One step of a field path: a key, and how many arrays (`[]`) its value is before the next
/// step.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Step {
    pub(crate) name: String,
    pub(crate) arrays: usize,
}

/// A value as written.
pub(crate) enum RawValue {
    /// `"text"`
    Str(LitStr),
    /// `["a", "b"]`: the string literals in `items`, every other element in `bad`.
    List {
        items: Vec<LitStr>,
        bad: Vec<syn::Expr>,
        span: Span,
    },
    /// `SomeType` or `path::to::Type`
    Path(syn::Path),
    /// Anything else.
    Other(syn::Expr),
}

/// The tokens of a value, to underline it in an error.
pub(crate) fn value_tokens(value: &RawValue) -> TokenStream {
    match value {
        RawValue::Str(s) => s.to_token_stream(),
        RawValue::List { span, .. } => {
            let span = *span;
            quote::quote_spanned!(span=> [])
        }
        RawValue::Path(p) => p.to_token_stream(),
        RawValue::Other(e) => e.to_token_stream(),
    }
}

/// The attribute and the function it is on, parsed but unchecked.
pub(crate) struct Raw {
    /// The whole attribute argument tokens, for errors about something missing.
    pub(crate) attr_span: Span,
    pub(crate) args: Vec<RawArg>,
    pub(crate) func: ItemFn,
}

/// Authentication of a checked endpoint.
#[derive(Clone)]
pub(crate) enum Auth {
    /// `auth = "none"`: public on purpose.
    None,
    /// One or more schemes, in the order they are tried.
    Schemes(Vec<Scheme>),
    /// `auth = optional("jwt", ...)`: anonymous without a credential, the principal with a
    /// valid one, 401 for an invalid one.
    Optional(Vec<Scheme>),
}

/// An authentication scheme.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Jwt,
    ApiKey,
    Hmac,
    Signature,
    GithubWebhook,
    StripeWebhook,
    StandardWebhook,
    Dpop,
    /// A client certificate (mutual TLS).
    Mtls,
}

/// A checked rate: `count` requests per `period_secs`.
#[derive(Clone)]
pub(crate) struct Rate {
    pub(crate) count: u32,
    pub(crate) period_secs: u64,
    pub(crate) text: String,
}

/// Resource ownership.
pub(crate) struct Owner {
    pub(crate) param: LitStr,
    pub(crate) loader: Option<syn::Path>,
    /// Where the handler binds the parameter; `None` only with a loader.
    pub(crate) binding: Option<OwnerBind>,
    /// `owner_status = 403` (or `404`); `None`: the router's choice.
    pub(crate) status: Option<u16>,
}

/// How a `Path` pattern of the handler binds the owner variable, as axum fills it.
pub(crate) enum BindKind {
    /// `Path(user_id)`: the route's only parameter.
    Single,
    /// `Path((org_id, user_id))`: by position.
    Position { index: usize, arity: usize },
    /// `Path(Params { user_id, .. })`: the struct field, filled by its serde name.
    Field(Ident),
}

/// The owner variable's binding: which argument, and how to reach the value inside it.
pub(crate) struct OwnerBind {
    /// Index of the argument among the typed arguments.
    pub(crate) arg: usize,
    /// The members after the extractor's `.0`: none, a tuple index, or a field.
    pub(crate) access: Option<syn::Member>,
    pub(crate) kind: BindKind,
    /// `T` of `Path<T>`, for a field binding.
    pub(crate) inner: Option<syn::Type>,
}

/// A checked body limit: `bytes` (at most 1 GiB) as written in `text`.
#[derive(Clone)]
pub(crate) struct BodyLimit {
    pub(crate) bytes: usize,
    pub(crate) text: String,
}

/// A checked calendar date; the field order makes the derived ordering chronological.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Date {
    pub(crate) year: u16,
    pub(crate) month: u8,
    pub(crate) day: u8,
    /// 00:00:00 UTC of the date, seconds since the epoch.
    pub(crate) unix: i64,
}

impl std::fmt::Display for Date {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// One checked part.
#[derive(Clone)]
pub(crate) struct Part {
    pub(crate) name: LitStr,
    /// Empty for a text part.
    pub(crate) types: Vec<LitStr>,
    pub(crate) max: usize,
    pub(crate) max_text: String,
    pub(crate) optional: bool,
}

/// Deprecation and sunset; `successor` only when a date is set.
pub(crate) struct Lifecycle {
    pub(crate) deprecated: Option<Date>,
    pub(crate) sunset: Option<Date>,
    pub(crate) successor: Option<LitStr>,
}

/// A checked endpoint: everything `emit` needs, all rules satisfied.
pub(crate) struct Endpoint {
    pub(crate) func: ItemFn,
    pub(crate) auth: Auth,
    pub(crate) any_authenticated: bool,
    pub(crate) roles: Vec<LitStr>,
    pub(crate) scopes: Vec<LitStr>,
    pub(crate) owner: Option<Owner>,
    pub(crate) rate: Option<Rate>,
    pub(crate) fields: Option<Vec<LitStr>>,
    /// Only with `fields` or `body = "raw"`.
    pub(crate) body_limit: Option<BodyLimit>,
    /// `body = "raw"`: the handler takes the body as `Bytes` or `String`, unparsed.
    pub(crate) raw_body: bool,
    /// `graphql = LIMITS`: the body is a GraphQL request or batch, under these limits.
    pub(crate) graphql: Option<syn::Path>,
    /// `multipart = [part(...), ...]`: the body is a multipart form of these parts, taken as
    /// `MultipartForm`; `body_limit` is then always set (by default from the parts).
    pub(crate) multipart: Option<Vec<Part>>,
    pub(crate) lifecycle: Lifecycle,
    /// Index of the argument that consumes the body, if any (always the last one).
    pub(crate) body_arg: Option<usize>,
    /// Every `T` of a `Json<T>` in the return type, none a top-level array: each must be
    /// `SafeResponse`, asserted at its own span.
    pub(crate) responses: Vec<syn::Type>,
    /// `waive = [...]`: policy rules this endpoint is an exception to.
    pub(crate) waivers: Vec<LitStr>,
    /// `reason = "..."`: why (a waiver, or a public endpoint).
    pub(crate) reason: Option<LitStr>,
    /// `flow = "login"`: the business flow the endpoint belongs to (an identifier).
    pub(crate) flow: Option<LitStr>,
    /// A form body, paths in `fields`, `body = "ignored"`.
    pub(crate) body: BodyDecl,
}

/// What the body declarations add to `fields` and `body = "raw"`.
#[derive(Clone, Copy, Default)]
pub(crate) struct BodyDecl {
    /// The allowlisted body is a `Form<T>`.
    pub(crate) form: bool,
    /// `fields` holds paths.
    pub(crate) nested: bool,
    /// `body = "ignored"`.
    pub(crate) ignored: bool,
}

impl Endpoint {
    pub(crate) fn name(&self) -> &Ident {
        &self.func.sig.ident
    }
}
