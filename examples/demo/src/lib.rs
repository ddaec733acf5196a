//! The seed-parity demo API, secured with `#[secure_endpoint]`.
//!
//! [`app`] builds the routes of DESIGN.md's demo table on a [`SecureRouter`]; `main.rs` serves
//! them over HTTPS with [`server`]. Tests serve the same app the same way on `127.0.0.1:0`.

pub mod avatars;
pub mod graphql;
pub mod hooks;
pub mod mtls;
pub mod server;

use std::collections::HashMap;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hooks::PipeSigned as _;
use secure_endpoint::abuse::{Enumeration, FlowAttempts, FlowBudget, Stuffing};
use secure_endpoint::api_key::{ApiKeyRecord, InMemoryApiKeys};
use secure_endpoint::audit::{AuditConfig, Auditor, FsyncPolicy, JsonLinesSink};
use secure_endpoint::cors::Cors;
use secure_endpoint::dpop::DpopVerifier;
use secure_endpoint::events::SecurityEvent;
use secure_endpoint::hmac::{HmacClient, HmacVerifier, InMemoryHmacKeys};
use secure_endpoint::jwt::{JwtIssuer, JwtVerifier};
use secure_endpoint::policy::RateSpec;
use secure_endpoint::rate::{normalize_identifier, FailureLimiter};
use secure_endpoint::redis::{RedisApiKeys, RedisStore};
use secure_endpoint::routing::{get, post, put};
use secure_endpoint::store::Outage;
use secure_endpoint::{
    secure_endpoint, ClientIp, Json, List, Owned, OwnedResource, Principal, Problem, Query,
    SafeResponse, SecureRouter, Security,
};
use serde::{Deserialize, Serialize};

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

/// A stored user. The password hash never leaves this struct: responses use [`UserView`].
#[derive(Clone)]
struct User {
    id: String,
    /// Unique, in its [`normalize_identifier`] form: logins find the account by that form, and
    /// the login throttle counts by it.
    email: String,
    name: String,
    role: String,
    password_hash: String,
}

/// A user as the API shows it: no secret fields.
#[derive(Debug, Clone, Serialize, SafeResponse, utoipa::ToSchema)]
pub struct UserView {
    #[schema(max_length = 64)]
    id: String,
    #[schema(max_length = 254)]
    email: String,
    #[schema(max_length = 100)]
    name: String,
    #[schema(max_length = 32)]
    role: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.clone(),
        }
    }
}

/// An order, owned by a user.
#[derive(Debug, Clone, Serialize, SafeResponse, utoipa::ToSchema)]
pub struct Order {
    #[schema(max_length = 64)]
    id: String,
    #[schema(max_length = 64)]
    user_id: String,
    #[schema(max_length = 200)]
    item: String,
    #[schema(maximum = 9_007_199_254_740_991_u64)]
    total_cents: u64,
}

/// An article.
#[derive(Debug, Clone, Serialize, SafeResponse, utoipa::ToSchema)]
pub struct Article {
    #[schema(max_length = 64)]
    id: String,
    #[schema(max_length = 64)]
    author_id: String,
    #[schema(max_length = 200)]
    title: String,
    #[schema(max_length = 50_000)]
    body: String,
    #[schema(value_type = Vec<TagName>, max_items = 10)]
    tags: Vec<String>,
    published: bool,
    #[schema(maximum = 4_294_967_295_u32)]
    likes: u32,
    #[schema(maximum = 9_007_199_254_740_991_u64)]
    seq: u64,
}

/// Shared application state.
#[derive(Clone)]
pub struct AppState {
    users: Arc<RwLock<HashMap<String, User>>>,
    orders: Arc<RwLock<HashMap<String, Order>>>,
    articles: Arc<RwLock<Vec<Article>>>,
    issuer: JwtIssuer,
    login_failures: Arc<FailureLimiter>,
    /// Webhook deliveries received, newest last (bounded).
    deliveries: Arc<RwLock<Vec<Delivery>>>,
    /// Verified against when the email is unknown, so both cases cost the same time.
    dummy_hash: Arc<str>,
    /// The OpenAPI document of the routes, generated from their contracts.
    openapi: Arc<str>,
    /// The audit trail, when configured.
    audit: Option<Auditor<SecurityEvent>>,
    /// `POST /api/graphql`'s schema, over the same maps.
    graphql: Arc<graphql::DemoSchema>,
    /// Checks the DPoP proof a login may carry (its replays remembered in this instance).
    dpop: DpopVerifier,
    /// Avatars by user id, and the client imports are fetched with.
    avatars: avatars::Avatars,
}

fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

impl AppState {
    /// Waits until every audit event so far is written (for shutdown and tests).
    pub async fn flush_audit(&self) {
        if let Some(audit) = &self.audit {
            audit.flush().await;
        }
    }

    /// `POST /api/graphql`'s async-graphql schema (for SDL export and the field review test).
    pub fn graphql_schema(
        &self,
    ) -> &async_graphql::Schema<
        graphql::QueryRoot,
        async_graphql::EmptyMutation,
        async_graphql::EmptySubscription,
    > {
        self.graphql.schema()
    }

    /// The ids of the seeded orders (for tests that need an existing resource).
    pub fn order_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = read(&self.orders).keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Seeds users (argon2 hashes), orders and articles.
    pub fn seeded(config: &DemoConfig) -> Self {
        let mut users = HashMap::new();
        for (email, name, role) in SEEDED_USERS {
            let id = uuid::Uuid::new_v4().to_string();
            users.insert(
                id.clone(),
                User {
                    id,
                    email: email.into(),
                    name: name.into(),
                    role: role.into(),
                    password_hash: hash_password(&config.password),
                },
            );
        }
        let id_of = |email: &str| {
            users
                .values()
                .find(|u| u.email == email)
                .map(|u| u.id.clone())
                .unwrap_or_default()
        };
        let mut orders = HashMap::new();
        for (owner, item, total_cents) in [
            ("alice@example.com", "Keyboard", 7_900),
            ("alice@example.com", "Monitor", 23_900),
            ("bob@example.com", "Headphones", 12_900),
        ] {
            let id = uuid::Uuid::new_v4().to_string();
            orders.insert(
                id.clone(),
                Order {
                    id,
                    user_id: id_of(owner),
                    item: item.into(),
                    total_cents,
                },
            );
        }
        let articles = vec![Article {
            id: uuid::Uuid::new_v4().to_string(),
            author_id: id_of("admin@example.com"),
            title: "Welcome".into(),
            body: "Every endpoint of this API declares its security contract.".into(),
            tags: vec!["intro".into()],
            published: true,
            likes: 3,
            seq: 0,
        }];
        let (users, orders, articles) = (
            Arc::new(RwLock::new(users)),
            Arc::new(RwLock::new(orders)),
            Arc::new(RwLock::new(articles)),
        );
        let graphql = Arc::new(graphql::schema(graphql::Store {
            users: users.clone(),
            orders: orders.clone(),
            articles: articles.clone(),
        }));
        AppState {
            graphql,
            users,
            orders,
            articles,
            issuer: JwtIssuer::hs256(&config.jwt_secret, ISSUER, AUDIENCE, TOKEN_TTL)
                .expect("the demo's JWT secret is at least 32 bytes"),
            login_failures: Arc::new(FailureLimiter::new(
                "login",
                5,
                Duration::from_secs(15 * 60),
            )),
            deliveries: Arc::new(RwLock::new(Vec::new())),
            openapi: Arc::from(""),
            audit: None,
            dummy_hash: hash_password("not a real password").into(),
            dpop: DpopVerifier::new(),
            avatars: avatars::Avatars::new(),
        }
    }
}

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

/// Every route of the demo, with its state.
pub fn app(config: &DemoConfig) -> (SecureRouter<AppState>, AppState) {
    let mut state = AppState::seeded(config);
    let audit = config.audit_file.as_deref().map(start_audit);
    state.audit = audit.clone();
    let router = SecureRouter::new(security(config, audit))
        .route("/api/health", get(health))
        .route("/api/login", post(login))
        .route("/api/users/me", get(me))
        .route("/api/users/{user_id}", get(show_user).put(update_user))
        .route("/api/users/me/avatar", put(avatars::put_avatar))
        .route("/api/users/me/avatar/import", post(avatars::import_avatar))
        .route("/api/users/{user_id}/avatar", get(avatars::show_avatar))
        .route("/api/orders", get(list_orders))
        .route("/api/orders/{order_id}", get(show_order))
        .route("/api/articles", get(list_articles).post(create_article))
        .route("/api/admin/users", get(admin_list_users))
        .route("/api/reports", get(reports))
        .route("/api/webhooks/{source}", post(receive_webhook))
        .route("/api/hooks/github", post(hooks::github_hook))
        .route("/api/hooks/stripe", post(hooks::stripe_hook))
        .route("/api/hooks/standard", post(hooks::standard_hook))
        .route("/api/partner/orders", post(hooks::partner_order))
        // Version 1: one route deprecated (still served, pointing to its successor), one
        // retired (410).
        .route("/api/v1/users/me", get(me_v1))
        .route("/api/v1/orders", get(list_orders_v1))
        .route("/api/admin/openapi.json", get(openapi_document))
        .route("/api/graphql", post(graphql_endpoint))
        .route("/api/internal/metrics", get(mtls::metrics));
    state.openapi = openapi(&router).into();
    (router, state)
}

/// The OpenAPI 3.1 document of the demo, generated from the routes' contracts, with what only
/// the handlers know: a refused login is 401.
pub fn openapi(router: &SecureRouter<AppState>) -> String {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let mut document = router.inventory().openapi(
        "secure-endpoint demo",
        env!("CARGO_PKG_VERSION"),
        "https://127.0.0.1:8443",
    );
    if let Some(operation) = document
        .paths
        .paths
        .get_mut("/api/login")
        .and_then(|item| item.post.as_mut())
    {
        let refused = ResponseBuilder::new()
            .description(
                "Wrong email or password: the same answer for either, and for an unknown email.",
            )
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build();
        operation
            .responses
            .responses
            .insert("401".to_owned(), refused.into());
    }
    // An avatar is answered as the image it is, not JSON.
    if let Some(operation) = document
        .paths
        .paths
        .get_mut("/api/users/{user_id}/avatar")
        .and_then(|item| item.get.as_mut())
    {
        let mut image = ResponseBuilder::new().description("The avatar's bytes, as stored.");
        for media in ["image/png", "image/jpeg", "image/webp"] {
            image = image.content(media, ContentBuilder::new().build());
        }
        operation
            .responses
            .responses
            .insert("200".to_owned(), image.build().into());
    }
    document
        .to_pretty_json()
        .expect("an OpenAPI document serializes")
}

/// The API description, for administrators only: an inventory of every endpoint is a map for
/// attackers too.
#[secure_endpoint(auth = "jwt", roles = ["admin"])]
async fn openapi_document(State(state): State<AppState>) -> axum::response::Response {
    axum::response::IntoResponse::into_response((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        state.openapi.to_string(),
    ))
}

// ---- handlers -------------------------------------------------------------------------------

#[derive(Serialize, SafeResponse, utoipa::ToSchema)]
struct Health {
    #[schema(max_length = 16)]
    status: &'static str,
}

/// Liveness probe.
#[secure_endpoint(auth = "none", reason = "liveness probe, polled by the load balancer")]
async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Login credentials.
#[derive(Deserialize, garde::Validate, utoipa::ToSchema)]
struct LoginRequest {
    #[garde(length(min = 3, max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    email: String,
    #[garde(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    password: String,
}

#[derive(Serialize, SafeResponse, utoipa::ToSchema)]
struct TokenResponse {
    /// The bearer token: handing it to the client is the point of logging in.
    #[safe(expose)]
    #[schema(max_length = 8192)]
    token: String,
    /// `"Bearer"`, or `"DPoP"` when the login carried a DPoP proof and the token is bound to
    /// its key (RFC 9449 §5): describes the token, does not hold it.
    #[schema(max_length = 16)]
    token_type: &'static str,
    #[schema(maximum = 86_400_u64)]
    expires_in: u64,
}

fn invalid_credentials() -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED)
        .with_code("invalid_credentials")
        .with_detail("Invalid email or password.")
        .with_header(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer realm=\"api\""),
        )
}

/// Exchanges email and password for a JWT. At most 5 failed attempts per client IP and email
/// every 15 minutes (successes are not counted), on top of 20 attempts per minute per IP. The
/// attempt is reserved before the password hash is checked, so concurrent wrong passwords
/// cannot get more than 5 checks between them; the email is normalized
/// ([`normalize_identifier`]) for the throttle and the account lookup alike.
///
/// The login flow: 100 attempts per client IP an hour and 1000 a minute in all; credential
/// stuffing (10 emails failing from one client) and spraying (one email failing from 10
/// clients) refuse the client, or the email, for 15 minutes ([`STUFFING_THRESHOLD`]).
///
/// With a DPoP proof (RFC 9449 §5: `DPoP` header, `htm` `POST`, `htu` this URL) the token is
/// bound to the proof's key (`cnf.jkt`, `token_type: "DPoP"`), and is then accepted only with a
/// proof of that key on each request; a refused proof is a 400 `invalid_dpop_proof`, before
/// any password is checked. Without one, a plain bearer token as before.
#[secure_endpoint(
    auth = "none",
    rate = "20/1m",
    fields = ["email", "password"],
    reason = "exchanges credentials for a token",
    flow = "login"
)]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    attempts: FlowAttempts,
    method: axum::http::Method,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    headers: axum::http::HeaderMap,
    Json(req): Json<LoginRequest>,
) -> Result<Json<TokenResponse>, Problem> {
    // A client or email cooling down after stuffing is refused before any password hash.
    attempts.check(&req.email).await?;
    let dpop_jkt = state
        .dpop
        .token_request(&method, &uri, &headers)
        .await
        .map_err(|refusal| state.dpop.token_problem(&refusal))?;
    let email = normalize_identifier(&req.email);
    // The client as the perimeter resolved it (behind trusted proxies too), not the peer.
    // Counted as a failure from here on, unless given back below.
    let attempt = state.login_failures.reserve(&ip, &email)?;
    let user = read(&state.users)
        .values()
        .find(|u| u.email == email)
        .cloned();
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.to_string());
    let password = req.password;
    let verified = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    match user {
        Some(user) if verified => {
            attempt.succeeded();
            attempts.succeeded(&email).await;
            tracing::info!(target: "demo::auth", user_id = %user.id, "login succeeded");
            let roles = std::slice::from_ref(&user.role);
            let (token, token_type) = match &dpop_jkt {
                Some(jkt) => (state.issuer.issue_bound(&user.id, roles, &[], jkt), "DPoP"),
                None => (state.issuer.issue(&user.id, roles, &[]), "Bearer"),
            };
            Ok(Json(TokenResponse {
                token,
                token_type,
                expires_in: TOKEN_TTL.as_secs(),
            }))
        }
        _ => {
            attempt.failed();
            tracing::info!(target: "demo::auth", ip = %ip, "login failed");
            // The failure that trips the stuffing guard is answered with its 429.
            attempts.failed(&email).await?;
            Err(invalid_credentials())
        }
    }
}

/// The caller's own profile: with a plain bearer token, or with a DPoP-bound token and a
/// proof of its key (which is never accepted as a bearer token).
#[secure_endpoint(auth = ["jwt", "dpop"], allow = "authenticated")]
async fn me(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<UserView>, Problem> {
    read(&state.users)
        .get(principal.subject())
        .map(|u| Json(UserView::from(u)))
        .ok_or_else(Problem::not_found)
}

/// Version 1 of the caller's profile: deprecated, answered with `Deprecation`, `Sunset` and a
/// `Link` to `GET /api/users/me` until its sunset.
#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    deprecated = "2026-01-01",
    sunset = "2027-06-30",
    successor = "/api/users/me"
)]
async fn me_v1(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<UserView>, Problem> {
    read(&state.users)
        .get(principal.subject())
        .map(|u| Json(UserView::from(u)))
        .ok_or_else(Problem::not_found)
}

/// Version 1 of the order list: retired, 410 for everyone.
#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    deprecated = "2025-01-01",
    sunset = "2025-12-31",
    successor = "/api/orders"
)]
async fn list_orders_v1() -> Problem {
    // Never reached after the sunset: the router answers 410 before authentication.
    Problem::new(StatusCode::GONE)
}

/// A user's profile, for that user only.
#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn show_user(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> Result<Json<UserView>, Problem> {
    read(&state.users)
        .get(&user_id)
        .map(|u| Json(UserView::from(u)))
        .ok_or_else(Problem::not_found)
}

/// What a user may change about themself: nothing else gets through (no `role`).
#[derive(Deserialize, garde::Validate, utoipa::ToSchema)]
struct UpdateUser {
    #[garde(inner(length(min = 1, max = 100)))]
    #[schema(min_length = 1, max_length = 100)]
    name: Option<String>,
    /// An address as the handler accepts it (after normalization: no surrounding space).
    #[garde(inner(length(min = 3, max = 254), contains("@")))]
    #[schema(min_length = 3, max_length = 254, pattern = r"^[^\s@]+@[^\s@]+$")]
    email: Option<String>,
}

/// 409: the address belongs to another account. Says no more than that: not whose.
fn email_taken() -> Problem {
    Problem::new(StatusCode::CONFLICT)
        .with_code("email_taken")
        .with_detail("This email address is already in use.")
}

/// Updates the caller's own name and email. Emails are unique in their normalized form (case,
/// surrounding whitespace, Unicode NFKC: [`normalize_identifier`]), stored in that form; an
/// address another account holds is a 409. The check and the write are one step under the
/// lock, so two concurrent updates cannot both take one address.
#[secure_endpoint(auth = "jwt", owner = "user_id", fields = ["name", "email"])]
async fn update_user(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    Json(update): Json<UpdateUser>,
) -> Result<Json<UserView>, Problem> {
    let email = match update.email.as_deref().map(normalize_identifier) {
        Some(email) if email.chars().count() < 3 || !email.contains('@') => {
            return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
                .with_code("validation_failed")
                .with_detail("The request body failed validation.")
                .with_errors(vec![secure_endpoint::FieldError {
                    field: "email".into(),
                    message: "not an email address".into(),
                }]));
        }
        email => email,
    };
    let mut users = write(&state.users);
    if !users.contains_key(&user_id) {
        return Err(Problem::not_found());
    }
    if let Some(email) = &email {
        if users.values().any(|u| u.id != user_id && u.email == *email) {
            return Err(email_taken());
        }
    }
    let user = users.get_mut(&user_id).ok_or_else(Problem::not_found)?;
    if let Some(name) = update.name {
        user.name = name;
    }
    if let Some(email) = email {
        user.email = email;
    }
    Ok(Json(UserView::from(&*user)))
}

/// The caller's own orders.
#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn list_orders(State(state): State<AppState>, principal: Principal) -> Json<List<Order>> {
    let mut mine: Vec<Order> = read(&state.orders)
        .values()
        .filter(|o| o.user_id == principal.subject())
        .cloned()
        .collect();
    mine.sort_by(|a, b| a.item.cmp(&b.item));
    Json(List::new(mine))
}

impl OwnedResource<AppState> for Order {
    async fn load(state: &AppState, id: &str) -> Result<Option<Self>, Problem> {
        Ok(read(&state.orders).get(id).cloned())
    }

    fn owner_id(&self) -> &str {
        &self.user_id
    }
}

/// One order, loaded and checked against the caller before this runs.
#[secure_endpoint(auth = "jwt", owner = "order_id", loader = Order)]
async fn show_order(Owned(order): Owned<Order>) -> Json<Order> {
    Json(order)
}

/// A new article.
#[derive(Deserialize, garde::Validate, utoipa::ToSchema)]
struct NewArticle {
    #[garde(length(chars, min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    #[garde(length(chars, max = 50_000))]
    #[schema(max_length = 50_000)]
    body: String,
    #[serde(default)]
    #[garde(length(max = 10), inner(length(chars, min = 1, max = 50)))]
    #[schema(value_type = Vec<TagName>, max_items = 10)]
    tags: Vec<String>,
    #[serde(default)]
    #[garde(skip)]
    published: bool,
}

/// A tag as [`NewArticle`] takes it: 1 to 50 characters (its schema only).
struct TagName;

impl utoipa::PartialSchema for TagName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(50))
            .into()
    }
}

impl utoipa::ToSchema for TagName {}

/// Publishes an article by the caller.
#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "30/1m", fields = ["title", "body", "tags", "published"])]
async fn create_article(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewArticle>,
) -> (StatusCode, Json<Article>) {
    let mut articles = write(&state.articles);
    let article = Article {
        id: uuid::Uuid::new_v4().to_string(),
        author_id: principal.subject().to_owned(),
        title: new.title,
        body: new.body,
        tags: new.tags,
        published: new.published,
        likes: 0,
        seq: articles.len() as u64,
    };
    articles.push(article.clone());
    (StatusCode::CREATED, Json(article))
}

/// Sort orders of the article list.
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Sort {
    #[default]
    Newest,
    Oldest,
    Popular,
}

/// Pagination of the article list.
#[derive(Deserialize, garde::Validate)]
struct ArticleQuery {
    #[serde(default = "one")]
    #[garde(range(min = 1, max = 1000))]
    page: u32,
    #[serde(default = "twenty")]
    #[garde(range(min = 1, max = 100))]
    limit: u32,
    #[serde(default)]
    #[garde(skip)]
    sort: Sort,
}

fn one() -> u32 {
    1
}
fn twenty() -> u32 {
    20
}

#[derive(Serialize, SafeResponse, utoipa::ToSchema)]
struct ArticlePage {
    #[schema(max_items = 100)]
    data: Vec<Article>,
    #[schema(format = Int64, maximum = 100_u64)]
    count: usize,
    #[schema(maximum = 1000_u32)]
    page: u32,
    #[schema(maximum = 100_u32)]
    limit: u32,
}

/// Articles, paginated and sorted.
#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn list_articles(
    State(state): State<AppState>,
    Query(q): Query<ArticleQuery>,
) -> Json<ArticlePage> {
    let mut all = read(&state.articles).clone();
    match q.sort {
        Sort::Newest => all.sort_by_key(|a| std::cmp::Reverse(a.seq)),
        Sort::Oldest => all.sort_by_key(|a| a.seq),
        Sort::Popular => all.sort_by_key(|a| std::cmp::Reverse(a.likes)),
    }
    let start = (q.page as usize - 1) * q.limit as usize;
    let data: Vec<Article> = all.into_iter().skip(start).take(q.limit as usize).collect();
    Json(ArticlePage {
        count: data.len(),
        data,
        page: q.page,
        limit: q.limit,
    })
}

/// Every user, for administrators.
#[secure_endpoint(auth = "jwt", roles = ["admin"])]
async fn admin_list_users(State(state): State<AppState>) -> Json<List<UserView>> {
    let mut users: Vec<UserView> = read(&state.users).values().map(UserView::from).collect();
    users.sort_by(|a, b| a.email.cmp(&b.email));
    Json(List::new(users))
}

#[derive(Serialize, SafeResponse, utoipa::ToSchema)]
struct Report {
    #[schema(max_length = 64)]
    generated_for: String,
    #[schema(format = Int64, maximum = 9_007_199_254_740_991_u64)]
    users: usize,
    #[schema(format = Int64, maximum = 9_007_199_254_740_991_u64)]
    orders: usize,
    #[schema(format = Int64, maximum = 9_007_199_254_740_991_u64)]
    articles: usize,
}

/// Counts for the reporting integration: an API key with scope `reports:read`, never a user token.
#[secure_endpoint(auth = "api_key", scopes = ["reports:read"])]
async fn reports(State(state): State<AppState>, principal: Principal) -> Json<Report> {
    Json(Report {
        generated_for: principal.subject().to_owned(),
        users: read(&state.users).len(),
        orders: read(&state.orders).len(),
        articles: read(&state.articles).len(),
    })
}

/// The most deliveries kept in memory.
const MAX_DELIVERIES: usize = 1000;

/// What is kept of a delivery (the payload is not).
#[derive(Clone)]
struct Delivery {
    source: String,
}

/// A webhook event: its name and an opaque payload.
#[derive(Deserialize, garde::Validate, utoipa::ToSchema)]
struct WebhookEvent {
    #[garde(length(min = 1, max = 64), ascii)]
    #[schema(min_length = 1, max_length = 64, pattern = "^[\\x00-\\x7f]*$")]
    event: String,
    #[garde(skip)]
    #[schema(value_type = Object)]
    #[allow(dead_code)]
    data: serde_json::Value,
}

#[derive(Serialize, SafeResponse, utoipa::ToSchema)]
struct WebhookReceipt {
    received: bool,
    #[schema(max_length = 32)]
    source: String,
    #[schema(max_length = 64)]
    event: String,
    #[schema(format = Int64, maximum = 1000_u64)]
    deliveries: usize,
}

/// Webhook deliveries, HMAC-signed by the sender (docs/hmac.md): an altered body, method, path
/// or query, a timestamp outside five minutes, or a replayed nonce is refused with 401.
#[secure_endpoint(auth = "hmac", allow = "authenticated", rate = "120/1m", fields = ["event", "data"])]
async fn receive_webhook(
    State(state): State<AppState>,
    Path(source): Path<String>,
    Json(event): Json<WebhookEvent>,
) -> Result<(StatusCode, Json<WebhookReceipt>), Problem> {
    let known = source.len() <= 32
        && !source.is_empty()
        && source
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !known {
        return Err(Problem::not_found());
    }
    let mut deliveries = write(&state.deliveries);
    if deliveries.len() == MAX_DELIVERIES {
        deliveries.remove(0);
    }
    deliveries.push(Delivery {
        source: source.clone(),
    });
    let count = deliveries.iter().filter(|d| d.source == source).count();
    Ok((
        StatusCode::ACCEPTED,
        Json(WebhookReceipt {
            received: true,
            source,
            event: event.event,
            deliveries: count,
        }),
    ))
}

/// Users, orders and articles over GraphQL, under the REST routes' rules (see [`graphql`]):
/// any authenticated caller, 60 operations a minute (each operation of a batch counted), the
/// limits of [`graphql::GRAPHQL_LIMITS`].
#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "60/1m", graphql = graphql::GRAPHQL_LIMITS)]
async fn graphql_endpoint(
    State(state): State<AppState>,
    request: secure_endpoint::graphql::GraphQlRequest,
) -> Result<secure_endpoint::graphql::GraphQlResponse, Problem> {
    state.graphql.execute(request).await
}
