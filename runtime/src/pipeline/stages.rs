//! One routed endpoint's runtime and the stages it runs before its handler: per-IP limit,
//! authentication, per-principal limit and flow budgets, roles and scopes ([`admit`]); the
//! body ([`body`]); and the [`EndpointStage`] the endpoint's generated wrapper runs between its
//! extractors (ownership by path parameter, then the body). None of it depends on the
//! endpoint's type.
//!
//! [`admit`]: EndpointRuntime::admit
//! [`body`]: EndpointRuntime::body

use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use crate::auth::jwt::{not_dpop_bound, Checked};
use crate::auth::AuthFailure;
use crate::authz::{check_roles_and_scopes, displays_as};
use crate::body::{read_limited, refuse_body};
use crate::config::Engine;
use crate::endpoint::Stage;
use crate::extract::{Principal, RequestContext};
use crate::lifecycle::LifecycleRuntime;
use crate::policy::{AuthScheme, Authentication, EndpointPolicy};
use crate::problem::Problem;
use crate::rate::{RateLimiter, RateSubject};

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
    /// Deprecation and sunset, when the endpoint has either.
    pub(crate) lifecycle: Option<LifecycleRuntime>,
    /// The route template, for security events.
    pub(crate) route: Arc<str>,
    /// The endpoint's flow and whether its 404s count toward enumeration.
    pub(crate) abuse: crate::abuse::EndpointAbuse,
    /// The status for another principal's resource: the endpoint's `owner_status`, else the
    /// router's, else 404.
    pub(crate) owner_denial: crate::policy::OwnerDenial,
}

impl EndpointRuntime {
    /// The endpoint's own `body_limit`, else the router's.
    fn body_limit(&self) -> usize {
        self.policy.body_limit.unwrap_or(self.engine.body_limit)
    }

    /// The 401 (or 503) for `failure`, with the challenges of the credentials configured.
    fn refusal(&self, failure: AuthFailure, schemes: &[AuthScheme]) -> Problem {
        crate::auth::credential::refusal(failure, schemes, |scheme| match scheme {
            AuthScheme::Jwt => self
                .engine
                .jwt
                .as_ref()
                .map(|jwt| jwt.credential_locations())
                .filter(|c| !c.is_bearer_only())
                .map(|c| (c, "Bearer")),
            AuthScheme::ApiKey => self
                .engine
                .api_key_credentials
                .as_ref()
                .map(|c| (c, "ApiKey")),
            _ => None,
        })
    }

    /// The principal one of `schemes` authenticates; `Ok(None)` when the request presents no
    /// credential of any of them (a refusal, unless authentication is optional). A credential
    /// presented and refused is always an error.
    async fn authenticate(
        &self,
        parts: &Parts,
        body: &mut Body,
        schemes: &[AuthScheme],
    ) -> Result<Option<Principal>, Problem> {
        // A credential in the URL is refused whichever scheme would authenticate the request.
        if crate::auth::credential_in_query(parts, schemes) {
            return Err(self.refusal(AuthFailure::Invalid, schemes));
        }
        let mut failure = AuthFailure::Missing;
        // Which check refused a signed request, for the security event.
        let mut reason = None;
        // A request that used the DPoP scheme and was refused: its challenge names the error.
        let mut dpop_refusal = None;
        for scheme in schemes {
            let outcome = match scheme {
                AuthScheme::Jwt => match &self.engine.jwt {
                    Some(jwt) => match jwt.token(parts).map(|t| t.credential) {
                        Ok(token) => match jwt.check(token) {
                            // A DPoP-bound token is refused as `Bearer` (RFC 9449 §7.2).
                            Checked::Verified(principal) => not_dpop_bound(principal),
                            Checked::Failed(failure) => Err(failure),
                            // A key the verifier may not have yet: one rate-limited JWKS
                            // refresh, then the keys at hand decide. Boxed: a rare path
                            // whose future (an HTTPS fetch) would otherwise be part of every
                            // request's.
                            Checked::UnknownKey => {
                                Box::pin(jwt.refresh_unknown_key()).await;
                                jwt.verify_any(token).and_then(not_dpop_bound)
                            }
                        },
                        Err(failure) => Err(failure),
                    }
                    // RFC 8705: a certificate-bound token only with its certificate.
                    .and_then(|p| {
                        let mtls = self.engine.mtls.as_ref();
                        crate::auth::mtls::check_binding(mtls, &self.engine.perimeter, parts, p)
                    }),
                    None => Err(AuthFailure::Invalid),
                },
                AuthScheme::Mtls => match &self.engine.mtls {
                    Some(mtls) => mtls.authenticate(&self.engine.perimeter, parts),
                    None => Err(AuthFailure::Invalid),
                },
                AuthScheme::ApiKey => match &self.engine.api_keys {
                    Some(store) => {
                        crate::auth::api_key::authenticate_from(
                            store.as_ref(),
                            parts,
                            self.engine.api_key_credentials.as_ref(),
                        )
                        .await
                    }
                    None => Err(AuthFailure::Invalid),
                },
                AuthScheme::Hmac => match &self.engine.hmac {
                    // Boxed: its body read would otherwise be part of every request's future
                    // (one allocation, beside a SHA-256 of the body).
                    Some(hmac) => Box::pin(self.authenticate_hmac(hmac, parts, body)).await?,
                    None => Err(AuthFailure::Invalid),
                },
                // Boxed: a proof's checks and the replay store's round trip would otherwise
                // be part of every request's future.
                AuthScheme::Dpop => match (&self.engine.jwt, &self.engine.dpop) {
                    (Some(jwt), Some(dpop)) => {
                        let https = self.engine.perimeter.client(parts).is_ok_and(|c| c.https);
                        match Box::pin(dpop.authenticate(jwt, parts, https)).await {
                            Ok(principal) => Ok(principal),
                            Err(refusal) => {
                                if refusal.error.is_some() {
                                    dpop_refusal = Some(refusal);
                                }
                                Err(refusal.failure)
                            }
                        }
                    }
                    _ => Err(AuthFailure::Invalid),
                },
                // RFC 9421 and the webhook formats: boxed like HMAC.
                signed => match Box::pin(self.authenticate_signed(*signed, parts, body)).await? {
                    Ok(principal) => Ok(principal),
                    Err(refusal) => {
                        if refusal.failure == AuthFailure::Invalid {
                            reason = Some(refusal.reason);
                        }
                        Err(refusal.failure)
                    }
                },
            };
            match outcome {
                Ok(principal) => return Ok(Some(principal)),
                Err(AuthFailure::Invalid) => failure = AuthFailure::Invalid,
                Err(AuthFailure::Missing) => {}
                Err(AuthFailure::Unavailable) => return Err(crate::store::unavailable()),
            }
        }
        if failure == AuthFailure::Missing {
            return Ok(None);
        }
        if let (Some(refusal), Some(dpop)) = (dpop_refusal, &self.engine.dpop) {
            return Err(dpop.problem(&refusal, schemes));
        }
        let problem = self.refusal(failure, schemes);
        Err(match (failure, reason) {
            (AuthFailure::Invalid, Some(reason)) => problem.with_reason(reason),
            _ => problem,
        })
    }

    /// A signed scheme: the head first; only then is the body read, under the body limit,
    /// for the signature or digest. It is handed on as read.
    async fn authenticate_signed(
        &self,
        scheme: AuthScheme,
        parts: &Parts,
        body: &mut Body,
    ) -> Result<Result<Principal, crate::auth::signature::Refusal>, Problem> {
        let pending =
            match self
                .engine
                .signed
                .begin(scheme, parts, jsonwebtoken::get_current_timestamp())
            {
                Ok(pending) => pending,
                Err(refusal) => return Ok(Err(refusal)),
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

    /// Everything before ownership: per-IP limit, authentication, the rate limit, roles and
    /// scopes. Not generic, so it is compiled once, not once per endpoint. Ownership by path
    /// parameter is checked by the endpoint's wrapper on the value its handler binds (see
    /// [`EndpointStage::refuse_owner`]); ownership by loader in [`serve`](Self::serve).
    pub(super) async fn admit(
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
                match self.authenticate(parts, body, schemes).await? {
                    Some(principal) => Some(principal),
                    None => return Err(self.refusal(AuthFailure::Missing, schemes)),
                }
            }
            // Anonymous without a credential; a credential that does not verify is a 401.
            Authentication::Optional(schemes) => self.authenticate(parts, body, schemes).await?,
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
            &self.engine.abuse,
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
        Ok(Some(principal))
    }

    /// A 404 on a watched route: counted toward enumeration; the 429 to send instead when
    /// the caller now cools down. Not generic.
    pub(super) async fn enumeration(
        &self,
        seen: &Seen,
        uri: &http::Uri,
        method: &http::Method,
        request_id: &crate::extract::RequestId,
    ) -> Option<Problem> {
        crate::abuse::not_found(
            &self.engine.abuse,
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
    pub(super) async fn body(&self, parts: &mut Parts, body: Body) -> Result<Body, Problem> {
        if let Some(spec) = self.policy.multipart {
            // Validated here; the handler's `MultipartForm` takes the form, not the body.
            let (limit, timeout) = (self.body_limit(), self.engine.body_timeout);
            let form = crate::multipart::read_form(parts, body, spec, limit, timeout).await?;
            parts.extensions.insert(form);
            return Ok(Body::empty());
        }
        match self.policy.fields {
            Some(fields) => {
                let limit = self.body_limit();
                let bytes = crate::body::read_declared(
                    parts,
                    body,
                    fields,
                    &self.policy.body,
                    limit,
                    self.engine.body_timeout,
                )
                .await?;
                if let Some(context) = parts.extensions.get_mut::<RequestContext>() {
                    context.body_limit = Some(limit);
                }
                Ok(Body::from(bytes))
            }
            // `body = "ignored"`: read and discarded under the limit; the handler gets none.
            None if self.policy.body.ignored => {
                crate::body::drain(parts, body, self.body_limit(), self.engine.body_timeout)
                    .await
                    .map(|()| Body::empty())
            }
            // `body = "raw"`: read under the limit (already read, when a signed scheme
            // authenticated the request), no allowlist.
            None if self.policy.raw_body => {
                read_limited(parts, body, self.body_limit(), self.engine.body_timeout)
                    .await
                    .map(Body::from)
            }
            None => match self.policy.graphql {
                Some(limits) => self.graphql_body(parts, body, limits).await,
                None => refuse_body(parts, body),
            },
        }
    }

    /// A GraphQL body: JSON under the body limit, one request object or a batch of them; each
    /// operation after the first costs one more request of the rate limit (all or none), and a
    /// batch over `max_batch` is refused (after it is charged). Then handed on as read.
    async fn graphql_body(
        &self,
        parts: &mut Parts,
        body: Body,
        limits: &crate::policy::GraphQlLimits,
    ) -> Result<Body, Problem> {
        let limit = self.body_limit();
        let bytes = crate::body::read_json(parts, body, limit, self.engine.body_timeout).await?;
        let operations = crate::body::graphql_operations(&bytes)?;
        let context = parts.extensions.get::<RequestContext>();
        let principal = context.and_then(|c| c.principal.clone());
        let extra = u32::try_from(operations - 1).unwrap_or(u32::MAX);
        if extra > 0 {
            let network;
            let subject = match &principal {
                Some(p) => RateSubject::Principal(p),
                None => {
                    network = self.engine.perimeter.client(parts)?.key;
                    RateSubject::Network(network)
                }
            };
            self.limiter
                .check_n_noting(subject, extra, &mut false)
                .await?;
        }
        if operations > limits.max_batch {
            return Err(Problem::bad_request(
                "The GraphQL batch holds more operations than this endpoint accepts.",
            )
            .with_code("graphql_batch_too_large")
            .with_reason("graphql_batch"));
        }
        if let Some(context) = parts.extensions.get_mut::<RequestContext>() {
            context.body_limit = Some(limit);
        }
        Ok(Body::from(bytes))
    }
}

/// The request and the rest of the pipeline, as an endpoint's generated wrapper runs them
/// between its extractors: the ownership check on the value the handler binds, right after its
/// `Path` is extracted, then the body. The wrapper sees it only as a [`Stage`] (see there why).
pub(crate) struct EndpointStage<'a> {
    pub(super) runtime: &'a EndpointRuntime,
    pub(super) principal: Option<&'a Principal>,
    pub(super) parts: Parts,
    pub(super) body: Body,
}

impl Stage for EndpointStage<'_> {
    fn parts(&mut self) -> &mut Parts {
        &mut self.parts
    }

    fn into_request(self) -> axum::extract::Request {
        axum::extract::Request::from_parts(self.parts, self.body)
    }

    /// Ownership by path parameter: `value` is the owner parameter exactly as the handler
    /// binds it (after axum's percent-decoding and the handler's own type), and must display
    /// as the principal's subject. The refusal (404 unless the contract says 403) when it
    /// does not.
    #[inline]
    fn refuse_owner(&self, value: &dyn std::fmt::Display) -> Option<Response> {
        match self.principal {
            Some(principal) if displays_as(value, principal.subject()) => None,
            _ => Some(self.runtime.owner_denial.problem().into_response()),
        }
    }

    /// The body the handler may read: the allowlisted JSON, or none at all.
    #[allow(clippy::manual_async_fn)] // the `Send` in the signature is the point
    fn read_body(&mut self) -> impl std::future::Future<Output = Result<(), Response>> + Send + '_ {
        async move {
            let body = std::mem::take(&mut self.body);
            self.body = self
                .runtime
                .body(&mut self.parts, body)
                .await
                .map_err(IntoResponse::into_response)?;
            Ok(())
        }
    }
}
