//! Articles: `GET`/`POST /api/articles`, `GET /api/articles/feed`,
//! `GET`/`PUT`/`DELETE /api/articles/{slug}`, `POST`/`DELETE .../favorite`.

use garde::Validate;
use secure_endpoint::SafeResponse;
use serde::{Deserialize, Serialize};

use super::{not_blank, Profile};
use crate::db::{ArticleFilter, Page};

/// One article, with its body (`GET /api/articles/{slug}` and every single-article answer).
#[derive(Debug, Clone, Serialize, SafeResponse)]
#[serde(rename_all = "camelCase")]
pub struct Article {
    /// The URL-safe identifier, unique, derived from the title.
    pub slug: String,
    /// The title.
    pub title: String,
    /// The description.
    pub description: String,
    /// The body (Markdown).
    pub body: String,
    /// The tags, sorted alphabetically.
    pub tag_list: Vec<String>,
    /// When it was created (ISO 8601, UTC, milliseconds).
    pub created_at: String,
    /// When it was last changed (ISO 8601, UTC, milliseconds).
    pub updated_at: String,
    /// Whether the viewer favorited it (`false` for an anonymous viewer).
    pub favorited: bool,
    /// How many users favorited it.
    pub favorites_count: i64,
    /// The author, as the viewer sees them.
    pub author: Profile,
}

/// One article in a list: the spec leaves `body` out of lists.
#[derive(Debug, Clone, Serialize, SafeResponse)]
#[serde(rename_all = "camelCase")]
pub struct ArticleSummary {
    /// The URL-safe identifier.
    pub slug: String,
    /// The title.
    pub title: String,
    /// The description.
    pub description: String,
    /// The tags, sorted alphabetically.
    pub tag_list: Vec<String>,
    /// When it was created.
    pub created_at: String,
    /// When it was last changed.
    pub updated_at: String,
    /// Whether the viewer favorited it.
    pub favorited: bool,
    /// How many users favorited it.
    pub favorites_count: i64,
    /// The author, as the viewer sees them.
    pub author: Profile,
}

/// `{"article": {...}}`.
#[derive(Debug, Clone, Serialize, SafeResponse)]
pub struct ArticleEnvelope {
    /// The article.
    pub article: Article,
}

impl From<Article> for ArticleEnvelope {
    fn from(article: Article) -> Self {
        ArticleEnvelope { article }
    }
}

/// `{"articles": [...], "articlesCount": n}`: one page, most recent first; `articlesCount`
/// counts every match, not only this page.
#[derive(Debug, Clone, Serialize, SafeResponse)]
#[serde(rename_all = "camelCase")]
pub struct ArticleList {
    /// The page.
    pub articles: Vec<ArticleSummary>,
    /// How many articles match the filter in all.
    pub articles_count: i64,
}

/// The most articles one page returns.
pub const MAX_LIMIT: u32 = 100;

fn default_limit() -> u32 {
    20
}

/// The query of `GET /api/articles`: `tag`, `author`, `favorited` (a username), `limit`
/// (1 to 100, default 20), `offset` (default 0).
#[derive(Debug, Default, Deserialize, Validate)]
pub struct ListArticlesQuery {
    /// Only articles with this tag.
    #[garde(inner(length(max = 100)))]
    pub tag: Option<String>,
    /// Only articles by this username.
    #[garde(inner(length(max = 100)))]
    pub author: Option<String>,
    /// Only articles this username favorited.
    #[garde(inner(length(max = 100)))]
    pub favorited: Option<String>,
    /// Page size.
    #[serde(default = "default_limit")]
    #[garde(range(min = 1, max = MAX_LIMIT))]
    pub limit: u32,
    /// How many matches to skip.
    #[serde(default)]
    #[garde(range(max = 1_000_000))]
    pub offset: u32,
}

impl ListArticlesQuery {
    /// The filter this query asks for.
    pub fn filter(&self) -> ArticleFilter<'_> {
        ArticleFilter {
            tag: self.tag.as_deref(),
            author: self.author.as_deref(),
            favorited_by: self.favorited.as_deref(),
        }
    }

    /// The page this query asks for.
    pub fn page(&self) -> Page {
        Page {
            limit: self.limit,
            offset: self.offset,
        }
    }
}

/// The query of `GET /api/articles/feed`: `limit` (1 to 100, default 20), `offset`.
#[derive(Debug, Deserialize, Validate)]
pub struct FeedQuery {
    /// Page size.
    #[serde(default = "default_limit")]
    #[garde(range(min = 1, max = MAX_LIMIT))]
    pub limit: u32,
    /// How many matches to skip.
    #[serde(default)]
    #[garde(range(max = 1_000_000))]
    pub offset: u32,
}

impl FeedQuery {
    /// The page this query asks for.
    pub fn page(&self) -> Page {
        Page {
            limit: self.limit,
            offset: self.offset,
        }
    }
}

/// The body of `POST /api/articles`: `{"article": {"title", "description", "body", "tagList"?}}`.
#[derive(Deserialize, Validate)]
pub struct NewArticleRequest {
    /// The article.
    #[garde(dive)]
    pub article: NewArticle,
}

/// A new article.
#[derive(Debug, Deserialize, Validate)]
#[serde(rename_all = "camelCase")]
pub struct NewArticle {
    /// Required, not blank, at most 200 characters.
    #[garde(length(chars, max = 200), custom(not_blank))]
    pub title: String,
    /// Required, not blank, at most 1,000 characters.
    #[garde(length(chars, max = 1_000), custom(not_blank))]
    pub description: String,
    /// Required, not blank, at most 64 KiB.
    #[garde(length(max = 65_536), custom(not_blank))]
    pub body: String,
    /// Optional, at most 20 tags of 1 to 50 characters (duplicates are merged).
    #[serde(default)]
    #[garde(length(max = 20), inner(length(chars, max = 50), custom(not_blank)))]
    pub tag_list: Vec<String>,
}

/// The body of `PUT /api/articles/{slug}`: `{"article": {...}}` with at least one field.
#[derive(Deserialize, Validate)]
pub struct UpdateArticleRequest {
    /// The changes.
    #[garde(dive, custom(at_least_one_article_change))]
    pub article: UpdateArticle,
}

/// Changes to an article; absent fields stay. A new title gives the article a new slug.
#[derive(Debug, Default, Deserialize, Validate)]
pub struct UpdateArticle {
    /// A new title.
    #[garde(inner(length(chars, max = 200), custom(not_blank)))]
    pub title: Option<String>,
    /// A new description.
    #[garde(inner(length(chars, max = 1_000), custom(not_blank)))]
    pub description: Option<String>,
    /// A new body.
    #[garde(inner(length(max = 65_536), custom(not_blank)))]
    pub body: Option<String>,
}

fn at_least_one_article_change(value: &UpdateArticle, _: &()) -> garde::Result {
    if value.title.is_none() && value.description.is_none() && value.body.is_none() {
        return Err(garde::Error::new("at least one field is required"));
    }
    Ok(())
}
