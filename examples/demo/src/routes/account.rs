//! Logging in (strict limit per client and per email) and the caller's own profile, v2 and v1.

use axum::extract::State;
use axum::http::StatusCode;
use secure_endpoint::{secure_endpoint, ClientIp, Json, Principal, Problem, SafeResponse};
use serde::{Deserialize, Serialize};

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use secure_endpoint::abuse::FlowAttempts;
use secure_endpoint::rate::normalize_identifier;

use crate::{read, AppState, UserView, TOKEN_TTL};

/// Login credentials.
#[derive(Deserialize, garde::Validate, utoipa::ToSchema)]
struct LoginRequest {
    #[garde(length(min = 3, max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    email: String,
    #[garde(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    password: String,
}

#[derive(Serialize, SafeResponse, utoipa::ToSchema)]
struct TokenResponse {
    /// The bearer token: handing it to the client is the point of logging in.
    #[safe(expose)]
    #[schema(max_length = 8192)]
    token: String,
    /// `"Bearer"`, or `"DPoP"` when the login carried a DPoP proof and the token is bound to
    /// its key (RFC 9449 §5): describes the token, does not hold it.
    #[schema(max_length = 16)]
    token_type: &'static str,
    #[schema(maximum = 86_400_u64)]
    expires_in: u64,
}

fn invalid_credentials() -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED)
        .with_code("invalid_credentials")
        .with_detail("Invalid email or password.")
        .with_header(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer realm=\"api\""),
        )
}

/// Exchanges email and password for a JWT. At most 5 failed attempts per client IP and email
/// every 15 minutes (successes are not counted), on top of 20 attempts per minute per IP. The
/// attempt is reserved before the password hash is checked, so concurrent wrong passwords
/// cannot get more than 5 checks between them; the email is normalized
/// ([`normalize_identifier`]) for the throttle and the account lookup alike.
///
/// The login flow: 100 attempts per client IP an hour and 1000 a minute in all; credential
/// stuffing (10 emails failing from one client) and spraying (one email failing from 10
/// clients) refuse the client, or the email, for 15 minutes ([`STUFFING_THRESHOLD`]).
///
/// With a DPoP proof (RFC 9449 §5: `DPoP` header, `htm` `POST`, `htu` this URL) the token is
/// bound to the proof's key (`cnf.jkt`, `token_type: "DPoP"`), and is then accepted only with a
/// proof of that key on each request; a refused proof is a 400 `invalid_dpop_proof`, before
/// any password is checked. Without one, a plain bearer token as before.
#[secure_endpoint(
    auth = "none",
    rate = "20/1m",
    fields = ["email", "password"],
    reason = "exchanges credentials for a token",
    flow = "login"
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    attempts: FlowAttempts,
    method: axum::http::Method,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    headers: axum::http::HeaderMap,
    Json(req): Json<LoginRequest>,
) -> Result<Json<TokenResponse>, Problem> {
    // A client or email cooling down after stuffing is refused before any password hash.
    attempts.check(&req.email).await?;
    let dpop_jkt = state
        .dpop
        .token_request(&method, &uri, &headers)
        .await
        .map_err(|refusal| state.dpop.token_problem(&refusal))?;
    let email = normalize_identifier(&req.email);
    // The client as the perimeter resolved it (behind trusted proxies too), not the peer.
    // Counted as a failure from here on, unless given back below.
    let attempt = state.login_failures.reserve(&ip, &email)?;
    let user = read(&state.users)
        .values()
        .find(|u| u.email == email)
        .cloned();
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.to_string());
    let password = req.password;
    let verified = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    match user {
        Some(user) if verified => {
            attempt.succeeded();
            attempts.succeeded(&email).await;
            tracing::info!(target: "demo::auth", user_id = %user.id, "login succeeded");
            let roles = std::slice::from_ref(&user.role);
            let (token, token_type) = match &dpop_jkt {
                Some(jkt) => (state.issuer.issue_bound(&user.id, roles, &[], jkt), "DPoP"),
                None => (state.issuer.issue(&user.id, roles, &[]), "Bearer"),
            };
            Ok(Json(TokenResponse {
                token,
                token_type,
                expires_in: TOKEN_TTL.as_secs(),
            }))
        }
        _ => {
            attempt.failed();
            tracing::info!(target: "demo::auth", ip = %ip, "login failed");
            // The failure that trips the stuffing guard is answered with its 429.
            attempts.failed(&email).await?;
            Err(invalid_credentials())
        }
    }
}

/// The caller's own profile: with a plain bearer token, or with a DPoP-bound token and a
/// proof of its key (which is never accepted as a bearer token).
#[secure_endpoint(auth = ["jwt", "dpop"], allow = "authenticated")]
pub(crate) async fn me(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<UserView>, Problem> {
    read(&state.users)
        .get(principal.subject())
        .map(|u| Json(UserView::from(u)))
        .ok_or_else(Problem::not_found)
}

/// Version 1 of the caller's profile: deprecated, answered with `Deprecation`, `Sunset` and a
/// `Link` to `GET /api/users/me` until its sunset.
#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    deprecated = "2026-01-01",
    sunset = "2027-06-30",
    successor = "/api/users/me"
)]
pub(crate) async fn me_v1(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<UserView>, Problem> {
    read(&state.users)
        .get(principal.subject())
        .map(|u| Json(UserView::from(u)))
        .ok_or_else(Problem::not_found)
}
