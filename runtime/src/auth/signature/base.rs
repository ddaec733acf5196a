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
#[path = "base_tests.rs"]
pub(crate) mod tests;
