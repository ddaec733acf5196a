//! Unit tests of the allowlist by path (nested fields).

use crate::body::{check_fields, check_paths};

fn refused(body: &str, fields: &[&str]) -> (u16, &'static str, Vec<String>) {
    let p = check_paths(body.as_bytes(), fields).expect_err("refused");
    (
        p.status().as_u16(),
        p.code(),
        p.errors().iter().map(|e| e.field.clone()).collect(),
    )
}

const USER: &[&str] = &["user.email", "user.username", "user.password"];
const ORDER: &[&str] = &["note", "items[].sku", "items[].qty", "ship.address.city"];

#[test]
fn an_envelope_admits_its_fields_and_names_the_full_path_of_others() {
    assert!(check_paths(br#"{"user":{"email":"a@b.c","password":"x"}}"#, USER).is_ok());
    assert!(check_paths(br#"{"user":{}}"#, USER).is_ok());
    assert!(check_paths(br#"{"user":null}"#, USER).is_ok());
    assert!(check_paths(b"{}", USER).is_ok());
    assert_eq!(
        refused(r#"{"user":{"email":"a","role":"admin"}}"#, USER),
        (422, "unknown_fields", vec!["user.role".into()])
    );
    assert_eq!(
        refused(r#"{"user":{"email":"a"},"admin":true}"#, USER),
        (422, "unknown_fields", vec!["admin".into()])
    );
    // The value is never echoed, only the path.
    let p = check_paths(br#"{"user":{"secret-value-key":"hunter2"}}"#, USER).unwrap_err();
    assert!(!format!("{p:?}").contains("hunter2"));
}

#[test]
fn array_elements_are_checked_each_by_index() {
    assert!(check_paths(
        br#"{"note":"n","items":[{"sku":"a","qty":1},{"sku":"b"}],"ship":{"address":{"city":"X"}}}"#,
        ORDER
    )
    .is_ok());
    assert!(check_paths(br#"{"items":[]}"#, ORDER).is_ok());
    assert_eq!(
        refused(
            r#"{"items":[{"sku":"a"},{"sku":"b"},{"sku":"c","price":0}]}"#,
            ORDER
        ),
        (422, "unknown_fields", vec!["items[2].price".into()])
    );
    assert_eq!(
        refused(
            r#"{"ship":{"address":{"city":"X","zip":"1"},"by":"air"}}"#,
            ORDER
        ),
        (
            422,
            "unknown_fields",
            vec!["ship.address.zip".into(), "ship.by".into()]
        )
    );
    // Arrays of arrays.
    let grid: &[&str] = &["rows[][].v"];
    assert!(check_paths(br#"{"rows":[[{"v":1}],[]]}"#, grid).is_ok());
    assert_eq!(
        refused(r#"{"rows":[[{"v":1}],[{"v":2,"w":3}]]}"#, grid).2,
        vec!["rows[1][0].w".to_string()]
    );
}

#[test]
fn duplicates_are_refused_at_every_depth() {
    assert_eq!(
        refused(r#"{"user":{"email":"a","email":"b"}}"#, USER),
        (422, "duplicate_field", vec!["user.email".into()])
    );
    assert_eq!(
        refused(r#"{"user":{"email":"a"},"user":{"email":"b"}}"#, USER),
        (422, "duplicate_field", vec!["user".into()])
    );
    assert_eq!(
        refused(r#"{"items":[{"sku":"a","sku":"b"}]}"#, ORDER).2,
        vec!["items[0].sku".to_string()]
    );
    // The same key in two elements is no duplicate.
    assert!(check_paths(br#"{"items":[{"sku":"a"},{"sku":"b"}]}"#, ORDER).is_ok());
}

#[test]
fn a_level_a_path_goes_into_must_have_its_shape() {
    // A struct deserializes from an array by position: that would bypass the allowlist.
    assert_eq!(
        refused(r#"{"user":["a@b.c","admin"]}"#, USER),
        (422, "invalid_body", vec!["user".into()])
    );
    assert_eq!(
        refused(r#"{"items":{"sku":"a"}}"#, ORDER),
        (422, "invalid_body", vec!["items".into()])
    );
    assert_eq!(
        refused(r#"{"items":[{"sku":"a"},["b",1]]}"#, ORDER).2,
        vec!["items[1]".to_string()]
    );
    assert_eq!(refused(r#"{"user":"x"}"#, USER).1, "invalid_body");
    assert!(check_paths(br#"{"items":[null]}"#, ORDER).is_ok());
    // The top level stays an object.
    assert_eq!(refused("[]", USER).1, "invalid_body");
    assert_eq!(
        refused(r#"{"user":{"email":"a"}"#, USER).1,
        "malformed_json"
    );
    assert_eq!(refused(r#"{"user":{}} x"#, USER).1, "malformed_json");
}

#[test]
fn the_notation_sent_as_a_key_is_no_path() {
    assert_eq!(
        refused(r#"{"user.email":"a"}"#, USER).2,
        vec!["user.email".to_string()]
    );
    assert_eq!(
        refused(r#"{"items[]":[]}"#, ORDER).2,
        vec!["items[]".to_string()]
    );
    assert_eq!(
        refused(
            r#"{"user":{"email.x":"a"}}"#,
            &["user.email.x", "user.email"]
        )
        .2,
        vec!["user.email.x".to_string()]
    );
    // Escaped keys are compared decoded.
    assert!(check_paths(br#"{"us\u0065r":{"em\u0061il":"a"}}"#, USER).is_ok());
}

#[test]
fn paths_and_names_are_bounded() {
    let key = "k".repeat(500);
    let body = format!(r#"{{"user":{{"{key}":1}}}}"#);
    let names = refused(&body, USER).2;
    assert_eq!(names, vec![format!("user.{}", "k".repeat(64))]);
    let many: String = (0..100)
        .map(|i| format!(r#""x{i}":0"#))
        .collect::<Vec<_>>()
        .join(",");
    let names = refused(&format!(r#"{{"user":{{{many}}}}}"#), USER).2;
    assert_eq!(names.len(), super::MAX_LISTED);
}

proptest::proptest! {
    /// Without paths, `check_paths` decides exactly as `check_fields`.
    #[test]
    fn flat_lists_decide_as_before(body in "[{}\\[\\]\",:a-z0-9 ]{0,40}") {
        let fields = ["a", "b", "cd"];
        let flat = check_fields(body.as_bytes(), &fields).map_err(|p| p.code());
        let paths = check_paths(body.as_bytes(), &fields).map_err(|p| p.code());
        proptest::prop_assert_eq!(flat, paths);
    }
}
