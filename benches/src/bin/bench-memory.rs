//! `bench-memory`: bytes held per rate-limiter key and per cached token, measured as the growth
//! of the process's resident memory (`/proc/self/statm`) while filling each structure.

use std::time::Duration;

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
