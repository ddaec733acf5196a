//! Profiles: `GET /api/profiles/{username}`, `POST`/`DELETE .../follow`; also every article's
//! and comment's `author`.

use secure_endpoint::SafeResponse;
use serde::Serialize;

/// A user as others see them: `following` is whether the viewer follows them (always `false`
/// for an anonymous viewer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, SafeResponse)]
pub struct Profile {
    /// The username.
    pub username: String,
    /// The biography (empty when unset).
    pub bio: String,
    /// The image URL (empty when unset).
    pub image: String,
    /// Whether the viewer follows this user.
    pub following: bool,
}

/// `{"profile": {...}}`.
#[derive(Debug, Clone, Serialize, SafeResponse)]
pub struct ProfileEnvelope {
    /// The profile.
    pub profile: Profile,
}

impl From<Profile> for ProfileEnvelope {
    fn from(profile: Profile) -> Self {
        ProfileEnvelope { profile }
    }
}
