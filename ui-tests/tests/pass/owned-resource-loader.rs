use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::routing::get;
use secure_endpoint::{
    secure_endpoint, Json, Owned, OwnedResource, Problem, SafeResponse, SecureRouter, Security,
};

#[derive(Clone, Default)]
struct AppState {
    orders: Arc<HashMap<String, Order>>,
}

#[derive(Clone, serde::Serialize, SafeResponse)]
struct Order {
    user_id: String,
    item: String,
}

impl OwnedResource<AppState> for Order {
    async fn load(state: &AppState, id: &str) -> Result<Option<Self>, Problem> {
        Ok(state.orders.get(id).cloned())
    }

    fn owner_id(&self) -> &str {
        &self.user_id
    }
}

#[secure_endpoint(auth = "jwt", owner = "order_id", loader = Order)]
async fn show_order(State(_state): State<AppState>, Owned(order): Owned<Order>) -> Json<Order> {
    Json(order)
}

fn app() -> axum::Router {
    let verifier = JwtVerifier::hs256(b"a secret of at least thirty-two bytes!")
        .unwrap()
        .issuer("https://issuer.example")
        .audience("ui-tests")
        .build()
        .unwrap();
    SecureRouter::new(Security::builder().jwt(verifier).build())
        .route("/orders/{order_id}", get(show_order))
        .with_state(AppState::default())
}

fn main() {
    let _ = app();
}
