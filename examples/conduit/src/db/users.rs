//! Users: registration (argon2id hash), login, lookup and update.

use std::sync::OnceLock;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use sqlx::FromRow;

use super::{is_unique_violation, Db, Error};
use crate::model::{NewUser, UpdateUser};

/// A user as stored, without the password hash (which never leaves this module).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct UserRecord {
    /// The row id: the subject of the user's tokens.
    pub id: i64,
    /// The username.
    pub username: String,
    /// The email address.
    pub email: String,
    /// The biography (empty when unset).
    pub bio: String,
    /// The image URL (empty when unset).
    pub image: String,
}

#[derive(FromRow)]
struct Credentials {
    id: i64,
    password_hash: String,
}

async fn hash_password(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|_| Error::Hash)
    })
    .await
    .map_err(|_| Error::Hash)?
}

/// A hash of a random password, verified against when the email is unknown so that a login
/// takes as long for an unknown email as for a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        let password = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_str().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Maps a UNIQUE violation on `users` to the field that is taken.
fn taken(err: sqlx::Error) -> Error {
    if is_unique_violation(&err, "users.username") {
        Error::Taken("username")
    } else if is_unique_violation(&err, "users.email") {
        Error::Taken("email")
    } else {
        Error::Database(err)
    }
}

const USER_COLUMNS_BY_ID: &str = "SELECT id, username, email, bio, image FROM users WHERE id = ?1";

impl Db {
    /// Registers a user. [`Error::Taken`] when the username or the email is already used,
    /// whatever its case.
    pub async fn register(&self, new: &NewUser) -> Result<UserRecord, Error> {
        let hash = hash_password(new.password.clone()).await?;
        sqlx::query_as::<_, UserRecord>(
            "INSERT INTO users (username, email, password_hash) VALUES (?1, ?2, ?3) \
             RETURNING id, username, email, bio, image",
        )
        .bind(&new.username)
        .bind(&new.email)
        .bind(hash)
        .fetch_one(&self.pool)
        .await
        .map_err(taken)
    }

    /// The user with this email (any case) and password, or `None`: unknown email and wrong
    /// password are the same answer and take the same time.
    pub async fn login(&self, email: &str, password: &str) -> Result<Option<UserRecord>, Error> {
        let found = sqlx::query_as::<_, Credentials>(
            "SELECT id, password_hash FROM users WHERE email = ?1",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        let password = password.to_owned();
        let (id, hash) = match found {
            Some(c) => (Some(c.id), Some(c.password_hash)),
            None => (None, None),
        };
        // Hashing blocks: off the async workers, the dummy hash's first computation included.
        let verified = tokio::task::spawn_blocking(move || match &hash {
            Some(hash) => verify_password(&password, hash),
            None => verify_password(&password, dummy_hash()),
        })
        .await
        .map_err(|_| Error::Hash)?;
        match id {
            Some(id) if verified => self.user_by_id(id).await,
            _ => Ok(None),
        }
    }

    /// The user with this id, if any.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>, Error> {
        Ok(sqlx::query_as::<_, UserRecord>(USER_COLUMNS_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Applies `changes` to the user `id` (a new password is hashed); `None` when the user
    /// does not exist. [`Error::Taken`] when the new username or email belongs to another user.
    pub async fn update_user(
        &self,
        id: i64,
        changes: &UpdateUser,
    ) -> Result<Option<UserRecord>, Error> {
        let hash = match &changes.password {
            Some(password) => Some(hash_password(password.clone()).await?),
            None => None,
        };
        sqlx::query_as::<_, UserRecord>(
            "UPDATE users SET \
                 email = COALESCE(?2, email), \
                 username = COALESCE(?3, username), \
                 password_hash = COALESCE(?4, password_hash), \
                 bio = COALESCE(?5, bio), \
                 image = COALESCE(?6, image) \
             WHERE id = ?1 \
             RETURNING id, username, email, bio, image",
        )
        .bind(id)
        .bind(&changes.email)
        .bind(&changes.username)
        .bind(hash)
        .bind(&changes.bio)
        .bind(&changes.image)
        .fetch_optional(&self.pool)
        .await
        .map_err(taken)
    }
}
