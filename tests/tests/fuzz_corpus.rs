//! Replays the fuzz corpora (fuzz/corpus/<target>, seeds and every input a fuzzing run kept,
//! crash reproducers included) through the same checks as the fuzz targets, on stable Rust,
//! in the normal test suite. FUZZING.md says how the corpora were grown.

use std::path::PathBuf;
use std::sync::Arc;

use secure_endpoint::hmac::{HmacClient, HmacVerifier, InMemoryHmacKeys};
use secure_endpoint::jwt::{JwtKey, JwtVerifier};
use secure_endpoint::perimeter::IpNet;
use secure_endpoint::policy::LifecycleDate;
use secure_endpoint::request_body::check_fields;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus {} is missing: {e}", dir.display()))
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    assert!(!inputs.is_empty(), "empty corpus {}", dir.display());
    inputs.sort();
    inputs
}

#[test]
fn allowlist_corpus() {
    const ALLOWED: [&str; 3] = ["name", "email", "tags"];
    for data in corpus("allowlist") {
        if check_fields(&data, &ALLOWED).is_ok() {
            // Keys only: values are the typed deserializer's business.
            let parsed: std::collections::BTreeMap<String, serde::de::IgnoredAny> =
                serde_json::from_slice(&data).expect("accepted bodies are JSON objects");
            assert!(parsed.keys().all(|k| ALLOWED.contains(&k.as_str())));
        }
    }
}

#[test]
fn jwt_corpus() {
    let verifier = JwtVerifier::hs256(b"fuzzing secret, at least 32 bytes long")
        .unwrap()
        .key(
            JwtKey::hs256(b"a second fuzzing secret, 32+ bytes")
                .unwrap()
                .kid("k2"),
        )
        .issuer("iss")
        .audience("aud")
        .token_cache(0)
        .build()
        .unwrap();
    for data in corpus("jwt") {
        assert!(verifier.verify(&String::from_utf8_lossy(&data)).is_err());
    }
}

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

#[test]
fn hmac_header_corpus() {
    let keys = InMemoryHmacKeys::new();
    keys.insert(
        "client-1",
        HmacClient::new("client", b"fuzzing secret, at least 32 bytes long").unwrap(),
    );
    let verifier = HmacVerifier::new(Arc::new(keys));
    for data in corpus("hmac_header") {
        let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
        let (target, header) = data.split_at(split);
        let target = String::from_utf8_lossy(target);
        let uri = http::Uri::try_from(format!("/{}", target.trim_start_matches('/')))
            .unwrap_or_else(|_| http::Uri::from_static("/"));
        let Ok(value) = http::HeaderValue::from_bytes(header) else {
            continue;
        };
        let (parts, ()) = http::Request::builder()
            .method("POST")
            .uri(uri)
            .header(http::header::AUTHORIZATION, value)
            .body(())
            .unwrap()
            .into_parts();
        if let Ok(pending) = verifier.begin(&parts, 1_764_000_000) {
            assert!(ready(pending.finish(header)).is_err());
        }
    }
}

#[test]
fn networks_and_dates_corpus() {
    for data in corpus("networks_and_dates") {
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        if let Ok(net) = text.parse::<IpNet>() {
            let _ = net.contains("10.1.2.3".parse().unwrap());
            let _ = net.contains("2001:db8::1".parse().unwrap());
        }
        if let Some(date) = LifecycleDate::parse(text) {
            assert_eq!(date.to_string(), text);
            assert_eq!(date.unix % 86_400, 0);
            let _ = date.http_date();
        }
    }
}

/// Runs `replay` with rustc's stack for macros (8 MiB), not a test thread's 2 MiB: the macro
/// corpus holds deeply nested items, and this is a debug build.
fn with_rustc_stack(replay: impl FnOnce() + Send + 'static) {
    let thread = std::thread::Builder::new().stack_size(8 << 20);
    if let Err(panic) = thread.spawn(replay).unwrap().join() {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn macro_attribute_corpus() {
    with_rustc_stack(|| {
        for data in corpus("macro_attribute") {
            secure_endpoint_macros_harness::attribute(&data);
        }
    });
}

#[test]
fn macro_values_corpus() {
    for data in corpus("macro_values") {
        secure_endpoint_macros_harness::values(&data);
    }
}

/// Nesting deep enough to overflow the compiler's stack under a recursive parser (the fuzzer's
/// finding: about 800 levels) is refused with a compile error, on a test thread's 2 MiB stack:
/// the macros count the depth without recursion before parsing. Bodies are not parsed, so
/// their depth is not limited; legitimate nesting (and `<<` in discriminants) is accepted.
#[test]
fn deep_nesting_is_a_compile_error_not_a_stack_overflow() {
    use secure_endpoint_macros_harness::{attribute, compile_errors};
    // Arguments, a signature's type (brackets, then generics), a SafeResponse field.
    let cases = |deep: usize| {
        let parens = format!("{}1{}", "(".repeat(deep), ")".repeat(deep));
        let generics = format!("{}u8{}", "Option<".repeat(deep), ">".repeat(deep));
        [
            (
                format!("auth = \"none\", rate = {parens}"),
                "async fn h() {}".to_owned(),
            ),
            (
                "auth = \"none\"".to_owned(),
                format!("async fn h(x: [{parens}; 1]) {{}}"),
            ),
            (
                "auth = \"none\"".to_owned(),
                format!("async fn h() -> {generics} {{ todo!() }}"),
            ),
            (String::new(), format!("struct View {{ a: {generics} }}")),
        ]
    };
    for (args, item) in cases(5_000) {
        let (attribute_errors, derive_errors) = compile_errors(&args, &item);
        let errors = if item.starts_with("struct") {
            derive_errors
        } else {
            attribute_errors
        };
        assert!(
            errors
                .iter()
                .any(|e| e.contains("nested more than 64 levels")),
            "{errors:?}"
        );
    }
    // Just past the limit, the fuzz oracle's properties hold as well (an error, nothing
    // routable, no panic). The oracle re-parses its input with syn, recursively: not at 5 000,
    // and with rustc's stack, as the corpus replays.
    with_rustc_stack(move || {
        for (args, item) in cases(65) {
            attribute(format!("{args}\n{item}").as_bytes());
        }
    });

    // A body nested this deep is the compiler's business, not the macro's: it expands.
    let body = format!(
        "async fn h() -> u8 {{ {}1{} }}",
        "(".repeat(5_000),
        ")".repeat(5_000)
    );
    let (errors, _) = compile_errors("auth = \"none\"", &body);
    assert!(errors.is_empty(), "{errors:?}");

    // Legitimate nesting and shift operators are not mistaken for depth.
    let (errors, _) = compile_errors(
        "auth = \"none\"",
        "async fn h(x: Option<Vec<HashMap<String, Vec<(u8, [u16; 4])>>>>) -> Json<View> { todo!() }",
    );
    assert!(errors.is_empty(), "{errors:?}");
    let variants: String = (0..100)
        .map(|i| format!("V{i} = 1 << {},", i % 30))
        .collect();
    let (_, errors) = compile_errors("", &format!("enum Flags {{ {variants} }}"));
    assert!(errors.is_empty(), "{errors:?}");
}
