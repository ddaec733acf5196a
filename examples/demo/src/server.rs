//! Serving the demo: HTTPS with rustls (TLS 1.2 and 1.3, rustls's default suites; client
//! certificates asked for, not required: see [`crate::mtls`]), and
//! optionally a plain-HTTP listener on which the secure router's perimeter refuses every
//! request with 403 (no redirect, no `Location`, no HSTS).

use std::net::SocketAddr;
use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use secure_endpoint::mtls::{ClientCa, ClientCertificates, ServerTls, TlsListener};
use secure_endpoint::SecureRouter;

use crate::AppState;

/// Any error of setting up a listener.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The TLS configuration: the certificate chain and key from PEM files, or, without files, a
/// certificate for `localhost` and `127.0.0.1` issued by a CA generated on the spot. The CA's
/// certificate (PEM) is returned in that case, for clients that should trust it. The listener
/// asks for (without requiring) a client certificate of `client_ca`, for
/// `GET /api/internal/metrics`.
pub fn tls_config_with_client_ca(
    files: Option<(&Path, &Path)>,
    client_ca: &ClientCa,
) -> Result<(ServerTls, Option<String>), BoxError> {
    let (certs, key, ca) = match files {
        Some((cert, key)) => {
            let certs = CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?;
            (certs, PrivateKeyDer::from_pem_file(key)?, None)
        }
        None => {
            let ca_key = rcgen::KeyPair::generate()?;
            let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
            ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            ca_params
                .distinguished_name
                .push(rcgen::DnType::CommonName, "secure-endpoint demo CA");
            let ca = ca_params.self_signed(&ca_key)?;
            let leaf_key = rcgen::KeyPair::generate()?;
            let leaf = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])?
                .signed_by(&leaf_key, &ca, &ca_key)?;
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
            (
                vec![leaf.der().clone(), ca.der().clone()],
                key,
                Some(ca.pem()),
            )
        }
    };
    let tls =
        ServerTls::with_client_certificates(certs, key, client_ca, ClientCertificates::Optional)?;
    Ok((tls, ca))
}

/// [`tls_config_with_client_ca`] with a client CA generated on the spot whose key is thrown
/// away: no client holds a certificate of it, so `GET /api/internal/metrics` answers 401 to
/// everyone, and every other route works as usual.
pub fn tls_config(files: Option<(&Path, &Path)>) -> Result<(ServerTls, Option<String>), BoxError> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = params.self_signed(&key)?;
    tls_config_with_client_ca(files, &ClientCa::builder([ca.der().clone()]).build()?)
}

/// Serves `router` over TLS on `listener` with `secure_endpoint::mtls::TlsListener`: every
/// request is marked as received over HTTPS and carries the connection's client certificate,
/// when one was presented. Refuses to start (an error) if the router's `mtls` endpoints would
/// be served by a listener that does not ask for client certificates.
pub async fn serve_https(
    listener: std::net::TcpListener,
    tls: ServerTls,
    router: SecureRouter<AppState>,
    state: AppState,
) -> Result<(), BoxError> {
    listener.set_nonblocking(true)?;
    let listener = TlsListener::new(tokio::net::TcpListener::from_std(listener)?, tls)?;
    listener.serve(router, state)?.await?;
    Ok(())
}

/// Serves `router` on plain HTTP: its perimeter answers every request with 403.
pub async fn serve_plain(
    listener: tokio::net::TcpListener,
    router: axum::Router,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}
