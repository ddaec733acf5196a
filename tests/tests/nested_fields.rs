//! Nested allowlists over real HTTP: `fields` as paths (`user.email`, `items[].sku`), checked
//! at every level before deserialization; an unknown key anywhere is a 422 naming its full
//! path and never its value; duplicates refused at every depth; a level a path goes into must
//! be an object (or an array for `[]`), so a struct cannot be filled by position.

mod common;

use std::net::SocketAddr;

use reqwest::StatusCode;
use secure_endpoint::routing::post;
use secure_endpoint::{secure_endpoint, Json, SafeResponse, SecureRouter, Security};
use serde::{Deserialize, Serialize};
use serde_json::json;

use common::{client_from, expect_json, expect_problem};

#[derive(Deserialize, garde::Validate)]
struct NewUser {
    #[garde(length(min = 1, max = 64))]
    username: String,
    #[garde(length(min = 3, max = 254))]
    email: String,
    #[garde(length(min = 8, max = 128))]
    password: String,
    /// Never allowlisted: a request naming it is refused before it reaches serde.
    #[garde(skip)]
    #[serde(default)]
    role: Option<String>,
}

#[derive(Deserialize, garde::Validate)]
struct Register {
    #[garde(dive)]
    user: NewUser,
}

#[derive(Serialize, SafeResponse)]
struct Registered {
    username: String,
    role: String,
}

#[secure_endpoint(
    auth = "none",
    fields = ["user.username", "user.email", "user.password"]
)]
async fn register(Json(body): Json<Register>) -> Json<Registered> {
    Json(Registered {
        username: body.user.username,
        role: body.user.role.unwrap_or_else(|| "user".into()),
    })
}

#[derive(Deserialize, garde::Validate)]
struct Line {
    #[garde(length(min = 1, max = 32))]
    sku: String,
    #[garde(range(min = 1, max = 100))]
    qty: u32,
    #[garde(skip)]
    #[serde(default)]
    price: Option<u64>,
}

#[derive(Deserialize, garde::Validate)]
struct NewOrder {
    #[garde(length(max = 200))]
    note: Option<String>,
    #[garde(length(max = 50), dive)]
    items: Vec<Line>,
}

#[derive(Serialize, SafeResponse)]
struct OrderTotal {
    lines: usize,
    units: u32,
    priced: bool,
}

#[secure_endpoint(auth = "none", fields = ["note", "items[].sku", "items[].qty"])]
async fn order(Json(body): Json<NewOrder>) -> Json<OrderTotal> {
    Json(OrderTotal {
        lines: body.items.len(),
        units: body.items.iter().map(|l| l.qty).sum(),
        priced: body.items.iter().any(|l| l.price.is_some()),
    })
}

async fn serve() -> SocketAddr {
    let app = SecureRouter::new(Security::builder().allow_plain_http().build())
        .route("/users", post(register))
        .route("/orders", post(order))
        .into_router();
    common::serve(app).await
}

async fn send(addr: SocketAddr, path: &str, body: String) -> reqwest::Response {
    client_from(None)
        .post(format!("http://{addr}{path}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_envelope_admits_exactly_its_listed_fields() {
    let addr = serve().await;
    let ok =
        json!({"user": {"username": "jake", "email": "jake@jake.jake", "password": "jakejake"}});
    let body = expect_json(send(addr, "/users", ok.to_string()).await, StatusCode::OK).await;
    assert_eq!(body, json!({"username": "jake", "role": "user"}));

    // Mass assignment inside the envelope: refused before serde, named by its full path.
    let sneaky = json!({"user": {"username": "jake", "email": "jake@jake.jake",
        "password": "jakejake", "role": "admin-value-7f3"}});
    let p = expect_problem(
        send(addr, "/users", sneaky.to_string()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        &["admin-value-7f3"],
    )
    .await;
    assert_eq!(p.body["code"], "unknown_fields");
    assert_eq!(p.error_fields(), vec!["user.role"]);

    // Beside the envelope too.
    let beside = json!({"user": {"username": "j"}, "isAdmin": true});
    let p = expect_problem(
        send(addr, "/users", beside.to_string()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        &[],
    )
    .await;
    assert_eq!(p.error_fields(), vec!["isAdmin"]);
}

#[tokio::test]
async fn duplicates_are_refused_at_every_depth() {
    let addr = serve().await;
    let inner =
        r#"{"user":{"username":"jake","email":"a@b.cd","password":"jakejake","username":"root"}}"#;
    let p = expect_problem(
        send(addr, "/users", inner.into()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        &["root"],
    )
    .await;
    assert_eq!(p.body["code"], "duplicate_field");
    assert_eq!(p.error_fields(), vec!["user.username"]);

    let outer = r#"{"user":{"username":"a"},"user":{"username":"b"}}"#;
    let p = expect_problem(
        send(addr, "/users", outer.into()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        &[],
    )
    .await;
    assert_eq!(p.body["code"], "duplicate_field");
    assert_eq!(p.error_fields(), vec!["user"]);
}

#[tokio::test]
async fn array_elements_are_checked_and_named_by_index() {
    let addr = serve().await;
    let ok = json!({"note": "n", "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 3}]});
    let body = expect_json(send(addr, "/orders", ok.to_string()).await, StatusCode::OK).await;
    assert_eq!(body, json!({"lines": 2, "units": 5, "priced": false}));

    let priced = json!({"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 1},
        {"sku": "c", "qty": 1, "price": 987654}]});
    let p = expect_problem(
        send(addr, "/orders", priced.to_string()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        &["987654"],
    )
    .await;
    assert_eq!(p.body["code"], "unknown_fields");
    assert_eq!(p.error_fields(), vec!["items[2].price"]);
}

#[tokio::test]
async fn a_struct_cannot_be_filled_by_position() {
    let addr = serve().await;
    // serde fills `NewUser` from an array by position, `role` included: refused by shape.
    let positional = r#"{"user":["jake","a@b.cd","jakejake","admin"]}"#;
    let p = expect_problem(
        send(addr, "/users", positional.into()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        &["admin"],
    )
    .await;
    assert_eq!(p.body["code"], "invalid_body");
    assert_eq!(p.error_fields(), vec!["user"]);

    let element = r#"{"items":[{"sku":"a","qty":1},["b",1,5]]}"#;
    let p = expect_problem(
        send(addr, "/orders", element.into()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        &[],
    )
    .await;
    assert_eq!(p.error_fields(), vec!["items[1]"]);

    // The notation sent as a key is an unknown key, not a path.
    let dotted = r#"{"user.role":"admin"}"#;
    let p = expect_problem(
        send(addr, "/users", dotted.into()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        &[],
    )
    .await;
    assert_eq!(p.error_fields(), vec!["user.role"]);
    assert_eq!(p.body["code"], "unknown_fields");
}

#[tokio::test]
async fn the_inventory_lists_the_paths() {
    let router = SecureRouter::<()>::new(Security::builder().allow_plain_http().build())
        .route("/users", post(register));
    let inventory = router.inventory();
    assert_eq!(
        inventory.endpoints[0].fields.as_deref(),
        Some(&["user.username", "user.email", "user.password"][..])
    );
}
