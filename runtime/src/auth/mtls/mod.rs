//! Mutual TLS: `auth = "mtls"` endpoints and certificate-bound access tokens (RFC 8705).
//!
//! The client certificate is verified by rustls (`WebPkiClientVerifier`) against the
//! configured client CAs and their CRLs ([`ClientCa`]): during the handshake when this
//! application terminates TLS ([`TlsListener`]), or, when a proxy terminates it, from one
//! header set by that proxy ([`MtlsVerifier::proxy_header`]: RFC 9440 `Client-Cert`), read
//! only from [trusted proxies](crate::SecurityBuilder::trusted_proxies) and verified again
//! against the same CAs and CRLs. A certificate never comes from a header otherwise.
//!
//! ```no_run
//! # async fn run(chain: Vec<rustls::pki_types::CertificateDer<'static>>, key: rustls::pki_types::PrivateKeyDer<'static>, ca_pem: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! use secure_endpoint::mtls::{ClientCa, ClientCertificates, Identity, MtlsVerifier, ServerTls, TlsListener};
//! use secure_endpoint::{routing::get, secure_endpoint, SecureRouter, Security};
//!
//! #[secure_endpoint(auth = "mtls", roles = ["metrics"])]
//! async fn metrics() -> &'static str { "up 1" }
//!
//! let ca = ClientCa::from_pem(ca_pem)?.build()?;
//! let security = Security::builder()
//!     .mtls(MtlsVerifier::new(Identity::SanUri).grant("spiffe://example/scraper", &["metrics"], &[]))
//!     .build();
//! let router = SecureRouter::new(security).route("/metrics", get(metrics));
//! // Asks for a client certificate without requiring one: other endpoints work without.
//! let tls = ServerTls::with_client_certificates(chain, key, &ca, ClientCertificates::Optional)?;
//! let listener = TlsListener::new(tokio::net::TcpListener::bind("127.0.0.1:8443").await?, tls)?;
//! listener.serve(router, ())?.await?;
//! # Ok(()) }
//! ```
//!
//! The principal is one name of the certificate ([`Identity`]: the first SAN URI, DNS name or
//! email address, or the subject's common name); its roles and scopes are those
//! [granted](MtlsVerifier::grant) to that name (none otherwise: an endpoint requiring roles
//! then answers 403). A certificate without that name is refused with 401.
//!
//! **Starting.** [`TlsListener::serve`] refuses to start (a [`ListenerError`]) a router with an
//! `mtls` endpoint whose certificates come from the connection on a listener that does not
//! ask for client certificates; [`SecureRouter::route`](crate::SecureRouter::route) panics
//! for an `mtls` endpoint without [`SecurityBuilder::mtls`](crate::SecurityBuilder::mtls), or
//! with a proxy header and no trusted proxies.
//!
//! **Certificate-bound tokens.** A JWT carrying `cnf: {"x5t#S256": <base64url SHA-256 of the
//! certificate's DER>}` is accepted only on a request presenting that certificate (over the
//! connection, or through the proxy header as above); over any other connection, or without a
//! certificate, it is refused with 401 `invalid_token`.

mod bound;
mod identity;
mod listener;
mod proxy_header;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use http::request::Parts;
use http::HeaderName;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use sha2::{Digest, Sha256};

use crate::auth::{AuthFailure, Principal};
use crate::perimeter::Perimeter;
use crate::policy::AuthScheme;

pub(crate) use bound::{check_binding, check_connection_binding, confirmation_x5t};
pub use identity::Identity;
pub use listener::{ClientCertificates, ListenerError, ServerTls, TlsListener};

/// A configuration error: unreadable PEM, no root, a malformed CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtlsConfigError(String);

impl fmt::Display for MtlsConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mTLS configuration: {}", self.0)
    }
}

impl std::error::Error for MtlsConfigError {}

/// The client certificate authorities and their certificate revocation lists: what a client
/// certificate is verified against (by rustls's `WebPkiClientVerifier`: chain to one of the
/// roots, validity period, key usage for client authentication, and revocation by the CRLs
/// given). Cheap to clone.
#[derive(Clone)]
pub struct ClientCa {
    roots: Arc<RootCertStore>,
    crls: Vec<CertificateRevocationListDer<'static>>,
    /// Verifies certificates presented through a proxy header.
    verifier: Arc<dyn ClientCertVerifier>,
}

impl fmt::Debug for ClientCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCa")
            .field("roots", &self.roots.len())
            .field("crls", &self.crls.len())
            .finish()
    }
}

/// Builds a [`ClientCa`].
#[derive(Debug)]
#[must_use]
pub struct ClientCaBuilder {
    roots: Vec<CertificateDer<'static>>,
    crls: Vec<CertificateRevocationListDer<'static>>,
}

impl ClientCa {
    /// Trusts these CA certificates (DER) as roots of client certificates.
    pub fn builder(roots: impl IntoIterator<Item = CertificateDer<'static>>) -> ClientCaBuilder {
        ClientCaBuilder {
            roots: roots.into_iter().collect(),
            crls: Vec::new(),
        }
    }

    /// Trusts the CA certificates of a PEM file's contents.
    pub fn from_pem(pem: &[u8]) -> Result<ClientCaBuilder, MtlsConfigError> {
        let roots = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| MtlsConfigError(format!("client CA PEM: {e}")))?;
        Ok(Self::builder(roots))
    }

    /// rustls's verifier over these roots and CRLs; with `optional`, a client that presents
    /// no certificate is let through (and then refused by `mtls` endpoints only).
    pub(crate) fn rustls_verifier(
        &self,
        optional: bool,
    ) -> Result<Arc<dyn ClientCertVerifier>, MtlsConfigError> {
        build_verifier(self.roots.clone(), &self.crls, optional)
    }

    /// Verifies `chain` (end entity first, then intermediates) as the handshake would.
    fn verify(&self, chain: &[CertificateDer<'static>]) -> bool {
        let Some((end_entity, intermediates)) = chain.split_first() else {
            return false;
        };
        self.verifier
            .verify_client_cert(end_entity, intermediates, UnixTime::now())
            .is_ok()
    }
}

fn build_verifier(
    roots: Arc<RootCertStore>,
    crls: &[CertificateRevocationListDer<'static>],
    optional: bool,
) -> Result<Arc<dyn ClientCertVerifier>, MtlsConfigError> {
    let builder = WebPkiClientVerifier::builder_with_provider(
        roots,
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .with_crls(crls.iter().cloned());
    let builder = if optional {
        builder.allow_unauthenticated()
    } else {
        builder
    };
    builder
        .build()
        .map_err(|e| MtlsConfigError(format!("client certificate verifier: {e}")))
}

impl ClientCaBuilder {
    /// Refuses certificates these CRLs (DER) revoke. With CRLs given, a certificate whose
    /// issuer has none is refused too (its status is unknown).
    pub fn crls(
        mut self,
        crls: impl IntoIterator<Item = CertificateRevocationListDer<'static>>,
    ) -> Self {
        self.crls.extend(crls);
        self
    }

    /// [`crls`](Self::crls) from a PEM file's contents (`-----BEGIN X509 CRL-----`).
    pub fn crls_pem(mut self, pem: &[u8]) -> Result<Self, MtlsConfigError> {
        let crls = CertificateRevocationListDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| MtlsConfigError(format!("CRL PEM: {e}")))?;
        self.crls.extend(crls);
        Ok(self)
    }

    /// Finishes: at least one root, each a parsable CA certificate, each CRL parsable.
    pub fn build(self) -> Result<ClientCa, MtlsConfigError> {
        let mut store = RootCertStore::empty();
        for root in self.roots {
            store
                .add(root)
                .map_err(|e| MtlsConfigError(format!("client CA certificate: {e}")))?;
        }
        if store.is_empty() {
            return Err(MtlsConfigError("no client CA certificate".into()));
        }
        let roots = Arc::new(store);
        let verifier = build_verifier(roots.clone(), &self.crls, false)?;
        Ok(ClientCa {
            roots,
            crls: self.crls,
            verifier,
        })
    }
}

/// The client certificate chain a TLS connection presented (end entity first), as rustls
/// verified it during the handshake. Set by [`TlsListener`] on every request of that
/// connection; handlers may take it as an extension. Its `Debug` shows the certificate's
/// SHA-256 thumbprint only.
#[derive(Clone)]
pub struct ClientCertificate(Arc<[CertificateDer<'static>]>);

impl ClientCertificate {
    /// The end-entity certificate, DER.
    pub fn der(&self) -> &[u8] {
        self.0.first().map_or(&[], |c| c.as_ref())
    }

    /// The whole chain the client sent, end entity first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.0
    }

    /// SHA-256 of the end-entity certificate's DER: what `cnf.x5t#S256` names (RFC 8705 §3.1).
    pub fn thumbprint(&self) -> [u8; 32] {
        Sha256::digest(self.der()).into()
    }

    pub(crate) fn from_chain(chain: Vec<CertificateDer<'static>>) -> Option<Self> {
        (!chain.is_empty()).then(|| ClientCertificate(chain.into()))
    }
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use base64::Engine as _;
        f.debug_tuple("ClientCertificate")
            .field(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.thumbprint()))
            .finish()
    }
}

/// Where `mtls` endpoints (and certificate-bound tokens) read the client certificate from.
#[derive(Debug, Clone)]
enum Source {
    /// The TLS connection ([`TlsListener`], whose [`ServerTls`] verified it).
    Connection,
    /// A header a trusted proxy sets (RFC 9440), verified here against the CAs and CRLs.
    ProxyHeader(HeaderName, ClientCa),
}

/// Roles and scopes granted to one certificate name.
#[derive(Debug, Clone, Default)]
struct Grant {
    roles: Vec<String>,
    scopes: Vec<String>,
}

/// Authenticates `auth = "mtls"` endpoints: the verified client certificate's name (chosen
/// with [`Identity`]) is the principal's subject, with the roles and scopes
/// [granted](Self::grant) to it. Configure with
/// [`SecurityBuilder::mtls`](crate::SecurityBuilder::mtls). Cheap to clone.
#[derive(Clone)]
pub struct MtlsVerifier(Arc<Inner>);

struct Inner {
    identity: Identity,
    source: Source,
    grants: HashMap<String, Grant>,
}

impl fmt::Debug for MtlsVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MtlsVerifier")
            .field("identity", &self.0.identity)
            .field("source", &self.0.source)
            .field("grants", &self.0.grants.len())
            .finish()
    }
}

impl MtlsVerifier {
    /// Client certificates from the TLS connection: this application terminates TLS with a
    /// [`TlsListener`] whose [`ServerTls`] asks for them and verifies them against its
    /// [`ClientCa`] during the handshake. The principal is the certificate's `identity`.
    pub fn new(identity: Identity) -> Self {
        MtlsVerifier(Arc::new(Inner {
            identity,
            source: Source::Connection,
            grants: HashMap::new(),
        }))
    }

    /// A proxy terminates TLS and passes the client certificate in the header `name` (RFC
    /// 9440: `Client-Cert: :<base64 DER>:`, with an optional `Client-Cert-Chain`). The header
    /// is read only from [trusted proxies](crate::SecurityBuilder::trusted_proxies) (from any
    /// other peer it is ignored), and the certificate is verified against `ca` (roots,
    /// validity, CRLs) as the handshake would. The connection's own certificate is then not
    /// read.
    ///
    /// # Panics
    /// When `name` is not a valid header name.
    pub fn proxy_header(mut self, name: &str, ca: ClientCa) -> Self {
        let name = HeaderName::from_bytes(name.as_bytes()).unwrap_or_else(|_| {
            panic!("`MtlsVerifier::proxy_header`: {name:?} is not a header name")
        });
        self.inner_mut().source = Source::ProxyHeader(name, ca);
        self
    }

    /// Grants `roles` and `scopes` to the principal whose certificate name is `subject`.
    pub fn grant(mut self, subject: &str, roles: &[&str], scopes: &[&str]) -> Self {
        let grant = self
            .inner_mut()
            .grants
            .entry(subject.to_owned())
            .or_default();
        grant.roles.extend(roles.iter().map(|r| (*r).to_owned()));
        grant.scopes.extend(scopes.iter().map(|s| (*s).to_owned()));
        self
    }

    fn inner_mut(&mut self) -> &mut Inner {
        // Only called while building, before any clone is handed out.
        Arc::get_mut(&mut self.0).expect("an MtlsVerifier is configured before it is shared")
    }

    /// `true` when certificates come from the connection (a listener must ask for them).
    pub(crate) fn reads_connection(&self) -> bool {
        matches!(self.0.source, Source::Connection)
    }

    /// The principal of the request's certificate: `Missing` without one, `Invalid` for one
    /// that does not verify or has no usable name.
    pub(crate) fn authenticate(
        &self,
        perimeter: &Perimeter,
        parts: &Parts,
    ) -> Result<Principal, AuthFailure> {
        let certificate = presented(Some(self), perimeter, parts)?.ok_or(AuthFailure::Missing)?;
        let subject =
            identity::name(certificate.der(), self.0.identity).ok_or(AuthFailure::Invalid)?;
        let grant = self.0.grants.get(&subject).cloned().unwrap_or_default();
        Ok(Principal::new(
            subject,
            grant.roles,
            grant.scopes,
            AuthScheme::Mtls,
        ))
    }
}

/// `true` when `auth = "mtls"` can be enforced with `mtls` behind `perimeter`.
///
/// # Panics
/// When certificates come from a proxy header but no proxy is trusted: every request would
/// then be refused, which is a configuration error to report at start-up.
pub(crate) fn configured(mtls: Option<&MtlsVerifier>, perimeter: &Perimeter) -> bool {
    let Some(mtls) = mtls else {
        return false;
    };
    if let Source::ProxyHeader(name, _) = &mtls.0.source {
        assert!(
            !perimeter.trusted_proxies.is_empty(),
            "`MtlsVerifier::proxy_header({name})` reads the client certificate from trusted \
             proxies only, and this router's `Security` trusts none; call \
             `Security::builder().trusted_proxies([...])`"
        );
    }
    true
}

/// The certificate the request presents: from the proxy header when `mtls` says so and the
/// peer is a trusted proxy (verified here), else from the TLS connection (verified by the
/// handshake). `Err(Invalid)` for a header that is malformed or does not verify.
fn presented(
    mtls: Option<&MtlsVerifier>,
    perimeter: &Perimeter,
    parts: &Parts,
) -> Result<Option<ClientCertificate>, AuthFailure> {
    match mtls.map(|m| &m.0.source) {
        Some(Source::ProxyHeader(name, ca)) => {
            if !perimeter.peer_is_trusted_proxy(&parts.extensions) {
                return Ok(None);
            }
            match proxy_header::read(&parts.headers, name)? {
                None => Ok(None),
                Some(chain) if ca.verify(&chain) => Ok(ClientCertificate::from_chain(chain)),
                Some(_) => Err(AuthFailure::Invalid),
            }
        }
        _ => Ok(parts.extensions.get::<ClientCertificate>().cloned()),
    }
}
