//! The security configuration a [`SecureRouter`](crate::SecureRouter) enforces endpoints with.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::api_key::ApiKeyStore;
use crate::auth::hmac::HmacVerifier;
use crate::auth::jwt::JwtVerifier;
use crate::body::DEFAULT_BODY_LIMIT;
use crate::policy::RateSpec;
use crate::rate::RateLimiter;

/// Shared, immutable security configuration. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Security {
    pub(crate) engine: Arc<Engine>,
}

#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) jwt: Option<JwtVerifier>,
    pub(crate) api_keys: Option<Arc<dyn ApiKeyStore>>,
    pub(crate) hmac: Option<HmacVerifier>,
    /// Applies to endpoints that declare no `rate`, per principal (or per IP when public).
    pub(crate) default_limiter: Arc<RateLimiter>,
    /// Applies to every request, per client IP, before any authentication work.
    pub(crate) ip_limiter: Option<Arc<RateLimiter>>,
    pub(crate) body_limit: usize,
}

/// Builds a [`Security`]. Defaults are safe: a general limit of 300 requests per minute per
/// principal for endpoints without `rate`, a pre-authentication limit of 6000 requests per
/// minute per client IP, and a 64 KiB body limit.
#[derive(Debug)]
#[must_use]
pub struct SecurityBuilder {
    jwt: Option<JwtVerifier>,
    api_keys: Option<Arc<dyn ApiKeyStore>>,
    hmac: Option<HmacVerifier>,
    default_rate: RateSpec,
    ip_rate: Option<RateSpec>,
    body_limit: usize,
}

impl Security {
    /// Starts a configuration.
    pub fn builder() -> SecurityBuilder {
        SecurityBuilder {
            jwt: None,
            api_keys: None,
            hmac: None,
            default_rate: RateSpec::new(300, Duration::from_secs(60)),
            ip_rate: Some(RateSpec::new(6000, Duration::from_secs(60))),
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }
}

impl SecurityBuilder {
    /// Verifies `auth = "jwt"` endpoints with `verifier`.
    pub fn jwt(mut self, verifier: JwtVerifier) -> Self {
        self.jwt = Some(verifier);
        self
    }

    /// Verifies `auth = "api_key"` endpoints against `store`.
    pub fn api_keys(mut self, store: Arc<dyn ApiKeyStore>) -> Self {
        self.api_keys = Some(store);
        self
    }

    /// Verifies `auth = "hmac"` endpoints (signed requests, see `docs/hmac.md`) with `verifier`.
    pub fn hmac(mut self, verifier: HmacVerifier) -> Self {
        self.hmac = Some(verifier);
        self
    }

    /// The limit for endpoints that declare no `rate`.
    pub fn default_rate(mut self, rate: RateSpec) -> Self {
        self.default_rate = rate;
        self
    }

    /// The per-client-IP limit checked before authentication; `None` disables it.
    pub fn ip_rate(mut self, rate: Option<RateSpec>) -> Self {
        self.ip_rate = rate;
        self
    }

    /// The largest request body any endpoint accepts, in bytes.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Finishes the configuration.
    pub fn build(self) -> Security {
        Security {
            engine: Arc::new(Engine {
                jwt: self.jwt,
                api_keys: self.api_keys,
                hmac: self.hmac,
                default_limiter: Arc::new(RateLimiter::new("default", self.default_rate)),
                ip_limiter: self.ip_rate.map(|r| Arc::new(RateLimiter::new("ip", r))),
                body_limit: self.body_limit,
            }),
        }
    }
}
