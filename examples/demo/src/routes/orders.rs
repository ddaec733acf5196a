//! Orders: the caller's own, one loaded and checked against the caller, and the retired v1 list.

use axum::extract::State;
use axum::http::StatusCode;
use secure_endpoint::{secure_endpoint, Json, List, Owned, OwnedResource, Principal, Problem};

use crate::{read, AppState, Order};

/// The caller's own orders.
#[secure_endpoint(auth = "jwt", allow = "authenticated")]
pub(crate) async fn list_orders(
    State(state): State<AppState>,
    principal: Principal,
) -> Json<List<Order>> {
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
pub(crate) async fn show_order(Owned(order): Owned<Order>) -> Json<Order> {
    Json(order)
}
/// Version 1 of the order list: retired, 410 for everyone.
#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    deprecated = "2025-01-01",
    sunset = "2025-12-31",
    successor = "/api/orders"
)]
pub(crate) async fn list_orders_v1() -> Problem {
    // Never reached after the sunset: the router answers 410 before authentication.
    Problem::new(StatusCode::GONE)
}
