//! DPoP, RFC 9449 (`auth = "dpop"`): access tokens bound to a key the client holds, each request
//! carrying a fresh proof of possession signed with it.
//!
//! A request to a DPoP endpoint sends `Authorization: DPoP <JWT>` and one `DPoP: <proof>`
//! header. The token is verified by the router's [`JwtVerifier`](crate::jwt::JwtVerifier) (every
//! rule of `auth = "jwt"`), and must be bound: its `cnf.jkt` claim is the RFC 7638 thumbprint
//! of the proof's key. Checks, cheapest first (RFC 9449 §4.3, §7.1):
//! 1. exactly one `Authorization: DPoP` and exactly one `DPoP` header;
//! 2. the token verifies and carries `cnf.jkt` (else `invalid_token`);
//! 3. the proof is one JWT typed `dpop+jwt`, `alg` `ES256` or `EdDSA`, its `jwk` header a
//!    public key (never a private one) whose thumbprint is the token's `cnf.jkt` (else
//!    `invalid_token`: wrong key), checked before any signature work; the signature verifies
//!    with that key;
//! 4. `htm` is the request method; `htu` the request URI without query and fragment, both
//!    normalized per RFC 3986 §6.2.2 and §6.2.3: the scheme and host are the configured
//!    [`origin`](DpopVerifier::origin)s (behind a proxy), else the request's (`https` as the
//!    perimeter sees it, `Host`); the path as sent (`OriginalUri` under `Router::nest`);
//! 5. `iat` at most [`max_age`](DpopVerifier::max_age) old (60 s) and at most
//!    [`leeway`](DpopVerifier::leeway) ahead (5 s);
//! 6. `ath` is `base64url(SHA-256(token))`;
//! 7. with [`nonces`](DpopVerifier::nonces): a `nonce` this server issued, recently (else
//!    `use_dpop_nonce`, with a fresh `DPoP-Nonce` header);
//! 8. the (`jkt`, `jti`) pair is new, through the [`NonceStore`] (memory or Redis): a
//!    replayed proof is refused.
//!
//! Every refusal is a 401 problem with `WWW-Authenticate: DPoP` naming the error
//! (`invalid_dpop_proof`, `use_dpop_nonce` or `invalid_token`) and `algs="ES256 EdDSA"`; a
//! request without credentials gets the challenge without an error. A token bound with
//! `cnf.jkt` is refused as `Bearer` on `auth = "jwt"` endpoints (RFC 9449 §7.2).
//!
//! Token endpoints (a login) read the proof with [`DpopVerifier::token_request`] and bind
//! the token they issue to its key ([`JwtIssuer::issue_bound`](crate::jwt::JwtIssuer::issue_bound)).
//! Clients sign proofs with [`DpopKey`].

mod htu;
mod key;
mod nonce;
mod proof;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use subtle::ConstantTimeEq as _;

use super::hmac::{InMemoryNonces, NonceStore, DEFAULT_NONCE_CAPACITY};
use super::jwt::{Checked, JwtVerifier};
use super::{AuthFailure, Principal};
use crate::error::ConfigError;
use crate::policy::AuthScheme;
use crate::problem::Problem;

pub use key::{DpopKey, ProofRequest};
pub use nonce::{DpopNonces, DEFAULT_NONCE_LIFETIME};
pub use proof::{access_token_hash, jwk_thumbprint};

/// Default oldest proof accepted (`iat` this long ago).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60);
/// Default clock skew: a proof's `iat` may be this far in the future.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(5);

/// The `DPoP` request header (a proof) and the `DPoP-Nonce` response header.
pub const DPOP: HeaderName = HeaderName::from_static("dpop");
/// The response header carrying a server nonce (RFC 9449 §8, §9).
pub const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// `WWW-Authenticate` without an error: what a request without credentials is told.
pub(crate) const CHALLENGE: &str = "DPoP realm=\"api\", algs=\"ES256 EdDSA\"";

/// The error code of a refused DPoP request (RFC 9449 §7.1, §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DpopError {
    /// `invalid_dpop_proof`: the proof is missing, malformed, replayed, stale, for another
    /// request, or its signature or `ath` is wrong.
    InvalidProof,
    /// `use_dpop_nonce`: the proof needs the server's current nonce (sent as `DPoP-Nonce`).
    UseNonce,
    /// `invalid_token`: the token did not verify, is not DPoP-bound, or is bound to another key.
    InvalidToken,
}

impl DpopError {
    /// The error code, as `WWW-Authenticate` and token endpoints spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            DpopError::InvalidProof => "invalid_dpop_proof",
            DpopError::UseNonce => "use_dpop_nonce",
            DpopError::InvalidToken => "invalid_token",
        }
    }
}

/// Why a DPoP request was refused: what the caller is told, and which check refused it (for
/// the security event; never a credential).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// Missing (no `DPoP` credentials: other schemes may be tried), invalid, or unavailable
    /// (the replay store could not answer: 503).
    pub failure: AuthFailure,
    /// The DPoP error code, when the request used the `DPoP` scheme.
    pub error: Option<DpopError>,
    /// Which check failed, e.g. `dpop_replayed`, `dpop_htu_mismatch`.
    pub reason: &'static str,
}

impl Refusal {
    const fn with(failure: AuthFailure, error: Option<DpopError>, reason: &'static str) -> Self {
        Refusal {
            failure,
            error,
            reason,
        }
    }

    pub(crate) const fn proof(reason: &'static str) -> Self {
        Self::with(AuthFailure::Invalid, Some(DpopError::InvalidProof), reason)
    }

    pub(crate) const fn token(reason: &'static str) -> Self {
        Self::with(AuthFailure::Invalid, Some(DpopError::InvalidToken), reason)
    }

    const fn nonce(reason: &'static str) -> Self {
        Self::with(AuthFailure::Invalid, Some(DpopError::UseNonce), reason)
    }
}

/// Equality in constant time (for equal, public lengths; unequal lengths are unequal).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Verifies DPoP proofs (see the module documentation). Cheap to clone.
#[derive(Clone)]
pub struct DpopVerifier {
    replay: Arc<dyn NonceStore>,
    nonces: Option<DpopNonces>,
    origins: Vec<String>,
    max_age: u64,
    leeway: u64,
}

impl fmt::Debug for DpopVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopVerifier")
            .field("algs", &proof::ALGS)
            .field("origins", &self.origins)
            .field("max_age_secs", &self.max_age)
            .field("leeway_secs", &self.leeway)
            .field("nonces", &self.nonces)
            .field("replay", &self.replay)
            .finish()
    }
}

impl Default for DpopVerifier {
    fn default() -> Self {
        Self::new()
    }
}

/// A proof that passed every check but the replay check.
struct GoodProof {
    jkt: String,
    jti: String,
    iat: u64,
}

/// The request as a proof describes it.
struct Target<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    https: bool,
}

impl DpopVerifier {
    /// Proofs with `ES256` or `EdDSA`, at most 60 s old and 5 s ahead, replays remembered in
    /// memory (100 000 proofs), no server nonces, the request's own scheme and host as `htu`.
    pub fn new() -> Self {
        DpopVerifier {
            replay: Arc::new(InMemoryNonces::new(DEFAULT_NONCE_CAPACITY)),
            nonces: None,
            origins: Vec::new(),
            max_age: DEFAULT_MAX_AGE.as_secs(),
            leeway: DEFAULT_LEEWAY.as_secs(),
        }
    }

    /// Where proofs' `jti`s are remembered (default: in memory). Share one store (Redis)
    /// between instances, or a proof refused as a replay on one is accepted on another.
    pub fn replay_store(mut self, store: Arc<dyn NonceStore>) -> Self {
        self.replay = store;
        self
    }

    /// Requires server-provided nonces (RFC 9449 §9): a proof without this server's recent
    /// nonce is refused with `use_dpop_nonce` and a fresh `DPoP-Nonce` header.
    pub fn nonces(mut self, nonces: DpopNonces) -> Self {
        self.nonces = Some(nonces);
        self
    }

    /// The external origin clients address (`https://api.example.com`), for `htu`: behind a
    /// proxy the request's own `Host` may be the proxy's upstream name. Call again for several.
    /// With none, the request's scheme (as the perimeter resolves it) and `Host` are used.
    pub fn origin(mut self, origin: &str) -> Result<Self, ConfigError> {
        let origin = htu::normalize_origin(origin).ok_or(ConfigError::new(
            "a DPoP origin is `https://host[:port]`, without path, query or user",
        ))?;
        self.origins.push(origin);
        Ok(self)
    }

    /// The oldest proof accepted: its `iat` at most this long ago (default 60 s).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age.as_secs();
        self
    }

    /// How far ahead of the server's clock a proof's `iat` may be (default 5 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.as_secs();
        self
    }

    /// The nonce to hand out now, when nonces are required.
    pub fn current_nonce(&self) -> Option<String> {
        let now = crate::auth::signature::unix_now();
        self.nonces.as_ref().map(|n| n.issue(now))
    }

    /// At a token endpoint (a login): the request's DPoP proof, checked as for a resource
    /// (method, URI, age, nonce, signature, replay) but without an access token. `Ok(None)`
    /// when the request has no `DPoP` header; `Ok(Some(jkt))`, the key's thumbprint to bind
    /// the issued token to (`cnf.jkt`), when its proof is good. The request is taken to be
    /// HTTPS (the secure router refuses plain HTTP); behind a proxy, configure
    /// [`origin`](Self::origin). Answer a refusal with [`token_problem`](Self::token_problem).
    pub async fn token_request(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Result<Option<String>, Refusal> {
        let mut proofs = headers.get_all(DPOP).iter();
        let Some(proof) = proofs.next() else {
            return Ok(None);
        };
        if proofs.next().is_some() {
            return Err(Refusal::proof("dpop_proof_repeated"));
        }
        let proof = proof
            .to_str()
            .map_err(|_| Refusal::proof("dpop_proof_malformed"))?;
        let target = Target {
            method,
            uri,
            headers,
            https: true,
        };
        let now = crate::auth::signature::unix_now();
        let checked = self.check_proof(proof, None, None, &target, now)?;
        self.remember(&checked, now).await?;
        Ok(Some(checked.jkt))
    }

    /// The 400 a token endpoint answers a refused proof with (RFC 9449 §5, §8): code
    /// `invalid_dpop_proof` or `use_dpop_nonce` (with `DPoP-Nonce`); 503 when the replay
    /// store could not answer.
    pub fn token_problem(&self, refusal: &Refusal) -> Problem {
        if refusal.failure == AuthFailure::Unavailable {
            return crate::store::unavailable();
        }
        let error = refusal.error.unwrap_or(DpopError::InvalidProof);
        let mut problem = Problem::new(StatusCode::BAD_REQUEST)
            .with_code(error.as_str())
            .with_detail(match error {
                DpopError::UseNonce => "A DPoP proof with the server's nonce is required.",
                _ => "The DPoP proof was refused.",
            })
            .with_reason(refusal.reason);
        if error == DpopError::UseNonce {
            problem = self.with_nonce(problem);
        }
        problem
    }

    fn with_nonce(&self, problem: Problem) -> Problem {
        match self
            .current_nonce()
            .and_then(|n| HeaderValue::from_str(&n).ok())
        {
            Some(nonce) => problem.with_header(DPOP_NONCE, nonce),
            None => problem,
        }
    }

    /// The 401 for a request that used the `DPoP` scheme and was refused: the DPoP challenge
    /// carries the error, the other schemes' challenges none (RFC 9449 §7.2).
    pub(crate) fn problem(&self, refusal: &Refusal, schemes: &[AuthScheme]) -> Problem {
        let Some(error) = refusal.error else {
            return refusal.failure.problem(schemes);
        };
        let mut problem = Problem::new(StatusCode::UNAUTHORIZED)
            .with_detail(match error {
                DpopError::InvalidToken => "Authentication is required.",
                DpopError::InvalidProof => "The DPoP proof was refused.",
                DpopError::UseNonce => "A DPoP proof with the server's nonce is required.",
            })
            .with_reason(refusal.reason);
        if error != DpopError::InvalidToken {
            problem = problem.with_code(error.as_str());
        }
        for scheme in schemes {
            let challenge = if *scheme == AuthScheme::Dpop {
                Some(HeaderValue::from_static(match error {
                    DpopError::InvalidProof => {
                        "DPoP realm=\"api\", error=\"invalid_dpop_proof\", algs=\"ES256 EdDSA\""
                    }
                    DpopError::UseNonce => {
                        "DPoP realm=\"api\", error=\"use_dpop_nonce\", algs=\"ES256 EdDSA\""
                    }
                    DpopError::InvalidToken => {
                        "DPoP realm=\"api\", error=\"invalid_token\", algs=\"ES256 EdDSA\""
                    }
                }))
            } else {
                // Another scheme's plain challenge: the request did not use it.
                AuthFailure::Missing
                    .problem(std::slice::from_ref(scheme))
                    .headers()
                    .get(http::header::WWW_AUTHENTICATE)
                    .cloned()
            };
            if let Some(challenge) = challenge {
                problem = problem.with_header(http::header::WWW_AUTHENTICATE, challenge);
            }
        }
        if error == DpopError::UseNonce {
            problem = self.with_nonce(problem);
        }
        problem
    }

    /// Authenticates a resource request (`auth = "dpop"`): see the module documentation.
    /// `https`: whether the client used HTTPS, as the perimeter resolved it.
    pub(crate) async fn authenticate(
        &self,
        jwt: &JwtVerifier,
        parts: &Parts,
        https: bool,
    ) -> Result<Principal, Refusal> {
        let token = dpop_token(parts)?;
        let mut proofs = parts.headers.get_all(DPOP).iter();
        let proof = proofs.next().ok_or(Refusal::proof("dpop_proof_missing"))?;
        if proofs.next().is_some() {
            return Err(Refusal::proof("dpop_proof_repeated"));
        }
        let proof = proof
            .to_str()
            .map_err(|_| Refusal::proof("dpop_proof_malformed"))?;
        let principal = match jwt.check(token) {
            Checked::Verified(principal) => principal,
            Checked::Failed(AuthFailure::Unavailable) => return Err(unavailable()),
            Checked::Failed(_) => return Err(Refusal::token("token_invalid")),
            Checked::UnknownKey => {
                Box::pin(jwt.refresh_unknown_key()).await;
                jwt.verify(token)
                    .map_err(|_| Refusal::token("token_invalid"))?
            }
        };
        let jkt = principal
            .dpop_jkt()
            .ok_or(Refusal::token("token_not_dpop_bound"))?;
        let target = Target {
            method: &parts.method,
            uri: parts
                .extensions
                .get::<axum::extract::OriginalUri>()
                .map_or(&parts.uri, |o| &o.0),
            headers: &parts.headers,
            https,
        };
        let now = crate::auth::signature::unix_now();
        let checked = self.check_proof(proof, Some(jkt), Some(token), &target, now)?;
        self.remember(&checked, now).await?;
        Ok(Principal::new(
            principal.subject(),
            principal.roles().to_vec(),
            principal.scopes().to_vec(),
            AuthScheme::Dpop,
        )
        .with_dpop_jkt(Some(jkt.into())))
    }

    /// Every check of a proof but the replay check, with the token (if any) verified.
    fn check_proof(
        &self,
        proof: &str,
        jkt: Option<&str>,
        token: Option<&str>,
        target: &Target<'_>,
        now: u64,
    ) -> Result<GoodProof, Refusal> {
        let verified = proof::verify(proof, jkt)?;
        let claims = verified.claims()?;
        if claims.htm != target.method.as_str() {
            return Err(Refusal::proof("dpop_htm_mismatch"));
        }
        self.check_htu(claims.htu, target)?;
        if claims.iat > now.saturating_add(self.leeway)
            || claims.iat.saturating_add(self.max_age) < now
        {
            return Err(Refusal::proof("dpop_iat_out_of_window"));
        }
        if let Some(token) = token {
            let expected = access_token_hash(token);
            if !claims
                .ath
                .is_some_and(|ath| ct_eq(ath.as_bytes(), expected.as_bytes()))
            {
                return Err(Refusal::proof("dpop_ath_mismatch"));
            }
        }
        if let Some(nonces) = &self.nonces {
            match claims.nonce {
                None => return Err(Refusal::nonce("dpop_nonce_missing")),
                Some(nonce) if !nonces.accepts(nonce, now) => {
                    return Err(Refusal::nonce("dpop_nonce_stale"))
                }
                Some(_) => {}
            }
        }
        Ok(GoodProof {
            jkt: verified.key.thumbprint.clone(),
            jti: claims.jti.to_owned(),
            iat: claims.iat,
        })
    }

    /// `htu` names this request: its path, and a configured origin or the request's own.
    fn check_htu(&self, htu: &str, target: &Target<'_>) -> Result<(), Refusal> {
        let (origin, path) = htu::normalize(htu).ok_or(Refusal::proof("dpop_htu_mismatch"))?;
        let request_path =
            htu::normalize_path(target.uri.path()).ok_or(Refusal::proof("dpop_htu_mismatch"))?;
        if path != request_path {
            return Err(Refusal::proof("dpop_htu_mismatch"));
        }
        let origin_ok = if self.origins.is_empty() {
            request_origin(target).is_some_and(|o| o == origin)
        } else {
            self.origins.contains(&origin)
        };
        if !origin_ok {
            return Err(Refusal::proof("dpop_htu_mismatch"));
        }
        Ok(())
    }

    /// Remembers (`jkt`, `jti`) until the proof could no longer be accepted anyway.
    async fn remember(&self, checked: &GoodProof, now: u64) -> Result<(), Refusal> {
        let expires_at = checked
            .iat
            .saturating_add(self.max_age)
            .saturating_add(self.leeway)
            .saturating_add(1)
            .max(now + 1);
        let key_id = format!("dpop:{}", checked.jkt);
        crate::auth::signature::remember(
            self.replay.as_ref(),
            &key_id,
            &checked.jti,
            expires_at,
            now,
        )
        .await
        .map_err(|r| match r.failure {
            AuthFailure::Unavailable => unavailable(),
            _ if r.reason == "replayed" => Refusal::proof("dpop_replayed"),
            _ => Refusal::proof("dpop_replay_store_full"),
        })
    }
}

fn unavailable() -> Refusal {
    Refusal::with(
        AuthFailure::Unavailable,
        None,
        "dpop_replay_store_unavailable",
    )
}

/// The origin the request was addressed to: its scheme and its authority (the URI's, for
/// HTTP/2, else the one `Host` header), normalized.
fn request_origin(target: &Target<'_>) -> Option<String> {
    let authority = match target.uri.authority() {
        Some(authority) => authority.as_str(),
        None => {
            let mut hosts = target.headers.get_all(http::header::HOST).iter();
            let host = hosts.next()?;
            if hosts.next().is_some() {
                return None;
            }
            host.to_str().ok()?
        }
    };
    if authority.contains(['/', '?', '#', '@']) {
        return None;
    }
    let scheme = if target.https { "https" } else { "http" };
    htu::normalize_origin(&format!("{scheme}://{authority}"))
}

/// The token of `Authorization: DPoP <token>`. No `Authorization`: missing; another scheme:
/// invalid, but not a DPoP error (the request did not use DPoP); several headers or a
/// malformed value: `invalid_token`.
fn dpop_token(parts: &Parts) -> Result<&str, Refusal> {
    let mut values = parts.headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next().ok_or(Refusal::with(
        AuthFailure::Missing,
        None,
        "credential_missing",
    ))?;
    if values.next().is_some() {
        return Err(Refusal::token("authorization_repeated"));
    }
    let bytes = value.as_bytes();
    let Some((scheme, token)) = bytes.split_at_checked(5) else {
        return Err(Refusal::with(AuthFailure::Invalid, None, "not_dpop"));
    };
    if !scheme.eq_ignore_ascii_case(b"dpop ") {
        return Err(Refusal::with(AuthFailure::Invalid, None, "not_dpop"));
    }
    if token.is_empty() || token.iter().any(|b| b.is_ascii_whitespace()) {
        return Err(Refusal::token("token_malformed"));
    }
    std::str::from_utf8(token).map_err(|_| Refusal::token("token_malformed"))
}
