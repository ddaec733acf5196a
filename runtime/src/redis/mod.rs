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

use redis::{AsyncCommands, RedisError, Script};

use crate::auth::api_key::{ApiKeyRecord, ApiKeyStore, InMemoryApiKeys};
use crate::auth::hmac::{NonceOutcome, NonceStore};
use crate::error::ConfigError;
use crate::rate::{Decision, Limit, RateStore};
use crate::store::{StoreError, StoreErrorKind, StoreFuture};
mod connect;
mod stores;

pub use connect::RedisStoreBuilder;
pub use stores::RedisApiKeys;

use connect::{Conn, Connection, DEFAULT_DEADLINE};

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
