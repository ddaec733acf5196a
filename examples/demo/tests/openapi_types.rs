//! The OpenAPI document from types (issue 16, item 11): request and response bodies carry the
//! schemas of the handlers' `utoipa::ToSchema` types, cut to the allowlist; and an application
//! that already builds a utoipa document merges the secured router's into it.

use demo::{app, DemoConfig};
use serde_json::{json, Value};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder};

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

fn secured() -> OpenApi {
    app(&config())
        .0
        .inventory()
        .openapi("demo", "1", "https://127.0.0.1:8443")
}

#[test]
fn bodies_have_the_types_schemas() {
    let doc: Value = serde_json::to_value(secured()).unwrap();
    let login = &doc["paths"]["/api/login"]["post"];
    let request = &login["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(request["required"], json!(["email", "password"]));
    assert_eq!(request["properties"]["email"]["maxLength"], 254);
    assert_eq!(request["additionalProperties"], false);
    let response = &login["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(
        response["required"],
        json!(["token", "token_type", "expires_in"])
    );
    // `(StatusCode, Json<Article>)`: the handler chooses its success status.
    let created = &doc["paths"]["/api/articles"]["post"]["responses"]["2XX"];
    assert_eq!(
        created["content"]["application/json"]["schema"]["properties"]["title"]["maxLength"],
        200
    );
    // A `List<T>` response and the components it refers to.
    let orders = &doc["paths"]["/api/orders"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    assert_eq!(orders["required"], json!(["data", "count"]));
    assert_eq!(
        orders["properties"]["data"]["items"]["properties"]["total_cents"]["type"],
        "integer"
    );
    assert!(doc["components"]["schemas"]["TagName"].is_object());
}

#[test]
fn an_application_document_merges_the_secured_paths() {
    // The application's own document, with a path of its own and its own info.
    let mut app_doc = OpenApiBuilder::new()
        .info(InfoBuilder::new().title("my app").version("9").build())
        .paths(PathsBuilder::new().path(
            "/status",
            PathItem::new(
                HttpMethod::Get,
                OperationBuilder::new().operation_id(Some("status")),
            ),
        ))
        .build();
    app_doc.merge(secured());
    let doc: Value = serde_json::to_value(&app_doc).unwrap();
    assert_eq!(doc["info"]["title"], "my app");
    assert!(doc["paths"]["/status"]["get"].is_object());
    let me = &doc["paths"]["/api/users/me"]["get"];
    // A bearer token or a DPoP-bound one (`auth = ["jwt", "dpop"]`).
    assert_eq!(me["security"], json!([{"bearerJwt": []}, {"dpop": []}]));
    assert!(doc["components"]["securitySchemes"]["bearerJwt"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["responses"]["Unauthorized"].is_object());
    assert!(doc["paths"]["/api/login"]["post"]["requestBody"].is_object());
}
