//! The signature base of RFC 9421 §2.5 and the `Content-Digest` field of RFC 9530: the parts
//! of HTTP Message Signatures that are pure functions of the message.
//!
//! Structured fields (RFC 8941/9651) are parsed and serialized with the `sfv` crate. The base
//! itself is written here: the maintained Rust implementation (`httpsig`, 0.0.x) brings a
//! second generation of the RustCrypto crates and its own key types, and the base is a short
//! function once the fields are parsed. Only what a server-to-server signature needs is
//! supported; anything else is refused rather than approximated.
//!
//! Supported components: the derived components `@method`, `@target-uri`, `@authority`,
//! `@scheme`, `@request-target`, `@path`, `@query`, `@status` and `@query-param` (§2.2.8,
//! with its required `name` parameter), and header fields by lowercase name, without
//! parameters. Refused: every other component parameter (`sf`, `key`, `bs`, `req`, `tr`,
//! `name` on anything but `@query-param`), `@signature-params` as a covered component, a
//! repeated component identifier, and trailers.
//!
//! `@query-param` follows §2.2.8 exactly: the query is parsed as
//! `application/x-www-form-urlencoded` (WHATWG URL §5.1, the `form_urlencoded` crate: `+` is
//! a space, percent-encoded octets are decoded, invalid UTF-8 becomes U+FFFD); each name and
//! value is re-encoded with the "percent-encode after encoding" process and the
//! `application/x-www-form-urlencoded` percent-encode set (everything but ASCII alphanumerics
//! and `*-._` as `%XX`, upper-case hex, a space as `%20` as in the RFC's own examples); a
//! parameter whose encoded name equals the `name` parameter is covered, and a name that occurs
//! several times gives one base line per occurrence, in the order of the query. A named
//! parameter that does not occur is [`BaseError::Absent`]; `@query-param` without a `name`
//! string is [`BaseError::Unsupported`].

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine as _;
use http::HeaderMap;
use sfv::{BareItem, InnerList, Item, ItemSerializer, ListEntry, ListSerializer};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

/// Why a signature base could not be built: the message does not have a covered component,
/// or the signature asks for something this implementation refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseError {
    /// A component identifier is not a string, is repeated, has parameters other than
    /// `@query-param`'s `name`, or is a derived component this implementation does not
    /// support (`@query-param` without a `name` string included).
    Unsupported,
    /// The message lacks a covered component (a header field that is absent, `@authority`
    /// with no host, `@status` on a request, a `@query-param` whose name is not in the query).
    Absent,
}

/// What the signature base reads from a message. Build it from a request with
/// [`MessageView::request`] or fill it in for a response.
#[derive(Debug, Clone, Copy)]
pub struct MessageView<'a> {
    /// The request method (requests only).
    pub method: Option<&'a str>,
    /// `http` or `https`, when known (needed for `@scheme` and `@target-uri`).
    pub scheme: Option<&'a str>,
    /// The host and port the request was sent to, when known.
    pub authority: Option<&'a str>,
    /// The path as sent, percent-encoded (requests only).
    pub path: Option<&'a str>,
    /// The query as sent without `?`; `None` when the target has none.
    pub query: Option<&'a str>,
    /// The status code (responses only).
    pub status: Option<u16>,
    /// The header fields.
    pub headers: &'a HeaderMap,
}

impl<'a> MessageView<'a> {
    /// A request: `uri` is the original request target (absolute or origin form). The
    /// authority comes from the URI, else from `Host`; the scheme from the URI or `scheme`.
    pub fn request(
        method: &'a http::Method,
        uri: &'a http::Uri,
        headers: &'a HeaderMap,
        scheme: Option<&'a str>,
    ) -> Self {
        let authority = uri.authority().map(|a| a.as_str()).or_else(|| {
            headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
        });
        MessageView {
            method: Some(method.as_str()),
            scheme: uri.scheme_str().or(scheme),
            authority,
            path: Some(uri.path()),
            query: uri.query(),
            status: None,
            headers,
        }
    }
}

/// The value of one covered component (RFC 9421 §2.1, §2.2), or why there is none.
fn component_value(name: &str, message: &MessageView<'_>) -> Result<String, BaseError> {
    let absent = BaseError::Absent;
    Ok(match name {
        "@method" => message.method.ok_or(absent)?.to_owned(),
        "@authority" => message.authority.ok_or(absent)?.to_ascii_lowercase(),
        "@scheme" => message.scheme.ok_or(absent)?.to_ascii_lowercase(),
        "@path" => {
            let path = message.path.ok_or(absent)?;
            if path.is_empty() { "/" } else { path }.to_owned()
        }
        "@query" => {
            message.path.ok_or(absent)?;
            format!("?{}", message.query.unwrap_or(""))
        }
        "@request-target" => {
            let path = message.path.ok_or(absent)?;
            match message.query {
                Some(q) => format!("{path}?{q}"),
                None => path.to_owned(),
            }
        }
        "@target-uri" => {
            let scheme = message.scheme.ok_or(absent)?.to_ascii_lowercase();
            let authority = message.authority.ok_or(absent)?.to_ascii_lowercase();
            let path = message.path.ok_or(absent)?;
            match message.query {
                Some(q) => format!("{scheme}://{authority}{path}?{q}"),
                None => format!("{scheme}://{authority}{path}"),
            }
        }
        "@status" => message.status.ok_or(absent)?.to_string(),
        name if name.starts_with('@') => return Err(BaseError::Unsupported),
        // A field name: lowercase by the structured-field rules (RFC 9421 §2.1). Every field
        // line, trimmed, joined with ", ".
        name => {
            if name.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(BaseError::Unsupported);
            }
            let mut values = message.headers.get_all(name).iter().peekable();
            values.peek().ok_or(absent)?;
            let mut out = String::new();
            for (i, value) in values.enumerate() {
                let value = value.to_str().map_err(|_| BaseError::Unsupported)?;
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(value.trim_matches([' ', '\t']));
            }
            out
        }
    })
}

/// The query parameters of a request (RFC 9421 §2.2.8): each name, encoded, with its values,
/// encoded, in the order of the query. Built once per signature base, so that a signature
/// naming many parameters costs one pass over the query.
type QueryParams = HashMap<String, Vec<String>>;

fn query_params(query: &str) -> QueryParams {
    let mut params = QueryParams::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        params
            .entry(form_encode(&name))
            .or_default()
            .push(form_encode(&value));
    }
    params
}

/// The "percent-encode after encoding" process of WHATWG URL with UTF-8 and the
/// `application/x-www-form-urlencoded` percent-encode set, a space as `%20` (RFC 9421
/// §2.2.8 and its examples). `byte_serialize` writes a space as `+` and a `+` as `%2B`, so
/// every `+` it writes is a space.
fn form_encode(decoded: &str) -> String {
    form_urlencoded::byte_serialize(decoded.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A covered component: its name and, for `@query-param`, the `name` parameter.
struct Component<'a> {
    name: &'a str,
    query_param: Option<&'a str>,
}

/// Reads one component identifier: a string, with no parameters except `@query-param`'s
/// (required, string) `name`.
fn component(item: &Item) -> Result<Component<'_>, BaseError> {
    let BareItem::String(name) = &item.bare_item else {
        return Err(BaseError::Unsupported);
    };
    let name = name.as_str();
    if name == "@query-param" {
        let mut params = item.params.iter();
        return match (params.next(), params.next()) {
            (Some((key, BareItem::String(value))), None) if key.as_str() == "name" => {
                Ok(Component {
                    name,
                    query_param: Some(value.as_str()),
                })
            }
            _ => Err(BaseError::Unsupported),
        };
    }
    if !item.params.is_empty() {
        return Err(BaseError::Unsupported);
    }
    Ok(Component {
        name,
        query_param: None,
    })
}

/// The covered components, in order, each as the key a verifier's required components are
/// matched against: the name (`@method`, `content-digest`) for a component without
/// parameters, the serialized identifier (`"@query-param";name="Pet"`) for a
/// `@query-param`. Refuses what [`signature_base`] refuses about identifiers: a component
/// that is not a string, has parameters it should not have, or is repeated.
pub(crate) fn component_keys(covered: &InnerList) -> Result<Vec<Cow<'_, str>>, BaseError> {
    let mut keys: Vec<Cow<'_, str>> = Vec::with_capacity(covered.items.len());
    for item in &covered.items {
        let component = component(item)?;
        let key = match component.query_param {
            None => Cow::Borrowed(component.name),
            Some(_) => Cow::Owned(
                ItemSerializer::new()
                    .bare_item(&item.bare_item)
                    .parameters(&item.params)
                    .finish(),
            ),
        };
        if keys.contains(&key) {
            return Err(BaseError::Unsupported);
        }
        keys.push(key);
    }
    Ok(keys)
}

/// The serialized inner list with its parameters: the value of `@signature-params`, and of
/// the label's member in `Signature-Input`.
pub fn serialize_params(covered: &InnerList) -> String {
    let mut out = ListSerializer::new();
    out.members([&ListEntry::InnerList(covered.clone())]);
    out.finish().unwrap_or_default()
}

/// The signature base (RFC 9421 §2.5) of `message` for the covered components and
/// parameters in `covered` (a parsed `Signature-Input` member). No trailing newline.
pub fn signature_base(message: &MessageView<'_>, covered: &InnerList) -> Result<String, BaseError> {
    component_keys(covered)?;
    let mut base = String::new();
    let mut query: Option<QueryParams> = None;
    for item in &covered.items {
        let component = component(item)?;
        if component.name == "@signature-params" {
            return Err(BaseError::Unsupported);
        }
        let values = match component.query_param {
            // A request target is needed; no query is an empty one, where no name occurs.
            Some(name) => {
                message.path.ok_or(BaseError::Absent)?;
                let params = query.get_or_insert_with(|| query_params(message.query.unwrap_or("")));
                params.get(name).ok_or(BaseError::Absent)?.clone()
            }
            None => vec![component_value(component.name, message)?],
        };
        let id = ItemSerializer::new()
            .bare_item(&item.bare_item)
            .parameters(&item.params)
            .finish();
        for value in values {
            if value.contains(['\n', '\r']) {
                return Err(BaseError::Unsupported);
            }
            base.push_str(&id);
            base.push_str(": ");
            base.push_str(&value);
            base.push('\n');
        }
    }
    base.push_str("\"@signature-params\": ");
    base.push_str(&serialize_params(covered));
    Ok(base)
}

/// A `Content-Digest` value (RFC 9530) of `body` with SHA-256: `sha-256=:<base64>:`.
pub fn content_digest_sha256(body: &[u8]) -> String {
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
    format!("sha-256=:{digest}:")
}

/// A `Content-Digest` value (RFC 9530) of `body` with SHA-512: `sha-512=:<base64>:`.
pub fn content_digest_sha512(body: &[u8]) -> String {
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha512::digest(body));
    format!("sha-512=:{digest}:")
}

/// `true` if the `Content-Digest` field values name at least one of `sha-256` and `sha-512`
/// and every such digest is the digest of `body` (compared in constant time). Other
/// algorithms are ignored, as RFC 9530 §2 allows; a field that does not parse as a
/// dictionary, or a known algorithm whose value is not a byte sequence, is a mismatch.
pub fn content_digest_matches(field_values: &[&str], body: &[u8]) -> bool {
    if field_values.is_empty() {
        return false;
    }
    let joined = field_values.join(", ");
    let Ok(dict) = sfv::Parser::new(&joined).parse::<sfv::Dictionary>() else {
        return false;
    };
    let mut checked = false;
    for (name, entry) in &dict {
        let expected: Vec<u8> = match name.as_str() {
            "sha-256" => Sha256::digest(body).to_vec(),
            "sha-512" => Sha512::digest(body).to_vec(),
            _ => continue,
        };
        let ListEntry::Item(item) = entry else {
            return false;
        };
        let Some(got) = item.bare_item.as_byte_sequence() else {
            return false;
        };
        if !bool::from(got.ct_eq(&expected)) {
            return false;
        }
        checked = true;
    }
    checked
}

#[cfg(test)]
pub(crate) mod tests {
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
        let b21 = inner(
            "();created=1618884473;keyid=\"test-key-rsa-pss\";nonce=\"b3k2pp5k7z-50gnwp.yemd\"",
        );
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
}
