//! Unit tests of the audit trail: retries, overflow policies, spill and replay, rotation.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

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
    let auditor = Auditor::start(blocked.clone(), config(&dir, 1_000, Overflow::Spill)).unwrap();
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
