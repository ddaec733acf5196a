//! The demo's security surface as reviewed snapshots: any change to an endpoint's contract
//! (auth, authorization, rate, fields) changes these files, so it shows up in review.
//! Update with `INSTA_UPDATE=always cargo test -p demo --test inventory` and read the diff.

use demo::{app, DemoConfig};

fn inventory() -> secure_endpoint::Inventory {
    let config = DemoConfig {
        jwt_secret: vec![7; 32],
        password: String::new(),
        reports_api_key: "x".repeat(32),
        webhook_secret: "x".repeat(32),
        cors_origins: Vec::new(),
        trusted_proxies: Vec::new(),
    };
    app(&config).0.inventory()
}

#[test]
fn security_inventory_markdown() {
    insta::assert_snapshot!(inventory().to_markdown());
}

#[test]
fn security_inventory_json() {
    insta::assert_snapshot!(inventory().to_json());
}
