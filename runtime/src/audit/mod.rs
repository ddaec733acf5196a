//! An audit trail that loses nothing.
//!
//! Requests call [`Auditor::record`], which puts the record in a bounded in-memory queue and
//! returns at once; a background writer takes up to [`AuditConfig::batch`] records at a time and
//! hands them to an [`AuditSink`] ([`JsonLinesSink`], [`TracingSink`] or your own).
//!
//! # Guarantees
//!
//! - **Nothing is dropped.** A batch whose write fails stays where it is and is offered again,
//!   the same records as a whole, after a delay that starts at
//!   [`retry_backoff`](AuditConfig::retry_backoff) and doubles up to 5 s; this goes on for ever.
//!   [`AuditCounters::retried`] counts the failed attempts.
//! - **Exactly once, in order.** A record leaves the queue (or the spill file) only after the
//!   sink has accepted the batch holding it, and the sink contract is all-or-error, so each
//!   record is written once, in the order `record` was called (for concurrent callers: the order
//!   in which they took the queue's lock; each caller's own records keep their order).
//! - **A full queue spills to disk.** With [`Overflow::Spill`] (the default), or
//!   [`Overflow::Block`] after its wait, a record that finds the queue full is appended as a JSON
//!   line to [`spill_path`](AuditConfig::spill_path), synchronously and fsync'd (the slow path:
//!   it blocks the calling thread for one disk flush). To keep the global order, *once anything
//!   has been spilled, every later record goes to the spill file too*, whatever the policy, until
//!   the writer has drained it: the writer first empties the queue (whose records are all older),
//!   then reads the spill file in order, writes its records through the sink with the same retry,
//!   and truncates the file when it has caught up; only then do records go to the queue again.
//!   The writer's read position is kept in `<spill_path>.pos` (fsync'd after each batch), so a
//!   crash while draining does not write the drained part again.
//! - **Spilled records survive a restart.** [`Auditor::start`] replays a non-empty spill file
//!   left by an earlier run before anything recorded in this one.
//! - **Fail closed.** [`Overflow::Reject`] refuses a record when the queue is full
//!   ([`AuditRejected`]: answer 503). A record that must be spilled but cannot be (the disk
//!   fails, or the record does not serialize) is refused the same way rather than lost silently.
//!
//! # What a crash can lose
//!
//! [`Auditor::abort`] (a stopped writer, as in a crash-style test, or at shutdown after a
//! [`flush`](Auditor::flush) that timed out) moves everything still queued to the spill file,
//! before the records already there, so a new `Auditor` on the same spill file writes all of
//! them. A real process crash (SIGKILL, power loss) gets no such chance: it loses the records
//! queued in memory but not yet written or spilled, at most [`capacity`](AuditConfig::capacity)
//! of them. Records already spilled are on disk (fsync'd before `record` returned) and are
//! replayed. Set `capacity: 0` for a durable trail: every record is then written to the spill
//! file first (write-through, one fsync per record, whatever the overflow policy) and `record`
//! returns only once it is on disk, so a crash loses nothing that `record` accepted.
//!
//! At the crash boundary, delivery is at least once: a batch that the sink had written (or was
//! writing when [`abort`](Auditor::abort) was called, and then finished) but whose completion
//! was not yet recorded is written again after the restart. A sink that must never see a
//! duplicate should carry an id in each record and skip ids it has seen.
//!
//! # Shutdown
//!
//! ```no_run
//! # async fn shutdown(auditor: secure_endpoint::audit::Auditor<serde_json::Value>) {
//! use std::time::Duration;
//! // Write what is pending, but do not wait for ever on a failing sink...
//! let _ = tokio::time::timeout(Duration::from_secs(5), auditor.flush()).await;
//! // ...and keep the rest in the spill file for the next start.
//! auditor.abort();
//! # }
//! ```
//!
//! Dropping every handle also lets the writer finish what is pending and stop, provided the
//! runtime keeps running that long.
//!
//! Use one `Auditor` per spill file at a time.
//!
//! # Security events
//!
//! As the router's [`EventSink`](crate::events::EventSink), an `Auditor<SecurityEvent>` cuts
//! every event to [`AuditConfig::limits`] and aggregates repeated refusals within
//! [`AuditConfig::aggregation`]'s window into one record with an exact count (see
//! [`Aggregation`]), so that a flood of refused requests costs the trail a few bounded records
//! rather than its history.
//!
//! # Files
//!
//! The files this module creates (the [`JsonLinesSink`] file and its rotations, the spill
//! file, its `.pos` and `.corrupt` files) are created with mode `0600` on Unix: readable by
//! the process's user only. An existing file keeps its mode.

mod aggregate;
mod queue;
mod sink;
mod spill;
mod writer;

use crate::events::FieldLimits;
pub use aggregate::Aggregation;
pub use sink::{AuditSink, FsyncPolicy, JsonLinesSink, TracingSink};

use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::{watch, Notify};

use queue::{Handle, Progress, Shared, State};
use spill::Spill;
use writer::run;

/// The tracing target of [`TracingSink`] and of the auditor's own diagnostics.
const TARGET: &str = "secure_endpoint::audit";

/// The longest wait between two attempts at a failing write.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What [`Auditor::record`] does when the queue is full. Default: `Spill` to a local file, so
/// nothing is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Wait up to this long for room in the queue (blocking the calling thread), then spill.
    Block(Duration),
    /// Append the record to the spill file (synchronously, fsync'd). The default.
    #[default]
    Spill,
    /// Refuse the record: `record` returns [`AuditRejected`] and the caller answers 503.
    Reject,
}

/// How an [`Auditor`] queues, spills and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    /// Records held in memory, waiting for the writer. Default 10 000. `0` makes the spill file
    /// the queue: every record is written (and fsync'd) there first, so a crash loses nothing
    /// that `record` accepted (the overflow policy then does not apply).
    pub capacity: usize,
    /// What `record` does when the queue is full.
    pub overflow: Overflow,
    /// The spill file (JSON lines), also `<spill_path>.pos` (the writer's read position) and
    /// `<spill_path>.corrupt` (lines that could not be read back). Its directory must exist.
    pub spill_path: PathBuf,
    /// The delay before the first retry of a failed write, doubling up to 5 s (at least 1 ms).
    /// Default 100 ms.
    pub retry_backoff: Duration,
    /// The most records per sink write. Default 256.
    pub batch: usize,
    /// How repeated refusals are aggregated (security events recorded through the
    /// [`EventSink`](crate::events::EventSink) only). Default: a 60 s window, 4096 keys.
    pub aggregation: Aggregation,
    /// The bounds security events are cut to (through the
    /// [`EventSink`](crate::events::EventSink), also before they go to `tracing`). Default:
    /// 256 bytes per text field, 16 field names of 64 bytes.
    pub limits: FieldLimits,
}

impl AuditConfig {
    /// The defaults, spilling to `spill_path`.
    pub fn new(spill_path: impl Into<PathBuf>) -> Self {
        AuditConfig {
            capacity: 10_000,
            overflow: Overflow::Spill,
            spill_path: spill_path.into(),
            retry_backoff: Duration::from_millis(100),
            batch: 256,
            aggregation: Aggregation::default(),
            limits: FieldLimits::default(),
        }
    }
}

impl Default for AuditConfig {
    /// The defaults, spilling to `audit-spill.jsonl` in the working directory.
    fn default() -> Self {
        AuditConfig::new("audit-spill.jsonl")
    }
}

/// Counters, readable at any time. They are read together under one lock, so they add up:
/// `queued + recovered == written + quarantined + pending()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditCounters {
    /// Records accepted by [`Auditor::record`] (into the queue or the spill file).
    pub queued: u64,
    /// Records the sink has written (including records recovered from an earlier run).
    pub written: u64,
    /// Failed attempts (sink writes, or reads of the spill file), each followed by a wait and a
    /// retry.
    pub retried: u64,
    /// Records appended to the spill file: on overflow, in durable mode, or by
    /// [`Auditor::abort`]. A subset of `queued`.
    pub spilled: u64,
    /// Records refused with [`AuditRejected`] (not counted in `queued`).
    pub rejected: u64,
    /// Records found in the spill file at start (left by an earlier run).
    pub recovered: u64,
    /// Records that could not be written because they cannot be read back or serialized: spill
    /// lines that do not parse (kept in `<spill_path>.corrupt`) and a partial last line left by
    /// a crash. Logged at ERROR or WARN.
    pub quarantined: u64,
}

impl AuditCounters {
    /// Records accepted (or recovered) but not written yet.
    pub fn pending(&self) -> u64 {
        (self.queued + self.recovered).saturating_sub(self.written + self.quarantined)
    }
}

/// The queue is full and the policy is [`Overflow::Reject`] (or a record that had to be spilled
/// could not be): refuse the request, typically with a 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditRejected;

impl std::fmt::Display for AuditRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the audit queue is full")
    }
}

impl std::error::Error for AuditRejected {}

/// The handle requests use. Clone is cheap (one `Arc`). `record` never blocks on the sink (only
/// `Overflow::Block` may wait, for at most its duration, and spilling waits for one fsync).
///
/// When the last handle is dropped, the writer finishes what is pending and stops.
pub struct Auditor<E> {
    handle: Arc<Handle<E>>,
}

impl<E> Clone for Auditor<E> {
    fn clone(&self) -> Self {
        Auditor {
            handle: Arc::clone(&self.handle),
        }
    }
}

impl<E> std::fmt::Debug for Auditor<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor")
            .field("spill_path", &self.handle.shared.spill_path)
            .field("counters", &self.handle.shared.lock().counters)
            .finish()
    }
}

impl<E> Auditor<E>
where
    E: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    /// Starts the background writer on the current tokio runtime. First replays the spill file
    /// (records spilled by an earlier run or when the queue was full), in order, then the queue.
    ///
    /// Fails outside a tokio runtime, or when the spill file cannot be opened.
    pub fn start(sink: impl AuditSink<E>, config: AuditConfig) -> io::Result<Self> {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let (spill, torn) = Spill::open(&config.spill_path)?;
        let counters = AuditCounters {
            recovered: spill.pending + torn,
            quarantined: torn,
            ..AuditCounters::default()
        };
        if spill.pending > 0 {
            tracing::info!(
                target: TARGET,
                path = %config.spill_path.display(),
                records = spill.pending,
                "replaying audit records spilled earlier"
            );
        }
        let (progress, _) = watch::channel(Progress {
            done: torn,
            stopped: false,
        });
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                spill,
                counters,
                aborted: false,
                closed: false,
                block_waiters: 0,
            }),
            space: Condvar::new(),
            wake: Notify::new(),
            progress,
            capacity: config.capacity,
            overflow: config.overflow,
            batch: config.batch.max(1),
            backoff: config.retry_backoff.max(Duration::from_millis(1)),
            spill_path: config.spill_path,
            coalescer: OnceLock::new(),
            coalesce_wake: Notify::new(),
            aggregation: config.aggregation,
            limits: config.limits,
            runtime: runtime.clone(),
        });
        let task = runtime.spawn(run(Arc::clone(&shared), sink)).abort_handle();
        Ok(Auditor {
            handle: Arc::new(Handle { shared, task }),
        })
    }

    /// Queues one record. Err(AuditRejected) only with Overflow::Reject and a full queue — or,
    /// failing closed, when the record had to be spilled and the spill file could not be
    /// written (or the record could not be serialized).
    ///
    /// Returns at once when the record goes to the queue. When it goes to the spill file (queue
    /// full, spill not yet drained, `capacity: 0`, or after [`abort`](Self::abort)), it returns
    /// once the line is fsync'd. With `Overflow::Block`, it may first wait, blocking the thread,
    /// for room in the queue.
    pub fn record(&self, record: E) -> Result<(), AuditRejected> {
        self.handle.shared.record(record, false)
    }

    /// Waits until every record queued or spilled so far has been written (for shutdown and
    /// tests). Waits for ever while the sink fails (wrap it in `tokio::time::timeout`); returns
    /// at once after [`abort`](Self::abort). Closes the open aggregation windows first, so
    /// their aggregates are written too.
    pub async fn flush(&self) {
        let shared = &self.handle.shared;
        aggregate::close_all(shared);
        let target = {
            let st = shared.lock();
            st.counters.queued + st.counters.recovered
        };
        let mut progress = shared.progress.subscribe();
        let _ = progress.wait_for(|p| p.done >= target || p.stopped).await;
    }

    /// Stops the writer and moves every record still queued (including a batch the sink is
    /// writing) to the spill file, synchronously and before the records already there, so that
    /// a new `Auditor` on the same spill file writes them all, in order.
    ///
    /// Records passed to `record` afterwards go to the spill file too. Drop the handles before
    /// starting a new `Auditor` on the same spill file. A sink write in progress cannot be
    /// interrupted: if it still succeeds, its batch is written again after the restart (at
    /// least once at this boundary).
    ///
    /// The open aggregation windows are closed first: their aggregates are spilled too.
    pub fn abort(&self) {
        let shared = &*self.handle.shared;
        aggregate::close_all(shared);
        self.handle.task.abort();
        let mut guard = shared.lock();
        let st = &mut *guard;
        if st.aborted {
            return;
        }
        st.aborted = true;
        let mut bytes = Vec::new();
        let mut moved = 0u64;
        let mut unserializable = 0u64;
        for record in &st.queue {
            match serde_json::to_vec(record) {
                Ok(line) => {
                    bytes.extend_from_slice(&line);
                    bytes.push(b'\n');
                    moved += 1;
                }
                Err(error) => {
                    tracing::error!(target: TARGET, %error, "an audit record cannot be serialized; it is lost");
                    unserializable += 1;
                }
            }
        }
        let saved = if moved == 0 {
            Ok(())
        } else if st.spill.pending == 0 {
            st.spill.append(&bytes)
        } else {
            st.spill.rewrite_with_front(&bytes)
        };
        match saved {
            Ok(()) => {
                st.queue.clear();
                st.spill.pending += moved;
                st.counters.spilled += moved;
                st.counters.quarantined += unserializable;
            }
            Err(error) => tracing::error!(
                target: TARGET,
                %error,
                records = st.queue.len(),
                "cannot move the queued audit records to the spill file; they are lost when the process exits"
            ),
        }
        shared.publish(st, true);
        drop(guard);
        shared.space.notify_all();
        shared.coalesce_wake.notify_one();
    }
}

impl<E> Auditor<E> {
    /// The counters, read together.
    pub fn counters(&self) -> AuditCounters {
        self.handle.shared.lock().counters
    }
}

#[cfg(test)]
mod tests;
