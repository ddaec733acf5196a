//! JWT bearer authentication with jsonwebtoken.
//!
//! What is checked, on top of the signature:
//! - the algorithm is on an explicit allowlist of one family (HS256 by default); `alg: none`
//!   cannot be expressed and is refused, so is any algorithm the key was not made for;
//! - `exp`, `iss`, `aud` and `sub` are required; `iss` must be a single string equal to the
//!   configured issuer; `aud` must contain the configured audience; `nbf` is honoured;
//! - leeway is 5 seconds by default (jsonwebtoken's own default is 60);
//! - tokens over 8 KiB are refused before any decoding; duplicate claims are refused.
//!
//! Verified tokens are cached (10 000 by default, see [`JwtVerifierBuilder::token_cache`]), so
//! a token seen again costs a hash and a lookup, not a signature check.
//!
//! Every failure gives the same 401 with `WWW-Authenticate: Bearer error="invalid_token"`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::cache::TokenCache;
use super::{AuthFailure, Principal};
use crate::policy::AuthScheme;

/// Largest bearer token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Default number of verified tokens kept.
pub const DEFAULT_TOKEN_CACHE: usize = 10_000;

/// Default clock-skew allowance.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(5);

/// A configuration mistake, reported when the verifier or issuer is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(&'static str);

impl ConfigError {
    pub(crate) const fn new(what: &'static str) -> Self {
        ConfigError(what)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Verifies bearer JWTs and turns their claims into a [`Principal`].
#[derive(Clone)]
pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
    issuer: String,
    cache: Option<Arc<TokenCache>>,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("algorithms", &self.validation.algorithms)
            .field("issuer", &self.issuer)
            .field("leeway_secs", &self.validation.leeway)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// Builds a [`JwtVerifier`]; `issuer` and `audience` are mandatory.
#[must_use]
pub struct JwtVerifierBuilder {
    key: DecodingKey,
    algorithm: Algorithm,
    issuer: Option<String>,
    audience: Vec<String>,
    leeway: Duration,
    cache_capacity: usize,
}

impl fmt::Debug for JwtVerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifierBuilder")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// HS256 needs a key at least as long as the hash (RFC 7518 §3.2).
const MIN_HMAC_SECRET: usize = 32;

impl JwtVerifier {
    /// HS256 with a shared secret of at least 32 bytes.
    pub fn hs256(secret: &[u8]) -> Result<JwtVerifierBuilder, ConfigError> {
        if secret.len() < MIN_HMAC_SECRET {
            return Err(ConfigError(
                "an HS256 secret must be at least 32 bytes (RFC 7518 §3.2)",
            ));
        }
        Ok(JwtVerifierBuilder {
            key: DecodingKey::from_secret(secret),
            algorithm: Algorithm::HS256,
            issuer: None,
            audience: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            cache_capacity: DEFAULT_TOKEN_CACHE,
        })
    }

    /// Verifies `Authorization: Bearer <token>` from the request.
    pub fn authenticate(&self, parts: &Parts) -> Result<Principal, AuthFailure> {
        let token = bearer_token(parts)?;
        self.verify(token)
    }

    /// Verifies a compact JWS and returns its principal.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthFailure> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthFailure::Invalid);
        }
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(principal) = self.cache.as_ref().and_then(|c| c.get(token, now)) {
            return Ok(principal);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|_| AuthFailure::Invalid)?;
        let claims = data.claims;
        if claims.iss != self.issuer || claims.sub.is_empty() {
            return Err(AuthFailure::Invalid);
        }
        let mut scopes = claims.scopes;
        if let Some(scope) = claims.scope {
            scopes.extend(scope.split_ascii_whitespace().map(str::to_owned));
        }
        let principal = Principal::new(claims.sub, claims.roles, scopes, AuthScheme::Jwt);
        if let Some(cache) = &self.cache {
            cache.insert(token, principal.clone(), claims.exp, now);
        }
        Ok(principal)
    }

    /// Number of verified tokens currently cached.
    pub fn cached_tokens(&self) -> usize {
        self.cache.as_ref().map_or(0, |c| c.len())
    }
}

impl JwtVerifierBuilder {
    /// The required `iss`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// An accepted `aud` (call again to accept several).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience.push(audience.into());
        self
    }

    /// Clock-skew allowance for `exp` and `nbf` (default 5 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Keeps up to `capacity` verified tokens (default 10 000); `0` turns the cache off.
    pub fn token_cache(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// Builds the verifier.
    pub fn build(self) -> Result<JwtVerifier, ConfigError> {
        let issuer = self
            .issuer
            .ok_or(ConfigError("a JWT verifier needs an issuer"))?;
        if self.audience.is_empty() {
            return Err(ConfigError("a JWT verifier needs at least one audience"));
        }
        let mut validation = Validation::new(self.algorithm);
        validation.algorithms = vec![self.algorithm];
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&self.audience);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.leeway = self.leeway.as_secs();
        let cache =
            (self.cache_capacity > 0).then(|| Arc::new(TokenCache::new(self.cache_capacity)));
        Ok(JwtVerifier {
            key: self.key,
            validation,
            issuer,
            cache,
        })
    }
}

/// The claims the verifier reads. Unknown claims are ignored; a claim given twice is refused.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    /// A single string: an array `iss` is refused (jsonwebtoken alone would accept a subset).
    iss: String,
    /// Seconds since the epoch; jsonwebtoken has checked it, the cache honours it.
    exp: u64,
    #[serde(default)]
    roles: Vec<String>,
    /// OAuth 2.0 space-separated scopes.
    #[serde(default)]
    scope: Option<String>,
    /// Scopes as an array.
    #[serde(default)]
    scopes: Vec<String>,
}

/// The token from `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750).
pub fn bearer_token(parts: &Parts) -> Result<&str, AuthFailure> {
    let mut values = parts.headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthFailure::Missing)?;
    if values.next().is_some() {
        return Err(AuthFailure::Invalid);
    }
    let bytes = value.as_bytes();
    let Some((scheme, token)) = bytes.split_at_checked(7) else {
        return Err(AuthFailure::Invalid);
    };
    if !scheme.eq_ignore_ascii_case(b"bearer ") || token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(AuthFailure::Invalid);
    }
    // The characters are left to the base64url decoder, which refuses anything else.
    std::str::from_utf8(token).map_err(|_| AuthFailure::Invalid)
}

/// Issues tokens the matching [`JwtVerifier`] accepts (for login endpoints and tests).
#[derive(Clone)]
pub struct JwtIssuer {
    key: EncodingKey,
    algorithm: Algorithm,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl fmt::Debug for JwtIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtIssuer")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .field("key", &"[redacted]")
            .finish()
    }
}

#[derive(Serialize)]
struct IssuedClaims<'a> {
    sub: &'a str,
    iss: &'a str,
    aud: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    roles: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

impl JwtIssuer {
    /// HS256 tokens for `issuer`/`audience`, valid for `ttl`.
    pub fn hs256(
        secret: &[u8],
        issuer: impl Into<String>,
        audience: impl Into<String>,
        ttl: Duration,
    ) -> Result<Self, ConfigError> {
        if secret.len() < MIN_HMAC_SECRET {
            return Err(ConfigError(
                "an HS256 secret must be at least 32 bytes (RFC 7518 §3.2)",
            ));
        }
        Ok(JwtIssuer {
            key: EncodingKey::from_secret(secret),
            algorithm: Algorithm::HS256,
            issuer: issuer.into(),
            audience: audience.into(),
            ttl,
        })
    }

    /// A signed token for `subject` with `roles` and `scopes`.
    pub fn issue(&self, subject: &str, roles: &[String], scopes: &[String]) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = IssuedClaims {
            sub: subject,
            iss: &self.issuer,
            aud: &self.audience,
            iat: now,
            nbf: now,
            exp: now + self.ttl.as_secs(),
            roles,
            scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.key)
            .expect("HS256 signing of serializable claims cannot fail")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn verifier() -> JwtVerifier {
        JwtVerifier::hs256(SECRET)
            .unwrap()
            .issuer("iss")
            .audience("aud")
            .build()
            .unwrap()
    }

    #[test]
    fn round_trip_with_roles_and_scopes() {
        let issuer = JwtIssuer::hs256(SECRET, "iss", "aud", Duration::from_secs(60)).unwrap();
        let token = issuer.issue(
            "alice",
            &["admin".into()],
            &["a:read".into(), "b:write".into()],
        );
        let p = verifier().verify(&token).unwrap();
        assert_eq!(p.subject(), "alice");
        assert!(p.has_role("admin"));
        assert!(p.has_scope("b:write"));
    }

    #[test]
    fn wrong_issuer_audience_and_short_secret_are_refused() {
        let other = JwtIssuer::hs256(SECRET, "other", "aud", Duration::from_secs(60)).unwrap();
        assert_eq!(
            verifier().verify(&other.issue("a", &[], &[])).unwrap_err(),
            AuthFailure::Invalid
        );
        let other = JwtIssuer::hs256(SECRET, "iss", "other", Duration::from_secs(60)).unwrap();
        assert_eq!(
            verifier().verify(&other.issue("a", &[], &[])).unwrap_err(),
            AuthFailure::Invalid
        );
        assert!(JwtVerifier::hs256(b"short").is_err());
        assert!(JwtVerifier::hs256(SECRET)
            .unwrap()
            .issuer("i")
            .build()
            .is_err());
    }

    #[test]
    fn cache_serves_repeats_and_never_a_different_token() {
        let v = verifier();
        let issuer = JwtIssuer::hs256(SECRET, "iss", "aud", Duration::from_secs(60)).unwrap();
        let token = issuer.issue("alice", &[], &[]);
        assert_eq!(v.verify(&token).unwrap().subject(), "alice");
        assert_eq!(v.cached_tokens(), 1);
        assert_eq!(v.verify(&token).unwrap().subject(), "alice");
        // A tampered copy is verified (and refused), not served from the cache.
        let mut tampered = token.clone();
        tampered.pop();
        assert!(v.verify(&tampered).is_err());
        assert_eq!(v.cached_tokens(), 1);
        let off = JwtVerifier::hs256(SECRET)
            .unwrap()
            .issuer("iss")
            .audience("aud")
            .token_cache(0)
            .build()
            .unwrap();
        off.verify(&token).unwrap();
        assert_eq!(off.cached_tokens(), 0);
    }

    #[test]
    fn debug_never_shows_the_key() {
        let s = format!("{:?}", verifier());
        assert!(s.contains("[redacted]"));
        assert!(!s.contains("0123456789abcdef"));
    }
}
