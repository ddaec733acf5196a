//! The request body: size limit, media type, the field allowlist (checked before
//! deserialization), and validated `Json`/`Query` extractors built on garde.
//!
//! # A body over the limit: 413, then a lingering close
//!
//! A body is refused with 413 as soon as it is known to be too large: by its `Content-Length`
//! before anything is read, or once a chunked body passes the limit while it is read (and any
//! body on an endpoint that declares no `fields`). Closing the connection at that moment, with
//! the client still sending, makes the client's kernel see a reset, and a client that writes
//! its whole body before it reads (many do) never reads the 413: it sees a broken pipe, or over
//! TLS an unexpected EOF. So on HTTP/1 the 413 is sent with `Connection: close` at once, and the
//! rest of the body is then read and discarded, as nginx's lingering close does, by a task of
//! its own: at most [`LINGER_MAX_BYTES`] bytes and for at most [`LINGER_MAX_TIME`], after which
//! the connection is closed whatever the client still sends. A request with
//! `Expect: 100-continue` whose body was not asked for yet is not drained: the client has not
//! sent it, and the 413 tells it not to. On HTTP/2 a stream is reset on its own without
//! closing the connection, so nothing is drained there.

use std::fmt;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::request::Parts;
use http::{header, HeaderValue, StatusCode};
use http_body_util::BodyExt;
use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde::Serialize;

use crate::problem::{FieldError, Problem};

mod form;
mod paths;
mod read;

pub use form::{check_form_fields, Form};
pub(crate) use read::{drain, read_declared};

/// Default largest body an endpoint accepts: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// At most this many unknown field names are listed in a 422 (and each is cut to 64 chars).
const MAX_LISTED: usize = 16;

/// The most bytes of a refused body read and discarded after its 413 (see the module
/// documentation): 4 MiB, enough for a client that writes a body of a few megabytes before it
/// reads; a larger body is cut off once this much of it is read.
pub const LINGER_MAX_BYTES: usize = 4 * 1024 * 1024;

/// The longest a refused body is read and discarded after its 413: 5 seconds in all (nginx
/// waits up to 5 s for each read, `lingering_timeout`, and 30 s in all, `lingering_time`; a
/// shorter total here, since the drain holds a task). A client still sending after that is
/// disconnected.
pub const LINGER_MAX_TIME: Duration = Duration::from_secs(5);

/// The 413 for `parts`: with `Connection: close` on HTTP/1, since the connection is closed
/// once the rest of the body is drained.
fn too_large(parts: &Parts) -> Problem {
    let problem =
        Problem::new(StatusCode::PAYLOAD_TOO_LARGE).with_detail("The request body is too large.");
    if parts.version <= http::Version::HTTP_11 {
        problem.with_header(header::CONNECTION, HeaderValue::from_static("close"))
    } else {
        problem
    }
}

/// Hands the unread rest of a refused `body` to a task that reads and discards it, up to
/// [`LINGER_MAX_BYTES`] and [`LINGER_MAX_TIME`], and then drops it (which closes the
/// connection): the 413 is answered meanwhile, and reaches a client that is still sending.
/// `started`: some of the body was read already (so a `100 Continue` went out, if asked for).
fn linger(parts: &Parts, body: Body, started: bool) {
    let expects_continue = parts
        .headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if parts.version > http::Version::HTTP_11 || (expects_continue && !started) {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let mut body = body;
        let mut drained = 0usize;
        let drain = async {
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(data) = frame.data_ref() {
                    drained = drained.saturating_add(data.len());
                    if drained >= LINGER_MAX_BYTES {
                        break;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(LINGER_MAX_TIME, drain).await;
    });
}

/// Why a body was not collected.
enum Uncollected {
    /// It passed the limit; the rest is unread.
    TooLarge(Body),
    /// The connection failed or the body was malformed.
    Unreadable,
}

/// The whole `body`, or the body itself (partly read) once it passes `limit` bytes. A body in
/// one frame is not copied.
async fn collect_limited(mut body: Body, limit: usize) -> Result<Bytes, Uncollected> {
    let mut first: Option<Bytes> = None;
    let mut rest = bytes::BytesMut::new();
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(Uncollected::Unreadable);
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        len = len.saturating_add(data.len());
        if len > limit {
            return Err(Uncollected::TooLarge(body));
        }
        match first.take() {
            None if rest.is_empty() => first = Some(data),
            earlier => {
                if let Some(earlier) = earlier {
                    rest.extend_from_slice(&earlier);
                }
                rest.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| rest.freeze()))
}

/// `true` for `application/json` and `application/*+json`, parameters allowed.
fn is_json(parts: &Parts) -> bool {
    let Some(ct) = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or("").trim();
    let Some((ty, sub)) = essence.split_once('/') else {
        return false;
    };
    ty.eq_ignore_ascii_case("application")
        && (sub.eq_ignore_ascii_case("json")
            || sub.len() > 5 && sub[sub.len() - 5..].eq_ignore_ascii_case("+json"))
}

/// `true` without `Content-Encoding` or with `identity`: bodies are not decompressed here.
fn is_identity_encoded(parts: &Parts) -> bool {
    parts
        .headers
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .all(|v| v.as_bytes().eq_ignore_ascii_case(b"identity"))
}

/// Declared `Content-Length`, if any and valid.
fn content_length(parts: &Parts) -> Option<u64> {
    parts
        .headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Refuses any body on an endpoint that declares no `fields` (413, draining what was sent: see
/// the module documentation); hands `body` on otherwise.
pub(crate) fn refuse_body(parts: &Parts, body: Body) -> Result<Body, Problem> {
    let chunked = parts.headers.contains_key(header::TRANSFER_ENCODING);
    match content_length(parts) {
        Some(0) | None if !chunked => Ok(body),
        _ => {
            linger(parts, body, false);
            Err(too_large(parts).with_detail("This endpoint accepts no request body."))
        }
    }
}

/// Reads a JSON body of at most `limit` bytes and checks its top-level keys against `fields`.
pub(crate) async fn read_allowlisted(
    parts: &Parts,
    body: Body,
    fields: &[&str],
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, Problem> {
    let bytes = read_json(parts, body, limit, timeout).await?;
    check_fields(&bytes, fields)?;
    Ok(bytes)
}

/// Reads a JSON body (by media type, not compressed) of at most `limit` bytes, unchecked.
pub(crate) async fn read_json(
    parts: &Parts,
    body: Body,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, Problem> {
    if !is_json(parts) {
        return Err(Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE)
            .with_detail("The request body must be JSON (Content-Type: application/json)."));
    }
    if !is_identity_encoded(parts) {
        return Err(Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE)
            .with_detail("The request body must not be compressed (no Content-Encoding)."));
    }
    read_limited(parts, body, limit, timeout).await
}

/// The whole body, refused with 413 once it passes `limit` bytes (by `Content-Length` before
/// reading, or while reading a chunked body), the rest then drained (see the module
/// documentation).
pub(crate) async fn read_limited(
    parts: &Parts,
    body: Body,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, Problem> {
    if content_length(parts).is_some_and(|len| len > limit as u64) {
        linger(parts, body, false);
        return Err(too_large(parts));
    }
    match tokio::time::timeout(timeout, collect_limited(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(Uncollected::TooLarge(rest))) => {
            linger(parts, rest, true);
            Err(too_large(parts))
        }
        Ok(Err(Uncollected::Unreadable)) => {
            Err(Problem::bad_request("The request body could not be read."))
        }
        Err(_) => Err(Problem::new(StatusCode::REQUEST_TIMEOUT)
            .with_code("body_timeout")
            .with_detail("The request body was not received in time.")),
    }
}

/// Deepest nesting of arrays and objects accepted in a JSON body.
pub const MAX_JSON_DEPTH: usize = 64;

/// `true` if arrays and objects nest deeper than `max` (a linear scan, no recursion).
fn nested_deeper_than(body: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Checks that `body` is one JSON object whose keys are all in `fields`, each at most once.
/// Values are skipped without being stored; nothing from them is ever echoed.
pub fn check_fields(body: &[u8], fields: &[&str]) -> Result<(), Problem> {
    // JSON is UTF-8 (RFC 8259 §8.1). Skipped values are not decoded by the scan below, so
    // invalid UTF-8 inside one would pass it (found by fuzzing): check the whole body first.
    if std::str::from_utf8(body).is_err() {
        return Err(
            Problem::bad_request("The request body is not valid JSON.").with_code("malformed_json")
        );
    }
    if nested_deeper_than(body, MAX_JSON_DEPTH) {
        return Err(
            Problem::bad_request("The request body nests too deeply.").with_code("json_too_deep")
        );
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let outcome = de::Deserializer::deserialize_any(&mut de, KeyCheck { fields })
        .and_then(|outcome| de.end().map(|()| outcome));
    key_problem(outcome)
}

/// Checks that `body` is one JSON object that holds only what `fields` allows, where a field
/// may be a path: `"user.email"` (the key `email` of the object under `user`) or
/// `"items[].sku"` (the key `sku` of each object in the array under `items`). Every level a
/// path names is checked before anything is deserialized; an unknown key is named by its full
/// path (`user.role`, `items[2].price`), never its value; a key may appear once at any depth;
/// a value the paths go into must be an object (an array for `[]`) or `null`. Without paths it
/// accepts exactly what [`check_fields`] accepts.
pub fn check_paths(body: &[u8], fields: &[&str]) -> Result<(), Problem> {
    if std::str::from_utf8(body).is_err() {
        return Err(
            Problem::bad_request("The request body is not valid JSON.").with_code("malformed_json")
        );
    }
    if nested_deeper_than(body, MAX_JSON_DEPTH) {
        return Err(
            Problem::bad_request("The request body nests too deeply.").with_code("json_too_deep")
        );
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let outcome = paths::check(&mut de, fields).and_then(|outcome| de.end().map(|()| outcome));
    key_problem(outcome)
}

/// The keys a GraphQL request object may carry (GraphQL over HTTP).
pub const GRAPHQL_FIELDS: &[&str] = &["query", "operationName", "variables", "extensions"];

/// Checks a GraphQL body, one request object or a batch (a non-empty array of them), each
/// with only [`GRAPHQL_FIELDS`], as [`check_fields`] checks an object; returns the number of
/// operations (1 for an object).
pub fn graphql_operations(body: &[u8]) -> Result<usize, Problem> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'[') {
        return check_fields(body, GRAPHQL_FIELDS).map(|()| 1);
    }
    if std::str::from_utf8(body).is_err() || nested_deeper_than(body, MAX_JSON_DEPTH) {
        return check_fields(body, GRAPHQL_FIELDS).map(|()| 1);
    }
    struct Batch;
    impl<'de> Visitor<'de> for Batch {
        type Value = (usize, KeyOutcome);
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a batch of GraphQL requests")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let (mut n, mut first_bad) = (0usize, None);
            while let Some(outcome) = seq.next_element_seed(Batch)? {
                n += 1;
                if first_bad.is_none() && !matches!(outcome, (_, KeyOutcome::Ok)) {
                    first_bad = Some(outcome.1);
                }
            }
            Ok((n, first_bad.unwrap_or(KeyOutcome::Ok)))
        }
    }
    impl<'de> de::DeserializeSeed<'de> for Batch {
        type Value = (usize, KeyOutcome);
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(KeyCheck {
                fields: GRAPHQL_FIELDS,
            })
            .map(|outcome| (1, outcome))
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let outcome = de::Deserializer::deserialize_seq(&mut de, Batch)
        .and_then(|outcome| de.end().map(|()| outcome));
    let n = outcome.as_ref().map_or(0, |(n, _)| *n);
    key_problem(outcome.map(|(_, outcome)| outcome))?;
    if n == 0 {
        return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
            .with_code("invalid_body")
            .with_detail("A GraphQL batch must hold at least one request."));
    }
    Ok(n)
}

/// The problem for a key check's outcome, if any.
fn key_problem(outcome: Result<KeyOutcome, serde_json::Error>) -> Result<(), Problem> {
    match outcome {
        Ok(KeyOutcome::Ok) => Ok(()),
        Ok(KeyOutcome::NotAnObject) => Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
            .with_code("invalid_body")
            .with_detail("The request body must be a JSON object.")),
        Ok(KeyOutcome::Duplicate(name)) => Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
            .with_code("duplicate_field")
            .with_detail("A field appears more than once in the request body.")
            .with_errors(vec![FieldError {
                field: name,
                message: "duplicate field".into(),
            }])),
        Ok(KeyOutcome::Shape(path, expected)) => {
            Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
                .with_code("invalid_body")
                .with_detail("The request body does not have the expected shape.")
                .with_errors(vec![FieldError {
                    field: path,
                    message: expected.into(),
                }]))
        }
        Ok(KeyOutcome::Unknown(names)) => Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
            .with_code("unknown_fields")
            .with_detail("The request body contains fields this endpoint does not accept.")
            .with_errors(
                names
                    .into_iter()
                    .map(|field| FieldError {
                        field,
                        message: "field not allowed".into(),
                    })
                    .collect(),
            )),
        Err(_) => {
            Err(Problem::bad_request("The request body is not valid JSON.")
                .with_code("malformed_json"))
        }
    }
}

enum KeyOutcome {
    Ok,
    NotAnObject,
    Duplicate(String),
    Unknown(Vec<String>),
    /// A value a nested path goes into is not an object (or array): its path, what it needs.
    Shape(String, &'static str),
}

struct KeyCheck<'f> {
    fields: &'f [&'f str],
}

fn shown(name: &str) -> String {
    name.chars().take(64).collect()
}

impl<'de> Visitor<'de> for KeyCheck<'_> {
    type Value = KeyOutcome;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyOutcome, A::Error> {
        let mut seen: u64 = 0;
        let mut unknown: Vec<String> = Vec::new();
        let mut duplicate: Option<String> = None;
        while let Some(key) = map.next_key::<KeyName<'de>>()? {
            let key = key.as_str();
            match self.fields.iter().position(|f| *f == key) {
                Some(i) if i < 64 => {
                    let bit = 1u64 << i;
                    if seen & bit != 0 && duplicate.is_none() {
                        duplicate = Some(shown(key));
                    }
                    seen |= bit;
                }
                Some(_) => {}
                None => {
                    if unknown.len() < MAX_LISTED && !unknown.iter().any(|u| u == key) {
                        unknown.push(shown(key));
                    }
                }
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(if !unknown.is_empty() {
            KeyOutcome::Unknown(unknown)
        } else if let Some(d) = duplicate {
            KeyOutcome::Duplicate(d)
        } else {
            KeyOutcome::Ok
        })
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<KeyOutcome, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(KeyOutcome::NotAnObject)
    }

    fn visit_bool<E>(self, _: bool) -> Result<KeyOutcome, E> {
        Ok(KeyOutcome::NotAnObject)
    }
    fn visit_i64<E>(self, _: i64) -> Result<KeyOutcome, E> {
        Ok(KeyOutcome::NotAnObject)
    }
    fn visit_u64<E>(self, _: u64) -> Result<KeyOutcome, E> {
        Ok(KeyOutcome::NotAnObject)
    }
    fn visit_f64<E>(self, _: f64) -> Result<KeyOutcome, E> {
        Ok(KeyOutcome::NotAnObject)
    }
    fn visit_str<E>(self, _: &str) -> Result<KeyOutcome, E> {
        Ok(KeyOutcome::NotAnObject)
    }
    fn visit_unit<E>(self) -> Result<KeyOutcome, E> {
        Ok(KeyOutcome::NotAnObject)
    }
}

/// A key, borrowed from the input when it has no escapes.
enum KeyName<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl KeyName<'_> {
    fn as_str(&self) -> &str {
        match self {
            KeyName::Borrowed(s) => s,
            KeyName::Owned(s) => s,
        }
    }
}

impl<'de> de::Deserialize<'de> for KeyName<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyName<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<KeyName<'de>, E> {
                Ok(KeyName::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyName<'de>, E> {
                Ok(KeyName::Owned(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<KeyName<'de>, E> {
                Ok(KeyName::Owned(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// Turns a garde report into field errors (paths and messages, never values).
fn garde_errors(report: garde::Report) -> Vec<FieldError> {
    report
        .iter()
        .map(|(path, error)| FieldError {
            field: {
                let p = path.to_string();
                if p.is_empty() {
                    "(body)".to_owned()
                } else {
                    p
                }
            },
            message: error.message().to_string().into(),
        })
        .collect()
}

/// A JSON body, deserialized after the allowlist check and validated with garde.
///
/// Rejections are problem+json: 415 for a non-JSON media type, 400 for malformed JSON, 422 for
/// a body of the wrong shape (no serde message is echoed: it can quote values) or one that
/// fails validation (field paths and garde's messages). Also a response type: `Json(value)`
/// serializes `value` as `application/json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned + garde::Validate,
    T::Context: Default,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, _: &S) -> Result<Self, Problem> {
        let (parts, body) = req.into_parts();
        // The limit the pipeline read an allowlisted body under, so the same applies here.
        let limit = parts
            .extensions
            .get::<crate::pipeline::RequestContext>()
            .and_then(|c| c.body_limit)
            .unwrap_or(DEFAULT_BODY_LIMIT);
        if !is_json(&parts) {
            return Err(Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE)
                .with_detail("The request body must be JSON (Content-Type: application/json)."));
        }
        if content_length(&parts).is_some_and(|len| len > limit as u64) {
            linger(&parts, body, false);
            return Err(too_large(&parts));
        }
        let bytes = match collect_limited(body, limit).await {
            Ok(bytes) => bytes,
            Err(Uncollected::TooLarge(rest)) => {
                linger(&parts, rest, true);
                return Err(too_large(&parts));
            }
            Err(Uncollected::Unreadable) => {
                return Err(Problem::bad_request("The request body could not be read."))
            }
        };
        let value: T = serde_json::from_slice(&bytes).map_err(|err| {
            if err.is_data() {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
                    .with_code("invalid_body")
                    .with_detail("The request body does not have the expected shape.")
            } else {
                Problem::bad_request("The request body is not valid JSON.")
                    .with_code("malformed_json")
            }
        })?;
        value
            .validate_with(&T::Context::default())
            .map_err(|report| {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
                    .with_code("validation_failed")
                    .with_detail("The request body failed validation.")
                    .with_errors(garde_errors(report))
            })?;
        Ok(Json(value))
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                bytes,
            )
                .into_response(),
            Err(_) => Problem::internal().into_response(),
        }
    }
}

/// A query string, deserialized and validated with garde: 400 when it does not parse into
/// `T`, 422 when it fails validation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned + garde::Validate,
    T::Context: Default,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or_default();
        let value: T = serde_urlencoded::from_str(query).map_err(|_| {
            Problem::bad_request("The query string is not valid for this endpoint.")
                .with_code("invalid_query")
        })?;
        value
            .validate_with(&T::Context::default())
            .map_err(|report| {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
                    .with_code("validation_failed")
                    .with_detail("The query string failed validation.")
                    .with_errors(garde_errors(report))
            })?;
        Ok(Query(value))
    }
}

#[cfg(test)]
mod tests {
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
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::check_fields;

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

#[cfg(test)]
mod graphql_body_tests {
    use super::*;

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
