//! Webhook deliveries in the formats real senders use, each its own scheme name:
//!
//! | scheme | sender | header | signed content |
//! |---|---|---|---|
//! | `github_webhook` | GitHub | `X-Hub-Signature-256: sha256=<hex>` | the raw body |
//! | `stripe_webhook` | Stripe | `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]` | `{t}.{body}` |
//! | `standard_webhook` | Standard Webhooks | `webhook-signature: v1,<base64> [v1,…]` | `{webhook-id}.{webhook-timestamp}.{body}` |
//!
//! All are HMAC-SHA256, compared in constant time. Several secrets may be configured for a
//! rotation, and Stripe and Standard Webhooks senders send several signatures while they
//! rotate: one match is enough. Replays are refused through the [`NonceStore`]: GitHub's
//! `X-GitHub-Delivery` id (GitHub signs no timestamp, so the id is remembered for
//! [`GithubWebhook::replay_window`], 24 h by default), Standard Webhooks' `webhook-id`, and
//! the matching Stripe signature; the timestamps of Stripe and Standard Webhooks must be
//! within the tolerance (300 s by default) of the server's clock.
//!
//! The header is read first ([`begin`](GithubWebhook::begin)): absent, the scheme is
//! "missing" (another may be tried); malformed or stale, it is refused before the body is
//! read. The signature is checked on the exact bytes received
//! ([`PendingWebhook::finish`]). Secrets and signatures never appear in `Debug` or logs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ::hmac::{Hmac, Mac};
use base64::Engine as _;
use http::request::Parts;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::hmac::{InMemoryNonces, NonceStore, DEFAULT_NONCE_CAPACITY};
use super::signature::{remember, Refusal};
use super::Principal;
use crate::error::ConfigError;
use crate::policy::AuthScheme;

type HmacSha256 = Hmac<Sha256>;

/// Default tolerance between a delivery's timestamp and the server's clock (Stripe's and the
/// Standard Webhooks specification's).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// How long GitHub delivery ids are remembered by default.
pub const DEFAULT_GITHUB_REPLAY_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// Most signatures read from one header.
const MAX_SIGNATURES: usize = 8;
/// Longest signature header read.
const MAX_HEADER_LEN: usize = 2048;

/// The sender a verifier authenticates, its secrets, and where replays are remembered.
#[derive(Clone)]
struct Sender {
    scheme: AuthScheme,
    macs: Vec<HmacSha256>,
    subject: String,
    roles: Vec<String>,
    scopes: Vec<String>,
    nonces: Arc<dyn NonceStore>,
    window: Duration,
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("scheme", &self.scheme.as_str())
            .field("subject", &self.subject)
            .field("secrets", &self.macs.len())
            .field("window_secs", &self.window.as_secs())
            .field("nonces", &self.nonces)
            .finish()
    }
}

impl Sender {
    fn new(
        scheme: AuthScheme,
        subject: String,
        secret: &[u8],
        window: Duration,
    ) -> Result<Self, ConfigError> {
        Ok(Sender {
            scheme,
            macs: vec![mac(secret)?],
            subject,
            roles: Vec::new(),
            scopes: Vec::new(),
            nonces: Arc::new(InMemoryNonces::new(DEFAULT_NONCE_CAPACITY)),
            window,
        })
    }

    fn principal(&self) -> Principal {
        Principal::new(
            self.subject.clone(),
            self.roles.clone(),
            self.scopes.clone(),
            self.scheme,
        )
    }

    /// The value of a header that must appear once; `None` if absent.
    fn single<'p>(parts: &'p Parts, name: &str) -> Result<Option<&'p str>, Refusal> {
        let mut values = parts.headers.get_all(name).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() || value.len() > MAX_HEADER_LEN {
            return Err(Refusal::invalid("signature_malformed"));
        }
        value
            .to_str()
            .map(Some)
            .map_err(|_| Refusal::invalid("signature_malformed"))
    }

    fn fresh(&self, timestamp: u64, now: u64) -> Result<(), Refusal> {
        if timestamp.abs_diff(now) > self.window.as_secs() {
            return Err(Refusal::invalid("signature_stale"));
        }
        Ok(())
    }
}

fn mac(secret: &[u8]) -> Result<HmacSha256, ConfigError> {
    if secret.is_empty() {
        return Err(ConfigError::new("a webhook secret cannot be empty"));
    }
    HmacSha256::new_from_slice(secret).map_err(|_| ConfigError::new("invalid webhook secret"))
}

macro_rules! sender_builders {
    ($ty:ident) => {
        impl $ty {
            /// Also accepts deliveries signed with this secret (a rotation).
            pub fn secret(mut self, secret: &[u8]) -> Result<Self, ConfigError> {
                self.0.macs.push(mac(secret)?);
                Ok(self)
            }

            /// Roles granted to the sender's principal.
            #[must_use]
            pub fn roles(mut self, roles: impl IntoIterator<Item = impl Into<String>>) -> Self {
                self.0.roles = roles.into_iter().map(Into::into).collect();
                self
            }

            /// Scopes granted to the sender's principal.
            #[must_use]
            pub fn scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
                self.0.scopes = scopes.into_iter().map(Into::into).collect();
                self
            }

            /// Where delivery ids are remembered (default: in memory). Share one store between
            /// instances.
            #[must_use]
            pub fn nonce_store(mut self, store: Arc<dyn NonceStore>) -> Self {
                self.0.nonces = store;
                self
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

/// GitHub's `X-Hub-Signature-256` over the raw body; `X-GitHub-Delivery` is the replay nonce.
#[derive(Clone)]
pub struct GithubWebhook(Sender);
sender_builders!(GithubWebhook);

/// Stripe's `Stripe-Signature` (`t=…,v1=…`); the secret is the `whsec_…` string as given.
#[derive(Clone)]
pub struct StripeWebhook(Sender);
sender_builders!(StripeWebhook);

/// Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
#[derive(Clone)]
pub struct StandardWebhook(Sender);
sender_builders!(StandardWebhook);

/// A delivery whose headers passed, waiting for its body. `Debug` shows the format only.
pub struct PendingWebhook {
    sender: Sender,
    /// What is signed before the body (`""`, `"{t}."`, `"{id}.{ts}."`).
    prefix: String,
    /// The signatures presented (at most 8).
    signatures: Vec<Vec<u8>>,
    /// The nonce: the delivery id, or `None` for Stripe (the matching signature is used).
    nonce: Option<String>,
    expires_at: u64,
    now: u64,
}

impl fmt::Debug for PendingWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingWebhook")
            .field("scheme", &self.sender.scheme.as_str())
            .finish_non_exhaustive()
    }
}

impl PendingWebhook {
    /// Checks a signature over the exact `body` received, then the replay nonce.
    pub async fn finish(self, body: &[u8]) -> Result<Principal, Refusal> {
        let mut matched: Option<&[u8]> = None;
        for mac in &self.sender.macs {
            let mut mac = mac.clone();
            mac.update(self.prefix.as_bytes());
            mac.update(body);
            let expected = mac.finalize().into_bytes();
            for signature in &self.signatures {
                if bool::from(expected[..].ct_eq(signature)) {
                    matched = Some(signature);
                }
            }
        }
        let Some(signature) = matched else {
            return Err(Refusal::invalid("signature_mismatch"));
        };
        let nonce = match &self.nonce {
            Some(id) => id.clone(),
            None => hex(signature),
        };
        let namespace = format!("{}:{}", self.sender.scheme.as_str(), self.sender.subject);
        remember(
            self.sender.nonces.as_ref(),
            &namespace,
            &nonce,
            self.expires_at,
            self.now,
        )
        .await?;
        Ok(self.sender.principal())
    }
}

impl GithubWebhook {
    /// Deliveries from GitHub signed with `secret`, authenticating as `subject`.
    pub fn new(subject: impl Into<String>, secret: &[u8]) -> Result<Self, ConfigError> {
        Sender::new(
            AuthScheme::GithubWebhook,
            subject.into(),
            secret,
            DEFAULT_GITHUB_REPLAY_WINDOW,
        )
        .map(GithubWebhook)
    }

    /// How long a delivery id is remembered (default 24 h): a replay within it is refused.
    #[must_use]
    pub fn replay_window(mut self, window: Duration) -> Self {
        self.0.window = window;
        self
    }

    /// The headers, at `now` (unix seconds).
    pub fn begin(&self, parts: &Parts, now: u64) -> Result<PendingWebhook, Refusal> {
        let Some(header) = Sender::single(parts, "x-hub-signature-256")? else {
            return Err(Refusal::missing("signature_missing"));
        };
        let signature = header
            .strip_prefix("sha256=")
            .and_then(parse_hex32)
            .ok_or(Refusal::invalid("signature_malformed"))?;
        let delivery = Sender::single(parts, "x-github-delivery")?
            .filter(|d| {
                (1..=64).contains(&d.len())
                    && d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
            .ok_or(Refusal::invalid("signature_nonce_missing"))?;
        Ok(PendingWebhook {
            sender: self.0.clone(),
            prefix: String::new(),
            signatures: vec![signature.to_vec()],
            nonce: Some(delivery.to_owned()),
            expires_at: now.saturating_add(self.0.window.as_secs()),
            now,
        })
    }
}

impl StripeWebhook {
    /// Deliveries from Stripe signed with the endpoint's signing secret (`whsec_…`, used as
    /// the HMAC key as it is), authenticating as `subject`; tolerance 300 s.
    pub fn new(subject: impl Into<String>, secret: &str) -> Result<Self, ConfigError> {
        Sender::new(
            AuthScheme::StripeWebhook,
            subject.into(),
            secret.as_bytes(),
            DEFAULT_TOLERANCE,
        )
        .map(StripeWebhook)
    }

    /// The allowed difference between `t` and the server's clock, either way.
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.0.window = tolerance;
        self
    }

    /// The headers, at `now` (unix seconds).
    pub fn begin(&self, parts: &Parts, now: u64) -> Result<PendingWebhook, Refusal> {
        let Some(header) = Sender::single(parts, "stripe-signature")? else {
            return Err(Refusal::missing("signature_missing"));
        };
        let malformed = Refusal::invalid("signature_malformed");
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for element in header.split(',') {
            let (key, value) = element.trim().split_once('=').ok_or(malformed)?;
            match key {
                "t" => {
                    let t = parse_decimal(value).ok_or(malformed)?;
                    if timestamp.replace(t).is_some() {
                        return Err(malformed);
                    }
                }
                "v1" => {
                    if signatures.len() == MAX_SIGNATURES {
                        return Err(malformed);
                    }
                    signatures.push(parse_hex32(value).ok_or(malformed)?.to_vec());
                }
                // Other schemes (`v0`, test-mode signatures) are ignored, as Stripe's
                // libraries do.
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(malformed)?;
        if signatures.is_empty() {
            return Err(malformed);
        }
        self.0.fresh(timestamp, now)?;
        Ok(PendingWebhook {
            sender: self.0.clone(),
            prefix: format!("{timestamp}."),
            signatures,
            nonce: None,
            expires_at: timestamp
                .saturating_add(self.0.window.as_secs())
                .saturating_add(1),
            now,
        })
    }
}

impl StandardWebhook {
    /// Deliveries signed with a `whsec_<base64>` secret (the prefix is optional), authenticating
    /// as `subject`; tolerance 300 s.
    pub fn new(subject: impl Into<String>, secret: &str) -> Result<Self, ConfigError> {
        let key = decode_whsec(secret)?;
        Sender::new(
            AuthScheme::StandardWebhook,
            subject.into(),
            &key,
            DEFAULT_TOLERANCE,
        )
        .map(StandardWebhook)
    }

    /// Also accepts deliveries signed with this `whsec_` secret (a rotation).
    pub fn whsec(self, secret: &str) -> Result<Self, ConfigError> {
        let key = decode_whsec(secret)?;
        self.secret(&key)
    }

    /// The allowed difference between `webhook-timestamp` and the server's clock.
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.0.window = tolerance;
        self
    }

    /// The headers, at `now` (unix seconds).
    pub fn begin(&self, parts: &Parts, now: u64) -> Result<PendingWebhook, Refusal> {
        let Some(header) = Sender::single(parts, "webhook-signature")? else {
            return Err(Refusal::missing("signature_missing"));
        };
        let malformed = Refusal::invalid("signature_malformed");
        let id = Sender::single(parts, "webhook-id")?
            .filter(|id| (1..=255).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or(Refusal::invalid("signature_nonce_missing"))?;
        let timestamp = Sender::single(parts, "webhook-timestamp")?
            .and_then(parse_decimal)
            .ok_or(malformed)?;
        let mut signatures = Vec::new();
        for entry in header.split(' ').filter(|e| !e.is_empty()) {
            let (version, value) = entry.split_once(',').ok_or(malformed)?;
            if version != "v1" {
                continue; // e.g. `v1a` (asymmetric): not configured here
            }
            if signatures.len() == MAX_SIGNATURES {
                return Err(malformed);
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value)
                .map_err(|_| malformed)?;
            signatures.push(bytes);
        }
        if signatures.is_empty() {
            return Err(malformed);
        }
        self.0.fresh(timestamp, now)?;
        Ok(PendingWebhook {
            sender: self.0.clone(),
            prefix: format!("{id}.{timestamp}."),
            signatures,
            nonce: Some(id.to_owned()),
            expires_at: timestamp
                .saturating_add(self.0.window.as_secs())
                .saturating_add(1),
            now,
        })
    }
}

/// The key bytes of a `whsec_<base64>` secret.
fn decode_whsec(secret: &str) -> Result<Vec<u8>, ConfigError> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| ConfigError::new("a Standard Webhooks secret is whsec_ followed by base64"))?;
    if key.len() < 24 {
        return Err(ConfigError::new(
            "a Standard Webhooks secret must decode to at least 24 bytes",
        ));
    }
    Ok(key)
}

/// Decimal seconds without sign or leading zeros, at most 12 digits.
fn parse_decimal(s: &str) -> Option<u64> {
    let ok = (1..=12).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    ok.then(|| s.parse().ok()).flatten()
}

/// Exactly 64 hex digits (either case).
fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
        let digit = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
        *byte = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Signs deliveries the way each sender does, for tests and for services that send
/// webhooks themselves. Never logs the secret.
pub mod sign {
    use super::*;

    /// `X-Hub-Signature-256` for `body`.
    pub fn github(secret: &[u8], body: &[u8]) -> String {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
        mac.update(body);
        format!("sha256={}", hex(&mac.finalize().into_bytes()))
    }

    /// `Stripe-Signature` for `body` at `timestamp`.
    pub fn stripe(secret: &str, timestamp: u64, body: &[u8]) -> String {
        let mut mac =
            HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(body);
        format!("t={timestamp},v1={}", hex(&mac.finalize().into_bytes()))
    }

    /// `webhook-signature` (`v1,<base64>`) for a Standard Webhooks delivery.
    pub fn standard(
        secret: &str,
        id: &str,
        timestamp: u64,
        body: &[u8],
    ) -> Result<String, ConfigError> {
        let key = decode_whsec(secret)?;
        let mut mac = HmacSha256::new_from_slice(&key).expect("HMAC accepts keys of any length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        Ok(format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        ))
    }
}

/// The verifiers of the signed schemes a router configures (`signature` and the webhook
/// formats), and the pipeline's two steps over them.
#[derive(Debug, Default, Clone)]
pub(crate) struct Signed {
    pub(crate) signature: Option<super::signature::SignatureVerifier>,
    pub(crate) github: Option<GithubWebhook>,
    pub(crate) stripe: Option<StripeWebhook>,
    pub(crate) standard: Option<StandardWebhook>,
}

/// A signed request whose head passed, waiting for its body.
pub(crate) enum PendingSigned {
    Signature(super::signature::PendingSignature),
    Webhook(PendingWebhook),
}

impl Signed {
    /// `Some(configured)` for the signed schemes, `None` for the others.
    pub(crate) fn configured(&self, scheme: AuthScheme) -> Option<bool> {
        Some(match scheme {
            AuthScheme::Signature => self.signature.is_some(),
            AuthScheme::GithubWebhook => self.github.is_some(),
            AuthScheme::StripeWebhook => self.stripe.is_some(),
            AuthScheme::StandardWebhook => self.standard.is_some(),
            _ => return None,
        })
    }

    /// The head checks of `scheme` (a signed scheme that is configured).
    pub(crate) fn begin(
        &self,
        scheme: AuthScheme,
        parts: &Parts,
        now: u64,
    ) -> Result<PendingSigned, Refusal> {
        let unconfigured = Refusal::invalid("scheme_unconfigured");
        match scheme {
            AuthScheme::Signature => self
                .signature
                .as_ref()
                .ok_or(unconfigured)?
                .begin(parts, now)
                .map(PendingSigned::Signature),
            AuthScheme::GithubWebhook => self
                .github
                .as_ref()
                .ok_or(unconfigured)?
                .begin(parts, now)
                .map(PendingSigned::Webhook),
            AuthScheme::StripeWebhook => self
                .stripe
                .as_ref()
                .ok_or(unconfigured)?
                .begin(parts, now)
                .map(PendingSigned::Webhook),
            AuthScheme::StandardWebhook => self
                .standard
                .as_ref()
                .ok_or(unconfigured)?
                .begin(parts, now)
                .map(PendingSigned::Webhook),
            _ => Err(unconfigured),
        }
    }
}

impl PendingSigned {
    /// The body checks.
    pub(crate) async fn finish(self, body: &[u8]) -> Result<Principal, Refusal> {
        match self {
            PendingSigned::Signature(p) => p.finish(body).await,
            PendingSigned::Webhook(p) => p.finish(body).await,
        }
    }
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
