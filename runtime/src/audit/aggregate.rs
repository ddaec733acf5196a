//! Aggregation of repeated refusals in the audit trail: see [`Aggregation`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{AuditRejected, Auditor, Shared};
use crate::events::{EventKind, EventSink, FieldLimits, SecurityEvent, SinkFull};

/// How the audit trail aggregates repeated refusals, so that a flood costs the trail a few records
/// and not its history.
///
/// Applies to [`SecurityEvent`]s recorded through the [`EventSink`](crate::events::EventSink)
/// implementation of `Auditor<SecurityEvent>` (what the router uses); `tracing` still receives
/// every event, and [`Auditor::record`](crate::audit::Auditor::record) called directly writes
/// exactly what it is given.
///
/// # The key
///
/// Two refusals are "the same" when they share the kind, status, problem code and reason class, the
/// client IP, the authenticated principal (and its scheme) and, for an authentication failure with
/// a JWT that did not verify, the token's claimed `sub` ([`SecurityEvent::claimed_subject`]). The
/// route, method and user agent are not part of it (a client chooses them freely, so they would let
/// it defeat aggregation); an aggregate shows those of its first request. No credential is part of
/// the key or the record.
///
/// # The window
///
/// The first refusal of a key is written at once, as its own record (`count: 1`), and opens a
/// window of [`window`](Self::window). Further refusals of the key within the window are counted;
/// when the window ends, they are written as one record: the first of them with `count` = how many,
/// and `last_time` = when the last was decided (one alone is written as itself). The next refusal
/// after the window opens a new one. Counts are exact: the counts of the trail add up to the number
/// of refusals recorded.
///
/// Pending aggregates are written when their window ends (by a timer, or by the next event), when
/// the table is full (the oldest key first), on [`Auditor::flush`](crate::audit::Auditor::flush),
/// on [`Auditor::abort`](crate::audit::Auditor::abort) (to the spill file) and when the last handle
/// is dropped. An aggregate stands for requests already answered, so it is never refused: with
/// [`Overflow::Reject`](crate::audit::Overflow::Reject) it spills when the queue is full. A crash
/// loses the aggregates still open (at most one record per key, each standing for at most one
/// window of refusals).
///
/// # Distinct identities
///
/// Authentication failures for distinct claimed subjects stay distinct records, up to
/// [`identities_per_client`](Self::identities_per_client) subjects per client and reason class
/// within a window; past that, a client spraying forged identities is aggregated as one (its
/// further failures are counted in the client's aggregate without a claimed subject). Failures with
/// no readable identity (no token, an API key, garbage) are aggregated by client and reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aggregation {
    /// How long after a key's first refusal its repeats are counted into one record. Default
    /// 60 s. `Duration::ZERO` turns aggregation off: every refusal is its own record.
    pub window: Duration,
    /// The most keys counted at once (each holds at most one bounded event, a few KB). When
    /// the table is full, the oldest key's aggregate is written to make room: nothing is
    /// dropped. Default 4096 (at least 2).
    pub max_keys: usize,
    /// The most distinct claimed subjects per client and reason class kept as separate
    /// records within a window. Default 32.
    pub identities_per_client: usize,
}

impl Default for Aggregation {
    fn default() -> Self {
        Aggregation {
            window: Duration::from_secs(60),
            max_keys: 4096,
            identities_per_client: 32,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    kind: EventKind,
    status: u16,
    code: Option<String>,
    reason: Option<String>,
    client_ip: Option<String>,
    principal: Option<String>,
    scheme: Option<String>,
    claimed_subject: Option<String>,
}

impl Key {
    fn of(event: &SecurityEvent) -> Key {
        Key {
            kind: event.kind,
            status: event.status,
            code: event.code.clone(),
            reason: event.reason.clone(),
            client_ip: event.client_ip.clone(),
            principal: event.principal.clone(),
            scheme: event.scheme.clone(),
            claimed_subject: event.claimed_subject.clone(),
        }
    }
}

#[derive(Debug)]
struct Entry {
    deadline: Instant,
    /// The window's first refusal has been written on its own.
    announced: bool,
    /// Claimed subjects given a key of their own in this window (on a key without one).
    identities: usize,
    /// The first repeat, carrying the count and last time of all the repeats so far.
    held: Option<SecurityEvent>,
}

impl Entry {
    /// Takes a refusal of this key: `Some` when it is to be written now (the window's first).
    fn absorb(&mut self, event: SecurityEvent) -> Option<SecurityEvent> {
        if !self.announced {
            self.announced = true;
            return Some(event);
        }
        match &mut self.held {
            None => self.held = Some(event),
            Some(held) => {
                held.count += event.count;
                held.last_time = event.last_time.or(Some(event.time));
            }
        }
        None
    }

    fn close(self, out: &mut Vec<SecurityEvent>) {
        if let Some(mut held) = self.held {
            if held.count > 1 && held.last_time.is_none() {
                held.last_time = Some(held.time.clone());
            }
            out.push(held);
        }
    }
}

/// The table of open windows: at most `max_keys` entries, oldest first.
#[derive(Debug)]
pub(crate) struct Aggregator {
    config: Aggregation,
    entries: HashMap<Key, Entry>,
    /// Keys in the order they were opened (so by deadline: every window is as long).
    order: VecDeque<Key>,
}

impl Aggregator {
    pub(crate) fn new(config: Aggregation) -> Self {
        Aggregator {
            config: Aggregation {
                max_keys: config.max_keys.max(2),
                ..config
            },
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Offers one event at `now`. Returns it when it is to be written now; pushes onto `out`
    /// the aggregates that are due or make room (to be written before it).
    pub(crate) fn offer(
        &mut self,
        mut event: SecurityEvent,
        now: Instant,
        out: &mut Vec<SecurityEvent>,
    ) -> Option<SecurityEvent> {
        self.due(now, out);
        if self.config.window.is_zero() || !event.is_rejection() {
            return Some(event);
        }
        let key = Key::of(&event);
        if let Some(entry) = self.entries.get_mut(&key) {
            return entry.absorb(event);
        }
        if key.claimed_subject.is_some() {
            let client = Key {
                claimed_subject: None,
                ..key.clone()
            };
            if !self.entries.contains_key(&client) {
                self.open(client.clone(), false, now, out);
            }
            let entry = self.entries.get_mut(&client).expect("opened above");
            if entry.identities >= self.config.identities_per_client {
                // A spray of identities from one client: counted as the client's.
                event.claimed_subject = None;
                return entry.absorb(event);
            }
            entry.identities += 1;
        }
        self.open(key, true, now, out);
        Some(event)
    }

    /// The event was offered, returned to be written, and could not be: its window's next
    /// refusal is written on its own instead.
    pub(crate) fn unannounce(&mut self, event: &SecurityEvent) {
        if let Some(entry) = self.entries.get_mut(&Key::of(event)) {
            if entry.held.is_none() {
                entry.announced = false;
            }
        }
    }

    fn open(&mut self, key: Key, announced: bool, now: Instant, out: &mut Vec<SecurityEvent>) {
        while self.entries.len() >= self.config.max_keys {
            self.close_oldest(out);
        }
        self.order.push_back(key.clone());
        self.entries.insert(
            key,
            Entry {
                deadline: now + self.config.window,
                announced,
                identities: 0,
                held: None,
            },
        );
    }

    fn close_oldest(&mut self, out: &mut Vec<SecurityEvent>) {
        if let Some(key) = self.order.pop_front() {
            if let Some(entry) = self.entries.remove(&key) {
                entry.close(out);
            }
        }
    }

    /// Closes the windows ended by `now`, oldest first.
    pub(crate) fn due(&mut self, now: Instant, out: &mut Vec<SecurityEvent>) {
        while let Some(key) = self.order.front() {
            match self.entries.get(key) {
                Some(entry) if entry.deadline > now => break,
                _ => self.close_oldest(out),
            }
        }
    }

    /// Closes every window.
    pub(crate) fn drain(&mut self, out: &mut Vec<SecurityEvent>) {
        while !self.order.is_empty() {
            self.close_oldest(out);
        }
    }

    /// When the oldest open window ends.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.order
            .front()
            .and_then(|key| self.entries.get(key))
            .map(|entry| entry.deadline)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The aggregation state of an auditor (created on first use, so only by an auditor of
/// security events).
pub(super) struct Coalescer<E> {
    table: Mutex<Aggregator>,
    /// [`write_all`], for the auditor's record type (which is `SecurityEvent`).
    write: fn(&Shared<E>, Vec<SecurityEvent>),
}

/// Writes aggregates, which are never refused (they stand for requests already answered).
fn write_all(shared: &Shared<SecurityEvent>, records: Vec<SecurityEvent>) {
    for record in records {
        // Only a failing spill file refuses it; that is logged where it fails.
        let _ = shared.record(record, true);
    }
}

/// Closes every open window of `shared` and writes the aggregates (flush, abort, drop).
/// A no-op for an auditor that never aggregated.
pub(super) fn close_all<E>(shared: &Shared<E>) {
    let Some(coalescer) = shared.coalescer.get() else {
        return;
    };
    let mut table = coalescer
        .table
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let mut out = Vec::new();
    table.drain(&mut out);
    (coalescer.write)(shared, out);
}

/// The timer that closes windows while no event comes.
async fn tick(shared: Arc<Shared<SecurityEvent>>) {
    let coalescer = shared.coalescer.get().expect("started with the coalescer");
    loop {
        {
            let st = shared.lock();
            if st.aborted || st.closed {
                return;
            }
        }
        let deadline = coalescer
            .table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next_deadline();
        match deadline {
            Some(deadline) => {
                tokio::select! {
                    () = tokio::time::sleep_until(deadline.into()) => {}
                    () = shared.coalesce_wake.notified() => {}
                }
            }
            None => shared.coalesce_wake.notified().await,
        }
        let mut table = coalescer
            .table
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        table.due(Instant::now(), &mut out);
        write_all(&shared, out);
    }
}

impl<E> Auditor<E> {
    /// The bounds events recorded through the [`EventSink`] are cut
    /// to ([`AuditConfig::limits`](super::AuditConfig::limits)).
    pub fn limits(&self) -> FieldLimits {
        self.handle.shared.limits
    }
}

impl Auditor<SecurityEvent> {
    /// The router's path: cuts `event` to the limits and aggregates repeated refusals.
    pub(crate) fn record_event(&self, mut event: SecurityEvent) -> Result<(), AuditRejected> {
        let shared = &self.handle.shared;
        event.bound(&shared.limits);
        let stopped = {
            let st = shared.lock();
            st.aborted || st.closed
        };
        if stopped || shared.aggregation.window.is_zero() {
            return shared.record(event, false);
        }
        let coalescer = shared.coalescer.get_or_init(|| {
            let coalescer = Coalescer {
                table: Mutex::new(Aggregator::new(shared.aggregation)),
                write: write_all,
            };
            shared.runtime.spawn(tick(Arc::clone(shared)));
            coalescer
        });
        let mut table = coalescer
            .table
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let was_empty = table.len() == 0;
        let mut out = Vec::new();
        let now = table.offer(event, Instant::now(), &mut out);
        if was_empty && table.len() > 0 {
            shared.coalesce_wake.notify_one();
        }
        write_all(shared, out);
        let Some(event) = now else {
            return Ok(());
        };
        let result = shared.record(event.clone(), false);
        if result.is_err() {
            table.unannounce(&event);
        }
        result
    }
}

/// The audit trail as the router's sink: each event is cut to
/// [`AuditConfig::limits`](crate::audit::AuditConfig::limits) and repeated refusals are
/// aggregated as [`AuditConfig::aggregation`](crate::audit::AuditConfig::aggregation) says
/// (allowed events are recorded one by one). [`Auditor::record`]
/// called directly writes exactly what it is given.
impl EventSink for Auditor<SecurityEvent> {
    fn record(&self, event: SecurityEvent) -> Result<(), SinkFull> {
        self.record_event(event).map_err(|_| SinkFull)
    }

    fn field_limits(&self) -> FieldLimits {
        self.limits()
    }
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;
