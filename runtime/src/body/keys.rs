//! The allowlist of a JSON body, checked before anything is deserialized: the top-level keys
//! ([`check_fields`]) or the keys at every depth a path names ([`check_paths`]), each at most
//! once, with the nesting bounded first. Values are skipped, never stored or echoed.

use std::fmt;

use http::StatusCode;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};

use super::{paths, MAX_LISTED};
use crate::problem::{FieldError, Problem};

/// Deepest nesting of arrays and objects accepted in a JSON body.
pub const MAX_JSON_DEPTH: usize = 64;

/// `true` if arrays and objects nest deeper than `max` (a linear scan, no recursion).
pub(super) fn nested_deeper_than(body: &[u8], max: usize) -> bool {
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

/// The problem for a key check's outcome, if any.
pub(super) fn key_problem(outcome: Result<KeyOutcome, serde_json::Error>) -> Result<(), Problem> {
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

pub(super) enum KeyOutcome {
    Ok,
    NotAnObject,
    Duplicate(String),
    Unknown(Vec<String>),
    /// A value a nested path goes into is not an object (or array): its path, what it needs.
    Shape(String, &'static str),
}

pub(super) struct KeyCheck<'f> {
    pub(super) fields: &'f [&'f str],
}

pub(super) fn shown(name: &str) -> String {
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
pub(super) enum KeyName<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl KeyName<'_> {
    pub(super) fn as_str(&self) -> &str {
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
