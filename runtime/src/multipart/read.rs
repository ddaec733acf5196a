//! Reading a multipart body against its declared parts: the problems of the module docs.

use std::borrow::Cow;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::request::Parts;
use http::{header, StatusCode};

use super::extract::{MultipartForm, Part};
use super::sniff::{sanitize_file_name, sniff};
use crate::policy::part::PartSpec;
use crate::problem::{FieldError, Problem};

/// At most this many characters of a part name the client sent are shown in a problem.
const SHOWN_NAME: usize = 64;

/// The media type of a text part.
const TEXT_PLAIN: &str = "text/plain";

/// Reads the body of `parts` (at most `limit` bytes, within `timeout`) as the multipart form
/// `spec` declares; the validated form, or the problem that refuses it.
pub(crate) async fn read_form(
    parts: &Parts,
    body: Body,
    spec: &'static [PartSpec],
    limit: usize,
    timeout: Duration,
) -> Result<MultipartForm, Problem> {
    let boundary = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok())
        .ok_or_else(|| {
            unsupported(
                "not_multipart",
                "The request body must be multipart/form-data with a boundary.",
            )
        })?;
    let compressed = parts
        .headers
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .any(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
    if compressed {
        return Err(unsupported(
            "compressed_body",
            "The request body must not be compressed (no Content-Encoding).",
        ));
    }
    let bytes = crate::body::read_limited(parts, body, limit, timeout).await?;
    parse_form(bytes, &boundary, spec, limit).await
}

/// Parses `bytes`, a multipart body with `boundary`, as the form `spec` declares, the whole
/// at most `limit` bytes. Public for tests and fuzzing; the pipeline calls it through the
/// endpoint's contract.
pub async fn parse_form(
    bytes: Bytes,
    boundary: &str,
    spec: &'static [PartSpec],
    limit: usize,
) -> Result<MultipartForm, Problem> {
    let mut sizes = multer::SizeLimit::new().whole_stream(limit as u64);
    for part in spec {
        sizes = sizes.for_field(part.name, part.max as u64);
    }
    let stream = Body::from(bytes).into_data_stream();
    let mut multipart = multer::Multipart::with_constraints(
        stream,
        boundary,
        multer::Constraints::new().size_limit(sizes),
    );
    let mut received: Vec<Part> = Vec::with_capacity(spec.len());
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return Err(malformed(&error)),
        };
        let Some(name) = field.name() else {
            return Err(part_problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unnamed_part",
                "Every part of the body needs a name.",
                "",
                "part without a name",
            ));
        };
        let Some(declared) = spec.iter().find(|p| p.name == name) else {
            return Err(part_problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_part",
                "The body contains a part this endpoint does not accept.",
                name,
                "part not allowed",
            ));
        };
        if received.iter().any(|p| p.name == declared.name) {
            return Err(part_problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "too_many_parts",
                "A part appears more than once: each declared part is accepted once.",
                name,
                "part sent more than once",
            ));
        }
        let claimed = field
            .content_type()
            .map(|m| m.essence_str().to_ascii_lowercase());
        let file_name = field.file_name().and_then(sanitize_file_name);
        let data = match field.bytes().await {
            Ok(data) => data,
            Err(multer::Error::FieldSizeExceeded { .. }) => {
                return Err(part_problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "part_too_large",
                    "A part of the body is larger than this endpoint accepts.",
                    declared.name,
                    "part too large",
                ))
            }
            Err(error) => return Err(malformed(&error)),
        };
        received.push(check_content(
            declared,
            claimed.as_deref(),
            data,
            file_name,
        )?);
    }
    let missing: Vec<FieldError> = spec
        .iter()
        .filter(|p| !p.optional && !received.iter().any(|r| r.name == p.name))
        .map(|p| FieldError {
            field: p.name.to_owned(),
            message: "part missing".into(),
        })
        .collect();
    if !missing.is_empty() {
        return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
            .with_code("missing_parts")
            .with_detail("The body lacks a part this endpoint requires.")
            .with_errors(missing));
    }
    Ok(MultipartForm::new(received))
}

/// A file part's sniffed type against its allowlist and its declared type; a text part's
/// encoding and declared type.
fn check_content(
    declared: &PartSpec,
    claimed: Option<&str>,
    data: Bytes,
    file_name: Option<String>,
) -> Result<Part, Problem> {
    let name = declared.name;
    if !declared.is_file() {
        if claimed.is_some_and(|c| c != TEXT_PLAIN) {
            return Err(part_problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "content_type_not_allowed",
                "A text part must be text/plain.",
                name,
                "text part with another content type",
            ));
        }
        if std::str::from_utf8(&data).is_err() {
            return Err(part_problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_text",
                "A text part is not valid UTF-8.",
                name,
                "not UTF-8 text",
            ));
        }
        return Ok(Part {
            name,
            content_type: TEXT_PLAIN,
            bytes: data,
            file_name,
            text: true,
        });
    }
    let Some(sniffed) = sniff(&data).filter(|t| declared.types.contains(t)) else {
        return Err(part_problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type_not_allowed",
            "A part's content is not of a type this endpoint accepts.",
            name,
            "content not of an allowed type",
        ));
    };
    if claimed != Some(sniffed) {
        return Err(part_problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type_mismatch",
            "A part's declared Content-Type does not match its content.",
            name,
            "declared type differs from the content",
        ));
    }
    Ok(Part {
        name,
        content_type: sniffed,
        bytes: data,
        file_name,
        text: false,
    })
}

fn unsupported(code: &'static str, detail: &'static str) -> Problem {
    Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        .with_code(code)
        .with_detail(detail)
}

/// A refusal naming the part (at most [`SHOWN_NAME`] characters of it).
fn part_problem(
    status: StatusCode,
    code: &'static str,
    detail: &'static str,
    part: &str,
    message: &'static str,
) -> Problem {
    Problem::new(status)
        .with_code(code)
        .with_detail(detail)
        .with_errors(vec![FieldError {
            field: part.chars().take(SHOWN_NAME).collect(),
            message: Cow::Borrowed(message),
        }])
}

/// A body multer could not parse: 413 past the whole limit, else 400 (nothing of the parser's
/// message, which may quote the input).
fn malformed(error: &multer::Error) -> Problem {
    match error {
        multer::Error::StreamSizeExceeded { .. } => Problem::new(StatusCode::PAYLOAD_TOO_LARGE)
            .with_detail("The request body is too large."),
        _ => Problem::bad_request("The request body is not a well-formed multipart form.")
            .with_code("malformed_multipart"),
    }
}
