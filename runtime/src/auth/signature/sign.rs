//! The client side: [`SignatureSigner`] signs requests (RFC 9421), for Rust clients and tests.

use std::fmt;

use ::hmac::Mac;
use base64::Engine as _;
use http::request::Parts;
use http::HeaderValue;
use sfv::{BareItem, InnerList, Item};

use super::*;

#[derive(Clone)]
pub(super) enum SignKey {
    Hmac(HmacSha256),
    Ed25519(Box<ed25519_dalek::SigningKey>),
    P256(Box<p256::ecdsa::SigningKey>),
}

/// Signs requests for a server that verifies RFC 9421 signatures. `Debug` shows the key id.
#[derive(Clone)]
pub struct SignatureSigner {
    pub(super) key_id: String,
    pub(super) key: SignKey,
    pub(super) components: Vec<String>,
    pub(super) label: String,
}

impl fmt::Debug for SignatureSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignatureSigner")
            .field("key_id", &self.key_id)
            .field("components", &self.components)
            .finish_non_exhaustive()
    }
}

impl SignatureSigner {
    pub(super) fn with(key_id: impl Into<String>, key: SignKey) -> Self {
        SignatureSigner {
            key_id: key_id.into(),
            key,
            components: DEFAULT_REQUIRED.iter().map(|s| (*s).to_owned()).collect(),
            label: "sig1".to_owned(),
        }
    }

    /// Signs with `hmac-sha256` and a shared secret.
    pub fn hmac_sha256(key_id: impl Into<String>, secret: &[u8]) -> Self {
        let mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
        Self::with(key_id, SignKey::Hmac(mac))
    }

    /// Signs with `ed25519` and the 32-byte secret key (seed).
    pub fn ed25519(key_id: impl Into<String>, secret_key: &[u8; 32]) -> Self {
        let key = ed25519_dalek::SigningKey::from_bytes(secret_key);
        Self::with(key_id, SignKey::Ed25519(Box::new(key)))
    }

    /// Signs with `ecdsa-p256-sha256` and the 32-byte secret scalar.
    pub fn ecdsa_p256(key_id: impl Into<String>, secret_key: &[u8]) -> Result<Self, ConfigError> {
        let key = p256::ecdsa::SigningKey::from_slice(secret_key)
            .map_err(|_| ConfigError::new("invalid P-256 secret key"))?;
        Ok(Self::with(key_id, SignKey::P256(Box::new(key))))
    }

    /// The components to cover (default [`DEFAULT_REQUIRED`]). A name (`@method`,
    /// `content-digest`), or a serialized component identifier starting with `"` for a
    /// component with parameters: `"@query-param";name="Pet"` covers the query parameter
    /// `Pet` (RFC 9421 §2.2.8).
    #[must_use]
    pub fn components(mut self, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.components = names.into_iter().map(Into::into).collect();
        self
    }

    pub(super) fn algorithm(&self) -> Algorithm {
        match self.key {
            SignKey::Hmac(_) => Algorithm::HmacSha256,
            SignKey::Ed25519(_) => Algorithm::Ed25519,
            SignKey::P256(_) => Algorithm::EcdsaP256Sha256,
        }
    }

    /// Signs `parts` (whose URI is the target as sent) and `body` now, with a random nonce:
    /// adds `Content-Digest` (SHA-256) when it is covered, `Signature-Input` and `Signature`.
    pub fn sign(&self, parts: &mut Parts, body: &[u8]) -> Result<(), ConfigError> {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        self.sign_at(parts, body, unix_now(), Some(&nonce))
    }

    /// [`sign`](Self::sign) with a given `created` time and nonce, for tests.
    pub fn sign_at(
        &self,
        parts: &mut Parts,
        body: &[u8],
        created: u64,
        nonce: Option<&str>,
    ) -> Result<(), ConfigError> {
        let bad =
            |_| ConfigError::new("a component name or parameter is not a valid structured field");
        if self.components.iter().any(|c| c == "content-digest") {
            let value = HeaderValue::from_str(&content_digest_sha256(body))
                .map_err(|_| ConfigError::new("digest"))?;
            parts.headers.insert("content-digest", value);
        }
        let mut items = Vec::with_capacity(self.components.len());
        for name in &self.components {
            items.push(if name.starts_with('"') {
                sfv::Parser::new(name).parse::<Item>().map_err(bad)?
            } else {
                Item::new(sfv::String::from_string(name.clone()).map_err(|(e, _)| bad(e))?)
            });
        }
        let mut covered = InnerList::new(items);
        let key = |k: &str| sfv::Key::from_string(k.to_owned()).map_err(|(e, _)| bad(e));
        let string = |v: &str| sfv::String::from_string(v.to_owned()).map_err(|(e, _)| bad(e));
        let created = i64::try_from(created).map_err(|_| ConfigError::new("created"))?;
        covered.params.insert(
            key("created")?,
            BareItem::Integer(sfv::Integer::try_from(created).map_err(bad)?),
        );
        covered
            .params
            .insert(key("keyid")?, BareItem::String(string(&self.key_id)?));
        if let Some(nonce) = nonce {
            covered
                .params
                .insert(key("nonce")?, BareItem::String(string(nonce)?));
        }
        covered.params.insert(
            key("alg")?,
            BareItem::String(string(self.algorithm().as_str())?),
        );
        let view = MessageView::request(&parts.method, &parts.uri, &parts.headers, None);
        let base = signature_base(&view, &covered)
            .map_err(|_| ConfigError::new("the request lacks a component the signer covers"))?;
        let signature = self.raw_sign(base.as_bytes());
        let b64 = base64::engine::general_purpose::STANDARD.encode(signature);
        let input = format!("{}={}", self.label, serialize_params(&covered));
        let header = |s: String| HeaderValue::from_str(&s).map_err(|_| ConfigError::new("header"));
        parts.headers.insert("signature-input", header(input)?);
        parts
            .headers
            .insert("signature", header(format!("{}=:{b64}:", self.label))?);
        Ok(())
    }

    /// This signer's signature of a signature base.
    pub fn raw_sign(&self, base: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer as _;
        match &self.key {
            SignKey::Hmac(mac) => {
                let mut mac = mac.clone();
                mac.update(base);
                mac.finalize().into_bytes().to_vec()
            }
            SignKey::Ed25519(key) => key.sign(base).to_bytes().to_vec(),
            SignKey::P256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(base);
                signature.to_bytes().to_vec()
            }
        }
    }
}
