//! Ownership compares exactly the value the handler binds, over real HTTP on 127.0.0.1: by
//! name for `Path(user_id)` and struct fields (serde renames included), by position for
//! tuples, percent-decoded, and under an `axum::Router::nest` prefix that repeats the
//! parameter's name; a binding that reads another parameter than `owner` names refuses to
//! start; a loader never loads one id while the handler reads another.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use common::*;
use reqwest::StatusCode;
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Owned, OwnedResource, Problem, SecureRouter};
use serde::Deserialize;

// ---- the handlers: each answers with the owner value it binds ------------------------------

#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn single(Path(user_id): Path<String>) -> String {
    format!("user {user_id}")
}

/// The owner second, as in the route `/orgs/{org_id}/users/{user_id}`.
#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn member(Path((org_id, user_id)): Path<(String, String)>) -> String {
    format!("org {org_id} user {user_id}")
}

/// The owner first, as in the route `/users/{user_id}/orgs/{org_id}`.
#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn membership(Path((user_id, org_id)): Path<(String, String)>) -> String {
    format!("user {user_id} org {org_id}")
}

#[derive(Deserialize)]
struct Member {
    team: String,
    user_id: String,
}

#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn by_struct(Path(Member { team, user_id }): Path<Member>) -> String {
    format!("team {team} user {user_id}")
}

#[derive(Deserialize)]
struct Renamed {
    team: String,
    #[serde(rename = "uid")]
    user_id: String,
}

#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn by_renamed(Path(Renamed { team, user_id }): Path<Renamed>) -> String {
    format!("team {team} user {user_id}")
}

/// Field names swapped by serde: the Rust field `user_id` is filled from `{org_id}`.
#[derive(Deserialize)]
struct Swapped {
    #[serde(rename = "org_id")]
    user_id: String,
    #[serde(rename = "user_id")]
    org_id: String,
}

#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn by_swapped(Path(Swapped { user_id, org_id }): Path<Swapped>) -> String {
    format!("org {org_id} user {user_id}")
}

fn alice() -> String {
    token("alice", &["user"], "")
}

async fn start(router: axum::Router) -> SocketAddr {
    serve(router).await
}

async fn get_as(addr: SocketAddr, path: &str, token: &str) -> reqwest::Response {
    client_from(None)
        .get(format!("http://{addr}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn expect_body(addr: SocketAddr, path: &str, body: &str) {
    let res = get_as(addr, path, &alice()).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    assert_eq!(res.text().await.unwrap(), body, "{path}");
}

async fn expect_not_found(addr: SocketAddr, path: &str) {
    expect_problem(
        get_as(addr, path, &alice()).await,
        StatusCode::NOT_FOUND,
        &["bob"],
    )
    .await;
}

fn secured() -> SecureRouter {
    SecureRouter::new(security().build())
}

// ---- every binding form --------------------------------------------------------------------

#[tokio::test]
async fn single_path_parameter() {
    let addr = start(secured().route("/users/{user_id}", get(single)).into()).await;
    expect_body(addr, "/users/alice", "user alice").await;
    expect_not_found(addr, "/users/bob").await;
}

#[tokio::test]
async fn tuple_in_both_orders_binds_by_position() {
    let addr = start(
        secured()
            .route("/orgs/{org_id}/users/{user_id}", get(member))
            .route("/users/{user_id}/orgs/{org_id}", get(membership))
            .into(),
    )
    .await;
    // alice in bob's org: her own membership, read from the second parameter.
    expect_body(addr, "/orgs/bob/users/alice", "org bob user alice").await;
    expect_not_found(addr, "/orgs/alice/users/bob").await;
    // The owner first.
    expect_body(addr, "/users/alice/orgs/bob", "user alice org bob").await;
    expect_not_found(addr, "/users/bob/orgs/alice").await;
}

#[tokio::test]
async fn struct_fields_bind_by_their_serde_name() {
    let router = secured()
        .route("/teams/{team}/members/{user_id}", get(by_struct))
        .route("/teams/{team}/people/{uid}", get(by_renamed))
        .route("/orgs/{org_id}/users/{user_id}", get(by_swapped));
    let inventory = router.inventory();
    let owner_of = |handler: &str| {
        inventory
            .endpoints
            .iter()
            .find(|e| e.handler == handler)
            .and_then(|e| e.owner)
    };
    // The inventory names the route parameter the owner is read from.
    assert_eq!(owner_of("by_struct"), Some("user_id"));
    assert_eq!(owner_of("by_renamed"), Some("uid"));
    assert_eq!(owner_of("by_swapped"), Some("org_id"));
    let addr = start(router.into()).await;

    expect_body(addr, "/teams/bob/members/alice", "team bob user alice").await;
    expect_not_found(addr, "/teams/alice/members/bob").await;

    expect_body(addr, "/teams/bob/people/alice", "team bob user alice").await;
    expect_not_found(addr, "/teams/alice/people/bob").await;

    // The handler's `user_id` holds `{org_id}`: that is what is compared.
    expect_body(addr, "/orgs/alice/users/bob", "org bob user alice").await;
    expect_not_found(addr, "/orgs/bob/users/alice").await;
}

#[tokio::test]
async fn percent_encoded_segments_compare_decoded() {
    let addr = start(
        secured()
            .route("/users/{user_id}", get(single))
            .route("/orgs/{org_id}/users/{user_id}", get(member))
            .into(),
    )
    .await;
    expect_body(addr, "/users/%61lic%65", "user alice").await;
    expect_not_found(addr, "/users/b%6Fb").await;
    expect_body(addr, "/orgs/b%6Fb/users/%61lice", "org bob user alice").await;
    expect_not_found(addr, "/orgs/%61lice/users/b%6Fb").await;
    expect_not_found(addr, "/orgs/alice/users/b%6Fb").await;
}

#[tokio::test]
async fn nested_prefix_repeating_the_name() {
    // `/orgs/{user_id}` around `/users/{user_id}`: axum hands the handler both, in order, and
    // its tuple's second element is the inner one.
    let inner: axum::Router = secured().route("/users/{user_id}", get(member)).into();
    let addr = start(axum::Router::new().nest("/orgs/{user_id}", inner)).await;
    expect_body(addr, "/orgs/bob/users/alice", "org bob user alice").await;
    expect_not_found(addr, "/orgs/alice/users/bob").await;
    // Encoded or not, the same parameter is compared.
    expect_not_found(addr, "/orgs/alice/users/b%6Fb").await;
    expect_not_found(addr, "/orgs/%61lice/users/b%6Fb").await;
    expect_body(addr, "/orgs/bob/users/%61lice", "org bob user alice").await;
}

// ---- refused at registration ------------------------------------------------------------------

/// The panic message of building `router`, which must panic.
fn refusal(router: impl FnOnce() -> SecureRouter) -> String {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(router))
        .expect_err("registration should refuse the route");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn a_tuple_in_another_order_than_the_route_refuses_to_start() {
    // `membership` binds `(user_id, org_id)`: on this route, axum would fill its `user_id`
    // from `{org_id}`, and alice's token on `/orgs/bob/users/alice` would serve bob.
    let message = refusal(|| secured().route("/orgs/{org_id}/users/{user_id}", get(membership)));
    assert!(message.contains("endpoint `membership`"), "{message}");
    assert!(
        message.contains("route `/orgs/{org_id}/users/{user_id}`"),
        "{message}"
    );
    assert!(message.contains("position 0"), "{message}");
    assert!(message.contains("`{org_id}`"), "{message}");
}

#[test]
#[should_panic(
    expected = "endpoint `single` declares `owner = \"user_id\"` and binds it as the whole `Path(...)`, but the route `/orgs/{org_id}/users/{user_id}` has 2 parameters"
)]
fn a_single_binding_on_a_route_of_two_parameters_refuses_to_start() {
    let _ = secured().route("/orgs/{org_id}/users/{user_id}", get(single));
}

#[test]
fn a_tuple_longer_or_shorter_than_the_route_refuses_to_start() {
    let message = refusal(|| secured().route("/users/{user_id}", get(membership)));
    assert!(message.contains("endpoint `membership`"), "{message}");
    assert!(message.contains("position 0 of a 2-tuple"), "{message}");
    assert!(message.contains("nested under"), "{message}");
    let message = refusal(|| secured().route("/a/{a}/orgs/{org_id}/users/{user_id}", get(member)));
    assert!(message.contains("has 3 parameters"), "{message}");
}

#[test]
fn a_renamed_field_missing_from_the_route_refuses_to_start() {
    let message = refusal(|| secured().route("/teams/{team}/people/{user_id}", get(by_renamed)));
    assert!(message.contains("endpoint `by_renamed`"), "{message}");
    assert!(message.contains("fills from `{uid}`"), "{message}");
}

// ---- the loader ----------------------------------------------------------------------------

#[derive(Clone)]
struct Orders(Arc<HashMap<&'static str, &'static str>>);

struct Order {
    owner: String,
}

impl OwnedResource<Orders> for Order {
    async fn load(state: &Orders, id: &str) -> Result<Option<Self>, Problem> {
        Ok(state.0.get(id).map(|owner| Order {
            owner: (*owner).to_owned(),
        }))
    }

    fn owner_id(&self) -> &str {
        &self.owner
    }
}

/// Loads `{order_id}`, and reads it from its own `Path` as well.
#[secure_endpoint(auth = "jwt", owner = "order_id", loader = Order)]
async fn order(
    State(_): State<Orders>,
    Path((shop, order_id)): Path<(String, String)>,
    Owned(order): Owned<Order>,
) -> String {
    format!("shop {shop} order {order_id} of {}", order.owner)
}

#[tokio::test]
async fn a_loader_never_loads_one_id_while_the_handler_reads_another() {
    let orders = Orders(Arc::new(HashMap::from([
        ("ord-alice", "alice"),
        ("ord-bob", "bob"),
    ])));
    let inner = SecureRouter::new(security().build())
        .route("/orders/{order_id}", get(order))
        .with_state::<()>(orders.clone());
    let plain = SecureRouter::new(security().build())
        .route("/shops/{shop}/orders/{order_id}", get(order))
        .with_state::<()>(orders);
    let addr = start(plain.nest("/nested/{order_id}", inner)).await;

    expect_body(
        addr,
        "/shops/main/orders/ord-alice",
        "shop main order ord-alice of alice",
    )
    .await;
    expect_not_found(addr, "/shops/main/orders/ord-bob").await;
    // Two `{order_id}`: which one the loader would load is ambiguous, so neither is.
    expect_not_found(addr, "/nested/ord-alice/orders/ord-bob").await;
    expect_not_found(addr, "/nested/ord-alice/orders/ord-alice").await;
}
