//! Server-provided nonces (RFC 9449 §9): `DPoP-Nonce` values the resource server hands out and
//! then requires in proofs.
//!
//! A nonce is stateless: `base64url(period ‖ HMAC-SHA256(secret, "dpop-nonce" ‖ period)[..16])`,
//! where `period` is the current time divided by the lifetime (8 bytes, big-endian). It is
//! accepted during its period and the next, so a nonce lives between one and two lifetimes. It
//! is unpredictable without the secret, costs no storage, and instances sharing the secret
//! accept each other's. Replays are refused by `jti` as for any proof; a nonce may be used by
//! many proofs (RFC 9449 §11.1).

use std::fmt;
use std::time::Duration;

use ::hmac::{Hmac, Mac};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::Sha256;

use crate::error::ConfigError;

type HmacSha256 = Hmac<Sha256>;

/// Default nonce lifetime: a nonce is accepted for 2 to 4 minutes after it is issued.
pub const DEFAULT_NONCE_LIFETIME: Duration = Duration::from_secs(120);

const MAC_LEN: usize = 16;
const NONCE_BYTES: usize = 8 + MAC_LEN;

/// The server's nonce policy: a secret and a lifetime. `Debug` never shows the secret.
#[derive(Clone)]
pub struct DpopNonces {
    mac: HmacSha256,
    lifetime: u64,
}

impl fmt::Debug for DpopNonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopNonces")
            .field("lifetime_secs", &self.lifetime)
            .field("secret", &"[redacted]")
            .finish()
    }
}

impl DpopNonces {
    /// Nonces keyed with `secret` (at least 32 bytes; share it between instances behind one
    /// load balancer), each issued for `lifetime` (at least one second).
    pub fn new(secret: &[u8], lifetime: Duration) -> Result<Self, ConfigError> {
        if secret.len() < 32 {
            return Err(ConfigError::new(
                "a DPoP nonce secret must be at least 32 bytes",
            ));
        }
        if lifetime.as_secs() == 0 {
            return Err(ConfigError::new(
                "a DPoP nonce lifetime must be at least one second",
            ));
        }
        Ok(DpopNonces {
            mac: HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length"),
            lifetime: lifetime.as_secs(),
        })
    }

    /// Nonces keyed with a random secret (this instance only), each issued for
    /// [`DEFAULT_NONCE_LIFETIME`].
    pub fn random() -> Self {
        let secret: Vec<u8> = (0..2)
            .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
            .collect();
        Self::new(&secret, DEFAULT_NONCE_LIFETIME).expect("32 random bytes and 120 s are valid")
    }

    fn tag(&self, period: u64) -> [u8; NONCE_BYTES] {
        let mut mac = self.mac.clone();
        mac.update(b"dpop-nonce");
        mac.update(&period.to_be_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = [0u8; NONCE_BYTES];
        out[..8].copy_from_slice(&period.to_be_bytes());
        out[8..].copy_from_slice(&digest[..MAC_LEN]);
        out
    }

    /// The nonce to hand out at `now` (unix seconds).
    pub fn issue(&self, now: u64) -> String {
        URL_SAFE_NO_PAD.encode(self.tag(now / self.lifetime))
    }

    /// `true` when `nonce` was issued by this policy in the current period or the one before.
    pub fn accepts(&self, nonce: &str, now: u64) -> bool {
        if nonce.len() != (NONCE_BYTES * 4).div_ceil(3) {
            return false;
        }
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(nonce) else {
            return false;
        };
        let Ok(bytes) = <[u8; NONCE_BYTES]>::try_from(bytes.as_slice()) else {
            return false;
        };
        let period = u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
        let current = now / self.lifetime;
        if period != current && period.checked_add(1) != Some(current) {
            return false;
        }
        super::ct_eq(&self.tag(period), &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_lives_one_to_two_lifetimes_and_needs_the_secret() {
        let nonces = DpopNonces::new(&[7; 32], Duration::from_secs(100)).unwrap();
        let n = nonces.issue(1_000);
        assert!(nonces.accepts(&n, 1_000));
        assert!(nonces.accepts(&n, 1_099));
        assert!(nonces.accepts(&n, 1_199));
        assert!(!nonces.accepts(&n, 1_200));
        assert!(!nonces.accepts(&n, 999));
        let other = DpopNonces::new(&[8; 32], Duration::from_secs(100)).unwrap();
        assert!(!other.accepts(&n, 1_000));
        let mut tampered = n.clone().into_bytes();
        let last = tampered.last_mut().unwrap();
        *last = if *last == b'A' { b'B' } else { b'A' };
        assert!(!nonces.accepts(std::str::from_utf8(&tampered).unwrap(), 1_000));
        assert!(!nonces.accepts("", 1_000));
        assert!(!nonces.accepts("not a nonce at all, not at all!!", 1_000));
        // RFC 9449 §8.1 nonce syntax: 1*NQCHAR; base64url is within it.
        assert!(n
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)));
        assert!(DpopNonces::new(&[1; 31], Duration::from_secs(1)).is_err());
        assert!(DpopNonces::new(&[1; 32], Duration::ZERO).is_err());
        assert!(!format!("{nonces:?}").contains("7, 7"));
        assert!(!DpopNonces::random().accepts(&DpopNonces::random().issue(5), 5));
    }
}
