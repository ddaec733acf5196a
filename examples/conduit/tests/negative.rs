//! What the official suite does not check: refusals. Another user's article or comment,
//! unknown fields inside the envelopes, invalid tokens where authentication is optional,
//! injection strings in every place a string reaches SQL, brute force on login, oversized
//! and mistyped bodies. Each refusal is in the spec's error shape, with the security headers
//! and nothing internal.

mod common;

use common::{spec_error, start};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn another_users_article_cannot_be_edited_or_deleted() {
    let server = start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let slug = server.article(&alice, "Alice writes").await;
    let path = format!("/api/articles/{slug}");

    let edit = server
        .authed(Method::PUT, &path, &bob)
        .json(&json!({"article": {"body": "Bob was here"}}))
        .send()
        .await
        .unwrap();
    spec_error(edit, StatusCode::FORBIDDEN).await;
    let delete = server
        .authed(Method::DELETE, &path, &bob)
        .send()
        .await
        .unwrap();
    spec_error(delete, StatusCode::FORBIDDEN).await;
    // Without a token at all: 401, not 403.
    let anonymous = server
        .client
        .delete(server.url(&path))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Token"));

    // Untouched, and still alice's to change.
    let article: Value = server
        .client
        .get(server.url(&path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(article["article"]["body"], "b");
    let own = server
        .authed(Method::PUT, &path, &alice)
        .json(&json!({"article": {"body": "Alice edits"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    // A slug that does not exist is 404 for everyone.
    let missing = server
        .authed(Method::DELETE, "/api/articles/no-such-article", &alice)
        .send()
        .await
        .unwrap();
    spec_error(missing, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn another_users_comment_cannot_be_deleted_nor_through_another_article() {
    let server = start().await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let first = server.article(&alice, "First").await;
    let second = server.article(&alice, "Second").await;
    let comment = server.comment(&alice, &first).await;

    let by_bob = server
        .authed(
            Method::DELETE,
            &format!("/api/articles/{first}/comments/{comment}"),
            &bob,
        )
        .send()
        .await
        .unwrap();
    spec_error(by_bob, StatusCode::FORBIDDEN).await;
    // Alice's own comment, named through her other article's path: not found there.
    let elsewhere = server
        .authed(
            Method::DELETE,
            &format!("/api/articles/{second}/comments/{comment}"),
            &alice,
        )
        .send()
        .await
        .unwrap();
    spec_error(elsewhere, StatusCode::NOT_FOUND).await;
    let comments: Value = server
        .client
        .get(server.url(&format!("/api/articles/{first}/comments")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(comments["comments"].as_array().unwrap().len(), 1);

    let own = server
        .authed(
            Method::DELETE,
            &format!("/api/articles/{first}/comments/{comment}"),
            &alice,
        )
        .send()
        .await
        .unwrap();
    assert!(own.status().is_success(), "{}", own.status());
}

#[tokio::test]
async fn unknown_fields_at_any_level_are_422_without_their_values() {
    let server = start().await;
    let token = server.register("alice").await;
    let cases = [
        (
            "/api/users/login",
            json!({"user": {"email": "alice@example.com", "password": "x", "admin": "SECRET-VALUE"}}),
        ),
        (
            "/api/users",
            json!({"user": {"username": "eve", "email": "eve@example.com", "password": "long-enough-1"}, "role": "SECRET-VALUE"}),
        ),
        (
            "/api/articles",
            json!({"article": {"title": "t", "description": "d", "body": "b", "authorId": "SECRET-VALUE"}}),
        ),
    ];
    for (path, body) in cases {
        let response = server
            .authed(Method::POST, path, &token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let errors = spec_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        let text = errors.to_string();
        assert!(!text.contains("SECRET-VALUE"), "{path}: {text}");
        assert!(
            ["admin", "role", "authorId"]
                .iter()
                .any(|field| text.contains(field)),
            "{path}: the unknown field is not named: {text}"
        );
    }
    let update = server
        .authed(Method::PUT, "/api/user", &token)
        .json(&json!({"user": {"email": "a2@example.com", "id": 1}}))
        .send()
        .await
        .unwrap();
    spec_error(update, StatusCode::UNPROCESSABLE_ENTITY).await;
    // Nothing of it happened.
    let me: Value = server
        .authed(Method::GET, "/api/user", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["email"], "alice@example.com");
}

#[tokio::test]
async fn an_invalid_token_is_401_where_authentication_is_optional() {
    let server = start().await;
    let token = server.register("alice").await;
    let slug = server.article(&token, "Public").await;
    let forged = format!("{}x", &token[..token.len() - 1]);
    for path in [
        "/api/articles".to_owned(),
        format!("/api/articles/{slug}"),
        format!("/api/articles/{slug}/comments"),
        "/api/profiles/alice".to_owned(),
    ] {
        // Anonymous: fine.
        let anonymous = server.client.get(server.url(&path)).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::OK, "{path}");
        // Known: fine.
        let known = server
            .authed(Method::GET, &path, &token)
            .send()
            .await
            .unwrap();
        assert_eq!(known.status(), StatusCode::OK, "{path}");
        // Invalid: never downgraded to anonymous.
        for bad in [forged.as_str(), "garbage"] {
            let response = server.authed(Method::GET, &path, bad).send().await.unwrap();
            assert!(
                response.headers().contains_key("www-authenticate"),
                "{path}"
            );
            spec_error(response, StatusCode::UNAUTHORIZED).await;
        }
    }
}

#[tokio::test]
async fn injection_strings_find_nothing_and_break_nothing() {
    let server = start().await;
    let token = server.register("alice").await;
    server.article(&token, "Only article").await;
    let attacks = [
        "' OR '1'='1",
        "\" OR 1=1 --",
        "x'; DROP TABLE articles; --",
        "%' OR slug LIKE '%",
        "../../etc/passwd",
        "alice' --",
        "1 UNION SELECT password_hash FROM users",
    ];
    for attack in attacks {
        for (name, value) in [("tag", attack), ("author", attack), ("favorited", attack)] {
            let response = server
                .client
                .get(server.url("/api/articles"))
                .query(&[(name, value)])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{name}={attack}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["articlesCount"], 0, "{name}={attack}: {body}");
        }
        let encoded: String = url_encode(attack);
        for path in [
            format!("/api/articles/{encoded}"),
            format!("/api/articles/{encoded}/comments"),
            format!("/api/profiles/{encoded}"),
        ] {
            let response = server.client.get(server.url(&path)).send().await.unwrap();
            let status = response.status();
            assert!(
                status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
                "{path}: {status}"
            );
            spec_error(response, status).await;
        }
    }
    // Everything is still there.
    let all: Value = server
        .client
        .get(server.url("/api/articles"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["articlesCount"], 1);
    // A username made of an injection string is just a name.
    let response = server
        .client
        .post(server.url("/api/users"))
        .json(&json!({"user": {"username": "o'brien\"--", "email": "ob@example.com", "password": "long-enough-1"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let profile = server
        .client
        .get(server.url(&format!("/api/profiles/{}", url_encode("o'brien\"--"))))
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), StatusCode::OK);
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn brute_force_on_login_is_throttled_per_client_and_email() {
    let server = start().await;
    server.register("alice").await;
    let login = |password: &'static str| {
        server
            .client
            .post(server.url("/api/users/login"))
            .json(&json!({"user": {"email": "alice@example.com", "password": password}}))
            .send()
    };
    for _ in 0..5 {
        let response = login("wrong-password").await.unwrap();
        spec_error(response, StatusCode::UNAUTHORIZED).await;
    }
    // The sixth try is refused before the password is checked, even the right one.
    let throttled = login("alice-password-123").await.unwrap();
    assert!(throttled.headers().contains_key("retry-after"));
    spec_error(throttled, StatusCode::TOO_MANY_REQUESTS).await;
    // Another email from the same client is not affected.
    let other = server
        .client
        .post(server.url("/api/users/login"))
        .json(&json!({"user": {"email": "bob@example.com", "password": "whatever-123"}}))
        .send()
        .await
        .unwrap();
    spec_error(other, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn oversized_and_mistyped_bodies_are_refused() {
    let server = start().await;
    let token = server.register("alice").await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let oversized = server
        .authed(Method::POST, "/api/articles", &token)
        .json(&json!({"article": {"title": "t", "description": "d", "body": huge}}))
        .send()
        .await
        .unwrap();
    spec_error(oversized, StatusCode::PAYLOAD_TOO_LARGE).await;
    let mistyped = server
        .authed(Method::POST, "/api/articles", &token)
        .header("content-type", "text/plain")
        .body(r#"{"article": {"title": "t", "description": "d", "body": "b"}}"#)
        .send()
        .await
        .unwrap();
    spec_error(mistyped, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let duplicate = server
        .authed(Method::POST, "/api/articles", &token)
        .header("content-type", "application/json")
        .body(r#"{"article": {"title": "t", "title": "u", "description": "d", "body": "b"}}"#)
        .send()
        .await
        .unwrap();
    spec_error(duplicate, StatusCode::UNPROCESSABLE_ENTITY).await;
    let list: Value = server
        .client
        .get(server.url("/api/articles"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["articlesCount"], 0);
}
