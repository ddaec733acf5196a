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

use std::time::Duration;

mod extract;
mod form;
mod graphql;
mod keys;
mod limit;
mod media;
mod paths;
mod read;

pub use extract::{Json, Query};
pub use form::{check_form_fields, Form};
pub use graphql::{graphql_operations, GRAPHQL_FIELDS};
pub use keys::{check_fields, check_paths, MAX_JSON_DEPTH};
pub(crate) use limit::{read_limited, refuse_body};
pub(crate) use read::{drain, read_declared, read_json};

use keys::{shown, KeyName, KeyOutcome};

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

/// How long an extractor waits for a body nothing read before (the builder's default
/// [`body_timeout`](crate::SecurityBuilder::body_timeout)).
const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests;
