//! HTTP Message Signatures, RFC 9421 (`auth = "signature"`): server-to-server requests signed
//! with `Signature-Input` / `Signature`, the body bound by `Content-Digest` (RFC 9530).
//!
//! A [`SignatureVerifier`] knows keys by `keyid` ([`SignatureKey`]: `hmac-sha256`, `ed25519`,
//! `ecdsa-p256-sha256`, `rsa-pss-sha512`) and the components every signature must cover
//! (by default `@method`, `@path`, `@query` and `content-digest`). Checks, cheapest first;
//! nothing is stored unless the signature is good:
//! 1. `Signature-Input` and `Signature` parse as structured-field dictionaries;
//! 2. the label's parameters: `keyid` known, `alg` (if given) the key's, `created` within
//!    the window of the server's clock, `expires` (if given) not past, a `nonce` (required by
//!    default);
//! 3. the required components are covered;
//! 4. the signature over the signature base verifies (HMAC compared in constant time);
//! 5. once the body is read: `Content-Digest` (when covered) matches the exact bytes
//!    received;
//! 6. the (keyid, nonce) pair has not been seen, through the [`NonceStore`] (memory or
//!    Redis).
//!
//! Steps 1–4 are [`SignatureVerifier::begin`], on the request head; 5–6
//! [`PendingSignature::finish`]. The path and query are those of the original request
//! target: axum's `OriginalUri` when the route is under `Router::nest`.
//!
//! [`SignatureSigner`] signs requests for Rust clients. Keys and secrets never appear in
//! `Debug` or logs.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::hmac::{Hmac, Mac};
use base64::Engine as _;
use http::request::Parts;
use http::HeaderValue;
use sfv::{BareItem, Dictionary, InnerList, Item, ListEntry};
use sha2::{Sha256, Sha512};

use super::hmac::{InMemoryNonces, NonceOutcome, NonceStore, DEFAULT_NONCE_CAPACITY};
use super::jwt::ConfigError;
use super::signature_base::{
    component_keys, content_digest_matches, content_digest_sha256, serialize_params,
    signature_base, MessageView,
};
use super::{AuthFailure, Principal};
use crate::policy::AuthScheme;

type HmacSha256 = Hmac<Sha256>;

/// Longest `Signature-Input` or `Signature` value parsed.
const MAX_FIELD_LEN: usize = 8192;
/// Most signatures (labels) looked at in one request.
const MAX_LABELS: usize = 4;
/// Shortest HMAC key accepted.
const MIN_SECRET_LEN: usize = 32;

/// A refusal and the check that refused it, for the security event's reason (never the
/// signature or secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// What the caller is told: missing (other schemes may be tried), invalid, unavailable.
    pub failure: AuthFailure,
    /// Which check failed, e.g. `signature_stale`, `digest_mismatch`, `replayed`.
    pub reason: &'static str,
}

impl Refusal {
    pub(crate) const fn invalid(reason: &'static str) -> Self {
        Refusal {
            failure: AuthFailure::Invalid,
            reason,
        }
    }

    pub(crate) const fn missing(reason: &'static str) -> Self {
        Refusal {
            failure: AuthFailure::Missing,
            reason,
        }
    }
}

/// Records a fresh (key, nonce) pair, or says why not.
pub(crate) async fn remember(
    nonces: &dyn NonceStore,
    key_id: &str,
    nonce: &str,
    expires_at: u64,
    now: u64,
) -> Result<(), Refusal> {
    match nonces
        .check_and_insert(key_id, nonce, expires_at, now)
        .await
    {
        Ok(NonceOutcome::Fresh) => Ok(()),
        Ok(NonceOutcome::Replayed) => Err(Refusal::invalid("replayed")),
        Ok(NonceOutcome::Full) => {
            tracing::warn!("nonce store is full of live entries; refusing signed requests");
            Err(Refusal::invalid("nonce_store_full"))
        }
        Err(_) => Err(Refusal {
            failure: AuthFailure::Unavailable,
            reason: "nonce_store_unavailable",
        }),
    }
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

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
enum VerifyKey {
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
    key: VerifyKey,
    subject: String,
    roles: Vec<String>,
    scopes: Vec<String>,
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
    fn with(key: VerifyKey, subject: impl Into<String>) -> Self {
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

/// Verifies RFC 9421 signatures; cheap to clone (the stores are shared). `Debug` shows the
/// configuration and key ids, never key material.
#[derive(Clone)]
pub struct SignatureVerifier {
    keys: Arc<HashMap<String, SignatureKey>>,
    nonces: Arc<dyn NonceStore>,
    required: Vec<String>,
    window: Duration,
    require_nonce: bool,
    label: Option<String>,
    scheme: Option<String>,
}

impl fmt::Debug for SignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignatureVerifier")
            .field("keys", &self.keys)
            .field("required", &self.required)
            .field("window_secs", &self.window.as_secs())
            .field("require_nonce", &self.require_nonce)
            .field("label", &self.label)
            .field("nonces", &self.nonces)
            .finish()
    }
}

/// The components a verifier requires by default: the method, the path and query of the
/// original target, and the body's digest.
pub const DEFAULT_REQUIRED: [&str; 4] = ["@method", "@path", "@query", "content-digest"];

impl Default for SignatureVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl SignatureVerifier {
    /// No keys yet; requires [`DEFAULT_REQUIRED`], a nonce, `created` within 300 s either
    /// way, and keeps nonces in memory.
    pub fn new() -> Self {
        SignatureVerifier {
            keys: Arc::new(HashMap::new()),
            nonces: Arc::new(InMemoryNonces::new(DEFAULT_NONCE_CAPACITY)),
            required: DEFAULT_REQUIRED.iter().map(|s| (*s).to_owned()).collect(),
            window: Duration::from_secs(300),
            require_nonce: true,
            label: None,
            scheme: None,
        }
    }

    /// Accepts signatures made with `key` under `key_id` (replacing any key of that id).
    #[must_use]
    pub fn key(mut self, key_id: impl Into<String>, key: SignatureKey) -> Self {
        Arc::make_mut(&mut self.keys).insert(key_id.into(), key);
        self
    }

    /// The components every signature must cover (replacing the default). `@target-uri` or
    /// `@request-target` do not stand in for `@path`: name what you require. A query
    /// parameter is named by its serialized identifier, `"@query-param";name="Pet"` (the
    /// name as RFC 9421 §2.2.8 encodes it); covering it does not stand in for `@query`.
    #[must_use]
    pub fn required_components(
        mut self,
        names: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.required = names.into_iter().map(Into::into).collect();
        self
    }

    /// How far `created` may be from the server's clock, either way (default 300 s).
    #[must_use]
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Whether a `nonce` is required (default `true`). Without one, replays within the window
    /// cannot be refused.
    #[must_use]
    pub fn require_nonce(mut self, require: bool) -> Self {
        self.require_nonce = require;
        self
    }

    /// Only the signature under this label is considered (default: every label, up to 4).
    #[must_use]
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// The scheme (`https`) the server is reached by, for `@scheme` and `@target-uri`.
    #[must_use]
    pub fn scheme(mut self, scheme: impl Into<String>) -> Self {
        self.scheme = Some(scheme.into());
        self
    }

    /// Where nonces are remembered (default: in memory). Share one store between instances.
    #[must_use]
    pub fn nonce_store(mut self, store: Arc<dyn NonceStore>) -> Self {
        self.nonces = store;
        self
    }

    /// Steps 1–4 on the request head, at `now` (unix seconds).
    pub fn begin(&self, parts: &Parts, now: u64) -> Result<PendingSignature, Refusal> {
        let Some(input) = joined(parts, "signature-input")? else {
            return Err(Refusal::missing("signature_missing"));
        };
        let signatures =
            joined(parts, "signature")?.ok_or(Refusal::invalid("signature_malformed"))?;
        let inputs: Dictionary = sfv::Parser::new(&input)
            .parse()
            .map_err(|_| Refusal::invalid("signature_malformed"))?;
        let signatures: Dictionary = sfv::Parser::new(&signatures)
            .parse()
            .map_err(|_| Refusal::invalid("signature_malformed"))?;
        if inputs.len() > MAX_LABELS {
            return Err(Refusal::invalid("signature_malformed"));
        }
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(&parts.uri, |o| &o.0);
        let view = MessageView::request(&parts.method, uri, &parts.headers, self.scheme.as_deref());
        let mut refusal = Refusal::invalid("signature_label");
        for (label, entry) in &inputs {
            if self.label.as_deref().is_some_and(|l| l != label.as_str()) {
                continue;
            }
            let ListEntry::InnerList(covered) = entry else {
                refusal = Refusal::invalid("signature_malformed");
                continue;
            };
            let signature = match signatures.get(label) {
                Some(ListEntry::Item(Item {
                    bare_item: BareItem::ByteSequence(bytes),
                    ..
                })) => bytes,
                _ => {
                    refusal = Refusal::invalid("signature_malformed");
                    continue;
                }
            };
            match self.check_one(&view, covered, signature, parts, now) {
                Ok(pending) => return Ok(pending),
                Err(r) => refusal = r,
            }
        }
        Err(refusal)
    }

    fn check_one(
        &self,
        view: &MessageView<'_>,
        covered: &InnerList,
        signature: &[u8],
        parts: &Parts,
        now: u64,
    ) -> Result<PendingSignature, Refusal> {
        let params = Params::read(covered).ok_or(Refusal::invalid("signature_malformed"))?;
        let window = self.window.as_secs();
        if params.created.abs_diff(now) > window || params.expires.is_some_and(|e| e <= now) {
            return Err(Refusal::invalid("signature_stale"));
        }
        if self.require_nonce && params.nonce.is_none() {
            return Err(Refusal::invalid("signature_nonce_missing"));
        }
        let key = self
            .keys
            .get(&params.key_id)
            .ok_or(Refusal::invalid("signature_unknown_key"))?;
        if params
            .alg
            .as_deref()
            .is_some_and(|a| a != key.algorithm().as_str())
        {
            return Err(Refusal::invalid("signature_alg"));
        }
        let names = component_keys(covered).map_err(|_| Refusal::invalid("signature_malformed"))?;
        if !self.required.iter().all(|r| names.iter().any(|n| n == r)) {
            return Err(Refusal::invalid("signature_components"));
        }
        let base =
            signature_base(view, covered).map_err(|_| Refusal::invalid("signature_components"))?;
        if !key.verify(base.as_bytes(), signature) {
            return Err(Refusal::invalid("signature_mismatch"));
        }
        let digest = if names.iter().any(|n| n == "content-digest") {
            Some(
                parts
                    .headers
                    .get_all("content-digest")
                    .iter()
                    .filter_map(|v| v.to_str().ok().map(str::to_owned))
                    .collect(),
            )
        } else {
            None
        };
        Ok(PendingSignature {
            digest,
            nonce: params.nonce,
            key_id: params.key_id,
            expires_at: params.created.saturating_add(window).saturating_add(1),
            now,
            nonces: Arc::clone(&self.nonces),
            principal: Principal::new(
                key.subject.clone(),
                key.roles.clone(),
                key.scopes.clone(),
                AuthScheme::Signature,
            ),
        })
    }
}

/// Every line of a field joined with `, `, if present and not too long.
fn joined(parts: &Parts, name: &str) -> Result<Option<String>, Refusal> {
    let mut out: Option<String> = None;
    for value in parts.headers.get_all(name) {
        let value = value
            .to_str()
            .map_err(|_| Refusal::invalid("signature_malformed"))?;
        let s = out.get_or_insert_with(String::new);
        if !s.is_empty() {
            s.push_str(", ");
        }
        s.push_str(value);
        if s.len() > MAX_FIELD_LEN {
            return Err(Refusal::invalid("signature_malformed"));
        }
    }
    Ok(out)
}

/// The signature parameters of RFC 9421 §2.3 this verifier reads; others are ignored.
struct Params {
    key_id: String,
    created: u64,
    expires: Option<u64>,
    nonce: Option<String>,
    alg: Option<String>,
}

impl Params {
    fn read(covered: &InnerList) -> Option<Params> {
        let string = |name: &str| match covered.params.get(name) {
            None => Some(None),
            Some(BareItem::String(s)) => Some(Some(s.as_str().to_owned())),
            Some(_) => None,
        };
        let integer = |name: &str| match covered.params.get(name) {
            None => Some(None),
            Some(BareItem::Integer(i)) => u64::try_from(i64::from(*i)).ok().map(Some),
            Some(_) => None,
        };
        Some(Params {
            key_id: string("keyid")??,
            created: integer("created")??,
            expires: integer("expires")?,
            nonce: string("nonce")?,
            alg: string("alg")?,
        })
    }
}

/// A request whose signature verified on its head, waiting for its body. `Debug` shows the
/// key id, never the nonce.
pub struct PendingSignature {
    digest: Option<Vec<String>>,
    nonce: Option<String>,
    key_id: String,
    expires_at: u64,
    now: u64,
    nonces: Arc<dyn NonceStore>,
    principal: Principal,
}

impl fmt::Debug for PendingSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingSignature")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl PendingSignature {
    /// Steps 5–6: the covered `Content-Digest` against `body` (the exact bytes received),
    /// then the nonce.
    pub async fn finish(self, body: &[u8]) -> Result<Principal, Refusal> {
        if let Some(values) = &self.digest {
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            if !content_digest_matches(&values, body) {
                return Err(Refusal::invalid("digest_mismatch"));
            }
        }
        if let Some(nonce) = &self.nonce {
            remember(
                self.nonces.as_ref(),
                &self.key_id,
                nonce,
                self.expires_at,
                self.now,
            )
            .await?;
        }
        Ok(self.principal)
    }
}

#[derive(Clone)]
enum SignKey {
    Hmac(HmacSha256),
    Ed25519(Box<ed25519_dalek::SigningKey>),
    P256(Box<p256::ecdsa::SigningKey>),
}

/// Signs requests for a server that verifies RFC 9421 signatures. `Debug` shows the key id.
#[derive(Clone)]
pub struct SignatureSigner {
    key_id: String,
    key: SignKey,
    components: Vec<String>,
    label: String,
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
    fn with(key_id: impl Into<String>, key: SignKey) -> Self {
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

    fn algorithm(&self) -> Algorithm {
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

#[cfg(test)]
mod tests;
