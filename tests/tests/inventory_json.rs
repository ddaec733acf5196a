//! The security inventory's JSON (`Inventory::to_json`, what `demo --inventory=json` prints
//! and reviewers' tools read) parses back to the same inventory, for arbitrary inventories.
//!
//! `Inventory` and `InventoryEntry` are `Serialize` only, and most of their text fields are
//! `&'static str` borrowed from the `const` policies the macro emits: they cannot be
//! deserialized as they are (nothing read at run time lives for `'static`), and making them
//! owned or `Cow` would change the runtime's public types for a test. The reading side is an
//! owned mirror, [`InventoryJson`], defined here:
//!
//! - it denies unknown fields, and [`EntryJson::from`] destructures every field of
//!   `InventoryEntry` without `..`, so a field added to the inventory fails this test (at
//!   compile time) until the mirror reads it too;
//! - the round trip is checked both ways: the JSON parses into the mirror of the original
//!   inventory, and the mirror writes the very same JSON back.

use proptest::prelude::*;
use secure_endpoint::inventory::{GraphQlInventory, Inventory, InventoryEntry};
use secure_endpoint::multipart::PartSpec;
use serde::{Deserialize, Serialize};

/// The inventory as read back from its JSON.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryJson {
    endpoints: Vec<EntryJson>,
}

/// One endpoint as read back from the inventory's JSON.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryJson {
    method: String,
    path: String,
    handler: String,
    auth: Vec<String>,
    public: bool,
    any_authenticated: bool,
    roles: Vec<String>,
    scopes: Vec<String>,
    owner: Option<String>,
    loader: Option<String>,
    rate: Option<String>,
    rate_key: String,
    fields: Option<Vec<String>>,
    body_limit: Option<usize>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    raw_body: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    graphql: Option<GraphQlJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    multipart: Option<Vec<PartJson>>,
    deprecated: Option<String>,
    sunset: Option<String>,
    successor: Option<String>,
    waivers: Vec<String>,
    reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flow_budget: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    optional_auth: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner_status: Option<u16>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    form: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    ignored_body: bool,
}

/// A GraphQL endpoint's limits as read back.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GraphQlJson {
    max_depth: usize,
    max_complexity: usize,
    max_aliases: usize,
    max_root_fields: usize,
    max_batch: usize,
    introspection_role: Option<String>,
    persisted_only: bool,
}

impl From<&GraphQlInventory> for GraphQlJson {
    fn from(g: &GraphQlInventory) -> Self {
        let GraphQlInventory {
            max_depth,
            max_complexity,
            max_aliases,
            max_root_fields,
            max_batch,
            introspection_role,
            persisted_only,
        } = g;
        GraphQlJson {
            max_depth: *max_depth,
            max_complexity: *max_complexity,
            max_aliases: *max_aliases,
            max_root_fields: *max_root_fields,
            max_batch: *max_batch,
            introspection_role: introspection_role.map(str::to_owned),
            persisted_only: *persisted_only,
        }
    }
}

/// An upload's declared part as read back.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartJson {
    name: String,
    types: Vec<String>,
    max: usize,
    optional: bool,
}

impl From<&PartSpec> for PartJson {
    fn from(p: &PartSpec) -> Self {
        let PartSpec {
            name,
            types,
            max,
            optional,
        } = p;
        PartJson {
            name: (*name).to_owned(),
            types: owned(types),
            max: *max,
            optional: *optional,
        }
    }
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

impl From<&InventoryEntry> for EntryJson {
    fn from(entry: &InventoryEntry) -> Self {
        // Every field, no `..`: a new field of `InventoryEntry` does not compile here.
        let InventoryEntry {
            method,
            path,
            handler,
            auth,
            public,
            any_authenticated,
            roles,
            scopes,
            owner,
            loader,
            rate,
            rate_key,
            fields,
            body_limit,
            raw_body,
            graphql,
            multipart,
            deprecated,
            sunset,
            successor,
            waivers,
            reason,
            flow,
            flow_budget,
            optional_auth,
            owner_status,
            form,
            ignored_body,
            // Not serialized: the types' schemas, for the OpenAPI document only.
            schemas: _,
        } = entry;
        EntryJson {
            method: method.clone(),
            path: path.clone(),
            handler: (*handler).to_owned(),
            auth: owned(auth),
            public: *public,
            any_authenticated: *any_authenticated,
            roles: owned(roles),
            scopes: owned(scopes),
            owner: owner.map(str::to_owned),
            loader: loader.map(str::to_owned),
            rate: rate.clone(),
            rate_key: (*rate_key).to_owned(),
            fields: fields.as_deref().map(owned),
            body_limit: *body_limit,
            raw_body: *raw_body,
            graphql: graphql.as_ref().map(GraphQlJson::from),
            multipart: multipart
                .as_ref()
                .map(|parts| parts.iter().map(PartJson::from).collect()),
            deprecated: deprecated.clone(),
            sunset: sunset.clone(),
            successor: successor.clone(),
            waivers: owned(waivers),
            reason: reason.map(str::to_owned),
            flow: flow.map(str::to_owned),
            flow_budget: flow_budget.clone(),
            optional_auth: *optional_auth,
            owner_status: *owner_status,
            form: *form,
            ignored_body: *ignored_body,
        }
    }
}

impl From<&Inventory> for InventoryJson {
    fn from(inventory: &Inventory) -> Self {
        let Inventory { endpoints, .. } = inventory;
        InventoryJson {
            endpoints: endpoints.iter().map(EntryJson::from).collect(),
        }
    }
}

/// Any text: every `char`, quotes, backslashes, controls and line separators included, or
/// text shaped like what the inventory holds.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(any::<char>(), 0..12).prop_map(String::from_iter),
        prop::sample::select(vec![
            "",
            "jwt",
            "api_key",
            "/api/users/{user_id}",
            "100/15m",
            "2026-06-30",
            "reports:read",
            "\"quoted\"",
            "back\\slash",
            "line\nbreak",
            "\u{0}\u{1f}\u{7f}",
            "\u{2028}\u{2029}",
            "é🦀",
            "\u{feff}bom",
            "</script>",
        ])
        .prop_map(str::to_owned),
    ]
}

/// The inventory borrows its text for `'static` from the policies; here it is leaked, a few
/// kilobytes for the whole test.
fn leaked() -> impl Strategy<Value = &'static str> {
    text().prop_map(|s| &*Box::leak(s.into_boxed_str()))
}

fn leaked_list() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(leaked(), 0..4)
}

fn multipart() -> impl Strategy<Value = Option<Vec<PartSpec>>> {
    let part = (leaked(), leaked_list(), any::<usize>(), any::<bool>()).prop_map(
        |(name, types, max, optional)| PartSpec {
            name,
            types: Box::leak(types.into_boxed_slice()),
            max,
            optional,
        },
    );
    proptest::option::of(prop::collection::vec(part, 0..3))
}

fn graphql() -> impl Strategy<Value = Option<GraphQlInventory>> {
    proptest::option::of(
        (
            (any::<usize>(), any::<usize>(), any::<usize>()),
            (any::<usize>(), any::<usize>()),
            proptest::option::of(leaked()),
            any::<bool>(),
        )
            .prop_map(
                |(
                    (max_depth, max_complexity, max_aliases),
                    (max_root_fields, max_batch),
                    introspection_role,
                    persisted_only,
                )| GraphQlInventory {
                    max_depth,
                    max_complexity,
                    max_aliases,
                    max_root_fields,
                    max_batch,
                    introspection_role,
                    persisted_only,
                },
            ),
    )
}

fn entry() -> impl Strategy<Value = InventoryEntry> {
    let who = (
        text(),
        text(),
        leaked(),
        leaked_list(),
        any::<bool>(),
        any::<bool>(),
        leaked_list(),
        leaked_list(),
        proptest::option::of(leaked()),
        proptest::option::of(leaked()),
        any::<bool>(),
    );
    let what = (
        proptest::option::of(text()),
        leaked(),
        proptest::option::of(leaked_list()),
        proptest::option::of(any::<usize>()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        leaked_list(),
        proptest::option::of(leaked()),
    );
    let flow = (
        proptest::option::of(leaked()),
        proptest::option::of(text()),
        any::<bool>(),
        proptest::option::of(any::<u16>()),
        any::<bool>(),
        any::<bool>(),
        multipart(),
    );
    (who, what, graphql(), flow).prop_map(
        |(
            (
                method,
                path,
                handler,
                auth,
                public,
                any_authenticated,
                roles,
                scopes,
                owner,
                loader,
                raw_body,
            ),
            (rate, rate_key, fields, body_limit, deprecated, sunset, successor, waivers, reason),
            graphql,
            (flow, flow_budget, optional_auth, owner_status, form, ignored_body, multipart),
        )| InventoryEntry {
            method,
            path,
            handler,
            auth,
            public,
            any_authenticated,
            roles,
            scopes,
            owner,
            loader,
            rate,
            rate_key,
            fields,
            body_limit,
            raw_body,
            graphql,
            multipart,
            deprecated,
            sunset,
            successor,
            waivers,
            reason,
            flow,
            flow_budget,
            optional_auth,
            owner_status,
            form,
            ignored_body,
            schemas: None,
        },
    )
}

fn inventory() -> impl Strategy<Value = Inventory> {
    prop::collection::vec(entry(), 0..6).prop_map(|endpoints| Inventory {
        endpoints,
        credentials: Default::default(),
    })
}

proptest! {
    #[test]
    fn inventory_json_round_trips(inventory in inventory()) {
        let json = inventory.to_json();
        let back: InventoryJson = serde_json::from_str(&json).expect("the inventory's JSON parses");
        prop_assert_eq!(&back, &InventoryJson::from(&inventory));
        // The mirror is faithful: it writes back the same document, key for key.
        let written: serde_json::Value = serde_json::to_value(&back).unwrap();
        let printed: serde_json::Value = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(written, printed);
        // Pretty or compact, the same JSON.
        prop_assert_eq!(
            serde_json::from_str::<InventoryJson>(&serde_json::to_string(&inventory).unwrap())
                .unwrap(),
            back
        );
    }
}

/// A field the mirror does not know is refused, so the round trip cannot pass by ignoring it.
#[test]
fn unknown_fields_are_refused() {
    let json = r#"{"endpoints": [], "extra": 1}"#;
    assert!(serde_json::from_str::<InventoryJson>(json).is_err());
}
