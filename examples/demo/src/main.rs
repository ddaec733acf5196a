//! The demo API over HTTPS.
//!
//! ```text
//! cargo run -p demo                 # serve on https://127.0.0.1:8443
//! cargo run -p demo -- --inventory  # print the security inventory (Markdown; `--inventory=json`)
//! ```
//!
//! Environment: `DEMO_ADDR` (default `127.0.0.1:8443`), `DEMO_HTTP_ADDR` (optional plain-HTTP
//! listener that refuses every request with 403), `DEMO_TLS_CERT`/`DEMO_TLS_KEY` (PEM files;
//! a self-signed certificate for localhost is generated when unset), `DEMO_JWT_SECRET`
//! (random per start when unset), `DEMO_PASSWORD` (password of the seeded users; random and
//! printed when unset), `DEMO_API_KEY` (the key of `GET /api/reports`; generated and printed
//! when unset), `DEMO_WEBHOOK_SECRET` (the HMAC secret of `POST /api/webhooks/{source}`, key id
//! `demo-webhooks`; generated and printed when unset).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::StatusCode;
use axum_server::tls_rustls::RustlsConfig;
use demo::{app, DemoConfig, SEEDED_USERS, WEBHOOK_KEY_ID};
use rand::distributions::{Alphanumeric, DistString};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use secure_endpoint::api_key::NewApiKey;
use secure_endpoint::Problem;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn random_token(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, len)
}

fn config_from_env() -> DemoConfig {
    let jwt_secret = match std::env::var("DEMO_JWT_SECRET") {
        Ok(secret) if secret.len() >= 32 => secret.into_bytes(),
        Ok(_) => {
            eprintln!("DEMO_JWT_SECRET must be at least 32 bytes");
            std::process::exit(2);
        }
        Err(_) => {
            tracing::warn!("DEMO_JWT_SECRET is not set: using a random secret; tokens will not survive a restart");
            random_token(48).into_bytes()
        }
    };
    let password = match std::env::var("DEMO_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let p = random_token(20);
            // Printed once on purpose: this is how a developer learns the demo password.
            println!("demo password for the seeded users (set DEMO_PASSWORD to choose one): {p}");
            p
        }
    };
    let reports_api_key = match std::env::var("DEMO_API_KEY") {
        Ok(key) if key.len() >= 32 => key,
        Ok(_) => {
            eprintln!("DEMO_API_KEY must be at least 32 bytes");
            std::process::exit(2);
        }
        Err(_) => {
            let key = NewApiKey::generate("demo", "reports-service", &["reports:read"]).key;
            // Printed once on purpose: this is how a developer learns the demo's API key.
            println!("demo API key for GET /api/reports (set DEMO_API_KEY to choose one): {key}");
            key
        }
    };
    let webhook_secret = match std::env::var("DEMO_WEBHOOK_SECRET") {
        Ok(secret) if secret.len() >= 32 => secret,
        Ok(_) => {
            eprintln!("DEMO_WEBHOOK_SECRET must be at least 32 bytes");
            std::process::exit(2);
        }
        Err(_) => {
            let secret = random_token(48);
            // Printed once on purpose: this is how a developer learns the webhook secret.
            println!(
                "demo webhook secret for POST /api/webhooks/{{source}}, key id {WEBHOOK_KEY_ID} (set DEMO_WEBHOOK_SECRET to choose one; signing: docs/hmac.md): {secret}"
            );
            secret
        }
    };
    DemoConfig {
        jwt_secret,
        password,
        reports_api_key,
        webhook_secret,
    }
}

fn tls_config() -> Result<rustls::ServerConfig, BoxError> {
    let (certs, key) = match (
        std::env::var("DEMO_TLS_CERT"),
        std::env::var("DEMO_TLS_KEY"),
    ) {
        (Ok(cert), Ok(key)) => {
            let certs = CertificateDer::pem_file_iter(&cert)?.collect::<Result<Vec<_>, _>>()?;
            (certs, PrivateKeyDer::from_pem_file(&key)?)
        }
        _ => {
            tracing::warn!(
                "DEMO_TLS_CERT/DEMO_TLS_KEY not set: using a self-signed certificate for localhost"
            );
            let generated =
                rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])?;
            let key =
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(generated.key_pair.serialize_der()));
            (vec![generated.cert.der().clone()], key)
        }
    };
    // TLS 1.2 and 1.3 with rustls's default (safe) cipher suites.
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)?;
    Ok(config)
}

/// Every request on the plain-HTTP listener: 403, no redirect, no `Location`, no HSTS.
async fn https_required() -> Problem {
    Problem::new(StatusCode::FORBIDDEN)
        .with_code("https_required")
        .with_detail("HTTPS is required.")
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let inventory_flag = std::env::args()
        .skip(1)
        .find(|a| a.starts_with("--inventory"));
    if let Some(flag) = inventory_flag {
        let config = DemoConfig {
            jwt_secret: vec![0; 32],
            password: String::new(),
            reports_api_key: "x".repeat(32),
            webhook_secret: "x".repeat(32),
        };
        let (router, _) = app(&config);
        match flag.as_str() {
            "--inventory=json" => println!("{}", router.inventory().to_json()),
            _ => print!("{}", router.inventory().to_markdown()),
        }
        return Ok(());
    }

    let config = config_from_env();
    let addr: SocketAddr = std::env::var("DEMO_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:8443".into())
        .parse()?;
    let (router, state) = app(&config);
    let service = router
        .with_state(state)
        .into_make_service_with_connect_info::<SocketAddr>();

    if let Ok(http_addr) = std::env::var("DEMO_HTTP_ADDR") {
        let http_addr: SocketAddr = http_addr.parse()?;
        let listener = tokio::net::TcpListener::bind(http_addr).await?;
        tracing::info!("plain HTTP on http://{http_addr} refuses every request with 403");
        tokio::spawn(async move {
            let refuse = axum::Router::new().fallback(https_required);
            if let Err(err) = axum::serve(listener, refuse).await {
                tracing::error!("plain HTTP listener stopped: {err}");
            }
        });
    }

    let tls = RustlsConfig::from_config(Arc::new(tls_config()?));
    tracing::info!("demo API on https://{addr}");
    for (email, _, role) in SEEDED_USERS {
        tracing::info!("seeded user {email} (role {role})");
    }
    axum_server::bind_rustls(addr, tls).serve(service).await?;
    Ok(())
}
