//! The feed: the articles of the authors a user follows.

use super::{ArticleFilter, Db, Error, Page};
use crate::model::ArticleList;

impl Db {
    /// One page of the articles by the authors `user` follows, most recent first, and how many
    /// there are in all, as `user` sees them.
    pub async fn feed(&self, user: i64, page: Page) -> Result<ArticleList, Error> {
        self.list(ArticleFilter::default(), Some(user), page, Some(user))
            .await
    }
}
