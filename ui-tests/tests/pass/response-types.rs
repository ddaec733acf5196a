//! Response types applications use: the standard wrappers and collections, and (features
//! `chrono`, `time`, `url`, `rust_decimal`, `uuid`) those crates' types, in checked structs.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Json, List, SafeResponse, SecureRouter, Security};
use serde::Serialize;

#[derive(Serialize, SafeResponse)]
#[serde(rename_all = "camelCase")]
struct Article {
    id: uuid::Uuid,
    slug: Cow<'static, str>,
    tag_list: Vec<String>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::FixedOffset>,
    published_on: Option<chrono::NaiveDate>,
    imported_at: chrono::NaiveDateTime,
    #[serde(with = "time::serde::rfc3339")]
    reviewed_at: time::OffsetDateTime,
    review_date: time::Date,
    review_local: time::PrimitiveDateTime,
    canonical: url::Url,
    links: Vec<url::Url>,
    price: rust_decimal::Decimal,
    prices: BTreeMap<String, rust_decimal::Decimal>,
    favorites_count: NonZeroU32,
    author: Arc<Author>,
    followers: HashSet<String>,
    ranks: BTreeSet<u16>,
    history: VecDeque<(u64, bool)>,
    by_locale: HashMap<String, Option<Box<str>>>,
    window: [f32; 2],
    cache_for: Duration,
    seen: SystemTime,
    origin: IpAddr,
    peer: Option<SocketAddr>,
    initial: char,
    note: &'static str,
}

#[derive(Serialize, SafeResponse)]
struct Author {
    username: String,
    bio: Option<String>,
    image: Option<url::Url>,
    following: bool,
}

/// Borrowed and shared forms nest too.
#[derive(Serialize, SafeResponse)]
struct Borrowed<'a> {
    author: &'a Author,
    names: &'a [String],
    shared: Rc<str>,
}

fn article() -> Article {
    Article {
        id: uuid::Uuid::nil(),
        slug: Cow::Borrowed("how-to-train-your-dragon"),
        tag_list: vec!["dragons".into()],
        created_at: chrono::DateTime::UNIX_EPOCH,
        updated_at: chrono::DateTime::UNIX_EPOCH.fixed_offset(),
        published_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 2),
        imported_at: chrono::DateTime::UNIX_EPOCH.naive_utc(),
        reviewed_at: time::OffsetDateTime::UNIX_EPOCH,
        review_date: time::OffsetDateTime::UNIX_EPOCH.date(),
        review_local: time::PrimitiveDateTime::new(
            time::OffsetDateTime::UNIX_EPOCH.date(),
            time::Time::MIDNIGHT,
        ),
        canonical: url::Url::parse("https://conduit.example/article/how-to").unwrap(),
        links: Vec::new(),
        price: rust_decimal::Decimal::new(1999, 2),
        prices: BTreeMap::new(),
        favorites_count: NonZeroU32::MIN,
        author: Arc::new(Author {
            username: "jake".into(),
            bio: None,
            image: None,
            following: false,
        }),
        followers: HashSet::new(),
        ranks: BTreeSet::new(),
        history: VecDeque::new(),
        by_locale: HashMap::new(),
        window: [0.0, 1.0],
        cache_for: Duration::from_secs(60),
        seen: SystemTime::UNIX_EPOCH,
        origin: IpAddr::from([127, 0, 0, 1]),
        peer: None,
        initial: 'h',
        note: "",
    }
}

#[derive(Serialize, SafeResponse)]
struct ArticleEnvelope {
    article: Article,
}

#[secure_endpoint(auth = "none")]
async fn show_article() -> Json<ArticleEnvelope> {
    Json(ArticleEnvelope { article: article() })
}

#[secure_endpoint(auth = "none")]
async fn list_articles() -> Json<List<Article>> {
    Json(List::new(vec![article()]))
}

/// A top-level map is an object, not an array: allowed.
#[secure_endpoint(auth = "none")]
async fn prices() -> Json<BTreeMap<String, rust_decimal::Decimal>> {
    Json(BTreeMap::from([("eur".to_owned(), rust_decimal::Decimal::ONE)]))
}

fn main() {
    let _: axum::Router = SecureRouter::new(Security::builder().build())
        .route("/articles/x", get(show_article))
        .route("/articles", get(list_articles))
        .route("/prices", get(prices))
        .into_router();
    let json = serde_json::to_value(article()).unwrap();
    assert_eq!(json["createdAt"], "1970-01-01T00:00:00Z");
    assert_eq!(json["reviewedAt"], "1970-01-01T00:00:00Z");
    assert_eq!(json["price"], "19.99");
    assert_eq!(json["canonical"], "https://conduit.example/article/how-to");
    assert_eq!(json["id"], "00000000-0000-0000-0000-000000000000");
    let author = Author {
        username: "jake".into(),
        bio: None,
        image: None,
        following: true,
    };
    let names = ["a".to_owned()];
    let borrowed = Borrowed {
        author: &author,
        names: &names,
        shared: Rc::from("s"),
    };
    assert_eq!(serde_json::to_value(&borrowed).unwrap()["names"][0], "a");
}
