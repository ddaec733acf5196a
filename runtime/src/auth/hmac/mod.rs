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

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::hmac::{Hmac, Mac};
use http::request::Parts;
use sha2::{Digest, Sha256};

use super::jwt::ConfigError;
use super::{AuthFailure, Principal};
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

/// A client allowed to sign requests: the principal it authenticates as, and its secret.
///
/// `Debug` shows the subject, roles and scopes, never the secret.
#[derive(Clone)]
pub struct HmacClient {
    subject: String,
    roles: Vec<String>,
    scopes: Vec<String>,
    /// The HMAC keyed with the secret; cloned for each request instead of re-keying.
    mac: HmacSha256,
}

impl fmt::Debug for HmacClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacClient")
            .field("subject", &self.subject)
            .field("roles", &self.roles)
            .field("scopes", &self.scopes)
            .field("secret", &"[redacted]")
            .finish()
    }
}

impl HmacClient {
    /// A client authenticating as `subject`, with a shared secret of at least 32 bytes.
    pub fn new(subject: impl Into<String>, secret: &[u8]) -> Result<Self, ConfigError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(ConfigError::new(
                "an HMAC client secret must be at least 32 bytes",
            ));
        }
        Ok(HmacClient {
            subject: subject.into(),
            roles: Vec::new(),
            scopes: Vec::new(),
            mac: keyed(secret),
        })
    }

    /// Roles granted to the client's principal (replacing any set before).
    #[must_use]
    pub fn roles(mut self, roles: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Scopes granted to the client's principal (replacing any set before).
    #[must_use]
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

/// Where clients live, by key id. [`InMemoryHmacKeys`] is the embedded default.
pub trait HmacKeyStore: Send + Sync + fmt::Debug + 'static {
    /// The client whose key id is `key_id`, if any.
    fn client(&self, key_id: &str) -> Option<HmacClient>;
}

/// Clients in memory, by key id. `Debug` shows only how many there are.
#[derive(Default)]
pub struct InMemoryHmacKeys {
    by_id: RwLock<HashMap<String, HmacClient>>,
}

impl fmt::Debug for InMemoryHmacKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.by_id.read().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("InMemoryHmacKeys")
            .field("keys", &n)
            .finish()
    }
}

impl InMemoryHmacKeys {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `client` under `key_id`, replacing any client already there. A key id outside
    /// the header's character set (1 to 64 of `A-Z a-z 0-9 . _ -`) can never be presented.
    pub fn insert(&self, key_id: impl Into<String>, client: HmacClient) {
        let mut map = self.by_id.write().unwrap_or_else(|p| p.into_inner());
        map.insert(key_id.into(), client);
    }

    /// Removes the client with this key id; `true` if it existed.
    pub fn remove(&self, key_id: &str) -> bool {
        let mut map = self.by_id.write().unwrap_or_else(|p| p.into_inner());
        map.remove(key_id).is_some()
    }
}

impl HmacKeyStore for InMemoryHmacKeys {
    fn client(&self, key_id: &str) -> Option<HmacClient> {
        let map = self.by_id.read().unwrap_or_else(|p| p.into_inner());
        map.get(key_id).cloned()
    }
}

/// What a [`NonceStore`] says about a (key id, nonce) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceOutcome {
    /// Not seen before; now remembered.
    Fresh,
    /// Seen before and still remembered: a replay.
    Replayed,
    /// The store is full of live entries; the request is refused (fail closed).
    Full,
}

/// Remembers the nonces of accepted requests, to refuse replays. [`InMemoryNonces`] is the
/// embedded default; `RedisStore` (feature `redis`) shares them between instances.
pub trait NonceStore: Send + Sync + fmt::Debug + 'static {
    /// Remembers (key_id, nonce) until `expires_at` (unix secs); says whether it was new, or
    /// fails when the store cannot answer (the request is then refused with 503).
    ///
    /// An entry is live while `now < expires_at`; an expired entry counts as not seen.
    fn check_and_insert<'a>(
        &'a self,
        key_id: &'a str,
        nonce: &'a str,
        expires_at: u64,
        now: u64,
    ) -> StoreFuture<'a, Result<NonceOutcome, StoreError>>;
}

/// Nonces in memory, up to a fixed number of entries.
///
/// Entries are keyed by the first 16 bytes of SHA-256(key id ‖ 0x00 ‖ nonce), so neither is
/// kept. When the store is full, expired entries are swept; if it is still full, the request
/// is refused ([`NonceOutcome::Full`]) rather than a live entry forgotten. `Debug` shows only
/// the sizes.
pub struct InMemoryNonces {
    capacity: usize,
    inner: Mutex<NonceMap>,
}

struct NonceMap {
    entries: HashMap<[u8; 16], u64>,
    /// No entry expires before this: while `now` is below it, a sweep would free nothing.
    earliest_expiry: u64,
}

impl fmt::Debug for InMemoryNonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryNonces")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl InMemoryNonces {
    /// A store of at most `capacity` live nonces (`0` refuses every request).
    pub fn new(capacity: usize) -> Self {
        InMemoryNonces {
            capacity,
            inner: Mutex::new(NonceMap {
                entries: HashMap::new(),
                earliest_expiry: u64::MAX,
            }),
        }
    }

    /// Number of entries held, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// `true` if no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, NonceMap> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The first 16 bytes of SHA-256(key id ‖ 0x00 ‖ nonce): what the stores keep.
pub(crate) fn nonce_key(key_id: &str, nonce: &str) -> [u8; 16] {
    let digest = Sha256::new()
        .chain_update(key_id.as_bytes())
        .chain_update([0u8])
        .chain_update(nonce.as_bytes())
        .finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

impl NonceStore for InMemoryNonces {
    fn check_and_insert<'a>(
        &'a self,
        key_id: &'a str,
        nonce: &'a str,
        expires_at: u64,
        now: u64,
    ) -> StoreFuture<'a, Result<NonceOutcome, StoreError>> {
        StoreFuture::ready(Ok(self.check_and_insert_now(key_id, nonce, expires_at, now)))
    }
}

impl InMemoryNonces {
    /// [`NonceStore::check_and_insert`], answered at once.
    pub fn check_and_insert_now(
        &self,
        key_id: &str,
        nonce: &str,
        expires_at: u64,
        now: u64,
    ) -> NonceOutcome {
        let key = nonce_key(key_id, nonce);
        let mut map = self.lock();
        match map.entries.get(&key) {
            Some(&expiry) if expiry > now => return NonceOutcome::Replayed,
            // Expired: overwritten below, the size does not change.
            Some(_) => {}
            None => {
                if map.entries.len() >= self.capacity {
                    if map.earliest_expiry <= now {
                        map.entries.retain(|_, expiry| *expiry > now);
                        map.earliest_expiry =
                            map.entries.values().copied().min().unwrap_or(u64::MAX);
                    }
                    if map.entries.len() >= self.capacity {
                        return NonceOutcome::Full;
                    }
                }
            }
        }
        map.entries.insert(key, expires_at);
        map.earliest_expiry = map.earliest_expiry.min(expires_at);
        NonceOutcome::Fresh
    }
}

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

/// The client helper: signs requests for a server using this scheme.
///
/// `Debug` shows the key id, never the secret.
#[derive(Clone)]
pub struct HmacSigner {
    key_id: String,
    mac: HmacSha256,
}

impl fmt::Debug for HmacSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacSigner")
            .field("key_id", &self.key_id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

impl HmacSigner {
    /// A signer for `key_id` with its shared secret. The server refuses key ids outside
    /// 1 to 64 of `A-Z a-z 0-9 . _ -` and secrets shorter than 32 bytes.
    pub fn new(key_id: impl Into<String>, secret: &[u8]) -> Self {
        HmacSigner {
            key_id: key_id.into(),
            mac: keyed(secret),
        }
    }

    /// Header value for `Authorization`, with the current time and a random nonce (uuid v4 simple → 32 hex chars).
    ///
    /// `path_and_query` is the request target exactly as it will be sent (still
    /// percent-encoded), e.g. `/api/webhooks/github?delivery=42`; `body` the exact bytes sent.
    pub fn sign(&self, method: &str, path_and_query: &str, body: &[u8]) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        self.sign_at(method, path_and_query, body, now, &nonce)
    }

    /// Deterministic variant for tests and test vectors.
    pub fn sign_at(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        timestamp: u64,
        nonce: &str,
    ) -> String {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let canonical =
            canonical_request(&self.key_id, timestamp, nonce, method, path, query, body);
        let mut mac = self.mac.clone();
        mac.update(canonical.as_bytes());
        let signature = hex(&mac.finalize().into_bytes());
        format!(
            "{SCHEME} keyId=\"{}\", timestamp=\"{timestamp}\", nonce=\"{nonce}\", \
             signature=\"{signature}\"",
            self.key_id
        )
    }
}

/// The canonical request, public so clients and docs can show it.
///
/// Eight lines joined by `\n`, no trailing newline: `HMAC-SHA256`, the key id, the timestamp
/// (decimal), the nonce, the method, the path (as sent, still percent-encoded), the query (as
/// sent, without `?`; empty if none) and the lowercase hex SHA-256 of the body.
pub fn canonical_request(
    key_id: &str,
    timestamp: u64,
    nonce: &str,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
) -> String {
    let mut out = canonical_prefix(key_id, timestamp, nonce, method, path, query);
    out.push_str(&hex(&Sha256::digest(body)));
    out
}

/// The canonical request up to and including the newline before the body hash.
fn canonical_prefix(
    key_id: &str,
    timestamp: u64,
    nonce: &str,
    method: &str,
    path: &str,
    query: &str,
) -> String {
    format!("{SCHEME}\n{key_id}\n{timestamp}\n{nonce}\n{method}\n{path}\n{query}\n")
}

fn keyed(secret: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; the 32-byte minimum is enforced by `HmacClient::new`.
    <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length")
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The four parameters of a well-formed header.
struct Params<'a> {
    key_id: &'a str,
    timestamp: u64,
    nonce: &'a str,
    signature: [u8; 32],
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn trim_ows(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_ows(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_ows(b)).map_or(start, |i| i + 1);
    &s[start..end]
}

/// Parses an `Authorization` value: `Missing` if it is not of this scheme, `Invalid` if it is
/// but malformed.
fn parse_authorization(value: &[u8]) -> Result<Params<'_>, AuthFailure> {
    let value = trim_ows(value);
    let scheme_end = value.iter().position(|&b| is_ows(b)).unwrap_or(value.len());
    if !value[..scheme_end].eq_ignore_ascii_case(SCHEME.as_bytes()) {
        return Err(AuthFailure::Missing);
    }
    if value.len() > MAX_HEADER_LEN {
        return Err(AuthFailure::Invalid);
    }
    let rest = std::str::from_utf8(&value[scheme_end..]).map_err(|_| AuthFailure::Invalid)?;

    let (mut key_id, mut timestamp, mut nonce, mut signature) = (None, None, None, None);
    for param in rest.split(',') {
        let param =
            std::str::from_utf8(trim_ows(param.as_bytes())).map_err(|_| AuthFailure::Invalid)?;
        let (name, quoted) = param.split_once('=').ok_or(AuthFailure::Invalid)?;
        let value = quoted
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or(AuthFailure::Invalid)?;
        let slot = match name {
            "keyId" => &mut key_id,
            "timestamp" => &mut timestamp,
            "nonce" => &mut nonce,
            "signature" => &mut signature,
            _ => return Err(AuthFailure::Invalid),
        };
        if slot.replace(value).is_some() {
            return Err(AuthFailure::Invalid);
        }
    }
    let (Some(key_id), Some(timestamp), Some(nonce), Some(signature)) =
        (key_id, timestamp, nonce, signature)
    else {
        return Err(AuthFailure::Invalid);
    };

    let key_id_ok = (1..=MAX_KEY_ID_LEN).contains(&key_id.len())
        && key_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    let nonce_ok = (MIN_NONCE_LEN..=MAX_NONCE_LEN).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
    // Decimal without leading zeros, so that the canonical request has one spelling of it.
    let timestamp_ok = (1..=MAX_TIMESTAMP_LEN).contains(&timestamp.len())
        && timestamp.bytes().all(|b| b.is_ascii_digit())
        && (timestamp == "0" || !timestamp.starts_with('0'));
    if !(key_id_ok && nonce_ok && timestamp_ok) {
        return Err(AuthFailure::Invalid);
    }
    let timestamp = timestamp.parse().map_err(|_| AuthFailure::Invalid)?;
    let signature = parse_signature(signature).ok_or(AuthFailure::Invalid)?;
    Ok(Params {
        key_id,
        timestamp,
        nonce,
        signature,
    })
}

/// Exactly 64 lowercase hex digits.
fn parse_signature(hex: &str) -> Option<[u8; 32]> {
    fn digit(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        }
    }
    if hex.len() != SIGNATURE_HEX_LEN {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        *byte = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::future::Future as _;

    /// The in-memory nonce store answers at once: the future is ready on its first poll.
    trait FinishNow {
        fn finish_now(self, body: &[u8]) -> Result<Principal, AuthFailure>;
    }

    impl FinishNow for PendingHmac {
        fn finish_now(self, body: &[u8]) -> Result<Principal, AuthFailure> {
            let mut future = std::pin::pin!(self.finish(body));
            match future
                .as_mut()
                .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
            {
                std::task::Poll::Ready(result) => result,
                std::task::Poll::Pending => panic!("the in-memory store answers at once"),
            }
        }
    }

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const KEY_ID: &str = "demo-webhooks";
    const NONCE: &str = "4f9c2b7e1d3a4c5b8e6f7a9b0c1d2e3f";
    const TS: u64 = 1_764_000_000;
    const URI: &str = "/api/webhooks/github?delivery=42";
    const BODY: &[u8] = br#"{"event":"push","data":{"ref":"main"}}"#;

    fn verifier() -> HmacVerifier {
        let keys = InMemoryHmacKeys::new();
        keys.insert(
            KEY_ID,
            HmacClient::new("github", SECRET)
                .unwrap()
                .roles(["webhook"])
                .scopes(["hooks:write"]),
        );
        HmacVerifier::new(Arc::new(keys))
    }

    fn parts(method: &str, uri: &str, authorization: &[&str]) -> Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for value in authorization {
            b = b.header(http::header::AUTHORIZATION, *value);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn signed(method: &str, uri: &str, body: &[u8], ts: u64, nonce: &str) -> String {
        HmacSigner::new(KEY_ID, SECRET).sign_at(method, uri, body, ts, nonce)
    }

    /// Runs steps 1–5 on a request.
    fn check(
        v: &HmacVerifier,
        method: &str,
        uri: &str,
        header: &str,
        body: &[u8],
        now: u64,
    ) -> Result<Principal, AuthFailure> {
        v.begin(&parts(method, uri, &[header]), now)?
            .finish_now(body)
    }

    fn header_with(replace: &str, with: &str) -> String {
        let h = signed("POST", URI, BODY, TS, NONCE);
        assert!(h.contains(replace));
        h.replace(replace, with)
    }

    #[test]
    fn test_vector_from_docs() {
        let canonical = canonical_request(
            KEY_ID,
            TS,
            NONCE,
            "POST",
            "/api/webhooks/github",
            "delivery=42",
            BODY,
        );
        assert_eq!(
            canonical,
            "HMAC-SHA256\n\
             demo-webhooks\n\
             1764000000\n\
             4f9c2b7e1d3a4c5b8e6f7a9b0c1d2e3f\n\
             POST\n\
             /api/webhooks/github\n\
             delivery=42\n\
             bc4925be3f454290c518710384a267f0fe192ef7fb0fe951b6058e0497183395"
        );
        assert_eq!(
            signed("POST", URI, BODY, TS, NONCE),
            "HMAC-SHA256 keyId=\"demo-webhooks\", timestamp=\"1764000000\", \
             nonce=\"4f9c2b7e1d3a4c5b8e6f7a9b0c1d2e3f\", \
             signature=\"46be6fff7077f1abb9d7cef0fa26c576f655de2bad99057b3d2466f71910cfa1\""
        );
        assert_eq!(
            canonical_request(KEY_ID, TS, NONCE, "GET", "/x", "", b"")
                .lines()
                .last(),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            "no body hashes the empty string"
        );
    }

    #[test]
    fn signed_request_verifies() {
        let v = verifier();
        let header = signed("POST", URI, BODY, TS, NONCE);
        let pending = v.begin(&parts("POST", URI, &[&header]), TS + 10).unwrap();
        let debug = format!("{pending:?}");
        assert!(!debug.contains(NONCE) && !debug.contains("46be6fff"));
        let p = pending.finish_now(BODY).unwrap();
        assert_eq!((p.subject(), p.scheme()), ("github", AuthScheme::Hmac));
        assert!(p.has_role("webhook") && p.has_scope("hooks:write"));

        // No query, no body, lowercase scheme and extra spaces and tabs around parameters.
        let header = signed("GET", "/status", b"", TS, "abcdefghijklmnop")
            .replace("HMAC-SHA256 ", "hmac-sha256 \t ")
            .replace(", ", " ,\t");
        let p = check(&v, "GET", "/status", &header, b"", TS).unwrap();
        assert_eq!(p.subject(), "github");

        // The path is signed as sent, percent-encoded.
        let uri = "/a%20b/c?x=%2F&y";
        let header = signed("PUT", uri, b"x", TS, "nonce-with_chars-0123");
        assert!(check(&v, "PUT", uri, &header, b"x", TS).is_ok());
    }

    #[test]
    fn signed_request_with_random_nonce_and_clock_verifies() {
        let v = verifier();
        let header = HmacSigner::new(KEY_ID, SECRET).sign("POST", URI, BODY);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(check(&v, "POST", URI, &header, BODY, now).is_ok());
        let a = HmacSigner::new(KEY_ID, SECRET).sign("GET", "/", b"");
        let b = HmacSigner::new(KEY_ID, SECRET).sign("GET", "/", b"");
        assert_ne!(a, b, "each signature has its own nonce");
    }

    #[test]
    fn tampering_is_refused() {
        let v = verifier();
        let header = signed("POST", URI, BODY, TS, NONCE);
        let mut body = BODY.to_vec();
        body[10] ^= 1;
        let cases: [(&str, &str, &[u8]); 6] = [
            ("POST", URI, &body),
            ("PUT", URI, BODY),
            ("POST", "/api/webhooks/gitlab?delivery=42", BODY),
            ("POST", "/api/webhooks/github?delivery=43", BODY),
            ("POST", "/api/webhooks/github?delivery=42&x=1", BODY),
            ("POST", "/api/webhooks/github", BODY),
        ];
        for (method, uri, body) in cases {
            assert_eq!(
                check(&v, method, uri, &header, body, TS).unwrap_err(),
                AuthFailure::Invalid,
                "{method} {uri}"
            );
        }
        // A query added to a request signed without one.
        let header = signed("POST", "/api/webhooks/github", BODY, TS, NONCE);
        assert_eq!(
            check(&v, "POST", URI, &header, BODY, TS).unwrap_err(),
            AuthFailure::Invalid
        );
        // None of the refused attempts used up the nonce.
        assert!(check(&v, "POST", "/api/webhooks/github", &header, BODY, TS).is_ok());
    }

    #[test]
    fn timestamp_outside_the_window_is_refused() {
        let v = verifier();
        let header = signed("POST", URI, BODY, TS, NONCE);
        let begin = |now| v.begin(&parts("POST", URI, &[&header]), now).map(|_| ());
        assert_eq!(begin(TS + 301).unwrap_err(), AuthFailure::Invalid, "past");
        assert_eq!(begin(TS - 301).unwrap_err(), AuthFailure::Invalid, "future");
        assert!(begin(TS + 300).is_ok() && begin(TS - 300).is_ok());

        let v = verifier().window(Duration::from_secs(30));
        let begin = |now| v.begin(&parts("POST", URI, &[&header]), now).map(|_| ());
        assert_eq!(begin(TS + 31).unwrap_err(), AuthFailure::Invalid);
        assert!(begin(TS + 30).is_ok());
    }

    #[test]
    fn replayed_nonce_is_refused() {
        let v = verifier();
        let header = signed("POST", URI, BODY, TS, NONCE);
        assert!(check(&v, "POST", URI, &header, BODY, TS).is_ok());
        assert_eq!(
            check(&v, "POST", URI, &header, BODY, TS + 5).unwrap_err(),
            AuthFailure::Invalid
        );
        // A clone shares the nonce store.
        assert_eq!(
            check(&v.clone(), "POST", URI, &header, BODY, TS).unwrap_err(),
            AuthFailure::Invalid
        );
        // The same nonce under another key id is another pair.
        let keys = InMemoryHmacKeys::new();
        keys.insert(KEY_ID, HmacClient::new("a", SECRET).unwrap());
        keys.insert("other", HmacClient::new("b", SECRET).unwrap());
        let v = HmacVerifier::new(Arc::new(keys));
        let other = HmacSigner::new("other", SECRET).sign_at("POST", URI, BODY, TS, NONCE);
        assert!(check(&v, "POST", URI, &header, BODY, TS).is_ok());
        assert!(check(&v, "POST", URI, &other, BODY, TS).is_ok());
    }

    #[test]
    fn malformed_signatures_are_refused() {
        let v = verifier();
        let sig = "46be6fff7077f1abb9d7cef0fa26c576f655de2bad99057b3d2466f71910cfa1";
        for header in [
            header_with(sig, &sig[..62]),
            header_with(sig, &sig[..32]),
            header_with(sig, &sig.to_uppercase()),
            header_with(sig, &format!("{sig}00")),
            header_with(sig, ""),
        ] {
            assert_eq!(
                check(&v, "POST", URI, &header, BODY, TS).unwrap_err(),
                AuthFailure::Invalid,
                "{header}"
            );
        }
    }

    #[test]
    fn unknown_key_and_wrong_secret_are_refused() {
        let v = verifier();
        let unknown = HmacSigner::new("nobody", SECRET).sign_at("POST", URI, BODY, TS, NONCE);
        assert_eq!(
            v.begin(&parts("POST", URI, &[&unknown]), TS).unwrap_err(),
            AuthFailure::Invalid
        );
        let wrong = HmacSigner::new(KEY_ID, b"fedcba9876543210fedcba9876543210")
            .sign_at("POST", URI, BODY, TS, NONCE);
        assert_eq!(
            check(&v, "POST", URI, &wrong, BODY, TS).unwrap_err(),
            AuthFailure::Invalid
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        let v = verifier();
        let good = signed("POST", URI, BODY, TS, NONCE);
        let (_, params) = good.split_once(' ').unwrap();
        let cases = [
            format!("{good}, nonce=\"{NONCE}\""),
            format!("{good}, keyId=\"{KEY_ID}\""),
            format!("{good}, realm=\"api\""),
            good.replace(&format!(", nonce=\"{NONCE}\""), ""),
            good.replace("keyId=\"demo-webhooks\", ", ""),
            good.replace("timestamp=\"1764000000\"", "timestamp=1764000000"),
            good.replace("keyId=", "keyid="),
            good.replace("keyId=", "keyId ="),
            good.replace("timestamp=\"1764000000\"", "timestamp=\"01764000000\""),
            good.replace("timestamp=\"1764000000\"", "timestamp=\"1764000000000\""),
            good.replace("timestamp=\"1764000000\"", "timestamp=\"+1764000000\""),
            good.replace(NONCE, "short"),
            good.replace(NONCE, &"a".repeat(65)),
            good.replace(NONCE, "4f9c2b7e1d3a4c5b.8e6f7a9b0c1d2e3f"),
            good.replace(KEY_ID, ""),
            good.replace(KEY_ID, &"k".repeat(65)),
            good.replace(KEY_ID, "demo webhooks"),
            format!("{good},"),
            SCHEME.to_string(),
            format!("{SCHEME} "),
            format!("{SCHEME} {params} {params}"),
        ];
        for header in &cases {
            assert_eq!(
                v.begin(&parts("POST", URI, &[header]), TS).unwrap_err(),
                AuthFailure::Invalid,
                "{header}"
            );
        }
        // Two Authorization headers, even if one is good.
        assert_eq!(
            v.begin(&parts("POST", URI, &[&good, &good]), TS)
                .unwrap_err(),
            AuthFailure::Invalid
        );
        assert!(v.begin(&parts("POST", URI, &[&good]), TS).is_ok());
    }

    #[test]
    fn other_schemes_are_missing() {
        let v = verifier();
        for header in ["Bearer abc.def.ghi", "Basic dXNlcjpwYXNz", "HMAC realm", ""] {
            assert_eq!(
                v.begin(&parts("POST", URI, &[header]), TS).unwrap_err(),
                AuthFailure::Missing,
                "{header}"
            );
        }
        assert_eq!(
            v.begin(&parts("POST", URI, &[]), TS).unwrap_err(),
            AuthFailure::Missing
        );
    }

    /// A spray of a million fresh nonces, all within their window, at a store of the default
    /// capacity: it holds at most its capacity and refuses the rest (fail closed); once they
    /// expire, the space is reused.
    #[test]
    fn a_million_nonce_spray_stays_within_capacity() {
        let store = InMemoryNonces::new(DEFAULT_NONCE_CAPACITY);
        let mut full = 0u32;
        for i in 0..1_000_000u32 {
            match store.check_and_insert_now("k", &format!("{i:032x}"), 1_000, 10) {
                NonceOutcome::Fresh => {}
                NonceOutcome::Full => full += 1,
                NonceOutcome::Replayed => panic!("a new nonce counted as a replay"),
            }
        }
        assert_eq!(store.len(), DEFAULT_NONCE_CAPACITY);
        assert_eq!(full as usize, 1_000_000 - DEFAULT_NONCE_CAPACITY);
        assert_eq!(
            store.check_and_insert_now("k", "late", 2_000, 1_000),
            NonceOutcome::Fresh,
            "expired entries are swept when the store is full"
        );
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn nonce_store_expires_and_fails_closed() {
        let store = InMemoryNonces::new(2);
        assert!(store.is_empty());
        assert_eq!(
            store.check_and_insert_now("k", "n1", 100, 10),
            NonceOutcome::Fresh
        );
        assert_eq!(
            store.check_and_insert_now("k", "n1", 100, 99),
            NonceOutcome::Replayed
        );
        assert_eq!(
            store.check_and_insert_now("j", "n1", 100, 10),
            NonceOutcome::Fresh
        );
        assert_eq!(store.len(), 2);
        // Full of live entries: refused, and nothing forgotten.
        assert_eq!(
            store.check_and_insert_now("k", "n2", 100, 50),
            NonceOutcome::Full
        );
        assert_eq!(
            store.check_and_insert_now("k", "n1", 100, 50),
            NonceOutcome::Replayed
        );
        // At `expires_at` the entries are expired: swept to make room, and a seen pair is new.
        assert_eq!(
            store.check_and_insert_now("k", "n2", 300, 100),
            NonceOutcome::Fresh
        );
        assert_eq!(store.len(), 1);
        assert_eq!(
            store.check_and_insert_now("k", "n1", 300, 100),
            NonceOutcome::Fresh
        );
        assert_eq!(
            store.check_and_insert_now("k", "n1", 300, 200),
            NonceOutcome::Replayed
        );
        // `key_id ‖ 0x00 ‖ nonce`: the split between them matters.
        assert_ne!(nonce_key("ab", "c"), nonce_key("a", "bc"));
        assert_eq!(
            InMemoryNonces::new(0).check_and_insert_now("k", "n", 1, 0),
            NonceOutcome::Full
        );
    }

    #[test]
    fn full_nonce_store_refuses_requests() {
        let v = verifier().nonce_store(Arc::new(InMemoryNonces::new(1)));
        let first = signed("POST", URI, BODY, TS, NONCE);
        let second = signed("POST", URI, BODY, TS, "0000000000000000");
        assert!(check(&v, "POST", URI, &first, BODY, TS).is_ok());
        assert_eq!(
            check(&v, "POST", URI, &second, BODY, TS).unwrap_err(),
            AuthFailure::Invalid
        );
        // Once the first nonce has left the window (timestamp + 300 + 1), there is room.
        let third = signed("POST", URI, BODY, TS + 301, "1111111111111111");
        assert!(check(&v, "POST", URI, &third, BODY, TS + 301).is_ok());
    }

    #[test]
    fn short_secret_is_refused() {
        assert!(HmacClient::new("x", &SECRET[..31]).is_err());
        assert!(HmacClient::new("x", SECRET).is_ok());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let secret = "0123456789abcdef0123456789abcdef";
        let client = HmacClient::new("github", secret.as_bytes()).unwrap();
        let signer = HmacSigner::new(KEY_ID, secret.as_bytes());
        let keys = InMemoryHmacKeys::new();
        keys.insert(KEY_ID, client.clone());
        let verifier = HmacVerifier::new(Arc::new(keys));
        for debug in [
            format!("{client:?}"),
            format!("{signer:?}"),
            format!("{verifier:?}"),
            format!("{client:#?}{signer:#?}{verifier:#?}"),
        ] {
            assert!(!debug.contains(secret), "{debug}");
            assert!(!debug.contains("0123456789"), "{debug}");
            assert!(!debug.contains("[48, 49"), "{debug}");
        }
        assert!(format!("{client:?}").contains("github"));
        assert!(format!("{signer:?}").contains(KEY_ID));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::{parse_authorization, HmacSigner};

    proptest! {
        /// Any `Authorization` bytes: parsed or refused, never a panic.
        #[test]
        fn arbitrary_headers_never_panic(value in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_authorization(&value);
        }

        /// Headers close to valid ones (parameters shuffled, duplicated, cut): never a panic.
        #[test]
        fn near_valid_headers_never_panic(cut in 0usize..200, extra in "[ ,=\"a-zA-Z0-9]{0,40}") {
            let signed = HmacSigner::new("client-1", b"0123456789abcdef0123456789abcdef")
                .sign_at("POST", "/x?y=1", b"{}", 1_764_000_000, "0123456789abcdef0123");
            let mut value = signed.into_bytes();
            value.truncate(cut.min(value.len()));
            value.extend_from_slice(extra.as_bytes());
            let _ = parse_authorization(&value);
        }
    }
}
