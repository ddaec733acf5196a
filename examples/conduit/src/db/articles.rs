//! Articles: create (with a unique slug), read, list with filters, update and delete (by their
//! author only), and the ownership lookup a contract's loader needs.

use std::collections::BTreeSet;

use sqlx::{FromRow, Sqlite, Transaction};

use super::slug::{candidate, slugify};
use super::{is_unique_violation, Db, Error};
use crate::model::{Article, ArticleList, ArticleSummary, NewArticle, Profile, UpdateArticle};

/// The columns of an article as `?1` (the viewer's id, or NULL) sees it, over `articles a JOIN
/// users u ON u.id = a.author_id`. The tags come as one JSON array.
macro_rules! summary_columns {
    () => {
        "a.slug, a.title, a.description, a.created_at, a.updated_at, \
         (SELECT json_group_array(t.name) FROM article_tags at JOIN tags t ON t.id = at.tag_id \
             WHERE at.article_id = a.id) AS tags, \
         (SELECT COUNT(*) FROM favorites f WHERE f.article_id = a.id) AS favorites_count, \
         EXISTS (SELECT 1 FROM favorites f WHERE f.article_id = a.id AND f.user_id = ?1) \
             AS favorited, \
         u.username AS author_username, u.bio AS author_bio, u.image AS author_image, \
         EXISTS (SELECT 1 FROM follows w WHERE w.follower_id = ?1 AND w.followee_id = a.author_id) \
             AS author_following"
    };
}

/// The filters of a list, `?2` to `?5`: a NULL parameter does not filter.
macro_rules! list_filter {
    () => {
        " FROM articles a JOIN users u ON u.id = a.author_id \
          WHERE (?2 IS NULL OR EXISTS (SELECT 1 FROM article_tags at JOIN tags t \
                     ON t.id = at.tag_id WHERE at.article_id = a.id AND t.name = ?2)) \
            AND (?3 IS NULL OR u.username = ?3) \
            AND (?4 IS NULL OR EXISTS (SELECT 1 FROM favorites f JOIN users fu \
                     ON fu.id = f.user_id WHERE f.article_id = a.id AND fu.username = ?4)) \
            AND (?5 IS NULL OR EXISTS (SELECT 1 FROM follows w \
                     WHERE w.follower_id = ?5 AND w.followee_id = a.author_id))"
    };
}

const LIST: &str = concat!(
    "SELECT ",
    summary_columns!(),
    list_filter!(),
    " ORDER BY a.created_at DESC, a.id DESC LIMIT ?6 OFFSET ?7"
);
const COUNT: &str = concat!("SELECT COUNT(*)", list_filter!());
const BY_SLUG: &str = concat!(
    "SELECT ",
    summary_columns!(),
    ", a.body FROM articles a JOIN users u ON u.id = a.author_id WHERE a.slug = ?2"
);

/// What a list of articles is filtered by; `None` does not filter. Usernames match in any case.
#[derive(Debug, Clone, Copy, Default)]
pub struct ArticleFilter<'a> {
    /// Only articles with this tag (exact).
    pub tag: Option<&'a str>,
    /// Only articles by this username.
    pub author: Option<&'a str>,
    /// Only articles favorited by this username.
    pub favorited_by: Option<&'a str>,
}

/// A page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// At most this many articles.
    pub limit: u32,
    /// After skipping this many.
    pub offset: u32,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            limit: 20,
            offset: 0,
        }
    }
}

#[derive(FromRow)]
struct AuthorRow {
    author_username: String,
    author_bio: String,
    author_image: String,
    author_following: bool,
}

#[derive(FromRow)]
struct SummaryRow {
    slug: String,
    title: String,
    description: String,
    created_at: String,
    updated_at: String,
    tags: String,
    favorites_count: i64,
    favorited: bool,
    #[sqlx(flatten)]
    author: AuthorRow,
}

#[derive(FromRow)]
struct ArticleRow {
    #[sqlx(flatten)]
    summary: SummaryRow,
    body: String,
}

impl SummaryRow {
    fn into_summary(self) -> Result<ArticleSummary, Error> {
        let mut tag_list: Vec<String> = serde_json::from_str(&self.tags)
            .map_err(|err| Error::Database(sqlx::Error::Decode(Box::new(err))))?;
        tag_list.sort();
        Ok(ArticleSummary {
            slug: self.slug,
            title: self.title,
            description: self.description,
            tag_list,
            created_at: self.created_at,
            updated_at: self.updated_at,
            favorited: self.favorited,
            favorites_count: self.favorites_count,
            author: Profile {
                username: self.author.author_username,
                bio: self.author.author_bio,
                image: self.author.author_image,
                following: self.author.author_following,
            },
        })
    }
}

impl ArticleRow {
    fn into_article(self) -> Result<Article, Error> {
        let s = self.summary.into_summary()?;
        Ok(Article {
            slug: s.slug,
            title: s.title,
            description: s.description,
            body: self.body,
            tag_list: s.tag_list,
            created_at: s.created_at,
            updated_at: s.updated_at,
            favorited: s.favorited,
            favorites_count: s.favorites_count,
            author: s.author,
        })
    }
}

/// How many numbered slugs (`base-2`, `base-3`, ...) are tried before a random suffix.
const NUMBERED_SLUGS: u32 = 20;

/// The `attempt`th slug to try for `base` (1-based): numbered first, then random.
fn slug_attempt(base: &str, attempt: u32) -> String {
    if attempt <= NUMBERED_SLUGS {
        candidate(base, attempt)
    } else {
        use argon2::password_hash::rand_core::{OsRng, RngCore};
        format!("{base}-{:08x}", OsRng.next_u32())
    }
}

/// The most attempts at a free slug: the numbered ones and 5 random ones.
const MAX_SLUG_ATTEMPTS: u32 = NUMBERED_SLUGS + 5;

impl Db {
    /// Creates an article by `author`, its slug derived from the title and made unique; the
    /// tags are trimmed, deduplicated and created as needed. The article as its author sees it.
    pub async fn create_article(&self, author: i64, new: &NewArticle) -> Result<Article, Error> {
        let mut tx = self.write().await?;
        let base = slugify(&new.title);
        let mut attempt = 1;
        let (id, slug) = loop {
            let slug = slug_attempt(&base, attempt);
            let inserted = sqlx::query_scalar::<_, i64>(
                "INSERT INTO articles (slug, title, description, body, author_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
            )
            .bind(&slug)
            .bind(&new.title)
            .bind(&new.description)
            .bind(&new.body)
            .bind(author)
            .fetch_one(&mut *tx)
            .await;
            match inserted {
                Ok(id) => break (id, slug),
                Err(err)
                    if is_unique_violation(&err, "articles.slug")
                        && attempt < MAX_SLUG_ATTEMPTS =>
                {
                    attempt += 1
                }
                Err(err) => return Err(err.into()),
            }
        };
        let tags: BTreeSet<&str> = new
            .tag_list
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .collect();
        for tag in tags {
            tag_article(&mut tx, id, tag).await?;
        }
        tx.commit().await?;
        self.article(&slug, Some(author))
            .await?
            .ok_or(Error::Database(sqlx::Error::RowNotFound))
    }

    /// The article with this slug as `viewer` sees it (`None`: anonymous).
    pub async fn article(&self, slug: &str, viewer: Option<i64>) -> Result<Option<Article>, Error> {
        sqlx::query_as::<_, ArticleRow>(BY_SLUG)
            .bind(viewer)
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
            .map(ArticleRow::into_article)
            .transpose()
    }

    /// The id of the author of the article with this slug: what an ownership check compares
    /// with the caller.
    pub async fn article_author(&self, slug: &str) -> Result<Option<i64>, Error> {
        Ok(
            sqlx::query_scalar::<_, i64>("SELECT author_id FROM articles WHERE slug = ?1")
                .bind(slug)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// One page of the articles matching `filter`, most recent first, and how many match in
    /// all, as `viewer` sees them.
    pub async fn list_articles(
        &self,
        filter: ArticleFilter<'_>,
        page: Page,
        viewer: Option<i64>,
    ) -> Result<ArticleList, Error> {
        self.list(filter, None, page, viewer).await
    }

    /// The list query behind [`list_articles`](Self::list_articles) and the feed: `feed_of`
    /// keeps only the authors that user follows.
    pub(crate) async fn list(
        &self,
        filter: ArticleFilter<'_>,
        feed_of: Option<i64>,
        page: Page,
        viewer: Option<i64>,
    ) -> Result<ArticleList, Error> {
        // One read transaction: the page and the count see the same snapshot.
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query_as::<_, SummaryRow>(LIST)
            .bind(viewer)
            .bind(filter.tag)
            .bind(filter.author)
            .bind(filter.favorited_by)
            .bind(feed_of)
            .bind(i64::from(page.limit))
            .bind(i64::from(page.offset))
            .fetch_all(&mut *tx)
            .await?;
        let articles_count = sqlx::query_scalar::<_, i64>(COUNT)
            .bind(viewer)
            .bind(filter.tag)
            .bind(filter.author)
            .bind(filter.favorited_by)
            .bind(feed_of)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ArticleList {
            articles: rows
                .into_iter()
                .map(SummaryRow::into_summary)
                .collect::<Result<_, _>>()?,
            articles_count,
        })
    }

    /// Applies `changes` to the article `slug` if `author` wrote it (a new title gives it a new
    /// unique slug): the article afterwards, or `None` when `author` has no article `slug`.
    pub async fn update_article(
        &self,
        author: i64,
        slug: &str,
        changes: &UpdateArticle,
    ) -> Result<Option<Article>, Error> {
        let mut tx = self.write().await?;
        let Some(id) = sqlx::query_scalar::<_, i64>(
            "SELECT id FROM articles WHERE slug = ?1 AND author_id = ?2",
        )
        .bind(slug)
        .bind(author)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let mut new_slug = slug.to_owned();
        if let Some(title) = &changes.title {
            let base = slugify(title);
            if !is_generated_from(slug, &base) {
                new_slug = set_free_slug(&mut tx, id, &base).await?;
            }
        }
        sqlx::query(
            "UPDATE articles SET \
                 title = COALESCE(?2, title), \
                 description = COALESCE(?3, description), \
                 body = COALESCE(?4, body), \
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
             WHERE id = ?1",
        )
        .bind(id)
        .bind(&changes.title)
        .bind(&changes.description)
        .bind(&changes.body)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.article(&new_slug, Some(author)).await
    }

    /// Deletes the article `slug` if `author` wrote it (its comments, tags links and favorites
    /// go with it): whether it did.
    pub async fn delete_article(&self, author: i64, slug: &str) -> Result<bool, Error> {
        let done = sqlx::query("DELETE FROM articles WHERE slug = ?1 AND author_id = ?2")
            .bind(slug)
            .bind(author)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// Whether `slug` is `base` or one of the slugs generated for `base` (`base-7`,
/// `base-0a1b2c3d`): then a new title whose slug is `base` keeps it.
fn is_generated_from(slug: &str, base: &str) -> bool {
    let Some(suffix) = slug.strip_prefix(base) else {
        return false;
    };
    let Some(suffix) = suffix.strip_prefix('-') else {
        return suffix.is_empty();
    };
    let numbered = suffix
        .parse::<u32>()
        .is_ok_and(|n| (2..=NUMBERED_SLUGS).contains(&n))
        && !suffix.starts_with('0');
    let random = suffix.len() == 8 && suffix.bytes().all(|b| b.is_ascii_hexdigit());
    numbered || random
}

/// Gives article `id` the first free slug for `base`.
async fn set_free_slug(
    tx: &mut Transaction<'_, Sqlite>,
    id: i64,
    base: &str,
) -> Result<String, Error> {
    let mut attempt = 1;
    loop {
        let slug = slug_attempt(base, attempt);
        let updated = sqlx::query("UPDATE articles SET slug = ?2 WHERE id = ?1")
            .bind(id)
            .bind(&slug)
            .execute(&mut **tx)
            .await;
        match updated {
            Ok(_) => return Ok(slug),
            Err(err)
                if is_unique_violation(&err, "articles.slug") && attempt < MAX_SLUG_ATTEMPTS =>
            {
                attempt += 1
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// Links article `id` to `tag`, creating the tag if needed.
async fn tag_article(tx: &mut Transaction<'_, Sqlite>, id: i64, tag: &str) -> Result<(), Error> {
    sqlx::query("INSERT OR IGNORE INTO tags (name) VALUES (?1)")
        .bind(tag)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT OR IGNORE INTO article_tags (article_id, tag_id) \
         SELECT ?1, id FROM tags WHERE name = ?2",
    )
    .bind(id)
    .bind(tag)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_generated_from;

    #[test]
    fn slugs_generated_from_a_base() {
        assert!(is_generated_from("dragons", "dragons"));
        assert!(is_generated_from("dragons-2", "dragons"));
        assert!(is_generated_from("dragons-20", "dragons"));
        assert!(is_generated_from("dragons-0a1b2c3d", "dragons"));
        assert!(!is_generated_from("dragons-21", "dragons"));
        assert!(!is_generated_from("dragons-1", "dragons"));
        assert!(!is_generated_from("dragons-02", "dragons"));
        assert!(!is_generated_from("dragons-of-old", "dragons"));
        assert!(!is_generated_from("dragonslayer", "dragons"));
        assert!(!is_generated_from("cats", "dragons"));
    }
}
