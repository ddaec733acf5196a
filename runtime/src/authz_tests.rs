//! Unit tests of authorization: roles and scopes, ownership by path parameter and by field.

use super::*;
use crate::policy::build::{AuthorizationBuilder, OwnerBuilder};
use crate::policy::AuthScheme;

const AUTHZ: Authorization = AuthorizationBuilder::new()
    .roles(&["admin", "ops"])
    .scopes(&["a", "b"])
    .build();

#[test]
fn roles_any_scopes_all() {
    let p = |roles: &[&str], scopes: &[&str]| {
        Principal::new(
            "x",
            roles.iter().map(|s| s.to_string()).collect(),
            scopes.iter().map(|s| s.to_string()).collect(),
            AuthScheme::Jwt,
        )
    };
    assert!(check_roles_and_scopes(&AUTHZ, &p(&["ops"], &["a", "b"])).is_ok());
    assert!(check_roles_and_scopes(&AUTHZ, &p(&["user"], &["a", "b"])).is_err());
    assert!(check_roles_and_scopes(&AUTHZ, &p(&["admin"], &["a"])).is_err());
}

#[test]
fn displays_as_compares_the_whole_formatted_value() {
    assert!(displays_as(&"alice", "alice"));
    assert!(!displays_as(&"alice", "alic"));
    assert!(!displays_as(&"alic", "alice"));
    assert!(!displays_as(&"", "alice"));
    assert!(displays_as(&"", ""));
    assert!(displays_as(&7u64, "7"));
    assert!(!displays_as(&7u64, "007"));
    assert!(displays_as(&format_args!("{}-{}", "a", 1), "a-1"));
}

#[test]
fn route_params_in_order() {
    assert_eq!(
        route_params("/orgs/{org_id}/users/{user_id}"),
        ["org_id", "user_id"]
    );
    assert_eq!(route_params("/files/{*rest}"), ["rest"]);
    assert_eq!(route_params("/{{literal}}/{id}"), ["id"]);
    assert!(route_params("/health").is_empty());
}

fn owner(binding: OwnerBinding) -> Owner {
    OwnerBuilder::new("user_id", binding).build()
}

fn refusal(f: impl FnOnce() -> &'static str) -> String {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_err();
    payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn registration_checks_the_binding_against_the_route() {
    let route = "/orgs/{org_id}/users/{user_id}";
    let at = |index, arity| owner(OwnerBinding::Position { index, arity });
    assert_eq!(owner_route_param("h", route, at(1, 2), None), "user_id");
    // Nested under a prefix with one parameter: the route's are the tuple's last two.
    assert_eq!(owner_route_param("h", route, at(2, 3), None), "user_id");
    let message = refusal(|| owner_route_param("member", route, at(0, 2), None));
    assert!(
        message.contains("endpoint `member` declares `owner = \"user_id\"`")
            && message.contains("position 0")
            && message.contains("`{org_id}` of the route `/orgs/{org_id}/users/{user_id}`"),
        "{message}"
    );
    let message = refusal(|| owner_route_param("h", route, at(0, 3), None));
    assert!(message.contains("nested under"), "{message}");
    let message = refusal(|| owner_route_param("h", route, at(0, 1), None));
    assert!(message.contains("has 2 parameters"), "{message}");

    let single = owner(OwnerBinding::Single);
    assert_eq!(
        owner_route_param("h", "/users/{user_id}", single, None),
        "user_id"
    );
    let message = refusal(|| owner_route_param("h", route, single, None));
    assert!(
        message.contains("binds it as the whole `Path(...)`"),
        "{message}"
    );
    let message = refusal(|| owner_route_param("h", "/users/{id}", single, None));
    assert!(message.contains("has no `{user_id}` segment"), "{message}");

    let field = owner(OwnerBinding::Field { field: "user_id" });
    assert_eq!(
        owner_route_param("h", "/t/{team}/p/{uid}", field, Some("uid")),
        "uid"
    );
    let message = refusal(|| owner_route_param("h", "/t/{uid}/p/{uid}", field, Some("uid")));
    assert!(message.contains("more than one `{uid}`"), "{message}");
    let message = refusal(|| owner_route_param("h", "/p/{user_id}", field, None));
    assert!(message.contains("cannot be told"), "{message}");

    let loader = OwnerBuilder::new("user_id", OwnerBinding::Unbound)
        .loader(Some("Order"))
        .build();
    assert_eq!(
        owner_route_param("h", "/users/{user_id}", loader, None),
        "user_id"
    );
    let message = refusal(|| owner_route_param("h", "/a/{user_id}/b/{user_id}", loader, None));
    assert!(message.contains("more than one"), "{message}");
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Renamed {
    #[serde(rename = "uid")]
    user_id: String,
    team: u64,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Numbered {
    org: String,
    #[serde(rename = "n")]
    user_id: u32,
}

fn uuid<'de, D: serde::Deserializer<'de>>(d: D) -> Result<uuid::Uuid, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(d)?;
    uuid::Uuid::parse_str(&text).map_err(serde::de::Error::custom)
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Uuids {
    #[serde(rename = "org_id", deserialize_with = "uuid")]
    org: uuid::Uuid,
    #[serde(rename = "uid", deserialize_with = "uuid")]
    user_id: uuid::Uuid,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Typed {
    user_id: std::net::Ipv4Addr,
}

#[test]
fn a_fields_serde_name_is_read_from_its_deserialize() {
    assert_eq!(
        owner_field_param::<Renamed>("user_id", |v| v.user_id.clone()),
        Some("uid")
    );
    assert_eq!(
        owner_field_param::<Numbered>("user_id", |v| v.user_id.to_string()),
        Some("n")
    );
    assert_eq!(
        owner_field_param::<Uuids>("user_id", |v| v.user_id.to_string()),
        Some("uid")
    );
    // Not probed (an address does not parse from its name): its own name, if serde has it.
    assert_eq!(
        owner_field_param::<Typed>("user_id", |v| v.user_id.to_string()),
        Some("user_id")
    );
    assert_eq!(owner_field_param::<String>("user_id", |v| v.clone()), None);
}
