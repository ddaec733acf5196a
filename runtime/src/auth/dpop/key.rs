//! The client side: a DPoP key that signs proofs (for Rust clients, tests and benchmarks).
//!
//! Signing uses p256 and ed25519-dalek directly (both already built for RFC 9421): the proof's
//! `jwk` header needs the public key's coordinates, which jsonwebtoken cannot derive from an
//! Ed25519 private key.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::proof::{access_token_hash, jwk_thumbprint};
use crate::error::ConfigError;

enum Signing {
    Es256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

/// A client's DPoP key pair: signs proofs, and names its public key by thumbprint (the
/// `cnf.jkt` of tokens bound to it). `Debug` shows the algorithm and thumbprint only.
pub struct DpopKey {
    signing: Signing,
    jwk: Map<String, Value>,
    thumbprint: String,
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("alg", &self.alg())
            .field("thumbprint", &self.thumbprint)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// What a proof says about its request (RFC 9449 §4.2).
#[derive(Debug, Clone, Copy)]
pub struct ProofRequest<'a> {
    /// `htm`: the request method, e.g. `GET`.
    pub method: &'a str,
    /// `htu`: the target URI without query and fragment, e.g. `https://api.example.com/me`.
    pub uri: &'a str,
    /// The access token sent with the proof (`ath` is its hash); `None` at a token endpoint.
    pub access_token: Option<&'a str>,
    /// The server's latest `DPoP-Nonce`, if it gave one.
    pub nonce: Option<&'a str>,
}

impl DpopKey {
    /// An ES256 (P-256) key from a PKCS#8 PEM private key (`BEGIN PRIVATE KEY`).
    pub fn es256_pkcs8_pem(pem: &str) -> Result<Self, ConfigError> {
        use p256::pkcs8::DecodePrivateKey as _;
        let key = p256::ecdsa::SigningKey::from_pkcs8_pem(pem)
            .map_err(|_| ConfigError::new("not a P-256 private key in PKCS#8 PEM"))?;
        let point = key.verifying_key().to_encoded_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err(ConfigError::new("not a P-256 private key in PKCS#8 PEM"));
        };
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(x),
            "y": URL_SAFE_NO_PAD.encode(y),
        });
        Ok(Self::with(Signing::Es256(key), jwk))
    }

    /// An EdDSA (Ed25519) key from its 32-byte seed (the private key).
    pub fn ed25519_seed(seed: &[u8; 32]) -> Self {
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        let jwk = json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
        });
        Self::with(Signing::Ed25519(key), jwk)
    }

    fn with(signing: Signing, jwk: Value) -> Self {
        let Value::Object(jwk) = jwk else {
            unreachable!("built as an object above")
        };
        let thumbprint = jwk_thumbprint(&jwk).expect("a public EC or OKP JWK has a thumbprint");
        DpopKey {
            signing,
            jwk,
            thumbprint,
        }
    }

    /// The JWS algorithm: `ES256` or `EdDSA`.
    pub fn alg(&self) -> &'static str {
        match self.signing {
            Signing::Es256(_) => "ES256",
            Signing::Ed25519(_) => "EdDSA",
        }
    }

    /// The RFC 7638 SHA-256 thumbprint of the public key: the `cnf.jkt` of bound tokens.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The public key as a JWK (what a proof's `jwk` header carries).
    pub fn public_jwk(&self) -> &Map<String, Value> {
        &self.jwk
    }

    /// A fresh proof for `request`, issued now with a random `jti`.
    pub fn proof(&self, request: ProofRequest<'_>) -> String {
        let jti = uuid::Uuid::new_v4().simple().to_string();
        self.proof_with(request, crate::auth::signature::unix_now(), &jti)
    }

    /// A proof for `request` with the given `iat` and `jti` (for tests of stale or replayed
    /// proofs).
    pub fn proof_with(&self, request: ProofRequest<'_>, iat: u64, jti: &str) -> String {
        let mut claims = json!({
            "jti": jti,
            "htm": request.method,
            "htu": request.uri,
            "iat": iat,
        });
        if let Some(token) = request.access_token {
            claims["ath"] = Value::String(access_token_hash(token));
        }
        if let Some(nonce) = request.nonce {
            claims["nonce"] = Value::String(nonce.to_owned());
        }
        self.sign_claims(&claims)
    }

    /// Signs arbitrary claims as a proof (`typ: dpop+jwt`, this key's `alg` and `jwk`).
    pub fn sign_claims(&self, claims: &Value) -> String {
        let header = json!({ "typ": "dpop+jwt", "alg": self.alg(), "jwk": self.jwk });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match &self.signing {
            Signing::Es256(key) => {
                use p256::ecdsa::signature::Signer as _;
                let signature: p256::ecdsa::Signature = key.sign(signing_input.as_bytes());
                URL_SAFE_NO_PAD.encode(signature.to_bytes())
            }
            Signing::Ed25519(key) => {
                use ed25519_dalek::Signer as _;
                URL_SAFE_NO_PAD.encode(key.sign(signing_input.as_bytes()).to_bytes())
            }
        };
        format!("{signing_input}.{signature}")
    }
}
