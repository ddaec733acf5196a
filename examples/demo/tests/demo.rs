//! The demo API over real HTTPS on 127.0.0.1 (the same TLS set-up as `cargo run -p demo`): the
//! seed's scenarios, end to end.

use demo::{app, DemoConfig};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const PASSWORD: &str = "correct-horse-battery";
const REPORTS_KEY: &str = "demo_0123456789abcdef0123456789abcdef";
const WEBHOOK_SECRET: &str = "webhook secret of the demo tests, 32+ bytes";

struct Demo {
    base: String,
    /// The same app on a plain-HTTP listener.
    plain: String,
    client: Client,
}

const CORS_ORIGIN: &str = "https://app.example.com";

fn config() -> DemoConfig {
    DemoConfig {
        jwt_secret: b"test secret, at least thirty-two bytes".to_vec(),
        password: PASSWORD.into(),
        reports_api_key: REPORTS_KEY.into(),
        webhook_secret: WEBHOOK_SECRET.into(),
        cors_origins: vec![CORS_ORIGIN.into()],
        trusted_proxies: Vec::new(),
        audit_file: None,
        redis_url: None,
        signed: demo::hooks::SignedSenders::generate(),
    }
}

/// The demo over HTTPS on 127.0.0.1:0, with a client that trusts its generated CA, plus the
/// same app on a plain-HTTP listener.
async fn start() -> Demo {
    let (router, state) = app(&config());
    let (tls, ca) = demo::server::tls_config(None).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain_addr = plain.local_addr().unwrap();
    let (plain_router, plain_state) = app(&config());
    let plain_router = plain_router.with_state(plain_state);
    tokio::spawn(demo::server::serve_https(listener, tls, router, state));
    tokio::spawn(demo::server::serve_plain(plain, plain_router));
    let ca = reqwest::Certificate::from_pem(ca.unwrap().as_bytes()).unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::builder()
        .tls_certs_only([ca])
        .no_proxy()
        .build()
        .unwrap();
    Demo {
        base: format!("https://{addr}"),
        plain: format!("http://{plain_addr}"),
        client,
    }
}

impl Demo {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    async fn token(&self, email: &str) -> String {
        let res = self.login(email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        body["token"].as_str().unwrap().to_owned()
    }

    async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    async fn me(&self, token: &str) -> Value {
        self.get("/api/users/me", token).await.json().await.unwrap()
    }
}

async fn problem(res: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(body["error_id"].is_string() && body["request_id"].is_string());
    body
}

#[tokio::test]
async fn health_is_public_and_hardened() {
    let demo = start().await;
    let res = demo
        .client
        .get(demo.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(res.headers()[name], value, "{name}");
    }
    assert!(res.headers().contains_key("strict-transport-security"));
    assert!(!res.headers().contains_key("server") && !res.headers().contains_key("x-powered-by"));
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "status": "ok" })
    );
}

#[tokio::test]
async fn profile_has_no_secret_fields_and_others_are_404() {
    let demo = start().await;
    let alice = demo.token("alice@example.com").await;
    let bob = demo.token("bob@example.com").await;
    let me = demo.me(&alice).await;
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(
        me.as_object().unwrap().len(),
        4,
        "only id, email, name, role: {me}"
    );
    let bob_id = demo.me(&bob).await["id"].as_str().unwrap().to_owned();

    // Another's profile and a missing one look the same.
    let theirs = problem(
        demo.get(&format!("/api/users/{bob_id}"), &alice).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let missing = problem(
        demo.get("/api/users/no-such-user", &alice).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    for key in ["type", "title", "detail", "code"] {
        assert_eq!(theirs[key], missing[key], "{key}");
    }
    let put = demo
        .client
        .put(demo.url(&format!("/api/users/{bob_id}")))
        .bearer_auth(&alice)
        .json(&json!({ "name": "pwned" }))
        .send()
        .await
        .unwrap();
    problem(put, StatusCode::NOT_FOUND).await;
    assert_eq!(demo.me(&bob).await["name"], "Bob");
}

#[tokio::test]
async fn mass_assignment_is_refused_and_nothing_changes() {
    let demo = start().await;
    let alice = demo.token("alice@example.com").await;
    let id = demo.me(&alice).await["id"].as_str().unwrap().to_owned();
    let res = demo
        .client
        .put(demo.url(&format!("/api/users/{id}")))
        .bearer_auth(&alice)
        .json(&json!({ "name": "Alice 2", "role": "admin" }))
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        body["errors"],
        json!([{ "field": "role", "message": "field not allowed" }])
    );
    assert!(
        !body.to_string().contains("\"admin\""),
        "the value is never echoed"
    );
    let me = demo.me(&alice).await;
    assert_eq!(
        (me["name"].as_str(), me["role"].as_str()),
        (Some("Alice"), Some("user"))
    );

    let ok = demo
        .client
        .put(demo.url(&format!("/api/users/{id}")))
        .bearer_auth(&alice)
        .json(&json!({ "name": "Alice 2" }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(demo.me(&alice).await["name"], "Alice 2");
}

#[tokio::test]
async fn orders_are_wrapped_and_owned() {
    let demo = start().await;
    let alice = demo.token("alice@example.com").await;
    let bob = demo.token("bob@example.com").await;
    let mine: Value = demo.get("/api/orders", &alice).await.json().await.unwrap();
    assert_eq!(mine["count"], 2);
    assert_eq!(mine["data"].as_array().unwrap().len(), 2);
    let bobs: Value = demo.get("/api/orders", &bob).await.json().await.unwrap();
    let bob_order = bobs["data"][0]["id"].as_str().unwrap();
    let alice_order = mine["data"][0]["id"].as_str().unwrap();

    let res = demo
        .get(&format!("/api/orders/{alice_order}"), &alice)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["id"], alice_order);
    let theirs = problem(
        demo.get(&format!("/api/orders/{bob_order}"), &alice).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let missing = problem(
        demo.get("/api/orders/nope", &alice).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(theirs["detail"], missing["detail"]);
}

#[tokio::test]
async fn admin_endpoint_needs_the_admin_role() {
    let demo = start().await;
    let alice = demo.token("alice@example.com").await;
    problem(
        demo.get("/api/admin/users", &alice).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let admin = demo.token("admin@example.com").await;
    let all: Value = demo
        .get("/api/admin/users", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["count"], 3);
    assert!(!all.to_string().contains("argon2"), "no password hashes");
}

#[tokio::test]
async fn articles_are_validated() {
    let demo = start().await;
    let alice = demo.token("alice@example.com").await;
    let post = |body: Value| {
        demo.client
            .post(demo.url("/api/articles"))
            .bearer_auth(&alice)
            .json(&body)
            .send()
    };
    let created =
        post(json!({ "title": "Hello", "body": "text", "tags": ["a"], "published": true }))
            .await
            .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    let empty_title = problem(
        post(json!({ "title": "", "body": "x" })).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(empty_title["errors"][0]["field"], "title");
    let tags: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let too_many = problem(
        post(json!({ "title": "t", "body": "x", "tags": tags }))
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(too_many["errors"][0]["field"], "tags");
    let long_tag = problem(
        post(json!({ "title": "t", "body": "x", "tags": ["x".repeat(51)] }))
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(long_tag["errors"][0]["field"], "tags[0]");
    let too_long = problem(
        post(json!({ "title": "t", "body": "x".repeat(50_001) }))
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(too_long["errors"][0]["field"], "body");
    problem(
        post(json!({ "title": "t", "body": "x", "author_id": "someone" }))
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    let list: Value = demo
        .get("/api/articles?limit=1&sort=newest", &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"][0]["title"], "Hello");
    assert_eq!(list["count"], 1);
    let bad = problem(
        demo.get("/api/articles?limit=101", &alice).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(bad["errors"][0]["field"], "limit");
    problem(
        demo.get("/api/articles?page=0", &alice).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        demo.get("/api/articles?sort=random", &alice).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn login_counts_failures_per_ip_and_email_but_not_successes() {
    let demo = start().await;
    // Successes are not counted: more than five in a row all pass.
    for _ in 0..6 {
        assert_eq!(
            demo.login("bob@example.com", PASSWORD).await.status(),
            StatusCode::OK
        );
    }
    for _ in 0..5 {
        let res = demo.login("alice@example.com", "wrong").await;
        let body = problem(res, StatusCode::UNAUTHORIZED).await;
        assert_eq!(body["detail"], "Invalid email or password.");
    }
    // The sixth attempt is throttled, even with the right password.
    let res = demo.login("alice@example.com", PASSWORD).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60);
    problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    // Another email from the same IP is not locked out.
    assert_eq!(
        demo.login("admin@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    // An unknown email fails the same way as a wrong password.
    let unknown = problem(
        demo.login("nobody@example.com", "x").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(unknown["detail"], "Invalid email or password.");
}

#[tokio::test]
async fn inventory_lists_every_route_with_its_contract() {
    let (router, _) = app(&config());
    let inventory = router.inventory();
    let rows: Vec<(String, String)> = inventory
        .endpoints
        .iter()
        .map(|e| (e.method.clone(), e.path.clone()))
        .collect();
    assert_eq!(rows.len(), 24, "{rows:?}");
    let update = inventory
        .endpoints
        .iter()
        .find(|e| e.handler == "update_user")
        .unwrap();
    assert_eq!(update.owner, Some("user_id"));
    assert_eq!(update.fields, Some(vec!["name", "email"]));
    let md = inventory.to_markdown();
    assert!(md.contains("| GET | `/api/admin/users` | `admin_list_users` | jwt | roles: admin | default | no body |"), "{md}");
}

#[tokio::test]
async fn reports_need_the_api_key_not_a_user_token() {
    let demo = start().await;
    let ok = demo
        .client
        .get(demo.url("/api/reports"))
        .header("x-api-key", REPORTS_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let report: Value = ok.json().await.unwrap();
    assert_eq!(
        (report["generated_for"].as_str(), report["users"].as_u64()),
        (Some("reports-service"), Some(3))
    );

    let none = problem(
        demo.client
            .get(demo.url("/api/reports"))
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(!none.to_string().contains(REPORTS_KEY));
    // A user's token is not an API key.
    let alice = demo.token("alice@example.com").await;
    problem(
        demo.get("/api/reports", &alice).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Keys in the URL are refused (they leak into logs).
    let in_query = demo
        .client
        .get(demo.url(&format!("/api/reports?api_key={REPORTS_KEY}")))
        .header("x-api-key", REPORTS_KEY)
        .send()
        .await
        .unwrap();
    let body = problem(in_query, StatusCode::UNAUTHORIZED).await;
    assert!(!body.to_string().contains(REPORTS_KEY));
}

#[tokio::test]
async fn webhooks_are_hmac_signed_and_never_replayed() {
    use secure_endpoint::hmac::HmacSigner;
    let demo = start().await;
    let (base, client) = (demo.base.clone(), demo.client.clone());
    let signer = HmacSigner::new(demo::WEBHOOK_KEY_ID, WEBHOOK_SECRET.as_bytes());
    let path = "/api/webhooks/github";
    let body = r#"{"event":"push","data":{"ref":"main"}}"#;
    let auth = signer.sign("POST", path, body.as_bytes());
    let send = |auth: Option<String>, body: &'static str| {
        let mut req = client
            .post(format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.send()
    };
    let res = send(Some(auth.clone()), body).await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let receipt: Value = res.json().await.unwrap();
    assert_eq!(receipt["source"], "github");
    assert_eq!(receipt["event"], "push");

    // The same delivery again (a replay), and an unsigned one: 401.
    let replay = send(Some(auth), body).await.unwrap();
    problem(replay, StatusCode::UNAUTHORIZED).await;
    let unsigned = send(None, body).await.unwrap();
    assert_eq!(
        unsigned.headers()["www-authenticate"],
        "HMAC-SHA256 realm=\"api\""
    );
    problem(unsigned, StatusCode::UNAUTHORIZED).await;
    // A user's token is not a webhook signature.
    let token = demo.token("alice@example.com").await;
    let res = client
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

// ---- the perimeter, against the demo as served ------------------------------------------------

#[tokio::test]
async fn plain_http_is_refused_with_403_without_redirect_or_hsts() {
    let demo = start().await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::builder().no_proxy().build().unwrap();
    for (method, path) in [
        ("GET", "/api/health"),
        ("POST", "/api/login"),
        ("GET", "/no/such/route"),
    ] {
        let res = client
            .request(method.parse().unwrap(), format!("{}{path}", demo.plain))
            .header("content-type", "application/json")
            .body(r#"{"email":"alice@example.com","password":"x"}"#)
            .send()
            .await
            .unwrap();
        assert!(
            res.headers().get("location").is_none(),
            "{path}: no redirect"
        );
        assert!(
            res.headers().get("strict-transport-security").is_none(),
            "{path}: no HSTS on plain HTTP"
        );
        let body = problem(res, StatusCode::FORBIDDEN).await;
        assert_eq!(body["code"], "https_required", "{path}");
    }
    // The same app over HTTPS answers, with HSTS.
    let res = demo
        .client
        .get(demo.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key("strict-transport-security"));
}

fn cors_headers(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-allow"))
        .collect()
}

#[tokio::test]
async fn cors_echoes_only_the_allowed_origin() {
    let demo = start().await;
    let res = demo
        .client
        .get(demo.url("/api/health"))
        .header("origin", CORS_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], CORS_ORIGIN);
    assert_eq!(res.headers()["access-control-allow-credentials"], "true");
    let vary: Vec<&str> = res
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        vary.iter()
            .any(|v| v.to_ascii_lowercase().contains("origin")),
        "{vary:?}"
    );

    let preflight = demo
        .client
        .request(reqwest::Method::OPTIONS, demo.url("/api/users/me"))
        .header("origin", CORS_ORIGIN)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        CORS_ORIGIN
    );
    let methods = preflight.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("GET"), "{methods}");
    let headers = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(headers.contains("authorization"), "{headers}");

    for origin in [
        "null",
        "https://app.example.com.evil.example",
        "https://evil-app.example.com",
        "https://app.example.co",
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://APP.example.com",
        "https://evil.example",
        "*",
    ] {
        let res = demo
            .client
            .get(demo.url("/api/health"))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(cors_headers(&res), Vec::<String>::new(), "{origin}");
        let res = demo
            .client
            .request(reqwest::Method::OPTIONS, demo.url("/api/users/me"))
            .header("origin", origin)
            .header("access-control-request-method", "DELETE")
            .send()
            .await
            .unwrap();
        assert_eq!(
            cors_headers(&res),
            Vec::<String>::new(),
            "preflight from {origin}"
        );
    }
}

#[tokio::test]
async fn request_shape_limits_are_problems() {
    let demo = start().await;
    let long = demo.url(&format!("/api/health?q={}", "a".repeat(9 * 1024)));
    let res = demo.client.get(long).send().await.unwrap();
    problem(res, StatusCode::URI_TOO_LONG).await;

    let res = demo
        .client
        .get(demo.url("/api/health"))
        .header("x-padding", "p".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE).await;

    let login = |body: String, content_type: &'static str| {
        demo.client
            .post(demo.url("/api/login"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let big = format!(r#"{{"email":"{}","password":"x"}}"#, "a".repeat(200 * 1024));
    problem(
        login(big, "application/json").await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let body = problem(
        login(deep, "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(body["code"], "json_too_deep");
    let form = "email=alice@example.com&password=x".to_owned();
    problem(
        login(form, "application/x-www-form-urlencoded")
            .await
            .unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    // The server is still there.
    let res = demo
        .client
        .get(demo.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn methods_trace_head_and_override() {
    let demo = start().await;
    let res = demo
        .client
        .delete(demo.url("/api/health"))
        .send()
        .await
        .unwrap();
    let allow = res.headers()["allow"].to_str().unwrap().to_owned();
    assert!(
        allow.contains("GET") && !allow.contains("DELETE"),
        "{allow}"
    );
    problem(res, StatusCode::METHOD_NOT_ALLOWED).await;

    let res = demo
        .client
        .request(reqwest::Method::TRACE, demo.url("/api/health"))
        .header("x-trace-me", "echo-canary-7f3a")
        .header("cookie", "session=cookie-canary-91b2")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let text = res.text().await.unwrap();
    assert!(
        !text.contains("echo-canary") && !text.contains("cookie-canary"),
        "{text}"
    );

    // HEAD goes through the same policy as GET.
    let res = demo
        .client
        .head(demo.url("/api/users/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let token = demo.token("alice@example.com").await;
    let res = demo
        .client
        .head(demo.url("/api/users/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.bytes().await.unwrap().is_empty());

    // X-HTTP-Method-Override is not a way around the method table.
    let res = demo
        .client
        .post(demo.url("/api/users/me"))
        .bearer_auth(&token)
        .header("x-http-method-override", "GET")
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::METHOD_NOT_ALLOWED).await;
    let res = demo
        .client
        .get(demo.url("/api/health"))
        .header("x-http-method-override", "DELETE")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn deprecated_and_sunset_versions() {
    let demo = start().await;
    let token = demo.token("alice@example.com").await;
    let res = demo.get("/api/v1/users/me", &token).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["deprecation"], "@1767225600");
    assert_eq!(res.headers()["sunset"], "Wed, 30 Jun 2027 00:00:00 GMT");
    assert_eq!(
        res.headers()["link"],
        "</api/users/me>; rel=\"successor-version\""
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["email"], "alice@example.com");

    // Retired: 410 for everyone, before authentication, still pointing to the successor.
    for token in [None, Some(token.as_str())] {
        let mut req = demo.client.get(demo.url("/api/v1/orders"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.headers()["sunset"], "Wed, 31 Dec 2025 00:00:00 GMT");
        assert_eq!(
            res.headers()["link"],
            "</api/orders>; rel=\"successor-version\""
        );
        let body = problem(res, StatusCode::GONE).await;
        assert_eq!(body["code"], "sunset");
    }
}

#[tokio::test]
async fn the_openapi_document_is_for_admins_and_matches_the_inventory() {
    let demo = start().await;
    let path = "/api/admin/openapi.json";
    problem(
        demo.client.get(demo.url(path)).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let alice = demo.token("alice@example.com").await;
    problem(demo.get(path, &alice).await, StatusCode::FORBIDDEN).await;

    let admin = demo.token("admin@example.com").await;
    let res = demo.get(path, &admin).await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let (router, _) = app(&config());
    for e in router.inventory().endpoints {
        let op = &doc["paths"][&e.path][e.method.to_ascii_lowercase()];
        assert!(op.is_object(), "{} {} missing", e.method, e.path);
        let security = op["security"].as_array().unwrap();
        if e.public {
            assert!(security.is_empty(), "{}: public", e.path);
            // No credential to refuse: no 401 of the pipeline's. The login's own 401 (a wrong
            // password) is the demo's addition to the document.
            let refused = &op["responses"]["401"];
            assert!(
                refused.is_null() || (e.path == "/api/login" && refused["$ref"].is_null()),
                "{}: {refused}",
                e.path
            );
        } else {
            assert_eq!(security.len(), e.auth.len(), "{}", e.path);
            assert_eq!(
                op["responses"]["401"]["$ref"],
                "#/components/responses/Unauthorized"
            );
        }
        assert_eq!(
            op["responses"]["429"]["$ref"],
            "#/components/responses/TooManyRequests"
        );
        if let Some(fields) = &e.fields {
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            assert_eq!(schema["additionalProperties"], false, "{}", e.path);
            let names: Vec<&str> = schema["properties"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let mut expected = fields.clone();
            expected.sort_unstable();
            assert_eq!(names, expected, "{}", e.path);
        }
    }
    let reports = &doc["paths"]["/api/reports"]["get"]["security"][0]["apiKey"];
    assert_eq!(reports, &serde_json::json!(["reports:read"]));
    assert_eq!(doc["paths"]["/api/v1/orders"]["get"]["deprecated"], true);
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerJwt"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn spoofed_forwarding_headers_do_not_escape_the_login_limit() {
    // The demo trusts no proxy by default: 20 logins per minute per client IP, whatever
    // X-Forwarded-For / Forwarded / X-Real-IP claim. Sent at once: one after the other, 21
    // password checks can take longer than the limit's 3 s emission interval on a loaded
    // machine, and the 21st would then be admitted by right.
    let demo = std::sync::Arc::new(start().await);
    let attempts: Vec<_> = (0..21)
        .map(|i| {
            let demo = demo.clone();
            tokio::spawn(async move {
                let res = demo
                    .client
                    .post(demo.url("/api/login"))
                    .header("x-forwarded-for", format!("203.0.113.{i}"))
                    .header("forwarded", format!("for=198.51.100.{i};proto=https"))
                    .header("x-real-ip", format!("192.0.2.{i}"))
                    .json(&json!({ "email": format!("nobody{i}@example.com"), "password": "x" }))
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                let body: Value = res.json().await.unwrap();
                (status, body["code"].as_str().unwrap_or("").to_owned())
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    let count = |status, code: &str| {
        statuses
            .iter()
            .filter(|(s, c)| *s == status && (code.is_empty() || c == code))
            .count()
    };
    // All 21 count as one client: one over the endpoint's 20 a minute, and the 20 admitted
    // are 20 distinct emails failing from one client, which the login flow's stuffing guard
    // cuts off at the 10th (demo::STUFFING_THRESHOLD).
    let guard = demo::STUFFING_THRESHOLD as usize;
    assert_eq!(count(429, "rate_limited"), 1, "{statuses:?}");
    assert_eq!(count(401, ""), guard - 1, "{statuses:?}");
    assert_eq!(
        count(429, "credential_abuse_suspected"),
        20 - (guard - 1),
        "{statuses:?}"
    );
}
