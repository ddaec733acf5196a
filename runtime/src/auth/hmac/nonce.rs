//! Replay protection: the (key id, nonce) pairs seen within the window ([`NonceStore`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::{StoreError, StoreFuture};

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

pub(super) struct NonceMap {
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

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, NonceMap> {
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
