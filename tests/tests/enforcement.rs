//! Every enforcement of the security contract, over real HTTP on 127.0.0.1: ownership, roles and
//! scopes, the body (allowlist, validation, media type, size), rate limits, security headers and
//! request ids, fallbacks, panics, rejections, validated queries, and the inventory.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::*;
use reqwest::StatusCode;
use secure_endpoint::policy::RateSpec;
use secure_endpoint::Security;
use serde_json::{json, Value};

// ---- ownership (BOLA) --------------------------------------------------------------------------

#[tokio::test]
async fn ownership_by_path_param() {
    let app = TestApp::start().await;
    let alice = alice();

    // Own resource.
    let me = expect_json(
        app.get_as(&format!("/users/{ALICE}"), &alice).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["id"], ALICE);
    assert_eq!(me["name"], "Alice");

    // Another's resource, and one that does not exist: the same 404.
    let other = expect_problem(
        app.get_as(&format!("/users/{BOB}"), &alice).await,
        StatusCode::NOT_FOUND,
        &[BOB, "Bob"],
    )
    .await;
    let missing = expect_problem(
        app.get_as(&format!("/users/{NOBODY}"), &alice).await,
        StatusCode::NOT_FOUND,
        &[NOBODY],
    )
    .await;
    assert_eq!(other.without_ids(), missing.without_ids());
    assert_ne!(other.body["error_id"], missing.body["error_id"]);

    // PUT on another's resource: the same 404, before the body is even looked at.
    let res = app
        .put(&format!("/users/{BOB}"))
        .bearer_auth(&alice)
        .json(&json!({ "name": "pwned by alice" }))
        .send()
        .await
        .unwrap();
    let put_other = expect_problem(res, StatusCode::NOT_FOUND, &[BOB, "pwned"]).await;
    assert_eq!(put_other.without_ids(), missing.without_ids());
    let res = app
        .put(&format!("/users/{NOBODY}"))
        .bearer_auth(&alice)
        .json(&json!({ "name": "ghost" }))
        .send()
        .await
        .unwrap();
    let put_missing = expect_problem(res, StatusCode::NOT_FOUND, &[NOBODY, "ghost"]).await;
    assert_eq!(put_missing.without_ids(), missing.without_ids());

    // A caller who passes the ownership check but whose record does not exist gets the very
    // same 404 from the handler.
    let ghost = token(NOBODY, &["user"], "");
    let handler_missing = expect_problem(
        app.get_as(&format!("/users/{NOBODY}"), &ghost).await,
        StatusCode::NOT_FOUND,
        &[NOBODY],
    )
    .await;
    assert_eq!(handler_missing.without_ids(), missing.without_ids());

    // The path parameter is compared percent-decoded, exactly as the handler sees it.
    let encoded_bob = format!("%{:02X}{}", BOB.as_bytes()[0], &BOB[1..]);
    let p = expect_problem(
        app.get_as(&format!("/users/{encoded_bob}"), &alice).await,
        StatusCode::NOT_FOUND,
        &[BOB],
    )
    .await;
    assert_eq!(p.without_ids(), missing.without_ids());
    let encoded_alice = format!("%{:02X}{}", ALICE.as_bytes()[0], &ALICE[1..]);
    let me_again = expect_json(
        app.get_as(&format!("/users/{encoded_alice}"), &alice).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me_again["id"], ALICE);

    // Bob's record is untouched and Bob can still read it.
    let bob = expect_json(
        app.get_as(&format!("/users/{BOB}"), &bob()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bob["name"], "Bob");

    // Own PUT works.
    let res = app
        .put(&format!("/users/{ALICE}"))
        .bearer_auth(&alice)
        .json(&json!({ "name": "Alice Liddell", "email": "al@example.com" }))
        .send()
        .await
        .unwrap();
    let updated = expect_json(res, StatusCode::OK).await;
    assert_eq!(updated["name"], "Alice Liddell");
    assert_eq!(updated["email"], "al@example.com");
}

#[tokio::test]
async fn ownership_by_loader() {
    let app = TestApp::start().await;
    let alice = alice();

    let own = expect_json(
        app.get_as(&format!("/orders/{ALICE_ORDER}"), &alice).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        own,
        json!({ "id": ALICE_ORDER, "owner": ALICE, "item": "keyboard", "total_cents": 4999 })
    );

    let other = expect_problem(
        app.get_as(&format!("/orders/{BOB_ORDER}"), &alice).await,
        StatusCode::NOT_FOUND,
        &[BOB_ORDER, BOB, "monitor"],
    )
    .await;
    let missing = expect_problem(
        app.get_as(&format!("/orders/{MISSING_ORDER}"), &alice)
            .await,
        StatusCode::NOT_FOUND,
        &[MISSING_ORDER],
    )
    .await;
    assert_eq!(other.without_ids(), missing.without_ids());

    // The owner gets it.
    let bobs = expect_json(
        app.get_as(&format!("/orders/{BOB_ORDER}"), &bob()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bobs["item"], "monitor");

    // An admin role does not bypass ownership.
    expect_problem(
        app.get_as(&format!("/orders/{BOB_ORDER}"), &carol_admin())
            .await,
        StatusCode::NOT_FOUND,
        &[BOB_ORDER],
    )
    .await;
}

// ---- roles and scopes (BFLA) -------------------------------------------------------------------

#[tokio::test]
async fn roles_and_scopes() {
    let app = TestApp::start().await;

    let p = expect_problem(
        app.get_as("/admin/users", &alice()).await,
        StatusCode::FORBIDDEN,
        &["admin"],
    )
    .await;
    assert_eq!(p.body["code"], "forbidden");
    let admin = expect_json(
        app.get_as("/admin/users", &carol_admin()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(admin["count"], 3);

    // A token without the scope.
    let no_scope = token(ALICE, &["user"], "orders:read profile");
    let p = expect_problem(
        app.get_as("/reports", &no_scope).await,
        StatusCode::FORBIDDEN,
        &["reports:read"],
    )
    .await;
    assert_eq!(p.body["code"], "insufficient_scope");
    // The admin role is not a scope.
    expect_problem(
        app.get_as("/reports", &carol_admin()).await,
        StatusCode::FORBIDDEN,
        &[],
    )
    .await;
    // A scope that merely contains the required one as a substring does not count.
    let lookalike = token(ALICE, &["user"], "reports:read:all xreports:read");
    expect_problem(
        app.get_as("/reports", &lookalike).await,
        StatusCode::FORBIDDEN,
        &[],
    )
    .await;

    let scoped = token(ALICE, &["user"], "profile reports:read");
    expect_json(app.get_as("/reports", &scoped).await, StatusCode::OK).await;
}

// ---- the body ----------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_field_is_refused_and_nothing_is_stored() {
    let app = TestApp::start().await;
    let alice = alice();
    let path = format!("/users/{ALICE}");

    for body in [
        r#"{"name":"x","role":"admin"}"#,
        // The same key, spelled with a JSON escape.
        r#"{"name":"x","ro\u006ce":"admin"}"#,
    ] {
        let res = app
            .put(&path)
            .bearer_auth(&alice)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, &["admin"]).await;
        assert_eq!(p.error_fields(), vec!["role".to_owned()], "{}", p.raw);
    }

    // A duplicated allowed key (parsers disagree on which one wins) is refused too.
    let res = app
        .put(&path)
        .bearer_auth(&alice)
        .header("content-type", "application/json")
        .body(r#"{"name":"x","name":"SENTINEL"}"#)
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, &["SENTINEL"]).await;
    assert_eq!(p.body["code"], "duplicate_field");
    assert_eq!(p.error_fields(), vec!["name".to_owned()]);

    // So is anything but an object.
    for body in [
        r#"[{"name":"x","role":"admin"}]"#,
        r#""admin""#,
        "42",
        "null",
    ] {
        let res = app
            .put(&path)
            .bearer_auth(&alice)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, &["admin"]).await;
    }

    let after = expect_json(app.get_as(&path, &alice).await, StatusCode::OK).await;
    assert_eq!(after["role"], "user");
    assert_eq!(
        after["name"], "Alice",
        "the refused request must not have changed anything"
    );
}

#[tokio::test]
async fn invalid_body_fails_validation_with_field_paths() {
    let app = TestApp::start().await;
    let res = app
        .put(&format!("/users/{ALICE}"))
        .bearer_auth(alice())
        .json(&json!({ "name": "", "email": "x" }))
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, &[]).await;
    let mut fields = p.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec!["email".to_owned(), "name".to_owned()],
        "{}",
        p.raw
    );

    // A value of the wrong type is refused without echoing it.
    let res = app
        .put(&format!("/users/{ALICE}"))
        .bearer_auth(alice())
        .json(&json!({ "name": ["SENTINEL-VALUE-42"] }))
        .send()
        .await
        .unwrap();
    expect_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        &["SENTINEL-VALUE-42", "sequence"],
    )
    .await;

    let after = expect_json(
        app.get_as(&format!("/users/{ALICE}"), &alice()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after["name"], "Alice");
}

#[tokio::test]
async fn malformed_json_is_400_and_wrong_media_type_is_415() {
    let app = TestApp::start().await;
    let path = format!("/users/{ALICE}");
    for body in [
        r#"{"name":"#,
        r#"{"name":"x"} trailing-SENTINEL"#,
        "SENTINEL",
    ] {
        let res = app
            .put(&path)
            .bearer_auth(alice())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        expect_problem(
            res,
            StatusCode::BAD_REQUEST,
            &["SENTINEL", "EOF", "expected"],
        )
        .await;
    }

    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut req = app.put(&path).bearer_auth(alice()).body(r#"{"name":"x"}"#);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let res = req.send().await.unwrap();
        expect_problem(
            res,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &["text/plain", "urlencoded"],
        )
        .await;
    }

    // `application/json` with parameters and `application/*+json` are JSON.
    for content_type in [
        "application/json; charset=utf-8",
        "application/merge-patch+json",
    ] {
        let res = app
            .put(&path)
            .bearer_auth(alice())
            .header("content-type", content_type)
            .body(r#"{"name":"Alice"}"#)
            .send()
            .await
            .unwrap();
        expect_json(res, StatusCode::OK).await;
    }

    // A compressed body is not decoded (nor parsed as if it were JSON): 415.
    for encoding in ["gzip", "br", "identity, gzip"] {
        let res = app
            .put(&path)
            .bearer_auth(alice())
            .header("content-type", "application/json")
            .header("content-encoding", encoding)
            .body(r#"{"name":"Alice"}"#)
            .send()
            .await
            .unwrap();
        expect_problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, &["gzip", "br"]).await;
    }
    let res = app
        .put(&path)
        .bearer_auth(alice())
        .header("content-type", "application/json")
        .header("content-encoding", "identity")
        .body(r#"{"name":"Alice"}"#)
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::OK).await;
}

#[tokio::test]
async fn oversized_body_is_413() {
    let app = TestApp::start().await;
    let path = format!("/users/{ALICE}");
    let big = json!({ "name": "A".repeat(BODY_LIMIT * 2) }).to_string();

    // With Content-Length.
    let res = app
        .put(&path)
        .bearer_auth(alice())
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::PAYLOAD_TOO_LARGE, &["AAAA"]).await;

    // Chunked, without Content-Length: the limit applies to the bytes actually read.
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        alice()
    );
    let mut request = head.clone().into_bytes();
    request.extend(chunked(big.as_bytes(), 512));
    let res = raw_exchange(app.addr, request, 1).await.remove(0);
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.body);
    assert!(res.headers.get("content-length").is_some());
    check_problem(
        res.headers,
        &res.body,
        StatusCode::PAYLOAD_TOO_LARGE,
        &["AAAA"],
    );

    // A chunked body within the limit is accepted (so the 413 above is about size alone).
    let mut request = head.into_bytes();
    request.extend(chunked(br#"{"name":"Chunked Alice"}"#, 5));
    let res = raw_exchange(app.addr, request, 1).await.remove(0);
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_security_headers(&res.headers);

    // A body just under the limit is accepted with Content-Length too.
    let fits = json!({ "text": "b".repeat(BODY_LIMIT - 20) }).to_string();
    assert!(fits.len() <= BODY_LIMIT);
    let res = app
        .post("/notes")
        .bearer_auth(alice())
        .header("content-type", "application/json")
        .body(fits)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(res, StatusCode::OK).await["length"],
        BODY_LIMIT - 20
    );

    let after = expect_json(app.get_as(&path, &alice()).await, StatusCode::OK).await;
    assert_eq!(after["name"], "Chunked Alice");
}

/// `Security::builder().allow_plain_http().body_limit(...)` is the limit, upwards too: a body between the default
/// 64 KiB and a raised configured limit must be accepted.
///
/// RUNTIME BUG if this fails with 413: `secure_endpoint::Json` caps every body at
/// `DEFAULT_BODY_LIMIT` (runtime/src/body.rs), ignoring the configured limit the pipeline has
/// already enforced.
#[tokio::test]
async fn configured_body_limit_applies_above_the_default() {
    let app = TestApp::start_with(
        Security::builder()
            .allow_plain_http()
            .jwt(verifier())
            .body_limit(256 * 1024)
            .build(),
    )
    .await;
    let text = "c".repeat(100 * 1024);
    let res = app
        .post("/notes")
        .bearer_auth(alice())
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(res, StatusCode::OK).await["length"], 100 * 1024);

    let res = app
        .post("/notes")
        .bearer_auth(alice())
        .json(&json!({ "text": "c".repeat(300 * 1024) }))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::PAYLOAD_TOO_LARGE, &["cccccccccccccccc"]).await;
}

#[tokio::test]
async fn body_on_an_endpoint_without_fields_is_413() {
    let app = TestApp::start().await;

    let res = app
        .post("/ping")
        .bearer_auth(alice())
        .json(&json!({ "role": "admin" }))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::PAYLOAD_TOO_LARGE, &["admin"]).await;

    // Chunked too.
    let mut request = format!(
        "POST /ping HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        alice()
    )
    .into_bytes();
    request.extend(chunked(br#"{"role":"admin"}"#, 4));
    let res = raw_exchange(app.addr, request, 1).await.remove(0);
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.body);
    check_problem(
        res.headers,
        &res.body,
        StatusCode::PAYLOAD_TOO_LARGE,
        &["admin"],
    );

    // Without a body it works.
    let res = app.post("/ping").bearer_auth(alice()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_security_headers(res.headers());
    assert_eq!(res.text().await.unwrap(), "pong");
}

// ---- rate limits -------------------------------------------------------------------------------

#[tokio::test]
async fn per_principal_rate_limit() {
    let app = TestApp::start().await;
    let alice = alice();
    for i in 0..3 {
        let res = app.get_as("/limited", &alice).await;
        assert_eq!(res.status(), StatusCode::OK, "request {i}");
    }
    let p = expect_problem(
        app.get_as("/limited", &alice).await,
        StatusCode::TOO_MANY_REQUESTS,
        &[ALICE],
    )
    .await;
    assert_eq!(p.body["code"], "rate_limited");
    let retry_after: u64 = p
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("Retry-After is an integer number of seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    let policy = p.header("ratelimit-policy").expect("RateLimit-Policy");
    assert!(
        policy.contains("q=3") && policy.contains("w=60"),
        "{policy}"
    );
    let ratelimit = p.header("ratelimit").expect("RateLimit");
    assert!(ratelimit.contains("r=0"), "{ratelimit}");
    assert!(
        ratelimit.contains(&format!("t={retry_after}")),
        "{ratelimit} vs {retry_after}"
    );

    // A fresh token of the same principal is the same principal.
    let res = app
        .get_as("/limited", &token(ALICE, &["user"], "fresh"))
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    // Another principal, from the same address, is not affected.
    let bob = bob();
    for _ in 0..3 {
        let body = expect_json(app.get_as("/limited", &bob).await, StatusCode::OK).await;
        assert_eq!(body["sub"], BOB);
    }
    // The limit is per endpoint: Alice can still use others.
    expect_json(app.get_as("/me", &alice).await, StatusCode::OK).await;
}

#[tokio::test]
async fn public_rate_limit_is_per_client_ip() {
    let app = TestApp::start().await;
    for i in 0..2 {
        let res = app.get("/public/limited").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "request {i}");
    }
    let res = app.get("/public/limited").send().await.unwrap();
    let p = expect_problem(res, StatusCode::TOO_MANY_REQUESTS, &["127.0.0.1"]).await;
    assert!(p.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert!(p.header("ratelimit-policy").unwrap().contains("q=2"));
    assert!(p.header("ratelimit").is_some());

    // Credentials do not change the key of a public endpoint.
    let res = app.get_as("/public/limited", &bob()).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    // Another client address (the whole of 127/8 is loopback) has its own budget.
    let other = client_from(Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))));
    let res = other.get(app.url("/public/limited")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn pre_authentication_ip_limit_applies_before_the_token_is_checked() {
    let security = Security::builder()
        .allow_plain_http()
        .jwt(verifier())
        .ip_rate(Some(RateSpec::new(3, std::time::Duration::from_secs(60))))
        .build();
    let app = TestApp::start_with(security).await;
    for _ in 0..3 {
        let res = app.get("/me").bearer_auth("garbage").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Even a valid token is now refused: the per-IP limit runs before authentication.
    let p = expect_problem(
        app.get_as("/me", &alice()).await,
        StatusCode::TOO_MANY_REQUESTS,
        &[],
    )
    .await;
    assert!(p.header("retry-after").is_some());
}

/// The per-IP limit is the first thing that runs on *each request* (the crate documentation's
/// order), so unrouted paths and methods count too: otherwise route enumeration and 404/405
/// floods are unlimited.
///
/// RUNTIME BUG if this fails: the secure router's fallbacks (`not_found`,
/// `method_not_allowed` in runtime/src/router.rs) do not consult `Engine::ip_limiter`.
#[tokio::test]
async fn pre_authentication_ip_limit_covers_unrouted_requests() {
    let security = Security::builder()
        .allow_plain_http()
        .jwt(verifier())
        .ip_rate(Some(RateSpec::new(3, std::time::Duration::from_secs(60))))
        .build();
    let app = TestApp::start_with(security).await;
    for i in 0..3 {
        let res = app.get(&format!("/probe-{i}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let p = expect_problem(
        app.get("/probe-3").send().await.unwrap(),
        StatusCode::TOO_MANY_REQUESTS,
        &["probe"],
    )
    .await;
    assert!(p.header("retry-after").is_some());
    let res = app.client.delete(app.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

// ---- headers and request ids -------------------------------------------------------------------

#[tokio::test]
async fn security_headers_on_success_and_error() {
    let app = TestApp::start().await;

    let ok = app.get("/health").send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_security_headers(ok.headers());
    assert_eq!(ok.json::<Value>().await.unwrap(), json!({ "status": "ok" }));

    let authed = app.get_as("/me", &alice()).await;
    assert_eq!(authed.status(), StatusCode::OK);
    assert_security_headers(authed.headers());

    let head = app.client.head(app.url("/health")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_security_headers(head.headers());

    // expect_problem checks the same headers.
    expect_problem(
        app.get("/me").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        &[],
    )
    .await;
    expect_problem(
        app.get_as("/admin/users", &alice()).await,
        StatusCode::FORBIDDEN,
        &[],
    )
    .await;
}

#[tokio::test]
async fn request_id_is_echoed_when_well_formed_and_replaced_otherwise() {
    let app = TestApp::start().await;

    let good = "req-42.abc_DEF:9";
    let res = app
        .get("/health")
        .header("x-request-id", good)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], good);
    let res = app
        .get("/me")
        .header("x-request-id", good)
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
    assert_eq!(p.body["request_id"], good);
    let max = "r".repeat(64);
    let res = app
        .get("/health")
        .header("x-request-id", &max)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], max.as_str());

    let too_long = "x".repeat(65);
    for bad in [
        too_long.as_str(),
        "has spaces in it",
        "<script>alert(1)</script>",
        "a/b",
        "a\"b",
        "abc;def",
    ] {
        let res = app
            .get("/me")
            .header("x-request-id", bad)
            .send()
            .await
            .unwrap();
        let p = expect_problem(res, StatusCode::UNAUTHORIZED, &[bad, "script"]).await;
        let rid = p.header("x-request-id").unwrap();
        assert_ne!(rid, bad);
        assert!(is_generated_id(rid), "replacement id {rid:?}");
        assert_eq!(p.body["request_id"], rid);

        let res = app
            .get("/health")
            .header("x-request-id", bad)
            .send()
            .await
            .unwrap();
        let rid = res.headers()["x-request-id"].to_str().unwrap();
        assert!(is_generated_id(rid), "replacement id {rid:?}");
    }

    // Without one, each response gets a fresh id.
    let a = app.get("/health").send().await.unwrap();
    let b = app.get("/health").send().await.unwrap();
    assert_ne!(a.headers()["x-request-id"], b.headers()["x-request-id"]);
}

/// A generated request id: `<16 hex>-<16 hex>`.
fn is_generated_id(id: &str) -> bool {
    let hex = |s: &str| {
        s.len() == 16
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    matches!(id.split_once('-'), Some((a, b)) if hex(a) && hex(b))
}

// ---- fallbacks ---------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_route_is_404_problem() {
    let app = TestApp::start().await;
    let res = app
        .get("/does-not-exist/SENTINEL-PATH")
        .send()
        .await
        .unwrap();
    let p = expect_problem(
        res,
        StatusCode::NOT_FOUND,
        &["SENTINEL-PATH", "does-not-exist"],
    )
    .await;
    assert_eq!(p.body["code"], "not_found");

    let res = app
        .get("/nope")
        .header("x-request-id", "probe-1")
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, StatusCode::NOT_FOUND, &[]).await;
    assert_eq!(p.body["request_id"], "probe-1");

    // With credentials and a body too.
    let res = app
        .post("/nope")
        .bearer_auth(alice())
        .json(&json!({ "x": "SENTINEL" }))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::NOT_FOUND, &["SENTINEL", "nope"]).await;
}

#[tokio::test]
async fn wrong_method_is_405_problem_with_allow() {
    let app = TestApp::start().await;
    let res = app
        .client
        .delete(app.url(&format!("/users/{ALICE}")))
        .bearer_auth(alice())
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, StatusCode::METHOD_NOT_ALLOWED, &[ALICE]).await;
    assert_eq!(p.body["code"], "method_not_allowed");
    let allow: Vec<String> = p
        .header("allow")
        .expect("Allow header on 405")
        .split(',')
        .map(|m| m.trim().to_owned())
        .collect();
    assert!(
        allow.contains(&"GET".to_owned()) && allow.contains(&"PUT".to_owned()),
        "{allow:?}"
    );
    assert!(!allow.contains(&"DELETE".to_owned()), "{allow:?}");

    let res = app.get("/ping").send().await.unwrap();
    let p = expect_problem(res, StatusCode::METHOD_NOT_ALLOWED, &[]).await;
    assert!(p.header("allow").expect("Allow").contains("POST"));
}

// ---- panics and rejections ---------------------------------------------------------------------

#[tokio::test]
async fn panicking_handler_is_500_and_the_connection_survives() {
    let app = TestApp::start().await;

    let p = expect_problem(
        app.get("/panic").send().await.unwrap(),
        StatusCode::INTERNAL_SERVER_ERROR,
        &["unwrap", "None value", "handler"],
    )
    .await;
    assert_eq!(p.body["code"], "internal_error");

    // On one keep-alive connection: the panic's 500, then a normal response.
    let request = b"GET /panic HTTP/1.1\r\nHost: localhost\r\n\r\n\
                    GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"
        .to_vec();
    let mut responses = raw_exchange(app.addr, request, 2).await;
    let health = responses.pop().unwrap();
    let panic = responses.pop().unwrap();
    assert_eq!(panic.status, StatusCode::INTERNAL_SERVER_ERROR);
    check_problem(
        panic.headers,
        &panic.body,
        StatusCode::INTERNAL_SERVER_ERROR,
        &["unwrap"],
    );
    assert_eq!(health.status, StatusCode::OK, "{}", health.body);
    assert_security_headers(&health.headers);

    // And the server keeps serving new connections.
    expect_json(app.get_as("/me", &alice()).await, StatusCode::OK).await;
}

/// User code that runs before the handler (an `OwnedResource` loader) is handler code too: its
/// panic must also be a 500 problem, not a dropped connection.
///
/// RUNTIME BUG if this fails with a connection error: `EndpointRuntime::serve`
/// (runtime/src/pipeline.rs) runs `E::load` outside the `catch_unwind` that wraps
/// `endpoint.call`.
#[tokio::test]
async fn panicking_loader_is_500_and_the_connection_survives() {
    let app = TestApp::start().await;
    let res = app
        .get_as(&format!("/orders/{PANICKING_ORDER}"), &alice())
        .await;
    let p = expect_problem(
        res,
        StatusCode::INTERNAL_SERVER_ERROR,
        &["unreachable", "db.rs", "SECRET"],
    )
    .await;
    assert_eq!(p.body["code"], "internal_error");

    let request = format!(
        "GET /orders/{PANICKING_ORDER} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\r\n\
         GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n",
        alice()
    );
    let mut responses = raw_exchange(app.addr, request.into_bytes(), 2).await;
    let health = responses.pop().unwrap();
    let panic = responses.pop().unwrap();
    assert_eq!(panic.status, StatusCode::INTERNAL_SERVER_ERROR);
    check_problem(
        panic.headers,
        &panic.body,
        StatusCode::INTERNAL_SERVER_ERROR,
        &["db.rs", "SECRET"],
    );
    assert_eq!(health.status, StatusCode::OK);
}

#[tokio::test]
async fn extractor_rejection_is_a_clean_400() {
    let app = TestApp::start().await;
    let res = app.get("/items/abcSENTINEL").send().await.unwrap();
    let p = expect_problem(
        res,
        StatusCode::BAD_REQUEST,
        &["abcSENTINEL", "parse", "URL"],
    )
    .await;
    assert_eq!(p.body["code"], "bad_request");

    let res = app.get("/items/99999999999999999999").send().await.unwrap();
    expect_problem(res, StatusCode::BAD_REQUEST, &["99999999999999999999"]).await;

    assert_eq!(
        expect_json(app.get("/items/7").send().await.unwrap(), StatusCode::OK).await,
        json!({ "id": 7 })
    );
}

#[tokio::test]
async fn validated_query() {
    let app = TestApp::start().await;

    for q in ["page=0", "page=101"] {
        let res = app.get(&format!("/search?{q}")).send().await.unwrap();
        let p = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, &[]).await;
        assert_eq!(p.error_fields(), vec!["page".to_owned()], "{}", p.raw);
        assert_eq!(p.body["code"], "validation_failed");
    }

    for q in ["page=abcSENTINEL", "page=-1", "page=1e3", "", "pag=1"] {
        let res = app.get(&format!("/search?{q}")).send().await.unwrap();
        let p = expect_problem(
            res,
            StatusCode::BAD_REQUEST,
            &["abcSENTINEL", "invalid digit", "missing field"],
        )
        .await;
        assert_eq!(p.body["code"], "invalid_query", "{q}");
    }

    assert_eq!(
        expect_json(
            app.get("/search?page=5").send().await.unwrap(),
            StatusCode::OK
        )
        .await,
        json!({ "page": 5 })
    );
}

// ---- inventory ---------------------------------------------------------------------------------

#[test]
fn inventory_lists_every_contract() {
    let inventory = router(security().build()).inventory();
    let json: Value = serde_json::from_str(&inventory.to_json()).unwrap();
    let endpoints = json["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 14);

    let find = |method: &str, path: &str| -> &Value {
        endpoints
            .iter()
            .find(|e| e["method"] == method && e["path"] == path)
            .unwrap_or_else(|| panic!("{method} {path} missing from {json}"))
    };

    let e = find("PUT", "/users/{user_id}");
    assert_eq!(e["handler"], "update_user");
    assert_eq!(e["auth"], json!(["jwt"]));
    assert_eq!(e["public"], false);
    assert_eq!(e["owner"], "user_id");
    assert_eq!(e["loader"], Value::Null);
    assert_eq!(e["rate"], Value::Null);
    assert_eq!(e["rate_key"], "principal");
    assert_eq!(e["fields"], json!(["name", "email"]));

    let e = find("GET", "/users/{user_id}");
    assert_eq!(e["handler"], "show_user");
    assert_eq!(e["fields"], Value::Null);

    let e = find("GET", "/orders/{order_id}");
    assert_eq!(e["owner"], "order_id");
    assert_eq!(e["loader"], "Order");

    let e = find("GET", "/admin/users");
    assert_eq!(e["roles"], json!(["admin"]));
    assert_eq!(e["scopes"], json!([]));

    let e = find("GET", "/reports");
    assert_eq!(e["scopes"], json!(["reports:read"]));

    let e = find("GET", "/limited");
    assert_eq!(e["rate"], "3/1m");
    assert_eq!(e["any_authenticated"], true);

    let e = find("GET", "/public/limited");
    assert_eq!(e["public"], true);
    assert_eq!(e["auth"], json!([]));
    assert_eq!(e["rate"], "2/1m");
    assert_eq!(e["rate_key"], "client_ip");

    let e = find("POST", "/notes");
    assert_eq!(e["fields"], json!(["text"]));

    let md = inventory.to_markdown();
    let rows = [
        "| method | path | handler | auth | authorization | rate | fields | lifecycle |",
        "| GET | `/health` | `health` | none | public | default | no body | — |",
        "| GET | `/me` | `me` | jwt | any authenticated | default | no body | — |",
        "| GET | `/users/{user_id}` | `show_user` | jwt | owner: {user_id} | default | no body | — |",
        "| PUT | `/users/{user_id}` | `update_user` | jwt | owner: {user_id} | default | `name`, `email` | — |",
        "| GET | `/orders/{order_id}` | `show_order` | jwt | owner: {order_id} via Order | default | no body | — |",
        "| GET | `/admin/users` | `list_users` | jwt | roles: admin | default | no body | — |",
        "| GET | `/reports` | `reports` | jwt | scopes: reports:read | default | no body | — |",
        "| GET | `/limited` | `limited` | jwt | any authenticated | 3/1m per principal | no body | — |",
        "| GET | `/public/limited` | `public_limited` | none | public | 2/1m per client ip | no body | — |",
        "| POST | `/notes` | `create_note` | jwt | any authenticated | default | `text` | — |",
    ];
    for row in rows {
        assert!(md.lines().any(|l| l == row), "missing row {row:?} in\n{md}");
    }
    assert_eq!(md.lines().count(), 2 + 14, "{md}");
}

/// A limiter full of live keys (`rate_max_keys`) refuses requests of new principals with the
/// same 429 as an exhausted quota, while principals it already holds keep theirs.
#[tokio::test]
async fn a_full_limiter_refuses_new_principals_and_keeps_known_ones() {
    let app = TestApp::start_with(security().rate_max_keys(1).build()).await;
    let early = token("cap-early", &[], "");
    assert_eq!(app.get_as("/limited", &early).await.status(), 200);
    // The keys are counted every 1 024 decisions: past that, the map is full.
    let mut refused = 0;
    for i in 0..1_100 {
        let status = app
            .get_as("/limited", &token(&format!("cap-{i}"), &[], ""))
            .await
            .status();
        assert!(status == 200 || status == 429, "{status}");
        refused += usize::from(status == 429);
    }
    assert!(refused >= 70, "{refused} new principals refused");

    let newcomer = token("cap-newcomer", &[], "");
    let problem = expect_problem(
        app.get_as("/limited", &newcomer).await,
        StatusCode::TOO_MANY_REQUESTS,
        &[&newcomer],
    )
    .await;
    assert_eq!(problem.body["code"], "rate_limited");
    let retry: u64 = problem.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        problem.header("ratelimit-policy"),
        Some("\"endpoint\";q=3;w=60")
    );
    assert!(problem
        .header("ratelimit")
        .unwrap()
        .starts_with("\"endpoint\";r=0;t="));

    // The principal held before the limiter filled up still has its quota (2 of 3 left).
    assert_eq!(app.get_as("/limited", &early).await.status(), 200);
    assert_eq!(app.get_as("/limited", &early).await.status(), 200);
    assert_eq!(
        app.get_as("/limited", &early).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}
