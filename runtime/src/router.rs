//! The secure router: it accepts only `#[secure_endpoint]` endpoints, collects their policies
//! into the inventory, and converts into a plain `axum::Router` wrapped in the security layer.

use std::future::Future;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use axum::extract::Request;
use axum::handler::Handler;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use axum::Router;
use http::{Method, StatusCode};

use crate::config::Engine;
use crate::config::Security;
use crate::events::{dispatch, EventContext, EventKind, SecurityEvent};
use crate::inventory::{Inventory, InventoryEntry};
use crate::lifecycle::{LifecycleRuntime, Version};
use crate::pipeline::{EndpointRuntime, Seen};
use crate::policy::{AuthScheme, Authentication, EndpointPolicy};
use crate::problem::{Problem, Renderer};
use crate::rate::RateSubject;
use crate::response::{finish, RequestId};
use crate::{EndpointHandler, SecureEndpoint};

type Register<S> = Box<dyn FnOnce(MethodRouter<S>, Arc<EndpointRuntime>) -> MethodRouter<S> + Send>;

struct Pending<S> {
    method: Method,
    policy: &'static EndpointPolicy,
    /// [`SecureEndpoint::owner_field_param`] of the endpoint.
    owner_field: fn() -> Option<&'static str>,
    register: Register<S>,
}

/// The endpoints of one path, by method. Build it with [`get`], [`post`], [`put`], [`patch`]
/// or [`delete`] and chain more methods: `get(show_user).put(update_user)`.
#[must_use]
pub struct SecureMethodRouter<S = ()> {
    pending: Vec<Pending<S>>,
}

impl<S> std::fmt::Debug for SecureMethodRouter<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.pending
                    .iter()
                    .map(|p| (p.method.as_str(), p.policy.handler)),
            )
            .finish()
    }
}

/// Routes an endpoint's requests into its enforcing pipeline.
#[derive(Clone)]
struct SecuredRoute<E> {
    endpoint: E,
    runtime: Arc<EndpointRuntime>,
}

#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct SecuredRouteMarker;

impl<E, S> Handler<SecuredRouteMarker, S> for SecuredRoute<E>
where
    E: EndpointHandler<S>,
    S: Clone + Send + Sync + 'static,
{
    type Future = Guarded;

    fn call(self, req: Request, state: S) -> Guarded {
        let request_id = RequestId::from_request(req.headers());
        let handler = self.runtime.policy.handler;
        let timeout = self.runtime.engine.request_timeout;
        let renderer = self.runtime.engine.problem_renderer.clone();
        let observed = self.runtime.engine.observing().then(|| {
            let mut ctx = EventContext::of(req.method(), req.headers(), &self.runtime.route);
            ctx.handler = Some(handler);
            ctx.policy = Some(policy_summary(self.runtime.policy));
            Box::new((ctx, self.runtime.engine.clone()))
        });
        Guarded {
            observed,
            inner: {
                let (parts, body) = req.into_parts();
                Box::pin(
                    self.runtime
                        .serve(self.endpoint, request_id.clone(), parts, body, state),
                )
            },
            request_id: Some(request_id),
            handler,
            timeout,
            deadline: None,
            renderer,
        }
    }
}

/// The future of every secured route: polls the endpoint's pipeline, turns a panic anywhere
/// in it (a loader, an extractor, the handler) into a 500 problem so the connection is
/// answered and stays usable, and finishes the response. Not generic: compiled once.
#[doc(hidden)]
pub struct Guarded {
    inner: Pin<Box<dyn Future<Output = Response> + Send>>,
    request_id: Option<RequestId>,
    handler: &'static str,
    timeout: Option<std::time::Duration>,
    /// Armed only when the pipeline first has to wait: a request answered in one poll never
    /// touches the timer.
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The security event's context, when anyone listens for events.
    observed: Option<Box<(EventContext, Arc<Engine>)>>,
    /// The application's error format, when configured.
    renderer: Option<Renderer>,
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
        let response = match polled {
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
                Problem::new(StatusCode::SERVICE_UNAVAILABLE)
                    .with_code("timeout")
                    .with_detail("The request took too long.")
                    .into_response()
            }
            Ok(std::task::Poll::Ready(response)) => response,
            Err(_) => {
                tracing::error!(target: "secure_endpoint::panic", handler = this.handler, "handler panicked");
                Problem::internal().into_response()
            }
        };
        let request_id = this.request_id.take().expect("polled after completion");
        std::task::Poll::Ready(observe(
            this.observed.take(),
            response,
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

impl<S: Clone + Send + Sync + 'static> SecureMethodRouter<S> {
    fn on<E: EndpointHandler<S>>(
        mut self,
        method: Method,
        filter: MethodFilter,
        endpoint: E,
    ) -> Self {
        self.pending.push(Pending {
            method,
            policy: E::POLICY,
            owner_field: E::owner_field_param,
            register: Box::new(move |router, runtime| {
                router.on(filter, SecuredRoute { endpoint, runtime })
            }),
        });
        self
    }

    /// Adds a `GET` endpoint (which also answers `HEAD`, under the same policy).
    pub fn get<E: EndpointHandler<S>>(self, endpoint: E) -> Self {
        self.on(Method::GET, MethodFilter::GET, endpoint)
    }
    /// Adds a `POST` endpoint.
    pub fn post<E: EndpointHandler<S>>(self, endpoint: E) -> Self {
        self.on(Method::POST, MethodFilter::POST, endpoint)
    }
    /// Adds a `PUT` endpoint.
    pub fn put<E: EndpointHandler<S>>(self, endpoint: E) -> Self {
        self.on(Method::PUT, MethodFilter::PUT, endpoint)
    }
    /// Adds a `PATCH` endpoint.
    pub fn patch<E: EndpointHandler<S>>(self, endpoint: E) -> Self {
        self.on(Method::PATCH, MethodFilter::PATCH, endpoint)
    }
    /// Adds a `DELETE` endpoint.
    pub fn delete<E: EndpointHandler<S>>(self, endpoint: E) -> Self {
        self.on(Method::DELETE, MethodFilter::DELETE, endpoint)
    }
}

macro_rules! top_level {
    ($($name:ident),*) => {$(
        #[doc = concat!("A [`SecureMethodRouter`] with a `", stringify!($name), "` endpoint.")]
        ///
        /// Only `#[secure_endpoint]` endpoints are accepted: a plain handler does not compile.
        pub fn $name<E, S>(endpoint: E) -> SecureMethodRouter<S>
        where
            E: SecureEndpoint + EndpointHandler<S>,
            S: Clone + Send + Sync + 'static,
        {
            SecureMethodRouter { pending: Vec::new() }.$name(endpoint)
        }
    )*};
}
top_level!(get, post, put, patch, delete);

/// A router of secured endpoints.
///
/// ```
/// use secure_endpoint::{routing::get, secure_endpoint, Security, SecureRouter};
///
/// #[secure_endpoint(auth = "none", rate = "10/s")]
/// async fn health() -> &'static str {
///     "ok"
/// }
///
/// let app: axum::Router = SecureRouter::new(Security::builder().build())
///     .route("/health", get(health))
///     .into_router();
/// ```
#[must_use]
pub struct SecureRouter<S = ()> {
    router: Router<S>,
    security: Security,
    inventory: Vec<InventoryEntry>,
    versions: Vec<(String, Version)>,
    /// [`owner_status`](Self::owner_status): the status for another principal's resource.
    owner_denial: Option<crate::policy::OwnerDenial>,
    _state: PhantomData<fn() -> S>,
}

/// `true` if `path` is `prefix` or below it.
fn under(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl<S> std::fmt::Debug for SecureRouter<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecureRouter")
            .field("endpoints", &self.inventory.len())
            .finish()
    }
}

impl<S: Clone + Send + Sync + 'static> SecureRouter<S> {
    /// An empty router enforcing with `security`.
    pub fn new(security: Security) -> Self {
        SecureRouter {
            router: Router::new(),
            security,
            inventory: Vec::new(),
            versions: Vec::new(),
            owner_denial: None,
            _state: PhantomData,
        }
    }

    /// Routes `path` (axum syntax: `/users/{user_id}`) to the endpoints in `methods`.
    ///
    /// # Panics
    /// At start-up, like axum's own route conflicts, when an endpoint cannot be enforced on
    /// this path: `owner` names a parameter the path lacks, the handler's `Path` binds the
    /// owner variable to another parameter of this path than `owner` names (axum fills a tuple
    /// by position and a struct by the fields' serde names), the endpoint needs an
    /// authentication scheme this router's [`Security`] does not configure, or it names a
    /// `flow` the [`Security`] gives no budget.
    pub fn route(mut self, path: &str, methods: SecureMethodRouter<S>) -> Self {
        let engine = &self.security.engine;
        let mut method_router = MethodRouter::new();
        for pending in methods.pending {
            let policy = pending.policy;
            let owner_param = policy.authorization.owner.map(|owner| {
                crate::authz::owner_route_param(
                    policy.handler,
                    path,
                    owner,
                    (pending.owner_field)(),
                )
            });
            if let Authentication::Required(schemes) | Authentication::Optional(schemes) =
                policy.auth
            {
                for scheme in schemes {
                    let available = match scheme {
                        AuthScheme::Jwt => engine.jwt.is_some(),
                        AuthScheme::ApiKey => engine.api_keys.is_some(),
                        AuthScheme::Hmac => engine.hmac.is_some(),
                        other => engine.signed.configured(*other).unwrap_or(false),
                    };
                    assert!(
                        available,
                        "endpoint `{}` requires `{}` authentication, which this router's `Security` does not configure{}",
                        policy.handler,
                        scheme.as_str(),
                        match scheme {
                            AuthScheme::Jwt => "; call `Security::builder().jwt(...)`",
                            AuthScheme::ApiKey => "; call `Security::builder().api_keys(...)`",
                            AuthScheme::Hmac => "; call `Security::builder().hmac(...)`",
                            AuthScheme::Signature => "; call `Security::builder().signatures(...)`",
                            AuthScheme::GithubWebhook => "; call `Security::builder().github_webhook(...)`",
                            AuthScheme::StripeWebhook => "; call `Security::builder().stripe_webhook(...)`",
                            AuthScheme::StandardWebhook => "; call `Security::builder().standard_webhook(...)`",
                        },
                    );
                }
            }
            let limiter = match policy.rate {
                Some(rate) => Arc::new(engine.limiter(
                    "endpoint",
                    &format!("{} {path}", pending.method),
                    rate,
                )),
                None => engine.default_limiter.clone(),
            };
            let version = self
                .versions
                .iter()
                .filter(|(prefix, _)| under(path, prefix))
                .max_by_key(|(prefix, _)| prefix.len())
                .map(|(prefix, v)| (prefix.as_str(), v));
            let lifecycle = LifecycleRuntime::new(&policy.lifecycle, version, path, policy.handler);
            let owner_denial = policy
                .authorization
                .owner
                .and_then(|o| o.denial)
                .or(self.owner_denial)
                .unwrap_or_default();
            let runtime = Arc::new(EndpointRuntime {
                engine: engine.clone(),
                policy,
                limiter,
                lifecycle,
                route: Arc::from(path),
                abuse: engine.abuse.endpoint(policy, path),
                owner_denial,
            });
            method_router = (pending.register)(method_router, runtime);
            let mut entry = InventoryEntry::new(&pending.method, path, policy);
            // The route parameter the owner is read from (a struct field's serde name).
            entry.owner = owner_param.or(entry.owner);
            if entry.owner.is_some() && owner_denial == crate::policy::OwnerDenial::Forbidden {
                entry.owner_status = Some(403);
            }
            entry.flow_budget = policy.flow.and_then(|f| engine.abuse.budget_text(f));
            if let Some((prefix, version)) = version {
                // The router's version fills in what the endpoint does not declare itself.
                let own = &policy.lifecycle;
                if own.deprecated.is_none() {
                    entry.deprecated = version.deprecated_date().map(|d| d.to_string());
                }
                if own.sunset.is_none() {
                    entry.sunset = version.sunset_date().map(|d| d.to_string());
                }
                if own.successor.is_none() {
                    entry.successor = version
                        .successor_prefix()
                        .map(|new| format!("{new}{}", &path[prefix.trim_end_matches('/').len()..]));
                }
            }
            self.inventory.push(entry);
        }
        self.router = self.router.route(path, method_router);
        self
    }

    /// Deprecates (and optionally sunsets) every endpoint under `prefix` (`/api/v1`): their
    /// responses carry `Deprecation`, `Sunset` and a `Link` to the successor, and after the
    /// sunset date they answer 410. An endpoint's own dates take precedence.
    ///
    /// # Panics
    /// When endpoints under `prefix` were routed before this call: declare the version first.
    pub fn version(mut self, prefix: &str, version: Version) -> Self {
        if let Some(entry) = self.inventory.iter().find(|e| under(&e.path, prefix)) {
            panic!(
                "`SecureRouter::version({prefix:?})` must come before the routes under it; `{}` is already routed",
                entry.path
            );
        }
        self.versions.push((prefix.to_owned(), version));
        self
    }

    /// What endpoints routed after this call answer for a resource that is another
    /// principal's, when their contract does not say (`owner_status = 403`): 404 by default
    /// (no existence oracle), [`OwnerDenial::Forbidden`](crate::policy::OwnerDenial) for an
    /// API whose published contract specifies 403. The inventory shows each endpoint's.
    ///
    /// # Panics
    /// When endpoints with `owner` were routed before this call: choose the status first.
    pub fn owner_status(mut self, denial: crate::policy::OwnerDenial) -> Self {
        if let Some(entry) = self.inventory.iter().find(|e| e.owner.is_some()) {
            panic!(
                "`SecureRouter::owner_status` must come before the routes it applies to; `{} {}` is already routed",
                entry.method, entry.path
            );
        }
        self.owner_denial = Some(denial);
        self
    }

    /// The security contract of every endpoint routed so far.
    pub fn inventory(&self) -> Inventory {
        Inventory::new(self.inventory.clone())
    }

    /// The finished `axum::Router`. Every response of its endpoints, and of its fallbacks
    /// (404 for an unknown route, 405 with `Allow` for an unrouted method), carries the
    /// security headers and the request id, and every error is a problem+json body.
    ///
    /// With CORS configured, a preflight is routed like any other request: to a routed path it
    /// is answered after the perimeter checks and the per-IP limit (see [`crate::cors`]); to
    /// any other path it is a 404.
    ///
    /// Each endpoint finishes its own response rather than through `Router::layer`, which
    /// would box and clone every route a second time on every request. Routes merged into the
    /// returned router afterwards are plain axum routes: wrap them in
    /// [`SecurityLayer`](crate::response::SecurityLayer) if they need the same treatment.
    pub fn into_router(self) -> Router<S> {
        let engine = self.security.engine.clone();
        let not_found = move |req: Request| {
            let engine = engine.clone();
            async move { fallback(&engine, req, StatusCode::NOT_FOUND).await }
        };
        let engine = self.security.engine.clone();
        let method_not_allowed = move |req: Request| {
            let engine = engine.clone();
            async move { fallback(&engine, req, StatusCode::METHOD_NOT_ALLOWED).await }
        };
        let cors = self.security.engine.cors.as_ref().map(|c| c.layer());
        let router = self
            .router
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed);
        match cors {
            Some(cors) => router
                .layer(cors)
                .layer(axum::middleware::from_fn_with_state(
                    self.security.engine.clone(),
                    crate::cors::guard,
                )),
            None => router,
        }
    }

    /// Provides the state and finishes the router (see [`into_router`](Self::into_router)).
    pub fn with_state<S2>(self, state: S) -> Router<S2> {
        self.into_router().with_state(state)
    }
}

impl SecureRouter<()> {
    /// A make-service that records each connection's peer address, which per-IP rate limits
    /// need: `axum::serve(listener, router.into_make_service())`. A router served without the
    /// peer's address answers every request with 500 (see [`perimeter`](crate::perimeter)).
    pub fn into_make_service(self) -> IntoMakeServiceWithConnectInfo<Router, SocketAddr> {
        self.into_router()
            .into_make_service_with_connect_info::<SocketAddr>()
    }
}

impl From<SecureRouter<()>> for Router {
    fn from(router: SecureRouter<()>) -> Router {
        router.into_router()
    }
}

/// Finishes `response` and, when anyone listens, emits its security event (which may turn
/// the answer into a 503 when the audit trail cannot take the event).
fn observe(
    observed: Option<Box<(EventContext, Arc<Engine>)>>,
    response: Response,
    request_id: &RequestId,
    renderer: Option<&Renderer>,
) -> Response {
    observe_with(observed, response, request_id, renderer, |_| {})
}

/// [`observe`], with `adjust` applied to the event before it is dispatched.
#[inline]
fn observe_with(
    observed: Option<Box<(EventContext, Arc<Engine>)>>,
    mut response: Response,
    request_id: &RequestId,
    renderer: Option<&Renderer>,
    adjust: impl FnOnce(&mut SecurityEvent),
) -> Response {
    let Some(observed) = observed else {
        return finish(response, request_id, renderer);
    };
    let (mut ctx, engine) = *observed;
    if let Some(seen) = response.extensions_mut().remove::<Seen>() {
        ctx.client_ip = seen.client_ip;
        ctx.principal = seen
            .principal
            .map(|p| (p.subject().to_owned(), p.scheme().as_str()));
        ctx.rate_fallback = seen.rate_fallback;
    }
    let response = finish(response, request_id, renderer);
    let mut event = ctx.event(&response, request_id.as_str());
    adjust(&mut event);
    match dispatch(&engine, event) {
        None => response,
        Some(refused) => finish(refused, request_id, renderer),
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

/// The answer of a fallback (404, or 405 to which axum adds `Allow`), after the perimeter
/// checks and the per-IP limit, so probing unknown routes and methods is limited like any
/// other request. With CORS configured, a preflight to a routed path (which reaches the 405
/// fallback: no endpoint takes `OPTIONS`) is answered here, after the same checks.
async fn fallback(engine: &Arc<Engine>, req: Request, status: StatusCode) -> Response {
    let (parts, _) = req.into_parts();
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
    let mut cors_refused = false;
    let response = match (refused, preflight) {
        (Some(problem), _) => problem.into_response(),
        (None, Some(cors)) => {
            let (response, allowed) = cors.preflight(&parts).await;
            cors_refused = !allowed;
            response
        }
        (None, None) => match status {
            StatusCode::NOT_FOUND => Problem::new(status).with_detail("No such route."),
            _ => Problem::new(status),
        }
        .into_response(),
    };
    let observed = engine.observing().then(|| {
        let mut ctx = EventContext::of(&parts.method, &parts.headers, route);
        ctx.client_ip = client.map(|c| c.ip);
        Box::new((ctx, engine.clone()))
    });
    observe_with(
        observed,
        response,
        &RequestId::from_request(&parts.headers),
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
