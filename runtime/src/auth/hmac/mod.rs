//! HMAC request signing (`auth = "hmac"`): for webhooks and server-to-server calls, where
//! the caller shares a secret with the server and signs every request.
//!
//! The header is
//! `Authorization: HMAC-SHA256 keyId="…", timestamp="…", nonce="…", signature="…"`, and the
//! signature is the lowercase hex HMAC-SHA256 of the [canonical request](canonical_request):
//! scheme, key id, timestamp, nonce, method, path, query and the SHA-256 of the body. The full
//! specification, with a worked example, is in `docs/hmac.md`.
//!
//! Checks, cheapest first; nothing is stored unless the signature is good:
//! 1. the header parses (every parameter exactly once, each in its character set);
//! 2. the timestamp is within the window of the server's clock (300 s by default, either way);
//! 3. the key id belongs to a known client;
//! 4. once the body is read, the signature matches (compared in constant time);
//! 5. the pair (key id, nonce) has not been seen; it is remembered until the timestamp has left
//!    the window, after which step 2 refuses it anyway.
//!
//! Steps 1–3 are [`HmacVerifier::begin`], on the request head; steps 4–5 are
//! [`PendingHmac::finish`], on the body. Every failure is [`AuthFailure::Invalid`], except a
//! request with no `Authorization` header or one of another scheme, which is
//! [`AuthFailure::Missing`] so that other schemes can be tried.
//!
//! Secrets, signatures and nonces are never logged or shown by `Debug`.

mod header;
mod keys;
mod nonce;
mod sign;

pub use keys::{HmacClient, HmacKeyStore, InMemoryHmacKeys};
#[cfg(any(feature = "redis", test))]
pub(crate) use nonce::nonce_key;
pub use nonce::{InMemoryNonces, NonceOutcome, NonceStore};
pub use sign::{canonical_request, HmacSigner};

use header::parse_authorization;
use sign::{canonical_prefix, hex};

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ::hmac::{Hmac, Mac};
use http::request::Parts;
use sha2::{Digest, Sha256};

use super::{AuthFailure, Principal};
use crate::error::ConfigError;
use crate::policy::AuthScheme;
use crate::store::{StoreError, StoreFuture};

/// The `Authorization` scheme, and the first line of the canonical request.
pub const SCHEME: &str = "HMAC-SHA256";

/// Default allowed difference between the request's timestamp and the server's clock.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(300);

/// Default number of (key id, nonce) pairs remembered by [`InMemoryNonces`].
pub const DEFAULT_NONCE_CAPACITY: usize = 100_000;

/// Shortest secret accepted: as long as the hash output (RFC 2104 §3).
const MIN_SECRET_LEN: usize = 32;

/// Longest `Authorization` value parsed once the scheme matches; a well-formed one is under
/// 300 bytes.
const MAX_HEADER_LEN: usize = 1024;

const MAX_KEY_ID_LEN: usize = 64;
const MAX_TIMESTAMP_LEN: usize = 12;
const MIN_NONCE_LEN: usize = 16;
const MAX_NONCE_LEN: usize = 64;
const SIGNATURE_HEX_LEN: usize = 64;

type HmacSha256 = Hmac<Sha256>;

/// Verifies HMAC-signed requests against a key store, refusing replays.
///
/// Cheap to clone (the stores are shared). `Debug` shows the window and the stores, never a
/// secret.
#[derive(Clone)]
pub struct HmacVerifier {
    keys: Arc<dyn HmacKeyStore>,
    nonces: Arc<dyn NonceStore>,
    window: Duration,
}

impl fmt::Debug for HmacVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacVerifier")
            .field("window_secs", &self.window.as_secs())
            .field("keys", &self.keys)
            .field("nonces", &self.nonces)
            .finish()
    }
}

impl HmacVerifier {
    /// A verifier over `keys`, with a 300 s window and an in-memory nonce store of
    /// [`DEFAULT_NONCE_CAPACITY`] entries.
    pub fn new(keys: Arc<dyn HmacKeyStore>) -> Self {
        HmacVerifier {
            keys,
            nonces: Arc::new(InMemoryNonces::new(DEFAULT_NONCE_CAPACITY)),
            window: DEFAULT_WINDOW,
        }
    }

    /// The allowed difference, either way, between a request's timestamp and the server's
    /// clock (default 300 s; whole seconds).
    #[must_use]
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Where nonces are remembered (default: in memory). Share one store between all the
    /// verifiers, and all the server instances, that accept the same keys.
    #[must_use]
    pub fn nonce_store(mut self, store: Arc<dyn NonceStore>) -> Self {
        self.nonces = store;
        self
    }

    /// Steps 1–3, before the body is read: parses the `Authorization` header, checks the
    /// timestamp against `now` (unix seconds) and looks the client up.
    ///
    /// The path and query are those of the original request target: axum's `OriginalUri`
    /// when present (a route under `Router::nest`), else `parts.uri`.
    pub fn begin(&self, parts: &Parts, now: u64) -> Result<PendingHmac, AuthFailure> {
        let mut values = parts.headers.get_all(http::header::AUTHORIZATION).iter();
        let value = values.next().ok_or(AuthFailure::Missing)?;
        if values.next().is_some() {
            return Err(AuthFailure::Invalid);
        }
        let params = parse_authorization(value.as_bytes())?;

        let window = self.window.as_secs();
        if params.timestamp.abs_diff(now) > window {
            return Err(AuthFailure::Invalid);
        }

        let client = self
            .keys
            .client(params.key_id)
            .ok_or(AuthFailure::Invalid)?;

        // The target as sent: under `Router::nest` axum strips the prefix from `parts.uri`
        // and keeps the original as `OriginalUri`.
        let target = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(&parts.uri, |o| &o.0);
        let mut mac = client.mac;
        mac.update(
            canonical_prefix(
                params.key_id,
                params.timestamp,
                params.nonce,
                parts.method.as_str(),
                target.path(),
                target.query().unwrap_or(""),
            )
            .as_bytes(),
        );
        Ok(PendingHmac {
            mac,
            signature: params.signature,
            key_id: params.key_id.to_owned(),
            nonce: params.nonce.to_owned(),
            timestamp: params.timestamp,
            expires_at: params.timestamp.saturating_add(window).saturating_add(1),
            now,
            nonces: Arc::clone(&self.nonces),
            subject: client.subject,
            roles: client.roles,
            scopes: client.scopes,
        })
    }
}

/// A request whose head passed steps 1–3, waiting for its body.
///
/// `Debug` shows the key id, subject and timestamp, never the signature, nonce or secret.
pub struct PendingHmac {
    /// Keyed with the client's secret, already fed everything but the body hash.
    mac: HmacSha256,
    signature: [u8; 32],
    key_id: String,
    nonce: String,
    timestamp: u64,
    expires_at: u64,
    now: u64,
    nonces: Arc<dyn NonceStore>,
    subject: String,
    roles: Vec<String>,
    scopes: Vec<String>,
}

impl fmt::Debug for PendingHmac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingHmac")
            .field("key_id", &self.key_id)
            .field("subject", &self.subject)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

impl PendingHmac {
    /// Steps 4–5: returns the principal (scheme AuthScheme::Hmac, subject/roles/scopes from the
    /// HmacClient).
    ///
    /// Checks the signature over the canonical request with `body` (the exact bytes received,
    /// empty if none), then records the nonce; a replayed nonce, or a full nonce store, is
    /// refused.
    pub async fn finish(self, body: &[u8]) -> Result<Principal, AuthFailure> {
        let mut mac = self.mac;
        mac.update(hex(&Sha256::digest(body)).as_bytes());
        mac.verify_slice(&self.signature)
            .map_err(|_| AuthFailure::Invalid)?;
        let outcome = self
            .nonces
            .check_and_insert(&self.key_id, &self.nonce, self.expires_at, self.now)
            .await
            .map_err(|_| AuthFailure::Unavailable)?;
        match outcome {
            NonceOutcome::Fresh => Ok(Principal::new(
                self.subject,
                self.roles,
                self.scopes,
                AuthScheme::Hmac,
            )),
            NonceOutcome::Replayed => Err(AuthFailure::Invalid),
            NonceOutcome::Full => {
                tracing::warn!(
                    "HMAC nonce store is full of live entries; refusing signed requests until \
                     entries expire"
                );
                Err(AuthFailure::Invalid)
            }
        }
    }
}

#[cfg(test)]
mod tests;
