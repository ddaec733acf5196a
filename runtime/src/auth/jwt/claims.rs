//! The token's segments and claims, parsed strictly: canonical base64url, JSON objects without
//! duplicate members, NumericDates, claim paths and string arrays, the DPoP binding.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

use super::super::strict_json;

/// RFC 9449 §6.1: the `jkt` member of `cnf`, the thumbprint of the DPoP key the token is bound
/// to (43 base64url characters: a SHA-256). `Some(None)` for an unbound token; `None` (refused)
/// when `cnf` is not an object or `jkt` not a thumbprint.
pub(super) fn dpop_jkt(claims: &Map<String, Value>) -> Option<Option<Box<str>>> {
    let Some(cnf) = claims.get("cnf") else {
        return Some(None);
    };
    match cnf.as_object()?.get("jkt") {
        None => Some(None),
        Some(Value::String(jkt))
            if jkt.len() == 43
                && jkt
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Some(Some(jkt.as_str().into()))
        }
        Some(_) => None,
    }
}

/// A base64url segment (no padding, canonical) holding one JSON object without duplicate
/// members.
pub(super) fn decode_object(segment: &str) -> Option<Map<String, Value>> {
    if segment.is_empty() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    strict_json::object(&bytes)
}

/// `typ`/`cty` comparison (RFC 7515 §4.1.9): case-insensitive, `application/` optional.
pub(super) fn media_type_eq(value: &str, expected: &str) -> bool {
    let strip = |s: &str| -> String {
        let lower = s.to_ascii_lowercase();
        lower
            .strip_prefix("application/")
            .map(str::to_owned)
            .unwrap_or(lower)
    };
    strip(value) == strip(expected)
}

/// A NumericDate: a non-negative number of seconds (fractions dropped).
pub(super) fn numeric_date(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
                .map(|f| f as u64)
        }),
        _ => None,
    }
}

/// A claim by name, or by a dotted path into nested objects (`realm_access.roles`).
pub(super) fn claim_path<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(path) {
        return Some(value);
    }
    let mut parts = path.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// An array of strings; anything else refuses the token.
pub(super) fn string_array(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}
