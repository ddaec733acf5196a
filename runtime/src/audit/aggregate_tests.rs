//! Unit tests of the aggregation of repeated refusals.

use super::*;
use std::collections::BTreeMap;

fn refusal(ip: &str, n: u32) -> SecurityEvent {
    SecurityEvent {
        time: format!("t{n}"),
        kind: EventKind::NotRouted,
        outcome: "denied".into(),
        status: 404,
        code: Some("not_found".into()),
        reason: None,
        request_id: format!("r{n}"),
        error_id: Some(format!("e{n}")),
        method: "GET".into(),
        route: "(unrouted)".into(),
        handler: None,
        policy: None,
        principal: None,
        scheme: None,
        client_ip: Some(ip.into()),
        user_agent: None,
        fields: Vec::new(),
        claimed_subject: None,
        count: 1,
        last_time: None,
        truncated: BTreeMap::new(),
        distinct: None,
    }
}

fn forged(ip: &str, sub: &str, n: u32) -> SecurityEvent {
    SecurityEvent {
        kind: EventKind::AuthenticationFailed,
        status: 401,
        code: Some("unauthenticated".into()),
        reason: Some("credential_invalid".into()),
        claimed_subject: Some(sub.into()),
        ..refusal(ip, n)
    }
}

fn config(window: Duration, max_keys: usize) -> Aggregation {
    Aggregation {
        window,
        max_keys,
        identities_per_client: 3,
    }
}

/// Offers `events` at `at`, returning everything written, in order.
fn offer_all(
    agg: &mut Aggregator,
    events: impl IntoIterator<Item = SecurityEvent>,
    at: Instant,
) -> Vec<SecurityEvent> {
    let mut out = Vec::new();
    for event in events {
        if let Some(now) = agg.offer(event, at, &mut out) {
            out.push(now);
        }
    }
    out
}

fn total(records: &[SecurityEvent]) -> u64 {
    records.iter().map(|r| r.count).sum()
}

#[test]
fn a_flood_is_one_record_then_one_aggregate_with_the_exact_count_and_first_and_last_time() {
    let t0 = Instant::now();
    let mut agg = Aggregator::new(config(Duration::from_secs(60), 16));
    let mut written = offer_all(&mut agg, (0..1000).map(|n| refusal("10.0.0.1", n)), t0);
    assert_eq!(written, [refusal("10.0.0.1", 0)]);
    // Not due before the window ends...
    agg.due(t0 + Duration::from_secs(59), &mut written);
    assert_eq!(written.len(), 1);
    // ...then one aggregate: the first repeat, counting all 999, until the last one.
    agg.due(t0 + Duration::from_secs(60), &mut written);
    assert_eq!(written.len(), 2);
    let aggregate = &written[1];
    assert_eq!(aggregate.count, 999);
    assert_eq!(aggregate.time, "t1");
    assert_eq!(aggregate.request_id, "r1");
    assert_eq!(aggregate.last_time.as_deref(), Some("t999"));
    assert_eq!(total(&written), 1000);
    assert_eq!(agg.len(), 0);

    // The next refusal opens a new window and is written at once.
    let later = offer_all(
        &mut agg,
        [refusal("10.0.0.1", 1000)],
        t0 + Duration::from_secs(61),
    );
    assert_eq!(later, [refusal("10.0.0.1", 1000)]);
}

#[test]
fn one_repeat_is_written_as_itself_and_an_event_after_the_window_closes_it_first() {
    let t0 = Instant::now();
    let mut agg = Aggregator::new(config(Duration::from_secs(10), 16));
    let mut written = offer_all(&mut agg, (0..2).map(|n| refusal("10.0.0.1", n)), t0);
    // The window ended unnoticed; the next event closes it before it is written.
    written.extend(offer_all(
        &mut agg,
        [refusal("10.0.0.1", 2)],
        t0 + Duration::from_secs(11),
    ));
    assert_eq!(
        written,
        [
            refusal("10.0.0.1", 0),
            refusal("10.0.0.1", 1),
            refusal("10.0.0.1", 2)
        ]
    );
}

#[test]
fn clients_kinds_and_principals_are_kept_apart_and_each_count_adds_up() {
    let t0 = Instant::now();
    let mut agg = Aggregator::new(config(Duration::from_secs(60), 64));
    let mut events = Vec::new();
    for n in 0..300 {
        let mut e = refusal(["10.0.0.1", "10.0.0.2", "10.0.0.3"][n as usize % 3], n);
        if n % 2 == 0 {
            e.kind = EventKind::RateLimited;
            e.status = 429;
        }
        if n % 5 == 0 {
            e.principal = Some("bob".into());
        }
        // Not part of the key: chosen by the client.
        e.route = format!("/probe/{n}");
        e.method = format!("M{n}");
        e.user_agent = Some(format!("ua {n}"));
        events.push(e);
    }
    let mut written = offer_all(&mut agg, events, t0);
    // 3 clients × 2 kinds × 2 principals.
    assert_eq!(written.len(), 12);
    agg.drain(&mut written);
    assert_eq!(written.len(), 24);
    assert_eq!(total(&written), 300);
    assert_eq!(agg.len(), 0);
}

#[test]
fn distinct_claimed_subjects_stay_apart_up_to_the_cap_per_client() {
    let t0 = Instant::now();
    let mut agg = Aggregator::new(config(Duration::from_secs(60), 64));
    let mut events = Vec::new();
    for round in 0..4 {
        for sub in ["alice", "bob", "carol"] {
            events.push(forged("10.0.0.1", sub, round));
        }
    }
    let mut written = offer_all(&mut agg, events, t0);
    let subjects: Vec<_> = written
        .iter()
        .map(|r| r.claimed_subject.as_deref().unwrap())
        .collect();
    assert_eq!(subjects, ["alice", "bob", "carol"]);
    agg.drain(&mut written);
    assert_eq!(written.len(), 6);
    assert!(written[3..].iter().all(|r| r.count == 3));
    assert_eq!(total(&written), 12);

    // A spray of 100 identities from one client: 3 kept apart, the rest counted as the
    // client's (no claimed subject), after a first record of its own.
    let mut written = offer_all(
        &mut agg,
        (0..100).map(|n| forged("10.0.0.9", &format!("user{n}"), n)),
        t0,
    );
    assert_eq!(written.len(), 4);
    assert_eq!(written[3].claimed_subject, None);
    agg.drain(&mut written);
    assert_eq!(written.len(), 5);
    assert_eq!((written[4].count, written[4].time.as_str()), (96, "t4"));
    assert_eq!(total(&written), 100);
    // Another client has its own allowance.
    let other = offer_all(&mut agg, [forged("10.0.0.8", "user0", 0)], t0);
    assert_eq!(other[0].claimed_subject.as_deref(), Some("user0"));
}

#[test]
fn a_key_spray_is_bounded_by_writing_the_oldest_and_loses_nothing() {
    let t0 = Instant::now();
    let mut agg = Aggregator::new(config(Duration::from_secs(60), 8));
    let mut written = Vec::new();
    for n in 0..10_000u32 {
        // Each client twice: one record, one held repeat.
        let ip = format!("10.1.{}.{}", n / 2 / 256, n / 2 % 256);
        if let Some(now) = agg.offer(refusal(&ip, n), t0, &mut written) {
            written.push(now);
        }
        assert!(agg.len() <= 8);
    }
    agg.drain(&mut written);
    assert_eq!(total(&written), 10_000);
    assert_eq!(written.len(), 10_000);
}

#[test]
fn allowed_events_and_a_zero_window_are_never_held() {
    let t0 = Instant::now();
    let mut agg = Aggregator::new(config(Duration::from_secs(60), 8));
    let allowed = (0..5).map(|n| SecurityEvent {
        kind: EventKind::Allowed,
        status: 200,
        ..refusal("10.0.0.1", n)
    });
    assert_eq!(offer_all(&mut agg, allowed, t0).len(), 5);
    let mut off = Aggregator::new(config(Duration::ZERO, 8));
    let written = offer_all(&mut off, (0..5).map(|n| refusal("10.0.0.1", n)), t0);
    assert_eq!(written.len(), 5);
    assert_eq!((agg.len(), off.len()), (0, 0));
}

#[test]
fn a_refused_first_record_lets_the_next_one_be_written_on_its_own() {
    let t0 = Instant::now();
    let mut agg = Aggregator::new(config(Duration::from_secs(60), 8));
    let first = offer_all(&mut agg, [refusal("10.0.0.1", 0)], t0);
    agg.unannounce(&first[0]);
    let second = offer_all(&mut agg, [refusal("10.0.0.1", 1)], t0);
    assert_eq!(second, [refusal("10.0.0.1", 1)]);
    assert_eq!(agg.next_deadline(), Some(t0 + Duration::from_secs(60)));
}

/// A directory removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "secure-endpoint-aggregate-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read(path: &std::path::Path) -> Vec<SecurityEvent> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_handle_writes_the_open_aggregates() {
    use crate::audit::{AuditConfig, FsyncPolicy, JsonLinesSink};
    let dir = TempDir::new();
    let path = dir.0.join("audit.jsonl");
    let sink = JsonLinesSink::open(&path, 1 << 20, 1, FsyncPolicy::EveryBatch).unwrap();
    let auditor = Auditor::start(sink, AuditConfig::new(dir.0.join("spill"))).unwrap();
    for n in 0..10 {
        auditor.record_event(refusal("10.0.0.1", n)).unwrap();
    }
    drop(auditor);
    let deadline = Instant::now() + Duration::from_secs(10);
    while read(&path).len() < 2 {
        assert!(Instant::now() < deadline, "{:?}", read(&path));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let written = read(&path);
    assert_eq!(written.len(), 2);
    assert_eq!((written[0].count, written[1].count), (1, 9));
    assert_eq!(written[1].last_time.as_deref(), Some("t9"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_spills_the_open_aggregates_for_the_next_start() {
    use crate::audit::{AuditConfig, FsyncPolicy, JsonLinesSink};
    let dir = TempDir::new();
    let spill = dir.0.join("spill");
    let path = dir.0.join("audit.jsonl");
    let sink = JsonLinesSink::open(&path, 1 << 20, 1, FsyncPolicy::EveryBatch).unwrap();
    let auditor = Auditor::start(sink, AuditConfig::new(&spill)).unwrap();
    auditor.flush().await;
    for n in 0..5 {
        auditor.record_event(refusal("10.0.0.1", n)).unwrap();
    }
    auditor.abort();
    // After abort, events are no longer held: each goes to the spill file.
    auditor.record_event(refusal("10.0.0.1", 5)).unwrap();
    drop(auditor);
    let mut all = read(&path);
    all.extend(read(&spill));
    assert_eq!(total(&all), 6);
    assert!(all.iter().any(|r| r.count == 4), "{all:?}");
}
