//! Keys a signature is verified or made with: [`Algorithm`] and [`SignatureKey`].

use std::fmt;

use ::hmac::Mac;
use sha2::Sha512;

use super::*;

/// The algorithms of RFC 9421 §3.3 this implementation verifies and signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `hmac-sha256` (§3.3.3).
    HmacSha256,
    /// `ed25519` (§3.3.6).
    Ed25519,
    /// `ecdsa-p256-sha256` (§3.3.4): the signature is r ‖ s, 64 bytes.
    EcdsaP256Sha256,
    /// `rsa-pss-sha512` (§3.3.1): verification only.
    RsaPssSha512,
}

impl Algorithm {
    /// The registered name, as in the `alg` parameter.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            Algorithm::RsaPssSha512 => "rsa-pss-sha512",
        }
    }
}

#[derive(Clone)]
pub(super) enum VerifyKey {
    Hmac(HmacSha256),
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    RsaPss(Box<rsa::pss::VerifyingKey<Sha512>>),
}

/// A key that signatures may be made with, and the principal they authenticate as.
///
/// `Debug` shows the subject and algorithm, never key material.
#[derive(Clone)]
pub struct SignatureKey {
    pub(super) key: VerifyKey,
    pub(super) subject: String,
    pub(super) roles: Vec<String>,
    pub(super) scopes: Vec<String>,
}

impl fmt::Debug for SignatureKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignatureKey")
            .field("alg", &self.algorithm().as_str())
            .field("subject", &self.subject)
            .field("roles", &self.roles)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl SignatureKey {
    pub(super) fn with(key: VerifyKey, subject: impl Into<String>) -> Self {
        SignatureKey {
            key,
            subject: subject.into(),
            roles: Vec::new(),
            scopes: Vec::new(),
        }
    }

    /// An `hmac-sha256` shared secret of at least 32 bytes.
    pub fn hmac_sha256(subject: impl Into<String>, secret: &[u8]) -> Result<Self, ConfigError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(ConfigError::new(
                "an hmac-sha256 signature key must be at least 32 bytes",
            ));
        }
        let mac =
            HmacSha256::new_from_slice(secret).map_err(|_| ConfigError::new("invalid HMAC key"))?;
        Ok(Self::with(VerifyKey::Hmac(mac), subject))
    }

    /// An `ed25519` public key, the 32 raw bytes.
    pub fn ed25519(subject: impl Into<String>, public_key: &[u8]) -> Result<Self, ConfigError> {
        let bytes: [u8; 32] = public_key
            .try_into()
            .map_err(|_| ConfigError::new("an ed25519 public key is 32 bytes"))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| ConfigError::new("invalid ed25519 public key"))?;
        Ok(Self::with(VerifyKey::Ed25519(key), subject))
    }

    /// An `ecdsa-p256-sha256` public key, as a PEM `PUBLIC KEY` (SPKI).
    pub fn ecdsa_p256_pem(subject: impl Into<String>, pem: &str) -> Result<Self, ConfigError> {
        use p256::pkcs8::DecodePublicKey as _;
        let key = p256::ecdsa::VerifyingKey::from_public_key_pem(pem)
            .map_err(|_| ConfigError::new("invalid P-256 public key PEM"))?;
        Ok(Self::with(VerifyKey::P256(key), subject))
    }

    /// An `rsa-pss-sha512` public key, as a PEM `PUBLIC KEY` (SPKI) of 2048 bits or more.
    pub fn rsa_pss_sha512_pem(subject: impl Into<String>, pem: &str) -> Result<Self, ConfigError> {
        use rsa::pkcs8::DecodePublicKey as _;
        use rsa::traits::PublicKeyParts as _;
        let key = rsa::RsaPublicKey::from_public_key_pem(pem)
            .map_err(|_| ConfigError::new("invalid RSA public key PEM"))?;
        if key.size() < 256 {
            return Err(ConfigError::new("an RSA key must have at least 2048 bits"));
        }
        Ok(Self::with(
            VerifyKey::RsaPss(Box::new(rsa::pss::VerifyingKey::new(key))),
            subject,
        ))
    }

    /// Roles granted to the principal (replacing any set before).
    #[must_use]
    pub fn roles(mut self, roles: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Scopes granted to the principal (replacing any set before).
    #[must_use]
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self.key {
            VerifyKey::Hmac(_) => Algorithm::HmacSha256,
            VerifyKey::Ed25519(_) => Algorithm::Ed25519,
            VerifyKey::P256(_) => Algorithm::EcdsaP256Sha256,
            VerifyKey::RsaPss(_) => Algorithm::RsaPssSha512,
        }
    }

    /// `true` if `signature` is this key's signature of `base`.
    pub fn verify(&self, base: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::Verifier as _;
        match &self.key {
            VerifyKey::Hmac(mac) => {
                let mut mac = mac.clone();
                mac.update(base);
                mac.verify_slice(signature).is_ok()
            }
            VerifyKey::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|s| key.verify_strict(base, &s).is_ok()),
            VerifyKey::P256(key) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|s| key.verify(base, &s).is_ok()),
            VerifyKey::RsaPss(key) => {
                rsa::pss::Signature::try_from(signature).is_ok_and(|s| key.verify(base, &s).is_ok())
            }
        }
    }
}
