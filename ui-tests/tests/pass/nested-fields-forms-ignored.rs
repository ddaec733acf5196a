//! Envelopes (`fields` as paths), URL-encoded forms and ignored bodies (issue 16, items 5, 6).

use axum::extract::Path;
use secure_endpoint::routing::post;
use secure_endpoint::{secure_endpoint, Form, Json, SecureEndpoint, SecureRouter, Security};

#[derive(serde::Deserialize, garde::Validate)]
struct NewUser {
    #[garde(length(max = 100))]
    email: String,
    #[garde(length(max = 100))]
    password: String,
}

#[derive(serde::Deserialize, garde::Validate)]
struct Register {
    #[garde(dive)]
    user: NewUser,
}

#[secure_endpoint(auth = "none", fields = ["user.email", "user.password"])]
async fn register(Json(body): Json<Register>) -> String {
    body.user.email
}

#[derive(serde::Deserialize, garde::Validate)]
struct Tag {
    #[garde(length(max = 20))]
    name: String,
}

#[derive(serde::Deserialize, garde::Validate)]
struct Article {
    #[garde(length(max = 100))]
    title: String,
    #[garde(length(max = 10), dive)]
    tags: Vec<Tag>,
}

#[derive(serde::Deserialize, garde::Validate)]
struct NewArticle {
    #[garde(dive)]
    article: Article,
}

#[secure_endpoint(
    auth = "jwt",
    allow = "authenticated",
    fields = ["article.title", "article.tags[].name"]
)]
async fn create_article(Json(body): Json<NewArticle>) -> String {
    body.article.title
}

#[derive(serde::Deserialize, garde::Validate)]
struct Search {
    #[garde(length(max = 100))]
    q: String,
}

#[secure_endpoint(auth = "none", fields = ["q"])]
async fn search(Form(search): Form<Search>) -> String {
    search.q
}

#[secure_endpoint(auth = "jwt", allow = "authenticated", body = "ignored", body_limit = "1kb")]
async fn follow(Path(username): Path<String>) -> String {
    username
}

fn main() {
    let p = <register as SecureEndpoint>::POLICY;
    assert!(p.body.nested && !p.body.form && !p.body.ignored);
    assert_eq!(p.fields, Some(&["user.email", "user.password"][..]));
    let p = <create_article as SecureEndpoint>::POLICY;
    assert!(p.body.nested);
    let p = <search as SecureEndpoint>::POLICY;
    assert!(p.body.form && !p.body.nested);
    let p = <follow as SecureEndpoint>::POLICY;
    assert!(p.body.ignored && !p.raw_body && p.fields.is_none());
    assert_eq!(p.body_limit, Some(1024));

    let verifier = secure_endpoint::jwt::JwtVerifier::hs256(b"a secret of at least thirty-two bytes!")
        .unwrap()
        .issuer("https://issuer.example")
        .audience("ui-tests")
        .build()
        .unwrap();
    let _router: axum::Router = SecureRouter::new(Security::builder().jwt(verifier).build())
        .route("/users", post(register))
        .route("/articles", post(create_article))
        .route("/search", post(search))
        .route("/profiles/{username}/follow", post(follow))
        .into_router();
}
