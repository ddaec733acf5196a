//! What runs on each request of a secured endpoint, in the order the crate documentation gives:
//! per-IP limit → authentication → per-principal limit → roles/scopes → ownership → body
//! allowlist → (the handler's extractors: deserialize, validate) → handler, panics caught.
//!
//! `stages` holds what does not depend on the endpoint's type; `EndpointRuntime::serve` runs
//! it in order around the endpoint's loader and handler, and returns what it learnt about the
//! request ([`Seen`]) beside the response, for the router's security event.

pub(crate) mod stages;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use crate::endpoint::EndpointHandler;
use crate::extract::{Principal, RequestContext};

use stages::EndpointStage;
pub(crate) use stages::{EndpointRuntime, Seen};

/// What of an endpoint depends on its type, as function pointers: its loader and its
/// wrapper (extractors, then handler). The pipeline holds these rather than being generic over
/// the endpoint, so it is compiled once per state type instead of once per endpoint; the
/// wrapper's future is boxed for that (`benches/compile_time.sh`, BENCHMARKS.md).
pub(crate) struct Erased<S> {
    load: LoadFn<S>,
    call: CallFn<S>,
}

type LoadFn<S> = for<'a> fn(
    &'a mut Parts,
    &'a S,
    &'a Principal,
) -> Pin<Box<dyn Future<Output = Result<(), Response>> + Send + 'a>>;
type CallFn<S> =
    for<'a> fn(S, EndpointStage<'a>) -> Pin<Box<dyn Future<Output = Response> + Send + 'a>>;

impl<S> Clone for Erased<S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for Erased<S> {}

impl<S: Send + Sync + 'static> Erased<S> {
    /// Endpoint `E`'s loader and wrapper.
    pub(crate) fn of<E: EndpointHandler<S>>() -> Self {
        Erased {
            load: |parts, state, principal| Box::pin(E::load(parts, state, principal)),
            call: |state, stage| Box::pin(E::call(state, stage)),
        }
    }
}

impl EndpointRuntime {
    /// The pipeline for one request. Only the loader and the handler depend on the endpoint's
    /// type, and they come erased ([`Erased`]); everything else is in [`admit`](Self::admit)
    /// and [`body`](Self::body). One `async fn` that owns the runtime: every nested future
    /// level would hold its own copy of the request, and this future is boxed on every
    /// request. It takes the request split, for the same reason. Returns, beside the
    /// response, what it learnt about the request.
    pub(crate) async fn serve<S>(
        self: Arc<Self>,
        endpoint: Erased<S>,
        request_id: crate::extract::RequestId,
        mut parts: Parts,
        mut body: Body,
        state: S,
    ) -> (Response, Seen)
    where
        S: Send + Sync,
    {
        let mut seen = Seen::default();
        // Only on routes with path parameters, with enumeration detection on: the URI is kept
        // (a reference count) for a 404 (the ownership check's, a loader's, the handler's),
        // hashed then and only then.
        let watched = self
            .abuse
            .watch
            .then(|| (parts.uri.clone(), parts.method.clone(), request_id.clone()));
        let lifecycle = self.lifecycle.as_ref().map(|l| l.headers(parts.uri.path()));
        let mut response = 'run: {
            let principal = match self.admit(&mut parts, &mut body, &mut seen).await {
                Ok(principal) => principal,
                Err(problem) => break 'run problem.into_response(),
            };
            let loader = self
                .policy
                .authorization
                .owner
                .is_some_and(|o| o.loader.is_some());
            parts.extensions.insert(RequestContext {
                request_id,
                client_ip: seen.client_ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                principal: principal.clone(),
                body_limit: None,
                owner_denial: self.owner_denial,
            });
            if let (Some(principal), true) = (&principal, loader) {
                if let Err(response) = (endpoint.load)(&mut parts, &state, principal).await {
                    break 'run response;
                }
            }
            if let Some(flow) = &self.abuse.flow {
                parts.extensions.insert(crate::abuse::AttemptContext {
                    abuse: self.engine.abuse.clone(),
                    flow: flow.clone(),
                    client_ip: seen.client_ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                    route: self.route.clone(),
                    handler: self.policy.handler,
                });
            }
            let stage = EndpointStage {
                runtime: &self,
                principal: principal.as_ref(),
                parts,
                body,
            };
            (endpoint.call)(state, stage).await
        };
        if let Some((uri, method, request_id)) = watched {
            if response.status() == http::StatusCode::NOT_FOUND {
                if let Some(problem) = self.enumeration(&seen, &uri, &method, &request_id).await {
                    response = problem.into_response();
                }
            }
        }
        if let Some(headers) = lifecycle {
            response.headers_mut().extend(headers);
        }
        (response, seen)
    }
}
