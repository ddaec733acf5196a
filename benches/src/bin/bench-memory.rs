//! `bench-memory`: bytes held per rate-limiter key and per cached token, measured as the growth
//! of the process's resident memory (`/proc/self/statm`) while filling each structure.

use std::time::Duration;

use secure_endpoint::hmac::InMemoryNonces;
use secure_endpoint::jwt::{JwtIssuer, JwtVerifier};
use secure_endpoint::policy::RateSpec;
use secure_endpoint::rate::{RateKey, RateLimiter};

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() {
    const KEYS: u64 = 1_000_000;
    let limiter = RateLimiter::new("mem", RateSpec::new(100, Duration::from_secs(900)));
    let before = rss_bytes();
    for i in 0..KEYS {
        let _ = limiter.check_local(&RateKey::Principal(i));
    }
    let per_key = (rss_bytes() - before) as f64 / KEYS as f64;
    println!(
        "rate limiter: {} keys, {per_key:.0} bytes per key (RSS growth)",
        limiter.len()
    );

    // A spray of a million live keys (100 per 15 minutes: a key stays live 9 s) at a limiter
    // capped at 100 000 keys.
    let capped =
        RateLimiter::new("capped", RateSpec::new(100, Duration::from_secs(900))).max_keys(100_000);
    let before = rss_bytes();
    let mut refused = 0u32;
    for i in 0..KEYS {
        refused += u32::from(capped.check_local(&RateKey::Principal(i)).is_err());
    }
    println!(
        "capped rate limiter: spray of {KEYS} keys, {} held, {refused} refused, {:.1} MB RSS growth",
        capped.len(),
        (rss_bytes() - before) as f64 / 1e6
    );

    const NONCES: usize = 100_000;
    let nonces = InMemoryNonces::new(NONCES);
    let before = rss_bytes();
    for i in 0..NONCES {
        nonces.check_and_insert_now("key-id", &format!("{i:032x}"), u64::MAX, 0);
    }
    println!(
        "nonce store: {} nonces, {:.0} bytes per nonce (RSS growth)",
        nonces.len(),
        (rss_bytes() - before) as f64 / nonces.len() as f64
    );

    const TOKENS: usize = 100_000;
    let issuer = JwtIssuer::hs256(
        secure_endpoint_bench::SECRET,
        "i",
        "a",
        Duration::from_secs(3600),
    )
    .unwrap();
    let tokens: Vec<String> = (0..TOKENS)
        .map(|i| issuer.issue(&format!("user-{i:08}"), &["user".to_owned()], &[]))
        .collect();
    let avg_len = tokens.iter().map(String::len).sum::<usize>() / TOKENS;
    let verifier = JwtVerifier::hs256(secure_endpoint_bench::SECRET)
        .unwrap()
        .issuer("i")
        .audience("a")
        .token_cache(TOKENS)
        .build()
        .unwrap();
    let before = rss_bytes();
    for t in &tokens {
        verifier.verify(t).unwrap();
    }
    let per_token = (rss_bytes() - before) as f64 / verifier.cached_tokens() as f64;
    println!(
        "token cache: {} tokens of {avg_len} bytes, {per_token:.0} bytes per cached token (RSS growth)",
        verifier.cached_tokens()
    );
}
