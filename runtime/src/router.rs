//! The secure router: it accepts only `#[secure_endpoint]` endpoints, collects their policies
//! into the inventory, and converts into a plain `axum::Router` wrapped in the security layer.

use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::MethodFilter;
use axum::Router;
use http::{Method, StatusCode};

use crate::config::Engine;
use crate::config::Security;
use crate::inventory::Inventory;
use crate::lifecycle::Version;
use crate::policy::EndpointPolicy;

mod compose;
mod fallback;
mod method;
mod observe;
mod secured;

use crate::pipeline::Erased;
use compose::{check_endpoint, entries};
use fallback::{fallback, guard_fallback, not_found};
use method::methods_text;
pub use method::{any, delete, get, head, on, options, patch, post, put};

struct Pending<S> {
    /// The methods it answers, one inventory entry each.
    methods: Vec<Method>,
    filter: MethodFilter,
    policy: &'static EndpointPolicy,
    /// [`SecureEndpoint::owner_field_param`] of the endpoint.
    owner_field: fn() -> Option<&'static str>,
    /// The endpoint's loader and wrapper.
    endpoint: Erased<S>,
}

/// The endpoints of one path, by method. Build it with [`get`], [`post`], [`put`], [`patch`],
/// [`delete`], [`head`], [`options`], [`any`] or [`on`] and chain more methods:
/// `get(show_user).put(update_user)`.
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
                    .map(|p| (methods_text(&p.methods), p.policy.handler)),
            )
            .finish()
    }
}
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
///
/// It composes like `axum::Router`: per-module routers are merged ([`merge`](Self::merge))
/// or nested under a prefix ([`nest`](Self::nest)), wrapped in layers ([`layer`](Self::layer),
/// [`route_layer`](Self::route_layer)), and given a [`fallback`](Self::fallback). A module
/// that has no [`Security`] at hand starts from [`SecureRouter::module`]:
///
/// ```
/// use secure_endpoint::{routing::get, secure_endpoint, Security, SecureRouter};
///
/// mod users {
///     use secure_endpoint::{routing::get, secure_endpoint, SecureRouter};
///
///     #[secure_endpoint(auth = "none", rate = "10/s")]
///     async fn list() -> &'static str {
///         "[]"
///     }
///
///     pub fn router() -> SecureRouter {
///         SecureRouter::module().route("/users", get(list))
///     }
/// }
///
/// #[secure_endpoint(auth = "none", rate = "10/s")]
/// async fn health() -> &'static str {
///     "ok"
/// }
///
/// let secured = SecureRouter::new(Security::builder().build())
///     .route("/health", get(health))
///     .nest("/api", users::router()); // GET /api/users, in the inventory as such
/// assert_eq!(secured.inventory().endpoints[1].path, "/api/users");
/// // An application router with a fallback of its own takes the secured routes in.
/// let app = axum::Router::new()
///     .route("/", axum::routing::get(|| async { "home" }))
///     .fallback(|| async { "not here" })
///     .merge(secured);
/// ```
#[must_use]
pub struct SecureRouter<S = ()> {
    /// `None` for a [`module`](Self::module) router until it is merged or nested.
    pub(crate) security: Option<Security>,
    items: Vec<compose::Item<S>>,
    versions: Vec<(String, Version)>,
    /// [`owner_status`](Self::owner_status): the status for another principal's resource.
    owner_denial: Option<crate::policy::OwnerDenial>,
    fallback: Option<compose::UserFallback<S>>,
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
            .field("endpoints", &compose::count(&self.items))
            .finish()
    }
}

impl<S: Clone + Send + Sync + 'static> SecureRouter<S> {
    /// An empty router enforcing with `security`.
    pub fn new(security: Security) -> Self {
        SecureRouter {
            security: Some(security),
            items: Vec::new(),
            versions: Vec::new(),
            fallback: None,
            owner_denial: None,
            _state: PhantomData,
        }
    }

    /// An empty router for one module's endpoints (`users::router()`), without a
    /// [`Security`] of its own: it enforces with the [`Security`] of the router it is
    /// [merged](Self::merge) or [nested](Self::nest) into. The start-up checks that need the
    /// configuration (an authentication scheme it lacks, a flow without a budget) run then.
    ///
    /// # Panics
    /// [`into_router`](Self::into_router) panics on a module router that was not merged or
    /// nested into one made with [`new`](Self::new).
    pub fn module() -> Self {
        SecureRouter {
            security: None,
            items: Vec::new(),
            versions: Vec::new(),
            fallback: None,
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
    /// `flow` the [`Security`] gives no budget. Under [`nest`](Self::nest) the same checks
    /// run again on the path with its prefix.
    pub fn route(mut self, path: &str, methods: SecureMethodRouter<S>) -> Self {
        let engine = self.security.as_ref().map(|s| &*s.engine);
        for pending in &methods.pending {
            check_endpoint(engine, path, pending);
        }
        self.items.push(compose::Item::Route {
            denial: self.owner_denial,
            path: path.to_owned(),
            methods: methods.pending,
        });
        self
    }

    /// Adds every route of `other`, with its layers, versions and fallback, as axum's
    /// `Router::merge` does. Both routers enforce with this router's [`Security`] (or
    /// `other`'s, when this one is a [`module`](Self::module)).
    ///
    /// # Panics
    /// When both routers were made with [`new`](Self::new) from different `Security`
    /// values (clones of one are the same), or both have a [`fallback`](Self::fallback).
    pub fn merge(self, other: SecureRouter<S>) -> Self {
        self.adopt(String::new(), other)
    }

    /// Adds every route of `other` under `prefix` (`/api`, `/orgs/{org_id}`): `GET /users`
    /// in `other` is `GET /api/users` here, in the inventory, the OpenAPI document, the
    /// security events, the rate limits' keys and the path a signed request signs. The
    /// endpoints see the whole path, prefix included (unlike axum's `Router::nest`, nothing
    /// is stripped), and the start-up checks run again on it: an `owner` bound by position
    /// must account for a parameter of the prefix.
    ///
    /// # Panics
    /// As [`merge`](Self::merge); when `prefix` is empty, `/`, does not start with `/` or
    /// holds a wildcard; when `other` has a [`fallback`](Self::fallback) (give it to the
    /// outer router instead); and when an endpoint of `other` fails its start-up checks on
    /// the prefixed path.
    pub fn nest(self, prefix: &str, other: SecureRouter<S>) -> Self {
        assert!(
            prefix.starts_with('/') && prefix != "/" && !prefix.contains('*'),
            "`SecureRouter::nest({prefix:?}, ...)`: the prefix must start with `/`, not be `/` \
             (use `merge`) and hold no wildcard"
        );
        assert!(
            other.fallback.is_none(),
            "`SecureRouter::nest({prefix:?}, ...)`: the nested router has a fallback; give the \
             fallback to the outer router"
        );
        let prefix = prefix.trim_end_matches('/').to_owned();
        self.adopt(prefix, other)
    }

    fn adopt(mut self, prefix: String, mut other: SecureRouter<S>) -> Self {
        self.security = match (self.security.take(), other.security.take()) {
            (Some(a), Some(b)) => {
                assert!(
                    Arc::ptr_eq(&a.engine, &b.engine),
                    "`SecureRouter::merge`/`nest`: the two routers were built from different \
                     `Security` values; build module routers with `SecureRouter::module()` or \
                     from clones of one `Security`"
                );
                Some(a)
            }
            (a, b) => a.or(b),
        };
        if let Some(fallback) = other.fallback.take() {
            assert!(
                self.fallback.is_none(),
                "`SecureRouter::merge`: both routers have a fallback"
            );
            self.fallback = Some(fallback);
        }
        // The checks, on the paths as they now are, with this router's configuration.
        let engine = self.security.as_ref().map(|s| &*s.engine);
        compose::walk(&other.items, &prefix, None, &mut |path, pending, _| {
            check_endpoint(engine, path, pending);
        });
        self.items.push(compose::Item::Group {
            prefix,
            router: Box::new(other),
        });
        self
    }

    /// Wraps every route added so far, and the router's 404 and fallback answers, in `layer`
    /// (a `tower::Layer`, as axum's `Router::layer` takes). It runs outside the security
    /// pipeline: before the per-IP limit and authentication, after the response is finished.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as tower::Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as tower::Service<Request>>::Error: Into<std::convert::Infallible> + 'static,
        <L::Service as tower::Service<Request>>::Future: Send + 'static,
    {
        self.items.push(compose::Item::Layer {
            routes_only: false,
            apply: Arc::new(move |router: Router<S>| router.layer(layer.clone())),
        });
        self
    }

    /// Wraps every route added so far in `layer`, as axum's `Router::route_layer`: only a
    /// request that matches a route reaches it (not a 404).
    pub fn route_layer<L>(mut self, layer: L) -> Self
    where
        L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as tower::Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as tower::Service<Request>>::Error: Into<std::convert::Infallible> + 'static,
        <L::Service as tower::Service<Request>>::Future: Send + 'static,
    {
        self.items.push(compose::Item::Layer {
            routes_only: true,
            apply: Arc::new(move |router: Router<S>| router.route_layer(layer.clone())),
        });
        self
    }

    /// Answers requests to unrouted paths with `handler` (a plain axum handler) instead of
    /// the 404 problem. The request goes through the perimeter checks and the per-IP limit
    /// first, and the answer is finished like every other (security headers, request id,
    /// problem bodies for errors).
    ///
    /// Like axum, an `axum::Router` with a fallback cannot be merged into another that has
    /// one: without this call the secured router's 404 is axum's default fallback (answered
    /// as a problem), which an application router's own fallback replaces on `merge`.
    ///
    /// # Panics
    /// When the router already has a fallback.
    pub fn fallback<H, T>(mut self, handler: H) -> Self
    where
        H: axum::handler::Handler<T, S>,
        T: 'static,
    {
        assert!(
            self.fallback.is_none(),
            "`SecureRouter::fallback`: the router already has a fallback"
        );
        self.fallback = Some(Box::new(move |router: Router<S>, engine: &Arc<Engine>| {
            router.fallback(handler.layer(axum::middleware::from_fn_with_state(
                engine.clone(),
                guard_fallback,
            )))
        }));
        self
    }

    /// Deprecates (and optionally sunsets) every endpoint under `prefix` (`/api/v1`): their
    /// responses carry `Deprecation`, `Sunset` and a `Link` to the successor, and after the
    /// sunset date they answer 410. An endpoint's own dates take precedence. Under
    /// [`nest`](Self::nest), `prefix` gains the nesting prefix.
    ///
    /// # Panics
    /// When endpoints under `prefix` were routed before this call: declare the version first.
    pub fn version(mut self, prefix: &str, version: Version) -> Self {
        let mut routed = None;
        compose::walk(&self.items, "", None, &mut |path, _, _| {
            if routed.is_none() && under(path, prefix) {
                routed = Some(path.to_owned());
            }
        });
        if let Some(path) = routed {
            panic!(
                "`SecureRouter::version({prefix:?})` must come before the routes under it; `{path}` is already routed"
            );
        }
        self.versions.push((prefix.to_owned(), version));
        self
    }

    /// What endpoints routed after this call answer for a resource that is another
    /// principal's, when their contract does not say (`owner_status = 403`): 404 by default
    /// (no existence oracle), [`OwnerDenial::Forbidden`](crate::policy::OwnerDenial) for an
    /// API whose published contract specifies 403. Routers merged or nested into this one keep
    /// their own choice, and take this one where they made none. The inventory shows each
    /// endpoint's.
    ///
    /// # Panics
    /// When endpoints with `owner` were routed before this call: choose the status first.
    pub fn owner_status(mut self, denial: crate::policy::OwnerDenial) -> Self {
        let mut routed = None;
        compose::walk(&self.items, "", None, &mut |path, pending, _| {
            if routed.is_none() && pending.policy.authorization.owner.is_some() {
                routed = Some(format!("{} {path}", method::methods_text(&pending.methods)));
            }
        });
        if let Some(routed) = routed {
            panic!(
                "`SecureRouter::owner_status` must come before the routes it applies to; `{routed}` is already routed"
            );
        }
        self.owner_denial = Some(denial);
        self
    }

    /// The security contract of every endpoint routed so far, with full paths (nesting
    /// prefixes included).
    pub fn inventory(&self) -> Inventory {
        let engine = self.security.as_ref().map(|s| &*s.engine);
        let versions = compose::versions(self);
        let mut all = Vec::new();
        compose::walk(&self.items, "", None, &mut |path, pending, denial| {
            all.extend(entries(engine, path, pending, &versions, denial));
        });
        Inventory::new(all).with_credentials(
            engine
                .and_then(|e| e.jwt.as_ref())
                .map(|j| j.credential_locations()),
            engine.and_then(|e| e.api_key_credentials.as_ref()),
        )
    }

    /// The finished `axum::Router`. Every response of its endpoints, and of its fallbacks
    /// (404 for an unknown route, 405 with `Allow` for an unrouted method), carries the
    /// security headers and the request id, and every error is a problem+json body.
    ///
    /// The 404 is axum's *default* fallback, answered by the secure router: an application
    /// router that has a fallback of its own can `merge` the returned router (its fallback
    /// then answers unknown paths; axum panics when both routers have an explicit one). The
    /// 405 stays with each secured path.
    ///
    /// With CORS configured, a preflight is routed like any other request: to a routed path it
    /// is answered after the perimeter checks and the per-IP limit (see [`crate::cors`]); to
    /// any other path it is a 404.
    ///
    /// Each endpoint finishes its own response rather than through `Router::layer`, which
    /// would box and clone every route a second time on every request. Routes merged into the
    /// returned router afterwards are plain axum routes: wrap them in
    /// [`SecurityLayer`](crate::response::SecurityLayer) if they need the same treatment.
    ///
    /// # Panics
    /// On a [`module`](Self::module) router never merged into one with a [`Security`].
    pub fn into_router(self) -> Router<S> {
        let security = self.security.clone().expect(
            "`SecureRouter::module()` has no `Security`: merge or nest it into a router made \
             with `SecureRouter::new(security)`",
        );
        let engine = security.engine;
        let versions = compose::versions(&self);
        let SecureRouter {
            items,
            fallback: user_fallback,
            ..
        } = self;
        // Unknown paths: axum's default fallback, kept a *default* one (see above) by
        // layering it rather than replacing it; the router's own layers wrap it as well.
        let mut not_found = Router::new().layer(axum::middleware::from_fn_with_state(
            engine.clone(),
            not_found,
        ));
        for item in &items {
            if let compose::Item::Layer {
                routes_only: false,
                apply,
            } = item
            {
                not_found = apply(not_found);
            }
        }
        let routes = compose::build(items, "", &engine, &versions, None);
        let mut router = routes.merge(not_found);
        if let Some(user_fallback) = user_fallback {
            router = user_fallback(router, &engine);
        }
        let engine_405 = engine.clone();
        let method_not_allowed = move |req: Request| {
            let engine = engine_405.clone();
            async move { fallback(&engine, req, StatusCode::METHOD_NOT_ALLOWED).await }
        };
        let cors = engine.cors.as_ref().map(|c| c.layer());
        let router = router.method_not_allowed_fallback(method_not_allowed);
        match cors {
            Some(cors) => router
                .layer(cors)
                .layer(axum::middleware::from_fn_with_state(
                    Arc::new(crate::cors::CorsGuard::new(
                        engine.observer.clone(),
                        engine.perimeter.clone(),
                    )),
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
