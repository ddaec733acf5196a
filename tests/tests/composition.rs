//! Router composition over real HTTP on 127.0.0.1 (issue 16 §1): per-module routers merged
//! and nested, the prefix in the inventory, the OpenAPI document, the security events and the
//! signed path; layers, fallbacks, the method routers `head`, `options`, `any` and `on`; a
//! secured router merged into an application router that has its own fallback; CORS
//! preflights and 405s after merge and nest; the start-up checks on the nested path.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::Path;
use common::*;
use reqwest::{Method, StatusCode};
use secure_endpoint::cors::Cors;
use secure_endpoint::events::{EventSink, SecurityEvent, SinkFull};
use secure_endpoint::hmac::{HmacClient, HmacSigner, HmacVerifier, InMemoryHmacKeys};
use secure_endpoint::routing::{any, get, head, on, options, post, MethodFilter};
use secure_endpoint::{secure_endpoint, Principal, SecureRouter, Security};

// ---- two modules, written the way axum applications write them ----------------------------

mod users {
    use axum::extract::Path;
    use secure_endpoint::routing::get;
    use secure_endpoint::{secure_endpoint, Principal, SecureRouter};

    #[secure_endpoint(auth = "jwt", owner = "user_id")]
    async fn profile(Path(user_id): Path<String>) -> String {
        format!("profile {user_id}")
    }

    #[secure_endpoint(auth = "jwt", allow = "authenticated")]
    async fn me(principal: Principal) -> String {
        format!("me {}", principal.subject())
    }

    pub(crate) fn router() -> SecureRouter {
        SecureRouter::module()
            .route("/users/{user_id}", get(profile))
            .route("/user", get(me))
    }
}

mod articles {
    use axum::extract::Path;
    use secure_endpoint::routing::get;
    use secure_endpoint::{secure_endpoint, SecureRouter};

    #[secure_endpoint(auth = "none", rate = "100/m")]
    async fn show(Path(slug): Path<String>) -> String {
        format!("article {slug}")
    }

    pub(crate) fn router() -> SecureRouter {
        SecureRouter::module().route("/articles/{slug}", get(show))
    }
}

fn app_security() -> Security {
    security().build()
}

/// `users` nested under `/api`, `articles` merged after being nested under `/api` too.
fn composed(security: Security) -> SecureRouter {
    SecureRouter::new(security)
        .nest("/api", users::router())
        .merge(SecureRouter::module().nest("/api", articles::router()))
}

async fn start(router: axum::Router) -> (std::net::SocketAddr, reqwest::Client) {
    (serve(router).await, client_from(None))
}

#[tokio::test]
async fn per_module_routers_nest_and_merge_with_every_route_under_contract() {
    let (addr, client) = start(composed(app_security()).into_router()).await;
    let url = |path: &str| format!("http://{addr}{path}");
    // Enforced under the prefix: no token is a 401, another user's profile a 404.
    let res = client
        .get(url(&format!("/api/users/{ALICE}")))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
    let res = client
        .get(url(&format!("/api/users/{ALICE}")))
        .bearer_auth(bob())
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::NOT_FOUND, &[]).await;
    let res = client
        .get(url(&format!("/api/users/{ALICE}")))
        .bearer_auth(alice())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_security_headers(res.headers());
    assert_eq!(res.text().await.unwrap(), format!("profile {ALICE}"));
    let res = client
        .get(url("/api/user"))
        .bearer_auth(bob())
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), format!("me {BOB}"));
    let res = client.get(url("/api/articles/hello")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "article hello");
    // Not routed without the prefix.
    let res = client.get(url("/articles/hello")).send().await.unwrap();
    expect_problem(res, StatusCode::NOT_FOUND, &[]).await;
    // A wrong method on a nested path: 405 with `Allow`.
    let res = client
        .delete(url("/api/articles/hello"))
        .send()
        .await
        .unwrap();
    let allow = res.headers().get("allow").cloned();
    expect_problem(res, StatusCode::METHOD_NOT_ALLOWED, &[]).await;
    assert!(allow.unwrap().to_str().unwrap().contains("GET"));
}

#[test]
fn the_inventory_and_the_openapi_document_show_the_prefix() {
    let router = composed(app_security());
    let inventory = router.inventory();
    let paths: Vec<(&str, &str)> = inventory
        .endpoints
        .iter()
        .map(|e| (e.method.as_str(), e.path.as_str()))
        .collect();
    assert_eq!(
        paths,
        [
            ("GET", "/api/users/{user_id}"),
            ("GET", "/api/user"),
            ("GET", "/api/articles/{slug}"),
        ]
    );
    assert_eq!(inventory.endpoints[0].owner, Some("user_id"));
    let document = serde_json::to_value(inventory.openapi("t", "1", "https://api.test")).unwrap();
    let documented: Vec<&String> = document["paths"].as_object().unwrap().keys().collect();
    assert_eq!(
        documented,
        ["/api/articles/{slug}", "/api/user", "/api/users/{user_id}"]
    );
}

// ---- merging into an application router that has a fallback -------------------------------

#[tokio::test]
async fn a_secured_router_merges_into_an_app_router_with_its_own_fallback() {
    let secured: axum::Router = composed(app_security()).into();
    // axum panics when both routers have a fallback; the secured router's 404 is axum's
    // default fallback (answered as a problem), so the application's own wins.
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "home" }))
        .fallback(|| async { (StatusCode::IM_A_TEAPOT, "the app's own fallback") })
        .merge(secured);
    let (addr, client) = start(app).await;
    let url = |path: &str| format!("http://{addr}{path}");
    let res = client.get(url("/nowhere")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(res.text().await.unwrap(), "the app's own fallback");
    assert_eq!(
        client
            .get(url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "home"
    );
    // The secured routes are still enforced, and still answer 405 themselves.
    let res = client.get(url("/api/user")).send().await.unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
    let res = client.post(url("/api/user")).send().await.unwrap();
    expect_problem(res, StatusCode::METHOD_NOT_ALLOWED, &[]).await;
    // The other way round too, and beside an app router without a fallback: the secured 404.
    let app = axum::Router::from(composed(app_security()))
        .merge(axum::Router::new().fallback(|| async { StatusCode::IM_A_TEAPOT }));
    let (addr, client) = start(app).await;
    let res = client
        .get(format!("http://{addr}/nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::IM_A_TEAPOT);
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "home" }))
        .merge(composed(app_security()));
    let (addr, client) = start(app).await;
    let res = client
        .get(format!("http://{addr}/nowhere"))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::NOT_FOUND, &[]).await;
}

#[tokio::test]
async fn a_fallback_of_the_secure_router_answers_unrouted_paths_finished() {
    let router = composed(app_security())
        .fallback(|| async { (StatusCode::NOT_FOUND, "nothing here") })
        .into_router();
    let (addr, client) = start(router).await;
    let res = client
        .get(format!("http://{addr}/nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Finished like every answer: the security headers, and an error as a problem.
    assert_security_headers(res.headers());
    assert!(res.headers().contains_key("x-request-id"));
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "an error body is normalized"
    );
}

#[test]
#[should_panic(expected = "both routers have a fallback")]
fn two_fallbacks_refuse_to_merge() {
    let a = SecureRouter::<()>::new(app_security()).fallback(|| async { "a" });
    let b = SecureRouter::module().fallback(|| async { "b" });
    let _ = a.merge(b);
}

#[test]
#[should_panic(expected = "different `Security` values")]
fn routers_of_two_configurations_refuse_to_merge() {
    let _ = SecureRouter::<()>::new(app_security()).merge(SecureRouter::new(app_security()));
}

#[test]
#[should_panic(expected = "has no `Security`")]
fn a_module_router_alone_refuses_to_start() {
    let _ = users::router().into_router();
}

// ---- layers ---------------------------------------------------------------------------------

async fn mark(mut res: axum::response::Response) -> axum::response::Response {
    res.headers_mut()
        .insert("x-layered", http::HeaderValue::from_static("yes"));
    res
}

#[tokio::test]
async fn layers_wrap_the_routes_before_them_and_route_layers_skip_the_404() {
    let router = SecureRouter::new(app_security())
        .merge(articles::router())
        .layer(axum::middleware::map_response(mark))
        .route("/later", get(users_me_again))
        .into_router();
    let (addr, client) = start(router).await;
    let url = |path: &str| format!("http://{addr}{path}");
    let res = client.get(url("/articles/a")).send().await.unwrap();
    assert_eq!(res.headers()["x-layered"], "yes");
    assert_security_headers(res.headers());
    let res = client.get(url("/nowhere")).send().await.unwrap();
    assert_eq!(res.headers()["x-layered"], "yes", "`layer` wraps the 404");
    let res = client.get(url("/later")).send().await.unwrap();
    assert!(
        !res.headers().contains_key("x-layered"),
        "added after the layer"
    );
    expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;

    let router = SecureRouter::new(app_security())
        .merge(articles::router())
        .route_layer(axum::middleware::map_response(mark))
        .into_router();
    let (addr, client) = start(router).await;
    let res = client
        .get(format!("http://{addr}/articles/a"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-layered"], "yes");
    let res = client
        .get(format!("http://{addr}/nowhere"))
        .send()
        .await
        .unwrap();
    assert!(
        !res.headers().contains_key("x-layered"),
        "`route_layer` skips the 404"
    );
    expect_problem(res, StatusCode::NOT_FOUND, &[]).await;
}

#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn users_me_again(principal: Principal) -> String {
    principal.subject().to_owned()
}

// ---- method routers -------------------------------------------------------------------------

#[secure_endpoint(auth = "none", rate = "100/m")]
async fn probe() -> &'static str {
    "probe"
}

#[secure_endpoint(auth = "none", rate = "100/m")]
async fn capabilities() -> &'static str {
    "capabilities"
}

#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn anything(method: http::Method) -> String {
    format!("any {method}")
}

#[secure_endpoint(auth = "none", rate = "100/m")]
async fn read_or_write(method: http::Method) -> String {
    format!("on {method}")
}

#[tokio::test]
async fn head_options_any_and_on_route_secured_endpoints() {
    let router = SecureRouter::new(app_security())
        .route("/probe", head(probe).options(capabilities))
        .route("/any", any(anything))
        .route(
            "/on",
            on(MethodFilter::GET.or(MethodFilter::POST), read_or_write),
        );
    let methods: Vec<String> = router
        .inventory()
        .endpoints
        .iter()
        .map(|e| format!("{} {}", e.method, e.path))
        .collect();
    assert_eq!(
        methods,
        [
            "HEAD /probe",
            "OPTIONS /probe",
            "GET /any",
            "HEAD /any",
            "POST /any",
            "PUT /any",
            "PATCH /any",
            "DELETE /any",
            "OPTIONS /any",
            "GET /on",
            "POST /on",
        ]
    );
    let (addr, client) = start(router.into_router()).await;
    let url = |path: &str| format!("http://{addr}{path}");
    let res = client.head(url("/probe")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_security_headers(res.headers());
    let res = client
        .request(Method::OPTIONS, url("/probe"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "capabilities");
    let res = client.get(url("/probe")).send().await.unwrap();
    expect_problem(res, StatusCode::METHOD_NOT_ALLOWED, &[]).await;
    // `any`: every method under the one contract (401 without a token), TRACE not routed.
    for method in [Method::GET, Method::POST, Method::DELETE, Method::PATCH] {
        let res = client
            .request(method.clone(), url("/any"))
            .send()
            .await
            .unwrap();
        expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
        let res = client
            .request(method.clone(), url("/any"))
            .bearer_auth(alice())
            .send()
            .await
            .unwrap();
        assert_eq!(res.text().await.unwrap(), format!("any {method}"));
    }
    let res = client
        .request(Method::TRACE, url("/any"))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::METHOD_NOT_ALLOWED, &[]).await;
    let res = client.post(url("/on")).send().await.unwrap();
    assert_eq!(res.text().await.unwrap(), "on POST");
    let res = client.put(url("/on")).send().await.unwrap();
    expect_problem(res, StatusCode::METHOD_NOT_ALLOWED, &[]).await;
}

// ---- CORS preflights after merge and nest ---------------------------------------------------

const ORIGIN: &str = "https://app.example.com";

#[tokio::test]
async fn cors_preflights_are_answered_after_merge_and_nest() {
    let security = security().cors(Cors::allow_origins([ORIGIN])).build();
    let router = composed(security.clone())
        .merge(SecureRouter::module().route("/probe", options(capabilities)))
        .into_router();
    // Merged into an application router, as an application would.
    let app = axum::Router::new()
        .fallback(|| async { StatusCode::IM_A_TEAPOT })
        .merge(router);
    let (addr, client) = start(app).await;
    for path in ["/api/users/abc", "/api/articles/a", "/probe"] {
        let res = client
            .request(Method::OPTIONS, format!("http://{addr}{path}"))
            .header("origin", ORIGIN)
            .header("access-control-request-method", "GET")
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        assert_eq!(
            res.headers()["access-control-allow-origin"],
            ORIGIN,
            "{path}"
        );
        assert_security_headers(res.headers());
    }
    // An `OPTIONS` endpoint still answers a request that is not a preflight.
    let res = client
        .request(Method::OPTIONS, format!("http://{addr}/probe"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "capabilities");
    // An origin not on the list gets no CORS header.
    let res = client
        .request(Method::OPTIONS, format!("http://{addr}/api/articles/a"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(!res.headers().contains_key("access-control-allow-origin"));
}

// ---- the prefix in events and in the signed path --------------------------------------------

#[derive(Debug, Default)]
struct Events(Mutex<Vec<SecurityEvent>>);

impl EventSink for Events {
    fn record(&self, event: SecurityEvent) -> Result<(), SinkFull> {
        self.0.lock().unwrap().push(event);
        Ok(())
    }
}

#[tokio::test]
async fn events_name_the_nested_route() {
    let events = Arc::new(Events::default());
    let security = security().events(events.clone()).build();
    let (addr, client) = start(composed(security).into_router()).await;
    let res = client
        .get(format!("http://{addr}/api/user"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let recorded = events.0.lock().unwrap();
    let event = recorded.last().expect("an event");
    assert_eq!(event.route, "/api/user");
    assert_eq!(event.handler.as_deref(), Some("me"));
}

const HMAC_SECRET: &[u8] = b"webhook secret for the tests, >= 32 bytes";

#[secure_endpoint(auth = "hmac", allow = "authenticated", body = "raw")]
async fn hook(principal: Principal, Path(source): Path<String>, body: String) -> String {
    format!("{source} from {}: {body}", principal.subject())
}

#[tokio::test]
async fn a_nested_signed_endpoint_verifies_the_full_path() {
    let keys = Arc::new(InMemoryHmacKeys::new());
    keys.insert("hooks", HmacClient::new("github", HMAC_SECRET).unwrap());
    let security = Security::builder()
        .allow_plain_http()
        .hmac(HmacVerifier::new(keys))
        .build();
    let hooks = SecureRouter::module().route("/webhooks/{source}", post(hook));
    let router = SecureRouter::new(security).nest("/hooks/v1", hooks);
    assert_eq!(
        router.inventory().endpoints[0].path,
        "/hooks/v1/webhooks/{source}"
    );
    let (addr, client) = start(router.into_router()).await;
    let signer = HmacSigner::new("hooks", HMAC_SECRET);
    let target = "/hooks/v1/webhooks/github";
    let send = |auth: String| {
        client
            .post(format!("http://{addr}{target}"))
            .header("authorization", auth)
            .body("{}")
            .send()
    };
    let res = send(signer.sign("POST", target, b"{}")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "github from github: {}");
    // A signature over the path without its prefix does not verify.
    let res = send(signer.sign("POST", "/webhooks/github", b"{}"))
        .await
        .unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
}

// ---- start-up checks on the nested path -----------------------------------------------------

/// Binds the owner at position 1 of a 2-tuple: right under `/orgs/{org_id}`, not alone.
#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn member(Path((org_id, user_id)): Path<(String, String)>) -> String {
    format!("org {org_id} user {user_id}")
}

#[tokio::test]
async fn an_owner_bound_by_position_counts_the_prefix_parameters() {
    let router = SecureRouter::new(app_security()).nest(
        "/orgs/{org_id}",
        SecureRouter::module().route("/users/{user_id}", get(member)),
    );
    let (addr, client) = start(router.into_router()).await;
    let url = format!("http://{addr}/orgs/acme/users/{ALICE}");
    let res = client.get(&url).bearer_auth(alice()).send().await.unwrap();
    assert_eq!(res.text().await.unwrap(), format!("org acme user {ALICE}"));
    let res = client.get(&url).bearer_auth(bob()).send().await.unwrap();
    expect_problem(res, StatusCode::NOT_FOUND, &[]).await;
}

#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn single(Path(user_id): Path<String>) -> String {
    user_id
}

#[test]
#[should_panic(expected = "the route `/orgs/{org_id}/users/{user_id}` has 2 parameters")]
fn a_single_binding_nested_under_a_parameter_refuses_to_start() {
    // Fine on its own path; the prefix adds a parameter axum fills the tuple with.
    let module = SecureRouter::module().route("/users/{user_id}", get(single));
    let _ = SecureRouter::<()>::new(app_security()).nest("/orgs/{org_id}", module);
}

#[test]
#[should_panic(expected = "requires `hmac` authentication")]
fn a_module_needing_a_scheme_the_configuration_lacks_refuses_to_start() {
    let module = SecureRouter::module().route("/webhooks/{source}", post(hook));
    let _ = SecureRouter::<()>::new(app_security()).merge(module);
}
