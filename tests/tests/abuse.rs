//! Abuse of business flows and object enumeration (issue 22), over real HTTP on one instance:
//! a principal walking random order ids is refused before the 100th while the owner reading
//! her own orders never is; 30 distinct emails failing from one client, and one email failing
//! from 30 clients, are cut off; flow budgets hold across endpoints and principals; each
//! detector emits one event per trip, without the ids. `abuse_redis.rs` repeats the first
//! three across two instances sharing Redis.

mod abuse_app;
mod common;

use std::sync::Arc;

use abuse_app::{Events, ENUMERATION_THRESHOLD, PASSWORD, STUFFING_THRESHOLD};
use common::{alice, bob, client_from, expect_problem, token, ALICE, BOB};
use reqwest::{Client, StatusCode};
use secure_endpoint::events::EventKind;
use secure_endpoint::routing::get;
use secure_endpoint::SecureRouter;
use serde_json::json;

async fn get_as(client: &Client, url: &str, token: &str) -> reqwest::Response {
    client.get(url).bearer_auth(token).send().await.unwrap()
}

async fn login_from(
    client: &Client,
    base: &str,
    ip: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/login"))
        .header("x-forwarded-for", ip)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_walk_over_random_order_ids_is_refused_before_the_100th_and_the_owner_never_is() {
    let events = Arc::new(Events::default());
    let base = abuse_app::start(abuse_app::security(events.clone()).build()).await;
    let client = client_from(None);
    let (bob, alice) = (bob(), alice());

    // Alice reads her own orders, many times over, with the odd typo: never refused.
    for round in 0..40 {
        for n in 1..=5 {
            let res = get_as(&client, &format!("{base}/orders/alice-order-{n}"), &alice).await;
            assert_eq!(res.status(), StatusCode::OK, "round {round}");
        }
        assert_eq!(
            get_as(&client, &format!("{base}/orders"), &alice)
                .await
                .status(),
            StatusCode::OK
        );
    }
    for typo in ["alice-order-6", "alice-ordr-1"] {
        let res = get_as(&client, &format!("{base}/orders/{typo}"), &alice).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    // Bob walks random ids (and Alice's real ones: "not yours" counts the same).
    let mut walked = Vec::new();
    let mut refused_at = None;
    for i in 1..=100 {
        let id = if i % 10 == 0 {
            format!("alice-order-{}", i / 20 + 1)
        } else {
            uuid::Uuid::new_v4().to_string()
        };
        let res = get_as(&client, &format!("{base}/orders/{id}"), &bob).await;
        walked.push(id);
        match res.status() {
            StatusCode::NOT_FOUND => {}
            StatusCode::TOO_MANY_REQUESTS => {
                let problem = expect_problem(res, StatusCode::TOO_MANY_REQUESTS, &[]).await;
                assert_eq!(problem.body["code"], "enumeration_suspected");
                let retry: u64 = problem.header("retry-after").unwrap().parse().unwrap();
                assert!((1..=900).contains(&retry), "{retry}");
                refused_at = Some(i);
                break;
            }
            other => panic!("request {i}: {other}"),
        }
    }
    assert_eq!(refused_at, Some(ENUMERATION_THRESHOLD as usize));
    // Cooling down: Bob's own orders too, and whatever id he tries next.
    for path in ["/orders/bob-order-1", "/orders", "/orders/anything"] {
        let res = get_as(&client, &format!("{base}{path}"), &bob).await;
        let problem = expect_problem(res, StatusCode::TOO_MANY_REQUESTS, &[]).await;
        assert_eq!(problem.body["code"], "enumeration_suspected");
    }
    // Alice is unaffected.
    let res = get_as(&client, &format!("{base}/orders/alice-order-1"), &alice).await;
    assert_eq!(res.status(), StatusCode::OK);

    // One critical event, naming Bob, the endpoint and the count, and none of the ids.
    let alerts = events.of(EventKind::EnumerationSuspected);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert.principal.as_deref(), Some(BOB));
    assert_eq!(alert.route, "/orders/{order_id}");
    assert_eq!(alert.handler.as_deref(), Some("show_order"));
    assert_eq!(alert.distinct, Some(u64::from(ENUMERATION_THRESHOLD)));
    assert_eq!(alert.code.as_deref(), Some("enumeration_suspected"));
    let recorded = serde_json::to_string(&events.0.lock().unwrap().clone()).unwrap();
    for id in &walked {
        assert!(!recorded.contains(id.as_str()), "{id} in the events");
    }
    // The refusals during the cool-down are ordinary rate-limit records, not more alerts.
    assert!(events
        .of(EventKind::RateLimited)
        .iter()
        .all(|e| e.code.as_deref() == Some("enumeration_suspected")));
    assert_eq!(events.of(EventKind::RateLimited).len(), 4);
}

#[tokio::test]
async fn anonymous_enumeration_is_counted_per_client_address() {
    let events = Arc::new(Events::default());
    let base = abuse_app::start(abuse_app::security(events.clone()).build()).await;
    let client = client_from(None);
    let product = |ip: &'static str, id: u32| {
        client
            .get(format!("{base}/products/{id}"))
            .header("x-forwarded-for", ip)
            .send()
    };
    for id in 100..100 + ENUMERATION_THRESHOLD - 1 {
        let res = product("203.0.113.50", id).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    // The same missing product again is not a new object.
    let res = product("203.0.113.50", 100).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = product("203.0.113.50", 999).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let res = product("203.0.113.50", 1).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another client is not affected.
    let res = product("203.0.113.51", 1).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let alerts = events.of(EventKind::EnumerationSuspected);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].principal, None);
    assert_eq!(alerts[0].client_ip.as_deref(), Some("203.0.113.50"));
}

#[tokio::test]
async fn thirty_distinct_emails_failing_from_one_client_are_cut_off() {
    let events = Arc::new(Events::default());
    let base = abuse_app::start(abuse_app::security(events.clone()).build()).await;
    let client = client_from(None);
    let mut statuses = Vec::new();
    for i in 0..30 {
        let email = format!("victim{i}@example.com");
        let res = login_from(&client, &base, "203.0.113.7", &email, "Summer2026!").await;
        statuses.push(res.status().as_u16());
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            let problem = expect_problem(res, StatusCode::TOO_MANY_REQUESTS, &[&email]).await;
            assert_eq!(problem.body["code"], "credential_abuse_suspected");
        }
    }
    let n = STUFFING_THRESHOLD as usize;
    assert!(statuses[..n - 1].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[n - 1..].iter().all(|s| *s == 429), "{statuses:?}");
    // The client is cut off even with the right password...
    let res = login_from(&client, &base, "203.0.113.7", "alice@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...and another client is not.
    let res = login_from(&client, &base, "203.0.113.8", "alice@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let alerts = events.of(EventKind::CredentialAbuseSuspected);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        alerts[0].reason.as_deref(),
        Some("many_identifiers_one_client")
    );
    assert_eq!(alerts[0].client_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(alerts[0].distinct, Some(u64::from(STUFFING_THRESHOLD)));
    let recorded = serde_json::to_string(&events.0.lock().unwrap().clone()).unwrap();
    assert!(!recorded.contains("victim"), "an identifier in the events");
}

#[tokio::test]
async fn one_email_failing_from_thirty_clients_is_cut_off() {
    let events = Arc::new(Events::default());
    let base = abuse_app::start(abuse_app::security(events.clone()).build()).await;
    let client = client_from(None);
    let mut statuses = Vec::new();
    for i in 0..30 {
        let ip = format!("198.51.100.{}", i + 1);
        // Spellings of one identifier are one identifier.
        let email = if i % 2 == 0 {
            "bob@example.com"
        } else {
            " Bob@Example.COM "
        };
        let res = login_from(&client, &base, &ip, email, "123456").await;
        statuses.push(res.status().as_u16());
    }
    let n = STUFFING_THRESHOLD as usize;
    assert!(statuses[..n - 1].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[n - 1..].iter().all(|s| *s == 429), "{statuses:?}");
    // Another identifier from a fresh client is unaffected.
    let res = login_from(&client, &base, "192.0.2.1", "alice@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let alerts = events.of(EventKind::CredentialAbuseSuspected);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        alerts[0].reason.as_deref(),
        Some("one_identifier_many_clients")
    );
    assert_eq!(alerts[0].distinct, Some(u64::from(STUFFING_THRESHOLD)));
}

#[tokio::test]
async fn a_success_forgives_the_clients_own_failure() {
    let events = Arc::new(Events::default());
    let base = abuse_app::start(abuse_app::security(events.clone()).build()).await;
    let client = client_from(None);
    // Alice mistypes, then signs in, from many networks (a traveller): each success forgives
    // that network's failure, so her identifier never counts as attacked.
    for i in 0..(2 * STUFFING_THRESHOLD) {
        let ip = format!("192.0.2.{}", i + 1);
        let res = login_from(&client, &base, &ip, "alice@example.com", "typo").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = login_from(&client, &base, &ip, "alice@example.com", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "network {i}");
    }
    assert!(events.of(EventKind::CredentialAbuseSuspected).is_empty());
}

#[tokio::test]
async fn flow_budgets_hold_across_endpoints_and_principals() {
    let events = Arc::new(Events::default());
    let base = abuse_app::start(abuse_app::security(events.clone()).build()).await;
    let client = client_from(None);
    let call = |path: &'static str, ip: &'static str, bearer: Option<String>| {
        let mut request = client
            .get(format!("{base}{path}"))
            .header("x-forwarded-for", ip);
        if let Some(t) = bearer {
            request = request.bearer_auth(t);
        }
        request.send()
    };
    // Per client IP (5/h), across both endpoints of the flow and whoever is signed in.
    for (path, bearer) in [
        ("/search", None),
        ("/export", Some(alice())),
        ("/search", None),
        ("/export", Some(bob())),
        ("/search", None),
    ] {
        let res = call(path, "203.0.113.20", bearer).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = call("/export", "203.0.113.20", Some(token("carol", &[], "")))
        .await
        .unwrap();
    let problem = expect_problem(res, StatusCode::TOO_MANY_REQUESTS, &[]).await;
    assert_eq!(problem.body["code"], "flow_limited");
    assert!(problem.header("retry-after").is_some());
    assert_eq!(
        problem.header("ratelimit-policy"),
        Some("\"flow\";q=5;w=3600")
    );
    // Per principal (3/h) across client addresses: Alice already used one.
    for ip in ["203.0.113.21", "203.0.113.22"] {
        let res = call("/export", ip, Some(alice())).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = call("/export", "203.0.113.23", Some(alice()))
        .await
        .unwrap();
    let problem = expect_problem(res, StatusCode::TOO_MANY_REQUESTS, &[]).await;
    assert_eq!(problem.body["code"], "flow_limited");
    // The whole flow (12/h): fresh addresses meet it too. 5 + 2 admitted so far (a request
    // refused by an earlier budget does not reach the total).
    let mut admitted = 7;
    for i in 0..10 {
        let ip: &'static str = Box::leak(format!("198.18.0.{}", i + 1).into_boxed_str());
        let res = call("/search", ip, None).await.unwrap();
        if res.status() == StatusCode::OK {
            admitted += 1;
        } else {
            let problem = expect_problem(res, StatusCode::TOO_MANY_REQUESTS, &[]).await;
            assert_eq!(problem.body["code"], "flow_limited");
        }
    }
    assert_eq!(admitted, 12);
    // Outside the flow, nothing is limited.
    let res = get_as(&client, &format!("{base}/orders"), &alice()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let _ = ALICE;
}

#[tokio::test]
async fn the_inventory_shows_flows_and_their_budgets() {
    let events = Arc::new(Events::default());
    let router = abuse_app::router(abuse_app::security(events).build());
    let inventory = router.inventory();
    let json: serde_json::Value = serde_json::from_str(&inventory.to_json()).unwrap();
    let login = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["handler"] == "login")
        .unwrap();
    assert_eq!(login["flow"], "login");
    assert_eq!(
        login["flow_budget"],
        "per client IP 1000/1m; stuffing: 10 identifiers per client, 10 clients per identifier, \
         within 15m, cool-down 15m"
    );
    let orders = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["handler"] == "show_order")
        .unwrap();
    assert!(orders.get("flow").is_none());
    let markdown = inventory.to_markdown();
    assert!(
        markdown.contains(
            "| GET | `/search` | `search` | none | public | default; flow `search` (per client IP \
             5/1h, per principal 3/1h, total 12/1h) |"
        ),
        "{markdown}"
    );
    assert!(inventory
        .to_text()
        .contains("  flow            search: per client IP 5/1h, per principal 3/1h"));
}

#[test]
#[should_panic(
    expected = "endpoint `checkout` belongs to the flow `checkout`, which this \
                           router's `Security` gives no budget"
)]
fn an_endpoint_naming_a_flow_without_a_budget_refuses_to_start() {
    let events = Arc::new(Events::default());
    let _ = SecureRouter::<()>::new(abuse_app::security(events).build())
        .route("/checkout", get(abuse_app::checkout));
}
