//! A GraphQL body: one request object or a batch, each with only the keys GraphQL over HTTP
//! defines, checked as [`check_fields`] checks an object.

use std::fmt;

use http::StatusCode;
use serde::de::{self, Visitor};

use super::keys::{key_problem, nested_deeper_than, KeyCheck, KeyOutcome};
use super::{check_fields, MAX_JSON_DEPTH};
use crate::problem::Problem;

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
