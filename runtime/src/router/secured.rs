//! The route axum holds for one secured endpoint: a handler that is not generic over the
//! endpoint ([`SecuredRoute`]), its future ([`Guarded`]: panics and timeouts answered, the
//! response finished, the security event sent).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::Request;
use axum::handler::Handler;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode};

use super::fallback::fallback;
use super::observe::observe;
use crate::events::{EventContext, Observer};
use crate::extract::RequestId;
use crate::pipeline::{EndpointRuntime, Erased, Seen};
use crate::policy::{Authentication, EndpointPolicy};
use crate::problem::{Problem, Renderer};

/// The pipeline's answer, and what it learnt about the request for the security event.
type BoxedServe = Pin<Box<dyn Future<Output = (Response, Seen)> + Send>>;

/// Routes an endpoint's requests into its enforcing pipeline.
pub(super) struct SecuredRoute<S> {
    pub(super) runtime: Arc<EndpointRuntime>,
    pub(super) endpoint: Erased<S>,
}

impl<S> Clone for SecuredRoute<S> {
    fn clone(&self) -> Self {
        SecuredRoute {
            runtime: self.runtime.clone(),
            endpoint: self.endpoint,
        }
    }
}

#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct SecuredRouteMarker;

impl<S> Handler<SecuredRouteMarker, S> for SecuredRoute<S>
where
    S: Clone + Send + Sync + 'static,
{
    type Future = Guarded;

    fn call(self, req: Request, state: S) -> Guarded {
        let request_id = RequestId::from_request(req.headers());
        let handler = self.runtime.policy.handler;
        let timeout = self.runtime.engine.request_timeout;
        let renderer = self.runtime.engine.problem_renderer.clone();
        let (parts, body) = req.into_parts();
        if parts.method == Method::OPTIONS
            && self.runtime.engine.cors.is_some()
            && crate::cors::is_preflight(&parts)
        {
            // An `OPTIONS` endpoint: a CORS preflight is still the CORS policy's to answer,
            // after the same checks as on a path without one (see `fallback`).
            let engine = self.runtime.engine.clone();
            let req = Request::from_parts(parts, body);
            return Guarded {
                observed: None,
                inner: Box::pin(async move {
                    let response = fallback(&engine, req, StatusCode::METHOD_NOT_ALLOWED).await;
                    (response, Seen::default())
                }),
                request_id: Some(request_id),
                handler,
                timeout,
                deadline: None,
                renderer,
                finished: true,
            };
        }
        let observer = &self.runtime.engine.observer;
        let observed = observer.observing().then(|| {
            let mut ctx = EventContext::of(&parts.method, &parts.headers, &self.runtime.route);
            ctx.handler = Some(handler);
            ctx.policy = Some(policy_summary(self.runtime.policy));
            Box::new((ctx, observer.clone()))
        });
        Guarded {
            observed,
            inner: Box::pin(self.runtime.serve(
                self.endpoint,
                request_id.clone(),
                parts,
                body,
                state,
            )),
            request_id: Some(request_id),
            handler,
            timeout,
            deadline: None,
            renderer,
            finished: false,
        }
    }
}

/// The future of every secured route: polls the endpoint's pipeline, turns a panic anywhere
/// in it (a loader, an extractor, the handler) into a 500 problem so the connection is
/// answered and stays usable, and finishes the response. Not generic: compiled once.
#[doc(hidden)]
pub(crate) struct Guarded {
    inner: BoxedServe,
    request_id: Option<RequestId>,
    handler: &'static str,
    timeout: Option<std::time::Duration>,
    /// Armed only when the pipeline first has to wait: a request answered in one poll never
    /// touches the timer.
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The security event's context, when anyone listens for events.
    observed: Option<Box<(EventContext, Observer)>>,
    /// The application's error format, when configured.
    renderer: Option<Renderer>,
    /// `inner` finishes its response itself (a CORS preflight answered by the fallback).
    finished: bool,
}

impl Future for Guarded {
    type Output = Response;

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Response> {
        let this = &mut *self;
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            this.inner.as_mut().poll(cx)
        }));
        let (response, seen) = match polled {
            Ok(std::task::Poll::Pending) => {
                let Some(timeout) = this.timeout else {
                    return std::task::Poll::Pending;
                };
                let deadline = this
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if deadline.as_mut().poll(cx).is_pending() {
                    return std::task::Poll::Pending;
                }
                tracing::warn!(target: "secure_endpoint::timeout", handler = this.handler, "request timed out");
                let response = Problem::new(StatusCode::SERVICE_UNAVAILABLE)
                    .with_code("timeout")
                    .with_detail("The request took too long.")
                    .into_response();
                (response, None)
            }
            Ok(std::task::Poll::Ready((response, seen))) => (response, Some(seen)),
            Err(_) => {
                tracing::error!(target: "secure_endpoint::panic", handler = this.handler, "handler panicked");
                (Problem::internal().into_response(), None)
            }
        };
        let request_id = this.request_id.take().expect("polled after completion");
        if this.finished {
            return std::task::Poll::Ready(response);
        }
        std::task::Poll::Ready(observe(
            this.observed.take(),
            response,
            seen,
            &request_id,
            this.renderer.as_ref(),
        ))
    }
}

impl std::fmt::Debug for Guarded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guarded")
            .field("handler", &self.handler)
            .finish_non_exhaustive()
    }
}

/// `jwt | api_key; roles: admin; scopes: a + b; owner: {user_id}` or `public`.
fn policy_summary(policy: &EndpointPolicy) -> String {
    let mut parts = Vec::new();
    match policy.auth {
        Authentication::Public => parts.push("public".to_owned()),
        Authentication::Optional(schemes) => parts.push(format!(
            "optional {}",
            schemes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" | ")
        )),
        Authentication::Required(schemes) => parts.push(
            schemes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" | "),
        ),
    }
    let authz = &policy.authorization;
    if !authz.roles.is_empty() {
        parts.push(format!("roles: {}", authz.roles.join(" | ")));
    }
    if !authz.scopes.is_empty() {
        parts.push(format!("scopes: {}", authz.scopes.join(" + ")));
    }
    if let Some(owner) = authz.owner {
        parts.push(format!("owner: {{{}}}", owner.param));
    }
    parts.join("; ")
}
