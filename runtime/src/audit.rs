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

use crate::events::FieldLimits;
pub use aggregate::Aggregation;

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::{watch, Notify};
use tokio::task::AbortHandle;

/// The tracing target of [`TracingSink`] and of the auditor's own diagnostics.
const TARGET: &str = "secure_endpoint::audit";

/// The longest wait between two attempts at a failing write.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Where audit records end up.
pub trait AuditSink<E>: Send + 'static {
    /// Writes `records` in order, all or an error (then the same records are offered again).
    ///
    /// The writer calls this on a blocking thread (`tokio::task::spawn_blocking`), so it may do
    /// blocking I/O. It must not write part of `records` and then fail, or the retry writes that
    /// part twice.
    fn write(&mut self, records: &[E]) -> io::Result<()>;
}

impl<E, S: AuditSink<E> + ?Sized> AuditSink<E> for Box<S> {
    fn write(&mut self, records: &[E]) -> io::Result<()> {
        (**self).write(records)
    }
}

/// When data is forced to disk.
///
/// The trade-off is durability against throughput: an fsync costs from tens of microseconds
/// (NVMe with a power-safe cache) to tens of milliseconds (spinning disk, network storage), and
/// the writer pays it once per batch, not per record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// fsync after each write: nothing acknowledged is lost on power failure. The default.
    #[default]
    EveryBatch,
    /// fsync at the first write at least this long after the previous fsync (and on rotation
    /// and drop): a power failure loses at most the records written since the last fsync, and
    /// after a burst the tail stays in the OS cache until the next write or the kernel's own
    /// writeback (about 30 s on Linux).
    Interval(Duration),
    /// Never fsync: the OS decides. A process crash loses nothing written; a power failure
    /// or kernel crash can lose everything not yet written back.
    Never,
}

/// Append-only JSON lines file (one record per line), rotated by size: when the file would pass
/// `max_bytes`, it is renamed `<name>.1` (older ones shift to .2 … .keep, the oldest dropped)
/// and a new file started.
///
/// Rotation happens between batches, so a batch is never split across files: each file stays
/// within `max_bytes`, except one that holds a single batch larger than that. `keep: 0` keeps no
/// rotated file (the full file is deleted). A write that fails is rolled back (the file is cut
/// back to its previous length), so a retried batch does not leave a partial line behind, and a
/// partial last line left by a crash is cut off when the file is opened (it was never
/// acknowledged: the batch holding it is written again).
#[derive(Debug)]
pub struct JsonLinesSink {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    fsync: FsyncPolicy,
    file: Option<File>,
    /// Bytes of whole batches in the current file.
    len: u64,
    /// Bytes past `len` may be left over from a failed write.
    dirty: bool,
    last_sync: Instant,
    unsynced: bool,
    buf: Vec<u8>,
}

impl JsonLinesSink {
    /// Opens (or creates) `path` for appending. The directory must exist.
    pub fn open(
        path: impl Into<PathBuf>,
        max_bytes: u64,
        keep: usize,
        fsync: FsyncPolicy,
    ) -> io::Result<Self> {
        let mut sink = JsonLinesSink {
            path: path.into(),
            max_bytes,
            keep,
            fsync,
            file: None,
            len: 0,
            dirty: false,
            last_sync: Instant::now(),
            unsynced: false,
            buf: Vec::new(),
        };
        sink.ensure_open()?;
        Ok(sink)
    }

    /// The path of the current file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn ensure_open(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            let created = !self.path.exists();
            let mut file = private(&mut OpenOptions::new())
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&self.path)?;
            let len = file.metadata()?.len();
            let complete = complete_len(&mut file, len)?;
            if complete < len {
                tracing::warn!(
                    target: TARGET,
                    path = %self.path.display(),
                    bytes = len - complete,
                    "cutting off a partial last line (an unacknowledged write)"
                );
                file.set_len(complete)?;
                file.sync_all()?;
            }
            if created && self.fsync != FsyncPolicy::Never {
                sync_parent(&self.path);
            }
            self.len = complete;
            self.dirty = false;
            self.file = Some(file);
        }
        Ok(self.file.as_mut().expect("opened above"))
    }

    fn rotated(&self, n: usize) -> PathBuf {
        with_suffix(&self.path, &format!(".{n}"))
    }

    fn rotate(&mut self) -> io::Result<()> {
        if let Some(file) = self.file.take() {
            if self.fsync != FsyncPolicy::Never {
                if let Err(e) = file.sync_all() {
                    self.file = Some(file);
                    return Err(e);
                }
            }
        }
        if self.keep == 0 {
            ignore_not_found(fs::remove_file(&self.path))?;
        } else {
            ignore_not_found(fs::remove_file(self.rotated(self.keep)))?;
            for n in (1..self.keep).rev() {
                ignore_not_found(fs::rename(self.rotated(n), self.rotated(n + 1)))?;
            }
            ignore_not_found(fs::rename(&self.path, self.rotated(1)))?;
        }
        self.unsynced = false;
        self.ensure_open()?;
        if self.fsync != FsyncPolicy::Never {
            sync_parent(&self.path);
        }
        Ok(())
    }

    fn append_buf(&mut self) -> io::Result<()> {
        let (len, dirty, n) = (self.len, self.dirty, self.buf.len() as u64);
        let file = self.file.as_mut().expect("opened by the caller");
        file.seek(SeekFrom::Start(len))?;
        file.write_all(&self.buf)?;
        if dirty {
            file.set_len(len + n)?;
        }
        match self.fsync {
            FsyncPolicy::EveryBatch => file.sync_data()?,
            FsyncPolicy::Interval(every) => {
                if self.last_sync.elapsed() >= every {
                    file.sync_data()?;
                    self.last_sync = Instant::now();
                    self.unsynced = false;
                } else {
                    self.unsynced = true;
                }
            }
            FsyncPolicy::Never => {}
        }
        Ok(())
    }
}

impl<E: Serialize> AuditSink<E> for JsonLinesSink {
    fn write(&mut self, records: &[E]) -> io::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.buf.clear();
        for record in records {
            serde_json::to_writer(&mut self.buf, record)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            self.buf.push(b'\n');
        }
        let n = self.buf.len() as u64;
        // Reopens after a rotation that failed half-way.
        self.ensure_open()?;
        if self.len > 0 && self.len.saturating_add(n) > self.max_bytes {
            self.rotate()?;
        }
        match self.append_buf() {
            Ok(()) => {
                self.len += n;
                self.dirty = false;
                Ok(())
            }
            Err(e) => {
                self.dirty = true;
                if let Some(file) = self.file.as_mut() {
                    if file.set_len(self.len).is_ok() {
                        self.dirty = false;
                    }
                }
                Err(e)
            }
        }
    }
}

impl Drop for JsonLinesSink {
    fn drop(&mut self) {
        if self.unsynced {
            if let Some(file) = &self.file {
                let _ = file.sync_data();
            }
        }
    }
}

/// Emits each record as a tracing event (target "secure_endpoint::audit", level INFO, the
/// record as a JSON field `record`).
///
/// Durable only as far as the subscriber is: use it next to a file sink, or when the logs are
/// shipped reliably.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingSink;

impl<E: Serialize> AuditSink<E> for TracingSink {
    fn write(&mut self, records: &[E]) -> io::Result<()> {
        // Serialize all first: all or an error.
        let lines = records
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        for line in lines {
            tracing::info!(target: "secure_endpoint::audit", record = %line, "audit record");
        }
        Ok(())
    }
}

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

/// Owned by every `Auditor` clone; dropped with the last one.
struct Handle<E> {
    shared: Arc<Shared<E>>,
    task: AbortHandle,
}

impl<E> Drop for Handle<E> {
    fn drop(&mut self) {
        aggregate::close_all(&self.shared);
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        self.shared.coalesce_wake.notify_one();
    }
}

struct Shared<E> {
    state: Mutex<State<E>>,
    /// Signalled when the writer frees room in the queue (for `Overflow::Block`).
    space: Condvar,
    /// Wakes the writer.
    wake: Notify,
    progress: watch::Sender<Progress>,
    capacity: usize,
    overflow: Overflow,
    batch: usize,
    backoff: Duration,
    spill_path: PathBuf,
    /// Open aggregation windows (security events only; created on first use).
    coalescer: OnceLock<aggregate::Coalescer<E>>,
    /// Wakes the aggregation timer.
    coalesce_wake: Notify,
    aggregation: Aggregation,
    limits: FieldLimits,
    runtime: tokio::runtime::Handle,
}

#[derive(Debug, Clone, Copy)]
struct Progress {
    /// `written + quarantined`.
    done: u64,
    /// The writer was aborted: nothing more will be done.
    stopped: bool,
}

struct State<E> {
    /// Records older than everything in the spill file.
    queue: VecDeque<E>,
    spill: Spill,
    counters: AuditCounters,
    aborted: bool,
    /// Every handle is gone: the writer stops once nothing is pending.
    closed: bool,
    block_waiters: usize,
}

enum Place {
    Queue,
    Spill,
    Reject,
}

impl<E> Shared<E> {
    fn lock(&self) -> MutexGuard<'_, State<E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish(&self, st: &State<E>, stopped: bool) {
        let done = st.counters.written + st.counters.quarantined;
        self.progress.send_modify(|p| {
            p.done = done;
            p.stopped |= stopped;
        });
    }

    /// `Overflow::Block`: waits until the queue has room, the deadline passes or spilling has
    /// started (then later records must spill too).
    fn wait_for_room<'a>(
        &'a self,
        mut st: MutexGuard<'a, State<E>>,
        wait: Duration,
    ) -> (MutexGuard<'a, State<E>>, Place) {
        let deadline = Instant::now() + wait;
        st.block_waiters += 1;
        let place = loop {
            if st.aborted || st.spill.pending > 0 {
                break Place::Spill;
            }
            if st.queue.len() < self.capacity {
                break Place::Queue;
            }
            let now = Instant::now();
            if now >= deadline {
                break Place::Spill;
            }
            st = self
                .space
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        };
        st.block_waiters -= 1;
        (st, place)
    }

    /// After the sink accepted `batch`: removes it from the queue or moves the spill cursor.
    fn commit(&self, batch: &Batch<E>) {
        let mut guard = self.lock();
        let st = &mut *guard;
        if st.aborted {
            return;
        }
        match &batch.source {
            Source::Queue => {
                st.queue.drain(..batch.records.len());
            }
            Source::Spill {
                next_cursor,
                lines,
                bad,
            } => {
                for line in bad {
                    quarantine(&st.spill.path, line);
                }
                st.counters.quarantined += bad.len() as u64;
                st.spill.advance(*next_cursor, *lines);
            }
        }
        st.counters.written += batch.records.len() as u64;
        self.publish(st, false);
        if st.block_waiters > 0 {
            self.space.notify_all();
        }
    }
}

impl<E: Serialize> Shared<E> {
    /// [`Auditor::record`]. `never_refuse`: [`Overflow::Reject`] spills instead (for an
    /// aggregate, which stands for requests already answered).
    fn record(&self, record: E, never_refuse: bool) -> Result<(), AuditRejected> {
        let mut st = self.lock();
        let place = if st.aborted || st.spill.pending > 0 || self.capacity == 0 {
            Place::Spill
        } else if st.queue.len() < self.capacity {
            Place::Queue
        } else {
            match self.overflow {
                Overflow::Spill => Place::Spill,
                Overflow::Reject if never_refuse => Place::Spill,
                Overflow::Reject => Place::Reject,
                Overflow::Block(wait) => {
                    let (guard, place) = self.wait_for_room(st, wait);
                    st = guard;
                    place
                }
            }
        };
        let result = match place {
            Place::Queue => {
                st.queue.push_back(record);
                st.counters.queued += 1;
                Ok(())
            }
            Place::Spill => self.spill_locked(&mut st, &record),
            Place::Reject => {
                st.counters.rejected += 1;
                Err(AuditRejected)
            }
        };
        drop(st);
        if result.is_ok() {
            self.wake.notify_one();
        }
        result
    }

    /// Appends `record` to the spill file (the lock held, so the order is the lock's order).
    fn spill_locked(&self, st: &mut State<E>, record: &E) -> Result<(), AuditRejected> {
        let mut line = match serde_json::to_vec(record) {
            Ok(line) => line,
            Err(error) => {
                tracing::error!(target: TARGET, %error, "an audit record cannot be serialized; refused");
                st.counters.rejected += 1;
                return Err(AuditRejected);
            }
        };
        line.push(b'\n');
        match st.spill.append(&line) {
            Ok(()) => {
                st.spill.pending += 1;
                st.counters.queued += 1;
                st.counters.spilled += 1;
                Ok(())
            }
            Err(error) => {
                tracing::error!(
                    target: TARGET,
                    %error,
                    path = %st.spill.path.display(),
                    "cannot write the audit spill file; record refused"
                );
                st.counters.rejected += 1;
                Err(AuditRejected)
            }
        }
    }
}

/// A batch handed to the sink, and where its records come from.
struct Batch<E> {
    records: Vec<E>,
    source: Source,
}

enum Source {
    /// The first `records.len()` records of the queue.
    Queue,
    /// Spill file lines from the cursor to `next_cursor`.
    Spill {
        next_cursor: u64,
        lines: u64,
        /// Lines that do not parse (quarantined on commit).
        bad: Vec<Vec<u8>>,
    },
}

enum Job<E> {
    Idle,
    Queue(Vec<E>),
    Spill { cursor: u64, end: u64 },
}

/// The background writer.
async fn run<E, S>(shared: Arc<Shared<E>>, mut sink: S)
where
    E: DeserializeOwned + Clone + Send + Sync + 'static,
    S: AuditSink<E>,
{
    let cap = MAX_BACKOFF.max(shared.backoff);
    loop {
        let job = {
            let st = shared.lock();
            if st.aborted {
                return;
            }
            if !st.queue.is_empty() {
                let n = st.queue.len().min(shared.batch);
                Job::Queue(st.queue.iter().take(n).cloned().collect())
            } else if st.spill.pending > 0 {
                Job::Spill {
                    cursor: st.spill.cursor,
                    end: st.spill.end,
                }
            } else if st.closed {
                return;
            } else {
                Job::Idle
            }
        };
        let mut batch = match job {
            Job::Idle => {
                shared.wake.notified().await;
                continue;
            }
            Job::Queue(records) => Batch {
                records,
                source: Source::Queue,
            },
            Job::Spill { cursor, end } => {
                let path = shared.spill_path.clone();
                let max = shared.batch;
                let read =
                    tokio::task::spawn_blocking(move || read_spill::<E>(&path, cursor, end, max))
                        .await;
                match read {
                    Ok(Ok(batch)) => batch,
                    Ok(Err(error)) => {
                        tracing::warn!(target: TARGET, %error, "cannot read the audit spill file; retrying");
                        shared.lock().counters.retried += 1;
                        tokio::time::sleep(shared.backoff).await;
                        continue;
                    }
                    Err(_) => return,
                }
            }
        };
        let mut delay = shared.backoff;
        loop {
            let committer = Arc::clone(&shared);
            let attempt = tokio::task::spawn_blocking(move || {
                // `abort` may have run since this task last looked: then write nothing.
                if committer.lock().aborted {
                    return (
                        sink,
                        batch,
                        Err(io::Error::other("the audit writer was aborted")),
                    );
                }
                let result = if batch.records.is_empty() {
                    Ok(())
                } else {
                    catch_unwind(AssertUnwindSafe(|| sink.write(&batch.records)))
                        .unwrap_or_else(|_| Err(io::Error::other("the audit sink panicked")))
                };
                if result.is_ok() {
                    committer.commit(&batch);
                }
                (sink, batch, result)
            })
            .await;
            let Ok((returned_sink, returned_batch, result)) = attempt else {
                return;
            };
            sink = returned_sink;
            batch = returned_batch;
            match result {
                Ok(()) => break,
                Err(error) => {
                    {
                        let mut st = shared.lock();
                        if st.aborted {
                            return;
                        }
                        st.counters.retried += 1;
                    }
                    tracing::warn!(
                        target: TARGET,
                        %error,
                        records = batch.records.len(),
                        retry_in = ?delay,
                        "audit sink write failed; the same batch will be retried"
                    );
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2).min(cap);
                }
            }
        }
    }
}

/// Reads up to `max` lines of the spill file from `cursor` (never past `end`).
fn read_spill<E: DeserializeOwned>(
    path: &Path,
    cursor: u64,
    end: u64,
    max: usize,
) -> io::Result<Batch<E>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(cursor))?;
    let mut reader = BufReader::new(file.take(end.saturating_sub(cursor)));
    let mut records = Vec::new();
    let mut bad = Vec::new();
    let mut next_cursor = cursor;
    let mut lines = 0u64;
    let mut line = Vec::new();
    while records.len() + bad.len() < max {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        next_cursor += n as u64;
        lines += 1;
        match serde_json::from_slice::<E>(&line[..n - 1]) {
            Ok(record) => records.push(record),
            Err(error) => {
                tracing::error!(
                    target: TARGET,
                    %error,
                    offset = next_cursor - n as u64,
                    "an audit spill line does not parse; moving it to the .corrupt file"
                );
                bad.push(line.clone());
            }
        }
    }
    if lines == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the audit spill file is shorter than recorded",
        ));
    }
    Ok(Batch {
        records,
        source: Source::Spill {
            next_cursor,
            lines,
            bad,
        },
    })
}

/// The spill file: JSON lines from `cursor` to `end` not yet written by the sink.
struct Spill {
    path: PathBuf,
    file: File,
    /// `<path>.pos`: the cursor, 20 decimal digits and a newline, fsync'd.
    cursor_file: File,
    /// Bytes of whole lines in the file.
    end: u64,
    /// Bytes already written through the sink.
    cursor: u64,
    /// Lines between `cursor` and `end`.
    pending: u64,
    /// Bytes past `end` may be left over from a failed append.
    dirty: bool,
}

impl Spill {
    /// Opens (or creates) the spill file, cuts off a partial last line (quarantined; counted in
    /// the second value) and reads the cursor, falling back to 0 (write again rather than lose)
    /// when it is not at a line boundary within the file.
    fn open(path: &Path) -> io::Result<(Spill, u64)> {
        let created = !path.exists();
        let mut file = private(&mut OpenOptions::new())
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        if created {
            sync_parent(path);
        }
        let len = file.metadata()?.len();
        let end = complete_len(&mut file, len)?;
        let mut torn = 0;
        if end < len {
            let mut tail = vec![0; (len - end) as usize];
            file.seek(SeekFrom::Start(end))?;
            file.read_exact(&mut tail)?;
            tracing::warn!(
                target: TARGET,
                path = %path.display(),
                bytes = tail.len(),
                "the audit spill file ends with a partial line (a record whose spill never completed); moving it to the .corrupt file"
            );
            quarantine(path, &tail);
            file.set_len(end)?;
            file.sync_all()?;
            torn = 1;
        }
        let mut cursor_file = private(&mut OpenOptions::new())
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(with_suffix(path, ".pos"))?;
        let mut text = String::new();
        let _ = cursor_file.read_to_string(&mut text);
        let mut cursor = text.trim().parse::<u64>().unwrap_or(0);
        if cursor > end || (cursor > 0 && byte_at(&mut file, cursor - 1)? != b'\n') {
            tracing::warn!(
                target: TARGET,
                path = %path.display(),
                cursor,
                "the audit spill cursor is not at a line boundary; replaying the whole file"
            );
            cursor = 0;
        }
        let pending = count_lines(&mut file, cursor, end)?;
        let mut spill = Spill {
            path: path.to_owned(),
            file,
            cursor_file,
            end,
            cursor,
            pending,
            dirty: false,
        };
        if pending == 0 && end > 0 {
            spill.truncate()?;
        } else {
            spill.write_cursor(cursor)?;
        }
        Ok((spill, torn))
    }

    /// Appends whole lines at `end`, fsync'd; on error cuts the file back.
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let n = bytes.len() as u64;
        let result = (|| {
            self.file.seek(SeekFrom::Start(self.end))?;
            self.file.write_all(bytes)?;
            if self.dirty {
                self.file.set_len(self.end + n)?;
            }
            self.file.sync_data()
        })();
        match result {
            Ok(()) => {
                self.end += n;
                self.dirty = false;
                Ok(())
            }
            Err(e) => {
                self.dirty = self.file.set_len(self.end).is_err();
                Err(e)
            }
        }
    }

    /// Replaces the file with `front` followed by the lines not yet written (for `abort`,
    /// whose queued records are older than the spilled ones). Crash-safe: a new file renamed
    /// over the old one, the cursor reset first (a crash in between writes the old file's
    /// drained lines again rather than losing any).
    fn rewrite_with_front(&mut self, front: &[u8]) -> io::Result<()> {
        let tmp = with_suffix(&self.path, ".tmp");
        let mut out = private(&mut OpenOptions::new())
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        out.write_all(front)?;
        let mut src = File::open(&self.path)?;
        src.seek(SeekFrom::Start(self.cursor))?;
        let copied = io::copy(&mut src.take(self.end - self.cursor), &mut out)?;
        out.sync_all()?;
        drop(out);
        self.write_cursor(0)?;
        fs::rename(&tmp, &self.path)?;
        sync_parent(&self.path);
        self.file = OpenOptions::new().read(true).write(true).open(&self.path)?;
        self.cursor = 0;
        self.end = front.len() as u64 + copied;
        self.dirty = false;
        Ok(())
    }

    /// The sink wrote `lines` lines, up to `to`: moves the cursor, and truncates the file when
    /// everything is written.
    fn advance(&mut self, to: u64, lines: u64) {
        self.cursor = to;
        self.pending = self.pending.saturating_sub(lines);
        if self.cursor >= self.end {
            match self.truncate() {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(target: TARGET, %error, "cannot truncate the audit spill file")
                }
            }
        }
        if let Err(error) = self.write_cursor(to) {
            tracing::warn!(
                target: TARGET,
                %error,
                "cannot save the audit spill cursor; after a crash, some spilled records would be written again"
            );
        }
    }

    /// Empties the file, then resets the cursor (a crash in between leaves a cursor past the
    /// end, which `open` resets).
    fn truncate(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.sync_all()?;
        self.end = 0;
        self.cursor = 0;
        self.dirty = false;
        self.write_cursor(0)
    }

    fn write_cursor(&mut self, cursor: u64) -> io::Result<()> {
        self.cursor_file.seek(SeekFrom::Start(0))?;
        self.cursor_file
            .write_all(format!("{cursor:020}\n").as_bytes())?;
        self.cursor_file.sync_data()
    }
}

/// Appends `line` to `<spill>.corrupt`, fsync'd; logs it when even that fails.
fn quarantine(spill: &Path, line: &[u8]) {
    let path = with_suffix(spill, ".corrupt");
    let result = (|| {
        let mut file = private(&mut OpenOptions::new())
            .create(true)
            .append(true)
            .open(&path)?;
        file.write_all(line)?;
        if line.last() != Some(&b'\n') {
            file.write_all(b"\n")?;
        }
        file.sync_data()
    })();
    if let Err(error) = result {
        tracing::error!(
            target: TARGET,
            %error,
            line = %String::from_utf8_lossy(line),
            "cannot write the audit .corrupt file"
        );
    }
}

/// The length of the file up to and including its last newline.
fn complete_len(file: &mut File, len: u64) -> io::Result<u64> {
    let mut buf = vec![0u8; 8192];
    let mut end = len;
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

fn byte_at(file: &mut File, offset: u64) -> io::Result<u8> {
    let mut byte = [0u8];
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(&mut byte)?;
    Ok(byte[0])
}

fn count_lines(file: &mut File, from: u64, to: u64) -> io::Result<u64> {
    file.seek(SeekFrom::Start(from))?;
    let mut reader = file.take(to.saturating_sub(from));
    let mut buf = vec![0u8; 64 * 1024];
    let mut lines = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok(lines);
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

/// Files created with these options are readable and writable by the owner only (`0600` on
/// Unix; the mode applies when the file is created).
fn private(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
    options
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// fsyncs the directory holding `path`, so a created or renamed entry survives power loss
/// (best effort: not every platform can open a directory).
fn sync_parent(path: &Path) {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

fn ignore_not_found(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
    struct Ev {
        p: u32,
        n: u32,
    }

    fn ev(p: u32, n: u32) -> Ev {
        Ev { p, n }
    }

    fn seq(p: u32, range: std::ops::Range<u32>) -> Vec<Ev> {
        range.map(|n| ev(p, n)).collect()
    }

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            let dir = std::env::temp_dir().join(format!(
                "secure-endpoint-audit-{}",
                uuid::Uuid::new_v4().simple()
            ));
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn path(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Mode {
        /// Writes wait (up to 20 s, then fail) unless some `allowed` batches are left.
        Closed,
        Open,
        /// Writes fail at once.
        Fail,
    }

    struct GateState {
        mode: Mode,
        allowed: usize,
    }

    struct MemoryInner {
        out: Mutex<Vec<Ev>>,
        /// Calls to `write`, counted on entry (before the gate).
        entered: AtomicUsize,
        /// Every batch offered, failed or not.
        attempts: Mutex<Vec<Vec<Ev>>>,
        failures_left: AtomicUsize,
        gate: Mutex<GateState>,
        gate_changed: Condvar,
    }

    /// A sink into shared memory that can fail its next writes and be held closed.
    #[derive(Clone)]
    struct MemorySink(Arc<MemoryInner>);

    impl MemorySink {
        fn new(mode: Mode) -> Self {
            MemorySink(Arc::new(MemoryInner {
                out: Mutex::new(Vec::new()),
                entered: AtomicUsize::new(0),
                attempts: Mutex::new(Vec::new()),
                failures_left: AtomicUsize::new(0),
                gate: Mutex::new(GateState { mode, allowed: 0 }),
                gate_changed: Condvar::new(),
            }))
        }

        fn set(&self, mode: Mode) {
            self.0.gate.lock().unwrap().mode = mode;
            self.0.gate_changed.notify_all();
        }

        fn allow(&self, batches: usize) {
            self.0.gate.lock().unwrap().allowed += batches;
            self.0.gate_changed.notify_all();
        }

        fn fail_next(&self, n: usize) {
            self.0.failures_left.store(n, Ordering::SeqCst);
        }

        fn entered(&self) -> usize {
            self.0.entered.load(Ordering::SeqCst)
        }

        fn out(&self) -> Vec<Ev> {
            self.0.out.lock().unwrap().clone()
        }

        fn attempts(&self) -> Vec<Vec<Ev>> {
            self.0.attempts.lock().unwrap().clone()
        }
    }

    impl AuditSink<Ev> for MemorySink {
        fn write(&mut self, records: &[Ev]) -> io::Result<()> {
            self.0.entered.fetch_add(1, Ordering::SeqCst);
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut gate = self.0.gate.lock().unwrap();
            loop {
                match gate.mode {
                    Mode::Open => break,
                    Mode::Fail => return Err(io::Error::other("gate: fail")),
                    Mode::Closed if gate.allowed > 0 => {
                        gate.allowed -= 1;
                        break;
                    }
                    Mode::Closed => {
                        let now = Instant::now();
                        if now >= deadline {
                            return Err(io::Error::other("gate: timed out"));
                        }
                        gate = self
                            .0
                            .gate_changed
                            .wait_timeout(gate, deadline - now)
                            .unwrap()
                            .0;
                    }
                }
            }
            drop(gate);
            self.0.attempts.lock().unwrap().push(records.to_vec());
            let failing = self
                .0
                .failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if failing {
                return Err(io::Error::other("injected failure"));
            }
            self.0.out.lock().unwrap().extend_from_slice(records);
            Ok(())
        }
    }

    fn config(dir: &TempDir, capacity: usize, overflow: Overflow) -> AuditConfig {
        AuditConfig {
            capacity,
            overflow,
            spill_path: dir.path("spill.jsonl"),
            retry_backoff: Duration::from_millis(1),
            batch: 4,
            aggregation: Aggregation::default(),
            limits: FieldLimits::default(),
        }
    }

    fn read_lines(path: &Path) -> Vec<Ev> {
        fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// The counters agree with what is actually held: queue plus undrained spill lines.
    fn assert_counters_add_up(auditor: &Auditor<Ev>) -> AuditCounters {
        let st = auditor.handle.shared.lock();
        let c = st.counters;
        assert_eq!(
            st.queue.len() as u64 + st.spill.pending,
            c.pending(),
            "{c:?}"
        );
        assert!(c.written + c.quarantined <= c.queued + c.recovered, "{c:?}");
        assert!(c.spilled <= c.queued, "{c:?}");
        c
    }

    async fn flush(auditor: &Auditor<Ev>) {
        tokio::time::timeout(Duration::from_secs(20), auditor.flush())
            .await
            .expect("flush timed out");
    }

    async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !condition() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_sink_gets_the_same_batch_again_and_nothing_is_lost_or_doubled() {
        let dir = TempDir::new();
        let sink = MemorySink::new(Mode::Open);
        sink.fail_next(3);
        let auditor = Auditor::start(
            sink.clone(),
            AuditConfig {
                batch: 16,
                ..config(&dir, 1_000, Overflow::Spill)
            },
        )
        .unwrap();
        for n in 0..500 {
            auditor.record(ev(0, n)).unwrap();
        }
        flush(&auditor).await;

        assert_eq!(sink.out(), seq(0, 0..500));
        let attempts = sink.attempts();
        // Three failed attempts, then the fourth succeeded: all four the same records.
        assert!(attempts.len() >= 4);
        assert!(
            attempts[..4].iter().all(|a| *a == attempts[0]),
            "{attempts:?}"
        );
        assert!(attempts.iter().all(|a| a.len() <= 16));
        let c = assert_counters_add_up(&auditor);
        assert_eq!(
            c,
            AuditCounters {
                queued: 500,
                written: 500,
                retried: 3,
                ..AuditCounters::default()
            }
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spill_policy_under_load_loses_nothing_and_keeps_each_producers_order() {
        let dir = TempDir::new();
        let sink = MemorySink::new(Mode::Closed);
        let auditor = Auditor::start(sink.clone(), config(&dir, 8, Overflow::Spill)).unwrap();
        const PRODUCERS: u32 = 4;
        const EACH: u32 = 200;
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let auditor = auditor.clone();
                tokio::spawn(async move {
                    for n in 0..EACH {
                        auditor.record(ev(p, n)).unwrap();
                        if n % 16 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        // While they run, the counters always match what is held.
        while !producers.iter().all(|p| p.is_finished()) {
            assert_counters_add_up(&auditor);
            tokio::task::yield_now().await;
        }
        for p in producers {
            p.await.unwrap();
        }
        let total = u64::from(PRODUCERS * EACH);
        // The sink is closed: 8 records fill the queue, every later one is spilled.
        let c = assert_counters_add_up(&auditor);
        assert_eq!((c.queued, c.spilled, c.written), (total, total - 8, 0));
        assert_eq!(read_lines(&dir.path("spill.jsonl")).len() as u64, total - 8);

        sink.set(Mode::Open);
        flush(&auditor).await;
        let out = sink.out();
        assert_eq!(out.len() as u64, total);
        assert_eq!(out.iter().collect::<HashSet<_>>().len() as u64, total);
        for p in 0..PRODUCERS {
            let mine: Vec<_> = out.iter().filter(|e| e.p == p).cloned().collect();
            assert_eq!(mine, seq(p, 0..EACH));
        }
        // The spill file was drained in order: what was spilled was written in spill order.
        let c = assert_counters_add_up(&auditor);
        assert_eq!((c.written, c.pending(), c.rejected), (total, 0, 0));
        assert_eq!(fs::metadata(dir.path("spill.jsonl")).unwrap().len(), 0);
        assert_eq!(
            fs::read_to_string(dir.path("spill.jsonl.pos"))
                .unwrap()
                .trim(),
            "00000000000000000000"
        );
        // Drained: records go to the queue again.
        auditor.record(ev(9, 0)).unwrap();
        flush(&auditor).await;
        assert_eq!(auditor.counters().spilled, total - 8);
        assert_eq!(sink.out().last(), Some(&ev(9, 0)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reject_policy_refuses_when_the_queue_is_full_and_counts_it() {
        let dir = TempDir::new();
        let sink = MemorySink::new(Mode::Closed);
        let auditor = Auditor::start(sink.clone(), config(&dir, 4, Overflow::Reject)).unwrap();
        let producers: Vec<_> = (0..4)
            .map(|p| {
                let auditor = auditor.clone();
                tokio::spawn(async move {
                    let mut accepted = Vec::new();
                    let mut refused = 0;
                    for n in 0..10 {
                        match auditor.record(ev(p, n)) {
                            Ok(()) => accepted.push(ev(p, n)),
                            Err(e) => {
                                assert_eq!(e.to_string(), "the audit queue is full");
                                refused += 1;
                            }
                        }
                        tokio::task::yield_now().await;
                    }
                    (accepted, refused)
                })
            })
            .collect();
        let mut accepted = Vec::new();
        let mut refused = 0;
        for p in producers {
            let (a, r) = p.await.unwrap();
            accepted.extend(a);
            refused += r;
        }
        // The writer holds a batch it cannot write; the queue stays full at 4.
        assert_eq!((accepted.len(), refused), (4, 36));
        let c = assert_counters_add_up(&auditor);
        assert_eq!((c.queued, c.rejected, c.spilled), (4, 36, 0));

        sink.set(Mode::Open);
        flush(&auditor).await;
        let mut out = sink.out();
        out.sort_by_key(|e| (e.p, e.n));
        accepted.sort_by_key(|e| (e.p, e.n));
        assert_eq!(out, accepted);
        assert_eq!(auditor.counters().written, 4);
        assert_eq!(fs::metadata(dir.path("spill.jsonl")).unwrap().len(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn block_policy_waits_then_spills() {
        let dir = TempDir::new();
        let sink = MemorySink::new(Mode::Closed);
        let auditor = Auditor::start(
            sink.clone(),
            config(&dir, 2, Overflow::Block(Duration::from_millis(150))),
        )
        .unwrap();
        auditor.record(ev(0, 0)).unwrap();
        auditor.record(ev(0, 1)).unwrap();
        let started = Instant::now();
        auditor.record(ev(0, 2)).unwrap();
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(150), "{waited:?}");
        assert_eq!(auditor.counters().spilled, 1);
        // Spilling has started: the next record goes straight to the spill file.
        auditor.record(ev(0, 3)).unwrap();
        let c = assert_counters_add_up(&auditor);
        assert_eq!((c.queued, c.spilled), (4, 2));

        sink.set(Mode::Open);
        flush(&auditor).await;
        assert_eq!(sink.out(), seq(0, 0..4));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn block_policy_takes_room_freed_during_the_wait() {
        let dir = TempDir::new();
        let sink = MemorySink::new(Mode::Closed);
        let auditor = Auditor::start(
            sink.clone(),
            config(&dir, 1, Overflow::Block(Duration::from_secs(10))),
        )
        .unwrap();
        auditor.record(ev(0, 0)).unwrap();
        let opener = {
            let sink = sink.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                sink.set(Mode::Open);
            })
        };
        let started = Instant::now();
        auditor.record(ev(0, 1)).unwrap();
        let waited = started.elapsed();
        opener.join().unwrap();
        assert!(
            waited >= Duration::from_millis(150) && waited < Duration::from_secs(10),
            "{waited:?}"
        );
        flush(&auditor).await;
        assert_eq!(sink.out(), seq(0, 0..2));
        let c = assert_counters_add_up(&auditor);
        assert_eq!((c.queued, c.written, c.spilled), (2, 2, 0));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn json_lines_sink_rotates_by_size_and_keeps_keep_files() {
        let dir = TempDir::new();
        let path = dir.path("audit.jsonl");
        let rotated = |n: usize| dir.path(&format!("audit.jsonl.{n}"));
        let sink = JsonLinesSink::open(&path, 1_000, 3, FsyncPolicy::EveryBatch).unwrap();
        let auditor = Auditor::start(
            sink,
            AuditConfig {
                batch: 5,
                ..config(&dir, 1_000, Overflow::Spill)
            },
        )
        .unwrap();
        for n in 0..400 {
            auditor.record(ev(0, n)).unwrap();
        }
        flush(&auditor).await;
        drop(auditor);

        assert!(!rotated(4).exists());
        let mut all = Vec::new();
        for file in [rotated(3), rotated(2), rotated(1), path.clone()] {
            let text = fs::read_to_string(&file).unwrap();
            assert!(text.len() <= 1_000, "{}: {}", file.display(), text.len());
            assert!(text.ends_with('\n'));
            for line in text.lines() {
                all.push(serde_json::from_str::<Ev>(line).unwrap());
            }
        }
        // Four files of at most 1000 bytes hold the newest records, contiguous and in order;
        // the oldest were dropped with the files past `keep`.
        let first = all[0].n;
        assert!(first > 0);
        assert_eq!(all, seq(0, first..400));

        // Reopening appends; a partial last line (a crash mid-write) is cut off first.
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"p\":0,\"n\"")
            .unwrap();
        let before = read_lines_lossy(&path);
        let mut sink = JsonLinesSink::open(&path, 1_000_000, 3, FsyncPolicy::Never).unwrap();
        sink.write(&[ev(1, 0)]).unwrap();
        drop(sink);
        let after: Vec<Ev> = read_lines(&path);
        assert_eq!(after.len(), before + 1);
        assert_eq!(after.last(), Some(&ev(1, 0)));

        // keep = 0: the full file is dropped, not renamed.
        let lone = dir.path("lone.jsonl");
        let mut sink =
            JsonLinesSink::open(&lone, 30, 0, FsyncPolicy::Interval(Duration::ZERO)).unwrap();
        sink.write(&seq(2, 0..2)).unwrap();
        sink.write(&seq(2, 2..4)).unwrap();
        drop(sink);
        assert_eq!(read_lines(&lone), seq(2, 2..4));
        assert!(!dir.path("lone.jsonl.1").exists());
    }

    /// Created readable and writable by the owner only.
    fn assert_private(path: &Path) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", path.display());
        }
        #[cfg(not(unix))]
        let _ = path;
    }

    /// Complete lines in `path`, ignoring a partial last one.
    fn read_lines_lossy(path: &Path) -> usize {
        fs::read_to_string(path).unwrap().matches('\n').count()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abort_then_restart_on_the_spill_file_recovers_every_record_once_in_order() {
        let dir = TempDir::new();
        let spill = dir.path("spill.jsonl");
        let blocked = MemorySink::new(Mode::Closed);
        let auditor = Auditor::start(blocked.clone(), config(&dir, 16, Overflow::Spill)).unwrap();
        for n in 0..100 {
            auditor.record(ev(0, n)).unwrap();
        }
        // The writer is stuck in the sink with its first batch (still in the queue).
        eventually("a batch in the sink", || blocked.entered() == 1).await;
        let c = assert_counters_add_up(&auditor);
        assert_eq!((c.queued, c.spilled, c.written), (100, 84, 0));
        assert_eq!(read_lines(&spill), seq(0, 16..100));

        auditor.abort();
        // The 16 queued records were put in front of the 84 spilled ones.
        assert_eq!(read_lines(&spill), seq(0, 0..100));
        // The rewritten file is as private as the one it replaced.
        assert_private(&spill);
        let c = assert_counters_add_up(&auditor);
        assert_eq!((c.queued, c.spilled, c.pending()), (100, 100, 100));
        // Recording after abort goes to the spill file; flush no longer waits.
        for n in 100..105 {
            auditor.record(ev(0, n)).unwrap();
        }
        flush(&auditor).await;
        assert_eq!(read_lines(&spill), seq(0, 0..105));
        drop(auditor);
        blocked.set(Mode::Fail);

        let sink = MemorySink::new(Mode::Open);
        let restarted = Auditor::start(sink.clone(), config(&dir, 16, Overflow::Spill)).unwrap();
        assert_eq!(restarted.counters().recovered, 105);
        for n in 105..110 {
            restarted.record(ev(0, n)).unwrap();
        }
        flush(&restarted).await;
        assert_eq!(sink.out(), seq(0, 0..110));
        assert!(blocked.out().is_empty());
        let c = assert_counters_add_up(&restarted);
        assert_eq!(
            (c.recovered, c.queued, c.written, c.pending()),
            (105, 5, 110, 0)
        );
        assert_eq!(fs::metadata(&spill).unwrap().len(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abort_with_only_queued_records_spills_them_for_the_next_start() {
        let dir = TempDir::new();
        let blocked = MemorySink::new(Mode::Closed);
        let auditor =
            Auditor::start(blocked.clone(), config(&dir, 1_000, Overflow::Spill)).unwrap();
        for n in 0..50 {
            auditor.record(ev(0, n)).unwrap();
        }
        assert_eq!(auditor.counters().spilled, 0);
        auditor.abort();
        assert_eq!(auditor.counters().spilled, 50);
        assert_eq!(read_lines(&dir.path("spill.jsonl")), seq(0, 0..50));
        drop(auditor);
        blocked.set(Mode::Fail);

        let sink = MemorySink::new(Mode::Open);
        let restarted = Auditor::start(sink.clone(), config(&dir, 1_000, Overflow::Spill)).unwrap();
        flush(&restarted).await;
        assert_eq!(sink.out(), seq(0, 0..50));
        assert_eq!(restarted.counters().written, 50);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn capacity_zero_writes_through_so_a_killed_writer_loses_nothing() {
        let dir = TempDir::new();
        let spill = dir.path("spill.jsonl");
        let first = MemorySink::new(Mode::Closed);
        // Reject would refuse on a full queue; with capacity 0 every record is spilled instead.
        let auditor = Auditor::start(first.clone(), config(&dir, 0, Overflow::Reject)).unwrap();
        for n in 0..40 {
            auditor.record(ev(0, n)).unwrap();
            // On disk before `record` returned, and never in memory.
            assert_eq!(read_lines(&spill).len(), n as usize + 1);
            assert!(auditor.handle.shared.lock().queue.is_empty());
        }
        let c = assert_counters_add_up(&auditor);
        assert_eq!((c.queued, c.spilled, c.rejected), (40, 40, 0));

        // Let three batches through, then the writer is stuck on the fourth.
        first.allow(3);
        eventually("a fourth batch in the sink", || first.entered() == 4).await;
        assert_eq!(first.attempts().len(), 3);
        let written_before = first.out().len();
        assert!((3..=12).contains(&written_before), "{written_before}");
        assert_eq!(auditor.counters().written, written_before as u64);
        let pos: u64 = fs::read_to_string(dir.path("spill.jsonl.pos"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(pos > 0);

        // The kill: with nothing in memory, abort has nothing to move (the file is unchanged).
        let bytes = fs::read(&spill).unwrap();
        auditor.abort();
        assert_eq!(fs::read(&spill).unwrap(), bytes);
        assert_eq!(auditor.counters().spilled, 40);
        drop(auditor);
        first.set(Mode::Fail);

        let second = MemorySink::new(Mode::Open);
        let restarted = Auditor::start(second.clone(), config(&dir, 0, Overflow::Spill)).unwrap();
        // Only what the first run had not written is replayed (the cursor was saved).
        assert_eq!(restarted.counters().recovered, 40 - written_before as u64);
        for n in 40..50 {
            restarted.record(ev(0, n)).unwrap();
        }
        flush(&restarted).await;
        let mut all = first.out();
        all.extend(second.out());
        assert_eq!(all, seq(0, 0..50));
        let c = assert_counters_add_up(&restarted);
        assert_eq!((c.queued, c.spilled, c.pending()), (10, 10, 0));
        assert_eq!(fs::metadata(&spill).unwrap().len(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_torn_or_unreadable_spill_line_is_quarantined_and_the_rest_replayed() {
        let dir = TempDir::new();
        let spill = dir.path("spill.jsonl");
        fs::write(
            &spill,
            b"{\"p\":0,\"n\":0}\nnot json\n{\"p\":0,\"n\":1}\n{\"p\":0,\"n\"",
        )
        .unwrap();
        // A cursor that is not at a line boundary is distrusted: the whole file is replayed.
        fs::write(dir.path("spill.jsonl.pos"), "3\n").unwrap();
        let sink = MemorySink::new(Mode::Open);
        let auditor = Auditor::start(sink.clone(), config(&dir, 16, Overflow::Spill)).unwrap();
        flush(&auditor).await;
        assert_eq!(sink.out(), seq(0, 0..2));
        let c = assert_counters_add_up(&auditor);
        assert_eq!(
            (c.recovered, c.written, c.quarantined, c.pending()),
            (4, 2, 2, 0)
        );
        let corrupt = fs::read_to_string(dir.path("spill.jsonl.corrupt")).unwrap();
        assert_eq!(corrupt, "{\"p\":0,\"n\"\nnot json\n");
        assert_private(&dir.path("spill.jsonl.corrupt"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_the_last_handle_drains_then_stops_the_writer() {
        let dir = TempDir::new();
        let sink = MemorySink::new(Mode::Closed);
        let auditor = Auditor::start(sink.clone(), config(&dir, 1_000, Overflow::Spill)).unwrap();
        for n in 0..20 {
            auditor.record(ev(0, n)).unwrap();
        }
        let task = auditor.handle.task.clone();
        drop(auditor);
        assert!(!task.is_finished());
        sink.set(Mode::Open);
        eventually("the writer to stop", || task.is_finished()).await;
        assert_eq!(sink.out(), seq(0, 0..20));
    }

    #[test]
    fn tracing_sink_emits_each_record_as_json_under_the_audit_target() {
        use tracing::field::{Field, Visit};

        #[derive(Clone, Default)]
        struct Capture(Arc<Mutex<Vec<(String, String)>>>);

        struct RecordField(Option<String>);

        impl Visit for RecordField {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                if field.name() == "record" {
                    self.0 = Some(format!("{value:?}"));
                }
            }
        }

        impl tracing::Subscriber for Capture {
            fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
                true
            }
            fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
                tracing::span::Id::from_u64(1)
            }
            fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
            fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
            fn event(&self, event: &tracing::Event<'_>) {
                let mut field = RecordField(None);
                event.record(&mut field);
                if let Some(record) = field.0 {
                    self.0
                        .lock()
                        .unwrap()
                        .push((event.metadata().target().to_owned(), record));
                }
            }
            fn enter(&self, _: &tracing::span::Id) {}
            fn exit(&self, _: &tracing::span::Id) {}
        }

        let capture = Capture::default();
        tracing::subscriber::with_default(capture.clone(), || {
            AuditSink::write(&mut TracingSink, &seq(0, 0..2)).unwrap();
        });
        let seen = capture.0.lock().unwrap().clone();
        assert_eq!(
            seen,
            vec![
                (TARGET.to_owned(), r#"{"p":0,"n":0}"#.to_owned()),
                (TARGET.to_owned(), r#"{"p":0,"n":1}"#.to_owned()),
            ]
        );
    }
}
