//! Articles: slugs, tags, filters, ordering, counts, favorites, the feed, update and delete.

use conduit::db::{ArticleFilter, Page};
use conduit::model::{ArticleList, UpdateArticle};
use conduit::Db;

use super::common::{fresh, is_collection_timestamp, new_article, user};

fn slugs(list: &ArticleList) -> Vec<&str> {
    list.articles.iter().map(|a| a.slug.as_str()).collect()
}

async fn all(db: &Db, filter: ArticleFilter<'_>, viewer: Option<i64>) -> ArticleList {
    db.list_articles(filter, Page::default(), viewer)
        .await
        .unwrap()
}

#[tokio::test]
async fn create_gives_a_slug_sorted_tags_and_collection_timestamps() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    // `training` exists first: the tags' storage order is not alphabetical.
    db.create_article(jake.id, &new_article("Earlier", &["training"]))
        .await
        .unwrap();
    let article = db
        .create_article(
            jake.id,
            &new_article(
                "How to train your dragon",
                &["training", "dragons", " dragons "],
            ),
        )
        .await
        .unwrap();
    assert_eq!(article.slug, "how-to-train-your-dragon");
    assert_eq!(article.title, "How to train your dragon");
    assert_eq!(article.body, "the body of How to train your dragon");
    // The collection checks tagList[0] == "dragons", tagList[1] == "training".
    assert_eq!(article.tag_list, ["dragons", "training"]);
    assert!(
        is_collection_timestamp(&article.created_at),
        "{}",
        article.created_at
    );
    assert!(
        is_collection_timestamp(&article.updated_at),
        "{}",
        article.updated_at
    );
    assert!(!article.favorited);
    assert_eq!(article.favorites_count, 0);
    assert_eq!(article.author.username, "jake");
    assert!(!article.author.following);

    // The same title again: a new, unique slug.
    let again = db
        .create_article(jake.id, &new_article("How to train your dragon", &[]))
        .await
        .unwrap();
    assert_eq!(again.slug, "how-to-train-your-dragon-2");
    assert!(again.tag_list.is_empty());

    let read = db.article(&article.slug, None).await.unwrap().unwrap();
    assert_eq!(read.tag_list, ["dragons", "training"]);
    assert!(db.article("no-such-slug", None).await.unwrap().is_none());
    assert_eq!(
        db.article_author(&article.slug).await.unwrap(),
        Some(jake.id)
    );
    assert_eq!(db.article_author("no-such-slug").await.unwrap(), None);
}

#[tokio::test]
async fn many_articles_with_one_title_all_get_distinct_slugs() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..25 {
        let a = db
            .create_article(jake.id, &new_article("Same", &[]))
            .await
            .unwrap();
        assert!(a.slug.starts_with("same"), "{}", a.slug);
        assert!(seen.insert(a.slug));
    }
}

#[tokio::test]
async fn lists_filter_order_count_and_page() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    let anna = user(&db, "anna").await;
    let reader = user(&db, "reader").await;
    let a1 = db
        .create_article(jake.id, &new_article("One", &["dragons"]))
        .await
        .unwrap();
    let a2 = db
        .create_article(anna.id, &new_article("Two", &["dragons", "cats"]))
        .await
        .unwrap();
    let a3 = db
        .create_article(jake.id, &new_article("Three", &["cats"]))
        .await
        .unwrap();
    db.favorite(reader.id, &a1.slug).await.unwrap();

    // Most recent first; `articlesCount` counts every match.
    let everything = all(&db, ArticleFilter::default(), None).await;
    assert_eq!(slugs(&everything), [&a3.slug, &a2.slug, &a1.slug]);
    assert_eq!(everything.articles_count, 3);

    let dragons = ArticleFilter {
        tag: Some("dragons"),
        ..ArticleFilter::default()
    };
    assert_eq!(slugs(&all(&db, dragons, None).await), [&a2.slug, &a1.slug]);
    let by_jake = ArticleFilter {
        author: Some("JAKE"),
        ..ArticleFilter::default()
    };
    let jakes = all(&db, by_jake, None).await;
    assert_eq!(slugs(&jakes), [&a3.slug, &a1.slug]);
    assert_eq!(jakes.articles_count, 2);
    let favorited = ArticleFilter {
        favorited_by: Some("reader"),
        ..ArticleFilter::default()
    };
    let favs = all(&db, favorited, None).await;
    assert_eq!(slugs(&favs), [&a1.slug]);
    assert_eq!(favs.articles[0].favorites_count, 1);
    let combined = ArticleFilter {
        tag: Some("cats"),
        author: Some("jake"),
        favorited_by: None,
    };
    assert_eq!(slugs(&all(&db, combined, None).await), [&a3.slug]);
    let none = ArticleFilter {
        author: Some("nobody"),
        ..ArticleFilter::default()
    };
    let empty = all(&db, none, None).await;
    assert!(empty.articles.is_empty());
    assert_eq!(empty.articles_count, 0);

    // Pages.
    let page = |limit, offset| Page { limit, offset };
    let first = db
        .list_articles(ArticleFilter::default(), page(2, 0), None)
        .await
        .unwrap();
    assert_eq!(slugs(&first), [&a3.slug, &a2.slug]);
    assert_eq!(first.articles_count, 3);
    let second = db
        .list_articles(ArticleFilter::default(), page(2, 2), None)
        .await
        .unwrap();
    assert_eq!(slugs(&second), [&a1.slug]);
    assert_eq!(second.articles_count, 3);
    let beyond = db
        .list_articles(ArticleFilter::default(), page(2, 10), None)
        .await
        .unwrap();
    assert!(beyond.articles.is_empty());
    assert_eq!(beyond.articles_count, 3);
}

#[tokio::test]
async fn lists_say_favorited_and_following_for_the_viewer_only() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    let reader = user(&db, "reader").await;
    let article = db
        .create_article(jake.id, &new_article("Seen", &[]))
        .await
        .unwrap();
    db.favorite(reader.id, &article.slug).await.unwrap();
    db.follow(reader.id, "jake").await.unwrap();

    let as_reader = all(&db, ArticleFilter::default(), Some(reader.id)).await;
    assert!(as_reader.articles[0].favorited);
    assert!(as_reader.articles[0].author.following);
    let anonymous = all(&db, ArticleFilter::default(), None).await;
    assert!(!anonymous.articles[0].favorited);
    assert!(!anonymous.articles[0].author.following);
    assert_eq!(anonymous.articles[0].favorites_count, 1);
    let as_jake = db
        .article(&article.slug, Some(jake.id))
        .await
        .unwrap()
        .unwrap();
    assert!(!as_jake.favorited);
    assert!(!as_jake.author.following);
}

#[tokio::test]
async fn favorites_count_once_per_user() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    let reader = user(&db, "reader").await;
    let article = db
        .create_article(jake.id, &new_article("Liked", &[]))
        .await
        .unwrap();

    let once = db
        .favorite(reader.id, &article.slug)
        .await
        .unwrap()
        .unwrap();
    assert!(once.favorited);
    assert_eq!(once.favorites_count, 1);
    let twice = db
        .favorite(reader.id, &article.slug)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(twice.favorites_count, 1);
    let by_jake = db.favorite(jake.id, &article.slug).await.unwrap().unwrap();
    assert_eq!(by_jake.favorites_count, 2);

    let undone = db
        .unfavorite(reader.id, &article.slug)
        .await
        .unwrap()
        .unwrap();
    assert!(!undone.favorited);
    assert_eq!(undone.favorites_count, 1);
    let again = db
        .unfavorite(reader.id, &article.slug)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.favorites_count, 1);

    assert!(db
        .favorite(reader.id, "no-such-slug")
        .await
        .unwrap()
        .is_none());
    assert!(db
        .unfavorite(reader.id, "no-such-slug")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn the_feed_has_the_followed_authors_only() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    let anna = user(&db, "anna").await;
    let reader = user(&db, "reader").await;
    let j1 = db
        .create_article(jake.id, &new_article("J1", &[]))
        .await
        .unwrap();
    db.create_article(anna.id, &new_article("A1", &[]))
        .await
        .unwrap();
    let j2 = db
        .create_article(jake.id, &new_article("J2", &[]))
        .await
        .unwrap();

    let empty = db.feed(reader.id, Page::default()).await.unwrap();
    assert!(empty.articles.is_empty());
    assert_eq!(empty.articles_count, 0);

    db.follow(reader.id, "jake").await.unwrap();
    let feed = db.feed(reader.id, Page::default()).await.unwrap();
    assert_eq!(slugs(&feed), [&j2.slug, &j1.slug]);
    assert_eq!(feed.articles_count, 2);
    assert!(feed.articles.iter().all(|a| a.author.following));
    let page = db
        .feed(
            reader.id,
            Page {
                limit: 1,
                offset: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(slugs(&page), [&j1.slug]);
    assert_eq!(page.articles_count, 2);
    // Jake's own feed: he follows nobody.
    assert_eq!(
        db.feed(jake.id, Page::default())
            .await
            .unwrap()
            .articles_count,
        0
    );
}

#[tokio::test]
async fn only_the_author_updates_and_a_new_title_moves_the_slug() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    let other = user(&db, "other").await;
    let article = db
        .create_article(jake.id, &new_article("Old title", &["x"]))
        .await
        .unwrap();
    db.create_article(jake.id, &new_article("Taken title", &[]))
        .await
        .unwrap();

    let body_only = UpdateArticle {
        body: Some("With two hands".into()),
        ..UpdateArticle::default()
    };
    assert!(db
        .update_article(other.id, &article.slug, &body_only)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        db.article(&article.slug, None).await.unwrap().unwrap().body,
        article.body
    );

    let updated = db
        .update_article(jake.id, &article.slug, &body_only)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.slug, article.slug);
    assert_eq!(updated.body, "With two hands");
    assert_eq!(updated.title, "Old title");
    assert_eq!(updated.tag_list, ["x"]);
    assert!(updated.updated_at >= article.updated_at);
    assert_eq!(updated.created_at, article.created_at);

    let retitled = db
        .update_article(
            jake.id,
            &article.slug,
            &UpdateArticle {
                title: Some("Taken title".into()),
                ..UpdateArticle::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(retitled.slug, "taken-title-2");
    assert!(db.article("old-title", None).await.unwrap().is_none());
    // The same title again keeps the slug.
    let same = db
        .update_article(
            jake.id,
            &retitled.slug,
            &UpdateArticle {
                title: Some("Taken title".into()),
                ..UpdateArticle::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(same.slug, "taken-title-2");
    assert!(db
        .update_article(jake.id, "no-such-slug", &body_only)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn only_the_author_deletes_and_tags_of_deleted_articles_go() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    let other = user(&db, "other").await;
    let gone = db
        .create_article(jake.id, &new_article("Gone", &["rare", "common"]))
        .await
        .unwrap();
    db.create_article(jake.id, &new_article("Stays", &["common"]))
        .await
        .unwrap();
    db.favorite(other.id, &gone.slug).await.unwrap();
    assert_eq!(db.tags().await.unwrap().tags, ["common", "rare"]);

    assert!(!db.delete_article(other.id, &gone.slug).await.unwrap());
    assert!(db.article(&gone.slug, None).await.unwrap().is_some());
    assert!(db.delete_article(jake.id, &gone.slug).await.unwrap());
    assert!(db.article(&gone.slug, None).await.unwrap().is_none());
    assert!(!db.delete_article(jake.id, &gone.slug).await.unwrap());
    assert_eq!(db.tags().await.unwrap().tags, ["common"]);
    let favorites: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM favorites")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(favorites, 0);
}

#[tokio::test]
async fn tags_are_listed_most_used_first() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    assert!(db.tags().await.unwrap().tags.is_empty());
    db.create_article(jake.id, &new_article("A", &["b-tag", "a-tag"]))
        .await
        .unwrap();
    db.create_article(jake.id, &new_article("B", &["b-tag", "c-tag"]))
        .await
        .unwrap();
    assert_eq!(db.tags().await.unwrap().tags, ["b-tag", "a-tag", "c-tag"]);
}

#[tokio::test]
async fn concurrent_writes_all_succeed() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    let mut slugs = Vec::new();
    for i in 0..16 {
        let a = db
            .create_article(jake.id, &new_article(&format!("Article {i}"), &["t"]))
            .await
            .unwrap();
        slugs.push(a.slug);
    }
    // Updates (a read, then writes, in one transaction) and creations at the same time: none
    // may fail because another connection wrote in between.
    let mut tasks = tokio::task::JoinSet::new();
    for (i, slug) in slugs.into_iter().enumerate() {
        let (db1, db2) = (db.db.clone(), db.db.clone());
        let author = jake.id;
        tasks.spawn(async move {
            let changes = UpdateArticle {
                title: Some(format!("Retitled {i}")),
                body: Some("new body".into()),
                ..UpdateArticle::default()
            };
            db1.update_article(author, &slug, &changes)
                .await
                .map(|a| a.is_some())
        });
        tasks.spawn(async move {
            db2.create_article(author, &new_article("Same title", &["t", "u"]))
                .await
                .map(|_| true)
        });
    }
    while let Some(result) = tasks.join_next().await {
        assert!(result.unwrap().unwrap());
    }
    let all = db
        .list_articles(
            ArticleFilter::default(),
            Page {
                limit: 100,
                offset: 0,
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(all.articles_count, 32);
}
