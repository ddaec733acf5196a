//! Conduit over real HTTPS on 127.0.0.1 (the same TLS set-up as `cargo run -p conduit`): the
//! routes served so far, and a problem for any other.

use conduit::model::NewArticle;
use conduit::model::NewUser;
use conduit::Db;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const SECRET: &[u8] = b"conduit-http-tests-secret-of-32-bytes!";

struct Server {
    base: String,
    client: Client,
    db: Db,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_file(&dir.path().join("conduit.sqlite"))
        .await
        .unwrap();
    let (tls, ca) = conduit::server::tls_config(None).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(conduit::server::serve_https(
        listener,
        tls,
        conduit::api::app(db.clone(), SECRET),
    ));
    let ca = reqwest::Certificate::from_pem(ca.unwrap().as_bytes()).unwrap();
    let client = Client::builder()
        .add_root_certificate(ca)
        .no_proxy()
        .build()
        .unwrap();
    Server {
        base: format!("https://{addr}"),
        client,
        db,
        _dir: dir,
    }
}

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
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}
