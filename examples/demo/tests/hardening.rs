//! The demo's answers to the outside review (issue 14, items 5 and 8), over real HTTPS on
//! 127.0.0.1: concurrent wrong passwords cannot outrun the login throttle, the throttle's key is
//! the normalized email, emails are unique however they are spelt, and a 413 is readable by a
//! client that writes its whole (too large) body before reading.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use demo::{app, DemoConfig};
use reqwest::{Client, StatusCode};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};

const PASSWORD: &str = "correct-horse-battery";

fn config() -> DemoConfig {
    DemoConfig {
        jwt_secret: b"hardening test secret, at least 32 bytes".to_vec(),
        password: PASSWORD.into(),
        reports_api_key: "demo_hardening0123456789abcdef01234567".into(),
        webhook_secret: "hardening test webhook secret, 32+ bytes".into(),
        cors_origins: Vec::new(),
        trusted_proxies: Vec::new(),
        audit_file: None,
        redis_url: None,
        signed: demo::hooks::SignedSenders::generate(),
    }
}

struct Demo {
    addr: SocketAddr,
    client: Client,
    /// The generated CA, for raw TLS clients.
    ca_pem: String,
}

/// The demo over HTTPS on 127.0.0.1:0, as `cargo run -p demo` serves it.
async fn start() -> Demo {
    let (router, state) = app(&config());
    let (tls, ca) = demo::server::tls_config(None).unwrap();
    let ca_pem = ca.unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(demo::server::serve_https(listener, tls, router, state));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    Demo {
        addr,
        client,
        ca_pem,
    }
}

impl Demo {
    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
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
        body["token"].as_str().unwrap().to_owned()
    }

    async fn me(&self, token: &str) -> Value {
        let res = self
            .client
            .get(self.url("/api/users/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    async fn set_email(&self, token: &str, id: &str, email: &str) -> reqwest::Response {
        self.client
            .put(self.url(&format!("/api/users/{id}")))
            .bearer_auth(token)
            .json(&json!({ "email": email }))
            .send()
            .await
            .unwrap()
    }

    async fn admin_emails(&self) -> Vec<String> {
        let admin = self.token("admin@example.com").await;
        let res = self
            .client
            .get(self.url("/api/admin/users"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_owned())
            .collect()
    }
}

async fn problem(res: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(body["error_id"].is_string());
    body
}

/// Fifteen wrong passwords for one email sent at once: the attempt is reserved before the
/// password hash is checked, so at most five reach verification (401) and the rest are 429.
/// Before the fix all fifteen were checked and answered 401.
#[tokio::test]
async fn concurrent_wrong_passwords_cannot_outrun_the_throttle() {
    let demo = Arc::new(start().await);
    // Warm the connection pool so the fifteen requests arrive together, not one handshake apart.
    let warm: Vec<_> = (0..15)
        .map(|_| {
            let demo = demo.clone();
            tokio::spawn(async move {
                demo.client
                    .get(demo.url("/api/health"))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    for w in warm {
        assert_eq!(w.await.unwrap(), StatusCode::OK);
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(15));
    let attempts: Vec<_> = (0..15)
        .map(|_| {
            let (demo, barrier) = (demo.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                demo.login("alice@example.com", "wrong").await.status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for a in attempts {
        statuses.push(a.await.unwrap().as_u16());
    }
    let unauthorized = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        (1..=5).contains(&unauthorized),
        "at most 5 attempts reach the password check: {statuses:?}"
    );
    assert_eq!(unauthorized + throttled, 15, "{statuses:?}");
    // And the account is throttled now, even with the right password.
    problem(
        demo.login("alice@example.com", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    // Another email is not.
    assert_eq!(
        demo.login("bob@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

/// Successful logins give their reservation back: more successes than the failure quota, in a
/// row and at once, never lock the account.
#[tokio::test]
async fn successes_give_the_reservation_back() {
    let demo = start().await;
    for _ in 0..4 {
        problem(
            demo.login("bob@example.com", "wrong").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    // Four failures used; every success returns its reservation, so the fifth slot stays free.
    for _ in 0..8 {
        assert_eq!(
            demo.login("bob@example.com", PASSWORD).await.status(),
            StatusCode::OK
        );
    }
    problem(
        demo.login("bob@example.com", "wrong").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    problem(
        demo.login("bob@example.com", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
}

/// The throttle counts the email as the account lookup reads it: case, surrounding
/// whitespace and Unicode compatibility forms (NFKC) all land in one bucket.
#[tokio::test]
async fn spellings_of_one_email_share_one_bucket() {
    let demo = start().await;
    for spelling in [
        " Alice@Example.COM ",
        "ALICE@EXAMPLE.COM",
        // Fullwidth letters: NFKC makes them ASCII.
        "\u{ff41}\u{ff4c}\u{ff49}\u{ff43}\u{ff45}@example.com",
        // A no-break space around it: NFKC makes it a space, and it is trimmed.
        "\u{a0}alice@example.com\u{a0}",
        "alice@example.com\t",
    ] {
        let res = demo.login(spelling, "wrong").await;
        problem(res, StatusCode::UNAUTHORIZED).await;
    }
    // The five failures above are one account's: the sixth attempt is throttled.
    problem(
        demo.login("alice@example.com", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
}

/// The same normalization finds the account: a fullwidth spelling of bob's email logs bob in.
#[tokio::test]
async fn the_account_lookup_uses_the_same_normalization() {
    let demo = start().await;
    let token = demo.token(" \u{ff42}\u{ff4f}\u{ff42}@Example.com").await;
    assert_eq!(demo.me(&token).await["email"], "bob@example.com");
}

/// Emails are unique however they are spelt: alice cannot take bob's address (409, with a
/// code, naming nobody), nothing changes, and the admin list never shows it twice.
#[tokio::test]
async fn emails_are_unique_case_insensitively() {
    let demo = start().await;
    let alice = demo.token("alice@example.com").await;
    let me = demo.me(&alice).await;
    let id = me["id"].as_str().unwrap().to_owned();
    let bob = demo.token("bob@example.com").await;
    let bob_id = demo.me(&bob).await["id"].as_str().unwrap().to_owned();
    for taken in [
        "BOB@example.com",
        " bob@EXAMPLE.com ",
        "\u{ff42}\u{ff4f}\u{ff42}@example.com",
        "admin@example.com",
    ] {
        let res = demo.set_email(&alice, &id, taken).await;
        let body = problem(res, StatusCode::CONFLICT).await;
        assert_eq!(body["code"], "email_taken", "{taken}");
        let raw = body.to_string();
        assert!(!raw.contains(&bob_id), "the holder is not named: {raw}");
        assert!(!raw.to_lowercase().contains("bob"), "{raw}");
        assert!(!raw.contains("admin@"), "{raw}");
    }
    assert_eq!(demo.me(&alice).await["email"], "alice@example.com");
    // Her own address, spelt differently, is hers: stored normalized.
    let res = demo.set_email(&alice, &id, " ALICE@Example.com").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(demo.me(&alice).await["email"], "alice@example.com");
    // A new address is stored normalized, and is then taken for everyone else.
    let res = demo.set_email(&alice, &id, "Alice.New@Example.com").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(demo.me(&alice).await["email"], "alice.new@example.com");
    let res = demo.set_email(&bob, &bob_id, "ALICE.NEW@example.com").await;
    problem(res, StatusCode::CONFLICT).await;
    let mut emails = demo.admin_emails().await;
    let count = emails.len();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), count, "no address twice: {emails:?}");
    assert_eq!(
        emails,
        [
            "admin@example.com",
            "alice.new@example.com",
            "bob@example.com"
        ]
    );
    // The old address is free again.
    let res = demo.set_email(&bob, &bob_id, "alice@example.com").await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// A blocking TLS client that writes the request head and a 2 MB body completely, and only
/// then reads: it must read the 413 problem, with `Connection: close`. Before the fix the
/// server stopped reading at the limit and closed, so the client saw a reset or a TLS EOF.
#[tokio::test]
async fn an_early_413_is_readable_after_writing_the_whole_body() {
    let demo = start().await;
    let (addr, ca) = (demo.addr, demo.ca_pem.clone());
    for chunked in [false, true] {
        let ca = ca.clone();
        let response = tokio::task::spawn_blocking(move || write_then_read(addr, &ca, chunked))
            .await
            .unwrap();
        let response = response.unwrap_or_else(|e| panic!("chunked={chunked}: {e}"));
        assert!(
            response.starts_with("HTTP/1.1 413"),
            "chunked={chunked}: {response}"
        );
        let lower = response.to_ascii_lowercase();
        assert!(
            lower.contains("\r\nconnection: close\r\n"),
            "chunked={chunked}: {response}"
        );
        assert!(
            lower.contains("content-type: application/problem+json"),
            "{response}"
        );
        assert!(response.contains("\"error_id\""), "{response}");
    }
    // The server is still there.
    let res = demo
        .client
        .get(demo.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// 2 MB of JSON, twenty times the demo's 100 KiB limit.
const BIG: usize = 2 * 1024 * 1024;

fn write_then_read(addr: SocketAddr, ca_pem: &str, chunked: bool) -> Result<String, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let conn =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
            .unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    tcp.set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let payload = format!(r#"{{"email":"{}","password":"x"}}"#, "a".repeat(BIG - 32));
    let mut request = String::from("POST /api/login HTTP/1.1\r\nHost: localhost\r\n");
    request.push_str("Content-Type: application/json\r\n");
    let body = if chunked {
        request.push_str("Transfer-Encoding: chunked\r\n\r\n");
        let mut body = Vec::new();
        for piece in payload.as_bytes().chunks(16 * 1024) {
            body.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            body.extend_from_slice(piece);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"0\r\n\r\n");
        body
    } else {
        request.push_str(&format!("Content-Length: {}\r\n\r\n", payload.len()));
        payload.into_bytes()
    };
    tls.write_all(request.as_bytes())
        .map_err(|e| format!("writing the head: {e}"))?;
    // As a client on a real network does: the body goes out over some time, all of it before
    // the first read.
    for piece in body.chunks(16 * 1024) {
        tls.write_all(piece)
            .map_err(|e| format!("writing the body: {e}"))?;
        std::thread::sleep(Duration::from_millis(1));
    }
    tls.flush().map_err(|e| format!("flushing: {e}"))?;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // The answer is complete and the server closed without close_notify: the answer
            // was readable, which is what this checks.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && complete(&out) => break,
            Err(e) => {
                return Err(format!(
                    "reading after {} bytes: {e}: {}",
                    out.len(),
                    String::from_utf8_lossy(&out)
                ))
            }
        }
        if complete(&out) {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `true` once `buf` holds a whole Content-Length-framed response.
fn complete(buf: &[u8]) -> bool {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    len.is_some_and(|len| buf.len() >= end + 4 + len)
}
