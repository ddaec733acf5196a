//! Conduit's security surface as reviewed snapshots: any change to an endpoint's contract
//! (authentication, optional or not, ownership and its status, rate, envelope fields, bodies)
//! changes these files, so it shows up in review.
//! Update with `INSTA_UPDATE=always cargo test -p conduit --test inventory` and read the diff.

fn inventory() -> secure_endpoint::inventory::Inventory {
    let secret = [7u8; 32];
    conduit::api::routes(conduit::api::security(&secret, &[])).inventory()
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
fn every_route_of_the_spec_is_under_contract() {
    let inventory = inventory();
    assert_eq!(
        inventory.endpoints.len(),
        19,
        "the RealWorld spec has 19 endpoints"
    );
}
