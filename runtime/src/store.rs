//! What the pluggable stores share: the future a store answers with, its error, and what to do
//! when a shared store is out.
//!
//! The embedded stores (governor in memory, [`InMemoryNonces`](crate::auth::hmac::InMemoryNonces),
//! [`InMemoryApiKeys`](crate::auth::api_key::InMemoryApiKeys)) answer at once, without
//! allocating: a [`StoreFuture::ready`]. A shared store (Redis, with the `redis` feature)
//! answers with a boxed future.
//!
//! `distinct` holds the in-memory table of distinct counts and cool-downs that the embedded
//! rate store answers the abuse detectors with (public as
//! [`abuse::DistinctTable`](crate::abuse::DistinctTable)).

pub(crate) mod distinct;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The answer of a store: ready at once (in memory) or after I/O (a shared store).
#[must_use = "a store future does nothing unless awaited"]
pub struct StoreFuture<'a, T>(Inner<'a, T>);

enum Inner<'a, T> {
    Ready(Option<T>),
    Pending(Pin<Box<dyn Future<Output = T> + Send + 'a>>),
}

impl<'a, T> StoreFuture<'a, T> {
    /// An answer known now.
    #[inline]
    pub fn ready(value: T) -> Self {
        StoreFuture(Inner::Ready(Some(value)))
    }

    /// An answer that needs I/O.
    pub fn pending(future: impl Future<Output = T> + Send + 'a) -> Self {
        StoreFuture(Inner::Pending(Box::pin(future)))
    }
}

impl<T: Unpin> Future for StoreFuture<'_, T> {
    type Output = T;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match &mut self.get_mut().0 {
            Inner::Ready(value) => Poll::Ready(
                value
                    .take()
                    .expect("a StoreFuture is not polled after it completed"),
            ),
            Inner::Pending(future) => future.as_mut().poll(cx),
        }
    }
}

impl<T> fmt::Debug for StoreFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Inner::Ready(_) => "StoreFuture::Ready",
            Inner::Pending(_) => "StoreFuture::Pending",
        })
    }
}

/// A shared store could not answer. Its `Display` says what kind of failure it was, never
/// the store's address or credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    kind: StoreErrorKind,
}

/// What went wrong with a shared store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// No connection (refused, reset, not yet re-established).
    Unreachable,
    /// No answer within the configured time.
    Timeout,
    /// The store answered something unexpected (an error reply, a wrong type).
    Protocol,
}

impl StoreError {
    /// An error of `kind`.
    pub fn new(kind: StoreErrorKind) -> Self {
        StoreError { kind }
    }

    /// What went wrong.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            StoreErrorKind::Unreachable => "the shared store is unreachable",
            StoreErrorKind::Timeout => "the shared store did not answer in time",
            StoreErrorKind::Protocol => "the shared store answered unexpectedly",
        })
    }
}

impl std::error::Error for StoreError {}

/// What a rate limit does while its shared store cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Outage {
    /// Refuse the request: 503 problem+json with `Retry-After` (the default). A limit that
    /// cannot be counted is not enforced by letting everything through.
    #[default]
    FailClosed,
    /// Decide with this instance's own in-memory limiter, as if it ran alone: the limit is
    /// then per instance until the store is back.
    FallBackToLocal,
}

/// The 503 for a request that needed a shared store which could not answer.
pub(crate) fn unavailable() -> crate::problem::Problem {
    crate::problem::Problem::new(http::StatusCode::SERVICE_UNAVAILABLE)
        .with_code("store_unavailable")
        .with_detail("The service cannot check this request right now. Retry later.")
        .with_header(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("1"),
        )
}

/// Logs the first failure of an outage and the recovery after it, as security events on
/// [`events::TARGET`](crate::events::TARGET), once each rather than once per request.
#[derive(Debug, Default)]
pub(crate) struct Health {
    down: std::sync::atomic::AtomicBool,
}

impl Health {
    pub(crate) fn failed(&self, store: &'static str, error: &StoreError) {
        if !self.down.swap(true, std::sync::atomic::Ordering::Relaxed) {
            tracing::error!(
                target: crate::events::TARGET,
                kind = "store_unavailable",
                store,
                error = %error,
                "shared store unavailable"
            );
        }
    }

    pub(crate) fn succeeded(&self, store: &'static str) {
        if self.down.load(std::sync::atomic::Ordering::Relaxed)
            && self.down.swap(false, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::warn!(
                target: crate::events::TARGET,
                kind = "store_recovered",
                store,
                "shared store available again"
            );
        }
    }
}
