//! Users and authentication: `POST /api/users`, `POST /api/users/login`, `GET`/`PUT /api/user`.

use garde::Validate;
use secure_endpoint::SafeResponse;
use serde::{Deserialize, Serialize};

use crate::db::UserRecord;

/// The current user, with the token that authenticates them (`Authorization: Token <token>`).
#[derive(Clone, Serialize, SafeResponse)]
pub struct User {
    /// The email address.
    pub email: String,
    /// The token issued at registration or login; sending it is the point.
    #[safe(expose)]
    pub token: String,
    /// The username.
    pub username: String,
    /// The biography (empty when unset).
    pub bio: String,
    /// The image URL (empty when unset).
    pub image: String,
}

impl User {
    /// The response for `record`, authenticated by `token`.
    pub fn new(record: UserRecord, token: String) -> Self {
        User {
            email: record.email,
            token,
            username: record.username,
            bio: record.bio,
            image: record.image,
        }
    }
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("email", &self.email)
            .field("token", &"<redacted>")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// `{"user": {...}}`.
#[derive(Debug, Clone, Serialize, SafeResponse)]
pub struct UserEnvelope {
    /// The user.
    pub user: User,
}

impl From<User> for UserEnvelope {
    fn from(user: User) -> Self {
        UserEnvelope { user }
    }
}

/// garde rule for usernames: they appear in paths (`/api/profiles/{username}`), so no `/`,
/// no whitespace and no control characters; 1 to 64 characters.
pub(crate) fn username_rules(value: &str, _: &()) -> garde::Result {
    let chars = value.chars().count();
    if chars == 0 {
        return Err(garde::Error::new("can't be blank"));
    }
    if chars > 64 {
        return Err(garde::Error::new("is too long (maximum is 64 characters)"));
    }
    if value
        .chars()
        .any(|c| c == '/' || c.is_whitespace() || c.is_control())
    {
        return Err(garde::Error::new(
            "may not contain '/', whitespace or control characters",
        ));
    }
    Ok(())
}

/// garde rule for image URLs: empty, or `https://`/`http://` (no `javascript:` or `data:` in
/// an `<img src>` of a front end).
pub(crate) fn image_rules(value: &str, _: &()) -> garde::Result {
    if value.is_empty() || value.starts_with("https://") || value.starts_with("http://") {
        Ok(())
    } else {
        Err(garde::Error::new("must be an http(s) URL"))
    }
}

/// The body of `POST /api/users`: `{"user": {"username", "email", "password"}}`.
#[derive(Deserialize, Validate)]
pub struct NewUserRequest {
    /// The new user.
    #[garde(dive)]
    pub user: NewUser,
}

/// A registration.
#[derive(Deserialize, Validate)]
pub struct NewUser {
    /// Unique, case-insensitively; see `username_rules`.
    #[garde(custom(username_rules))]
    pub username: String,
    /// Unique, case-insensitively.
    #[garde(length(min = 3, max = 254), contains("@"))]
    pub email: String,
    /// 8 to 128 bytes (the upper bound keeps hashing cheap to refuse).
    #[garde(length(min = 8, max = 128))]
    pub password: String,
}

/// The body of `POST /api/users/login`: `{"user": {"email", "password"}}`.
#[derive(Deserialize, Validate)]
pub struct LoginRequest {
    /// The credentials.
    #[garde(dive)]
    pub user: LoginUser,
}

/// Login credentials.
#[derive(Deserialize, Validate)]
pub struct LoginUser {
    /// The email address.
    #[garde(length(min = 1, max = 254))]
    pub email: String,
    /// The password.
    #[garde(length(min = 1, max = 128))]
    pub password: String,
}

/// The body of `PUT /api/user`: `{"user": {...}}` with at least one field.
#[derive(Deserialize, Validate)]
pub struct UpdateUserRequest {
    /// The changes.
    #[garde(dive, custom(at_least_one_user_change))]
    pub user: UpdateUser,
}

/// Changes to the current user; absent fields stay as they are.
#[derive(Default, Deserialize, Validate)]
pub struct UpdateUser {
    /// A new email address.
    #[garde(inner(length(min = 3, max = 254), contains("@")))]
    pub email: Option<String>,
    /// A new password.
    #[garde(inner(length(min = 8, max = 128)))]
    pub password: Option<String>,
    /// A new username.
    #[garde(inner(custom(username_rules)))]
    pub username: Option<String>,
    /// A new biography (may be empty).
    #[garde(inner(length(max = 2_000)))]
    pub bio: Option<String>,
    /// A new image URL (may be empty).
    #[garde(inner(length(max = 2_048), custom(image_rules)))]
    pub image: Option<String>,
}

fn at_least_one_user_change(value: &UpdateUser, _: &()) -> garde::Result {
    let UpdateUser {
        email,
        password,
        username,
        bio,
        image,
    } = value;
    if email.is_none()
        && password.is_none()
        && username.is_none()
        && bio.is_none()
        && image.is_none()
    {
        return Err(garde::Error::new("at least one field is required"));
    }
    Ok(())
}
