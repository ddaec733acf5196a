//! What runs on each request of a secured endpoint, in DESIGN.md's order:
//! per-IP limit → authentication → per-principal limit → roles/scopes → ownership → body
//! allowlist → (the handler's extractors: deserialize, validate) → handler, panics caught.

use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use http::request::Parts;

use crate::auth::{AuthFailure, Principal};
use crate::authz::{check_roles_and_scopes, with_path_param};
use crate::body::{read_allowlisted, refuse_body, BodyLimit};
use crate::config::Engine;
use crate::policy::{AuthScheme, Authentication, EndpointPolicy};
use crate::problem::Problem;
use crate::rate::{RateKey, RateLimiter};
use crate::EndpointHandler;

/// One routed endpoint: its policy, route and limiter, shared by every request to it.
pub(crate) struct EndpointRuntime {
    pub(crate) engine: Arc<Engine>,
    pub(crate) policy: &'static EndpointPolicy,
    pub(crate) limiter: Arc<RateLimiter>,
}

/// The client address the server saw (the connection's peer). Unknown when the router is
/// not served with connect info; then all such callers share one rate-limit bucket.
#[inline]
pub(crate) fn client_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

impl EndpointRuntime {
    fn authenticate(&self, parts: &Parts, schemes: &[AuthScheme]) -> Result<Principal, Problem> {
        let mut failure = AuthFailure::Missing;
        for scheme in schemes {
            let outcome = match scheme {
                AuthScheme::Jwt => match &self.engine.jwt {
                    Some(jwt) => jwt.authenticate(parts),
                    None => Err(AuthFailure::Invalid),
                },
                // Checked at registration: the router refuses endpoints whose scheme it cannot verify.
                AuthScheme::ApiKey | AuthScheme::Hmac => Err(AuthFailure::Missing),
            };
            match outcome {
                Ok(principal) => return Ok(principal),
                Err(AuthFailure::Invalid) => failure = AuthFailure::Invalid,
                Err(AuthFailure::Missing) => {}
            }
        }
        Err(failure.problem())
    }

    pub(crate) async fn serve<E, S>(&self, endpoint: E, req: Request, state: S) -> Response
    where
        E: EndpointHandler<S>,
        S: Send + Sync,
    {
        let (mut parts, body) = req.into_parts();
        let policy = self.policy;
        let ip = client_ip(&parts);

        if let Some(ip_limiter) = &self.engine.ip_limiter {
            if let Err(p) = ip_limiter.check(&RateKey::Ip(ip)) {
                return p.into_response();
            }
        }

        let principal = match policy.auth {
            Authentication::Public => None,
            Authentication::Required(schemes) => match self.authenticate(&parts, schemes) {
                Ok(p) => Some(p),
                Err(problem) => return problem.into_response(),
            },
        };

        let key = match &principal {
            Some(p) => RateKey::Principal(self.engine.hasher.hash_one(p.subject())),
            None => RateKey::Ip(ip),
        };
        if let Err(p) = self.limiter.check(&key) {
            return p.into_response();
        }

        if let Some(principal) = &principal {
            let authz = &policy.authorization;
            if let Err(p) = check_roles_and_scopes(authz, principal) {
                return p.into_response();
            }
            if let Some(owner) = authz.owner {
                if owner.loader.is_none() {
                    let subject = principal.subject();
                    if !with_path_param(&mut parts, owner.param, |v| v == Some(subject)).await {
                        return Problem::not_found().into_response();
                    }
                } else if let Err(response) = E::load(&mut parts, &state, principal).await {
                    return response;
                }
            }
            parts.extensions.insert(principal.clone());
        }

        let body = match policy.fields {
            Some(fields) => {
                match read_allowlisted(&parts, body, fields, self.engine.body_limit).await {
                    Ok(bytes) => {
                        parts.extensions.insert(BodyLimit(self.engine.body_limit));
                        Body::from(bytes)
                    }
                    Err(p) => return p.into_response(),
                }
            }
            None => match refuse_body(&parts) {
                Ok(()) => body,
                Err(p) => return p.into_response(),
            },
        };

        endpoint.call(Request::from_parts(parts, body), state).await
    }

    /// [`serve`](Self::serve) with any panic, in a loader, an extractor or the handler, turned
    /// into a 500 problem: the connection is answered and stays usable.
    pub(crate) async fn serve_catching<E, S>(&self, endpoint: E, req: Request, state: S) -> Response
    where
        E: EndpointHandler<S>,
        S: Send + Sync,
    {
        match AssertUnwindSafe(self.serve(endpoint, req, state))
            .catch_unwind()
            .await
        {
            Ok(response) => response,
            Err(_) => {
                tracing::error!(target: "secure_endpoint::panic", handler = self.policy.handler, "handler panicked");
                Problem::internal().into_response()
            }
        }
    }
}
