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

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::Serialize;
use serde_json::{Map, Value};

use super::cache::TokenCache;
use super::jwks::{Jwks, VerifyKey};
use super::{strict_json, AuthFailure, Principal};
use crate::policy::AuthScheme;

pub use super::jwks::{JwksError, JwksSource, MAX_JWKS_SIZE};

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

pub use crate::error::ConfigError;

/// HS256 needs a key at least as long as the hash (RFC 7518 §3.2).
const MIN_HMAC_SECRET: usize = 32;

/// A verification key bound to one algorithm, optionally named by a `kid`.
#[derive(Clone)]
pub struct JwtKey(VerifyKey);

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKey")
            .field("alg", &self.0.alg)
            .field("kid", &self.0.kid)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl JwtKey {
    /// An HS256 shared secret of at least 32 bytes.
    pub fn hs256(secret: &[u8]) -> Result<Self, ConfigError> {
        if secret.len() < MIN_HMAC_SECRET {
            return Err(ConfigError::new(
                "an HS256 secret must be at least 32 bytes (RFC 7518 §3.2)",
            ));
        }
        Ok(Self::bound(
            Algorithm::HS256,
            DecodingKey::from_secret(secret),
        ))
    }

    /// An RS256 public key in PEM (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`).
    pub fn rs256_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        DecodingKey::from_rsa_pem(pem)
            .map(|k| Self::bound(Algorithm::RS256, k))
            .map_err(|_| ConfigError::new("not an RSA public key in PEM"))
    }

    /// An ES256 (P-256) public key in PEM.
    pub fn es256_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        DecodingKey::from_ec_pem(pem)
            .map(|k| Self::bound(Algorithm::ES256, k))
            .map_err(|_| ConfigError::new("not an EC public key in PEM"))
    }

    /// An EdDSA (Ed25519) public key in PEM.
    pub fn eddsa_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        DecodingKey::from_ed_pem(pem)
            .map(|k| Self::bound(Algorithm::EdDSA, k))
            .map_err(|_| ConfigError::new("not an Ed25519 public key in PEM"))
    }

    /// Names the key: tokens whose header has this `kid` are verified with it.
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.0.kid = Some(kid.into());
        self
    }

    fn bound(alg: Algorithm, key: DecodingKey) -> Self {
        JwtKey(VerifyKey {
            kid: None,
            alg,
            key,
        })
    }
}

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
    credentials: super::credential::Credentials,
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

/// Builds a [`JwtVerifier`]: at least one key or a JWKS source, an issuer and an audience.
#[must_use]
pub struct JwtVerifierBuilder {
    keys: Vec<JwtKey>,
    jwks: Option<JwksSource>,
    issuer: Option<String>,
    audience: Vec<String>,
    leeway: Duration,
    max_len: usize,
    types: Vec<String>,
    claims: ClaimNames,
    cache_capacity: usize,
    credentials: super::credential::Credentials,
}

impl fmt::Debug for JwtVerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifierBuilder")
            .field("keys", &self.keys)
            .field("jwks", &self.jwks)
            .finish_non_exhaustive()
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
    /// A verifier to configure: add keys with [`JwtVerifierBuilder::key`] or
    /// [`JwtVerifierBuilder::jwks`].
    pub fn builder() -> JwtVerifierBuilder {
        JwtVerifierBuilder {
            keys: Vec::new(),
            jwks: None,
            issuer: None,
            audience: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            max_len: MAX_TOKEN_LEN,
            types: Vec::new(),
            claims: ClaimNames {
                subject: "sub".into(),
                roles: "roles".into(),
                scopes: vec!["scope".into(), "scopes".into()],
            },
            cache_capacity: DEFAULT_TOKEN_CACHE,
            credentials: super::credential::Credentials::default(),
        }
    }

    /// HS256 with a shared secret of at least 32 bytes.
    pub fn hs256(secret: &[u8]) -> Result<JwtVerifierBuilder, ConfigError> {
        Ok(Self::builder().key(JwtKey::hs256(secret)?))
    }

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
    ) -> Result<super::credential::Presented<'a>, AuthFailure> {
        self.inner.credentials.extract(parts)
    }

    /// Where this verifier reads tokens, for its challenges.
    pub fn credential_locations(&self) -> &super::credential::Credentials {
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

/// RFC 9449 §6.1: the `jkt` member of `cnf`, the thumbprint of the DPoP key the token is bound
/// to (43 base64url characters: a SHA-256). `Some(None)` for an unbound token; `None` (refused)
/// when `cnf` is not an object or `jkt` not a thumbprint.
fn dpop_jkt(claims: &Map<String, Value>) -> Option<Option<Box<str>>> {
    let Some(cnf) = claims.get("cnf") else {
        return Some(None);
    };
    match cnf.as_object()?.get("jkt") {
        None => Some(None),
        Some(Value::String(jkt))
            if jkt.len() == 43
                && jkt
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Some(Some(jkt.as_str().into()))
        }
        Some(_) => None,
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

/// A base64url segment (no padding, canonical) holding one JSON object without duplicate
/// members.
fn decode_object(segment: &str) -> Option<Map<String, Value>> {
    if segment.is_empty() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    strict_json::object(&bytes)
}

/// The algorithms a key can be bound to, by their exact JOSE names.
fn algorithm(name: &str) -> Option<Algorithm> {
    Some(match name {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}

/// `typ`/`cty` comparison (RFC 7515 §4.1.9): case-insensitive, `application/` optional.
fn media_type_eq(value: &str, expected: &str) -> bool {
    let strip = |s: &str| -> String {
        let lower = s.to_ascii_lowercase();
        lower
            .strip_prefix("application/")
            .map(str::to_owned)
            .unwrap_or(lower)
    };
    strip(value) == strip(expected)
}

/// A NumericDate: a non-negative number of seconds (fractions dropped).
fn numeric_date(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
                .map(|f| f as u64)
        }),
        _ => None,
    }
}

/// A claim by name, or by a dotted path into nested objects (`realm_access.roles`).
fn claim_path<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(path) {
        return Some(value);
    }
    let mut parts = path.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// An array of strings; anything else refuses the token.
fn string_array(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

impl JwtVerifierBuilder {
    /// Adds a verification key (call again for several, e.g. during a rotation).
    pub fn key(mut self, key: JwtKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Takes keys by `kid` from a JWKS document.
    pub fn jwks(mut self, source: JwksSource) -> Self {
        self.jwks = Some(source);
        self
    }

    /// The required `iss`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// An accepted `aud` (call again to accept several).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience.push(audience.into());
        self
    }

    /// Clock-skew allowance for `exp`, `nbf` and `iat` (default 5 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Largest token accepted, in bytes (default 8 KiB).
    pub fn max_token_len(mut self, bytes: usize) -> Self {
        self.max_len = bytes;
        self
    }

    /// Requires the header's `typ` to be this media type (call again to accept several), e.g.
    /// `at+jwt` for OAuth access tokens (RFC 9068). Without it, `typ` may be absent or `JWT`.
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.types.push(typ.into());
        self
    }

    /// The claim holding the subject (default `sub`). A dotted path reads nested objects.
    pub fn subject_claim(mut self, claim: impl Into<String>) -> Self {
        self.claims.subject = claim.into();
        self
    }

    /// The claim holding the roles, an array of strings (default `roles`; e.g.
    /// `realm_access.roles` for Keycloak).
    pub fn roles_claim(mut self, claim: impl Into<String>) -> Self {
        self.claims.roles = claim.into();
        self
    }

    /// The claim holding the scopes, a space-separated string or an array of strings (default
    /// `scope` and `scopes`; e.g. `scp`). Replaces the defaults; call again to read several.
    pub fn scopes_claim(mut self, claim: impl Into<String>) -> Self {
        if self.claims.scopes == ["scope", "scopes"] {
            self.claims.scopes.clear();
        }
        self.claims.scopes.push(claim.into());
        self
    }

    /// Where the token is read (default `Authorization: Bearer`): another `Authorization`
    /// scheme (`Credentials::authorization("Token")` for RealWorld-style APIs), a header of
    /// its own, or a cookie (with its CSRF check), or several; the 401's `WWW-Authenticate`
    /// names them. See [`credential`](super::credential).
    pub fn credentials(mut self, credentials: super::credential::Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Keeps up to `capacity` verified tokens (default 10 000); `0` turns the cache off.
    pub fn token_cache(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// Builds the verifier. A JWKS file is read now; a JWKS URL is fetched on first use (call
    /// [`JwtVerifier::refresh_keys`] at start-up to fetch it before).
    pub fn build(self) -> Result<JwtVerifier, ConfigError> {
        let issuer = self
            .issuer
            .ok_or(ConfigError::new("a JWT verifier needs an issuer"))?;
        if self.audience.is_empty() {
            return Err(ConfigError::new(
                "a JWT verifier needs at least one audience",
            ));
        }
        if self.keys.is_empty() && self.jwks.is_none() {
            return Err(ConfigError::new(
                "a JWT verifier needs a key or a JWKS source",
            ));
        }
        let mut unnamed = std::collections::HashSet::new();
        let mut named = std::collections::HashSet::new();
        for JwtKey(key) in &self.keys {
            let fresh = match &key.kid {
                Some(kid) => named.insert(kid.clone()),
                None => unnamed.insert(format!("{:?}", key.alg)),
            };
            if !fresh {
                return Err(ConfigError::new(
                    "two keys share a kid (or two unnamed keys an algorithm)",
                ));
            }
        }
        let named_keys = self.jwks.is_some() || !named.is_empty();
        let jwks = self.jwks.map(Jwks::new).transpose()?;
        let cache = (self.cache_capacity > 0).then(|| TokenCache::new(self.cache_capacity));
        Ok(JwtVerifier {
            inner: Arc::new(Inner {
                keys: self.keys.into_iter().map(|k| k.0).collect(),
                jwks,
                named_keys,
                issuer,
                audiences: self.audience,
                leeway: self.leeway.as_secs(),
                max_len: self.max_len,
                types: self.types,
                claims: self.claims,
                cache,
                credentials: self.credentials,
            }),
        })
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

/// Issues tokens the matching [`JwtVerifier`] accepts (for login endpoints and tests).
#[derive(Clone)]
pub struct JwtIssuer {
    key: EncodingKey,
    algorithm: Algorithm,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl fmt::Debug for JwtIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtIssuer")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .field("key", &"[redacted]")
            .finish()
    }
}

#[derive(Serialize)]
struct IssuedClaims<'a> {
    sub: &'a str,
    iss: &'a str,
    aud: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    roles: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<Confirmation<'a>>,
}

/// RFC 7800 `cnf`: the key a token is bound to.
#[derive(Serialize)]
struct Confirmation<'a> {
    /// RFC 9449 §6.1: the DPoP key's JWK SHA-256 thumbprint.
    jkt: &'a str,
}

impl JwtIssuer {
    /// HS256 tokens for `issuer`/`audience`, valid for `ttl`.
    pub fn hs256(
        secret: &[u8],
        issuer: impl Into<String>,
        audience: impl Into<String>,
        ttl: Duration,
    ) -> Result<Self, ConfigError> {
        if secret.len() < MIN_HMAC_SECRET {
            return Err(ConfigError::new(
                "an HS256 secret must be at least 32 bytes (RFC 7518 §3.2)",
            ));
        }
        Ok(JwtIssuer {
            key: EncodingKey::from_secret(secret),
            algorithm: Algorithm::HS256,
            issuer: issuer.into(),
            audience: audience.into(),
            ttl,
        })
    }

    /// A signed token for `subject` with `roles` and `scopes`.
    pub fn issue(&self, subject: &str, roles: &[String], scopes: &[String]) -> String {
        self.issue_with(subject, roles, scopes, None)
    }

    fn issue_with(
        &self,
        subject: &str,
        roles: &[String],
        scopes: &[String],
        jkt: Option<&str>,
    ) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = IssuedClaims {
            sub: subject,
            iss: &self.issuer,
            aud: &self.audience,
            iat: now,
            nbf: now,
            exp: now + self.ttl.as_secs(),
            roles,
            scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
            cnf: jkt.map(|jkt| Confirmation { jkt }),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.key)
            .expect("HS256 signing of serializable claims cannot fail")
    }

    /// A token bound to the DPoP key with thumbprint `jkt` (`cnf.jkt`, RFC 9449 §6.1), e.g.
    /// from [`DpopVerifier::token_request`](crate::dpop::DpopVerifier::token_request): it is
    /// accepted only with a proof signed by that key, never as `Bearer`.
    pub fn issue_bound(
        &self,
        subject: &str,
        roles: &[String],
        scopes: &[String],
        jkt: &str,
    ) -> String {
        self.issue_with(subject, roles, scopes, Some(jkt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn verifier() -> JwtVerifier {
        JwtVerifier::hs256(SECRET)
            .unwrap()
            .issuer("iss")
            .audience("aud")
            .build()
            .unwrap()
    }

    #[test]
    fn round_trip_with_roles_and_scopes() {
        let issuer = JwtIssuer::hs256(SECRET, "iss", "aud", Duration::from_secs(60)).unwrap();
        let token = issuer.issue(
            "alice",
            &["admin".into()],
            &["a:read".into(), "b:write".into()],
        );
        let p = verifier().verify(&token).unwrap();
        assert_eq!(p.subject(), "alice");
        assert!(p.has_role("admin"));
        assert!(p.has_scope("b:write"));
    }

    #[test]
    fn wrong_issuer_audience_and_short_secret_are_refused() {
        let other = JwtIssuer::hs256(SECRET, "other", "aud", Duration::from_secs(60)).unwrap();
        assert_eq!(
            verifier().verify(&other.issue("a", &[], &[])).unwrap_err(),
            AuthFailure::Invalid
        );
        let other = JwtIssuer::hs256(SECRET, "iss", "other", Duration::from_secs(60)).unwrap();
        assert_eq!(
            verifier().verify(&other.issue("a", &[], &[])).unwrap_err(),
            AuthFailure::Invalid
        );
        assert!(JwtVerifier::hs256(b"short").is_err());
        assert!(JwtVerifier::hs256(SECRET)
            .unwrap()
            .issuer("i")
            .build()
            .is_err());
    }

    #[test]
    fn cache_serves_repeats_and_never_a_different_token() {
        let v = verifier();
        let issuer = JwtIssuer::hs256(SECRET, "iss", "aud", Duration::from_secs(60)).unwrap();
        let token = issuer.issue("alice", &[], &[]);
        assert_eq!(v.verify(&token).unwrap().subject(), "alice");
        assert_eq!(v.cached_tokens(), 1);
        assert_eq!(v.verify(&token).unwrap().subject(), "alice");
        // A tampered copy is verified (and refused), not served from the cache.
        let mut tampered = token.clone();
        tampered.pop();
        assert!(v.verify(&tampered).is_err());
        assert_eq!(v.cached_tokens(), 1);
        let off = JwtVerifier::hs256(SECRET)
            .unwrap()
            .issuer("iss")
            .audience("aud")
            .token_cache(0)
            .build()
            .unwrap();
        off.verify(&token).unwrap();
        assert_eq!(off.cached_tokens(), 0);
    }

    /// HS256 over valid claims for `alice`, the header naming `kid`.
    fn with_kid(kid: Option<&str>) -> String {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = kid.map(str::to_owned);
        let now = jsonwebtoken::get_current_timestamp();
        let claims =
            serde_json::json!({"sub": "alice", "iss": "iss", "aud": "aud", "exp": now + 60});
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(SECRET)).unwrap()
    }

    #[test]
    fn a_kid_naming_no_key_is_refused_when_keys_carry_ids() {
        let build = |keys: Vec<JwtKey>| {
            keys.into_iter()
                .fold(JwtVerifier::builder(), JwtVerifierBuilder::key)
                .issuer("iss")
                .audience("aud")
                .build()
                .unwrap()
        };
        let hs = || JwtKey::hs256(SECRET).unwrap();
        // One key, named.
        let v = build(vec![hs().kid("k1")]);
        assert!(v.verify(&with_kid(Some("k1"))).is_ok());
        for kid in [Some("k2"), Some("K1"), None] {
            assert_eq!(
                v.verify(&with_kid(kid)).unwrap_err(),
                AuthFailure::Invalid,
                "{kid:?}"
            );
        }
        // An unnamed key beside a named one: it verifies tokens without a kid only.
        let v = build(vec![hs(), JwtKey::hs256(&[7; 32]).unwrap().kid("other")]);
        assert!(v.verify(&with_kid(None)).is_ok());
        assert_eq!(
            v.verify(&with_kid(Some("k2"))).unwrap_err(),
            AuthFailure::Invalid
        );
        // No key carries an id: the kid is a hint.
        let v = build(vec![hs()]);
        assert!(v.verify(&with_kid(Some("anything"))).is_ok());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let s = format!("{:?}", verifier());
        assert!(s.contains("[redacted]"));
        assert!(!s.contains("0123456789abcdef"));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::JwtVerifier;

    fn verifier() -> JwtVerifier {
        JwtVerifier::hs256(b"0123456789abcdef0123456789abcdef")
            .unwrap()
            .issuer("iss")
            .audience("aud")
            .build()
            .unwrap()
    }

    proptest! {
        /// Any string: refused, never a panic.
        #[test]
        fn arbitrary_tokens_are_refused(token in ".{0,300}") {
            prop_assert!(verifier().verify(&token).is_err());
        }

        /// Three base64url segments, with headers and payloads that are JSON of any shape:
        /// refused (no key signs them), never a panic.
        #[test]
        fn well_shaped_forgeries_are_refused(
            header in "\\{\"alg\":\"(HS256|none|RS256|EdDSA|ES256)\"(,\"kid\":\"[a-z./]{0,12}\")?(,\"crit\":\\[\\])?\\}",
            payload in "\\{(\"[a-z]{1,4}\":(1|\"x\"|\\[\\]|null),?){0,4}\\}",
            signature in "[A-Za-z0-9_-]{0,86}",
        ) {
            use base64::Engine as _;
            let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
            let token = format!("{}.{}.{signature}", b64(&header), b64(&payload));
            prop_assert!(verifier().verify(&token).is_err());
        }
    }
}
