//! Authorization: roles and scopes (403), then ownership (404, never 403: no existence oracle).

use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use crate::auth::Principal;
use crate::policy::Authorization;
use crate::problem::Problem;

/// Checks roles (any one of them) and scopes (all of them).
#[inline]
pub(crate) fn check_roles_and_scopes(
    authz: &Authorization,
    principal: &Principal,
) -> Result<(), Problem> {
    if !authz.roles.is_empty() && !authz.roles.iter().any(|r| principal.has_role(r)) {
        return Err(Problem::forbidden().with_reason("role_missing"));
    }
    if !authz.scopes.iter().all(|s| principal.has_scope(s)) {
        return Err(Problem::forbidden()
            .with_reason("scope_missing")
            .with_code("insufficient_scope")
            .with_header(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static(
                    "Bearer realm=\"api\", error=\"insufficient_scope\"",
                ),
            ));
    }
    Ok(())
}

/// A resource that belongs to a principal and can be loaded by its path id.
///
/// Used with `#[secure_endpoint(owner = "order_id", loader = Order)]`: before the handler
/// runs, the runtime loads the resource with the `order_id` path parameter and admits the
/// request only if the resource exists and [`owner_id`](Self::owner_id) equals the principal's
/// subject. Otherwise the caller gets the same 404 either way. The handler receives the loaded
/// value through [`Owned`].
pub trait OwnedResource<S>: Sized + Send + Sync + 'static {
    /// Loads the resource with this id; `Ok(None)` when there is none.
    fn load(state: &S, id: &str) -> impl Future<Output = Result<Option<Self>, Problem>> + Send;

    /// The subject of the principal that owns the resource.
    fn owner_id(&self) -> &str;
}

/// The resource loaded and authorized before the handler ran (see [`OwnedResource`]).
#[derive(Debug)]
pub struct Owned<T>(pub T);

struct Slot<T>(Arc<Mutex<Option<T>>>);

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Slot(self.0.clone())
    }
}

impl<S: Send + Sync, T: Send + Sync + 'static> FromRequestParts<S> for Owned<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        parts
            .extensions
            .remove::<Slot<T>>()
            .and_then(|slot| slot.0.lock().ok()?.take())
            .map(Owned)
            // Only reachable when `Owned<T>` is used without `loader = T`: a programming error.
            .ok_or_else(Problem::internal)
    }
}

/// Runs `f` on the path parameter `param` of the request, percent-decoded.
pub(crate) async fn with_path_param<R>(
    parts: &mut Parts,
    param: &str,
    f: impl FnOnce(Option<&str>) -> R,
) -> R {
    let params = axum::extract::RawPathParams::from_request_parts(parts, &())
        .await
        .ok();
    f(params
        .as_ref()
        .and_then(|p| p.iter().find(|(k, _)| *k == param).map(|(_, v)| v)))
}

#[doc(hidden)]
pub async fn load_owned<T: OwnedResource<S>, S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    principal: &Principal,
    param: &'static str,
) -> Result<(), Response> {
    let Some(id) = with_path_param(parts, param, |v| v.map(str::to_owned)).await else {
        return Err(Problem::not_found()
            .with_reason("not_owner")
            .into_response());
    };
    match T::load(state, &id).await {
        Ok(Some(resource)) if resource.owner_id() == principal.subject() => {
            parts
                .extensions
                .insert(Slot(Arc::new(Mutex::new(Some(resource)))));
            Ok(())
        }
        Ok(_) => Err(Problem::not_found()
            .with_reason("not_owner")
            .into_response()),
        Err(problem) => Err(problem.into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::AuthScheme;

    const AUTHZ: Authorization = Authorization {
        any_authenticated: false,
        roles: &["admin", "ops"],
        scopes: &["a", "b"],
        owner: None,
    };

    #[test]
    fn roles_any_scopes_all() {
        let p = |roles: &[&str], scopes: &[&str]| {
            Principal::new(
                "x",
                roles.iter().map(|s| s.to_string()).collect(),
                scopes.iter().map(|s| s.to_string()).collect(),
                AuthScheme::Jwt,
            )
        };
        assert!(check_roles_and_scopes(&AUTHZ, &p(&["ops"], &["a", "b"])).is_ok());
        assert!(check_roles_and_scopes(&AUTHZ, &p(&["user"], &["a", "b"])).is_err());
        assert!(check_roles_and_scopes(&AUTHZ, &p(&["admin"], &["a"])).is_err());
    }
}
