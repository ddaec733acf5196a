//! `POST /api/graphql` over real HTTP on 127.0.0.1: the documented queries succeed, and a depth
//! bomb, an alias flood, a batch over the limit, introspection without the role and another
//! user's order (by id and through a nested field) are refused as the module documents. A
//! small app of its own covers what the demo does not configure: a persisted-query allowlist,
//! the rate cost of a batch and masked resolver errors.

use std::time::Duration;

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
use demo::{app, DemoConfig};
use reqwest::{Client, StatusCode};
use secure_endpoint::graphql::{unlisted_fields, GraphQlRequest, GraphQlResponse, SecureSchema};
use secure_endpoint::jwt::{JwtIssuer, JwtVerifier};
use secure_endpoint::policy::GraphQlLimits;
use secure_endpoint::routing::post;
use secure_endpoint::{secure_endpoint, Problem, SecureRouter, Security};
use serde_json::{json, Value};

const PASSWORD: &str = "graphql-test correct horse";

fn config(audit_file: Option<std::path::PathBuf>) -> DemoConfig {
    DemoConfig {
        jwt_secret: b"graphql test secret, at least 32 bytes".to_vec(),
        password: PASSWORD.into(),
        reports_api_key: "demo_graphql0123456789abcdef0123456789".into(),
        webhook_secret: "graphql test webhook secret, 32+ bytes".into(),
        cors_origins: Vec::new(),
        trusted_proxies: Vec::new(),
        audit_file,
        redis_url: None,
        signed: demo::hooks::SignedSenders::generate(),
    }
}

struct Demo {
    base: String,
    client: Client,
    state: demo::AppState,
}

async fn start(audit_file: Option<std::path::PathBuf>) -> Demo {
    let (router, state) = app(&config(audit_file));
    let (tls, ca) = demo::server::tls_config(None).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(demo::server::serve_https(
        listener,
        tls,
        router,
        state.clone(),
    ));
    let ca = reqwest::Certificate::from_pem(ca.unwrap().as_bytes()).unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::builder()
        .tls_certs_only([ca])
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    Demo {
        base,
        client,
        state,
    }
}

impl Demo {
    async fn token(&self, email: &str) -> String {
        let res = self
            .client
            .post(format!("{}/api/login", self.base))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    async fn post(
        &self,
        token: &str,
        body: &Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let res = self
            .client
            .post(format!("{}/api/graphql", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.json().await.unwrap())
    }

    async fn query(&self, token: &str, query: &str) -> (StatusCode, Value) {
        let (status, _, body) = self.post(token, &json!({ "query": query })).await;
        (status, body)
    }
}

fn refused(status: StatusCode, body: &Value, code: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["error_id"].is_string(), "{body}");
}

#[tokio::test]
async fn documented_queries_succeed_and_attacks_are_refused() {
    let demo = start(None).await;
    let alice = demo.token("alice@example.com").await;
    let bob = demo.token("bob@example.com").await;
    let admin = demo.token("admin@example.com").await;

    // Documented: the caller and their orders, with the security headers of any response.
    let (status, headers, body) = demo
        .post(
            &alice,
            &json!({ "query": "{ me { id name email orders { id item totalCents } } }" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["me"]["email"], "alice@example.com");
    let orders = body["data"]["me"]["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 2);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-store");
    let own: Vec<String> = orders
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();

    // Documented: one order by id, with variables; articles with their authors.
    let (status, _, body) = demo
        .post(
            &alice,
            &json!({
                "query": "query One($id: ID!) { order(id: $id) { id item totalCents user { name } } }",
                "variables": { "id": own[0] },
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["order"]["id"], own[0].as_str());
    assert_eq!(body["data"]["order"]["user"]["name"], "Alice");
    let (status, body) = demo
        .query(
            &alice,
            "{ articles(limit: 5) { id title tags author { name } } }",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["articles"][0]["author"]["name"], "Admin");

    // Another user's order by id: null, with the very error a missing order gets.
    let bobs = demo
        .state
        .order_ids()
        .into_iter()
        .find(|id| !own.contains(id))
        .unwrap();
    let by_id = |id: &str| format!("{{ order(id: \"{id}\") {{ id item }} }}");
    let (status, theirs) = demo.query(&alice, &by_id(&bobs)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(theirs["data"]["order"], Value::Null, "{theirs}");
    assert_eq!(theirs["errors"][0]["message"], "Not found");
    assert_eq!(theirs["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let (_, missing) = demo
        .query(&alice, &by_id("00000000-0000-4000-8000-000000000000"))
        .await;
    assert_eq!(theirs, missing);
    // Bob still reads it.
    let (_, his) = demo.query(&bob, &by_id(&bobs)).await;
    assert_eq!(his["data"]["order"]["id"], bobs.as_str());

    // Through a nested field: the author of an article is another user; their orders, email
    // and role resolve to null with the same error, their name is shown.
    let (status, body) = demo
        .query(
            &alice,
            "{ articles { author { name email orders { id } } } }",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["articles"][0]["author"]["name"], "Admin");
    assert_eq!(body["data"]["articles"][0]["author"]["orders"], Value::Null);
    assert_eq!(body["data"]["articles"][0]["author"]["email"], Value::Null);
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{body}");
    assert!(errors.iter().all(|e| e["message"] == "Not found"), "{body}");
    // And another user's profile by id, as `GET /api/users/{id}` answers 404.
    let (_, me) = demo.query(&bob, "{ me { id } }").await;
    let bob_id = me["data"]["me"]["id"].as_str().unwrap();
    let (_, body) = demo
        .query(&alice, &format!("{{ user(id: \"{bob_id}\") {{ name }} }}"))
        .await;
    assert_eq!(body["data"]["user"], Value::Null);
    assert_eq!(body["errors"][0]["message"], "Not found");
    // Every user: administrators only.
    let (_, body) = demo.query(&alice, "{ users { name } }").await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    let (_, body) = demo.query(&admin, "{ users { name } }").await;
    assert_eq!(body["data"]["users"].as_array().unwrap().len(), 3, "{body}");

    // A depth bomb, through the order ↔ user cycle.
    let (status, body) = demo
        .query(
            &alice,
            "{ me { orders { user { orders { user { orders { user { orders { id } } } } } } } } }",
        )
        .await;
    refused(status, &body, "graphql_too_deep");

    // Too complex: 100 articles with their authors' orders.
    let (status, body) = demo
        .query(
            &alice,
            "{ articles(limit: 100) { id title author { orders { id item } } } }",
        )
        .await;
    refused(status, &body, "graphql_too_complex");

    // An alias flood.
    let flood: String = (0..50).map(|i| format!("a{i}: me {{ id }} ")).collect();
    let (status, body) = demo.query(&alice, &format!("{{ {flood} }}")).await;
    refused(status, &body, "graphql_too_many_aliases");

    // Too many root fields.
    let (status, body) = demo
        .query(
            &alice,
            "{ me { id } orders { id } articles { id } __typename me2: me { id } a: __typename }",
        )
        .await;
    refused(status, &body, "graphql_too_many_root_fields");

    // A batch of 50: over the batch limit of 10.
    let batch: Vec<Value> = (0..50)
        .map(|_| json!({ "query": "{ me { id } }" }))
        .collect();
    let (status, _, body) = demo.post(&bob, &Value::Array(batch)).await;
    refused(status, &body, "graphql_batch_too_large");
    // A batch within it: one response per operation.
    let batch: Vec<Value> = (0..3)
        .map(|_| json!({ "query": "{ me { name } }" }))
        .collect();
    let (status, _, body) = demo.post(&admin, &Value::Array(batch)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_array().unwrap().len(), 3);
    assert_eq!(body[2]["data"]["me"]["name"], "Admin");
    // A batch element with a field outside the GraphQL request's: 422, as for any body.
    let (status, _, body) = demo
        .post(
            &admin,
            &json!([{ "query": "{ me { id } }", "role": "admin" }]),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "unknown_fields");

    // Introspection: refused without the role, answered with it.
    let introspect = "{ __schema { queryType { name } } }";
    let (status, body) = demo.query(&alice, introspect).await;
    refused(status, &body, "graphql_introspection_disabled");
    let (status, body) = demo
        .query(&alice, "{ __type(name: \"UserNode\") { name } }")
        .await;
    refused(status, &body, "graphql_introspection_disabled");
    let (status, body) = demo.query(&admin, introspect).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "QueryRoot");

    // No credential: 401 before anything is parsed.
    let res = demo
        .client
        .post(format!("{}/api/graphql", demo.base))
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn refused_documents_are_security_events() {
    let dir = std::env::temp_dir().join(format!("se-graphql-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("audit.jsonl");
    let demo = start(Some(file.clone())).await;
    let alice = demo.token("alice@example.com").await;
    let (status, body) = demo
        .query(
            &alice,
            "{ me { orders { user { orders { user { orders { user { id } } } } } } } }",
        )
        .await;
    refused(status, &body, "graphql_too_deep");
    let (status, body) = demo.query(&alice, "{ __schema { types { name } } }").await;
    refused(status, &body, "graphql_introspection_disabled");
    demo.state.flush_audit().await;
    let events: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &Value| e["route"] == "/api/graphql")
        .collect();
    let reasons: Vec<&str> = events.iter().filter_map(|e| e["reason"].as_str()).collect();
    assert_eq!(
        reasons,
        ["graphql_too_deep", "graphql_introspection_disabled"],
        "{events:?}"
    );
    assert!(events.iter().all(|e| e["kind"] == "validation_rejected"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_field_of_the_demo_schema_is_reviewed() {
    let (_, state) = app(&config(None));
    let schema = state.graphql_schema();
    assert_eq!(
        unlisted_fields(
            schema,
            demo::graphql::GUARDED_FIELDS,
            demo::graphql::PUBLIC_FIELDS
        ),
        Vec::<String>::new()
    );
    // A field nobody listed fails the check.
    let fewer: Vec<&str> = demo::graphql::GUARDED_FIELDS
        .iter()
        .copied()
        .filter(|f| *f != "UserNode.orders")
        .collect();
    assert_eq!(
        unlisted_fields(schema, &fewer, demo::graphql::PUBLIC_FIELDS),
        ["UserNode.orders"]
    );
}

// ---- a small app: persisted queries, the rate cost of a batch, masked errors ----------------

const SECRET: &[u8] = b"graphql mini-app secret, 32+ bytes long";
const HELLO: &str = "{ hello }";

const PERSISTED: GraphQlLimits = GraphQlLimits {
    max_batch: 50,
    persisted_only: true,
    ..GraphQlLimits::DEFAULT
};

struct Mini;

#[Object]
impl Mini {
    async fn hello(&self) -> &str {
        "world"
    }

    async fn boom(&self) -> async_graphql::Result<String> {
        Err("connection to db-primary:5432 refused (user=app)".into())
    }
}

type MiniSchema = SecureSchema<Mini, EmptyMutation, EmptySubscription>;

#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "100/1h", graphql = PERSISTED)]
async fn mini(
    axum::extract::State(schema): axum::extract::State<std::sync::Arc<MiniSchema>>,
    request: GraphQlRequest,
) -> Result<GraphQlResponse, Problem> {
    schema.execute(request).await
}

async fn start_mini() -> (String, String, Client) {
    let schema = SecureSchema::new(
        Schema::build(Mini, EmptyMutation, EmptySubscription),
        &PERSISTED,
    )
    .persisted_queries([HELLO.to_owned(), "{ boom }".to_owned()]);
    let verifier = JwtVerifier::hs256(SECRET)
        .unwrap()
        .issuer("mini")
        .audience("mini")
        .build()
        .unwrap();
    let router = SecureRouter::new(Security::builder().allow_plain_http().jwt(verifier).build())
        .route("/graphql", post(mini))
        .with_state(std::sync::Arc::new(schema));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/graphql", listener.local_addr().unwrap());
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    let token = JwtIssuer::hs256(SECRET, "mini", "mini", Duration::from_secs(600))
        .unwrap()
        .issue("carol", &[], &[]);
    let _ = rustls::crypto::ring::default_provider().install_default();
    (base, token, Client::builder().no_proxy().build().unwrap())
}

#[tokio::test]
async fn persisted_queries_only_and_unknown_documents_refused() {
    let (url, token, client) = start_mini().await;
    let send = async |body: Value| {
        let res = client
            .post(&url)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (res.status(), res.json::<Value>().await.unwrap())
    };
    let (status, body) = send(json!({ "query": HELLO })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["hello"], "world");
    // By hash alone.
    let hash = "d6d1e2a1c9a4b2f7bc1a8d1b2c3f1f8b4d8c0b5b0a2f4c2b9e7f1f0c7a8b9c0d";
    let (status, body) =
        send(json!({ "query": "", "extensions": { "persistedQuery": { "sha256Hash": hash } } }))
            .await;
    refused(status, &body, "graphql_persisted_query_not_found");
    let known = sha256_hex(HELLO);
    let (status, body) =
        send(json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": known } } }))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["hello"], "world");
    // A document not in the allowlist, even a harmless one.
    let (status, body) = send(json!({ "query": "{ hello hello }" })).await;
    refused(status, &body, "graphql_persisted_query_not_found");
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn a_batch_of_50_costs_50_requests_of_the_rate() {
    let (url, token, client) = start_mini().await;
    let batch = |n: usize| Value::Array((0..n).map(|_| json!({ "query": HELLO })).collect());
    for _ in 0..2 {
        let res = client
            .post(&url)
            .bearer_auth(&token)
            .json(&batch(50))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.json::<Value>().await.unwrap().as_array().unwrap().len(),
            50
        );
    }
    // 100 of 100 spent: one more operation is over the limit.
    let res = client
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({ "query": HELLO }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn resolver_errors_are_masked_with_an_error_id() {
    let (url, token, client) = start_mini().await;
    let res = client
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({ "query": "{ boom }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(
        !text.contains("db-primary") && !text.contains("user=app"),
        "{text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["errors"][0]["message"], "Internal error");
    assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL");
    assert_eq!(
        body["errors"][0]["extensions"]["errorId"]
            .as_str()
            .unwrap()
            .len(),
        36
    );
}
