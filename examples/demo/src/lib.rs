//! The seed-parity demo API, secured with `#[secure_endpoint]`.
//!
//! [`app`] builds the demo's routes (listed in the README) on a [`SecureRouter`]; `main.rs` serves
//! them over HTTPS with [`server`]. Tests serve the same app the same way on `127.0.0.1:0`.

pub mod avatars;
mod config;
pub mod graphql;
pub mod hooks;
pub mod mtls;
mod routes;
mod security;
pub mod server;

pub use config::{
    DemoConfig, ABUSE_COOL_DOWN, AUDIENCE, ENUMERATION_THRESHOLD, ENUMERATION_WINDOW, ISSUER,
    SEEDED_USERS, STUFFING_THRESHOLD, STUFFING_WINDOW, TOKEN_TTL, WEBHOOK_KEY_ID,
};
pub use security::{security, start_audit};

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use axum::extract::State;
use secure_endpoint::audit::Auditor;
use secure_endpoint::dpop::DpopVerifier;
use secure_endpoint::events::SecurityEvent;
use secure_endpoint::jwt::JwtIssuer;
use secure_endpoint::rate::FailureLimiter;
use secure_endpoint::routing::{get, post, put};
use secure_endpoint::{secure_endpoint, Json, Problem, SafeResponse, SecureRouter};
use serde::Serialize;

use routes::account::{login, me, me_v1};
use routes::articles::{create_article, list_articles, TagName};
use routes::orders::{list_orders, list_orders_v1, show_order};
use routes::reports::reports;
use routes::users::{admin_list_users, show_user, update_user};
use routes::webhooks::receive_webhook;

/// A stored user. The password hash never leaves this struct: responses use [`UserView`].
#[derive(Clone)]
struct User {
    id: String,
    /// Unique, in its [`normalize_identifier`](secure_endpoint::rate::normalize_identifier)
    /// form: logins find the account by that form, and the login throttle counts by it.
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

/// What is kept of a delivery (the payload is not).
#[derive(Clone)]
struct Delivery {
    source: String,
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
