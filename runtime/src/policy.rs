//! The policy an endpoint declares: plain `const` data the macro emits and the runtime reads.

use std::fmt;

use serde::Serialize;

pub(crate) mod body;
pub(crate) mod build;
pub(crate) mod part;

pub use body::{BodySpec, SchemaFn, Schemas, TypeSchemas};
// Public as `multipart::PartSpec`.
use part::PartSpec;

/// An authentication scheme named in `auth = ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthScheme {
    /// `Authorization: Bearer <JWT>`.
    Jwt,
    /// An API key in the `X-API-Key` header.
    ApiKey,
    /// An HMAC-signed request.
    Hmac,
    /// An HTTP Message Signature (RFC 9421).
    Signature,
    /// A GitHub webhook delivery (`X-Hub-Signature-256`).
    GithubWebhook,
    /// A Stripe webhook delivery (`Stripe-Signature`).
    StripeWebhook,
    /// A Standard Webhooks delivery (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
    StandardWebhook,
    /// `Authorization: DPoP <JWT>` with a `DPoP` proof (RFC 9449): a token bound to the key
    /// that signs each request's proof.
    Dpop,
    /// A client certificate: mutual TLS (see [`crate::auth::mtls`]).
    Mtls,
}

impl AuthScheme {
    /// Every scheme, in the order the attribute's documentation lists them.
    pub const ALL: [AuthScheme; 9] = [
        AuthScheme::Jwt,
        AuthScheme::ApiKey,
        AuthScheme::Hmac,
        AuthScheme::Signature,
        AuthScheme::GithubWebhook,
        AuthScheme::StripeWebhook,
        AuthScheme::StandardWebhook,
        AuthScheme::Dpop,
        AuthScheme::Mtls,
    ];

    /// The name used in the attribute.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthScheme::Jwt => "jwt",
            AuthScheme::ApiKey => "api_key",
            AuthScheme::Hmac => "hmac",
            AuthScheme::Signature => "signature",
            AuthScheme::GithubWebhook => "github_webhook",
            AuthScheme::StripeWebhook => "stripe_webhook",
            AuthScheme::StandardWebhook => "standard_webhook",
            AuthScheme::Dpop => "dpop",
            AuthScheme::Mtls => "mtls",
        }
    }
}

/// Who may call the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authentication {
    /// `auth = "none"`: public on purpose.
    Public,
    /// One of these schemes must authenticate the caller, tried in this order.
    Required(&'static [AuthScheme]),
    /// `auth = optional("jwt")`: anyone may call; a caller presenting no credential of these
    /// schemes is anonymous, one presenting a valid credential is that principal, and one
    /// presenting a credential that does not verify is refused with 401 (never anonymous).
    Optional(&'static [AuthScheme]),
}

impl Authentication {
    /// The schemes tried, in order; empty when public.
    pub const fn schemes(&self) -> &'static [AuthScheme] {
        match self {
            Authentication::Public => &[],
            Authentication::Required(schemes) | Authentication::Optional(schemes) => schemes,
        }
    }

    /// `true` for `auth = optional(...)`.
    pub const fn is_optional(&self) -> bool {
        matches!(self, Authentication::Optional(_))
    }
}

/// What an authenticated caller must satisfy.
///
/// `#[non_exhaustive]`: the contract may grow; the macro builds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Authorization {
    /// `allow = "authenticated"`: any authenticated principal.
    pub any_authenticated: bool,
    /// The principal needs at least one of these roles.
    pub roles: &'static [&'static str],
    /// The principal needs every one of these scopes.
    pub scopes: &'static [&'static str],
    /// Resource ownership.
    pub owner: Option<Owner>,
}

/// Resource ownership: the path parameter `param` identifies the resource.
///
/// `#[non_exhaustive]`: the contract may grow; the macro builds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Owner {
    /// The path parameter, e.g. `user_id`.
    pub param: &'static str,
    /// Without a loader the parameter must equal the principal's subject; with one, the loaded
    /// resource's owner must. The name of the loader type, for the inventory.
    pub loader: Option<&'static str>,
    /// How the handler binds the parameter. axum fills a `Path` tuple by position and a
    /// `Path` struct by the fields' serde names; the router checks at registration that this
    /// binding reads the route's `{param}`.
    pub binding: OwnerBinding,
    /// `owner_status = 403`: the status for a resource that is not the caller's; `None`: the
    /// router's choice ([`SecureRouter::owner_status`](crate::SecureRouter::owner_status)),
    /// 404 unless it says otherwise.
    pub denial: Option<OwnerDenial>,
}

/// What a caller gets for a resource that is not theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OwnerDenial {
    /// 404, the same as for a resource that does not exist: no existence oracle (the default).
    #[default]
    NotFound,
    /// 403: for APIs whose published contract says so (RealWorld's does); it tells the caller
    /// that the resource exists.
    Forbidden,
}

impl OwnerDenial {
    /// The status sent.
    pub const fn status(self) -> http::StatusCode {
        match self {
            OwnerDenial::NotFound => http::StatusCode::NOT_FOUND,
            OwnerDenial::Forbidden => http::StatusCode::FORBIDDEN,
        }
    }

    /// The refusal: a problem with this status, recorded as `not_owner`.
    pub(crate) fn problem(self) -> crate::problem::Problem {
        match self {
            OwnerDenial::NotFound => crate::problem::Problem::not_found(),
            OwnerDenial::Forbidden => crate::problem::Problem::forbidden(),
        }
        .with_reason("not_owner")
    }
}

/// How a handler binds its owner parameter, as the macro read it from the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerBinding {
    /// The handler does not bind it (only with a loader, which loads by the parameter's name).
    Unbound,
    /// `Path(user_id): Path<T>`: the route's only parameter.
    Single,
    /// `Path((org_id, user_id)): Path<(A, B)>`: element `index` of a tuple of `arity`, which
    /// axum fills from the route's parameters in order.
    Position {
        /// The element's index, from 0.
        index: usize,
        /// The number of elements of the tuple.
        arity: usize,
    },
    /// `Path(Params { user_id, .. }): Path<Params>`: the struct field `field`, which axum fills
    /// from the route parameter of its serde name (a `#[serde(rename)]` included).
    Field {
        /// The field's Rust name.
        field: &'static str,
    },
}

/// `count` requests per `period_secs` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateSpec {
    /// Requests admitted per period (also the burst).
    pub count: u32,
    /// The period in seconds.
    pub period_secs: u64,
}

impl RateSpec {
    /// `count` requests per `period`.
    ///
    /// # Panics
    /// If `count` or `period` is zero.
    pub fn new(count: u32, period: std::time::Duration) -> Self {
        assert!(count > 0, "a rate needs a count of at least 1");
        assert!(
            period.as_secs() > 0,
            "a rate needs a period of at least one second"
        );
        RateSpec {
            count,
            period_secs: period.as_secs(),
        }
    }
}

impl fmt::Display for RateSpec {
    /// The attribute's notation: `100/15m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.period_secs;
        let (n, unit) = if p.is_multiple_of(86_400) {
            (p / 86_400, "d")
        } else if p.is_multiple_of(3600) {
            (p / 3600, "h")
        } else if p.is_multiple_of(60) {
            (p / 60, "m")
        } else {
            (p, "s")
        };
        write!(f, "{}/{}{}", self.count, n, unit)
    }
}

/// The whole contract of one endpoint, as declared by `#[secure_endpoint(...)]`.
///
/// `#[non_exhaustive]`: new keys of the attribute add fields here without a breaking change.
/// The macro builds it; read it through [`SecureEndpoint::POLICY`](crate::SecureEndpoint::POLICY)
/// or the [`Inventory`](crate::inventory::Inventory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointPolicy {
    /// The handler's name.
    pub handler: &'static str,
    /// Who may call.
    pub auth: Authentication,
    /// What the caller must satisfy (empty for public endpoints).
    pub authorization: Authorization,
    /// The endpoint's own rate limit; `None` means the router's default applies.
    pub rate: Option<RateSpec>,
    /// Top-level JSON fields the body may carry; `None` means the endpoint takes no body.
    pub fields: Option<&'static [&'static str]>,
    /// The endpoint's own body limit in bytes (`body_limit = "100kb"`); `None`: the router's.
    pub body_limit: Option<usize>,
    /// `body = "raw"`: the body is handed over unparsed (`Bytes` or `String`), under the body
    /// limit, with no field allowlist; for payloads whose keys the sender chooses (webhooks).
    pub raw_body: bool,
    /// `graphql = LIMITS`: the body is a GraphQL request or batch under these limits.
    pub graphql: Option<&'static GraphQlLimits>,
    /// `multipart = [part(...), ...]`: the body is a multipart form of these parts (see
    /// [`multipart`](crate::multipart)); its total limit is `body_limit`.
    pub multipart: Option<&'static [PartSpec]>,
    /// `deprecated`, `sunset` and `successor`.
    pub lifecycle: Lifecycle,
    /// `waive = [...]`: the rules of the organisation's policy file (`secure-endpoint.toml`)
    /// this endpoint is a reviewed exception to, such as `require_rate`.
    pub waivers: &'static [&'static str],
    /// `reason = "..."`: why the endpoint waives rules or is reachable anonymously (`auth =
    /// "none"` or `auth = optional(...)`).
    pub reason: Option<&'static str>,
    /// `flow = "login"`: the business flow the endpoint belongs to, whose budgets
    /// ([`SecurityBuilder::flow`](crate::SecurityBuilder::flow)) hold across its endpoints.
    pub flow: Option<&'static str>,
    /// A form body, paths in `fields`, `body = "ignored"`, and the types' schemas.
    pub body: BodySpec,
}

/// A date of an endpoint's lifecycle, checked at compile time (or parsed at start-up).
///
/// The fields are ordered so that the derived ordering is chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LifecycleDate {
    /// The year, 1970 to 9999.
    pub year: u16,
    /// The month, 1 to 12.
    pub month: u8,
    /// The day of the month, 1 to 31.
    pub day: u8,
    /// 00:00:00 UTC of the date, seconds since the epoch.
    pub unix: i64,
}

impl LifecycleDate {
    /// `YYYY-MM-DD`, validated; `None` otherwise.
    ///
    /// The date must exist (`2026-02-29` does not) and its year be 1970 to 9999.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let number = |digits: &[u8]| -> Option<u32> {
            digits.iter().try_fold(0u32, |n, d| {
                d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
            })
        };
        let year = u16::try_from(number(&b[0..4])?).ok()?;
        let month = u8::try_from(number(&b[5..7])?).ok()?;
        let day = u8::try_from(number(&b[8..10])?).ok()?;
        if !(1970..=9999).contains(&year)
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
        {
            return None;
        }
        Some(LifecycleDate {
            year,
            month,
            day,
            unix: days_from_civil(year, month, day) * 86_400,
        })
    }

    /// IMF-fixdate (RFC 9110 §5.6.7), e.g. `Tue, 30 Jun 2026 00:00:00 GMT`, for the `Sunset` header.
    pub fn http_date(&self) -> String {
        // `unix` is 1970-01-01 or later (the year is 1970 to 9999), which `httpdate` formats.
        let secs = u64::try_from(self.unix).unwrap_or(0);
        httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
    }
}

impl fmt::Display for LifecycleDate {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn is_leap_year(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: u16, month: u8, day: u8) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Deprecation and sunset of an endpoint (RFC 9745, RFC 8594).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lifecycle {
    /// `deprecated = "YYYY-MM-DD"`: from this date on, responses carry `Deprecation`.
    pub deprecated: Option<LifecycleDate>,
    /// `sunset = "YYYY-MM-DD"`: the date the endpoint goes away (`Sunset`; 410 after it).
    pub sunset: Option<LifecycleDate>,
    /// `successor = "/api/v2/..."`: the successor version's URL, for
    /// `Link: <...>; rel="successor-version"`. Only with `deprecated` or `sunset`.
    pub successor: Option<&'static str>,
}

impl Lifecycle {
    /// Neither deprecated nor sunset.
    pub const NONE: Lifecycle = Lifecycle {
        deprecated: None,
        sunset: None,
        successor: None,
    };

    /// `true` when the endpoint is neither deprecated nor sunset.
    pub fn is_none(&self) -> bool {
        self.deprecated.is_none() && self.sunset.is_none()
    }
}

/// `102400` → `100 KiB`: the largest binary unit that divides the size.
pub(crate) fn byte_size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    const GIB: usize = 1024 * 1024 * 1024;
    match bytes {
        0 => "0 B".to_owned(),
        b if b.is_multiple_of(GIB) => format!("{} GiB", b / GIB),
        b if b.is_multiple_of(MIB) => format!("{} MiB", b / MIB),
        b if b.is_multiple_of(KIB) => format!("{} KiB", b / KIB),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> LifecycleDate {
        LifecycleDate::parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn lifecycle_dates_parse_real_calendar_dates_only() {
        assert_eq!(
            date("2026-06-30"),
            LifecycleDate {
                year: 2026,
                month: 6,
                day: 30,
                unix: 1_782_777_600
            }
        );
        // Leap years: every 4th, not every 100th, but every 400th.
        assert!(LifecycleDate::parse("2024-02-29").is_some());
        assert!(LifecycleDate::parse("2000-02-29").is_some());
        assert!(LifecycleDate::parse("2026-02-29").is_none());
        assert!(LifecycleDate::parse("2100-02-29").is_none());
        assert!(LifecycleDate::parse("2026-02-30").is_none());
        assert!(LifecycleDate::parse("2026-04-31").is_none());
        assert!(LifecycleDate::parse("2026-12-31").is_some());
        for bad in [
            "",
            "2026-6-30",
            "2026-06-3",
            "2026/06/30",
            "30-06-2026",
            "2026-00-10",
            "2026-13-01",
            "2026-01-00",
            "2026-01-32",
            "1969-12-31",
            "+026-06-30",
            "2026-06-30 ",
            "2026-06-30T00:00:00Z",
            "２０２６-06-30",
        ] {
            assert_eq!(LifecycleDate::parse(bad), None, "{bad:?}");
        }
        assert!(LifecycleDate::parse("1970-01-01").is_some());
        assert!(LifecycleDate::parse("9999-12-31").is_some());
    }

    #[test]
    fn lifecycle_dates_know_their_unix_time() {
        assert_eq!(date("1970-01-01").unix, 0);
        assert_eq!(date("1970-01-02").unix, 86_400);
        assert_eq!(date("2000-03-01").unix, 951_868_800);
        assert_eq!(date("2026-06-30").unix, 1_782_777_600);
        assert_eq!(date("9999-12-31").unix, 253_402_214_400);
    }

    #[test]
    fn lifecycle_dates_order_chronologically_and_display_as_written() {
        assert!(date("2026-06-30") < date("2026-12-31"));
        assert!(date("2025-12-31") < date("2026-01-01"));
        assert_eq!(date("2026-06-30").to_string(), "2026-06-30");
        assert_eq!(date("1970-01-01").to_string(), "1970-01-01");
    }

    #[test]
    fn lifecycle_dates_as_http_dates() {
        assert_eq!(
            date("2026-06-30").http_date(),
            "Tue, 30 Jun 2026 00:00:00 GMT"
        );
        assert_eq!(
            date("1970-01-01").http_date(),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(
            date("2000-02-29").http_date(),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(
            date("2026-12-31").http_date(),
            "Thu, 31 Dec 2026 00:00:00 GMT"
        );
        assert_eq!(
            date("2026-03-01").http_date(),
            "Sun, 01 Mar 2026 00:00:00 GMT"
        );
    }

    #[test]
    fn lifecycle_none() {
        assert!(Lifecycle::NONE.is_none());
        assert_eq!(Lifecycle::default(), Lifecycle::NONE);
        assert!(!Lifecycle {
            sunset: Some(date("2026-12-31")),
            ..Lifecycle::NONE
        }
        .is_none());
    }

    #[test]
    fn rate_display_uses_the_largest_whole_unit() {
        assert_eq!(
            RateSpec {
                count: 100,
                period_secs: 900
            }
            .to_string(),
            "100/15m"
        );
        assert_eq!(
            RateSpec {
                count: 5,
                period_secs: 3600
            }
            .to_string(),
            "5/1h"
        );
        assert_eq!(
            RateSpec {
                count: 5,
                period_secs: 90
            }
            .to_string(),
            "5/90s"
        );
        assert_eq!(
            RateSpec {
                count: 1,
                period_secs: 172_800
            }
            .to_string(),
            "1/2d"
        );
    }
}

/// The limits of a GraphQL endpoint (`graphql = LIMITS` in the contract): a constant, so the
/// inventory shows what the runtime enforces. The router counts and refuses batches by
/// `max_batch` and charges each operation of a batch to the rate limit; the executor
/// (`graphql::SecureSchema`, feature `graphql`) applies the rest to every operation.
///
/// ```
/// use secure_endpoint::policy::GraphQlLimits;
/// const LIMITS: GraphQlLimits = GraphQlLimits {
///     max_depth: 5,
///     introspection_role: Some("admin"),
///     ..GraphQlLimits::DEFAULT
/// };
/// assert_eq!(LIMITS.max_batch, 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphQlLimits {
    /// Deepest selection nesting (a depth bomb is refused before it runs).
    pub max_depth: usize,
    /// Highest complexity: the sum of field costs, multiplied by list sizes where the schema
    /// says so (async-graphql's `complexity` attributes).
    pub max_complexity: usize,
    /// Most aliases in one document (an alias flood is refused).
    pub max_aliases: usize,
    /// Most fields selected at the root of an operation.
    pub max_root_fields: usize,
    /// Most operations in one batch; each one costs one request of the endpoint's rate.
    pub max_batch: usize,
    /// The role a caller needs for introspection (`__schema`, `__type`); `None`: nobody.
    pub introspection_role: Option<&'static str>,
    /// Only documents in the persisted-query allowlist run (by SHA-256); others are refused.
    pub persisted_only: bool,
}

impl GraphQlLimits {
    /// Depth 10, complexity 1 000, 20 aliases, 10 root fields, 10 operations per batch, no
    /// introspection, any document.
    pub const DEFAULT: GraphQlLimits = GraphQlLimits {
        max_depth: 10,
        max_complexity: 1_000,
        max_aliases: 20,
        max_root_fields: 10,
        max_batch: 10,
        introspection_role: None,
        persisted_only: false,
    };
}
