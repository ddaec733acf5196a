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

/// `PendingHmac::finish` is async (the nonce store may be shared); with the in-memory store
/// it is ready on its first poll.
fn ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("the in-memory nonce store answers at once"),
    }
}

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
        assert!(
            ready(pending.finish(header)).is_err(),
            "an unsigned request was admitted"
        );
    }
});
