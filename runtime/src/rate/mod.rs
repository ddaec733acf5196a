//! Rate limiting: GCRA, keyed by principal (or client IP when unauthenticated), and a
//! failure counter for credential endpoints ([`FailureLimiter`]: reserve an attempt before
//! verifying, give it back on success).
//!
//! A rejection is a 429 problem with `Retry-After` (seconds) and the IETF header fields of
//! draft-ietf-httpapi-ratelimit-headers-10: `RateLimit-Policy: "<name>";q=<quota>;w=<window>`
//! and `RateLimit: "<name>";r=0;t=<seconds until a request is admitted>`.
//!
//! # Where the state lives
//!
//! By default each instance counts in its own memory (governor's GCRA). With a shared
//! [`RateStore`] (Redis, feature `redis`), every instance asks the store, so a limit is one
//! limit across all instances. Both run the same algorithm on the same parameters
//! ([`Limit::interval`], [`Limit::burst`]): a burst of `count` requests, then one more every
//! `period / count`. In any stretch of time `d` a key is admitted at most
//! `count + d / (period / count)` requests, and never more than `count` at once.

use std::fmt;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DashMapStateStore;
use http::{HeaderName, HeaderValue, StatusCode};
use sha2::{Digest, Sha256};

use crate::extract::Principal;
use crate::perimeter::IpNet;
use crate::policy::RateSpec;
use crate::problem::Problem;
use crate::store::{Health, Outage};
mod failure;
mod store;

pub use failure::{normalize_identifier, Attempt, FailureLimiter, DEFAULT_FAILURE_CAPACITY};
pub use store::{Decision, Limit, MemoryRateStore, RateStore};

use store::SharedMap;

/// What a rate limit counts by, in this instance's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateKey {
    /// An unauthenticated caller, by client address.
    Ip(IpAddr),
    /// An authenticated principal, by a keyed hash of its subject (the key is random per
    /// process, so these values mean nothing to another instance).
    Principal(u64),
    /// An unauthenticated caller, by the network its address is counted in (IPv6 clients by
    /// their /64 by default).
    Network(IpNet),
}

/// Who a request is counted for.
#[derive(Debug, Clone, Copy)]
pub enum RateSubject<'a> {
    /// An unauthenticated caller, by client address.
    Ip(IpAddr),
    /// An authenticated principal.
    Principal(&'a Principal),
    /// An unauthenticated caller, by the network its address is counted in: what the
    /// perimeter uses (IPv4 by address, IPv6 by the prefix of
    /// [`SecurityBuilder::ipv6_prefix`](crate::SecurityBuilder::ipv6_prefix), /64 by default),
    /// so every address of one IPv6 allocation shares one limit.
    Network(IpNet),
}

impl RateSubject<'_> {
    fn local(&self) -> RateKey {
        match self {
            RateSubject::Ip(ip) => RateKey::Ip(*ip),
            RateSubject::Principal(p) => RateKey::Principal(p.rate_key()),
            RateSubject::Network(net) => RateKey::Network(*net),
        }
    }

    /// The key a shared store counts by, the same on every instance: `ip:<address>` (for a
    /// [`Network`](RateSubject::Network) of one address too), `ip:<network>/<prefix>` (an
    /// IPv6 client's network: `ip:2001:db8:1:2::/64`), or
    /// `sub:<first 128 bits of SHA-256(subject), hex>` (the subject itself is not stored).
    pub fn shared_key(&self) -> String {
        match self {
            RateSubject::Ip(ip) => format!("ip:{ip}"),
            RateSubject::Network(net) if net.is_single_address() => format!("ip:{}", net.addr()),
            RateSubject::Network(net) => format!("ip:{net}"),
            RateSubject::Principal(p) => {
                let digest = Sha256::digest(p.subject().as_bytes());
                let mut key = String::with_capacity(36);
                key.push_str("sub:");
                for b in &digest[..16] {
                    key.push_str(&format!("{b:02x}"));
                }
                key
            }
        }
    }
}

/// Keys a limiter holds in memory at most, by default: about 70 MB (70 bytes per key,
/// BENCHMARKS.md).
pub const DEFAULT_MAX_KEYS: usize = 1_000_000;

/// Every this many decisions, the number of keys held is compared with the cap.
const CAP_CHECK_EVERY: u32 = 1 << 10;

const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// One limit as the router enforces it: `count` requests per period per key, with a burst of
/// `count`, in this instance's memory or in a shared [`RateStore`].
pub struct RateLimiter {
    name: &'static str,
    spec: RateSpec,
    limiter: governor::RateLimiter<
        RateKey,
        SharedMap,
        DefaultClock,
        governor::middleware::NoOpMiddleware<<DefaultClock as Clock>::Instant>,
    >,
    /// The limiter's keys (the same map governor holds).
    keys: Arc<DashMapStateStore<RateKey>>,
    max_keys: usize,
    /// Set when the map held `max_keys` live keys at the last count: new keys are refused.
    full: std::sync::atomic::AtomicBool,
    policy_header: HeaderValue,
    /// Decisions since the last sweep of fresh keys.
    decisions: AtomicU32,
    sweep_every: u32,
    shared: Option<Shared>,
}

/// The shared store a limiter asks, and what to do when it cannot answer.
struct Shared {
    store: Arc<dyn RateStore>,
    limit: Limit,
    outage: Outage,
    health: Health,
}

/// Every this many decisions, keys whose state is back to fresh are dropped (governor's
/// `retain_recent`: one emission interval after that), so memory holds only the keys seen
/// within about one rate period, and an address spray cannot grow it for ever.
const SWEEP_EVERY: u32 = 1 << 16;

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("name", &self.name)
            .field("spec", &self.spec)
            .field("keys", &self.limiter.len())
            .field(
                "shared",
                &self.shared.as_ref().map(|s| (&s.store, s.outage)),
            )
            .finish()
    }
}

impl RateLimiter {
    /// A limiter named `name` (shown in the `RateLimit` headers) admitting `spec`, in memory.
    pub fn new(name: &'static str, spec: RateSpec) -> Self {
        let quota = Limit::new(name, spec).quota();
        let policy_header = policy_header(name, spec.count, spec.period_secs);
        let keys = Arc::new(DashMapStateStore::default());
        RateLimiter {
            name,
            spec,
            limiter: governor::RateLimiter::new(
                quota,
                SharedMap(keys.clone()),
                DefaultClock::default(),
            ),
            keys,
            max_keys: DEFAULT_MAX_KEYS,
            full: std::sync::atomic::AtomicBool::new(false),
            policy_header,
            decisions: AtomicU32::new(0),
            sweep_every: SWEEP_EVERY,
            shared: None,
        }
    }

    /// The same limit kept in `store` under the name `id` (the same on every instance), with
    /// `outage` deciding what happens while the store cannot answer.
    pub fn shared(
        mut self,
        id: impl Into<Arc<str>>,
        store: Arc<dyn RateStore>,
        outage: Outage,
    ) -> Self {
        self.shared = Some(Shared {
            store,
            limit: Limit::new(id, self.spec),
            outage,
            health: Health::default(),
        });
        self
    }

    /// Holds at most about `max_keys` keys in memory (default [`DEFAULT_MAX_KEYS`]): when
    /// that many are live (not yet back to fresh), requests of keys not held are refused with
    /// 429 until some expire, rather than memory growing without bound under a key spray.
    /// The count is taken every 1 024 decisions, so the map may briefly exceed the cap by
    /// the keys of that many decisions.
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys.max(1);
        self
    }

    /// The quota.
    pub fn spec(&self) -> RateSpec {
        self.spec
    }

    /// Admits one request of `subject`, or returns the problem to send: 429 over the limit,
    /// 503 when the shared store cannot answer and the limiter fails closed.
    pub async fn check(&self, subject: RateSubject<'_>) -> Result<(), Problem> {
        self.check_noting(subject, &mut false).await
    }

    /// [`check`](Self::check), setting `fell_back` when the local limiter decided because the
    /// shared store could not answer (the request's security event says so).
    pub(crate) async fn check_noting(
        &self,
        subject: RateSubject<'_>,
        fell_back: &mut bool,
    ) -> Result<(), Problem> {
        let Some(shared) = &self.shared else {
            return self.check_local(&subject.local());
        };
        let key = subject.shared_key();
        match shared.store.decide(&shared.limit, &key).await {
            Ok(decision) => {
                shared.health.succeeded("rate");
                match decision {
                    Decision::Admit => Ok(()),
                    Decision::Refuse { retry_after } => Err(self.rejection(retry_after)),
                }
            }
            Err(error) => {
                shared.health.failed("rate", &error);
                match shared.outage {
                    Outage::FailClosed => Err(crate::store::unavailable()),
                    Outage::FallBackToLocal => {
                        *fell_back = true;
                        self.check_local(&subject.local())
                    }
                }
            }
        }
    }

    /// Admits one request for `key` in this instance's memory, or returns the 429 to send.
    #[inline]
    pub fn check_local(&self, key: &RateKey) -> Result<(), Problem> {
        let n = self
            .decisions
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1);
        if n.is_multiple_of(CAP_CHECK_EVERY) {
            self.count_keys(n);
        }
        if self.full.load(Ordering::Relaxed) && !self.keys.contains_key(key) {
            return Err(self.rejection(Limit::new(self.name, self.spec).interval()));
        }
        match self.limiter.check_key(key) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(self.rejection(wait))
            }
        }
    }

    /// Admits `n` requests of `subject` at once, all or none (the operations of a GraphQL
    /// batch: a batch of 50 costs 50), or returns the problem to send; more than the burst is
    /// always refused. A shared store is asked once per request.
    pub(crate) async fn check_n_noting(
        &self,
        subject: RateSubject<'_>,
        n: u32,
        fell_back: &mut bool,
    ) -> Result<(), Problem> {
        let Some(n) = NonZeroU32::new(n) else {
            return Ok(());
        };
        if self.shared.is_some() {
            for _ in 0..n.get() {
                self.check_noting(subject, fell_back).await?;
            }
            return Ok(());
        }
        match self.limiter.check_key_n(&subject.local(), n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(self.rejection(wait))
            }
            Err(_) => Err(self.rejection(Limit::new(self.name, self.spec).interval())),
        }
    }

    fn rejection(&self, wait: Duration) -> Problem {
        too_many(
            self.name,
            self.policy_header.clone(),
            wait,
            "Too many requests. Retry after the time given in Retry-After.",
        )
    }

    /// Number of keys held in memory (for memory bounds and tests).
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    /// `true` when no key is held in memory.
    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }

    /// Forgets keys whose state is indistinguishable from a fresh one, and releases memory.
    pub fn retain_recent(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Every 1 024 decisions: sweeps when due (every `sweep_every`) or when the cap is
    /// reached, then notes whether the map is full.
    #[cold]
    fn count_keys(&self, decisions: u32) {
        if decisions.is_multiple_of(self.sweep_every) || self.keys.len() >= self.max_keys {
            self.retain_recent();
        }
        let full = self.keys.len() >= self.max_keys;
        if full != self.full.swap(full, Ordering::Relaxed) && full {
            tracing::warn!(
                target: crate::events::TARGET,
                kind = "rate_keys_full",
                limiter = self.name,
                max_keys = self.max_keys,
                "rate limiter holds its maximum of live keys: new keys are refused until some expire"
            );
        }
    }
}

/// `RateLimit-Policy: "<name>";q=<quota>;w=<window seconds>`.
fn policy_header(name: &str, quota: u32, window_secs: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{name}\";q={quota};w={window_secs}"))
        .unwrap_or(HeaderValue::from_static("\"default\""))
}

/// The 429 problem: `Retry-After` in whole seconds (at least 1), `RateLimit-Policy`, and
/// `RateLimit: "<name>";r=0;t=<seconds>`.
fn too_many(name: &str, policy: HeaderValue, wait: Duration, detail: &'static str) -> Problem {
    let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    Problem::new(StatusCode::TOO_MANY_REQUESTS)
        .with_detail(detail)
        .with_header(http::header::RETRY_AFTER, HeaderValue::from(secs))
        .with_header(RATELIMIT_POLICY, policy)
        .with_header(
            RATELIMIT,
            HeaderValue::from_str(&format!("\"{name}\";r=0;t={secs}"))
                .unwrap_or(HeaderValue::from_static("\"default\";r=0")),
        )
}

#[cfg(test)]
mod tests;
