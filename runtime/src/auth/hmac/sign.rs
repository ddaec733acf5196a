//! Signing: the client helper ([`HmacSigner`]) and the canonical request both sides sign.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use ::hmac::Mac;
use sha2::{Digest, Sha256};

use super::{HmacSha256, SCHEME};

/// The client helper: signs requests for a server using this scheme.
///
/// `Debug` shows the key id, never the secret.
#[derive(Clone)]
pub struct HmacSigner {
    key_id: String,
    mac: HmacSha256,
}

impl fmt::Debug for HmacSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacSigner")
            .field("key_id", &self.key_id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

impl HmacSigner {
    /// A signer for `key_id` with its shared secret. The server refuses key ids outside
    /// 1 to 64 of `A-Z a-z 0-9 . _ -` and secrets shorter than 32 bytes.
    pub fn new(key_id: impl Into<String>, secret: &[u8]) -> Self {
        HmacSigner {
            key_id: key_id.into(),
            mac: keyed(secret),
        }
    }

    /// Header value for `Authorization`, with the current time and a random nonce (uuid v4 simple → 32 hex chars).
    ///
    /// `path_and_query` is the request target exactly as it will be sent (still
    /// percent-encoded), e.g. `/api/webhooks/github?delivery=42`; `body` the exact bytes sent.
    pub fn sign(&self, method: &str, path_and_query: &str, body: &[u8]) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        self.sign_at(method, path_and_query, body, now, &nonce)
    }

    /// Deterministic variant for tests and test vectors.
    pub fn sign_at(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        timestamp: u64,
        nonce: &str,
    ) -> String {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let canonical =
            canonical_request(&self.key_id, timestamp, nonce, method, path, query, body);
        let mut mac = self.mac.clone();
        mac.update(canonical.as_bytes());
        let signature = hex(&mac.finalize().into_bytes());
        format!(
            "{SCHEME} keyId=\"{}\", timestamp=\"{timestamp}\", nonce=\"{nonce}\", \
             signature=\"{signature}\"",
            self.key_id
        )
    }
}

/// The canonical request, public so clients and docs can show it.
///
/// Eight lines joined by `\n`, no trailing newline: `HMAC-SHA256`, the key id, the timestamp
/// (decimal), the nonce, the method, the path (as sent, still percent-encoded), the query (as
/// sent, without `?`; empty if none) and the lowercase hex SHA-256 of the body.
pub fn canonical_request(
    key_id: &str,
    timestamp: u64,
    nonce: &str,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
) -> String {
    let mut out = canonical_prefix(key_id, timestamp, nonce, method, path, query);
    out.push_str(&hex(&Sha256::digest(body)));
    out
}

/// The canonical request up to and including the newline before the body hash.
pub(super) fn canonical_prefix(
    key_id: &str,
    timestamp: u64,
    nonce: &str,
    method: &str,
    path: &str,
    query: &str,
) -> String {
    format!("{SCHEME}\n{key_id}\n{timestamp}\n{nonce}\n{method}\n{path}\n{query}\n")
}

pub(super) fn keyed(secret: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; the 32-byte minimum is enforced by `HmacClient::new`.
    <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length")
}

pub(super) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}
