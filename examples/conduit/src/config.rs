//! Configuration from the environment.
//!
//! - `CONDUIT_ADDR`: where to listen over HTTPS (default `127.0.0.1:8444`; port `0` picks a
//!   free port, printed at start).
//! - `CONDUIT_DATABASE_URL`: the SQLite database, a `sqlite:` URL such as
//!   `sqlite:///var/lib/conduit/conduit.sqlite?mode=rwc` (default: `conduit.sqlite` next to
//!   the binary). The file is created on first start and the migrations are applied.
//! - `CONDUIT_TLS_CERT` / `CONDUIT_TLS_KEY`: PEM files (default: a certificate for
//!   `localhost` and `127.0.0.1` from a CA generated at start).

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
        Ok(Config {
            addr,
            database,
            tls_files,
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
    }
}
