//! The demo API over HTTPS.
//!
//! ```text
//! cargo run -p demo                 # serve on https://127.0.0.1:8443
//! cargo run -p demo -- --inventory  # print the security inventory (Markdown; `=json`, `=text`)
//! cargo run -p demo -- --openapi    # print the OpenAPI 3.1 document
//! ```
//!
//! Environment: `DEMO_ADDR` (default `127.0.0.1:8443`), `DEMO_HTTP_ADDR` (optional plain-HTTP
//! listener that refuses every request with 403), `DEMO_TLS_CERT`/`DEMO_TLS_KEY` (PEM files;
//! a self-signed certificate for localhost is generated when unset), `DEMO_JWT_SECRET`
//! (random per start when unset), `DEMO_PASSWORD` (password of the seeded users; random and
//! printed when unset), `DEMO_API_KEY` (the key of `GET /api/reports`; generated and printed
//! when unset), `DEMO_WEBHOOK_SECRET` (the HMAC secret of `POST /api/webhooks/{source}`, key id
//! `demo-webhooks`; generated and printed when unset), `DEMO_CORS_ORIGINS` (comma-separated
//! origins allowed by CORS; default `https://localhost:5173`), `DEMO_TRUSTED_PROXIES`
//! (comma-separated CIDRs of reverse proxies whose forwarding headers are believed; none by
//! default), `DEMO_AUDIT_FILE` (the audit trail of refused requests, JSON lines; default
//! `./audit.jsonl`), `DEMO_REDIS_URL` (`redis://…` or `rediss://…`: rate limits, webhook nonces
//! and API-key revocations shared through Redis by every instance; unset: in memory).
//! Signed senders (docs/hmac.md), each generated and printed when unset:
//! `DEMO_GITHUB_WEBHOOK_SECRET` (`POST /api/hooks/github`), `DEMO_STRIPE_WEBHOOK_SECRET`
//! (`POST /api/hooks/stripe`, a `whsec_…` value), `DEMO_STANDARD_WEBHOOK_SECRET`
//! (`POST /api/hooks/standard`, a `whsec_<base64>` value) and `DEMO_PARTNER_KEY` (base64, 32
//! bytes or more: the RFC 9421 `hmac-sha256` key of `POST /api/partner/orders`, key id
//! `partner-demo`).
//! Mutual TLS (`GET /api/internal/metrics`): `DEMO_CLIENT_CA` (PEM: the CA of client
//! certificates; `DEMO_CLIENT_CRL` adds its CRLs, PEM), or, when unset, a CA, a client
//! certificate and its key generated at start into `DEMO_MTLS_DIR` (default `./demo-mtls`:
//! `client-ca.pem`, `client.pem`, `client-key.pem`, and `server-ca.pem` when the server
//! certificate is generated too), with a curl command printed.

use std::net::SocketAddr;

use base64::Engine as _;
use demo::hooks::{SignedSenders, PARTNER_KEY_ID};
use demo::server::{self, BoxError};
use demo::{app, DemoConfig, SEEDED_USERS, WEBHOOK_KEY_ID};
use rand::distributions::{Alphanumeric, DistString};
use secure_endpoint::api_key::NewApiKey;
use secure_endpoint::webhook::StandardWebhook;

fn random_token(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, len)
}

/// The signed senders' secrets from the environment; each one unset is generated and printed.
fn signed_senders_from_env() -> SignedSenders {
    let generated = SignedSenders::generate();
    let pick = |name: &str, route: &str, generated: String, valid: &dyn Fn(&str) -> bool| {
        match std::env::var(name) {
            Ok(value) if valid(&value) => value,
            Ok(_) => {
                eprintln!("{name} is malformed (docs/hmac.md gives each sender's format)");
                std::process::exit(2);
            }
            Err(_) => {
                // Printed once on purpose: this is how a developer learns the secret.
                println!("demo secret for {route} (set {name} to choose one; signing: docs/hmac.md): {generated}");
                generated
            }
        }
    };
    SignedSenders {
        github: pick(
            "DEMO_GITHUB_WEBHOOK_SECRET",
            "POST /api/hooks/github",
            generated.github,
            &|s| !s.is_empty(),
        ),
        stripe: pick(
            "DEMO_STRIPE_WEBHOOK_SECRET",
            "POST /api/hooks/stripe",
            generated.stripe,
            &|s| s.starts_with("whsec_") && s.len() > 6,
        ),
        standard: pick(
            "DEMO_STANDARD_WEBHOOK_SECRET",
            "POST /api/hooks/standard",
            generated.standard,
            &|s| StandardWebhook::new("check", s).is_ok(),
        ),
        partner_key: pick(
            "DEMO_PARTNER_KEY",
            &format!("POST /api/partner/orders, key id {PARTNER_KEY_ID}"),
            generated.partner_key,
            &|s| {
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .is_ok_and(|k| k.len() >= 32)
            },
        ),
    }
}

/// The client CA of `GET /api/internal/metrics`, and what was generated for it.
struct ClientCaSetup {
    ca: secure_endpoint::mtls::ClientCa,
    dir: std::path::PathBuf,
    generated: Option<demo::mtls::Generated>,
}

/// `DEMO_CLIENT_CA` (with `DEMO_CLIENT_CRL`), or a CA and a client certificate generated into
/// `DEMO_MTLS_DIR` (default `./demo-mtls`).
fn client_ca_from_env() -> Result<ClientCaSetup, BoxError> {
    let dir: std::path::PathBuf = std::env::var("DEMO_MTLS_DIR")
        .unwrap_or_else(|_| "./demo-mtls".into())
        .into();
    match std::env::var("DEMO_CLIENT_CA") {
        Ok(ca) => {
            let crl = std::env::var("DEMO_CLIENT_CRL").ok();
            let ca = demo::mtls::load(ca.as_ref(), crl.as_deref().map(std::path::Path::new))?;
            Ok(ClientCaSetup {
                ca,
                dir,
                generated: None,
            })
        }
        Err(_) => {
            let (ca, generated) = demo::mtls::generate(&dir)?;
            Ok(ClientCaSetup {
                ca,
                dir,
                generated: Some(generated),
            })
        }
    }
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
    let list = |name: &str, default: &str| -> Vec<String> {
        std::env::var(name)
            .unwrap_or_else(|_| default.to_owned())
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    DemoConfig {
        jwt_secret,
        password,
        reports_api_key,
        webhook_secret,
        cors_origins: list("DEMO_CORS_ORIGINS", "https://localhost:5173"),
        trusted_proxies: list("DEMO_TRUSTED_PROXIES", ""),
        audit_file: Some(
            std::env::var("DEMO_AUDIT_FILE")
                .unwrap_or_else(|_| "./audit.jsonl".into())
                .into(),
        ),
        redis_url: std::env::var("DEMO_REDIS_URL")
            .ok()
            .filter(|u| !u.is_empty()),
        signed: signed_senders_from_env(),
    }
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
        .find(|a| a.starts_with("--inventory") || a == "--openapi");
    if let Some(flag) = inventory_flag {
        let config = DemoConfig {
            jwt_secret: vec![0; 32],
            password: String::new(),
            reports_api_key: "x".repeat(32),
            webhook_secret: "x".repeat(32),
            cors_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            audit_file: None,
            redis_url: None,
            signed: SignedSenders::generate(),
        };
        let (router, _) = app(&config);
        match flag.as_str() {
            "--inventory=json" => println!("{}", router.inventory().to_json()),
            "--inventory=text" => print!("{}", router.inventory().to_text()),
            "--openapi" => println!("{}", demo::openapi(&router)),
            _ => print!("{}", router.inventory().to_markdown()),
        }
        return Ok(());
    }

    let config = config_from_env();
    let addr: SocketAddr = std::env::var("DEMO_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:8443".into())
        .parse()?;
    let (router, state) = app(&config);

    if let Ok(http_addr) = std::env::var("DEMO_HTTP_ADDR") {
        let http_addr: SocketAddr = http_addr.parse()?;
        let listener = tokio::net::TcpListener::bind(http_addr).await?;
        tracing::info!("plain HTTP on http://{http_addr} refuses every request with 403");
        // Every request there is refused before it reaches an endpoint: a router of its own
        // (a `SecureRouter` is built once, not cloned) serves the same refusals.
        let (plain, plain_state) = app(&config);
        let router = plain.with_state(plain_state);
        tokio::spawn(async move {
            if let Err(err) = server::serve_plain(listener, router).await {
                tracing::error!("plain HTTP listener stopped: {err}");
            }
        });
    }

    let files = match (
        std::env::var("DEMO_TLS_CERT"),
        std::env::var("DEMO_TLS_KEY"),
    ) {
        (Ok(cert), Ok(key)) => Some((cert, key)),
        _ => {
            tracing::warn!(
                "DEMO_TLS_CERT/DEMO_TLS_KEY not set: using a certificate for localhost from a CA generated at start"
            );
            None
        }
    };
    let client_ca = client_ca_from_env()?;
    let (tls, server_ca) = server::tls_config_with_client_ca(
        files
            .as_ref()
            .map(|(c, k)| (std::path::Path::new(c), std::path::Path::new(k))),
        &client_ca.ca,
    )?;
    if let Some(generated) = &client_ca.generated {
        // With a generated server certificate, its CA goes beside the client's files.
        let cacert = match &server_ca {
            Some(pem) => {
                let path = client_ca.dir.join("server-ca.pem");
                std::fs::write(&path, pem)?;
                format!("--cacert {}", path.display())
            }
            None => "--cacert <your server CA>".to_owned(),
        };
        // Printed once on purpose: this is how a developer learns how to call the endpoint.
        println!(
            "mTLS client for GET /api/internal/metrics written to {} (set DEMO_CLIENT_CA to use your own CA):\n  curl --cert {} --key {} {cacert} https://{addr}/api/internal/metrics",
            client_ca.dir.display(),
            generated.cert.display(),
            generated.key.display(),
        );
    }
    tracing::info!("demo API on https://{addr}");
    for (email, _, role) in SEEDED_USERS {
        tracing::info!("seeded user {email} (role {role})");
    }
    server::serve_https(std::net::TcpListener::bind(addr)?, tls, router, state).await?;
    Ok(())
}
