//! Comments on articles, and the lookup an ownership check needs: a comment belongs to the
//! article in the path, or it is not found.

use sqlx::FromRow;

use super::{Db, Error};
use crate::model::{Comment, Profile};

/// The ids that decide who may delete a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct CommentRef {
    /// The comment.
    pub id: i64,
    /// The article it is on.
    pub article_id: i64,
    /// Who wrote it.
    pub author_id: i64,
}

#[derive(FromRow)]
struct CommentRow {
    id: i64,
    created_at: String,
    updated_at: String,
    body: String,
    author_username: String,
    author_bio: String,
    author_image: String,
    author_following: bool,
}

impl From<CommentRow> for Comment {
    fn from(row: CommentRow) -> Self {
        Comment {
            id: row.id,
            created_at: row.created_at,
            updated_at: row.updated_at,
            body: row.body,
            author: Profile {
                username: row.author_username,
                bio: row.author_bio,
                image: row.author_image,
                following: row.author_following,
            },
        }
    }
}

/// A comment as `?1` (the viewer's id, or NULL) sees it.
macro_rules! comment_select {
    () => {
        "SELECT c.id, c.created_at, c.updated_at, c.body, \
             u.username AS author_username, u.bio AS author_bio, u.image AS author_image, \
             EXISTS (SELECT 1 FROM follows w WHERE w.follower_id = ?1 AND w.followee_id = u.id) \
                 AS author_following \
         FROM comments c JOIN users u ON u.id = c.author_id "
    };
}

impl Db {
    /// `author` comments on the article `slug`: the comment, or `None` when there is no such
    /// article.
    pub async fn add_comment(
        &self,
        author: i64,
        slug: &str,
        body: &str,
    ) -> Result<Option<Comment>, Error> {
        let Some(id) = sqlx::query_scalar::<_, i64>(
            "INSERT INTO comments (article_id, author_id, body) \
             SELECT id, ?1, ?2 FROM articles WHERE slug = ?3 RETURNING id",
        )
        .bind(author)
        .bind(body)
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        Ok(
            sqlx::query_as::<_, CommentRow>(concat!(comment_select!(), "WHERE c.id = ?2"))
                .bind(author)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .map(Comment::from),
        )
    }

    /// The comments on the article `slug`, newest first, as `viewer` sees them; `None` when
    /// there is no such article.
    pub async fn comments(
        &self,
        slug: &str,
        viewer: Option<i64>,
    ) -> Result<Option<Vec<Comment>>, Error> {
        let Some(article) = sqlx::query_scalar::<_, i64>("SELECT id FROM articles WHERE slug = ?1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let rows = sqlx::query_as::<_, CommentRow>(concat!(
            comment_select!(),
            "WHERE c.article_id = ?2 ORDER BY c.id DESC"
        ))
        .bind(viewer)
        .bind(article)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(rows.into_iter().map(Comment::from).collect()))
    }

    /// The comment `id` if it is on the article `slug`: what an ownership check needs (a
    /// comment reached through another article's path is not found).
    pub async fn comment_ref(&self, slug: &str, id: i64) -> Result<Option<CommentRef>, Error> {
        Ok(sqlx::query_as::<_, CommentRef>(
            "SELECT c.id, c.article_id, c.author_id FROM comments c \
             JOIN articles a ON a.id = c.article_id WHERE a.slug = ?1 AND c.id = ?2",
        )
        .bind(slug)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Deletes the comment `id` if it is on the article `slug` and `author` wrote it: whether
    /// it did.
    pub async fn delete_comment(&self, author: i64, slug: &str, id: i64) -> Result<bool, Error> {
        let done = sqlx::query(
            "DELETE FROM comments WHERE id = ?1 AND author_id = ?2 \
             AND article_id = (SELECT id FROM articles WHERE slug = ?3)",
        )
        .bind(id)
        .bind(author)
        .bind(slug)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
