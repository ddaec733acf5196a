//! The demo's security surface as reviewed snapshots: any change to an endpoint's contract
//! (auth, authorization, rate, fields, body limit, lifecycle) changes these files, and the
//! OpenAPI document generated from them, so it shows up in review.
//! Update with `INSTA_UPDATE=always cargo test -p demo --test inventory` and read the diff.

use demo::{app, DemoConfig};

fn config() -> DemoConfig {
    DemoConfig {
        jwt_secret: vec![7; 32],
        password: String::new(),
        reports_api_key: "x".repeat(32),
        webhook_secret: "x".repeat(32),
        cors_origins: Vec::new(),
        trusted_proxies: Vec::new(),
        audit_file: None,
        redis_url: None,
        signed: demo::hooks::SignedSenders::generate(),
    }
}

fn inventory() -> secure_endpoint::inventory::Inventory {
    app(&config()).0.inventory()
}

#[test]
fn security_inventory_markdown() {
    insta::assert_snapshot!(inventory().to_markdown());
}

#[test]
fn security_inventory_json() {
    insta::assert_snapshot!(inventory().to_json());
}

#[test]
fn security_inventory_text() {
    insta::assert_snapshot!(inventory().to_text());
}

#[test]
fn openapi_document() {
    let (router, _) = app(&config());
    insta::assert_snapshot!(demo::openapi(&router));
}
