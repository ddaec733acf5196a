//! The signature base and `Content-Digest` against RFC 9421 §2 and RFC 9530 examples, then
//! the components refused.

use super::*;

/// The test-request of RFC 9421 Appendix B.2.
pub(crate) fn test_request() -> http::request::Parts {
    http::Request::builder()
        .method("POST")
        .uri("/foo?param=Value&Pet=dog")
        .header("host", "example.com")
        .header("date", "Tue, 20 Apr 2021 02:07:55 GMT")
        .header("content-type", "application/json")
        .header(
            "content-digest",
            "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyea\
             ldVLvRwEmTHWXvJwew==:",
        )
        .header("content-length", "18")
        .body(())
        .unwrap()
        .into_parts()
        .0
}

pub(crate) fn inner(signature_input_member: &str) -> InnerList {
    let list: sfv::List = sfv::Parser::new(signature_input_member).parse().unwrap();
    match list.into_iter().next().unwrap() {
        ListEntry::InnerList(l) => l,
        ListEntry::Item(_) => panic!("not an inner list"),
    }
}

/// RFC 9530 §2 and RFC 9421 B.2: the digests of `{"hello": "world"}`.
#[test]
fn rfc9530_content_digest_examples() {
    let body = br#"{"hello": "world"}"#;
    assert_eq!(
        content_digest_sha256(body),
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    );
    assert_eq!(
        content_digest_sha512(body),
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLv\
         RwEmTHWXvJwew==:"
    );
    let both = format!(
        "{}, {}",
        content_digest_sha256(body),
        content_digest_sha512(body)
    );
    assert!(content_digest_matches(&[&both], body));
    assert!(content_digest_matches(
        &[&content_digest_sha256(body), "md5=:AAAA:"],
        body
    ));
    // A body changed by one byte, a digest of another algorithm only, garbage.
    assert!(!content_digest_matches(&[&both], br#"{"hello": "World"}"#));
    assert!(!content_digest_matches(&["md5=:AAAA:"], body));
    assert!(!content_digest_matches(&["sha-256=abc"], body));
    assert!(!content_digest_matches(&["not a dictionary ("], body));
    assert!(!content_digest_matches(&[], body));
    // One good and one bad digest: refused.
    let mixed = format!("{}, sha-512=:AAAA:", content_digest_sha256(body));
    assert!(!content_digest_matches(&[&mixed], body));
}

/// RFC 9421 §2.5's example base (test-request, rsa-pss key) byte for byte.
#[test]
fn rfc9421_section_2_5_base() {
    let parts = test_request();
    let view = MessageView::request(&parts.method, &parts.uri, &parts.headers, None);
    let covered = inner(
        "(\"@method\" \"@authority\" \"@path\" \"content-digest\" \"content-length\" \
         \"content-type\");created=1618884473;keyid=\"test-key-rsa-pss\"",
    );
    assert_eq!(
        signature_base(&view, &covered).unwrap(),
        "\"@method\": POST\n\
         \"@authority\": example.com\n\
         \"@path\": /foo\n\
         \"content-digest\": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:\n\
         \"content-length\": 18\n\
         \"content-type\": application/json\n\
         \"@signature-params\": (\"@method\" \"@authority\" \"@path\" \"content-digest\" \"content-length\" \"content-type\");created=1618884473;keyid=\"test-key-rsa-pss\""
    );
}

/// RFC 9421 B.2.1 (no components, a nonce) and B.2.3 (full coverage) bases.
#[test]
fn rfc9421_b21_b23_bases() {
    let parts = test_request();
    let view = MessageView::request(&parts.method, &parts.uri, &parts.headers, None);
    let b21 =
        inner("();created=1618884473;keyid=\"test-key-rsa-pss\";nonce=\"b3k2pp5k7z-50gnwp.yemd\"");
    assert_eq!(
        signature_base(&view, &b21).unwrap(),
        "\"@signature-params\": ();created=1618884473;keyid=\"test-key-rsa-pss\";nonce=\"b3k2pp5k7z-50gnwp.yemd\""
    );
    let b23 = inner(
        "(\"date\" \"@method\" \"@path\" \"@query\" \"@authority\" \"content-type\" \
         \"content-digest\" \"content-length\");created=1618884473;keyid=\"test-key-rsa-pss\"",
    );
    assert_eq!(
        signature_base(&view, &b23).unwrap(),
        "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\
         \"@method\": POST\n\
         \"@path\": /foo\n\
         \"@query\": ?param=Value&Pet=dog\n\
         \"@authority\": example.com\n\
         \"content-type\": application/json\n\
         \"content-digest\": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:\n\
         \"content-length\": 18\n\
         \"@signature-params\": (\"date\" \"@method\" \"@path\" \"@query\" \"@authority\" \"content-type\" \"content-digest\" \"content-length\");created=1618884473;keyid=\"test-key-rsa-pss\""
    );
}

#[test]
fn derived_components_and_refusals() {
    let parts = http::Request::builder()
        .method("GET")
        .uri("https://Example.COM:8443/a%20b?x=1&y")
        .header("x-two", "a ")
        .header("x-two", " b")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let view = MessageView::request(&parts.method, &parts.uri, &parts.headers, None);
    let value = |name| component_value(name, &view);
    assert_eq!(
        value("@target-uri").unwrap(),
        "https://example.com:8443/a%20b?x=1&y"
    );
    assert_eq!(value("@request-target").unwrap(), "/a%20b?x=1&y");
    assert_eq!(value("@scheme").unwrap(), "https");
    assert_eq!(value("@query").unwrap(), "?x=1&y");
    assert_eq!(value("x-two").unwrap(), "a, b");
    assert_eq!(value("x-none").unwrap_err(), BaseError::Absent);
    assert_eq!(value("@status").unwrap_err(), BaseError::Absent);
    assert_eq!(value("X-Two").unwrap_err(), BaseError::Unsupported);
    // A request without a query has the query `?` (RFC 9421 §2.2.7).
    let plain = http::Request::get("/p").body(()).unwrap().into_parts().0;
    let view = MessageView::request(&plain.method, &plain.uri, &plain.headers, None);
    assert_eq!(component_value("@query", &view).unwrap(), "?");
    assert_eq!(
        component_value("@authority", &view).unwrap_err(),
        BaseError::Absent
    );
    // Repeated components, parameters on a component, a token: refused.
    for input in [
        "(\"@method\" \"@method\")",
        "(\"x-two\";sf)",
        "(\"x-two\";bs)",
        "(\"x-two\";name=\"x\")",
        "(method)",
        "(\"@signature-params\")",
    ] {
        assert_eq!(
            signature_base(&view, &inner(input)).unwrap_err(),
            BaseError::Unsupported,
            "{input}"
        );
    }
}

fn request_view_of(parts: &http::request::Parts) -> MessageView<'_> {
    MessageView::request(&parts.method, &parts.uri, &parts.headers, None)
}

fn request(method: &str, target: &str) -> http::request::Parts {
    http::Request::builder()
        .method(method)
        .uri(target)
        .header("host", "www.example.com")
        .body(())
        .unwrap()
        .into_parts()
        .0
}

/// The component lines of a base (all but `@signature-params`).
fn lines(base: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = base.split('\n').collect();
    assert!(lines.pop().unwrap().starts_with("\"@signature-params\": "));
    lines
}

/// RFC 9421 §2.2.8, first example: `baz`, an empty `qux` and `param`, in the order the
/// signature names them, not the query's; `foo` is not covered.
#[test]
fn rfc9421_section_2_2_8_query_params() {
    let parts = request("POST", "/path?param=value&foo=bar&baz=batman&qux=");
    let covered = inner(
        r#"("@query-param";name="baz" "@query-param";name="qux" "@query-param";name="param")"#,
    );
    assert_eq!(
        signature_base(&request_view_of(&parts), &covered).unwrap(),
        "\"@query-param\";name=\"baz\": batman\n\
         \"@query-param\";name=\"qux\": \n\
         \"@query-param\";name=\"param\": value\n\
         \"@signature-params\": (\"@query-param\";name=\"baz\" \"@query-param\";name=\"qux\" \"@query-param\";name=\"param\")"
    );
}

/// RFC 9421 §2.2.8, second example: names and values are form-decoded (`+` is a space)
/// and re-encoded, so a newline, a space and a non-ASCII name reach the base encoded.
#[test]
fn rfc9421_section_2_2_8_reencoded_query_params() {
    let parts = request(
        "GET",
        "/parameters?var=this%20is%20a%20big%0Amultiline%20value&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something",
    );
    let covered = inner(
        r#"("@query-param";name="var" "@query-param";name="bar" "@query-param";name="fa%C3%A7ade%22%3A%20")"#,
    );
    assert_eq!(
        lines(&signature_base(&request_view_of(&parts), &covered).unwrap()),
        [
            "\"@query-param\";name=\"var\": this%20is%20a%20big%0Amultiline%20value",
            "\"@query-param\";name=\"bar\": with%20plus%20whitespace",
            "\"@query-param\";name=\"fa%C3%A7ade%22%3A%20\": something",
        ]
    );
}

/// The percent-encoding of §2.2.8 byte for byte: `%2F` and a raw `/` both become `%2F`
/// (upper-case hex), a space and `+` become `%20`, `%2B` stays a plus, only ASCII
/// alphanumerics and `*-._` are left as they are, a `%` that starts no escape is
/// itself escaped and bytes that are not UTF-8 become U+FFFD.
#[test]
fn query_param_encoding() {
    let parts = request(
        "GET",
        "/p?path=a%2Fb/c%2fd&sp=x+y%20z&plus=%2B&keep=Az09*-._&tilde=~%7e&odd=%zz%&bad=%FF&eq=b=c&flag&&uni=%C3%A9",
    );
    let view = request_view_of(&parts);
    let value = |name: &str| {
        let covered = inner(&format!("(\"@query-param\";name=\"{name}\")"));
        let base = signature_base(&view, &covered)?;
        Ok::<_, BaseError>(lines(&base)[0].split_once(": ").unwrap().1.to_owned())
    };
    assert_eq!(value("path").unwrap(), "a%2Fb%2Fc%2Fd");
    assert_eq!(value("sp").unwrap(), "x%20y%20z");
    assert_eq!(value("plus").unwrap(), "%2B");
    assert_eq!(value("keep").unwrap(), "Az09*-._");
    assert_eq!(value("tilde").unwrap(), "%7E%7E");
    assert_eq!(value("odd").unwrap(), "%25zz%25");
    assert_eq!(value("bad").unwrap(), "%EF%BF%BD");
    assert_eq!(value("eq").unwrap(), "b%3Dc");
    assert_eq!(value("flag").unwrap(), "");
    assert_eq!(value("uni").unwrap(), "%C3%A9");
    // Names are matched in their encoded form, case-sensitively.
    let parts = request("GET", "/p?a+b=1&a%20b=2&Pet=dog&caf%c3%a9=3");
    let view = request_view_of(&parts);
    let base = |input: &str| signature_base(&view, &inner(input));
    assert_eq!(
        lines(&base(r#"("@query-param";name="a%20b")"#).unwrap()),
        [
            "\"@query-param\";name=\"a%20b\": 1",
            "\"@query-param\";name=\"a%20b\": 2"
        ]
    );
    assert_eq!(
        lines(&base(r#"("@query-param";name="caf%C3%A9")"#).unwrap()),
        ["\"@query-param\";name=\"caf%C3%A9\": 3"]
    );
    for unmatched in ["a b", "a+b", "pet", "caf%c3%a9", "caf"] {
        let input = format!("(\"@query-param\";name=\"{unmatched}\")");
        assert_eq!(base(&input).unwrap_err(), BaseError::Absent, "{unmatched}");
    }
}

/// A name that occurs several times is covered by one base line per occurrence, in the
/// order of the query (RFC 9421 §2.2.8); two parameters are two components.
#[test]
fn repeated_query_params_are_each_covered() {
    let parts = request("GET", "/p?a=1&b=2&a=3");
    let view = request_view_of(&parts);
    let covered = inner(r#"("@query-param";name="b" "@query-param";name="a" "@method")"#);
    assert_eq!(
        signature_base(&view, &covered).unwrap(),
        "\"@query-param\";name=\"b\": 2\n\
         \"@query-param\";name=\"a\": 1\n\
         \"@query-param\";name=\"a\": 3\n\
         \"@method\": GET\n\
         \"@signature-params\": (\"@query-param\";name=\"b\" \"@query-param\";name=\"a\" \"@method\")"
    );
    assert_eq!(
        component_keys(&covered).unwrap(),
        [
            r#""@query-param";name="b""#,
            r#""@query-param";name="a""#,
            "@method"
        ]
    );
}

/// `@query-param` without its `name` string, with another parameter, or named twice is
/// refused; a parameter the query does not have, or a message with no query, is absent.
#[test]
fn query_param_refusals() {
    let parts = request("GET", "/p?x=1");
    let view = request_view_of(&parts);
    for input in [
        r#"("@query-param")"#,
        r#"("@query-param";name=1)"#,
        r#"("@query-param";name=?1)"#,
        r#"("@query-param";key="x")"#,
        r#"("@query-param";name="x";req)"#,
        r#"("@query-param";name="x" "@query-param";name="x")"#,
    ] {
        assert_eq!(
            signature_base(&view, &inner(input)).unwrap_err(),
            BaseError::Unsupported,
            "{input}"
        );
        assert_eq!(
            component_keys(&inner(input)).unwrap_err(),
            BaseError::Unsupported,
            "{input}"
        );
    }
    let absent = inner(r#"("@query-param";name="y")"#);
    assert_eq!(
        signature_base(&view, &absent).unwrap_err(),
        BaseError::Absent
    );
    let plain = request("GET", "/p");
    assert_eq!(
        signature_base(&request_view_of(&plain), &absent).unwrap_err(),
        BaseError::Absent
    );
    let headers = HeaderMap::new();
    let response = MessageView {
        method: None,
        scheme: None,
        authority: None,
        path: None,
        query: None,
        status: Some(200),
        headers: &headers,
    };
    assert_eq!(
        signature_base(&response, &inner(r#"("@query-param";name="x")"#)).unwrap_err(),
        BaseError::Absent
    );
    // Two different names are two components.
    assert!(signature_base(&view, &inner(r#"("@query-param";name="x" "@query")"#)).is_ok());
}

/// RFC 9421 §2.1's HTTP field examples (all but the obsolete line folding, which `http`
/// cannot represent): values trimmed, field lines joined with `, `, the inner spaces of a
/// value kept, an empty field an empty value.
#[test]
fn rfc9421_section_2_1_fields() {
    let parts = http::Request::get("/xyz")
        .header("host", "www.example.com")
        .header("date", "Tue, 20 Apr 2021 02:07:56 GMT")
        .header("x-ows-header", "   Leading and trailing whitespace.   ")
        .header("cache-control", "max-age=60")
        .header("x-empty-header", "")
        .header("cache-control", "   must-revalidate")
        .header("example-dict", " a=1,    b=2;x=1;y=2,   c=(a   b   c)")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let view = MessageView::request(&parts.method, &parts.uri, &parts.headers, None);
    let covered =
        inner(r#"("host" "date" "x-ows-header" "cache-control" "x-empty-header" "example-dict")"#);
    assert_eq!(
        signature_base(&view, &covered).unwrap(),
        "\"host\": www.example.com\n\
         \"date\": Tue, 20 Apr 2021 02:07:56 GMT\n\
         \"x-ows-header\": Leading and trailing whitespace.\n\
         \"cache-control\": max-age=60, must-revalidate\n\
         \"x-empty-header\": \n\
         \"example-dict\": a=1,    b=2;x=1;y=2,   c=(a   b   c)\n\
         \"@signature-params\": (\"host\" \"date\" \"x-ows-header\" \"cache-control\" \"x-empty-header\" \"example-dict\")"
    );
}

/// RFC 9421 §2.2's derived-component examples: `POST /path?param=value` to
/// `www.example.com` over HTTPS (over HTTP for `@scheme`), the three `@query` examples,
/// `OPTIONS *` and `@status`.
#[test]
fn rfc9421_section_2_2_derived_components() {
    let parts = http::Request::post("/path?param=value")
        .header("host", "www.example.com")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let https = MessageView::request(&parts.method, &parts.uri, &parts.headers, Some("https"));
    let value = |name| component_value(name, &https).unwrap();
    assert_eq!(value("@method"), "POST");
    assert_eq!(
        value("@target-uri"),
        "https://www.example.com/path?param=value"
    );
    assert_eq!(value("@authority"), "www.example.com");
    assert_eq!(value("@request-target"), "/path?param=value");
    assert_eq!(value("@path"), "/path");
    let http = MessageView::request(&parts.method, &parts.uri, &parts.headers, Some("http"));
    assert_eq!(component_value("@scheme", &http).unwrap(), "http");
    for (target, query) in [
        (
            "/path?param=value&foo=bar&baz=bat%2Dman",
            "?param=value&foo=bar&baz=bat%2Dman",
        ),
        ("/path?queryString", "?queryString"),
        ("/path", "?"),
    ] {
        let parts = http::Request::post(target).body(()).unwrap().into_parts().0;
        let view = MessageView::request(&parts.method, &parts.uri, &parts.headers, None);
        assert_eq!(component_value("@query", &view).unwrap(), query);
    }
    let options = http::Request::options("*").body(()).unwrap().into_parts().0;
    let view = MessageView::request(&options.method, &options.uri, &options.headers, None);
    assert_eq!(component_value("@request-target", &view).unwrap(), "*");
    let headers = HeaderMap::new();
    let response = MessageView {
        method: None,
        scheme: None,
        authority: None,
        path: None,
        query: None,
        status: Some(200),
        headers: &headers,
    };
    assert_eq!(component_value("@status", &response).unwrap(), "200");
    assert_eq!(
        signature_base(&response, &inner(r#"("@status")"#)).unwrap(),
        "\"@status\": 200\n\"@signature-params\": (\"@status\")"
    );
}
