//! Conduit over real HTTPS on 127.0.0.1 (the same TLS set-up as `cargo run -p conduit`), on a
//! fresh SQLite file, and the calls the tests share.

#![allow(dead_code)] // each test binary uses its own part

use conduit::Db;
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

/// The tokens' key in tests.
pub(crate) const SECRET: &[u8] = b"conduit-http-tests-secret-of-32-bytes!";

/// A running server and a client that trusts its certificate.
pub(crate) struct Server {
    pub(crate) base: String,
    pub(crate) client: Client,
    pub(crate) db: Db,
    _dir: tempfile::TempDir,
}

/// Starts Conduit on a free port and a new database file.
pub(crate) async fn start() -> Server {
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
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::builder()
        .tls_certs_only([ca])
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

impl Server {
    /// `path` under the server's base URL.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with `Authorization: Token <token>`.
    pub(crate) fn authed(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("authorization", format!("Token {token}"))
    }

    /// Registers `name` (email `name@example.com`) through the API: its token.
    pub(crate) async fn register(&self, name: &str) -> String {
        let response = self
            .client
            .post(self.url("/api/users"))
            .json(&json!({"user": {
                "username": name,
                "email": format!("{name}@example.com"),
                "password": format!("{name}-password-123"),
            }}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "register {name}");
        let body: Value = response.json().await.unwrap();
        body["user"]["token"].as_str().unwrap().to_owned()
    }

    /// Publishes an article as `token`'s user: its slug.
    pub(crate) async fn article(&self, token: &str, title: &str) -> String {
        let response = self
            .authed(reqwest::Method::POST, "/api/articles", token)
            .json(&json!({"article": {
                "title": title,
                "description": "d",
                "body": "b",
                "tagList": ["t"],
            }}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "create {title}");
        let body: Value = response.json().await.unwrap();
        body["article"]["slug"].as_str().unwrap().to_owned()
    }

    /// Comments on `slug` as `token`'s user: the comment's id.
    pub(crate) async fn comment(&self, token: &str, slug: &str) -> i64 {
        let response = self
            .authed(
                reqwest::Method::POST,
                &format!("/api/articles/{slug}/comments"),
                token,
            )
            .json(&json!({"comment": {"body": "a comment"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "comment on {slug}");
        let body: Value = response.json().await.unwrap();
        body["comment"]["id"].as_i64().unwrap()
    }
}

/// Asserts that `response` is a refusal in the spec's error shape with the security headers,
/// and returns its `errors` object.
pub(crate) async fn spec_error(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    let headers = response.headers().clone();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers.contains_key("x-request-id"));
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    let errors = body["errors"].clone();
    assert!(errors.is_object(), "not the spec's error shape: {text}");
    for internal in ["sqlx", "sqlite", "SELECT", "panicked", "src/", "conduit::"] {
        assert!(!text.contains(internal), "{internal} leaked: {text}");
    }
    errors
}
