//! Issue 14, item 4: the audit trail cannot be flushed out by a client. Refusals are recorded
//! in bounded records, repeated refusals from one client are aggregated with exact counts,
//! authentication failures for distinct claimed identities stay apart, and the trail's files
//! are readable by their owner only.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::{claims, sign_with, TestApp, OTHER_SECRET};
use jsonwebtoken::Algorithm;
use secure_endpoint::audit::{Aggregation, AuditConfig, Auditor, FsyncPolicy, JsonLinesSink};
use secure_endpoint::cors::Cors;
use secure_endpoint::events::SecurityEvent;
use serde_json::Value;

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("se-audit-flood-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An audit trail in `dir` (`audit.jsonl`, rotated at `max_bytes`, spilling to
/// `audit.spill`), with `config` applied to its defaults.
fn trail(
    dir: &TempDir,
    max_bytes: u64,
    config: impl FnOnce(&mut AuditConfig),
) -> Auditor<SecurityEvent> {
    let sink = JsonLinesSink::open(
        dir.path("audit.jsonl"),
        max_bytes,
        20,
        FsyncPolicy::EveryBatch,
    )
    .unwrap();
    let mut audit = AuditConfig::new(dir.path("audit.spill"));
    config(&mut audit);
    Auditor::start(sink, audit).unwrap()
}

/// Every record of the trail, oldest file first, each with the length of its line.
fn records(dir: &TempDir) -> Vec<(usize, Value)> {
    let mut files: Vec<PathBuf> = (1..=20)
        .rev()
        .map(|n| dir.path(&format!("audit.jsonl.{n}")))
        .filter(|p| p.exists())
        .collect();
    files.push(dir.path("audit.jsonl"));
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .map(|l| (l.len(), serde_json::from_str(l).unwrap()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The sum of `count` per kind.
fn counts(records: &[(usize, Value)]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (_, r) in records {
        *out.entry(r["kind"].as_str().unwrap().to_owned())
            .or_default() += r["count"].as_u64().expect("every record has a count");
    }
    out
}

#[cfg(unix)]
fn assert_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}: {mode:o}", path.display());
}

#[tokio::test]
async fn a_flood_of_60_kb_paths_writes_a_few_bounded_records_whose_counts_add_up() {
    const N: usize = 200;
    let dir = TempDir::new();
    let auditor = trail(&dir, 64 * 1024 * 1024, |_| {});
    let app = TestApp::start_with(
        common::security()
            .max_uri_len(64 * 1024)
            .cors(Cors::allow_origins(["https://app.example.com"]))
            .events(Arc::new(auditor.clone()))
            .build(),
    )
    .await;
    let path = format!("/{}", "a".repeat(60 * 1024));
    let agent = "x".repeat(4000);
    for i in 0..N {
        let mut req = app.get(&path).header("user-agent", &agent);
        // Half of them from a page on another origin: a refused cross-origin request too.
        if i % 2 == 0 {
            req = req.header("origin", "https://evil.example");
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 404);
    }
    auditor.flush().await;

    let records = records(&dir);
    // Every refusal is counted, exactly once per kind it was recorded as.
    let counts = counts(&records);
    assert_eq!(counts.get("not_routed"), Some(&(N as u64)), "{counts:?}");
    for (kind, n) in &counts {
        let expected = if kind == "cors_rejected" { N / 2 } else { N };
        assert_eq!(*n, expected as u64, "{kind}: {counts:?}");
    }
    // A first record and one aggregate per kind, not one record per request.
    assert!(
        records.len() <= 2 * counts.len(),
        "{} records",
        records.len()
    );
    for (len, r) in &records {
        assert!(*len < 4096, "a record of {len} bytes: {r}");
        assert_eq!(r["client_ip"], "127.0.0.1");
        let route = r["route"].as_str().unwrap();
        assert!(route.len() <= 256, "{} bytes of route", route.len());
        if route != "(unrouted)" {
            // The raw path, cut and marked with its original length.
            assert_eq!(r["truncated"]["route"], path.len(), "{r}");
        }
        assert_eq!(r["user_agent"].as_str().unwrap().len(), 256);
        assert_eq!(r["truncated"]["user_agent"], 4000, "{r}");
        if r["count"].as_u64().unwrap() > 1 {
            let (first, last) = (
                r["time"].as_str().unwrap(),
                r["last_time"].as_str().unwrap(),
            );
            assert!(first <= last, "{first} > {last}");
        }
    }

    #[cfg(unix)]
    {
        assert_private(&dir.path("audit.jsonl"));
        assert_private(&dir.path("audit.spill"));
        assert_private(&dir.path("audit.spill.pos"));
    }
}

#[tokio::test]
async fn forged_tokens_for_distinct_identities_stay_apart_and_garbage_is_aggregated() {
    let dir = TempDir::new();
    // Small files: the trail rotates, and every file it creates is private.
    let auditor = trail(&dir, 1024, |_| {});
    let app =
        TestApp::start_with(common::security().events(Arc::new(auditor.clone())).build()).await;
    let subjects = ["alice-x", "bob-x", "carol-x", "dave-x", "erin-x"];
    let mut tokens = Vec::new();
    for round in 0..3 {
        for sub in subjects {
            let mut c = claims(sub, &["admin"], "");
            c["jti"] = round.into();
            let forged = sign_with(&c, Algorithm::HS256, OTHER_SECRET);
            let res = app.get_as("/me", &forged).await;
            assert_eq!(res.status(), 401);
            tokens.push(forged);
        }
    }
    for i in 0..40 {
        let res = app.get_as("/me", &format!("garbage-{i}")).await;
        assert_eq!(res.status(), 401);
    }
    auditor.flush().await;

    let records = records(&dir);
    let failures: Vec<&Value> = records
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r["kind"] == "authentication_failed")
        .collect();
    let mut per_subject: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    for r in &failures {
        let sub = r["claimed_subject"].as_str().unwrap_or("(none)").to_owned();
        let entry = per_subject.entry(sub).or_default();
        entry.0 += r["count"].as_u64().unwrap();
        entry.1 += 1;
    }
    let expected: BTreeMap<String, (u64, usize)> = subjects
        .iter()
        .map(|s| (s.to_string(), (3, 2)))
        .chain([("(none)".to_owned(), (40, 2))])
        .collect();
    // Each identity: its first failure, then one aggregate of the other two.
    assert_eq!(per_subject, expected);
    assert_eq!(counts(&records)["authentication_failed"], 15 + 40);

    // No credential in the trail.
    let text: String = records.iter().map(|(_, r)| r.to_string()).collect();
    for token in &tokens {
        for part in token.split('.') {
            assert!(!text.contains(part), "part of a token in the trail");
        }
    }
    assert!(!text.contains("garbage-"));

    assert!(dir.path("audit.jsonl.1").exists(), "the trail rotated");
    #[cfg(unix)]
    for entry in std::fs::read_dir(&dir.0).unwrap() {
        assert_private(&entry.unwrap().path());
    }
}

#[tokio::test]
async fn an_aggregate_is_written_when_its_window_ends() {
    let dir = TempDir::new();
    let auditor = trail(&dir, 64 * 1024 * 1024, |c| {
        c.aggregation = Aggregation {
            window: Duration::from_millis(300),
            ..Aggregation::default()
        };
    });
    let app =
        TestApp::start_with(common::security().events(Arc::new(auditor.clone())).build()).await;
    for _ in 0..25 {
        assert_eq!(
            app.get("/no/such/route").send().await.unwrap().status(),
            404
        );
    }
    // No flush: the timer closes the window.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let records = records(&dir);
        if records.len() == 2 {
            assert_eq!(records[0].1["count"], 1);
            assert_eq!(records[1].1["count"], 24);
            break;
        }
        assert!(records.len() < 2, "{records:?}");
        assert!(tokio::time::Instant::now() < deadline, "{records:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A refusal after the window: a record of its own at once.
    assert_eq!(
        app.get("/no/such/route").send().await.unwrap().status(),
        404
    );
    auditor.flush().await;
    let records = records(&dir);
    assert_eq!(records.len(), 3);
    assert_eq!(records[2].1["count"], 1);
}
