//! Webhook deliveries, HMAC-signed by their sender.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use secure_endpoint::{secure_endpoint, Json, Problem, SafeResponse};
use serde::{Deserialize, Serialize};

use crate::{write, AppState, Delivery};

/// The most deliveries kept in memory.
const MAX_DELIVERIES: usize = 1000;

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
pub(crate) async fn receive_webhook(
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
