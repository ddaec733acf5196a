//! The bodies of the API, shaped as the RealWorld spec (`openapi.yml`) has them: requests with
//! serde + garde (required fields, nothing blank, bounded lengths), responses with serde +
//! [`SafeResponse`](secure_endpoint::SafeResponse), each in its envelope object.
//!
//! Request types do not implement `Debug`: some carry a password.

pub mod article;
pub mod comment;
pub mod profile;
pub mod tag;
pub mod user;

pub use article::{
    Article, ArticleEnvelope, ArticleList, ArticleSummary, FeedQuery, ListArticlesQuery,
    NewArticle, NewArticleRequest, UpdateArticle, UpdateArticleRequest,
};
pub use comment::{Comment, CommentEnvelope, CommentList, NewComment, NewCommentRequest};
pub use profile::{Profile, ProfileEnvelope};
pub use tag::TagList;
pub use user::{
    LoginRequest, LoginUser, NewUser, NewUserRequest, UpdateUser, UpdateUserRequest, User,
    UserEnvelope,
};

/// garde rule: the text is not empty and not only whitespace ("can't be blank").
pub(crate) fn not_blank(value: &str, _: &()) -> garde::Result {
    if value.trim().is_empty() {
        return Err(garde::Error::new("can't be blank"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
