//! Not public API: how the macro builds the `#[non_exhaustive]` policy types in a `const`.
//!
//! [`EndpointPolicy`], [`Authorization`] and [`Owner`] gain fields as the contract grows; being
//! `#[non_exhaustive]`, they can, without breaking code outside this crate. Outside it they are
//! built only here: each builder starts from the required values, every other field at its
//! default (nothing declared), and the macro sets what the attribute declares. A new field
//! gets a default here and a setter, and the macro calls the setter when the attribute has
//! the key. All of it is `const fn`, so the policy stays a compile-time constant.

use super::{
    Authentication, Authorization, BodySpec, EndpointPolicy, GraphQlLimits, Lifecycle, Owner,
    OwnerBinding, OwnerDenial, RateSpec,
};
use crate::multipart::PartSpec;

/// Builds an [`EndpointPolicy`]: the handler's name and its authentication, then what else
/// the attribute declares.
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct PolicyBuilder(EndpointPolicy);

impl PolicyBuilder {
    /// An endpoint that declares `auth` and nothing else: no authorization, the router's rate
    /// and body limit, no body, no lifecycle, no waivers, no reason, no flow.
    pub const fn new(handler: &'static str, auth: Authentication) -> Self {
        PolicyBuilder(EndpointPolicy {
            handler,
            auth,
            authorization: AuthorizationBuilder::new().build(),
            rate: None,
            fields: None,
            body_limit: None,
            raw_body: false,
            graphql: None,
            multipart: None,
            lifecycle: Lifecycle::NONE,
            waivers: &[],
            reason: None,
            flow: None,
            body: BodySpec::NONE,
        })
    }

    /// Starts from `policy` (for variations of one policy in tests).
    pub const fn from_policy(policy: EndpointPolicy) -> Self {
        PolicyBuilder(policy)
    }

    /// [`EndpointPolicy::handler`].
    pub const fn handler(mut self, handler: &'static str) -> Self {
        self.0.handler = handler;
        self
    }

    /// [`EndpointPolicy::auth`].
    pub const fn auth(mut self, auth: Authentication) -> Self {
        self.0.auth = auth;
        self
    }

    /// [`EndpointPolicy::authorization`].
    pub const fn authorization(mut self, authorization: Authorization) -> Self {
        self.0.authorization = authorization;
        self
    }

    /// [`EndpointPolicy::rate`].
    pub const fn rate(mut self, rate: Option<RateSpec>) -> Self {
        self.0.rate = rate;
        self
    }

    /// [`EndpointPolicy::fields`].
    pub const fn fields(mut self, fields: Option<&'static [&'static str]>) -> Self {
        self.0.fields = fields;
        self
    }

    /// [`EndpointPolicy::body_limit`].
    pub const fn body_limit(mut self, body_limit: Option<usize>) -> Self {
        self.0.body_limit = body_limit;
        self
    }

    /// [`EndpointPolicy::raw_body`].
    pub const fn raw_body(mut self, raw_body: bool) -> Self {
        self.0.raw_body = raw_body;
        self
    }

    /// [`EndpointPolicy::graphql`].
    pub const fn graphql(mut self, graphql: Option<&'static GraphQlLimits>) -> Self {
        self.0.graphql = graphql;
        self
    }

    /// [`EndpointPolicy::multipart`].
    pub const fn multipart(mut self, multipart: Option<&'static [PartSpec]>) -> Self {
        self.0.multipart = multipart;
        self
    }

    /// [`EndpointPolicy::lifecycle`].
    pub const fn lifecycle(mut self, lifecycle: Lifecycle) -> Self {
        self.0.lifecycle = lifecycle;
        self
    }

    /// [`EndpointPolicy::waivers`].
    pub const fn waivers(mut self, waivers: &'static [&'static str]) -> Self {
        self.0.waivers = waivers;
        self
    }

    /// [`EndpointPolicy::reason`].
    pub const fn reason(mut self, reason: Option<&'static str>) -> Self {
        self.0.reason = reason;
        self
    }

    /// [`EndpointPolicy::flow`].
    pub const fn flow(mut self, flow: Option<&'static str>) -> Self {
        self.0.flow = flow;
        self
    }

    /// [`EndpointPolicy::body`].
    pub const fn body(mut self, body: BodySpec) -> Self {
        self.0.body = body;
        self
    }

    /// The policy.
    pub const fn build(self) -> EndpointPolicy {
        self.0
    }
}

/// Builds an [`Authorization`]: nothing required until a setter says so.
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct AuthorizationBuilder(Authorization);

impl Default for AuthorizationBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl AuthorizationBuilder {
    /// No requirement: not `any_authenticated`, no roles, no scopes, no owner.
    pub const fn new() -> Self {
        AuthorizationBuilder(Authorization {
            any_authenticated: false,
            roles: &[],
            scopes: &[],
            owner: None,
        })
    }

    /// Starts from `authorization` (for variations of one in tests).
    pub const fn from_authorization(authorization: Authorization) -> Self {
        AuthorizationBuilder(authorization)
    }

    /// [`Authorization::any_authenticated`].
    pub const fn any_authenticated(mut self, any_authenticated: bool) -> Self {
        self.0.any_authenticated = any_authenticated;
        self
    }

    /// [`Authorization::roles`].
    pub const fn roles(mut self, roles: &'static [&'static str]) -> Self {
        self.0.roles = roles;
        self
    }

    /// [`Authorization::scopes`].
    pub const fn scopes(mut self, scopes: &'static [&'static str]) -> Self {
        self.0.scopes = scopes;
        self
    }

    /// [`Authorization::owner`].
    pub const fn owner(mut self, owner: Option<Owner>) -> Self {
        self.0.owner = owner;
        self
    }

    /// The authorization.
    pub const fn build(self) -> Authorization {
        self.0
    }
}

/// Builds an [`Owner`]: the path parameter and how the handler binds it, then a loader and
/// the denial status if declared.
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct OwnerBuilder(Owner);

impl OwnerBuilder {
    /// Ownership by `param`, bound as `binding`, with no loader and the router's denial status.
    pub const fn new(param: &'static str, binding: OwnerBinding) -> Self {
        OwnerBuilder(Owner {
            param,
            loader: None,
            binding,
            denial: None,
        })
    }

    /// [`Owner::loader`].
    pub const fn loader(mut self, loader: Option<&'static str>) -> Self {
        self.0.loader = loader;
        self
    }

    /// [`Owner::denial`].
    pub const fn denial(mut self, denial: Option<OwnerDenial>) -> Self {
        self.0.denial = denial;
        self
    }

    /// The ownership requirement.
    pub const fn build(self) -> Owner {
        self.0
    }
}
