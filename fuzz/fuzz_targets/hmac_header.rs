//! HMAC `Authorization` parsing and canonicalization: any header value on any target is parsed
//! or refused, never a panic; nothing unsigned is admitted.
#![no_main]

use std::sync::{Arc, LazyLock};

use libfuzzer_sys::fuzz_target;
use secure_endpoint::hmac::{HmacClient, HmacVerifier, InMemoryHmacKeys};

static VERIFIER: LazyLock<HmacVerifier> = LazyLock::new(|| {
    let keys = InMemoryHmacKeys::new();
    keys.insert(
        "client-1",
        HmacClient::new("client", b"fuzzing secret, at least 32 bytes long").unwrap(),
    );
    HmacVerifier::new(Arc::new(keys))
});

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let (target, header) = data.split_at(split);
    let target = String::from_utf8_lossy(target);
    let uri = http::Uri::try_from(format!("/{}", target.trim_start_matches('/')))
        .unwrap_or_else(|_| http::Uri::from_static("/"));
    let Ok(value) = http::HeaderValue::from_bytes(header) else {
        return;
    };
    let (parts, ()) = http::Request::builder()
        .method("POST")
        .uri(uri)
        .header(http::header::AUTHORIZATION, value)
        .body(())
        .unwrap()
        .into_parts();
    if let Ok(pending) = VERIFIER.begin(&parts, 1_764_000_000) {
        assert!(pending.finish(header).is_err(), "an unsigned request was admitted");
    }
});
