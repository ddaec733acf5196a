//! Connecting: [`RedisStoreBuilder`], and one connection type over a single server or a Redis
//! Cluster.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::Script;

use super::*;

/// A single server (or a proxy in front of several), or a Redis Cluster.
pub(super) enum Connection {
    /// Connects lazily, reconnects on its own.
    Single(ConnectionManager),
    /// Connects on first use (again after a failed attempt); the cluster connection follows
    /// slot moves and reconnects to nodes on its own.
    Cluster(Box<Cluster>),
}

/// The cluster client and its connection, once made.
pub(super) struct Cluster {
    pub(super) client: ClusterClient,
    pub(super) ready: tokio::sync::OnceCell<ClusterConnection>,
}

/// One connection of either kind, for one operation.
pub(super) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl redis::aio::ConnectionLike for Conn {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// Default deadline of one operation, and of one connection attempt.
pub(super) const DEFAULT_DEADLINE: Duration = Duration::from_millis(250);

/// Builds a [`RedisStore`]: [`RedisStore::builder`].
#[must_use]
pub struct RedisStoreBuilder {
    pub(super) url: String,
    /// Seed nodes of a Redis Cluster, when it is one.
    pub(super) cluster: Option<Vec<String>>,
    pub(super) deadline: Duration,
    pub(super) root_certificate: Option<Vec<u8>>,
    pub(super) prefix: String,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("deadline", &self.deadline)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStoreBuilder {
    /// The deadline of one operation and of one connection attempt (default 250 ms): past
    /// it, the store counts as out.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// For `rediss://`: trust only this CA (PEM) for the server's certificate, for a private
    /// PKI. Without it, the web PKI's roots (`webpki-roots`) are trusted.
    pub fn root_certificate_pem(mut self, pem: &[u8]) -> Self {
        self.root_certificate = Some(pem.to_vec());
        self
    }

    /// Prefixes every key with `prefix` instead of `se` (to share a server between
    /// applications).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.replace(['{', '}'], "");
        self
    }

    /// The store. Connects lazily: a server that is down now is not an error here; requests
    /// then get the outage behaviour until it is up. Must be called within a Tokio runtime.
    pub fn open(self) -> Result<RedisStore, ConfigError> {
        let urls = self
            .cluster
            .clone()
            .unwrap_or_else(|| vec![self.url.clone()]);
        let tls = urls.iter().all(|u| u.starts_with("rediss://"));
        if urls.is_empty()
            || !urls
                .iter()
                .all(|u| u.starts_with("rediss://") || u.starts_with("redis://"))
        {
            return Err(ConfigError::new(
                "a Redis URL starts with redis:// or rediss://",
            ));
        }
        if self.root_certificate.is_some() && !tls {
            return Err(ConfigError::new(
                "a root certificate is only for rediss:// URLs",
            ));
        }
        let certificates = |pem: Vec<u8>| redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(pem),
        };
        // The errors of the redis crate may quote the URL (and its password): not passed on.
        let unusable = |_| ConfigError::new("the Redis URL or certificate could not be used");
        let connection = match self.cluster {
            Some(nodes) => {
                let mut builder = ClusterClient::builder(nodes)
                    .connection_timeout(self.deadline)
                    .response_timeout(self.deadline)
                    .retries(1);
                if let Some(pem) = self.root_certificate {
                    builder = builder.certs(certificates(pem));
                }
                Connection::Cluster(Box::new(Cluster {
                    client: builder.build().map_err(unusable)?,
                    ready: tokio::sync::OnceCell::new(),
                }))
            }
            None => {
                let url = self.url.as_str();
                let client = match self.root_certificate {
                    Some(pem) => redis::Client::build_with_tls(url, certificates(pem)),
                    None => redis::Client::open(url),
                }
                .map_err(unusable)?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.deadline))
                    .set_response_timeout(Some(self.deadline))
                    // Reconnection: a few quick attempts; after that, the next request tries
                    // again.
                    .set_number_of_retries(2)
                    .set_min_delay(Duration::from_millis(20))
                    .set_max_delay(Duration::from_millis(200));
                Connection::Single(
                    ConnectionManager::new_lazy_with_config(client, config).map_err(|_| {
                        ConfigError::new("the Redis connection could not be set up")
                    })?,
                )
            }
        };
        Ok(RedisStore {
            connection,
            gcra: Script::new(GCRA),
            distinct: Script::new(DISTINCT),
            deadline: self.deadline,
            prefix: Arc::from(self.prefix),
        })
    }
}
