//! The clients allowed to sign: [`HmacClient`] and where they live ([`HmacKeyStore`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::RwLock;

use super::sign::keyed;
use super::ConfigError;
use super::{HmacSha256, MIN_SECRET_LEN};

/// A client allowed to sign requests: the principal it authenticates as, and its secret.
///
/// `Debug` shows the subject, roles and scopes, never the secret.
#[derive(Clone)]
pub struct HmacClient {
    pub(super) subject: String,
    pub(super) roles: Vec<String>,
    pub(super) scopes: Vec<String>,
    /// The HMAC keyed with the secret; cloned for each request instead of re-keying.
    pub(super) mac: HmacSha256,
}

impl fmt::Debug for HmacClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacClient")
            .field("subject", &self.subject)
            .field("roles", &self.roles)
            .field("scopes", &self.scopes)
            .field("secret", &"[redacted]")
            .finish()
    }
}

impl HmacClient {
    /// A client authenticating as `subject`, with a shared secret of at least 32 bytes.
    pub fn new(subject: impl Into<String>, secret: &[u8]) -> Result<Self, ConfigError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(ConfigError::new(
                "an HMAC client secret must be at least 32 bytes",
            ));
        }
        Ok(HmacClient {
            subject: subject.into(),
            roles: Vec::new(),
            scopes: Vec::new(),
            mac: keyed(secret),
        })
    }

    /// Roles granted to the client's principal (replacing any set before).
    #[must_use]
    pub fn roles(mut self, roles: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Scopes granted to the client's principal (replacing any set before).
    #[must_use]
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

/// Where clients live, by key id. [`InMemoryHmacKeys`] is the embedded default.
pub trait HmacKeyStore: Send + Sync + fmt::Debug + 'static {
    /// The client whose key id is `key_id`, if any.
    fn client(&self, key_id: &str) -> Option<HmacClient>;
}

/// Clients in memory, by key id. `Debug` shows only how many there are.
#[derive(Default)]
pub struct InMemoryHmacKeys {
    pub(super) by_id: RwLock<HashMap<String, HmacClient>>,
}

impl fmt::Debug for InMemoryHmacKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.by_id.read().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("InMemoryHmacKeys")
            .field("keys", &n)
            .finish()
    }
}

impl InMemoryHmacKeys {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `client` under `key_id`, replacing any client already there. A key id outside
    /// the header's character set (1 to 64 of `A-Z a-z 0-9 . _ -`) can never be presented.
    pub fn insert(&self, key_id: impl Into<String>, client: HmacClient) {
        let mut map = self.by_id.write().unwrap_or_else(|p| p.into_inner());
        map.insert(key_id.into(), client);
    }

    /// Removes the client with this key id; `true` if it existed.
    pub fn remove(&self, key_id: &str) -> bool {
        let mut map = self.by_id.write().unwrap_or_else(|p| p.into_inner());
        map.remove(key_id).is_some()
    }
}

impl HmacKeyStore for InMemoryHmacKeys {
    fn client(&self, key_id: &str) -> Option<HmacClient> {
        let map = self.by_id.read().unwrap_or_else(|p| p.into_inner());
        map.get(key_id).cloned()
    }
}
