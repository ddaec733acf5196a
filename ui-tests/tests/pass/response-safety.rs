//! Response types that pass the exposure check: skipped and exposed secrets, enums, generics,
//! `List`, and `Json<T>` nested in a status tuple inside a `Result`.

use std::collections::HashMap;

use axum::http::StatusCode;
use secure_endpoint::routing::{get, post};
use secure_endpoint::{secure_endpoint, Json, List, Problem, SafeResponse, SecureRouter, Security};
use serde::{Deserialize, Serialize};

/// Secrets stay in the struct, out of the JSON.
#[derive(Clone, Serialize, SafeResponse)]
struct User {
    id: String,
    #[serde(skip_serializing)]
    password_hash: String,
    #[serde(skip)]
    mfa_secret: Option<String>,
    /// Describes the secret, does not hold it.
    password_changed_at: u64,
    /// Whole words only: not `hash`, not `token`.
    hashtag_count: u32,
    tokens_used: u64,
}

/// The token a login returns is the point of logging in: exposed on purpose, after review.
#[derive(Serialize, SafeResponse)]
#[serde(rename_all = "camelCase")]
struct Login {
    #[safe(expose)]
    access_token: String,
    token_type: &'static str,
    #[serde(rename = "user")]
    profile: User,
}

/// Every variant's fields are checked; skipped ones are not.
#[derive(Serialize, SafeResponse)]
enum Event {
    SignedIn {
        user_id: String,
        at: u64,
    },
    Renamed(String),
    #[serde(skip_serializing)]
    #[allow(dead_code)]
    Internal {
        session_secret: String,
    },
    Heartbeat,
}

/// Generic over a checked type, borrowing too.
#[derive(Serialize, SafeResponse)]
struct Envelope<'a, T> {
    data: T,
    source: &'a str,
    meta: HashMap<String, Vec<u32>>,
}

/// Recursive, and generic with a where clause and an unsized parameter.
#[derive(Serialize, SafeResponse)]
struct Node<T: ?Sized>
where
    T: Serialize,
{
    children: Vec<Self>,
    value: Box<T>,
}

#[derive(Serialize, SafeResponse)]
struct Id(u64);

#[derive(Serialize, SafeResponse)]
struct Empty;

#[derive(Deserialize, garde::Validate)]
struct NewUser {
    #[garde(length(min = 1, max = 100))]
    id: String,
}

fn alice() -> User {
    User {
        id: "alice".into(),
        password_hash: "$argon2id$...".into(),
        mfa_secret: None,
        password_changed_at: 0,
        hashtag_count: 0,
        tokens_used: 0,
    }
}

#[secure_endpoint(auth = "none")]
async fn list_users() -> Json<List<User>> {
    Json(List::new(vec![alice()]))
}

#[secure_endpoint(auth = "none", fields = ["id"])]
async fn create_user(
    Json(new): Json<NewUser>,
) -> Result<(StatusCode, Json<Envelope<'static, User>>), Problem> {
    if new.id.is_empty() {
        return Err(Problem::bad_request("empty id"));
    }
    Ok((
        StatusCode::CREATED,
        Json(Envelope {
            data: User {
                id: new.id,
                ..alice()
            },
            source: "signup",
            meta: HashMap::new(),
        }),
    ))
}

#[secure_endpoint(auth = "none")]
async fn login() -> Json<Login> {
    Json(Login {
        access_token: "eyJ...".into(),
        token_type: "Bearer",
        profile: alice(),
    })
}

#[secure_endpoint(auth = "none")]
async fn events() -> Json<List<Event>> {
    Json(
        [
            Event::SignedIn {
                user_id: "alice".into(),
                at: 0,
            },
            Event::Renamed("al".into()),
            Event::Heartbeat,
        ]
        .into_iter()
        .collect(),
    )
}

/// Tuples, newtypes and unit structs nest fine (only a top-level tuple is refused: it
/// serializes as a JSON array).
#[derive(Serialize, SafeResponse)]
struct Misc {
    ids: (Id, Option<Id>),
    empty: Empty,
    tree: Node<str>,
}

#[secure_endpoint(auth = "none")]
async fn misc() -> Json<Misc> {
    Json(Misc {
        ids: (Id(1), None),
        empty: Empty,
        tree: Node {
            children: Vec::new(),
            value: "root".into(),
        },
    })
}

fn app() -> axum::Router {
    SecureRouter::new(Security::builder().build())
        .route("/users", get(list_users).post(create_user))
        .route("/login", post(login))
        .route("/events", get(events))
        .route("/misc", get(misc))
        .into_router()
}

fn main() {
    let _ = app();
    let json = serde_json::to_value(List::new(vec![alice()])).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "data": [{ "id": "alice", "password_changed_at": 0, "hashtag_count": 0, "tokens_used": 0 }],
            "count": 1
        })
    );
}
