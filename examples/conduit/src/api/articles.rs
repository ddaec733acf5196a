//! Articles: `GET`/`POST /api/articles`, `GET /api/articles/feed`,
//! `GET`/`PUT`/`DELETE /api/articles/{slug}`, `POST`/`DELETE .../favorite`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use secure_endpoint::routing::{get, post};
use secure_endpoint::{
    secure_endpoint, Json, Owned, OwnedResource, Principal, Problem, Query, SecureRouter,
};

use super::tokens::{user_id, viewer};
use super::{deleted, found, problem, AppState};
use crate::model::{
    ArticleEnvelope, ArticleList, FeedQuery, ListArticlesQuery, NewArticleRequest,
    UpdateArticleRequest,
};

/// An article's author, loaded by slug for the ownership check of edit and delete.
pub(super) struct ArticleAuthor {
    slug: String,
    author: String,
    author_id: i64,
}

impl OwnedResource<AppState> for ArticleAuthor {
    async fn load(state: &AppState, slug: &str) -> Result<Option<Self>, Problem> {
        let author_id = state.db.article_author(slug).await.map_err(problem)?;
        Ok(author_id.map(|author_id| ArticleAuthor {
            slug: slug.to_owned(),
            author: author_id.to_string(),
            author_id,
        }))
    }

    fn owner_id(&self) -> &str {
        &self.author
    }
}

/// The most recent articles, filtered by tag, author or favoriting user.
#[secure_endpoint(auth = optional("jwt"))]
pub(super) async fn list_articles(
    State(state): State<AppState>,
    principal: Option<Principal>,
    Query(query): Query<ListArticlesQuery>,
) -> Result<Json<ArticleList>, Problem> {
    state
        .db
        .list_articles(query.filter(), query.page(), viewer(principal.as_ref())?)
        .await
        .map(Json)
        .map_err(problem)
}

/// The articles of the users the caller follows, most recent first.
#[secure_endpoint(auth = "jwt", allow = "authenticated")]
pub(super) async fn feed(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<FeedQuery>,
) -> Result<Json<ArticleList>, Problem> {
    let me = user_id(&principal)?;
    state
        .db
        .feed(me, query.page())
        .await
        .map(Json)
        .map_err(problem)
}

/// One article.
#[secure_endpoint(auth = optional("jwt"))]
pub(super) async fn get_article(
    State(state): State<AppState>,
    principal: Option<Principal>,
    Path(slug): Path<String>,
) -> Result<Json<ArticleEnvelope>, Problem> {
    let article = found(state.db.article(&slug, viewer(principal.as_ref())?).await)?;
    Ok(Json(article.into()))
}

/// Publishes an article by the caller (201).
#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "30/1h", fields = ["article.title", "article.description", "article.body", "article.tagList"])]
pub(super) async fn create_article(
    State(state): State<AppState>,
    principal: Principal,
    Json(req): Json<NewArticleRequest>,
) -> Result<(StatusCode, Json<ArticleEnvelope>), Problem> {
    let me = user_id(&principal)?;
    let article = state
        .db
        .create_article(me, &req.article)
        .await
        .map_err(problem)?;
    Ok((StatusCode::CREATED, Json(article.into())))
}

/// Changes the caller's own article (title, description, body).
#[secure_endpoint(auth = "jwt", owner = "slug", loader = ArticleAuthor, owner_status = 403, fields = ["article.title", "article.description", "article.body"])]
pub(super) async fn update_article(
    State(state): State<AppState>,
    Owned(article): Owned<ArticleAuthor>,
    Json(req): Json<UpdateArticleRequest>,
) -> Result<Json<ArticleEnvelope>, Problem> {
    let article = found(
        state
            .db
            .update_article(article.author_id, &article.slug, &req.article)
            .await,
    )?;
    Ok(Json(article.into()))
}

/// Deletes the caller's own article (204).
#[secure_endpoint(auth = "jwt", owner = "slug", loader = ArticleAuthor, owner_status = 403)]
pub(super) async fn delete_article(
    State(state): State<AppState>,
    Owned(article): Owned<ArticleAuthor>,
) -> Result<StatusCode, Problem> {
    deleted(
        state
            .db
            .delete_article(article.author_id, &article.slug)
            .await,
    )
}

/// Favorites an article.
#[secure_endpoint(auth = "jwt", allow = "authenticated")]
pub(super) async fn favorite(
    State(state): State<AppState>,
    principal: Principal,
    Path(slug): Path<String>,
) -> Result<Json<ArticleEnvelope>, Problem> {
    let me = user_id(&principal)?;
    let article = found(state.db.favorite(me, &slug).await)?;
    Ok(Json(article.into()))
}

/// Takes back a favorite.
#[secure_endpoint(auth = "jwt", allow = "authenticated")]
pub(super) async fn unfavorite(
    State(state): State<AppState>,
    principal: Principal,
    Path(slug): Path<String>,
) -> Result<Json<ArticleEnvelope>, Problem> {
    let me = user_id(&principal)?;
    let article = found(state.db.unfavorite(me, &slug).await)?;
    Ok(Json(article.into()))
}

/// This module's routes (the articles, the feed and favorites), relative to where they are nested (`/api`).
pub(super) fn routes() -> SecureRouter<AppState> {
    SecureRouter::module()
        .route("/articles", get(list_articles).post(create_article))
        .route("/articles/feed", get(feed))
        .route(
            "/articles/{slug}",
            get(get_article).put(update_article).delete(delete_article),
        )
        .route(
            "/articles/{slug}/favorite",
            post(favorite).delete(unfavorite),
        )
}
