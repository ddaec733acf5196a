//! Conduit over real HTTPS on 127.0.0.1 (the same TLS set-up as `cargo run -p conduit`): the
//! public routes, and the spec's error shape for a route that does not exist.

mod common;

use common::{spec_error, start};
use conduit::model::NewArticle;
use conduit::model::NewUser;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn tags_are_public_and_come_from_the_database() {
    let server = start().await;
    let url = format!("{}/api/tags", server.base);

    let empty = server.client.get(&url).send().await.unwrap();
    assert_eq!(empty.status(), StatusCode::OK);
    assert_eq!(empty.headers()["x-content-type-options"], "nosniff");
    assert!(empty.headers().contains_key("x-request-id"));
    assert_eq!(empty.json::<Value>().await.unwrap(), json!({"tags": []}));

    let jake = server
        .db
        .register(&NewUser {
            username: "jake".into(),
            email: "jake@example.com".into(),
            password: "correct horse battery".into(),
        })
        .await
        .unwrap();
    server
        .db
        .create_article(
            jake.id,
            &NewArticle {
                title: "How to train your dragon".into(),
                description: "Ever wonder how?".into(),
                body: "Very carefully.".into(),
                tag_list: vec!["training".into(), "dragons".into()],
            },
        )
        .await
        .unwrap();
    let tags: Value = server
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tags, json!({"tags": ["dragons", "training"]}));
}

#[tokio::test]
async fn unknown_routes_are_404_problems() {
    let server = start().await;
    let response = server
        .client
        .get(format!("{}/api/no-such-route", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/json");
    let errors = spec_error(response, StatusCode::NOT_FOUND).await;
    assert!(errors["body"][0].is_string(), "{errors}");
}
