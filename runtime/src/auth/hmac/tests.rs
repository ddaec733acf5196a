//! Unit tests of HMAC request signing: the header, the window, replays, the published example.

use std::time::{SystemTime, UNIX_EPOCH};

use super::*;

use std::future::Future as _;

/// The in-memory nonce store answers at once: the future is ready on its first poll.
trait FinishNow {
    fn finish_now(self, body: &[u8]) -> Result<Principal, AuthFailure>;
}

impl FinishNow for PendingHmac {
    fn finish_now(self, body: &[u8]) -> Result<Principal, AuthFailure> {
        let mut future = std::pin::pin!(self.finish(body));
        match future
            .as_mut()
            .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
        {
            std::task::Poll::Ready(result) => result,
            std::task::Poll::Pending => panic!("the in-memory store answers at once"),
        }
    }
}

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const KEY_ID: &str = "demo-webhooks";
const NONCE: &str = "4f9c2b7e1d3a4c5b8e6f7a9b0c1d2e3f";
const TS: u64 = 1_764_000_000;
const URI: &str = "/api/webhooks/github?delivery=42";
const BODY: &[u8] = br#"{"event":"push","data":{"ref":"main"}}"#;

fn verifier() -> HmacVerifier {
    let keys = InMemoryHmacKeys::new();
    keys.insert(
        KEY_ID,
        HmacClient::new("github", SECRET)
            .unwrap()
            .roles(["webhook"])
            .scopes(["hooks:write"]),
    );
    HmacVerifier::new(Arc::new(keys))
}

fn parts(method: &str, uri: &str, authorization: &[&str]) -> Parts {
    let mut b = http::Request::builder().method(method).uri(uri);
    for value in authorization {
        b = b.header(http::header::AUTHORIZATION, *value);
    }
    b.body(()).unwrap().into_parts().0
}

fn signed(method: &str, uri: &str, body: &[u8], ts: u64, nonce: &str) -> String {
    HmacSigner::new(KEY_ID, SECRET).sign_at(method, uri, body, ts, nonce)
}

/// Runs steps 1–5 on a request.
fn check(
    v: &HmacVerifier,
    method: &str,
    uri: &str,
    header: &str,
    body: &[u8],
    now: u64,
) -> Result<Principal, AuthFailure> {
    v.begin(&parts(method, uri, &[header]), now)?
        .finish_now(body)
}

fn header_with(replace: &str, with: &str) -> String {
    let h = signed("POST", URI, BODY, TS, NONCE);
    assert!(h.contains(replace));
    h.replace(replace, with)
}

#[test]
fn test_vector_from_docs() {
    let canonical = canonical_request(
        KEY_ID,
        TS,
        NONCE,
        "POST",
        "/api/webhooks/github",
        "delivery=42",
        BODY,
    );
    assert_eq!(
        canonical,
        "HMAC-SHA256\n\
         demo-webhooks\n\
         1764000000\n\
         4f9c2b7e1d3a4c5b8e6f7a9b0c1d2e3f\n\
         POST\n\
         /api/webhooks/github\n\
         delivery=42\n\
         bc4925be3f454290c518710384a267f0fe192ef7fb0fe951b6058e0497183395"
    );
    assert_eq!(
        signed("POST", URI, BODY, TS, NONCE),
        "HMAC-SHA256 keyId=\"demo-webhooks\", timestamp=\"1764000000\", \
         nonce=\"4f9c2b7e1d3a4c5b8e6f7a9b0c1d2e3f\", \
         signature=\"46be6fff7077f1abb9d7cef0fa26c576f655de2bad99057b3d2466f71910cfa1\""
    );
    assert_eq!(
        canonical_request(KEY_ID, TS, NONCE, "GET", "/x", "", b"")
            .lines()
            .last(),
        Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        "no body hashes the empty string"
    );
}

#[test]
fn signed_request_verifies() {
    let v = verifier();
    let header = signed("POST", URI, BODY, TS, NONCE);
    let pending = v.begin(&parts("POST", URI, &[&header]), TS + 10).unwrap();
    let debug = format!("{pending:?}");
    assert!(!debug.contains(NONCE) && !debug.contains("46be6fff"));
    let p = pending.finish_now(BODY).unwrap();
    assert_eq!((p.subject(), p.scheme()), ("github", AuthScheme::Hmac));
    assert!(p.has_role("webhook") && p.has_scope("hooks:write"));

    // No query, no body, lowercase scheme and extra spaces and tabs around parameters.
    let header = signed("GET", "/status", b"", TS, "abcdefghijklmnop")
        .replace("HMAC-SHA256 ", "hmac-sha256 \t ")
        .replace(", ", " ,\t");
    let p = check(&v, "GET", "/status", &header, b"", TS).unwrap();
    assert_eq!(p.subject(), "github");

    // The path is signed as sent, percent-encoded.
    let uri = "/a%20b/c?x=%2F&y";
    let header = signed("PUT", uri, b"x", TS, "nonce-with_chars-0123");
    assert!(check(&v, "PUT", uri, &header, b"x", TS).is_ok());
}

#[test]
fn signed_request_with_random_nonce_and_clock_verifies() {
    let v = verifier();
    let header = HmacSigner::new(KEY_ID, SECRET).sign("POST", URI, BODY);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(check(&v, "POST", URI, &header, BODY, now).is_ok());
    let a = HmacSigner::new(KEY_ID, SECRET).sign("GET", "/", b"");
    let b = HmacSigner::new(KEY_ID, SECRET).sign("GET", "/", b"");
    assert_ne!(a, b, "each signature has its own nonce");
}

#[test]
fn tampering_is_refused() {
    let v = verifier();
    let header = signed("POST", URI, BODY, TS, NONCE);
    let mut body = BODY.to_vec();
    body[10] ^= 1;
    let cases: [(&str, &str, &[u8]); 6] = [
        ("POST", URI, &body),
        ("PUT", URI, BODY),
        ("POST", "/api/webhooks/gitlab?delivery=42", BODY),
        ("POST", "/api/webhooks/github?delivery=43", BODY),
        ("POST", "/api/webhooks/github?delivery=42&x=1", BODY),
        ("POST", "/api/webhooks/github", BODY),
    ];
    for (method, uri, body) in cases {
        assert_eq!(
            check(&v, method, uri, &header, body, TS).unwrap_err(),
            AuthFailure::Invalid,
            "{method} {uri}"
        );
    }
    // A query added to a request signed without one.
    let header = signed("POST", "/api/webhooks/github", BODY, TS, NONCE);
    assert_eq!(
        check(&v, "POST", URI, &header, BODY, TS).unwrap_err(),
        AuthFailure::Invalid
    );
    // None of the refused attempts used up the nonce.
    assert!(check(&v, "POST", "/api/webhooks/github", &header, BODY, TS).is_ok());
}

#[test]
fn timestamp_outside_the_window_is_refused() {
    let v = verifier();
    let header = signed("POST", URI, BODY, TS, NONCE);
    let begin = |now| v.begin(&parts("POST", URI, &[&header]), now).map(|_| ());
    assert_eq!(begin(TS + 301).unwrap_err(), AuthFailure::Invalid, "past");
    assert_eq!(begin(TS - 301).unwrap_err(), AuthFailure::Invalid, "future");
    assert!(begin(TS + 300).is_ok() && begin(TS - 300).is_ok());

    let v = verifier().window(Duration::from_secs(30));
    let begin = |now| v.begin(&parts("POST", URI, &[&header]), now).map(|_| ());
    assert_eq!(begin(TS + 31).unwrap_err(), AuthFailure::Invalid);
    assert!(begin(TS + 30).is_ok());
}

#[test]
fn replayed_nonce_is_refused() {
    let v = verifier();
    let header = signed("POST", URI, BODY, TS, NONCE);
    assert!(check(&v, "POST", URI, &header, BODY, TS).is_ok());
    assert_eq!(
        check(&v, "POST", URI, &header, BODY, TS + 5).unwrap_err(),
        AuthFailure::Invalid
    );
    // A clone shares the nonce store.
    assert_eq!(
        check(&v.clone(), "POST", URI, &header, BODY, TS).unwrap_err(),
        AuthFailure::Invalid
    );
    // The same nonce under another key id is another pair.
    let keys = InMemoryHmacKeys::new();
    keys.insert(KEY_ID, HmacClient::new("a", SECRET).unwrap());
    keys.insert("other", HmacClient::new("b", SECRET).unwrap());
    let v = HmacVerifier::new(Arc::new(keys));
    let other = HmacSigner::new("other", SECRET).sign_at("POST", URI, BODY, TS, NONCE);
    assert!(check(&v, "POST", URI, &header, BODY, TS).is_ok());
    assert!(check(&v, "POST", URI, &other, BODY, TS).is_ok());
}

#[test]
fn malformed_signatures_are_refused() {
    let v = verifier();
    let sig = "46be6fff7077f1abb9d7cef0fa26c576f655de2bad99057b3d2466f71910cfa1";
    for header in [
        header_with(sig, &sig[..62]),
        header_with(sig, &sig[..32]),
        header_with(sig, &sig.to_uppercase()),
        header_with(sig, &format!("{sig}00")),
        header_with(sig, ""),
    ] {
        assert_eq!(
            check(&v, "POST", URI, &header, BODY, TS).unwrap_err(),
            AuthFailure::Invalid,
            "{header}"
        );
    }
}

#[test]
fn unknown_key_and_wrong_secret_are_refused() {
    let v = verifier();
    let unknown = HmacSigner::new("nobody", SECRET).sign_at("POST", URI, BODY, TS, NONCE);
    assert_eq!(
        v.begin(&parts("POST", URI, &[&unknown]), TS).unwrap_err(),
        AuthFailure::Invalid
    );
    let wrong = HmacSigner::new(KEY_ID, b"fedcba9876543210fedcba9876543210")
        .sign_at("POST", URI, BODY, TS, NONCE);
    assert_eq!(
        check(&v, "POST", URI, &wrong, BODY, TS).unwrap_err(),
        AuthFailure::Invalid
    );
}

#[test]
fn malformed_headers_are_refused() {
    let v = verifier();
    let good = signed("POST", URI, BODY, TS, NONCE);
    let (_, params) = good.split_once(' ').unwrap();
    let cases = [
        format!("{good}, nonce=\"{NONCE}\""),
        format!("{good}, keyId=\"{KEY_ID}\""),
        format!("{good}, realm=\"api\""),
        good.replace(&format!(", nonce=\"{NONCE}\""), ""),
        good.replace("keyId=\"demo-webhooks\", ", ""),
        good.replace("timestamp=\"1764000000\"", "timestamp=1764000000"),
        good.replace("keyId=", "keyid="),
        good.replace("keyId=", "keyId ="),
        good.replace("timestamp=\"1764000000\"", "timestamp=\"01764000000\""),
        good.replace("timestamp=\"1764000000\"", "timestamp=\"1764000000000\""),
        good.replace("timestamp=\"1764000000\"", "timestamp=\"+1764000000\""),
        good.replace(NONCE, "short"),
        good.replace(NONCE, &"a".repeat(65)),
        good.replace(NONCE, "4f9c2b7e1d3a4c5b.8e6f7a9b0c1d2e3f"),
        good.replace(KEY_ID, ""),
        good.replace(KEY_ID, &"k".repeat(65)),
        good.replace(KEY_ID, "demo webhooks"),
        format!("{good},"),
        SCHEME.to_string(),
        format!("{SCHEME} "),
        format!("{SCHEME} {params} {params}"),
    ];
    for header in &cases {
        assert_eq!(
            v.begin(&parts("POST", URI, &[header]), TS).unwrap_err(),
            AuthFailure::Invalid,
            "{header}"
        );
    }
    // Two Authorization headers, even if one is good.
    assert_eq!(
        v.begin(&parts("POST", URI, &[&good, &good]), TS)
            .unwrap_err(),
        AuthFailure::Invalid
    );
    assert!(v.begin(&parts("POST", URI, &[&good]), TS).is_ok());
}

#[test]
fn other_schemes_are_missing() {
    let v = verifier();
    for header in ["Bearer abc.def.ghi", "Basic dXNlcjpwYXNz", "HMAC realm", ""] {
        assert_eq!(
            v.begin(&parts("POST", URI, &[header]), TS).unwrap_err(),
            AuthFailure::Missing,
            "{header}"
        );
    }
    assert_eq!(
        v.begin(&parts("POST", URI, &[]), TS).unwrap_err(),
        AuthFailure::Missing
    );
}

/// A spray of a million fresh nonces, all within their window, at a store of the default
/// capacity: it holds at most its capacity and refuses the rest (fail closed); once they
/// expire, the space is reused.
#[test]
fn a_million_nonce_spray_stays_within_capacity() {
    let store = InMemoryNonces::new(DEFAULT_NONCE_CAPACITY);
    let mut full = 0u32;
    for i in 0..1_000_000u32 {
        match store.check_and_insert_now("k", &format!("{i:032x}"), 1_000, 10) {
            NonceOutcome::Fresh => {}
            NonceOutcome::Full => full += 1,
            NonceOutcome::Replayed => panic!("a new nonce counted as a replay"),
        }
    }
    assert_eq!(store.len(), DEFAULT_NONCE_CAPACITY);
    assert_eq!(full as usize, 1_000_000 - DEFAULT_NONCE_CAPACITY);
    assert_eq!(
        store.check_and_insert_now("k", "late", 2_000, 1_000),
        NonceOutcome::Fresh,
        "expired entries are swept when the store is full"
    );
    assert_eq!(store.len(), 1);
}

#[test]
fn nonce_store_expires_and_fails_closed() {
    let store = InMemoryNonces::new(2);
    assert!(store.is_empty());
    assert_eq!(
        store.check_and_insert_now("k", "n1", 100, 10),
        NonceOutcome::Fresh
    );
    assert_eq!(
        store.check_and_insert_now("k", "n1", 100, 99),
        NonceOutcome::Replayed
    );
    assert_eq!(
        store.check_and_insert_now("j", "n1", 100, 10),
        NonceOutcome::Fresh
    );
    assert_eq!(store.len(), 2);
    // Full of live entries: refused, and nothing forgotten.
    assert_eq!(
        store.check_and_insert_now("k", "n2", 100, 50),
        NonceOutcome::Full
    );
    assert_eq!(
        store.check_and_insert_now("k", "n1", 100, 50),
        NonceOutcome::Replayed
    );
    // At `expires_at` the entries are expired: swept to make room, and a seen pair is new.
    assert_eq!(
        store.check_and_insert_now("k", "n2", 300, 100),
        NonceOutcome::Fresh
    );
    assert_eq!(store.len(), 1);
    assert_eq!(
        store.check_and_insert_now("k", "n1", 300, 100),
        NonceOutcome::Fresh
    );
    assert_eq!(
        store.check_and_insert_now("k", "n1", 300, 200),
        NonceOutcome::Replayed
    );
    // `key_id ‖ 0x00 ‖ nonce`: the split between them matters.
    assert_ne!(nonce_key("ab", "c"), nonce_key("a", "bc"));
    assert_eq!(
        InMemoryNonces::new(0).check_and_insert_now("k", "n", 1, 0),
        NonceOutcome::Full
    );
}

#[test]
fn full_nonce_store_refuses_requests() {
    let v = verifier().nonce_store(Arc::new(InMemoryNonces::new(1)));
    let first = signed("POST", URI, BODY, TS, NONCE);
    let second = signed("POST", URI, BODY, TS, "0000000000000000");
    assert!(check(&v, "POST", URI, &first, BODY, TS).is_ok());
    assert_eq!(
        check(&v, "POST", URI, &second, BODY, TS).unwrap_err(),
        AuthFailure::Invalid
    );
    // Once the first nonce has left the window (timestamp + 300 + 1), there is room.
    let third = signed("POST", URI, BODY, TS + 301, "1111111111111111");
    assert!(check(&v, "POST", URI, &third, BODY, TS + 301).is_ok());
}

#[test]
fn short_secret_is_refused() {
    assert!(HmacClient::new("x", &SECRET[..31]).is_err());
    assert!(HmacClient::new("x", SECRET).is_ok());
}

#[test]
fn debug_never_shows_secrets() {
    let secret = "0123456789abcdef0123456789abcdef";
    let client = HmacClient::new("github", secret.as_bytes()).unwrap();
    let signer = HmacSigner::new(KEY_ID, secret.as_bytes());
    let keys = InMemoryHmacKeys::new();
    keys.insert(KEY_ID, client.clone());
    let verifier = HmacVerifier::new(Arc::new(keys));
    for debug in [
        format!("{client:?}"),
        format!("{signer:?}"),
        format!("{verifier:?}"),
        format!("{client:#?}{signer:#?}{verifier:#?}"),
    ] {
        assert!(!debug.contains(secret), "{debug}");
        assert!(!debug.contains("0123456789"), "{debug}");
        assert!(!debug.contains("[48, 49"), "{debug}");
    }
    assert!(format!("{client:?}").contains("github"));
    assert!(format!("{signer:?}").contains(KEY_ID));
}

mod properties {
    use proptest::prelude::*;

    use super::super::{parse_authorization, HmacSigner};

    proptest! {
        /// Any `Authorization` bytes: parsed or refused, never a panic.
        #[test]
        fn arbitrary_headers_never_panic(value in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_authorization(&value);
        }

        /// Headers close to valid ones (parameters shuffled, duplicated, cut): never a panic.
        #[test]
        fn near_valid_headers_never_panic(cut in 0usize..200, extra in "[ ,=\"a-zA-Z0-9]{0,40}") {
            let signed = HmacSigner::new("client-1", b"0123456789abcdef0123456789abcdef")
                .sign_at("POST", "/x?y=1", b"{}", 1_764_000_000, "0123456789abcdef0123");
            let mut value = signed.into_bytes();
            value.truncate(cut.min(value.len()));
            value.extend_from_slice(extra.as_bytes());
            let _ = parse_authorization(&value);
        }
    }
}
