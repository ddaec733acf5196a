//! A fresh database per test, and shortcuts.

use conduit::db::UserRecord;
use conduit::model::{NewArticle, NewUser};
use conduit::Db;
use tempfile::TempDir;

/// A database in its own temporary directory (removed on drop).
pub(crate) struct TestDb {
    pub(crate) db: Db,
    pub(crate) dir: TempDir,
}

impl std::ops::Deref for TestDb {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

pub(crate) async fn fresh() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::open_file(&dir.path().join("conduit.sqlite"))
        .await
        .expect("open database");
    TestDb { db, dir }
}

pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) fn new_user(name: &str) -> NewUser {
    NewUser {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        password: PASSWORD.to_owned(),
    }
}

pub(crate) async fn user(db: &Db, name: &str) -> UserRecord {
    db.register(&new_user(name)).await.expect("register")
}

pub(crate) fn new_article(title: &str, tags: &[&str]) -> NewArticle {
    NewArticle {
        title: title.to_owned(),
        description: format!("about {title}"),
        body: format!("the body of {title}"),
        tag_list: tags.iter().map(|t| (*t).to_owned()).collect(),
    }
}

/// The collection's check of `createdAt`/`updatedAt`:
/// `^\d{4,}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d.\d+(?:[+-][0-2]\d:[0-5]\d|Z)$`, for the
/// form SQLite produces here (four-digit year, `Z`).
pub(crate) fn is_collection_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digit = |i: usize, max: u8| b.get(i).is_some_and(|c| c.is_ascii_digit() && *c <= max);
    b.len() > 21
        && (0..4).all(|i| digit(i, b'9'))
        && b[4] == b'-'
        && digit(5, b'1')
        && digit(6, b'9')
        && b[7] == b'-'
        && digit(8, b'3')
        && digit(9, b'9')
        && b[10] == b'T'
        && digit(11, b'2')
        && digit(12, b'9')
        && b[13] == b':'
        && digit(14, b'5')
        && digit(15, b'9')
        && b[16] == b':'
        && digit(17, b'5')
        && digit(18, b'9')
        && b[19] != b'\n'
        && b[20..b.len() - 1].iter().all(u8::is_ascii_digit)
        && b[b.len() - 1] == b'Z'
}

#[test]
fn timestamp_check_itself() {
    assert!(is_collection_timestamp("2026-12-02T05:16:42.123Z"));
    assert!(!is_collection_timestamp("2026-12-02T05:16:42Z"));
    assert!(!is_collection_timestamp("2026-12-02 05:16:42.123"));
    // `[01]\d`: the month is checked loosely, as the collection does.
    assert!(is_collection_timestamp("2026-13-02T05:16:42.123Z"));
    assert!(!is_collection_timestamp("2026-22-02T05:16:42.123Z"));
    assert!(!is_collection_timestamp("2026-12-02T05:16:42.123+0000"));
}
