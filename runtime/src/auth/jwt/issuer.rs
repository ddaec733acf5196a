//! [`JwtIssuer`]: tokens the matching verifier accepts, for login endpoints and tests.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use super::key::MIN_HMAC_SECRET;
use crate::error::ConfigError;

/// Issues tokens the matching [`JwtVerifier`](super::JwtVerifier) accepts (for login endpoints and tests).
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
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<Confirmation<'a>>,
}

/// RFC 7800 `cnf`: the key a token is bound to.
#[derive(Serialize)]
struct Confirmation<'a> {
    /// RFC 9449 §6.1: the DPoP key's JWK SHA-256 thumbprint.
    jkt: &'a str,
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
            return Err(ConfigError::new(
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
        self.issue_with(subject, roles, scopes, None)
    }

    fn issue_with(
        &self,
        subject: &str,
        roles: &[String],
        scopes: &[String],
        jkt: Option<&str>,
    ) -> String {
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
            cnf: jkt.map(|jkt| Confirmation { jkt }),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.key)
            .expect("HS256 signing of serializable claims cannot fail")
    }

    /// A token bound to the DPoP key with thumbprint `jkt` (`cnf.jkt`, RFC 9449 §6.1), e.g.
    /// from [`DpopVerifier::token_request`](crate::dpop::DpopVerifier::token_request): it is
    /// accepted only with a proof signed by that key, never as `Bearer`.
    pub fn issue_bound(
        &self,
        subject: &str,
        roles: &[String],
        scopes: &[String],
        jkt: &str,
    ) -> String {
        self.issue_with(subject, roles, scopes, Some(jkt))
    }
}
