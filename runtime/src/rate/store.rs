//! Where a limit's state lives: the [`RateStore`] contract, one [`Limit`] and the store's
//! [`Decision`], and the embedded default, [`MemoryRateStore`] (governor's GCRA per key).

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DashMapStateStore;
use governor::Quota;

use crate::policy::RateSpec;
use crate::store::{StoreError, StoreFuture};

use super::{RateKey, SWEEP_EVERY};

/// One limit: a name that is the same on every instance (the route, for an endpoint's own
/// limit) and its quota.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Limit {
    pub(super) id: Arc<str>,
    pub(super) spec: RateSpec,
}

impl Limit {
    /// The limit `id` admitting `spec`.
    pub fn new(id: impl Into<Arc<str>>, spec: RateSpec) -> Self {
        Limit {
            id: id.into(),
            spec,
        }
    }

    /// Its name, the same on every instance.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its quota.
    pub fn spec(&self) -> RateSpec {
        self.spec
    }

    /// The emission interval: `period / count`, in whole microseconds (at least 1).
    pub fn interval(&self) -> Duration {
        let count = u64::from(self.spec.count.max(1));
        let period_us = self.spec.period_secs.max(1).saturating_mul(1_000_000);
        Duration::from_micros((period_us / count).max(1))
    }

    /// The burst: `count` requests at once.
    pub fn burst(&self) -> u32 {
        self.spec.count.max(1)
    }

    /// The governor quota with exactly these parameters.
    pub(super) fn quota(&self) -> Quota {
        Quota::with_period(self.interval())
            .expect("the interval is at least 1 µs")
            .allow_burst(NonZeroU32::new(self.burst()).unwrap_or(NonZeroU32::MIN))
    }
}

/// A store's answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Admitted (and counted).
    Admit,
    /// Refused; the earliest a request of this key can be admitted is this far away.
    Refuse {
        /// Time until the next admission.
        retry_after: Duration,
    },
}

/// Where rate-limit state is kept, behind one decision per request.
///
/// [`MemoryRateStore`] keeps it in this process; `RedisStore` (feature `redis`) in Redis,
/// shared by every instance. A store answers for `key` (see
/// [`RateSubject::shared_key`](super::RateSubject::shared_key)) under `limit`, and counts the
/// request when it admits it.
pub trait RateStore: Send + Sync + fmt::Debug + 'static {
    /// One decision, counted if admitted.
    fn decide<'a>(
        &'a self,
        limit: &'a Limit,
        key: &'a str,
    ) -> StoreFuture<'a, Result<Decision, StoreError>>;

    /// For the abuse detectors ([`abuse`](crate::abuse)): adds `member` to the set of distinct
    /// members of `key` (a window of `window` from its first member); when the set reaches
    /// `threshold`, it is cleared and `key` cools down for `cool_down`, and the answer says
    /// it tripped (exactly once per trip, whichever instance asks). While `key` cools down,
    /// nothing is added. The default answers an error: the detectors then count in this
    /// instance's memory.
    fn distinct<'a>(
        &'a self,
        key: &'a str,
        member: u64,
        window: Duration,
        threshold: u32,
        cool_down: Duration,
    ) -> StoreFuture<'a, Result<crate::store::distinct::Distinct, StoreError>> {
        let _ = (key, member, window, threshold, cool_down);
        StoreFuture::ready(Err(StoreError::new(crate::store::StoreErrorKind::Protocol)))
    }

    /// Takes `member` out of `key`'s distinct set (see [`distinct`](Self::distinct)).
    fn forget<'a>(&'a self, key: &'a str, member: u64) -> StoreFuture<'a, Result<(), StoreError>> {
        let _ = (key, member);
        StoreFuture::ready(Ok(()))
    }

    /// How long `key` still cools down for (see [`distinct`](Self::distinct)), if it does.
    fn cooling<'a>(
        &'a self,
        key: &'a str,
    ) -> StoreFuture<'a, Result<Option<Duration>, StoreError>> {
        let _ = key;
        StoreFuture::ready(Ok(None))
    }
}

pub(super) type LocalGcra<K, C> = governor::RateLimiter<
    K,
    DashMapStateStore<K>,
    C,
    governor::middleware::NoOpMiddleware<<C as Clock>::Instant>,
>;

/// One limit's keyed limiter and its decisions since the last sweep.
pub(super) type Counted<C> = (LocalGcra<String, C>, AtomicU32);

/// A [`RateStore`] in this process's memory: governor's GCRA, one keyed limiter per
/// [`Limit`], generic over governor's clock (tests use `FakeRelativeClock`). Keys whose state
/// is back to fresh are dropped every 65 536 decisions of a limit.
///
/// The router's embedded limiter is the same algorithm keyed by a hash rather than a string;
/// this type is for sharing a store between several routers in one process and for comparing
/// stores.
pub struct MemoryRateStore<C: Clock = DefaultClock> {
    pub(super) clock: C,
    pub(super) limiters: Mutex<HashMap<Limit, Arc<Counted<C>>>>,
    /// The abuse detectors' distinct counts and cool-downs.
    pub(super) distinct: crate::store::distinct::DistinctTable,
}

impl<C: Clock> fmt::Debug for MemoryRateStore<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.limiters.lock().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("MemoryRateStore")
            .field("limits", &n)
            .finish()
    }
}

impl Default for MemoryRateStore<DefaultClock> {
    fn default() -> Self {
        Self::with_clock(DefaultClock::default())
    }
}

impl MemoryRateStore<DefaultClock> {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<C: Clock + Clone> MemoryRateStore<C> {
    /// An empty store reading `clock`.
    pub fn with_clock(clock: C) -> Self {
        MemoryRateStore {
            clock,
            limiters: Mutex::new(HashMap::new()),
            distinct: crate::store::distinct::DistinctTable::default(),
        }
    }

    /// The decision for `key` under `limit`, now.
    pub fn decide_now(&self, limit: &Limit, key: &str) -> Decision {
        let limiter = {
            let mut map = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(limit.clone())
                .or_insert_with(|| {
                    Arc::new((
                        governor::RateLimiter::new(
                            limit.quota(),
                            DashMapStateStore::default(),
                            self.clock.clone(),
                        ),
                        AtomicU32::new(0),
                    ))
                })
                .clone()
        };
        let (gcra, decisions) = &*limiter;
        if decisions
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1)
            .is_multiple_of(SWEEP_EVERY)
        {
            gcra.retain_recent();
        }
        match gcra.check_key(&key.to_owned()) {
            Ok(()) => Decision::Admit,
            Err(not_until) => Decision::Refuse {
                retry_after: not_until.wait_time_from(self.clock.now()),
            },
        }
    }
}

impl<C> RateStore for MemoryRateStore<C>
where
    C: Clock + Clone + Send + Sync + fmt::Debug + 'static,
    C::Instant: Send + Sync,
{
    fn decide<'a>(
        &'a self,
        limit: &'a Limit,
        key: &'a str,
    ) -> StoreFuture<'a, Result<Decision, StoreError>> {
        StoreFuture::ready(Ok(self.decide_now(limit, key)))
    }

    fn distinct<'a>(
        &'a self,
        key: &'a str,
        member: u64,
        window: Duration,
        threshold: u32,
        cool_down: Duration,
    ) -> StoreFuture<'a, Result<crate::store::distinct::Distinct, StoreError>> {
        StoreFuture::ready(Ok(self.distinct.observe(
            key,
            member,
            window,
            threshold,
            cool_down,
            std::time::Instant::now(),
        )))
    }

    fn forget<'a>(&'a self, key: &'a str, member: u64) -> StoreFuture<'a, Result<(), StoreError>> {
        self.distinct.forget(key, member);
        StoreFuture::ready(Ok(()))
    }

    fn cooling<'a>(
        &'a self,
        key: &'a str,
    ) -> StoreFuture<'a, Result<Option<Duration>, StoreError>> {
        StoreFuture::ready(Ok(self.distinct.cooling(key, std::time::Instant::now())))
    }
}

/// governor's DashMap store behind an `Arc`, so that the limiter can also ask whether a key
/// is held (for the cap on keys) without going through governor.
pub(super) struct SharedMap(pub(super) Arc<DashMapStateStore<RateKey>>);

impl governor::state::StateStore for SharedMap {
    type Key = RateKey;

    #[inline]
    fn measure_and_replace<T, F, E>(&self, key: &RateKey, f: F) -> Result<T, E>
    where
        F: Fn(Option<governor::nanos::Nanos>) -> Result<(T, governor::nanos::Nanos), E>,
    {
        self.0.measure_and_replace(key, f)
    }
}

impl governor::state::keyed::ShrinkableKeyedStateStore<RateKey> for SharedMap {
    fn retain_recent(&self, drop_below: governor::nanos::Nanos) {
        governor::state::keyed::ShrinkableKeyedStateStore::retain_recent(&*self.0, drop_below);
    }

    fn shrink_to_fit(&self) {
        self.0.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
