//! Tags.

use super::{Db, Error};
use crate::model::TagList;

/// The most tags `GET /api/tags` returns (the most used ones).
pub const MAX_TAGS: i64 = 1_000;

impl Db {
    /// The tags of existing articles, most used first, then alphabetically; at most
    /// [`MAX_TAGS`]. A tag no article carries any more is not listed.
    pub async fn tags(&self) -> Result<TagList, Error> {
        let tags = sqlx::query_scalar::<_, String>(
            "SELECT t.name FROM tags t JOIN article_tags at ON at.tag_id = t.id \
             GROUP BY t.id ORDER BY COUNT(*) DESC, t.name ASC LIMIT ?1",
        )
        .bind(MAX_TAGS)
        .fetch_all(&self.pool)
        .await?;
        Ok(TagList { tags })
    }
}
