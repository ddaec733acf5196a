//! [`FailureLimiter`]: failed attempts per key in a fixed window, for credential endpoints.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use unicode_normalization::UnicodeNormalization;

use crate::problem::Problem;

/// Keys a [`FailureLimiter`] holds by default.
pub const DEFAULT_FAILURE_CAPACITY: usize = 100_000;

/// The form of a user-typed identifier (an email, a user name) that a [`FailureLimiter`] counts
/// by, and that an account lookup should compare by too: Unicode NFKC (compatibility forms such
/// as fullwidth letters or a no-break space become their plain equivalents), lower case
/// (Unicode's, not only ASCII), surrounding whitespace removed.
///
/// Lower-casing is not full case folding: `Straße` and `STRASSE` stay different. What matters
/// is that the throttle and the account lookup agree, so that no spelling of one account gets
/// a bucket of its own: look accounts up by this form (and store it) as well.
///
/// ```
/// use secure_endpoint::rate::normalize_identifier;
/// assert_eq!(normalize_identifier(" Alice@Example.COM "), "alice@example.com");
/// // Fullwidth letters and a no-break space (NFKC).
/// assert_eq!(normalize_identifier("\u{a0}ＡＬＩＣＥ@example.com"), "alice@example.com");
/// ```
pub fn normalize_identifier(identifier: &str) -> String {
    let lower = identifier.nfkc().collect::<String>().to_lowercase();
    // Lower-casing can leave a string that is not in NFKC any more (rarely): once more.
    let normalized: String = lower.nfkc().collect();
    normalized.trim().to_owned()
}

/// Counts *failed* attempts per key in a fixed window, for credential endpoints such as a
/// login, where successes must not count (`skipSuccessfulRequests` in express-rate-limit).
/// GCRA cannot give a cell back after a success, hence this small counter.
///
/// # Reserve, verify, settle
///
/// An attempt is reserved with [`reserve`](Self::reserve) *before* the credentials are
/// checked, and counted as a failure from that moment: concurrent attempts for one key cannot
/// all pass a check that is only updated after the (slow) password hash, so at most
/// `max_failures` attempts per key and window ever reach verification. The [`Attempt`] it
/// returns is settled with [`Attempt::succeeded`], which gives the reservation back; dropped in
/// any other way (an explicit [`Attempt::failed`], an early return, a panic, a client that went
/// away mid-hash) it stays counted as a failure. Forgetting to settle errs on the safe side.
///
/// ```
/// # use std::time::Duration;
/// # use secure_endpoint::rate::FailureLimiter;
/// # fn verify(_: &str, _: &str) -> bool { false }
/// # fn login(limiter: &FailureLimiter, ip: std::net::IpAddr, email: &str, password: &str)
/// #     -> Result<(), secure_endpoint::Problem> {
/// let attempt = limiter.reserve(&ip, email)?; // 429 when the key has no attempts left
/// if verify(email, password) {
///     attempt.succeeded(); // not counted
///     Ok(())
/// } else {
///     Err(secure_endpoint::Problem::new(http::StatusCode::UNAUTHORIZED)) // `attempt` counted
/// }
/// # }
/// ```
///
/// Concurrent attempts for one key beyond `max_failures` are refused while the others are
/// being verified, right passwords too: the limiter cannot know in advance which will succeed.
///
/// # The key
///
/// A key is a `scope` (the client address, a tenant; `&()` for none) and an `identifier` typed
/// by the user, counted in its [`normalize_identifier`] form. Keys are hashed with a
/// per-process random key, so callers cannot aim for collisions; neither is stored.
///
/// # A full table
///
/// The table holds at most `capacity` keys (default [`DEFAULT_FAILURE_CAPACITY`]). Keys whose
/// window is over are dropped first. When it is full of live keys, a new key is still admitted:
/// it takes the place of the key with the fewest failures, the oldest among those (the nearest
/// to the end of its window). A spray of new keys therefore evicts mostly its own earlier
/// entries (one failure each); it never refuses anyone else's login. What an attacker can gain:
/// another key's partial count (below the limit) can be evicted only while no key with fewer
/// failures is held, and a key at its limit only when every key held is at its limit, that is
/// after `capacity × max_failures` failed attempts within one window (each of which went
/// through the password check and every other limit); that then buys `max_failures` more
/// guesses for one key.
pub struct FailureLimiter {
    name: &'static str,
    max_failures: u32,
    window: Duration,
    capacity: usize,
    hasher: RandomState,
    table: Mutex<Table>,
}

/// One key's count in its window.
#[derive(Debug, Clone, Copy)]
struct Entry {
    start: Instant,
    count: u32,
}

/// The counts, and two orders of them: by window start (to drop ended windows) and by weight
/// (fewest failures, then oldest: the key to evict when full).
#[derive(Default)]
struct Table {
    entries: HashMap<u64, Entry>,
    by_start: BTreeSet<(Instant, u64)>,
    by_weight: BTreeSet<(u32, Instant, u64)>,
}

impl Table {
    fn insert(&mut self, key: u64, entry: Entry) {
        if let Some(old) = self.entries.insert(key, entry) {
            self.by_start.remove(&(old.start, key));
            self.by_weight.remove(&(old.count, old.start, key));
        }
        self.by_start.insert((entry.start, key));
        self.by_weight.insert((entry.count, entry.start, key));
    }

    fn remove(&mut self, key: u64) {
        if let Some(old) = self.entries.remove(&key) {
            self.by_start.remove(&(old.start, key));
            self.by_weight.remove(&(old.count, old.start, key));
        }
    }

    /// Drops every entry whose window started at or before `ended`.
    fn drop_ended(&mut self, ended: Instant) {
        while let Some(&(start, key)) = self.by_start.first() {
            if start > ended {
                break;
            }
            self.remove(key);
        }
    }

    /// Removes the entry with the fewest failures, the oldest of those; `false` if empty.
    fn evict_lightest(&mut self) -> bool {
        match self.by_weight.first() {
            Some(&(_, _, key)) => {
                self.remove(key);
                true
            }
            None => false,
        }
    }
}

impl fmt::Debug for FailureLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FailureLimiter")
            .field("name", &self.name)
            .field("max_failures", &self.max_failures)
            .field("window", &self.window)
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl FailureLimiter {
    /// Allows `max_failures` failed attempts per key per `window` (counted from the key's first
    /// failure); holds at most [`DEFAULT_FAILURE_CAPACITY`] keys. `name` is the limit's name in
    /// the 429's `RateLimit` headers.
    pub fn new(name: &'static str, max_failures: u32, window: Duration) -> Self {
        FailureLimiter {
            name,
            max_failures: max_failures.max(1),
            window: window.max(Duration::from_millis(1)),
            capacity: DEFAULT_FAILURE_CAPACITY,
            hasher: RandomState::new(),
            table: Mutex::new(Table::default()),
        }
    }

    /// Sets the most keys held (at least 1); see [A full table](Self#a-full-table).
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reserves one attempt for `identifier` (normalized: [`normalize_identifier`]) within
    /// `scope`, counted as a failure until it is settled with [`Attempt::succeeded`]; or the
    /// 429 problem to send (with `Retry-After`) when the key has used up its attempts in its
    /// current window.
    pub fn reserve<S: Hash + ?Sized>(
        &self,
        scope: &S,
        identifier: &str,
    ) -> Result<Attempt<'_>, Problem> {
        let key = self
            .hasher
            .hash_one((scope, normalize_identifier(identifier)));
        self.reserve_key(key, Instant::now())
    }

    fn reserve_key(&self, key: u64, now: Instant) -> Result<Attempt<'_>, Problem> {
        let mut table = self.lock();
        if let Some(ended) = now.checked_sub(self.window) {
            table.drop_ended(ended);
        }
        let entry = match table.entries.get(&key) {
            Some(&entry) if entry.count >= self.max_failures => {
                let wait = (entry.start + self.window).saturating_duration_since(now);
                return Err(self.rejection(wait));
            }
            Some(&entry) => Entry {
                count: entry.count + 1,
                ..entry
            },
            None => {
                while table.entries.len() >= self.capacity && table.evict_lightest() {}
                Entry {
                    start: now,
                    count: 1,
                }
            }
        };
        table.insert(key, entry);
        Ok(Attempt {
            limiter: self,
            key,
            start: entry.start,
        })
    }

    /// Gives back one reservation of `key` in the window that started at `start` (if that
    /// entry is still held: it may have expired or been evicted meanwhile).
    fn give_back(&self, key: u64, start: Instant) {
        let mut table = self.lock();
        let Some(&entry) = table.entries.get(&key) else {
            return;
        };
        if entry.start != start {
            return;
        }
        if entry.count <= 1 {
            table.remove(key);
        } else {
            table.insert(
                key,
                Entry {
                    count: entry.count - 1,
                    ..entry
                },
            );
        }
    }

    /// Number of keys held (for memory bounds and tests).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// `true` when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn rejection(&self, wait: Duration) -> Problem {
        super::too_many(
            self.name,
            super::policy_header(self.name, self.max_failures, self.window.as_secs()),
            wait,
            "Too many failed attempts. Retry after the time given in Retry-After.",
        )
    }
}

/// One reserved attempt of a [`FailureLimiter`] key, counted as a failure unless
/// [`succeeded`](Self::succeeded) is called. Dropping it any other way keeps it counted.
#[must_use = "an attempt is counted as a failure unless `succeeded` is called"]
pub struct Attempt<'a> {
    limiter: &'a FailureLimiter,
    key: u64,
    start: Instant,
}

impl Attempt<'_> {
    /// The credentials were right: the reservation is given back, as if the attempt had never
    /// been made.
    pub fn succeeded(self) {
        self.limiter.give_back(self.key, self.start);
    }

    /// The credentials were wrong: the attempt stays counted (the same as dropping it; this
    /// says so where it happens).
    pub fn failed(self) {}
}

impl fmt::Debug for Attempt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attempt")
            .field("limiter", &self.limiter.name)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "failure_tests.rs"]
mod tests;
