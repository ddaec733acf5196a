//! Strings that would change a string-built query are plain values here: no rows, no error,
//! and the data is intact afterwards.

use conduit::db::{ArticleFilter, Page};
use conduit::model::NewUser;

use super::common::{fresh, new_article, user, PASSWORD};

const HOSTILE: &[&str] = &[
    "' OR 1=1 --",
    "' OR '1'='1",
    "\" OR \"\"=\"",
    "'; DROP TABLE users; --",
    "x' UNION SELECT password_hash FROM users --",
    "%",
    "_",
    "*",
    "?1",
    "NULL",
    "\0",
    "dragons' --",
];

#[tokio::test]
async fn hostile_strings_find_nothing_and_break_nothing() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    let article = db
        .create_article(jake.id, &new_article("Dragons", &["dragons"]))
        .await
        .unwrap();
    let comment = db
        .add_comment(jake.id, &article.slug, "hi")
        .await
        .unwrap()
        .unwrap();

    for s in HOSTILE {
        assert!(db.article(s, None).await.unwrap().is_none(), "{s}");
        assert!(db.article_author(s).await.unwrap().is_none(), "{s}");
        assert!(db.profile(s, Some(jake.id)).await.unwrap().is_none(), "{s}");
        assert!(db.comments(s, None).await.unwrap().is_none(), "{s}");
        assert!(
            db.comment_ref(s, comment.id).await.unwrap().is_none(),
            "{s}"
        );
        assert!(db.favorite(jake.id, s).await.unwrap().is_none(), "{s}");
        assert!(db.unfavorite(jake.id, s).await.unwrap().is_none(), "{s}");
        assert!(db.follow(jake.id, s).await.unwrap().is_none(), "{s}");
        assert!(
            db.add_comment(jake.id, s, "x").await.unwrap().is_none(),
            "{s}"
        );
        assert!(
            !db.delete_comment(jake.id, s, comment.id).await.unwrap(),
            "{s}"
        );
        assert!(!db.delete_article(jake.id, s).await.unwrap(), "{s}");
        assert!(db.login(s, PASSWORD).await.unwrap().is_none(), "{s}");
        for filter in [
            ArticleFilter {
                tag: Some(s),
                ..ArticleFilter::default()
            },
            ArticleFilter {
                author: Some(s),
                ..ArticleFilter::default()
            },
            ArticleFilter {
                favorited_by: Some(s),
                ..ArticleFilter::default()
            },
        ] {
            let list = db
                .list_articles(filter, Page::default(), None)
                .await
                .unwrap();
            assert!(list.articles.is_empty(), "{s}: {filter:?}");
            assert_eq!(list.articles_count, 0, "{s}");
        }
    }

    // Everything is still there.
    assert!(db.article(&article.slug, None).await.unwrap().is_some());
    assert_eq!(
        db.comments(&article.slug, None)
            .await
            .unwrap()
            .unwrap()
            .len(),
        1
    );
    assert!(db
        .login("jake@example.com", PASSWORD)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn hostile_strings_are_stored_verbatim() {
    let db = fresh().await;
    // The data layer stores what it is given (the request types refuse whitespace in
    // usernames before it gets here).
    let odd = db
        .register(&NewUser {
            username: "x'OR'1'='1".into(),
            email: "odd@example.com".into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap();
    assert_eq!(odd.username, "x'OR'1'='1");
    assert!(db.profile("x'OR'1'='1", None).await.unwrap().is_some());
    assert!(db.profile("x", None).await.unwrap().is_none());

    let article = db
        .create_article(
            odd.id,
            &new_article("'; DROP TABLE articles; --", &["' OR 1=1 --", "%"]),
        )
        .await
        .unwrap();
    assert_eq!(article.slug, "drop-table-articles");
    assert_eq!(article.title, "'; DROP TABLE articles; --");
    assert_eq!(article.tag_list, ["%", "' OR 1=1 --"]);
    let by_tag = db
        .list_articles(
            ArticleFilter {
                tag: Some("' OR 1=1 --"),
                ..ArticleFilter::default()
            },
            Page::default(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(by_tag.articles_count, 1);
    // `%` is a tag like any other, not a wildcard.
    let other = db
        .create_article(odd.id, &new_article("Plain", &["plain"]))
        .await
        .unwrap();
    let by_percent = db
        .list_articles(
            ArticleFilter {
                tag: Some("%"),
                ..ArticleFilter::default()
            },
            Page::default(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(by_percent.articles_count, 1);
    assert_ne!(by_percent.articles[0].slug, other.slug);
}
