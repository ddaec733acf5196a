//! `GET /api/tags`: public.

use axum::extract::State;
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Json, Problem, SecureRouter};

use super::{problem, AppState};
use crate::model::TagList;
use crate::Db;

/// The tags of existing articles, most used first.
#[secure_endpoint(
    auth = "none",
    reason = "the public tag list (RealWorld: GET /api/tags, no authentication)"
)]
pub(super) async fn list_tags(State(db): State<Db>) -> Result<Json<TagList>, Problem> {
    db.tags().await.map(Json).map_err(problem)
}

/// This module's routes (`GET /tags`), relative to where they are nested (`/api`).
pub(super) fn routes() -> SecureRouter<AppState> {
    SecureRouter::module().route("/tags", get(list_tags))
}
