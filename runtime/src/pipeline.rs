//! What runs on each request of a secured endpoint, in DESIGN.md's order:
//! per-IP limit → authentication → per-principal limit → roles/scopes → ownership → body
//! allowlist → (the handler's extractors: deserialize, validate) → handler, panics caught.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use crate::auth::jwt::{bearer_token, Checked};
use crate::auth::{AuthFailure, Principal};
use crate::authz::{check_roles_and_scopes, with_path_param};
use crate::body::{read_allowlisted, read_limited, refuse_body};
use crate::config::Engine;
use crate::lifecycle::LifecycleRuntime;
use crate::policy::{AuthScheme, Authentication, EndpointPolicy};
use crate::problem::Problem;
use crate::rate::{RateLimiter, RateSubject};
use crate::EndpointHandler;

/// What the pipeline learnt about a request, for its security event.
#[derive(Debug, Clone, Default)]
pub(crate) struct Seen {
    pub(crate) client_ip: Option<IpAddr>,
    pub(crate) principal: Option<Principal>,
    /// A rate limit was decided locally because its shared store could not answer.
    pub(crate) rate_fallback: bool,
}

/// One routed endpoint: its policy, route and limiter, shared by every request to it.
pub(crate) struct EndpointRuntime {
    pub(crate) engine: Arc<Engine>,
    pub(crate) policy: &'static EndpointPolicy,
    pub(crate) limiter: Arc<RateLimiter>,
    /// Index of the owner parameter among the path's `/`-separated segments, when every
    /// segment before it matches exactly one segment (no wildcard), so the raw segment can be
    /// compared without decoding every parameter.
    pub(crate) owner_segment: Option<usize>,
    /// Deprecation and sunset, when the endpoint has either.
    pub(crate) lifecycle: Option<LifecycleRuntime>,
    /// The route template, for security events.
    pub(crate) route: Arc<str>,
    /// The endpoint's flow and whether its 404s count toward enumeration.
    pub(crate) abuse: crate::abuse::EndpointAbuse,
}

/// The segment index of `{param}` in a route template, if it can be read by position.
pub(crate) fn owner_segment(path: &str, param: &str) -> Option<usize> {
    let target = format!("{{{param}}}");
    let segments: Vec<&str> = path.split('/').collect();
    let index = segments.iter().position(|s| *s == target)?;
    segments[..index]
        .iter()
        .all(|s| !s.starts_with("{*"))
        .then_some(index)
}

/// What the pipeline hands a secured handler's extractors ([`Principal`], [`ClientIp`],
/// [`RequestId`](crate::RequestId), [`Json`](crate::Json)'s body limit): one request extension
/// rather than one each, since every insert into `http::Extensions` allocates.
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    pub(crate) request_id: crate::RequestId,
    pub(crate) client_ip: IpAddr,
    pub(crate) principal: Option<Principal>,
    /// The body limit an allowlisted body was read under, for `Json` to apply the same.
    pub(crate) body_limit: Option<usize>,
}

/// The client's address as the perimeter resolved it (the connection's peer, or the first
/// untrusted hop behind trusted proxies), for handlers that count or log by client: e.g. a
/// login throttle. This is the whole address; per-IP limits count IPv6 clients by network
/// (see [`SecurityBuilder::ipv6_prefix`](crate::SecurityBuilder::ipv6_prefix)). `0.0.0.0` in
/// a handler the secure pipeline did not run for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<RequestContext>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.client_ip),
        ))
    }
}

impl EndpointRuntime {
    /// The endpoint's own `body_limit`, else the router's.
    fn body_limit(&self) -> usize {
        self.policy.body_limit.unwrap_or(self.engine.body_limit)
    }

    async fn authenticate(
        &self,
        parts: &Parts,
        body: &mut Body,
        schemes: &[AuthScheme],
    ) -> Result<Principal, Problem> {
        // A credential in the URL is refused whichever scheme would authenticate the request.
        if crate::auth::credential_in_query(parts, schemes) {
            return Err(AuthFailure::Invalid.problem(schemes));
        }
        let mut failure = AuthFailure::Missing;
        for scheme in schemes {
            let outcome = match scheme {
                AuthScheme::Jwt => match &self.engine.jwt {
                    Some(jwt) => match bearer_token(parts) {
                        Ok(token) => match jwt.check(token) {
                            Checked::Verified(principal) => Ok(principal),
                            Checked::Failed(failure) => Err(failure),
                            // A key the verifier may not have yet: one rate-limited JWKS
                            // refresh, then the keys at hand decide. Boxed: a rare path
                            // whose future (an HTTPS fetch) would otherwise be part of every
                            // request's.
                            Checked::UnknownKey => {
                                Box::pin(jwt.refresh_unknown_key()).await;
                                jwt.verify(token)
                            }
                        },
                        Err(failure) => Err(failure),
                    },
                    None => Err(AuthFailure::Invalid),
                },
                AuthScheme::ApiKey => match &self.engine.api_keys {
                    Some(store) => crate::auth::api_key::authenticate(store.as_ref(), parts).await,
                    None => Err(AuthFailure::Invalid),
                },
                AuthScheme::Hmac => match &self.engine.hmac {
                    // Boxed: its body read would otherwise be part of every request's future
                    // (one allocation, beside a SHA-256 of the body).
                    Some(hmac) => Box::pin(self.authenticate_hmac(hmac, parts, body)).await?,
                    None => Err(AuthFailure::Invalid),
                },
            };
            match outcome {
                Ok(principal) => return Ok(principal),
                Err(AuthFailure::Invalid) => failure = AuthFailure::Invalid,
                Err(AuthFailure::Missing) => {}
                Err(AuthFailure::Unavailable) => return Err(crate::store::unavailable()),
            }
        }
        Err(failure.problem(schemes))
    }

    /// The head first (timestamp, client); only then is the body read, under the body limit,
    /// for the signature. It is handed on as read.
    async fn authenticate_hmac(
        &self,
        hmac: &crate::auth::hmac::HmacVerifier,
        parts: &Parts,
        body: &mut Body,
    ) -> Result<Result<Principal, AuthFailure>, Problem> {
        let pending = match hmac.begin(parts, jsonwebtoken::get_current_timestamp()) {
            Ok(pending) => pending,
            Err(failure) => return Ok(Err(failure)),
        };
        let bytes = read_limited(
            parts,
            std::mem::take(body),
            self.body_limit(),
            self.engine.body_timeout,
        )
        .await?;
        let outcome = pending.finish(&bytes).await;
        *body = Body::from(bytes);
        Ok(outcome)
    }

    /// Everything up to ownership by path parameter: per-IP limit, authentication, the rate
    /// limit, roles and scopes. Not generic, so it is compiled once, not once per endpoint.
    async fn admit(
        &self,
        parts: &mut Parts,
        body: &mut Body,
        seen: &mut Seen,
    ) -> Result<Option<Principal>, Problem> {
        let policy = self.policy;
        let perimeter = &self.engine.perimeter;
        let client = perimeter.client(parts)?;
        perimeter.check(parts, &client)?;
        let ip = client.ip;
        seen.client_ip = Some(ip);
        if let Some(ip_limiter) = &self.engine.ip_limiter {
            ip_limiter
                .check_noting(RateSubject::Network(client.key), &mut seen.rate_fallback)
                .await?;
        }
        if let Some(lifecycle) = &self.lifecycle {
            lifecycle.check()?;
        }
        let principal = match policy.auth {
            Authentication::Public => None,
            Authentication::Required(schemes) => {
                Some(self.authenticate(parts, body, schemes).await?)
            }
        };
        seen.principal = principal.clone();
        let subject = match &principal {
            Some(p) => RateSubject::Principal(p),
            None => RateSubject::Network(client.key),
        };
        self.limiter
            .check_noting(subject, &mut seen.rate_fallback)
            .await?;
        crate::abuse::admit(
            &self.engine,
            &self.abuse,
            principal.as_ref(),
            client.key,
            &mut seen.rate_fallback,
        )
        .await?;
        let Some(principal) = principal else {
            return Ok(None);
        };
        let authz = &policy.authorization;
        check_roles_and_scopes(authz, &principal)?;
        if let Some(owner) = authz.owner.filter(|o| o.loader.is_none()) {
            let subject = principal.subject();
            let raw = self
                .owner_segment
                .and_then(|i| parts.uri.path().split('/').nth(i));
            let owns = match raw {
                // Not percent-encoded: the raw segment is the value.
                Some(raw) if !raw.contains('%') => raw == subject,
                _ => with_path_param(parts, owner.param, |v| v == Some(subject)).await,
            };
            if !owns {
                return Err(Problem::not_found().with_reason("not_owner"));
            }
        }
        Ok(Some(principal))
    }

    /// A 404 on a watched route: counted toward enumeration; the 429 to send instead when
    /// the caller now cools down. Not generic.
    async fn enumeration(
        &self,
        seen: &Seen,
        uri: &http::Uri,
        method: &http::Method,
        request_id: &crate::RequestId,
    ) -> Option<Problem> {
        crate::abuse::not_found(
            &self.engine,
            uri.path(),
            seen.principal.as_ref(),
            seen.client_ip?,
            request_id,
            method,
            &self.route,
            self.policy.handler,
        )
        .await
    }

    /// The body the handler may read: the allowlisted JSON, or none at all. Not generic.
    async fn body(&self, parts: &mut Parts, body: Body) -> Result<Body, Problem> {
        match self.policy.fields {
            Some(fields) => {
                let limit = self.body_limit();
                let bytes =
                    read_allowlisted(parts, body, fields, limit, self.engine.body_timeout).await?;
                if let Some(context) = parts.extensions.get_mut::<RequestContext>() {
                    context.body_limit = Some(limit);
                }
                Ok(Body::from(bytes))
            }
            None => refuse_body(parts, body),
        }
    }

    /// The pipeline for one request. Only the loader and the handler depend on the endpoint's
    /// type; everything else is in the non-generic [`admit`](Self::admit) and
    /// [`body`](Self::body), which keeps the code generated per endpoint small. One `async fn`
    /// that owns the runtime: every nested future level would hold its own copy of the request,
    /// and this future is boxed on every request. It takes the request split, for the same
    /// reason.
    pub(crate) async fn serve<E, S>(
        self: Arc<Self>,
        endpoint: E,
        request_id: crate::RequestId,
        mut parts: Parts,
        mut body: Body,
        state: S,
    ) -> Response
    where
        E: EndpointHandler<S>,
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
            });
            if let (Some(principal), true) = (principal, loader) {
                if let Err(response) = E::load(&mut parts, &state, &principal).await {
                    break 'run response;
                }
            }
            if let Some(flow) = &self.abuse.flow {
                parts.extensions.insert(crate::abuse::AttemptContext {
                    engine: self.engine.clone(),
                    flow: flow.clone(),
                    client_ip: seen.client_ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                    route: self.route.clone(),
                    handler: self.policy.handler,
                });
            }
            let body = match self.body(&mut parts, body).await {
                Ok(body) => body,
                Err(problem) => break 'run problem.into_response(),
            };
            endpoint.call(parts, body, state).await
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
        if self.engine.observing() {
            // For the security event, read where the response is finished.
            response.extensions_mut().insert(seen);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::owner_segment;

    #[test]
    fn owner_segment_by_position() {
        assert_eq!(owner_segment("/users/{user_id}", "user_id"), Some(2));
        assert_eq!(
            owner_segment("/orgs/{org}/users/{user_id}/notes", "user_id"),
            Some(4)
        );
        assert_eq!(owner_segment("/files/{*rest}/{user_id}", "user_id"), None);
        assert_eq!(owner_segment("/users/{id}", "user_id"), None);
    }
}
