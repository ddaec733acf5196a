//! Comments: `GET`/`POST /api/articles/{slug}/comments`, `DELETE .../comments/{id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use secure_endpoint::{secure_endpoint, Json, Principal, Problem};

use super::tokens::user_id;
use super::{problem, AppState};
use crate::model::{CommentEnvelope, CommentList, NewCommentRequest};

/// An article's comments, oldest first.
#[secure_endpoint(
    auth = "none",
    reason = "comments are public (RealWorld: optional authentication)"
)]
pub(super) async fn list_comments(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<CommentList>, Problem> {
    state
        .db
        .comments(&slug, None)
        .await
        .map_err(problem)?
        .map(|comments| Json(CommentList { comments }))
        .ok_or_else(Problem::not_found)
}

/// Comments on an article as the caller.
#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "60/1h", fields = ["comment"])]
pub(super) async fn add_comment(
    State(state): State<AppState>,
    principal: Principal,
    Path(slug): Path<String>,
    Json(req): Json<NewCommentRequest>,
) -> Result<Json<CommentEnvelope>, Problem> {
    let me = user_id(&principal)?;
    state
        .db
        .add_comment(me, &slug, &req.comment.body)
        .await
        .map_err(problem)?
        .map(|comment| Json(CommentEnvelope { comment }))
        .ok_or_else(Problem::not_found)
}

/// Deletes the caller's own comment on the article in the path (204).
#[secure_endpoint(auth = "jwt", allow = "authenticated")]
pub(super) async fn delete_comment(
    State(state): State<AppState>,
    principal: Principal,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<StatusCode, Problem> {
    let me = user_id(&principal)?;
    match state
        .db
        .delete_comment(me, &slug, id)
        .await
        .map_err(problem)?
    {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(Problem::not_found()),
    }
}
