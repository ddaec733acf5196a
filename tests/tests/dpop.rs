//! DPoP (RFC 9449) over real HTTPS on 127.0.0.1: a DPoP-bound token is accepted only with a
//! fresh proof of its key for this very request, and every refusal is a 401 problem with the
//! `WWW-Authenticate: DPoP` challenge naming the error.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use secure_endpoint::dpop::{DpopKey, DpopNonces, DpopVerifier, ProofRequest};
use secure_endpoint::jwt::JwtIssuer;
use secure_endpoint::routing::get;
use secure_endpoint::{secure_endpoint, Json, Principal, SafeResponse, SecureRouter, Security};
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize, SafeResponse)]
struct Me {
    subject: String,
    scheme: &'static str,
    jkt: Option<String>,
}

fn me_of(principal: &Principal) -> Json<Me> {
    Json(Me {
        subject: principal.subject().to_owned(),
        scheme: principal.scheme().as_str(),
        jkt: principal.dpop_jkt().map(str::to_owned),
    })
}

/// DPoP required.
#[secure_endpoint(auth = "dpop", allow = "authenticated")]
async fn dpop_me(principal: Principal) -> Json<Me> {
    me_of(&principal)
}

/// Plain bearer tokens only.
#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn bearer_me(principal: Principal) -> Json<Me> {
    me_of(&principal)
}

/// DPoP-bound tokens with their proof, or plain bearer tokens.
#[secure_endpoint(auth = ["dpop", "jwt"], allow = "authenticated")]
async fn either_me(principal: Principal) -> Json<Me> {
    me_of(&principal)
}

const CHALLENGE: &str = "DPoP realm=\"api\", algs=\"ES256 EdDSA\"";
const INVALID_PROOF: &str =
    "DPoP realm=\"api\", error=\"invalid_dpop_proof\", algs=\"ES256 EdDSA\"";
const INVALID_TOKEN: &str = "DPoP realm=\"api\", error=\"invalid_token\", algs=\"ES256 EdDSA\"";
const USE_NONCE: &str = "DPoP realm=\"api\", error=\"use_dpop_nonce\", algs=\"ES256 EdDSA\"";

struct App {
    addr: SocketAddr,
    client: reqwest::Client,
}

impl App {
    /// The three endpoints (and `/nested/...` under `Router::nest`) over TLS, a certificate
    /// for 127.0.0.1 from a CA made here.
    async fn start(dpop: DpopVerifier) -> Self {
        let security = || {
            Security::builder()
                .jwt(verifier())
                .dpop(dpop.clone())
                .build()
        };
        let routes = |security: Security| {
            SecureRouter::new(security)
                .route("/dpop/me", get(dpop_me))
                .route("/bearer/me", get(bearer_me))
                .route("/either/me", get(either_me))
                .into_router()
        };
        let router = routes(security()).nest("/nested", routes(security()));
        let (addr, client) = serve_tls(router).await;
        App { addr, client }
    }

    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// A proof for `GET path` with `token`.
    fn proof(&self, key: &DpopKey, path: &str, token: &str) -> String {
        key.proof(ProofRequest {
            method: "GET",
            uri: &self.url(path),
            access_token: Some(token),
            nonce: None,
        })
    }

    /// `GET path` with `Authorization: <authorization>` and the `DPoP` headers given.
    async fn get(
        &self,
        path: &str,
        authorization: Option<String>,
        proofs: &[&str],
    ) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        for proof in proofs {
            request = request.header("dpop", *proof);
        }
        request.send().await.unwrap()
    }
}

/// An ES256 key generated for this test.
fn es256() -> DpopKey {
    DpopKey::es256_pkcs8_pem(&rcgen::KeyPair::generate().unwrap().serialize_pem()).unwrap()
}

/// An Ed25519 key generated for this test.
fn ed25519() -> DpopKey {
    let mut seed = [0u8; 32];
    seed[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    seed[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    DpopKey::ed25519_seed(&seed)
}

fn issuer() -> JwtIssuer {
    JwtIssuer::hs256(SECRET, ISSUER, AUDIENCE, Duration::from_secs(600)).unwrap()
}

/// A token for alice bound to `key`.
fn bound(key: &DpopKey) -> String {
    issuer().issue_bound(ALICE, &["user".to_owned()], &[], key.thumbprint())
}

fn dpop(token: &str) -> Option<String> {
    Some(format!("DPoP {token}"))
}

/// A 401 problem (security headers, ids, nothing internal) whose challenges are `challenges`.
async fn refused(res: reqwest::Response, challenges: &[&str]) -> ProblemBody {
    let problem = expect_problem(res, StatusCode::UNAUTHORIZED, &[]).await;
    let sent: Vec<&str> = problem
        .headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(sent, challenges, "{}", problem.raw);
    problem
}

async fn ok(res: reqwest::Response) -> Value {
    let status = res.status();
    assert_security_headers(res.headers());
    let body = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn a_bound_token_with_a_fresh_proof_is_accepted_once() {
    let app = App::start(DpopVerifier::new()).await;
    for key in [es256(), ed25519()] {
        let token = bound(&key);
        let proof = app.proof(&key, "/dpop/me", &token);
        let body = ok(app.get("/dpop/me", dpop(&token), &[&proof]).await).await;
        assert_eq!(body["subject"], ALICE);
        assert_eq!(body["scheme"], "dpop");
        assert_eq!(body["jkt"], key.thumbprint());
        // The same proof again: a replay.
        let problem = refused(
            app.get("/dpop/me", dpop(&token), &[&proof]).await,
            &[INVALID_PROOF],
        )
        .await;
        assert_eq!(problem.body["code"], "invalid_dpop_proof");
        // A new proof: fine again; and on the endpoint that also takes bearer tokens.
        let proof = app.proof(&key, "/either/me", &token);
        let body = ok(app.get("/either/me", dpop(&token), &[&proof]).await).await;
        assert_eq!(body["scheme"], "dpop");
        // Under `Router::nest`, `htu` is the URI the client sent.
        let proof = app.proof(&key, "/nested/dpop/me", &token);
        ok(app.get("/nested/dpop/me", dpop(&token), &[&proof]).await).await;
        let proof = app.proof(&key, "/dpop/me", &token);
        refused(
            app.get("/nested/dpop/me", dpop(&token), &[&proof]).await,
            &[INVALID_PROOF],
        )
        .await;
    }
}

#[tokio::test]
async fn a_proof_for_another_request_is_refused() {
    let app = App::start(DpopVerifier::new()).await;
    let key = es256();
    let token = bound(&key);
    let with = |method: &str, uri: String, iat: Option<u64>, access_token: &str| {
        let request = ProofRequest {
            method,
            uri: &uri,
            access_token: Some(access_token),
            nonce: None,
        };
        match iat {
            Some(iat) => key.proof_with(request, iat, &uuid::Uuid::new_v4().to_string()),
            None => key.proof(request),
        }
    };
    let cases = [
        ("wrong htm", with("POST", app.url("/dpop/me"), None, &token)),
        (
            "wrong htm case",
            with("get", app.url("/dpop/me"), None, &token),
        ),
        (
            "wrong htu path",
            with("GET", app.url("/bearer/me"), None, &token),
        ),
        (
            "wrong htu scheme",
            with("GET", format!("http://{}/dpop/me", app.addr), None, &token),
        ),
        (
            "wrong htu host",
            with(
                "GET",
                format!("https://localhost:{}/dpop/me", app.addr.port()),
                None,
                &token,
            ),
        ),
        (
            "wrong htu port",
            with("GET", "https://127.0.0.1/dpop/me".to_owned(), None, &token),
        ),
        (
            "stale iat",
            with("GET", app.url("/dpop/me"), Some(now() - 61), &token),
        ),
        (
            "future iat",
            with("GET", app.url("/dpop/me"), Some(now() + 60), &token),
        ),
        (
            "wrong ath",
            with("GET", app.url("/dpop/me"), None, &bound(&es256())),
        ),
    ];
    for (case, proof) in cases {
        let problem = refused(
            app.get("/dpop/me", dpop(&token), &[&proof]).await,
            &[INVALID_PROOF],
        )
        .await;
        assert_eq!(problem.body["code"], "invalid_dpop_proof", "{case}");
    }
    // The URI as the RFC 3986 normalizations see it: query dropped, case of scheme and host,
    // default-less port kept, `%7E` as `~`.
    let normalized = with(
        "GET",
        format!("HTTPS://127.0.0.1:{}/dpop/%6De?q=1#f", app.addr.port()),
        None,
        &token,
    );
    ok(app
        .get("/dpop/me?page=2", dpop(&token), &[&normalized])
        .await)
    .await;
    // Within the window: 50 s old, 4 s ahead.
    for iat in [now() - 50, now() + 4] {
        let proof = with("GET", app.url("/dpop/me"), Some(iat), &token);
        ok(app.get("/dpop/me", dpop(&token), &[&proof]).await).await;
    }
}

#[tokio::test]
async fn the_token_must_be_bound_to_the_proof_key() {
    let app = App::start(DpopVerifier::new()).await;
    let key = es256();
    let other = ed25519();
    let token = bound(&key);
    // Signed by another key than the token's `cnf.jkt`: the binding fails (`invalid_token`).
    let proof = app.proof(&other, "/dpop/me", &token);
    let problem = refused(
        app.get("/dpop/me", dpop(&token), &[&proof]).await,
        &[INVALID_TOKEN],
    )
    .await;
    assert_eq!(problem.body["code"], "unauthenticated");
    // A token bound to nothing, with a good proof: not a DPoP token.
    let plain = alice();
    let proof = app.proof(&key, "/dpop/me", &plain);
    refused(
        app.get("/dpop/me", dpop(&plain), &[&proof]).await,
        &[INVALID_TOKEN],
    )
    .await;
    // A forged token: refused before its proof is looked at.
    let forged = sign_with(
        &serde_json::json!({"sub": ALICE, "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 60, "cnf": {"jkt": key.thumbprint()}}),
        jsonwebtoken::Algorithm::HS256,
        OTHER_SECRET,
    );
    let proof = app.proof(&key, "/dpop/me", &forged);
    refused(
        app.get("/dpop/me", dpop(&forged), &[&proof]).await,
        &[INVALID_TOKEN],
    )
    .await;
}

#[tokio::test]
async fn token_and_proof_come_together_or_not_at_all() {
    let app = App::start(DpopVerifier::new()).await;
    let key = es256();
    let token = bound(&key);
    // Token without proof.
    let problem = refused(
        app.get("/dpop/me", dpop(&token), &[]).await,
        &[INVALID_PROOF],
    )
    .await;
    assert_eq!(problem.body["code"], "invalid_dpop_proof");
    // Proof without token: no credentials, the challenge without an error.
    let proof = app.proof(&key, "/dpop/me", &token);
    let problem = refused(app.get("/dpop/me", None, &[&proof]).await, &[CHALLENGE]).await;
    assert_eq!(problem.body["code"], "unauthenticated");
    // Nothing at all.
    refused(app.get("/dpop/me", None, &[]).await, &[CHALLENGE]).await;
    // Two proofs, even two good ones.
    let second = app.proof(&key, "/dpop/me", &token);
    refused(
        app.get("/dpop/me", dpop(&token), &[&proof, &second]).await,
        &[INVALID_PROOF],
    )
    .await;
    // The proof is not a token and the token is not a proof.
    refused(
        app.get("/dpop/me", dpop(&proof), &[&token]).await,
        &[INVALID_TOKEN],
    )
    .await;
    // The token in the query string: refused whatever the headers say.
    let proof = app.proof(&key, "/dpop/me", &token);
    refused(
        app.get(
            &format!("/dpop/me?access_token={token}"),
            dpop(&token),
            &[&proof],
        )
        .await,
        &[CHALLENGE],
    )
    .await;
}

#[tokio::test]
async fn a_bound_token_is_refused_as_bearer_and_plain_bearer_only_where_declared() {
    let app = App::start(DpopVerifier::new()).await;
    let key = es256();
    let token = bound(&key);
    let bearer = |t: &str| Some(format!("Bearer {t}"));
    // A stolen DPoP-bound token used as a bearer token: refused everywhere.
    refused(
        app.get("/bearer/me", bearer(&token), &[]).await,
        &["Bearer realm=\"api\", error=\"invalid_token\""],
    )
    .await;
    refused(
        app.get("/either/me", bearer(&token), &[]).await,
        &[CHALLENGE, "Bearer realm=\"api\", error=\"invalid_token\""],
    )
    .await;
    // Even with its proof beside it.
    let proof = app.proof(&key, "/bearer/me", &token);
    refused(
        app.get("/bearer/me", bearer(&token), &[&proof]).await,
        &["Bearer realm=\"api\", error=\"invalid_token\""],
    )
    .await;
    // Plain bearer tokens: where the contract says `jwt`, not where it says only `dpop`.
    let plain = alice();
    let body = ok(app.get("/bearer/me", bearer(&plain), &[]).await).await;
    assert_eq!(
        (&body["scheme"], &body["jkt"]),
        (&"jwt".into(), &Value::Null)
    );
    ok(app.get("/either/me", bearer(&plain), &[]).await).await;
    refused(app.get("/dpop/me", bearer(&plain), &[]).await, &[CHALLENGE]).await;
    // A DPoP request on a bearer-only endpoint: the DPoP scheme is not accepted there.
    let proof = app.proof(&key, "/bearer/me", &token);
    refused(
        app.get("/bearer/me", dpop(&token), &[&proof]).await,
        &["Bearer realm=\"api\", error=\"invalid_token\""],
    )
    .await;
}

#[tokio::test]
async fn server_nonces_are_handed_out_and_required() {
    let app = App::start(DpopVerifier::new().nonces(DpopNonces::random())).await;
    let key = ed25519();
    let token = bound(&key);
    // No nonce: 401 `use_dpop_nonce` with one to use.
    let proof = app.proof(&key, "/dpop/me", &token);
    let problem = refused(
        app.get("/dpop/me", dpop(&token), &[&proof]).await,
        &[USE_NONCE],
    )
    .await;
    assert_eq!(problem.body["code"], "use_dpop_nonce");
    let nonce = problem
        .header("dpop-nonce")
        .unwrap_or_else(|| panic!("no DPoP-Nonce: {:?}", problem.headers))
        .to_owned();
    assert_eq!(problem.headers.get_all("dpop-nonce").iter().count(), 1);
    // The retry with the nonce: accepted.
    let with_nonce = |nonce: &str| {
        key.proof(ProofRequest {
            method: "GET",
            uri: &app.url("/dpop/me"),
            access_token: Some(&token),
            nonce: Some(nonce),
        })
    };
    ok(app
        .get("/dpop/me", dpop(&token), &[&with_nonce(&nonce)])
        .await)
    .await;
    // A nonce may serve several proofs (each with its own jti).
    ok(app
        .get("/dpop/me", dpop(&token), &[&with_nonce(&nonce)])
        .await)
    .await;
    // A nonce this server did not issue: a new one is handed out.
    let problem = refused(
        app.get(
            "/dpop/me",
            dpop(&token),
            &[&with_nonce("eyJ7S_zG.eyJH0-Z.HX4w-7v")],
        )
        .await,
        &[USE_NONCE],
    )
    .await;
    assert!(problem.header("dpop-nonce").is_some());
    // Other refusals carry no nonce.
    let problem = refused(
        app.get("/dpop/me", dpop(&token), &[]).await,
        &[INVALID_PROOF],
    )
    .await;
    assert!(problem.header("dpop-nonce").is_none());
}

/// A `redis-server` on a free loopback port, without persistence; killed on drop.
struct RedisServer {
    port: u16,
    child: std::process::Child,
}

impl RedisServer {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): this test needs a real Redis server. \
                     Install it with `apt-get install redis-server` (`cargo xtask setup` does)."
                )
            });
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        RedisServer { port, child }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_proof_replayed_on_another_instance_is_refused_through_redis() {
    let redis = RedisServer::start();
    let url = format!("redis://127.0.0.1:{}/", redis.port);
    // Two instances behind one load balancer: the origin clients address, the Redis store.
    let instance = || {
        let store = secure_endpoint::redis::RedisStore::open(&url).unwrap();
        DpopVerifier::new()
            .replay_store(std::sync::Arc::new(store))
            .origin("https://api.example.test")
            .unwrap()
    };
    let a = App::start(instance()).await;
    let b = App::start(instance()).await;
    let key = es256();
    let token = bound(&key);
    let proof = || {
        key.proof(ProofRequest {
            method: "GET",
            uri: "https://api.example.test/dpop/me",
            access_token: Some(&token),
            nonce: None,
        })
    };
    let once = proof();
    ok(a.get("/dpop/me", dpop(&token), &[&once]).await).await;
    let problem = refused(
        b.get("/dpop/me", dpop(&token), &[&once]).await,
        &[INVALID_PROOF],
    )
    .await;
    assert_eq!(problem.body["code"], "invalid_dpop_proof");
    // A fresh proof is accepted on either; its URI is the configured origin's, not the Host.
    ok(b.get("/dpop/me", dpop(&token), &[&proof()]).await).await;
    let own_host = b.proof(&key, "/dpop/me", &token);
    refused(
        b.get("/dpop/me", dpop(&token), &[&own_host]).await,
        &[INVALID_PROOF],
    )
    .await;
}
