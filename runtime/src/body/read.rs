//! Reading a declared body in the pipeline: JSON or a URL-encoded form under the allowlist
//! (paths allowed), and a body the endpoint does not read (`body = "ignored"`), drained. Each
//! whole body is read by [`read_limited`], the one limited read with its timeout.

use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::header;
use http::request::Parts;
use http_body_util::BodyExt;

use super::limit::{content_length, linger, read_limited, timed_out, too_large};
use super::{check_fields, check_paths, media};
use crate::policy::BodySpec;
use crate::problem::Problem;

/// Reads an allowlisted body as `spec` declares it: a URL-encoded form (`Form<T>`), checked by
/// [`super::check_form_fields`], or JSON, checked by [`super::check_fields`] or, when `fields` holds
/// paths, by [`check_paths`]. At most `limit` bytes.
pub(crate) async fn read_declared(
    parts: &Parts,
    body: Body,
    fields: &[&str],
    spec: &BodySpec,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, Problem> {
    if spec.form {
        media::require_form(parts)?;
        let bytes = read_limited(parts, body, limit, timeout).await?;
        super::check_form_fields(&bytes, fields)?;
        return Ok(bytes);
    }
    if !spec.nested {
        return read_allowlisted(parts, body, fields, limit, timeout).await;
    }
    let bytes = read_json(parts, body, limit, timeout).await?;
    check_paths(&bytes, fields)?;
    Ok(bytes)
}

/// `body = "ignored"`: reads and discards the body, whatever its media type, under `limit`
/// (413 past it, by `Content-Length` before reading or while reading, the rest then drained
/// as after any 413) and within `timeout` (408). Nothing is kept: the handler gets no body.
pub(crate) async fn drain(
    parts: &Parts,
    body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<(), Problem> {
    if content_length(parts).is_some_and(|len| len > limit as u64) {
        linger(parts, body, false);
        return Err(too_large(parts));
    }
    let no_body = content_length(parts) == Some(0)
        || (content_length(parts).is_none()
            && !parts.headers.contains_key(header::TRANSFER_ENCODING));
    if no_body {
        return Ok(());
    }
    let mut body = body;
    let read = async {
        let mut len = 0usize;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                return Err(None);
            };
            if let Some(data) = frame.data_ref() {
                len = len.saturating_add(data.len());
                if len > limit {
                    return Err(Some(()));
                }
            }
        }
        Ok(())
    };
    let outcome = tokio::time::timeout(timeout, read).await;
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(Some(()))) => {
            linger(parts, body, true);
            Err(too_large(parts))
        }
        Ok(Err(None)) => Err(Problem::bad_request("The request body could not be read.")),
        Err(_) => Err(timed_out()),
    }
}

/// Reads a JSON body of at most `limit` bytes and checks its top-level keys against `fields`.
async fn read_allowlisted(
    parts: &Parts,
    body: Body,
    fields: &[&str],
    limit: usize,
    timeout: Duration,
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
    timeout: Duration,
) -> Result<Bytes, Problem> {
    media::require_json(parts)?;
    read_limited(parts, body, limit, timeout).await
}
