//! The signature base of RFC 9421 §2.5 and the `Content-Digest` field of RFC 9530: the parts
//! of HTTP Message Signatures that are pure functions of the message.
//!
//! Structured fields (RFC 8941/9651) are parsed and serialized with the `sfv` crate. The base
//! itself is written here: the maintained Rust implementation (`httpsig`, 0.0.x) brings a
//! second generation of the RustCrypto crates and its own key types, and the base is a short
//! function once the fields are parsed. Only what a server-to-server signature needs is
//! supported; anything else (component parameters such as `sf`, `key`, `bs`, `req`, `tr`,
//! `@query-param`, trailers) is refused rather than approximated.

use base64::Engine as _;
use http::HeaderMap;
use sfv::{BareItem, InnerList, ItemSerializer, ListEntry, ListSerializer};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

/// Why a signature base could not be built: the message does not have a covered component,
/// or the signature asks for something this implementation refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseError {
    /// A component identifier is not a string, is repeated, has parameters, or is a derived
    /// component this implementation does not support.
    Unsupported,
    /// The message lacks a covered component (a header field that is absent, `@authority`
    /// with no host, `@status` on a request).
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

/// The names of the covered components, in order: strings without parameters, no repeats.
pub(crate) fn component_names(covered: &InnerList) -> Result<Vec<&str>, BaseError> {
    let mut names: Vec<&str> = Vec::with_capacity(covered.items.len());
    for item in &covered.items {
        let BareItem::String(name) = &item.bare_item else {
            return Err(BaseError::Unsupported);
        };
        if !item.params.is_empty() || names.contains(&name.as_str()) {
            return Err(BaseError::Unsupported);
        }
        names.push(name.as_str());
    }
    Ok(names)
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
    let mut base = String::new();
    for (item, name) in covered.items.iter().zip(component_names(covered)?) {
        if name == "@signature-params" {
            return Err(BaseError::Unsupported);
        }
        let value = component_value(name, message)?;
        if value.contains(['\n', '\r']) {
            return Err(BaseError::Unsupported);
        }
        let id = ItemSerializer::new().bare_item(&item.bare_item).finish();
        base.push_str(&id);
        base.push_str(": ");
        base.push_str(&value);
        base.push('\n');
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
        assert_eq!(value("@query-param").unwrap_err(), BaseError::Unsupported);
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
            "(\"@query-param\";name=\"x\")",
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
}
