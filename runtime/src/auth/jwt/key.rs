//! Verification keys: one algorithm each, optionally named by a `kid`.

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey};

use super::jwks::VerifyKey;
use crate::error::ConfigError;

/// HS256 needs a key at least as long as the hash (RFC 7518 §3.2).
pub(super) const MIN_HMAC_SECRET: usize = 32;

/// A verification key bound to one algorithm, optionally named by a `kid`.
#[derive(Clone)]
pub struct JwtKey(pub(super) VerifyKey);

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKey")
            .field("alg", &self.0.alg)
            .field("kid", &self.0.kid)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl JwtKey {
    /// An HS256 shared secret of at least 32 bytes.
    pub fn hs256(secret: &[u8]) -> Result<Self, ConfigError> {
        if secret.len() < MIN_HMAC_SECRET {
            return Err(ConfigError::new(
                "an HS256 secret must be at least 32 bytes (RFC 7518 §3.2)",
            ));
        }
        Ok(Self::bound(
            Algorithm::HS256,
            DecodingKey::from_secret(secret),
        ))
    }

    /// An RS256 public key in PEM (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`).
    pub fn rs256_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        DecodingKey::from_rsa_pem(pem)
            .map(|k| Self::bound(Algorithm::RS256, k))
            .map_err(|_| ConfigError::new("not an RSA public key in PEM"))
    }

    /// An ES256 (P-256) public key in PEM.
    pub fn es256_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        DecodingKey::from_ec_pem(pem)
            .map(|k| Self::bound(Algorithm::ES256, k))
            .map_err(|_| ConfigError::new("not an EC public key in PEM"))
    }

    /// An EdDSA (Ed25519) public key in PEM.
    pub fn eddsa_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        DecodingKey::from_ed_pem(pem)
            .map(|k| Self::bound(Algorithm::EdDSA, k))
            .map_err(|_| ConfigError::new("not an Ed25519 public key in PEM"))
    }

    /// Names the key: tokens whose header has this `kid` are verified with it.
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.0.kid = Some(kid.into());
        self
    }

    fn bound(alg: Algorithm, key: DecodingKey) -> Self {
        JwtKey(VerifyKey {
            kid: None,
            alg,
            key,
        })
    }
}

/// The algorithms a key can be bound to, by their exact JOSE names.
pub(super) fn algorithm(name: &str) -> Option<Algorithm> {
    Some(match name {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}
