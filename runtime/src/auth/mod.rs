//! Authentication: who is calling. Each scheme turns request headers into a [`Principal`].

pub mod api_key;
pub mod credential;
pub mod dpop;
pub mod hmac;
pub mod jwt;
pub mod mtls;
pub mod signature;
#[path = "signature/base.rs"]
pub mod signature_base;
mod strict_json;
pub mod webhook;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use http::{HeaderValue, StatusCode};

use crate::extract::RequestContext;
use crate::policy::AuthScheme;
use crate::problem::Problem;

pub(crate) use crate::extract::Principal;

/// A handler that takes a [`Principal`] runs only for an authenticated caller; without one
/// (an endpoint whose authentication is optional), the 401 of a missing credential. Here
/// rather than beside [`Principal`]: the refusal is authentication's.
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
    parts.extensions.get::<RequestContext>()?.principal.clone()
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
