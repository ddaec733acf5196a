//! `bench-conduit <secured|plain> <anonymous|authenticated> [n]`: sends `n` requests of
//! Conduit's `GET /api/articles` in-process, for counting instructions under
//! `valgrind --tool=callgrind` (run twice with n and 2n: the difference over n is the cost of
//! one request, start-up and the database's seeding cancelled out).
//!
//! - `secured`: Conduit's router as `cargo run -p conduit` serves it (optional authentication,
//!   `Authorization: Token`, the spec's error renderer, the perimeter), the limits raised so
//!   that none bites.
//! - `plain`: the same handler body on a bare `axum::Router`, with what a hand-written version
//!   needs to do the same job: the token read from `Authorization: Token` and verified with
//!   `jsonwebtoken` (HS256, issuer, audience), the query validated with garde. No headers, no
//!   limits, no events.
//!
//! Both read the same SQLite file: 3 users, 20 articles with tags, favorites and follows.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::State;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::routing::get;
use conduit::model::{ArticleList, ListArticlesQuery, NewArticle, NewUser};
use conduit::Db;
use garde::Validate;
use http_body_util::BodyExt;
use secure_endpoint::policy::RateSpec;
use tower::ServiceExt;

const SECRET: &[u8] = b"bench-conduit-secret-of-at-least-32-bytes";

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "secured".into());
    let who = args.next().unwrap_or_else(|| "anonymous".into());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(2_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = std::env::temp_dir().join(format!("bench-conduit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = seed(dir.join("conduit.sqlite")).await;
        let app = match kind.as_str() {
            "plain" => plain(db.clone()),
            _ => secured(db.clone()),
        }
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let token = conduit::api::Tokens::new(SECRET).issue(1);
        for _ in 0..n {
            let mut req = Request::get("/api/articles?limit=10");
            if who == "authenticated" {
                req = req.header(header::AUTHORIZATION, format!("Token {token}"));
            }
            let res = app
                .clone()
                .oneshot(req.body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            std::hint::black_box(res.into_body().collect().await.unwrap());
        }
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// 3 users, each following the next; 20 articles with two tags each; every user favorites
/// every third article.
async fn seed(path: PathBuf) -> Db {
    let db = Db::open_file(&path).await.unwrap();
    let mut users = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let user = db
            .register(&NewUser {
                username: name.into(),
                email: format!("{name}@example.com"),
                password: format!("{name}-password-123"),
            })
            .await
            .unwrap();
        users.push(user);
    }
    for (i, user) in users.iter().enumerate() {
        let next = &users[(i + 1) % users.len()];
        db.follow(user.id, &next.username).await.unwrap();
    }
    for i in 0..20 {
        let author = &users[i % users.len()];
        let article = db
            .create_article(
                author.id,
                &NewArticle {
                    title: format!("Article number {i}"),
                    description: "A benchmark article".into(),
                    body: "Body text ".repeat(20),
                    tag_list: vec![format!("tag{}", i % 4), "bench".into()],
                },
            )
            .await
            .unwrap();
        if i % 3 == 0 {
            for user in &users {
                db.favorite(user.id, &article.slug).await.unwrap();
            }
        }
    }
    db
}

/// Conduit's own router, limits raised (the per-IP limiter stays on, as it is by default,
/// with a quota that never bites).
fn secured(db: Db) -> axum::Router {
    let security = conduit::api::security_builder(SECRET, &[])
        .ip_rate(Some(RateSpec::new(
            1_000_000_000,
            std::time::Duration::from_secs(1),
        )))
        .default_rate(RateSpec::new(
            1_000_000_000,
            std::time::Duration::from_secs(1),
        ))
        .build();
    secure_endpoint::perimeter::mark_https(
        conduit::api::routes(security).with_state(conduit::api::state(db, SECRET)),
    )
}

/// The handler without contracts.
fn plain(db: Db) -> axum::Router {
    async fn list_articles(
        State(db): State<Db>,
        headers: HeaderMap,
        axum::extract::Query(query): axum::extract::Query<ListArticlesQuery>,
    ) -> Result<axum::Json<ArticleList>, StatusCode> {
        let viewer = match headers.get(header::AUTHORIZATION) {
            None => None,
            Some(value) => {
                let token = value
                    .to_str()
                    .ok()
                    .and_then(|v| v.strip_prefix("Token "))
                    .ok_or(StatusCode::UNAUTHORIZED)?;
                Some(verify(token).ok_or(StatusCode::UNAUTHORIZED)?)
            }
        };
        query
            .validate()
            .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
        db.list_articles(query.filter(), query.page(), viewer)
            .await
            .map(axum::Json)
            .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
    }
    axum::Router::new()
        .route("/api/articles", get(list_articles))
        .with_state(db)
}

fn verify(token: &str) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Claims {
        sub: String,
    }
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&[conduit::api::ISSUER]);
    validation.set_audience(&[conduit::api::AUDIENCE]);
    let key = jsonwebtoken::DecodingKey::from_secret(SECRET);
    let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).ok()?;
    data.claims.sub.parse().ok()
}
