//! Conduit over HTTPS.
//!
//! ```text
//! cargo run -p conduit    # serve on https://127.0.0.1:8444 (CONDUIT_ADDR)
//! ```
//!
//! Configuration: see [`conduit::config`] (`CONDUIT_ADDR`, `CONDUIT_DATABASE_URL`,
//! `CONDUIT_TLS_CERT`/`CONDUIT_TLS_KEY`, `CONDUIT_JWT_SECRET`, `CONDUIT_CORS_ORIGINS`). Once it listens, the first line on stdout is
//! `listening on https://HOST:PORT` (the real port when `CONDUIT_ADDR` asks for port 0).

use std::io::Write;
use std::process::ExitCode;

use conduit::config::{Config, Database};
use conduit::server::{serve_https, tls_config, BoxError};
use conduit::Db;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("conduit: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let config = Config::from_env()?;
    let db = match &config.database {
        Database::Url(url) => Db::connect(url).await?,
        Database::File(path) => {
            tracing::info!("database: {}", path.display());
            Db::open_file(path).await?
        }
    };
    let (tls, _ca) = tls_config(
        config
            .tls_files
            .as_ref()
            .map(|(cert, key)| (cert.as_path(), key.as_path())),
    )?;
    if config.tls_files.is_none() {
        tracing::warn!("CONDUIT_TLS_CERT/CONDUIT_TLS_KEY not set: using a certificate for localhost from a CA generated at start");
    }
    let listener = std::net::TcpListener::bind(config.addr)?;
    let local = listener.local_addr()?;
    let router = conduit::api::app_with(db, config.jwt_secret.as_bytes(), &config.cors_origins);
    // One write, and best effort: a reader that stops after the first line (or no stdout at
    // all) must not stop the server.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(
            format!(
                "listening on https://{local}\ntry: curl --insecure https://{local}/api/tags\n"
            )
            .as_bytes(),
        )
        .and_then(|()| stdout.flush());
    drop(stdout);
    serve_https(listener, tls, router).await?;
    Ok(())
}
