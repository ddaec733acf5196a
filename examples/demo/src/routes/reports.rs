//! Reports for the reporting integration (an API key with a scope).

use axum::extract::State;
use secure_endpoint::{secure_endpoint, Json, Principal, SafeResponse};
use serde::Serialize;

use crate::{read, AppState};

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
pub(crate) async fn reports(State(state): State<AppState>, principal: Principal) -> Json<Report> {
    Json(Report {
        generated_for: principal.subject().to_owned(),
        users: read(&state.users).len(),
        orders: read(&state.orders).len(),
        articles: read(&state.articles).len(),
    })
}
