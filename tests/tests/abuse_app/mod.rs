//! The app of the abuse tests (`abuse.rs`, `abuse_redis.rs`): orders owned by principals (the
//! enumeration target), a login flow reporting its failures through `FlowAttempts`, and a
//! search flow with budgets across two endpoints; behind a trusted proxy on loopback so that
//! `X-Forwarded-For` chooses the client address.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use secure_endpoint::abuse::{Enumeration, FlowAttempts, FlowBudget, Stuffing};
use secure_endpoint::events::{EventKind, EventSink, SecurityEvent, SinkFull};
use secure_endpoint::policy::RateSpec;
use secure_endpoint::rate::normalize_identifier;
use secure_endpoint::routing::{get, post};
use secure_endpoint::{
    secure_endpoint, Json, List, Owned, OwnedResource, Principal, Problem, SafeResponse,
    SecureRouter, Security, SecurityBuilder,
};
use serde::{Deserialize, Serialize};

use crate::common;

/// Distinct objects not found before a caller is refused.
pub(crate) const ENUMERATION_THRESHOLD: u32 = 20;
/// Distinct identifiers failing from one client, or clients failing for one identifier.
pub(crate) const STUFFING_THRESHOLD: u32 = 10;
/// The one right password.
pub(crate) const PASSWORD: &str = "correct horse battery staple";

#[derive(Debug, Clone, Serialize, SafeResponse)]
pub(crate) struct Order {
    id: String,
    owner: String,
}

#[derive(Clone)]
pub(crate) struct Shop {
    orders: Arc<HashMap<String, Order>>,
}

impl Shop {
    fn seeded() -> Self {
        let mut orders = HashMap::new();
        for (owner, prefix) in [(common::ALICE, "alice"), (common::BOB, "bob")] {
            for n in 1..=5 {
                let id = format!("{prefix}-order-{n}");
                orders.insert(
                    id.clone(),
                    Order {
                        id,
                        owner: owner.to_owned(),
                    },
                );
            }
        }
        Shop {
            orders: Arc::new(orders),
        }
    }
}

impl OwnedResource<Shop> for Order {
    async fn load(state: &Shop, id: &str) -> Result<Option<Self>, Problem> {
        Ok(state.orders.get(id).cloned())
    }

    fn owner_id(&self) -> &str {
        &self.owner
    }
}

#[secure_endpoint(auth = "jwt", owner = "order_id", loader = Order)]
async fn show_order(Owned(order): Owned<Order>) -> Json<Order> {
    Json(order)
}

#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn list_orders(State(shop): State<Shop>, principal: Principal) -> Json<List<Order>> {
    let mine = shop
        .orders
        .values()
        .filter(|o| o.owner == principal.subject())
        .cloned()
        .collect();
    Json(List::new(mine))
}

#[derive(Debug, Serialize, SafeResponse)]
pub(crate) struct Product {
    id: u32,
}

/// Public, with a path parameter: anonymous enumeration is counted per client IP.
#[secure_endpoint(auth = "none")]
async fn show_product(Path(id): Path<u32>) -> Result<Json<Product>, Problem> {
    if id < 10 {
        Ok(Json(Product { id }))
    } else {
        Err(Problem::not_found())
    }
}

#[derive(Debug, Deserialize, garde::Validate)]
pub(crate) struct Login {
    #[garde(length(min = 1, max = 254))]
    email: String,
    #[garde(length(min = 1, max = 1024))]
    password: String,
}

#[derive(Debug, Serialize, SafeResponse)]
pub(crate) struct Session {
    email: String,
}

#[secure_endpoint(auth = "none", flow = "login", fields = ["email", "password"])]
async fn login(attempts: FlowAttempts, Json(body): Json<Login>) -> Result<Json<Session>, Problem> {
    attempts.check(&body.email).await?;
    let email = normalize_identifier(&body.email);
    if email == "alice@example.com" && body.password == PASSWORD {
        attempts.succeeded(&body.email).await;
        return Ok(Json(Session { email }));
    }
    attempts.failed(&body.email).await?;
    Err(Problem::new(http::StatusCode::UNAUTHORIZED).with_detail("Wrong email or password."))
}

#[secure_endpoint(auth = "none", flow = "search")]
async fn search() -> &'static str {
    "results"
}

#[secure_endpoint(auth = "jwt", allow = "authenticated", flow = "search")]
async fn export() -> &'static str {
    "export"
}

/// A flow no `Security` here configures.
#[secure_endpoint(auth = "none", flow = "checkout")]
pub(crate) async fn checkout() -> &'static str {
    "ordered"
}

/// The security events an instance sends to its sink.
#[derive(Debug, Default)]
pub(crate) struct Events(pub(crate) Mutex<Vec<SecurityEvent>>);

impl EventSink for Events {
    fn record(&self, event: SecurityEvent) -> Result<(), SinkFull> {
        self.0.lock().unwrap().push(event);
        Ok(())
    }
}

impl Events {
    /// The events of `kind` so far.
    pub(crate) fn of(&self, kind: EventKind) -> Vec<SecurityEvent> {
        let events = self.0.lock().unwrap();
        events.iter().filter(|e| e.kind == kind).cloned().collect()
    }
}

/// The test app's configuration with the detectors on, sending events to `events`.
pub(crate) fn security(events: Arc<Events>) -> SecurityBuilder {
    common::security()
        .trusted_proxies(["127.0.0.1/32"])
        .events(events)
        .enumeration(Enumeration::new().threshold(ENUMERATION_THRESHOLD))
        .flow(
            "login",
            FlowBudget::new()
                .per_ip(RateSpec::new(1_000, Duration::from_secs(60)))
                .stuffing(
                    Stuffing::new()
                        .identifiers_per_client(STUFFING_THRESHOLD)
                        .clients_per_identifier(STUFFING_THRESHOLD),
                ),
        )
        .flow(
            "search",
            FlowBudget::new()
                .per_ip(RateSpec::new(5, Duration::from_secs(3600)))
                .per_principal(RateSpec::new(3, Duration::from_secs(3600)))
                .total(RateSpec::new(12, Duration::from_secs(3600))),
        )
}

pub(crate) fn router(security: Security) -> SecureRouter<Shop> {
    SecureRouter::new(security)
        .route("/orders", get(list_orders))
        .route("/orders/{order_id}", get(show_order))
        .route("/products/{id}", get(show_product))
        .route("/login", post(login))
        .route("/search", get(search))
        .route("/export", get(export))
}

/// Serves the app under `security` on a fresh loopback port: its base URL.
pub(crate) async fn start(security: Security) -> String {
    let addr = common::serve(router(security).with_state::<()>(Shop::seeded())).await;
    format!("http://{addr}")
}
