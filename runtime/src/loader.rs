//! Loaders that see what they need: [`LoadOwned`] loads the resource an endpoint's `owner`
//! names with every path parameter of the request (by name, or typed as axum's `Path` reads
//! them), the router's state, and the request's extensions (state added with
//! `axum::Extension`). The ownership check still runs before the body is read and before the
//! handler.
//!
//! ```
//! use secure_endpoint::{LoadContext, LoadOwned};
//! use secure_endpoint::Problem;
//!
//! #[derive(Clone)]
//! struct Db;
//! impl Db {
//!     async fn comment(&self, slug: &str, id: u64) -> Option<Comment> {
//!         (slug == "hello" && id == 1).then(|| Comment { author: "alice".into() })
//!     }
//! }
//!
//! struct Comment {
//!     author: String,
//! }
//!
//! /// `/articles/{slug}/comments/{id}`: the comment must belong to the article in the path.
//! impl LoadOwned<Db> for Comment {
//!     async fn load(mut request: LoadContext<'_, Db>) -> Result<Option<Self>, Problem> {
//!         let (slug, id): (String, u64) = request.path().await?;
//!         Ok(request.state().comment(&slug, id).await)
//!     }
//!
//!     fn owner_id(&self) -> &str {
//!         &self.author
//!     }
//! }
//! ```

use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use crate::authz::{OwnedResource, Slot};
use crate::extract::Principal;
use crate::extract::RequestContext;
use crate::policy::OwnerDenial;
use crate::problem::Problem;

/// A resource that belongs to a principal, loaded from what the request names: used with
/// `#[secure_endpoint(owner = "id", loader = Comment)]` like [`OwnedResource`], which loads by
/// the owner parameter alone (every `OwnedResource` is a `LoadOwned`).
///
/// Before the handler runs, the runtime calls [`load`](Self::load): `Ok(None)` (no such
/// resource, or not the one the path names, such as a comment of another article) is a 404;
/// a resource whose [`owner_id`](Self::owner_id) is not the principal's subject is refused
/// with the endpoint's ownership status (404 unless `owner_status = 403`); otherwise the
/// handler receives it as [`Owned<T>`](crate::Owned).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a `loader`: it implements neither `OwnedResource<{S}>` nor `LoadOwned<{S}>`",
    label = "not a loader for this router's state",
    note = "implement `OwnedResource<{S}>` to load by the owner parameter, or `LoadOwned<{S}>` to see every path parameter, the state and the request's extensions"
)]
pub trait LoadOwned<S>: Sized + Send + Sync + 'static {
    /// Loads the resource the request names; `Ok(None)` when there is none.
    fn load(
        request: LoadContext<'_, S>,
    ) -> impl Future<Output = Result<Option<Self>, Problem>> + Send;

    /// The subject of the principal that owns the resource.
    fn owner_id(&self) -> &str;
}

impl<S: Sync, T: OwnedResource<S>> LoadOwned<S> for T {
    fn load(
        request: LoadContext<'_, S>,
    ) -> impl Future<Output = Result<Option<Self>, Problem>> + Send {
        <T as OwnedResource<S>>::load(request.state, request.id)
    }

    fn owner_id(&self) -> &str {
        <T as OwnedResource<S>>::owner_id(self)
    }
}

/// What a [`LoadOwned`] loader sees of the request: its path parameters, the router's state,
/// the request's extensions and head, and the authenticated principal.
pub struct LoadContext<'a, S> {
    parts: &'a mut Parts,
    state: &'a S,
    principal: &'a Principal,
    id: &'a str,
    params: &'a [(String, String)],
}

impl<S> std::fmt::Debug for LoadContext<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadContext")
            .field("id", &self.id)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl<'a, S> LoadContext<'a, S> {
    /// The router's state.
    pub fn state(&self) -> &'a S {
        self.state
    }

    /// The owner parameter's value (`owner = "id"`: the `{id}` of the path), percent-decoded.
    pub fn id(&self) -> &'a str {
        self.id
    }

    /// The path parameter `name`, percent-decoded; `None` when the route has none of that
    /// name, or more than one (a nesting prefix repeating it).
    pub fn param(&self, name: &str) -> Option<&'a str> {
        let params = self.params;
        let mut values = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        match (values.next(), values.next()) {
            (Some(value), None) => Some(value.as_str()),
            _ => None,
        }
    }

    /// The path parameters as axum's `Path<T>` reads them (a tuple by position, a struct by
    /// name, numbers and UUIDs parsed). A path that does not read as `T` is a 404: it names
    /// no resource.
    pub async fn path<T>(&mut self) -> Result<T, Problem>
    where
        T: serde::de::DeserializeOwned + Send,
    {
        axum::extract::Path::<T>::from_request_parts(self.parts, &())
            .await
            .map(|axum::extract::Path(value)| value)
            .map_err(|_| Problem::not_found())
    }

    /// A request extension, such as state added with `axum::Extension` (a `.layer(Extension(
    /// pool))` on the router).
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.parts.extensions.get::<T>()
    }

    /// The request's head (method, URI, headers, extensions).
    pub fn parts(&self) -> &Parts {
        self.parts
    }

    /// The authenticated principal the resource is being loaded for.
    pub fn principal(&self) -> &'a Principal {
        self.principal
    }
}

/// Loads the resource with `T`, checks its owner, and hands it to `Owned<T>`. Not public API.
///
/// Its future is declared `Send` (as `endpoint::extract_parts`'s is), so that an endpoint's
/// proof that its own future is `Send` stops here instead of walking the loader's.
#[doc(hidden)]
#[allow(clippy::manual_async_fn)] // the `Send` in the signature is the point
pub fn load_owned<'a, T: LoadOwned<S>, S: Send + Sync>(
    parts: &'a mut Parts,
    state: &'a S,
    principal: &'a Principal,
    param: &'static str,
) -> impl Future<Output = Result<(), Response>> + Send + 'a {
    async move {
        let denial = parts
            .extensions
            .get::<RequestContext>()
            .map_or(OwnerDenial::NotFound, |c| c.owner_denial);
        let not_found = || {
            Problem::not_found()
                .with_reason("not_owner")
                .into_response()
        };
        let params: Vec<(String, String)> =
            match axum::extract::RawPathParams::from_request_parts(parts, &()).await {
                Ok(params) => params
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
                Err(_) => return Err(not_found()),
            };
        // The owner parameter named once: a name repeated by a nesting prefix names two values,
        // and loading one of them could authorize a resource other than the one the handler reads.
        let mut values = params.iter().filter(|(k, _)| k == param).map(|(_, v)| v);
        let id = match (values.next(), values.next()) {
            (Some(id), None) => id.clone(),
            _ => return Err(not_found()),
        };
        let request = LoadContext {
            parts: &mut *parts,
            state,
            principal,
            id: &id,
            params: &params,
        };
        match T::load(request).await {
            Ok(Some(resource)) if resource.owner_id() == principal.subject() => {
                parts
                    .extensions
                    .insert(Slot(Arc::new(Mutex::new(Some(resource)))));
                Ok(())
            }
            Ok(Some(_)) => Err(denial.problem().into_response()),
            Ok(None) => Err(not_found()),
            Err(problem) => Err(problem.into_response()),
        }
    }
}
