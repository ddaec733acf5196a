//! What the pipeline learns about a request and hands its handler: the request context and
//! the extractors that read it ([`Principal`], [`ClientIp`], [`RequestId`]). A leaf: it
//! imports only [`policy`](crate::policy)'s plain data.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use http::header::HeaderName;
use http::request::Parts;
use http::{HeaderMap, HeaderValue};

use crate::policy::AuthScheme;

/// What the pipeline hands a secured handler's extractors ([`Principal`], [`ClientIp`],
/// [`RequestId`], [`Json`](crate::Json)'s body limit): one request extension
/// rather than one each, since every insert into `http::Extensions` allocates.
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    pub(crate) request_id: RequestId,
    pub(crate) client_ip: IpAddr,
    pub(crate) principal: Option<Principal>,
    /// The body limit an allowlisted body was read under, for `Json` to apply the same.
    pub(crate) body_limit: Option<usize>,
    /// The status for another principal's resource, for the loader.
    pub(crate) owner_denial: crate::policy::OwnerDenial,
}

/// The client's address as the perimeter resolved it (the connection's peer, or the first
/// untrusted hop behind trusted proxies), for handlers that count or log by client: e.g. a
/// login throttle. This is the whole address; per-IP limits count IPv6 clients by network
/// (see [`SecurityBuilder::ipv6_prefix`](crate::SecurityBuilder::ipv6_prefix)). `0.0.0.0` in
/// a handler the secure pipeline did not run for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<RequestContext>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.client_ip),
        ))
    }
}

/// `X-Request-ID`.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request id: the caller's `X-Request-ID` when well-formed (1–64 characters from
/// `[A-Za-z0-9._:-]`), otherwise a fresh `<16 hex>-<16 hex>` id (random per process, then a
/// counter). Handlers take it as an extractor. Held inline: copying it allocates nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestId {
    len: u8,
    bytes: [u8; 64],
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RequestId").field(&self.as_str()).finish()
    }
}

impl RequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ever built from the ASCII characters above.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }

    /// From 1–64 bytes of `[A-Za-z0-9._:-]`, else `None`.
    fn from_bytes(b: &[u8]) -> Option<Self> {
        if !(1..=64).contains(&b.len())
            || !b
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b':'))
        {
            return None;
        }
        let mut bytes = [0; 64];
        bytes[..b.len()].copy_from_slice(b);
        Some(RequestId {
            len: b.len() as u8,
            bytes,
        })
    }

    pub(crate) fn from_request(headers: &HeaderMap) -> Self {
        headers
            .get(&X_REQUEST_ID)
            .and_then(|v| Self::from_bytes(v.as_bytes()))
            .unwrap_or_else(Self::generate)
    }

    /// The id as the `X-Request-ID` header's value.
    pub(crate) fn header_value(&self) -> HeaderValue {
        HeaderValue::from_str(self.as_str()).unwrap_or(HeaderValue::from_static("-"))
    }

    /// `<16 hex: random per process>-<16 hex: counter>`: unique, cheap (no RNG per request),
    /// and not secret (error ids, which are, stay UUID v4).
    fn generate() -> Self {
        static PREFIX: std::sync::LazyLock<u64> =
            std::sync::LazyLock::new(|| uuid::Uuid::new_v4().as_u64_pair().0);
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut bytes = [0; 64];
        bytes[16] = b'-';
        for i in 0..16 {
            bytes[i] = HEX[((*PREFIX >> (60 - 4 * i)) & 0xf) as usize];
            bytes[17 + i] = HEX[((n >> (60 - 4 * i)) & 0xf) as usize];
        }
        RequestId { len: 33, bytes }
    }
}

/// On a route of the secure router, the id the pipeline gave this request; on a route behind
/// [`SecurityLayer`](crate::response::SecurityLayer), the layer's. Elsewhere (no id was given), the caller's well-formed
/// `X-Request-ID` or a fresh id.
impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let given = match parts.extensions.get::<RequestContext>() {
            Some(context) => Some(context.request_id.clone()),
            None => parts.extensions.get::<RequestId>().cloned(),
        };
        Ok(given.unwrap_or_else(|| RequestId::from_request(&parts.headers)))
    }
}

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
