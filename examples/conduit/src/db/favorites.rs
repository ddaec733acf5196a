//! Favorites: a user favorites or unfavorites an article, idempotently.

use super::{Db, Error};
use crate::model::Article;

impl Db {
    /// `user` favorites the article `slug` (again: no change). The article afterwards as
    /// `user` sees it, or `None` when there is no such article.
    pub async fn favorite(&self, user: i64, slug: &str) -> Result<Option<Article>, Error> {
        sqlx::query(
            "INSERT OR IGNORE INTO favorites (user_id, article_id) \
             SELECT ?1, id FROM articles WHERE slug = ?2",
        )
        .bind(user)
        .bind(slug)
        .execute(&self.pool)
        .await?;
        self.article(slug, Some(user)).await
    }

    /// `user` no longer favorites the article `slug` (if they did not: no change). The article
    /// afterwards as `user` sees it, or `None` when there is no such article.
    pub async fn unfavorite(&self, user: i64, slug: &str) -> Result<Option<Article>, Error> {
        sqlx::query(
            "DELETE FROM favorites WHERE user_id = ?1 \
             AND article_id = (SELECT id FROM articles WHERE slug = ?2)",
        )
        .bind(user)
        .bind(slug)
        .execute(&self.pool)
        .await?;
        self.article(slug, Some(user)).await
    }
}
