//! Unit tests of the failure limiter: reservations, give-backs, identifiers normalized.

use super::*;
use http::StatusCode;

fn limiter(max: u32) -> FailureLimiter {
    FailureLimiter::new("login", max, Duration::from_secs(60))
}

#[test]
fn counts_only_failures() {
    let limiter = limiter(2);
    let key = ("1.2.3.4", "a@example.com");
    limiter.reserve(&key.0, key.1).unwrap().failed();
    limiter.reserve(&key.0, key.1).unwrap().failed();
    let problem = limiter.reserve(&key.0, key.1).unwrap_err();
    assert_eq!(problem.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(problem.headers()["ratelimit-policy"], "\"login\";q=2;w=60");
    // Another identifier, or the same from another scope, is not affected.
    limiter.reserve(&key.0, "b@example.com").unwrap().failed();
    limiter.reserve(&"5.6.7.8", key.1).unwrap().failed();
}

/// The race of issue 14: reservations are taken before verification, so attempts in flight
/// count; only `max_failures` can be outstanding at once.
#[test]
fn in_flight_attempts_count() {
    let limiter = limiter(5);
    let held: Vec<_> = (0..5)
        .map(|_| limiter.reserve(&(), "alice@example.com").unwrap())
        .collect();
    assert!(limiter.reserve(&(), "alice@example.com").is_err());
    drop(held);
    assert!(limiter.reserve(&(), "alice@example.com").is_err());
}

#[test]
fn success_gives_the_reservation_back() {
    let limiter = limiter(2);
    for _ in 0..10 {
        limiter.reserve(&(), "a").unwrap().succeeded();
    }
    // Nothing is kept for a key that only succeeded.
    assert!(limiter.is_empty());
    limiter.reserve(&(), "a").unwrap().failed();
    let pending = limiter.reserve(&(), "a").unwrap();
    assert!(
        limiter.reserve(&(), "a").is_err(),
        "one failure, one in flight"
    );
    pending.succeeded();
    // One failure left it one attempt to spare.
    let last = limiter.reserve(&(), "a").unwrap();
    assert!(limiter.reserve(&(), "a").is_err());
    drop(last);
    assert!(limiter.reserve(&(), "a").is_err());
}

#[test]
fn threads_racing_get_at_most_the_quota() {
    let limiter = std::sync::Arc::new(limiter(5));
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (limiter, barrier) = (limiter.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let attempt = limiter.reserve(&(), "racer");
                // Hold it as a slow hash would.
                std::thread::sleep(Duration::from_millis(20));
                attempt.is_ok()
            })
        })
        .collect();
    let admitted = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|ok| *ok)
        .count();
    assert_eq!(admitted, 5);
}

#[test]
fn normalized_spellings_share_a_bucket() {
    let limiter = limiter(3);
    limiter.reserve(&1, " Alice@Example.COM ").unwrap().failed();
    limiter
        .reserve(&1, "\u{ff21}\u{ff4c}\u{ff49}\u{ff43}\u{ff45}@example.com")
        .unwrap()
        .failed();
    limiter
        .reserve(&1, "alice@example.com\u{a0}")
        .unwrap()
        .failed();
    assert!(limiter.reserve(&1, "alice@example.com").is_err());
    assert_eq!(limiter.len(), 1);
    assert_eq!(
        normalize_identifier("\u{2003}Ｂｏｂ@ＥＸＡＭＰＬＥ.com\t"),
        "bob@example.com"
    );
    // Composed and decomposed forms are one.
    assert_eq!(
        normalize_identifier("Jose\u{301}@example.com"),
        normalize_identifier("JOS\u{c9}@example.com")
    );
}

/// A full table never refuses a new key: the lightest entry makes room, and a key at its
/// limit stays locked while lighter keys can go.
#[test]
fn a_full_table_does_not_lock_out_a_fresh_key() {
    let limiter = limiter(2).with_capacity(3);
    // A key at its limit.
    limiter.reserve(&(), "victim").unwrap().failed();
    limiter.reserve(&(), "victim").unwrap().failed();
    // A spray of a thousand new keys, one failure each.
    for i in 0..1000 {
        limiter.reserve(&(), &format!("spray{i}")).unwrap().failed();
        assert!(limiter.len() <= 3);
    }
    // A fresh key is admitted.
    limiter
        .reserve(&(), "fresh@example.com")
        .unwrap()
        .succeeded();
    // The locked key is still locked: the spray evicted its own entries.
    assert!(limiter.reserve(&(), "victim").is_err());
    assert!(limiter.len() <= 3);
}

#[test]
fn a_table_full_of_locked_keys_evicts_the_oldest() {
    let limiter = limiter(1).with_capacity(2);
    let t0 = Instant::now();
    let key = |n: u64| limiter.hasher.hash_one(n);
    limiter.reserve_key(key(1), t0).unwrap().failed();
    limiter
        .reserve_key(key(2), t0 + Duration::from_secs(1))
        .unwrap()
        .failed();
    // Both locked; a third key takes the place of the oldest.
    limiter
        .reserve_key(key(3), t0 + Duration::from_secs(2))
        .unwrap()
        .failed();
    assert_eq!(limiter.len(), 2);
    assert!(limiter
        .reserve_key(key(2), t0 + Duration::from_secs(3))
        .is_err());
    assert!(limiter
        .reserve_key(key(1), t0 + Duration::from_secs(3))
        .is_ok());
}

#[test]
fn windows_end() {
    let limiter = limiter(1);
    let t0 = Instant::now();
    limiter.reserve_key(7, t0).unwrap().failed();
    let problem = limiter
        .reserve_key(7, t0 + Duration::from_secs(20))
        .unwrap_err();
    assert_eq!(problem.headers()["retry-after"], "40");
    // A new window: a fresh count, and the old entry is gone.
    let attempt = limiter
        .reserve_key(7, t0 + Duration::from_secs(60))
        .unwrap();
    assert_eq!(limiter.len(), 1);
    // A reservation of an ended window given back does not touch the new one.
    let stale = Attempt {
        limiter: &limiter,
        key: 7,
        start: t0,
    };
    stale.succeeded();
    assert!(limiter
        .reserve_key(7, t0 + Duration::from_secs(61))
        .is_err());
    attempt.failed();
}
