//! How a [`SecureRouter`](super::SecureRouter) keeps what it is composed of until it is
//! finished: routes, merged and nested routers, and layers, in the order they were added.
//! Nothing is registered with axum before [`into_router`](super::SecureRouter::into_router),
//! so a nested router's endpoints are built once, on their full paths (prefix included),
//! with the configuration of the router they end up in.

use std::sync::Arc;

use axum::routing::MethodRouter;
use axum::Router;

use super::method::methods_text;
use super::secured::SecuredRoute;
use super::{under, Pending, SecureRouter};
use crate::config::Engine;
use crate::inventory::InventoryEntry;
use crate::lifecycle::{LifecycleRuntime, Version};
use crate::pipeline::EndpointRuntime;
use crate::policy::{AuthScheme, Authentication, OwnerDenial};

/// A layer, applied to the routes added before it (as axum's `Router::layer` does).
pub(super) type ApplyLayer<S> = Arc<dyn Fn(Router<S>) -> Router<S> + Send + Sync>;

/// A user's fallback, installed on the finished router with the configuration's engine.
pub(super) type UserFallback<S> = Box<dyn FnOnce(Router<S>, &Arc<Engine>) -> Router<S> + Send>;

/// One step of a router's composition.
pub(super) enum Item<S> {
    /// `route(path, methods)`, `path` relative to the router.
    Route {
        /// The router's [`owner_status`](super::SecureRouter::owner_status) when routed.
        denial: Option<OwnerDenial>,
        path: String,
        methods: Vec<Pending<S>>,
    },
    /// `merge(router)` (empty prefix) or `nest(prefix, router)`.
    Group {
        prefix: String,
        router: Box<SecureRouter<S>>,
    },
    /// `layer` (`routes_only: false`) or `route_layer` (`true`).
    Layer {
        routes_only: bool,
        apply: ApplyLayer<S>,
    },
}

/// `prefix` and `path` joined as axum's `nest` joins them: `/api` and `/` give `/api`.
pub(super) fn join(prefix: &str, path: &str) -> String {
    match (prefix, path) {
        ("", path) => path.to_owned(),
        (prefix, "/") => prefix.to_owned(),
        (prefix, path) => format!("{prefix}{path}"),
    }
}

/// What [`walk`] calls for each endpoint: its full path, its pending registration and its
/// router's ownership status.
pub(super) type Visit<'a, S> = dyn FnMut(&str, &Pending<S>, Option<OwnerDenial>) + 'a;

/// Calls `each` with the full path, the endpoints and the router's ownership status of every
/// route, in the order routed; a route whose router chose none takes `inherited` (the status
/// of the router it was merged or nested into).
pub(super) fn walk<S>(
    items: &[Item<S>],
    prefix: &str,
    inherited: Option<OwnerDenial>,
    each: &mut Visit<'_, S>,
) {
    for item in items {
        match item {
            Item::Route {
                denial,
                path,
                methods,
            } => {
                let path = join(prefix, path);
                for pending in methods {
                    each(&path, pending, denial.or(inherited));
                }
            }
            Item::Group { prefix: p, router } => walk(
                &router.items,
                &join(prefix, p),
                router.owner_denial.or(inherited),
                each,
            ),
            Item::Layer { .. } => {}
        }
    }
}

/// How many endpoints (method routers' entries) `items` hold.
pub(super) fn count<S>(items: &[Item<S>]) -> usize {
    let mut n = 0;
    walk(items, "", None, &mut |_, _, _| n += 1);
    n
}

/// Every version of `router` and the routers it holds, by full prefix.
pub(super) fn versions<S>(router: &SecureRouter<S>) -> Vec<(String, Version)> {
    fn collect<S>(router: &SecureRouter<S>, prefix: &str, out: &mut Vec<(String, Version)>) {
        for (p, version) in &router.versions {
            out.push((join(prefix, p), version.clone()));
        }
        for item in &router.items {
            if let Item::Group { prefix: p, router } = item {
                collect(router, &join(prefix, p), out);
            }
        }
    }
    let mut out = Vec::new();
    collect(router, "", &mut out);
    out
}

/// The axum router of `items` under `prefix`: each route registered on its full path by
/// [`register`], each group built the same way and merged, each layer applied to what precedes
/// it. The result has axum's default fallback; the caller installs the secure router's own.
pub(super) fn build<S: Clone + Send + Sync + 'static>(
    items: Vec<Item<S>>,
    prefix: &str,
    engine: &Arc<Engine>,
    versions: &[(String, Version)],
    inherited: Option<OwnerDenial>,
) -> Router<S> {
    let mut router = Router::new();
    for item in items {
        router = match item {
            Item::Route {
                denial,
                path,
                methods,
            } => {
                let path = join(prefix, &path);
                let method_router =
                    register(engine, &path, methods, versions, denial.or(inherited));
                router.route(&path, method_router)
            }
            Item::Group {
                prefix: p,
                router: group,
            } => {
                let SecureRouter {
                    items,
                    owner_denial,
                    ..
                } = *group;
                router.merge(build(
                    items,
                    &join(prefix, &p),
                    engine,
                    versions,
                    owner_denial.or(inherited),
                ))
            }
            Item::Layer { apply, .. } => apply(router),
        };
    }
    router
}

/// The start-up checks of one endpoint on `path` (its full path, prefixes included); the
/// route parameter the owner is read from, when the endpoint has an owner. `engine` is `None`
/// for a [`SecureRouter::module`] not yet merged into a router with a [`Security`].
pub(super) fn check_endpoint<S>(
    engine: Option<&Engine>,
    path: &str,
    pending: &Pending<S>,
) -> Option<&'static str> {
    let policy = pending.policy;
    let owner_param = policy.authorization.owner.map(|owner| {
        crate::authz::owner_route_param(policy.handler, path, owner, (pending.owner_field)())
    });
    if let Some(engine) = engine {
        engine.abuse.check_flow(policy);
    }
    let (Some(engine), Authentication::Required(schemes) | Authentication::Optional(schemes)) =
        (engine, policy.auth)
    else {
        return owner_param;
    };
    for scheme in schemes {
        let available = match scheme {
            AuthScheme::Jwt => engine.jwt.is_some(),
            AuthScheme::ApiKey => engine.api_keys.is_some(),
            AuthScheme::Hmac => engine.hmac.is_some(),
            AuthScheme::Dpop => engine.jwt.is_some() && engine.dpop.is_some(),
            AuthScheme::Mtls => {
                crate::auth::mtls::configured(engine.mtls.as_ref(), &engine.perimeter)
            }
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
                AuthScheme::Dpop => "; call `Security::builder().jwt(...)` and `.dpop(...)`",
                AuthScheme::Mtls => "; call `Security::builder().mtls(...)`",
            },
        );
    }
    owner_param
}

/// The inventory entries of one endpoint on `path` (its full path), after its start-up
/// checks. `versions` are every version of the finished router, by full prefix.
pub(super) fn entries<S>(
    engine: Option<&Engine>,
    path: &str,
    pending: &Pending<S>,
    versions: &[(String, Version)],
    denial: Option<OwnerDenial>,
) -> Vec<InventoryEntry> {
    let policy = pending.policy;
    let forbidden = owner_denial(policy, denial) == OwnerDenial::Forbidden;
    let owner_param = check_endpoint(engine, path, pending);
    let version = version_of(versions, path);
    pending
        .methods
        .iter()
        .map(|method| {
            let mut entry = InventoryEntry::new(method, path, policy);
            // The route parameter the owner is read from (a struct field's serde name).
            entry.owner = owner_param.or(entry.owner);
            if entry.owner.is_some() && forbidden {
                entry.owner_status = Some(403);
            }
            entry.flow_budget =
                engine.and_then(|e| policy.flow.and_then(|f| e.abuse.budget_text(f)));
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
            entry
        })
        .collect()
}

/// What the endpoint answers for another principal's resource: its contract's
/// `owner_status`, else its router's, else 404.
fn owner_denial(
    policy: &crate::policy::EndpointPolicy,
    router: Option<OwnerDenial>,
) -> OwnerDenial {
    policy
        .authorization
        .owner
        .and_then(|o| o.denial)
        .or(router)
        .unwrap_or_default()
}

/// The version of the longest prefix `path` is under.
pub(super) fn version_of<'v>(
    versions: &'v [(String, Version)],
    path: &str,
) -> Option<(&'v str, &'v Version)> {
    versions
        .iter()
        .filter(|(prefix, _)| under(path, prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(prefix, v)| (prefix.as_str(), v))
}

/// The method router of the endpoints `methods` on `path` (their full path), each with its
/// enforcing runtime.
pub(super) fn register<S: Clone + Send + Sync + 'static>(
    engine: &Arc<Engine>,
    path: &str,
    methods: Vec<Pending<S>>,
    versions: &[(String, Version)],
    denial: Option<OwnerDenial>,
) -> MethodRouter<S> {
    let mut method_router = MethodRouter::new();
    for pending in methods {
        let policy = pending.policy;
        check_endpoint(Some(engine), path, &pending);
        let limiter = match policy.rate {
            Some(rate) => Arc::new(engine.limiter(
                "endpoint",
                &format!("{} {path}", methods_text(&pending.methods)),
                rate,
            )),
            None => engine.default_limiter.clone(),
        };
        let version = version_of(versions, path);
        let lifecycle = LifecycleRuntime::new(&policy.lifecycle, version, path, policy.handler);
        let runtime = Arc::new(EndpointRuntime {
            engine: engine.clone(),
            policy,
            limiter,
            lifecycle,
            route: Arc::from(path),
            abuse: engine.abuse.endpoint(policy, path),
            owner_denial: owner_denial(policy, denial),
        });
        method_router = method_router.on(
            pending.filter,
            SecuredRoute {
                runtime,
                endpoint: pending.endpoint,
            },
        );
    }
    method_router
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn joins_as_axum_nests() {
        assert_eq!(join("", "/users"), "/users");
        assert_eq!(join("/api", "/users"), "/api/users");
        assert_eq!(join("/api", "/"), "/api");
        assert_eq!(
            join("/orgs/{org_id}", "/items/{id}"),
            "/orgs/{org_id}/items/{id}"
        );
    }
}
