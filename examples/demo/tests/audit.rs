//! The demo's audit trail after a scripted attack over HTTPS: failed logins and their
//! throttling, BOLA attempts on other users' profiles and orders, a missing and a forged
//! token, a forbidden admin call, a rate limit and a mass-assignment attempt. `audit.jsonl`
//! must count every refused request exactly once (a record of its own, or in an aggregate of
//! repeated refusals from the same client), with the request id the client saw, the route, the
//! client, the principal when known, and no secret; it is readable by its owner only.

use std::collections::BTreeSet;
use std::time::Duration;

use demo::{app, DemoConfig};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const PASSWORD: &str = "audit-test correct horse";
const JWT_SECRET: &[u8] = b"audit test secret, at least 32 bytes long";

#[tokio::test]
async fn the_audit_trail_counts_every_refused_request_once_and_holds_no_secret() {
    let dir = std::env::temp_dir().join(format!("se-audit-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let audit_file = dir.join("audit.jsonl");
    let config = DemoConfig {
        jwt_secret: JWT_SECRET.to_vec(),
        password: PASSWORD.into(),
        reports_api_key: "demo_audit0123456789abcdef0123456789ab".into(),
        webhook_secret: "audit test webhook secret, 32+ bytes!".into(),
        cors_origins: vec!["https://app.example.com".into()],
        trusted_proxies: Vec::new(),
        audit_file: Some(audit_file.clone()),
        redis_url: None,
        signed: demo::hooks::SignedSenders::generate(),
    };
    let (router, state) = app(&config);
    let order_ids = state.order_ids();
    let audit = state.clone();
    let (tls, ca) = demo::server::tls_config(None).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(demo::server::serve_https(listener, tls, router, state));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.unwrap().as_bytes()).unwrap()])
        .user_agent("attack-script/1.0")
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // Every refused response's request id, as the client saw it.
    let mut refused: Vec<(String, u16)> = Vec::new();
    let mut secrets: Vec<String> = vec![PASSWORD.into()];
    let mut send = async |req: reqwest::RequestBuilder| -> (StatusCode, Value) {
        let res = req.send().await.unwrap();
        let status = res.status();
        let rid = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        if status.is_client_error() || status.is_server_error() {
            refused.push((rid, status.as_u16()));
        }
        let body = res.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    };
    let login = |email: &str, password: &str| {
        client
            .post(format!("{base}/api/login"))
            .json(&json!({ "email": email, "password": password }))
    };

    // 1. Password guessing against alice: 401s, then the throttle's 429s.
    let mut statuses = Vec::new();
    for guess in 0..7 {
        let wrong = format!("guess-{guess}-{}", uuid::Uuid::new_v4());
        secrets.push(wrong.clone());
        statuses.push(send(login("alice@example.com", &wrong)).await.0.as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);

    // Legitimate logins (not refused, not in the trail).
    let (status, body) = send(login("bob@example.com", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK);
    let bob = body["token"].as_str().unwrap().to_owned();
    let (_, body) = send(login("admin@example.com", PASSWORD)).await;
    let admin = body["token"].as_str().unwrap().to_owned();
    secrets.extend([bob.clone(), admin.clone()]);
    let (_, me) = send(client.get(format!("{base}/api/users/me")).bearer_auth(&bob)).await;
    let bob_id = me["id"].as_str().unwrap().to_owned();
    let (_, users) = send(
        client
            .get(format!("{base}/api/admin/users"))
            .bearer_auth(&admin),
    )
    .await;
    let others: Vec<String> = users["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .filter(|id| *id != bob_id)
        .collect();
    assert_eq!(others.len(), 2);

    // 2. BOLA: bob reads and overwrites other users' profiles and reads every order.
    for id in &others {
        let (s, _) = send(
            client
                .get(format!("{base}/api/users/{id}"))
                .bearer_auth(&bob),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = send(
            client
                .put(format!("{base}/api/users/{id}"))
                .bearer_auth(&bob)
                .json(&json!({ "name": "pwned" })),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let mut foreign_orders = 0;
    for id in &order_ids {
        let (s, _) = send(
            client
                .get(format!("{base}/api/orders/{id}"))
                .bearer_auth(&bob),
        )
        .await;
        if s == StatusCode::NOT_FOUND {
            foreign_orders += 1;
        }
    }
    assert_eq!(foreign_orders, 2, "alice's two orders");

    // 3. No token, a forged token, a forbidden admin call, mass assignment.
    // Change one signature character well before the end (the last one
    // carries padding bits), always to a different character.
    let at = bob.len() - 5;
    let swap = if &bob[at..=at] == "x" { "y" } else { "x" };
    let forged = format!("{}{swap}{}", &bob[..at], &bob[at + 1..]);
    assert_ne!(forged, bob);
    secrets.push(forged.clone());
    assert_eq!(
        send(client.get(format!("{base}/api/users/me"))).await.0,
        401
    );
    assert_eq!(
        send(
            client
                .get(format!("{base}/api/users/me"))
                .bearer_auth(&forged)
        )
        .await
        .0,
        401
    );
    assert_eq!(
        send(
            client
                .get(format!("{base}/api/admin/users"))
                .bearer_auth(&bob)
        )
        .await
        .0,
        403
    );
    let (s, _) = send(
        client
            .put(format!("{base}/api/users/{bob_id}"))
            .bearer_auth(&bob)
            .json(&json!({ "name": "Bob", "role": "admin" })),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // 4. Bob floods article creation: 30 per minute, then 429.
    let mut limited = 0;
    for i in 0..31 {
        let (s, _) = send(
            client
                .post(format!("{base}/api/articles"))
                .bearer_auth(&bob)
                .json(&json!({ "title": format!("spam {i}"), "body": "x" })),
        )
        .await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert_eq!(limited, 1);

    // 5. A page on another origin calls the API: answered (the browser enforces CORS), and
    //    recorded as a refused cross-origin request.
    let res = client
        .get(format!("{base}/api/health"))
        .header("origin", "https://app.example.com.evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let cors_rid = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    refused.push((cors_rid.clone(), 200));

    // The trail, once written.
    tokio::time::timeout(Duration::from_secs(10), audit.flush_audit())
        .await
        .expect("the audit trail is written");
    let text = std::fs::read_to_string(&audit_file).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();

    // Every refused request counted exactly once: each record carries the request id of the
    // (first) request it stands for, and the counts add up.
    let expected: BTreeSet<&str> = refused.iter().map(|(rid, _)| rid.as_str()).collect();
    let seen: BTreeSet<&str> = events
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(seen.len(), events.len(), "one record per request id");
    assert!(seen.is_subset(&expected), "{seen:?}");
    let total: u64 = events.iter().map(|e| e["count"].as_u64().unwrap()).sum();
    assert_eq!(total, refused.len() as u64, "the counts add up");
    assert!(
        events.len() < refused.len(),
        "repeated refusals are aggregated"
    );
    let kinds: Vec<(&str, u64)> = events
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["count"].as_u64().unwrap()))
        .collect();
    let count = |k: &str| -> usize {
        kinds
            .iter()
            .filter(|(x, _)| *x == k)
            .map(|(_, n)| *n as usize)
            .sum()
    };
    assert_eq!(count("authentication_failed"), 5 + 2, "{kinds:?}");
    assert_eq!(count("rate_limited"), 2 + 1, "{kinds:?}");
    assert_eq!(count("ownership_denied"), 4 + 2, "{kinds:?}");
    assert_eq!(count("authorization_denied"), 1, "{kinds:?}");
    assert_eq!(count("validation_rejected"), 1, "{kinds:?}");
    let cors = events
        .iter()
        .find(|e| e["request_id"] == cors_rid.as_str())
        .unwrap();
    assert_eq!(cors["kind"], "cors_rejected");
    assert_eq!(cors["reason"], "origin_not_allowed");

    for e in &events {
        assert_eq!(e["outcome"], "denied", "{e}");
        assert_eq!(e["client_ip"], "127.0.0.1", "{e}");
        assert_eq!(e["user_agent"], "attack-script/1.0", "{e}");
        assert!(e["time"].as_str().unwrap().ends_with('Z'), "{e}");
        assert!(e["route"].as_str().unwrap().starts_with("/api/"), "{e}");
        if e["kind"] != "cors_rejected" {
            assert!(e["error_id"].is_string() && e["policy"].is_string(), "{e}");
        }
        if e["kind"] == "ownership_denied" || e["kind"] == "authorization_denied" {
            assert_eq!(e["principal"], bob_id.as_str(), "{e}");
            assert_eq!(e["scheme"], "jwt", "{e}");
        }
    }
    let bola = events
        .iter()
        .find(|e| e["kind"] == "ownership_denied" && e["method"] == "PUT")
        .unwrap();
    assert_eq!(bola["route"], "/api/users/{user_id}");
    assert_eq!(bola["reason"], "not_owner");
    let mass = events
        .iter()
        .find(|e| e["kind"] == "validation_rejected")
        .unwrap();
    assert_eq!(
        mass["fields"],
        json!(["role"]),
        "the field's name, not its value"
    );

    // No secret anywhere in the trail.
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "the audit trail contains a secret"
        );
        for part in secret.split('.').filter(|p| p.len() > 16) {
            assert!(
                !text.contains(part),
                "the audit trail contains part of a token"
            );
        }
    }
    assert!(!text.contains("\"admin\"]") && !text.contains("pwned"));
    #[cfg(unix)]
    for file in [audit_file.clone(), dir.join("audit.jsonl.spill")] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
