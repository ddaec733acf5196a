//! Articles: created under garde validation, listed through a validated query.

use axum::extract::State;
use axum::http::StatusCode;
use secure_endpoint::{secure_endpoint, Json, Principal, Query, SafeResponse};
use serde::{Deserialize, Serialize};

use crate::{read, write, AppState, Article};

/// A new article.
#[derive(Deserialize, garde::Validate, utoipa::ToSchema)]
struct NewArticle {
    #[garde(length(chars, min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    #[garde(length(chars, max = 50_000))]
    #[schema(max_length = 50_000)]
    body: String,
    #[serde(default)]
    #[garde(length(max = 10), inner(length(chars, min = 1, max = 50)))]
    #[schema(value_type = Vec<TagName>, max_items = 10)]
    tags: Vec<String>,
    #[serde(default)]
    #[garde(skip)]
    published: bool,
}

/// A tag as [`NewArticle`] takes it: 1 to 50 characters (its schema only).
pub(crate) struct TagName;

impl utoipa::PartialSchema for TagName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(50))
            .into()
    }
}

impl utoipa::ToSchema for TagName {}

/// Publishes an article by the caller.
#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "30/1m", fields = ["title", "body", "tags", "published"])]
pub(crate) async fn create_article(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewArticle>,
) -> (StatusCode, Json<Article>) {
    let mut articles = write(&state.articles);
    let article = Article {
        id: uuid::Uuid::new_v4().to_string(),
        author_id: principal.subject().to_owned(),
        title: new.title,
        body: new.body,
        tags: new.tags,
        published: new.published,
        likes: 0,
        seq: articles.len() as u64,
    };
    articles.push(article.clone());
    (StatusCode::CREATED, Json(article))
}

/// Sort orders of the article list.
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Sort {
    #[default]
    Newest,
    Oldest,
    Popular,
}

/// Pagination of the article list.
#[derive(Deserialize, garde::Validate)]
struct ArticleQuery {
    #[serde(default = "one")]
    #[garde(range(min = 1, max = 1000))]
    page: u32,
    #[serde(default = "twenty")]
    #[garde(range(min = 1, max = 100))]
    limit: u32,
    #[serde(default)]
    #[garde(skip)]
    sort: Sort,
}

fn one() -> u32 {
    1
}
fn twenty() -> u32 {
    20
}

#[derive(Serialize, SafeResponse, utoipa::ToSchema)]
struct ArticlePage {
    #[schema(max_items = 100)]
    data: Vec<Article>,
    #[schema(format = Int64, maximum = 100_u64)]
    count: usize,
    #[schema(maximum = 1000_u32)]
    page: u32,
    #[schema(maximum = 100_u32)]
    limit: u32,
}

/// Articles, paginated and sorted.
#[secure_endpoint(auth = "jwt", allow = "authenticated")]
pub(crate) async fn list_articles(
    State(state): State<AppState>,
    Query(q): Query<ArticleQuery>,
) -> Json<ArticlePage> {
    let mut all = read(&state.articles).clone();
    match q.sort {
        Sort::Newest => all.sort_by_key(|a| std::cmp::Reverse(a.seq)),
        Sort::Oldest => all.sort_by_key(|a| a.seq),
        Sort::Popular => all.sort_by_key(|a| std::cmp::Reverse(a.likes)),
    }
    let start = (q.page as usize - 1) * q.limit as usize;
    let data: Vec<Article> = all.into_iter().skip(start).take(q.limit as usize).collect();
    Json(ArticlePage {
        count: data.len(),
        data,
        page: q.page,
        limit: q.limit,
    })
}
