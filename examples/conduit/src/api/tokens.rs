//! Tokens: HS256 JWTs whose subject is the user's id, issued at registration and login and
//! presented as `Authorization: Token <jwt>`, as the RealWorld spec has it.

use std::time::Duration;

use axum::http::{HeaderName, Method};
use secure_endpoint::cors::Cors;
use secure_endpoint::credential::Credentials;
use secure_endpoint::jwt::{JwtIssuer, JwtVerifier};
use secure_endpoint::{Principal, Problem};

/// The `iss` of Conduit's tokens.
pub const ISSUER: &str = "conduit";
/// The `aud` of Conduit's tokens.
pub const AUDIENCE: &str = "conduit-api";
/// How long a token is valid.
pub const TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Issues Conduit's tokens.
pub struct Tokens {
    issuer: JwtIssuer,
}

impl Tokens {
    /// An issuer signing with `secret` (at least 32 bytes).
    ///
    /// # Panics
    /// On a shorter secret: the configuration generates or checks it before.
    pub fn new(secret: &[u8]) -> Self {
        Tokens {
            issuer: JwtIssuer::hs256(secret, ISSUER, AUDIENCE, TOKEN_TTL)
                .expect("the JWT secret is at least 32 bytes"),
        }
    }

    /// A token for the user with this id.
    pub fn issue(&self, user_id: i64) -> String {
        self.issuer.issue(&user_id.to_string(), &[], &[])
    }
}

/// The verifier of Conduit's tokens: the scheme name `Token`, not `Bearer`.
pub(super) fn verifier(secret: &[u8]) -> JwtVerifier {
    JwtVerifier::hs256(secret)
        .expect("the JWT secret is at least 32 bytes")
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .credentials(Credentials::authorization("Token"))
        .build()
        .expect("issuer and audience are set")
}

/// CORS for a browser front end: the spec's clients send `X-Requested-With` too.
pub(super) fn cors(origins: &[String]) -> Cors {
    Cors::allow_origins(origins)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            HeaderName::from_static("authorization"),
            HeaderName::from_static("content-type"),
            HeaderName::from_static("x-requested-with"),
        ])
}

/// The id of the authenticated user: the token's subject. A token of this server always
/// carries one; anything else is refused as the 401 an unknown token would be.
pub(super) fn user_id(principal: &Principal) -> Result<i64, Problem> {
    principal
        .subject()
        .parse()
        .map_err(|_| Problem::new(axum::http::StatusCode::UNAUTHORIZED).with_code("invalid_token"))
}

/// The viewer of an optionally authenticated request: `None` when anonymous.
pub(super) fn viewer(principal: Option<&Principal>) -> Result<Option<i64>, Problem> {
    principal.map(user_id).transpose()
}
