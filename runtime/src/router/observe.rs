//! The security event of a request the router answered: built from what the router and the
//! pipeline saw, dispatched to the observer once the response is finished.

use axum::response::Response;

use crate::events::{EventContext, Observer, SecurityEvent};
use crate::extract::RequestId;
use crate::pipeline::Seen;
use crate::problem::Renderer;
use crate::response::finish;

/// Finishes `response` and, when anyone listens, emits its security event (which may turn
/// the answer into a 503 when the audit trail cannot take the event).
pub(super) fn observe(
    observed: Option<Box<(EventContext, Observer)>>,
    response: Response,
    seen: Option<Seen>,
    request_id: &RequestId,
    renderer: Option<&Renderer>,
) -> Response {
    observe_with(observed, response, seen, request_id, renderer, |_| {})
}

/// [`observe`], with `adjust` applied to the event before it is dispatched.
#[inline]
pub(super) fn observe_with(
    observed: Option<Box<(EventContext, Observer)>>,
    response: Response,
    seen: Option<Seen>,
    request_id: &RequestId,
    renderer: Option<&Renderer>,
    adjust: impl FnOnce(&mut SecurityEvent),
) -> Response {
    let Some(observed) = observed else {
        return finish(response, request_id, renderer);
    };
    let (mut ctx, observer) = *observed;
    if let Some(seen) = seen {
        ctx.client_ip = seen.client_ip;
        ctx.principal = seen
            .principal
            .map(|p| (p.subject().to_owned(), p.scheme().as_str()));
        ctx.rate_fallback = seen.rate_fallback;
    }
    let response = finish(response, request_id, renderer);
    let mut event = ctx.event(&response, request_id.as_str());
    adjust(&mut event);
    match observer.dispatch(event) {
        None => response,
        Some(refused) => finish(refused, request_id, renderer),
    }
}
