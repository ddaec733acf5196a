//! [`DistinctTable`]: distinct counts with a window and cool-downs, in this process's memory,
//! bounded in keys and in members per key. What [`MemoryRateStore`](crate::rate::MemoryRateStore)
//! answers the detectors' store operations with.
//!
//! # Memory
//!
//! A key is held as a 64-bit hash (not its string), with a `Vec<u64>` of at most `threshold`
//! members (a set is cleared when it trips, so it never holds more), an `Instant` and the
//! map's slot and order entry: at the detectors' default threshold of 20, at most about 340
//! bytes per key (19 members, the vector's capacity rounded up to 32;
//! [`DistinctTable::approx_bytes`], measured in the tests below). The table holds at most `max_keys` sets and `max_keys` cool-downs (default 100 000 each: about 35 MB
//! at worst): past that, the oldest entry is dropped (O(1)), so a spray of keys costs a bounded
//! amount of memory and time, and loses only the oldest counts.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys a [`DistinctTable`] holds by default (sets, and separately cool-downs).
pub const DEFAULT_DETECTOR_KEYS: usize = 100_000;

/// The answer of one distinct-count observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Distinct {
    /// Distinct members in the key's window, this one included (0 while cooling down).
    pub count: u32,
    /// The key is cooling down for this long more (the member was then not counted).
    pub cooling: Option<Duration>,
    /// This observation reached the threshold and started the cool-down: exactly one
    /// observation per trip has it, on whichever instance made it.
    pub tripped: bool,
}

struct Set {
    members: Vec<u64>,
    until: Instant,
}

/// A map of at most `max` entries that drops its oldest entry to make room: O(1), so that a
/// spray of keys costs a bounded amount of memory and time.
struct Bounded<V> {
    map: HashMap<u64, V>,
    /// Keys in the order they were inserted; may hold keys removed since (skipped).
    order: VecDeque<u64>,
    max: usize,
}

impl<V> Bounded<V> {
    fn new(max: usize) -> Self {
        Bounded {
            map: HashMap::new(),
            order: VecDeque::new(),
            max,
        }
    }

    fn insert(&mut self, key: u64, value: V) -> &mut V {
        if !self.map.contains_key(&key) {
            while self.map.len() >= self.max {
                match self.order.pop_front() {
                    Some(oldest) => {
                        self.map.remove(&oldest);
                    }
                    None => break,
                }
            }
            if self.order.len() >= 2 * self.max {
                let map = &self.map;
                self.order.retain(|k| map.contains_key(k));
            }
            self.order.push_back(key);
        }
        self.map.entry(key).or_insert(value)
    }
}

/// Distinct members per key within a fixed window (from the key's first member), and
/// cool-downs, bounded (see the module docs). Keys are held as 64-bit hashes under a
/// per-process random key (the strings are not kept).
pub struct DistinctTable {
    inner: Mutex<(Bounded<Set>, Bounded<Instant>)>,
    hasher: RandomState,
}

impl std::fmt::Debug for DistinctTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (sets, cooling) = self.len();
        f.debug_struct("DistinctTable")
            .field("sets", &sets)
            .field("cooling", &cooling)
            .finish()
    }
}

impl Default for DistinctTable {
    fn default() -> Self {
        Self::new(DEFAULT_DETECTOR_KEYS)
    }
}

impl DistinctTable {
    /// A table holding at most `max_keys` sets and `max_keys` cool-downs.
    pub fn new(max_keys: usize) -> Self {
        let max = max_keys.max(1);
        DistinctTable {
            inner: Mutex::new((Bounded::new(max), Bounded::new(max))),
            hasher: RandomState::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Bounded<Set>, Bounded<Instant>)> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn id(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Adds `member` to `key`'s set; when the set reaches `threshold` distinct members, it is
    /// cleared and `key` cools down for `cool_down`. While `key` cools down nothing is added.
    pub fn observe(
        &self,
        key: &str,
        member: u64,
        window: Duration,
        threshold: u32,
        cool_down: Duration,
        now: Instant,
    ) -> Distinct {
        let id = self.id(key);
        let mut guard = self.lock();
        let (sets, cooling) = &mut *guard;
        if let Some(left) = cooling_left(cooling, id, now) {
            return Distinct {
                count: 0,
                cooling: Some(left),
                tripped: false,
            };
        }
        let set = sets.insert(
            id,
            Set {
                members: Vec::new(),
                until: now + window,
            },
        );
        if set.until <= now {
            set.members.clear();
            set.until = now + window;
        }
        if !set.members.contains(&member) {
            set.members.push(member);
        }
        let count = u32::try_from(set.members.len()).unwrap_or(u32::MAX);
        if count < threshold {
            return Distinct {
                count,
                cooling: None,
                tripped: false,
            };
        }
        sets.map.remove(&id);
        *cooling.insert(id, now) = now + cool_down;
        Distinct {
            count,
            cooling: Some(cool_down),
            tripped: true,
        }
    }

    /// Takes `member` out of `key`'s set (a success forgiving an earlier failure).
    pub fn forget(&self, key: &str, member: u64) {
        let id = self.id(key);
        if let Some(set) = self.lock().0.map.get_mut(&id) {
            set.members.retain(|m| *m != member);
        }
    }

    /// How long `key` cools down for still, if it does.
    pub fn cooling(&self, key: &str, now: Instant) -> Option<Duration> {
        let id = self.id(key);
        cooling_left(&mut self.lock().1, id, now)
    }

    /// Sets and cool-downs held (for bounds and tests).
    pub fn len(&self) -> (usize, usize) {
        let guard = self.lock();
        (guard.0.map.len(), guard.1.map.len())
    }

    /// `true` when the table holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }

    /// An estimate of the bytes the table holds: each set's member vector, the maps' slots
    /// (with their spare capacity) and the order queues.
    pub fn approx_bytes(&self) -> usize {
        let guard = self.lock();
        let (sets, cooling) = &*guard;
        let slot_set = std::mem::size_of::<(u64, Set)>() + 1;
        let slot_cool = std::mem::size_of::<(u64, Instant)>() + 1;
        let members: usize = sets.map.values().map(|s| s.members.capacity() * 8).sum();
        members
            + sets.map.capacity() * slot_set
            + cooling.map.capacity() * slot_cool
            + (sets.order.capacity() + cooling.order.capacity()) * 8
    }
}

fn cooling_left(cooling: &mut Bounded<Instant>, id: u64, now: Instant) -> Option<Duration> {
    let until = *cooling.map.get(&id)?;
    if until > now {
        Some(until - now)
    } else {
        cooling.map.remove(&id);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Duration = Duration::from_secs(60);
    const C: Duration = Duration::from_secs(300);

    #[test]
    fn counts_distinct_members_and_trips_once() {
        let table = DistinctTable::default();
        let now = Instant::now();
        for i in 0..4 {
            // Repeats do not count.
            for _ in 0..3 {
                let d = table.observe("k", i, W, 5, C, now);
                assert_eq!((d.count, d.tripped), (i as u32 + 1, false));
            }
        }
        let d = table.observe("k", 99, W, 5, C, now);
        assert_eq!((d.count, d.cooling, d.tripped), (5, Some(C), true));
        // Cooling: not counted, never trips again.
        let d = table.observe("k", 100, W, 5, C, now + Duration::from_secs(1));
        assert!(!d.tripped);
        assert_eq!(d.cooling, Some(C - Duration::from_secs(1)));
        assert_eq!(table.cooling("other", now), None);
        // After the cool-down, a fresh count.
        let later = now + C + Duration::from_secs(1);
        assert_eq!(table.cooling("k", later), None);
        assert_eq!(table.observe("k", 1, W, 5, C, later).count, 1);
    }

    #[test]
    fn the_window_starts_at_the_first_member_and_forget_removes() {
        let table = DistinctTable::default();
        let now = Instant::now();
        table.observe("k", 1, W, 5, C, now);
        table.observe("k", 2, W, 5, C, now + Duration::from_secs(30));
        table.forget("k", 2);
        assert_eq!(table.observe("k", 3, W, 5, C, now).count, 2);
        // The window ended 60 s after the first member: the count starts again.
        assert_eq!(
            table
                .observe("k", 4, W, 5, C, now + W + Duration::from_secs(1))
                .count,
            1
        );
    }

    /// A spray of a million keys: the table never holds more than its cap, and its bytes per
    /// key stay near the documented estimate.
    #[test]
    fn a_key_spray_stays_bounded() {
        let table = DistinctTable::new(10_000);
        let now = Instant::now();
        let started = Instant::now();
        for i in 0..1_000_000u64 {
            // A realistic key: the prefix and 32 hex digits of a subject's hash.
            let key = format!("enum:sub:{i:032x}");
            table.observe(&key, i, W, 20, C, now);
            if i % 4096 == 0 {
                assert!(table.len().0 <= 10_000);
            }
        }
        let (sets, cooling) = table.len();
        assert!(sets == 10_000 && cooling == 0, "{sets} {cooling}");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{:?}",
            started.elapsed()
        );
        // The newest keys are the ones kept.
        assert_eq!(
            table
                .observe(
                    "enum:sub:000000000000000000000000000f423f",
                    1,
                    W,
                    20,
                    C,
                    now
                )
                .count,
            2
        );
        // One key filled to just below the threshold costs the most: measure that.
        let full = DistinctTable::new(10_000);
        for k in 0..10_000u64 {
            let key = format!("enum:sub:{k:032x}");
            for m in 0..19 {
                full.observe(&key, m, W, 20, C, now);
            }
        }
        let per_key = full.approx_bytes() / 10_000;
        eprintln!("distinct table: {per_key} bytes per key at 19 members");
        assert!(per_key <= 400, "{per_key} bytes per key");
    }
}
