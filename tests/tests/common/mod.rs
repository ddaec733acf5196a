//! Shared by the integration test binaries: a small secured app built with the runtime only
//! (independent of the demo crate), served on 127.0.0.1 over real HTTP, plus helpers that
//! mint tokens, speak raw HTTP/1.1, and assert the shape of every problem response.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::HeaderMap;
use reqwest::{Client, Response, StatusCode};
use secure_endpoint::jwt::{JwtKey, JwtVerifier};
use secure_endpoint::routing::{get, post};
use secure_endpoint::{
    secure_endpoint, Json, Owned, OwnedResource, Principal, Problem, Query, SafeResponse,
    SecureRouter, Security, SecurityBuilder,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

// ---- identities ------------------------------------------------------------------------------

/// The HS256 secret the test app verifies with.
pub(crate) const SECRET: &[u8] = b"integration-test secret, >= 32 bytes long";
/// Another secret of the same length, for forged tokens.
pub(crate) const OTHER_SECRET: &[u8] = b"a different secret, also >= 32 bytes long";
pub(crate) const ISSUER: &str = "https://issuer.test";
pub(crate) const AUDIENCE: &str = "secure-endpoint-tests";

pub(crate) const ALICE: &str = "0b6f7c1e-3d1a-4c55-9a53-6f0d8e1f2a01";
pub(crate) const BOB: &str = "5c2e9a40-7b8d-4f13-8e6a-2d4c1b0a9f02";
pub(crate) const CAROL_ADMIN: &str = "9e8d7c6b-5a49-4382-a716-151413121103";
/// A well-formed id that belongs to nobody.
pub(crate) const NOBODY: &str = "d4c3b2a1-0f9e-4d8c-b7a6-958473625104";

pub(crate) const ALICE_ORDER: &str = "ord-alice-1";
pub(crate) const BOB_ORDER: &str = "ord-bob-1";
pub(crate) const MISSING_ORDER: &str = "ord-missing-9";
/// Loading this order panics (user code failing inside the ownership check).
pub(crate) const PANICKING_ORDER: &str = "ord-panic";

/// The body limit of the default test app.
pub(crate) const BODY_LIMIT: usize = 2048;

// ---- the app -----------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, SafeResponse)]
pub(crate) struct User {
    id: String,
    name: String,
    email: String,
    role: String,
}

#[derive(Debug, Clone, Serialize, SafeResponse)]
pub(crate) struct Order {
    id: String,
    owner: String,
    item: String,
    total_cents: u64,
}

#[derive(Clone)]
pub(crate) struct AppState {
    users: Arc<Mutex<HashMap<String, User>>>,
    orders: Arc<HashMap<String, Order>>,
}

impl AppState {
    fn seeded() -> Self {
        let user = |id: &str, name: &str, role: &str| {
            (
                id.to_owned(),
                User {
                    id: id.to_owned(),
                    name: name.to_owned(),
                    email: format!("{}@example.com", name.to_lowercase()),
                    role: role.to_owned(),
                },
            )
        };
        let order = |id: &str, owner: &str, item: &str, total_cents| {
            (
                id.to_owned(),
                Order {
                    id: id.to_owned(),
                    owner: owner.to_owned(),
                    item: item.to_owned(),
                    total_cents,
                },
            )
        };
        AppState {
            users: Arc::new(Mutex::new(HashMap::from([
                user(ALICE, "Alice", "user"),
                user(BOB, "Bob", "user"),
                user(CAROL_ADMIN, "Carol", "admin"),
            ]))),
            orders: Arc::new(HashMap::from([
                order(ALICE_ORDER, ALICE, "keyboard", 4_999),
                order(BOB_ORDER, BOB, "monitor", 19_999),
            ])),
        }
    }
}

impl OwnedResource<AppState> for Order {
    async fn load(state: &AppState, id: &str) -> Result<Option<Self>, Problem> {
        if id == PANICKING_ORDER {
            panic!("SECRET-PANIC-DETAIL: the order store at /work/secret/db.rs is unreachable");
        }
        Ok(state.orders.get(id).cloned())
    }

    fn owner_id(&self) -> &str {
        &self.owner
    }
}

#[derive(Debug, Deserialize, garde::Validate)]
pub(crate) struct UpdateUser {
    #[garde(length(min = 1, max = 100))]
    name: String,
    #[serde(default)]
    #[garde(length(min = 3, max = 254))]
    email: Option<String>,
}

#[derive(Debug, Deserialize, garde::Validate)]
pub(crate) struct NewNote {
    #[garde(length(min = 1, max = 500_000))]
    text: String,
}

#[derive(Debug, Deserialize, garde::Validate)]
pub(crate) struct Search {
    #[garde(range(min = 1, max = 100))]
    page: u32,
}

// Typed responses (`SafeResponse`): `serde_json::Value` cannot be checked for exposure.

/// `{"status": "ok"}`
#[derive(Serialize, SafeResponse)]
struct Status {
    status: &'static str,
}

/// `{"sub": "<subject>"}`
#[derive(Serialize, SafeResponse)]
struct Subject {
    sub: String,
}

/// `{"count": 3, "ids": [...]}`
#[derive(Serialize, SafeResponse)]
struct UserIds {
    count: usize,
    ids: Vec<String>,
}

/// `{"reports": []}`
#[derive(Serialize, SafeResponse)]
struct Reports {
    reports: Vec<String>,
}

/// `{"length": 5}`
#[derive(Serialize, SafeResponse)]
struct NoteLength {
    length: usize,
}

/// `{"id": 7}`
#[derive(Serialize, SafeResponse)]
struct Item {
    id: u32,
}

/// `{"page": 2}`
#[derive(Serialize, SafeResponse)]
struct PageNumber {
    page: u32,
}

#[secure_endpoint(auth = "none")]
async fn health() -> Json<Status> {
    Json(Status { status: "ok" })
}

#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn me(principal: Principal) -> Json<Subject> {
    Json(Subject {
        sub: principal.subject().to_owned(),
    })
}

#[secure_endpoint(auth = "jwt", owner = "user_id")]
async fn show_user(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> Result<Json<User>, Problem> {
    let users = state.users.lock().unwrap();
    users
        .get(&user_id)
        .cloned()
        .map(Json)
        .ok_or_else(Problem::not_found)
}

#[secure_endpoint(auth = "jwt", owner = "user_id", fields = ["name", "email"])]
async fn update_user(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    Json(body): Json<UpdateUser>,
) -> Result<Json<User>, Problem> {
    let mut users = state.users.lock().unwrap();
    let user = users.get_mut(&user_id).ok_or_else(Problem::not_found)?;
    user.name = body.name;
    if let Some(email) = body.email {
        user.email = email;
    }
    Ok(Json(user.clone()))
}

#[secure_endpoint(auth = "jwt", owner = "order_id", loader = Order)]
async fn show_order(Owned(order): Owned<Order>) -> Json<Order> {
    Json(order)
}

#[secure_endpoint(auth = "jwt", roles = ["admin"])]
async fn list_users(State(state): State<AppState>) -> Json<UserIds> {
    let users = state.users.lock().unwrap();
    let mut ids: Vec<String> = users.keys().cloned().collect();
    ids.sort_unstable();
    Json(UserIds {
        count: ids.len(),
        ids,
    })
}

#[secure_endpoint(auth = "jwt", scopes = ["reports:read"])]
async fn reports() -> Json<Reports> {
    Json(Reports {
        reports: Vec::new(),
    })
}

#[secure_endpoint(auth = "jwt", allow = "authenticated", rate = "3/1m")]
async fn limited(principal: Principal) -> Json<Subject> {
    Json(Subject {
        sub: principal.subject().to_owned(),
    })
}

#[secure_endpoint(auth = "none", rate = "2/1m")]
async fn public_limited() -> &'static str {
    "ok"
}

#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn ping() -> &'static str {
    "pong"
}

#[secure_endpoint(auth = "jwt", allow = "authenticated", fields = ["text"])]
async fn create_note(Json(note): Json<NewNote>) -> Json<NoteLength> {
    Json(NoteLength {
        length: note.text.len(),
    })
}

#[secure_endpoint(auth = "none")]
async fn boom() -> &'static str {
    panic!("SECRET-PANIC-DETAIL in /work/secret/src/handler.rs: Option::unwrap() on a None value")
}

#[secure_endpoint(auth = "none")]
async fn show_item(Path(id): Path<u32>) -> Json<Item> {
    Json(Item { id })
}

#[secure_endpoint(auth = "none")]
async fn search(Query(q): Query<Search>) -> Json<PageNumber> {
    Json(PageNumber { page: q.page })
}

/// Test-only asymmetric keys (tests/keys/README.md).
pub(crate) const RSA_PUBLIC_PEM: &[u8] = include_bytes!("../../keys/rsa-public.pem");
pub(crate) const RSA_PRIVATE_PEM: &[u8] = include_bytes!("../../keys/rsa-private.pem");
pub(crate) const EC_PUBLIC_PEM: &[u8] = include_bytes!("../../keys/ec-public.pem");
pub(crate) const EC_PRIVATE_PEM: &[u8] = include_bytes!("../../keys/ec-private.pem");
pub(crate) const ED_PUBLIC_PEM: &[u8] = include_bytes!("../../keys/ed-public.pem");
pub(crate) const ED_PRIVATE_PEM: &[u8] = include_bytes!("../../keys/ed-private.pem");

/// The signing key for `alg` among the test keys.
pub(crate) fn private_key(alg: Algorithm) -> EncodingKey {
    match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(RSA_PRIVATE_PEM).unwrap(),
        Algorithm::ES256 => EncodingKey::from_ec_pem(EC_PRIVATE_PEM).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(ED_PRIVATE_PEM).unwrap(),
        other => panic!("no test key for {other:?}"),
    }
}

/// The JWT verifier of the test app: the HS256 secret (no `kid`), and RS256, ES256 and EdDSA
/// public keys named `rsa-1`, `ec-1` and `ed-1`.
pub(crate) fn verifier() -> JwtVerifier {
    JwtVerifier::hs256(SECRET)
        .unwrap()
        .key(JwtKey::rs256_pem(RSA_PUBLIC_PEM).unwrap().kid("rsa-1"))
        .key(JwtKey::es256_pem(EC_PUBLIC_PEM).unwrap().kid("ec-1"))
        .key(JwtKey::eddsa_pem(ED_PUBLIC_PEM).unwrap().kid("ed-1"))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap()
}

/// The security configuration of the default test app.
pub(crate) fn security() -> SecurityBuilder {
    Security::builder()
        .allow_plain_http()
        .jwt(verifier())
        .body_limit(BODY_LIMIT)
}

/// Every route of the test app, under `security`.
pub(crate) fn router(security: Security) -> SecureRouter<AppState> {
    SecureRouter::new(security)
        .route("/health", get(health))
        .route("/me", get(me))
        .route("/users/{user_id}", get(show_user).put(update_user))
        .route("/orders/{order_id}", get(show_order))
        .route("/admin/users", get(list_users))
        .route("/reports", get(reports))
        .route("/limited", get(limited))
        .route("/public/limited", get(public_limited))
        .route("/ping", post(ping))
        .route("/notes", post(create_note))
        .route("/panic", get(boom))
        .route("/items/{id}", get(show_item))
        .route("/search", get(search))
}

/// A running test app.
pub(crate) struct TestApp {
    pub(crate) addr: SocketAddr,
    pub(crate) client: Client,
}

impl TestApp {
    /// The app with the default [`security`] configuration.
    pub(crate) async fn start() -> Self {
        Self::start_with(security().build()).await
    }

    /// The app enforcing `security`, on a fresh port (so no limiter state is shared).
    pub(crate) async fn start_with(security: Security) -> Self {
        let addr = serve(router(security).with_state::<()>(AppState::seeded())).await;
        TestApp {
            addr,
            client: client_from(None),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path))
    }

    pub(crate) fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.put(self.url(path))
    }

    pub(crate) fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path))
    }

    /// `GET path` with a bearer token.
    pub(crate) async fn get_as(&self, path: &str, token: &str) -> Response {
        self.get(path).bearer_auth(token).send().await.unwrap()
    }
}

/// Serves `app` on a fresh port of 127.0.0.1, with the peer address available to it.
pub(crate) async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });
    addr
}

/// Serves `app` over TLS on a fresh port of 127.0.0.1, every request marked HTTPS
/// ([`secure_endpoint::mark_https`]), with a certificate for 127.0.0.1 from a CA made here;
/// returns the address and a client that trusts that CA (and ignores proxy settings).
pub(crate) async fn serve_tls(app: axum::Router) -> (SocketAddr, Client) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    let tls = axum_server::tls_rustls::RustlsConfig::from_pem(
        leaf.pem().into_bytes(),
        leaf_key.serialize_pem().into_bytes(),
    )
    .await
    .unwrap();
    let service = secure_endpoint::perimeter::mark_https(app)
        .into_make_service_with_connect_info::<SocketAddr>();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum_server::from_tcp_rustls(listener, tls)
            .serve(service)
            .await
            .unwrap()
    });
    let client = Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap()])
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    (addr, client)
}

/// A client that ignores proxy settings, optionally bound to a local address.
pub(crate) fn client_from(local: Option<IpAddr>) -> Client {
    // reqwest's rustls backend (`rustls-no-provider`) takes the process's default provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .no_proxy()
        .local_address(local)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

// ---- tokens ------------------------------------------------------------------------------------

pub(crate) fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Valid claims for `sub`, with roles and a space-separated scope.
pub(crate) fn claims(sub: &str, roles: &[&str], scope: &str) -> Value {
    let now = now();
    json!({
        "sub": sub,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "roles": roles,
        "scope": scope,
    })
}

/// `claims` signed with `alg` and `secret`.
pub(crate) fn sign_with(claims: &Value, alg: Algorithm, secret: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
}

/// `claims` signed like the app expects (HS256, the app's secret).
pub(crate) fn sign(claims: &Value) -> String {
    sign_with(claims, Algorithm::HS256, SECRET)
}

/// A valid token for `sub`.
pub(crate) fn token(sub: &str, roles: &[&str], scope: &str) -> String {
    sign(&claims(sub, roles, scope))
}

pub(crate) fn alice() -> String {
    token(ALICE, &["user"], "")
}

pub(crate) fn bob() -> String {
    token(BOB, &["user"], "")
}

pub(crate) fn carol_admin() -> String {
    token(CAROL_ADMIN, &["admin"], "")
}

/// A token signed (HS256, the app's secret) over exactly these header and payload texts, for
/// claims `serde` could not produce (duplicate keys).
pub(crate) fn sign_raw(header: &str, payload: &str) -> String {
    sign_raw_with(
        header,
        payload.as_bytes(),
        &EncodingKey::from_secret(SECRET),
        Algorithm::HS256,
    )
}

/// A token over exactly these header and payload bytes, signed with `key` and `alg`.
pub(crate) fn sign_raw_with(
    header: &str,
    payload: &[u8],
    key: &EncodingKey,
    alg: Algorithm,
) -> String {
    let signing_input = format!("{}.{}", b64url(header.as_bytes()), b64url(payload));
    let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), key, alg).unwrap();
    format!("{signing_input}.{signature}")
}

/// `claims` signed with the test key for `alg`, the header naming `kid`.
pub(crate) fn sign_asym(claims: &Value, alg: Algorithm, kid: Option<&str>) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &private_key(alg)).unwrap()
}

/// Unpadded base64url (RFC 4648 §5), for hand-made tokens.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

// ---- problem responses -------------------------------------------------------------------------

/// Strings that must never appear in a response body: library and type names, panic text,
/// file paths, backtraces.
pub(crate) const INTERNALS: &[&str] = &[
    "serde",
    "axum",
    "hyper",
    "tokio",
    "garde::",
    "jsonwebtoken",
    "JsonWebToken",
    "panicked",
    "SECRET-PANIC-DETAIL",
    "RUST_BACKTRACE",
    "backtrace",
    "::",
    ".rs",
    "/src/",
    "/work/",
    "/home/",
    "/root/",
    "std::",
    "core::",
    "alloc::",
    "Option<",
    "Result<",
    "String",
    "Vec<",
    "u32",
    "u64",
    "i64",
    "Error(",
    "Error {",
    "ErrorKind",
    "Rejection",
    "Invalid URL",
    "Cannot parse",
    "Failed to deserialize",
    "Failed to parse",
    "at line",
    "column",
];

/// The security headers every response carries, success or error.
pub(crate) fn assert_security_headers(headers: &HeaderMap) {
    let expect = [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ];
    for (name, value) in expect {
        assert_eq!(
            headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "header {name} in {headers:?}"
        );
    }
    let hsts = headers
        .get("strict-transport-security")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no Strict-Transport-Security in {headers:?}"));
    let max_age: u64 = hsts
        .split(';')
        .find_map(|d| d.trim().strip_prefix("max-age="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("HSTS without max-age: {hsts}"));
    assert!(max_age >= 31_536_000, "HSTS max-age too short: {hsts}");
    let rid = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no X-Request-ID in {headers:?}"));
    assert!(!rid.is_empty() && rid.len() <= 64, "X-Request-ID {rid:?}");
    assert!(
        headers.get("server").is_none(),
        "Server header: {headers:?}"
    );
    assert!(
        headers.get("x-powered-by").is_none(),
        "X-Powered-By header: {headers:?}"
    );
}

/// A problem response, checked for shape and leaks.
#[derive(Debug)]
pub(crate) struct ProblemBody {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
    pub(crate) raw: String,
}

impl ProblemBody {
    /// The body without the per-request ids, for comparing two problems.
    pub(crate) fn without_ids(&self) -> Value {
        let mut v = self.body.clone();
        let obj = v.as_object_mut().unwrap();
        obj.remove("error_id");
        obj.remove("request_id");
        v
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `field` of each entry of `errors`.
    pub(crate) fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no `errors` array in {}", self.raw))
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Asserts that `res` is an RFC 9457 problem with `status`, the security headers, the ids, and
/// nothing internal; `echoed` lists attacker-supplied values that must not appear in the body.
pub(crate) async fn expect_problem(
    res: Response,
    status: StatusCode,
    echoed: &[&str],
) -> ProblemBody {
    let actual = res.status();
    let headers = res.headers().clone();
    let raw = res.text().await.unwrap();
    assert_eq!(actual, status, "status; body: {raw}");
    check_problem(headers, &raw, status, echoed)
}

/// [`expect_problem`] on already-read parts (for raw HTTP responses).
pub(crate) fn check_problem(
    headers: HeaderMap,
    raw: &str,
    status: StatusCode,
    echoed: &[&str],
) -> ProblemBody {
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "content-type; body: {raw}"
    );
    let body: Value = serde_json::from_str(raw).unwrap_or_else(|e| panic!("not JSON ({e}): {raw}"));
    if body["code"] == "https_required" {
        // A refusal of plain HTTP: every header but HSTS, which only means something over TLS.
        assert!(
            headers.get("strict-transport-security").is_none(),
            "HSTS on plain HTTP"
        );
        let mut with_hsts = headers.clone();
        with_hsts.insert(
            "strict-transport-security",
            "max-age=31536000".parse().unwrap(),
        );
        assert_security_headers(&with_hsts);
    } else {
        assert_security_headers(&headers);
    }
    let obj = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {raw}"));
    for member in ["type", "title", "code", "error_id", "request_id"] {
        assert!(
            obj.get(member)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty()),
            "member `{member}` missing or not a non-empty string: {raw}"
        );
    }
    assert_eq!(body["status"], status.as_u16(), "{raw}");
    let allowed: BTreeSet<&str> = [
        "type",
        "title",
        "status",
        "detail",
        "code",
        "error_id",
        "request_id",
        "errors",
    ]
    .into();
    for key in obj.keys() {
        assert!(
            allowed.contains(key.as_str()),
            "unexpected member `{key}`: {raw}"
        );
    }
    let error_id = body["error_id"].as_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(error_id).is_ok(),
        "error_id is not a UUID: {raw}"
    );
    assert_eq!(
        body["request_id"].as_str(),
        headers.get("x-request-id").and_then(|v| v.to_str().ok()),
        "request_id must match the X-Request-ID header: {raw}"
    );
    for needle in INTERNALS.iter().chain(echoed) {
        assert!(!raw.contains(needle), "body leaks {needle:?}: {raw}");
    }
    if let Some(errors) = body.get("errors") {
        for e in errors.as_array().unwrap() {
            let e = e.as_object().unwrap();
            assert!(e["field"].is_string() && e["message"].is_string(), "{raw}");
            assert_eq!(
                e.len(),
                2,
                "a field error carries field and message only: {raw}"
            );
        }
    }
    ProblemBody {
        headers,
        body,
        raw: raw.to_owned(),
    }
}

/// Asserts a JSON success with the security headers and returns the body.
pub(crate) async fn expect_json(res: Response, status: StatusCode) -> Value {
    let actual = res.status();
    let headers = res.headers().clone();
    let raw = res.text().await.unwrap();
    assert_eq!(actual, status, "status; body: {raw}");
    assert_security_headers(&headers);
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "{raw}"
    );
    serde_json::from_str(&raw).unwrap()
}

// ---- raw HTTP/1.1 ------------------------------------------------------------------------------

/// A response read off a raw connection.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

/// Writes `request` (one or several pipelined requests) on one connection and reads `count`
/// responses from it. Proves the connection stays usable between them.
pub(crate) async fn raw_exchange(
    addr: SocketAddr,
    request: Vec<u8>,
    count: usize,
) -> Vec<RawResponse> {
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(&request).unwrap();
        let mut buf: Vec<u8> = Vec::new();
        let mut out = Vec::new();
        while out.len() < count {
            if let Some((response, used)) = parse_response(&buf) {
                buf.drain(..used);
                out.push(response);
                continue;
            }
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).unwrap_or_else(|e| {
                panic!("connection failed after {} response(s): {e}", out.len())
            });
            assert!(
                n > 0,
                "connection closed after {} of {count} response(s)",
                out.len()
            );
            buf.extend_from_slice(&chunk[..n]);
        }
        out
    })
    .await
    .unwrap()
}

/// One complete response at the start of `buf` (Content-Length framed), and its length.
fn parse_response(buf: &[u8]) -> Option<(RawResponse, usize)> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..head_end]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let code: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = HeaderMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').unwrap();
        headers.append(
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            value.trim().parse().unwrap(),
        );
    }
    let len: usize = headers
        .get("content-length")
        .unwrap_or_else(|| panic!("response without Content-Length: {head}"))
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    if buf.len() < head_end + len {
        return None;
    }
    let body = String::from_utf8(buf[head_end..head_end + len].to_vec()).unwrap();
    Some((
        RawResponse {
            status: StatusCode::from_u16(code).unwrap(),
            headers,
            body,
        },
        head_end + len,
    ))
}

/// Encodes `body` as HTTP/1.1 chunks of at most `chunk` bytes, with the final empty chunk.
pub(crate) fn chunked(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in body.chunks(chunk) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// The seeded state of the default test app, for a test that adds routes of its own to
/// [`router`].
pub(crate) fn seeded_state() -> AppState {
    AppState::seeded()
}
