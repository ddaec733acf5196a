//! `bench-graphql [n]`: `n` typical GraphQL queries in-process through a secured endpoint
//! (JWT, any authenticated caller, `graphql = LIMITS`): the pipeline's batch-shape check, the
//! document checks of `SecureSchema` (depth, aliases, root fields, introspection) and
//! async-graphql's execution of a two-level query returning three objects. For callgrind, as
//! `bench-profile` (BENCHMARKS.md).

use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, SimpleObject};
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::State;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use secure_endpoint::graphql::{GraphQlRequest, GraphQlResponse, SecureSchema};
use secure_endpoint::policy::GraphQlLimits;
use secure_endpoint::routing::post;
use secure_endpoint::{secure_endpoint, Problem, SecureRouter, Security};
use tower::ServiceExt;

const LIMITS: GraphQlLimits = GraphQlLimits::DEFAULT;
const QUERY: &str =
    r#"{"query":"{ me { id name notes { id title } } }","operationName":null,"variables":{}}"#;

#[derive(SimpleObject)]
struct Note {
    id: String,
    title: String,
}

#[derive(SimpleObject)]
struct Me {
    id: String,
    name: String,
    notes: Vec<Note>,
}

struct Query;

#[Object]
impl Query {
    async fn me(&self) -> Me {
        Me {
            id: "alice".into(),
            name: "Alice".into(),
            notes: (0..3)
                .map(|i| Note {
                    id: format!("note-{i}"),
                    title: "A note".into(),
                })
                .collect(),
        }
    }
}

type BenchSchema = SecureSchema<Query, EmptyMutation, EmptySubscription>;

#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "1000000000/1s", graphql = LIMITS)]
async fn graphql(
    State(schema): State<Arc<BenchSchema>>,
    request: GraphQlRequest,
) -> Result<GraphQlResponse, Problem> {
    schema.execute(request).await
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let schema = Arc::new(SecureSchema::new(
        Schema::build(Query, EmptyMutation, EmptySubscription),
        &LIMITS,
    ));
    let security = Security::builder()
        .allow_plain_http()
        .jwt(secure_endpoint_bench::verifier())
        .build();
    let app = SecureRouter::new(security)
        .route("/graphql", post(graphql))
        .with_state::<()>(schema)
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let bearer = format!("Bearer {}", secure_endpoint_bench::token());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        for _ in 0..n {
            let req = Request::post("/graphql")
                .header(header::AUTHORIZATION, &bearer)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(QUERY))
                .unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            assert!(res.status().is_success(), "{}", res.status());
            let body = res.into_body().collect().await.unwrap().to_bytes();
            assert!(!body.windows(8).any(|w| w == b"\"errors\""), "{body:?}");
            std::hint::black_box(body);
        }
    });
}
