//! A bounded cache of verified tokens, so a token seen again costs a lookup instead of a
//! signature check and claim parsing (Envoy's `jwt_authn` keeps one too).
//!
//! - Keyed by a hash (foldhash, randomly seeded per process) of the *whole* token; the entry
//!   keeps the token and a hit compares it in full, in constant time, so a hash collision can
//!   never admit a different token (a fast hash is enough for that reason).
//! - Only tokens that passed verification are inserted, so garbage tokens cannot fill it.
//! - An entry is used only while its `exp` has not passed (no leeway: after `exp` the token is
//!   verified again, with the configured leeway).
//! - Bounded: at most `capacity` entries across 16 shards; a full shard first drops expired
//!   entries, then an arbitrary one.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::RwLock;

use foldhash::fast::RandomState;
use subtle::{Choice, ConstantTimeEq};

use crate::extract::Principal;

const SHARDS: usize = 16;

struct Entry {
    token: Box<str>,
    principal: Principal,
    exp: u64,
    /// The verifier's key generation when the token was verified: a token verified with a key
    /// that has since been removed is not served.
    generation: u64,
}

/// See the module documentation.
pub(crate) struct TokenCache {
    shards: Box<[RwLock<HashMap<u64, Entry>>]>,
    per_shard: usize,
    hasher: RandomState,
}

impl TokenCache {
    /// A cache of at most `capacity` tokens (rounded up to a multiple of 16).
    pub(crate) fn new(capacity: usize) -> Self {
        TokenCache {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            hasher: RandomState::default(),
        }
    }

    /// The principal of a cached, unexpired `token`.
    #[inline]
    pub(crate) fn get(&self, token: &str, now: u64, generation: u64) -> Option<Principal> {
        let h = self.hasher.hash_one(token);
        let shard = self.shards[(h as usize) % SHARDS]
            .read()
            .unwrap_or_else(|p| p.into_inner());
        let entry = shard.get(&h)?;
        let same = ct_eq(entry.token.as_bytes(), token.as_bytes());
        (same && now < entry.exp && entry.generation == generation).then(|| entry.principal.clone())
    }

    /// Remembers a verified `token` until `exp`.
    pub(crate) fn insert(
        &self,
        token: &str,
        principal: Principal,
        exp: u64,
        now: u64,
        generation: u64,
    ) {
        if exp <= now {
            return;
        }
        let h = self.hasher.hash_one(token);
        let mut shard = self.shards[(h as usize) % SHARDS]
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if shard.len() >= self.per_shard && !shard.contains_key(&h) {
            shard.retain(|_, e| now < e.exp);
            if shard.len() >= self.per_shard {
                if let Some(victim) = shard.keys().next().copied() {
                    shard.remove(&victim);
                }
            }
        }
        shard.insert(
            h,
            Entry {
                token: token.into(),
                principal,
                exp,
                generation,
            },
        );
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }
}

/// Equality in constant time for inputs of equal (public) length: 8 bytes per step, no branch
/// on the contents.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a_words, a_rest) = a.as_chunks::<8>();
    let (b_words, b_rest) = b.as_chunks::<8>();
    let mut eq = Choice::from(1);
    for (x, y) in a_words.iter().zip(b_words) {
        eq &= u64::from_ne_bytes(*x).ct_eq(&u64::from_ne_bytes(*y));
    }
    for (x, y) in a_rest.iter().zip(b_rest) {
        eq &= x.ct_eq(y);
    }
    eq.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::AuthScheme;

    fn p(s: &str) -> Principal {
        Principal::new(s, vec![], vec![], AuthScheme::Jwt)
    }

    #[test]
    fn hit_miss_and_expiry() {
        let cache = TokenCache::new(64);
        cache.insert("a.b.c", p("alice"), 100, 10, 0);
        assert_eq!(cache.get("a.b.c", 50, 0).unwrap().subject(), "alice");
        assert!(cache.get("a.b.d", 50, 0).is_none());
        assert!(cache.get("a.b.c", 100, 0).is_none(), "not at or after exp");
        assert!(
            cache.get("a.b.c", 50, 1).is_none(),
            "not after a key change"
        );
        cache.insert("x.y.z", p("bob"), 5, 10, 0);
        assert!(
            cache.get("x.y.z", 1, 0).is_none(),
            "an expired token is never inserted"
        );
    }

    #[test]
    fn constant_time_equality() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(b"0123456789abc", b"0123456789abc"));
        assert!(!ct_eq(b"0123456789abc", b"0123456789abd"));
        assert!(!ct_eq(b"x123456789abc", b"0123456789abc"));
        assert!(!ct_eq(b"abc", b"abcd"));
    }

    #[test]
    fn bounded() {
        let cache = TokenCache::new(32);
        for i in 0..10_000 {
            cache.insert(&format!("token-{i}"), p("u"), 1_000, 1, 0);
        }
        assert!(cache.len() <= 32, "{}", cache.len());
    }

    /// A spray of a million distinct tokens at a cache of the verifier's default size: it
    /// never holds more than its capacity.
    #[test]
    fn a_million_token_spray_stays_within_capacity() {
        let cache = TokenCache::new(crate::auth::jwt::DEFAULT_TOKEN_CACHE);
        let mut most = 0;
        for i in 0..1_000_000u32 {
            cache.insert(&format!("eyJ.{i:08x}.sig"), p("u"), u64::MAX, 1, 0);
            if i % 4096 == 0 {
                most = most.max(cache.len());
            }
        }
        most = most.max(cache.len());
        let capacity = crate::auth::jwt::DEFAULT_TOKEN_CACHE.div_ceil(SHARDS) * SHARDS;
        assert!(most <= capacity, "{most} > {capacity}");
    }
}
