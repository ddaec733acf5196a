//! Loaders that see what they need, and the ownership status, over real HTTP on 127.0.0.1: a
//! loader for `/articles/{slug}/comments/{id}` reads both parameters (typed, or by name) and
//! the state (the router's, or an `Extension`); the check runs before the handler; another's
//! resource is a 404 unless the endpoint (`owner_status = 403`) or the router
//! (`SecureRouter::owner_status`) says 403, and the inventory shows which.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::Path;
use axum::Extension;
use common::*;
use reqwest::StatusCode;
use secure_endpoint::policy::OwnerDenial;
use secure_endpoint::routing::{delete, get};
use secure_endpoint::{secure_endpoint, Owned, Problem, SecureRouter};
use secure_endpoint::{LoadContext, LoadOwned};

/// Comments by (article slug, comment id), and how many times a handler ran.
#[derive(Clone, Default)]
struct Blog {
    comments: Arc<HashMap<(String, u64), Comment>>,
    handled: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct Comment {
    author: String,
    body: String,
}

fn blog() -> Blog {
    let comment = |author: &str, body: &str| Comment {
        author: author.to_owned(),
        body: body.to_owned(),
    };
    Blog {
        comments: Arc::new(HashMap::from([
            (("hello".to_owned(), 1), comment(ALICE, "first")),
            (("hello".to_owned(), 2), comment(BOB, "second")),
            (("other".to_owned(), 3), comment(ALICE, "elsewhere")),
        ])),
        handled: Arc::default(),
    }
}

/// Both parameters, typed as axum's `Path` reads them, and the router's state.
impl LoadOwned<Blog> for Comment {
    async fn load(mut request: LoadContext<'_, Blog>) -> Result<Option<Self>, Problem> {
        let (slug, id): (String, u64) = request.path().await?;
        Ok(request.state().comments.get(&(slug, id)).cloned())
    }

    fn owner_id(&self) -> &str {
        &self.author
    }
}

/// The same comment, loaded by parameter name from state held in an `Extension`, on a router
/// without state (`()`).
struct ExtComment(Comment);

impl LoadOwned<()> for ExtComment {
    async fn load(request: LoadContext<'_, ()>) -> Result<Option<Self>, Problem> {
        let Some(blog) = request.extension::<Blog>() else {
            return Err(Problem::internal());
        };
        let (Some(slug), Ok(id)) = (request.param("slug"), request.id().parse::<u64>()) else {
            return Ok(None);
        };
        Ok(blog
            .comments
            .get(&(slug.to_owned(), id))
            .cloned()
            .map(ExtComment))
    }

    fn owner_id(&self) -> &str {
        &self.0.author
    }
}

#[secure_endpoint(auth = "jwt", owner = "id", loader = Comment)]
async fn delete_comment(
    axum::extract::State(blog): axum::extract::State<Blog>,
    Owned(comment): Owned<Comment>,
) -> String {
    blog.handled.fetch_add(1, Ordering::SeqCst);
    format!("deleted {}", comment.body)
}

#[secure_endpoint(auth = "jwt", owner = "id", loader = Comment, owner_status = 403)]
async fn delete_comment_403(
    axum::extract::State(blog): axum::extract::State<Blog>,
    Owned(comment): Owned<Comment>,
) -> String {
    blog.handled.fetch_add(1, Ordering::SeqCst);
    format!("deleted {}", comment.body)
}

#[secure_endpoint(auth = "jwt", owner = "id", loader = ExtComment)]
async fn show_comment(Owned(ExtComment(comment)): Owned<ExtComment>) -> String {
    comment.body
}

#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn profile(Path(user_id): Path<String>) -> String {
    user_id
}

/// Stays 404 under a router that chose 403.
#[secure_endpoint(auth = "jwt", owner = "user_id", owner_status = 404)]
async fn private_profile(Path(user_id): Path<String>) -> String {
    user_id
}

async fn start() -> (SocketAddr, Blog) {
    let blog = blog();
    let router = SecureRouter::new(security().build())
        .route("/articles/{slug}/comments/{id}", delete(delete_comment))
        .route(
            "/strict/articles/{slug}/comments/{id}",
            delete(delete_comment_403),
        )
        .with_state::<()>(blog.clone());
    (serve(router).await, blog)
}

async fn delete_as(addr: SocketAddr, path: &str, token: &str) -> reqwest::Response {
    client_from(None)
        .delete(format!("http://{addr}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_loader_reads_both_path_parameters_and_the_state() {
    let (addr, blog) = start().await;
    let res = delete_as(addr, "/articles/hello/comments/1", &alice()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "deleted first");
    // Alice's comment 3 exists, under another article: not this article's comment.
    let res = delete_as(addr, "/articles/hello/comments/3", &alice()).await;
    expect_problem(res, StatusCode::NOT_FOUND, &[]).await;
    // Not a number: names no comment.
    let res = delete_as(addr, "/articles/hello/comments/x", &alice()).await;
    expect_problem(res, StatusCode::NOT_FOUND, &[]).await;
    // Bob's comment: 404 by default, the same as one that does not exist.
    let res = delete_as(addr, "/articles/hello/comments/2", &alice()).await;
    expect_problem(res, StatusCode::NOT_FOUND, &[]).await;
    let res = delete_as(addr, "/articles/hello/comments/9", &alice()).await;
    expect_problem(res, StatusCode::NOT_FOUND, &[]).await;
    // The handler ran once: for the comment that was hers.
    assert_eq!(blog.handled.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn owner_status_403_on_the_endpoint() {
    let (addr, blog) = start().await;
    let res = delete_as(addr, "/strict/articles/hello/comments/2", &alice()).await;
    expect_problem(res, StatusCode::FORBIDDEN, &[]).await;
    // What does not exist (or is another article's) is still a 404.
    let res = delete_as(addr, "/strict/articles/hello/comments/9", &alice()).await;
    expect_problem(res, StatusCode::NOT_FOUND, &[]).await;
    let res = delete_as(addr, "/strict/articles/other/comments/2", &bob()).await;
    expect_problem(res, StatusCode::NOT_FOUND, &[]).await;
    let res = delete_as(addr, "/strict/articles/hello/comments/2", &bob()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(blog.handled.load(Ordering::SeqCst), 1);
    // Without a token, still a 401 first.
    let res = client_from(None)
        .delete(format!("http://{addr}/strict/articles/hello/comments/2"))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
}

#[tokio::test]
async fn a_loader_reads_state_held_in_an_extension() {
    let router: axum::Router = SecureRouter::new(security().build())
        .route("/articles/{slug}/comments/{id}", get(show_comment))
        .into_router()
        .layer(Extension(blog()));
    let addr = serve(router).await;
    let res = get_as_at(addr, "/articles/hello/comments/1", &alice()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "first");
    let res = get_as_at(addr, "/articles/other/comments/1", &alice()).await;
    expect_problem(res, StatusCode::NOT_FOUND, &[]).await;
    let res = get_as_at(addr, "/articles/hello/comments/2", &alice()).await;
    expect_problem(res, StatusCode::NOT_FOUND, &[]).await;
}

async fn get_as_at(addr: SocketAddr, path: &str, token: &str) -> reqwest::Response {
    client_from(None)
        .get(format!("http://{addr}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn owner_status_403_on_the_router_and_in_the_inventory() {
    let router = SecureRouter::<()>::new(security().build())
        .owner_status(OwnerDenial::Forbidden)
        .route("/profiles/{user_id}", get(profile))
        .route("/private/{user_id}", get(private_profile));
    let inventory = router.inventory();
    let addr = serve(router.into()).await;
    let res = get_as_at(addr, &format!("/profiles/{ALICE}"), &alice()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = get_as_at(addr, &format!("/profiles/{BOB}"), &alice()).await;
    expect_problem(res, StatusCode::FORBIDDEN, &[BOB]).await;
    let res = get_as_at(addr, &format!("/private/{BOB}"), &alice()).await;
    expect_problem(res, StatusCode::NOT_FOUND, &[BOB]).await;

    assert_eq!(inventory.endpoints[0].owner_status, Some(403));
    assert_eq!(inventory.endpoints[1].owner_status, None);
    let json: serde_json::Value = serde_json::from_str(&inventory.to_json()).unwrap();
    assert_eq!(json["endpoints"][0]["owner_status"], 403);
    assert!(json["endpoints"][1].get("owner_status").is_none());
    let markdown = inventory.to_markdown();
    assert!(
        markdown.contains("| owner: {user_id}; 403 if not theirs |"),
        "{markdown}"
    );
    assert!(markdown.contains("| owner: {user_id} |"), "{markdown}");
}

#[test]
#[should_panic(expected = "`SecureRouter::owner_status` must come before the routes")]
fn the_router_status_comes_before_its_routes() {
    let _ = SecureRouter::<()>::new(security().build())
        .route("/profiles/{user_id}", get(profile))
        .owner_status(OwnerDenial::Forbidden);
}

#[test]
fn the_endpoint_status_is_in_its_policy() {
    use secure_endpoint::SecureEndpoint;
    let owner = delete_comment_403::POLICY.authorization.owner.unwrap();
    assert_eq!(owner.denial, Some(OwnerDenial::Forbidden));
    assert_eq!(owner.loader, Some("Comment"));
    let owner = delete_comment::POLICY.authorization.owner.unwrap();
    assert_eq!(owner.denial, None);
}
