//! Authentication: who is calling. Each scheme turns request headers into a [`Principal`].

pub mod api_key;
mod cache;
pub mod credential;
pub mod dpop;
pub mod hmac;
mod jwks;
pub mod jwt;
pub mod mtls;
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

#[derive(Debug, Clone)]
struct PrincipalInner {
    subject: String,
    roles: Vec<String>,
    scopes: Vec<String>,
    scheme: AuthScheme,
    /// A keyed hash of the subject, for rate limiting: computed once per principal (and so
    /// once per cached token), not once per request.
    rate_key: u64,
    /// The thumbprint of the DPoP key the token is bound to (`cnf.jkt`, RFC 9449 §6.1).
    dpop_jkt: Option<Box<str>>,
    /// RFC 8705: the SHA-256 of the client certificate a JWT is bound to (`cnf.x5t#S256`).
    certificate_thumbprint: Option<[u8; 32]>,
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
        Self::bound_to_certificate(subject, roles, scopes, scheme, None)
    }

    /// A principal whose credential is bound to the client certificate with this SHA-256
    /// thumbprint (RFC 8705), when `Some`.
    pub(crate) fn bound_to_certificate(
        subject: impl Into<String>,
        roles: Vec<String>,
        scopes: Vec<String>,
        scheme: AuthScheme,
        certificate_thumbprint: Option<[u8; 32]>,
    ) -> Self {
        let subject = subject.into();
        let rate_key = std::hash::BuildHasher::hash_one(&*SUBJECT_HASHER, subject.as_str());
        Principal(Arc::new(PrincipalInner {
            subject,
            roles,
            scopes,
            scheme,
            rate_key,
            certificate_thumbprint,
            dpop_jkt: None,
        }))
    }

    /// The principal of a token bound to the DPoP key with thumbprint `jkt` (`cnf.jkt`).
    pub(crate) fn with_dpop_jkt(self, jkt: Option<Box<str>>) -> Self {
        if jkt.is_none() {
            return self;
        }
        let mut inner = Arc::unwrap_or_clone(self.0);
        inner.dpop_jkt = jkt;
        Principal(Arc::new(inner))
    }

    /// The RFC 7638 thumbprint of the DPoP key the caller's token is bound to (its `cnf.jkt`),
    /// if it is: with `auth = "dpop"`, the key that signed this request's proof.
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.0.dpop_jkt.as_deref()
    }

    /// The certificate thumbprint the credential is bound to (RFC 8705), if any.
    pub(crate) fn certificate_thumbprint(&self) -> Option<[u8; 32]> {
        self.0.certificate_thumbprint
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
pub(crate) fn unauthenticated() -> Problem {
    AuthFailure::Missing.problem(&[AuthScheme::Jwt])
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
                // Without an error: a request that used DPoP gets its error from the verifier.
                (AuthScheme::Dpop, _) => dpop::CHALLENGE,
                // No HTTP authentication scheme exists for a TLS client certificate; the
                // challenge names what is missing (RFC 9110 allows any token).
                (AuthScheme::Mtls, _) => "ClientCertificate realm=\"api\"",
            };
            problem = problem.with_header(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        problem
    }
}

/// `true` when the query string carries a parameter named like a credential of one of
/// `schemes`: an API key name ([`api_key`]) or a bearer token's `access_token` (RFC 6750 §2.3)
/// ([`jwt`]). Such a request is refused with 401 whichever scheme would authenticate it: the
/// credential is already in URLs, and so in logs.
pub(crate) fn credential_in_query(parts: &Parts, schemes: &[AuthScheme]) -> bool {
    let Some(query) = parts.uri.query() else {
        return false;
    };
    let names = |scheme: &AuthScheme| -> &'static [&'static str] {
        match scheme {
            AuthScheme::Jwt | AuthScheme::Dpop => &jwt::QUERY_TOKEN_NAMES,
            AuthScheme::ApiKey => &api_key::QUERY_KEY_NAMES,
            // Signed requests carry no bearer credential: the signature is over the target.
            AuthScheme::Hmac
            | AuthScheme::Signature
            | AuthScheme::GithubWebhook
            | AuthScheme::StripeWebhook
            | AuthScheme::StandardWebhook
            | AuthScheme::Mtls => &[],
        }
    };
    if schemes.iter().all(|s| names(s).is_empty()) {
        return false;
    }
    any_query_name(query, |name| {
        schemes
            .iter()
            .any(|s| names(s).iter().any(|n| name.eq_ignore_ascii_case(n)))
    })
}

/// `true` if `matches` holds for a parameter name of `query`, read as a form decoder reads it
/// (`%XX` and `+` decoded, by `form_urlencoded`), with `;` also separating parameters (as some
/// servers and log parsers read it), and surrounding whitespace and a trailing `[...]`
/// (`api_key[]`) dropped.
pub(crate) fn any_query_name(query: &str, mut matches: impl FnMut(&str) -> bool) -> bool {
    query.split(';').any(|part| {
        form_urlencoded::parse(part.as_bytes()).any(|(name, _)| {
            let name = name.trim();
            matches(
                name.split_once('[')
                    .map_or(name, |(base, _)| base.trim_end()),
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str) -> Parts {
        http::Request::builder()
            .uri(uri)
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    #[test]
    fn credentials_in_the_query_however_spelled() {
        let key = [AuthScheme::ApiKey];
        let jwt = [AuthScheme::Jwt];
        for uri in [
            "/r?api_key=x",
            "/r?api%5Fkey=x",
            "/r?api%5fkey",
            "/r?API_KEY=x",
            "/r?%61pi_key=x",
            "/r?a=1&Api%5FKey=x",
            "/r?a=1;api_key=x",
            "/r?api_key[]=x",
            "/r?api_key%5B0%5D=x",
            "/r?+api_key+=x",
            "/r?apikey=x",
            "/r?api-key=x",
            "/r?x-api-key=x",
            "/r?key=x",
            "/r?access_key=x",
        ] {
            assert!(credential_in_query(&parts(uri), &key), "{uri}");
            assert!(
                !credential_in_query(&parts(uri), &jwt),
                "{uri} on a JWT route"
            );
        }
        for uri in [
            "/r?access_token=x",
            "/r?access%5Ftoken=x",
            "/r?ACCESS_TOKEN=x",
            "/r?a=b&access_token",
        ] {
            assert!(credential_in_query(&parts(uri), &jwt), "{uri}");
            assert!(credential_in_query(
                &parts(uri),
                &[AuthScheme::ApiKey, AuthScheme::Jwt]
            ));
            assert!(
                !credential_in_query(&parts(uri), &key),
                "{uri} on an API key route"
            );
        }
        for uri in [
            "/r",
            "/r?",
            "/r?page=2",
            "/r?q=api_key",
            "/r?monkey=1",
            "/r?api_keys=1",
            "/r?api%255Fkey=x",
            "/api_key/r?x=1",
        ] {
            assert!(
                !credential_in_query(&parts(uri), &[AuthScheme::ApiKey, AuthScheme::Jwt]),
                "{uri}"
            );
        }
        assert!(!credential_in_query(
            &parts("/r?api_key=x"),
            &[AuthScheme::Hmac]
        ));
    }
}
