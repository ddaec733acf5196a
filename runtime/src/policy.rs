//! The policy an endpoint declares: plain `const` data the macro emits and the runtime reads.

use std::fmt;

use serde::Serialize;

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
}

impl AuthScheme {
    /// The name used in the attribute.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthScheme::Jwt => "jwt",
            AuthScheme::ApiKey => "api_key",
            AuthScheme::Hmac => "hmac",
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
}

/// What an authenticated caller must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// The path parameter, e.g. `user_id`.
    pub param: &'static str,
    /// Without a loader the parameter must equal the principal's subject; with one, the loaded
    /// resource's owner must. The name of the loader type, for the inventory.
    pub loader: Option<&'static str>,
}

/// `count` requests per `period_secs` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
