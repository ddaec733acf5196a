//! API keys (`auth = "api_key"`): for integrations, sent in the `X-API-Key` header.
//!
//! - A key is `<prefix>_<64 hex digits>`: 256 random bits from the operating system's CSPRNG
//!   (through `uuid`'s v4 generator), behind a visible prefix that says what it is.
//! - Only the SHA-256 hash of a key is stored. A request's key is hashed, looked up by hash,
//!   and the stored hash is compared in constant time.
//! - Revoked keys are refused. The key's scopes become the principal's scopes, checked by
//!   `scopes = [...]`.
//! - A key in the query string (`api_key`, `apikey`, `api-key`, `x-api-key`, `key`,
//!   `access_key`) is refused with 401 even when the header is also present, and whichever
//!   scheme of the endpoint authenticates the request: URLs end up in logs. Parameter names
//!   are compared as a form decoder reads them (`%XX` and `+` decoded, `;` separating
//!   parameters like `&`, a trailing `[...]` ignored), ASCII case-insensitively, so
//!   `?api%5Fkey=` and `?API_KEY=` are refused too.

use std::collections::HashMap;
use std::fmt;
use std::sync::RwLock;

use http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{AuthFailure, Principal};
use crate::policy::AuthScheme;
use crate::store::{StoreError, StoreFuture};

/// The header API keys are read from.
pub const API_KEY_HEADER: &str = "x-api-key";

/// Longest key accepted, in bytes.
const MAX_KEY_LEN: usize = 256;

/// Query parameters that look like a key; their presence refuses the request.
pub(crate) const QUERY_KEY_NAMES: [&str; 6] = [
    "api_key",
    "apikey",
    "api-key",
    "x-api-key",
    "key",
    "access_key",
];

/// A freshly generated key: shown once to its owner, never stored. `Debug` prints only the
/// prefix.
pub struct NewApiKey {
    /// The full key, to hand to the client once.
    pub key: String,
    /// What the store keeps.
    pub record: ApiKeyRecord,
}

impl fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewApiKey")
            .field("key", &"[redacted]")
            .field("record", &self.record)
            .finish()
    }
}

/// What is stored for a key: its id, owner, scopes and hash (never the key).
#[derive(Clone)]
pub struct ApiKeyRecord {
    /// A public identifier, for listing and revoking.
    pub id: String,
    /// The principal the key authenticates as.
    pub owner: String,
    /// Scopes granted to the key.
    pub scopes: Vec<String>,
    hash: [u8; 32],
}

impl fmt::Debug for ApiKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyRecord")
            .field("id", &self.id)
            .field("owner", &self.owner)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

fn sha256(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn random_hex() -> String {
    let mut out = String::with_capacity(64);
    for _ in 0..2 {
        // A v4 UUID has 122 random bits; use only its random bytes' hex, 2 × 128 bits read,
        // of which 244 are random.
        for b in uuid::Uuid::new_v4().as_bytes() {
            out.push_str(&format!("{b:02x}"));
        }
    }
    out
}

impl NewApiKey {
    /// Generates a key `<prefix>_<hex>` for `owner` with `scopes`.
    ///
    /// # Panics
    /// If `prefix` is empty or not made of ASCII letters, digits and `_`.
    pub fn generate(prefix: &str, owner: impl Into<String>, scopes: &[&str]) -> Self {
        assert!(
            !prefix.is_empty()
                && prefix
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "an API key prefix is ASCII letters, digits or `_`"
        );
        let key = format!("{prefix}_{}", random_hex());
        let id = format!("{prefix}_{}", &random_hex()[..12]);
        let record = ApiKeyRecord {
            id,
            owner: owner.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            hash: sha256(&key),
        };
        NewApiKey { key, record }
    }
}

impl ApiKeyRecord {
    /// The record of a key given by configuration (an environment variable, a secrets
    /// manager). Keys shorter than 32 bytes are refused: they would not carry 128 bits.
    pub fn from_key(
        id: impl Into<String>,
        owner: impl Into<String>,
        scopes: &[&str],
        key: &str,
    ) -> Result<Self, crate::error::ConfigError> {
        if key.len() < 32 {
            return Err(crate::error::ConfigError::new(
                "an API key must be at least 32 bytes",
            ));
        }
        Ok(ApiKeyRecord {
            id: id.into(),
            owner: owner.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            hash: sha256(key),
        })
    }
}

/// Where key records live. [`InMemoryApiKeys`] is the embedded default; `RedisApiKeys`
/// (feature `redis`) keeps revocations in Redis, shared by every instance.
pub trait ApiKeyStore: Send + Sync + fmt::Debug + 'static {
    /// The record whose hash is `hash`, unless revoked; an error when the store cannot tell
    /// (the request is then refused with 503).
    fn find<'a>(
        &'a self,
        hash: &'a [u8; 32],
    ) -> StoreFuture<'a, Result<Option<ApiKeyRecord>, StoreError>>;
}

/// Key records in memory, by hash.
#[derive(Default)]
pub struct InMemoryApiKeys {
    by_hash: RwLock<HashMap<[u8; 32], (ApiKeyRecord, bool)>>,
}

impl fmt::Debug for InMemoryApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.by_hash.read().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("InMemoryApiKeys").field("keys", &n).finish()
    }
}

impl InMemoryApiKeys {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a record.
    pub fn insert(&self, record: ApiKeyRecord) {
        let mut map = self.by_hash.write().unwrap_or_else(|p| p.into_inner());
        map.insert(record.hash, (record, false));
    }

    /// Revokes the key with this id; `true` if it existed.
    pub fn revoke(&self, id: &str) -> bool {
        let mut map = self.by_hash.write().unwrap_or_else(|p| p.into_inner());
        map.values_mut()
            .filter(|(r, _)| r.id == id)
            .fold(false, |_, (_, revoked)| {
                *revoked = true;
                true
            })
    }
}

impl InMemoryApiKeys {
    /// The record whose hash is `hash`, unless revoked here.
    pub fn find_now(&self, hash: &[u8; 32]) -> Option<ApiKeyRecord> {
        let map = self.by_hash.read().unwrap_or_else(|p| p.into_inner());
        let (record, revoked) = map.get(hash)?;
        (!revoked).then(|| record.clone())
    }
}

impl ApiKeyStore for InMemoryApiKeys {
    fn find<'a>(
        &'a self,
        hash: &'a [u8; 32],
    ) -> StoreFuture<'a, Result<Option<ApiKeyRecord>, StoreError>> {
        StoreFuture::ready(Ok(self.find_now(hash)))
    }
}

/// Authenticates `X-API-Key` against `store`. A key-like query parameter is refused by the
/// pipeline before any scheme runs ([`credential_in_query`](super::credential_in_query)).
#[cfg(test)]
pub(crate) async fn authenticate(
    store: &dyn ApiKeyStore,
    parts: &Parts,
) -> Result<Principal, AuthFailure> {
    authenticate_from(store, parts, None).await
}

/// Authenticates the key found where `credentials` say (`X-API-Key` when `None`; see
/// [`SecurityBuilder::api_key_credentials`](crate::SecurityBuilder::api_key_credentials)).
pub(crate) async fn authenticate_from(
    store: &dyn ApiKeyStore,
    parts: &Parts,
    credentials: Option<&super::credential::Credentials>,
) -> Result<Principal, AuthFailure> {
    let key = match credentials {
        Some(credentials) => credentials.extract(parts)?.credential,
        None => {
            let mut values = parts.headers.get_all(API_KEY_HEADER).iter();
            let value = values.next().ok_or(AuthFailure::Missing)?;
            if values.next().is_some() || value.is_empty() {
                return Err(AuthFailure::Invalid);
            }
            value.to_str().map_err(|_| AuthFailure::Invalid)?
        }
    };
    if key.len() > MAX_KEY_LEN {
        return Err(AuthFailure::Invalid);
    }
    let hash = sha256(key);
    let record = store
        .find(&hash)
        .await
        .map_err(|_| AuthFailure::Unavailable)?
        .ok_or(AuthFailure::Invalid)?;
    if !bool::from(record.hash.ct_eq(&hash)) {
        return Err(AuthFailure::Invalid);
    }
    Ok(Principal::new(
        record.owner,
        Vec::new(),
        record.scopes,
        AuthScheme::ApiKey,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, key: Option<&str>) -> Parts {
        let mut b = http::Request::builder().uri(uri);
        if let Some(k) = key {
            b = b.header(API_KEY_HEADER, k);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[tokio::test]
    async fn generated_keys_hash_lookup_revocation() {
        let store = InMemoryApiKeys::new();
        let new = NewApiKey::generate("sk_test", "svc-reports", &["reports:read"]);
        assert!(new.key.starts_with("sk_test_") && new.key.len() == "sk_test_".len() + 64);
        assert!(
            !format!("{new:?}").contains(&new.key[8..]),
            "Debug never shows the key"
        );
        let id = new.record.id.clone();
        store.insert(new.record);
        let p = authenticate(&store, &parts("/r", Some(&new.key)))
            .await
            .unwrap();
        assert_eq!(
            (p.subject(), p.scheme()),
            ("svc-reports", AuthScheme::ApiKey)
        );
        assert!(p.has_scope("reports:read"));
        assert_eq!(
            authenticate(&store, &parts("/r", Some("sk_test_wrong")))
                .await
                .unwrap_err(),
            AuthFailure::Invalid
        );
        assert_eq!(
            authenticate(&store, &parts("/r", None)).await.unwrap_err(),
            AuthFailure::Missing
        );
        assert!(store.revoke(&id));
        assert_eq!(
            authenticate(&store, &parts("/r", Some(&new.key)))
                .await
                .unwrap_err(),
            AuthFailure::Invalid
        );
    }

    #[test]
    fn two_keys_differ() {
        let a = NewApiKey::generate("k", "o", &[]);
        let b = NewApiKey::generate("k", "o", &[]);
        assert_ne!(a.key, b.key);
    }
}
