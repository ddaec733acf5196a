//! The one limited read of a request body: 413 past the limit (by `Content-Length` before
//! anything is read, or while reading), the rest then drained by a lingering close (see the
//! [module documentation](super)), 408 past the timeout, 400 for a body that cannot be read.
//! Every body the crate reads whole goes through [`read_limited`].

use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::request::Parts;
use http::{header, HeaderValue, StatusCode};
use http_body_util::BodyExt;

use super::{LINGER_MAX_BYTES, LINGER_MAX_TIME};
use crate::problem::Problem;

/// The 413 for `parts`: with `Connection: close` on HTTP/1, since the connection is closed
/// once the rest of the body is drained.
pub(super) fn too_large(parts: &Parts) -> Problem {
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
pub(super) fn linger(parts: &Parts, body: Body, started: bool) {
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

/// Declared `Content-Length`, if any and valid.
pub(super) fn content_length(parts: &Parts) -> Option<u64> {
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

/// The whole body, refused with 413 once it passes `limit` bytes (by `Content-Length` before
/// reading, or while reading a chunked body), the rest then drained (see the module
/// documentation), and with 408 when it is not all received within `timeout`.
pub(crate) async fn read_limited(
    parts: &Parts,
    body: Body,
    limit: usize,
    timeout: Duration,
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
        Err(_) => Err(timed_out()),
    }
}

/// The 408 for a body not received within the timeout.
pub(super) fn timed_out() -> Problem {
    Problem::new(StatusCode::REQUEST_TIMEOUT)
        .with_code("body_timeout")
        .with_detail("The request body was not received in time.")
}
