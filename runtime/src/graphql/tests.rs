use super::*;

fn shape(query: &str) -> Shape {
    Shape::of(&async_graphql::parser::parse_query(query).unwrap())
}

#[test]
fn aliases_are_counted_in_operations_and_fragments() {
    let s = shape("{ a: me { id } b: me { id } ...F } fragment F on Query { c: me { id } }");
    assert_eq!(s.aliases, 3);
    assert!(!s.introspection);
}

#[test]
fn root_fields_go_through_fragments_once() {
    let s = shape("{ me { id } orders { id } ...F ...F } fragment F on Query { articles { id } }");
    assert_eq!(s.root_fields, 3);
}

#[test]
fn introspection_is_found_at_any_depth_and_typename_is_not_it() {
    assert!(shape("{ __schema { types { name } } }").introspection);
    assert!(shape("{ me { ... on User { x: __type(name: \"Q\") { name } } } }").introspection);
    assert!(!shape("{ __typename me { __typename } }").introspection);
}

#[test]
fn hex_hashes_decode_only_at_full_length() {
    let hex = "ab".repeat(32);
    assert_eq!(decode_hex(&hex), Some([0xab; 32]));
    assert_eq!(decode_hex("abcd"), None);
    assert_eq!(decode_hex(&"zz".repeat(32)), None);
}

#[test]
fn resolver_errors_are_masked_and_guard_errors_kept() {
    let mut internal = ServerError::new("db password=hunter2 failed", None);
    internal.path = vec![async_graphql::PathSegment::Field("me".into())];
    mask(&mut internal);
    assert_eq!(internal.message, "Internal error");
    let ext = internal.extensions.as_ref().unwrap();
    assert!(ext.get("errorId").is_some());

    let mut missing = not_found().into_server_error(async_graphql::Pos::default());
    missing.path = vec![async_graphql::PathSegment::Field("order".into())];
    mask(&mut missing);
    assert_eq!(missing.message, "Not found");

    let mut document = ServerError::new("Unknown field \"x\" on type \"Query\".", None);
    mask(&mut document);
    assert!(document.message.starts_with("Unknown field"));
}

#[test]
fn depth_counts_nested_fields_through_fragments() {
    assert_eq!(shape("{ me { id } }").depth, 2);
    assert_eq!(
        shape("{ me { ...F } } fragment F on User { orders { id } }").depth,
        3
    );
    assert_eq!(shape("{ ... on Query { me { id } } }").depth, 2);
    // A fragment that spreads itself (invalid, refused by the executor too) is infinitely deep.
    assert_eq!(
        shape("{ ...F } fragment F on Query { me { ...F } }").depth,
        usize::MAX
    );
}

#[test]
fn a_document_nested_as_deep_as_the_body_limit_allows_does_not_overflow_the_parser() {
    // 100 KiB of `{a` nesting: the parser refuses it (its recursion limit), nothing crashes.
    let n = 50 * 1024;
    let query = format!("{}{}", "{a".repeat(n), "}".repeat(n));
    assert!(async_graphql::parser::parse_query(&query).is_err());
}
