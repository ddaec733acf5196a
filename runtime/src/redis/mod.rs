//! Redis as the shared store of several instances (feature `redis`): rate limits, HMAC
//! nonces, API-key revocations and the abuse detectors' distinct counts and cool-downs
//! ([`abuse`](crate::abuse)).
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use secure_endpoint::{redis::RedisStore, store::Outage, Security};
//!
//! let redis = Arc::new(RedisStore::open("redis://127.0.0.1:6379/")?);
//! let security = Security::builder()
//!     .rate_store(redis.clone(), Outage::FailClosed)
//!     .build();
//! # Ok(()) }
//! ```
//!
//! - **One round trip per decision.** A rate decision is one `EVALSHA` of a GCRA script
//!   (below), atomic on the server; the time is the server's (`TIME`), so instances whose
//!   clocks disagree still agree on the limit. A nonce is one `SET NX EX`; a revocation check
//!   one `SISMEMBER`; a detector's observation one `EVALSHA` (`SADD`, `SCARD`, `PEXPIRE` for
//!   the window, `SET PX` for the cool-down: the set never holds more than its threshold).
//! - **Redis Cluster.** Every script touches one key, and every key carries a hash tag
//!   (`se:rl:{…}`), so all a script needs is in one slot.
//! - **Idle keys expire.** A rate key lives until its state is back to fresh (its theoretical
//!   arrival time); a nonce until its signature's window closes.
//! - **Outages.** Every operation has a deadline (default 250 ms, also the connect timeout).
//!   A store that is down, or slow, answers [`StoreError`]: the rate limit then fails closed
//!   (503 problem+json with `Retry-After`) or falls back to the instance's own limiter
//!   ([`Outage`](crate::store::Outage)); nonces and revocations always fail closed, since a
//!   local answer could admit a replay or a revoked key. The first failure and the recovery
//!   are logged as security events. The connection is re-established on its own (the `redis`
//!   crate's connection manager) once the server is back.
//! - **Nothing secret in Redis or in logs.** Keys hold a SHA-256 prefix of the subject or
//!   nonce, never the value; errors never carry the URL (which may hold a password).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncCommands, RedisError, Script};

use crate::api_key::{ApiKeyRecord, ApiKeyStore, InMemoryApiKeys};
use crate::auth::jwt::ConfigError;
use crate::hmac::{NonceOutcome, NonceStore};
use crate::rate::{Decision, Limit, RateStore};
use crate::store::{StoreError, StoreErrorKind, StoreFuture};

/// GCRA in one atomic script, the same algorithm and parameters as governor's (see
/// [`rate`](crate::rate)): the key holds the theoretical arrival time (TAT) in microseconds.
///
/// `KEYS[1]` the key; `ARGV[1]` the emission interval (µs); `ARGV[2]` the tolerance,
/// interval × (burst − 1) (µs); `ARGV[3]` the time (µs), or empty for the server's clock.
/// Returns `{1, 0}` when admitted (and counted), `{0, wait µs}` when refused.
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local now
if ARGV[3] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[3])
end
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
  tat = now
end
local earliest = tat - tolerance
if now < earliest then
  return {0, earliest - now}
end
local next_tat = tat + interval
local ttl_ms = math.ceil((next_tat - now) / 1000) + 1
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', ttl_ms)
return {1, 0}
";

/// The abuse detectors' distinct count in one atomic script (see
/// [`RateStore::distinct`]): `KEYS[1]` the set of member hashes, `KEYS[2]` the cool-down
/// marker (one hash tag: one slot); `ARGV[1]` the member, `ARGV[2]` the window (ms, set when
/// the set is created), `ARGV[3]` the threshold, `ARGV[4]` the cool-down (ms). Returns
/// `{count, cooling ms, tripped}`. A set never holds more than `threshold` members: it is
/// deleted when it trips.
const DISTINCT: &str = r"
local cooling = redis.call('PTTL', KEYS[2])
if cooling > 0 then
  return {0, cooling, 0}
end
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
local n = redis.call('SCARD', KEYS[1])
if n >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
  return {n, tonumber(ARGV[4]), 1}
end
return {n, 0, 0}
";

/// A Redis server (or cluster endpoint) shared by every instance. Cheap to share in an `Arc`;
/// `Debug` never shows the URL.
pub struct RedisStore {
    connection: Connection,
    gcra: Script,
    distinct: Script,
    deadline: Duration,
    prefix: Arc<str>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("deadline", &self.deadline)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A single server (or a proxy in front of several), or a Redis Cluster.
enum Connection {
    /// Connects lazily, reconnects on its own.
    Single(ConnectionManager),
    /// Connects on first use (again after a failed attempt); the cluster connection follows
    /// slot moves and reconnects to nodes on its own.
    Cluster(Box<Cluster>),
}

/// The cluster client and its connection, once made.
struct Cluster {
    client: ClusterClient,
    ready: tokio::sync::OnceCell<ClusterConnection>,
}

/// One connection of either kind, for one operation.
enum Conn {
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
const DEFAULT_DEADLINE: Duration = Duration::from_millis(250);

/// Builds a [`RedisStore`]: [`RedisStore::builder`].
#[must_use]
pub struct RedisStoreBuilder {
    url: String,
    /// Seed nodes of a Redis Cluster, when it is one.
    cluster: Option<Vec<String>>,
    deadline: Duration,
    root_certificate: Option<Vec<u8>>,
    prefix: String,
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

impl RedisStore {
    /// A store at `url` (`redis://[user:password@]host:port/db`, or `rediss://` for TLS),
    /// with the defaults: a 250 ms deadline, the web PKI's roots, keys under `se:`.
    ///
    /// Connects lazily: a server that is down now is not an error here. Must be called within
    /// a Tokio runtime.
    pub fn open(url: &str) -> Result<Self, ConfigError> {
        Self::builder(url).open()
    }

    /// A store at `url` with other settings.
    pub fn builder(url: &str) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.to_owned(),
            cluster: None,
            deadline: DEFAULT_DEADLINE,
            root_certificate: None,
            prefix: "se".to_owned(),
        }
    }

    /// A Redis Cluster reached through any of `nodes` (each `redis://…` or `rediss://…`): the
    /// client follows the cluster's slots. Every key this store writes carries a hash tag, and
    /// every script touches one key, so each operation runs on one node.
    pub fn cluster<S: AsRef<str>>(nodes: &[S]) -> RedisStoreBuilder {
        let mut builder = Self::builder(nodes.first().map_or("", |n| n.as_ref()));
        builder.cluster = Some(nodes.iter().map(|n| n.as_ref().to_owned()).collect());
        builder
    }

    /// A connection for one operation (for a cluster, connecting first if not yet done).
    async fn conn(&self) -> Result<Conn, RedisError> {
        match &self.connection {
            Connection::Single(manager) => Ok(Conn::Single(manager.clone())),
            Connection::Cluster(cluster) => cluster
                .ready
                .get_or_try_init(|| cluster.client.get_async_connection())
                .await
                .cloned()
                .map(Conn::Cluster),
        }
    }

    /// Checks the server answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.bounded(async move {
            let mut connection = self.conn().await?;
            redis::cmd("PING").query_async::<()>(&mut connection).await
        })
        .await
    }

    /// A rate decision for `key` under `limit` at the time `now_us` (microseconds on any
    /// clock the callers share) instead of the server's clock: for tests and replays.
    pub async fn decide_at(
        &self,
        limit: &Limit,
        key: &str,
        now_us: u64,
    ) -> Result<Decision, StoreError> {
        self.gcra_decision(limit, key, Some(now_us)).await
    }

    /// The Redis key of `key` under `limit`. The braces are the hash tag: the whole name, so
    /// that a script touching it runs on the key's own slot.
    fn rate_key(&self, limit: &Limit, key: &str) -> String {
        let id: String = limit
            .id()
            .chars()
            .map(|c| match c {
                '{' => '(',
                '}' => ')',
                c => c,
            })
            .collect();
        format!("{}:rl:{{{id}|{key}}}", self.prefix)
    }

    async fn gcra_decision(
        &self,
        limit: &Limit,
        key: &str,
        now_us: Option<u64>,
    ) -> Result<Decision, StoreError> {
        let interval = u64::try_from(limit.interval().as_micros()).unwrap_or(u64::MAX);
        let tolerance = interval.saturating_mul(u64::from(limit.burst() - 1));
        let mut invocation = self.gcra.key(self.rate_key(limit, key));
        invocation
            .arg(interval)
            .arg(tolerance)
            .arg(now_us.map(|n| n.to_string()).unwrap_or_default());
        let (admitted, wait_us): (i64, i64) = self
            .bounded(async move {
                let mut connection = self.conn().await?;
                invocation.invoke_async(&mut connection).await
            })
            .await?;
        Ok(if admitted == 1 {
            Decision::Admit
        } else {
            Decision::Refuse {
                retry_after: Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)),
            }
        })
    }

    /// Runs one operation under the deadline.
    async fn bounded<T>(
        &self,
        operation: impl std::future::Future<Output = Result<T, RedisError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.deadline, operation).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(StoreError::new(kind_of(&error))),
            Err(_) => Err(StoreError::new(StoreErrorKind::Timeout)),
        }
    }

    fn nonce_key(&self, key_id: &str, nonce: &str) -> String {
        let digest = crate::auth::hmac::nonce_key(key_id, nonce);
        let mut key = format!("{}:nonce:{{", self.prefix);
        for b in digest {
            key.push_str(&format!("{b:02x}"));
        }
        key.push('}');
        key
    }

    fn revoked_key(&self) -> String {
        format!("{}:{{apikeys}}:revoked", self.prefix)
    }

    /// Records that the API key `id` is revoked, for every instance.
    pub async fn revoke_api_key(&self, id: &str) -> Result<(), StoreError> {
        let key = self.revoked_key();
        self.bounded(async move {
            let mut connection = self.conn().await?;
            connection.sadd::<_, _, ()>(key, id).await
        })
        .await
    }

    /// `true` if the API key `id` was revoked.
    pub async fn is_api_key_revoked(&self, id: &str) -> Result<bool, StoreError> {
        let key = self.revoked_key();
        self.bounded(async move {
            let mut connection = self.conn().await?;
            connection.sismember::<_, _, bool>(key, id).await
        })
        .await
    }
}

fn kind_of(error: &RedisError) -> StoreErrorKind {
    if error.is_timeout() {
        StoreErrorKind::Timeout
    } else if error.is_io_error()
        || error.is_connection_refusal()
        || error.is_connection_dropped()
        || error.is_unrecoverable_error()
    {
        StoreErrorKind::Unreachable
    } else {
        StoreErrorKind::Protocol
    }
}

impl RedisStore {
    /// The detector keys of `key`: its set and its cool-down marker, one hash tag.
    fn detector_keys(&self, key: &str) -> (String, String) {
        let key: String = key
            .chars()
            .map(|c| match c {
                '{' => '(',
                '}' => ')',
                c => c,
            })
            .collect();
        (
            format!("{}:ab:{{{key}}}:set", self.prefix),
            format!("{}:ab:{{{key}}}:cool", self.prefix),
        )
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RateStore for RedisStore {
    fn decide<'a>(
        &'a self,
        limit: &'a Limit,
        key: &'a str,
    ) -> StoreFuture<'a, Result<Decision, StoreError>> {
        StoreFuture::pending(self.gcra_decision(limit, key, None))
    }

    fn distinct<'a>(
        &'a self,
        key: &'a str,
        member: u64,
        window: Duration,
        threshold: u32,
        cool_down: Duration,
    ) -> StoreFuture<'a, Result<crate::abuse::Distinct, StoreError>> {
        StoreFuture::pending(async move {
            let (set, cool) = self.detector_keys(key);
            let mut invocation = self.distinct.key(set);
            invocation
                .key(cool)
                .arg(format!("{member:016x}"))
                .arg(millis(window))
                .arg(threshold.max(1))
                .arg(millis(cool_down));
            let (count, cooling_ms, tripped): (i64, i64, i64) = self
                .bounded(async move {
                    let mut connection = self.conn().await?;
                    invocation.invoke_async(&mut connection).await
                })
                .await?;
            Ok(crate::abuse::Distinct {
                count: u32::try_from(count).unwrap_or(0),
                cooling: (cooling_ms > 0)
                    .then(|| Duration::from_millis(u64::try_from(cooling_ms).unwrap_or(0))),
                tripped: tripped == 1,
            })
        })
    }

    fn forget<'a>(&'a self, key: &'a str, member: u64) -> StoreFuture<'a, Result<(), StoreError>> {
        StoreFuture::pending(async move {
            let (set, _) = self.detector_keys(key);
            self.bounded(async move {
                let mut connection = self.conn().await?;
                connection
                    .srem::<_, _, ()>(set, format!("{member:016x}"))
                    .await
            })
            .await
        })
    }

    fn cooling<'a>(
        &'a self,
        key: &'a str,
    ) -> StoreFuture<'a, Result<Option<Duration>, StoreError>> {
        StoreFuture::pending(async move {
            let (_, cool) = self.detector_keys(key);
            let ms: i64 = self
                .bounded(async move {
                    let mut connection = self.conn().await?;
                    connection.pttl(cool).await
                })
                .await?;
            Ok((ms > 0).then(|| Duration::from_millis(u64::try_from(ms).unwrap_or(0))))
        })
    }
}

impl NonceStore for RedisStore {
    fn check_and_insert<'a>(
        &'a self,
        key_id: &'a str,
        nonce: &'a str,
        expires_at: u64,
        now: u64,
    ) -> StoreFuture<'a, Result<NonceOutcome, StoreError>> {
        StoreFuture::pending(async move {
            if expires_at <= now {
                // Already outside its window: nothing to remember, and not admissible.
                return Ok(NonceOutcome::Replayed);
            }
            let key = self.nonce_key(key_id, nonce);
            let set: Option<String> = self
                .bounded(async move {
                    let mut connection = self.conn().await?;
                    redis::cmd("SET")
                        .arg(key)
                        .arg(1)
                        .arg("NX")
                        .arg("EX")
                        .arg(expires_at - now)
                        .query_async(&mut connection)
                        .await
                })
                .await?;
            Ok(match set {
                Some(_) => NonceOutcome::Fresh,
                None => NonceOutcome::Replayed,
            })
        })
    }
}

/// API keys whose records are configured in this process (as with [`InMemoryApiKeys`]) and
/// whose revocations are kept in Redis, so that a key revoked on one instance is refused by
/// all of them at once. A request with a key costs one `SISMEMBER`; if Redis cannot answer,
/// the key is refused with 503 (a revocation that cannot be checked is not ignored).
#[derive(Debug)]
pub struct RedisApiKeys {
    records: InMemoryApiKeys,
    redis: Arc<RedisStore>,
}

impl RedisApiKeys {
    /// Keys checked against the revocations in `redis`.
    pub fn new(redis: Arc<RedisStore>) -> Self {
        RedisApiKeys {
            records: InMemoryApiKeys::new(),
            redis,
        }
    }

    /// Stores a record (in this process).
    pub fn insert(&self, record: ApiKeyRecord) {
        self.records.insert(record);
    }

    /// Revokes the key `id` for every instance sharing the Redis server.
    pub async fn revoke(&self, id: &str) -> Result<(), StoreError> {
        self.redis.revoke_api_key(id).await
    }
}

impl ApiKeyStore for RedisApiKeys {
    fn find<'a>(
        &'a self,
        hash: &'a [u8; 32],
    ) -> StoreFuture<'a, Result<Option<ApiKeyRecord>, StoreError>> {
        StoreFuture::pending(async move {
            let Some(record) = self.records.find_now(hash) else {
                return Ok(None);
            };
            if self.redis.is_api_key_revoked(&record.id).await? {
                Ok(None)
            } else {
                Ok(Some(record))
            }
        })
    }
}
