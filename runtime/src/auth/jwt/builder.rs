//! [`JwtVerifierBuilder`]: keys or a JWKS source, issuer, audiences and the claims to read.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::cache::TokenCache;
use super::jwks::{Jwks, JwksSource};
use super::{
    ClaimNames, Inner, JwtKey, JwtVerifier, DEFAULT_LEEWAY, DEFAULT_TOKEN_CACHE, MAX_TOKEN_LEN,
};
use crate::auth::credential::Credentials;
use crate::error::ConfigError;

/// Builds a [`JwtVerifier`]: at least one key or a JWKS source, an issuer and an audience.
#[must_use]
pub struct JwtVerifierBuilder {
    keys: Vec<JwtKey>,
    jwks: Option<JwksSource>,
    issuer: Option<String>,
    audience: Vec<String>,
    leeway: Duration,
    max_len: usize,
    types: Vec<String>,
    claims: ClaimNames,
    cache_capacity: usize,
    credentials: Credentials,
}

impl fmt::Debug for JwtVerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifierBuilder")
            .field("keys", &self.keys)
            .field("jwks", &self.jwks)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// A verifier to configure: add keys with [`JwtVerifierBuilder::key`] or
    /// [`JwtVerifierBuilder::jwks`].
    pub fn builder() -> JwtVerifierBuilder {
        JwtVerifierBuilder {
            keys: Vec::new(),
            jwks: None,
            issuer: None,
            audience: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            max_len: MAX_TOKEN_LEN,
            types: Vec::new(),
            claims: ClaimNames {
                subject: "sub".into(),
                roles: "roles".into(),
                scopes: vec!["scope".into(), "scopes".into()],
            },
            cache_capacity: DEFAULT_TOKEN_CACHE,
            credentials: Credentials::default(),
        }
    }

    /// HS256 with a shared secret of at least 32 bytes.
    pub fn hs256(secret: &[u8]) -> Result<JwtVerifierBuilder, ConfigError> {
        Ok(Self::builder().key(JwtKey::hs256(secret)?))
    }
}

impl JwtVerifierBuilder {
    /// Adds a verification key (call again for several, e.g. during a rotation).
    pub fn key(mut self, key: JwtKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Takes keys by `kid` from a JWKS document.
    pub fn jwks(mut self, source: JwksSource) -> Self {
        self.jwks = Some(source);
        self
    }

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

    /// Clock-skew allowance for `exp`, `nbf` and `iat` (default 5 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Largest token accepted, in bytes (default 8 KiB).
    pub fn max_token_len(mut self, bytes: usize) -> Self {
        self.max_len = bytes;
        self
    }

    /// Requires the header's `typ` to be this media type (call again to accept several), e.g.
    /// `at+jwt` for OAuth access tokens (RFC 9068). Without it, `typ` may be absent or `JWT`.
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.types.push(typ.into());
        self
    }

    /// The claim holding the subject (default `sub`). A dotted path reads nested objects.
    pub fn subject_claim(mut self, claim: impl Into<String>) -> Self {
        self.claims.subject = claim.into();
        self
    }

    /// The claim holding the roles, an array of strings (default `roles`; e.g.
    /// `realm_access.roles` for Keycloak).
    pub fn roles_claim(mut self, claim: impl Into<String>) -> Self {
        self.claims.roles = claim.into();
        self
    }

    /// The claim holding the scopes, a space-separated string or an array of strings (default
    /// `scope` and `scopes`; e.g. `scp`). Replaces the defaults; call again to read several.
    pub fn scopes_claim(mut self, claim: impl Into<String>) -> Self {
        if self.claims.scopes == ["scope", "scopes"] {
            self.claims.scopes.clear();
        }
        self.claims.scopes.push(claim.into());
        self
    }

    /// Where the token is read (default `Authorization: Bearer`): another `Authorization`
    /// scheme (`Credentials::authorization("Token")` for RealWorld-style APIs), a header of
    /// its own, or a cookie (with its CSRF check), or several; the 401's `WWW-Authenticate`
    /// names them. See [`credential`](crate::auth::credential).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Keeps up to `capacity` verified tokens (default 10 000); `0` turns the cache off.
    pub fn token_cache(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// Builds the verifier. A JWKS file is read now; a JWKS URL is fetched on first use (call
    /// [`JwtVerifier::refresh_keys`] at start-up to fetch it before).
    pub fn build(self) -> Result<JwtVerifier, ConfigError> {
        let issuer = self
            .issuer
            .ok_or(ConfigError::new("a JWT verifier needs an issuer"))?;
        if self.audience.is_empty() {
            return Err(ConfigError::new(
                "a JWT verifier needs at least one audience",
            ));
        }
        if self.keys.is_empty() && self.jwks.is_none() {
            return Err(ConfigError::new(
                "a JWT verifier needs a key or a JWKS source",
            ));
        }
        let mut unnamed = std::collections::HashSet::new();
        let mut named = std::collections::HashSet::new();
        for JwtKey(key) in &self.keys {
            let fresh = match &key.kid {
                Some(kid) => named.insert(kid.clone()),
                None => unnamed.insert(format!("{:?}", key.alg)),
            };
            if !fresh {
                return Err(ConfigError::new(
                    "two keys share a kid (or two unnamed keys an algorithm)",
                ));
            }
        }
        let named_keys = self.jwks.is_some() || !named.is_empty();
        let jwks = self.jwks.map(Jwks::new).transpose()?;
        let cache = (self.cache_capacity > 0).then(|| TokenCache::new(self.cache_capacity));
        Ok(JwtVerifier {
            inner: Arc::new(Inner {
                keys: self.keys.into_iter().map(|k| k.0).collect(),
                jwks,
                named_keys,
                issuer,
                audiences: self.audience,
                leeway: self.leeway.as_secs(),
                max_len: self.max_len,
                types: self.types,
                claims: self.claims,
                cache,
                credentials: self.credentials,
            }),
        })
    }
}
