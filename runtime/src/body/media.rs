//! Media types a body is read as, and the 415 for any other: JSON (`application/json`,
//! `application/*+json`) or a URL-encoded form, never compressed (bodies are not decompressed
//! here, so a compressed body could not be checked against the allowlist).

use http::request::Parts;
use http::{header, StatusCode};

use crate::problem::Problem;

/// A JSON body (`Json<T>`, `fields`), not compressed: 415 otherwise.
pub(super) fn require_json(parts: &Parts) -> Result<(), Problem> {
    require_json_type(parts)?;
    require_identity(parts)
}

/// A URL-encoded form body (`Form<T>`), not compressed: 415 otherwise.
pub(super) fn require_form(parts: &Parts) -> Result<(), Problem> {
    require_form_type(parts)?;
    require_identity(parts)
}

/// 415 unless the media type is JSON (the encoding unchecked).
pub(super) fn require_json_type(parts: &Parts) -> Result<(), Problem> {
    if is_json(parts) {
        return Ok(());
    }
    Err(Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        .with_detail("The request body must be JSON (Content-Type: application/json)."))
}

/// 415 unless the media type is a URL-encoded form (the encoding unchecked).
pub(super) fn require_form_type(parts: &Parts) -> Result<(), Problem> {
    if is_form(parts) {
        return Ok(());
    }
    Err(
        Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE).with_detail(
            "The request body must be a form (Content-Type: application/x-www-form-urlencoded).",
        ),
    )
}

/// 415 for a compressed body.
fn require_identity(parts: &Parts) -> Result<(), Problem> {
    if is_identity_encoded(parts) {
        return Ok(());
    }
    Err(Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        .with_detail("The request body must not be compressed (no Content-Encoding)."))
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

/// `true` for `application/x-www-form-urlencoded`, parameters allowed.
fn is_form(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}
