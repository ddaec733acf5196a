//! The attribute's keys, named once (after serde's `symbol.rs`).

pub(crate) const AUTH: &str = "auth";
pub(crate) const ALLOW: &str = "allow";
pub(crate) const ROLES: &str = "roles";
pub(crate) const SCOPES: &str = "scopes";
pub(crate) const OWNER: &str = "owner";
pub(crate) const LOADER: &str = "loader";
pub(crate) const RATE: &str = "rate";
pub(crate) const FIELDS: &str = "fields";
pub(crate) const BODY_LIMIT: &str = "body_limit";
pub(crate) const DEPRECATED: &str = "deprecated";
pub(crate) const SUNSET: &str = "sunset";
pub(crate) const SUCCESSOR: &str = "successor";
pub(crate) const WAIVE: &str = "waive";
pub(crate) const REASON: &str = "reason";
pub(crate) const BODY: &str = "body";
pub(crate) const GRAPHQL: &str = "graphql";
pub(crate) const FLOW: &str = "flow";
pub(crate) const OWNER_STATUS: &str = "owner_status";
pub(crate) const MULTIPART: &str = "multipart";

/// `auth = optional("jwt")`: optional authentication.
pub(crate) const OPTIONAL: &str = "optional";

/// Every key the attribute accepts, in the order the reference documents them.
pub(crate) const ALL_KEYS: &[&str] = &[
    AUTH,
    ALLOW,
    ROLES,
    SCOPES,
    OWNER,
    LOADER,
    RATE,
    FIELDS,
    BODY_LIMIT,
    DEPRECATED,
    SUNSET,
    SUCCESSOR,
    WAIVE,
    REASON,
    BODY,
    GRAPHQL,
    FLOW,
    OWNER_STATUS,
    MULTIPART,
];

/// Values of `auth`.
pub(crate) const AUTH_SCHEMES: &[&str] = &[
    "jwt",
    "api_key",
    "hmac",
    "signature",
    "github_webhook",
    "stripe_webhook",
    "standard_webhook",
    "dpop",
    "mtls",
    "none",
];

/// Values of `body`.
pub(crate) const BODY_VALUES: &[&str] = &["raw", "ignored"];

/// The extractors a `body = "raw"` handler may take its body with.
pub(crate) const RAW_BODY_EXTRACTORS: &[&str] = &["Bytes", "String"];

/// Values of `allow`.
pub(crate) const ALLOW_VALUES: &[&str] = &["authenticated"];

/// Extractors that read the request body (the last path segment of the argument's type).
pub(crate) const BODY_EXTRACTORS: &[&str] = &[
    "Json",
    "Form",
    "Bytes",
    "String",
    "Body",
    "Request",
    "RawForm",
    "Multipart",
    "BodyStream",
    "GraphQlRequest",
    "MultipartForm",
];

/// The extractors of a multipart body: the validated form `multipart = [...]` hands over, and
/// axum's own, which reads parts unchecked.
pub(crate) const MULTIPART_EXTRACTORS: &[&str] = &["MultipartForm", "Multipart"];
