//! Profiles and follows: `following` for a viewer or anonymous, idempotence, self-follow.

use conduit::Error;

use super::common::{fresh, user};

async fn follow_rows(db: &conduit::Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM follows")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn profile_as_anonymous_and_as_a_viewer() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    user(&db, "celeb").await;

    let anonymous = db.profile("celeb", None).await.unwrap().unwrap();
    assert_eq!(anonymous.username, "celeb");
    assert!(!anonymous.following);
    let viewer = db.profile("celeb", Some(jake.id)).await.unwrap().unwrap();
    assert!(!viewer.following);
    // Usernames match in any case; the stored spelling is returned.
    let any_case = db.profile("CELEB", None).await.unwrap().unwrap();
    assert_eq!(any_case.username, "celeb");
    assert!(db.profile("nobody", Some(jake.id)).await.unwrap().is_none());
}

#[tokio::test]
async fn follow_and_unfollow_are_idempotent() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    let celeb = user(&db, "celeb").await;

    let followed = db.follow(jake.id, "celeb").await.unwrap().unwrap();
    assert!(followed.following);
    assert!(
        db.follow(jake.id, "celeb")
            .await
            .unwrap()
            .unwrap()
            .following
    );
    assert_eq!(follow_rows(&db).await, 1);
    assert!(
        db.profile("celeb", Some(jake.id))
            .await
            .unwrap()
            .unwrap()
            .following
    );
    // Only for that viewer.
    assert!(!db.profile("celeb", None).await.unwrap().unwrap().following);
    assert!(
        !db.profile("jake", Some(celeb.id))
            .await
            .unwrap()
            .unwrap()
            .following
    );

    let unfollowed = db.unfollow(jake.id, "celeb").await.unwrap().unwrap();
    assert!(!unfollowed.following);
    assert!(
        !db.unfollow(jake.id, "celeb")
            .await
            .unwrap()
            .unwrap()
            .following
    );
    assert_eq!(follow_rows(&db).await, 0);

    assert!(db.follow(jake.id, "nobody").await.unwrap().is_none());
    assert!(db.unfollow(jake.id, "nobody").await.unwrap().is_none());
}

#[tokio::test]
async fn nobody_follows_themselves() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    assert!(matches!(
        db.follow(jake.id, "JAKE").await,
        Err(Error::Invalid {
            field: "username",
            ..
        })
    ));
    assert_eq!(follow_rows(&db).await, 0);
}
