//! Comments: `GET`/`POST /api/articles/{slug}/comments`, `DELETE .../comments/{id}`.

use garde::Validate;
use secure_endpoint::SafeResponse;
use serde::{Deserialize, Serialize};

use super::{not_blank, Profile};

/// A comment on an article.
#[derive(Debug, Clone, Serialize, SafeResponse)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    /// The comment's id (unique across articles, never reused).
    pub id: i64,
    /// When it was written (ISO 8601, UTC, milliseconds).
    pub created_at: String,
    /// When it was last changed (comments are not edited: equal to `created_at`).
    pub updated_at: String,
    /// The text.
    pub body: String,
    /// Who wrote it, as the viewer sees them.
    pub author: Profile,
}

/// `{"comment": {...}}`.
#[derive(Debug, Clone, Serialize, SafeResponse)]
pub struct CommentEnvelope {
    /// The comment.
    pub comment: Comment,
}

/// `{"comments": [...]}`, newest first.
#[derive(Debug, Clone, Serialize, SafeResponse)]
pub struct CommentList {
    /// The comments.
    pub comments: Vec<Comment>,
}

/// The body of `POST /api/articles/{slug}/comments`: `{"comment": {"body": "..."}}`.
#[derive(Deserialize, Validate)]
pub struct NewCommentRequest {
    /// The comment.
    #[garde(dive)]
    pub comment: NewComment,
}

/// A new comment.
#[derive(Deserialize, Validate)]
pub struct NewComment {
    /// The text: required, not blank, at most 10,000 bytes.
    #[garde(length(max = 10_000), custom(not_blank))]
    pub body: String,
}
