//! Comments: order, the article they belong to, who may delete them.

use super::common::{fresh, is_collection_timestamp, new_article, user};

#[tokio::test]
async fn comments_are_listed_newest_first_with_their_authors() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    let reader = user(&db, "reader").await;
    let article = db
        .create_article(jake.id, &new_article("Dragons", &[]))
        .await
        .unwrap();

    let first = db
        .add_comment(reader.id, &article.slug, "Thank you so much!")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.body, "Thank you so much!");
    assert_eq!(first.author.username, "reader");
    assert!(
        is_collection_timestamp(&first.created_at),
        "{}",
        first.created_at
    );
    assert!(
        is_collection_timestamp(&first.updated_at),
        "{}",
        first.updated_at
    );
    let second = db
        .add_comment(jake.id, &article.slug, "You're welcome")
        .await
        .unwrap()
        .unwrap();
    assert!(second.id > first.id);

    let anonymous = db.comments(&article.slug, None).await.unwrap().unwrap();
    let ids: Vec<i64> = anonymous.iter().map(|c| c.id).collect();
    assert_eq!(ids, [second.id, first.id]);
    assert!(anonymous.iter().all(|c| !c.author.following));

    db.follow(jake.id, "reader").await.unwrap();
    let as_jake = db
        .comments(&article.slug, Some(jake.id))
        .await
        .unwrap()
        .unwrap();
    assert!(as_jake[1].author.following, "jake follows the reader");
    assert!(!as_jake[0].author.following, "jake's own comment");

    assert!(db
        .comments("no-such-article", None)
        .await
        .unwrap()
        .is_none());
    assert!(db
        .add_comment(jake.id, "no-such-article", "x")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_comment_belongs_to_its_article_and_only_its_author_deletes_it() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    let reader = user(&db, "reader").await;
    let first = db
        .create_article(jake.id, &new_article("First", &[]))
        .await
        .unwrap();
    let other = db
        .create_article(jake.id, &new_article("Other", &[]))
        .await
        .unwrap();
    let comment = db
        .add_comment(reader.id, &first.slug, "mine")
        .await
        .unwrap()
        .unwrap();

    let found = db
        .comment_ref(&first.slug, comment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, comment.id);
    assert_eq!(found.author_id, reader.id);
    // Through another article's path: not found.
    assert!(db
        .comment_ref(&other.slug, comment.id)
        .await
        .unwrap()
        .is_none());
    assert!(db
        .comment_ref(&first.slug, comment.id + 100)
        .await
        .unwrap()
        .is_none());

    // Not by the article's author, not through the other article, not by id alone.
    assert!(!db
        .delete_comment(jake.id, &first.slug, comment.id)
        .await
        .unwrap());
    assert!(!db
        .delete_comment(reader.id, &other.slug, comment.id)
        .await
        .unwrap());
    assert_eq!(
        db.comments(&first.slug, None).await.unwrap().unwrap().len(),
        1
    );

    assert!(db
        .delete_comment(reader.id, &first.slug, comment.id)
        .await
        .unwrap());
    assert!(!db
        .delete_comment(reader.id, &first.slug, comment.id)
        .await
        .unwrap());
    assert!(db
        .comments(&first.slug, None)
        .await
        .unwrap()
        .unwrap()
        .is_empty());

    // A deleted comment's id is not given to the next one.
    let next = db
        .add_comment(reader.id, &first.slug, "again")
        .await
        .unwrap()
        .unwrap();
    assert!(next.id > comment.id);
}

#[tokio::test]
async fn deleting_an_article_deletes_its_comments() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    let article = db
        .create_article(jake.id, &new_article("Short lived", &[]))
        .await
        .unwrap();
    let comment = db
        .add_comment(jake.id, &article.slug, "soon gone")
        .await
        .unwrap()
        .unwrap();
    assert!(db.delete_article(jake.id, &article.slug).await.unwrap());
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM comments WHERE id = ?1")
        .bind(comment.id)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
}
