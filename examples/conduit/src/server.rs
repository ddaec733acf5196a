//! Serving Conduit over HTTPS (rustls, TLS 1.2 and 1.3), with a graceful stop on Ctrl-C or
//! SIGTERM.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Any error of setting up the server.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The TLS configuration: the certificate chain and key from PEM files, or, without files, a
/// certificate for `localhost` and `127.0.0.1` issued by a CA generated on the spot, whose
/// certificate (PEM) is returned for clients that should trust it.
pub fn tls_config(
    files: Option<(&Path, &Path)>,
) -> Result<(rustls::ServerConfig, Option<String>), BoxError> {
    let (certs, key, ca) = match files {
        Some((cert, key)) => (
            CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?,
            PrivateKeyDer::from_pem_file(key)?,
            None,
        ),
        None => {
            let ca_key = rcgen::KeyPair::generate()?;
            let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
            ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            ca_params
                .distinguished_name
                .push(rcgen::DnType::CommonName, "conduit example CA");
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
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)?;
    Ok((config, ca))
}

/// Serves `router` over TLS on `listener` until Ctrl-C or SIGTERM; every request is marked as
/// received over HTTPS.
pub async fn serve_https(
    listener: std::net::TcpListener,
    tls: rustls::ServerConfig,
    router: axum::Router,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stopper.graceful_shutdown(Some(Duration::from_secs(5)));
    });
    let service = secure_endpoint::perimeter::mark_https(router)
        .into_make_service_with_connect_info::<SocketAddr>();
    axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(Arc::new(tls)))
        .handle(handle)
        .serve(service)
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
