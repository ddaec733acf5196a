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

use ::hmac::Hmac;
use http::request::Parts;
use sfv::{BareItem, Dictionary, InnerList, Item, ListEntry};
use sha2::Sha256;

use super::hmac::{InMemoryNonces, NonceOutcome, NonceStore, DEFAULT_NONCE_CAPACITY};
use super::signature_base::{
    component_keys, content_digest_matches, content_digest_sha256, serialize_params,
    signature_base, MessageView,
};
use super::{AuthFailure, Principal};
use crate::error::ConfigError;
use crate::policy::AuthScheme;
mod key;
mod sign;

pub use key::{Algorithm, SignatureKey};
pub use sign::SignatureSigner;

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

#[cfg(test)]
mod tests;
