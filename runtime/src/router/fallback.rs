//! What the secure router answers when no endpoint does: 404, 405, CORS preflights, and a
//! user's fallback, each after the perimeter checks and the per-IP limit.

use std::sync::Arc;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::observe::observe_with;
use crate::config::Engine;
use crate::events::{EventContext, EventKind};
use crate::extract::RequestId;
use crate::problem::Problem;
use crate::rate::RateSubject;

/// The 404 of an unrouted path: a middleware around axum's default fallback, which it never
/// calls (see [`SecureRouter::into_router`]).
pub(super) async fn not_found(
    axum::extract::State(engine): axum::extract::State<Arc<Engine>>,
    req: Request,
    _default: axum::middleware::Next,
) -> Response {
    fallback(&engine, req, StatusCode::NOT_FOUND).await
}

/// Around a user's [`SecureRouter::fallback`]: the perimeter checks and the per-IP limit
/// first, then the handler, its answer finished like every other.
pub(super) async fn guard_fallback(
    axum::extract::State(engine): axum::extract::State<Arc<Engine>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    answer(&engine, req, StatusCode::NOT_FOUND, Some(next)).await
}

/// The answer of a fallback (404, or 405 to which axum adds `Allow`), after the perimeter
/// checks and the per-IP limit, so probing unknown routes and methods is limited like any
/// other request. With CORS configured, a preflight to a routed path (which reaches the 405
/// fallback: no endpoint takes `OPTIONS`) is answered here, after the same checks.
pub(super) async fn fallback(engine: &Arc<Engine>, req: Request, status: StatusCode) -> Response {
    answer(engine, req, status, None).await
}

/// [`fallback`], or with `next` the user's fallback handler in place of the 404 problem.
async fn answer(
    engine: &Arc<Engine>,
    req: Request,
    status: StatusCode,
    next: Option<axum::middleware::Next>,
) -> Response {
    let (parts, body) = req.into_parts();
    let (client, mut refused) = match engine.perimeter.client(&parts) {
        Ok(client) => (Some(client), engine.perimeter.check(&parts, &client).err()),
        Err(problem) => (None, Some(problem)),
    };
    if let (None, Some(limiter), Some(client)) = (&refused, &engine.ip_limiter, &client) {
        refused = limiter.check(RateSubject::Network(client.key)).await.err();
    }
    // A preflight to a routed path reaches the 405 fallback: no endpoint takes `OPTIONS`.
    let preflight = engine
        .cors
        .as_ref()
        .filter(|_| status == StatusCode::METHOD_NOT_ALLOWED && crate::cors::is_preflight(&parts));
    let route = match (
        preflight,
        parts.extensions.get::<axum::extract::MatchedPath>(),
    ) {
        (Some(_), Some(path)) => path.as_str(),
        _ => "(unrouted)",
    };
    let observed = engine.observer.observing().then(|| {
        let mut ctx = EventContext::of(&parts.method, &parts.headers, route);
        ctx.client_ip = client.map(|c| c.ip);
        Box::new((ctx, engine.observer.clone()))
    });
    let request_id = RequestId::from_request(&parts.headers);
    let mut cors_refused = false;
    let response = match (refused, preflight, next) {
        (Some(problem), _, _) => problem.into_response(),
        (None, Some(cors), _) => {
            let (response, allowed) = cors.preflight(&parts).await;
            cors_refused = !allowed;
            response
        }
        (None, None, Some(next)) => next.run(Request::from_parts(parts, body)).await,
        (None, None, None) => match status {
            StatusCode::NOT_FOUND => Problem::new(status).with_detail("No such route."),
            _ => Problem::new(status),
        }
        .into_response(),
    };
    observe_with(
        observed,
        response,
        None,
        &request_id,
        engine.problem_renderer.as_ref(),
        |event| {
            if cors_refused {
                // Answered (the browser enforces CORS), and recorded as refused.
                event.kind = EventKind::CorsRejected;
                event.outcome = "denied".to_owned();
                event.reason = Some("origin_not_allowed".to_owned());
            }
        },
    )
}
