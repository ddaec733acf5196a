//! Signed requests from real senders (docs/hmac.md): webhook deliveries from GitHub, Stripe
//! and any Standard Webhooks sender, and partner orders signed with HTTP Message Signatures
//! (RFC 9421, `hmac-sha256`, key id [`PARTNER_KEY_ID`]).
//!
//! A replayed, stale, altered or re-signed-with-another-key request is a 401 problem; the
//! audit trail records which check refused it (`reason`), never the signature or secret.

use std::sync::Arc;

use axum::body::Bytes;
use base64::Engine as _;
use rand::RngCore as _;
use secure_endpoint::hmac::NonceStore;
use secure_endpoint::signature::{SignatureKey, SignatureVerifier};
use secure_endpoint::webhook::{GithubWebhook, StandardWebhook, StripeWebhook};
use secure_endpoint::{secure_endpoint, Json, Principal, SafeResponse, SecurityBuilder};
use serde::{Deserialize, Serialize};

/// The key id partners sign orders with.
pub const PARTNER_KEY_ID: &str = "partner-demo";

/// The secrets of the signed senders. `Debug` shows none of them.
#[derive(Clone)]
pub struct SignedSenders {
    /// GitHub's webhook secret (`DEMO_GITHUB_WEBHOOK_SECRET`).
    pub github: String,
    /// Stripe's endpoint signing secret, `whsec_…` (`DEMO_STRIPE_WEBHOOK_SECRET`).
    pub stripe: String,
    /// A Standard Webhooks secret, `whsec_<base64>` (`DEMO_STANDARD_WEBHOOK_SECRET`).
    pub standard: String,
    /// The partner's `hmac-sha256` key, base64 (`DEMO_PARTNER_KEY`), 32 bytes or more.
    pub partner_key: String,
}

impl std::fmt::Debug for SignedSenders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedSenders").finish_non_exhaustive()
    }
}

fn random_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

impl SignedSenders {
    /// Fresh random secrets, in each sender's format.
    pub fn generate() -> Self {
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let hex: String = random_bytes().iter().map(|b| format!("{b:02x}")).collect();
        SignedSenders {
            github: hex,
            stripe: format!(
                "whsec_{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes())
            ),
            standard: format!("whsec_{}", b64(&random_bytes())),
            partner_key: b64(&random_bytes()),
        }
    }

    /// The verifiers, their nonces in `nonces` (Redis) when given.
    ///
    /// # Panics
    /// If a secret is malformed (`main.rs` checks them first).
    pub fn configure(
        &self,
        builder: SecurityBuilder,
        nonces: Option<Arc<dyn NonceStore>>,
    ) -> SecurityBuilder {
        let partner_key = base64::engine::general_purpose::STANDARD
            .decode(&self.partner_key)
            .expect("DEMO_PARTNER_KEY is base64");
        let mut partners = SignatureVerifier::new().key(
            PARTNER_KEY_ID,
            SignatureKey::hmac_sha256("partner-demo", &partner_key)
                .expect("DEMO_PARTNER_KEY decodes to 32 bytes or more")
                .roles(["partner"]),
        );
        let mut github =
            GithubWebhook::new("github", self.github.as_bytes()).expect("a GitHub secret");
        let mut stripe = StripeWebhook::new("stripe", &self.stripe).expect("a Stripe secret");
        let mut standard = StandardWebhook::new("standard-sender", &self.standard)
            .expect("a whsec_<base64> secret");
        if let Some(store) = nonces {
            partners = partners.nonce_store(store.clone());
            github = github.nonce_store(store.clone());
            stripe = stripe.nonce_store(store.clone());
            standard = standard.nonce_store(store);
        }
        builder
            .signatures(partners)
            .github_webhook(github)
            .stripe_webhook(stripe)
            .standard_webhook(standard)
    }
}

/// [`SignedSenders::configure`] in a builder chain.
pub(crate) trait PipeSigned {
    fn pipe_signed(
        self,
        senders: &SignedSenders,
        redis: Option<Arc<secure_endpoint::redis::RedisStore>>,
    ) -> Self;
}

impl PipeSigned for SecurityBuilder {
    fn pipe_signed(
        self,
        senders: &SignedSenders,
        redis: Option<Arc<secure_endpoint::redis::RedisStore>>,
    ) -> Self {
        senders.configure(self, redis.map(|r| r as Arc<dyn NonceStore>))
    }
}

/// What a delivery's receiver answers: who sent it and how many bytes arrived.
#[derive(Serialize, SafeResponse)]
pub struct HookReceipt {
    received: bool,
    sender: String,
    bytes: usize,
}

fn receipt(principal: &Principal, body: &Bytes) -> Json<HookReceipt> {
    Json(HookReceipt {
        received: true,
        sender: principal.subject().to_owned(),
        bytes: body.len(),
    })
}

/// GitHub deliveries: `X-Hub-Signature-256` over the raw body, `X-GitHub-Delivery` once.
#[secure_endpoint(
    auth = "github_webhook",
    allow = "authenticated",
    rate = "60/1m",
    body = "raw"
)]
pub async fn github_hook(principal: Principal, body: Bytes) -> Json<HookReceipt> {
    receipt(&principal, &body)
}

/// Stripe deliveries: `Stripe-Signature: t=…,v1=…`, within five minutes, once.
#[secure_endpoint(
    auth = "stripe_webhook",
    allow = "authenticated",
    rate = "60/1m",
    body = "raw"
)]
pub async fn stripe_hook(principal: Principal, body: Bytes) -> Json<HookReceipt> {
    receipt(&principal, &body)
}

/// Standard Webhooks deliveries: `webhook-id`, `webhook-timestamp`, `webhook-signature`.
#[secure_endpoint(
    auth = "standard_webhook",
    allow = "authenticated",
    rate = "60/1m",
    body = "raw"
)]
pub async fn standard_hook(principal: Principal, body: Bytes) -> Json<HookReceipt> {
    receipt(&principal, &body)
}

/// A partner's order.
#[derive(Deserialize, garde::Validate)]
pub struct PartnerOrder {
    #[garde(length(min = 1, max = 64), ascii)]
    item: String,
    #[garde(range(min = 1, max = 1000))]
    quantity: u32,
}

/// The order as accepted.
#[derive(Serialize, SafeResponse)]
pub struct PartnerOrderAccepted {
    partner: String,
    item: String,
    quantity: u32,
}

/// Partner orders, signed with RFC 9421 `hmac-sha256` (key id `partner-demo`) covering
/// `@method`, `@path`, `@query` and `content-digest`, with a nonce.
#[secure_endpoint(auth = "signature", roles = ["partner"], rate = "30/1m", fields = ["item", "quantity"])]
pub async fn partner_order(
    principal: Principal,
    Json(order): Json<PartnerOrder>,
) -> Json<PartnerOrderAccepted> {
    Json(PartnerOrderAccepted {
        partner: principal.subject().to_owned(),
        item: order.item,
        quantity: order.quantity,
    })
}
