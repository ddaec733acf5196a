//! The bodies against the spec: key names and envelopes, and what validation refuses.

use garde::Validate;
use serde_json::{json, Value};

use super::*;

fn profile() -> Profile {
    Profile {
        username: "jake".into(),
        bio: String::new(),
        image: String::new(),
        following: false,
    }
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[test]
fn responses_have_the_spec_shapes() {
    let user = serde_json::to_value(UserEnvelope::from(User {
        email: "jake@jake.jake".into(),
        token: "jwt.token.here".into(),
        username: "jake".into(),
        bio: String::new(),
        image: String::new(),
    }))
    .unwrap();
    assert_eq!(keys(&user), ["user"]);
    assert_eq!(
        keys(&user["user"]),
        ["bio", "email", "image", "token", "username"]
    );

    let article = Article {
        slug: "s".into(),
        title: "t".into(),
        description: "d".into(),
        body: "b".into(),
        tag_list: vec!["dragons".into()],
        created_at: "2026-12-02T05:16:42.123Z".into(),
        updated_at: "2026-12-02T05:16:42.123Z".into(),
        favorited: false,
        favorites_count: 0,
        author: profile(),
    };
    let single = serde_json::to_value(ArticleEnvelope::from(article.clone())).unwrap();
    assert_eq!(
        keys(&single["article"]),
        [
            "author",
            "body",
            "createdAt",
            "description",
            "favorited",
            "favoritesCount",
            "slug",
            "tagList",
            "title",
            "updatedAt"
        ]
    );
    assert_eq!(
        keys(&single["article"]["author"]),
        ["bio", "following", "image", "username"]
    );

    let list = serde_json::to_value(ArticleList {
        articles: vec![ArticleSummary {
            slug: article.slug,
            title: article.title,
            description: article.description,
            tag_list: article.tag_list,
            created_at: article.created_at,
            updated_at: article.updated_at,
            favorited: article.favorited,
            favorites_count: article.favorites_count,
            author: article.author,
        }],
        articles_count: 1,
    })
    .unwrap();
    assert_eq!(keys(&list), ["articles", "articlesCount"]);
    assert!(
        list["articles"][0].get("body").is_none(),
        "lists leave out the body"
    );
    assert_eq!(list["articlesCount"], json!(1));

    let comments = serde_json::to_value(CommentList {
        comments: vec![Comment {
            id: 1,
            created_at: "2026-12-02T05:16:42.123Z".into(),
            updated_at: "2026-12-02T05:16:42.123Z".into(),
            body: "hi".into(),
            author: profile(),
        }],
    })
    .unwrap();
    assert_eq!(
        keys(&comments["comments"][0]),
        ["author", "body", "createdAt", "id", "updatedAt"]
    );
    let tags = serde_json::to_value(TagList {
        tags: vec!["a".into()],
    })
    .unwrap();
    assert_eq!(tags, json!({"tags": ["a"]}));
    let profile = serde_json::to_value(ProfileEnvelope::from(profile())).unwrap();
    assert_eq!(keys(&profile), ["profile"]);
}

#[test]
fn the_token_is_not_in_debug_output() {
    let user = User {
        email: "jake@jake.jake".into(),
        token: "jwt.token.here".into(),
        username: "jake".into(),
        bio: String::new(),
        image: String::new(),
    };
    assert!(!format!("{user:?}").contains("jwt.token.here"));
}

fn valid<T: Validate<Context = ()> + serde::de::DeserializeOwned>(body: Value) -> bool {
    serde_json::from_value::<T>(body)
        .map(|t| t.validate().is_ok())
        .unwrap_or(false)
}

#[test]
fn registration_and_login_bodies() {
    let ok =
        json!({"user": {"username": "jake", "email": "jake@jake.jake", "password": "jakejake"}});
    assert!(valid::<NewUserRequest>(ok));
    for bad in [
        json!({"user": {"username": "", "email": "jake@jake.jake", "password": "jakejake"}}),
        json!({"user": {"username": "ja ke", "email": "jake@jake.jake", "password": "jakejake"}}),
        json!({"user": {"username": "a/b", "email": "jake@jake.jake", "password": "jakejake"}}),
        json!({"user": {"username": "jake", "email": "no-at-sign", "password": "jakejake"}}),
        json!({"user": {"username": "jake", "email": "jake@jake.jake", "password": "short"}}),
        json!({"user": {"username": "jake", "email": "jake@jake.jake"}}),
        json!({"username": "jake", "email": "jake@jake.jake", "password": "jakejake"}),
    ] {
        assert!(!valid::<NewUserRequest>(bad.clone()), "{bad}");
    }
    assert!(valid::<LoginRequest>(
        json!({"user": {"email": "jake@jake.jake", "password": "jakejake"}})
    ));
    assert!(!valid::<LoginRequest>(
        json!({"user": {"email": "", "password": "x"}})
    ));
    assert!(!valid::<LoginRequest>(
        json!({"user": {"email": "jake@jake.jake"}})
    ));
}

#[test]
fn update_bodies_need_one_field() {
    assert!(valid::<UpdateUserRequest>(
        json!({"user": {"email": "jake@jake.jake"}})
    ));
    assert!(valid::<UpdateUserRequest>(json!({"user": {"bio": ""}})));
    assert!(!valid::<UpdateUserRequest>(json!({"user": {}})));
    assert!(!valid::<UpdateUserRequest>(
        json!({"user": {"image": "javascript:alert(1)"}})
    ));
    assert!(valid::<UpdateUserRequest>(
        json!({"user": {"image": "https://example.com/a.png"}})
    ));
    assert!(valid::<UpdateArticleRequest>(
        json!({"article": {"body": "With two hands"}})
    ));
    assert!(!valid::<UpdateArticleRequest>(json!({"article": {}})));
    assert!(!valid::<UpdateArticleRequest>(
        json!({"article": {"title": "  "}})
    ));
}

#[test]
fn article_and_comment_bodies() {
    let ok = json!({"article": {"title": "How to train your dragon", "description": "Ever wonder how?",
        "body": "Very carefully.", "tagList": ["training", "dragons"]}});
    assert!(valid::<NewArticleRequest>(ok));
    assert!(valid::<NewArticleRequest>(
        json!({"article": {"title": "t", "description": "d", "body": "b"}})
    ));
    for bad in [
        json!({"article": {"title": "", "description": "d", "body": "b"}}),
        json!({"article": {"title": "t", "description": " ", "body": "b"}}),
        json!({"article": {"title": "t", "description": "d"}}),
        json!({"article": {"title": "t", "description": "d", "body": "b", "tagList": [""]}}),
        json!({"article": {"title": "t", "description": "d", "body": "b", "tagList": "dragons"}}),
    ] {
        assert!(!valid::<NewArticleRequest>(bad.clone()), "{bad}");
    }
    assert!(valid::<NewCommentRequest>(
        json!({"comment": {"body": "Thank you so much!"}})
    ));
    assert!(!valid::<NewCommentRequest>(
        json!({"comment": {"body": ""}})
    ));
}

#[test]
fn list_queries_default_and_bound() {
    let q: ListArticlesQuery = serde_json::from_value(json!({"tag": "dragons"})).unwrap();
    assert!(q.validate().is_ok());
    assert_eq!((q.limit, q.offset), (20, 0));
    assert_eq!(q.filter().tag, Some("dragons"));
    let too_many: ListArticlesQuery = serde_json::from_value(json!({"limit": 1000})).unwrap();
    assert!(too_many.validate().is_err());
    let zero: FeedQuery = serde_json::from_value(json!({"limit": 0})).unwrap();
    assert!(zero.validate().is_err());
}
