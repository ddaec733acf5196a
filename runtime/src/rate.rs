//! Rate limiting: GCRA from governor, keyed by principal (or client IP when unauthenticated),
//! and a failure counter for credential endpoints (`FailureLimiter`).
//!
//! A rejection is a 429 problem with `Retry-After` (seconds) and the IETF header fields of
//! draft-ietf-httpapi-ratelimit-headers-10: `RateLimit-Policy: "<name>";q=<quota>;w=<window>`
//! and `RateLimit: "<name>";r=0;t=<seconds until a request is admitted>`.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DashMapStateStore;
use governor::Quota;
use http::{HeaderName, HeaderValue, StatusCode};

use crate::policy::RateSpec;
use crate::problem::Problem;

/// What a rate limit counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateKey {
    /// An unauthenticated caller, by client address.
    Ip(IpAddr),
    /// An authenticated principal, by a keyed hash of its subject.
    Principal(u64),
}

const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// A keyed GCRA limiter: `count` requests per period per key, with a burst of `count`.
pub struct RateLimiter {
    name: &'static str,
    spec: RateSpec,
    limiter: governor::RateLimiter<RateKey, DashMapStateStore<RateKey>, DefaultClock>,
    policy_header: HeaderValue,
    /// Decisions since the last sweep of fresh keys.
    decisions: std::sync::atomic::AtomicU32,
    sweep_every: u32,
}

/// Every this many decisions, keys whose state is back to fresh are dropped (governor's
/// `retain_recent`: one emission interval after that), so memory holds only the keys seen
/// within about one rate period, and an address spray cannot grow it for ever.
const SWEEP_EVERY: u32 = 1 << 16;

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("name", &self.name)
            .field("spec", &self.spec)
            .field("keys", &self.limiter.len())
            .finish()
    }
}

impl RateLimiter {
    /// A limiter named `name` (shown in the `RateLimit` headers) admitting `spec`.
    pub fn new(name: &'static str, spec: RateSpec) -> Self {
        let count = NonZeroU32::new(spec.count).unwrap_or(NonZeroU32::MIN);
        let period = Duration::from_secs(spec.period_secs.max(1));
        let quota = Quota::with_period(period / count.get())
            .unwrap_or_else(|| Quota::per_second(count))
            .allow_burst(count);
        let policy_header = policy_header(name, spec.count, spec.period_secs);
        RateLimiter {
            name,
            spec,
            limiter: governor::RateLimiter::dashmap(quota),
            policy_header,
            decisions: std::sync::atomic::AtomicU32::new(0),
            sweep_every: SWEEP_EVERY,
        }
    }

    /// The quota.
    pub fn spec(&self) -> RateSpec {
        self.spec
    }

    /// Admits one request for `key`, or returns the 429 problem to send.
    #[inline]
    pub fn check(&self, key: &RateKey) -> Result<(), Problem> {
        let n = self
            .decisions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n.wrapping_add(1).is_multiple_of(self.sweep_every) {
            self.retain_recent();
        }
        match self.limiter.check_key(key) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(self.rejection(wait))
            }
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

    /// Number of keys held (for memory bounds and tests).
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    /// `true` when no key is held.
    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }

    /// Forgets keys whose state is indistinguishable from a fresh one, and releases memory.
    pub fn retain_recent(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Counts *failures* per key in a fixed window: for credential endpoints such as login, where
/// successes must not count (`skipSuccessfulRequests` in express-rate-limit). GCRA cannot give
/// a cell back after a success, hence this small counter.
///
/// Keys are hashed with a per-process random key, so callers cannot aim for collisions, and the
/// table holds at most `capacity` keys: when it is full of live entries, new keys are refused
/// (fail closed) until entries expire.
pub struct FailureLimiter {
    name: &'static str,
    max_failures: u32,
    window: Duration,
    capacity: usize,
    hasher: std::collections::hash_map::RandomState,
    entries: Mutex<HashMap<u64, (Instant, u32)>>,
}

impl std::fmt::Debug for FailureLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailureLimiter")
            .field("name", &self.name)
            .field("max_failures", &self.max_failures)
            .field("window", &self.window)
            .finish()
    }
}

impl FailureLimiter {
    /// Allows `max_failures` failures per key per `window`; holds at most 100 000 keys.
    pub fn new(name: &'static str, max_failures: u32, window: Duration) -> Self {
        FailureLimiter {
            name,
            max_failures: max_failures.max(1),
            window,
            capacity: 100_000,
            hasher: Default::default(),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Sets the largest number of keys held.
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Instant, u32)>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `Err(429)` while `key` has used up its failures in the current window.
    pub fn check<K: Hash>(&self, key: &K) -> Result<(), Problem> {
        let h = self.hasher.hash_one(key);
        let now = Instant::now();
        let entries = self.lock();
        match entries.get(&h) {
            Some(&(start, count)) if count >= self.max_failures && now < start + self.window => {
                Err(self.rejection(start + self.window - now))
            }
            None if entries.len() >= self.capacity => {
                drop(entries);
                self.purge(now);
                if self.lock().len() >= self.capacity {
                    Err(self.rejection(self.window))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Records one failure for `key`.
    pub fn record_failure<K: Hash>(&self, key: &K) {
        let h = self.hasher.hash_one(key);
        let now = Instant::now();
        let mut entries = self.lock();
        let entry = entries.entry(h).or_insert((now, 0));
        if now >= entry.0 + self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    fn purge(&self, now: Instant) {
        let window = self.window;
        self.lock().retain(|_, (start, _)| now < *start + window);
    }

    fn rejection(&self, wait: Duration) -> Problem {
        too_many(
            self.name,
            policy_header(self.name, self.max_failures, self.window.as_secs()),
            wait,
            "Too many failed attempts. Retry after the time given in Retry-After.",
        )
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
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn admits_the_quota_then_rejects_with_headers() {
        let limiter = RateLimiter::new(
            "test",
            RateSpec {
                count: 3,
                period_secs: 60,
            },
        );
        let key = RateKey::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        for _ in 0..3 {
            limiter.check(&key).unwrap();
        }
        let problem = limiter.check(&key).unwrap_err();
        assert_eq!(problem.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = problem.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=20).contains(&retry), "{retry}");
        assert_eq!(problem.headers()["ratelimit-policy"], "\"test\";q=3;w=60");
        // Another key is unaffected.
        limiter.check(&RateKey::Principal(7)).unwrap();
    }

    #[test]
    fn fresh_keys_are_swept_so_a_spray_does_not_stay() {
        let mut limiter = RateLimiter::new(
            "sweep",
            RateSpec {
                count: 1,
                period_secs: 1,
            },
        );
        limiter.sweep_every = 1_000;
        for i in 0..999 {
            limiter.check(&RateKey::Principal(i)).unwrap();
        }
        assert_eq!(limiter.len(), 999);
        // governor drops a key one emission interval after its state is back to fresh: with
        // one request per second, two seconds after its last request.
        std::thread::sleep(Duration::from_millis(2_100));
        // The 1000th decision sweeps first.
        limiter.check(&RateKey::Principal(5_000)).unwrap();
        assert_eq!(limiter.len(), 1);
    }

    /// A spray of a million client addresses (the per-IP limiter's default quota, 6000 a
    /// minute): the sweep keeps the table near one sweep interval of keys, not a million.
    #[test]
    fn a_million_address_spray_stays_bounded() {
        let limiter = RateLimiter::new("ip", RateSpec::new(6000, Duration::from_secs(60)));
        let started = Instant::now();
        let mut most = 0;
        for i in 0..1_000_000u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            limiter.check(&RateKey::Ip(ip)).unwrap();
            most = most.max(limiter.len());
        }
        let elapsed = started.elapsed();
        eprintln!("1 000 000 addresses: at most {most} keys held, {elapsed:?}");
        // Each key is back to fresh 10 ms after its one request, two intervals later it goes
        // at the next sweep (every 65 536 decisions): the table never holds much more than the
        // keys of two sweep intervals.
        assert!(most <= 3 * SWEEP_EVERY as usize, "{most} keys held at most");
        assert!(elapsed < Duration::from_secs(120), "{elapsed:?}");
    }

    #[test]
    fn failure_limiter_counts_only_failures() {
        let limiter = FailureLimiter::new("login", 2, Duration::from_secs(60));
        let key = ("1.2.3.4", "a@example.com");
        limiter.check(&key).unwrap();
        limiter.record_failure(&key);
        limiter.check(&key).unwrap();
        limiter.record_failure(&key);
        assert_eq!(
            limiter.check(&key).unwrap_err().status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        limiter.check(&("1.2.3.4", "b@example.com")).unwrap();
    }

    #[test]
    fn failure_limiter_is_bounded_and_fails_closed_when_full() {
        let limiter = FailureLimiter::new("login", 1, Duration::from_secs(60)).with_capacity(2);
        limiter.record_failure(&1);
        limiter.record_failure(&2);
        assert!(limiter.check(&3).is_err());
        assert!(limiter.lock().len() <= 2);
    }
}
