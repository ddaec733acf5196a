//! Serving a [`SecureRouter`] over TLS with the client certificate of each connection handed
//! to the pipeline: [`TlsListener`] accepts TCP connections, runs the rustls handshakes
//! concurrently (each under a time limit), and serves every request with the connection's
//! peer address (`ConnectInfo<SocketAddr>`), the [`Https`] mark and, when the client
//! presented one, its [`ClientCertificate`].

use std::convert::Infallible;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use axum::Router;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::{ClientCa, ClientCertificate, MtlsConfigError};
use crate::perimeter::Https;
use crate::policy::AuthScheme;
use crate::router::SecureRouter;

/// The longest a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshakes in progress at once, at most; further connections wait to be accepted.
const MAX_HANDSHAKES: usize = 1024;

/// Whether a listener asks clients for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCertificates {
    /// Asks for one; a client without one is let through (and refused by `mtls` endpoints
    /// only, with 401). A certificate that is presented must verify, or the handshake fails.
    Optional,
    /// Requires one: the handshake fails without a certificate that verifies.
    Required,
}

/// A rustls server configuration (TLS 1.2 and 1.3, ring) that knows whether it asks for client
/// certificates, which [`TlsListener::serve`] checks against the router's endpoints.
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<rustls::ServerConfig>,
    client_certificates: Option<ClientCertificates>,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("client_certificates", &self.client_certificates)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Serves `chain` (leaf first) with `key`, asking for no client certificate.
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, MtlsConfigError> {
        let config = builder()?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| MtlsConfigError(format!("server certificate: {e}")))?;
        Ok(ServerTls {
            config: Arc::new(config),
            client_certificates: None,
        })
    }

    /// Serves `chain` with `key`, asking for a client certificate verified against `ca`
    /// (roots, validity, revocation by its CRLs) as `mode` says.
    pub fn with_client_certificates(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        ca: &ClientCa,
        mode: ClientCertificates,
    ) -> Result<Self, MtlsConfigError> {
        let verifier = ca.rustls_verifier(mode == ClientCertificates::Optional)?;
        let config = builder()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(|e| MtlsConfigError(format!("server certificate: {e}")))?;
        Ok(ServerTls {
            config: Arc::new(config),
            client_certificates: Some(mode),
        })
    }

    /// `Some` when clients are asked for a certificate.
    pub fn client_certificates(&self) -> Option<ClientCertificates> {
        self.client_certificates
    }
}

fn builder(
) -> Result<rustls::ConfigBuilder<rustls::ServerConfig, rustls::WantsVerifier>, MtlsConfigError> {
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| MtlsConfigError(format!("TLS versions: {e}")))
}

/// A router cannot be served on this listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenerError {
    /// The router has `mtls` endpoints reading the certificate from the connection, and the
    /// listener does not ask clients for one: every call to them would be refused.
    ClientCertificatesNotRequested {
        /// The endpoints, as `METHOD /path (handler)`.
        endpoints: Vec<String>,
    },
}

impl fmt::Display for ListenerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenerError::ClientCertificatesNotRequested { endpoints } => write!(
                f,
                "this TLS listener does not request client certificates, but the router serves \
                 `auth = \"mtls\"` endpoints that read them from the connection: {}; build the \
                 listener with `ServerTls::with_client_certificates(..)` (`Optional` keeps the \
                 other endpoints open to clients without one), or read the certificate from a \
                 trusted proxy with `MtlsVerifier::proxy_header(..)`",
                endpoints.join(", ")
            ),
        }
    }
}

impl std::error::Error for ListenerError {}

/// A TLS listener whose connections carry their client certificate into the pipeline (see
/// the [module](super) documentation). Handshakes run concurrently, each limited to 10 s.
pub struct TlsListener {
    accepted: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    client_certificates: Option<ClientCertificates>,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsListener")
            .field("local", &self.local)
            .field("client_certificates", &self.client_certificates)
            .finish_non_exhaustive()
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl TlsListener {
    /// Accepts TLS connections on `tcp` with `tls`. Starts accepting at once (on the current
    /// tokio runtime).
    pub fn new(tcp: TcpListener, tls: ServerTls) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (sender, accepted) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(tls.config.clone());
        let accept_loop = tokio::spawn(accept_loop(tcp, acceptor, sender));
        Ok(TlsListener {
            accepted,
            local,
            client_certificates: tls.client_certificates,
            accept_loop,
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Serves `router` with `state` on this listener, after checking that an `mtls` endpoint
    /// reading certificates from the connection is served only by a listener that asks for
    /// them (else [`ListenerError::ClientCertificatesNotRequested`], and nothing is served).
    pub fn serve<S: Clone + Send + Sync + 'static>(
        self,
        router: SecureRouter<S>,
        state: S,
    ) -> Result<impl Future<Output = std::io::Result<()>> + Send, ListenerError> {
        let reads_connection = router.security.as_ref().is_some_and(|security| {
            security
                .engine
                .mtls
                .as_ref()
                .is_some_and(super::MtlsVerifier::reads_connection)
        });
        if reads_connection && self.client_certificates.is_none() {
            let endpoints: Vec<String> = router
                .inventory()
                .endpoints
                .iter()
                .filter(|e| e.auth.contains(&AuthScheme::Mtls.as_str()))
                .map(|e| format!("{} {} ({})", e.method, e.path, e.handler))
                .collect();
            if !endpoints.is_empty() {
                return Err(ListenerError::ClientCertificatesNotRequested { endpoints });
            }
        }
        let router: Router = router.with_state(state);
        Ok(axum::serve(self, Connections { router }).into_future())
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    sender: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let Ok(permit) = handshakes.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait, as axum's own listener does.
                tracing::debug!("accepting a connection failed: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if sender.is_closed() {
            return;
        }
        let acceptor = acceptor.clone();
        let sender = sender.clone();
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream));
            match handshake.await {
                Ok(Ok(tls)) => {
                    drop(permit);
                    let _ = sender.send((tls, peer)).await;
                }
                // A refused certificate, a client that gave up, a timeout: the connection ends.
                Ok(Err(error)) => tracing::debug!("TLS handshake with {peer} failed: {error}"),
                Err(_) => tracing::debug!("TLS handshake with {peer} timed out"),
            }
        });
    }
}

/// What [`axum::serve`] hands the make-service for each connection.
#[derive(Debug, Clone)]
pub struct TlsPeer {
    addr: SocketAddr,
    certificate: Option<ClientCertificate>,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = TlsPeer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some((tls, addr)) => {
                let chain = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
                    .unwrap_or_default();
                let certificate = ClientCertificate::from_chain(chain);
                (tls, TlsPeer { addr, certificate })
            }
            // The accept loop ended (the runtime is shutting down): accept nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(TlsPeer {
            addr: self.local,
            certificate: None,
        })
    }
}

/// The make-service: one [`Connection`] per accepted connection.
#[derive(Clone)]
struct Connections {
    router: Router,
}

impl tower::Service<axum::serve::IncomingStream<'_, TlsListener>> for Connections {
    type Response = Connection;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Connection, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, stream: axum::serve::IncomingStream<'_, TlsListener>) -> Self::Future {
        let peer = stream.remote_addr().clone();
        std::future::ready(Ok(Connection {
            router: self.router.clone(),
            peer,
        }))
    }
}

/// Serves one connection's requests, each with the connection's peer, `Https` and client
/// certificate as extensions (set here, never read from the request).
#[derive(Clone)]
struct Connection {
    router: Router,
    peer: TlsPeer,
}

impl tower::Service<Request> for Connection {
    type Response = Response;
    type Error = Infallible;
    type Future = <Router as tower::Service<Request>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        tower::Service::<Request>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let extensions = request.extensions_mut();
        extensions.insert(ConnectInfo(self.peer.addr));
        extensions.insert(Https);
        match &self.peer.certificate {
            Some(certificate) => {
                extensions.insert(certificate.clone());
            }
            None => {
                extensions.remove::<ClientCertificate>();
            }
        }
        self.router.call(request)
    }
}
