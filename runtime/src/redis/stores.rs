//! The stores over Redis: rate limits (GCRA), replay nonces and API key revocations.

use std::sync::Arc;
use std::time::Duration;

use redis::AsyncCommands;

use super::*;

pub(super) fn millis(d: Duration) -> u64 {
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
    ) -> StoreFuture<'a, Result<crate::store::distinct::Distinct, StoreError>> {
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
            Ok(crate::store::distinct::Distinct {
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
    pub(super) records: InMemoryApiKeys,
    pub(super) redis: Arc<RedisStore>,
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
