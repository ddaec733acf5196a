//! `GET /api/internal/metrics` over mutual TLS (issue 20), on the demo's one HTTPS listener,
//! which asks for but does not require a client certificate: every other route keeps working
//! without one.
//!
//! The client CA comes from `DEMO_CLIENT_CA` (a PEM file; `DEMO_CLIENT_CRL` adds its CRLs). When
//! it is unset, [`generate`] makes a CA and a client certificate for [`METRICS_CLIENT`] with
//! rcgen at start and writes them into `DEMO_MTLS_DIR` (default `./demo-mtls`):
//! `client-ca.pem`, `client.pem`, `client-key.pem` (mode 0600), and, when the server's own
//! certificate was generated too, `server-ca.pem` for `curl --cacert`.

use std::path::{Path, PathBuf};

use axum::extract::State;
use secure_endpoint::mtls::{ClientCa, Identity, MtlsVerifier};
use secure_endpoint::{secure_endpoint, Json, Principal, SafeResponse};
use serde::Serialize;

use crate::server::BoxError;
use crate::{read, AppState};

/// The SAN URI of the generated client certificate: the principal `/api/internal/metrics`
/// grants the role `metrics`.
pub const METRICS_CLIENT: &str = "spiffe://secure-endpoint.demo/metrics-scraper";

/// The role `/api/internal/metrics` requires.
pub const METRICS_ROLE: &str = "metrics";

/// `auth = "mtls"`: the principal is the client certificate's first SAN URI; only
/// [`METRICS_CLIENT`] is granted [`METRICS_ROLE`].
pub fn verifier() -> MtlsVerifier {
    MtlsVerifier::new(Identity::SanUri).grant(METRICS_CLIENT, &[METRICS_ROLE], &[])
}

/// What the metrics scraper reads.
#[derive(Serialize, SafeResponse)]
pub struct Metrics {
    client: String,
    users: usize,
    orders: usize,
    articles: usize,
    webhook_deliveries: usize,
}

/// Counts for the internal metrics scraper: a client certificate of the demo's client CA whose
/// SAN URI is granted `metrics`; no token or API key opens it.
#[secure_endpoint(auth = "mtls", roles = ["metrics"], rate = "60/1m")]
pub(crate) async fn metrics(State(state): State<AppState>, principal: Principal) -> Json<Metrics> {
    Json(Metrics {
        client: principal.subject().to_owned(),
        users: read(&state.users).len(),
        orders: read(&state.orders).len(),
        articles: read(&state.articles).len(),
        webhook_deliveries: read(&state.deliveries).len(),
    })
}

/// The files [`generate`] wrote.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The client CA's certificate.
    pub ca: PathBuf,
    /// The client certificate (SAN URI [`METRICS_CLIENT`]).
    pub cert: PathBuf,
    /// Its private key (PKCS#8, mode 0600).
    pub key: PathBuf,
}

/// A client CA and a client certificate for [`METRICS_CLIENT`], made with rcgen and written
/// into `dir` (created when missing). Returns the CA to verify client certificates with.
pub fn generate(dir: &Path) -> Result<(ClientCa, Generated), BoxError> {
    std::fs::create_dir_all(dir)?;
    let ca_key = rcgen::KeyPair::generate()?;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "secure-endpoint demo client CA");
    let ca = ca_params.self_signed(&ca_key)?;
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.subject_alt_names = vec![rcgen::SanType::URI(METRICS_CLIENT.try_into()?)];
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "metrics-scraper");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &ca, &ca_key)?;
    let files = Generated {
        ca: dir.join("client-ca.pem"),
        cert: dir.join("client.pem"),
        key: dir.join("client-key.pem"),
    };
    std::fs::write(&files.ca, ca.pem())?;
    std::fs::write(&files.cert, cert.pem())?;
    write_private(&files.key, key.serialize_pem().as_bytes())?;
    let client_ca = ClientCa::builder([ca.der().clone()]).build()?;
    Ok((client_ca, files))
}

/// The client CA of `DEMO_CLIENT_CA` (PEM), with the CRLs of `crl` (PEM) when given.
pub fn load(ca: &Path, crl: Option<&Path>) -> Result<ClientCa, BoxError> {
    let mut builder = ClientCa::from_pem(&std::fs::read(ca)?)?;
    if let Some(crl) = crl {
        builder = builder.crls_pem(&std::fs::read(crl)?)?;
    }
    Ok(builder.build()?)
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
