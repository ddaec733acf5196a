//! Users: registration, login, update, uniqueness in any case, the schema's guarantees.

use conduit::model::UpdateUser;
use conduit::Error;

use super::common::{fresh, new_user, user, PASSWORD};

#[tokio::test]
async fn migrations_apply_and_foreign_keys_are_enforced() {
    let db = fresh().await;
    let on: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(on, 1);
    let orphan = sqlx::query(
        "INSERT INTO articles (slug, title, description, body, author_id) VALUES ('s', 't', 'd', 'b', 999)",
    )
    .execute(db.pool())
    .await;
    assert!(orphan.is_err(), "an article by a user that does not exist");
    // Opening the same file again applies nothing new and keeps the data.
    user(&db, "jake").await;
    let again = conduit::Db::open_file(&db.dir.path().join("conduit.sqlite"))
        .await
        .unwrap();
    assert!(again
        .login("jake@example.com", PASSWORD)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn connect_by_url_creates_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("by-url.sqlite");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = conduit::Db::connect(&url).await.unwrap();
    user(&db, "jake").await;
    assert!(path.exists());
}

#[tokio::test]
async fn register_then_login() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    assert_eq!(jake.username, "jake");
    assert_eq!(jake.email, "jake@example.com");
    assert_eq!((jake.bio.as_str(), jake.image.as_str()), ("", ""));

    let found = db.login("jake@example.com", PASSWORD).await.unwrap();
    assert_eq!(found.as_ref(), Some(&jake));
    // The email matches in any case.
    let found = db.login("JAKE@Example.COM", PASSWORD).await.unwrap();
    assert_eq!(found.as_ref(), Some(&jake));
    assert_eq!(
        db.login("jake@example.com", "wrong password")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.login("nobody@example.com", PASSWORD).await.unwrap(),
        None
    );
    assert_eq!(db.user_by_id(jake.id).await.unwrap(), Some(jake));
    assert_eq!(db.user_by_id(12345).await.unwrap(), None);
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = ?1")
        .bind(jake.id)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
    // Two users with one password: two salts, two hashes.
    let other = user(&db, "other").await;
    let other_hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = ?1")
        .bind(other.id)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_ne!(hash, other_hash);
}

#[tokio::test]
async fn usernames_and_emails_are_unique_in_any_case() {
    let db = fresh().await;
    user(&db, "Jake").await;
    let mut same_name = new_user("JAKE");
    same_name.email = "someone-else@example.com".into();
    assert!(matches!(
        db.register(&same_name).await,
        Err(Error::Taken("username"))
    ));
    let mut same_email = new_user("someone");
    same_email.email = "jake@EXAMPLE.com".into();
    assert!(matches!(
        db.register(&same_email).await,
        Err(Error::Taken("email"))
    ));
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn update_user_changes_only_what_is_given() {
    let db = fresh().await;
    let jake = user(&db, "jake").await;
    user(&db, "taken").await;

    let bio = UpdateUser {
        bio: Some("I work at statefarm".into()),
        image: Some("https://example.com/jake.png".into()),
        ..UpdateUser::default()
    };
    let updated = db.update_user(jake.id, &bio).await.unwrap().unwrap();
    assert_eq!(updated.bio, "I work at statefarm");
    assert_eq!(updated.image, "https://example.com/jake.png");
    assert_eq!(updated.username, "jake");
    assert_eq!(updated.email, "jake@example.com");

    // The collection's `PUT /user` sends the user's own email again: not a conflict.
    let same = UpdateUser {
        email: Some("jake@example.com".into()),
        ..UpdateUser::default()
    };
    assert!(db.update_user(jake.id, &same).await.unwrap().is_some());

    let steal_email = UpdateUser {
        email: Some("TAKEN@example.com".into()),
        ..UpdateUser::default()
    };
    assert!(matches!(
        db.update_user(jake.id, &steal_email).await,
        Err(Error::Taken("email"))
    ));
    let steal_name = UpdateUser {
        username: Some("Taken".into()),
        ..UpdateUser::default()
    };
    assert!(matches!(
        db.update_user(jake.id, &steal_name).await,
        Err(Error::Taken("username"))
    ));

    let password = UpdateUser {
        password: Some("a brand new password".into()),
        ..UpdateUser::default()
    };
    db.update_user(jake.id, &password).await.unwrap().unwrap();
    assert!(db
        .login("jake@example.com", PASSWORD)
        .await
        .unwrap()
        .is_none());
    assert!(db
        .login("jake@example.com", "a brand new password")
        .await
        .unwrap()
        .is_some());

    assert!(db.update_user(9999, &bio).await.unwrap().is_none());
}
