//! Authentication: who is calling. Each scheme turns request headers into a [`Principal`].

pub mod api_key;
mod cache;
pub mod hmac;
mod jwks;
pub mod jwt;
pub mod signature;
pub mod signature_base;
mod strict_json;
pub mod webhook;

use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use http::{HeaderValue, StatusCode};

use crate::policy::AuthScheme;
use crate::problem::Problem;

/// The authenticated caller, available to handlers as an extractor.
///
/// Cheap to clone. Its `Debug` shows the subject, roles, scopes and scheme, never a credential.
#[derive(Clone, Debug)]
pub struct Principal(Arc<PrincipalInner>);

#[derive(Debug)]
struct PrincipalInner {
    subject: String,
    roles: Vec<String>,
    scopes: Vec<String>,
    scheme: AuthScheme,
    /// A keyed hash of the subject, for rate limiting: computed once per principal (and so
    /// once per cached token), not once per request.
    rate_key: u64,
}

/// SipHash with a per-process random key: a caller who picks a subject cannot aim for
/// another principal's rate-limit bucket.
static SUBJECT_HASHER: std::sync::LazyLock<std::collections::hash_map::RandomState> =
    std::sync::LazyLock::new(std::collections::hash_map::RandomState::new);

impl Principal {
    /// A principal authenticated by `scheme`.
    pub fn new(
        subject: impl Into<String>,
        roles: Vec<String>,
        scopes: Vec<String>,
        scheme: AuthScheme,
    ) -> Self {
        let subject = subject.into();
        let rate_key = std::hash::BuildHasher::hash_one(&*SUBJECT_HASHER, subject.as_str());
        Principal(Arc::new(PrincipalInner {
            subject,
            roles,
            scopes,
            scheme,
            rate_key,
        }))
    }

    /// The subject (`sub` claim, key owner, client id).
    pub fn subject(&self) -> &str {
        &self.0.subject
    }

    /// Roles granted to the principal.
    pub fn roles(&self) -> &[String] {
        &self.0.roles
    }

    /// Scopes granted to the principal.
    pub fn scopes(&self) -> &[String] {
        &self.0.scopes
    }

    /// The keyed hash of the subject that rate limits count by.
    pub(crate) fn rate_key(&self) -> u64 {
        self.0.rate_key
    }

    /// The scheme that authenticated the principal.
    pub fn scheme(&self) -> AuthScheme {
        self.0.scheme
    }

    /// `true` if the principal has `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.0.roles.iter().any(|r| r == role)
    }

    /// `true` if the principal has `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.0.scopes.iter().any(|s| s == scope)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        principal(parts).ok_or_else(unauthenticated)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Principal {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(principal(parts))
    }
}

/// The principal the pipeline authenticated for this request, if any.
fn principal(parts: &Parts) -> Option<Principal> {
    parts
        .extensions
        .get::<crate::pipeline::RequestContext>()?
        .principal
        .clone()
}

/// Why authentication failed; only the class is kept, never the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credential was presented.
    Missing,
    /// A credential was presented and refused.
    Invalid,
    /// A store the check needs (nonces, revocations) could not answer: 503, not 401.
    Unavailable,
}

/// 401 with `WWW-Authenticate: Bearer` (RFC 6750): no credentials.
pub fn unauthenticated() -> Problem {
    AuthFailure::Missing.problem(&[AuthScheme::Jwt])
}

/// 401 with `WWW-Authenticate: Bearer error="invalid_token"`: the same body whatever was wrong
/// with the token, so the response tells an attacker nothing.
pub fn invalid_token() -> Problem {
    AuthFailure::Invalid.problem(&[AuthScheme::Jwt])
}

impl AuthFailure {
    /// The 401 problem for this failure on an endpoint accepting `schemes`: the same body
    /// whatever failed, and one `WWW-Authenticate` challenge per accepted scheme.
    pub fn problem(self, schemes: &[AuthScheme]) -> Problem {
        if self == AuthFailure::Unavailable {
            return crate::store::unavailable();
        }
        let mut problem = Problem::new(StatusCode::UNAUTHORIZED)
            .with_detail("Authentication is required.")
            .with_reason(match self {
                AuthFailure::Missing => "credential_missing",
                AuthFailure::Invalid | AuthFailure::Unavailable => "credential_invalid",
            });
        for scheme in schemes {
            let challenge = match (scheme, self) {
                (AuthScheme::Jwt, AuthFailure::Missing) => "Bearer realm=\"api\"",
                (AuthScheme::Jwt, AuthFailure::Invalid | AuthFailure::Unavailable) => {
                    "Bearer realm=\"api\", error=\"invalid_token\""
                }
                (AuthScheme::ApiKey, _) => "ApiKey realm=\"api\", header=\"X-API-Key\"",
                (AuthScheme::Hmac, _) => "HMAC-SHA256 realm=\"api\"",
                // RFC 9421 §5.1 defines `Accept-Signature` for asking for a signature, not a
                // challenge; webhook senders read none. One plain challenge names the scheme.
                (AuthScheme::Signature, _) => "Signature realm=\"api\"",
                (AuthScheme::GithubWebhook, _) => "X-Hub-Signature-256 realm=\"api\"",
                (AuthScheme::StripeWebhook, _) => "Stripe-Signature realm=\"api\"",
                (AuthScheme::StandardWebhook, _) => "Webhook-Signature realm=\"api\"",
            };
            problem = problem.with_header(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        problem
    }
}
