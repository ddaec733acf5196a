//! Users: a profile for its owner only (read and update, emails unique), all of them for
//! administrators.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use secure_endpoint::{secure_endpoint, Json, List, Problem};
use serde::Deserialize;

use secure_endpoint::rate::normalize_identifier;

use crate::{read, write, AppState, UserView};

/// A user's profile, for that user only.
#[secure_endpoint(auth = "jwt", owner = "user_id")]
pub(crate) async fn show_user(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> Result<Json<UserView>, Problem> {
    read(&state.users)
        .get(&user_id)
        .map(|u| Json(UserView::from(u)))
        .ok_or_else(Problem::not_found)
}

/// What a user may change about themself: nothing else gets through (no `role`).
#[derive(Deserialize, garde::Validate, utoipa::ToSchema)]
struct UpdateUser {
    #[garde(inner(length(min = 1, max = 100)))]
    #[schema(min_length = 1, max_length = 100)]
    name: Option<String>,
    /// An address as the handler accepts it (after normalization: no surrounding space).
    #[garde(inner(length(min = 3, max = 254), contains("@")))]
    #[schema(min_length = 3, max_length = 254, pattern = r"^[^\s@]+@[^\s@]+$")]
    email: Option<String>,
}

/// 409: the address belongs to another account. Says no more than that: not whose.
fn email_taken() -> Problem {
    Problem::new(StatusCode::CONFLICT)
        .with_code("email_taken")
        .with_detail("This email address is already in use.")
}

/// Updates the caller's own name and email. Emails are unique in their normalized form (case,
/// surrounding whitespace, Unicode NFKC: [`normalize_identifier`]), stored in that form; an
/// address another account holds is a 409. The check and the write are one step under the
/// lock, so two concurrent updates cannot both take one address.
#[secure_endpoint(auth = "jwt", owner = "user_id", fields = ["name", "email"])]
pub(crate) async fn update_user(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    Json(update): Json<UpdateUser>,
) -> Result<Json<UserView>, Problem> {
    let email = match update.email.as_deref().map(normalize_identifier) {
        Some(email) if email.chars().count() < 3 || !email.contains('@') => {
            return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
                .with_code("validation_failed")
                .with_detail("The request body failed validation.")
                .with_errors(vec![secure_endpoint::FieldError {
                    field: "email".into(),
                    message: "not an email address".into(),
                }]));
        }
        email => email,
    };
    let mut users = write(&state.users);
    if !users.contains_key(&user_id) {
        return Err(Problem::not_found());
    }
    if let Some(email) = &email {
        if users.values().any(|u| u.id != user_id && u.email == *email) {
            return Err(email_taken());
        }
    }
    let user = users.get_mut(&user_id).ok_or_else(Problem::not_found)?;
    if let Some(name) = update.name {
        user.name = name;
    }
    if let Some(email) = email {
        user.email = email;
    }
    Ok(Json(UserView::from(&*user)))
}
/// Every user, for administrators.
#[secure_endpoint(auth = "jwt", roles = ["admin"])]
pub(crate) async fn admin_list_users(State(state): State<AppState>) -> Json<List<UserView>> {
    let mut users: Vec<UserView> = read(&state.users).values().map(UserView::from).collect();
    users.sort_by(|a, b| a.email.cmp(&b.email));
    Json(List::new(users))
}
