//! Start-up settings and the demo's fixed parameters.

use std::time::Duration;

use crate::hooks;

/// The demo's JWT issuer.
pub const ISSUER: &str = "secure-endpoint-demo";
/// The demo's JWT audience.
pub const AUDIENCE: &str = "demo-api";
/// How long a login token lives.
pub const TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
/// The abuse detectors' thresholds (stated in the README): a caller whose answers on
/// `/api/orders/{order_id}` (and every other route with path parameters) are "not found" or
/// "not yours" for this many distinct ids within [`ENUMERATION_WINDOW`] is refused with 429
/// `enumeration_suspected` for [`ABUSE_COOL_DOWN`].
pub const ENUMERATION_THRESHOLD: u32 = 20;
/// The window of [`ENUMERATION_THRESHOLD`].
pub const ENUMERATION_WINDOW: Duration = Duration::from_secs(10 * 60);
/// The login flow's stuffing guard: this many distinct emails failing from one client, or
/// one email failing from this many clients, within [`STUFFING_WINDOW`], refuse the client
/// (or the email) with 429 `credential_abuse_suspected` for [`ABUSE_COOL_DOWN`].
pub const STUFFING_THRESHOLD: u32 = 10;
/// The window of [`STUFFING_THRESHOLD`].
pub const STUFFING_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long a detector refuses a caller once it tripped.
pub const ABUSE_COOL_DOWN: Duration = Duration::from_secs(15 * 60);

/// The seeded users: (email, name, role).
pub const SEEDED_USERS: [(&str, &str, &str); 3] = [
    ("alice@example.com", "Alice", "user"),
    ("bob@example.com", "Bob", "user"),
    ("admin@example.com", "Admin", "admin"),
];

/// Start-up settings.
pub struct DemoConfig {
    /// HS256 secret, at least 32 bytes.
    pub jwt_secret: Vec<u8>,
    /// The password of every seeded user.
    pub password: String,
    /// The API key of the reports integration (`GET /api/reports`), at least 32 bytes.
    pub reports_api_key: String,
    /// The shared secret of the webhook sender (`POST /api/webhooks/{source}`, key id
    /// [`WEBHOOK_KEY_ID`]), at least 32 bytes.
    pub webhook_secret: String,
    /// Browser origins allowed to call the API (CORS), e.g. `https://localhost:5173`.
    pub cors_origins: Vec<String>,
    /// Networks of reverse proxies whose `X-Forwarded-For`/`X-Forwarded-Proto` headers are
    /// believed (the router's default `ProxyHeaders::XForwardedFor`).
    pub trusted_proxies: Vec<String>,
    /// The audit trail: one JSON line per refused request (rotated at 64 MiB, 5 files kept).
    pub audit_file: Option<std::path::PathBuf>,
    /// A Redis server shared by several instances (`redis://` or `rediss://`): rate limits,
    /// webhook nonces and API-key revocations are then kept there, and the limits hold across
    /// instances. `None`: everything in this process's memory.
    pub redis_url: Option<String>,
    /// The secrets of the signed senders of `/api/hooks/*` and `/api/partner/orders`.
    pub signed: hooks::SignedSenders,
}

/// The key id webhook senders sign with (docs/hmac.md).
pub const WEBHOOK_KEY_ID: &str = "demo-webhooks";

impl std::fmt::Debug for DemoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoConfig").finish_non_exhaustive()
    }
}
