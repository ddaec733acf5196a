//! JWT bearer authentication, hardened along RFC 8725 (JWT Best Current Practices).
//!
//! The signature is checked by jsonwebtoken's crypto; everything around it is parsed and checked
//! here, strictly:
//! - **Keys**: HS256 secrets, RS256/ES256/EdDSA public keys (PEM), and keys by `kid` from a JWKS
//!   document ([`JwksSource`]: file or HTTPS, refreshed on an unknown `kid` at most once per
//!   interval). Every key has exactly one algorithm; the token's `alg` must be it. `none` and
//!   any algorithm no key was made for are refused, so an RSA public key can never be used as an
//!   HMAC secret. When keys carry ids (a configured key has a [`kid`](JwtKey::kid), or keys
//!   come from a JWKS), a token's `kid` must name one of them: a `kid` that names no key is
//!   refused, never verified with an unnamed key instead. When no key carries an id, a token's
//!   `kid` is only a hint and the unnamed key for its `alg` verifies it.
//! - **Where**: `Authorization: Bearer` by default, or where
//!   [`JwtVerifierBuilder::credentials`] says (another scheme such as `Token`, a header, a
//!   cookie; see [`credential`](super::credential)). A token in the query string (`access_token`,
//!   RFC 6750 §2.3, however its name is spelled or encoded) refuses the request with 401, even
//!   with a valid header: URLs end up in logs. A token bound to a DPoP key (`cnf.jkt`, RFC 9449
//!   §6.1) is refused as `Bearer`: it is accepted only with its proof, on `auth = "dpop"`
//!   endpoints ([`dpop`](crate::dpop)). A `cnf` that is not an object, or a `jkt` that is not
//!   a SHA-256 thumbprint, refuses the token.
//! - **Header**: an unknown `crit` (any `crit`: no extension is understood), `b64`, `zip`,
//!   `enc`, a nested JWT (`cty: JWT`), a `typ` other than the configured ones (default: absent
//!   or `JWT`), and the key-carrying headers `jku`, `x5u`, `jwk`, `x5c` are refused. Nothing in
//!   a token ever makes the verifier connect anywhere.
//! - **Claims**: `exp`, `iss`, `aud` and the subject are required; `exp`, `nbf` and `iat` must be
//!   numbers, `nbf` and `iat` not in the future; `iss` a single string equal to the configured
//!   issuer; `aud` a non-empty string or array containing a configured audience. Leeway 5 s.
//! - **Shape**: exactly three base64url segments without padding or whitespace; header and
//!   payload JSON objects; a member named twice anywhere in them refuses the token; tokens over
//!   8 KiB (configurable) are refused before any decoding.
//! - **Principal**: subject, roles and scopes from configurable claims (dotted paths such as
//!   `realm_access.roles`); by default `sub`, `roles`, and `scope` (space-separated) plus
//!   `scopes` (array).
//!
//! Verified tokens are cached (10 000 by default, see [`JwtVerifierBuilder::token_cache`]), so
//! a token seen again costs a hash and a lookup, not a signature check. A token verified with a
//! key that a JWKS refresh has since removed is not served from the cache.
//!
//! Every failure gives the same 401 with `WWW-Authenticate: Bearer error="invalid_token"`.

mod builder;
mod cache;
mod claims;
mod issuer;
mod jwks;
mod key;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::request::Parts;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use self::cache::TokenCache;
use self::claims::{
    claim_path, decode_object, dpop_jkt, media_type_eq, numeric_date, string_array,
};
use self::jwks::{Jwks, VerifyKey};
use self::key::algorithm;
use super::AuthFailure;
use crate::extract::Principal;
use crate::policy::AuthScheme;

pub use self::jwks::{JwksError, JwksSource, MAX_JWKS_SIZE};
pub use builder::JwtVerifierBuilder;
pub use issuer::JwtIssuer;
pub use key::JwtKey;

/// Default largest bearer token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Default number of verified tokens kept.
pub const DEFAULT_TOKEN_CACHE: usize = 10_000;

/// Default clock-skew allowance.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(5);

/// Longest `kid` looked up, in bytes.
const MAX_KID_LEN: usize = 256;

/// Query parameters that carry a bearer token (RFC 6750 §2.3); their presence refuses the
/// request.
pub(crate) const QUERY_TOKEN_NAMES: [&str; 1] = ["access_token"];

/// Verifies bearer JWTs and turns their claims into a [`Principal`]. Cheap to clone.
#[derive(Clone)]
pub struct JwtVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    keys: Vec<VerifyKey>,
    jwks: Option<Jwks>,
    /// A configured key has a `kid`, or keys come from a JWKS: a token's `kid` must name one.
    named_keys: bool,
    issuer: String,
    audiences: Vec<String>,
    leeway: u64,
    max_len: usize,
    types: Vec<String>,
    claims: ClaimNames,
    cache: Option<TokenCache>,
    /// Where the token is read (`Authorization: Bearer` by default).
    credentials: crate::auth::credential::Credentials,
}

#[derive(Debug, Clone)]
struct ClaimNames {
    subject: String,
    roles: String,
    scopes: Vec<String>,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let algorithms: Vec<Algorithm> = i.keys.iter().map(|k| k.alg).collect();
        f.debug_struct("JwtVerifier")
            .field("algorithms", &algorithms)
            .field("jwks", &i.jwks)
            .field("issuer", &i.issuer)
            .field("audiences", &i.audiences)
            .field("leeway_secs", &i.leeway)
            .field("keys", &"[redacted]")
            .finish()
    }
}

/// The result of a verification that may not wait for a key fetch.
pub(crate) enum Checked {
    Verified(Principal),
    Failed(AuthFailure),
    /// No configured key matches; a JWKS refresh might bring it.
    UnknownKey,
}

impl JwtVerifier {
    /// Verifies `Authorization: Bearer <token>` from the request, with the keys at hand (no
    /// JWKS fetch; see [`authenticate_with_refresh`](Self::authenticate_with_refresh)). A
    /// token in the query string (`access_token`) refuses the request, and so does a token
    /// bound to a DPoP key (`cnf.jkt`): it is only accepted with its proof (`auth = "dpop"`).
    pub fn authenticate(&self, parts: &Parts) -> Result<Principal, AuthFailure> {
        let token = self.header_token(parts)?;
        let principal = self.verify_any(token).and_then(not_dpop_bound)?;
        super::mtls::check_connection_binding(parts, principal)
    }

    /// Like [`authenticate`](Self::authenticate), refreshing the JWKS (rate-limited) when the
    /// token names a key the verifier does not have.
    pub async fn authenticate_with_refresh(&self, parts: &Parts) -> Result<Principal, AuthFailure> {
        let token = self.header_token(parts)?;
        let principal = match self.check(token) {
            Checked::UnknownKey => {
                self.refresh_unknown_key().await;
                self.verify_any(token)
            }
            checked => checked.into_result(),
        }
        .and_then(not_dpop_bound)?;
        super::mtls::check_connection_binding(parts, principal)
    }

    /// The token the request presents where this verifier reads it
    /// ([`JwtVerifierBuilder::credentials`]; `Authorization: Bearer` by default).
    pub fn token<'a>(
        &'a self,
        parts: &'a Parts,
    ) -> Result<crate::auth::credential::Presented<'a>, AuthFailure> {
        self.inner.credentials.extract(parts)
    }

    /// Where this verifier reads tokens, for its challenges.
    pub fn credential_locations(&self) -> &crate::auth::credential::Credentials {
        &self.inner.credentials
    }

    /// Verifies a compact JWS with the keys at hand and returns its principal. A token bound
    /// to a client certificate (`cnf.x5t#S256`) is refused: without the request, the binding
    /// cannot be checked (use [`authenticate`](Self::authenticate)).
    pub fn verify(&self, token: &str) -> Result<Principal, AuthFailure> {
        refuse_bound(self.verify_any(token))
    }

    /// [`verify`](Self::verify), bound tokens included (the caller checks the binding).
    pub(crate) fn verify_any(&self, token: &str) -> Result<Principal, AuthFailure> {
        self.check(token).into_result()
    }

    /// Verifies a compact JWS; an unknown key triggers a JWKS refresh (at most one per
    /// [`JwksSource::min_refresh_interval`]) and one more attempt. A certificate-bound token
    /// is refused, as by [`verify`](Self::verify).
    pub async fn verify_with_refresh(&self, token: &str) -> Result<Principal, AuthFailure> {
        match self.check(token) {
            Checked::Verified(p) => refuse_bound(Ok(p)),
            Checked::Failed(f) => Err(f),
            Checked::UnknownKey => {
                self.refresh_unknown_key().await;
                self.verify(token)
            }
        }
    }

    /// After [`Checked::UnknownKey`]: one rate-limited refresh.
    pub(crate) async fn refresh_unknown_key(&self) {
        if let Some(jwks) = &self.inner.jwks {
            // A failure is logged by the refresh and leaves the previous set in place.
            let _ = jwks.refresh(true).await;
        }
    }

    /// Fetches the JWKS now, whatever the refresh interval (for start-up, so a bad URL is
    /// found before the first request). Returns the number of usable keys.
    pub async fn refresh_keys(&self) -> Result<usize, JwksError> {
        match &self.inner.jwks {
            Some(jwks) => {
                jwks.refresh(false).await?;
                Ok(jwks.snapshot().keys.len())
            }
            None => Ok(0),
        }
    }

    /// How many times the JWKS has been fetched (0 without a JWKS source).
    pub fn jwks_fetches(&self) -> u64 {
        self.inner.jwks.as_ref().map_or(0, Jwks::fetches)
    }

    /// Number of verified tokens currently cached.
    pub fn cached_tokens(&self) -> usize {
        self.inner.cache.as_ref().map_or(0, |c| c.len())
    }

    /// Verifies without waiting for anything.
    pub(crate) fn check(&self, token: &str) -> Checked {
        let inner = &*self.inner;
        if token.len() > inner.max_len {
            return Checked::Failed(AuthFailure::Invalid);
        }
        let now = jsonwebtoken::get_current_timestamp();
        let generation = inner.jwks.as_ref().map_or(0, Jwks::generation);
        if let Some(principal) = inner
            .cache
            .as_ref()
            .and_then(|c| c.get(token, now, generation))
        {
            return Checked::Verified(principal);
        }
        if let Some(jwks) = &inner.jwks {
            if jwks.is_stale() {
                self.refresh_in_background();
            }
        }
        match self.check_uncached(token, now) {
            Ok((principal, exp, generation)) => {
                if let Some(cache) = &inner.cache {
                    cache.insert(token, principal.clone(), exp, now, generation);
                }
                Checked::Verified(principal)
            }
            Err(None) => Checked::UnknownKey,
            Err(Some(())) => Checked::Failed(AuthFailure::Invalid),
        }
    }

    fn refresh_in_background(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let verifier = self.clone();
        runtime.spawn(async move {
            if let Some(jwks) = &verifier.inner.jwks {
                let _ = jwks.refresh(true).await;
            }
        });
    }

    /// `Err(None)`: no key for this token; `Err(Some(()))`: refused.
    fn check_uncached(&self, token: &str, now: u64) -> Result<(Principal, u64, u64), Option<()>> {
        let inner = &*self.inner;
        let mut segments = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(Some(()));
        };
        let header = decode_object(header_b64).ok_or(Some(()))?;
        let alg = self.check_header(&header).ok_or(Some(()))?;
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) if !kid.is_empty() && kid.len() <= MAX_KID_LEN => {
                Some(kid.as_str())
            }
            Some(_) => return Err(Some(())),
        };

        // The key: the one named by `kid`, else an unnamed key made for `alg`. A `kid` is only
        // ever compared with configured names, never used as a path, query or URL.
        let snapshot = inner.jwks.as_ref().map(Jwks::snapshot);
        let generation = snapshot.as_ref().map_or(0, |s| s.generation);
        let dynamic: &[VerifyKey] = snapshot.as_ref().map_or(&[], |s| &s.keys);
        let unknown = if inner.jwks.is_some() { None } else { Some(()) };
        let key = match kid {
            Some(kid) => {
                let named = inner
                    .keys
                    .iter()
                    .chain(dynamic)
                    .find(|k| k.kid.as_deref() == Some(kid));
                match named {
                    Some(key) => Some(key),
                    // Keys carry ids and none is this one: no unnamed key stands in for it.
                    None if inner.named_keys => return Err(unknown),
                    None => None,
                }
            }
            None => None,
        };
        let key = key
            .or_else(|| {
                inner
                    .keys
                    .iter()
                    .chain(dynamic)
                    .find(|k| k.kid.is_none() && k.alg == alg)
            })
            .ok_or(unknown)?;
        // One algorithm per key: the header cannot pick another one for it.
        if key.alg != alg {
            return Err(Some(()));
        }
        let message_len = header_b64.len() + 1 + payload_b64.len();
        let verified = jsonwebtoken::crypto::verify(
            signature_b64,
            &token.as_bytes()[..message_len],
            &key.key,
            alg,
        )
        .unwrap_or(false);
        if !verified {
            return Err(Some(()));
        }
        let claims = decode_object(payload_b64).ok_or(Some(()))?;
        let (principal, exp) = self.check_claims(&claims, now).ok_or(Some(()))?;
        Ok((principal, exp, generation))
    }

    /// The header's algorithm, if the header is acceptable.
    fn check_header(&self, header: &Map<String, Value>) -> Option<Algorithm> {
        const REFUSED: [&str; 8] = ["crit", "b64", "zip", "enc", "jku", "x5u", "jwk", "x5c"];
        if REFUSED.iter().any(|name| header.contains_key(*name)) {
            return None;
        }
        if let Some(cty) = header.get("cty") {
            // A nested JWT would be a second token to verify; none is accepted.
            let cty = cty.as_str()?;
            if media_type_eq(cty, "JWT") {
                return None;
            }
        }
        match header.get("typ") {
            None => {
                if !self.inner.types.is_empty() {
                    return None;
                }
            }
            Some(typ) => {
                let typ = typ.as_str()?;
                let accepted = if self.inner.types.is_empty() {
                    media_type_eq(typ, "JWT")
                } else {
                    self.inner.types.iter().any(|t| media_type_eq(typ, t))
                };
                if !accepted {
                    return None;
                }
            }
        }
        algorithm(header.get("alg")?.as_str()?)
    }

    /// The principal and `exp`, if the claims are acceptable.
    fn check_claims(&self, claims: &Map<String, Value>, now: u64) -> Option<(Principal, u64)> {
        let inner = &*self.inner;
        let exp = numeric_date(claims.get("exp")?)?;
        if exp.saturating_add(inner.leeway) < now {
            return None;
        }
        for name in ["nbf", "iat"] {
            if let Some(value) = claims.get(name) {
                if numeric_date(value)? > now.saturating_add(inner.leeway) {
                    return None;
                }
            }
        }
        if claims.get("iss")?.as_str()? != inner.issuer {
            return None;
        }
        let audience_ok = match claims.get("aud")? {
            Value::String(aud) => inner.audiences.iter().any(|a| a == aud),
            Value::Array(auds) => {
                let mut ok = false;
                for aud in auds {
                    let aud = aud.as_str()?;
                    ok |= inner.audiences.iter().any(|a| a == aud);
                }
                ok
            }
            _ => false,
        };
        if !audience_ok {
            return None;
        }
        let subject = claim_path(claims, &inner.claims.subject)?.as_str()?;
        if subject.is_empty() {
            return None;
        }
        let roles = match claim_path(claims, &inner.claims.roles) {
            None => Vec::new(),
            Some(value) => string_array(value)?,
        };
        let mut scopes = Vec::new();
        for name in &inner.claims.scopes {
            match claim_path(claims, name) {
                None => {}
                Some(Value::String(s)) => {
                    scopes.extend(s.split_ascii_whitespace().map(str::to_owned));
                }
                Some(value) => scopes.extend(string_array(value)?),
            }
        }
        let dpop_jkt = dpop_jkt(claims)?;
        let certificate = super::mtls::confirmation_x5t(claims)?;
        let principal =
            Principal::bound_to_certificate(subject, roles, scopes, AuthScheme::Jwt, certificate)
                .with_dpop_jkt(dpop_jkt);
        Some((principal, exp))
    }
}

/// A token bound to a DPoP key presented as `Bearer` is refused (RFC 9449 §7.2): whoever
/// holds it must also prove the key.
pub(crate) fn not_dpop_bound(principal: Principal) -> Result<Principal, AuthFailure> {
    match principal.dpop_jkt() {
        Some(_) => Err(AuthFailure::Invalid),
        None => Ok(principal),
    }
}

/// `Invalid` for a principal whose token is bound to a certificate (RFC 8705): where no
/// request is at hand, the binding cannot be checked.
fn refuse_bound(outcome: Result<Principal, AuthFailure>) -> Result<Principal, AuthFailure> {
    match outcome {
        Ok(p) if p.certificate_thumbprint().is_some() => Err(AuthFailure::Invalid),
        other => other,
    }
}

impl Checked {
    fn into_result(self) -> Result<Principal, AuthFailure> {
        match self {
            Checked::Verified(p) => Ok(p),
            Checked::Failed(f) => Err(f),
            Checked::UnknownKey => Err(AuthFailure::Invalid),
        }
    }
}

impl JwtVerifier {
    /// [`token`](Self::token), refusing a request that also carries a token in its query
    /// string.
    fn header_token<'a>(&'a self, parts: &'a Parts) -> Result<&'a str, AuthFailure> {
        if super::credential_in_query(parts, &[AuthScheme::Jwt]) {
            return Err(AuthFailure::Invalid);
        }
        self.token(parts).map(|t| t.credential)
    }
}

/// The token from `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750). The
/// header only: the secure router refuses a token in the query string before it is called.
pub fn bearer_token(parts: &Parts) -> Result<&str, AuthFailure> {
    let mut values = parts.headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthFailure::Missing)?;
    if values.next().is_some() {
        return Err(AuthFailure::Invalid);
    }
    let bytes = value.as_bytes();
    let Some((scheme, token)) = bytes.split_at_checked(7) else {
        return Err(AuthFailure::Invalid);
    };
    if !scheme.eq_ignore_ascii_case(b"bearer ") || token.is_empty() {
        return Err(AuthFailure::Invalid);
    }
    // The characters are left to the base64url decoder, which refuses anything else.
    std::str::from_utf8(token).map_err(|_| AuthFailure::Invalid)
}
