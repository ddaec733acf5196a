//! Profiles: `GET /api/profiles/{username}`, `POST`/`DELETE .../follow`.

use axum::extract::{Path, State};
use secure_endpoint::routing::{get, post};
use secure_endpoint::{secure_endpoint, Json, Principal, Problem, SecureRouter};

use super::tokens::{user_id, viewer};
use super::{found, AppState};
use crate::model::ProfileEnvelope;

/// A user's profile; `following` is the caller's, when a token is sent.
#[secure_endpoint(auth = optional("jwt"))]
pub(super) async fn get_profile(
    State(state): State<AppState>,
    principal: Option<Principal>,
    Path(username): Path<String>,
) -> Result<Json<ProfileEnvelope>, Problem> {
    let profile = found(
        state
            .db
            .profile(&username, viewer(principal.as_ref())?)
            .await,
    )?;
    Ok(Json(profile.into()))
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
    let profile = found(state.db.follow(me, &username).await)?;
    Ok(Json(profile.into()))
}

/// Stops following a user.
#[secure_endpoint(auth = "jwt", allow = "authenticated")]
pub(super) async fn unfollow(
    State(state): State<AppState>,
    principal: Principal,
    Path(username): Path<String>,
) -> Result<Json<ProfileEnvelope>, Problem> {
    let me = user_id(&principal)?;
    let profile = found(state.db.unfollow(me, &username).await)?;
    Ok(Json(profile.into()))
}

/// This module's routes (`GET /profiles/{username}`, `POST`/`DELETE /profiles/{username}/follow`), relative to where they are nested (`/api`).
pub(super) fn routes() -> SecureRouter<AppState> {
    SecureRouter::module()
        .route("/profiles/{username}", get(get_profile))
        .route("/profiles/{username}/follow", post(follow).delete(unfollow))
}
