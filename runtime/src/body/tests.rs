//! Unit tests of the body checks (the allowlist, GraphQL bodies) and of the extractors' read.

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use http::request::Parts;
use http::{header, StatusCode};
use http_body_util::BodyExt;

use super::*;

const FIELDS: &[&str] = &["name", "email"];

fn codes(body: &str) -> Result<(), (u16, &'static str, Vec<String>)> {
    check_fields(body.as_bytes(), FIELDS).map_err(|p| {
        (
            p.status().as_u16(),
            p.code(),
            p.errors().iter().map(|e| e.field.clone()).collect(),
        )
    })
}

#[test]
fn allowlist() {
    assert!(codes(r#"{"name":"a","email":"b"}"#).is_ok());
    assert!(codes(r#"{}"#).is_ok());
    assert!(codes(r#"{"name":{"nested":{"role":"admin"}}}"#).is_ok());
    assert_eq!(
        codes(r#"{"name":"a","role":"admin","isAdmin":true}"#).unwrap_err(),
        (422, "unknown_fields", vec!["role".into(), "isAdmin".into()])
    );
    assert_eq!(
        codes(r#"{"na\u006de":"a","ro\u006ce":1}"#).unwrap_err().2,
        vec!["role".to_string()]
    );
    assert_eq!(
        codes(r#"{"name":"a","name":"b"}"#).unwrap_err().1,
        "duplicate_field"
    );
    assert_eq!(codes(r#"[1,2]"#).unwrap_err().1, "invalid_body");
    assert_eq!(codes(r#""x""#).unwrap_err().1, "invalid_body");
    assert_eq!(
        codes(r#"{"name":"a"} trailing"#).unwrap_err().1,
        "malformed_json"
    );
    assert_eq!(codes(r#"{"name":"#).unwrap_err().1, "malformed_json");
    // Nesting is measured by a linear scan before anything is parsed: 64 levels pass,
    // deeper is a 400 of its own, however deep (no recursion, no stack).
    let nested = |n: usize| "[".repeat(n) + &"]".repeat(n);
    assert!(codes(&format!(r#"{{"name":{}}}"#, nested(63))).is_ok());
    for depth in [64, 10_000] {
        assert_eq!(
            codes(&format!(r#"{{"name":{}}}"#, nested(depth)))
                .unwrap_err()
                .1,
            "json_too_deep"
        );
    }
    // Brackets inside strings do not count.
    let in_string = format!(r#"{{"name":"{}"}}"#, "[".repeat(1000));
    assert!(codes(&in_string).is_ok());
}

#[test]
fn unknown_names_are_bounded() {
    let body: String = format!(
        "{{{}}}",
        (0..100)
            .map(|i| format!(r#""{}{i}":0"#, "k".repeat(200)))
            .collect::<Vec<_>>()
            .join(",")
    );
    let err = codes(&body).unwrap_err();
    assert_eq!(err.2.len(), MAX_LISTED);
    assert!(err.2.iter().all(|n| n.len() <= 64));
}

/// A request whose body never ends, as a slow client's that stops sending.
fn pending_request(content_type: &str) -> Request {
    // One byte, then a wait for trailers that never come.
    let body = Body::new(Body::from("{").with_trailers(std::future::pending()));
    Request::builder()
        .method("POST")
        .uri("/")
        .header(header::CONTENT_TYPE, content_type)
        .header(header::TRANSFER_ENCODING, "chunked")
        .body(body)
        .unwrap()
}

/// The extractors' read of a body nothing read before used to have no timeout: a client that
/// stopped sending held the handler for ever. It now goes through the one limited read, so
/// it ends with 408 `body_timeout` as the pipeline's reads do.
#[tokio::test]
async fn a_body_an_extractor_reads_that_never_ends_times_out() {
    let timeout = Duration::from_millis(50);
    for (content_type, media) in [
        (
            "application/json",
            media::require_json_type as fn(&Parts) -> _,
        ),
        (
            "application/x-www-form-urlencoded",
            media::require_form_type,
        ),
    ] {
        let (parts, body) = pending_request(content_type).into_parts();
        let read = extract::read_extracted_within(&parts, body, media, timeout);
        let outcome = tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .expect("the read ends by its own timeout");
        let problem = outcome.unwrap_err();
        assert_eq!(problem.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(problem.code(), "body_timeout");
    }
}

/// The extractors wait as long as the builder's default `body_timeout`.
#[test]
fn the_extractors_wait_the_default_body_timeout() {
    let security = crate::config::Security::builder().build();
    assert_eq!(DEFAULT_BODY_TIMEOUT, security.engine.body_timeout);
}

mod properties {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::super::check_fields;

    const ALLOWED: [&str; 3] = ["name", "email", "tags"];

    /// Keys: the allowed ones, near misses (case, spacing, escapes), and others.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(ALLOWED.to_vec()).prop_map(str::to_owned),
            prop::sample::select(vec![
                "Name",
                "name ",
                "e-mail",
                "role",
                "is_admin",
                "__proto__",
                ""
            ])
            .prop_map(str::to_owned),
            "[a-z_]{1,8}",
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..4)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    proptest! {
        /// Accepted exactly when every top-level key is allowed (values, at any depth, are the
        /// typed deserializer's business); never a panic.
        #[test]
        fn accepts_exactly_the_allowlisted_objects(
            members in prop::collection::vec((key(), value()), 0..6)
        ) {
            let object: Map<String, Value> = members.into_iter().collect();
            let all_allowed = object.keys().all(|k| ALLOWED.contains(&k.as_str()));
            let body = serde_json::to_vec(&Value::Object(object)).unwrap();
            prop_assert_eq!(check_fields(&body, &ALLOWED).is_ok(), all_allowed);
        }

        /// Arbitrary bytes: a problem or an acceptance, never a panic; accepted bytes are a
        /// JSON object whose keys are all allowed.
        #[test]
        fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
            if check_fields(&body, &ALLOWED).is_ok() {
                let parsed: Map<String, Value> = serde_json::from_slice(&body).unwrap();
                prop_assert!(parsed.keys().all(|k| ALLOWED.contains(&k.as_str())));
            }
        }
    }
}

mod graphql_body_tests {
    use super::super::*;

    #[test]
    fn a_graphql_object_is_one_operation_and_a_batch_counts_its_requests() {
        assert_eq!(
            graphql_operations(br#"{"query":"{ me { id } }"}"#).unwrap(),
            1
        );
        let batch = format!("[{}]", vec![r#"{"query":"{a}"}"#; 50].join(","));
        assert_eq!(graphql_operations(batch.as_bytes()).unwrap(), 50);
        assert_eq!(
            graphql_operations(
                br#" [ {"query":"{a}","variables":{"x":[1]},"operationName":null} ]"#
            )
            .unwrap(),
            1
        );
    }

    #[test]
    fn a_graphql_body_outside_the_shape_is_refused() {
        let code = |body: &[u8]| graphql_operations(body).unwrap_err().code();
        assert_eq!(code(br#"{"query":"{a}","admin":true}"#), "unknown_fields");
        assert_eq!(
            code(br#"[{"query":"{a}"},{"query":"{a}","x":1}]"#),
            "unknown_fields"
        );
        assert_eq!(
            code(br#"[{"query":"{a}","query":"{b}"}]"#),
            "duplicate_field"
        );
        assert_eq!(code(br#"[{"query":"{a}"}, 1]"#), "invalid_body");
        assert_eq!(code(br#"[[{"query":"{a}"}]]"#), "invalid_body");
        assert_eq!(code(b"[]"), "invalid_body");
        assert_eq!(code(br#"[{"query":"{a}"}"#), "malformed_json");
        assert_eq!(code(br#"[{"query":"{a}"}] x"#), "malformed_json");
    }
}
