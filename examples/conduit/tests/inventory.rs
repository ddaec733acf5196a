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

/// The OpenAPI document says where the token goes as the verifier reads it: the spec's
/// `Authorization: Token <jwt>` (an `apiKey` in the `Authorization` header, as RealWorld's own
/// document has it), not an HTTP bearer scheme.
#[test]
fn openapi_documents_the_token_where_the_verifier_reads_it() {
    use serde_json::json;
    let document = inventory().openapi("Conduit", "1", "https://127.0.0.1:8444");
    let doc = serde_json::to_value(document).unwrap();
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(
        schemes.keys().collect::<Vec<_>>(),
        ["jwt.authorization.Token"]
    );
    let token = &schemes["jwt.authorization.Token"];
    assert_eq!(token["type"], "apiKey");
    assert_eq!(token["in"], "header");
    assert_eq!(token["name"], "Authorization");
    assert!(token["description"]
        .as_str()
        .unwrap()
        .contains("`Authorization: Token <JWT>`"));
    assert_eq!(
        doc["paths"]["/api/user"]["get"]["security"],
        json!([{"jwt.authorization.Token": []}])
    );
    // Optional authentication: anonymous, or the token.
    assert_eq!(
        doc["paths"]["/api/profiles/{username}"]["get"]["security"],
        json!([{}, {"jwt.authorization.Token": []}])
    );
    assert_eq!(doc["paths"]["/api/tags"]["get"]["security"], json!([]));
}
