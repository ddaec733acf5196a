//! Profiles: `GET /api/profiles/{username}`, `POST`/`DELETE .../follow`.

use axum::extract::{Path, State};
use secure_endpoint::{secure_endpoint, Json, Principal, Problem};

use super::tokens::{user_id, viewer};
use super::{problem, AppState};
use crate::model::ProfileEnvelope;

/// A user's profile; `following` is the caller's, when a token is sent.
#[secure_endpoint(auth = optional("jwt"))]
pub(super) async fn get_profile(
    State(state): State<AppState>,
    principal: Option<Principal>,
    Path(username): Path<String>,
) -> Result<Json<ProfileEnvelope>, Problem> {
    state
        .db
        .profile(&username, viewer(principal.as_ref())?)
        .await
        .map_err(problem)?
        .map(|profile| Json(profile.into()))
        .ok_or_else(Problem::not_found)
}

/// Follows a user. Some clients (the official suite among them) send a body with it, which
/// means nothing here: read and discarded under the body limit.
#[secure_endpoint(auth = "jwt", allow = "authenticated", body = "ignored")]
pub(super) async fn follow(
    State(state): State<AppState>,
    principal: Principal,
    Path(username): Path<String>,
) -> Result<Json<ProfileEnvelope>, Problem> {
    let me = user_id(&principal)?;
    state
        .db
        .follow(me, &username)
        .await
        .map_err(problem)?
        .map(|profile| Json(profile.into()))
        .ok_or_else(Problem::not_found)
}

/// Stops following a user.
#[secure_endpoint(auth = "jwt", allow = "authenticated")]
pub(super) async fn unfollow(
    State(state): State<AppState>,
    principal: Principal,
    Path(username): Path<String>,
) -> Result<Json<ProfileEnvelope>, Problem> {
    let me = user_id(&principal)?;
    state
        .db
        .unfollow(me, &username)
        .await
        .map_err(problem)?
        .map(|profile| Json(profile.into()))
        .ok_or_else(Problem::not_found)
}
