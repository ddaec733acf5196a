//! The method routers: which methods an endpoint answers on its path.

use axum::routing::MethodFilter;
use http::Method;

use super::{Pending, SecureMethodRouter};
use crate::endpoint::{EndpointHandler, SecureEndpoint};
use crate::pipeline::Erased;
use crate::policy::EndpointPolicy;

/// The methods a [`MethodFilter`] holds that the inventory can name, in this order.
const METHODS: [(Method, MethodFilter); 9] = [
    (Method::GET, MethodFilter::GET),
    (Method::HEAD, MethodFilter::HEAD),
    (Method::POST, MethodFilter::POST),
    (Method::PUT, MethodFilter::PUT),
    (Method::PATCH, MethodFilter::PATCH),
    (Method::DELETE, MethodFilter::DELETE),
    (Method::OPTIONS, MethodFilter::OPTIONS),
    (Method::TRACE, MethodFilter::TRACE),
    (Method::CONNECT, MethodFilter::CONNECT),
];

/// What [`any`] answers: every method but `TRACE` and `CONNECT` (route those with [`on`]).
const ANY: MethodFilter = MethodFilter::GET
    .or(MethodFilter::HEAD)
    .or(MethodFilter::POST)
    .or(MethodFilter::PUT)
    .or(MethodFilter::PATCH)
    .or(MethodFilter::DELETE)
    .or(MethodFilter::OPTIONS);

/// `GET`, or `GET,POST` for an endpoint answering several methods.
pub(super) fn methods_text(methods: &[Method]) -> String {
    methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

impl<S: Clone + Send + Sync + 'static> SecureMethodRouter<S> {
    fn add<E: EndpointHandler<S>>(self, filter: MethodFilter, endpoint: E) -> Self {
        let _ = endpoint;
        self.push(filter, E::POLICY, E::owner_field_param, Erased::of::<E>())
    }

    /// What `add` does that does not depend on the endpoint's type: compiled once per state
    /// type, not once per endpoint.
    fn push(
        mut self,
        filter: MethodFilter,
        policy: &'static EndpointPolicy,
        owner_field: fn() -> Option<&'static str>,
        endpoint: Erased<S>,
    ) -> Self {
        let methods: Vec<Method> = METHODS
            .iter()
            .filter(|(_, f)| filter.or(*f) == filter)
            .map(|(m, _)| m.clone())
            .collect();
        self.pending.push(Pending {
            methods,
            filter,
            policy,
            owner_field,
            endpoint,
        });
        self
    }

    /// Adds a `GET` endpoint (which also answers `HEAD`, under the same policy, unless a
    /// `HEAD` endpoint is added too).
    pub fn get<E: EndpointHandler<S>>(self, endpoint: E) -> Self {
        self.add(MethodFilter::GET, endpoint)
    }
    /// Adds a `POST` endpoint.
    pub fn post<E: EndpointHandler<S>>(self, endpoint: E) -> Self {
        self.add(MethodFilter::POST, endpoint)
    }
    /// Adds a `PUT` endpoint.
    pub fn put<E: EndpointHandler<S>>(self, endpoint: E) -> Self {
        self.add(MethodFilter::PUT, endpoint)
    }
    /// Adds a `PATCH` endpoint.
    pub fn patch<E: EndpointHandler<S>>(self, endpoint: E) -> Self {
        self.add(MethodFilter::PATCH, endpoint)
    }
    /// Adds a `DELETE` endpoint.
    pub fn delete<E: EndpointHandler<S>>(self, endpoint: E) -> Self {
        self.add(MethodFilter::DELETE, endpoint)
    }
    /// Adds a `HEAD` endpoint (in place of the `GET` endpoint's answer to `HEAD`).
    pub fn head<E: EndpointHandler<S>>(self, endpoint: E) -> Self {
        self.add(MethodFilter::HEAD, endpoint)
    }
    /// Adds an `OPTIONS` endpoint. With CORS configured, a CORS preflight to this path is
    /// still answered by the CORS policy, not by the endpoint.
    pub fn options<E: EndpointHandler<S>>(self, endpoint: E) -> Self {
        self.add(MethodFilter::OPTIONS, endpoint)
    }
    /// Adds an endpoint for `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE` and `OPTIONS`,
    /// under one policy and one rate limit; the inventory lists each method. Unlike axum's
    /// `any`, `TRACE`, `CONNECT` and non-standard methods are not routed (405): add them
    /// with [`on`](Self::on).
    pub fn any<E: EndpointHandler<S>>(self, endpoint: E) -> Self {
        self.add(ANY, endpoint)
    }
    /// Adds an endpoint for every method `filter` holds (`MethodFilter::GET.or(MethodFilter::POST)`),
    /// under one policy and one rate limit; the inventory lists each method.
    pub fn on<E: EndpointHandler<S>>(self, filter: MethodFilter, endpoint: E) -> Self {
        self.add(filter, endpoint)
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
top_level!(get, post, put, patch, delete, head, options, any);

/// A [`SecureMethodRouter`] with an endpoint for every method `filter` holds.
///
/// Only `#[secure_endpoint]` endpoints are accepted: a plain handler does not compile.
pub fn on<E, S>(filter: MethodFilter, endpoint: E) -> SecureMethodRouter<S>
where
    E: SecureEndpoint + EndpointHandler<S>,
    S: Clone + Send + Sync + 'static,
{
    SecureMethodRouter {
        pending: Vec::new(),
    }
    .on(filter, endpoint)
}
