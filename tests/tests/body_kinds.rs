//! Bodies beyond JSON objects over real HTTP: URL-encoded forms under the same allowlist
//! (`Form<T>`), raw bodies (`body = "raw"`, `Bytes` or `String`), and a body an endpoint
//! accepts without reading it (`body = "ignored"`): drained under the limit, 413 past it.

mod common;

use std::net::SocketAddr;

use axum::extract::Path;
use reqwest::StatusCode;
use secure_endpoint::routing::post;
use secure_endpoint::{secure_endpoint, Form, Json, SafeResponse, SecureRouter, Security};
use serde::{Deserialize, Serialize};

use common::{client_from, expect_json, expect_problem, raw_exchange};

#[derive(Deserialize, garde::Validate)]
struct Note {
    #[garde(length(min = 1, max = 40))]
    title: String,
    #[garde(length(max = 200))]
    #[serde(default)]
    body: String,
    #[garde(skip)]
    #[serde(default)]
    pinned: bool,
}

#[derive(Serialize, SafeResponse)]
struct Saved {
    title: String,
    length: usize,
    pinned: bool,
}

#[secure_endpoint(auth = "none", fields = ["title", "body"])]
async fn form_note(Form(note): Form<Note>) -> Json<Saved> {
    Json(Saved {
        length: note.body.len(),
        title: note.title,
        pinned: note.pinned,
    })
}

/// `POST /profiles/{name}/follow`: some clients send a body; nothing in it is read.
#[secure_endpoint(auth = "none", body = "ignored", body_limit = "1kb")]
async fn follow(Path(name): Path<String>) -> String {
    format!("following {name}")
}

#[secure_endpoint(auth = "none", body = "raw", body_limit = "1kb")]
async fn echo_len(text: String) -> String {
    text.chars().count().to_string()
}

async fn serve() -> SocketAddr {
    let app = SecureRouter::new(Security::builder().allow_plain_http().build())
        .route("/notes", post(form_note))
        .route("/profiles/{name}/follow", post(follow))
        .route("/text", post(echo_len))
        .into_router();
    common::serve(app).await
}

fn form(addr: SocketAddr, body: &'static str) -> reqwest::RequestBuilder {
    client_from(None)
        .post(format!("http://{addr}/notes"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
}

#[tokio::test]
async fn a_form_is_allowlisted_before_it_is_deserialized() {
    let addr = serve().await;
    let ok = form(addr, "title=Hello+there&body=a%20b")
        .send()
        .await
        .unwrap();
    let body = expect_json(ok, StatusCode::OK).await;
    assert_eq!(body["title"], "Hello there");
    assert_eq!(body["length"], 3);

    // `pinned` is a field of the type, not of the contract: refused, its value not echoed.
    let res = form(addr, "title=x&pinned=true-ish-3c1")
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, &["true-ish-3c1"]).await;
    assert_eq!(p.body["code"], "unknown_fields");
    assert_eq!(p.error_fields(), vec!["pinned"]);
    // Names are compared decoded.
    let res = form(addr, "title=x&pin%6Eed=1").send().await.unwrap();
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, &[]).await;
    assert_eq!(p.error_fields(), vec!["pinned"]);

    let res = form(addr, "title=a&title=b").send().await.unwrap();
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, &[]).await;
    assert_eq!(p.body["code"], "duplicate_field");

    // Validation runs after the allowlist.
    let res = form(addr, "title=").send().await.unwrap();
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, &[]).await;
    assert_eq!(p.body["code"], "validation_failed");

    // A form endpoint takes forms only.
    let res = client_from(None)
        .post(format!("http://{addr}/notes"))
        .header("content-type", "application/json")
        .body(r#"{"title":"x"}"#)
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, &[]).await;
}

#[tokio::test]
async fn an_ignored_body_is_drained_within_the_limit_and_refused_past_it() {
    let addr = serve().await;
    let url = format!("http://{addr}/profiles/jake/follow");
    // No body, an empty one, a JSON one, one of another type: all answered, none read.
    for (ct, body) in [
        (None, String::new()),
        (Some("application/json"), "{}".to_owned()),
        (
            Some("application/json"),
            format!(r#"{{"user":"{}"}}"#, "x".repeat(900)),
        ),
        (Some("text/plain"), "anything".to_owned()),
    ] {
        let mut req = client_from(None).post(&url).body(body);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        common::assert_security_headers(res.headers());
        assert_eq!(res.text().await.unwrap(), "following jake");
    }
    // Past the endpoint's limit: 413 by Content-Length ...
    let res = client_from(None)
        .post(&url)
        .header("content-type", "application/json")
        .body("x".repeat(2048))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::PAYLOAD_TOO_LARGE, &[]).await;
    // ... and while a chunked body is read; within it, chunked is fine too.
    let chunked = |len: usize| {
        format!(
            "POST /profiles/jake/follow HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{len:x}\r\n{}\r\n0\r\n\r\n",
            "y".repeat(len)
        )
        .into_bytes()
    };
    let small = raw_exchange(addr, chunked(600), 1).await;
    assert_eq!(small[0].status, StatusCode::OK);
    assert_eq!(small[0].body, "following jake");
    let big = raw_exchange(addr, chunked(1500), 1).await;
    assert_eq!(big[0].status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_raw_string_body_is_utf8_under_its_limit() {
    let addr = serve().await;
    let url = format!("http://{addr}/text");
    let res = client_from(None)
        .post(&url)
        .body("héllo")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "5");
    let res = client_from(None)
        .post(&url)
        .body(vec![0x66u8, 0xff, 0xfe])
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::BAD_REQUEST, &[]).await;
    let res = client_from(None)
        .post(&url)
        .body("z".repeat(1025))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::PAYLOAD_TOO_LARGE, &[]).await;
}
