//! Configuration from the environment.
//!
//! - `CONDUIT_ADDR`: where to listen over HTTPS (default `127.0.0.1:8444`; port `0` picks a
//!   free port, printed at start).
//! - `CONDUIT_DATABASE_URL`: the SQLite database, a `sqlite:` URL such as
//!   `sqlite:///var/lib/conduit/conduit.sqlite?mode=rwc` (default: `conduit.sqlite` next to
//!   the binary). The file is created on first start and the migrations are applied.
//! - `CONDUIT_TLS_CERT` / `CONDUIT_TLS_KEY`: PEM files (default: a certificate for
//!   `localhost` and `127.0.0.1` from a CA generated at start).
//! - `CONDUIT_JWT_SECRET`: the HS256 key of the tokens, at least 32 bytes (default: 32 random
//!   bytes generated at start, so tokens do not outlive the process).
//! - `CONDUIT_CORS_ORIGINS`: comma-separated origins of browser front ends allowed by CORS
//!   (default: none).

use std::net::SocketAddr;
use std::path::PathBuf;

/// The default listening address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8444";

/// The file name of the default database, next to the binary.
pub const DEFAULT_DATABASE_FILE: &str = "conduit.sqlite";

/// Where the database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A `sqlite:` URL (`CONDUIT_DATABASE_URL`).
    Url(String),
    /// A file (the default).
    File(PathBuf),
}

/// The server's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The HTTPS listening address.
    pub addr: SocketAddr,
    /// The database.
    pub database: Database,
    /// PEM certificate chain and key files, or `None` for a generated certificate.
    pub tls_files: Option<(PathBuf, PathBuf)>,
    /// The key tokens are signed with.
    pub jwt_secret: JwtSecret,
    /// The origins allowed by CORS.
    pub cors_origins: Vec<String>,
}

/// The HS256 key of Conduit's tokens; its `Debug` does not show it.
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    /// The shortest key accepted.
    pub const MIN_LEN: usize = 32;

    /// 32 random bytes.
    pub fn generate() -> Self {
        use rand::RngCore;
        let mut key = vec![0; Self::MIN_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key);
        JwtSecret(key)
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtSecret(<redacted>)")
    }
}

/// A configuration error: which variable, and what is wrong with it.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the configuration through `var` (`std::env::var` in the binary).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let addr = var("CONDUIT_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr = addr
            .parse()
            .map_err(|_| ConfigError(format!("CONDUIT_ADDR: not a socket address: {addr}")))?;
        let database = match var("CONDUIT_DATABASE_URL").filter(|u| !u.is_empty()) {
            Some(url) if url.starts_with("sqlite:") => Database::Url(url),
            Some(_) => {
                return Err(ConfigError(
                    "CONDUIT_DATABASE_URL: must be a sqlite: URL, e.g. sqlite://conduit.sqlite?mode=rwc"
                        .to_owned(),
                ))
            }
            None => Database::File(default_database_file()),
        };
        let tls_files = match (var("CONDUIT_TLS_CERT"), var("CONDUIT_TLS_KEY")) {
            (Some(cert), Some(key)) => Some((cert.into(), key.into())),
            (None, None) => None,
            _ => {
                return Err(ConfigError(
                    "CONDUIT_TLS_CERT and CONDUIT_TLS_KEY: set both or neither".to_owned(),
                ))
            }
        };
        let jwt_secret = match var("CONDUIT_JWT_SECRET").filter(|s| !s.is_empty()) {
            Some(secret) if secret.len() >= JwtSecret::MIN_LEN => JwtSecret(secret.into_bytes()),
            Some(_) => {
                return Err(ConfigError(format!(
                    "CONDUIT_JWT_SECRET: must be at least {} bytes",
                    JwtSecret::MIN_LEN
                )))
            }
            None => JwtSecret::generate(),
        };
        let cors_origins = var("CONDUIT_CORS_ORIGINS")
            .map(|origins| {
                origins
                    .split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Config {
            addr,
            database,
            tls_files,
            jwt_secret,
            cors_origins,
        })
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }
}

/// `conduit.sqlite` in the directory of the running binary (the working directory if that is
/// unknown).
pub fn default_database_file() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(DEFAULT_DATABASE_FILE)))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATABASE_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn defaults() {
        let config = Config::from_vars(vars(&[])).unwrap();
        assert_eq!(config.addr.to_string(), DEFAULT_ADDR);
        let Database::File(path) = config.database else {
            panic!("default database is a file")
        };
        assert!(path.ends_with(DEFAULT_DATABASE_FILE));
        assert!(config.tls_files.is_none());
    }

    #[test]
    fn overrides_and_errors() {
        let config = Config::from_vars(vars(&[
            ("CONDUIT_ADDR", "127.0.0.1:0"),
            ("CONDUIT_DATABASE_URL", "sqlite://x.sqlite?mode=rwc"),
        ]))
        .unwrap();
        assert_eq!(config.addr.port(), 0);
        assert_eq!(
            config.database,
            Database::Url("sqlite://x.sqlite?mode=rwc".into())
        );
        assert!(Config::from_vars(vars(&[("CONDUIT_ADDR", "nope")])).is_err());
        assert!(Config::from_vars(vars(&[("CONDUIT_DATABASE_URL", "postgres://x")])).is_err());
        assert!(Config::from_vars(vars(&[("CONDUIT_TLS_CERT", "c.pem")])).is_err());
        assert!(Config::from_vars(vars(&[("CONDUIT_JWT_SECRET", "short")])).is_err());
    }

    #[test]
    fn secret_and_origins() {
        let secret = "s".repeat(32);
        let config = Config::from_vars(vars(&[
            ("CONDUIT_JWT_SECRET", &secret),
            (
                "CONDUIT_CORS_ORIGINS",
                "https://app.example.com, http://localhost:5173",
            ),
        ]))
        .unwrap();
        assert_eq!(config.jwt_secret.as_bytes(), secret.as_bytes());
        assert_eq!(
            config.cors_origins,
            ["https://app.example.com", "http://localhost:5173"]
        );
        // Never shown.
        assert!(!format!("{config:?}").contains(&secret));
        // Generated when unset: 32 bytes, different each time.
        let a = Config::from_vars(vars(&[])).unwrap().jwt_secret;
        let b = Config::from_vars(vars(&[])).unwrap().jwt_secret;
        assert_eq!(a.as_bytes().len(), 32);
        assert_ne!(a.as_bytes(), b.as_bytes());
    }
}
