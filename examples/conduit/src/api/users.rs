//! Users and authentication: `POST /api/users`, `POST /api/users/login`,
//! `GET`/`PUT /api/user`.

use axum::extract::State;
use axum::http::StatusCode;
use secure_endpoint::routing::{get, post};
use secure_endpoint::{secure_endpoint, ClientIp, Json, Principal, Problem, SecureRouter};

use super::tokens::user_id;
use super::{found, problem, AppState};
use crate::model::{LoginRequest, NewUserRequest, UpdateUserRequest, User, UserEnvelope};

/// Registers a user and returns it with a token (201).
#[secure_endpoint(
    auth = "none",
    reason = "registration is open (RealWorld: POST /api/users)",
    rate = "10/1h",
    fields = ["user.username", "user.email", "user.password"]
)]
pub(super) async fn register(
    State(state): State<AppState>,
    Json(req): Json<NewUserRequest>,
) -> Result<(StatusCode, Json<UserEnvelope>), Problem> {
    let record = state.db.register(&req.user).await.map_err(problem)?;
    let token = state.tokens.issue(record.id);
    Ok((StatusCode::CREATED, Json(User::new(record, token).into())))
}

/// Exchanges email and password for the user and a token. At most 5 failed attempts per
/// client and email every 15 minutes (reserved before the password hash is checked), on top
/// of 20 attempts per minute per client.
#[secure_endpoint(
    auth = "none",
    reason = "exchanges credentials for a token",
    rate = "20/1m",
    fields = ["user.email", "user.password"]
)]
pub(super) async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(req): Json<LoginRequest>,
) -> Result<Json<UserEnvelope>, Problem> {
    let attempt = state.login_failures.reserve(&ip, &req.user.email)?;
    match state
        .db
        .login(&req.user.email, &req.user.password)
        .await
        .map_err(problem)?
    {
        Some(record) => {
            attempt.succeeded();
            let token = state.tokens.issue(record.id);
            Ok(Json(User::new(record, token).into()))
        }
        None => {
            attempt.failed();
            Err(invalid_credentials())
        }
    }
}

/// The spec's answer to wrong credentials: 401, without saying which one was wrong.
fn invalid_credentials() -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED)
        .with_code("invalid_credentials")
        .with_detail("email or password is invalid")
}

/// The authenticated user, with a fresh token.
#[secure_endpoint(auth = "jwt", allow = "authenticated")]
pub(super) async fn current_user(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<UserEnvelope>, Problem> {
    let id = user_id(&principal)?;
    let record = found(state.db.user_by_id(id).await)?;
    Ok(Json(User::new(record, state.tokens.issue(id)).into()))
}

/// Updates the authenticated user (any of email, password, username, bio, image).
#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    fields = ["user.email", "user.password", "user.username", "user.bio", "user.image"]
)]
pub(super) async fn update_user(
    State(state): State<AppState>,
    principal: Principal,
    Json(req): Json<UpdateUserRequest>,
) -> Result<Json<UserEnvelope>, Problem> {
    let id = user_id(&principal)?;
    let record = found(state.db.update_user(id, &req.user).await)?;
    Ok(Json(User::new(record, state.tokens.issue(id)).into()))
}

/// This module's routes (`POST /users`, `POST /users/login`, `GET`/`PUT /user`), relative to where they are nested (`/api`).
pub(super) fn routes() -> SecureRouter<AppState> {
    SecureRouter::module()
        .route("/users", post(register))
        .route("/users/login", post(login))
        .route("/user", get(current_user).put(update_user))
}
