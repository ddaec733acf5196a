//! Mutual TLS over real TLS on 127.0.0.1 (issue 20): `auth = "mtls"` endpoints served by
//! `mtls::TlsListener`, certificates and CRLs made here with rcgen. A listener that asks for
//! but does not require a certificate: without one, `mtls` endpoints answer 401 and others
//! work; a certificate from another CA, an expired or a revoked one fails the handshake (rustls
//! verifies every presented certificate, so the request never reaches the router: the client
//! reads the TLS alert); a good one is the principal its SAN URI names, with the roles
//! configured for it. RFC 8705 certificate-bound tokens, and RFC 9440 `Client-Cert` from a
//! trusted proxy (accepted) and from anyone else (ignored).

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine as _;
use common::{assert_security_headers, claims, expect_json, expect_problem, sign};
use reqwest::StatusCode;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use secure_endpoint::mtls::{
    ClientCa, ClientCertificates, Identity, ListenerError, MtlsVerifier, ServerTls, TlsListener,
};
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Json, Principal, SafeResponse, SecureRouter, Security};
use serde::Serialize;
use sha2::Digest;

const SCRAPER: &str = "spiffe://example.test/scraper";

#[derive(Serialize, SafeResponse)]
struct Who {
    subject: String,
    roles: Vec<String>,
    scopes: Vec<String>,
    scheme: String,
}

fn who(principal: &Principal) -> Json<Who> {
    Json(Who {
        subject: principal.subject().to_owned(),
        roles: principal.roles().to_vec(),
        scopes: principal.scopes().to_vec(),
        scheme: principal.scheme().as_str().to_owned(),
    })
}

#[secure_endpoint(auth = "mtls", roles = ["metrics"])]
async fn metrics(principal: Principal) -> Json<Who> {
    who(&principal)
}

#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn me(principal: Principal) -> Json<Who> {
    who(&principal)
}

#[secure_endpoint(auth = "none", reason = "health check")]
async fn health() -> &'static str {
    "ok"
}

// ---- certificates ------------------------------------------------------------------------------

/// A CA made with rcgen, able to sign certificates and CRLs.
struct Ca {
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

/// A client certificate and its key.
struct Client {
    der: CertificateDer<'static>,
    pem: String,
    key_pem: String,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// A client certificate for the SAN URI `uri`, serial `serial`, valid from `from` to
    /// `until` (years).
    fn client(&self, uri: &str, serial: u64, from: i32, until: i32) -> Client {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = vec![rcgen::SanType::URI(uri.try_into().unwrap())];
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "client");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        params.serial_number = Some(serial.into());
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(until, 1, 1);
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Client {
            der: cert.der().clone(),
            pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    fn good(&self, uri: &str, serial: u64) -> Client {
        self.client(uri, serial, 2020, 2100)
    }

    /// A CRL revoking `serials`.
    fn crl(&self, serials: &[u64]) -> rustls::pki_types::CertificateRevocationListDer<'static> {
        let now = rcgen::date_time_ymd(2026, 1, 1);
        rcgen::CertificateRevocationListParams {
            this_update: now,
            next_update: rcgen::date_time_ymd(2100, 1, 1),
            crl_number: 1u64.into(),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|s| rcgen::RevokedCertParams {
                    serial_number: (*s).into(),
                    revocation_time: now,
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        }
        .signed_by(&self.cert, &self.key)
        .unwrap()
        .der()
        .clone()
    }
}

/// The server's own certificate for 127.0.0.1, from its own CA.
fn server_identity() -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, Ca) {
    let ca = Ca::new("server CA");
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".into()])
        .unwrap()
        .signed_by(&key, &ca.cert, &ca.key)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (vec![leaf.der().clone()], key, ca)
}

// ---- the server ----------------------------------------------------------------------------------

/// A running server and what clients need to reach it.
struct Server {
    addr: SocketAddr,
    server_ca: Ca,
}

const REVOKED_SERIAL: u64 = 666;

fn router(security: Security) -> SecureRouter<()> {
    SecureRouter::new(security)
        .route("/metrics", get(metrics))
        .route("/me", get(me))
        .route("/health", get(health))
}

fn client_ca(ca: &Ca) -> ClientCa {
    ClientCa::builder([ca.der()])
        .crls([ca.crl(&[REVOKED_SERIAL])])
        .build()
        .unwrap()
}

/// `security` served by a `TlsListener` asking for (or, with `None`, not asking for) a
/// client certificate from `ca`.
async fn serve(security: Security, ca: &Ca, mode: Option<ClientCertificates>) -> Server {
    let (chain, key, server_ca) = server_identity();
    let tls = match mode {
        Some(mode) => ServerTls::with_client_certificates(chain, key, &client_ca(ca), mode),
        None => ServerTls::new(chain, key),
    }
    .unwrap();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listener = TlsListener::new(tcp, tls).unwrap();
    let addr = listener.local_addr();
    tokio::spawn(listener.serve(router(security), ()).unwrap());
    Server { addr, server_ca }
}

fn security() -> Security {
    Security::builder()
        .jwt(common::verifier())
        .mtls(MtlsVerifier::new(Identity::SanUri).grant(SCRAPER, &["metrics"], &["metrics:read"]))
        .build()
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// A client trusting the server, presenting `certificate` when given.
    fn client(&self, certificate: Option<&Client>) -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .tls_backend_rustls()
            .no_proxy()
            .tls_certs_only([reqwest::Certificate::from_der(self.server_ca.cert.der()).unwrap()]);
        if let Some(c) = certificate {
            builder = builder.identity(
                reqwest::Identity::from_pem(format!("{}{}", c.pem, c.key_pem).as_bytes()).unwrap(),
            );
        }
        builder.build().unwrap()
    }

    async fn get(&self, path: &str, certificate: Option<&Client>) -> reqwest::Response {
        self.client(certificate)
            .get(self.url(path))
            .send()
            .await
            .unwrap()
    }

    /// A raw rustls client presenting `certificate`: the handshake's outcome as the client
    /// sees it on its first read (with TLS 1.3, a refused client certificate is reported by
    /// the server's alert after the client's Finished).
    async fn raw_get(&self, path: &str, certificate: &Client) -> Result<String, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.server_ca.der()).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            rcgen::KeyPair::from_pem(&certificate.key_pem)
                .unwrap()
                .serialize_der(),
        ));
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_client_auth_cert(vec![certificate.der.clone()], key)
            .unwrap();
        let addr = self.addr;
        let request =
            format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n");
        tokio::task::spawn_blocking(move || {
            let name = ServerName::try_from("127.0.0.1").unwrap();
            let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
            let tcp = std::net::TcpStream::connect(addr).unwrap();
            tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            let mut tls = rustls::StreamOwned::new(connection, tcp);
            tls.write_all(request.as_bytes())
                .map_err(|e| e.to_string())?;
            let mut response = String::new();
            tls.read_to_string(&mut response)
                .map_err(|e| e.to_string())?;
            Ok(response)
        })
        .await
        .unwrap()
    }
}

/// The certificate's RFC 8705 thumbprint: base64url(SHA-256(DER)), no padding.
fn x5t_s256(der: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(der))
}

/// A token for `sub`, bound to `der` when given.
fn token(sub: &str, bound: Option<&[u8]>) -> String {
    let mut c = claims(sub, &["user"], "");
    if let Some(der) = bound {
        c["cnf"] = serde_json::json!({ "x5t#S256": x5t_s256(der) });
    }
    sign(&c)
}

// ---- the tests -----------------------------------------------------------------------------------

#[tokio::test]
async fn without_a_certificate_mtls_endpoints_are_401_and_others_work() {
    let ca = Ca::new("clients");
    let server = serve(security(), &ca, Some(ClientCertificates::Optional)).await;
    let res = server.get("/metrics", None).await;
    let problem = expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
    assert_eq!(
        problem.header("www-authenticate"),
        Some("ClientCertificate realm=\"api\"")
    );
    let res = server.get("/health", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_security_headers(res.headers());
    // A client certificate is never read from a header when the application terminates TLS.
    let good = ca.good(SCRAPER, 1);
    let res = server
        .client(None)
        .get(server.url("/metrics"))
        .header(
            "client-cert",
            format!(
                ":{}:",
                base64::engine::general_purpose::STANDARD.encode(&good.der)
            ),
        )
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
}

#[tokio::test]
async fn a_good_certificate_is_the_principal_its_san_uri_names_with_the_configured_roles() {
    let ca = Ca::new("clients");
    let server = serve(security(), &ca, Some(ClientCertificates::Optional)).await;
    let good = ca.good(SCRAPER, 1);
    let body = expect_json(server.get("/metrics", Some(&good)).await, StatusCode::OK).await;
    assert_eq!(body["subject"], SCRAPER);
    assert_eq!(body["roles"], serde_json::json!(["metrics"]));
    assert_eq!(body["scopes"], serde_json::json!(["metrics:read"]));
    assert_eq!(body["scheme"], "mtls");
    // Another name of the same CA is authenticated but granted nothing: 403, not 401.
    let other = ca.good("spiffe://example.test/other", 2);
    expect_problem(
        server.get("/metrics", Some(&other)).await,
        StatusCode::FORBIDDEN,
        &[],
    )
    .await;
    // The subject's common name, when configured so.
    let server = serve(
        Security::builder()
            .mtls(MtlsVerifier::new(Identity::SubjectCn).grant("client", &["metrics"], &[]))
            .jwt(common::verifier())
            .build(),
        &ca,
        Some(ClientCertificates::Required),
    )
    .await;
    let body = expect_json(server.get("/metrics", Some(&good)).await, StatusCode::OK).await;
    assert_eq!(body["subject"], "client");
}

#[tokio::test]
async fn another_ca_an_expired_and_a_revoked_certificate_fail_the_handshake() {
    let ca = Ca::new("clients");
    let server = serve(security(), &ca, Some(ClientCertificates::Optional)).await;
    let good = ca.good(SCRAPER, 1);
    let ok = server.raw_get("/metrics", &good).await.unwrap();
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let stranger = Ca::new("other clients").good(SCRAPER, 1);
    // A CA named like the configured one, with another key: found by name, refused by the
    // signature (rustls answers `decrypt_error` to a bad signature).
    let impostor = Ca::new("clients").good(SCRAPER, 1);
    let expired = ca.client(SCRAPER, 3, 2020, 2021);
    let revoked = ca.good(SCRAPER, REVOKED_SERIAL);
    for (certificate, alert) in [
        (&stranger, "UnknownCA"),
        (&impostor, "DecryptError"),
        (&expired, "CertificateExpired"),
        (&revoked, "CertificateRevoked"),
    ] {
        let error = server.raw_get("/metrics", certificate).await.unwrap_err();
        assert!(error.contains(alert), "expected {alert}: {error}");
        // reqwest sees the same refusal, for any route.
        let res = server
            .client(Some(certificate))
            .get(server.url("/health"))
            .send()
            .await;
        assert!(res.is_err(), "{alert}: {res:?}");
    }
}

#[tokio::test]
async fn a_listener_that_does_not_ask_for_certificates_refuses_to_serve_mtls_endpoints() {
    let (chain, key, _) = server_identity();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listener = TlsListener::new(tcp, ServerTls::new(chain, key).unwrap()).unwrap();
    let Err(error) = listener.serve(router(security()), ()) else {
        panic!("served mtls endpoints on a listener without client certificates");
    };
    assert!(matches!(
        &error,
        ListenerError::ClientCertificatesNotRequested { endpoints }
            if endpoints == &["GET /metrics (metrics)".to_owned()]
    ));
    let message = error.to_string();
    assert!(
        message.contains("GET /metrics") && message.contains("ServerTls::with_client_certificates"),
        "{message}"
    );
}

#[tokio::test]
async fn a_bound_token_is_accepted_only_with_its_certificate() {
    let ca = Ca::new("clients");
    let server = serve(security(), &ca, Some(ClientCertificates::Optional)).await;
    let mine = ca.good(SCRAPER, 1);
    let theirs = ca.good("spiffe://example.test/other", 2);
    let bound = token("alice", Some(&mine.der));
    let send = |certificate: Option<&Client>, token: &str| {
        server
            .client(certificate)
            .get(server.url("/me"))
            .bearer_auth(token)
            .send()
    };
    let body = expect_json(send(Some(&mine), &bound).await.unwrap(), StatusCode::OK).await;
    assert_eq!(body["subject"], "alice");
    for (certificate, what) in [
        (Some(&theirs), "the wrong certificate"),
        (None, "no certificate"),
    ] {
        let res = send(certificate, &bound).await.unwrap();
        let problem = expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
        assert_eq!(
            problem.header("www-authenticate"),
            Some("Bearer realm=\"api\", error=\"invalid_token\""),
            "{what}"
        );
    }
    // An unbound token needs no certificate; a malformed binding is refused.
    let unbound = token("alice", None);
    assert_eq!(send(None, &unbound).await.unwrap().status(), StatusCode::OK);
    let mut c = claims("alice", &[], "");
    c["cnf"] = serde_json::json!({ "x5t#S256": "not-a-thumbprint" });
    let res = send(Some(&mine), &sign(&c)).await.unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
}

#[tokio::test]
async fn client_cert_header_from_a_trusted_proxy_is_accepted_and_from_anyone_else_ignored() {
    let ca = Ca::new("clients");
    let good = ca.good(SCRAPER, 1);
    let revoked = ca.good(SCRAPER, REVOKED_SERIAL);
    let stranger = Ca::new("other clients").good(SCRAPER, 1);
    let header = |c: &Client| {
        format!(
            ":{}:",
            base64::engine::general_purpose::STANDARD.encode(&c.der)
        )
    };
    // The proxy (this test, from 127.0.0.1) terminates the client's TLS and connects over TLS
    // without a client certificate of its own.
    let behind = |trusted: &str| {
        Security::builder()
            .trusted_proxies([trusted])
            .jwt(common::verifier())
            .mtls(
                MtlsVerifier::new(Identity::SanUri)
                    .proxy_header("Client-Cert", client_ca(&ca))
                    .grant(SCRAPER, &["metrics"], &[]),
            )
            .build()
    };
    let trusted = serve(behind("127.0.0.1"), &ca, None).await;
    let res = trusted
        .client(None)
        .get(trusted.url("/metrics"))
        .header("client-cert", header(&good))
        .send()
        .await
        .unwrap();
    let body = expect_json(res, StatusCode::OK).await;
    assert_eq!(body["subject"], SCRAPER);
    // The proxy's certificate is verified again: revoked or from another CA is 401.
    for c in [&revoked, &stranger] {
        let res = trusted
            .client(None)
            .get(trusted.url("/metrics"))
            .header("client-cert", header(c))
            .send()
            .await
            .unwrap();
        expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
    }
    // A bound token through the proxy: the header's certificate is the one that counts.
    let bound = token("alice", Some(&good.der));
    let res = trusted
        .client(None)
        .get(trusted.url("/me"))
        .bearer_auth(&bound)
        .header("client-cert", header(&good))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // From a peer that is not a trusted proxy, the header means nothing.
    let untrusted = serve(behind("10.0.0.0/8"), &ca, None).await;
    let res = untrusted
        .client(None)
        .get(untrusted.url("/metrics"))
        .header("client-cert", header(&good))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
}

#[test]
#[should_panic(expected = "trusts none")]
fn a_proxy_header_without_trusted_proxies_refuses_to_start() {
    let ca = Ca::new("clients");
    let security = Security::builder()
        .mtls(MtlsVerifier::new(Identity::SanUri).proxy_header("Client-Cert", client_ca(&ca)))
        .build();
    let _ = SecureRouter::<()>::new(security).route("/metrics", get(metrics));
}
