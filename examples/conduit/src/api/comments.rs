//! Comments: `GET`/`POST /api/articles/{slug}/comments`, `DELETE .../comments/{id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use secure_endpoint::routing::{delete, get};
use secure_endpoint::{
    secure_endpoint, Json, LoadContext, LoadOwned, Owned, Principal, Problem, SecureRouter,
};

use super::tokens::{user_id, viewer};
use super::{deleted, found, problem, AppState};
use crate::model::{CommentEnvelope, CommentList, NewCommentRequest};

/// A comment's author, loaded for the ownership check of delete: the comment must be on the
/// article in the path, or it is not found.
pub(super) struct CommentAuthor {
    slug: String,
    id: i64,
    author: String,
    author_id: i64,
}

impl LoadOwned<AppState> for CommentAuthor {
    async fn load(mut request: LoadContext<'_, AppState>) -> Result<Option<Self>, Problem> {
        let Ok((slug, id)) = request.path::<(String, i64)>().await else {
            return Ok(None);
        };
        let found = request
            .state()
            .db
            .comment_ref(&slug, id)
            .await
            .map_err(problem)?;
        Ok(found.map(|comment| CommentAuthor {
            slug,
            id: comment.id,
            author: comment.author_id.to_string(),
            author_id: comment.author_id,
        }))
    }

    fn owner_id(&self) -> &str {
        &self.author
    }
}

/// An article's comments, newest first.
#[secure_endpoint(auth = optional("jwt"))]
pub(super) async fn list_comments(
    State(state): State<AppState>,
    principal: Option<Principal>,
    Path(slug): Path<String>,
) -> Result<Json<CommentList>, Problem> {
    let comments = found(state.db.comments(&slug, viewer(principal.as_ref())?).await)?;
    Ok(Json(CommentList { comments }))
}

/// Comments on an article as the caller.
#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "60/1h", fields = ["comment.body"])]
pub(super) async fn add_comment(
    State(state): State<AppState>,
    principal: Principal,
    Path(slug): Path<String>,
    Json(req): Json<NewCommentRequest>,
) -> Result<Json<CommentEnvelope>, Problem> {
    let me = user_id(&principal)?;
    let comment = found(state.db.add_comment(me, &slug, &req.comment.body).await)?;
    Ok(Json(CommentEnvelope { comment }))
}

/// Deletes the caller's own comment on the article in the path (204).
#[secure_endpoint(auth = "jwt", owner = "id", loader = CommentAuthor, owner_status = 403)]
pub(super) async fn delete_comment(
    State(state): State<AppState>,
    Owned(comment): Owned<CommentAuthor>,
) -> Result<StatusCode, Problem> {
    deleted(
        state
            .db
            .delete_comment(comment.author_id, &comment.slug, comment.id)
            .await,
    )
}

/// This module's routes (an article's comments), relative to where they are nested (`/api`).
pub(super) fn routes() -> SecureRouter<AppState> {
    SecureRouter::module()
        .route(
            "/articles/{slug}/comments",
            get(list_comments).post(add_comment),
        )
        .route("/articles/{slug}/comments/{id}", delete(delete_comment))
}
