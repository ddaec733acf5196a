//! Profiles and follows.

use sqlx::FromRow;

use super::{Db, Error};
use crate::model::Profile;

/// A profile row; `following` is computed for the viewer.
#[derive(FromRow)]
struct ProfileRow {
    username: String,
    bio: String,
    image: String,
    following: bool,
}

impl From<ProfileRow> for Profile {
    fn from(row: ProfileRow) -> Self {
        Profile {
            username: row.username,
            bio: row.bio,
            image: row.image,
            following: row.following,
        }
    }
}

const PROFILE_BY_USERNAME: &str = "SELECT u.username, u.bio, u.image, \
         EXISTS (SELECT 1 FROM follows w WHERE w.follower_id = ?1 AND w.followee_id = u.id) \
             AS following \
     FROM users u WHERE u.username = ?2";

impl Db {
    /// The profile of `username` (any case) as `viewer` sees it (`None`: anonymous), or `None`
    /// when there is no such user.
    pub async fn profile(
        &self,
        username: &str,
        viewer: Option<i64>,
    ) -> Result<Option<Profile>, Error> {
        Ok(sqlx::query_as::<_, ProfileRow>(PROFILE_BY_USERNAME)
            .bind(viewer)
            .bind(username)
            .fetch_optional(&self.pool)
            .await?
            .map(Profile::from))
    }

    /// `follower` follows `username`; idempotent. The profile afterwards (`following: true`),
    /// or `None` when there is no such user. Following yourself is [`Error::Invalid`].
    pub async fn follow(&self, follower: i64, username: &str) -> Result<Option<Profile>, Error> {
        let Some(followee) = self.user_id(username).await? else {
            return Ok(None);
        };
        if followee == follower {
            return Err(Error::Invalid {
                field: "username",
                message: "cannot be followed by themselves",
            });
        }
        sqlx::query("INSERT OR IGNORE INTO follows (follower_id, followee_id) VALUES (?1, ?2)")
            .bind(follower)
            .bind(followee)
            .execute(&self.pool)
            .await?;
        self.profile(username, Some(follower)).await
    }

    /// `follower` no longer follows `username`; idempotent. The profile afterwards
    /// (`following: false`), or `None` when there is no such user.
    pub async fn unfollow(&self, follower: i64, username: &str) -> Result<Option<Profile>, Error> {
        let Some(followee) = self.user_id(username).await? else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM follows WHERE follower_id = ?1 AND followee_id = ?2")
            .bind(follower)
            .bind(followee)
            .execute(&self.pool)
            .await?;
        self.profile(username, Some(follower)).await
    }

    /// The id of the user `username` (any case).
    pub(crate) async fn user_id(&self, username: &str) -> Result<Option<i64>, Error> {
        Ok(
            sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE username = ?1")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
