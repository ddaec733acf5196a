//! The security configuration of the demo, and its audit trail.

use std::sync::Arc;
use std::time::Duration;

use crate::hooks::PipeSigned as _;
use secure_endpoint::abuse::{Enumeration, FlowBudget, Stuffing};
use secure_endpoint::api_key::{ApiKeyRecord, InMemoryApiKeys};
use secure_endpoint::audit::{AuditConfig, Auditor, FsyncPolicy, JsonLinesSink};
use secure_endpoint::cors::Cors;
use secure_endpoint::dpop::DpopVerifier;
use secure_endpoint::events::SecurityEvent;
use secure_endpoint::hmac::{HmacClient, HmacVerifier, InMemoryHmacKeys};
use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::policy::RateSpec;
use secure_endpoint::redis::{RedisApiKeys, RedisStore};
use secure_endpoint::store::Outage;
use secure_endpoint::Security;

use crate::{
    mtls, DemoConfig, ABUSE_COOL_DOWN, AUDIENCE, ENUMERATION_THRESHOLD, ENUMERATION_WINDOW, ISSUER,
    STUFFING_THRESHOLD, STUFFING_WINDOW, WEBHOOK_KEY_ID,
};

/// The security configuration: HS256 tokens from this demo, 100 KiB bodies.
pub fn security(config: &DemoConfig, audit: Option<Auditor<SecurityEvent>>) -> Security {
    let verifier = JwtVerifier::hs256(&config.jwt_secret)
        .expect("the demo's JWT secret is at least 32 bytes")
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .expect("issuer and audience are set");
    let reports_key = ApiKeyRecord::from_key(
        "demo-reports",
        "reports-service",
        &["reports:read"],
        &config.reports_api_key,
    )
    .expect("the demo's API key is at least 32 bytes");
    let webhook_senders = InMemoryHmacKeys::new();
    webhook_senders.insert(
        WEBHOOK_KEY_ID,
        HmacClient::new("webhook-sender", config.webhook_secret.as_bytes())
            .expect("the demo's webhook secret is at least 32 bytes"),
    );
    let mut builder = Security::builder();
    if !config.cors_origins.is_empty() {
        builder = builder.cors(Cors::allow_origins(&config.cors_origins).allow_credentials(true));
    }
    let webhooks = HmacVerifier::new(Arc::new(webhook_senders));
    let builder = match &config.redis_url {
        // Shared by every instance: limits, nonces and revocations. While Redis is down,
        // requests that need it are refused with 503 (fail closed).
        Some(url) => {
            let redis =
                Arc::new(RedisStore::open(url).unwrap_or_else(|e| panic!("DEMO_REDIS_URL: {e}")));
            let keys = RedisApiKeys::new(redis.clone());
            keys.insert(reports_key);
            builder
                .rate_store(redis.clone(), Outage::FailClosed)
                .api_keys(Arc::new(keys))
                .hmac(webhooks.nonce_store(redis.clone()))
                .dpop(DpopVerifier::new().replay_store(redis.clone()))
                .pipe_signed(&config.signed, Some(redis))
        }
        None => {
            let keys = InMemoryApiKeys::new();
            keys.insert(reports_key);
            builder
                .api_keys(Arc::new(keys))
                .hmac(webhooks)
                .dpop(DpopVerifier::new())
                .pipe_signed(&config.signed, None)
        }
    };
    let builder = builder
        .trusted_proxies(&config.trusted_proxies)
        .jwt(verifier)
        // `GET /api/internal/metrics`: client certificates from the TLS connection.
        .mtls(mtls::verifier())
        .body_limit(100 * 1024)
        // The abuse detectors (issue 22), counted in the rate store (Redis when configured).
        .enumeration(
            Enumeration::new()
                .threshold(ENUMERATION_THRESHOLD)
                .window(ENUMERATION_WINDOW)
                .cool_down(ABUSE_COOL_DOWN),
        )
        .flow(
            "login",
            FlowBudget::new()
                .per_ip(RateSpec::new(100, Duration::from_secs(3600)))
                .total(RateSpec::new(1000, Duration::from_secs(60)))
                .stuffing(
                    Stuffing::new()
                        .identifiers_per_client(STUFFING_THRESHOLD)
                        .clients_per_identifier(STUFFING_THRESHOLD)
                        .window(STUFFING_WINDOW)
                        .cool_down(ABUSE_COOL_DOWN),
                ),
        );
    match audit {
        Some(auditor) => builder.events(Arc::new(auditor)).build(),
        None => builder.build(),
    }
}

/// Starts the audit trail writing to `path` (its spill file next to it, `<path>.spill`).
///
/// # Panics
/// If the file cannot be opened: the demo does not run without its audit trail.
pub fn start_audit(path: &std::path::Path) -> Auditor<SecurityEvent> {
    let sink = JsonLinesSink::open(path, 64 * 1024 * 1024, 5, FsyncPolicy::EveryBatch)
        .unwrap_or_else(|e| panic!("the audit file {} cannot be opened: {e}", path.display()));
    let mut spill = path.as_os_str().to_owned();
    spill.push(".spill");
    Auditor::start(sink, AuditConfig::new(std::path::PathBuf::from(spill)))
        .unwrap_or_else(|e| panic!("the audit trail cannot start: {e}"))
}
